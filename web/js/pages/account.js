// `#/account`: passkeys, sessions, and the way to command-line tokens (`#/account/tokens`).
import { api } from '../api.js';
import { h, page, when } from '../dom.js';
import { go, renderSeq, route } from '../router.js';
import { state } from '../state.js';
import { stepped } from '../stepup.js';
import { action, prfNotice, renderNav } from '../ui.js';
import { b64u, createCredential, getAssertion, wipe } from '../webauthn.js';
import { letIn, loadKeyring, newPasskeyPrf, openers } from '../keyring.js';
import { walletModule } from '../wallet.js';
import { singlePasskeyWarning, withWalletPrf } from './wallet.js';

const PHRASE = 'its 24-word recovery phrase (Wallet → Settings and recovery phrase, #/wallet/settings)';

/** Removes passkey `p` behind its step-up (by another passkey), asking first. What the keyring
 * says (`opens`: the passkeys it lists as opening the wallet) is not believed for the claim that
 * the wallet stays: an envelope can be junk. The step-up is then a PRF ceremony, and the wallet
 * stays only if the passkey that answered it opened the wallet in the module just now; if not,
 * the question names the loss. */
async function removePasskey(p, passkeys, opens) {
  const ask = `Remove the passkey “${p.name}”? It will no longer sign in or approve.`;
  const next = `\n\nYour passkey confirms this removal (of passkey ${p.id}) next.`;
  const loss = (why) => `${why} Removing it loses the wallet and everything in it, unless you have written down ${PHRASE}. To keep it, first add another device (Add a passkey) or let another passkey open the wallet.`;
  const path = `/api/passkeys/${encodeURIComponent(p.id)}`;
  if (!opens.has(p.id)) {
    if (!confirm(ask + next)) return;
    await stepped('DELETE', path, undefined, 'passkey.delete', p.id);
    return;
  }
  if (opens.size === 1) {
    // The last passkey that opens the wallet: the loss is named before anything happens.
    if (!confirm(`${ask}\n\n${loss(`“${p.name}” is the only passkey that opens your wallet.`)}${next}`)) return;
    await stepped('DELETE', path, undefined, 'passkey.delete', p.id);
    return;
  }
  if (!confirm(`${ask}\n\nNext, confirm with another of your passkeys: it is also checked to open your wallet.`)) return;
  const w = await walletModule();
  const seen = {};
  let opened = true;
  try {
    await withWalletPrf((prf) => w.walletAddresses(prf, 0), { exclude: p.id, stepUp: { action: 'passkey.delete', target: p.id }, seen }); // zeroes prf
  } catch (e) {
    if (!seen.stepUp || !e || (e.code !== 'no_wallet' && e.code !== 'envelope')) throw e;
    opened = false;
  }
  const by = (passkeys.find((k) => k.id === seen.credentialId) || {}).name || 'the passkey you used';
  const claim = opened
    ? `Your wallet stays: your passkey “${by}” opened it just now.`
    : loss(`“${by}”, which you just used, does not open your wallet, and no other passkey was checked to open it: “${p.name}” may be the only one that does.`);
  if (!confirm(`Remove the passkey “${p.name}”?\n\n${claim}`)) return;
  await api('DELETE', path, undefined, { 'x-blindvault-step-up': seen.stepUp });
}

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
          await removePasskey(p, pk.passkeys, opens);
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
        // First a passkey this account already has confirms it is you (a step-up), then the new
        // device creates its passkey.
        const check = await api('POST', '/api/login/start');
        const a = await getAssertion(check.options, { prf: false });
        const start = await api('POST', '/api/passkeys/register/start', { name, ceremony_id: check.ceremony_id, credential: a.json });
        const created = await createCredential(start.options);
        try {
          await api('POST', '/api/passkeys/register/finish', { ceremony_id: start.ceremony_id, credential: created.json });
          // The new passkey's PRF output, evaluated now (a `prf.enabled` flag is not enough): the
          // wallet is sealed to it, so that it opens the same wallet as this device.
          const newPrf = await newPasskeyPrf(created);
          if (!newPrf) { out.append(prfNotice()); return; }
          // Sealed to the id the browser reported for the passkey it created, not to the id
          // the server answers (a wrong answer would seal this wallet to another passkey).
          await letIn(withWalletPrf, b64u.enc(created.rawId), newPrf); // zeroes it
        } finally {
          wipe(created.prf);
        }
        route();
      }, { out, testid: 'add-passkey', busy: 'Waiting for your passkeys…' })),
    h('div.card.stack', {}, h('h2', { text: 'Command line' }),
      h('p.small', { text: 'The blindvault command line signs in with a token you make and can revoke.' }),
      h('a.button', { href: '#/account/tokens', 'data-testid': 'tokens-link', text: 'Command-line tokens' })),
    h('div.card.stack', {}, h('h2', { text: 'Sessions' }),
      h('p.small.muted', { text: 'Sessions are short: they end on their own after the lifetime your admin set.' }), sessions,
      h('div.row', {},
        action('Sign out here', '', async () => { await api('POST', '/api/logout'); state.me = null; renderNav(); go('#/signin'); }, { out, testid: 'logout' }),
        action('Sign out everywhere', 'danger', async () => {
          if (!confirm('Sign out of every browser session? (Command-line tokens stay: revoke them under Command-line tokens.)')) return;
          await api('POST', '/api/logout/all'); state.me = null; renderNav(); go('#/signin');
        }, { out }))),
    h('div.card.stack', {}, h('h2', { text: 'Approver' }),
      h('p.small', { text: 'To approve secret requests, open the invite link your admin sends you on the device that holds your passkey.' })));
}
