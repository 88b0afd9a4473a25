/* A ringing call reaches a call-taker on every page of the tenant site.
   #ringing-watch polls /console/ringing/ (a 304 while nothing rings anew); when calls
   ring: a badge in the navbar, a blinking title, a sound (platform asset, switchable,
   remembered per user in this browser), one desktop notification per call, and
   Alt+Shift+J answers the oldest. Alt+Shift+J is free in Chromium and Firefox (Alt+D
   is the address bar; Firefox's accesskeys are Alt+Shift plus a letter, and no page
   here uses "j"). */
(function () {
  var item = document.getElementById("ringing-watch-item");
  if (!item) return;
  var key = "siaga112.ringSound." + item.dataset.user;
  var toggle = document.getElementById("ring-sound-toggle");
  var audio = new Audio(item.dataset.sound);
  audio.loop = true;
  var baseTitle = document.title, blink = null, lastCall = null;

  function soundOn() { return window.localStorage.getItem(key) !== "off"; }
  function showToggle() {
    var on = soundOn();
    toggle.textContent = on ? item.dataset.labelOn : item.dataset.labelOff;
    toggle.setAttribute("aria-pressed", on ? "true" : "false");
  }
  toggle.addEventListener("click", function () {
    window.localStorage.setItem(key, soundOn() ? "off" : "on");
    showToggle();
    if (!soundOn()) { audio.pause(); }
    // A click is the gesture browsers want before they let a page play sound.
    if (soundOn() && document.title !== baseTitle) { play(); }
    if (window.Notification && Notification.permission === "default") { Notification.requestPermission(); }
  });
  showToggle();

  function play() {
    var started = audio.play();
    item.dataset.audio = "playing";
    if (started && started.catch) {
      started.catch(function () { item.dataset.audio = "blocked"; });
    }
  }
  function ringing(count, call) {
    if (!blink) {
      var on = false;
      blink = setInterval(function () {
        on = !on;
        document.title = on ? "(" + count + ") \u260e " + baseTitle : baseTitle;
      }, 700);
    }
    document.title = "(" + count + ") \u260e " + baseTitle;
    if (soundOn() && audio.paused) { play(); }
    if (call && call !== lastCall && window.Notification && Notification.permission === "granted") {
      new Notification(item.dataset.notifyTitle, { tag: "siaga112-ringing", renotify: true });
    }
    lastCall = call;
  }
  function quiet() {
    if (blink) { clearInterval(blink); blink = null; }
    document.title = baseTitle;
    audio.pause();
    audio.currentTime = 0;
    item.dataset.audio = "stopped";
    lastCall = null;
  }
  document.addEventListener("htmx:afterSwap", function (evt) {
    if (!evt.detail.target || evt.detail.target.id !== "ringing-watch") return;
    var alert = document.getElementById("ringing-alert");
    var count = alert ? Number(alert.dataset.count) : 0;
    item.dataset.count = String(count);
    if (count > 0) { ringing(count, alert.dataset.call); } else { quiet(); }
  });
  document.addEventListener("keydown", function (evt) {
    if (!(evt.altKey && evt.shiftKey && !evt.ctrlKey && !evt.metaKey && evt.code === "KeyJ")) return;
    var form = document.getElementById("ringing-answer");
    if (!form) return;
    evt.preventDefault();
    form.submit();
  });
})();
