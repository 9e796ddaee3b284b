// «Перезвоните мне» on the appeal form: the day, time and reason fields only show while
// the box is ticked (without JavaScript they are always there).
(function () {
  "use strict";
  var box = document.getElementById("id_callback");
  var fields = document.getElementById("callback-fields");
  if (!box || !fields) return;
  function sync() {
    fields.hidden = !box.checked;
  }
  box.addEventListener("change", sync);
  sync();
})();
