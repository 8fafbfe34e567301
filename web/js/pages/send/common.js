// What every chain's send page shares: the gateway call, the form's frame, the confirmation
// screen's layout (facts read back from the bytes to be signed, never from the form) and the
// status box that follows a broadcast.
import { api } from '../../api.js';
import { h, notice, page } from '../../dom.js';
import { route } from '../../router.js';

/** A node's refusal (its own words; `data`: what else it said, e.g. Solana's program logs). */
export class NodeRefused extends Error {
  constructor(message, data) { super(message); this.data = data; }
}

/** One JSON-RPC call through the gateway (`POST /api/wallet/rpc`). */
export async function jsonRpc(chain, network, method, params) {
  const r = await api('POST', '/api/wallet/rpc', { chain, network, call: { kind: 'json_rpc', method, params } });
  const j = r.body && r.body.json;
  if (r.status >= 400 || !j || typeof j !== 'object') throw new Error(`The node did not answer ${method} (HTTP ${r.status}).`);
  if (j.error) throw new NodeRefused(j.error.message || String(j.error.code), j.error.data);
  return j.result;
}

/** The networks of `chain` the server has a node for. */
export async function networksOf(chain) {
  return (await api('GET', '/api/wallet/networks')).networks.filter((n) => n.chain === chain);
}

/** The page when the server has no node for the chain. */
export function noNetwork(name) {
  return page(`Send ${name}`, notice('warn', `No ${name} network is set up on this server`, 'An admin can add one (blindvault admin wallet endpoint set).'),
    h('a.button', { href: '#/wallet', text: 'Back to the wallet' }));
}

/** A labelled form field. */
export const field = (id, label, input, hint) => h('div', {}, h('label', { for: id, text: label }), input, hint ? h('div.hint', { text: hint }) : null);

/** The facts of a confirmation screen: [label, value, testid] rows. */
export function facts(rows) {
  return h('dl.facts', { 'data-testid': 'wallet-send-summary' },
    rows.filter(Boolean).flatMap(([k, v, id]) => [h('dt', { text: k }), h('dd', { 'data-testid': id, text: v })]));
}

/** The confirmation card: the decoded facts, then Confirm / Cancel and the status box. */
export function confirmCard(rows, confirm, status, note = 'Read back from the transaction to be signed.') {
  return h('div.card.stack', { 'data-testid': 'wallet-send-confirmation' },
    h('h2', { text: 'Confirm what you sign' }),
    h('p.small.muted', { text: note }),
    facts(rows),
    h('div.row', {}, confirm, h('a.button', { href: '#/wallet', 'data-testid': 'wallet-send-cancel', text: 'Cancel' })),
    status);
}

/** The status box's states. `id`: the transaction id shown. */
export function statusBox(status, kind, title, text, id) {
  status.replaceChildren(h(`div.notice.${kind}`, { role: kind === 'bad' ? 'alert' : 'status', 'data-testid': 'wallet-send-status' },
    h('strong', { text: title }),
    text ? h('div', { text }) : null,
    id ? h('div', {}, 'Transaction ', h('code', { 'data-testid': 'wallet-send-hash', text: id })) : null));
}

/** A refusal after signing: why, in plain words, and a way to start again. */
export function notSent(status, why) {
  status.replaceChildren(notice('bad', 'Not sent', why), h('button', { type: 'button', onclick: () => route(), text: 'Start again' }));
}

export const wait = (ms) => new Promise((r) => { setTimeout(r, ms); });
