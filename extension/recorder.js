/* Moth recorder: keeps the last console calls, errors, requests and user actions of a page, and
   redacts secrets before anything leaves it. One file serves both capture paths: the server
   embeds it in /widget.js, and the extension registers it in the page's main world at document
   start. It lives in extension/ because an unpacked extension may only load its own files,
   while the server can embed a file from anywhere.
   `mothRecorder(window)` starts recording and answers {buf, fetch, environment, host};
   `mothRecorder.clean/redact/tag/describe/environment` record nothing. */
var mothRecorder = (function () {
  'use strict';
  var MAX_TEXT = 4000;

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

  // The environment, from the user agent (client hints are not everywhere yet).
  function match(list, ua) {
    for (var i = 0; i < list.length; i++) {
      var m = ua.match(list[i][1]);
      if (m) return { name: list[i][0], version: (m[1] || '').replace(/_/g, '.') };
    }
    return { name: 'unknown', version: '' };
  }
  function environment(W) {
    var ua = W.navigator.userAgent;
    return {
      user_agent: ua,
      browser: match([['Edge', /Edg(?:e|A|iOS)?\/([\d.]+)/], ['Opera', /OPR\/([\d.]+)/], ['Samsung Internet', /SamsungBrowser\/([\d.]+)/],
        ['Firefox', /(?:Firefox|FxiOS)\/([\d.]+)/], ['Chrome', /(?:Chrome|Chromium|CriOS)\/([\d.]+)/], ['Safari', /Version\/([\d.]+).*Safari/]], ua),
      os: match([['Windows', /Windows NT ([\d.]+)/], ['Android', /Android ([\d.]+)/], ['iOS', /(?:iPhone|iPad|iPod).*? OS ([\d_]+)/],
        ['macOS', /Mac OS X ([\d_.]+)/], ['ChromeOS', /CrOS \S+ ([\d.]+)/], ['Linux', /Linux/]], ua),
      device: /Mobi|iPhone|iPod/.test(ua) ? 'mobile' : /iPad|Tablet|Android/.test(ua) ? 'tablet' : 'desktop',
      viewport: { width: W.innerWidth, height: W.innerHeight, device_pixel_ratio: W.devicePixelRatio || 1 },
      locale: W.navigator.language,
      timezone: (function () { try { return Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return undefined; } })()
    };
  }

  function record(W) {
    var D = W.document, C = W.console;
    function ring(max) { var a = []; a.max = max; return a; }
    var buf = { console: ring(200), errors: ring(50), network: ring(100), actions: ring(100) };
    function push(list, item) {
      item.timestamp = new Date().toISOString();
      list.push(item);
      if (list.length > list.max) list.shift();
      return item;
    }
    // `host`: the reporter's own element (the widget's button and form), whose events are not the page's.
    var rec = { buf: buf, host: null, environment: function () { return environment(W); } };

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

    // Network: fetch and XMLHttpRequest, without bodies. The reporter's own request uses the
    // original fetch (`rec.fetch`), so it is never recorded.
    function abs(u) { try { return new URL(String(u), W.location.href).href; } catch (e) { return String(u); } }
    function done(entry, t0, status, error) {
      entry.duration_ms = Math.round(W.performance.now() - t0);
      entry.status = status || null;
      if (error || !status || status >= 400) entry.failed = true;
      if (error) entry.error = error;
    }
    var realFetch = W.fetch;
    rec.fetch = function (u, o) { return realFetch.call(W, u, o); };
    if (realFetch) {
      W.fetch = function (input, init) {
        var p = realFetch.apply(this, arguments);
        try {
          var req = typeof W.Request !== 'undefined' && input instanceof W.Request ? input : null;
          var entry = push(buf.network, {
            method: String((init && init.method) || (req && req.method) || 'GET').toUpperCase(),
            url: abs(req ? req.url : input)
          }), t0 = W.performance.now();
          p.then(function (r) { done(entry, t0, r.status); }, function (err) { done(entry, t0, 0, String((err && err.message) || err)); });
        } catch (e) { /* never break the page's request */ }
        return p;
      };
    }
    var XP = W.XMLHttpRequest && W.XMLHttpRequest.prototype;
    if (XP) {
      var open = XP.open, send = XP.send, xhrs = new WeakMap();
      XP.open = function (method, url) {
        xhrs.set(this, { method: String(method).toUpperCase(), url: abs(url) });
        return open.apply(this, arguments);
      };
      XP.send = function () {
        var x = this, info = xhrs.get(x);
        if (info) {
          var entry = push(buf.network, { method: info.method, url: info.url }), t0 = W.performance.now();
          x.addEventListener('loadend', function () { done(entry, t0, x.status, x.status ? '' : 'network error, timeout or aborted'); });
        }
        return send.apply(this, arguments);
      };
    }

    // User actions: clicks, typing (never the value), Enter/Escape, navigations.
    function mine(e) { return rec.host && e.target === rec.host; }
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
    function navigated() { push(buf.actions, { kind: 'navigate', url: W.location.href }); }
    ['pushState', 'replaceState'].forEach(function (name) {
      var H = W.history, orig = H[name];
      if (typeof orig !== 'function') return;
      H[name] = function () {
        var before = W.location.href, r = orig.apply(this, arguments);
        if (W.location.href !== before) navigated();
        return r;
      };
    });
    W.addEventListener('popstate', navigated);
    W.addEventListener('hashchange', navigated);
    return rec;
  }

  // A report's idempotency key: random, made once per report and sent with every retry of it,
  // so Moth files a report whose answer was lost once (getRandomValues works without https).
  function reportId() {
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join('');
  }

  record.clean = clean;
  record.redact = redact;
  record.reportId = reportId;
  record.tag = tag;
  record.describe = describe;
  record.environment = environment;
  return record;
})();
