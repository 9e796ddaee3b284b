/*
 * Knowledge-base suggestions while typing. For every input with
 * data-kb-suggest="<endpoint url>", ask the endpoint (debounced, 250 ms) and show up to
 * five matching articles in #kb-suggestions. No framework; all text is escaped.
 */
(function () {
  "use strict";

  var DELAY_MS = 250;
  var MIN_LENGTH = 3;
  var MAX_RESULTS = 5;
  var lang = (document.documentElement.lang || "ru").slice(0, 2);
  var HEADING = lang === "en" ? "Perhaps the answer is already here:" : "Возможно, ответ уже есть:";

  function escapeHtml(text) {
    return String(text == null ? "" : text)
      .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
  }

  function safeUrl(url) {
    // Only same-site paths from our own endpoint: never javascript: or other schemes.
    return typeof url === "string" && url.charAt(0) === "/" && url.charAt(1) !== "/" ? url : "#";
  }

  function render(box, results) {
    if (!results.length) {
      box.innerHTML = "";
      box.hidden = true;
      return;
    }
    var items = results.slice(0, MAX_RESULTS).map(function (item) {
      // <br> + <small>: readable without kb.css (the appeal form loads only site.css).
      var summary = item.summary ? '<br><small class="kb-suggest__summary">' + escapeHtml(item.summary) + "</small>" : "";
      return '<li><a href="' + escapeHtml(safeUrl(item.url)) + '" target="_blank" rel="noopener">' +
        escapeHtml(item.title) + "</a>" + summary + "</li>";
    });
    box.innerHTML = '<p class="kb-suggest__heading"><strong>' + escapeHtml(HEADING) + "</strong></p>" +
      '<ul class="kb-suggest__list">' + items.join("") + "</ul>";
    box.hidden = false;
  }

  function attach(input) {
    var endpoint = input.getAttribute("data-kb-suggest");
    var box = document.getElementById("kb-suggestions");
    if (!endpoint || !box) return;
    var timer = null;
    var lastQuery = null;
    var controller = null;

    function update() {
      var query = input.value.replace(/\s+/g, " ").trim();
      if (query === lastQuery) return;
      lastQuery = query;
      if (query.length < MIN_LENGTH) {
        render(box, []);
        return;
      }
      if (controller) controller.abort();
      controller = window.AbortController ? new AbortController() : null;
      var url = endpoint + (endpoint.indexOf("?") === -1 ? "?" : "&") + "q=" + encodeURIComponent(query);
      fetch(url, { headers: { Accept: "application/json" }, signal: controller ? controller.signal : undefined })
        .then(function (response) { return response.ok ? response.json() : { results: [] }; })
        .then(function (data) {
          if (query === lastQuery) render(box, (data && data.results) || []);
        })
        .catch(function () { /* offline or aborted: keep the form usable, show nothing */ });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(update, DELAY_MS);
    });
    if (input.value) update();
  }

  function init() {
    var inputs = document.querySelectorAll("[data-kb-suggest]");
    for (var i = 0; i < inputs.length; i++) attach(inputs[i]);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
