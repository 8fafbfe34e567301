// `#/wallet`: the wallet. Locked, it holds nothing. "Unlock wallet" runs a passkey ceremony with
// PRF (the same salt as the approver pages: the wallet entropy comes from the same PRF output,
// docs/protocol.md §2); the PRF output goes straight into the wallet module, which zeroes it,
// derives the five chains' addresses of one account and forgets the keys. The page then keeps
// only those public addresses, until "Lock" or the idle time the person chose.
import { api } from '../api.js';
import { h, notice, page } from '../dom.js';
import { renderSeq, route } from '../router.js';
import { loadMe, state } from '../state.js';
import { action, renderNav } from '../ui.js';
import { nativeBalance, servesAddress } from '../balances.js';
import { CHAINS, walletModule } from '../wallet.js';
import { sendPage } from './wallet-send.js';
import { signPage } from './wallet-sign.js';
import { settingsPage } from './wallet-settings.js';
import { historyPage } from './wallet-history.js';
import { HISTORY_CHAINS } from '../history.js';
import { chainTokenBox } from './wallet-tokens.js';
import { TokenError, addToken, adminTokens, readToken, removeToken, tokenBalance, tokensOn } from '../tokens.js';
import { SEND_PAGES } from './send/index.js';
import { PrfUnsupported, getAssertion, wipe } from '../webauthn.js';
import { keySelection, letIn, loadKeyring, openers, rawIdOf, withKey } from '../keyring.js';

const AUTOLOCK_KEY = 'blindvault:wallet:autolock-minutes';
const ACCOUNT_KEY = 'blindvault:wallet:account';
export const AUTOLOCK_CHOICES = [1, 2, 5, 10, 15, 30, 60];
const AUTOLOCK_DEFAULT = 5;
const ACTIVITY = ['pointerdown', 'keydown', 'wheel', 'touchstart'];

/** What an unlocked wallet keeps: public addresses only, and whose they are. */
const unlocked = { user: null, account: 0, addresses: null, lastActive: 0, timer: null, published: null, by: null };
/** The unlocked wallet's public state (null while locked), for the send page. */
export const unlockedWallet = () => (unlocked.addresses ? { account: unlocked.account, addresses: unlocked.addresses } : null);

/** What to forget when the wallet locks (the settings page's shown recovery phrase). */
const onLock = new Set();
export const whenLocked = (fn) => onLock.add(fn);
export const notWhenLocked = (fn) => onLock.delete(fn);

/** Why the wallet last locked by itself (shown once on the locked view). */
let lockedBecause = null;

/** The idle time after which the wallet locks, in minutes (the person's choice, this browser). */
export function autolockMinutes() {
  const m = Number.parseInt(localStorage.getItem(AUTOLOCK_KEY) || '', 10);
  return AUTOLOCK_CHOICES.includes(m) ? m : AUTOLOCK_DEFAULT;
}

function rememberedAccount() {
  const n = Number.parseInt(localStorage.getItem(ACCOUNT_KEY) || '0', 10);
  return Number.isInteger(n) && n >= 0 && n < 2 ** 31 ? n : 0;
}

