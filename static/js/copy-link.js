/* "Copy the link" on the done page (templates/tickets/public/appeal_done.html): copies
   the private status link and says so in a live region. The button stays hidden without
   script. No inline script: the pages run under a CSP. */
(function () {
  "use strict";

  function copyByHand(text, button) {
    // Older browsers and plain-http pages have no async clipboard.
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    var copied = false;
    try {
      copied = document.execCommand("copy");
    } catch (error) {
      copied = false;
    }
    document.body.removeChild(area);
    button.focus();
    return copied;
  }

  function init() {
    document.querySelectorAll("[data-copy-target]").forEach(function (button) {
      var target = document.getElementById(button.getAttribute("data-copy-target"));
      var status = button.parentNode.querySelector("[data-copy-status]");
      if (!target || !status) return;
      button.hidden = false;
      button.addEventListener("click", function () {
        var text = target.textContent.trim();
        function say(copied) {
          status.textContent = button.getAttribute(copied ? "data-copied" : "data-failed");
        }
        status.textContent = "";
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(text).then(
            function () { say(true); },
            function () { say(copyByHand(text, button)); }
          );
        } else {
          say(copyByHand(text, button));
        }
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
