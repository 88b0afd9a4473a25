/* Siaga112 call center: shared behaviour of the live screens. */
/* A polled region is not refreshed while someone types or picks inside it. */
function siagaIdle(el) {
  var active = document.activeElement;
  return !(active && el.contains(active) && active.matches("input, select, textarea"));
}
/* Polled regions (data-poll-when-idle) skip a poll instead of an hx-trigger filter,
   which htmx would have to eval: the Content-Security-Policy allows no eval. */
document.addEventListener("htmx:beforeRequest", function (evt) {
  var el = evt.detail.elt;
  if (el && el.hasAttribute("data-poll-when-idle") && !siagaIdle(el)) { evt.preventDefault(); }
});
document.addEventListener("htmx:responseError", function (evt) {
  var box = document.getElementById("flash");
  if (!box) return;
  var div = document.createElement("div");
  div.className = "alert alert-danger shadow";
  div.setAttribute("role", "alert");
  div.textContent = evt.detail.xhr.responseText || ("Error " + evt.detail.xhr.status);
  box.appendChild(div);
  setTimeout(function () { div.remove(); }, 6000);
});
/* Forms submit once: a double click sends the same idempotency key anyway. */
document.addEventListener("submit", function (evt) {
  var button = evt.target.querySelector("button[type=submit], button:not([type])");
  if (evt.target.dataset.sent) { evt.preventDefault(); return; }
  evt.target.dataset.sent = "1";
  setTimeout(function () { delete evt.target.dataset.sent; }, 3000);
  if (button) { button.classList.add("disabled"); }
});