const onWalletPage = () => (location.hash.replace(/^#\/?/, '').split('/')[0] === 'wallet');

const touch = () => { unlocked.lastActive = Date.now(); };

/** Re-checks the idle time when it could have run out; locks when it has. */
function arm() {
  clearTimeout(unlocked.timer);
  if (!unlocked.addresses) return;
  const left = autolockMinutes() * 60000 - (Date.now() - unlocked.lastActive);
  if (left <= 0) lock('idle');
  else unlocked.timer = setTimeout(arm, left);
}

/** Forgets everything the unlocked wallet held and shows the locked view (on the wallet page). */
export function lock(reason = null) {
  const was = !!unlocked.addresses;
  clearTimeout(unlocked.timer);
  for (const ev of ACTIVITY) document.removeEventListener(ev, touch, true);
  unlocked.user = null;
  unlocked.addresses = null;
  unlocked.account = 0;
  unlocked.timer = null;
  unlocked.published = null;
  unlocked.by = null;
  for (const fn of [...onLock]) fn();
  onLock.clear();
  lockedBecause = was ? reason : null;
  if (was && onWalletPage()) route();
}

function unlockedWith(addresses, account) {
  unlocked.user = state.me.user.id;
  unlocked.account = account;
  unlocked.addresses = addresses;
  lockedBecause = null;
  touch();
  for (const ev of ACTIVITY) document.addEventListener(ev, touch, { capture: true, passive: true });
  arm();
}

/** One passkey ceremony with PRF, by a passkey of the signed-in person (checked by the server),
 * whose output is handed to `use(prf, ceremony)` — a wallet module call, made at once, which
 * zeroes it — and wiped again after, whatever happens. Every unlock and every signature runs its
 * own. `use` runs with the wallet selected that the passkey that answered opens (`withKey`: its
 * own as the origin, the one in its envelope, or none — then `use` never runs), selected and
 * cleared around that one call. `exclude`: a passkey that may not answer (one being let in or
 * removed). `stepUp` ({action, target}): the ceremony is that step-up, confirmed by the passkey
 * that answers; its id is `ceremony.stepUp` (and `seen.stepUp`, filled as soon as it is confirmed,
 * for a caller that needs it when `use` does not run). The first unlock of all is a step-up of its
 * own kind (`wallet.origin.set`): the server records the origin only from that passkey. */
export async function withWalletPrf(use, { exclude = null, stepUp = null, seen = {} } = {}) {
  const w = await walletModule();
  // Only this person's passkeys may answer (another account's passkey is another wallet).
  const mine = await api('GET', '/api/passkeys');
  const allow = mine.passkeys.filter((p) => p.id !== exclude).map((p) => ({ type: 'public-key', id: p.id }));
  const ring = await loadKeyring();
  const bound = stepUp || (ring.origin ? null : { action: 'wallet.origin.set', target: ring.user_id });
  let a;
  let ceremonyId = null;
  if (bound) {
    const s = await api('POST', '/api/step-up/start', bound);
    s.options.publicKey.allowCredentials = allow;
    a = await getAssertion(s.options);
    try {
      if (!a.prf) throw new PrfUnsupported();
      // The server checks the assertion (another account's passkey is refused: `wrong_user`).
      await api('POST', `/api/step-up/${encodeURIComponent(s.id)}/confirm`, { credential: a.json });
    } catch (e) {
      wipe(a.prf);
      throw e;
    }
    seen.stepUp = s.id;
  } else {
    const start = await api('POST', '/api/login/start');
    start.options.publicKey.allowCredentials = allow;
    a = await getAssertion(start.options);
    ceremonyId = start.ceremony_id;
  }
  seen.credentialId = a.credentialId;
  try {
    if (!a.prf) throw new PrfUnsupported();
    if (!bound) {
      // The server checks the assertion (and extends this session); the PRF output never leaves.
      const who = await api('POST', '/api/login/finish', { ceremony_id: ceremonyId, credential: a.json });
      if (!who.user || who.user.id !== state.me.user.id) {
        await loadMe();
        renderNav();
        throw new Error('That passkey belongs to another account: its wallet is not this one.');
      }
    }
    const origin = bound && !stepUp ? seen.stepUp : null;
    const req = await keySelection(a.credentialId, ring, origin);
    unlocked.by = a.credentialId;
    return await withKey(w, req, () => use(a.prf, { credentialId: a.credentialId, stepUp: seen.stepUp || null }));
  } finally {
    wipe(a.prf);
  }
}

/** Opens account `account` (a passkey ceremony of its own) and remembers it as the last one. */
export async function openAccount(account) {
  await unlock(account);
  localStorage.setItem(ACCOUNT_KEY, String(account));
}

/** Unlocks account `account`: its addresses, derived from a fresh PRF output. */
async function unlock(account) {
  const w = await walletModule();
  const addresses = await withWalletPrf((prf) => w.walletAddresses(prf, account)); // zeroes prf
  unlockedWith(addresses, account);
  unlocked.published = await publish(unlocked.addresses, account);
}

/** Publishes the account's public addresses (watch-only on my other devices; the admin sees who
 * holds which). Public data only; a failure is shown, it does not keep the wallet locked. */
async function publish(addresses, account) {
  const results = await Promise.allSettled(addresses.map((a) => api('POST', '/api/wallet/addresses', {
    chain: a.chain, network: 'mainnet', path: a.path, address: a.address, label: `account ${account}`,
  })));
  const failed = results.filter((r) => r.status === 'rejected');
  return failed.length ? failed[0].reason : null;
}

// ---- the views --------------------------------------------------------------------------------

/** The standing warning when at most one passkey opens the wallet (null otherwise, and while no
 * passkey has opened it yet). */
export function singlePasskeyWarning(ring, passkeys, { link = true } = {}) {
  if (!ring.origin) return null;
  const can = openers(ring, passkeys);
  if (can.length > 1) return null;
  const what = can.length
    ? `Only your passkey “${can[0].name}” opens this wallet. If you lose that device or passkey, the wallet and everything in it is lost — unless you have written down its 24-word recovery phrase.`
    : 'None of your passkeys opens this wallet any more: only its 24-word recovery phrase restores it.';
  return h('div.notice.warn', { role: 'status', 'data-testid': 'wallet-single-passkey' },
    h('strong', { text: can.length ? 'One passkey is all that opens your wallet' : 'No passkey opens your wallet' }),
    h('div', { text: what }),
    h('div', { text: 'Add a second device (Account → Add a passkey) so that either opens it, or write down the recovery phrase (Wallet → Settings and recovery phrase) and keep it offline.' }),
    h('div.row', {},
      link ? h('a.button.small-button', { href: '#/account', 'data-testid': 'wallet-add-device', text: 'Add a device' }) : null,
      h('a.button.small-button', { href: '#/wallet/settings', 'data-testid': 'wallet-write-phrase', text: 'Write down the recovery phrase' })));
}

/** Which of my passkeys open the wallet, and a way to let in one that does not (a ceremony with
 * it on this device — a security key, or a phone nearby — then one with a passkey that opens the
 * wallet; the wallet module seals the wallet to it). */
function passkeysCard(ring, passkeys, out) {
  const can = new Map(openers(ring, passkeys).map((p) => [p.id, p.how]));
  return h('div.card.stack', { 'data-testid': 'wallet-passkeys' },
    h('h2', { text: 'Passkeys that open this wallet' }),
    h('p.small.muted', { text: 'Your wallet is the one of the passkey that first opened it. Your other passkeys open it through a sealed copy that only they can open; the server keeps those copies and cannot read them.' }),
    h('ul.list', {}, passkeys.map((p) => h('li', { 'data-testid': `wallet-passkey-${p.id}` },
      h('div.row.spread', {}, h('span.item-title', { text: p.name }),
        can.has(p.id)
          ? h('span.pill.ok', { 'data-testid': 'wallet-passkey-opens', text: can.get(p.id) === 'origin' ? 'opens it (its own wallet)' : 'opens it' })
          : h('span.pill.warn', { 'data-testid': 'wallet-passkey-cannot', text: 'cannot open it yet' })),
      can.has(p.id) ? null : h('div.row', {},
        action('Let this passkey open the wallet', 'small-button', async () => {
          const start = await api('POST', '/api/login/start');
          // The passkey being let in, alone, with PRF: its output is what the wallet is sealed to.
          const a = await getAssertion(start.options, { only: rawIdOf(p.id) });
          if (!a.prf) { wipe(a.prf); throw new PrfUnsupported(); }
          await letIn(withWalletPrf, p.id, a.prf); // zeroes it
          route();
        }, { out, testid: `wallet-let-in-${p.id}`, busy: 'Waiting for your passkeys…' }))))));
}

async function keyringState() {
  try {
    const [ring, mine] = await Promise.all([loadKeyring(), api('GET', '/api/passkeys')]);
    return { ring, passkeys: mine.passkeys };
  } catch (e) {
    if (e.status === 401) throw e;
    return null;
  }
}

export function autolockSetting() {
  const id = 'wallet-autolock';
  const select = h('select', { id, 'data-testid': id },
    AUTOLOCK_CHOICES.map((m) => h('option', { value: m, selected: m === autolockMinutes(), text: m === 1 ? '1 minute' : `${m} minutes` })));
  select.addEventListener('change', () => {
    localStorage.setItem(AUTOLOCK_KEY, select.value);
    arm();
  });
  return h('div', {}, h('label', { for: id, text: 'Lock after this long without activity' }), select,
    h('div.hint', { text: 'Kept in this browser. Locking forgets the addresses; unlocking asks for your passkey again.' }));
}

function accountInput(value) {
  return h('input', { id: 'wallet-account', 'data-testid': 'wallet-account', type: 'number', min: 0, max: 2147483647, step: 1, inputmode: 'numeric', value });
}

function readAccount(input) {
  const n = Number(input.value);
  if (!Number.isInteger(n) || n < 0 || n >= 2 ** 31) throw new Error('The account number must be a whole number from 0 to 2147483647.');
  return n;
}

async function lockedView() {
  const seq = renderSeq; // a newer route drawn meanwhile wins: this one draws nothing
  const out = h('div');
  const keys = await keyringState();
  const single = keys ? singlePasskeyWarning(keys.ring, keys.passkeys) : null;
  const account = accountInput(rememberedAccount());
  const why = lockedBecause === 'idle'
    ? notice('warn', 'Locked after ' + (autolockMinutes() === 1 ? '1 minute' : `${autolockMinutes()} minutes`) + ' without activity', 'Unlock with your passkey to continue.')
    : null;
  if (why) why.setAttribute('data-testid', 'wallet-auto-locked');
  lockedBecause = null;
  return seq !== renderSeq ? null : page('Wallet', ...(why ? [why] : []), out, ...(single ? [single] : []),
    h('div.card.stack.center', { 'data-testid': 'wallet-locked' },
      lockIcon(),
      h('h2', { text: 'Your wallet is locked' }),
      h('p', { text: 'Your passkey opens it on this device. Your keys are derived here, from your passkey, for each operation and forgotten right after: the server never has them.' }),
      action('Unlock wallet', 'primary big', async () => {
        const n = readAccount(account);
        await unlock(n);
        localStorage.setItem(ACCOUNT_KEY, String(n));
        route();
      }, { out, testid: 'wallet-unlock', busy: 'Waiting for your passkey…' })),
    h('details.card', {},
      h('summary', { text: 'Options' }),
      h('div.stack', {},
        h('div', {}, h('label', { for: 'wallet-account', text: 'Account' }), account,
          h('div.hint', { text: 'Each account number is a separate set of addresses from the same passkey (0 is the first). Other wallets call it the account or address index.' })),
        autolockSetting())));
}

const SVG = 'http://www.w3.org/2000/svg';
const svg = (tag, attrs) => {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
};

/** A padlock, drawn (no icon font or image: nothing loads from elsewhere). */
function lockIcon() {
  const el = svg('svg', { viewBox: '0 0 48 48', width: 48, height: 48, 'aria-hidden': 'true', class: 'lock-icon' });
  el.append(svg('path', { d: 'M15 21v-6a9 9 0 0 1 18 0v6', fill: 'none', stroke: 'currentColor', 'stroke-width': 4, 'stroke-linecap': 'round' }),
    svg('rect', { x: 9, y: 21, width: 30, height: 22, rx: 5, fill: 'currentColor' }),
    svg('circle', { cx: 24, cy: 31, r: 3, class: 'keyhole' }),
    svg('rect', { x: 22.5, y: 32, width: 3, height: 6, rx: 1.5, class: 'keyhole' }));
  return el;
}

/** The QR code of `text`, encoded by the wallet module, drawn as dark modules on white with a
 * quiet zone of 4 modules (black on white in both colour schemes: scanners expect it). */
function qrCode(w, text, label, testid) {
  const { size, path } = w.qrCode(text);
  const q = 4;
  const el = svg('svg', { viewBox: `${-q} ${-q} ${size + 2 * q} ${size + 2 * q}`, role: 'img', 'aria-label': label, 'data-testid': testid, 'shape-rendering': 'crispEdges', class: 'qr' });
  el.append(svg('rect', { x: -q, y: -q, width: size + 2 * q, height: size + 2 * q, fill: '#ffffff' }),
    svg('path', { d: path, fill: '#000000' }));
  return el;
}

function copyButton(text, testid) {
  const b = h('button.small-button', { type: 'button', 'data-testid': testid, text: 'Copy' });
  b.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(text);
      b.textContent = 'Copied';
    } catch {
      b.textContent = 'Select and copy';
    }
    setTimeout(() => { if (b.isConnected) b.textContent = 'Copy'; }, 2000);
  });
  return b;
}

