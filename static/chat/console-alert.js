/* Operator console: a new waiting chat is heard and seen (issue 20, item 10) — a short
   WebAudio beep (no sound file), the tab title flashing until the operator is back, and,
   when the operator opted in, a desktop notification. Watches the waiting count that
   console.js keeps in #cc-count. */
(function () {
  "use strict";
  var count = document.getElementById("cc-count");
  var optIn = document.getElementById("cc-notify");
  var root = document.getElementById("console");
  if (!count || !root) return;
  var newChat = root.dataset.alertTitle || "New chat";
  var title = document.title;
  var audio = null, flashing = null, last = null;

  // Browsers start audio only after a gesture: the first click or key on the page.
  function unlockAudio() {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return;
    if (!audio) audio = new Ctx();
    if (audio.state === "suspended") audio.resume();
  }
  document.addEventListener("pointerdown", unlockAudio);
  document.addEventListener("keydown", unlockAudio);

  function beep() {
    if (!audio || audio.state !== "running") return false;
    var osc = audio.createOscillator(), gain = audio.createGain(), t = audio.currentTime;
    osc.type = "sine";
    osc.frequency.setValueAtTime(880, t);
    osc.frequency.setValueAtTime(660, t + 0.12);
    gain.gain.setValueAtTime(0.0001, t);
    gain.gain.exponentialRampToValueAtTime(0.25, t + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.3);
    osc.connect(gain).connect(audio.destination);
    osc.start(t);
    osc.stop(t + 0.32);
    return true;
  }

  function stopFlashing() {
    if (flashing) clearInterval(flashing);
    flashing = null;
    document.title = title;
  }
  function flash(waiting) {
    stopFlashing();
    var on = false, text = "(" + waiting + ") " + newChat;
    document.title = text;
    flashing = setInterval(function () {
      on = !on;
      document.title = on ? title : text;
    }, 1000);
  }
  ["focus", "pointerdown", "keydown"].forEach(function (name) {
    window.addEventListener(name, function () { if (document.hasFocus()) stopFlashing(); });
  });

  function notify(waiting) {
    if (!optIn || !optIn.checked || !("Notification" in window)) return;
    if (Notification.permission !== "granted") return;
    var n = new Notification(newChat, { body: document.getElementById("cc-waiting").innerText.split("\n")[0] || "", tag: "cc-waiting" });
    n.onclick = function () { window.focus(); n.close(); };
  }

  if (optIn) {
    optIn.checked = window.localStorage && localStorage.getItem("cc-notify") === "1";
    optIn.addEventListener("change", function () {
      if (optIn.checked && "Notification" in window && Notification.permission === "default") {
        Notification.requestPermission();
      }
      if (window.localStorage) localStorage.setItem("cc-notify", optIn.checked ? "1" : "0");
    });
  }

  new MutationObserver(function () {
    var waiting = parseInt(count.textContent, 10) || 0;
    // The first figure is what was waiting when the console opened: no alarm for that.
    if (last !== null && waiting > last) {
      root.dataset.alerts = String((parseInt(root.dataset.alerts || "0", 10) || 0) + 1);
      if (beep()) root.dataset.beeps = String((parseInt(root.dataset.beeps || "0", 10) || 0) + 1);
      flash(waiting);
      notify(waiting);
    }
    if (waiting === 0) stopFlashing();
    last = waiting;
  }).observe(count, { childList: true, characterData: true, subtree: true });
})();
