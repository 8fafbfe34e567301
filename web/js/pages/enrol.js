// `#/enrol/<org key>/<code>`: approver enrolment.
import { api } from '../api.js';
import { $, h, notice, page } from '../dom.js';
import { loadMe, state } from '../state.js';
import { slot, store } from '../storage.js';
import { action, renderNav } from '../ui.js';
import { OrgKey } from '../wasm.js';
import { getAssertion, wipe, withKeys } from '../webauthn.js';

export function enrolPage(orgB64, inviteCode) {
  let org;
  try {
    org = OrgKey.fromBase64(orgB64 || '');
  } catch (e) {
    return page('This invite link is broken', notice('bad', 'The link does not carry an organisation key', e.message || String(e)),
      h('p', { text: 'Ask your admin to send the link again (blindvault approver invite).' }));
  }
  const orgFp = org.fingerprint();
  const orgKey = org.toBase64();
  org.free();
  if (!state.me) {
    sessionStorage.setItem('blindvault:next', location.hash);
    return page('Become an approver',
      h('div.card.stack', {},
        h('p', { text: 'You were invited to approve secret requests for an organisation whose key has the fingerprint:' }),
        h('p', {}, h('span.fp', { text: orgFp })),
        h('p', { text: 'First sign in, or create an account with a passkey on this device.' }),
        h('div.row', {}, h('a.button.primary', { href: inviteCode ? `#/signup/${encodeURIComponent(inviteCode)}` : '#/signup', text: 'Create account' }), h('a.button', { href: '#/signin', text: 'Sign in' }))));
  }
  const out = h('div');
  const result = h('div');
  // Another organisation key already pinned on this device (any passkey)? Re-pinning is how an
  // attacker's invite link would take over: it needs an explicit, informed confirmation.
  const others = Object.keys(localStorage).filter((k) => k.endsWith(':pinned-fingerprint'))
    .map((k) => localStorage.getItem(k)).filter((fp) => fp && fp !== orgFp);
  const repin = h('input', { type: 'checkbox', id: 'repin', 'data-testid': 'repin' });
  const repinBox = others.length ? h('div.notice.warn', { role: 'alert', 'data-testid': 'repin-warning' },
    h('strong', { text: 'This device already trusts another organisation key' }),
    h('div', { text: `Pinned now: ${[...new Set(others)].join(', ')}. This link: ${orgFp}.` }),
    h('p', { text: 'Only continue if your admin told you, over a channel other than this link (in person, a call), that the organisation key was replaced, and the new fingerprint matches.' }),
    h('div.row', {}, repin, h('label', { for: 'repin', text: 'I checked the new fingerprint with my admin' }))) : null;
  const main = page('Become an approver', out,
    h('div.card.stack', {},
      h('h2', { text: '1. Check the organisation' }),
      h('p', {}, 'Compare this fingerprint with what your admin reads from ', h('code', { text: 'blindvault org show' }), ':'),
      h('p', {}, h('span.fp', { 'data-testid': 'org-fingerprint', text: orgFp })),
      h('p.small.muted', { text: 'This device pins this key. It never takes an organisation key from the server.' }),
      repinBox),
    h('div.card.stack', {},
      h('h2', { text: '2. Create your approver key' }),
      h('p', { text: 'Your passkey derives it on this device. The server receives only the public half.' }),
      action('Create my approver key with my passkey', 'primary big', async () => {
        if (repinBox && !repin.checked) {
          throw new Error('This device already trusts another organisation key: confirm above that your admin told you it changed.');
        }
        const start = await api('POST', '/api/login/start');
        const a = await getAssertion(start.options);
        try {
          const who = await api('POST', '/api/login/finish', { ceremony_id: start.ceremony_id, credential: a.json });
          if (!who.user || who.user.id !== state.me.user.id) {
            await loadMe();
            renderNav();
            throw new Error(`That passkey belongs to another account (${who.user ? who.user.name : 'unknown'}); you are now signed in as that account. Open the invite link again if that is the one to enrol.`);
          }
        } catch (e) { wipe(a.prf); throw e; }
        await withKeys(a.prf, async (keys) => {
          let pinned = null;
          try { pinned = store.get(keys, a.credentialId, 'pinned-org'); } catch { pinned = null; }
          if (pinned !== null && pinned !== orgKey && !repin.checked) {
            throw new Error('This passkey already pinned another organisation key on this device; reload the page and confirm the change first.');
          }
          const enr = await api('POST', '/api/broker/enrolments', {
            credential_id: a.credentialId, approver_public_key: keys.approverPublicKey(),
          });
          store.put(keys, a.credentialId, 'pinned-org', orgKey);
          // The fingerprint in the clear only drives warnings (the requests page compares it with
          // the server's key without a passkey touch); trust decisions use the sealed key.
          localStorage.setItem(slot(a.credentialId, 'pinned-fingerprint'), orgFp);
          const safeId = /^[A-Za-z0-9_-]{22}$/.test(enr.id) ? enr.id : null;
          result.replaceChildren(h('div.card.stack', { 'data-testid': 'enrolled' },
            h('h2', { text: '3. Tell your admin', tabindex: '-1' }),
            notice('ok', 'Enrolment requested', 'Your admin approves it after comparing this fingerprint:'),
            h('p', {}, h('span.fp', { 'data-testid': 'approver-fingerprint', text: keys.approverFingerprint() })),
            safeId
              ? h('p', {}, 'They run ', h('code', { text: `blindvault approver approve ${safeId}` }), ' and should see the same fingerprint.')
              : h('p', {}, 'They run ', h('code', { text: 'blindvault approver list' }), ', then ', h('code', { text: 'blindvault approver approve' }), ' with your enrolment, and should see the same fingerprint.'),
            h('a.button', { href: '#/requests', text: 'Go to requests' })));
          $('h2', result).focus();
        });
      }, { out, testid: 'enrol', busy: 'Waiting for your passkey…' })),
    result);
  return main;
}