const plural = (n, one, many) => (n === 1 ? one : many);

/** `raw` base units (a decimal or 0x string, or a signed decimal for a pending sum) in words. */
function amount(w, raw, decimals, symbol) {
  const neg = raw.startsWith('-');
  return `${neg ? '−' : ''}${w.formatUnits(neg ? raw.slice(1) : raw, decimals)} ${symbol}`;
}

/** Fills `box` with the native balance of `a` on every network of its chain the server offers. */
async function showBalances(w, box, a, networks) {
  const c = CHAINS[a.chain];
  const mine = networks.filter((n) => n.chain === a.chain);
  const usable = mine.filter(servesAddress);
  if (!usable.length) {
    box.replaceChildren(h('p.small.muted', { 'data-testid': `wallet-no-endpoint-${a.chain}`,
      text: mine.length
        ? `No balance: this server has only ${c.name} test networks, and this page shows the mainnet address.`
        : `No balance: this server has no ${c.name} node set up. An admin can add one (blindvault admin wallet endpoint set).` }));
    return;
  }
  box.replaceChildren(...usable.map((n) => {
    const value = h('span.balance-value', { 'data-testid': `wallet-balance-${a.chain}-${n.network}`, text: 'Loading…' });
    const row = h('div.row.spread.balance', {}, h('span.small.muted', { text: n.chain_id ? `${n.network} (chain ${n.chain_id})` : n.network }), value);
    nativeBalance(n, a.address).then((b) => {
      value.textContent = amount(w, b.raw, b.decimals, b.symbol);
      if (b.pending && b.pending !== '0') value.append(h('span.small.muted', { text: ` (${b.pending.startsWith('-') ? '' : '+'}${amount(w, b.pending, b.decimals, b.symbol)} unconfirmed)` }));
    }, (e) => {
      value.textContent = 'Unavailable';
      value.classList.add('bad');
      value.setAttribute('data-error', e && e.code ? e.code : 'balance');
      row.after(h('p.small.bad-text', { text: `The balance could not be read: ${e && e.message ? e.message : e}` }));
    });
    return row;
  }));
}

