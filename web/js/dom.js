// DOM helpers: elements built from tags and text (never from HTML strings: the page runs under
// Trusted Types with no policy), times in words, notices and the page frame.

export const $ = (sel, root = document) => root.querySelector(sel);

/** Builds an element: h('p.muted', {…attrs}, children…). Text is always set as text. */
export function h(tag, attrs = {}, ...kids) {
  const [name, ...classes] = tag.split('.');
  const el = document.createElement(name || 'div');
  if (classes.length) el.className = classes.join(' ');
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const kid of kids.flat()) {
    if (kid === null || kid === undefined || kid === false) continue;
    el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return el;
}

export const when = (secs) => (secs ? new Date(secs * 1000).toLocaleString() : '—');

export const nowSecs = () => Date.now() / 1000;

export function inWords(secs) {
  const s = Math.round(secs);
  if (s <= 0) return 'now';
  if (s < 90) return `${s} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} days`;
}

/** How long ago Unix second `t` was, in words. */
export const ago = (t) => (nowSecs() - t < 5 ? 'just now' : `${inWords(nowSecs() - t)} ago`);

export const short = (id) => (id && id.length > 14 ? `${id.slice(0, 8)}…${id.slice(-4)}` : id);

export function setBanner(kind, title, text) {
  const b = $('#banner');
  b.replaceChildren();
  if (kind) b.append(h(`div.notice.${kind}`, {}, h('strong', { text: title }), text ? h('span', { text }) : null));
}

export function notice(kind, title, text, ...more) {
  return h(`div.notice.${kind}`, { role: kind === 'bad' ? 'alert' : 'status' },
    h('strong', { text: title }), text ? h('div', { text }) : null, ...more);
}

/** Server and core messages are lower-case fragments; show them as sentences. */
export function sentence(m) {
  const t = String(m).trim();
  if (!t) return t;
  const s = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?]$/.test(s) ? s : `${s}.`;
}

export function page(title, ...kids) {
  document.title = `${title} · blindvault`;
  const main = $('#main');
  main.replaceChildren(h('h1', { text: title }), ...kids);
  return main;
}
