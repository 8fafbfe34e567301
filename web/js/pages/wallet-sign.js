// `#/wallet/sign`: sign a message. The person pastes a message (text or hex bytes) or EIP-712
// typed data (JSON); the wallet module decodes it and the review screen shows that decoding —
// the text as it is, bytes as hex, typed data as its domain, primary type and fields. "Sign with
// my passkey" runs a passkey ceremony of its own; typed data is signed only if it still decodes
// to the view shown (`evmSignTypedDataReviewed`), and a message only if its bytes still show as
// they were shown (the view goes back with them).
import { api } from '../api.js';
import { h, notice, page } from '../dom.js';
import { renderSeq, route } from '../router.js';
import { action } from '../ui.js';
import { walletModule } from '../wallet.js';
import { unlockedWallet, withWalletPrf } from './wallet.js';

const KINDS = {
  personal: { label: 'Ethereum message (personal_sign, EIP-191)', chain: 'evm', hex: true },
  typed: { label: 'Ethereum typed data (EIP-712, eth_signTypedData_v4)', chain: 'evm', hex: false },
  solana: { label: 'Solana off-chain message', chain: 'solana', hex: false },
  tron: { label: 'TRON message (TIP-191, signMessageV2)', chain: 'tron', hex: true },
};

const HEX = /^(0x)?([0-9a-fA-F]{2})+$/;

/** A copy button for public text (a signature). */
function copyButton(text, testid) {
  const b = h('button.small-button', { type: 'button', 'data-testid': testid, text: 'Copy' });
  b.addEventListener('click', async () => {
    try { await navigator.clipboard.writeText(text); b.textContent = 'Copied'; } catch { b.textContent = 'Select and copy'; }
    setTimeout(() => { if (b.isConnected) b.textContent = 'Copy'; }, 2000);
  });
  return b;
}

function facts(rows, testid) {
  return h('dl.facts', { 'data-testid': testid }, rows.filter(Boolean).flatMap(([k, v, id]) => [h('dt', { text: k }), h('dd', { 'data-testid': id, text: v })]));
}

/** The typed message's fields as a tree: name (type) and value; structs and arrays nest. */
function fieldTree(fields) {
  return h('ul.fields', {}, fields.map((f) => h('li', { 'data-field': f.name },
    h('span.field-name', { text: f.name }), h('span.small.muted', { text: ` ${f.type}` }),
    f.value !== null && f.value !== undefined ? h('div.field-value', { text: f.value }) : null,
    f.children && f.children.length ? fieldTree(f.children) : null)));
}

/** The message as shown: the text as it is, or, for bytes that are not text, their hex. */
function messageShown(view) {
  return h('div', { 'data-testid': 'wallet-sign-message' },
    view.text !== null && view.text !== undefined
      ? h('pre.message-text', { 'data-testid': 'wallet-sign-text', text: view.text })
      : h('div', {}, h('p.small.muted', { text: 'These bytes are not text; they are shown in hexadecimal.' }),
        h('code.message-hex', { 'data-testid': 'wallet-sign-hex', text: view.hex })),
    h('p.small.muted', { 'data-testid': 'wallet-sign-length', text: `${view.length} ${view.length === 1 ? 'byte' : 'bytes'}` }));
}

