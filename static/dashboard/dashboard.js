/* Supervisor dashboard: refresh tiles, charts and tables every minute without reloading. */
(function () {
  "use strict";
  var root = document.querySelector("[data-refresh-url]");
  if (!root) return;

  var period = document.querySelector("[data-period]");
  function toggleCustom() {
    var custom = period && period.value === "custom";
    document.querySelectorAll(".dash-custom").forEach(function (field) {
      if (custom) field.removeAttribute("data-hidden");
      else field.setAttribute("data-hidden", "");
    });
  }
  if (period) period.addEventListener("change", toggleCustom);

  var url = root.getAttribute("data-refresh-url");
  var seconds = parseInt(root.getAttribute("data-refresh-seconds"), 10) || 60;
  var updated = document.querySelector("[data-updated]");

  function apply(data) {
    (data.tiles || []).forEach(function (tile) {
      var el = root.querySelector('[data-tile="' + tile.key + '"]');
      if (!el) return;
      el.className = "tile" + (tile.state ? " tile--" + tile.state : "");
      el.querySelector(".tile__value").textContent = tile.value;
      el.querySelector(".tile__hint").textContent = tile.hint;
    });
    Object.keys(data.charts || {}).forEach(function (key) {
      var el = root.querySelector('[data-chart="' + key + '"]');
      if (el) el.innerHTML = data.charts[key];
    });
    Object.keys(data.tables || {}).forEach(function (key) {
      var el = root.querySelector('[data-table="' + key + '"]');
      if (el) el.innerHTML = data.tables[key];
    });
    // Panels of other apps (telephony's phone line): their whole HTML again.
    Object.keys(data.panels || {}).forEach(function (key) {
      var el = root.querySelector('[data-panel-slot="' + key + '"]');
      if (el) el.innerHTML = data.panels[key];
    });
    if (updated) {
      updated.textContent = data.generated_label;
      updated.setAttribute("datetime", data.generated_at);
      updated.parentNode.classList.remove("is-stale");
    }
  }

  function refresh() {
    if (document.hidden) return;
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.json();
      })
      .then(apply)
      .catch(function () {
        if (updated) updated.parentNode.classList.add("is-stale");
      });
  }

  window.setInterval(refresh, seconds * 1000);
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) refresh();
  });
})();
