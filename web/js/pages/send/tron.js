// `#/wallet/send/tron`: send TRX or a TRC-20 token of the admin's list. The node's latest block
// (`/wallet/getnowblock`) and the form go into the wallet module, which builds the transaction's
// `raw_data` protobuf itself and decodes it; the confirmation screen shows that decoding with the
// bandwidth it uses (free or burnt), and for a token the node's energy estimate and the fee
// limit. "Confirm" is a passkey ceremony of its own; the module signs only bytes that still
// decode to the summary shown. The signed transaction goes out with
// `/wallet/broadcasttransaction`; the page follows `/wallet/gettransactioninfobyid` until it is
// in a block or expired.
import { renderSeq } from '../../router.js';
import { api } from '../../api.js';
import { h, page } from '../../dom.js';
import { action } from '../../ui.js';
import { walletModule } from '../../wallet.js';
import { unlockedWallet, withWalletPrf } from '../wallet.js';
import { confirmCard, field, networksOf, noNetwork, notSent, statusBox, wait } from './common.js';

const FEE_LIMIT_SUN = '100000000'; // 100 TRX: the most a token transfer's energy may burn
const SUN_PER_BYTE = 1000n; // bandwidth burnt when the free and staked bandwidth do not cover it

class TronRefused extends Error {}

async function node(network, path, body) {
  const r = await api('POST', '/api/wallet/rpc', { chain: 'tron', network, call: { kind: 'rest', method: 'POST', path, ...(body ? { body } : {}) } });
  const j = r.body && r.body.json;
  if (r.status >= 400 || !j || typeof j !== 'object') throw new Error(`The TRON node did not answer ${path} (HTTP ${r.status}).`);
  return j;
}

/** A node's message: java-tron writes it as hex of the text. */
function said(j) {
  const m = String(j.message || j.code || JSON.stringify(j));
  if (/^([0-9a-fA-F]{2})+$/.test(m)) return new TextDecoder().decode(Uint8Array.from(m.match(/../g).map((x) => parseInt(x, 16))));
  return m;
}

export function plain(e) {
  const m = String(e && e.message ? e.message : e);
  if (!(e instanceof TronRefused)) return m;
  const low = m.toLowerCase();
  if (low.includes('balance is not sufficient') || low.includes('balance not sufficient')) return `Not enough TRX to send this amount. Nothing was sent. (${m})`;
  if (low.includes('bandwith') || low.includes('bandwidth')) return `Not enough TRX to pay for the bandwidth this transaction uses. Nothing was sent. (${m})`;
  if (low.includes('expiration') || low.includes('expired')) return `The transaction expired before it reached the network. Nothing was sent. Review again. (${m})`;
  if (low.includes('dup_transaction') || low.includes('duplicate')) return `This transaction was already sent. (${m})`;
  return `The node refused the transaction: ${m}`;
}

export async function tronSendPage() {
  const seq = renderSeq; // a newer route drawn meanwhile wins: this one draws nothing
  const w = await walletModule();
  const wallet = unlockedWallet();
  const from = wallet.addresses.find((a) => a.chain === 'tron').address;
  const networks = await networksOf('tron');
  if (!networks.length) return seq !== renderSeq ? null : noNetwork('TRON');
  const tokens = (await api('GET', '/api/wallet/tokens')).tokens.filter((t) => t.chain === 'tron');
  const out = h('div');
  const body = h('div');
  const net = h('select', { id: 'send-network', 'data-testid': 'wallet-send-network' }, networks.map((n) => h('option', { value: n.network, text: n.network })));
  const asset = h('select', { id: 'send-asset', 'data-testid': 'wallet-send-asset' });
  const to = h('input', { id: 'send-to', 'data-testid': 'wallet-send-to', autocomplete: 'off', spellcheck: 'false', placeholder: 'T…' });
  const amount = h('input', { id: 'send-amount', 'data-testid': 'wallet-send-amount', inputmode: 'decimal', autocomplete: 'off', placeholder: '0.0' });
  const unit = h('span.muted');
  const showAsset = () => {
    const t = tokens.find((x) => x.network === net.value && x.contract === asset.value);
    unit.textContent = t ? t.symbol : 'TRX';
  };
  const fillAssets = () => {
    asset.replaceChildren(h('option', { value: 'trx', text: 'TRX' }),
      ...tokens.filter((t) => t.network === net.value).map((t) => h('option', { value: t.contract, text: `${t.symbol} (${t.contract.slice(0, 4)}…${t.contract.slice(-4)})` })));
    showAsset();
  };
  net.addEventListener('change', fillAssets);
  asset.addEventListener('change', showAsset);
  fillAssets();

  const review = action('Review', 'primary big', async () => {
    const network = net.value;
    const t = tokens.find((x) => x.network === network && x.contract === asset.value);
    const base = w.parseUnits(amount.value.trim(), t ? t.decimals : 6);
    const block = await node(network, '/wallet/getnowblock');
    const req = { from, to: to.value.trim(), amount: base, block };
    if (t) Object.assign(req, { token: { contract: t.contract, symbol: t.symbol, decimals: t.decimals }, feeLimitSun: FEE_LIMIT_SUN });
    const built = w.tronBuildSend(req);
    // Bandwidth: the account's free and staked bandwidth left, else burnt at 1000 sun a byte.
    const res = await node(network, '/wallet/getaccountresource', { address: from, visible: true });
    const left = BigInt((res.freeNetLimit || 0) - (res.freeNetUsed || 0)) + BigInt((res.NetLimit || 0) - (res.NetUsed || 0));
    const bytes = BigInt(built.summary.bandwidth_bytes);
    const bandwidthSun = left >= bytes ? 0n : bytes * SUN_PER_BYTE;
    let energy = null;
    if (t) {
      // The node runs the call without sending it: the energy it uses, at the network's price.
      const est = await node(network, '/wallet/triggerconstantcontract', {
        owner_address: from, contract_address: t.contract, function_selector: 'transfer(address,uint256)', parameter: built.parameter, visible: true,
      });
      const params = await node(network, '/wallet/getchainparameters');
      const price = (params.chainParameter || []).find((p) => p.key === 'getEnergyFee');
      if (est.result && est.result.result && typeof est.energy_used === 'number' && price) {
        energy = { used: est.energy_used, sun: String(BigInt(est.energy_used) * BigInt(price.value)) };
      }
    }
    confirmView(w, { network, bandwidthSun: String(bandwidthSun), energy }, built, body, out, wallet.account);
  }, { out, testid: 'wallet-send-review', busy: 'Asking the network…' });

  body.append(h('form.card.stack', { novalidate: true, onsubmit: (ev) => ev.preventDefault() },
    field('send-network', 'Network', net),
    h('div', {}, h('label', { text: 'From' }), h('div.address', { text: from }), h('div.hint', { text: `Account ${wallet.account}` })),
    field('send-asset', 'Asset', asset),
    field('send-to', 'To', to),
    h('div', {}, h('label', { for: 'send-amount', text: 'Amount' }), h('div.row.nowrap', {}, amount, unit)),
    review,
    h('p.small.muted', { text: 'Next you see what will be signed, read back from the transaction itself. Nothing is signed before you confirm with your passkey.' })));
  return seq !== renderSeq ? null : page('Send on TRON', out, body, h('p', {}, h('a', { href: '#/wallet', text: 'Back to the wallet' })));
}