export async function signPage() {
  const seq = renderSeq; // a newer route drawn meanwhile wins: this one draws nothing
  const w = await walletModule();
  const wallet = unlockedWallet();
  const addressOf = (chain) => wallet.addresses.find((a) => a.chain === chain).address;
  let networks = [];
  try { networks = (await api('GET', '/api/wallet/networks')).networks.filter((n) => n.chain === 'evm'); } catch (e) { if (e.status === 401) throw e; }
  if (!networks.length) networks = [{ network: 'Ethereum mainnet', chain_id: 1 }];

  const out = h('div');
  const body = h('div');
  const kind = h('select', { id: 'sign-kind', 'data-testid': 'wallet-sign-kind' },
    Object.entries(KINDS).map(([k, v]) => h('option', { value: k, text: v.label })));
  const format = h('select', { id: 'sign-format', 'data-testid': 'wallet-sign-format' },
    h('option', { value: 'text', text: 'Text' }), h('option', { value: 'hex', text: 'Hex bytes (0x…)' }));
  const net = h('select', { id: 'sign-network', 'data-testid': 'wallet-sign-network' },
    networks.map((n) => h('option', { value: String(n.chain_id), text: `${n.network} (chain id ${n.chain_id})` })));
  const input = h('textarea', { id: 'sign-input', 'data-testid': 'wallet-sign-input', rows: 8, spellcheck: 'false', autocomplete: 'off' });
  const signer = h('div.address', { 'data-testid': 'wallet-sign-signer' });
  const formatRow = h('div', {}, h('label', { for: 'sign-format', text: 'The message is' }), format);
  const netRow = h('div', {}, h('label', { for: 'sign-network', text: 'Network' }), net,
    h('div.hint', { text: 'Typed data that names another chain is refused.' }));
  const inputLabel = h('label', { for: 'sign-input' });
  const sync = () => {
    const k = KINDS[kind.value];
    signer.textContent = addressOf(k.chain);
    formatRow.classList.toggle('hidden', !k.hex);
    netRow.classList.toggle('hidden', kind.value !== 'typed');
    inputLabel.textContent = kind.value === 'typed' ? 'Typed data (JSON)' : 'Message';
    input.placeholder = kind.value === 'typed' ? '{"types": {…}, "primaryType": "…", "domain": {…}, "message": {…}}' : '';
  };
  kind.addEventListener('change', sync);
  sync();

  const review = action('Review', 'primary big', async () => {
    const k = kind.value;
    const text = input.value;
    if (k === 'typed') {
      let view;
      try {
        view = w.evmDecodeTypedData(text);
      } catch (e) {
        throw new Error(`This is not EIP-712 typed data that can be shown: ${e.message}. Nothing was signed.`);
      }
      const chosen = networks.find((n) => String(n.chain_id) === net.value);
      if (view.domain.chain_id !== null && view.domain.chain_id !== undefined && view.domain.chain_id !== String(chosen.chain_id)) {
        throw new Error(`This typed data is for chain id ${view.domain.chain_id}, not ${chosen.network} (chain id ${chosen.chain_id}). Nothing was signed.`);
      }
      reviewTyped(w, view, text, chosen, body, out, wallet.account, addressOf('evm'));
      return;
    }
    const hexed = KINDS[k].hex && format.value === 'hex';
    if (hexed && !HEX.test(text.trim())) throw new Error('Hex bytes are pairs of 0–9 and a–f, optionally after 0x.');
    if (!text.length) throw new Error('The message is empty.');
    const req = hexed ? { messageHex: text.trim() } : { message: text };
    reviewMessage(w, k, w.messageView(req), req, body, out, wallet.account, addressOf(KINDS[k].chain));
  }, { out, testid: 'wallet-sign-review', busy: 'Reading it…' });

  body.append(h('form.card.stack', { novalidate: true, onsubmit: (ev) => ev.preventDefault() },
    h('div', {}, h('label', { for: 'sign-kind', text: 'What to sign' }), kind),
    h('div', {}, h('label', { text: 'Signed by' }), signer, h('div.hint', { text: `Account ${wallet.account}` })),
    netRow, formatRow,
    h('div', {}, inputLabel, input),
    review,
    h('p.small.muted', { text: 'Next you see what will be signed, decoded by the wallet. Nothing is signed before you confirm with your passkey.' })));
  return seq !== renderSeq ? null : page('Sign a message', out, body, h('p', {}, h('a', { href: '#/wallet', text: 'Back to the wallet' })));
}

/** The signature, with a copy button, and what else the person may need (signer, hash). */
function done(result, sig, extra, body) {
  result.replaceChildren(h('div.notice.ok', { role: 'status', 'data-testid': 'wallet-sign-done' },
    h('strong', { text: 'Signed' }),
    h('div.signature-box', {}, h('code.signature', { 'data-testid': 'wallet-sign-signature', text: sig.signature }), copyButton(sig.signature, 'wallet-sign-copy')),
    facts([['Signer', sig.address, 'wallet-sign-address'], ...extra], 'wallet-sign-result')),
    h('button', { type: 'button', 'data-testid': 'wallet-sign-another', onclick: () => route(), text: 'Sign another message' }));
  body.querySelectorAll('[data-when="review"]').forEach((el) => el.remove());
}

