// Native balances through the server's gateway (`POST /api/wallet/rpc`: the browser never learns
// a node's URL or credential), one call per chain and network, each in the form its public API
// documents (docs/wallet.md, "The gateway"). Amounts stay integers (strings or BigInt) until the
// wallet module formats them exactly (`formatUnits`): no JavaScript number ever holds an amount.
import { api } from './api.js';

/** The native coin of an EVM chain id, for the chains people use most; others say "native". */
export const EVM_SYMBOLS = {
  1: 'ETH', 10: 'ETH', 8453: 'ETH', 42161: 'ETH', 59144: 'ETH', 324: 'ETH', 534352: 'ETH',
  11155111: 'ETH', 17000: 'ETH', 560048: 'ETH', 84532: 'ETH', 11155420: 'ETH', 421614: 'ETH', 31337: 'ETH',
  137: 'POL', 80002: 'POL', 56: 'BNB', 97: 'BNB', 43114: 'AVAX', 43113: 'AVAX', 100: 'xDAI', 250: 'FTM',
};

export class BalanceError extends Error {}

async function rpc(chain, network, call) {
  const r = await api('POST', '/api/wallet/rpc', { chain, network, call });
  if (r.status >= 400) throw new BalanceError(`the ${chain} node answered HTTP ${r.status}`);
  return r.body.json !== undefined ? r.body.json : r.body.text;
}

async function jsonRpc(chain, network, method, params) {
  const j = await rpc(chain, network, { kind: 'json_rpc', method, params });
  if (!j || typeof j !== 'object') throw new BalanceError(`the ${chain} node's answer is not JSON-RPC`);
  if (j.error) throw new BalanceError(`the ${chain} node refused ${method}: ${j.error.message || JSON.stringify(j.error)}`);
  return j.result;
}

/** A whole number from a node, as a decimal string (refuses anything else). */
function whole(v, what) {
  if (typeof v === 'string' && /^(0x[0-9a-fA-F]+|[0-9]+)$/.test(v)) return v;
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return String(v);
  throw new BalanceError(`the node's ${what} is not a whole number`);
}

/**
 * The native balance of `address` on `net` ({chain, network, chain_id}): `{raw, symbol,
 * decimals, pending?}` with `raw` in base units (a decimal or 0x-hex string; `pending` a signed
 * decimal string of unconfirmed base units, Bitcoin only).
 */
export async function nativeBalance(net, address) {
  const { chain, network } = net;
  switch (chain) {
    case 'evm': {
      const raw = whole(await jsonRpc(chain, network, 'eth_getBalance', [address, 'latest']), 'balance');
      return { raw, symbol: EVM_SYMBOLS[net.chain_id] || 'native', decimals: 18 };
    }
    case 'bitcoin': {
      // Esplora: funded minus spent outputs, confirmed (chain_stats) and in the mempool.
      const j = await rpc(chain, network, { kind: 'rest', method: 'GET', path: `/address/${address}` });
      const sum = (s) => BigInt(whole(s && s.funded_txo_sum, 'funded sum')) - BigInt(whole(s && s.spent_txo_sum, 'spent sum'));
      if (!j || typeof j !== 'object') throw new BalanceError('the Bitcoin node\'s answer is not JSON');
      const confirmed = sum(j.chain_stats);
      const pending = j.mempool_stats ? sum(j.mempool_stats) : 0n;
      if (confirmed < 0n) throw new BalanceError('the Bitcoin node\'s sums do not add up');
      return { raw: confirmed.toString(), symbol: 'BTC', decimals: 8, pending: pending.toString() };
    }
    case 'solana': {
      const r = await jsonRpc(chain, network, 'getBalance', [address, { commitment: 'confirmed' }]);
      return { raw: whole(r && r.value, 'balance'), symbol: 'SOL', decimals: 9 };
    }
    case 'tron': {
      // An account that never received anything is `{}` (no balance field): zero.
      const j = await rpc(chain, network, { kind: 'rest', method: 'POST', path: '/wallet/getaccount', body: { address, visible: true } });
      if (!j || typeof j !== 'object') throw new BalanceError('the TRON node\'s answer is not JSON');
      return { raw: j.balance === undefined ? '0' : whole(j.balance, 'balance'), symbol: 'TRX', decimals: 6 };
    }
    case 'ton': {
      const j = await rpc(chain, network, { kind: 'rest', method: 'GET', path: '/getAddressBalance', query: { address } });
      if (!j || j.ok !== true) throw new BalanceError(`the TON node refused: ${(j && j.error) || 'no result'}`);
      return { raw: whole(j.result, 'balance'), symbol: 'TON', decimals: 9 };
    }
    default:
      throw new BalanceError(`no balance for ${chain}`);
  }
}

/** Networks whose node can answer for the address the page derived: every network of a chain,
 * except Bitcoin's test networks (their addresses are other ones: coin type 1', tb1…). */
export const servesAddress = (net) => net.chain !== 'bitcoin' || net.network === 'mainnet' || net.network === 'bitcoin';
