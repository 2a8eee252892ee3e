/* The extension's half in the isolated world: the popup asks it for the page's record, it asks
   page.js through a DOM event (events are dispatched synchronously, so the answer is there
   when dispatchEvent returns). */
chrome.runtime.onMessage.addListener(function (message, sender, reply) {
  if (!message || message.type !== 'moth-collect') return;
  var answer = null;
  function take(e) { if (typeof e.detail === 'string') answer = e.detail; }
  document.addEventListener('moth-extension-record', take);
  document.dispatchEvent(new CustomEvent('moth-extension-collect'));
  document.removeEventListener('moth-extension-record', take);
  try {
    reply(answer ? { record: JSON.parse(answer) } : { error: 'the recorder did not answer' });
  } catch (e) {
    reply({ error: 'the page’s record could not be read' });
  }
});
