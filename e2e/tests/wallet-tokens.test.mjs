// SPL and TRC-20 token balances on the wallet page, end to end: a real server, Chromium with the
// virtual authenticator, and the gateway's Solana and TRON endpoints one stand-in node in the
// test that records every request. Solana's mint and token accounts are laid out by npm
// `@solana-program/token` (the SPL Token program's own codecs, not the wallet's), TRON's
// contract answers ABI-encoded by npm `ethers`. The test checks that each node received exactly
// the documented calls, and that the page shows the chain's decimals and balance and says where
// each symbol comes from.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { getMintEncoder, getTokenEncoder } from '@solana-program/token';
import { AbiCoder, decodeBase58 } from 'ethers';
import { startServer, launch, device, shot, DESKTOP } from './lib.mjs';

const TOKEN_PROGRAM = 'TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA';
const LISTED_MINT = 'EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v';
const ADDED_MINT = 'So11111111111111111111111111111111111111112';
const TOKEN_ACCOUNT = '4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T';
const USDT = 'TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t';
const ADDED_TRC20 = 'TEkxiTehnzSmSe2XqrBj4w32RUN966rdz8';
const NO_CONTRACT = 'THTR75o8xXAgCTQqpiot2AFRAjvW1tSbVV';

const b64 = (bytes) => Buffer.from(bytes).toString('base64');
const mintData = (decimals) => b64(getMintEncoder().encode({ mintAuthority: null, supply: 10n ** 12n, decimals, isInitialized: true, freezeAuthority: null }));
const tokenData = (mint, owner, amount) => b64(getTokenEncoder().encode({ mint, owner, amount, delegate: null, state: 1, isNative: null, delegatedAmount: 0n, closeAuthority: null }));
const word = (a) => decodeBase58(a).toString(16).padStart(50, '0').slice(2, 42).padStart(64, '0');
const abi = AbiCoder.defaultAbiCoder();

