/*
 * Massage clinic chat widget: one script tag, no framework.
 *
 *   <script src="https://bot.example.org/webchat/widget.js"
 *           data-server-url="https://bot.example.org" data-title="Ask the clinic"
 *           data-primary-color="#2f6f5e" data-lang="en" data-start-open="false"></script>
 *
 * Talks to the bot's socket.io channel (bot/rasa_adapter/channels/socketio.py). The server serves
 * this file with the vendored socket.io client in front of it (see
 * bot/rasa_adapter/channels/webchat.py), so `io` is in scope.
 *
 * Sessions: the server issues the session id and a credential for it; the widget keeps both and
 * sends both to resume after a reload or reconnection (without the credential the server starts a
 * new conversation). Sites whose users log in (the server has SOCKETIO_JWT_KEY) pass the user's
 * token as `data-auth-token`, or define `window.MassageBotWidgetAuth`, a function returning the
 * token (or a promise of it), asked on every (re)connection so a refreshed token is used.
 *
 * Safety: message text is only ever put on the page with createElement/textContent, never parsed
 * as HTML, so a "<script>" in a message is shown as text. Links are limited to http(s)/mailto/tel.
 *
 * History: the rendered transcript (message data, not HTML) is kept in localStorage next to the
 * session id. We do not fetch the tracker from Rasa's HTTP API because that API would have to be
 * exposed to the public internet with its token; the transcript in the visitor's own browser
 * needs no server endpoint and shows the page exactly as the visitor left it.
 */
