// Transaction history through the server's gateway (`POST /api/wallet/rpc`), one chain API call
// (or a bounded few) per chain, each in the form its public API documents; the replies are read
// by the wallet module (the wallet crate's `history`), never here. Newest first.
//
// - Bitcoin: Esplora `GET /address/:a/txs` of each of the account's first receive and change
//   addresses (Esplora answers the mempool's and the newest 25 confirmed per address).
// - Solana: `getSignaturesForAddress [address, {limit: 10}]`, then `getTransaction` of each (10:
//   a bounded number of calls per view).
// - EVM (no address history in JSON-RPC): `eth_getLogs` of ERC-20 `Transfer` events from and to
//   the address over the newest EVM_BLOCKS blocks, for the listed tokens; and the transactions
//   this browser broadcast (hashes kept in localStorage, public) with `eth_getTransactionByHash`
//   and `eth_getTransactionReceipt`.
// - TON: toncenter `GET /getTransactions?address=…&limit=20`.
// - TRON: TronGrid `GET /v1/accounts/:a/transactions?limit=20` and `…/transactions/trc20?limit=20`.
import { api } from './api.js';
import { EVM_SYMBOLS } from './balances.js';
import { readToken, tokensOn } from './tokens.js';

export const LIMIT = 20;
export const SOLANA_LIMIT = 10;
export const EVM_BLOCKS = 5000;
export const EVM_SENT_LIMIT = 20;

export class HistoryError extends Error {}

async function rest(chain, network, path, query) {
  const r = await api('POST', '/api/wallet/rpc', { chain, network, call: { kind: 'rest', method: 'GET', path, ...(query ? { query } : {}) } });
  const b = r.body || {};
  const out = b.json !== undefined ? b.json : b.text;
  if (r.status >= 400) {
    const said = typeof out === 'string' ? out : out && (out.error || out.message);
    throw new HistoryError(`the ${chain} node answered HTTP ${r.status}${said ? `: ${String(typeof said === 'string' ? said : JSON.stringify(said)).slice(0, 200)}` : ''}`);
  }
  return out;
}

/** The chains whose history the page can read. */
export const HISTORY_CHAINS = ['evm', 'bitcoin', 'solana', 'ton', 'tron'];

/** Bitcoin: `addresses` are the account's receive and change addresses (public). */
export async function bitcoinHistory(w, network, addresses) {
  const bodies = await Promise.all(addresses.map((a) => rest('bitcoin', network, `/address/${a}/txs`)));
  return w.bitcoinHistory({ network: 'bitcoin', addresses, bodies });
}

export async function tonHistory(w, network, address) {
  const reply = await rest('ton', network, '/getTransactions', { address, limit: String(LIMIT) });
  return w.tonHistory(reply);
}

/** TRON: `tokens` are the TRC-20 tokens whose symbol and decimals the page trusts. */
export async function tronHistory(w, network, owner, tokens) {
  const [transactions, trc20] = await Promise.all([
    rest('tron', network, `/v1/accounts/${owner}/transactions`, { limit: String(LIMIT) }),
    rest('tron', network, `/v1/accounts/${owner}/transactions/trc20`, { limit: String(LIMIT) }),
  ]);
  return w.tronHistory({ owner, transactions, trc20, tokens });
}

async function solanaRpc(network, method, params) {
  const r = await api('POST', '/api/wallet/rpc', { chain: 'solana', network, call: { kind: 'json_rpc', method, params } });
  const j = r.body && r.body.json;
  if (r.status >= 400 || !j || typeof j !== 'object') throw new HistoryError(`the solana node answered HTTP ${r.status} to ${method}`);
  if (j.error) throw new HistoryError(`the solana node refused ${method}: ${j.error.message || j.error.code}`);
  return j.result;
}

/** Solana: `mints` are the SPL mints whose symbol the page knows (`[{mint, symbol}]`). */
export async function solanaHistory(w, network, owner, mints) {
  const signatures = await solanaRpc(network, 'getSignaturesForAddress', [owner, { limit: SOLANA_LIMIT, commitment: 'confirmed' }]);
  const list = Array.isArray(signatures) ? signatures.slice(0, SOLANA_LIMIT) : [];
  const read = await Promise.all(list.map((s) => solanaRpc(network, 'getTransaction', [s.signature, { encoding: 'jsonParsed', maxSupportedTransactionVersion: 0, commitment: 'confirmed' }])));
  const transactions = Object.fromEntries(list.map((s, i) => [s.signature, read[i]]));
  return w.solanaHistory({ owner, signatures, transactions, mints });
}

const SENT_KEY = (userId) => `blindvault:wallet:evm-sent:${userId}`;

/** The EVM transactions this browser broadcast for this person: `[{network, hash, time}]`. */
export function sentFromHere(userId) {
  try {
    const list = JSON.parse(localStorage.getItem(SENT_KEY(userId)) || '[]');
    return Array.isArray(list) ? list.filter((s) => s && typeof s.network === 'string' && /^0x[0-9a-fA-F]{64}$/.test(s.hash) && Number.isSafeInteger(s.time)) : [];
  } catch {
    return [];
  }
}

/** Remembers a broadcast (public data: the network, the hash, the page's time in seconds). */
export function rememberSent(userId, network, hash) {
  const list = sentFromHere(userId).filter((s) => s.hash !== hash);
  list.push({ network, hash, time: Math.floor(Date.now() / 1000) });
  localStorage.setItem(SENT_KEY(userId), JSON.stringify(list.slice(-200)));
}

async function evmRpc(network, method, params) {
  const r = await api('POST', '/api/wallet/rpc', { chain: 'evm', network, call: { kind: 'json_rpc', method, params } });
  const j = r.body && r.body.json;
  if (r.status >= 400 || !j || typeof j !== 'object') throw new HistoryError(`the evm node answered HTTP ${r.status} to ${method}`);
  if (j.error) throw new HistoryError(`the evm node refused ${method}: ${j.error.message || j.error.code}`);
  return j.result;
}

/** EVM: `net` is {network, chain_id}; `listed` the admin's tokens; `userId` whose broadcasts. */
export async function evmHistory(w, net, owner, listed, userId) {
  const { network } = net;
  const tokens = await Promise.all(tokensOn(listed, userId, network).map((t) => readToken(w, network, t.contract).catch(() => null)));
  const known = tokens.filter(Boolean).map((t) => ({ contract: t.contract, symbol: t.symbol, decimals: t.decimals }));
  let logs = [];
  if (known.length) {
    const latest = BigInt(await evmRpc(network, 'eth_blockNumber', []));
    const from = latest > BigInt(EVM_BLOCKS - 1) ? latest - BigInt(EVM_BLOCKS - 1) : 0n;
    const filters = w.evmHistoryQuery({ owner, contracts: known.map((t) => t.contract), fromBlock: from.toString(), toBlock: latest.toString() });
    logs = (await Promise.all(filters.map((f) => evmRpc(network, 'eth_getLogs', [f])))).flat();
  }
  const mine = sentFromHere(userId).filter((s) => s.network === network).slice(-EVM_SENT_LIMIT);
  const sent = await Promise.all(mine.map(async (s) => ({
    hash: s.hash, time: s.time,
    tx: await evmRpc(network, 'eth_getTransactionByHash', [s.hash]),
    receipt: await evmRpc(network, 'eth_getTransactionReceipt', [s.hash]),
  })));
  return w.evmHistory({ owner, logs, sent, tokens: known, native: { symbol: EVM_SYMBOLS[net.chain_id] || 'native', decimals: 18 } });
}
