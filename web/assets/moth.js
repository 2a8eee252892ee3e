/* Moth's page enhancements: copy buttons, confirmations, the console viewer's filters, comment
   preview and keyboard shortcuts. Every page works without it; this only makes them quicker. */
(function () {
  'use strict';
  var D = document;

  function copy(text, button) {
    var done = function () {
      var was = button.textContent;
      button.textContent = 'Copied';
      setTimeout(function () { button.textContent = was; }, 1500);
    };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(done, function () { window.prompt('Copy this:', text); });
    } else {
      window.prompt('Copy this:', text);
    }
  }

  D.addEventListener('click', function (e) {
    var t = e.target.closest ? e.target.closest('[data-copy],[data-copy-url],[data-preview]') : null;
    if (!t) return;
    if (t.hasAttribute('data-copy')) {
      var source = D.querySelector(t.getAttribute('data-copy'));
      if (source) copy(source.value || source.textContent, t);
    } else if (t.hasAttribute('data-copy-url')) {
      e.preventDefault();
      fetch(t.getAttribute('data-copy-url'), { credentials: 'same-origin' })
        .then(function (r) { return r.text(); })
        .then(function (text) { copy(text, t); });
    } else if (t.hasAttribute('data-preview')) {
      var form = t.form, out = form.querySelector('.preview');
      var body = new URLSearchParams();
      body.set('csrf', form.elements.csrf.value);
      body.set('body', form.elements.body.value);
      fetch(t.getAttribute('data-preview'), { method: 'POST', body: body, credentials: 'same-origin' })
        .then(function (r) { return r.text(); })
        .then(function (html) { out.innerHTML = html; out.hidden = false; });
    }
  });

  D.addEventListener('submit', function (e) {
    var message = e.target.getAttribute('data-confirm');
    if (message && !window.confirm(message)) e.preventDefault();
  });

  // Enhancements of what is inside <main>; run again after a live refresh swaps it.
  function enhance() {
    var tools = D.querySelector('.console-tools');
    if (tools) {
      tools.hidden = false;
      var level = tools.querySelector('[data-console-level]');
      var search = tools.querySelector('[data-console-search]');
      var lines = D.querySelectorAll('.console > li');
      var apply = function () {
        var want = level.value, words = search.value.toLowerCase();
        for (var i = 0; i < lines.length; i++) {
          var li = lines[i];
          li.hidden = (want && li.getAttribute('data-level') !== want) ||
            (words && li.textContent.toLowerCase().indexOf(words) < 0);
        }
      };
      level.addEventListener('change', apply);
      search.addEventListener('input', apply);
    }
    var previewButton = D.querySelector('[data-preview]');
    if (previewButton) previewButton.hidden = false;
    // Fields chosen from a list save as soon as they change: no Set button needed.
    Array.prototype.forEach.call(D.querySelectorAll('form.inline-field'), function (form) {
      if (form.querySelector('input[name=value]')) return;
      form.querySelector('button[type=submit]').hidden = true;
      showResolution(form);
    });
  }
  // A status that needs a resolution (resolved, closed) waits for one before saving.
  function needsResolution(form) {
    var needs = (form.getAttribute('data-needs-resolution') || '').split(' ');
    return needs.indexOf(form.elements.value.value) >= 0;
  }
  function showResolution(form) {
    var resolution = form.elements.resolution;
    if (resolution) resolution.hidden = !needsResolution(form);
  }
  D.addEventListener('change', function (e) {
    var form = e.target.form;
    if (!form || !form.classList.contains('inline-field') || e.target.nodeName !== 'SELECT') return;
    if (form.querySelector('input[name=value]')) return;
    showResolution(form);
    if (needsResolution(form) && !form.elements.resolution.value) {
      form.elements.resolution.focus();
      return;
    }
    form.requestSubmit();
  });
  enhance();

  // Live updates: the server tells every open page what changed (server-sent events); the
  // page fetches itself again and swaps its main part, unless the person is typing in it.
  var status = D.createElement('div');
  status.setAttribute('role', 'status');
  status.className = 'visually-hidden';
  D.body.appendChild(status);
  function changedByPerson() {
    var fields = D.querySelectorAll('main input:not([type=hidden]), main textarea, main select');
    for (var i = 0; i < fields.length; i++) {
      var f = fields[i];
      if (f.nodeName === 'SELECT') {
        // With no option marked selected in the HTML, the first one is the default.
        var initial = 0;
        for (var j = 0; j < f.options.length; j++) if (f.options[j].defaultSelected) initial = j;
        if (f.selectedIndex !== initial) return true;
      } else if (f.type === 'checkbox' || f.type === 'radio') {
        if (f.checked !== f.defaultChecked) return true;
      } else if (f.value !== f.defaultValue) return true;
    }
    return false;
  }
  function offerRefresh() {
    if (D.querySelector('.live-banner')) return;
    var banner = D.createElement('p'), button = D.createElement('button');
    banner.className = 'live-banner notice';
    banner.setAttribute('role', 'status');
    banner.textContent = 'Someone changed this page while you were editing it. ';
    button.type = 'button';
    button.className = 'secondary';
    button.textContent = 'Show the changes (what you typed will be lost)';
    button.addEventListener('click', function () { refresh(true); });
    banner.appendChild(button);
    var main = D.querySelector('main');
    main.insertBefore(banner, main.firstChild);
  }
  function refresh(force) {
    if (!force && changedByPerson()) { offerRefresh(); return; }
    fetch(location.href, { credentials: 'same-origin', headers: { Accept: 'text/html' } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) return;
        var doc = new DOMParser().parseFromString(html, 'text/html');
        var fresh = doc.querySelector('main'), main = D.querySelector('main');
        if (!fresh || !main) return;
        var open = [];
        main.querySelectorAll('details[open]').forEach(function (d) { open.push(d.className); });
        var focused = D.activeElement && D.activeElement.closest ? D.activeElement.closest('[data-issue]') : null;
        var focusedIssue = focused && focused.getAttribute('data-issue');
        main.innerHTML = fresh.innerHTML;
        if (focusedIssue) {
          var again = main.querySelector('[data-issue="' + focusedIssue + '"]');
          if (again) again.focus();
        }
        main.querySelectorAll('details').forEach(function (d) { if (open.indexOf(d.className) >= 0) d.open = true; });
        D.title = doc.title;
        enhance();
        status.textContent = 'Updated ' + new Date().toLocaleTimeString();
        D.body.setAttribute('data-live-refreshed', String(+(D.body.getAttribute('data-live-refreshed') || 0) + 1));
      });
  }
  var body = D.body;
  // The reporter's status page: news about their report shows as soon as it happens.
  if (body.hasAttribute('data-live-status') && window.EventSource) {
    var news = new EventSource(body.getAttribute('data-live-status'));
    news.addEventListener('change', function () { refresh(true); });
    news.addEventListener('open', function () { body.setAttribute('data-live-connected', 'yes'); });
  }
  if (body.hasAttribute('data-live') && window.EventSource) {
    var project = body.getAttribute('data-live-project');
    var issue = body.getAttribute('data-live-issue');
    var source = new EventSource('/events' + (project ? '?project=' + encodeURIComponent(project) : ''));
    var timer = null;
    source.addEventListener('change', function (message) {
      var change;
      try { change = JSON.parse(message.data); } catch (e) { return; }
      if (issue && change.issue !== issue) return;
      clearTimeout(timer);
      timer = setTimeout(function () { refresh(false); }, 150);
    });
    source.addEventListener('open', function () { body.setAttribute('data-live-connected', 'yes'); });
  }

  // The triage inbox: one key per decision, so a triager never needs the mouse.
  function cards() { return Array.prototype.slice.call(D.querySelectorAll('.triage-card')); }
  function currentCard() {
    var a = D.activeElement;
    return (a && a.closest && a.closest('.triage-card')) || null;
  }
  function focusCard(index) {
    var all = cards();
    if (!all.length) return;
    all[Math.max(0, Math.min(index, all.length - 1))].focus();
  }
  function decide(card, action) {
    var form = card.querySelector('.triage-form');
    if (!form) return;
    var body = new URLSearchParams(new FormData(form));
    body.set('action', action);
    var error = card.querySelector('.triage-error');
    // getAttribute: the buttons named "action" shadow form.action.
    fetch(form.getAttribute('action'), { method: 'POST', body: body, credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (r) { return r.json().then(function (answer) { return { ok: r.ok, answer: answer }; }); })
      .then(function (result) {
        if (!result.ok) {
          error.textContent = (result.answer.error && result.answer.error.message) || 'That did not work.';
          error.hidden = false;
          card.focus();
          return;
        }
        var index = cards().indexOf(card);
        card.remove();
        var count = D.querySelector('[data-triage-count]');
        if (count) count.textContent = String(Math.max(0, (+count.textContent || 1) - 1));
        status.textContent = card.getAttribute('data-issue') + ': ' + action.replace('_', ' ');
        focusCard(index);
      }, function () {
        error.textContent = 'Moth could not be reached; nothing was changed. Try again.';
        error.hidden = false;
      });
  }
  var triageKeys = { a: 'accept', w: 'wont_fix', b: 'by_design', r: 'cannot_reproduce', s: 'snooze' };
  function triageKey(e) {
    if (!D.querySelector('.triage')) return false;
    var card = currentCard();
    if (e.key === 'j' || e.key === 'ArrowDown') { focusCard(card ? cards().indexOf(card) + 1 : 0); return true; }
    if (e.key === 'k' || e.key === 'ArrowUp') { focusCard(card ? cards().indexOf(card) - 1 : 0); return true; }
    if (!card) return false;
    var digit = +e.key;
    if (digit >= 1 && digit <= 4) {
      var severity = card.querySelector('select[name=severity]');
      if (severity) severity.selectedIndex = digit;
      return true;
    }
    if (digit >= 5 && digit <= 9) {
      card.querySelector('select[name=priority]').selectedIndex = digit - 5;
      return true;
    }
    if (triageKeys[e.key]) { decide(card, triageKeys[e.key]); return true; }
    if (e.key === 'd') { card.querySelector('input[name=duplicate_of]').focus(); return true; }
    if (e.key === 'i') { card.querySelector('textarea[name=question]').focus(); return true; }
    return false;
  }
  // Inside a card's fields: Enter marks the duplicate, Ctrl+Enter sends the question,
  // Escape goes back to the card.
  D.addEventListener('keydown', function (e) {
    var card = currentCard();
    if (!card || !typing(e)) return;
    var name = e.target.getAttribute('name');
    if (e.key === 'Escape') { e.preventDefault(); card.focus(); }
    else if (e.key === 'Enter' && name === 'duplicate_of') { e.preventDefault(); decide(card, 'duplicate'); }
    else if (e.key === 'Enter' && (e.ctrlKey || e.metaKey) && name === 'question') { e.preventDefault(); decide(card, 'needs_info'); }
  });
  // Buttons clicked with the mouse take the same quick path.
  D.addEventListener('click', function (e) {
    var button = e.target.closest ? e.target.closest('.triage-form [data-action]') : null;
    if (!button) return;
    e.preventDefault();
    decide(button.closest('.triage-card'), button.getAttribute('data-action'));
  });
  // The duplicate box suggests issues as the triager types.
  var searching = null;
  D.addEventListener('input', function (e) {
    var key = e.target.getAttribute && e.target.getAttribute('data-duplicate-search');
    if (!key) return;
    var words = e.target.value.trim(), list = D.getElementById(e.target.getAttribute('list'));
    if (words.length < 2 || /^[A-Z][A-Z0-9]*-\d+$/.test(words)) return;
    clearTimeout(searching);
    searching = setTimeout(function () {
      fetch('/api/v1/projects/' + encodeURIComponent(key) + '/issues?limit=8&q=' + encodeURIComponent(words), { credentials: 'same-origin' })
        .then(function (r) { return r.ok ? r.json() : { items: [] }; })
        .then(function (page) {
          list.textContent = '';
          page.items.forEach(function (issue) {
            var option = D.createElement('option');
            option.value = issue.id;
            option.textContent = issue.title;
            list.appendChild(option);
          });
        });
    }, 150);
  });

  // Similar issues: suggestions only, filled in after the page so it stays fast.
  function showSimilar(section, items, newTab) {
    var list = section.querySelector('ol');
    list.textContent = '';
    items.forEach(function (s) {
      var li = D.createElement('li'), a = D.createElement('a'), code = D.createElement('code'), badge = D.createElement('span');
      a.href = '/issues/' + encodeURIComponent(s.id);
      if (newTab) a.target = '_blank';
      code.textContent = s.id;
      a.appendChild(code);
      a.appendChild(D.createTextNode(' ' + s.title));
      badge.className = 'badge status-' + s.status;
      badge.textContent = s.status;
      li.appendChild(a);
      li.appendChild(D.createTextNode(' '));
      li.appendChild(badge);
      list.appendChild(li);
    });
    section.hidden = items.length === 0;
  }
  function loadSimilar(section) {
    // Only the issue's own project: it can be a duplicate of nothing else.
    var limit = section.getAttribute('data-similar-limit') || '3';
    fetch('/api/v1/issues/' + encodeURIComponent(section.getAttribute('data-similar')) + '/similar?same_project=true&limit=' + limit, { credentials: 'same-origin' })
      .then(function (r) { return r.ok ? r.json() : { items: [] }; })
      .then(function (page) {
        showSimilar(section, page.items, false);
        var more = section.querySelector('.similar-more');
        if (more) more.hidden = true;
        // The card's "duplicate of" box offers them too, until the triager types.
        var list = D.getElementById('dup-' + section.getAttribute('data-similar'));
        if (list && !list.children.length) {
          page.items.forEach(function (s) {
            var option = D.createElement('option');
            option.value = s.id;
            option.textContent = s.title;
            list.appendChild(option);
          });
        }
      });
  }
  // Triage cards and the issue page ask when their block scrolls into view, so a long inbox
  // costs only what is seen and the issue page never waits for the query.
  var triageSimilar = D.querySelectorAll('[data-similar]');
  if (triageSimilar.length && 'IntersectionObserver' in window) {
    var watcher = new IntersectionObserver(function (entries) {
      entries.forEach(function (e) {
        if (!e.isIntersecting) return;
        watcher.unobserve(e.target);
        loadSimilar(e.target.querySelector('[data-similar]') || e.target);
      });
    }, { rootMargin: '200px' });
    triageSimilar.forEach(function (s) { watcher.observe(s.closest('.triage-card') || s); });
  } else {
    triageSimilar.forEach(loadSimilar);
  }
  // A new issue's title: issues that read alike, as it is typed.
  var suggesting = null;
  D.addEventListener('input', function (e) {
    var key = e.target.getAttribute && e.target.getAttribute('data-similar-project');
    var section = D.getElementById('n-similar');
    if (!key || !section) return;
    var title = e.target.value.trim();
    clearTimeout(suggesting);
    if (title.length < 4) { section.hidden = true; return; }
    suggesting = setTimeout(function () {
      fetch('/api/v1/projects/' + encodeURIComponent(key) + '/similar?limit=5&title=' + encodeURIComponent(title), { credentials: 'same-origin' })
        .then(function (r) { return r.ok ? r.json() : { items: [] }; })
        .then(function (page) { if (e.target.value.trim() === title) showSimilar(section, page.items, true); });
    }, 250);
  });

  // The board: drag a card onto a column to move it; resolved and closed ask for why.
  var dragged = null;
  D.addEventListener('dragstart', function (e) {
    var card = e.target.closest && e.target.closest('.board-card');
    if (!card) return;
    dragged = card;
    e.dataTransfer.setData('text/plain', card.getAttribute('data-issue'));
    e.dataTransfer.effectAllowed = 'move';
  });
  D.addEventListener('dragover', function (e) {
    var column = e.target.closest && e.target.closest('.column');
    if (!column || !dragged) return;
    e.preventDefault();
    D.querySelectorAll('.column.drop-target').forEach(function (c) { if (c !== column) c.classList.remove('drop-target'); });
    column.classList.add('drop-target');
  });
  D.addEventListener('drop', function (e) {
    var column = e.target.closest && e.target.closest('.column');
    if (!column) return;
    e.preventDefault();
    column.classList.remove('drop-target');
    var id = e.dataTransfer.getData('text/plain');
    var card = D.querySelector('.board-card[data-issue="' + id + '"]');
    dragged = null;
    if (!card || card.closest('.column') === column) return;
    var release = column.getAttribute('data-release');
    var target = column.getAttribute('data-status');
    if (release !== null) moveCard(card, column, { release: release });
    else if (target === 'resolved' || target === 'closed') askResolution(card, column);
    else moveCard(card, column, {});
  });
  function moveCard(card, column, extra, done) {
    var body = new URLSearchParams();
    var board = D.querySelector('.board');
    body.set('csrf', board.getAttribute('data-csrf'));
    body.set('issue', card.getAttribute('data-issue'));
    if (column.hasAttribute('data-status')) body.set('status', column.getAttribute('data-status'));
    Object.keys(extra).forEach(function (k) { if (extra[k]) body.set(k, extra[k]); });
    fetch(board.getAttribute('data-move'),
      { method: 'POST', body: body, credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (r) { return r.json().then(function (a) { return { ok: r.ok, answer: a }; }); })
      .then(function (result) {
        if (!result.ok) {
          var message = (result.answer.error && result.answer.error.message) || 'That move was refused.';
          if (done) done(message); else window.alert(message);
          return;
        }
        // The column totals follow the card (the counts the server drew are otherwise stale).
        count(card.closest('.column'), -1);
        count(column, 1);
        column.querySelector('ol.cards').insertBefore(card, column.querySelector('ol.cards').firstChild);
        status.textContent = card.getAttribute('data-issue') + ' moved to ' + column.querySelector('h2').firstChild.textContent.trim();
        if (done) done(null);
      });
  }
  function count(column, by) {
    var total = column.querySelector('h2 small');
    if (total) total.textContent = String(Math.max(0, (parseInt(total.textContent, 10) || 0) + by));
  }
  function askResolution(card, column) {
    var dialog = D.querySelector('.resolve-dialog');
    var form = dialog.querySelector('form');
    var error = dialog.querySelector('[data-resolve-error]');
    dialog.querySelector('[data-resolve-issue]').textContent = card.getAttribute('data-issue');
    error.hidden = true;
    form.onsubmit = function (e) {
      if (e.submitter && e.submitter.value === 'cancel') return;
      e.preventDefault();
      moveCard(card, column, { resolution: form.elements.resolution.value, duplicate_of: form.elements.duplicate_of.value }, function (message) {
        if (message) { error.textContent = message; error.hidden = false; }
        else dialog.close();
      });
    };
    dialog.showModal();
    form.elements.resolution.focus();
  }

  // Keyboard shortcuts; never while typing in a field.
  var shortcuts = [
    ['Ctrl K', 'jump to an issue, project or action'],
    ['c', 'create an issue'],
    ['/', 'search this list'],
    ['?', 'show these shortcuts']
  ];
  function typing(e) {
    var n = e.target.nodeName;
    return n === 'INPUT' || n === 'TEXTAREA' || n === 'SELECT' || e.target.isContentEditable;
  }
  var help = null;
  function showHelp() {
    if (!help) {
      help = D.createElement('dialog');
      help.className = 'shortcuts';
      help.setAttribute('aria-label', 'Keyboard shortcuts');
      var h = D.createElement('h2'); h.textContent = 'Keyboard shortcuts'; help.appendChild(h);
      var dl = D.createElement('dl');
      shortcuts.forEach(function (s) {
        var dt = D.createElement('dt'), kbd = D.createElement('kbd'), dd = D.createElement('dd');
        kbd.textContent = s[0]; dt.appendChild(kbd); dd.textContent = s[1];
        dl.appendChild(dt); dl.appendChild(dd);
      });
      help.appendChild(dl);
      var close = D.createElement('button'); close.textContent = 'Close';
      close.addEventListener('click', function () { help.close(); });
      help.appendChild(close);
      D.body.appendChild(help);
    }
    help.showModal();
  }
  // The command palette: Ctrl/Cmd-K, type, arrows, Enter.
  var palette = null;
  function openPalette() {
    if (!palette) {
      palette = D.createElement('dialog');
      palette.className = 'palette';
      palette.setAttribute('aria-label', 'Go to');
      var input = D.createElement('input');
      input.type = 'search';
      input.setAttribute('role', 'combobox');
      input.setAttribute('aria-controls', 'palette-list');
      input.setAttribute('aria-expanded', 'true');
      input.setAttribute('aria-label', 'Issue, project or action');
      input.placeholder = 'Issue id, words, project or action…';
      var list = D.createElement('ul');
      list.id = 'palette-list';
      list.setAttribute('role', 'listbox');
      palette.appendChild(input);
      palette.appendChild(list);
      D.body.appendChild(palette);
      var selected = 0, timer = null, latest = 0;
      var show = function (items) {
        list.textContent = '';
        selected = 0;
        items.forEach(function (item, i) {
          var li = D.createElement('li'), a = D.createElement('a'), kind = D.createElement('span');
          li.setAttribute('role', 'option');
          li.id = 'palette-' + i;
          a.href = item.url;
          a.textContent = item.label;
          kind.className = 'muted';
          kind.textContent = ' ' + item.kind;
          li.appendChild(a);
          li.appendChild(kind);
          list.appendChild(li);
        });
        mark();
      };
      var mark = function () {
        var options = list.children;
        for (var i = 0; i < options.length; i++) options[i].setAttribute('aria-selected', i === selected ? 'true' : 'false');
        if (options[selected]) input.setAttribute('aria-activedescendant', options[selected].id);
      };
      var ask = function () {
        var asked = ++latest;
        fetch('/palette?q=' + encodeURIComponent(input.value), { credentials: 'same-origin' })
          .then(function (r) { return r.ok ? r.json() : { items: [] }; })
          .then(function (answer) { if (asked === latest) show(answer.items); });
      };
      input.addEventListener('input', function () { clearTimeout(timer); timer = setTimeout(ask, 120); });
      input.addEventListener('keydown', function (e) {
        var count = list.children.length;
        if (e.key === 'ArrowDown') { e.preventDefault(); selected = Math.min(count - 1, selected + 1); mark(); }
        else if (e.key === 'ArrowUp') { e.preventDefault(); selected = Math.max(0, selected - 1); mark(); }
        else if (e.key === 'Enter') {
          e.preventDefault();
          var link = list.children[selected] && list.children[selected].querySelector('a');
          if (link) location.href = link.getAttribute('href');
        }
      });
      palette.ask = ask;
      palette.input = input;
    }
    palette.input.value = '';
    palette.showModal();
    palette.input.focus();
    palette.ask();
  }
  D.addEventListener('keydown', function (e) {
    if ((e.ctrlKey || e.metaKey) && (e.key === 'k' || e.key === 'K')) {
      e.preventDefault();
      openPalette();
    }
  });

  D.addEventListener('keydown', function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || typing(e)) return;
    if (e.key === '?') { e.preventDefault(); showHelp(); return; }
    if (triageKey(e)) { e.preventDefault(); return; }
    if (e.key === '/') {
      var q = D.querySelector('input[name=q]');
      if (q) { e.preventDefault(); q.focus(); }
      return;
    }
    var target = D.querySelector('[data-key="' + e.key + '"]');
    if (target) { e.preventDefault(); target.click(); }
  });
})();
