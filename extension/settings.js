/* What the options page, the popup and the background share: the stored settings, reading what
   a person typed (a server address, sites) into origins and match patterns, and keeping the
   registered content scripts in step with the enabled sites whose permission was granted. */
var MothSettings = (function () {
  'use strict';
  var DEFAULTS = { server: '', key: '', sites: [], name: '', email: '' };
  // The recorder and the page half in the page's own world (it must see the page's console,
  // fetch and XHR); the bridge in the isolated world, where the extension's messages arrive.
  var SCRIPTS = [
    { id: 'moth-recorder', js: ['recorder.js', 'page.js'], world: 'MAIN' },
    { id: 'moth-bridge', js: ['bridge.js'], world: 'ISOLATED' }
  ];

  function load() {
    return chrome.storage.local.get(DEFAULTS);
  }

  function problem(field, message) {
    var e = new Error(message);
    e.field = field;
    return e;
  }

  // A server address: http(s), no query or fragment; a path prefix is kept.
  function parseServer(text) {
    var raw = String(text || '').trim(), url;
    if (!raw) throw problem('server', 'Write the address of your Moth server, like https://moth.example.com.');
    if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) raw = 'https://' + raw;
    try { url = new URL(raw); } catch (e) {
      throw problem('server', '“' + text + '” is not an address. Write it like https://moth.example.com.');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw problem('server', 'The server address must start with https:// (or http:// on a local network), not ' + url.protocol + '//.');
    }
    if (url.username || url.password || url.search || url.hash) {
      throw problem('server', 'Write only the server address, without a user name, ?query or #fragment.');
    }
    return { base: url.origin + url.pathname.replace(/\/+$/, ''), pattern: url.protocol + '//' + url.hostname + '/*' };
  }

  function parseKey(text) {
    var key = String(text || '').trim();
    if (!key) throw problem('key', 'Paste the intake key of the project (an admin finds it in the project’s settings).');
    if (/[\s/?#]/.test(key)) throw problem('key', 'An intake key has no spaces, slashes, ? or #: paste only the key.');
    return key;
  }

  // A site: a host (`shop.example.com`, `*.example.com`, `localhost`) or an address
  // (`https://shop.example.com/any/path`). Match patterns carry no port (Firefox refuses one)
  // and no path: the recorder runs on the whole site.
  var HOST = /^(\*\.)?([a-z0-9-]+(\.[a-z0-9-]+)*|\[[0-9a-f:]+\])$/i;
  function parseSite(text) {
    var raw = String(text).trim(), scheme = '*', m = raw.match(/^([a-z*]+):\/\/(.*)$/i);
    if (m) {
      scheme = m[1].toLowerCase();
      raw = m[2];
      if (scheme !== 'http' && scheme !== 'https' && scheme !== '*') {
        throw problem('sites', '“' + text + '”: only http and https sites can be recorded.');
      }
    }
    var host = raw.split(/[/?#]/)[0].replace(/:\d+$/, '').toLowerCase();
    if (!HOST.test(host)) {
      throw problem('sites', '“' + text + '” is not a site. Write a host such as shop.example.com or *.example.com, or an address such as https://shop.example.com.');
    }
    return scheme + '://' + host + '/*';
  }

  function parseSites(text) {
    var seen = {};
    return String(text || '').split(/[\n,]+/).map(function (s) { return s.trim(); }).filter(Boolean).map(parseSite)
      .filter(function (p) { return seen[p] ? false : (seen[p] = true); });
  }

  // Registers the recorder on the enabled sites the browser lets us into, and nowhere else.
  // One at a time across the options page and the background (a granted permission wakes
  // both), or two registrations of the same id collide.
  function sync() {
    return navigator.locks ? navigator.locks.request('moth-content-scripts', syncNow) : syncNow();
  }
  function syncNow() {
    return load().then(function (settings) {
      return Promise.all(settings.sites.map(function (pattern) {
        return chrome.permissions.contains({ origins: [pattern] }).then(function (ok) { return ok ? pattern : null; }, function () { return null; });
      }));
    }).then(function (granted) {
      granted = granted.filter(Boolean);
      var ids = SCRIPTS.map(function (s) { return s.id; });
      return chrome.scripting.getRegisteredContentScripts({ ids: ids }).then(function (registered) {
        if (!registered.length) return;
        return chrome.scripting.unregisterContentScripts({ ids: registered.map(function (s) { return s.id; }) });
      }).then(function () {
        if (!granted.length) return granted;
        return chrome.scripting.registerContentScripts(SCRIPTS.map(function (s) {
          return { id: s.id, js: s.js, world: s.world, matches: granted, runAt: 'document_start', allFrames: false, persistAcrossSessions: true };
        })).then(function () { return granted; });
      });
    });
  }

  return { load: load, parseServer: parseServer, parseKey: parseKey, parseSites: parseSites, sync: sync };
})();
