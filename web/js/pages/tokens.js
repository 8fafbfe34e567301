// `#/account/tokens`: command-line tokens — make one (a step-up with your passkey), see it once,
// list mine with their last use, revoke; an admin also sees and revokes the org's.
import { api } from '../api.js';
import { h, notice, page, when } from '../dom.js';
import { renderSeq, route } from '../router.js';
import { isAdmin } from '../state.js';
import { stepped } from '../stepup.js';
import { action } from '../ui.js';

const DEFAULT_DAYS = 30;
const MAX_DAYS = 365;

function status(t) {
  const now = Date.now() / 1000;
  if (t.revoked_at) return h('span.pill.bad', { text: 'revoked' });
  if (t.expires_at <= now) return h('span.pill.warn', { text: 'expired' });
  return h('span.pill.ok', { text: 'live' });
}

function tokenItem(t, out, { owner }) {
  const live = !t.revoked_at && t.expires_at > Date.now() / 1000;
  return h('li', { 'data-testid': 'token-row', 'data-token-id': t.id },
    h('div.row.spread', {}, h('span.item-title', { text: t.name }),
      h('span', {}, h('span.pill', { text: t.scope }), ' ', status(t))),
    owner ? h('div.small', { text: `Owner: ${t.user_name}` }) : null,
    h('div.small.muted', { 'data-testid': 'token-last-use', text: `Last used ${t.last_used_at ? `${when(t.last_used_at)}${t.last_used_addr ? ` from ${t.last_used_addr}` : ''}` : 'never'}` }),
    h('div.small.muted', { text: `Made ${when(t.created_at)} · ${t.revoked_at ? `revoked ${when(t.revoked_at)}` : `expires ${when(t.expires_at)}`}` }),
    live ? h('div.row', {}, action('Revoke', 'danger', async () => {
      if (!confirm(`Revoke the token “${t.name}”${owner ? ` of ${t.user_name}` : ''}? Every command that uses it is refused from now on.`)) return;
      await api('DELETE', `/api/tokens/${encodeURIComponent(t.id)}`);
      route();
    }, { out, testid: 'revoke-token' })) : null);
}

/** What to run with a new token: `blindvault login` (the OS keyring), or a file. */
function howToUse(token) {
  const server = location.origin;
  const text = h('textarea', { readonly: true, rows: 2, 'aria-label': 'The new token', 'data-testid': 'new-token' });
  text.value = token;
  const copy = h('button', { type: 'button', text: 'Copy' });
  copy.addEventListener('click', async () => {
    try { await navigator.clipboard.writeText(token); copy.textContent = 'Copied'; } catch { text.select(); copy.textContent = 'Select and copy'; }
  });
  return h('div.stack', { 'data-testid': 'token-shown' },
    notice('warn', 'Shown once', 'Copy it now: it is not shown again (the server keeps only its hash). Anyone who has it acts as you within its scope until it expires or you revoke it.'),
    text, h('div.row', {}, copy),
    h('p.small', { text: 'On a machine with an OS keyring, paste it into:' }),
    h('p.small', {}, h('code', { text: `blindvault login --server ${server}` })),
    h('p.small', { text: 'Or keep it in a file only you can read:' }),
    h('p.small', {}, h('code', { text: '(umask 077; cat > ~/.config/blindvault/token)   # paste the token, then Ctrl-D' })),
    h('p.small', {}, h('code', { text: 'export BLINDVAULT_TOKEN_FILE=~/.config/blindvault/token' })));
}

export async function tokensPage() {
  const seq = renderSeq;
  const mine = await api('GET', '/api/tokens');
  const all = isAdmin() ? await api('GET', '/api/admin/tokens') : null;
  if (seq !== renderSeq) return;
  const out = h('div');
  const shown = h('div');
  const name = h('input', { id: 'token-name', value: 'laptop', maxlength: 64, required: true });
  const scope = h('select', { id: 'token-scope' },
    ...(isAdmin() ? [h('option', { value: 'admin', text: 'admin — what the admin command line does' })] : []),
    h('option', { value: 'consumer-read', text: 'consumer-read — read-only calls' }));
  const days = h('input', { id: 'token-days', type: 'number', min: 1, max: MAX_DAYS, value: DEFAULT_DAYS, required: true });
  const make = action('Make a token', 'primary', async () => {
    const n = Number(days.value);
    if (!Number.isInteger(n) || n < 1 || n > MAX_DAYS) throw new Error(`the expiry is 1 to ${MAX_DAYS} days`);
    // Your passkey confirms it (a step-up bound to the scope), then the server makes it.
    const r = await stepped('POST', '/api/tokens', { name: name.value.trim(), scope: scope.value, expires_in_days: n }, 'token.create', scope.value);
    shown.replaceChildren(howToUse(r.token));
    list.prepend(tokenItem(r.info, out, { owner: false }));
    empty.remove();
  }, { out, testid: 'make-token', busy: 'Waiting for your passkey…' });
  const list = h('ul.list', { 'data-testid': 'my-tokens' }, mine.tokens.map((t) => tokenItem(t, out, { owner: false })));
  const empty = mine.tokens.length ? h('span') : h('p.small.muted', { text: 'No tokens yet.' });
  page('Command-line tokens', out,
    h('div.card.stack', {},
      h('p', { text: 'The blindvault command line signs in with a token made here: it acts as you, within its scope, until it expires or you revoke it. Making one needs your passkey; managing tokens and passkeys is never possible with a token.' }),
      h('label', { for: 'token-name', text: 'Name' }), name,
      h('label', { for: 'token-scope', text: 'Scope' }), scope,
      h('label', { for: 'token-days', text: 'Expires after (days)' }), days,
      h('div.row', {}, make), shown),
    h('div.card.stack', {}, h('h2', { text: 'Your tokens' }), empty, list),
    all ? h('div.card.stack', {}, h('h2', { text: 'Everyone’s tokens' }),
      h('p.small.muted', { text: 'As an admin you see every token of the organisation (never the token itself) and may revoke any.' }),
      all.tokens.length ? h('ul.list', { 'data-testid': 'org-tokens' }, all.tokens.map((t) => tokenItem(t, out, { owner: true })))
        : h('p.small.muted', { text: 'None.' })) : null,
    h('p.small', {}, h('a', { href: '#/account', text: 'Back to your account' })));
}
