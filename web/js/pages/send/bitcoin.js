// `#/wallet/send/bitcoin`: send bitcoin from the BIP-84 account. The wallet crate does the
// work: the account's first addresses (a passkey ceremony, once per unlock: public, kept while
// unlocked), then — from the coins the page fetched through the gateway (Esplora: each
// address's UTXOs and their previous transactions, the change addresses' use) — coin selection,
// change to the wallet's own next change address and fee = vsize × rate, in a PSBT reviewed from
// its own bytes (a second ceremony). The confirmation screen shows that review; "Confirm" is a
// third ceremony, in which `bitcoinSignPsbt` signs only a PSBT that still gives the approved
// review. The transaction goes out with `POST /tx`; the page follows `GET /tx/:txid/status`.
import { renderSeq } from '../../router.js';
import { api } from '../../api.js';
import { h, page } from '../../dom.js';
import { servesAddress } from '../../balances.js';
import { action } from '../../ui.js';
import { walletModule } from '../../wallet.js';
import { unlockedWallet, withWalletPrf } from '../wallet.js';
import { confirmCard, field, noNetwork, notSent, statusBox, wait } from './common.js';

const MODULE_NETWORK = 'bitcoin'; // the page's addresses are mainnet ones (bc1…)
const SCAN = 5; // receive and change addresses asked about

/** The account's addresses, per unlocked wallet (its address list is the key: a new unlock is a
 * new list), so a lock forgets them with everything else. */
const scanned = new WeakMap();

/** The account's first receive and change addresses (public), asked of the wallet module once
 * per unlock (a passkey ceremony) and kept while unlocked: the send and history pages share them. */
export async function accountAddresses(w, wallet) {
  let addrs = scanned.get(wallet.addresses);
  if (!addrs) {
    addrs = await withWalletPrf((prf) => w.bitcoinAccountAddresses(prf, { network: MODULE_NETWORK, receive: SCAN, change: SCAN })); // zeroes prf
    scanned.set(wallet.addresses, addrs);
  }
  return addrs;
}

/** Whether the account's addresses are already known (no ceremony needed). */
export const knowsAccountAddresses = (wallet) => scanned.has(wallet.addresses);

class NodeRefused extends Error {}

async function esplora(network, method, path, body) {
  const r = await api('POST', '/api/wallet/rpc', { chain: 'bitcoin', network, call: { kind: 'rest', method, path, ...(body !== undefined ? { body } : {}) } });
  const b = r.body || {};
  const out = b.json !== undefined ? b.json : b.text;
  if (r.status >= 400) throw new NodeRefused(typeof out === 'string' ? out : JSON.stringify(out));
  return out;
}

export function plain(e) {
  const m = String(e && e.message ? e.message : e);
  const low = m.toLowerCase();
  if (e && e.code && low.includes('insufficient')) return `Not enough bitcoin for this amount and the network fee. Nothing was signed. (${m})`;
  if (!(e instanceof NodeRefused)) return m;
  if (low.includes('min relay fee') || low.includes('insufficient fee') || low.includes('mempool min fee')) return `The fee is too low for the network right now. Review again with a higher rate. (${m})`;
  if (low.includes('missingorspent') || low.includes('missing inputs') || low.includes('already spent') || low.includes('conflict')) return `A coin this transaction spends is already spent. Review again. (${m})`;
  return `The node refused the transaction: ${m}`;
}