function confirmView(w, ctx, built, body, out, account) {
  const s = built.summary;
  const trx = (sun) => `${w.formatUnits(sun, 6)} TRX`;
  const status = h('div', { 'aria-live': 'polite' });
  const confirm = action('Confirm and sign with my passkey', 'approve big', async () => {
    const signed = await withWalletPrf((prf) => w.tronSignReviewed(prf, { account, rawData: built.rawData, summary: s })); // zeroes prf
    confirm.remove();
    body.querySelector('[data-testid="wallet-send-cancel"]')?.remove();
    statusBox(status, 'ok', 'Signed', 'Sending it to the network…');
    try {
      const j = await node(ctx.network, '/wallet/broadcasttransaction', signed.transaction);
      if (j.result !== true) throw new TronRefused(said(j));
    } catch (e) {
      notSent(status, plain(e));
      return;
    }
    statusBox(status, 'ok', 'Sent: waiting for the network to include it', null, signed.txid);
    await follow(ctx.network, s, signed.txid, status);
  }, { out, testid: 'wallet-send-confirm', busy: 'Waiting for your passkey…' });
  const bandwidth = ctx.bandwidthSun === '0'
    ? `${s.bandwidth_bytes} bytes, covered by this account's free bandwidth`
    : `${s.bandwidth_bytes} bytes, burning ${trx(ctx.bandwidthSun)} (this account's free bandwidth does not cover it)`;
  body.replaceChildren(confirmCard([
    ['Network', `TRON ${ctx.network}`, 'wallet-send-chain'],
    ['From', s.from, 'wallet-send-from'],
    ['To', s.to, 'wallet-send-recipient'],
    s.token_contract ? ['Token contract', s.token_contract, 'wallet-send-token'] : null,
    ['Amount', s.amount.display, 'wallet-send-amount-shown'],
    ['Bandwidth', bandwidth, 'wallet-send-bandwidth'],
    s.fee_limit ? ['Energy (estimate)', ctx.energy ? `${ctx.energy.used} energy, about ${trx(ctx.energy.sun)} if burnt` : 'The node gave no estimate', 'wallet-send-energy'] : null,
    s.fee_limit ? ['Fee limit', `${s.fee_limit.display}: the most this call's energy may burn`, 'wallet-send-fee-limit'] : null,
    ['Reference block', `${s.ref_block_bytes} / ${s.ref_block_hash}`, 'wallet-send-ref-block'],
    ['Expires', `${new Date(s.expiration_ms).toLocaleString()}: the network drops it after that`, 'wallet-send-expiry'],
    ['Transaction id', s.txid, 'wallet-send-txid'],
  ], confirm, status));
}

async function follow(network, s, txid, status) {
  for (let i = 0; i < 300 && status.isConnected; i += 1) {
    let info = null;
    try { info = await node(network, '/wallet/gettransactioninfobyid', { value: txid }); } catch { info = null; }
    if (info && info.blockNumber) {
      const failed = info.result === 'FAILED' || (info.receipt && info.receipt.result && info.receipt.result !== 'SUCCESS');
      if (failed) {
        statusBox(status, 'bad', 'Failed on the network', `In block ${info.blockNumber}: ${info.receipt && info.receipt.result ? info.receipt.result : said({ message: info.resMessage })}. The fee was paid; the transfer did not happen.`, txid);
      } else {
        statusBox(status, 'ok', 'Confirmed', `In block ${info.blockNumber}.`, txid);
      }
      return;
    }
    if (Date.now() > s.expiration_ms) {
      statusBox(status, 'bad', 'Expired', 'The network did not include it before it expired; it can never execute now. Nothing was sent. Start again.', txid);
      return;
    }
    await wait(2000);
  }
}