function actions(confirm, body) {
  const edit = h('button', { type: 'button', text: 'Edit', onclick: () => {
    body.querySelector('[data-role="form"]').classList.remove('hidden');
    body.querySelector('[data-role="review"]').remove();
  } });
  return h('div.row', { 'data-when': 'review' }, confirm, edit);
}

function show(body, card) {
  const form = body.querySelector('form');
  form.classList.add('hidden');
  form.setAttribute('data-role', 'form');
  const old = body.querySelector('[data-role="review"]');
  if (old) old.remove();
  card.setAttribute('data-role', 'review');
  body.append(card);
}

function reviewMessage(w, k, view, req, body, out, account, address) {
  const result = h('div', { 'aria-live': 'polite' });
  const confirm = action('Sign with my passkey', 'approve big', async () => {
    const r = { account, ...req, view }; // signed only if the bytes still show as `view`
    let sig;
    if (k === 'personal') sig = await withWalletPrf((prf) => w.evmSignPersonalMessage(prf, r)); // zeroes prf
    else if (k === 'tron') sig = await withWalletPrf((prf) => w.tronSignMessage(prf, r));
    else sig = await withWalletPrf((prf) => w.solanaSignOffchainMessage(prf, r));
    done(result, sig, k === 'solana' ? [['Bytes signed (the off-chain message, hex)', sig.signedMessage, 'wallet-sign-signed-bytes']] : [], body);
  }, { out, testid: 'wallet-sign-confirm', busy: 'Waiting for your passkey…' });
  show(body, h('div.card.stack', { 'data-testid': 'wallet-sign-review-card' },
    h('h2', { text: 'Confirm what you sign' }),
    h('p.small.muted', { text: KINDS[k].label }),
    facts([['Signed by', address, 'wallet-sign-by']]),
    messageShown(view),
    k === 'solana' ? h('p.small.muted', { text: 'Signed as a Solana off-chain message (version 0): the header "\\xffsolana offchain", then this text. It cannot be a transaction.' })
      : h('p.small.muted', { text: `Signed with the prefix "\\x19${k === 'tron' ? 'TRON' : 'Ethereum'} Signed Message:\\n${view.length}", so it cannot be a transaction.` }),
    actions(confirm, body), result));
}

function reviewTyped(w, view, text, chosen, body, out, account, address) {
  const d = view.domain;
  const result = h('div', { 'aria-live': 'polite' });
  const confirm = action('Sign with my passkey', 'approve big', async () => {
    const sig = await withWalletPrf((prf) => w.evmSignTypedDataReviewed(prf, { account, typedData: text, view })); // zeroes prf
    done(result, sig, [['Signing hash', sig.hash, 'wallet-sign-hash-signed']], body);
  }, { out, testid: 'wallet-sign-confirm', busy: 'Waiting for your passkey…' });
  show(body, h('div.card.stack', { 'data-testid': 'wallet-sign-review-card' },
    h('h2', { text: 'Confirm what you sign' }),
    h('p.small.muted', { text: KINDS.typed.label }),
    d.chain_id === null || d.chain_id === undefined
      ? notice('warn', 'This typed data names no chain', 'Its signature is not tied to one network.') : null,
    facts([
      ['Signed by', address, 'wallet-sign-by'],
      d.name !== null && d.name !== undefined ? ['Application (domain name)', d.name, 'wallet-sign-domain-name'] : null,
      d.version !== null && d.version !== undefined ? ['Version', d.version, 'wallet-sign-domain-version'] : null,
      ['Chain id', d.chain_id !== null && d.chain_id !== undefined ? `${d.chain_id} (${chosen.network})` : 'none', 'wallet-sign-domain-chain'],
      d.verifying_contract ? ['Verifying contract', d.verifying_contract, 'wallet-sign-domain-contract'] : null,
      d.salt ? ['Salt', d.salt, 'wallet-sign-domain-salt'] : null,
      ['Primary type', view.primary_type, 'wallet-sign-primary-type'],
    ], 'wallet-sign-domain'),
    h('h3', { text: `${view.primary_type}: what you sign` }),
    h('div', { 'data-testid': 'wallet-sign-fields' }, fieldTree(view.message)),
    facts([['Signing hash', view.signing_hash, 'wallet-sign-hash']]),
    actions(confirm, body), result));
}
