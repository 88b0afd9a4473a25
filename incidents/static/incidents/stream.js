/* Pushed consoles (incidents/stream.py). While the Pemda's event stream is up, a
   polled region that names its lists (data-live-kinds="calls incidents …") is fetched
   when one of them changes (htmx event "siaga-changed", in its hx-trigger) and its
   once-a-second poll is skipped, except one every SAFETY_MS. When the stream is not up
   (no events server, Redis away, a proxy cutting it, the browser without EventSource)
   the regions poll exactly as before; the stream is retried with a growing delay.
   An event says only which list changed: the fetch is the usual conditional GET with
   the region's ETag, so the fragment views still decide what anyone sees.
   <html data-stream="live|polling"> tells which mode the page is in. */
(function () {
  var script = document.currentScript;
  var url = script && script.dataset.url;
  var SAFETY_MS = 30000, FIRST_DELAY_MS = 1000, MAX_DELAY_MS = 60000;
  var live = false, delay = FIRST_DELAY_MS, source = null;
  var lastFetch = new WeakMap();

  function mode(name) { document.documentElement.dataset.stream = name; }
  mode("polling");

  function refresh(kind) {
    document.querySelectorAll("[data-live-kinds]").forEach(function (el) {
      if (kind && el.dataset.liveKinds.split(" ").indexOf(kind) === -1) return;
      window.htmx.trigger(el, "siaga-changed");
    });
  }

  /* A poll (htmx "every": no triggering event) of a region the stream covers is
     skipped while the stream is live, but not for longer than SAFETY_MS. */
  document.addEventListener("htmx:beforeRequest", function (evt) {
    var el = evt.detail.elt;
    if (!el || !el.hasAttribute("data-live-kinds")) return;
    var polled = !evt.detail.requestConfig || !evt.detail.requestConfig.triggeringEvent;
    var now = Date.now();
    if (live && polled && now - (lastFetch.get(el) || 0) < SAFETY_MS) {
      evt.preventDefault();
      return;
    }
    /* A region someone is typing in skips the fetch (incidents.js): its next poll
       must then go, not wait for the next change. */
    var typing = el.hasAttribute("data-poll-when-idle") && window.siagaIdle && !window.siagaIdle(el);
    lastFetch.set(el, typing ? 0 : now);
  });

  /* What the clock alone changes (a ringing call's offer window ending) moves no
     counter, so no event comes: the server says when (Siaga-Refresh-In, seconds) and
     the region is fetched then, live or not. */
  var timers = new WeakMap();
  document.addEventListener("htmx:afterRequest", function (evt) {
    var el = evt.detail.elt, xhr = evt.detail.xhr;
    if (!el || !xhr || !el.hasAttribute("data-live-kinds")) return;
    var wait = parseFloat(xhr.getResponseHeader("Siaga-Refresh-In"));
    if (isNaN(wait)) return;
    clearTimeout(timers.get(el));
    timers.set(el, setTimeout(function () {
      window.htmx.trigger(el, "siaga-changed");
    }, Math.max(0, wait * 1000) + 150));
  });

  function fallBack() {
    live = false;
    mode("polling");
    if (source) { source.close(); source = null; }
    var wait = delay * (0.75 + Math.random() / 2);
    delay = Math.min(delay * 2, MAX_DELAY_MS);
    setTimeout(connect, wait);
  }

  function connect() {
    if (!url || !window.EventSource || !window.htmx) return;
    var mine = new EventSource(url, { withCredentials: true });
    source = mine;
    function failed() { if (source === mine) { fallBack(); } }
    mine.addEventListener("ready", function () {
      live = true;
      delay = FIRST_DELAY_MS;
      mode("live");
      refresh(null);  // what changed while there was no stream
    });
    mine.addEventListener("change", function (evt) {
      var data = {};
      try { data = JSON.parse(evt.data); } catch (e) { /* refresh all */ }
      refresh(data.kind || null);
    });
    /* The web server (not the events server) answered: no stream here for now. */
    mine.addEventListener("unavailable", failed);
    mine.onerror = failed;
  }
  /* htmx is loaded with defer: it is there at DOMContentLoaded. */
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", connect);
  } else {
    connect();
  }
})();
