/* Citizen chat: pre-chat form, websocket with reconnect, lines with sequence numbers.
 *
 * Every line the citizen types gets a sequence number (kept in sessionStorage with the
 * unsent text). The server acknowledges stored lines and, on reconnect, says the highest
 * sequence number it has stored ("acked") and sends every line after the last message id
 * we have seen: nothing is lost and nothing is shown twice. All text goes into the page
 * with textContent, never as HTML.
 */
(function () {
  "use strict";
  var app = document.getElementById("chat-app");
  if (!app) return;
  var config = JSON.parse(document.getElementById("chat-config").textContent);
  var S = config.strings;
  var STORE = "helpdesk-chat";

  var $ = function (id) { return document.getElementById(id); };
  var formView = $("chat-form-view"), room = $("chat-room"), log = $("chat-log");
  var input = $("chat-input"), statusBox = $("chat-status"), banner = $("chat-banner");
  var typingBox = $("chat-typing"), endedBox = $("chat-ended"), composer = $("chat-composer");

  var state = load() || null;
  var ws = null, retry = 0, retryTimer = null, pingTimer = null, typingTimer = null;
  var lastTypingSent = 0, deliveredQueue = [], deliveredTimer = null, tooManyText = "";
  var shown = {}; // message id -> <li>
  var pendingEls = {}; // seq -> <li>

  function fmt(text, values) {
    return text.replace(/%\((\w+)\)s/g, function (_, key) { return values[key]; });
  }
  function save() { sessionStorage.setItem(STORE, JSON.stringify(state)); }
  function load() {
    try { return JSON.parse(sessionStorage.getItem(STORE)); } catch (e) { return null; }
  }
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }
  function timeOf(iso) {
    var d = iso ? new Date(iso) : new Date();
    return d.toLocaleTimeString(config.lang, { hour: "2-digit", minute: "2-digit" });
  }

  /* ---- pre-chat form ---- */
  var form = $("chat-start-form");
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var errors = $("chat-form-errors");
    errors.hidden = true;
    errors.textContent = "";
    form.querySelectorAll(".field--error").forEach(function (f) {
      f.classList.remove("field--error");
      var list = f.querySelector(".errorlist");
      if (list) list.remove();
    });
    var button = $("chat-start");
    button.disabled = true;
    var body = new FormData(form);
    fetch(config.startUrl + "?lang=" + encodeURIComponent(config.lang), {
      method: "POST", body: body, credentials: "same-origin",
    }).then(function (r) { return r.json().then(function (data) { return [r, data]; }); })
      .then(function (pair) {
        button.disabled = false;
        var data = pair[1];
        if (data.errors) { showErrors(data.errors); return; }
        if (data.status === "offline") { showOfflineDone(data); return; }
        state = { token: data.token, number: data.number, seq: 0, lastId: 0, pending: [],
                  email: data.email || "" };
        save();
        openRoom();
      })
      .catch(function () {
        button.disabled = false;
        showErrors({ __all__: [S.reconnecting] });
      });
  });

  function showErrors(errors) {
    Object.keys(errors).forEach(function (name) {
      var field = form.querySelector('[data-field="' + name + '"]');
      if (!field) {
        var box = $("chat-form-errors");
        errors[name].forEach(function (m) { box.appendChild(el("li", null, m)); });
        box.hidden = false;
        return;
      }
      field.classList.add("field--error");
      if (field.tagName === "DETAILS") field.open = true;
      var list = el("ul", "errorlist");
      errors[name].forEach(function (m) { list.appendChild(el("li", null, m)); });
      field.appendChild(list);
    });
    var first = form.querySelector(".field--error input, .field--error textarea, .field--error select");
    if (first) first.focus();
  }

  function showOfflineDone(data) {
    formView.hidden = true;
    $("chat-offline-done").hidden = false;
    $("chat-offline-number").textContent = data.number;
    $("chat-offline-due").textContent = data.due_text || "";
    // «Мы перезвоним вам …» when a call-back was asked for.
    $("chat-callback-promise").textContent = data.callback || "";
    $("chat-callback-promise").hidden = !data.callback;
    $("chat-offline-mailed").hidden = !data.email;
    $("chat-offline-saved").focus();
  }

  // With «Перезвоните мне» ticked the button says what will happen: no chat, a call.
  var startButton = $("chat-start"), callbackBox = form.querySelector("input[name=callback]");
  var startLabel = startButton.textContent;
  if (callbackBox) {
    callbackBox.addEventListener("change", function () {
      startButton.textContent = callbackBox.checked ? startButton.dataset.callbackLabel : startLabel;
    });
  }

  /* ---- the room ---- */
  function openRoom() {
    formView.hidden = true;
    room.hidden = false;
    $("chat-number").textContent = state.number || "";
    state.pending.forEach(function (p) { renderPending(p); });
    connect();
    input.focus();
  }

  function connect() {
    clearTimeout(retryTimer);
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    ws = new WebSocket(scheme + location.host + config.wsPath);
    setConn(retry ? S.reconnecting : S.connecting);
    ws.onopen = function () {
      ws.send(JSON.stringify({ type: "hello", token: state.token, last_id: state.lastId }));
    };
    ws.onmessage = function (ev) { handle(JSON.parse(ev.data)); };
    ws.onclose = function (ev) {
      clearInterval(pingTimer);
      if (ev.code === 4403 || ev.code === 4401 || !state || state.ended) return;
      // 4429: the chat is open in too many windows; keep trying, saying why.
      setConn(ev.code === 4429 && tooManyText ? tooManyText : S.reconnecting);
      retry = Math.min(retry + 1, 6);
      retryTimer = setTimeout(connect, Math.min(15000, 500 * Math.pow(2, retry)));
    };
  }

  function setConn(text) {
    banner.textContent = text || "";
    banner.hidden = !text;
  }

  function handle(msg) {
    switch (msg.type) {
      case "welcome": return welcome(msg);
      case "ack": return ack(msg);
      case "line": return line(msg.line);
      case "state": return applyState(msg);
      case "queue": return queue(msg.position, msg.eta);
      case "typing": return typing();
      case "delivered":
        msg.ids.forEach(function (id) { if (shown[id]) mark(shown[id], "delivered"); });
        return;
      case "error": return error(msg);
    }
  }

  function welcome(msg) {
    retry = 0;
    setConn("");
    state.number = msg.number;
    $("chat-number").textContent = msg.number;
    // Lines up to `acked` are stored: they come back in `lines` with their ids.
    state.pending = state.pending.filter(function (p) {
      if (p.seq <= msg.acked) {
        if (pendingEls[p.seq]) { pendingEls[p.seq].remove(); delete pendingEls[p.seq]; }
        return false;
      }
      return true;
    });
    state.seq = Math.max(state.seq, msg.acked);
    save();
    msg.lines.forEach(line);
    applyState({ status: msg.status, operator: msg.operator, number: msg.number, quiet: true });
    if (msg.status === "waiting") queue(msg.position, msg.eta);
    state.pending.forEach(function (p) { transmit(p); });
    clearInterval(pingTimer);
    // Each ping asks for the lines since the previous one: a line pushed while this
    // socket could not get it (a Redis outage it stayed open through) comes again.
    var since = state.lastId;
    pingTimer = setInterval(function () {
      if (send({ type: "ping", since: since })) since = state.lastId;
    }, 25000);
  }

  function send(obj) {
    if (ws && ws.readyState === 1) { ws.send(JSON.stringify(obj)); return true; }
    return false;
  }

  function transmit(p) { send({ type: "message", seq: p.seq, text: p.text }); }

  function ack(msg) {
    var p = state.pending.find(function (x) { return x.seq === msg.seq; });
    state.pending = state.pending.filter(function (x) { return x.seq !== msg.seq; });
    var li = pendingEls[msg.seq];
    delete pendingEls[msg.seq];
    if (li) {
      if (msg.id && !shown[msg.id]) {
        li.dataset.id = msg.id;
        shown[msg.id] = li;
        mark(li, "sent");
        state.lastId = Math.max(state.lastId, msg.id);
      } else {
        li.remove(); // stored earlier: the copy from the server is shown
      }
    }
    if (p || li) save();
  }

  function error(msg) {
    if (msg.code === "too_many_sockets") { tooManyText = msg.message; return; }
    if (msg.code === "bad_token" || msg.code === "unauthenticated") {
      state.ended = true;
      state.served = false; // nothing to rate with a token that is not valid
      statusBox.textContent = S.invalidToken;
      sessionStorage.removeItem(STORE);
      showEnded();
      return;
    }
    if (msg.seq === undefined || msg.seq === null) return;
    var li = pendingEls[msg.seq];
    if (msg.code === "rate_limited") {
      if (li) mark(li, "sending", S.tooFast);
      var p = state.pending.find(function (x) { return x.seq === msg.seq; });
      if (p) setTimeout(function () { transmit(p); }, 3000);
      return;
    }
    if (li) mark(li, "failed", msg.message);
    state.pending = state.pending.filter(function (x) { return x.seq !== msg.seq; });
    save();
  }

  function mark(li, status, title) {
    var tick = li.querySelector(".chat__tick");
    if (!tick) return;
    if (li.dataset.state === "delivered" && status === "sent") return;
    li.dataset.state = status;
    tick.textContent = status === "sending" ? "…" : status === "sent" ? "✓" : status === "delivered" ? "✓✓" : "⚠";
    tick.title = title || S[status] || "";
  }

  /* ---- rendering ---- */
  function bubble(kind, author, text, time) {
    var li = el("li", "chat__line chat__line--" + kind);
    var meta = el("div", "chat__meta");
    meta.appendChild(el("span", "chat__author", author));
    meta.appendChild(el("span", "chat__time", time));
    li.appendChild(meta);
    li.appendChild(el("div", "chat__text", text));
    if (kind === "me") {
      var tick = el("span", "chat__tick");
      meta.appendChild(tick);
    }
    return li;
  }

  function append(li) {
    var near = log.scrollHeight - log.scrollTop - log.clientHeight < 80;
    log.appendChild(li);
    if (near || li.classList.contains("chat__line--me")) log.scrollTop = log.scrollHeight;
  }

  function renderPending(p) {
    var li = bubble("me", S.you, p.text, timeOf());
    mark(li, "sending");
    pendingEls[p.seq] = li;
    append(li);
  }

  function line(m) {
    if (m.id > state.lastId) { state.lastId = m.id; save(); }
    var existing = shown[m.id];
    if (existing) {
      if (m.files && m.files.length && !existing.querySelector(".chat__files")) addFiles(existing, m.files);
      return;
    }
    var mine = m.author_kind === "requester";
    var kind = mine ? "me" : m.author_kind === "operator" ? "them" : "system";
    var li = bubble(kind, mine ? S.you : (m.author || S.operator), m.text, timeOf(m.created_at));
    li.dataset.id = m.id;
    if (mine) mark(li, "sent");
    if (m.files && m.files.length) addFiles(li, m.files);
    shown[m.id] = li;
    append(li);
    if (!mine) {
      typingBox.hidden = true;
      deliveredQueue.push(m.id);
      clearTimeout(deliveredTimer);
      deliveredTimer = setTimeout(function () {
        if (send({ type: "delivered", ids: deliveredQueue })) deliveredQueue = [];
      }, 150);
    }
  }

  function clip() {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("class", "chat__clip");
    var path = document.createElementNS(ns, "path");
    path.setAttribute("d", "M21 11.5l-8.6 8.6a5.5 5.5 0 0 1-7.8-7.8l8.6-8.6a3.7 3.7 0 0 1 5.2 5.2l-8.6 8.6a1.8 1.8 0 0 1-2.6-2.6l7.9-7.9");
    svg.appendChild(path);
    return svg;
  }

  function addFiles(li, files) {
    var names = files.map(function (f) { return f.name; }).join(", ");
    var textNode = li.querySelector(".chat__text");
    if (textNode && textNode.textContent === names) textNode.remove(); // the files say it
    var box = el("div", "chat__files");
    files.forEach(function (f) {
      var url = f.url + "?t=" + encodeURIComponent(state.token);
      var a = el("a", f.is_image ? "chat__image" : "chat__file");
      a.href = url;
      a.target = "_blank";
      a.rel = "noopener";
      if (f.is_image) {
        var img = el("img");
        img.src = url;
        img.alt = f.name;
        img.loading = "lazy";
        img.addEventListener("load", function () { log.scrollTop = log.scrollHeight; });
        a.appendChild(img);
      } else {
        a.appendChild(clip());
        a.appendChild(document.createTextNode(f.name));
      }
      box.appendChild(a);
    });
    li.appendChild(box);
  }

  function applyState(msg) {
    if (msg.number) { state.number = msg.number; $("chat-number").textContent = msg.number; }
    // An operator took the chat: once it ends, it can be rated.
    if (msg.operator || msg.status === "active") state.served = true;
    var op = $("chat-operator");
    if (msg.status === "waiting") {
      op.textContent = S.waiting;
    } else if (msg.status === "active") {
      op.textContent = msg.operator ? msg.operator : S.operator;
      statusBox.textContent = "";
      if (!msg.quiet) {
        var text = msg.reason === "transferred" ? S.transferred : S.joined;
        append(el("li", "chat__notice", fmt(text, { name: msg.operator || S.operator })));
      }
    } else if (msg.status === "ended" || msg.status === "offline") {
      op.textContent = S.ended;
      statusBox.textContent = "";
      if (!state.ended && !msg.quiet && msg.reason === "escalated") {
        append(el("li", "chat__notice", fmt(S.escalated, { number: state.number })));
      }
      state.ended = true;
      save();
      showEnded();
    }
  }

  function queue(position, eta) {
    if (!position) { statusBox.textContent = S.waiting; return; }
    var text = fmt(S.position, { position: position });
    if (eta) text += " " + fmt(S.eta, { minutes: Math.max(1, Math.round(eta / 60)) });
    statusBox.textContent = text;
  }

  function typing() {
    $("chat-typing-text").textContent = S.typing;
    typingBox.hidden = false;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(function () { typingBox.hidden = true; }, 4000);
  }

  function showEnded() {
    // The composer is going away: a keyboard user carries on from the ended notice.
    var hadFocus = room.contains(document.activeElement) && !endedBox.contains(document.activeElement);
    composer.hidden = true;
    $("chat-end").hidden = true;
    endedBox.hidden = false;
    $("chat-callback-toggle").hidden = true;
    $("chat-callback-form").hidden = true;
    showRating();
    if (hadFocus) $("chat-ended-title").focus();
    $("chat-ended-number").textContent = state && state.number ? state.number : "";
    // The transcript goes only to the e-mail given at the start (shown masked).
    if (state && state.email) {
      $("transcript-send").textContent = fmt(S.transcriptTo, { email: state.email });
      $("transcript-form").hidden = false;
    }
    clearInterval(pingTimer);
    if (ws) { try { ws.close(); } catch (e) { /* closed already */ } }
  }

  /* ---- composing ---- */
  composer.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    if (text.length > config.maxChars) {
      statusBox.textContent = fmt(S.tooLong, { n: config.maxChars });
      return;
    }
    state.seq += 1;
    var p = { seq: state.seq, text: text };
    state.pending.push(p);
    save();
    renderPending(p);
    transmit(p);
    input.value = "";
    autosize();
    input.focus();
  });
  input.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      composer.requestSubmit();
    }
  });
  input.addEventListener("input", function () {
    autosize();
    var now = Date.now();
    if (now - lastTypingSent > 2000) { lastTypingSent = now; send({ type: "typing" }); }
  });
  function autosize() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, 140) + "px";
  }

  /* ---- files: picker and pasted screenshots ---- */
  $("chat-file").addEventListener("change", function (ev) {
    Array.prototype.forEach.call(ev.target.files, upload);
    ev.target.value = "";
  });
  input.addEventListener("paste", function (ev) {
    var items = (ev.clipboardData && ev.clipboardData.files) || [];
    if (!items.length) return;
    ev.preventDefault();
    Array.prototype.forEach.call(items, function (f) {
      var name = f.name && f.name !== "image.png" ? f.name : "screenshot-" + Date.now() + ".png";
      upload(new File([f], name, { type: f.type }));
    });
  });

  function upload(file) {
    var ext = (file.name.split(".").pop() || "").toLowerCase();
    if (config.extensions.indexOf(ext) < 0) {
      statusBox.textContent = fmt(S.badType, { name: file.name });
      return;
    }
    if (file.size > config.maxBytes) {
      statusBox.textContent = fmt(S.tooBig, { name: file.name });
      return;
    }
    var note = el("li", "chat__notice", fmt(S.uploading, { name: file.name }));
    append(note);
    var body = new FormData();
    body.append("file", file);
    fetch(config.uploadUrl, {
      method: "POST", body: body, headers: { "X-Chat-Token": state.token },
    }).then(function (r) { return r.json(); }).then(function (data) {
      note.remove();
      if (data.line) { line(data.line); return; }
      var errs = data.errors || {};
      statusBox.textContent = [].concat(errs.file || [], errs.__all__ || []).join(" ");
    }).catch(function () { note.remove(); statusBox.textContent = S.failed; });
  }

  /* ---- rating (once per chat; the server keeps the first) ---- */
  var ratingForm = $("rating-form");
  function showRating() {
    if (!state) return;
    if (state.rated) {
      ratingForm.hidden = true;
      $("rating-result").textContent = fmt(S.rated, { rating: state.rated });
    } else {
      ratingForm.hidden = !state.served;
    }
  }
  ratingForm.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var errors = $("rating-errors");
    errors.textContent = "";
    errors.hidden = true;
    var chosen = ratingForm.querySelector("input[name=rating]:checked");
    if (!chosen) {
      errors.appendChild(el("li", null, S.chooseRating));
      errors.hidden = false;
      ratingForm.querySelector("input[name=rating]").focus();
      return;
    }
    var button = $("rating-send");
    button.disabled = true;
    fetch(config.ratingUrl, {
      method: "POST", body: new FormData(ratingForm), headers: { "X-Chat-Token": state.token },
    }).then(function (r) { return r.json(); }).then(function (data) {
      button.disabled = false;
      if (data.ok) {
        state.rated = data.rating;
        save();
        showRating();
        $("rating-result").focus();
        return;
      }
      var errs = data.errors || {};
      [].concat(errs.rating || [], errs.comment || [], errs.__all__ || []).forEach(function (m) {
        errors.appendChild(el("li", null, m));
      });
      errors.hidden = false;
    }).catch(function () {
      button.disabled = false;
      errors.appendChild(el("li", null, S.failed));
      errors.hidden = false;
    });
  });

  /* ---- «Перезвоните мне» during the chat ---- */
  var cbToggle = $("chat-callback-toggle"), cbForm = $("chat-callback-form");
  function cbOpen(open) {
    cbForm.hidden = !open;
    cbToggle.setAttribute("aria-expanded", open ? "true" : "false");
    if (open) $("cb-phone").focus();
    else cbToggle.focus();
  }
  cbToggle.addEventListener("click", function () { cbOpen(cbForm.hidden); });
  $("chat-callback-cancel").addEventListener("click", function () { cbOpen(false); });
  cbForm.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape") cbOpen(false);
  });
  cbForm.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var box = $("chat-callback-errors");
    box.textContent = "";
    box.hidden = true;
    cbForm.querySelectorAll("[data-field]").forEach(function (f) {
      f.firstElementChild.classList.remove("field--error");
      var list = f.querySelector(".errorlist");
      if (list) list.remove();
      var input = f.querySelector("input, select");
      if (input) input.removeAttribute("aria-invalid");
    });
    var button = $("chat-callback-send");
    button.disabled = true;
    fetch(config.callbackUrl + "?lang=" + encodeURIComponent(config.lang), {
      method: "POST", body: new FormData(cbForm), headers: { "X-Chat-Token": state.token },
    }).then(function (r) { return r.json(); }).then(function (data) {
      button.disabled = false;
      if (data.ok) {
        cbForm.hidden = true;
        cbToggle.hidden = true; // one open call-back per appeal
        var done = $("chat-callback-done");
        done.textContent = data.callback;
        done.hidden = false;
        done.focus();
        return;
      }
      var errors = data.errors || {}, first = null;
      Object.keys(errors).forEach(function (name) {
        var field = cbForm.querySelector('[data-field="' + (name === "window" ? "callback_window" : name) + '"]');
        if (!field) {
          errors[name].forEach(function (m) { box.appendChild(el("li", null, m)); });
          box.hidden = false;
          return;
        }
        field.firstElementChild.classList.add("field--error");
        var list = el("ul", "errorlist");
        errors[name].forEach(function (m) { list.appendChild(el("li", null, m)); });
        field.firstElementChild.appendChild(list);
        var input = field.querySelector("input, select");
        if (input) {
          list.id = input.id + "_error";
          input.setAttribute("aria-invalid", "true");
          input.setAttribute("aria-describedby", list.id);
          first = first || input;
        }
      });
      if (first) first.focus();
    }).catch(function () {
      button.disabled = false;
      box.appendChild(el("li", null, S.failed));
      box.hidden = false;
    });
  });

  /* ---- end, transcript, new chat ---- */
  $("chat-end").addEventListener("click", function () {
    send({ type: "end" });
  });
  $("transcript-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var result = $("transcript-result");
    fetch(config.transcriptUrl, {
      method: "POST", body: new FormData(), headers: { "X-Chat-Token": state.token },
    }).then(function (r) { return r.json(); }).then(function (data) {
      if (data.ok) {
        result.textContent = fmt(S.transcriptSent, { email: data.email || state.email });
      } else {
        var errs = data.errors || {};
        result.textContent = [].concat(errs.__all__ || []).join(" ");
      }
    });
  });
  $("chat-new").addEventListener("click", function () {
    sessionStorage.removeItem(STORE);
    location.reload();
  });

  if (state && state.token) openRoom();
})();