async function standIn(world) {
  const calls = [];
  const srv = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      const url = new URL(req.url, 'http://x');
      const json = body ? JSON.parse(body) : null;
      calls.push({ method: req.method, path: url.pathname, body: json });
      const reply = (v) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(JSON.stringify(v)); };
      if (url.pathname === '/sol') {
        const [a, b] = json.params;
        const rpc = (result) => reply({ jsonrpc: '2.0', id: json.id, result });
        if (json.method === 'getBalance') return rpc({ context: { slot: 9 }, value: 0 });
        if (json.method === 'getAccountInfo') {
          const d = world.mints[a];
          return rpc({ context: { slot: 9 }, value: d === undefined ? null : { data: [mintData(d), 'base64'], executable: false, lamports: 1461600, owner: TOKEN_PROGRAM, rentEpoch: 0, space: 82 } });
        }
        if (json.method === 'getTokenAccountsByOwner') {
          const amount = world.splBalances[b.mint];
          return rpc({ context: { slot: 9 }, value: amount === undefined ? [] : [{ pubkey: TOKEN_ACCOUNT, account: { data: [tokenData(b.mint, a, amount), 'base64'], executable: false, lamports: 2039280, owner: TOKEN_PROGRAM, rentEpoch: 0, space: 165 } }] });
        }
        return reply({ jsonrpc: '2.0', id: json.id, error: { code: -32601, message: 'Method not found' } });
      }
      if (url.pathname === '/tron/wallet/getaccount') return reply({});
      if (url.pathname === '/tron/wallet/triggerconstantcontract') {
        const c = world.trc20[json.contract_address];
        if (!c) return reply({ result: { code: 'CONTRACT_VALIDATE_ERROR', message: '536d61727420636f6e7472616374206973206e6f742065786973742e' }, energy_used: 0, constant_result: [''] });
        const out = { 'symbol()': () => abi.encode(['string'], [c.symbol]), 'decimals()': () => abi.encode(['uint8'], [c.decimals]), 'balanceOf(address)': () => abi.encode(['uint256'], [c.balance]) }[json.function_selector]();
        return reply({ result: { result: true }, energy_used: 500, constant_result: [out.slice(2)] });
      }
      res.writeHead(404); res.end();
    });
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${srv.address().port}`, calls, close: () => new Promise((r) => srv.close(r)) };
}

const inPage = (p, method, u, body) => p.evaluate(async ([m, x, b]) => {
  const r = await fetch(x, { method: m, headers: b ? { 'content-type': 'application/json' } : {}, body: b ? JSON.stringify(b) : undefined });
  return { status: r.status, json: await r.json() };
}, [method, u, body]);

test('SPL and TRC-20 token balances: the admin\'s list and tokens added by address, decimals and balances from the chain', async (t) => {
  const server = await startServer();
  const browser = await launch();
  const world = {
    mints: { [LISTED_MINT]: 6, [ADDED_MINT]: 9 },
    splBalances: { [LISTED_MINT]: 12_500_000n },
    trc20: { [USDT]: { symbol: 'USDT', decimals: 6, balance: 1_234_567n }, [ADDED_TRC20]: { symbol: 'WIN', decimals: 18, balance: 5n * 10n ** 17n } },
  };
  const node = await standIn(world);
  t.after(async () => {
    await browser.close();
    await node.close();
    server.stop();
    server.cleanup();
  });
  const me = await device(browser, { viewport: DESKTOP });
  const p = me.page;
  await p.goto(`${server.url}/#/signup/${encodeURIComponent(server.code)}`);
  await p.getByLabel('User name').fill('tilly');
  await p.getByTestId('signup').click();
  await p.getByRole('link', { name: 'Wallet' }).click();
  await p.getByTestId('wallet-unlock').click();
  await p.getByTestId('wallet-unlocked').waitFor();
  const sol = (await p.getByTestId('wallet-address-solana').textContent()).trim();
  const tron = (await p.getByTestId('wallet-address-tron').textContent()).trim();
  assert.equal((await inPage(p, 'POST', '/api/setup/claim', { code: server.code })).status, 200);
  assert.equal((await inPage(p, 'PUT', '/api/admin/wallet/endpoints', { chain: 'solana', network: 'mainnet', url: `${node.url}/sol` })).status, 200);
  assert.equal((await inPage(p, 'PUT', '/api/admin/wallet/endpoints', { chain: 'tron', network: 'mainnet', url: `${node.url}/tron` })).status, 200);
  // The admin lists an SPL token (its symbol is the list's) and USDT with a wrong symbol and
  // decimals (the page shows the contract's own).
  assert.equal((await inPage(p, 'POST', '/api/admin/wallet/tokens', { chain: 'solana', network: 'mainnet', contract: LISTED_MINT, symbol: 'USDC', decimals: 2 })).status, 200);
  assert.equal((await inPage(p, 'POST', '/api/admin/wallet/tokens', { chain: 'tron', network: 'mainnet', contract: USDT, symbol: 'WRONG', decimals: 2 })).status, 200);
  const text = async (id) => (await p.getByTestId(id).textContent()).trim();
  const settled = async (id) => { await p.waitForFunction((x) => { const e = document.querySelector(`[data-testid="${x}"]`); return e && e.textContent !== 'Loading…'; }, id); return text(id); };
  node.calls.length = 0;
  await p.getByTestId('wallet-refresh').click();

  // SPL: decimals from the mint account, the balance from the token accounts, the list's symbol.
  const listed = `solana-mainnet-${LISTED_MINT}`;
  assert.equal(await settled(`wallet-token-balance-${listed}`), '12.5 USDC');
  assert.equal(await text(`wallet-token-symbol-from-${listed}`), 'Symbol from the server\'s token list; decimals (6) from the chain.');
  const solCalls = node.calls.filter((c) => c.path === '/sol' && c.body.method !== 'getBalance').map((c) => ({ method: c.body.method, params: c.body.params }));
  assert.deepEqual(solCalls, [
    { method: 'getAccountInfo', params: [LISTED_MINT, { encoding: 'base64', commitment: 'confirmed' }] },
    { method: 'getTokenAccountsByOwner', params: [sol, { mint: LISTED_MINT }, { encoding: 'base64', commitment: 'confirmed' }] },
  ]);
  // TRC-20: symbol, decimals and balance from the contract (not the admin's WRONG/2).
  const usdt = `tron-mainnet-${USDT}`;
  assert.equal(await settled(`wallet-token-balance-${usdt}`), '1.234567 USDT');
  assert.equal(await text(`wallet-token-symbol-from-${usdt}`), 'Symbol from the contract; decimals (6) from the chain.');
  const tronCalls = node.calls.filter((c) => c.path === '/tron/wallet/triggerconstantcontract').map((c) => c.body);
  const expect = (fn, parameter) => ({ owner_address: tron, contract_address: USDT, function_selector: fn, parameter, visible: true });
  assert.deepEqual(tronCalls.sort((a, b) => a.function_selector.localeCompare(b.function_selector)),
    [expect('balanceOf(address)', word(tron)), expect('decimals()', ''), expect('symbol()', '')]);

  // Adding by address: an address without a contract is refused and nothing is kept.
  await p.getByTestId('wallet-token-add-open-tron').click();
  await p.getByTestId('wallet-token-contract-tron').fill(NO_CONTRACT);
  await p.getByTestId('wallet-token-add-tron').click();
  await p.getByText('There is no token contract at this address on this network', { exact: false }).waitFor();
  assert.equal(await p.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('blindvault:wallet:tokens:tron')).length), 0);
  await p.getByTestId('wallet-token-contract-tron').fill(ADDED_TRC20);
  await p.getByTestId('wallet-token-add-tron').click();
  const added = `tron-mainnet-${ADDED_TRC20}`;
  assert.equal(await settled(`wallet-token-balance-${added}`), '0.5 WIN');
  await p.getByTestId('wallet-token-add-open-solana').click();
  await p.getByTestId('wallet-token-contract-solana').fill(ADDED_MINT);
  await p.getByTestId('wallet-token-add-solana').click();
  const addedSpl = `solana-mainnet-${ADDED_MINT}`;
  assert.equal(await settled(`wallet-token-balance-${addedSpl}`), `0 ${ADDED_MINT.slice(0, 4)}…${ADDED_MINT.slice(-4)}`, 'no token account: zero');
  assert.match(await text(`wallet-token-symbol-from-${addedSpl}`), /^Symbol from the mint address, shortened.*decimals \(9\) from the chain\.$/);
  const stored = await p.evaluate(() => Object.fromEntries(Object.keys(localStorage).filter((k) => k.startsWith('blindvault:wallet:tokens:')).map((k) => [k.split(':')[3], JSON.parse(localStorage.getItem(k))])));
  assert.deepEqual(stored, { solana: [{ network: 'mainnet', contract: ADDED_MINT }], tron: [{ network: 'mainnet', contract: ADDED_TRC20 }] }, 'only the addresses are kept');
  await p.getByTestId(`wallet-token-${added}`).scrollIntoViewIfNeeded();
  await shot(p, 'wallet-22-tokens-spl-trc20');
  // Remove forgets it.
  await p.getByTestId(`wallet-token-remove-${added}`).click();
  await p.getByTestId(`wallet-token-${added}`).waitFor({ state: 'detached' });
  await p.getByTestId(`wallet-token-balance-${usdt}`).waitFor();
  assert.deepEqual(await p.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('blindvault:wallet:tokens:tron')).map((k) => JSON.parse(localStorage.getItem(k)))), [[]]);
  assert.deepEqual(me.errors, []);
});
