// `#/account`: passkeys and sessions.
import { api } from '../api.js';
import { h, page, when } from '../dom.js';
import { go, renderSeq, route } from '../router.js';
import { state } from '../state.js';
import { stepped } from '../stepup.js';
import { action, prfNotice, renderNav } from '../ui.js';
import { createCredential, getAssertion, wipe } from '../webauthn.js';

export async function accountPage() {
  const seq = renderSeq;
  const u = state.me.user;
  const pk = await api('GET', '/api/passkeys');
  const ss = await api('GET', '/api/sessions');
  if (seq !== renderSeq) return;
  const out = h('div');
  const list = h('ul.list', {}, pk.passkeys.map((p) => {
    const li = h('li');
    const nameEl = h('span.item-title', { text: p.name });
    li.append(
      h('div.row.spread', {}, nameEl,
        p.backup_state ? h('span.pill.ok', { text: 'synced' }) : h('span.pill', { text: 'this device only' })),
      h('div.small.muted', { text: `Added ${when(p.created_at)} · last used ${p.last_used_at ? when(p.last_used_at) : 'never'}` }),
      h('div.row', {},
        action('Rename', 'link', async () => {
          const n = prompt('New name for this passkey', p.name);
          if (n === null) return;
          await api('PATCH', `/api/passkeys/${encodeURIComponent(p.id)}`, { name: n.trim() });
          route();
        }, { out }),
        action('Remove', 'link', async () => {
          if (!confirm(`Remove the passkey “${p.name}”? It will no longer sign in or approve.\n\nYour passkey confirms this removal (of passkey ${p.id}) next.`)) return;
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
    out,
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
        await api('POST', '/api/passkeys/register/finish', { ceremony_id: start.ceremony_id, credential: created.json });
        wipe(created.prf);
        if (!created.prfEnabled) out.append(prfNotice());
        else route();
      }, { out, busy: 'Waiting for your passkey…' })),
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
