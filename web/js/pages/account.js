// `#/account`: passkeys and sessions.
import { api } from '../api.js';
import { h, page, when } from '../dom.js';
import { go, renderSeq, route } from '../router.js';
import { state } from '../state.js';
import { stepped } from '../stepup.js';
import { action, prfNotice, renderNav } from '../ui.js';
import { createCredential, getAssertion, wipe } from '../webauthn.js';
import { letIn, loadKeyring, newPasskeyPrf, openers } from '../keyring.js';
import { singlePasskeyWarning, withWalletPrf } from './wallet.js';

export async function accountPage() {
  const seq = renderSeq;
  const u = state.me.user;
  const pk = await api('GET', '/api/passkeys');
  const ss = await api('GET', '/api/sessions');
  const ring = await loadKeyring();
  if (seq !== renderSeq) return;
  const out = h('div');
  // Which passkeys open the wallet (docs/wallet.md, "More than one device").
  const opens = new Set(openers(ring, pk.passkeys).map((p) => p.id));
  const single = singlePasskeyWarning(ring, pk.passkeys, { link: false });
  const list = h('ul.list', {}, pk.passkeys.map((p) => {
    const li = h('li');
    const nameEl = h('span.item-title', { text: p.name });
    li.append(
      h('div.row.spread', {}, nameEl,
        h('span', {},
          ring.origin ? (opens.has(p.id)
            ? h('span.pill.ok', { 'data-testid': 'passkey-opens-wallet', text: 'opens the wallet' })
            : h('span.pill.warn', { 'data-testid': 'passkey-no-wallet', text: 'cannot open the wallet' })) : null,
          ' ',
          p.backup_state ? h('span.pill.ok', { text: 'synced' }) : h('span.pill', { text: 'this device only' }))),
      h('div.small.muted', { text: `Added ${when(p.created_at)} · last used ${p.last_used_at ? when(p.last_used_at) : 'never'}` }),
      h('div.row', {},
        action('Rename', 'link', async () => {
          const n = prompt('New name for this passkey', p.name);
          if (n === null) return;
          await api('PATCH', `/api/passkeys/${encodeURIComponent(p.id)}`, { name: n.trim() });
          route();
        }, { out }),
        action('Remove', 'link', async () => {
          // The last passkey that opens the wallet: the loss is named before anything happens.
          const last = opens.has(p.id) && opens.size === 1;
          const loss = last
            ? `\n\n“${p.name}” is the only passkey that opens your wallet. Removing it loses the wallet and everything in it, unless you have written down its 24-word recovery phrase. To keep it, first add another device (Add a passkey) or let another passkey open the wallet.`
            : (opens.has(p.id) ? '\n\nYour wallet stays: your other passkeys that open it keep opening it.' : '');
          if (!confirm(`Remove the passkey “${p.name}”? It will no longer sign in or approve.${loss}\n\nYour passkey confirms this removal (of passkey ${p.id}) next.`)) return;
          await stepped('DELETE', `/api/passkeys/${encodeURIComponent(p.id)}`, undefined, 'passkey.delete', p.id);
          route();
        }, { out, busy: 'Waiting for your passkey…' })));
    return li;
  }));
  const sessions = h('ul.list', {}, ss.sessions.map((s) => h('li', {},
    h('div.row.spread', {}, h('span.item-title', { text: s.client_addr || 'unknown address' }),
      s.id === ss.current ? h('span.pill.ok', { text: 'this browser' }) : null),
    h('div.small.muted', { text: `Signed in ${when(s.created_at)} · ends ${when(s.expires_at)}` }))));
  page('Your account',
    out, ...(single ? [single] : []),
    h('div.card', {}, h('div.row.spread', {}, h('h2', { text: u.display_name }), h('span.pill', { text: u.role })),
      h('p.muted.small', { text: `User name ${u.name}` })),
    h('div.card.stack', { 'aria-labelledby': 'pk-h' }, h('h2', { id: 'pk-h', text: 'Passkeys' }), list,
      action('Add a passkey (another device)', 'primary', async () => {
        const name = (prompt('A name for the new passkey (e.g. “work laptop”)', 'another device') || 'another device').trim();
        // First a passkey this account already has confirms it is you (a step-up, as for a
        // command-line session), then the new device creates its passkey.
        const check = await api('POST', '/api/login/start');
        const a = await getAssertion(check.options, { prf: false });
        const start = await api('POST', '/api/passkeys/register/start', { name, ceremony_id: check.ceremony_id, credential: a.json });
        const created = await createCredential(start.options);
        let added = null;
        try {
          added = await api('POST', '/api/passkeys/register/finish', { ceremony_id: start.ceremony_id, credential: created.json });
          // The new passkey's PRF output, evaluated now (a `prf.enabled` flag is not enough): the
          // wallet is sealed to it, so that it opens the same wallet as this device.
          const newPrf = await newPasskeyPrf(created);
          if (!newPrf) { out.append(prfNotice()); return; }
          await letIn(withWalletPrf, added.credential_id, newPrf); // zeroes it
        } finally {
          wipe(created.prf);
        }
        route();
      }, { out, testid: 'add-passkey', busy: 'Waiting for your passkeys…' })),
    h('div.card.stack', {}, h('h2', { text: 'Sessions' }),
      h('p.small.muted', { text: 'Sessions are short: they end on their own after the lifetime your admin set.' }), sessions,
      h('div.row', {},
        action('Sign out here', '', async () => { await api('POST', '/api/logout'); state.me = null; renderNav(); go('#/signin'); }, { out, testid: 'logout' }),
        action('Sign out everywhere', 'danger', async () => {
          if (!confirm('Sign out of every browser and command-line session?')) return;
          await api('POST', '/api/logout/all'); state.me = null; renderNav(); go('#/signin');
        }, { out }))),
    h('div.card.stack', {}, h('h2', { text: 'Approver' }),
      h('p.small', { text: 'To approve secret requests, open the invite link your admin sends you on the device that holds your passkey.' })));
}
