/* Queue admin: a live preview under each of the queue's mail templates, filled with
   sample values by the server (the same sandbox the real mails are rendered in). */
(function () {
  "use strict";
  function csrf() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }
  function setup(box) {
    var name = box.dataset.template;
    var subject = document.getElementById("id_" + name + "_subject");
    var text = document.getElementById("id_" + name + "_text");
    if (!subject || !text) return;
    var timer = null;
    function show(data) {
      box.textContent = "";
      if (data.error) {
        var error = document.createElement("p");
        error.className = "errornote";
        error.textContent = data.error;
        box.appendChild(error);
        return;
      }
      if (!subject.value.trim() && !text.value.trim()) return;
      var pre = document.createElement("pre");
      pre.className = "ws-preview-mail";
      pre.textContent = (data.subject ? data.subject + "\n\n" : "") + data.text;
      box.appendChild(pre);
    }
    function refresh() {
      var body = new URLSearchParams({ template: name, subject: subject.value, text: text.value });
      fetch(box.dataset.url, {
        method: "POST",
        body: body,
        headers: { "X-CSRFToken": csrf() },
        credentials: "same-origin",
      })
        .then(function (response) { return response.json(); })
        .then(show)
        .catch(function () {});
    }
    function later() {
      clearTimeout(timer);
      timer = setTimeout(refresh, 300);
    }
    subject.addEventListener("input", later);
    text.addEventListener("input", later);
    refresh();
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".ws-preview[data-template]").forEach(setup);
  });
})();
