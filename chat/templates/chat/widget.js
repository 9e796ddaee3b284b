{% autoescape off %}/* Help desk chat widget: <script src="{{ request.scheme }}://{{ request.get_host }}/chat/widget.js"></script>
 * adds a floating button that opens the chat (/chat/?embed=1) in an iframe. */
(function () {
  "use strict";
  if (window.__helpdeskChatWidget) return;
  window.__helpdeskChatWidget = true;
  var BASE = {{ base_json }};
  var LABELS = {{ labels_json }};
  var lang = ((document.documentElement.lang || navigator.language || "ru").slice(0, 2)).toLowerCase();
  if (!LABELS[lang]) lang = "ru";
  var L = LABELS[lang];
  var ICON_OPEN = '<svg viewBox="0 0 24 24" width="28" height="28" aria-hidden="true" focusable="false"><path fill="currentColor" d="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm3 6.5a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm5 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm5 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3z"/></svg>';
  var ICON_CLOSE = '<svg viewBox="0 0 24 24" width="24" height="24" aria-hidden="true"><path stroke="currentColor" stroke-width="2.4" stroke-linecap="round" d="M6 6l12 12M18 6L6 18"/></svg>';

  var style = document.createElement("style");
  style.textContent =
    ".hdchat-btn{position:fixed;right:20px;bottom:20px;z-index:2147483000;width:60px;height:60px;" +
    "border-radius:50%;border:0;cursor:pointer;background:#0b5cad;color:#fff;font-size:28px;" +
    "box-shadow:0 6px 20px rgba(0,0,0,.25);display:grid;place-items:center}" +
    ".hdchat-btn:hover{background:#084a8c}.hdchat-btn:focus-visible{outline:3px solid #ffbf47;outline-offset:2px}" +
    ".hdchat-frame{position:fixed;right:20px;bottom:92px;z-index:2147483000;width:380px;height:600px;" +
    "max-width:calc(100vw - 24px);max-height:calc(100vh - 110px);border:0;border-radius:14px;" +
    "box-shadow:0 12px 40px rgba(0,0,0,.28);background:#fff;display:none}" +
    ".hdchat-frame.is-open{display:block}" +
    "@media (max-width:480px){.hdchat-frame{right:12px;left:12px;width:auto;bottom:88px}}";
  document.head.appendChild(style);

  var button = document.createElement("button");
  button.type = "button";
  button.className = "hdchat-btn";
  button.setAttribute("aria-label", L.open);
  button.title = L.open;
  button.innerHTML = ICON_OPEN;
  var frame = null;

  button.addEventListener("click", function () {
    if (!frame) {
      frame = document.createElement("iframe");
      frame.className = "hdchat-frame";
      frame.title = L.open;
      frame.src = BASE + "/chat/?embed=1&lang=" + encodeURIComponent(lang);
      frame.setAttribute("allow", "clipboard-read; clipboard-write");
      document.body.appendChild(frame);
    }
    var open = !frame.classList.contains("is-open");
    frame.classList.toggle("is-open", open);
    button.innerHTML = open ? ICON_CLOSE : ICON_OPEN;
    button.setAttribute("aria-label", open ? L.close : L.open);
    button.setAttribute("aria-expanded", String(open));
  });

  function mount() { document.body.appendChild(button); }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
})();
{% endautoescape %}
