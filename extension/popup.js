/* The popup the toolbar button opens. The click grants activeTab, so the tab's pixel-exact
   screenshot needs no prompt; the recorder on an enabled site hands over what happened; the
   person reviews and trims it; the report goes to Moth exactly as the widget sends it. */
(function () {
  'use strict';
  var el = mothEl, main = document.getElementById('main');
  var PARTS = [
    ['console', ['console line', 'console lines'], function (c) { return c.level + ': ' + c.message; }],
    ['errors', ['error', 'errors'], function (e) { return e.message + (e.source ? ' (' + e.source + (e.line ? ':' + e.line : '') + ')' : ''); }],
    ['network', ['request', 'requests'], function (n) { return n.method + ' ' + n.url + ' → ' + (n.status || n.error || 'no answer'); }],
    ['actions', ['action', 'actions'], function (a) { return a.kind + ' ' + (a.kind === 'navigate' ? a.url : a.kind === 'key' ? a.key + ' in ' + a.target : a.target); }]
  ];
  // `3 errors`, `1 error`: PARTS name each part in the singular and the plural.
  function counted(total, label) { return total + ' ' + label[total === 1 ? 0 : 1]; }

  function show(nodes) {
    main.textContent = '';
    nodes.forEach(function (n) { if (n) main.appendChild(n); });
  }
  function reason(e) { return (e && e.message) || String(e); }
  // Chrome allows two captures a second; a popup opened again at once waits its turn.
  function captureTab(windowId, tries) {
    return chrome.tabs.captureVisibleTab(windowId, { format: 'png' }).catch(function (e) {
      if (!tries || !/MAX_CAPTURE_VISIBLE_TAB_CALLS_PER_SECOND/.test(reason(e))) throw e;
      return new Promise(function (wait) { setTimeout(wait, 600); }).then(function () { return captureTab(windowId, tries - 1); });
    });
  }
  function openOptions() { chrome.runtime.openOptionsPage(); window.close(); }

  // The outbox: how many reports wait, "Send now", and the ones Moth refused. Opening the
  // popup asks the background to send what waits (it outlives the popup).
  var outbox = document.getElementById('outbox');
  function showOutbox(state, note) {
    var n = state.waiting;
    outbox.textContent = '';
    if (n) {
      outbox.appendChild(el('div', { className: 'row waiting' }, [
        el('p', { id: 'outbox-count', text: n + (n === 1 ? ' report' : ' reports') + ' waiting to be sent' }),
        el('button', { type: 'button', id: 'send-now', text: 'Send now', onclick: function () { sendWaiting(true); } })
      ]));
    }
    if (note) outbox.appendChild(el('p', { className: 'msg', role: 'status', text: note }));
    if (state.failed.length) {
      outbox.appendChild(el('ul', { className: 'failed' }, state.failed.map(function (f) {
        return el('li', {}, [
          '“' + f.title + '” was not filed: ' + f.message + ' ',
          el('button', { type: 'button', className: 'dismiss', text: 'Dismiss', onclick: function () {
            MothOutbox.dismiss(f.id).then(MothOutbox.state).then(function (s) { showOutbox(s); });
          } })
        ]);
      })));
    }
    outbox.hidden = !n && !note && !state.failed.length;
  }
  function sendWaiting(asked) {
    var button = document.getElementById('send-now');
    if (button) button.disabled = true;
    outbox.dataset.settled = 'false';
    return chrome.runtime.sendMessage({ type: 'moth-outbox-flush' }).then(function (answer) {
      if (!answer || !answer.state) throw new Error((answer && answer.error) || 'the background did not answer');
      return answer.state;
    }).catch(function (e) {
      console.warn('Moth: sending the outbox from the popup:', e);
      return MothOutbox.flush();
    }).then(function (state) {
      showOutbox(state, asked && state.waiting ? 'Moth still cannot be reached; the reports will be sent when it can be.' : '');
    }, function (e) {
      showOutbox({ waiting: 0, failed: [] }, 'The reports waiting to be sent could not be read: ' + reason(e));
    }).then(function () { outbox.dataset.settled = 'true'; });
  }
  MothOutbox.state().then(function (state) { showOutbox(state); }).catch(function () {}).then(function () { sendWaiting(false); });

  Promise.all([MothSettings.load(), chrome.tabs.query({ active: true, currentWindow: true })]).then(function (got) {
    var settings = got[0], tab = got[1][0];
    if (!settings.server || !settings.key) {
      return show([
        el('p', { text: 'Tell the extension where to send reports first: your Moth server and the project’s intake key.' }),
        el('div', { className: 'row' }, [el('button', { type: 'button', className: 'primary', text: 'Open the options', onclick: openOptions })])
      ]);
    }
    if (!tab) return show([el('p', { className: 'msg err', text: 'There is no tab to report on.' })]);
    var shot = captureTab(tab.windowId, 3).then(function (url) { return { url: url }; }, function (e) { return { error: reason(e) }; });
    var record = chrome.tabs.sendMessage(tab.id, { type: 'moth-collect' }).then(function (answer) {
      return answer && answer.record ? answer : { error: (answer && answer.error) || 'no answer' };
    }, function (e) { return { error: reason(e) }; });
    return Promise.all([shot, record]).then(function (r) { review(settings, tab, r[0], r[1]); });
  }).catch(function (e) {
    show([el('p', { className: 'msg err', role: 'alert', text: 'The report form could not be prepared: ' + reason(e) })]);
  });

  function review(settings, tab, shot, answer) {
    var record = answer.record;
    var env = record ? record.environment : mothRecorder.environment(window);
    if (!record) env.viewport = { width: tab.width, height: tab.height, device_pixel_ratio: window.devicePixelRatio || 1 };
    var pageUrl = (record && record.page_url) || tab.url || '';
    var title = el('input', { type: 'text', id: 'title', name: 'title', required: true, maxLength: 200 });
    var description = el('textarea', { id: 'description', name: 'description' });
    var boxes = {}, kept = {};

    function part(name, label, extra) {
      boxes[name] = el('input', { type: 'checkbox', checked: true, name: name });
      return el('div', { className: 'part' }, [el('label', {}, [boxes[name], ' ' + label])].concat(extra || []));
    }
    var parts = [
      shot.url ? part('screenshot', 'Screenshot', [el('img', { className: 'shot', src: shot.url, alt: 'The screenshot of the tab' })])
        : el('p', { className: 'msg err', text: 'No screenshot: ' + shot.error }),
      part('page', 'Page: ' + mothRecorder.redact(pageUrl)),
      part('env', 'Browser, OS, viewport: ' + env.browser.name + ' ' + env.browser.version.split('.')[0] + ', ' + env.os.name +
        ', ' + env.viewport.width + '×' + env.viewport.height)
    ];
    if (record) {
      PARTS.forEach(function (p) {
        var name = p[0], entries = record[name] || [];
        kept[name] = entries.map(function () { return true; });
        var count = el('span', { text: counted(entries.length, p[1]) });
        boxes[name] = el('input', { type: 'checkbox', checked: true, name: name, disabled: !entries.length });
        var items = el('ul', { className: 'items' }, entries.slice().reverse().map(function (entry, j) {
          var i = entries.length - 1 - j;
          return el('li', {}, [el('label', {}, [el('input', { type: 'checkbox', checked: true, onchange: function () {
            kept[name][i] = this.checked;
            var n = kept[name].filter(Boolean).length;
            count.textContent = (n === entries.length ? '' : n + ' of ') + counted(entries.length, p[1]);
          } }), ' ' + p[2](entry)])]);
        }));
        parts.push(el('details', { className: 'part', 'data-part': name }, [el('summary', {}, [el('label', {}, [boxes[name], ' ', count])]), items]));
      });
    } else {
      parts.push(el('p', { className: 'hint', id: 'not-recorded', text: 'No console, errors, requests or actions: the recorder is not running on this page (' +
        answer.error + '). Enable the site in the options, reload the page and try again.' }));
    }

    // One id for this report however often Send is pressed: a retry after an answer was lost
    // gets the first answer back instead of filing the report twice.
    var reportId = mothRecorder.reportId();
    var message = el('p', { className: 'msg', role: 'status' });
    var send = el('button', { type: 'submit', id: 'send', className: 'primary', text: 'Send to Moth' });
    function say(text, bad) { message.className = bad ? 'msg err' : 'msg'; message.textContent = text; }
    var form = el('form', { onsubmit: function (e) {
      e.preventDefault();
      if (!title.value.trim()) { say('Give the report a title.', true); title.focus(); return; }
      submit();
    } }, [
      el('label', { text: 'Title (required)' }, [title]),
      el('label', { text: 'What happened?' }, [description]),
      el('fieldset', {}, [el('legend', { text: 'What will be sent' })].concat(parts)),
      message,
      el('div', { className: 'row' }, [el('button', { type: 'button', text: 'Options', onclick: openOptions }), send])
    ]);
    show([form]);
    main.setAttribute('data-ready', 'true');
    title.focus();

    function report() {
      var context = {}, k;
      if (boxes.env.checked) for (k in env) context[k] = env[k];
      context.source = 'extension';
      context.extension_version = chrome.runtime.getManifest().version;
      function list(name) {
        if (!record || !boxes[name].checked) return [];
        return record[name].filter(function (x, i) { return kept[name][i]; });
      }
      var r = mothRecorder.clean({
        type: 'bug',
        title: title.value.trim(),
        description: description.value.trim() || undefined,
        page_url: boxes.page.checked && pageUrl ? pageUrl : undefined,
        context: context,
        console: list('console'), errors: list('errors'), network: list('network'), actions: list('actions'),
        capture_health: []
      });
      if (settings.name || settings.email) r.reporter = { name: settings.name || undefined, email: settings.email || undefined };
      return r;
    }

    function submit() {
      send.disabled = true;
      say('Sending…');
      var item = {
        endpoint: settings.server + '/api/v1/intake/' + encodeURIComponent(settings.key),
        key: reportId,
        report: JSON.stringify(report()),
        screenshot: null,
        title: title.value.trim(),
        at: new Date().toISOString()
      };
      var png = boxes.screenshot && boxes.screenshot.checked ? fetch(shot.url).then(function (r) { return r.arrayBuffer(); }) : Promise.resolve(null);
      png.then(function (bytes) {
        item.screenshot = bytes;
        return MothOutbox.post(item);
      }).then(function (r) {
        var outcome = MothOutbox.outcome(r.status);
        if (outcome === 'refused') throw new Error('Moth refused the report: ' + MothOutbox.refusal(r));
        if (outcome === 'wait') return later(r);
        show([el('div', { className: 'done', role: 'status' }, [
          el('p', { className: 'ok', text: 'Sent as ' + r.answer.id + (r.answer.duplicate_of ? ', a duplicate of ' + r.answer.duplicate_of : '') + '. Track it here:' }),
          el('a', { href: r.answer.status_url, target: '_blank', rel: 'noopener', text: r.answer.status_url })
        ])]);
      }).catch(function (e) {
        send.disabled = false;
        say(reason(e), true);
      });

      // Moth is away (no network, or it answered 5xx or 429): the report waits in the outbox.
      function later(r) {
        var why = r.status ? 'Moth could not take the report just now (it answered ' + r.status + ')' : 'Moth could not be reached';
        return MothOutbox.keep(item).then(function () {
          show([el('div', { className: 'done queued', role: 'status' }, [
            el('p', { text: why + '; the report is saved and will be sent when it can be.' })
          ])]);
          return MothOutbox.state().then(function (state) { showOutbox(state); });
        }, function (e) {
          throw new Error(why + ' and the report could not be saved (' + reason(e) + '); it was not sent.');
        });
      }
    }
  }
})();
