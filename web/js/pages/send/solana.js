// `#/wallet/send/solana`: send SOL or an SPL token (the admin's token list for the network, or a
// mint the person enters). The node's recent blockhash and the form's values go into the wallet
// module, which builds the unsigned transaction and decodes it; the confirmation screen shows
// that decoding. "Confirm" is a passkey ceremony of its own, and the module signs only bytes
// that still decode to the summary shown. The signed transaction goes to the node through the
// gateway (`sendTransaction`); the page follows `getSignatureStatuses` until it is confirmed,
// failed, or its blockhash expired.
import { renderSeq } from '../../router.js';
import { api } from '../../api.js';
import { h, page } from '../../dom.js';
import { action } from '../../ui.js';
import { walletModule } from '../../wallet.js';
import { unlockedWallet, withWalletPrf } from '../wallet.js';
import { NodeRefused, confirmCard, field, jsonRpc, networksOf, noNetwork, notSent, statusBox, wait } from './common.js';

const TOKEN_ACCOUNT_SIZE = 165; // bytes of an SPL token account: its rent-exempt minimum is the creation's cost

/** A node's refusal in plain words (the node's own message follows). */
export function plain(e) {
  const m = String(e && e.message ? e.message : e);
  if (!(e instanceof NodeRefused)) return m;
  const said = `${m} ${JSON.stringify((e.data && e.data.logs) || '')}`.toLowerCase();
  if (said.includes('blockhash not found') || said.includes('blockhashnotfound')) return `The transaction expired before it reached the network (its recent blockhash is too old). Nothing was sent. Review again. (${m})`;
  if (said.includes('insufficient lamports') || said.includes('insufficientfundsforfee') || said.includes('no record of a prior credit') || said.includes('insufficient funds for fee')) return `Not enough SOL to pay the amount and the network fee. Nothing was sent. (${m})`;
  if (said.includes('insufficient funds') || said.includes('custom program error: 0x1')) return `Not enough of this token to send that amount. Nothing was sent. (${m})`;
  if (said.includes('insufficientfundsforrent') || said.includes('insufficient funds for rent')) return `The account would be left below the minimum the network keeps (rent). Send less, or all of it. Nothing was sent. (${m})`;
  return `The node refused the transaction: ${m}`;
}

export async function solanaSendPage() {
  const seq = renderSeq; // a newer route drawn meanwhile wins: this one draws nothing
  const w = await walletModule();
  const wallet = unlockedWallet();
  const from = wallet.addresses.find((a) => a.chain === 'solana').address;
  const networks = await networksOf('solana');
  if (!networks.length) return seq !== renderSeq ? null : noNetwork('Solana');
  const tokens = (await api('GET', '/api/wallet/tokens')).tokens.filter((t) => t.chain === 'solana');
  const out = h('div');
  const body = h('div');
  const net = h('select', { id: 'send-network', 'data-testid': 'wallet-send-network' }, networks.map((n) => h('option', { value: n.network, text: n.network })));
  const asset = h('select', { id: 'send-asset', 'data-testid': 'wallet-send-asset' });
  const mint = h('input', { id: 'send-mint', 'data-testid': 'wallet-send-mint', autocomplete: 'off', spellcheck: 'false', placeholder: 'Mint address' });
  const mintBox = field('send-mint', 'Token mint', mint, 'The token\'s mint address. Its decimals are read from your token account; check the mint with the token\'s issuer.');
  const to = h('input', { id: 'send-to', 'data-testid': 'wallet-send-to', autocomplete: 'off', spellcheck: 'false', placeholder: 'Recipient\'s Solana address' });
  const amount = h('input', { id: 'send-amount', 'data-testid': 'wallet-send-amount', inputmode: 'decimal', autocomplete: 'off', placeholder: '0.0' });
  const unit = h('span.muted');
  const fillAssets = () => {
    asset.replaceChildren(h('option', { value: 'sol', text: 'SOL' }),
      ...tokens.filter((t) => t.network === net.value).map((t) => h('option', { value: t.contract, text: `${t.symbol} (${t.contract.slice(0, 4)}…${t.contract.slice(-4)})` })),
      h('option', { value: 'mint', text: 'Another token (by mint address)' }));
    showAsset();
  };
  const showAsset = () => {
    mintBox.classList.toggle('hidden', asset.value !== 'mint');
    const t = tokens.find((x) => x.network === net.value && x.contract === asset.value);
    unit.textContent = asset.value === 'sol' ? 'SOL' : t ? t.symbol : 'tokens';
  };
  net.addEventListener('change', fillAssets);
  asset.addEventListener('change', showAsset);
  fillAssets();

  const review = action('Review', 'primary big', async () => {
    const network = net.value;
    const rpc = (method, params) => jsonRpc('solana', network, method, params);
    const recipient = to.value.trim();
    let token = null;
    if (asset.value === 'mint') {
      const m = mint.value.trim();
      const mine = w.solanaTokenAccount({ owner: from, mint: m });
      // The mint's decimals as the node reads them from this wallet's own token account.
      let bal;
      try { bal = await rpc('getTokenAccountBalance', [mine, { commitment: 'confirmed' }]); } catch (e) {
        throw new Error(e instanceof NodeRefused ? 'This wallet holds none of that token (it has no token account for this mint).' : e.message);
      }
      token = { mint: m, decimals: bal.value.decimals, symbol: `${m.slice(0, 4)}…${m.slice(-4)}` };
    } else if (asset.value !== 'sol') {
      const t = tokens.find((x) => x.network === network && x.contract === asset.value);
      token = { mint: t.contract, decimals: t.decimals, symbol: t.symbol };
    }
    const base = w.parseUnits(amount.value.trim(), token ? token.decimals : 9);
    const latest = await rpc('getLatestBlockhash', [{ commitment: 'confirmed' }]);
    const req = { from, to: recipient, amount: base, recentBlockhash: latest.value.blockhash };
    let rent = null;
    if (token) {
      // The recipient's token account: created (idempotently, rent paid by this wallet) when the
      // node does not know it yet.
      const theirs = w.solanaTokenAccount({ owner: recipient, mint: token.mint });
      const info = await rpc('getAccountInfo', [theirs, { encoding: 'base64', commitment: 'confirmed' }]);
      const create = !info.value;
      if (create) rent = String(await rpc('getMinimumBalanceForRentExemption', [TOKEN_ACCOUNT_SIZE]));
      Object.assign(req, { mint: token.mint, decimals: token.decimals, symbol: token.symbol, createRecipientAccount: create });
    }
    const built = w.solanaBuildSend(req);
    confirmView(w, { network, lastValidBlockHeight: latest.value.lastValidBlockHeight, rent }, built, body, out, wallet.account);
  }, { out, testid: 'wallet-send-review', busy: 'Asking the network…' });

  body.append(h('form.card.stack', { novalidate: true, onsubmit: (ev) => ev.preventDefault() },
    field('send-network', 'Network', net),
    h('div', {}, h('label', { text: 'From' }), h('div.address', { text: from }), h('div.hint', { text: `Account ${wallet.account}` })),
    field('send-asset', 'Asset', asset),
    mintBox,
    field('send-to', 'To', to),
    h('div', {}, h('label', { for: 'send-amount', text: 'Amount' }), h('div.row.nowrap', {}, amount, unit)),
    review,
    h('p.small.muted', { text: 'Next you see what will be signed, read back from the transaction itself. Nothing is signed before you confirm with your passkey.' })));
  return seq !== renderSeq ? null : page('Send on Solana', out, body, h('p', {}, h('a', { href: '#/wallet', text: 'Back to the wallet' })));
}

