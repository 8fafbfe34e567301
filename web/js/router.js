// The router: the page for `location.hash`, drawn again on every change.
import { $, h, notice, page, setBanner } from './dom.js';
import { state } from './state.js';
import { action, errorNotice, renderNav } from './ui.js';
import { accountPage } from './pages/account.js';
import { adminPage } from './pages/admin.js';
import { confirmPage } from './pages/confirm.js';
import { enrolPage } from './pages/enrol.js';
import { homePage } from './pages/home.js';
import { requestPage, requestsPage } from './pages/requests.js';
import { setupPage } from './pages/setup.js';
import { signIn, signinPage } from './pages/signin.js';
import { signupPage } from './pages/signup.js';
import { tokensPage } from './pages/tokens.js';
import { walletPage } from './pages/wallet.js';

export let renderSeq = 0;

export function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

/** Where to go after signing in (set when a signed-out person opened a page); used once. */
export function takeNext() {
  const n = sessionStorage.getItem('blindvault:next');
  sessionStorage.removeItem('blindvault:next');
  return n;
}

export async function route() {
  renderSeq += 1;
  const seq = renderSeq;
  // Assistive technology (and the end-to-end tests) can tell a page still loading from one drawn.
  $('#main').setAttribute('aria-busy', 'true');
  if (state.events) { state.events.close(); state.events = null; }
  setBanner(null);
  renderNav();
  const next = sessionStorage.getItem('blindvault:next');
  try {
    const [name, arg, arg2] = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
    switch (name) {
      case '': case undefined:
        if (state.me && next) { sessionStorage.removeItem('blindvault:next'); return go(next); }
        return await homePage();
      case 'signin': return signinPage(next);
      case 'signup': return signupPage(next, arg);
      case 'setup': return setupPage();
      case 'enrol': return enrolPage(arg, arg2);
    }
    if (!state.me) {
      sessionStorage.setItem('blindvault:next', location.hash);
      return signinPage(location.hash);
    }
    switch (name) {
      case 'account': return arg === 'tokens' ? await tokensPage() : await accountPage();
      case 'requests': return arg ? await requestPage(arg) : await requestsPage();
      case 'admin': return await adminPage(arg);
      case 'confirm': return await confirmPage(arg);
      case 'wallet': return await walletPage(arg, arg2);
      default: return page('Not found', h('p', {}, 'No such page. ', h('a', { href: '#/', text: 'Home' })));
    }
  } catch (e) {
    if (e.status === 401) {
      state.me = null;
      renderNav();
      sessionStorage.setItem('blindvault:next', location.hash);
      return page('Your session ended', notice('warn', 'Sign in again', 'Sessions are short on purpose.'),
        action('Sign in with a passkey', 'primary', async () => { await signIn(); route(); }, {}));
    }
    page('Something went wrong', errorNotice(e));
  } finally {
    if (seq === renderSeq) $('#main').removeAttribute('aria-busy');
    $('#main').focus({ preventScroll: true });
  }
}
