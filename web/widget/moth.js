/* Moth capture widget: records console, errors, requests and actions from the moment it loads
   (with the recorder the server puts in front of this file), and files a bug report to Moth on
   request. One classic script; no dependencies, no build step.
   Works under a strict CSP: styles only through a constructable stylesheet in a shadow root. */
(function () {
  'use strict';
  var W = window, D = document;
  if (W.Moth && W.Moth.version) return;

  var me = D.currentScript;
  if (!me) {
    var all = D.getElementsByTagName('script');
    for (var i = all.length - 1; i >= 0 && !me; i--) if (/\/widget\.js(?:[?#]|$)/.test(all[i].src)) me = all[i];
  }
  var KEY = (me && me.getAttribute('data-moth-key')) || '';
  var ORIGIN = me && me.src ? new URL(me.src, location.href).origin : location.origin;
  var ENDPOINT = ORIGIN + '/api/v1/intake/' + encodeURIComponent(KEY);
  // The recorder (extension/recorder.js) is embedded before this file in /widget.js.
  var R = mothRecorder(W), buf = R.buf;
  var ctx = { custom: {} };
  var user = {};

  // The button, in a shadow root styled by a constructable stylesheet only (no inline styles,
  // so a strict CSP is fine). The form, screenshot and editor load on demand from capture.js.
  var CSS = ':host{all:initial}:host([hidden]){display:none}*{box-sizing:border-box;font:14px/1.4 system-ui,sans-serif;color:#1d1d1f}' +
    '.open{position:fixed;right:16px;bottom:16px;z-index:2147483647;padding:8px 14px;border:0;border-radius:18px;background:#3b3363;color:#fff;cursor:pointer;box-shadow:0 2px 8px #0004}' +
    '.open:focus-visible{outline:2px solid #7a6ff0;outline-offset:2px}[hidden]{display:none}';
  var OPT = function (name, fallback) { return (me && me.getAttribute('data-moth-' + name)) || fallback; };

  function el(name, props, kids) {
    var n = D.createElement(name);
    for (var k in props || {}) {
      if (k === 'text') n.textContent = props[k];
      else if (k.slice(0, 2) === 'on') n.addEventListener(k.slice(2), props[k]);
      else if (k in n && k !== 'list') n[k] = props[k];
      else n.setAttribute(k, props[k]);
    }
    (kids || []).forEach(function (c) { if (c) n.appendChild(c); });
    return n;
  }

  var root, button, host, sheets = [];
  function mount() {
    if (host) return true;
    if (!D.body) return false;
    host = R.host = el('div', { 'data-moth-widget': '' });
    root = host.attachShadow({ mode: 'open' });
    I.root = root;
    I.host = host;
    style(CSS + (OPT('color', '') ? '.open{background:' + OPT('color').replace(/[^#\w(),.% -]/g, '') + '}' : '') +
      (OPT('position', '') === 'bottom-left' ? '.open{right:auto;left:16px}' : ''));
    button = el('button', { type: 'button', className: 'open', text: OPT('label', 'Report a problem'), onclick: openForm,
      onmouseenter: preload, onfocus: preload, hidden: OPT('button', '') === 'off' });
    I.button = button;
    root.appendChild(button);
    D.body.appendChild(host);
    return true;
  }
  // Adds a constructable stylesheet to the shadow root (capture.js adds its own the same way).
  function style(css) {
    if (!W.CSSStyleSheet || !('adoptedStyleSheets' in D)) return;
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    sheets.push(sheet);
    if (root) root.adoptedStyleSheets = sheets.slice();
  }

  // The on-demand part: a script element with Moth's origin, so `script-src <moth>` allows it.
  var loading;
  function load() {
    if (loading) return loading;
    loading = new Promise(function (ok, fail) {
      var s = el('script', { src: ORIGIN + '/widget/capture.js', async: true, onerror: function () { loading = null; fail(new Error('could not load ' + s.src)); } });
      I.loaded = ok;
      (D.head || D.documentElement).appendChild(s);
    });
    return loading;
  }
  function preload() { load().catch(function () {}); }
  function openForm() {
    if (!mount()) return;
    load().then(function (capture) { capture.open(); }, function (e) {
      button.textContent = 'Report form unavailable';
      button.title = String(e.message);
    });
  }

  // Sending, and the outbox: a report that could not be sent (no network, or Moth answered 5xx)
  // waits in IndexedDB and goes out when the browser is online again or on the next page load.
  // A 4xx answer will never succeed, so it is shown (or dropped from the outbox), not retried.
  function post(item) {
    var body = new FormData();
    body.append('report', new Blob([item.report], { type: 'application/json' }), 'report.json');
    if (item.shot) body.append('screenshot', item.shot, 'screenshot.' + item.shot.type.split('/')[1]);
    return R.fetch(item.endpoint, { method: 'POST', body: body, mode: 'cors', credentials: 'omit' }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (answer) {
        return { status: r.status, answer: answer, retry: r.status >= 500 || r.status === 429 || r.status === 408 };
      });
    }, function (e) {
      return { status: 0, answer: {}, retry: true, error: String((e && e.message) || e) };
    });
  }
  function outbox(mode, work) {
    return new Promise(function (ok, fail) {
      if (!W.indexedDB) return fail(new Error('no IndexedDB'));
      var req = indexedDB.open('moth-outbox', 1);
      req.onupgradeneeded = function () { req.result.createObjectStore('reports', { autoIncrement: true }); };
      req.onerror = function () { fail(req.error); };
      req.onsuccess = function () {
        var db = req.result, tx = db.transaction('reports', mode), result;
        work(tx.objectStore('reports'), function (r) { result = r; });
        tx.oncomplete = function () { db.close(); ok(result); };
        tx.onerror = tx.onabort = function () { db.close(); fail(tx.error); };
      };
    });
  }
  function sendReport(report, shot) {
    // Kept in the outbox with the report: a resend after a lost answer is recognised by it.
    report.idempotency_key = report.idempotency_key || mothRecorder.reportId();
    var item = { endpoint: ENDPOINT, report: JSON.stringify(report), shot: shot || null, at: new Date().toISOString() };
    return post(item).then(function (r) {
      if (!r.retry) return r;
      return outbox('readwrite', function (store) { store.add(item); }).then(function () {
        r.queued = true;
        return r;
      }, function () { return r; });
    });
  }
  var flushing;
  function flush() {
    if (flushing) return flushing;
    var run = function () {
      return outbox('readonly', function (store, set) {
        var items = [];
        store.openCursor().onsuccess = function (e) {
          var c = e.target.result;
          if (c) { items.push([c.key, c.value]); c.continue(); } else set(items);
        };
      }).then(function (items) {
        var sent = 0;
        return items.reduce(function (p, kv) {
          return p.then(function (go) {
            if (!go) return false;
            return post(kv[1]).then(function (r) {
              if (r.retry) return false;
              // 200: Moth had it already (its first answer was lost).
              if (r.status === 201 || r.status === 200) sent++;
              return outbox('readwrite', function (store) { store.delete(kv[0]); }).then(function () { return true; });
            });
          });
        }, Promise.resolve(true)).then(function () { return sent; });
      });
    };
    // One tab at a time sends the outbox, so a report is not sent twice.
    var locked = navigator.locks ? navigator.locks.request('moth-outbox', run) : run();
    flushing = locked.catch(function () { return 0; }).then(function (n) { flushing = null; return n; });
    return flushing;
  }
  W.addEventListener('online', flush);

  // What capture.js needs from the loader.
  var I = {
    buf: buf, ctx: ctx, user: function () { return user; }, environment: R.environment, clean: mothRecorder.clean, redact: mothRecorder.redact,
    describe: mothRecorder.describe, tag: mothRecorder.tag, el: el, style: style, send: sendReport, mount: mount, ORIGIN: ORIGIN,
    fetch: R.fetch
  };

  var queued = W.Moth && W.Moth.q;
  W.Moth = {
    version: '0.2',
    open: openForm,
    close: function () { if (I.close) I.close(); },
    setUser: function (u) {
      u = u || {};
      user = { id: u.id, email: u.email, name: u.name };
    },
    setContext: function (c) {
      for (var k in c || {}) {
        if (k === 'app_version' || k === 'build') ctx[k] = c[k] == null ? undefined : String(c[k]);
        else ctx.custom[k] = c[k];
      }
    },
    flush: flush,
    _i: I
  };
  // Calls made through the pre-load stub (`Moth.q`), in the order they were made.
  (queued || []).forEach(function (call) {
    var f = W.Moth[call[0]];
    if (typeof f === 'function') f.apply(W.Moth, call[1]);
  });
  function start() {
    mount();
    flush();
  }
  if (!mount()) D.addEventListener('DOMContentLoaded', start);
  else if (D.readyState === 'complete') flush();
  else W.addEventListener('load', flush);
})();
