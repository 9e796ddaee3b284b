/* Operator workspace: canned answers, KB inserts, reply mode, presence heartbeat. */
(function () {
  "use strict";

  function insertAtCursor(textarea, text) {
    if (!textarea) return;
    var start = textarea.selectionStart || 0;
    var end = textarea.selectionEnd || 0;
    var value = textarea.value;
    var glue = start > 0 && value.charAt(start - 1) !== "\n" ? "\n" : "";
    textarea.value = value.slice(0, start) + glue + text + value.slice(end);
    var caret = start + glue.length + text.length;
    textarea.focus();
    textarea.setSelectionRange(caret, caret);
  }

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  document.addEventListener("DOMContentLoaded", function () {
    var textarea = document.getElementById("reply-text");

    // A field that only matters while a box is ticked ("department" with "hand to
    // line 2") shows only then; without JavaScript it is always there.
    document.querySelectorAll("[data-shown-by]").forEach(function (field) {
      var box = document.getElementById(field.dataset.shownBy);
      if (!box) return;
      var sync = function () { field.hidden = !box.checked; };
      box.addEventListener("change", sync);
      sync();
    });

    // Choosing only selects: a closed <select> changes its value on every arrow key, so
    // inserting on "change" put each answer passed on the way into the reply. Enter on
    // the list, or the Insert button, inserts the chosen one (as in the chat console).
    var canned = document.getElementById("ws-canned");
    var cannedInsert = document.getElementById("ws-canned-insert");
    if (canned && cannedInsert) {
      var insertCanned = function () {
        var option = canned.options[canned.selectedIndex];
        if (!option || !option.dataset.text) return;
        insertAtCursor(textarea, option.dataset.text);
        canned.selectedIndex = 0;
        cannedInsert.disabled = true;
      };
      canned.addEventListener("change", function () {
        cannedInsert.disabled = !canned.value;
      });
      canned.addEventListener("keydown", function (ev) {
        if (ev.key === "Enter" && canned.value) {
          ev.preventDefault();
          insertCanned();
        }
      });
      cannedInsert.addEventListener("click", insertCanned);
    }

    document.querySelectorAll("[data-insert]").forEach(function (button) {
      button.addEventListener("click", function () {
        insertAtCursor(textarea, button.dataset.insert);
      });
    });

    var reply = document.querySelector(".ws-reply");
    if (reply) {
      var sync = function () {
        var checked = reply.querySelector("input[name=mode]:checked");
        reply.classList.toggle("ws-mode-internal", !!checked && checked.value === "internal");
      };
      reply.querySelectorAll("input[name=mode]").forEach(function (r) {
        r.addEventListener("change", sync);
      });
      sync();
    }

    var root = document.getElementById("ws-ticket");
    if (root && root.dataset.presenceUrl && window.fetch) {
      var lastSeen = parseInt(root.dataset.lastMessage || "0", 10);
      var seconds = parseInt(root.dataset.heartbeat || "20", 10);
      var beat = function () {
        fetch(root.dataset.presenceUrl, {
          method: "POST",
          credentials: "same-origin",
          headers: { "X-CSRFToken": csrfToken(), "X-Requested-With": "XMLHttpRequest" },
        })
          .then(function (r) { return r.ok ? r.json() : null; })
          .then(function (data) {
            if (!data) return;
            var box = document.getElementById("ws-viewers");
            document.getElementById("ws-viewers-names").textContent = data.viewers.join(", ");
            box.classList.toggle("ws-hidden", data.viewers.length === 0);
            if (data.last_message_id > lastSeen) {
              document.getElementById("ws-newmsg").classList.remove("ws-hidden");
            }
          })
          .catch(function () {});
      };
      window.setInterval(beat, seconds * 1000);
    }
  });
})();
