// The token list under the Solana (SPL) and TRON (TRC-20) addresses on the wallet page, as the
// Ethereum card's ERC-20 list: per network of the chain the server offers, the admin's tokens
// and the ones this person added, each with its balance read from the chain (web/js/chain-tokens.js).
import { h } from '../dom.js';
import { route } from '../router.js';
import { state } from '../state.js';
import { action } from '../ui.js';
import { servesAddress } from '../balances.js';
import { ChainTokenError, addChainToken, chainTokensOn, removeChainToken, splBalance, splToken, trc20Balance, trc20Token, validTokenAddress } from '../chain-tokens.js';

const KIND = {
  solana: { title: 'Tokens (SPL)', what: 'mint address', noun: 'an SPL token', placeholder: 'The token\'s mint address (base58)', hint: 'Its decimals are read from the mint account. A mint holds no symbol: the server\'s list names it, else the shortened mint is shown. Only the address is kept, in this browser.' },
  tron: { title: 'Tokens (TRC-20)', what: 'contract address', noun: 'a TRC-20 token', placeholder: 'T… (the token contract)', hint: 'Its symbol and decimals are read from the contract itself. Only the address is kept, in this browser.' },
};

const read = (w, chain, network, t, owner) => (chain === 'solana' ? splToken(w, network, t.contract, t.listedSymbol) : trc20Token(w, network, t.contract, owner));
const balance = (w, chain, network, t, owner) => (chain === 'solana' ? splBalance(w, network, owner, t.contract) : trc20Balance(w, network, t.contract, owner));

/** The SPL or TRC-20 tokens of address `a` on every network of its chain the server offers. */
export function chainTokenBox(w, a, networks, listed) {
  const chain = a.chain;
  const k = KIND[chain];
  const mine = (networks || []).filter((n) => n.chain === chain && servesAddress(n));
  const box = h('div.tokens', { 'data-testid': `wallet-tokens-${chain}` });
  if (!k || !mine.length) return box;
  const userId = state.me.user.id;
  const rows = [];
  for (const n of mine) {
    for (const t of chainTokensOn(listed, chain, userId, n.network)) {
      const id = `${chain}-${n.network}-${t.contract}`;
      const value = h('span.balance-value', { 'data-testid': `wallet-token-balance-${id}`, text: 'Loading…' });
      const name = h('span.item-title', { 'data-testid': `wallet-token-symbol-${id}`, text: 'Token' });
      const from = h('div.hint', { 'data-testid': `wallet-token-symbol-from-${id}` });
      const remove = t.added ? h('button.small-button', { type: 'button', 'data-testid': `wallet-token-remove-${id}`, text: 'Remove',
        onclick: () => { removeChainToken(chain, userId, n.network, t.contract); route(); } }) : null;
      const row = h('li.token', { 'data-testid': `wallet-token-${id}` },
        h('div.row.spread', {}, h('div', {}, name, h('span.small.muted', { text: ` ${n.network}` })), value),
        h('div.row.spread', {}, h('code.small.path', { text: t.contract }), remove ? h('div.row', {}, remove) : null), from);
      read(w, chain, n.network, t, a.address)
        .then(async (info) => {
          name.textContent = info.symbol;
          from.textContent = `Symbol from ${info.symbolFrom}; decimals (${info.decimals}) from the chain.`;
          const raw = await balance(w, chain, n.network, t, a.address);
          value.textContent = `${w.formatUnits(raw, info.decimals)} ${info.symbol}`;
        })
        .catch((e) => {
          value.textContent = 'Unavailable';
          value.classList.add('bad');
          row.append(h('p.small.bad-text', { text: `The token could not be read: ${e && e.message ? e.message : e}` }));
        });
      rows.push(row);
    }
  }
  const net = h('select', { id: `token-network-${chain}`, 'data-testid': `wallet-token-network-${chain}` }, mine.map((n) => h('option', { value: n.network, text: n.network })));
  const contract = h('input', { id: `token-contract-${chain}`, 'data-testid': `wallet-token-contract-${chain}`, autocomplete: 'off', spellcheck: 'false', placeholder: k.placeholder });
  const out = h('div');
  const add = action('Add token', '', async () => {
    const address = contract.value.trim();
    if (!validTokenAddress(chain, address)) throw new ChainTokenError(chain === 'tron' ? 'A TRC-20 contract address is T followed by 33 base58 characters.' : 'A mint address is 32 to 44 base58 characters.');
    // Read from the chain first: only a token that answers as one is added.
    await read(w, chain, net.value, { contract: address, listedSymbol: (listed.find((t) => t.chain === chain && t.network === net.value && t.contract === address) || {}).symbol }, a.address);
    addChainToken(chain, userId, net.value, address);
    route();
  }, { out, testid: `wallet-token-add-${chain}`, busy: 'Reading the token…' });
  box.append(h('h3', { text: k.title }),
    rows.length ? h('ul.list.token-list', {}, rows) : h('p.small.muted', { text: 'No token listed yet on these networks.' }),
    h('details.add-token', {},
      h('summary', { 'data-testid': `wallet-token-add-open-${chain}`, text: `Add ${k.noun} by its ${k.what}` }),
      h('div.stack', {}, out,
        h('div', {}, h('label', { for: `token-network-${chain}`, text: 'Network' }), net),
        h('div', {}, h('label', { for: `token-contract-${chain}`, text: chain === 'solana' ? 'Mint address' : 'Contract address' }), contract,
          h('div.hint', { text: k.hint })),
        add)));
  return box;
}
