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
/* Conditional polling: a polled region sends the ETag of what it shows; the server
   answers 304 when nothing it lists has changed, and the region stays as it is. */
document.addEventListener("htmx:configRequest", function (evt) {
  var el = evt.detail.elt;
  if (el && el.dataset.etag) { evt.detail.headers["If-None-Match"] = el.dataset.etag; }
});
document.addEventListener("htmx:beforeSwap", function (evt) {
  var el = evt.detail.elt, xhr = evt.detail.xhr;
  if (!el || !xhr) return;
  if (xhr.status === 304) { evt.detail.shouldSwap = false; evt.detail.isError = false; return; }
  var tag = xhr.getResponseHeader("ETag");
  if (tag && xhr.status === 200) { el.dataset.etag = tag; } else { delete el.dataset.etag; }
});
/* Running times ("Age", "since dispatch") tick in the browser between two answers:
   a 304 leaves the cell as it was rendered, with the age it had then. */
function siagaDuration(total) {
  total = Math.max(0, Math.floor(total));
  var h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60;
  var mm = (h && m < 10 ? "0" : "") + m, ss = (s < 10 ? "0" : "") + s;
  return h ? h + ":" + mm + ":" + ss : mm + ":" + ss;
}
setInterval(function () {
  var now = Date.now();
  document.querySelectorAll("[data-age]").forEach(function (cell) {
    if (!cell.dataset.ageAt) { cell.dataset.ageAt = String(now); return; }
    var age = Number(cell.dataset.age) + (now - Number(cell.dataset.ageAt)) / 1000;
    cell.textContent = siagaDuration(age);
  });
}, 1000);
/* Access keys: Chromium takes Alt+<key>, Firefox Alt+Shift+<key>; the hints say what
   this browser wants. None of ours is a browser shortcut (Alt+D, the address bar,
   is not used: the description is Alt+U). */
document.addEventListener("DOMContentLoaded", function () {
  if (navigator.userAgent.indexOf("Firefox") === -1) return;
  document.querySelectorAll("kbd").forEach(function (k) {
    if (/^Alt\+[A-Z0-9]$/.test(k.textContent)) { k.textContent = "Alt+Shift+" + k.textContent.slice(4); }
  });
});
/* The referral's Pemda list narrows to the names containing what is typed; the first
   match is chosen, so Enter refers to it. */
(function () {
  var filter = document.getElementById("refer-filter");
  var select = document.getElementById("refer-to");
  if (!filter || !select) return;
  filter.addEventListener("input", function () {
    var words = filter.value.trim().toLowerCase();
    var first = null;
    Array.prototype.forEach.call(select.options, function (option) {
      var shown = !words || option.textContent.toLowerCase().indexOf(words) !== -1;
      option.hidden = !shown;
      option.disabled = !shown;
      if (shown && !first) { first = option; }
    });
    Array.prototype.forEach.call(select.querySelectorAll("optgroup"), function (group) {
      group.hidden = !group.querySelector("option:not([hidden])");
    });
    select.value = first ? first.value : "";
  });
})();
