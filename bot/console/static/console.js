/* Safeline console: live updates over server-sent events. No inline code, no eval, no innerHTML:
 * on an event the page fetches itself and swaps in the fresh [data-live] sections (parsed with
 * DOMParser, which runs no scripts). Forms are plain HTML posts, so the console works without it. */
(function () {
  'use strict';

  var REFRESH_DELAY_MS = 250;
  // Events come from the app's own process; with a separate worker process (Telegram/SMS relay)
  // a slow periodic refresh catches what it changed.
  var FALLBACK_REFRESH_MS = 20000;
  var timer = null;

  function liveSections() {
    return Array.prototype.slice.call(document.querySelectorAll('[data-live][id]'));
  }

  function refresh() {
    timer = null;
    fetch(window.location.href, {
      credentials: 'same-origin', cache: 'no-store', headers: { 'X-Console-Refresh': '1' }
    }).then(function (res) {
      if (res.redirected || !res.ok) return null;
      return res.text();
    }).then(function (html) {
      if (!html) return;
      var fresh = new DOMParser().parseFromString(html, 'text/html');
      liveSections().forEach(function (section) {
        var next = fresh.getElementById(section.id);
        if (next) section.replaceWith(document.importNode(next, true));
      });
    }).catch(function () { /* the next event tries again */ });
  }

  function schedule() {
    if (!timer) timer = setTimeout(refresh, REFRESH_DELAY_MS);
  }

  function start() {
    if (!liveSections().length || typeof window.EventSource !== 'function') return;
    var page = document.body.getAttribute('data-page');
    var caseId = document.body.getAttribute('data-case');
    var source = new EventSource('/console/events');
    source.addEventListener('update', function (ev) {
      var data;
      try { data = JSON.parse(ev.data); } catch (e) { return; }
      if (page === 'queue' && data.kind === 'queue') schedule();
      if (page === 'case' && data.kind === 'case' && data.case === caseId) schedule();
    });
    setInterval(function () {
      if (document.visibilityState === 'visible') schedule();
    }, FALLBACK_REFRESH_MS);
  }

  // Closing deletes the conversation: ask once before the form goes.
  function confirmations() {
    var forms = document.querySelectorAll('form.close-form');
    Array.prototype.forEach.call(forms, function (form) {
      form.addEventListener('submit', function (ev) {
        if (!window.confirm('Close this case? Its conversation will be deleted.')) ev.preventDefault();
      });
    });
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', function () { start(); confirmations(); });
  } else {
    start();
    confirmations();
  }
})();
