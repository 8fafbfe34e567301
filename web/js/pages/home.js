// `#/`: the welcome page, or the requests once signed in.
import { h, page } from '../dom.js';
import { state } from '../state.js';
import { requestsPage } from './requests.js';

export function homePage() {
  if (!state.me) {
    return page('A vault whose server is blind',
      h('div.card.stack', {},
        h('p', { text: 'Every secret opens only on a person\'s device, with their passkey. The server keeps public keys and ciphertext — nothing that opens anything.' }),
        h('div.row', {}, h('a.button.primary', { href: '#/signin', text: 'Sign in' }),
          h('a.button', { href: '#/signup', text: 'Create account' })),
        h('p.small.muted', {}, 'Setting up a new instance? ', h('a', { href: '#/setup', text: 'Claim it with the setup code' }), '.')));
  }
  return requestsPage();
}
