/* Screen pop: listens on /ws/telephony/pop/ (the staff session authenticates it) and
 * shows the caller's contact, open tickets and call-backs with "register call".
 * Everything is written with textContent: names and subjects come from citizens. */
(function () {
  "use strict";
  var panel = document.getElementById("screen-pop");
  if (!panel || !window.WebSocket) { return; }
  var delay = 1000;

  function fill(list, titleSelector, rows, render) {
    var ul = panel.querySelector(list);
    ul.replaceChildren();
    panel.querySelector(titleSelector).hidden = rows.length === 0;
    rows.forEach(function (row) { ul.appendChild(render(row)); });
  }

  function ticketItem(ticket) {
    var li = document.createElement("li");
    var a = document.createElement("a");
    a.href = ticket.url;
    a.textContent = ticket.number;
    li.appendChild(a);
    li.appendChild(document.createTextNode(" " + ticket.subject + " · " + ticket.status));
    return li;
  }

  function callbackItem(callback) {
    var li = document.createElement("li");
    li.textContent = callback.number + " · " + new Date(callback.due_at).toLocaleString();
    return li;
  }

  function show(pop) {
    var state = panel.querySelector("[data-pop-state]");
    state.textContent = pop.state === "answered" ? state.dataset.answered : state.dataset.ringing;
    panel.querySelector("[data-pop-number]").textContent = pop.number;
    var contact = panel.querySelector("[data-pop-contact]");
    contact.textContent = pop.contact ? [pop.contact.name, pop.contact.email].filter(Boolean).join(" · ") : "";
    panel.querySelector("[data-pop-unknown]").hidden = pop.tickets.length > 0;
    fill("[data-pop-tickets]", "[data-pop-tickets-title]", pop.tickets, ticketItem);
    fill("[data-pop-callbacks]", "[data-pop-callbacks-title]", pop.callbacks, callbackItem);
    panel.querySelector("[data-pop-register]").href = pop.register_url;
    panel.dataset.call = pop.call;
    panel.hidden = false;
  }

  panel.querySelector("[data-pop-close]").addEventListener("click", function () { panel.hidden = true; });

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var ws = new WebSocket(scheme + location.host + panel.dataset.wsPath);
    ws.onopen = function () { delay = 1000; };
    ws.onmessage = function (message) {
      var pop;
      try { pop = JSON.parse(message.data); } catch (e) { return; }
      if (pop.type === "pop") { show(pop); }
    };
    ws.onclose = function (event) {
      if (event.code === 4403) { return; }  // signed out or no longer allowed
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }
  connect();
})();
