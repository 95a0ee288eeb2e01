// DOM helpers. Every string from tracked data goes through text nodes (createTextNode /
// textContent): nothing here ever assigns innerHTML, outerHTML or insertAdjacentHTML, and no
// attribute is ever built from data except through setAttribute on inert attributes.

// el('div', {class: 'card', 'data-testid': 'x'}, 'text', childNode, ...)
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'text') node.textContent = String(v);
      else if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(node, c);
    else if (c instanceof Node) node.appendChild(c);
    else node.appendChild(document.createTextNode(String(c)));
  }
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

const integer = new Intl.NumberFormat('en-US');
export function fmtInt(n) {
  return n === null || n === undefined ? '–' : integer.format(n);
}
export function fmtPercent(x) {
  return x === null || x === undefined ? '–' : (x * 100).toFixed(1) + '%';
}
export function fmtDuration(s) {
  if (s === null || s === undefined) return '–';
  const total = Math.round(s);
  const m = Math.floor(total / 60);
  const sec = total % 60;
  return m > 0 ? `${m}m ${String(sec).padStart(2, '0')}s` : `${sec}s`;
}
