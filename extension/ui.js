/* Building the extension's pages from elements (no HTML strings). */
function mothEl(name, props, kids) {
  'use strict';
  var n = document.createElement(name);
  for (var k in props || {}) {
    if (k === 'text') n.textContent = props[k];
    else if (k.slice(0, 2) === 'on') n.addEventListener(k.slice(2), props[k]);
    else if (k in n) n[k] = props[k];
    else n.setAttribute(k, props[k]);
  }
  (kids || []).forEach(function (c) { if (c) n.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
  return n;
}