(function (io) {
  "use strict";

  var VERSION = "1.0.0";
  var MAX_STORED_MESSAGES = 200;
  var TYPING_TIMEOUT_MS = 20000;

  /* Every string the visitor can see or hear, per language. Add a language by copying "en". */
  var STRINGS = {
    en: {
      title: "Ask the clinic",
      openChat: "Chat with us",
      closeChat: "Close chat",
      startOver: "Start over",
      startedOver: "Started a new conversation.",
      conversation: "Conversation",
      inputLabel: "Your message",
      placeholder: "Ask about massage, back pain or booking…",
      send: "Send",
      youSaid: "You said:",
      botSaid: "Clinic assistant said:",
      typing: "The assistant is typing…",
      suggestions: "Suggested replies",
      chosen: "(your choice)",
      newTab: "(opens in a new tab)",
      pending: "Waiting for the connection to send this.",
      connecting: "Connecting…",
      online: "Connected",
      offline: "Connection lost. Reconnecting…",
      image: "Image from the clinic"
    },
    es: {
      title: "Pregunte a la clínica",
      openChat: "Chatee con nosotros",
      closeChat: "Cerrar el chat",
      startOver: "Empezar de nuevo",
      startedOver: "Nueva conversación iniciada.",
      conversation: "Conversación",
      inputLabel: "Su mensaje",
      placeholder: "Pregunte por masajes, dolor de espalda o citas…",
      send: "Enviar",
      youSaid: "Usted dijo:",
      botSaid: "El asistente de la clínica dijo:",
      typing: "El asistente está escribiendo…",
      suggestions: "Respuestas sugeridas",
      chosen: "(su elección)",
      newTab: "(se abre en una pestaña nueva)",
      pending: "Esperando la conexión para enviar esto.",
      connecting: "Conectando…",
      online: "Conectado",
      offline: "Conexión perdida. Reconectando…",
      image: "Imagen de la clínica"
    }
  };

  var script = document.currentScript;
  if (!script || typeof io !== "function") {
    if (window.console) console.error("massage clinic widget: load it with a <script> tag");
    return;
  }

  function validColor(value) {
    return window.CSS && CSS.supports && CSS.supports("color", value) ? value : "#2f6f5e";
  }

  function attr(name, fallback) {
    var value = script.getAttribute("data-" + name);
    return value === null || value === "" ? fallback : value;
  }

  var scriptUrl = new URL(script.src, document.baseURI);
  var assetBase = scriptUrl.href.replace(/[^/]*$/, "");
  var serverUrl = attr("server-url", scriptUrl.origin).replace(/\/+$/, "");
  var lang = attr("lang", document.documentElement.lang || "en").toLowerCase();
  var extra = window.MassageBotWidgetStrings || {};
  var T = Object.assign(
    {},
    STRINGS.en,
    STRINGS[lang.split("-")[0]] || {},
    extra[lang.split("-")[0]] || {}
  );
  var config = {
    title: attr("title", T.title),
    color: validColor(attr("primary-color", "#2f6f5e")),
    startOpen: /^(1|true|yes|open)$/i.test(attr("start-open", "false")),
    socketPath: attr("socket-path", "/socket.io"),
    initialPayload: attr("initial-payload", "/greet")
  };
  if (script.getAttribute("data-initial-payload") === "") config.initialPayload = "";

  /* ---------- storage: session id, transcript and open/closed state survive reloads ---------- */

  var storageKey = "massagebot:" + serverUrl + ":";
  var storage = (function () {
    try {
      var probe = storageKey + "probe";
      window.localStorage.setItem(probe, "1");
      window.localStorage.removeItem(probe);
      return window.localStorage;
    } catch (e) {
      return null; // private mode or blocked storage: the chat still works, without history
    }
  })();

  function load(name, fallback) {
    if (!storage) return fallback;
    try {
      var raw = storage.getItem(storageKey + name);
      return raw === null ? fallback : JSON.parse(raw);
    } catch (e) {
      return fallback;
    }
  }

  function save(name, value) {
    if (!storage) return;
    try {
      if (value === null) storage.removeItem(storageKey + name);
      else storage.setItem(storageKey + name, JSON.stringify(value));
    } catch (e) {
      /* quota exceeded: history is a convenience, never a reason to fail */
    }
  }

  var state = {
    sessionId: load("session", null),
    sessionToken: load("session_token", null),
    messages: load("transcript", []),
    open: load("open", null),
    ready: false,
    queue: [],
    greeted: false,
    typingTimer: null
  };
  if (!Array.isArray(state.messages)) state.messages = [];
  if (state.open === null) state.open = config.startOpen;

  function persist() {
    if (state.messages.length > MAX_STORED_MESSAGES) {
      state.messages = state.messages.slice(-MAX_STORED_MESSAGES);
    }
    save("transcript", state.messages);
  }

  /* ---------- DOM helpers: elements and text nodes only ---------- */

  function el(tag, props, children) {
    var node = document.createElement(tag);
    if (props) {
      Object.keys(props).forEach(function (key) {
        var value = props[key];
        if (value === null || value === undefined || value === false) return;
        if (key === "text") node.textContent = value;
        else if (key === "className") node.className = value;
        else if (key.slice(0, 2) === "on") node.addEventListener(key.slice(2), value);
        else node.setAttribute(key, value === true ? "" : String(value));
      });
    }
    (children || []).forEach(function (child) {
      if (child) node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function srOnly(text) {
    return el("span", { className: "mb-sr", text: text });
  }

  function safeUrl(href) {
    try {
      var url = new URL(href, document.baseURI);
      return /^(https?|mailto|tel):$/.test(url.protocol) ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  function appendLink(parent, label, href) {
    var url = safeUrl(href);
    if (!url) {
      parent.appendChild(document.createTextNode(label));
      return;
    }
    var external = /^https?:$/.test(new URL(url).protocol);
    parent.appendChild(
      el("a", { href: url, target: external ? "_blank" : null, rel: external ? "noopener noreferrer" : null }, [
        label,
        external ? srOnly(" " + T.newTab) : null
      ])
    );
  }

  /* **bold**, _italic_ (not inside words, so snake_case stays as it is), [label](url), bare links. */
  var INLINE = /\*\*([^*\n]+)\*\*|(?<![\w_])_([^_\n]+)_(?![\w_])|\[([^\]\n]+)\]\(([^)\s]+)\)|(https?:\/\/[^\s<>"]*[^\s<>".,;:!?)\]'])/g;

  /* The bot's markdown subset, built as DOM nodes. */
  function renderInline(parent, text) {
    var last = 0;
    var match;
    INLINE.lastIndex = 0;
    while ((match = INLINE.exec(text)) !== null) {
      if (match.index > last) parent.appendChild(document.createTextNode(text.slice(last, match.index)));
      if (match[1] !== undefined) {
        parent.appendChild(el("strong", { text: match[1] }));
      } else if (match[2] !== undefined) {
        parent.appendChild(el("em", { text: match[2] }));
      } else if (match[3] !== undefined) {
        appendLink(parent, match[3], match[4]);
      } else {
        appendLink(parent, match[5], match[5]);
      }
      last = INLINE.lastIndex;
    }
    if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
  }

  var LIST_ITEM = /^\s*(?:([-*•+])|(\d{1,3})[.)])\s+(.*)$/;

  /* Paragraphs, line breaks and bulleted or numbered lists. */
  function renderRich(container, text) {
    String(text).split(/\n{2,}/).forEach(function (block) {
      var paragraph = null;
      var list = null;
      block.split("\n").forEach(function (line) {
        var item = LIST_ITEM.exec(line);
        if (item) {
          var tag = item[1] ? "ul" : "ol";
          if (!list || list.tagName.toLowerCase() !== tag) {
            list = el(tag);
            container.appendChild(list);
          }
          var li = el("li");
          renderInline(li, item[3]);
          list.appendChild(li);
          paragraph = null;
          return;
        }
        list = null;
        if (!line.trim()) return;
        if (paragraph) paragraph.appendChild(el("br"));
        else {
          paragraph = el("p");
          container.appendChild(paragraph);
        }
        renderInline(paragraph, line);
      });
    });
  }

  /* ---------- the widget's DOM, inside a shadow root so the host page's CSS cannot break it ---------- */

  var host = el("div", { id: "massagebot-webchat", "data-version": VERSION });
  var root = host.attachShadow({ mode: "open" });
  host.style.setProperty("--mb-primary", config.color);
  host.style.setProperty("--mb-on-primary", textColorFor(config.color));

  var stylesheet = el("link", { rel: "stylesheet", href: assetBase + "widget.css" });
  var container = el("div", { className: "mb-root", lang: lang });
  root.appendChild(stylesheet);
  root.appendChild(container);
  container.style.visibility = "hidden";
  stylesheet.addEventListener("load", function () {
    container.style.visibility = "";
  });
  stylesheet.addEventListener("error", function () {
    container.style.visibility = "";
  });

  var launcher = el("button", {
    type: "button",
    className: "mb-launcher",
    "aria-expanded": "false",
    "aria-controls": "mb-panel",
    onclick: function () {
      openPanel(true);
    }
  }, [chatIcon(), T.openChat]);

  var statusLine = el("p", { className: "mb-status", role: "status", "aria-live": "polite", "data-state": "connecting" });
  var restartButton = el("button", { type: "button", className: "mb-restart", text: T.startOver, onclick: startOver });
  var closeButton = el("button", {
    type: "button",
    className: "mb-close",
    "aria-label": T.closeChat,
    onclick: function () {
      closePanel();
    }
  }, [el("span", { "aria-hidden": "true", text: "×" })]);

  var log = el("div", {
    className: "mb-log",
    role: "log",
    "aria-live": "polite",
    "aria-relevant": "additions",
    "aria-label": T.conversation,
    tabindex: "0"
  });
  var typing = el("div", { className: "mb-typing", hidden: true }, [
    srOnly(T.typing),
    el("span", { className: "mb-dots", "aria-hidden": "true" }, [el("span"), el("span"), el("span")])
  ]);
  var input = el("input", {
    id: "mb-input",
    type: "text",
    className: "mb-input",
    autocomplete: "off",
    maxlength: "1000",
    placeholder: T.placeholder
  });
  var form = el("form", { className: "mb-form", onsubmit: onSubmit }, [
    el("label", { for: "mb-input", className: "mb-sr", text: T.inputLabel }),
    input,
    el("button", { type: "submit", className: "mb-send", text: T.send })
  ]);
  var panel = el("section", {
    id: "mb-panel",
    className: "mb-panel",
    role: "dialog",
    "aria-modal": "false",
    "aria-labelledby": "mb-title",
    hidden: true,
    onkeydown: function (event) {
      if (event.key === "Escape") {
        event.preventDefault();
        closePanel();
      }
    }
  }, [
    el("header", { className: "mb-header" }, [
      el("h2", { id: "mb-title", className: "mb-title", text: config.title }),
      restartButton,
      closeButton
    ]),
    statusLine,
    log,
    typing,
    form
  ]);
  container.appendChild(launcher);
  container.appendChild(panel);

  /* A speech-bubble icon drawn as SVG, so it needs no emoji font on the visitor's device. */
  function chatIcon() {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "22");
    svg.setAttribute("height", "22");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var path = document.createElementNS(ns, "path");
    path.setAttribute("fill", "currentColor");
    path.setAttribute("d", "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z");
    svg.appendChild(path);
    return svg;
  }

  /* Pick black or white text on the clinic's colour, whichever contrasts more (WCAG luminance). */
  function textColorFor(color) {
    var probe = document.createElement("span");
    probe.style.color = color;
    document.documentElement.appendChild(probe);
    var rgb = (getComputedStyle(probe).color.match(/\d+(\.\d+)?/g) || [0, 0, 0]).slice(0, 3).map(Number);
    probe.remove();
    var lum = rgb.map(function (c) {
      c /= 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    });
    var l = 0.2126 * lum[0] + 0.7152 * lum[1] + 0.0722 * lum[2];
    return (l + 0.05) / 0.05 > 1.05 / (l + 0.05) ? "#111111" : "#ffffff";
  }

  /* ---------- messages ---------- */

  function renderMessage(entry, index) {
    var fromUser = entry.from === "user";
    var bubble = el("div", { className: "mb-bubble" });
    if (fromUser) bubble.appendChild(el("p", { text: entry.text }));
    else if (entry.text) renderRich(bubble, entry.text);
    if (entry.image && safeUrl(entry.image)) {
      bubble.appendChild(el("img", { src: safeUrl(entry.image), alt: T.image, className: "mb-image" }));
    }
    var node = el("div", { className: "mb-msg " + (fromUser ? "mb-user" : "mb-bot"), "data-index": index }, [
      srOnly(fromUser ? T.youSaid : T.botSaid),
      bubble
    ]);
    if (entry.pending) node.appendChild(el("p", { className: "mb-pending", text: T.pending }));
    if (entry.buttons && entry.buttons.length) node.appendChild(renderChoices(entry, index));
    return node;
  }

  function renderChoices(entry, index) {
    var group = el("div", { className: "mb-choices", role: "group", "aria-label": T.suggestions });
    entry.buttons.forEach(function (button, position) {
      var chosen = entry.chosen === position;
      group.appendChild(
        el("button", {
          type: "button",
          className: "mb-choice" + (chosen ? " mb-chosen" : ""),
          "aria-pressed": chosen ? "true" : "false",
          // A choice is made once; and once the client has written anything after it, the
          // question those buttons answered has passed (the server ignores them too).
          disabled: entry.stale || (entry.chosen !== undefined && entry.chosen !== null),
          onclick: function () {
            choose(index, position);
          }
        }, [button.title, chosen ? srOnly(" " + T.chosen) : null])
      );
    });
    return group;
  }

  function renderAll() {
    while (log.firstChild) log.removeChild(log.firstChild);
    state.messages.forEach(function (entry, index) {
      log.appendChild(renderMessage(entry, index));
    });
    scrollToEnd();
  }

  function addMessage(entry) {
    state.messages.push(entry);
    persist();
    if (state.messages.length > MAX_STORED_MESSAGES) renderAll();
    else log.appendChild(renderMessage(entry, state.messages.length - 1));
    scrollToEnd();
  }

  function replaceMessage(index) {
    var old = log.querySelector('[data-index="' + index + '"]');
    var fresh = renderMessage(state.messages[index], index);
    if (old) log.replaceChild(fresh, old);
    persist();
  }

  /* Buttons the conversation has moved past are disabled: tapping one later would answer a
     question that is no longer asked. */
  function retireChoices() {
    state.messages.forEach(function (entry, index) {
      if (entry.from !== "bot" || !entry.buttons || entry.stale) return;
      entry.stale = true;
      replaceMessage(index);
    });
  }

  function scrollToEnd() {
    log.scrollTop = log.scrollHeight;
  }

  function choose(index, position) {
    var entry = state.messages[index];
    if (!entry || entry.stale || entry.chosen !== undefined && entry.chosen !== null) return;
    var button = entry.buttons[position];
    entry.chosen = position;
    replaceMessage(index);
    send(button.title, button.payload);
    input.focus();
  }

  function onSubmit(event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    send(text, text);
    input.focus();
  }

  function send(shown, message) {
    var entry = { from: "user", text: shown };
    if (!state.ready) entry.pending = true;
    retireChoices();
    addMessage(entry);
    state.queue.push({ message: message, index: state.messages.length - 1 });
    flushQueue();
  }

  function flushQueue() {
    if (!state.ready) return;
    while (state.queue.length) {
      var item = state.queue.shift();
      socket.emit("user_uttered", { message: item.message, session_id: state.sessionId });
      showTyping();
      var entry = state.messages[item.index];
      if (entry && entry.pending) {
        delete entry.pending;
        replaceMessage(item.index);
      }
    }
  }

  function onBotMessage(data) {
    if (!data || typeof data !== "object") return;
    hideTyping();
    var buttons = (data.quick_replies || data.buttons || [])
      .filter(function (b) {
        return b && (b.title || b.payload);
      })
      .map(function (b) {
        return { title: String(b.title || b.payload), payload: String(b.payload || b.title) };
      });
    var image = data.attachment && data.attachment.type === "image" && data.attachment.payload
      ? data.attachment.payload.src || data.attachment.payload.url
      : data.image;
    var text = typeof data.text === "string" ? data.text : "";
    if (!text && !buttons.length && !image) return;
    var entry = { from: "bot", text: text };
    if (buttons.length) entry.buttons = buttons;
    if (image) entry.image = String(image);
    addMessage(entry);
  }

  function showTyping() {
    typing.hidden = false;
    scrollToEnd();
    clearTimeout(state.typingTimer);
    state.typingTimer = setTimeout(hideTyping, TYPING_TIMEOUT_MS);
  }

  function hideTyping() {
    typing.hidden = true;
    clearTimeout(state.typingTimer);
  }

  /* ---------- connection ---------- */

  function setStatus(name, text) {
    statusLine.setAttribute("data-state", name);
    statusLine.textContent = text || T[name];
    if (name === "offline") input.setAttribute("aria-describedby", "mb-status");
    else input.removeAttribute("aria-describedby");
  }
  statusLine.id = "mb-status";
  setStatus("connecting");

  /* The site's login token (JWT mode): the hook first, so a refreshed token wins. */
  function authToken() {
    try {
      if (typeof window.MassageBotWidgetAuth === "function") {
        return Promise.resolve(window.MassageBotWidgetAuth());
      }
    } catch (e) {
      return Promise.resolve(null);
    }
    return Promise.resolve(attr("auth-token", null));
  }

  var socket = io(serverUrl, {
    path: config.socketPath,
    transports: ["websocket", "polling"],
    autoConnect: false,
    reconnectionDelay: 500,
    reconnectionDelayMax: 4000,
    auth: function (callback) {
      authToken().then(
        function (token) {
          callback(token ? { token: String(token) } : {});
        },
        function () {
          callback({});
        }
      );
    }
  });

  socket.on("connect", function () {
    // Every new socket (first connection and each reconnection) must rejoin the session, with
    // the credential the server gave for it.
    socket.emit("session_request", { session_id: state.sessionId, session_token: state.sessionToken });
  });

  socket.on("session_confirm", function (data) {
    var id = typeof data === "string" ? data : data && data.session_id;
    if (!id) return; // e.g. {error: "too_many_sessions"}: the server said why in a message
    if (state.sessionId && id !== state.sessionId) {
      // The server gave us another session: the old transcript no longer matches it.
      state.messages = [];
      persist();
      renderAll();
    }
    state.sessionId = id;
    state.sessionToken = data && typeof data.session_token === "string" ? data.session_token : null;
    save("session", id);
    save("session_token", state.sessionToken);
    state.ready = true;
    setStatus("online");
    flushQueue();
    greetIfNew();
  });

  socket.on("bot_uttered", onBotMessage);

  socket.on("disconnect", function (reason) {
    state.ready = false;
    if (state.restarting) return;
    setStatus("offline");
    hideTyping();
    if (reason === "io server disconnect") socket.connect();
  });

  socket.on("connect_error", function () {
    state.ready = false;
    setStatus("offline");
  });

  function greetIfNew() {
    if (state.greeted || state.messages.length || !config.initialPayload) return;
    state.greeted = true;
    socket.emit("user_uttered", { message: config.initialPayload, session_id: state.sessionId });
    showTyping();
  }

  /* ---------- open, close, start over ---------- */

  function openPanel(moveFocus) {
    state.open = true;
    save("open", true);
    panel.hidden = false;
    launcher.hidden = true;
    launcher.setAttribute("aria-expanded", "true");
    container.setAttribute("data-open", "true");
    if (!socket.connected && !socket.active) socket.connect();
    scrollToEnd();
    if (moveFocus) input.focus();
  }

  function closePanel() {
    state.open = false;
    save("open", false);
    panel.hidden = true;
    launcher.hidden = false;
    launcher.setAttribute("aria-expanded", "false");
    container.setAttribute("data-open", "false");
    launcher.focus();
  }

  function startOver() {
    state.restarting = true;
    state.ready = false;
    state.queue = [];
    state.greeted = false;
    state.sessionId = null;
    state.sessionToken = null;
    state.messages = [];
    save("session", null);
    save("session_token", null);
    persist();
    renderAll();
    hideTyping();
    // A fresh socket leaves the old session's room, so late replies to it cannot appear here.
    socket.disconnect();
    state.restarting = false;
    socket.connect();
    setStatus("connecting", T.startedOver);
    input.focus();
  }

  renderAll();
  function mount() {
    document.body.appendChild(host);
    if (state.open) openPanel(false);
  }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);

  window.MassageBotWidget = {
    version: VERSION,
    strings: STRINGS,
    open: function () {
      openPanel(true);
    },
    close: closePanel,
    startOver: startOver
  };
})(typeof io === "function" ? io : window.io);