function balanceBox(w, a, networks) {
  const box = h('div.balances', { 'data-testid': `wallet-balances-${a.chain}`, 'aria-live': 'polite' });
  if (networks) showBalances(w, box, a, networks);
  else box.append(h('p.small.muted', { text: 'Balances could not be loaded: the list of networks did not come.' }));
  return box;
}

/** ERC-20 tokens of the EVM address on each EVM network: the admin's list and the ones this
 * person added, each with the symbol, decimals and balance the contract itself returns. */
function tokenBox(w, a, networks, listed) {
  const evm = (networks || []).filter((n) => n.chain === 'evm');
  const box = h('div.tokens', { 'data-testid': 'wallet-tokens' });
  if (!evm.length) return box;
  const userId = state.me.user.id;
  const rows = [];
  for (const n of evm) {
    for (const t of tokensOn(listed, userId, n.network)) {
      const id = `${n.network}-${t.contract.toLowerCase()}`;
      const value = h('span.balance-value', { 'data-testid': `wallet-token-balance-${id}`, text: 'Loading…' });
      const name = h('span.item-title', { text: 'Token' });
      const send = h('a.button.small-button', { href: `#/wallet/send/evm/${encodeURIComponent(n.network)}/${t.contract}`, 'data-testid': `wallet-token-send-${id}`, text: 'Send' });
      const remove = t.added ? h('button.small-button', { type: 'button', 'data-testid': `wallet-token-remove-${id}`, text: 'Remove',
        onclick: () => { removeToken(userId, n.network, t.contract); route(); } }) : null;
      const row = h('li.token', { 'data-testid': `wallet-token-${id}` },
        h('div.row.spread', {}, h('div', {}, name, h('span.small.muted', { text: ` ${n.network}` })), value),
        h('div.row.spread', {}, h('code.small.path', { text: t.contract }), h('div.row', {}, send, remove)));
      readToken(w, n.network, t.contract)
        .then(async (info) => {
          name.textContent = info.symbol;
          const raw = await tokenBalance(w, n.network, t.contract, a.address);
          value.textContent = `${w.formatUnits(raw, info.decimals)} ${info.symbol}`;
        })
        .catch((e) => {
          value.textContent = 'Unavailable';
          value.classList.add('bad');
          send.remove();
          row.append(h('p.small.bad-text', { text: `The token could not be read: ${e && e.message ? e.message : e}` }));
        });
      rows.push(row);
    }
  }
  const net = h('select', { id: 'token-network', 'data-testid': 'wallet-token-network' },
    evm.map((n) => h('option', { value: n.network, text: `${n.network} (chain ${n.chain_id})` })));
  const contract = h('input', { id: 'token-contract', 'data-testid': 'wallet-token-contract', autocomplete: 'off', spellcheck: 'false', placeholder: '0x… (the token contract)' });
  const out = h('div');
  const add = action('Add token', '', async () => {
    const address = contract.value.trim();
    if (!/^0x[0-9a-fA-F]{40}$/.test(address)) throw new TokenError('A token contract address is 0x followed by 40 hexadecimal characters.');
    // Read from the contract first: only a contract that answers as an ERC-20 token is added.
    await readToken(w, net.value, address);
    addToken(userId, net.value, address);
    route();
  }, { out, testid: 'wallet-token-add', busy: 'Reading the contract…' });
  box.append(h('h3', { text: 'Tokens (ERC-20)' }),
    rows.length ? h('ul.list.token-list', {}, rows) : h('p.small.muted', { text: 'No token listed yet on these networks.' }),
    h('details.add-token', {},
      h('summary', { text: 'Add a token by its contract address' }),
      h('div.stack', {}, out,
        h('div', {}, h('label', { for: 'token-network', text: 'Network' }), net),
        h('div', {}, h('label', { for: 'token-contract', text: 'Contract address' }), contract,
          h('div.hint', { text: 'Its symbol and decimals are read from the contract itself. Only the address is kept, in this browser.' })),
        add)));
  return box;
}

