// `#/wallet/send/evm`: send the native coin of an EVM network; `#/wallet/send/evm/<network>/<token>`:
// an ERC-20 token, whose symbol and decimals are read from the contract. The form's values and the node's
// nonce and fees go into the wallet module, which builds the unsigned EIP-1559 payload and
// decodes it; the confirmation screen shows that decoding (never the form). "Confirm" runs a
// passkey ceremony of its own, and the module signs only a payload that still decodes to the
// summary shown. The signed bytes go to the node through the gateway; the page then follows the
// receipt until the transaction is confirmed or failed.
import { api } from '../api.js';
import { h, notice, page } from '../dom.js';
import { EVM_SYMBOLS } from '../balances.js';
import { renderSeq, route } from '../router.js';
import { action } from '../ui.js';
import { readToken } from '../tokens.js';
import { walletModule } from '../wallet.js';
import { unlockedWallet, withWalletPrf } from './wallet.js';
import { rememberSent } from '../history.js';
import { state } from '../state.js';

async function call(network, method, params) {
  const r = await api('POST', '/api/wallet/rpc', { chain: 'evm', network, call: { kind: 'json_rpc', method, params } });
  const j = r.body && r.body.json;
  if (r.status >= 400 || !j || typeof j !== 'object') throw new Error(`The node did not answer ${method} (HTTP ${r.status}).`);
  if (j.error) throw new NodeRefused(j.error.message || String(j.error.code));
  return j.result;
}

class NodeRefused extends Error {}

/** A node's refusal in plain words (the node's own message follows). */
function plain(e) {
  const m = String(e && e.message ? e.message : e);
  if (!(e instanceof NodeRefused)) return m;
  const low = m.toLowerCase();
  if (low.includes('insufficient funds')) return `Not enough funds to pay the amount and the network fee. Nothing was sent. (${m})`;
  if (low.includes('exceeds balance') || low.includes('insufficient balance')) return `Not enough of this token to send that amount. Nothing was signed. (${m})`;
  if (low.includes('nonce too low') || low.includes('already known')) return `This transaction's number (nonce) was already used: another transaction from this account went first. Review again. (${m})`;
  if (low.includes('nonce too high') || low.includes('gap')) return `Transactions from this account are waiting before this one (a nonce gap). Wait for them, then review again. (${m})`;
  if (low.includes('underpriced') || low.includes('fee too low') || low.includes('max fee per gas less than block base fee')) return `The fee is too low for the network right now. Review again to get a new fee. (${m})`;
  return `The node refused the transaction: ${m}`;
}

const hexBig = (v, what) => {
  if (typeof v !== 'string' || !/^0x[0-9a-fA-F]+$/.test(v)) throw new Error(`The node's ${what} is not a number.`);
  return BigInt(v);
};

/** Nonce, gas and EIP-1559 fees from the node: max fee = 2 × base fee + priority fee. `tx` is
 * what the gas is estimated for: `{from, to, value}` (hex), and `data` for a token's transfer. */
async function fromNode(network, from, tx) {
  const [nonce, block, tip, gas] = await Promise.all([
    call(network, 'eth_getTransactionCount', [from, 'pending']),
    call(network, 'eth_getBlockByNumber', ['latest', false]),
    call(network, 'eth_maxPriorityFeePerGas', []).catch(() => '0x3b9aca00'), // 1 gwei if the node has no opinion
    call(network, 'eth_estimateGas', [tx]),
  ]);
  const base = hexBig(block && block.baseFeePerGas, 'base fee');
  const priority = hexBig(tip, 'priority fee');
  return {
    nonce: hexBig(nonce, 'nonce').toString(), gasLimit: hexBig(gas, 'gas estimate').toString(),
    maxFeePerGas: (2n * base + priority).toString(), maxPriorityFeePerGas: priority.toString(),
  };
}

function facts(rows) {
  return h('dl.facts', { 'data-testid': 'wallet-send-summary' }, rows.flatMap(([k, v, id]) => [h('dt', { text: k }), h('dd', { 'data-testid': id, text: v })]));
}

