// `#/setup`: claim a new instance with its one-time setup code.
import { api } from '../api.js';
import { h, notice, page } from '../dom.js';
import { loadMe, state } from '../state.js';
import { errorNotice, renderNav } from '../ui.js';

export function setupPage() {
  if (!state.me) {
    sessionStorage.setItem('blindvault:next', '#/setup');
    return page('Claim this instance',
      h('div.card', {}, h('p', { text: 'The person who started the server holds a one-time setup code. Create your account first; then enter the code to become the first admin.' }),
        h('a.button.primary', { href: '#/signup', text: 'Create account' }), ' ',
        h('a.button', { href: '#/signin', text: 'Sign in' })));
  }
  const out = h('div');
  const code = h('input', { id: 'code', autocomplete: 'one-time-code', spellcheck: 'false', maxlength: 64 });
  const form = h('form.card.stack', {}, out,
    h('div', {}, h('label', { for: 'code', text: 'Setup code' }), code,
      h('div.hint', {}, h('code', { text: 'blindvault serve' }), ' printed it when the server first started. It works once.')),
    h('button.primary.big', { type: 'submit', 'data-testid': 'claim', text: 'Become the first admin' }));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    out.replaceChildren();
    try {
      await api('POST', '/api/setup/claim', { code: code.value.trim() });
      await loadMe();
      renderNav();
      page('You are the admin', notice('ok', 'This instance is claimed', 'Nobody else can use the setup code now.'),
        h('div.card.stack', {},
          h('h2', { text: 'Next steps' }),
          h('ol', {},
            h('li', {}, 'On your own computer: ', h('code', { text: 'blindvault org init' }), '.'),
            h('li', {}, 'Make a command-line token in ', h('a', { href: '#/account/tokens', text: 'Account → Command-line tokens' }), ', then ', h('code', { text: 'blindvault org push' }), '.'),
            h('li', {}, 'Invite approvers: ', h('code', { text: 'blindvault approver invite' }), ' prints the link they open.')),
          h('a.button.primary', { href: '#/admin', text: 'Open the admin pages' })));
    } catch (e) {
      out.append(errorNotice(e));
    }
  });
  page('Claim this instance', form);
  code.focus();
}
