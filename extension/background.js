/* The extension's service worker (a background script in Firefox): keeps the registered content
   scripts in step with the enabled sites when the extension is installed or starts, and when a
   site's permission is granted or taken back in the browser's own settings; and sends the
   reports waiting in the outbox when the browser starts, every minute while any wait (an
   alarm), and when the popup asks. */
if (typeof importScripts === 'function') importScripts('settings.js', 'outbox.js');

function resync() {
  MothSettings.sync().catch(function (e) { console.error('Moth: could not register the recorder:', e); });
}
function sendWaiting() {
  return MothOutbox.flush().catch(function (e) { console.error('Moth: could not send the outbox:', e); });
}

chrome.runtime.onInstalled.addListener(function (details) {
  resync();
  sendWaiting();
  if (details.reason === 'install') chrome.runtime.openOptionsPage();
});
chrome.runtime.onStartup.addListener(function () {
  resync();
  sendWaiting();
});
chrome.permissions.onAdded.addListener(resync);
chrome.permissions.onRemoved.addListener(resync);
chrome.alarms.onAlarm.addListener(function (alarm) {
  if (alarm.name === MothOutbox.ALARM) sendWaiting();
});
// The popup, when it opens and on "Send now": the answer is the outbox afterwards.
chrome.runtime.onMessage.addListener(function (message, sender, reply) {
  if (!message || message.type !== 'moth-outbox-flush') return;
  MothOutbox.flush().then(function (state) { reply({ state: state }); }, function (e) { reply({ error: (e && e.message) || String(e) }); });
  return true;
});