export async function sendPage() {
  const seq = renderSeq; // a newer route drawn meanwhile wins: this one draws nothing
  const w = await walletModule();
  const wallet = unlockedWallet();
  const from = wallet.addresses.find((a) => a.chain === 'evm').address;
  const networks = (await api('GET', '/api/wallet/networks')).networks.filter((n) => n.chain === 'evm');
  const out = h('div');
  const body = h('div');
  if (!networks.length) {
    return seq !== renderSeq ? null : page('Send', notice('warn', 'No EVM network is set up on this server', 'An admin can add one (blindvault admin wallet endpoint set).'), h('a.button', { href: '#/wallet', text: 'Back to the wallet' }));
  }
  // `#/wallet/send/evm/<network>/<token contract>`: a token; without them, the native coin.
  const [, , , tokenNetwork, tokenContract] = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  let token = null;
  if (tokenContract) {
    if (!networks.some((n) => n.network === tokenNetwork)) {
      return seq !== renderSeq ? null : page('Send', notice('warn', 'This network is not set up on this server', tokenNetwork), h('a.button', { href: '#/wallet', text: 'Back to the wallet' }));
    }
    try {
      token = await readToken(w, tokenNetwork, tokenContract); // symbol and decimals from the contract
    } catch (e) {
      return seq !== renderSeq ? null : page('Send', notice('bad', 'This token cannot be read', `${e.message || e}`), h('a.button', { href: '#/wallet', text: 'Back to the wallet' }));
    }
  }
  const choices = token ? networks.filter((n) => n.network === token.network) : networks;
  const net = h('select', { id: 'send-network', 'data-testid': 'wallet-send-network' },
    choices.map((n) => h('option', { value: n.network, text: `${n.network} (chain ${n.chain_id})` })));
  const to = h('input', { id: 'send-to', 'data-testid': 'wallet-send-to', autocomplete: 'off', spellcheck: 'false', placeholder: '0x…' });
  const amount = h('input', { id: 'send-amount', 'data-testid': 'wallet-send-amount', inputmode: 'decimal', autocomplete: 'off', placeholder: '0.0' });
  const symbolOf = () => EVM_SYMBOLS[networks.find((n) => n.network === net.value).chain_id] || 'ETH';
  const unit = h('span.muted', { 'data-testid': 'wallet-send-unit', text: token ? token.symbol : symbolOf() });
  net.addEventListener('change', () => { if (!token) unit.textContent = symbolOf(); });

  const review = action('Review', 'primary big', async () => {
    const network = networks.find((n) => n.network === net.value);
    const symbol = symbolOf();
    const recipient = to.value.trim();
    const value = w.parseUnits(amount.value.trim(), token ? token.decimals : 18);
    // The gas is estimated for the very call that will be signed: the token's transfer, or the
    // plain value transfer.
    const tx = token
      ? { from, to: token.contract, value: '0x0', data: w.erc20Encode({ call: 'transfer', to: recipient, amount: value }) }
      : { from, to: recipient, value: `0x${BigInt(value).toString(16)}` };
    let node;
    try {
      node = await fromNode(network.network, from, tx);
    } catch (e) {
      throw new Error(plain(e));
    }
    const built = w.evmBuildSend({ from, chainId: network.chain_id, to: recipient, value, symbol, ...node,
      ...(token ? { token: { contract: token.contract, symbol: token.symbol, decimals: token.decimals } } : {}) });
    confirmView(w, network, built, body, out, wallet.account);
  }, { out, testid: 'wallet-send-review', busy: 'Asking the network…' });

  body.append(h('form.card.stack', { novalidate: true, onsubmit: (ev) => ev.preventDefault() },
    h('div', {}, h('label', { for: 'send-network', text: 'Network' }), net),
    token ? h('div', {}, h('label', { text: 'Token' }), h('div', { 'data-testid': 'wallet-send-token', text: `${token.symbol} (${token.decimals} decimals, read from the contract)` }),
      h('div.address.small', { text: token.contract })) : null,
    h('div', {}, h('label', { text: 'From' }), h('div.address', { text: from }),
      h('div.hint', { text: `Account ${wallet.account}` })),
    h('div', {}, h('label', { for: 'send-to', text: 'To' }), to),
    h('div', {}, h('label', { for: 'send-amount', text: 'Amount' }), h('div.row.nowrap', {}, amount, unit)),
    review,
    h('p.small.muted', { text: 'Next you see what will be signed, read back from the transaction itself. Nothing is signed before you confirm with your passkey.' })));
  return seq !== renderSeq ? null : page(token ? `Send ${token.symbol}` : 'Send', out, body, h('p', {}, h('a', { href: '#/wallet', text: 'Back to the wallet' })));
}

