/* Safeline web chat front end. Plain ES2017, no dependencies, CSP-safe
 * (no inline code, no eval, no innerHTML). Conversation history lives in
 * memory only; the session id lives in sessionStorage only. */
(function () {
  'use strict';

  var DEFAULT_EXIT_URL = 'https://www.google.com/search?q=weather+today';
  var SESSION_KEY = 'safeline.webchat.session';
  var MESSAGES_URL = '/webchat/messages';
  var END_URL = '/webchat/end';
  var UPDATES_URL = '/webchat/updates';
  var POLL_MS = 3000;  // how often an open page asks for messages from the team
  var MAX_LEN = 2000;
  var TIMEOUT_MS = 30000;
  var ESC_WINDOW_MS = 1000;
  var RTL_LANGS = ['ar', 'fa', 'he', 'iw', 'ur', 'ps', 'yi', 'ckb', 'dv', 'sd', 'ug'];
  var RETRY_LABEL = 'Message not sent \u2014 tap to retry';

  var els = {};
  var state = {
    session: null,
    pending: false,
    controller: null,   // AbortController of the request in flight
    history: [],        // [{from: 'user'|'bot', text}] - memory only
    failed: [],         // user messages whose delivery failed
    exiting: false,
    lastEscape: 0,
    restored: false     // the tab had a session already (reloaded): the team may have written
  };

  /* ---------- session ---------- */

  function newSessionId() {
    var bytes = new Uint8Array(16); // 128 bits
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return b.toString(16).padStart(2, '0');
    }).join('');
  }

  function readStoredSession() {
    try {
      var v = window.sessionStorage.getItem(SESSION_KEY);
      return (v && /^[0-9a-f]{32}$/.test(v)) ? v : null;
    } catch (e) {
      return null;
    }
  }

  function getSession() {
    if (!state.session) {
      state.session = readStoredSession() || newSessionId();
      try {
        window.sessionStorage.setItem(SESSION_KEY, state.session);
      } catch (e) { /* storage unavailable: keep it in memory */ }
    }
    return state.session;
  }

  /* ---------- language / direction ---------- */

  function setLanguage(lang) {
    if (typeof lang !== 'string') return;
    var code = lang.trim().replace(/_/g, '-');
    if (!/^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/.test(code)) return;
    var base = code.split('-')[0].toLowerCase();
    var root = document.documentElement;
    root.setAttribute('lang', code);
    root.setAttribute('dir', RTL_LANGS.indexOf(base) !== -1 ? 'rtl' : 'ltr');
  }

  /* ---------- rendering ---------- */

  function scrollToBottom() {
    els.scroller.scrollTop = els.scroller.scrollHeight;
  }

  function disableOlderChoices() {
    var buttons = els.messages.querySelectorAll('button.choice');
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].disabled = true;
    }
  }

  function appendUser(text) {
    disableOlderChoices();
    els.hint.hidden = true;
    var el = document.createElement('div');
    el.className = 'msg user';
    el.setAttribute('dir', 'auto');
    el.textContent = text;
    els.messages.appendChild(el);
    state.history.push({ from: 'user', text: text });
    scrollToBottom();
    return el;
  }

  function appendBot(msg) {
    var text = (msg && msg.text != null) ? String(msg.text) : '';
    var buttons = (msg && Array.isArray(msg.buttons)) ? msg.buttons : [];
    if (!text && !buttons.length) return;

    var el = document.createElement('div');
    el.className = msg.from === 'operator' ? 'msg bot operator' : 'msg bot';
    el.setAttribute('dir', 'auto');

    if (msg.from === 'operator' && msg.label) {
      var label = document.createElement('div');
      label.className = 'msg-label';
      label.setAttribute('dir', 'auto');
      label.textContent = String(msg.label);
      el.appendChild(label);
    }
    if (text) {
      var body = document.createElement('div');
      body.className = 'msg-text';
      body.setAttribute('dir', 'auto');
      body.textContent = text;
      el.appendChild(body);
    }

    var group = null;
    buttons.forEach(function (b) {
      if (!b || b.title == null) return;
      var title = String(b.title);
      if (!title.trim()) return;
      var payload = (b.payload != null && String(b.payload) !== '') ? String(b.payload) : title;
      if (!group) {
        group = document.createElement('div');
        group.className = 'choices';
        group.setAttribute('role', 'group');
      }
      var btn = document.createElement('button');
      btn.type = 'button';
      btn.className = 'choice';
      btn.setAttribute('dir', 'auto');
      btn.textContent = title;
      btn.addEventListener('click', function (ev) {
        onChoice(btn, title, payload, ev);
      });
      group.appendChild(btn);
    });
    if (group) el.appendChild(group);

    els.messages.appendChild(el);
    state.history.push({ from: 'bot', text: text });
  }

  function setBusy(busy) {
    state.pending = busy;
    els.send.disabled = busy;
    els.typing.hidden = !busy;
    var retries = els.messages.querySelectorAll('button.retry');
    for (var i = 0; i < retries.length; i++) {
      retries[i].disabled = busy;
    }
    if (busy) scrollToBottom();
  }

  function removeFailed(item) {
    var i = state.failed.indexOf(item);
    if (i !== -1) state.failed.splice(i, 1);
    if (item.notice && item.notice.parentNode) {
      item.notice.parentNode.removeChild(item.notice);
    }
    item.notice = null;
    item.el.classList.remove('failed');
  }

  function showFailure(item) {
    item.el.classList.add('failed');
    if (!item.notice) {
      var notice = document.createElement('div');
      notice.className = 'notice';
      var btn = document.createElement('button');
      btn.type = 'button';
      btn.className = 'retry';
      btn.textContent = RETRY_LABEL;
      btn.addEventListener('click', function () { retry(item); });
      notice.appendChild(btn);
      if (item.el.nextSibling) {
        els.messages.insertBefore(notice, item.el.nextSibling);
      } else {
        els.messages.appendChild(notice);
      }
      item.notice = notice;
    }
    if (state.failed.indexOf(item) === -1) state.failed.push(item);
    // Never lose what the person typed: put it back if the box is empty.
    if (item.typed && !els.input.value) {
      els.input.value = item.text;
    }
    scrollToBottom();
  }

  /* ---------- network ---------- */

  function postMessage(text) {
    var controller = (typeof AbortController === 'function') ? new AbortController() : null;
    state.controller = controller;
    var timer = controller ? setTimeout(function () { controller.abort(); }, TIMEOUT_MS) : null;
    var opts = {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Accept': 'application/json' },
      body: JSON.stringify({ session: getSession(), text: text }),
      credentials: 'same-origin',
      cache: 'no-store'
    };
    if (controller) opts.signal = controller.signal;

    return fetch(MESSAGES_URL, opts).then(function (res) {
      if (res.ok) return res.json();
      // The server may explain the failure (e.g. the emergency number while the bot is down):
      // show that, but still treat the message as not delivered so it can be retried.
      return res.json().catch(function () { return null; }).then(function (body) {
        if (body && Array.isArray(body.messages) && body.messages.length) {
          handleReply(body);
        }
        throw new Error('HTTP ' + res.status);
      });
    }).then(function (data) {
      if (!data || typeof data !== 'object') throw new Error('Bad response');
      return data;
    }).then(function (data) {
      if (timer) clearTimeout(timer);
      state.controller = null;
      return data;
    }, function (err) {
      if (timer) clearTimeout(timer);
      state.controller = null;
      throw err;
    });
  }

  function handleReply(data) {
    setLanguage(data.language);
    var list = Array.isArray(data.messages) ? data.messages : [];
    list.forEach(appendBot);
    scrollToBottom();
  }

  async function deliver(item) {
    if (state.pending || state.exiting) return;
    setBusy(true);
    try {
      var data = await postMessage(item.text);
      if (state.exiting) return;
      removeFailed(item);
      handleReply(data);
    } catch (e) {
      if (state.exiting) return;
      showFailure(item);
    } finally {
      if (!state.exiting) setBusy(false);
    }
  }

  /* ---------- messages from the team (relay mode) ---------- */

  function schedulePoll() {
    if (!state.exiting) setTimeout(pollUpdates, POLL_MS);
  }

  function pollUpdates() {
    var active = state.session && (state.history.length || state.restored);
    if (state.exiting || !active || document.visibilityState === 'hidden') {
      schedulePoll();
      return;
    }
    fetch(UPDATES_URL, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Accept': 'application/json' },
      body: JSON.stringify({ session: state.session }),
      credentials: 'same-origin',
      cache: 'no-store'
    }).then(function (res) {
      return res.ok ? res.json() : null;
    }).then(function (data) {
      if (state.exiting || !data || !Array.isArray(data.messages) || !data.messages.length) return;
      data.messages.forEach(appendBot);
      scrollToBottom();
    }).catch(function () { /* offline for a moment: the messages wait on the server */ })
      .then(schedulePoll);
  }

  /* ---------- user actions ---------- */

  function retry(item) {
    if (state.pending || state.exiting) return;
    if (item.notice && item.notice.parentNode) {
      item.notice.parentNode.removeChild(item.notice);
    }
    item.notice = null;
    // If the text was put back into the box, it is being sent now.
    if (item.typed && els.input.value === item.text) {
      els.input.value = '';
    }
    // Keep the conversation in order: a retried message moves to the end.
    if (item.el !== els.messages.lastElementChild) {
      disableOlderChoices();
      els.messages.appendChild(item.el);
    }
    deliver(item);
  }

  function startMessage(display, text, typed) {
    var el = appendUser(display);
    return deliver({ el: el, text: text, typed: typed, notice: null });
  }

  function onSubmit() {
    if (state.pending || state.exiting) return;
    var text = els.input.value.slice(0, MAX_LEN).trim();
    if (!text) return; // show nothing for empty / whitespace-only input

    // Same text as a message that failed? Retry that one instead of duplicating it.
    for (var i = state.failed.length - 1; i >= 0; i--) {
      if (state.failed[i].typed && state.failed[i].text === text) {
        els.input.value = '';
        retry(state.failed[i]);
        return;
      }
    }
    els.input.value = '';
    startMessage(text, text, true);
  }

  function onChoice(btn, title, payload, ev) {
    if (btn.disabled || state.pending || state.exiting) return;
    btn.classList.add('chosen');
    var keyboard = ev && ev.detail === 0;
    startMessage(title, payload, false);
    // The tapped button is now disabled; keep keyboard users somewhere useful.
    if (keyboard) {
      try { els.input.focus({ preventScroll: true }); } catch (e) { els.input.focus(); }
    }
  }

  /* ---------- quick exit ---------- */

  function exitUrl() {
    var meta = document.querySelector('meta[name="quick-exit-url"]');
    var raw = meta ? (meta.getAttribute('content') || '').trim() : '';
    if (raw) {
      try {
        var u = new URL(raw, window.location.href);
        if (u.protocol === 'https:' || u.protocol === 'http:') return u.href;
      } catch (e) { /* fall through */ }
    }
    return DEFAULT_EXIT_URL;
  }

  function endConversation(session) {
    if (!session) return;
    var body = JSON.stringify({ session: session });
    var sent = false;
    try {
      if (navigator.sendBeacon) {
        sent = navigator.sendBeacon(END_URL, new Blob([body], { type: 'application/json' }));
      }
    } catch (e) {
      sent = false;
    }
    if (!sent) {
      try {
        fetch(END_URL, {
          method: 'POST',
          keepalive: true,
          headers: { 'Content-Type': 'application/json' },
          body: body,
          credentials: 'same-origin'
        }).catch(function () {});
      } catch (e) { /* nothing else we can do */ }
    }
  }

  function clearEverything() {
    document.documentElement.classList.add('exiting');
    if (state.controller) {
      try { state.controller.abort(); } catch (e) { /* ignore */ }
    }
    if (els.messages) els.messages.textContent = '';
    if (els.input) els.input.value = '';
    if (els.typing) els.typing.hidden = true;
    state.history.length = 0;
    state.failed.length = 0;
    state.session = null;
    try { window.sessionStorage.clear(); } catch (e) { /* ignore */ }
    try { window.localStorage.clear(); } catch (e) { /* ignore */ }
  }

  function quickExit() {
    var url = exitUrl();
    if (!state.exiting) {
      state.exiting = true;
      endConversation(state.session || readStoredSession());
      clearEverything();
    }
    window.location.replace(url);
  }

  function onKeyDown(ev) {
    if (ev.key !== 'Escape' && ev.key !== 'Esc') return;
    var now = Date.now();
    if (state.lastEscape && now - state.lastEscape <= ESC_WINDOW_MS) {
      state.lastEscape = 0;
      ev.preventDefault();
      quickExit();
    } else {
      state.lastEscape = now;
    }
  }

  /* ---------- start ---------- */

  function init() {
    els.messages = document.getElementById('messages');
    els.scroller = document.getElementById('scroller') || els.messages;
    els.input = document.getElementById('message-input');
    els.send = document.getElementById('send');
    els.form = document.getElementById('composer');
    els.hint = document.getElementById('hint') || document.createElement('p');
    els.typing = document.getElementById('typing') || document.createElement('div');
    els.exit = document.getElementById('quick-exit');

    // Quick exit first, so it works even if anything else goes wrong.
    document.addEventListener('keydown', onKeyDown, true);
    if (els.exit) els.exit.addEventListener('click', quickExit);

    // If the browser ever restores this page from its cache after an exit, leave again.
    window.addEventListener('pageshow', function (ev) {
      if (ev.persisted && state.exiting) quickExit();
    });

    state.restored = !!readStoredSession();
    getSession();
    schedulePoll();

    els.form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      onSubmit();
    });
    els.input.addEventListener('keydown', function (ev) {
      if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing && ev.keyCode !== 229) {
        ev.preventDefault();
        onSubmit();
      }
    });
    els.send.addEventListener('click', function () {
      // Keep the keyboard open on phones after tapping Send.
      try { els.input.focus({ preventScroll: true }); } catch (e) { els.input.focus(); }
    });

    els.send.disabled = false;
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
})();