/** The confirmation screen: the decoded transaction, then the passkey, the broadcast and the status. */
function confirmView(w, ctx, built, body, out, account) {
  const s = built.summary;
  const status = h('div', { 'aria-live': 'polite' });
  const sol = (lamports) => `${w.formatUnits(String(lamports), 9)} SOL`;
  const confirm = action('Confirm and sign with my passkey', 'approve big', async () => {
    const signed = await withWalletPrf((prf) => w.solanaSignReviewed(prf, { account, transaction: built.transaction, summary: s })); // zeroes prf
    confirm.remove();
    body.querySelector('[data-testid="wallet-send-cancel"]')?.remove();
    statusBox(status, 'ok', 'Signed', 'Sending it to the network…');
    let id;
    try {
      id = await jsonRpc('solana', ctx.network, 'sendTransaction', [signed.transaction, { encoding: 'base64', preflightCommitment: 'confirmed' }]);
    } catch (e) {
      notSent(status, plain(e));
      return;
    }
    statusBox(status, 'ok', 'Sent: waiting for the network to confirm it', null, id);
    await follow(ctx, id, status);
  }, { out, testid: 'wallet-send-confirm', busy: 'Waiting for your passkey…' });
  body.replaceChildren(confirmCard([
    ['Network', `Solana ${ctx.network}`, 'wallet-send-chain'],
    ['From', s.from, 'wallet-send-from'],
    ['To', s.to, 'wallet-send-recipient'],
    s.mint ? ['Token (mint)', s.mint, 'wallet-send-mint-shown'] : null,
    ['Amount', s.amount.display, 'wallet-send-amount-shown'],
    s.mint ? ['Into the recipient\'s token account', s.destination_token_account, 'wallet-send-destination'] : null,
    s.creates_recipient_account
      ? ['Creates that token account', `Yes: the recipient has none for this token yet; you pay its rent${ctx.rent ? `, ${sol(ctx.rent)}` : ''}.`, 'wallet-send-creates']
      : null,
    ['Network fee', `${s.fee.display} (one signature)`, 'wallet-send-fee'],
    ['Recent blockhash', s.recent_blockhash, 'wallet-send-blockhash'],
    ['Expires', `If not included by block height ${ctx.lastValidBlockHeight} (about a minute): then it can never execute.`, 'wallet-send-expiry'],
  ], confirm, status));
}

/** Follows the signature's status until confirmed, failed, or expired (blockhash too old). */
async function follow(ctx, id, status) {
  for (let i = 0; i < 300 && status.isConnected; i += 1) {
    let st = null;
    try {
      st = (await jsonRpc('solana', ctx.network, 'getSignatureStatuses', [[id], { searchTransactionHistory: true }])).value[0];
    } catch { st = null; }
    if (st && st.err) {
      statusBox(status, 'bad', 'Failed on the network', `The network took the fee but did not carry out the transfer (${JSON.stringify(st.err)}).`, id);
      return;
    }
    if (st && (st.confirmationStatus === 'confirmed' || st.confirmationStatus === 'finalized')) {
      statusBox(status, 'ok', 'Confirmed', `In slot ${st.slot}.`, id);
      return;
    }
    if (!st) {
      let height = 0;
      try { height = await jsonRpc('solana', ctx.network, 'getBlockHeight', [{ commitment: 'confirmed' }]); } catch { height = 0; }
      if (height > ctx.lastValidBlockHeight) {
        statusBox(status, 'bad', 'Expired', 'The network did not include it before its blockhash expired; it can never execute now. Nothing was sent. Start again.', id);
        return;
      }
    }
    await wait(2000);
  }
}
