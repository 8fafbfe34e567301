// ERC-20 tokens on the wallet page: the admin's list (`GET /api/wallet/tokens`) and the tokens a
// person adds by contract address (kept in this browser, per person: contract addresses only,
// public). A token's symbol and decimals are always read from the contract itself (`symbol()`,
// `decimals()` through the gateway's `eth_call`), its balance with `balanceOf`; the call data is
// encoded and the replies decoded by the wallet module (alloy's ABI in the wallet crate), never
// here. Amounts stay decimal strings until the module formats them.
import { api } from './api.js';

const KEY = (userId) => `blindvault:wallet:tokens:${userId}`;

export class TokenError extends Error {}

/** The tokens this person added, `[{network, contract}]` (EVM only). */
export function addedTokens(userId) {
  try {
    const list = JSON.parse(localStorage.getItem(KEY(userId)) || '[]');
    return Array.isArray(list) ? list.filter((t) => t && typeof t.network === 'string' && /^0x[0-9a-fA-F]{40}$/.test(t.contract)) : [];
  } catch {
    return [];
  }
}

const same = (a, b) => a.network === b.network && a.contract.toLowerCase() === b.contract.toLowerCase();

export function addToken(userId, network, contract) {
  const list = addedTokens(userId).filter((t) => !same(t, { network, contract }));
  list.push({ network, contract });
  localStorage.setItem(KEY(userId), JSON.stringify(list));
}

export function removeToken(userId, network, contract) {
  localStorage.setItem(KEY(userId), JSON.stringify(addedTokens(userId).filter((t) => !same(t, { network, contract }))));
}

/** `eth_call [{to, data}, "latest"]` on `network` through the gateway: the result, `0x` hex. */
async function ethCall(network, to, data) {
  const r = await api('POST', '/api/wallet/rpc', { chain: 'evm', network, call: { kind: 'json_rpc', method: 'eth_call', params: [{ to, data }, 'latest'] } });
  const j = r.body && r.body.json;
  if (r.status >= 400 || !j || typeof j !== 'object') throw new TokenError(`the node did not answer (HTTP ${r.status})`);
  if (j.error) throw new TokenError(`the node refused the call: ${j.error.message || j.error.code}`);
  if (typeof j.result !== 'string') throw new TokenError('the node\'s answer has no result');
  return j.result;
}

/** Reads `call` (`symbol`, `decimals`, `balanceOf`) from the token, decoded by the module. */
async function read(w, network, contract, call, owner) {
  const data = w.erc20Encode(owner ? { call, owner } : { call });
  const result = await ethCall(network, contract, data);
  try {
    return w.erc20Decode(call, result);
  } catch (e) {
    throw new TokenError(result === '0x' ? 'there is no token contract at this address on this network' : `the contract's ${call} is not an ERC-20 answer (${e.message})`);
  }
}

/** `{network, contract, symbol, decimals}`, the symbol and decimals as the contract says. */
export async function readToken(w, network, contract) {
  const [symbol, decimals] = await Promise.all([read(w, network, contract, 'symbol'), read(w, network, contract, 'decimals')]);
  return { network, contract, symbol, decimals };
}

/** The balance of `owner` in the token's base units (a decimal string). */
export const tokenBalance = (w, network, contract, owner) => read(w, network, contract, 'balanceOf', owner);

/** The tokens to show on EVM network `network`: the admin's, then this person's. */
export function tokensOn(adminTokens, userId, network) {
  const out = [];
  for (const t of adminTokens) {
    if (t.chain === 'evm' && t.network === network && !out.some((o) => same(o, t))) out.push({ network, contract: t.contract, added: false });
  }
  for (const t of addedTokens(userId)) {
    if (t.network === network && !out.some((o) => same(o, t))) out.push({ network, contract: t.contract, added: true });
  }
  return out;
}

/** The admin's token list (empty when it cannot be read). */
export async function adminTokens() {
  try {
    return (await api('GET', '/api/wallet/tokens')).tokens || [];
  } catch (e) {
    if (e.status === 401) throw e;
    return [];
  }
}
