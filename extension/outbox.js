/* The outbox, shared by the popup and the background: a report Moth could not take (no network,
   or it answered 5xx or 429) waits in IndexedDB, in the extension's own origin, and the
   background sends it again every minute while anything waits, when the browser starts and when
   the popup opens. Each keeps its Idempotency-Key, so a resend after a lost answer files it once.
   A refusal (any other 4xx) will never succeed: the report leaves the outbox and is remembered as
   failed, with Moth's words, until the person dismisses it. */
var MothOutbox = (function () {
  'use strict';
  var ALARM = 'moth-outbox';
  var KEEP_FAILED = 20;
  var SEND_TIMEOUT_MS = 120000;

  function reason(e) { return (e && e.message) || String(e); }

  function open() {
    return new Promise(function (ok, fail) {
      var req = indexedDB.open('moth-outbox', 1);
      req.onupgradeneeded = function () {
        req.result.createObjectStore('waiting', { autoIncrement: true });
        req.result.createObjectStore('failed', { autoIncrement: true });
      };
      req.onsuccess = function () { ok(req.result); };
      req.onerror = function () { fail(req.error); };
    });
  }
  // One transaction; `work` gets the transaction and a setter for what it resolves to.
  function transact(mode, work) {
    return open().then(function (db) {
      return new Promise(function (ok, fail) {
        var tx = db.transaction(['waiting', 'failed'], mode), result;
        work(tx, function (r) { result = r; });
        tx.oncomplete = function () { db.close(); ok(result); };
        tx.onerror = tx.onabort = function () { db.close(); fail(tx.error || new Error('the outbox could not be written')); };
      });
    });
  }
  function entries(store, set) {
    var found = [];
    store.openCursor().onsuccess = function (e) {
      var c = e.target.result;
      if (c) { found.push({ id: c.key, item: c.value }); c.continue(); } else set(found);
    };
  }

  // An item: { endpoint, key (the Idempotency-Key), report (JSON text), screenshot (PNG bytes
  // or null), title, at }. Answers { status, answer, error }; status 0 when Moth was not reached.
  function post(item) {
    var body = new FormData();
    body.append('report', new Blob([item.report], { type: 'application/json' }), 'report.json');
    if (item.screenshot) body.append('screenshot', new Blob([item.screenshot], { type: 'image/png' }), 'screenshot.png');
    // A server that swallows packets would hold the outbox's lock for minutes; a send cut short
    // waits for the next round (its key makes that safe however far it got).
    var signal = typeof AbortSignal.timeout === 'function' ? AbortSignal.timeout(SEND_TIMEOUT_MS) : undefined;
    return fetch(item.endpoint, { method: 'POST', body: body, credentials: 'omit', headers: { 'Idempotency-Key': item.key }, signal: signal }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (answer) { return { status: r.status, answer: answer }; });
    }, function (e) {
      return { status: 0, answer: {}, error: reason(e) };
    });
  }
  // 'sent' (200: Moth had it already, its first answer was lost), 'wait' (try again later) or
  // 'refused' (it never will be taken as it is).
  function outcome(status) {
    if (status === 201 || status === 200) return 'sent';
    if (status >= 400 && status < 500 && status !== 408 && status !== 429) return 'refused';
    return 'wait';
  }
  function refusal(r) {
    var text = r.answer && r.answer.error && r.answer.error.message;
    return text || 'Moth answered ' + r.status + '.';
  }

  // The alarm wakes the background to send, and is there only while something waits.
  function remind(waiting) {
    if (!chrome.alarms) return Promise.resolve();
    var p = waiting ? chrome.alarms.get(ALARM).then(function (a) { return a || chrome.alarms.create(ALARM, { periodInMinutes: 1 }); })
      : chrome.alarms.clear(ALARM);
    return Promise.resolve(p).catch(function (e) { console.error('Moth: the outbox alarm:', e); });
  }

  function keep(item) {
    return transact('readwrite', function (tx) { tx.objectStore('waiting').add(item); }).then(function () { return remind(true); });
  }

  // What the popup shows: how many wait, and the refused ones.
  function state() {
    return transact('readonly', function (tx, set) {
      var waiting = tx.objectStore('waiting').count();
      entries(tx.objectStore('failed'), function (failed) {
        set({ waiting: waiting.result, failed: failed.map(function (f) { return { id: f.id, title: f.item.title, message: f.item.message, at: f.item.at }; }) });
      });
    });
  }

  function dismiss(id) {
    return transact('readwrite', function (tx) { tx.objectStore('failed').delete(id); });
  }

  // Sends what waits, oldest first; a server that cannot take one now is not asked again this
  // round. One sender at a time across the popup and the background (Web Locks are per origin),
  // so a report is not sent twice at once. Answers the state afterwards.
  function flush() {
    var run = function () {
      return transact('readonly', function (tx, set) { entries(tx.objectStore('waiting'), set); }).then(function (waiting) {
        var away = {};
        return waiting.reduce(function (p, e) {
          return p.then(function () {
            if (away[e.item.endpoint]) return;
            return post(e.item).then(function (r) {
              var o = outcome(r.status);
              if (o === 'wait') { away[e.item.endpoint] = true; return; }
              return transact('readwrite', function (tx) {
                tx.objectStore('waiting').delete(e.id);
                if (o !== 'refused') return;
                var failed = tx.objectStore('failed');
                failed.add({ title: e.item.title, endpoint: e.item.endpoint, status: r.status, message: refusal(r), at: new Date().toISOString() });
                failed.getAllKeys().onsuccess = function (k) {
                  k.target.result.slice(0, -KEEP_FAILED).forEach(function (id) { failed.delete(id); });
                };
              });
            });
          });
        }, Promise.resolve());
      });
    };
    var sent = navigator.locks ? navigator.locks.request('moth-outbox', run) : run();
    return sent.then(state).then(function (s) { return remind(s.waiting > 0).then(function () { return s; }); });
  }

  return { ALARM: ALARM, post: post, outcome: outcome, refusal: refusal, keep: keep, state: state, dismiss: dismiss, flush: flush };
})();
