// `#/wallet/history/<chain>`: the chain's transactions, newest first, read through the gateway
// (web/js/history.js) and by the wallet module. Each entry: date, direction, the other side,
// amount with symbol, the fee when this wallet paid it, the status and the transaction id (with
// Copy; no link to an explorer: the page loads nothing from elsewhere and sends no address out).
import { renderSeq } from '../router.js';
import { api } from '../api.js';
import { h, notice, page } from '../dom.js';
import { servesAddress } from '../balances.js';
import { EVM_BLOCKS, EVM_SENT_LIMIT, HistoryError, LIMIT, SOLANA_LIMIT, bitcoinHistory, evmHistory, solanaHistory, tonHistory, tronHistory } from '../history.js';
import { state } from '../state.js';
import { action } from '../ui.js';
import { CHAINS, walletModule } from '../wallet.js';
import { unlockedWallet } from './wallet.js';
import { accountAddresses, knowsAccountAddresses } from './send/bitcoin.js';

/** What each chain's list covers (shown above it). */
const COVERS = {
  evm: `Ethereum's standard node interface has no list of an address's transactions, and this server runs no indexer. Shown here: transfers of the listed tokens to and from this address in the newest ${EVM_BLOCKS} blocks (their Transfer events), and the newest ${EVM_SENT_LIMIT} transactions sent from this browser with their status. Not shown: ETH (or the network's coin) received, older token transfers, and what was sent from another device or wallet.`,
  bitcoin: 'The transactions of this account\'s first 5 receive and 5 change addresses (BIP-84): unconfirmed ones and the newest 25 confirmed per address, as the node lists them. Amounts are what the transaction paid to this wallet less what it spent from it; change back to the wallet is not counted as sent.',
  solana: `The newest ${SOLANA_LIMIT} transactions that involve this address, as the node lists them, each read in full (one call per transaction). An amount is this wallet's balance change that the node recorded: a token when a token balance changed, else SOL without the network fee. Token transfers to this wallet's token accounts are listed under those accounts, not this address: a token received into an existing token account may not appear here.`,
  ton: `The newest ${LIMIT} transactions of this wallet contract, as the node lists them (only transactions in a block). A transfer sent is the sum of the messages the wallet sent out.`,
  tron: `The newest ${LIMIT} transactions of this account and its newest ${LIMIT} TRC-20 transfers, as the node's account index lists them (contract-internal transfers are not shown). A token not on this server's list shows the symbol the index reports and says so.`,
};

const DIRECTION = { sent: ['Sent', 'warn'], received: ['Received', 'ok'], self_transfer: ['To yourself', ''], other: ['Other', ''] };
const STATUS = { confirmed: ['Confirmed', 'ok'], pending: ['Pending', 'warn'], failed: ['Failed', 'bad'] };

function copyButton(text, testid) {
  const b = h('button.small-button', { type: 'button', 'data-testid': testid, text: 'Copy' });
  b.addEventListener('click', async () => {
    try { await navigator.clipboard.writeText(text); b.textContent = 'Copied'; } catch { b.textContent = 'Select and copy'; }
    setTimeout(() => { if (b.isConnected) b.textContent = 'Copy'; }, 2000);
  });
  return b;
}

function when(e) {
  if (e.block !== undefined && e.time) return `${new Date(e.time * 1000).toLocaleString()} (sent from this browser), block ${e.block}`;
  if (e.block !== undefined) return `In block ${e.block}`;
  return e.time ? new Date(e.time * 1000).toLocaleString() : 'Not yet in a block';
}

function entryView(e, i) {
  const [dir, dirKind] = DIRECTION[e.direction] || [e.direction, ''];
  const [st, stKind] = STATUS[e.status] || [e.status, ''];
  const sign = e.direction === 'sent' ? '−' : e.direction === 'received' ? '+' : '';
  const side = e.counterparty
    ? `${e.direction === 'received' ? 'From' : 'To'} ${e.counterparty}${e.more_counterparties ? ` and ${e.more_counterparties} more` : ''}`
    : null;
  return h('li.history-entry', { 'data-testid': `wallet-history-entry-${i}`, 'data-id': e.id },
    h('div.row.spread', {},
      h('span', {}, h(`span.pill${dirKind ? `.${dirKind}` : ''}`, { 'data-testid': 'wallet-history-direction', text: dir }), ' ',
        h(`span.pill${stKind ? `.${stKind}` : ''}`, { 'data-testid': 'wallet-history-status', text: st })),
      e.direction === 'other' && e.amount.raw === '0' ? null : h('span.balance-value', { 'data-testid': 'wallet-history-amount', text: `${sign}${e.amount.display}` })),
    h('div.small.muted', { 'data-testid': 'wallet-history-time', text: when(e) }),
    side ? h('div.small.address', { 'data-testid': 'wallet-history-counterparty', text: side }) : null,
    e.fee ? h('div.small.muted', { 'data-testid': 'wallet-history-fee', text: `Network fee ${e.fee.display}` }) : null,
    e.note ? h('div.small', { 'data-testid': 'wallet-history-note', text: e.note }) : null,
    h('div.row.nowrap', {}, h('code.small.path', { 'data-testid': 'wallet-history-id', text: e.id }), copyButton(e.id, `wallet-history-copy-${i}`)));
}

