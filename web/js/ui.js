// Pieces every page uses: error notices, busy buttons, the navigation bar.
import { API } from './api-codes.js';
import { $, h, inWords, notice, sentence } from './dom.js';
import { isAdmin, state } from './state.js';
import { PRF_PLATFORMS, PRF_UNSUPPORTED, PrfUnsupported } from './webauthn.js';

export function errorNotice(e) {
  // An error that carries its own notice (a passkey that opens no wallet: what to do).
  if (e && e.notice instanceof Node) return e.notice;
  if (e instanceof PrfUnsupported || (e && e.code === 'prf_unsupported')) return prfNotice();
  if (e && e.name === 'NotAllowedError') {
    return notice('warn', 'The passkey prompt was closed', 'Nothing was changed. Try again when you are ready.');
  }
  if (e && e.code === API.RATE_LIMITED) {
    const when = e.retryAfter ? `in ${inWords(Math.max(1, e.retryAfter))}` : 'in a minute';
    return h('div.notice.warn', { role: 'alert', 'data-testid': 'rate-limited' },
      h('strong', { text: 'Too many attempts' }),
      h('div', { text: `${sentence(e.message)} Nothing was changed. Try again ${when}.` }));
  }
  return notice('bad', 'That did not work', sentence(e && e.message ? e.message : String(e)));
}

export function prfNotice() {
  return h('div.notice.bad', { role: 'alert', 'data-testid': 'prf-unsupported' },
    h('strong', { text: 'This passkey cannot protect secrets here' }),
    h('p', { text: PRF_UNSUPPORTED }),
    h('p', { text: 'Passkeys that work:' }),
    h('ul', {}, PRF_PLATFORMS.map((p) => h('li', { text: p }))),
  );
}

export function renderNav() {
  const route = location.hash.split('/')[1] || '';
  const links = state.me
    ? [['requests', 'Requests'], ['wallet', 'Wallet'], ['account', 'Account'], ...(isAdmin() ? [['admin', 'Admin']] : [])]
    : [['signin', 'Sign in'], ['signup', 'Create account']];
  $('#nav').replaceChildren(...links.map(([r, t]) =>
    h('a', { href: `#/${r}`, 'aria-current': route === r ? 'page' : false, text: t })));
}

/** A button that runs `fn`, disables itself meanwhile and shows `busy` text. Errors land in `out`. */
export function action(label, cls, fn, { busy = 'Working…', out = null, testid } = {}) {
  const b = h(`button${cls ? '.' + cls.split(' ').join('.') : ''}`, { type: 'button', 'data-testid': testid, text: label });
  b.addEventListener('click', async () => {
    const old = b.textContent;
    b.disabled = true;
    b.textContent = busy;
    if (out) out.replaceChildren();
    try {
      await fn();
    } catch (e) {
      (out || $('#main')).prepend(errorNotice(e));
    } finally {
      if (b.isConnected) { b.disabled = false; b.textContent = old; }
    }
  });
  return b;
}
