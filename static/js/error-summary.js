/* Error summary (templates/tickets/public/_error_summary.html): when a form comes back
   with errors, the focus goes to the summary, so a screen reader reads it and a keyboard
   user starts there; its links move the focus to the control itself (a plain #anchor
   only scrolls) with its label in view. No inline script: the pages run under a CSP. */
(function () {
  "use strict";

  function labelFor(control) {
    if (control.labels && control.labels.length) return control.labels[0];
    var fieldset = control.closest("fieldset");
    return fieldset ? fieldset.querySelector("legend") : null;
  }

  function init() {
    var summary = document.querySelector("[data-error-summary]");
    if (!summary) return;
    summary.focus();
    summary.addEventListener("click", function (event) {
      var link = event.target.closest("a[data-error-target]");
      if (!link) return;
      var control = document.getElementById(link.getAttribute("data-error-target"));
      if (!control) return;
      event.preventDefault();
      var label = labelFor(control);
      (label || control).scrollIntoView({ block: "start" });
      control.focus({ preventScroll: true });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