/** The confirmation screen: the decoded payload, then the passkey, the broadcast and the status. */
function confirmView(w, network, built, body, out, account) {
  const s = built.summary;
  const total = w.formatUnits((BigInt(s.value.raw) + BigInt(s.max_fee.raw)).toString(), 18);
  const isToken = s.kind === 'erc20';
  const status = h('div', { 'aria-live': 'polite' });
  const confirm = action('Confirm and sign with my passkey', 'approve big', async () => {
    const signed = await withWalletPrf((prf) => w.evmSignReviewed(prf, { account, payload: built.payload, summary: s })); // zeroes prf
    confirm.remove();
    cancel.remove();
    status.replaceChildren(notice('ok', 'Signed', 'Sending it to the network…'));
    let hash;
    try {
      hash = await call(network.network, 'eth_sendRawTransaction', [signed.raw]);
      rememberSent(state.me.user.id, network.network, hash); // public: listed on the history page
    } catch (e) {
      status.replaceChildren(notice('bad', 'Not sent', plain(e)), h('button', { type: 'button', onclick: () => route(), text: 'Start again' }));
      return;
    }
    status.replaceChildren(h('div.notice.ok', { role: 'status', 'data-testid': 'wallet-send-status' },
      h('strong', { text: 'Sent: waiting for the network to include it' }), h('div', {}, 'Transaction ', h('code', { 'data-testid': 'wallet-send-hash', text: hash }))));
    await follow(network.network, hash, status);
  }, { out, testid: 'wallet-send-confirm', busy: 'Waiting for your passkey…' });
  const cancel = h('a.button', { href: '#/wallet', text: 'Cancel' });
  body.replaceChildren(h('div.card.stack', { 'data-testid': 'wallet-send-confirmation' },
    h('h2', { text: 'Confirm what you sign' }),
    h('p.small.muted', { text: 'Read back from the transaction to be signed.' }),
    facts([
      ['Network', `${network.network} (chain id ${s.chain_id})`, 'wallet-send-chain'],
      ['From', s.from, 'wallet-send-from'],
      ...(isToken ? [['Token contract (called)', s.token_contract, 'wallet-send-token-contract']] : []),
      ['To', s.recipient, 'wallet-send-recipient'],
      ['Amount', s.amount.display, 'wallet-send-amount-shown'],
      ['Network fee, at most', `${s.max_fee.display} (gas limit ${s.gas_limit} × ${s.max_fee_per_gas.display} per gas, tip ${s.max_priority_fee_per_gas.display})`, 'wallet-send-fee'],
      isToken
        ? ['Total, at most', `${s.amount.display} and ${s.max_fee.display} for the fee`, 'wallet-send-total']
        : ['Total, at most', `${total} ${s.amount.symbol}`, 'wallet-send-total'],
      ['Transaction number (nonce)', String(s.nonce), 'wallet-send-nonce'],
      ['Signing hash', s.signing_hash, 'wallet-send-signing-hash'],
    ]),
    h('div.row', {}, confirm, cancel), status));
}

/** Follows the receipt until the transaction is in a block (confirmed or failed). */
async function follow(network, hash, status) {
  for (let i = 0; i < 300; i += 1) {
    let receipt = null;
    try { receipt = await call(network, 'eth_getTransactionReceipt', [hash]); } catch { receipt = null; }
    if (receipt && receipt.blockNumber) {
      const ok = receipt.status === '0x1';
      status.replaceChildren(h(`div.notice.${ok ? 'ok' : 'bad'}`, { role: 'status', 'data-testid': 'wallet-send-status' },
        h('strong', { text: ok ? 'Confirmed' : 'Failed on the network' }),
        h('div', {}, `In block ${BigInt(receipt.blockNumber)}. Transaction `, h('code', { 'data-testid': 'wallet-send-hash', text: hash }),
          ok ? '.' : '. The network took the fee but did not carry out the transfer.')));
      return;
    }
    if (!status.isConnected) return;
    await new Promise((r) => setTimeout(r, 2000));
  }
}