export async function bitcoinSendPage() {
  const seq = renderSeq; // a newer route drawn meanwhile wins: this one draws nothing
  const w = await walletModule();
  const wallet = unlockedWallet();
  const from = wallet.addresses.find((a) => a.chain === 'bitcoin').address;
  const networks = (await api('GET', '/api/wallet/networks')).networks.filter((n) => n.chain === 'bitcoin' && servesAddress(n));
  if (!networks.length) return seq !== renderSeq ? null : noNetwork('Bitcoin');
  const out = h('div');
  const body = h('div');
  const net = h('select', { id: 'send-network', 'data-testid': 'wallet-send-network' }, networks.map((n) => h('option', { value: n.network, text: n.network })));
  const to = h('input', { id: 'send-to', 'data-testid': 'wallet-send-to', autocomplete: 'off', spellcheck: 'false', placeholder: 'bc1…' });
  const amount = h('input', { id: 'send-amount', 'data-testid': 'wallet-send-amount', inputmode: 'decimal', autocomplete: 'off', placeholder: '0.0' });
  const all = h('input', { id: 'send-all', type: 'checkbox', 'data-testid': 'wallet-send-all' });
  const rate = h('input', { id: 'send-rate', 'data-testid': 'wallet-send-rate', inputmode: 'numeric', autocomplete: 'off', value: '' });
  all.addEventListener('change', () => { amount.disabled = all.checked; });
  // The network's estimate for about an hour (6 blocks), whole sat/vB, as a starting point.
  esplora(net.value, 'GET', '/fee-estimates').then((est) => {
    if (!rate.value && est && typeof est === 'object' && Number.isFinite(est['6'])) rate.value = String(Math.max(1, Math.ceil(est['6'])));
  }, () => {});

  const review = action('Review', 'primary big', async () => {
    const network = net.value;
    if (!/^[0-9]{1,4}$/.test(rate.value.trim())) throw new Error('The fee rate is a whole number of sat/vB.');
    const addrs = await accountAddresses(w, wallet);
    // Each address's coins, their previous transactions, and the first change address never used.
    const list = [...addrs.receive, ...addrs.change];
    const coins = await Promise.all(list.map(async (address) => ({ address, utxos: await esplora(network, 'GET', `/address/${address}/utxo`) })));
    const txids = [...new Set(coins.flatMap((c) => (Array.isArray(c.utxos) ? c.utxos.map((u) => u.txid) : [])))];
    const prevTxs = await Promise.all(txids.map((t) => esplora(network, 'GET', `/tx/${t}/hex`)));
    const used = await Promise.all(addrs.change.map(async (a) => {
      const s = await esplora(network, 'GET', `/address/${a}`);
      return ((s.chain_stats && s.chain_stats.tx_count) || 0) + ((s.mempool_stats && s.mempool_stats.tx_count) || 0) > 0;
    }));
    const changeIndex = used.indexOf(false) === -1 ? used.length : used.indexOf(false);
    const req = { network: MODULE_NETWORK, recipient: to.value.trim(), feeRate: rate.value.trim(), changeIndex, coins, prevTxs };
    if (all.checked) req.all = true; else req.amountSat = w.parseUnits(amount.value.trim(), 8);
    let planned;
    try {
      planned = await withWalletPrf((prf) => w.bitcoinPlanSend(prf, req)); // zeroes prf
    } catch (e) {
      throw new Error(plain(e));
    }
    confirmView(w, network, planned, body, out);
  }, { out, testid: 'wallet-send-review', busy: 'Asking the network and your passkey…' });

  body.append(h('form.card.stack', { novalidate: true, onsubmit: (ev) => ev.preventDefault() },
    field('send-network', 'Network', net),
    h('div', {}, h('label', { text: 'From' }), h('div.address', { text: from }), h('div.hint', { text: `BIP-84 account 0: the coins of its first ${SCAN} receive and change addresses` })),
    field('send-to', 'To', to),
    h('div', {}, h('label', { for: 'send-amount', text: 'Amount' }), h('div.row.nowrap', {}, amount, h('span.muted', { text: 'BTC' })),
      h('label.row.nowrap.small', { for: 'send-all' }, all, ' Send everything (the fee comes out of it; no change)')),
    field('send-rate', 'Fee rate (sat/vB)', rate, 'The fee is the transaction\'s virtual size × this rate. The network\'s estimate for about an hour is filled in.'),
    review,
    h('p.small.muted', { text: 'Review asks for your passkey: the wallet picks the coins and builds the transaction. Next you see what will be signed, read back from it; nothing is signed before you confirm with your passkey again.' })));
  return seq !== renderSeq ? null : page('Send bitcoin', out, body, h('p', {}, h('a', { href: '#/wallet', text: 'Back to the wallet' })));
}

function confirmView(w, network, planned, body, out) {
  const c = planned.confirmation;
  const btc = (sat) => `${w.formatUnits(String(sat), 8)} BTC`;
  const status = h('div', { 'aria-live': 'polite' });
  const confirm = action('Confirm and sign with my passkey', 'approve big', async () => {
    const signed = await withWalletPrf((prf) => w.bitcoinSignPsbt(prf, { network: MODULE_NETWORK, psbt: planned.psbt, review: planned.review })); // zeroes prf
    confirm.remove();
    body.querySelector('[data-testid="wallet-send-cancel"]')?.remove();
    statusBox(status, 'ok', 'Signed', 'Sending it to the network…');
    let txid;
    try {
      txid = String(await esplora(network, 'POST', '/tx', signed.transaction)).trim();
    } catch (e) {
      notSent(status, plain(e));
      return;
    }
    statusBox(status, 'ok', 'Sent: waiting for a block', null, txid);
    await follow(network, txid, status);
  }, { out, testid: 'wallet-send-confirm', busy: 'Waiting for your passkey…' });
  body.replaceChildren(confirmCard([
    ['Network', `Bitcoin ${network}`, 'wallet-send-chain'],
    ...c.recipients.map((r, i) => [c.recipients.length > 1 ? `To (${i + 1})` : 'To', `${r.address || 'a script without an address'}: ${btc(r.value_sat)}`, `wallet-send-recipient${i ? `-${i}` : ''}`]),
    ['Network fee', `${btc(c.fee_sat)} (${c.vsize} vB × ${c.fee_rate_sat_vb} sat/vB${c.dust_to_fee_sat ? ` + ${c.dust_to_fee_sat} sat of change too small to keep` : ''})`, 'wallet-send-fee'],
    ...c.change.map((o) => ['Change, back to this wallet', `${btc(o.value_sat)} to ${o.address} (${o.change})`, 'wallet-send-change']),
    ['Leaves the wallet', btc(c.leaves_wallet_sat), 'wallet-send-total'],
    ['Coins spent', String(c.input_count), 'wallet-send-inputs'],
    ['Replaceable', c.replaceable ? 'Yes (BIP-125): the fee can be raised later' : 'No', 'wallet-send-rbf'],
    ['Transaction id', c.txid, 'wallet-send-txid'],
  ], confirm, status, 'Read back from the transaction (PSBT) to be signed.'));
}

async function follow(network, txid, status) {
  for (let i = 0; i < 600 && status.isConnected; i += 1) {
    let st = null;
    try { st = await esplora(network, 'GET', `/tx/${txid}/status`); } catch { st = null; }
    if (st && st.confirmed) {
      statusBox(status, 'ok', 'Confirmed', `In block ${st.block_height}.`, txid);
      return;
    }
    await wait(10000);
  }
}