/** Reads and shows one network's history into `box`. */
async function show(w, chain, netInfo, wallet, box, tokens) {
  const network = netInfo.network;
  box.replaceChildren(h('p.small.muted', { text: 'Loading…' }));
  const address = wallet.addresses.find((a) => a.chain === chain).address;
  let entries;
  try {
    if (chain === 'evm') {
      entries = await evmHistory(w, netInfo, address, tokens, state.me.user.id);
    } else if (chain === 'bitcoin') {
      const addrs = await accountAddresses(w, wallet);
      entries = await bitcoinHistory(w, network, [...addrs.receive, ...addrs.change]);
    } else if (chain === 'solana') {
      entries = await solanaHistory(w, network, address, tokens.filter((t) => t.chain === 'solana' && t.network === network).map((t) => ({ mint: t.contract, symbol: t.symbol })));
    } else if (chain === 'ton') {
      entries = await tonHistory(w, network, address);
    } else {
      entries = await tronHistory(w, network, address, tokens.filter((t) => t.chain === 'tron' && t.network === network)
        .map((t) => ({ contract: t.contract, symbol: t.symbol, decimals: t.decimals })));
    }
  } catch (e) {
    const why = e instanceof HistoryError ? e.message : (e && e.message ? e.message : String(e));
    box.replaceChildren(h('div.notice.bad', { role: 'alert', 'data-testid': 'wallet-history-error' },
      h('strong', { text: 'The history could not be read' }), h('div', { text: `${why.charAt(0).toUpperCase()}${why.slice(1)}.`.replace(/\.\.$/, '.') })));
    return;
  }
  box.replaceChildren(entries.length
    ? h('ul.list', { 'data-testid': 'wallet-history-list' }, entries.map(entryView))
    : h('p.muted', { 'data-testid': 'wallet-history-empty', text: 'No transactions yet.' }));
}

export async function historyPage(chain) {
  const seq = renderSeq; // a newer route drawn meanwhile wins: this one draws nothing
  const w = await walletModule();
  const wallet = unlockedWallet();
  const c = CHAINS[chain];
  const back = h('p', {}, h('a', { href: '#/wallet', text: 'Back to the wallet' }));
  if (!c || !COVERS[chain]) {
    return seq !== renderSeq ? null : page('History', notice('warn', 'No history for this chain here', 'This page lists EVM, Bitcoin, Solana, TON and TRON transactions.'), back);
  }
  const networks = (await api('GET', '/api/wallet/networks')).networks.filter((n) => n.chain === chain && servesAddress(n));
  if (!networks.length) {
    return seq !== renderSeq ? null : page(`${c.name} history`, h('div.notice.warn', { 'data-testid': 'wallet-history-no-node' },
      h('strong', { text: `No ${c.name} node is set up on this server` }),
      h('div', { text: 'The history is read from a node. An admin can add one (blindvault admin wallet endpoint set).' })), back);
  }
  const tokens = chain !== 'bitcoin' && chain !== 'ton' ? ((await api('GET', '/api/wallet/tokens')).tokens || []) : [];
  const out = h('div');
  const box = h('div', { 'data-testid': 'wallet-history', 'aria-live': 'polite' });
  const net = h('select', { id: 'history-network', 'data-testid': 'wallet-history-network' }, networks.map((n) => h('option', { value: n.network, text: n.chain_id ? `${n.network} (chain ${n.chain_id})` : n.network })));
  const load = () => show(w, chain, networks.find((n) => n.network === net.value), wallet, box, tokens);
  net.addEventListener('change', load);
  const address = wallet.addresses.find((a) => a.chain === chain).address;
  const head = h('div.card.stack', {},
    h('div', {}, h('label', { for: 'history-network', text: 'Network' }), net),
    h('div', {}, h('label', { text: 'Address' }), h('div.address', { text: address }), h('div.hint', { text: `Account ${wallet.account}` })),
    h('p.small.muted', { 'data-testid': 'wallet-history-covers', text: COVERS[chain] }));
  if (chain === 'bitcoin' && !knowsAccountAddresses(wallet)) {
    // The change addresses come from the wallet's keys: one passkey ceremony, then kept while unlocked.
    box.append(h('p.small', { text: 'Reading the history needs this account\'s receive and change addresses, which the wallet derives with your passkey (once while unlocked).' }),
      action('Show the history', 'primary', load, { out, testid: 'wallet-history-load', busy: 'Waiting for your passkey…' }));
  } else {
    load();
  }
  return seq !== renderSeq ? null : page(`${c.name} history`, out, head, h('div.card', {}, h('div.row.spread', {}, h('h2', { text: 'Transactions, newest first' }),
    h('button.small-button', { type: 'button', 'data-testid': 'wallet-history-refresh', onclick: load, text: 'Refresh' })), box), back);
}
