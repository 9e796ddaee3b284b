/* Citizen chat on a phone (issue 20, item 5): the room fills the visible height and the
   message box stays above the on-screen keyboard. The keyboard shrinks the visual
   viewport, not the layout one, so its height goes into --chat-vh for chat.css. */
(function () {
  "use strict";
  var vv = window.visualViewport;
  var root = document.documentElement;
  function sync() {
    var height = vv ? vv.height : window.innerHeight;
    root.style.setProperty("--chat-vh", Math.round(height) + "px");
    var room = document.getElementById("chat-room");
    // Keep the box in view while the keyboard opens (the page scrolls under it).
    if (room && !room.hidden && vv && document.activeElement && document.activeElement.id === "chat-input") {
      room.scrollIntoView({ block: "start" });
    }
  }
  // When the room opens on a phone it takes the whole screen: bring its top into view.
  var room = document.getElementById("chat-room");
  if (room && window.matchMedia("(max-width: 720px)").matches) {
    new MutationObserver(function () {
      if (!room.hidden) room.scrollIntoView({ block: "start" });
    }).observe(room, { attributes: true, attributeFilter: ["hidden"] });
  }
  (vv || window).addEventListener("resize", sync);
  window.addEventListener("orientationchange", sync);
  sync();
})();
