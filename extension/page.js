/* The extension's half in the page's main world (after recorder.js): records from document
   start and, when the bridge asks, hands over the record, already redacted, as JSON text (the
   only thing that crosses between the page's world and the extension's unchanged). */
(function () {
  'use strict';
  var recorder = mothRecorder(window);
  document.addEventListener('moth-extension-collect', function () {
    var buf = recorder.buf;
    var record = mothRecorder.clean({
      page_url: location.href,
      environment: recorder.environment(),
      console: buf.console, errors: buf.errors, network: buf.network, actions: buf.actions
    });
    document.dispatchEvent(new CustomEvent('moth-extension-record', { detail: JSON.stringify(record) }));
  });
})();
