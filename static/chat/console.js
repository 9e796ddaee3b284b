/* Operator console: availability, waiting list, chats in tabs, canned answers, KB links,
 * transfer, end. One websocket (/ws/chat/operator/) authenticated by the staff session.
 * Operator lines carry per-chat sequence numbers, like the citizen's, so a line resent
 * after a reconnect is never stored twice. Text is rendered with textContent only. */
(function () {
  "use strict";
  var root = document.getElementById("console");
  if (!root) return;
  var config = JSON.parse(document.getElementById("cc-config").textContent);
  var S = JSON.parse(document.getElementById("cc-strings").textContent);
  var $ = function (id) { return document.getElementById(id); };

  var ws = null, retry = 0, heartbeat = null;
  var me = null, presence = {}, canned = [], operators = [], waiting = [];
  var chats = {}; // session id -> {data, panel, tab, seq, pending: [], shown: {}, unread}
  var current = null;

  function fmt(text, values) {
    return text.replace(/%\((\w+)\)s/g, function (_, key) { return values[key]; });
  }
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }
  function since(iso) {
    var s = Math.max(0, Math.floor((Date.now() - new Date(iso).getTime()) / 1000));
    var m = Math.floor(s / 60);
    return m ? m + ":" + String(s % 60).padStart(2, "0") : s + "s";
  }
  function send(obj) {
    if (ws && ws.readyState === 1) { ws.send(JSON.stringify(obj)); return true; }
    return false;
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    ws = new WebSocket(scheme + location.host + config.wsPath);
    ws.onmessage = function (ev) { handle(JSON.parse(ev.data)); };
    ws.onclose = function (ev) {
      clearInterval(heartbeat);
      // 4403: no (more) right to the console; reconnecting would only be refused again.
      if (ev.code === 4403) { setConn("forbidden", S.forbidden); return; }
      setConn("reconnecting", S.reconnecting);
      retry = Math.min(retry + 1, 6);
      // Jittered, so that the consoles a server restart dropped together do not all
      // reconnect (and then beat) in the same instant.
      setTimeout(connect, Math.min(15000, 500 * Math.pow(2, retry)) * (0.5 + Math.random() / 2));
    };
  }
  function setConn(stateName, text) {
    var c = $("cc-conn");
    c.dataset.state = stateName;
    c.textContent = text;
  }

  function handle(msg) {
    switch (msg.type) {
      case "init": return init(msg);
      case "queue": return queue(msg);
      case "presence": presence = msg; return renderPresence();
      case "assigned": return addChat(msg.chat, true);
      case "released": return released(msg.session, msg.reason);
      case "line": return line(msg.session, msg.line);
      case "history": (msg.lines || []).forEach(function (l) { line(msg.session, l); }); return;
      case "ack": return ack(msg);
      case "typing": return typing(msg.session);
      case "delivered": return delivered(msg.session, msg.ids);
      case "state": return;
      case "kb": return kbResults(msg);
      case "operators": operators = msg.operators; return Object.keys(chats).forEach(function (id) { fillTransfer(chats[id]); });
      case "error": return error(msg);
    }
  }

  function init(msg) {
    retry = 0;
    setConn("ok", S.connected);
    me = msg.me; presence = msg.presence; canned = msg.canned; operators = msg.operators;
    waiting = msg.waiting;
    $("cc-count").textContent = msg.count;
    $("cc-routing").textContent = msg.routing === "manual" ? S.manual : S.auto;
    config.maxChars = msg.max_chars;
    var keep = {};
    msg.chats.forEach(function (c) { keep[c.id] = true; addChat(c, false); });
    Object.keys(chats).forEach(function (id) { if (!keep[id] && !chats[id].ended) released(+id, ""); });
    renderPresence();
    renderWaiting();
    clearInterval(heartbeat);
    Object.keys(chats).forEach(function (id) { chats[id].since = newestId(chats[id]); });
    heartbeat = setInterval(function () { send({ type: "heartbeat" }); catchUp(); }, 25000 + Math.random() * 10000);
  }

  function newestId(chat) {
    return Object.keys(chat.shown).reduce(function (a, id) { return Math.max(a, +id); }, 0);
  }

  // Lines pushed while this socket could not get them (a Redis outage it stayed open
  // through) come again: ask for each chat's lines since the previous heartbeat.
  function catchUp() {
    Object.keys(chats).forEach(function (id) {
      var chat = chats[id];
      if (chat.ended) return;
      if (send({ type: "history", session: +id, after_id: chat.since || 0 })) chat.since = newestId(chat);
    });
  }

  /* ---- availability ---- */
  $("cc-availability").addEventListener("change", function (ev) {
    send({ type: "presence", availability: ev.target.value });
  });
  $("cc-max").addEventListener("change", function (ev) {
    send({ type: "presence", max_chats: ev.target.value });
  });
  function renderPresence() {
    $("cc-availability").value = presence.availability;
    $("cc-availability").dataset.state = presence.availability;
    $("cc-max").value = presence.max_chats;
    renderLoad();
  }
  function renderLoad() {
    var active = Object.keys(chats).filter(function (id) { return !chats[id].ended; }).length;
    $("cc-load").textContent = active + " / " + (presence.max_chats || 0);
  }

  /* ---- waiting list ---- */
  // The server sends the listed chats' order and only the summaries this page lacks.
  function queue(msg) {
    var known = {};
    waiting.forEach(function (w) { known[w.id] = w; });
    (msg.added || []).forEach(function (w) { known[w.id] = w; });
    waiting = msg.order.map(function (id) { return known[id]; }).filter(Boolean);
    $("cc-count").textContent = msg.count;
    renderWaiting();
  }
  function renderWaiting() {
    var list = $("cc-waiting");
    list.textContent = "";
    $("cc-waiting-none").hidden = waiting.length > 0;
    waiting.forEach(function (w) {
      var li = el("li", "cc__wait");
      var top = el("div", "cc__wait-top");
      top.appendChild(el("strong", null, w.number));
      var t = el("span", "cc__wait-time", since(w.started_at));
      t.dataset.since = w.started_at;
      top.appendChild(t);
      li.appendChild(top);
      li.appendChild(el("div", "cc__wait-name", w.name));
      li.appendChild(el("div", "cc__wait-queue", w.queue));
      li.appendChild(el("div", "cc__wait-subject", w.subject));
      var b = el("button", "button default", S.accept);
      b.type = "button";
      b.addEventListener("click", function () { b.disabled = true; send({ type: "accept", session: w.id }); });
      li.appendChild(b);
      list.appendChild(li);
    });
  }
  setInterval(function () {
    document.querySelectorAll("[data-since]").forEach(function (n) { n.textContent = since(n.dataset.since); });
  }, 1000);

  /* ---- chats in tabs ---- */
  function addChat(data, focus) {
    var chat = chats[data.id];
    if (!chat) {
      var panel = $("cc-panel-tpl").content.firstElementChild.cloneNode(true);
      var tab = el("button", "cc__tab");
      tab.type = "button";
      tab.setAttribute("role", "tab");
      chat = { data: data, panel: panel, tab: tab, seq: data.operator_seq || 0, pending: [], shown: {}, ended: false };
      chats[data.id] = chat;
      wirePanel(chat);
      tab.addEventListener("click", function () { select(data.id); });
      $("cc-tabs").appendChild(tab);
      $("cc-panels").appendChild(panel);
    } else {
      chat.data = data;
      chat.ended = false;
      chat.panel.classList.remove("is-ended");
      chat.seq = Math.max(chat.seq, data.operator_seq || 0);
    }
    var x = function (name) { return chat.panel.querySelector('[data-x="' + name + '"]'); };
    chat.tab.textContent = "";
    chat.tab.appendChild(el("span", "cc__tab-num", data.number));
    chat.tab.appendChild(el("span", "cc__tab-name", data.name));
    chat.tab.appendChild(el("span", "cc__badge"));
    x("name").textContent = data.name;
    x("contact").textContent = [data.email, data.phone].filter(Boolean).join(", ");
    x("queue").textContent = data.queue;
    x("subject").textContent = data.subject;
    x("ticket").textContent = fmt(S.openTicket, { number: data.number });
    x("ticket").href = data.ticket_url;
    fillTransfer(chat);
    (data.lines || []).forEach(function (l) { line(data.id, l); });
    // Lines typed before a reconnect that the server has not stored yet go out again.
    chat.pending = chat.pending.filter(function (p) {
      if (p.seq <= (data.operator_seq || 0)) { if (p.li) p.li.remove(); return false; }
      return true;
    });
    chat.pending.forEach(function (p) { send({ type: "message", session: data.id, seq: p.seq, text: p.text }); });
    if (focus || current === null) select(data.id);
    renderTabsEmpty();
    renderLoad();
  }

  function wirePanel(chat) {
    var x = function (name) { return chat.panel.querySelector('[data-x="' + name + '"]'); };
    var input = x("input");
    x("form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var text = input.value.trim();
      if (!text || chat.ended) return;
      if (text.length > config.maxChars) return;
      chat.seq += 1;
      var p = { seq: chat.seq, text: text };
      p.li = bubble("me", S.you, text, new Date().toISOString());
      p.li.dataset.state = "sending";
      x("log").appendChild(p.li);
      scroll(chat);
      chat.pending.push(p);
      send({ type: "message", session: chat.data.id, seq: p.seq, text: text });
      input.value = "";
    });
    input.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
        ev.preventDefault();
        x("form").requestSubmit();
      }
    });
    var lastTyping = 0;
    input.addEventListener("input", function () {
      if (Date.now() - lastTyping > 2000) {
        lastTyping = Date.now();
        send({ type: "typing", session: chat.data.id });
      }
    });
    canned.forEach(function (c) {
      if (c.queue && c.queue !== chat.data.queue_id) return;
      var o = el("option", null, c.title);
      o.value = c.id;
      x("canned").appendChild(o);
    });
    // Choosing only selects: a closed <select> changes its value on every arrow key, so
    // inserting on "change" put each answer passed on the way into the reply. Enter on
    // the list, or the Insert button, inserts the chosen one.
    var cannedSelect = x("canned"), cannedInsert = x("canned-insert");
    function insertCanned() {
      var c = canned.find(function (k) { return String(k.id) === cannedSelect.value; });
      if (!c) return;
      input.value = (input.value ? input.value + "\n" : "") + c.body
        .replace(/\{number\}/g, chat.data.number).replace(/\{name\}/g, chat.data.name)
        .replace(/\{subject\}/g, chat.data.subject).replace(/\{operator\}/g, me.name);
      cannedSelect.value = "";
      cannedInsert.disabled = true;
      input.focus();
    }
    cannedSelect.addEventListener("change", function () {
      cannedInsert.disabled = !cannedSelect.value;
    });
    cannedSelect.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" && cannedSelect.value) {
        ev.preventDefault();
        insertCanned();
      }
    });
    cannedInsert.addEventListener("click", insertCanned);
    var kbTimer = null;
    x("kb").addEventListener("input", function (ev) {
      clearTimeout(kbTimer);
      kbTimer = setTimeout(function () { send({ type: "kb", q: ev.target.value, session: chat.data.id }); }, 300);
    });
    x("file").addEventListener("change", function (ev) {
      Array.prototype.forEach.call(ev.target.files, function (f) { upload(chat, f); });
      ev.target.value = "";
    });
    // To the second line is an escalation: the note is asked for (required), never made up.
    var escalate = x("escalate"), note = x("escalate-note"), noteError = x("escalate-error");
    var noteId = "cc-escalate-" + chat.data.id;
    note.id = noteId;
    x("escalate-label").htmlFor = noteId;
    x("escalate-help").id = noteId + "-help";
    noteError.id = noteId + "-error";
    note.setAttribute("aria-describedby", noteId + "-help");
    chat.noteError = function (message) {
      noteError.textContent = message;
      noteError.hidden = !message;
      escalate.hidden = false;
      note.setAttribute("aria-invalid", message ? "true" : "false");
      note.setAttribute("aria-describedby", noteId + "-help" + (message ? " " + noteId + "-error" : ""));
      if (message) note.focus();
    };
    x("transfer").addEventListener("change", function () {
      escalate.hidden = x("transfer").value !== "line2";
    });
    note.addEventListener("input", function () { if (note.value.trim()) chat.noteError(""); });
    x("do-transfer").addEventListener("click", function () {
      var to = x("transfer").value;
      if (!to) return;
      if (to !== "line2") { send({ type: "transfer", session: chat.data.id, to: to }); return; }
      var text = note.value.trim();
      if (!text) { chat.noteError(S.noteRequired); return; }
      send({ type: "transfer", session: chat.data.id, to: to, note: text });
    });
    x("end").addEventListener("click", function () {
      if (chat.ended) { closeTab(chat); return; }
      if (window.confirm(S.confirmEnd)) send({ type: "end", session: chat.data.id });
    });
  }

  function fillTransfer(chat) {
    var sel = chat.panel.querySelector('[data-x="transfer"]');
    sel.textContent = "";
    var first = el("option", null, S.transferTo);
    first.value = "";
    sel.appendChild(first);
    var l2 = el("option", null, S.line2);
    l2.value = "line2";
    sel.appendChild(l2);
    operators.forEach(function (o) {
      var opt = el("option", null, o.name + " (" + o.active + "/" + o.max + ")");
      opt.value = o.id;
      sel.appendChild(opt);
    });
  }

  function select(id) {
    current = id;
    Object.keys(chats).forEach(function (k) {
      var c = chats[k], on = +k === +id;
      c.panel.hidden = !on;
      c.tab.classList.toggle("is-active", on);
      c.tab.setAttribute("aria-selected", String(on));
      if (on) { c.unread = 0; c.tab.querySelector(".cc__badge").textContent = ""; scroll(c); }
    });
    var c = chats[id];
    if (c) c.panel.querySelector('[data-x="input"]').focus();
  }

  function renderTabsEmpty() {
    $("cc-empty").hidden = Object.keys(chats).length > 0;
  }

  function bubble(kind, author, text, iso) {
    var li = el("li", "cc__line cc__line--" + kind);
    var meta = el("div", "cc__meta");
    meta.appendChild(el("span", "cc__author", author));
    meta.appendChild(el("span", "cc__time", new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })));
    if (kind === "me") meta.appendChild(el("span", "cc__tick"));
    li.appendChild(meta);
    li.appendChild(el("div", "cc__text", text));
    return li;
  }

  function scroll(chat) {
    var log = chat.panel.querySelector('[data-x="log"]');
    log.scrollTop = log.scrollHeight;
  }

  function line(sessionId, l) {
    var chat = chats[sessionId];
    if (!chat) return;
    var existing = chat.shown[l.id];
    if (existing) {
      if (l.files && l.files.length && !existing.querySelector(".cc__files")) addFiles(existing, l.files);
      return;
    }
    var mine = l.author_kind === "operator";
    var kind = l.is_internal ? "note" : mine ? "me" : "them";
    var author = mine ? (l.author || S.you) : chat.data.name || S.citizen;
    var li = bubble(kind, l.is_internal ? author + " · " + S.note : author, l.text, l.created_at);
    if (mine) li.dataset.state = "sent";
    if (l.files && l.files.length) addFiles(li, l.files);
    chat.shown[l.id] = li;
    chat.panel.querySelector('[data-x="log"]').appendChild(li);
    scroll(chat);
    if (l.author_kind === "requester") {
      chat.panel.querySelector('[data-x="typing"]').hidden = true;
      send({ type: "delivered", session: sessionId, ids: [l.id] });
      if (+current !== +sessionId) {
        chat.unread = (chat.unread || 0) + 1;
        chat.tab.querySelector(".cc__badge").textContent = chat.unread;
      }
    }
  }

  function addFiles(li, files) {
    var names = files.map(function (f) { return f.name; }).join(", ");
    var textNode = li.querySelector(".cc__text");
    if (textNode && textNode.textContent === names) textNode.remove(); // the files say it
    var box = el("div", "cc__files");
    files.forEach(function (f) {
      var a = el("a", f.is_image ? "cc__image" : "cc__file");
      a.href = f.url;
      a.target = "_blank";
      a.rel = "noopener";
      if (f.is_image) {
        var img = el("img");
        img.src = f.url;
        img.alt = f.name;
        a.appendChild(img);
      } else {
        a.textContent = f.name;
      }
      box.appendChild(a);
    });
    li.appendChild(box);
  }

  function ack(msg) {
    var chat = null;
    Object.keys(chats).forEach(function (k) {
      if (chats[k].pending.some(function (p) { return p.seq === msg.seq; })) chat = chats[k];
    });
    if (!chat) return;
    var p = chat.pending.find(function (q) { return q.seq === msg.seq; });
    chat.pending = chat.pending.filter(function (q) { return q !== p; });
    if (msg.id && !chat.shown[msg.id]) {
      p.li.dataset.state = "sent";
      p.li.dataset.id = msg.id;
      chat.shown[msg.id] = p.li;
    } else {
      p.li.remove();
    }
  }

  function delivered(sessionId, ids) {
    var chat = chats[sessionId];
    if (!chat) return;
    ids.forEach(function (id) { if (chat.shown[id]) chat.shown[id].dataset.state = "delivered"; });
  }

  var typingTimers = {};
  function typing(sessionId) {
    var chat = chats[sessionId];
    if (!chat) return;
    var box = chat.panel.querySelector('[data-x="typing"]');
    box.hidden = false;
    clearTimeout(typingTimers[sessionId]);
    typingTimers[sessionId] = setTimeout(function () { box.hidden = true; }, 4000);
  }

  function released(sessionId, reason) {
    var chat = chats[sessionId];
    if (!chat) return;
    chat.ended = true;
    chat.panel.classList.add("is-ended");
    var text = reason === "" ? S.transferred : (S.endedBy[reason] || S.ended);
    var log = chat.panel.querySelector('[data-x="log"]');
    log.appendChild(el("li", "cc__notice", text));
    scroll(chat);
    chat.panel.querySelector('[data-x="end"]').textContent = S.close;
    chat.tab.classList.add("is-ended");
    renderLoad();
  }

  function closeTab(chat) {
    chat.tab.remove();
    chat.panel.remove();
    delete chats[chat.data.id];
    var left = Object.keys(chats);
    current = null;
    if (left.length) select(left[0]);
    renderTabsEmpty();
  }

  function kbResults(msg) {
    var chat = chats[current];
    if (!chat) return;
    var list = chat.panel.querySelector('[data-x="kb-results"]');
    list.textContent = "";
    if (!msg.q) return;
    if (!msg.results.length) { list.appendChild(el("li", "cc__kb-none", S.noKb)); return; }
    msg.results.forEach(function (r) {
      var li = el("li");
      var b = el("button", "cc__kb-item", r.title);
      b.type = "button";
      b.addEventListener("click", function () {
        var input = chat.panel.querySelector('[data-x="input"]');
        var url = r.url && r.url.charAt(0) === "/" ? location.origin + r.url : r.url;
        input.value = (input.value ? input.value + "\n" : "") + r.title + ": " + url;
        input.focus();
      });
      li.appendChild(b);
      list.appendChild(li);
    });
  }

  function upload(chat, file) {
    var body = new FormData();
    body.append("file", file);
    body.append("session", chat.data.id);
    var csrf = (document.cookie.match(/(?:^|; )csrftoken=([^;]+)/) || [])[1] || "";
    fetch(config.uploadUrl, {
      method: "POST", body: body, credentials: "same-origin", headers: { "X-CSRFToken": csrf },
    }).then(function (r) { return r.json(); }).then(function (data) {
      if (data.line) line(chat.data.id, data.line);
      else window.alert([].concat((data.errors || {}).file || [], (data.errors || {}).__all__ || []).join(" "));
    });
  }

  function error(msg) {
    if (msg.seq !== undefined && msg.seq !== null && msg.session && chats[msg.session]) {
      var chat = chats[msg.session];
      var p = chat.pending.find(function (q) { return q.seq === msg.seq; });
      if (p && msg.code === "rate_limited") {
        setTimeout(function () { send({ type: "message", session: msg.session, seq: p.seq, text: p.text }); }, 2000);
        return;
      }
      if (p) { p.li.dataset.state = "failed"; p.li.title = msg.message; chat.pending = chat.pending.filter(function (q) { return q !== p; }); }
      return;
    }
    if (msg.code === "note_required" && chats[msg.session]) {
      chats[msg.session].noteError(msg.message);
      return;
    }
    if (msg.code === "full" || msg.code === "taken") renderWaiting();
    if (msg.message) window.alert(msg.message);
  }

  connect();
})();
