/* Moth capture widget: records console, errors, requests and actions from the moment it loads,
   and files a bug report to Moth on request. One classic script; no dependencies, no build step.
   Works under a strict CSP: styles only through a constructable stylesheet in a shadow root. */
(function () {
  'use strict';
  var W = window, D = document, C = W.console;
  if (W.Moth && W.Moth.version) return;

  var me = D.currentScript;
  if (!me) {
    var all = D.getElementsByTagName('script');
    for (var i = all.length - 1; i >= 0 && !me; i--) if (/\/widget\.js(?:[?#]|$)/.test(all[i].src)) me = all[i];
  }
  var KEY = (me && me.getAttribute('data-moth-key')) || '';
  var ORIGIN = me && me.src ? new URL(me.src, location.href).origin : location.origin;
  var ENDPOINT = ORIGIN + '/api/v1/intake/' + encodeURIComponent(KEY);
  var MAX_TEXT = 4000;

  function ring(max) { var a = []; a.max = max; return a; }
  var buf = { console: ring(200), errors: ring(50), network: ring(100), actions: ring(100) };
  function push(list, item) {
    item.timestamp = new Date().toISOString();
    list.push(item);
    if (list.length > list.max) list.shift();
    return item;
  }
  var ctx = { custom: {} };
  var user = {};

  // Redaction: secrets never leave the browser (the server redacts again; it trusts no one).
  function luhn(d) {
    var sum = 0;
    for (var i = 0; i < d.length; i++) {
      var n = +d[d.length - 1 - i];
      if (i % 2) { n *= 2; if (n > 9) n -= 9; }
      sum += n;
    }
    return sum % 10 === 0;
  }
  function redact(s) {
    if (typeof s !== 'string') return s;
    return s
      .replace(/([?&#;][\w.-]*(?:token|key|secret|password|passwd|pwd|session|auth|sig|signature|code)(?:[_-]\w*)?=)[^&#\s"'<>]+/gi, '$1[redacted]')
      .replace(/\beyJ[\w-]{4,}\.eyJ[\w-]{4,}\.[\w-]*/g, '[redacted]')
      .replace(/\b((?:proxy-)?authorization|(?:set-)?cookie|x-api-key|x-auth-token)(["']?\s*[:=]\s*)("[^"]*"|'[^']*'|[^\r\n]+)/gi, function (m, name, sep, v) {
        var q = v[0] === '"' || v[0] === "'" ? v[0] : '';
        return name + sep + q + '[redacted]' + q;
      })
      .replace(/\b(bearer|basic)\s+[\w.~+\/=-]{8,}/gi, '$1 [redacted]')
      .replace(/\b\d(?:[ -]?\d){12,18}\b/g, function (m) { return luhn(m.replace(/\D/g, '')) ? '[redacted]' : m; });
  }
  function clip(s) {
    return s.length > MAX_TEXT ? s.slice(0, MAX_TEXT) + '… [' + (s.length - MAX_TEXT) + ' more characters cut by the widget]' : s;
  }
  function clean(v) {
    if (typeof v === 'string') return clip(redact(v));
    if (Array.isArray(v)) return v.map(clean);
    if (v && typeof v === 'object') {
      var o = {};
      for (var k in v) if (Object.prototype.hasOwnProperty.call(v, k) && v[k] !== undefined) o[k] = clean(v[k]);
      return o;
    }
    return v;
  }

  // Describing things: DOM nodes as short tags, anything else safely as text.
  function text(el) {
    var t = el.getAttribute('aria-label') || (el.tagName === 'INPUT' && /^(button|submit|reset)$/i.test(el.type) ? el.value : '') ||
      (/^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName) ? el.getAttribute('placeholder') || '' : el.innerText || el.textContent || '') || el.title || el.alt || '';
    t = String(t).replace(/\s+/g, ' ').trim();
    return t.length > 40 ? t.slice(0, 40) + '…' : t;
  }
  function tag(el) {
    if (!el || el.nodeType !== 1) return el && el.nodeName ? el.nodeName.toLowerCase() : String(el);
    var s = el.tagName.toLowerCase();
    if (el.id) s += '#' + el.id;
    else if (el.getAttribute('name')) s += '[name=' + el.getAttribute('name') + ']';
    else if (typeof el.className === 'string' && el.className.trim()) s += '.' + el.className.trim().split(/\s+/).slice(0, 2).join('.');
    return s;
  }
  function describe(el) {
    var t = el.nodeType === 1 ? text(el) : '';
    return tag(el) + (t ? ' "' + t + '"' : '');
  }
  function show(v) {
    if (typeof v === 'string') return v;
    if (v instanceof Error) return String(v);
    if (v === undefined || typeof v === 'number' || typeof v === 'boolean' || typeof v === 'symbol') return String(v);
    if (typeof v === 'bigint') return v + 'n';
    if (typeof v === 'function') return 'function ' + (v.name || '(anonymous)') + '()';
    if (v && typeof v.nodeType === 'number') return '<' + tag(v) + '>';
    var seen = [];
    try {
      return clip(JSON.stringify(v, function (k, x) {
        if (x instanceof Error) return String(x);
        if (typeof x === 'function') return '[function]';
        if (typeof x === 'bigint') return x + 'n';
        if (x && typeof x === 'object') {
          if (typeof x.nodeType === 'number') return '<' + tag(x) + '>';
          if (seen.indexOf(x) >= 0) return '[circular]';
          if (seen.length > 500) return '[…]';
          seen.push(x);
        }
        return x;
      }) || String(v));
    } catch (e) {
      return Object.prototype.toString.call(v);
    }
  }

  // Console calls of every level; the originals are always called.
  var busy = false;
  ['log', 'info', 'warn', 'error', 'debug'].forEach(function (level) {
    var orig = C && C[level];
    if (typeof orig !== 'function') return;
    C[level] = function () {
      if (!busy) {
        busy = true;
        try {
          var parts = [], stack;
          for (var i = 0; i < arguments.length; i++) {
            parts.push(show(arguments[i]));
            if (!stack && arguments[i] instanceof Error) stack = arguments[i].stack;
          }
          push(buf.console, { level: level, message: clip(parts.join(' ')), stack: stack });
        } catch (e) { /* a broken argument must not break the page */ }
        busy = false;
      }
      return orig.apply(this, arguments);
    };
  });

  // Uncaught errors, failed resource loads (capture phase) and unhandled rejections.
  W.addEventListener('error', function (e) {
    var t = e.target;
    if (t && t !== W && t.nodeType === 1) {
      push(buf.errors, { message: 'Failed to load ' + tag(t) + ' ' + (t.src || t.href || ''), source: t.src || t.href });
    } else {
      push(buf.errors, { message: e.message, source: e.filename, line: e.lineno, column: e.colno, stack: e.error && e.error.stack });
    }
  }, true);
  W.addEventListener('unhandledrejection', function (e) {
    var r = e.reason;
    push(buf.errors, { message: 'Unhandled rejection: ' + show(r), stack: r && r.stack });
  });

  // Network: fetch and XMLHttpRequest, without bodies. The widget's own report uses the
  // original fetch, so it is never recorded.
  function abs(u) { try { return new URL(String(u), location.href).href; } catch (e) { return String(u); } }
  function done(entry, t0, status, error) {
    entry.duration_ms = Math.round(performance.now() - t0);
    entry.status = status || null;
    if (error || !status || status >= 400) entry.failed = true;
    if (error) entry.error = error;
  }
  var realFetch = W.fetch;
  if (realFetch) {
    W.fetch = function (input, init) {
      var p = realFetch.apply(this, arguments);
      try {
        var req = typeof Request !== 'undefined' && input instanceof Request ? input : null;
        var entry = push(buf.network, {
          method: String((init && init.method) || (req && req.method) || 'GET').toUpperCase(),
          url: abs(req ? req.url : input)
        }), t0 = performance.now();
        p.then(function (r) { done(entry, t0, r.status); }, function (err) { done(entry, t0, 0, String((err && err.message) || err)); });
      } catch (e) { /* never break the page's request */ }
      return p;
    };
  }
  var XP = W.XMLHttpRequest && XMLHttpRequest.prototype;
  if (XP) {
    var open = XP.open, send = XP.send, xhrs = new WeakMap();
    XP.open = function (method, url) {
      xhrs.set(this, { method: String(method).toUpperCase(), url: abs(url) });
      return open.apply(this, arguments);
    };
    XP.send = function () {
      var x = this, info = xhrs.get(x);
      if (info) {
        var entry = push(buf.network, { method: info.method, url: info.url }), t0 = performance.now();
        x.addEventListener('loadend', function () { done(entry, t0, x.status, x.status ? '' : 'network error, timeout or aborted'); });
      }
      return send.apply(this, arguments);
    };
  }

  // User actions: clicks, typing (never the value), Enter/Escape, navigations.
  var host;
  function mine(e) { return host && e.target === host; }
  D.addEventListener('click', function (e) {
    if (mine(e) || !e.target || e.target.nodeType !== 1) return;
    var el = e.target.closest('a,button,input,select,textarea,label,summary,[role=button],[role=link],[role=tab],[role=menuitem]') || e.target;
    push(buf.actions, { kind: 'click', target: describe(el) });
  }, true);
  D.addEventListener('input', function (e) {
    if (mine(e) || !e.target || e.target.nodeType !== 1) return;
    var target = tag(e.target), last = buf.actions[buf.actions.length - 1];
    if (last && last.kind === 'input' && last.target === target) last.timestamp = new Date().toISOString();
    else push(buf.actions, { kind: 'input', target: target });
  }, true);
  D.addEventListener('keydown', function (e) {
    if (mine(e) || (e.key !== 'Enter' && e.key !== 'Escape')) return;
    push(buf.actions, { kind: 'key', key: e.key, target: e.target && e.target.nodeType === 1 ? tag(e.target) : 'the page' });
  }, true);
  function navigated() { push(buf.actions, { kind: 'navigate', url: location.href }); }
  ['pushState', 'replaceState'].forEach(function (name) {
    var orig = history[name];
    if (typeof orig !== 'function') return;
    history[name] = function () {
      var before = location.href, r = orig.apply(this, arguments);
      if (location.href !== before) navigated();
      return r;
    };
  });
  W.addEventListener('popstate', navigated);
  W.addEventListener('hashchange', navigated);

  // The environment, from the user agent (client hints are not everywhere yet).
  function match(list, ua) {
    for (var i = 0; i < list.length; i++) {
      var m = ua.match(list[i][1]);
      if (m) return { name: list[i][0], version: (m[1] || '').replace(/_/g, '.') };
    }
    return { name: 'unknown', version: '' };
  }
  function environment() {
    var ua = navigator.userAgent;
    return {
      user_agent: ua,
      browser: match([['Edge', /Edg(?:e|A|iOS)?\/([\d.]+)/], ['Opera', /OPR\/([\d.]+)/], ['Samsung Internet', /SamsungBrowser\/([\d.]+)/],
        ['Firefox', /(?:Firefox|FxiOS)\/([\d.]+)/], ['Chrome', /(?:Chrome|Chromium|CriOS)\/([\d.]+)/], ['Safari', /Version\/([\d.]+).*Safari/]], ua),
      os: match([['Windows', /Windows NT ([\d.]+)/], ['Android', /Android ([\d.]+)/], ['iOS', /(?:iPhone|iPad|iPod).*? OS ([\d_]+)/],
        ['macOS', /Mac OS X ([\d_.]+)/], ['ChromeOS', /CrOS \S+ ([\d.]+)/], ['Linux', /Linux/]], ua),
      device: /Mobi|iPhone|iPod/.test(ua) ? 'mobile' : /iPad|Tablet|Android/.test(ua) ? 'tablet' : 'desktop',
      viewport: { width: W.innerWidth, height: W.innerHeight, device_pixel_ratio: W.devicePixelRatio || 1 },
      locale: navigator.language,
      timezone: (function () { try { return Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return undefined; } })()
    };
  }

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

  var root, button, sheets = [];
  function mount() {
    if (host) return true;
    if (!D.body) return false;
    host = el('div', { 'data-moth-widget': '' });
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
    return realFetch.call(W, item.endpoint, { method: 'POST', body: body, mode: 'cors', credentials: 'omit' }).then(function (r) {
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
              if (r.status === 201) sent++;
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
    buf: buf, ctx: ctx, user: function () { return user; }, environment: environment, clean: clean, redact: redact,
    describe: describe, tag: tag, el: el, style: style, send: sendReport, mount: mount, ORIGIN: ORIGIN,
    fetch: function (u, o) { return realFetch.call(W, u, o); }
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
