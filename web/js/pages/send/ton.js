// `#/wallet/send/ton`: send TON from the wallet v4R2 contract. The wallet's seqno comes from the
// node through the gateway (toncenter's `getWalletInformation`), the expiry from the page's
// clock (`valid_until` = now + 5 minutes; the module refuses more than 10); the wallet module
// builds the unsigned body and decodes it, and the confirmation screen shows that decoding with
// the network's fee estimate (`estimateFee` of the same body). "Confirm" is a passkey ceremony
// of its own; the module signs only a body that still decodes to the summary shown, while
// `valid_until` is still ahead of the page's clock. The message goes out with `sendBoc`; the
// page follows the wallet's seqno until it moves on (confirmed) or the message expires.
import { renderSeq } from '../../router.js';
import { api } from '../../api.js';
import { h, page } from '../../dom.js';
import { action } from '../../ui.js';
import { walletModule } from '../../wallet.js';
import { unlockedWallet, withWalletPrf } from '../wallet.js';
import { confirmCard, field, networksOf, noNetwork, notSent, statusBox, wait } from './common.js';

const VALID_FOR = 300; // seconds the signed message stays valid (at most 600: a replay window)

class TonRefused extends Error {}

/** One toncenter call through the gateway: `{ok, result}` → result. */
async function toncenter(network, call) {
  const r = await api('POST', '/api/wallet/rpc', { chain: 'ton', network, call: { kind: 'rest', ...call } });
  const j = r.body && r.body.json;
  if (j && j.ok === true) return j.result;
  const said = (j && (j.error || j.result)) || `HTTP ${r.status}`;
  throw new TonRefused(typeof said === 'string' ? said : JSON.stringify(said));
}

const nowSecs = () => Math.floor(Date.now() / 1000);

/** A refusal in plain words (the node's or the module's own words follow). */
export function plain(e) {
  const m = String(e && e.message ? e.message : e);
  if (e && e.code === 'transaction' && /valid/i.test(m)) return `This transfer expired before it was signed (it is valid for ${VALID_FOR / 60} minutes after review). Nothing was sent. Review again. (${m})`;
  if (!(e instanceof TonRefused)) return m;
  if (/not accepted|cannot apply external message|exit code 33|exit code 35/i.test(m)) return `The wallet refused the message: its sequence number was already used or it expired. Nothing was sent. Review again. (${m})`;
  return `The node refused the transfer: ${m}`;
}

export async function tonSendPage() {
  const seq = renderSeq; // a newer route drawn meanwhile wins: this one draws nothing
  const w = await walletModule();
  const wallet = unlockedWallet();
  const from = wallet.addresses.find((a) => a.chain === 'ton').address;
  const networks = await networksOf('ton');
  if (!networks.length) return seq !== renderSeq ? null : noNetwork('TON');
  const out = h('div');
  const body = h('div');
  const net = h('select', { id: 'send-network', 'data-testid': 'wallet-send-network' }, networks.map((n) => h('option', { value: n.network, text: n.network })));
  const to = h('input', { id: 'send-to', 'data-testid': 'wallet-send-to', autocomplete: 'off', spellcheck: 'false', placeholder: 'UQ… or EQ…' });
  const amount = h('input', { id: 'send-amount', 'data-testid': 'wallet-send-amount', inputmode: 'decimal', autocomplete: 'off', placeholder: '0.0' });
  const comment = h('input', { id: 'send-comment', 'data-testid': 'wallet-send-comment', autocomplete: 'off', maxlength: '123' });

  const review = action('Review', 'primary big', async () => {
    const network = net.value;
    const amountNano = w.parseUnits(amount.value.trim(), 9);
    const info = await toncenter(network, { method: 'GET', path: '/getWalletInformation', query: { address: from } });
    const seqno = info.seqno === undefined || info.seqno === null ? 0 : info.seqno;
    const now = nowSecs();
    const built = w.tonBuildSend({
      from, to: to.value.trim(), amountNano, seqno, validUntil: now + VALID_FOR, now,
      ...(comment.value ? { comment: comment.value } : {}),
    });
    // The network's fee estimate for this very body (emulated without its signature).
    let fees = null;
    try {
      const est = await toncenter(network, { method: 'POST', path: '/estimateFee', body: { address: from, body: built.feeBody, ignore_chksig: true } });
      const f = est.source_fees;
      fees = { forward: String(f.fwd_fee), total: String(BigInt(f.in_fwd_fee) + BigInt(f.storage_fee) + BigInt(f.gas_fee) + BigInt(f.fwd_fee)) };
    } catch { fees = null; }
    const balance = BigInt(info.balance);
    if (balance < BigInt(amountNano) + BigInt(fees ? fees.total : 0)) {
      throw new Error(`Not enough TON to send this amount and pay the network fee: this wallet holds ${w.formatUnits(String(balance), 9)} TON. Nothing was signed.`);
    }
    confirmView(w, { network, fees, deployed: info.account_state === 'active' }, built, body, out, wallet.account);
  }, { out, testid: 'wallet-send-review', busy: 'Asking the network…' });

  body.append(h('form.card.stack', { novalidate: true, onsubmit: (ev) => ev.preventDefault() },
    field('send-network', 'Network', net),
    h('div', {}, h('label', { text: 'From' }), h('div.address', { text: from }), h('div.hint', { text: `Account ${wallet.account}, wallet v4R2` })),
    field('send-to', 'To', to, 'A UQ… address receives non-bounceable (for wallets); EQ… bounces back if the recipient cannot take it.'),
    h('div', {}, h('label', { for: 'send-amount', text: 'Amount' }), h('div.row.nowrap', {}, amount, h('span.muted', { text: 'TON' }))),
    field('send-comment', 'Comment (optional, public)', comment),
    review,
    h('p.small.muted', { text: 'Next you see what will be signed, read back from the message itself. Nothing is signed before you confirm with your passkey.' })));
  return seq !== renderSeq ? null : page('Send on TON', out, body, h('p', {}, h('a', { href: '#/wallet', text: 'Back to the wallet' })));
}

