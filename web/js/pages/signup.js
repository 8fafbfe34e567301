// `#/signup`: create an account with a passkey, then check that it can evaluate the PRF.
import { API } from '../api-codes.js';
import { api } from '../api.js';
import { $, h, notice, page } from '../dom.js';
import { go, takeNext } from '../router.js';
import { loadMe, state } from '../state.js';
import { errorNotice, prfNotice, renderNav } from '../ui.js';
import { createCredential, getAssertion, wipe } from '../webauthn.js';

/** After sign-up: a real PRF evaluation (a sign-in with the new passkey) proves this passkey
 * can derive keys. Registration alone only says whether the authenticator *claims* support. */
export async function checkPrf(created) {
  if (created.prf && created.prf.length === 32) { wipe(created.prf); return true; }
  if (!created.prfEnabled) return false;
  const start = await api('POST', '/api/login/start');
  // Only the passkey just created may answer: the check is about that one.
  const a = await getAssertion(start.options, { only: created.rawId });
  const ok = !!a.prf && a.prf.length === 32;
  wipe(a.prf);
  await api('POST', '/api/login/finish', { ceremony_id: start.ceremony_id, credential: a.json });
  return ok;
}

export function signupPage(next, code) {
  const out = h('div');
  const name = h('input', { id: 'name', name: 'username', autocomplete: 'username webauthn', required: true, maxlength: 64 });
  const display = h('input', { id: 'display', name: 'display', autocomplete: 'name', maxlength: 64 });
  const invite = h('input', { id: 'invite', name: 'invite', autocomplete: 'one-time-code', required: true, maxlength: 64, spellcheck: 'false', value: code || '' });
  const form = h('form.card.stack', { novalidate: true },
    out,
    h('div', {}, h('label', { for: 'invite', text: 'Invite code' }), invite,
      h('div.hint', { text: code ? 'From your invite link. It works once.' : 'Accounts here are by invitation: use the code from your admin\'s invite link. Setting up a new server? Use the setup code it printed when it first started.' })),
    h('div', {}, h('label', { for: 'name', text: 'User name' }), name,
      h('div.hint', { text: 'What your admin sees. 1 to 64 characters.' })),
    h('div', {}, h('label', { for: 'display', text: 'Display name (optional)' }), display),
    h('button.primary.big', { type: 'submit', 'data-testid': 'signup', text: 'Create account with a passkey' }),
    h('p.small.muted', { text: 'Your device asks for your fingerprint, face or security key. blindvault then checks, with one more touch, that this passkey can derive keys (the WebAuthn PRF extension).' }),
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    out.replaceChildren();
    const btn = $('button[type=submit]', form);
    btn.disabled = true;
    let created = null;
    try {
      const body = { name: name.value.trim(), invite: invite.value.trim() };
      if (display.value.trim()) body.display_name = display.value.trim();
      const start = await api('POST', '/api/register/start', body);
      created = await createCredential(start.options);
      await api('POST', '/api/register/finish', {
        ceremony_id: start.ceremony_id, credential: created.json, passkey_name: 'first passkey',
      });
      await loadMe();
      renderNav();
      if (!(await checkPrf(created))) {
        page('Account created — but this passkey cannot protect secrets', prfNotice(),
          h('p', { text: 'You are signed in. To approve requests, add a passkey that supports PRF on a device from the list above (Account → Passkeys → Add a passkey).' }),
          h('a.button', { href: '#/account', text: 'Go to my account' }));
        return;
      }
      go(takeNext() || '#/');
    } catch (e) {
      if (created && state.me) {
        out.append(notice('warn', 'Your account was created, but the passkey check did not finish',
          'Sign in again to check that this passkey can protect secrets (it needs the PRF extension).'));
        if (e && e.code === API.RATE_LIMITED) out.append(errorNotice(e));
      } else {
        out.append(errorNotice(e));
      }
    } finally {
      if (created) wipe(created.prf);
      btn.disabled = false;
    }
  });
  page('Create your account', form,
    h('p.center.muted', {}, 'Already have one? ', h('a', { href: '#/signin', text: 'Sign in' })));
  name.focus();
}
