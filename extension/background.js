/* The extension's service worker (a background script in Firefox): keeps the registered content
   scripts in step with the enabled sites when the extension is installed or starts, and when a
   site's permission is granted or taken back in the browser's own settings. */
if (typeof importScripts === 'function') importScripts('settings.js');

function resync() {
  MothSettings.sync().catch(function (e) { console.error('Moth: could not register the recorder:', e); });
}

chrome.runtime.onInstalled.addListener(function (details) {
  resync();
  if (details.reason === 'install') chrome.runtime.openOptionsPage();
});
chrome.runtime.onStartup.addListener(resync);
chrome.permissions.onAdded.addListener(resync);
chrome.permissions.onRemoved.addListener(resync);
