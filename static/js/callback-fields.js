// «Перезвоните мне» on the appeal form and in the chat widget: the day, time and reason
// fields only show while the box is ticked (without JavaScript they are always there).
(function () {
  "use strict";
  document.querySelectorAll(".callback-box").forEach(function (set) {
    var box = set.querySelector("input[name=callback]");
    var fields = set.querySelector(".callback-fields");
    if (!box || !fields) return;
    function sync() {
      fields.hidden = !box.checked;
    }
    box.addEventListener("change", sync);
    sync();
  });
})();