function confirmView(w, ctx, built, body, out, account) {
  const s = built.summary;
  const m = s.messages[0];
  const ton = (nano) => `${w.formatUnits(nano, 9)} TON`;
  const status = h('div', { 'aria-live': 'polite' });
  const confirm = action('Confirm and sign with my passkey', 'approve big', async () => {
    let signed;
    try {
      signed = await withWalletPrf((prf) => w.tonSignReviewed(prf, { account, body: built.body, summary: s, now: nowSecs() })); // zeroes prf
    } catch (e) {
      if (e && e.code === 'transaction') { confirm.remove(); notSent(status, plain(e)); return; }
      throw e;
    }
    confirm.remove();
    body.querySelector('[data-testid="wallet-send-cancel"]')?.remove();
    statusBox(status, 'ok', 'Signed', 'Sending it to the network…');
    try {
      await toncenter(ctx.network, { method: 'POST', path: '/sendBoc', body: { boc: signed.boc } });
    } catch (e) {
      notSent(status, plain(e));
      return;
    }
    statusBox(status, 'ok', 'Sent: waiting for the wallet to take it', null, signed.hash);
    await follow(ctx.network, s, signed.hash, status);
  }, { out, testid: 'wallet-send-confirm', busy: 'Waiting for your passkey…' });
  const until = new Date(s.valid_until * 1000);
  body.replaceChildren(confirmCard([
    ['Network', `TON ${ctx.network}`, 'wallet-send-chain'],
    ['From', s.from, 'wallet-send-from'],
    ['To', m.destination, 'wallet-send-recipient'],
    ['Bounce', m.bounce ? 'Yes: the amount comes back if the recipient cannot take it' : 'No (a wallet address)', 'wallet-send-bounce'],
    ['Amount', m.amount.display, 'wallet-send-amount-shown'],
    m.comment ? ['Comment', m.comment, 'wallet-send-comment-shown'] : null,
    ['Network fee (estimate)', ctx.fees ? `${ton(ctx.fees.total)} (of which forward fee ${ton(ctx.fees.forward)})` : 'The network gave no estimate', 'wallet-send-fee'],
    ['Sequence number (seqno)', String(s.seqno), 'wallet-send-nonce'],
    // seqno 0 carries the wallet's code and data (StateInit): it deploys a wallet not yet on chain.
    s.deploys_wallet && !ctx.deployed ? ['Deploys your wallet', 'Yes: this first transfer also deploys your wallet contract', 'wallet-send-deploys'] : null,
    ['Expires', `${until.toLocaleString()} (${s.valid_until}): after that the wallet refuses it`, 'wallet-send-expiry'],
    ['Signing hash', s.signed_hash, 'wallet-send-signing-hash'],
  ], confirm, status, 'Read back from the message to be signed.'));
}

/** Follows the wallet's seqno until it moves past the one signed (confirmed) or the message expires. */
async function follow(network, s, hash, status) {
  for (let i = 0; i < 300 && status.isConnected; i += 1) {
    let info = null;
    try { info = await toncenter(network, { method: 'GET', path: '/getWalletInformation', query: { address: s.from } }); } catch { info = null; }
    if (info && typeof info.seqno === 'number' && info.seqno > s.seqno) {
      statusBox(status, 'ok', 'Confirmed', `The wallet took it: its sequence number is now ${info.seqno}.`, hash);
      return;
    }
    if (nowSecs() > s.valid_until) {
      statusBox(status, 'bad', 'Expired', 'The wallet did not take it before it expired; it can never execute now. Nothing was sent. Start again.', hash);
      return;
    }
    await wait(2000);
  }
}
