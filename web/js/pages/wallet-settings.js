// `#/wallet/settings`: the recovery phrase, the accounts and the auto-lock time.
//
// The recovery phrase is the wallet entropy's 24 BIP-39 words (the wallet module's
// `walletRecoveryPhrase`, after a passkey ceremony of its own). It is shown only when asked for,
// under a plain warning, and only in the page: never stored, never sent. It is hidden again by
// "Hide", when the page is left, when the tab is hidden, and on lock (manual or automatic), which
// all drop the elements that hold it.
import { api } from '../api.js';
import { h, page } from '../dom.js';
import { renderSeq, route } from '../router.js';
import { action } from '../ui.js';
import { walletModule } from '../wallet.js';
import { autolockSetting, lock, notWhenLocked, openAccount, unlockedWallet, whenLocked, withWalletPrf } from './wallet.js';

/** The phrase box: empty until "Show", emptied by "Hide" or when the tab is hidden. */
function phraseCard(w) {
  const out = h('div');
  const box = h('div', { 'data-testid': 'wallet-phrase-box' });
  const hideWhenAway = () => { if (document.visibilityState === 'hidden') hide(); };
  // Every way out drops the words and every hook that could keep them reachable.
  const hide = () => {
    box.replaceChildren();
    document.removeEventListener('visibilitychange', hideWhenAway);
    window.removeEventListener('hashchange', hide);
    notWhenLocked(hide);
    show.classList.remove('hidden');
  };
  const show = action('Show my recovery phrase', 'primary', async () => {
    const { words } = await withWalletPrf((prf) => w.walletRecoveryPhrase(prf)); // zeroes prf
    box.replaceChildren(
      h('ol.phrase', { 'data-testid': 'wallet-phrase' }, words.map((word) => h('li', {}, h('span.word', { text: word })))),
      h('p.small.muted', { text: 'BIP-39, 24 English words, no passphrase. Any wallet that takes a 24-word phrase (MetaMask, Phantom, Trust Wallet, Electrum, Sparrow) opens these same accounts with it.' }),
      h('button', { type: 'button', 'data-testid': 'wallet-phrase-hide', onclick: hide, text: 'Hide the phrase' }));
    show.classList.add('hidden');
    document.addEventListener('visibilitychange', hideWhenAway);
    window.addEventListener('hashchange', hide);
    whenLocked(hide);
  }, { out, testid: 'wallet-phrase-show', busy: 'Waiting for your passkey…' });
  return h('section.card.stack', { 'data-testid': 'wallet-phrase-card' },
    h('h2', { text: 'Recovery phrase' }),
    h('div.notice.warn', { role: 'note', 'data-testid': 'wallet-phrase-warning' },
      h('strong', { text: 'Anyone who sees these words can take everything in this wallet' }),
      h('div', { text: 'On every chain, from anywhere, without your passkey. Write them on paper and keep it somewhere safe. Never type them into a website, a chat or an email, and never photograph them. blindvault never asks for them.' })),
    h('p.small.muted', { text: 'Your passkey already opens this wallet on your devices. The phrase is for when every passkey is lost, or to open the wallet in another app.' }),
    out, show, box);
}

/** The accounts this person opened (published after each unlock), and another one by number. */
async function accountsCard() {
  const wallet = unlockedWallet();
  const out = h('div');
  let published = [];
  try { published = (await api('GET', '/api/wallet/addresses')).addresses || []; } catch (e) { if (e.status === 401) throw e; }
  const accounts = new Map();
  for (const a of published) {
    const m = /^account (\d+)$/.exec(a.label || '');
    if (m && a.chain === 'evm') accounts.set(Number(m[1]), a.address);
  }
  accounts.set(wallet.account, wallet.addresses.find((a) => a.chain === 'evm').address);
  const open = (n) => action(n === wallet.account ? 'Open now' : 'Open', n === wallet.account ? '' : 'small-button', async () => {
    await openAccount(n); // a passkey ceremony of its own
    route();
  }, { out, testid: `wallet-account-open-${n}`, busy: 'Waiting for your passkey…' });
  const rows = [...accounts.entries()].sort(([a], [b]) => a - b).map(([n, evm]) => h('li', { 'data-testid': `wallet-account-row-${n}` },
    h('div.row.spread', {},
      h('div', {}, h('span.item-title', { text: `Account ${n}` }), n === wallet.account ? ' ' : null, n === wallet.account ? h('span.pill.ok', { text: 'open' }) : null),
      n === wallet.account ? null : open(n)),
    h('div.small.muted.address-line', { text: evm })));
  const number = h('input', { id: 'settings-account', 'data-testid': 'wallet-settings-account', type: 'number', min: 0, max: 2147483647, step: 1, inputmode: 'numeric', value: wallet.account });
  const openNumber = action('Open this account', '', async () => {
    const n = Number(number.value);
    if (!Number.isInteger(n) || n < 0 || n >= 2 ** 31) throw new Error('The account number must be a whole number from 0 to 2147483647.');
    await openAccount(n);
    route();
  }, { out, testid: 'wallet-settings-open', busy: 'Waiting for your passkey…' });
  return h('section.card.stack', { 'data-testid': 'wallet-accounts-card' },
    h('h2', { text: 'Accounts' }),
    h('p.small.muted', { text: 'Each account number is a separate set of addresses on every chain, from the same passkey and the same recovery phrase (other wallets call it the account or address index). These are the ones you opened.' }),
    out,
    h('ul.list', { 'data-testid': 'wallet-accounts' }, rows),
    h('div', {}, h('label', { for: 'settings-account', text: 'Another account' }), h('div.row.nowrap', {}, number, openNumber)));
}

export async function settingsPage() {
  const seq = renderSeq; // a newer route drawn meanwhile wins: this one draws nothing
  const w = await walletModule();
  const wallet = unlockedWallet();
  const accounts = await accountsCard();
  return seq !== renderSeq ? null : page('Wallet settings',
    h('div.card.row.spread', {},
      h('div', {}, h('span.pill.ok', { text: 'Unlocked' }), ' ', h('span.muted.small', { 'data-testid': 'wallet-settings-open-account', text: `Account ${wallet.account}` })),
      h('button', { type: 'button', 'data-testid': 'wallet-lock', onclick: () => lock(), text: 'Lock' })),
    phraseCard(w),
    accounts,
    h('section.card.stack', {}, h('h2', { text: 'Auto-lock' }), autolockSetting()),
    h('p', {}, h('a', { href: '#/wallet', text: 'Back to the wallet' })));
}