function chainCard(w, a, networks, listed) {
  const c = CHAINS[a.chain] || { name: a.chain, detail: '' };
  const qrBox = h('div.qr-box.hidden');
  const toggle = h('button.small-button', { type: 'button', 'aria-expanded': 'false', 'data-testid': `wallet-show-qr-${a.chain}`, text: 'QR code' });
  toggle.addEventListener('click', () => {
    const open = qrBox.classList.toggle('hidden') === false;
    toggle.setAttribute('aria-expanded', String(open));
    if (open && !qrBox.firstChild) {
      qrBox.append(qrCode(w, a.address, `QR code of your ${c.name} address`, `wallet-qr-${a.chain}`),
        h('p.small.muted', { text: `Send only ${c.name} network assets to this address.` }));
    }
  });
  return h('li.chain', { 'data-testid': `wallet-chain-${a.chain}` },
    h('div.row.spread', {},
      h('div', {}, h('span.item-title', { text: c.name }), c.detail ? h('span.small.muted', { text: ` ${c.detail}` }) : null),
      h('code.small.path', { text: a.path })),
    h('div.address', { 'data-testid': `wallet-address-${a.chain}`, text: a.address }),
    balanceBox(w, a, networks),
    h('div.row', {}, copyButton(a.address, `wallet-copy-${a.chain}`), toggle,
      (a.chain === 'evm' || SEND_PAGES[a.chain]) && networks && networks.some((n) => n.chain === a.chain && servesAddress(n))
        ? h('a.button.small-button.primary', { href: `#/wallet/send/${a.chain}`, 'data-testid': `wallet-send-${a.chain}`, text: 'Send' }) : null,
      HISTORY_CHAINS.includes(a.chain) && networks && networks.some((n) => n.chain === a.chain && servesAddress(n))
        ? h('a.button.small-button', { href: `#/wallet/history/${a.chain}`, 'data-testid': `wallet-history-${a.chain}`, text: 'History' }) : null),
    qrBox,
    a.chain === 'evm' ? tokenBox(w, a, networks, listed) : null,
    a.chain === 'solana' || a.chain === 'tron' ? chainTokenBox(w, a, networks, listed) : null);
}

