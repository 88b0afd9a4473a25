/* Siaga112: behaviour every page shares. No inline handlers anywhere: the
   Content-Security-Policy runs only scripts served by the platform. */
document.addEventListener("change", function (evt) {
  var el = evt.target;
  if (el.matches && el.matches("select[data-autosubmit]") && el.form) { el.form.submit(); }
});
document.addEventListener("click", function (evt) {
  var link = evt.target.closest ? evt.target.closest("[data-history-back]") : null;
  if (link && window.history.length > 1) { evt.preventDefault(); window.history.back(); }
});
