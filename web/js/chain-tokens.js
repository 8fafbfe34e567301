// SPL (Solana) and TRC-20 (TRON) tokens on the wallet page, as ERC-20's are in tokens.js: the
// admin's list (`GET /api/wallet/tokens`) and the tokens a person adds by mint or contract
// address (kept in this browser, per person and chain: addresses only, public). What is read
// from the chain is read through the gateway and decoded by the wallet module:
// - SPL: the mint's decimals from the mint account (`getAccountInfo`, base64, read with the SPL
//   Token program's layout by the wallet crate), the balance from the owner's token accounts
//   for the mint (`getTokenAccountsByOwner`, base64). A mint account holds no symbol: the
//   symbol is the admin's list's, else the mint shortened — the page says which.
// - TRC-20: `symbol()`, `decimals()` and `balanceOf(owner)` run by the node
//   (`/wallet/triggerconstantcontract`), the arguments encoded and the results decoded by the
//   wallet module (the same ABI as ERC-20).
import { api } from './api.js';

export class ChainTokenError extends Error {}

const KEY = (chain, userId) => `blindvault:wallet:tokens:${chain}:${userId}`;
const FORM = { solana: /^[1-9A-HJ-NP-Za-km-z]{32,44}$/, tron: /^T[1-9A-HJ-NP-Za-km-z]{33}$/ };
export const validTokenAddress = (chain, a) => FORM[chain].test(a);

/** The tokens this person added on `chain`: `[{network, contract}]`. */
export function addedChainTokens(chain, userId) {
  try {
    const list = JSON.parse(localStorage.getItem(KEY(chain, userId)) || '[]');
    return Array.isArray(list) ? list.filter((t) => t && typeof t.network === 'string' && typeof t.contract === 'string' && validTokenAddress(chain, t.contract)) : [];
  } catch {
    return [];
  }
}

const same = (a, b) => a.network === b.network && a.contract === b.contract;

export function addChainToken(chain, userId, network, contract) {
  const list = addedChainTokens(chain, userId).filter((t) => !same(t, { network, contract }));
  list.push({ network, contract });
  localStorage.setItem(KEY(chain, userId), JSON.stringify(list));
}

export function removeChainToken(chain, userId, network, contract) {
  localStorage.setItem(KEY(chain, userId), JSON.stringify(addedChainTokens(chain, userId).filter((t) => !same(t, { network, contract }))));
}

/** The tokens to show on `chain`'s `network`: the admin's (with its symbol), then this person's. */
export function chainTokensOn(listed, chain, userId, network) {
  const out = [];
  for (const t of listed) {
    if (t.chain === chain && t.network === network && !out.some((o) => same(o, t))) out.push({ network, contract: t.contract, listedSymbol: t.symbol, added: false });
  }
  for (const t of addedChainTokens(chain, userId)) {
    if (t.network === network && !out.some((o) => same(o, t))) out.push({ network, contract: t.contract, added: true });
  }
  return out;
}

async function solanaRpc(network, method, params) {
  const r = await api('POST', '/api/wallet/rpc', { chain: 'solana', network, call: { kind: 'json_rpc', method, params } });
  const j = r.body && r.body.json;
  if (r.status >= 400 || !j || typeof j !== 'object') throw new ChainTokenError(`the Solana node did not answer ${method} (HTTP ${r.status})`);
  if (j.error) throw new ChainTokenError(`the Solana node refused ${method}: ${j.error.message || j.error.code}`);
  return j.result;
}

const short = (a) => `${a.slice(0, 4)}…${a.slice(-4)}`;

/** An SPL token: `{symbol, symbolFrom, decimals}` — decimals from the mint account on chain. */
export async function splToken(w, network, mint, listedSymbol) {
  const info = await solanaRpc(network, 'getAccountInfo', [mint, { encoding: 'base64', commitment: 'confirmed' }]);
  const decimals = w.splMintDecimals(info);
  return listedSymbol
    ? { symbol: listedSymbol, symbolFrom: 'the server\'s token list', decimals }
    : { symbol: short(mint), symbolFrom: 'the mint address, shortened (a mint has no symbol on chain)', decimals };
}

/** The owner's balance of an SPL mint, base units (decimal string). */
export async function splBalance(w, network, owner, mint) {
  const result = await solanaRpc(network, 'getTokenAccountsByOwner', [owner, { mint }, { encoding: 'base64', commitment: 'confirmed' }]);
  return w.splBalance({ owner, mint, result });
}

/** Runs a TRC-20 read (`symbol`, `decimals`, `balanceOf`) on the node, decoded by the module. */
async function trc20(w, network, contract, owner, call) {
  const { functionSelector, parameter } = w.trc20Encode(call === 'balanceOf' ? { call, owner } : { call });
  const r = await api('POST', '/api/wallet/rpc', { chain: 'tron', network, call: { kind: 'rest', method: 'POST', path: '/wallet/triggerconstantcontract',
    body: { owner_address: owner, contract_address: contract, function_selector: functionSelector, parameter, visible: true } } });
  const j = r.body && r.body.json;
  if (r.status >= 400 || !j || typeof j !== 'object') throw new ChainTokenError(`the TRON node did not answer (HTTP ${r.status})`);
  const res = Array.isArray(j.constant_result) ? j.constant_result[0] : undefined;
  if (!(j.result && j.result.result === true) || typeof res !== 'string' || res === '') {
    throw new ChainTokenError('there is no token contract at this address on this network');
  }
  try {
    return w.trc20Decode(call, res);
  } catch (e) {
    throw new ChainTokenError(`the contract's ${call} is not a TRC-20 answer (${e.message})`);
  }
}

/** A TRC-20 token: `{symbol, symbolFrom, decimals}` as the contract itself returns them. */
export async function trc20Token(w, network, contract, owner) {
  const [symbol, decimals] = await Promise.all([trc20(w, network, contract, owner, 'symbol'), trc20(w, network, contract, owner, 'decimals')]);
  return { symbol, symbolFrom: 'the contract', decimals };
}

export const trc20Balance = (w, network, contract, owner) => trc20(w, network, contract, owner, 'balanceOf');