async function unlockedView() {
  const seq = renderSeq; // a newer route drawn meanwhile wins: this one draws nothing
  const w = await walletModule();
  const out = h('div');
  let networks = null;
  try { networks = (await api('GET', '/api/wallet/networks')).networks; } catch (e) { if (e.status === 401) throw e; }
  const listed = await adminTokens();
  if (!unlocked.addresses) return lockedView();
  const keys = await keyringState();
  const single = keys ? singlePasskeyWarning(keys.ring, keys.passkeys) : null;
  const published = unlocked.published
    ? notice('warn', 'Your addresses were not published', `Your other devices will not list them until the next unlock. ${unlocked.published.message || ''}`.trim())
    : null;
  const account = accountInput(unlocked.account);
  const switchTo = action('Open this account', '', async () => {
    const n = readAccount(account);
    // Another account is another derivation: a passkey ceremony of its own, whose addresses
    // replace these.
    await unlock(n);
    localStorage.setItem(ACCOUNT_KEY, String(n));
    route();
  }, { out, testid: 'wallet-switch-account', busy: 'Waiting for your passkey…' });
  return seq !== renderSeq ? null : page('Wallet', out, ...(published ? [published] : []), ...(single ? [single] : []),
    h('div.card.stack', {},
      h('div.row.spread', {},
        h('div', {}, h('span.pill.ok', { 'data-testid': 'wallet-unlocked', text: 'Unlocked' }), ' ',
          h('span.muted.small', { 'data-testid': 'wallet-account-shown', text: `Account ${unlocked.account}` })),
        h('button', { type: 'button', 'data-testid': 'wallet-lock', onclick: () => lock(), text: 'Lock' })),
      h('div.row', {},
        h('a.button.small-button', { href: '#/wallet/sign', 'data-testid': 'wallet-go-sign', text: 'Sign a message' }),
        h('a.button.small-button', { href: '#/wallet/settings', 'data-testid': 'wallet-go-settings', text: 'Settings and recovery phrase' })),
      h('p.small.muted', { text: `Only these public addresses are kept while the wallet is open. It locks after ${autolockMinutes() === 1 ? '1 minute' : `${autolockMinutes()} minutes`} without activity; each payment or signature will ask for your passkey again.` })),
    h('div.card', {},
      h('div.row.spread', {}, h('h2', { text: 'Your addresses and balances' }),
        h('button.small-button', { type: 'button', 'data-testid': 'wallet-refresh', onclick: () => route(), text: 'Refresh' })),
      h('ul.list', { 'data-testid': 'wallet-addresses' }, unlocked.addresses.map((a) => chainCard(w, a, networks, listed)))),
    ...(keys ? [passkeysCard(keys.ring, keys.passkeys, out)] : []),
    h('details.card', {},
      h('summary', { text: 'Accounts and auto-lock' }),
      h('div.stack', {},
        h('div', {}, h('label', { for: 'wallet-account', text: 'Account' }), h('div.row.nowrap', {}, account, switchTo),
          h('div.hint', { text: 'Each account number is a separate set of addresses from the same passkey. Opening another one asks for your passkey.' })),
        autolockSetting())));
}

export async function walletPage(view, chain) {
  // A wallet unlocked by someone else in this browser (signed out since) is no longer shown.
  if (unlocked.addresses && (!state.me || unlocked.user !== state.me.user.id)) lock();
  if (!unlocked.addresses) return lockedView();
  touch();
  arm();
  if (view === 'send') return SEND_PAGES[chain] ? SEND_PAGES[chain]() : sendPage();
  if (view === 'sign') return signPage();
  if (view === 'settings') return settingsPage();
  if (view === 'history') return historyPage(chain);
  return unlockedView();
}
