/* The demo page's script: loads the widget with the key from ?key= (the page's CSP forbids
   inline scripts) and wires the buttons that make things go wrong. */
(function () {
  'use strict';
  var key = new URLSearchParams(location.search).get('key');
  var out = document.getElementById('out');
  if (!key) {
    document.getElementById('key-missing').hidden = false;
  } else {
    var widget = document.createElement('script');
    widget.src = '/widget.js';
    widget.async = true;
    widget.setAttribute('data-moth-key', key);
    document.head.appendChild(widget);
  }
  document.getElementById('log').addEventListener('click', function () {
    console.log('demo: cart loaded', { items: 3, total: 42.5 });
    console.warn('demo: coupon expired');
    out.textContent = 'Logged two lines to the console.';
  });
  document.getElementById('throw').addEventListener('click', function () {
    out.textContent = 'Threw an error.';
    throw new Error('demo: checkout exploded');
  });
  document.getElementById('fetch').addEventListener('click', function () {
    fetch('/nonexistent').then(function (r) {
      out.textContent = 'The request answered ' + r.status + '.';
    });
  });
  // Breaks the layout without inline styles (the CSP forbids them): an unbreakable line and
  // a canvas far wider than the page push everything sideways.
  document.getElementById('layout').addEventListener('click', function () {
    var items = document.getElementById('items');
    items.textContent = 'Total:' + new Array(40).join('-') + 'TOTAL_OVERFLOWS_THE_BOX' + new Array(60).join('=');
    var wide = document.createElement('canvas');
    wide.width = 2400;
    wide.height = 24;
    wide.getContext('2d').fillRect(0, 0, 2400, 24);
    document.getElementById('cart').insertBefore(wide, items);
    console.warn('demo: layout broken on purpose');
    out.textContent = 'Broke the layout: the cart is wider than the page now.';
  });
  document.getElementById('open').addEventListener('click', function () {
    if (window.Moth) window.Moth.open();
  });
})();
