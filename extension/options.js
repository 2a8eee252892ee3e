/* The options page: the server, the project's intake key and the sites to record on. Saving
   asks the browser for access to the server and the sites (in the click, which a permission
   request needs), checks that the server answers and knows the key, then stores the settings
   and registers the recorder. */
(function () {
  'use strict';
  var form = document.getElementById('settings'), f = form.elements;
  var message = document.getElementById('message'), save = document.getElementById('save');

  function say(text, kind, field) {
    message.textContent = text;
    message.className = 'msg' + (kind ? ' ' + kind : '');
    ['server', 'key', 'sites', 'email'].forEach(function (name) { f[name].removeAttribute('aria-invalid'); });
    if (field && f[field]) { f[field].setAttribute('aria-invalid', 'true'); f[field].focus(); }
  }

  MothSettings.load().then(function (s) {
    f.server.value = s.server;
    f.key.value = s.key;
    f.sites.value = s.sites.join('\n');
    f.name.value = s.name;
    f.email.value = s.email;
    form.setAttribute('data-loaded', 'true');
  });

  function read() {
    var server = MothSettings.parseServer(f.server.value);
    var email = f.email.value.trim();
    if (email && !/^[^\s@]+@[^\s@]+$/.test(email)) {
      var e = new Error('“' + email + '” is not an e-mail address; leave it empty or write one like ana@example.com.');
      e.field = 'email';
      throw e;
    }
    return { server: server, key: MothSettings.parseKey(f.key.value), sites: MothSettings.parseSites(f.sites.value), name: f.name.value.trim(), email: email };
  }

  // The server answers /healthz, and the intake endpoint's preflight knows the key (404 if not),
  // without filing anything.
  function check(input) {
    var base = input.server.base;
    function unreachable(e) {
      throw new Error('Could not reach ' + base + ' (' + ((e && e.message) || e) + '). Is the address right and the server running?');
    }
    return fetch(base + '/healthz', { credentials: 'omit' }).then(function (r) {
      if (!r.ok) throw new Error(base + ' answered ' + r.status + ' to /healthz: is it a Moth server?');
      return r.json().catch(function () { return {}; });
    }, unreachable).then(function (health) {
      if (!health || health.status !== 'ok') throw new Error(base + ' does not look like a Moth server (its /healthz answered something else).');
      return fetch(base + '/api/v1/intake/' + encodeURIComponent(input.key), { method: 'OPTIONS', credentials: 'omit' }).catch(unreachable);
    }).then(function (r) {
      if (r.ok) return;
      return r.json().catch(function () { return {}; }).then(function (body) {
        var text = body && body.error && body.error.message;
        var e = new Error(r.status === 404 ? 'Moth does not know this intake key' + (text ? ': ' + text : '.') : 'Moth answered ' + r.status + (text ? ': ' + text : '.'));
        e.field = r.status === 404 ? 'key' : null;
        throw e;
      });
    });
  }

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    var input;
    try { input = read(); } catch (e) { say(e.message, 'err', e.field); return; }
    save.disabled = true;
    say('Asking the browser for access…');
    // First, while the click still counts as one: the browser refuses permission requests later.
    chrome.permissions.request({ origins: [input.server.pattern].concat(input.sites) }).then(function (granted) {
      if (!granted) {
        throw new Error('The browser did not grant access to ' + [input.server.pattern].concat(input.sites).join(', ') +
          '. The extension needs it to send reports to the server and to record on the sites.');
      }
      say('Testing ' + input.server.base + '…');
      return check(input);
    }).then(function () {
      return MothSettings.load();
    }).then(function (before) {
      // Access to sites no longer listed is given back (the server's stays).
      var dropped = before.sites.filter(function (p) { return input.sites.indexOf(p) < 0 && p !== input.server.pattern; });
      if (dropped.length) chrome.permissions.remove({ origins: dropped }).catch(function () { /* declared in the manifest */ });
      return chrome.storage.local.set({ server: input.server.base, key: input.key, sites: input.sites, name: input.name, email: input.email });
    }).then(MothSettings.sync).then(function (recording) {
      f.server.value = input.server.base;
      f.sites.value = input.sites.join('\n');
      say('Saved. Moth at ' + input.server.base + ' knows the key' + (recording.length ? '; recording on ' + recording.join(', ') +
        ' (reload pages that were already open).' : '; no sites to record on, so reports carry the screenshot and the address only.'), 'ok');
      form.setAttribute('data-saved', 'true');
    }).catch(function (e) {
      say(e.message || String(e), 'err', e.field);
    }).then(function () { save.disabled = false; });
  });
})();
