// `#/signin`.
import { api } from '../api.js';
import { h, page } from '../dom.js';
import { go, takeNext } from '../router.js';
import { loadMe } from '../state.js';
import { action, renderNav } from '../ui.js';
import { getAssertion } from '../webauthn.js';

export async function signIn() {
  const start = await api('POST', '/api/login/start');
  const a = await getAssertion(start.options, { prf: false });
  await api('POST', '/api/login/finish', { ceremony_id: start.ceremony_id, credential: a.json });
  await loadMe();
  renderNav();
}

export function signinPage(next) {
  const out = h('div');
  page('Sign in',
    h('div.card.stack', {}, out,
      h('p', { text: 'Use the passkey you created for this blindvault instance.' }),
      action('Sign in with a passkey', 'primary big', async () => { await signIn(); go(takeNext() || next || '#/'); },
        { out, testid: 'signin', busy: 'Waiting for your passkey…' })),
    h('p.center.muted', {}, 'New here? ', h('a', { href: '#/signup', text: 'Create an account' })));
}
