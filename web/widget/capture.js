/* Moth capture, the part loaded on demand by /widget.js when its button is hovered, focused or
   clicked: the report form, the DOM screenshot, the exact screenshot, the annotation editor.
   Hand-written, no dependencies. No inline styles or scripts: a strict CSP is fine. */
(function () {
  'use strict';
  var W = window, D = document, M = W.Moth, I = M && M._i;
  if (!I || I.capture) return;
  var el = I.el;
  var SVGNS = 'http://www.w3.org/2000/svg', XHTML = 'http://www.w3.org/1999/xhtml';
  var BLANK = 'data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7';
  // What could not be captured is shown hatched, never silently blank.
  var MISSING = 'data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIHdpZHRoPSIxNiIgaGVpZ2h0PSIxNiI+PHJlY3Qgd2lkdGg9IjE2IiBoZWlnaHQ9IjE2IiBmaWxsPSIjZGRkIi8+PHBhdGggZD0iTTAgMTZMMTYgME0tNCA0TDQtNE0xMiAyMEwyMCAxMiIgc3Ryb2tlPSIjOTk5IiBzdHJva2Utd2lkdGg9IjIiLz48L3N2Zz4=';

  // ---- The DOM screenshot -------------------------------------------------------------------
  // The visible page is serialized with its computed styles inlined, images inlined as data
  // URLs, open shadow roots flattened and same-origin frames rendered as images of their own;
  // then drawn through an SVG foreignObject into a canvas. Values of form fields never enter
  // the serialization; what could not be captured goes to the capture-health list.

  var INHERITED = /^(font|text-(align|indent|transform|shadow|rendering|emphasis|orientation|justify|size-adjust|wrap|underline|decoration-skip-ink|anchor)|letter-spacing|word-|line-(height|break)|white-space|list-style|color$|color-(scheme|interpolation|rendering)|direction|visibility|quotes|tab-size|hyphen|orphans|widows|writing-mode|overflow-wrap|border-(collapse|spacing)|caption-side|empty-cells|fill|stroke|paint-order|clip-rule|shape-rendering|image-rendering|marker|-webkit-text-(fill|stroke|security)|ruby-position|math-|accent-color|print-color-adjust|forced-color-adjust|dominant-baseline)/;
  var UNWANTED = /^(animation|transition|will-change|view-transition|cursor|pointer-events|user-select|caret|scroll-|overscroll|touch-action|content-visibility|anchor-|position-try|interactivity|interest)|^-(?!webkit-(text-fill-color|text-stroke-color|text-stroke-width|line-clamp|box-orient)$)/;
  var SKIP = { script: 1, style: 1, link: 1, meta: 1, noscript: 1, template: 1, head: 1, title: 1, base: 1, source: 1, track: 1, param: 1 };
  var VOID = { area: 1, br: 1, col: 1, embed: 1, hr: 1, img: 1, input: 1, wbr: 1 };
  var URLISH = /url\(/;
  var KNOWN = /^(html|body|input|textarea|select|div|span|p|a|ul|ol|li|table|thead|tbody|tfoot|tr|td|th|svg|h[1-6]|button|label|form|section|article|header|footer|main|nav|aside|figure|figcaption|pre|code|strong|em|b|i|u|small|blockquote|dl|dt|dd|hr|br|caption|colgroup|col|fieldset|legend|details|summary|sub|sup|mark|abbr|time|s|del|ins|kbd|q|cite|progress|meter|output|picture|center|address|dfn|var|samp|bdi|bdo|ruby|rt|rp|data)$/;
  var PROPS, PINH;
  var SIZED = /^(block|flex|grid|list-item|flow-root|inline-block|inline-flex|inline-grid)$/;
  var LAYOUT = ['display', 'position', 'float', 'clear', 'box-sizing', 'width', 'height', 'min-width', 'min-height', 'max-width', 'max-height',
    'margin-top', 'margin-right', 'margin-bottom', 'margin-left', 'padding-top', 'padding-right', 'padding-bottom', 'padding-left',
    'border-top-width', 'border-right-width', 'border-bottom-width', 'border-left-width', 'border-top-style', 'border-right-style',
    'border-bottom-style', 'border-left-style', 'top', 'right', 'bottom', 'left', 'flex-grow', 'flex-shrink', 'flex-basis', 'order',
    'align-self', 'justify-self', 'grid-row-start', 'grid-row-end', 'grid-column-start', 'grid-column-end', 'vertical-align',
    'overflow-x', 'overflow-y', 'contain', 'zoom'];

  function esc(s) {
    return String(s).replace(/[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]/g, '')
      .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  }

  var sandbox, defaults = {};
  function defaultsFor(name, svg) {
    var key = (svg ? 'svg:' : '') + name;
    if (defaults[key]) return defaults[key];
    if (!sandbox) {
      sandbox = el('iframe', { className: 'sandbox', title: 'Moth', tabIndex: -1, 'aria-hidden': 'true' });
      I.root.appendChild(sandbox);
    }
    // The defaults of a standards-mode page: the blank document a new frame holds is in quirks
    // mode, where Firefox's own style sheet zeroes a first child's top margin (so an h1's
    // `margin: 0` looked like the default and was dropped) and puts list bullets inside.
    // Trusted Types refuse the write; there the frame stays in quirks mode.
    var d = sandbox.contentDocument, n, top;
    if (d.compatMode !== 'CSS1Compat' && !sandbox.dataset.quirks) {
      try { d.open(); d.write('<!doctype html><title></title>'); d.close(); } catch (e) { sandbox.dataset.quirks = '1'; }
      d = sandbox.contentDocument;
    }
    // In quirks mode at least never a first child.
    if (sandbox.dataset.quirks && !d.body.firstChild) d.body.appendChild(d.createElement('span'));
    if (svg) { top = d.createElementNS(SVGNS, 'svg'); n = name === 'svg' ? top : top.appendChild(d.createElementNS(SVGNS, name)); }
    else top = n = d.createElement(name);
    d.body.appendChild(top);
    var cs = sandbox.contentWindow.getComputedStyle(n), o = {};
    for (var i = 0; i < PROPS.length; i++) o[PROPS[i]] = cs.getPropertyValue(PROPS[i]);
    top.remove();
    defaults[key] = o;
    return o;
  }

  function props(cs) {
    if (PROPS) return PROPS;
    PROPS = [];
    PINH = [];
    for (var i = 0; i < cs.length; i++) if (!UNWANTED.test(cs[i])) { PROPS.push(cs[i]); PINH.push(INHERITED.test(cs[i])); }
    return PROPS;
  }

  // The declarations an element needs: non-inherited ones that differ from the tag's default,
  // inherited ones that differ from the parent's (they are inherited in the clone too).
  // A block's used height written as `height` would stop its last child's bottom margin from
  // collapsing through it (a gap lost under every heading); `min-height` keeps the size and the
  // collapsing. Boxes that clip keep `height`, they never collapse margins anyway.
  var HEIGHTS = /^(height|block-size|min-height|min-block-size)$/;
  function declarations(job, cs, parent, def, vals, flowing) {
    var out = [];
    flowing = flowing && /^(block|list-item)$/.test(cs.display) && cs.overflowX === 'visible' && cs.overflowY === 'visible';
    for (var i = 0; i < PROPS.length; i++) {
      var p = PROPS[i], v = cs.getPropertyValue(p);
      vals[p] = v;
      if (PINH[i] && parent ? v === parent[p] : v === def[p]) continue;
      if (flowing && HEIGHTS.test(p)) continue;
      if (URLISH.test(v)) v = urls(job, v);
      out.push(p + ':' + v);
    }
    if (flowing && /px$/.test(vals.height)) out.push('min-height:' + vals.height);
    var family = vals['font-family'];
    if (family && !job.families[family]) job.families[family] = 1;
    return out.join(';');
  }

  // Placeholders for what arrives later (images, frames), swapped in once all have settled.
  function later(job, promise) {
    job.tasks.push(promise);
    return '\ue000' + (job.tasks.length - 1) + '\ue001';
  }
  function urls(job, value) {
    return value.replace(/url\((['"]?)(.*?)\1\)/g, function (m, q, u) {
      if (/^data:/.test(u)) return m;
      return 'url("' + later(job, inline(job, u, null)) + '")';
    });
  }
  function notCaptured(job, url, reason) {
    job.health.push({ kind: 'image_not_captured', url: I.redact(String(url)).slice(0, 2000), reason: reason });
    return MISSING;
  }

  // An image as a data URL: drawn from the element when it is readable, else loaded again
  // with CORS; a cross-origin image without CORS cannot be read and is reported, not blanked.
  var cache = {};
  function inline(job, url, img) {
    var abs = new URL(url, job.doc.baseURI).href;
    if (!img && cache[abs]) return cache[abs];
    var p = new Promise(function (ok) {
      if (img && img.complete && img.naturalWidth) {
        var data = draw(img);
        if (data) return ok(data);
      }
      var cross = new URL(abs).origin !== location.origin;
      var fresh = new Image();
      if (cross) fresh.crossOrigin = 'anonymous';
      fresh.onload = function () {
        ok(draw(fresh) || notCaptured(job, abs, 'the image could not be read'));
      };
      fresh.onerror = function () {
        ok(notCaptured(job, abs, cross ? 'a cross-origin image without CORS (Access-Control-Allow-Origin) cannot be read by the page' : 'the image did not load'));
      };
      fresh.src = abs;
    });
    if (!img) cache[abs] = p;
    return p;
  }
  function draw(img) {
    try {
      var c = D.createElement('canvas');
      c.width = img.naturalWidth || img.width || 1;
      c.height = img.naturalHeight || img.height || 1;
      c.getContext('2d').drawImage(img, 0, 0, c.width, c.height);
      return c.toDataURL('image/png');
    } catch (e) {
      return null;
    }
  }

  function sensitive(n) {
    var hay = [n.type, n.name, n.id, n.getAttribute('autocomplete'), n.getAttribute('aria-label')].join(' ');
    return n.type === 'password' || /\bcc-|card|cvc|cvv|csc|iban|ccnum|expir|pass|pin\b|ssn|secret|one-time-code/i.test(hay);
  }
  function maskText(v) { return v ? '••••••••'.slice(0, Math.min(8, Math.max(3, v.length))) : ''; }

  function walk(job, node, parent, svg, out) {
    if (node.nodeType === 3) { out.push(esc(node.nodeValue)); return; }
    if (node.nodeType !== 1 || node === I.host) return;
    var name = node.localName, inSvg = svg || (node.namespaceURI === SVGNS);
    if (!inSvg && (SKIP[name] || node.namespaceURI !== XHTML)) return;
    var win = job.win, cs = win.getComputedStyle(node);
    if (cs.display === 'none') return;
    var out0 = name;
    if (!inSvg) {
      if (/^(img|canvas|video|iframe|frame|object|embed)$/.test(name)) out0 = 'img';
      else if (!KNOWN.test(name)) out0 = /^inline/.test(cs.display) || cs.display === 'contents' ? 'span' : 'div';
    }
    var vals = {}, def = defaultsFor(out0, inSvg);
    if (!inSvg && SIZED.test(cs.display) && !job.keep.has(node)) {
      // Below or beside the viewport it cannot be seen: an empty box of the same size keeps the
      // layout of what can be seen, at a fraction of the cost. (Above it, margins can collapse
      // into what is visible, so everything above is kept whole.)
      var box = node.getBoundingClientRect();
      if (box.top > job.h + 50 || box.left > job.w + 50 || box.right < -50) {
        var decl = [];
        for (var j = 0; j < LAYOUT.length; j++) {
          var lv = cs.getPropertyValue(LAYOUT[j]);
          if (lv !== def[LAYOUT[j]]) decl.push(LAYOUT[j] + ':' + lv);
        }
        out.push('<' + out0 + ' style="' + esc(decl.join(';')) + '"' + (VOID[out0] ? '/>' : '></' + out0 + '>'));
        job.spacers++;
        return;
      }
    }
    var style = declarations(job, cs, parent, def, vals, !inSvg && out0 !== 'img' && !/^(input|textarea|select|button|hr)$/.test(out0));
    var attrs = '', kids = null, text = null, rect;
    if (node === job.doc.documentElement || node === job.doc.body) style += ';overflow:visible';
    // The root is a block formatting context: its children's margins never collapse through it.
    if (node === job.doc.documentElement && cs.display === 'block') style += ';display:flow-root';

    if (!inSvg && (node.hasAttribute('data-moth-block') || node.hasAttribute('data-moth-mask'))) {
      // Nothing of it is serialized: a box of its size, black (block) or grey (mask).
      rect = node.getBoundingClientRect();
      out.push('<div style="' + esc(style + ';display:' + (/^inline/.test(cs.display) ? 'inline-block' : cs.display) +
        ';width:' + rect.width + 'px;height:' + rect.height + 'px;background:' + (node.hasAttribute('data-moth-block') ? '#000' : '#8a8a8a') +
        ';box-shadow:none;color:transparent') + '"></div>');
      return;
    }
    if (inSvg) {
      for (var i = 0; i < node.attributes.length; i++) {
        var a = node.attributes[i], an = a.name === 'xlink:href' ? 'href' : a.name;
        if (/^on/i.test(an) || an === 'style' || an === 'class' || !/^[a-zA-Z_][\w.-]*$/.test(an)) continue;
        var av = a.value;
        if (an === 'href' && name === 'image' && !/^data:/.test(av)) av = later(job, inline(job, av, null));
        attrs += ' ' + an + '="' + esc(av) + '"';
      }
      if (name === 'svg' && !svg) attrs += ' xmlns="' + SVGNS + '"';
      if (name === 'use') {
        var ref = (node.getAttribute('href') || node.getAttribute('xlink:href') || '').slice(1);
        var target = ref && job.doc.getElementById(ref);
        if (target) {
          var inner = [];
          Array.prototype.forEach.call(target.childNodes, function (k) { walk(job, k, vals, true, inner); });
          var vb = target.getAttribute('viewBox');
          out.push('<svg x="' + (node.getAttribute('x') || 0) + '" y="' + (node.getAttribute('y') || 0) + '" width="' + esc(node.getAttribute('width') || '100%') +
            '" height="' + esc(node.getAttribute('height') || '100%') + '"' + (vb ? ' viewBox="' + esc(vb) + '"' : '') + ' style="' + esc(style) + '">' + inner.join('') + '</svg>');
          return;
        }
      }
    } else if (name === 'img') {
      var src = node.currentSrc || node.src;
      name = 'img';
      attrs = ' src="' + (src ? later(job, /^data:/.test(src) ? Promise.resolve(src) : inline(job, src, node)) : BLANK) + '"';
    } else if (name === 'canvas' || name === 'video') {
      var shot = null;
      try {
        var c = D.createElement('canvas');
        c.width = node.width || node.videoWidth || 1;
        c.height = node.height || node.videoHeight || 1;
        c.getContext('2d').drawImage(node, 0, 0, c.width, c.height);
        shot = c.toDataURL('image/png');
      } catch (e) {
        job.health.push({ kind: 'image_not_captured', url: name, reason: 'the ' + name + ' shows cross-origin content that cannot be read' });
      }
      name = 'img';
      attrs = ' src="' + (shot || MISSING) + '"';
    } else if (name === 'iframe' || name === 'frame' || name === 'object' || name === 'embed') {
      var doc = null;
      try { doc = node.contentDocument; } catch (e) { doc = null; }
      var frameSrc = node.src || node.data || '';
      if (doc && doc.documentElement && node.contentWindow) {
        attrs = ' src="' + later(job, snapshot(doc, node.contentWindow, job).then(function (r) { return r.canvas.toDataURL('image/png'); }, function () { return BLANK; })) + '"';
      } else {
        job.health.push({ kind: 'frame_not_captured', url: I.redact(String(frameSrc)).slice(0, 2000), reason: 'a frame from another origin cannot be read by the page' });
        attrs = ' src="' + MISSING + '"';
      }
      name = 'img';
    } else if (name === 'input') {
      var type = (node.type || 'text').toLowerCase();
      attrs = ' type="' + esc(type === 'password' ? 'text' : type) + '"';
      if (/^(checkbox|radio)$/.test(type)) { if (node.checked) attrs += ' checked="checked"'; }
      else if (/^(button|submit|reset)$/.test(type)) attrs += ' value="' + esc(node.value) + '"';
      else if (!/^(file|hidden|image|range|color)$/.test(type)) {
        var shown = node.hasAttribute('data-moth-unmask') && !sensitive(node) ? I.redact(node.value) : maskText(node.value);
        attrs += ' value="' + esc(shown) + '"';
        if (!node.value && node.placeholder) attrs += ' placeholder="' + esc(node.placeholder) + '"';
      }
    } else if (name === 'textarea') {
      text = node.hasAttribute('data-moth-unmask') && !sensitive(node) ? I.redact(node.value) : maskText(node.value);
      if (!node.value && node.placeholder) attrs = ' placeholder="' + esc(node.placeholder) + '"';
    } else if (name === 'select') {
      var opt = node.selectedOptions && node.selectedOptions[0];
      text = '<option>' + esc(opt ? (node.hasAttribute('data-moth-unmask') && !sensitive(node) ? opt.textContent : maskText(opt.textContent)) : '') + '</option>';
    } else if (name === 'slot') {
      kids = node.assignedNodes({ flatten: true });
      if (!kids.length) kids = node.childNodes;
    } else {
      if (/^(td|th)$/.test(name)) ['colspan', 'rowspan'].forEach(function (k) { if (node.hasAttribute(k)) attrs += ' ' + k + '="' + esc(node.getAttribute(k)) + '"'; });
      if (name === 'ol' && node.hasAttribute('start')) attrs += ' start="' + esc(node.getAttribute('start')) + '"';
      if (name === 'details' && node.open) attrs += ' open="open"';
      var cls = pseudo(job, node, win, vals);
      if (cls) attrs += ' class="' + cls + '"';
    }
    // Custom elements and the rest become a neutral element; the inlined style carries the look.
    name = out0;
    out.push('<' + name + attrs + (style ? ' style="' + esc(style) + '"' : ''));
    if (!inSvg && VOID[name]) { out.push('/>'); return; }
    out.push('>');
    if (text !== null) out.push(name === 'select' ? text : esc(text));
    else {
      kids = kids || (node.shadowRoot ? node.shadowRoot.childNodes : node.childNodes);
      for (var k = 0; k < kids.length; k++) walk(job, kids[k], vals, inSvg, out);
    }
    out.push('</' + name + '>');
  }

  // ::before and ::after live in a stylesheet of the clone, on a class of their own.
  function pseudo(job, node, win, vals) {
    var cls = '';
    ['::before', '::after'].forEach(function (which) {
      var cs = win.getComputedStyle(node, which), content = cs.getPropertyValue('content');
      if (!content || content === 'none' || content === 'normal') return;
      cls = cls || 'p' + (job.rules.length + 1);
      var def = defaultsFor('span', false), decl = [];
      for (var i = 0; i < PROPS.length; i++) {
        var p = PROPS[i], v = cs.getPropertyValue(p);
        if (p !== 'content' && (PINH[i] ? v === vals[p] : v === def[p])) continue;
        if (URLISH.test(v)) v = urls(job, v);
        decl.push(p + ':' + v);
      }
      job.rules.push('.' + cls + which + '{' + decl.join(';') + '}');
    });
    return cls;
  }

  // @font-face rules of readable stylesheets for the families in use, with their files inlined.
  function fonts(job) {
    var rules = [];
    Array.prototype.forEach.call(job.doc.styleSheets, function (sheet) {
      var list;
      try { list = sheet.cssRules; } catch (e) { return; }
      Array.prototype.forEach.call(list || [], function (rule) {
        if (!W.CSSFontFaceRule || !(rule instanceof job.win.CSSFontFaceRule)) return;
        var face = rule.style, family = face.getPropertyValue('font-family').replace(/["']/g, '').trim();
        var used = Object.keys(job.families).some(function (f) { return f.indexOf(family) >= 0; });
        if (!used) return;
        var base = sheet.href || job.doc.baseURI;
        rules.push(Promise.all((rule.cssText.match(/url\((['"]?)(.*?)\1\)/g) || []).map(function (m) {
          var u = new URL(m.replace(/^url\((['"]?)(.*?)\1\)$/, '$2'), base).href;
          if (/^data:/.test(u)) return [m, m];
          return I.fetch(u).then(function (r) { if (!r.ok) throw new Error(r.status); return r.blob(); }).then(dataUrl).then(function (d) { return [m, 'url("' + d + '")']; }, function () {
            job.health.push({ kind: 'font_not_captured', url: I.redact(u), reason: 'the font file could not be read' });
            return [m, 'url("")'];
          });
        })).then(function (pairs) {
          var text = rule.cssText;
          pairs.forEach(function (p) { text = text.split(p[0]).join(p[1]); });
          return text;
        }));
      });
    });
    return Promise.all(rules);
  }
  function dataUrl(blob) {
    return new Promise(function (ok, fail) {
      var r = new FileReader();
      r.onload = function () { ok(r.result); };
      r.onerror = function () { fail(r.error); };
      r.readAsDataURL(blob);
    });
  }

  // Renders a document's visible part into a canvas of its viewport × devicePixelRatio.
  function snapshot(doc, win, outer) {
    var w = win.innerWidth, h = win.innerHeight, dpr = W.devicePixelRatio || 1, t0 = performance.now();
    var job = { doc: doc, win: win, w: w, h: h, tasks: [], rules: [], families: {}, health: outer ? outer.health : [], keep: new Set(), spacers: 0 };
    var out = [];
    props(win.getComputedStyle(doc.documentElement));
    // Fixed elements show wherever their ancestors are: those ancestors are always kept whole.
    Array.prototype.forEach.call(doc.getElementsByTagName('*'), function (n) {
      if (win.getComputedStyle(n).position === 'fixed') for (var a = n; a && !job.keep.has(a); a = a.parentElement) job.keep.add(a);
    });
    walk(job, doc.documentElement, null, false, out);
    var t1 = performance.now();
    var bg = 'rgb(255, 255, 255)';
    [doc.body, doc.documentElement].forEach(function (n) {
      var c = n && win.getComputedStyle(n).backgroundColor;
      if (c && !/^(transparent|rgba\(0, 0, 0, 0\))$/.test(c)) bg = c;
    });
    return Promise.all([Promise.all(job.tasks), fonts(job)]).then(function (done) {
      var values = done[0];
      var body = out.join('').replace(/\ue000(\d+)\ue001/g, function (m, i) { return esc(values[+i] || BLANK); });
      var css = esc(done[1].join('\n') + '\n' + job.rules.join('\n')).replace(/\ue000(\d+)\ue001/g, function (m, i) { return esc(values[+i] || BLANK); });
      var svg = '<svg xmlns="' + SVGNS + '" width="' + w + '" height="' + h + '" viewBox="0 0 ' + w + ' ' + h + '">' +
        '<foreignObject x="0" y="0" width="' + w + '" height="' + h + '">' +
        '<div xmlns="' + XHTML + '" style="display:flow-root;position:relative;overflow:visible;left:' + (-win.scrollX) + 'px;top:' + (-win.scrollY) + 'px;width:' + w + 'px;height:' + h + 'px">' +
        '<style>' + css + '</style>' + body + '</div></foreignObject></svg>';
      return new Promise(function (ok, fail) {
        var img = new Image();
        img.onload = function () {
          var canvas = D.createElement('canvas');
          canvas.width = Math.round(w * dpr);
          canvas.height = Math.round(h * dpr);
          var g = canvas.getContext('2d');
          g.fillStyle = bg;
          g.fillRect(0, 0, canvas.width, canvas.height);
          g.drawImage(img, 0, 0, canvas.width, canvas.height);
          if (!outer) M.lastTiming = { walk_ms: Math.round(t1 - t0), total_ms: Math.round(performance.now() - t0), spacers: job.spacers, svg_chars: svg.length };
          ok({ canvas: canvas, health: job.health });
        };
        img.onerror = function () { fail(new Error('the page could not be drawn (does the Content-Security-Policy allow data: images?)')); };
        img.src = 'data:image/svg+xml;charset=utf-8,' + encodeURIComponent(svg);
      });
    });
  }

  // ---- The exact screenshot: the tab itself, through screen capture -----------------------
  function exactSupported() {
    return !!(navigator.mediaDevices && navigator.mediaDevices.getDisplayMedia);
  }
  function frames(n) {
    return new Promise(function (ok) { (function next() { if (n-- <= 0) ok(); else requestAnimationFrame(next); })(); });
  }
  function exact() {
    var stream;
    function finish() {
      I.host.hidden = false;
      if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
    }
    // The widget hides first, and a frame is painted without it before the tab is captured.
    I.host.hidden = true;
    return frames(2).then(function () {
      return navigator.mediaDevices.getDisplayMedia({ video: { displaySurface: 'browser' }, audio: false, preferCurrentTab: true, selfBrowserSurface: 'include' });
    }).then(function (s) {
      stream = s;
      var track = s.getVideoTracks()[0];
      function fromVideo() {
        var v = D.createElement('video');
        v.muted = true;
        v.srcObject = s;
        return v.play().then(function () {
          return new Promise(function (ok) { setTimeout(function () { ok(v); }, 300); });
        });
      }
      if (!W.ImageCapture) return fromVideo();
      var grab = new ImageCapture(track);
      // grabFrame sometimes rejects (with nothing) before the track delivers frames: try
      // again shortly, then fall back to a video element.
      function grabFrame(tries) {
        return grab.grabFrame().catch(function () {
          if (tries <= 0) return fromVideo();
          return new Promise(function (ok) { setTimeout(ok, 150); }).then(function () { return grabFrame(tries - 1); });
        });
      }
      // The first frame may predate the widget hiding; the second does not.
      return grabFrame(3).then(function (first) {
        return first instanceof HTMLVideoElement ? first : grabFrame(3);
      });
    }).then(function (frame) {
      var c = D.createElement('canvas');
      c.width = frame.videoWidth || frame.width;
      c.height = frame.videoHeight || frame.height;
      c.getContext('2d').drawImage(frame, 0, 0);
      finish();
      return c;
    }, function (e) { finish(); throw e; });
  }

  function fromBlob(blob) {
    return createImageBitmap(blob).then(function (bitmap) {
      var c = D.createElement('canvas');
      c.width = bitmap.width;
      c.height = bitmap.height;
      c.getContext('2d').drawImage(bitmap, 0, 0);
      return c;
    });
  }

  // ---- The annotation editor ----------------------------------------------------------------
  // Shapes are drawn onto the very canvas that is exported, so a black-out is burnt into the
  // pixels that are sent. Pointer or keyboard: Enter adds the tool's shape, arrows move it,
  // Shift+arrows resize it, Delete removes the last one.
  var TOOLS = [['box', 'Box'], ['arrow', 'Arrow'], ['text', 'Text'], ['blackout', 'Black out']];
  function editor() {
    var base = null, shapes = [], tool = 'box', drag = null;
    var view = el('canvas', { className: 'shot', tabIndex: 0, role: 'img',
      'aria-label': 'Screenshot. Pick a tool, then drag on the picture, or press Enter to add a shape, arrow keys to move it, Shift with arrow keys to resize it, Delete to remove it.' });
    var words = el('input', { type: 'text', className: 'words', placeholder: 'Text to add', 'aria-label': 'Text to add with the Text tool', hidden: true });
    var buttons = TOOLS.map(function (t) {
      return el('button', { type: 'button', className: 'tool', text: t[1], 'data-tool': t[0], 'aria-pressed': String(t[0] === tool),
        onclick: function () { pick(t[0]); } });
    });
    var undo = el('button', { type: 'button', className: 'tool', text: 'Undo', 'aria-label': 'Remove the last mark', onclick: function () { shapes.pop(); paint(); } });
    var bar = el('div', { className: 'tools', role: 'toolbar', 'aria-label': 'Mark up the screenshot' }, buttons.concat([undo, words]));
    function pick(t) {
      tool = t;
      buttons.forEach(function (b) { b.setAttribute('aria-pressed', String(b.getAttribute('data-tool') === t)); });
      words.hidden = t !== 'text';
    }
    function unit() { return base ? Math.max(1, base.width / 600) : 1; }
    function paint() {
      if (!base) return;
      var g = view.getContext('2d');
      g.drawImage(base, 0, 0);
      shapes.forEach(function (s) { shape(g, s, unit()); });
    }
    function point(e) {
      var r = view.getBoundingClientRect();
      return { x: (e.clientX - r.left) * view.width / r.width, y: (e.clientY - r.top) * view.height / r.height };
    }
    function add(s) {
      if (s.tool === 'text') s.text = words.value.trim() || 'Here';
      shapes.push(s);
      paint();
    }
    view.addEventListener('pointerdown', function (e) {
      if (!base) return;
      var p = point(e);
      drag = { tool: tool, x: p.x, y: p.y, w: 0, h: 0 };
      view.setPointerCapture(e.pointerId);
    });
    view.addEventListener('pointermove', function (e) {
      if (!drag) return;
      var p = point(e);
      drag.w = p.x - drag.x;
      drag.h = p.y - drag.y;
      paint();
      shape(view.getContext('2d'), drag, unit());
    });
    view.addEventListener('pointerup', function () {
      var s = drag;
      drag = null;
      if (!s) return;
      if (s.tool === 'text' || Math.abs(s.w) + Math.abs(s.h) > 4) add(s); else paint();
    });
    view.addEventListener('keydown', function (e) {
      if (!base) return;
      var last = shapes[shapes.length - 1], step = 10 * unit(), dx = 0, dy = 0;
      if (e.key === 'Enter') {
        add({ tool: tool, x: base.width * 0.4, y: base.height * 0.4, w: base.width / 5, h: base.height / 8 });
      } else if (e.key === 'Delete' || e.key === 'Backspace') {
        shapes.pop();
        paint();
      } else if (/^Arrow/.test(e.key) && last) {
        dx = e.key === 'ArrowLeft' ? -step : e.key === 'ArrowRight' ? step : 0;
        dy = e.key === 'ArrowUp' ? -step : e.key === 'ArrowDown' ? step : 0;
        if (e.shiftKey) { last.w += dx; last.h += dy; } else { last.x += dx; last.y += dy; }
        paint();
      } else return;
      e.preventDefault();
      e.stopPropagation();
    });
    return {
      view: view, bar: bar,
      set: function (canvas) { base = canvas; shapes = []; view.width = canvas.width; view.height = canvas.height; paint(); },
      has: function () { return !!base; },
      add: add,
      blob: function () { return encode(view); }
    };
  }
  function shape(g, s, u) {
    var x = s.x, y = s.y, w = s.w, h = s.h;
    g.save();
    g.lineWidth = 3 * u;
    g.strokeStyle = g.fillStyle = '#e5484d';
    if (s.tool === 'blackout') { g.fillStyle = '#000'; g.fillRect(Math.min(x, x + w), Math.min(y, y + h), Math.abs(w), Math.abs(h)); }
    else if (s.tool === 'box') g.strokeRect(x, y, w, h);
    else if (s.tool === 'arrow') {
      var a = Math.atan2(h, w), l = 14 * u;
      g.beginPath(); g.moveTo(x, y); g.lineTo(x + w, y + h); g.stroke();
      g.beginPath(); g.moveTo(x + w, y + h);
      g.lineTo(x + w - l * Math.cos(a - 0.45), y + h - l * Math.sin(a - 0.45));
      g.lineTo(x + w - l * Math.cos(a + 0.45), y + h - l * Math.sin(a + 0.45));
      g.closePath(); g.fill();
    } else if (s.tool === 'text') {
      g.font = 'bold ' + Math.round(18 * u) + 'px system-ui, sans-serif';
      g.textBaseline = 'top';
      g.lineWidth = 4 * u;
      g.strokeStyle = '#fff';
      g.strokeText(s.text, x, y);
      g.fillText(s.text, x, y);
    }
    g.restore();
  }
  // PNG, or WebP/JPEG when the PNG would be too large for the intake limit.
  function encode(canvas) {
    function as(type, q) { return new Promise(function (ok) { canvas.toBlob(ok, type, q); }); }
    return as('image/png').then(function (b) {
      if (b && b.size <= 6e6) return b;
      return as('image/webp', 0.9).then(function (w) {
        if (w && w.type === 'image/webp' && w.size <= 6e6) return w;
        return as('image/jpeg', 0.8);
      });
    });
  }

  // ---- Steps to reproduce, the same way the server writes them -----------------------------
  function steps(pageUrl, actions, network) {
    var list = [];
    actions.forEach(function (a) {
      var t = a.target || 'the page', s = {
        click: 'Click ' + t, input: 'Type into ' + t, navigate: 'Go to ' + (a.url || t), key: 'Press ' + (a.key || 'a key') + ' in ' + t
      }[a.kind];
      if (s) list.push([a.timestamp || '', s]);
    });
    network.forEach(function (n) {
      if (!(n.failed || !n.status || n.status >= 400)) return;
      list.push([n.timestamp || '', 'Request ' + n.method + ' ' + n.url + ' ' + (n.status ? 'failed with ' + n.status : 'failed without an answer')]);
    });
    list.sort(function (a, b) { return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0; });
    var lines = (pageUrl ? ['Open ' + pageUrl] : []).concat(list.map(function (s) { return s[1]; }));
    return lines.map(function (s, i) { return (i + 1) + '. ' + s; }).join('\n');
  }

  // ---- The form -----------------------------------------------------------------------------
  I.style(
    'form,.done{position:fixed;right:16px;bottom:16px;z-index:2147483647;width:520px;max-width:calc(100vw - 32px);max-height:calc(100vh - 32px);overflow:auto;padding:16px;background:#fff;border-radius:10px;box-shadow:0 6px 28px #0005}' +
    'button:focus-visible,input:focus-visible,textarea:focus-visible,canvas:focus-visible{outline:2px solid #7a6ff0;outline-offset:2px}' +
    'h2{margin:0 0 10px;font-weight:600;font-size:16px}label{display:block;margin:0 0 8px}' +
    'input[type=text],input[type=email],textarea{display:block;width:100%;margin-top:2px;padding:6px;border:1px solid #bbb;border-radius:5px}textarea{min-height:64px;resize:vertical}' +
    'fieldset{margin:8px 0;padding:6px 10px;border:1px solid #ddd;border-radius:5px}legend{padding:0 4px}fieldset label{margin:2px 0}' +
    '.row{display:flex;gap:8px;justify-content:flex-end;margin-top:10px}.row button,.tool,.alt button{padding:6px 12px;border-radius:5px;border:1px solid #3b3363;background:#fff;cursor:pointer}' +
    '.row .send{background:#3b3363;color:#fff}.msg{margin:8px 0 0}.err{color:#b00020}a{color:#3b3363;word-break:break-all}' +
    '.shot{display:block;width:100%;height:auto;border:1px solid #ccc;border-radius:4px;cursor:crosshair;touch-action:none}' +
    '.tools,.alt{display:flex;flex-wrap:wrap;gap:6px;margin:6px 0}.tool[aria-pressed=true]{background:#3b3363;color:#fff}.words{flex:1;min-width:120px}' +
    '.health{margin:4px 0;padding-left:18px;color:#8a4b00}.health li{word-break:break-all}.wait{color:#555}' +
    '.known{margin:0 0 10px;padding:8px 10px;border:1px solid #c9c3f0;border-radius:5px;background:#f4f2ff}.known p{margin:0 0 6px}.known button{padding:4px 10px;border-radius:5px;border:1px solid #3b3363;background:#fff;cursor:pointer}' +
    '.sandbox{position:fixed;left:-10px;top:-10px;width:1px;height:1px;border:0;visibility:hidden}[hidden]{display:none}'
  );

  var panel;
  function field(label, input) { return el('label', { text: label }, [input]); }

  // ---- Before sending: is this a problem Moth knows already? -------------------------------
  // The captured errors and requests are fingerprinted by Moth; a match is shown so the
  // reporter can add to it. Sending normally joins the known issue anyway.
  function intakeKey() {
    var s = D.querySelectorAll('script[data-moth-key]');
    for (var i = s.length - 1; i >= 0; i--) if (/\/widget\.js(?:[?#]|$)/.test(s[i].src)) return s[i].getAttribute('data-moth-key');
    return s.length ? s[s.length - 1].getAttribute('data-moth-key') : '';
  }
  function ask(box, onAdd) {
    var key = intakeKey(), buf = I.buf;
    if (!key || !(buf.errors.length || buf.console.length || buf.network.length)) return;
    var body = I.clean({ page_url: location.href, console: buf.console, errors: buf.errors, network: buf.network, actions: buf.actions });
    I.fetch(I.ORIGIN + '/api/v1/intake/' + encodeURIComponent(key) + '/match', {
      method: 'POST', mode: 'cors', credentials: 'omit', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body)
    }).then(function (r) { return r.ok ? r.json() : null; }).then(function (answer) {
      var known = answer && answer.match;
      if (!known || !box.isConnected) return;
      var n = known.others;
      box.textContent = '';
      box.appendChild(el('p', { text: 'This looks like ' + known.id + ' (' + n + (n === 1 ? ' other' : ' others') + ' reported it): ' + known.title }));
      box.appendChild(el('button', { type: 'button', className: 'add', text: 'Add my report to ' + known.id, onclick: function () { onAdd(known); } }));
      box.hidden = false;
      panel.setAttribute('data-known', known.id);
    }, function () { /* The question is a courtesy: without an answer the report is sent as usual. */ });
  }

  function open() {
    if (!I.mount()) return;
    var t0 = performance.now();
    if (panel) panel.remove();
    I.button.hidden = true;
    var env = I.environment(), buf = I.buf, user = I.user();
    // The screenshot starts before the form exists (and the widget is never in it).
    var taking = snapshot(D, W, null);
    var title = el('input', { type: 'text', name: 'title', required: true, maxLength: 200 });
    var desc = el('textarea', { name: 'description' });
    var stepsBox = el('textarea', { name: 'steps', value: steps(I.redact(location.href), buf.actions, buf.network) });
    var name = el('input', { type: 'text', name: 'name', autocomplete: 'name', value: user.name || '' });
    var email = el('input', { type: 'email', name: 'email', autocomplete: 'email', value: user.email || '' });
    var ed = editor(), health = [];
    var wait = el('p', { className: 'wait', role: 'status', text: 'Taking a screenshot…' });
    var healthList = el('ul', { className: 'health', hidden: true });
    var exactButton = el('button', { type: 'button', className: 'exact', text: 'Exact screenshot', hidden: !exactSupported(),
      title: 'A pixel-exact picture of this tab; your browser asks first', onclick: function () {
        exact().then(function (c) { use(c, [], 'exact'); }, function (e) { say('The exact screenshot did not work (' + ((e && (e.message || e.name)) || 'no reason given') + ').', true); });
      } });
    var upload = el('input', { type: 'file', accept: 'image/png,image/jpeg,image/webp', 'aria-label': 'Upload an image instead', className: 'upload',
      onchange: function () { if (upload.files[0]) fromBlob(upload.files[0]).then(function (c) { use(c, [], 'file'); }, function () { say('That file is not an image we can read.', true); }); } });
    var count = function (list, one, many) { return list.length + ' ' + (list.length === 1 ? one : many); };
    var parts = [
      ['screenshot', 'screenshot'],
      ['console', count(buf.console, 'console line', 'console lines')],
      ['errors', count(buf.errors, 'error', 'errors')],
      ['network', count(buf.network, 'request', 'requests')],
      ['actions', count(buf.actions, 'action', 'actions')],
      ['page', 'page URL'],
      ['env', 'browser/OS: ' + env.browser.name + ' ' + env.browser.version.split('.')[0] + ', ' + env.os.name + ', ' + env.device +
        ', viewport ' + env.viewport.width + '×' + env.viewport.height],
      ['custom', 'custom context: ' + (Object.keys(I.ctx.custom).join(', ') || 'none')]
    ];
    var boxes = {};
    var list = el('fieldset', {}, [el('legend', { text: 'What will be sent' })].concat(parts.map(function (p) {
      boxes[p[0]] = el('input', { type: 'checkbox', checked: true, name: p[0] });
      return el('label', {}, [boxes[p[0]], D.createTextNode(' ' + p[1])]);
    })));
    var msg = el('p', { className: 'msg', role: 'status' });
    var send = el('button', { type: 'submit', className: 'send', text: 'Send' });
    var knownBox = el('div', { className: 'known', role: 'status', hidden: true });
    function say(text, bad) { msg.className = bad ? 'msg err' : 'msg'; msg.textContent = text; }
    function use(canvas, problems, source) {
      health = problems;
      ed.set(canvas);
      wait.hidden = true;
      healthList.textContent = '';
      healthList.hidden = !problems.length;
      problems.forEach(function (h) { healthList.appendChild(el('li', { text: 'Not in the screenshot: ' + h.url + ' (' + h.reason + ')' })); });
      panel.setAttribute('data-shot', 'ready');
      panel.setAttribute('data-shot-source', source);
      M.lastOpenMs = Math.round(performance.now() - t0);
    }
    panel = el('form', {
      'aria-label': 'Report a problem',
      onsubmit: function (e) {
        e.preventDefault();
        submit({ title: title.value, description: desc.value, steps: stepsBox.value, name: name.value, email: email.value }, boxes, env, ed, health, send, say);
      },
      onkeydown: function (e) { if (e.key === 'Escape') close(); },
      onpaste: function (e) {
        var items = (e.clipboardData && e.clipboardData.items) || [];
        for (var i = 0; i < items.length; i++) {
          if (/^image\//.test(items[i].type)) {
            e.preventDefault();
            fromBlob(items[i].getAsFile()).then(function (c) { use(c, [], 'paste'); });
            return;
          }
        }
      }
    }, [
      el('h2', { text: 'Report a problem' }), knownBox,
      field('Title (required)', title), field('What happened?', desc),
      wait, ed.bar, ed.view, healthList,
      el('div', { className: 'alt' }, [exactButton, el('label', { text: 'Or upload or paste an image: ' }, [upload])]),
      field('Steps to reproduce', stepsBox),
      field('Your name (optional)', name), field('Your e-mail (optional)', email),
      list, msg,
      el('div', { className: 'row' }, [el('button', { type: 'button', text: 'Cancel', onclick: close }), send])
    ]);
    I.root.appendChild(panel);
    title.focus();
    ask(knownBox, function (known) {
      if (!title.value.trim()) title.value = known.title;
      if (panel.requestSubmit) panel.requestSubmit(send);
      else send.click();
    });
    M.editor = ed;
    taking.then(function (r) { if (!ed.has()) use(r.canvas, r.health, 'dom'); }, function (e) {
      wait.textContent = 'No screenshot: ' + e.message + ' Try "Exact screenshot" or upload one.';
      panel.setAttribute('data-shot', 'failed');
    });
  }

  function close() {
    if (panel) panel.remove();
    panel = null;
    if (I.button) { I.button.hidden = false; I.button.focus(); }
  }

  function report(input, boxes, env, health) {
    var context = {}, k, buf = I.buf, user = I.user();
    if (boxes.env.checked) for (k in env) context[k] = env[k];
    for (k in I.ctx) context[k] = I.ctx[k];
    if (!boxes.custom.checked) delete context.custom;
    if (user.id != null) context.user_id = String(user.id);
    var reporter = {};
    if (input.name.trim()) reporter.name = input.name.trim();
    if (input.email.trim()) reporter.email = input.email.trim();
    var r = I.clean({
      type: 'bug',
      title: input.title.trim(),
      description: input.description.trim() || undefined,
      steps_to_reproduce: input.steps.trim() || undefined,
      page_url: boxes.page.checked ? location.href : undefined,
      context: context,
      console: boxes.console.checked ? buf.console : [],
      errors: boxes.errors.checked ? buf.errors : [],
      network: boxes.network.checked ? buf.network : [],
      actions: boxes.actions.checked ? buf.actions : [],
      capture_health: boxes.screenshot.checked ? health : []
    });
    r.reporter = reporter;
    return r;
  }

  function submit(input, boxes, env, ed, health, send, say) {
    say('Sending…');
    send.disabled = true;
    var shot = boxes.screenshot.checked && ed.has() ? ed.blob() : Promise.resolve(null);
    shot.then(function (blob) {
      return I.send(report(input, boxes, env, health), blob);
    }).then(function (r) {
      if (r.status === 201) {
        var joined = r.answer.duplicate_of;
        var done = el('div', { className: 'done', role: 'status' }, [
          el('p', { text: joined ? 'Thanks! Your report was added to ' + joined + '. Track it here:' : 'Thanks! Track it here:' }),
          el('a', { href: r.answer.status_url, target: '_blank', rel: 'noopener', text: r.answer.status_url }),
          el('div', { className: 'row' }, [el('button', { type: 'button', text: 'Close', onclick: close })])
        ]);
        if (!panel) return;
        panel.replaceWith(done);
        panel = done;
      } else if (r.queued) {
        var saved = el('div', { className: 'done queued', role: 'status' }, [
          el('p', { text: 'Moth could not be reached' + (r.status ? ' (it answered ' + r.status + ')' : '') +
            '. Your report is saved in this browser and will be sent when the connection is back.' }),
          el('div', { className: 'row' }, [el('button', { type: 'button', text: 'Close', onclick: close })])
        ]);
        if (!panel) return;
        panel.replaceWith(saved);
        panel = saved;
      } else {
        send.disabled = false;
        say(r.status ? (r.answer && r.answer.error && r.answer.error.message) || 'Moth answered ' + r.status + '; the report was not sent.'
          : 'Could not reach Moth (' + r.error + '); the report was not sent.', true);
      }
    }, function (e) {
      send.disabled = false;
      say('The report could not be prepared: ' + ((e && e.message) || e), true);
    });
  }

  I.close = close;
  I.capture = { open: open, snapshot: snapshot };
  if (I.loaded) I.loaded(I.capture);
})();
