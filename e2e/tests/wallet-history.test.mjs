// Transaction history on the wallet page, end to end: a real server, Chromium with the virtual
// authenticator, and the gateway's Bitcoin, TON and TRON endpoints one stand-in node in the test
// (Esplora, toncenter v2 and TronGrid paths) that records every request and answers with
// transactions that involve the page's own addresses. The test checks that each node received
// exactly the documented calls, and that the page shows each transaction's direction, other
// side, amount with symbol, fee, status and id, newest first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createECDH } from 'node:crypto';
import { createServer } from 'node:http';
import { ripemd160 } from '@noble/hashes/legacy.js';
import { AbiCoder, decodeBase58, id as keccakId, zeroPadValue } from 'ethers';
import { startServer, launch, device, shot, DESKTOP, recordPrf } from './lib.mjs';
import { bip32, secretsOf, seedOf } from './chains/lib.mjs';

const H = 0x80000000;
const THEM_BTC = 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4'; // BIP-173's example
const THEM_BTC_SCRIPT = '0014751e76e8199196d454941c45d1b3a323f1433bd6';
const THEM_TON = 'EQCD39VS5jcptHL8vMjEXrzGaRcCVYto7HUn4bpAOg8xqB2N';
const THEM_TRON = 'THTR75o8xXAgCTQqpiot2AFRAjvW1tSbVV';
const USDT = 'TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t';
const THEM_EVM = '0x66f9664f97F2b50F62D13eA064982f936dE76657';
const TKN = '0x5FbDB2315678afecb367f032d93F642f64180aa3';
const HASH_IN = `0x${'e1'.repeat(32)}`;
const HASH_OUT = `0x${'e2'.repeat(32)}`;
const THEM_SOL = '4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T';
const MINT = 'EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v';
const MY_ATA = '9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin';
const THEIR_ATA = '7UX2i7SucgLMQcfZ75s3VXmZZY4YRUyJN9X1RgfMoDUi';
const SIG_OUT = '5VERv8NMvzbJMEkV8xnrLkEaWRtSz9CosKDYjCJjBRnbJLgp8uirBgmQpjKhoR4tjF3ZpRzrFmBV6UjKdiSZkQUW';
const SIG_IN = '3AsdoALgZFuq2oUVWrDYhg2pNeaLJKPLf8hU2mQ6U8qJxeJ6hsrhKmxHdAxMmqvAAnwtpQDT9bBNxgkk9QxKT8v3';


const sha256 = (b) => createHash('sha256').update(b).digest();
const hash160 = (b) => Buffer.from(ripemd160(sha256(b))).toString('hex');

/** A segwit v0 address's witness program, hex (bech32 data part; no checksum check here). */
function program(address) {
  const CH = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
  const data = [...address.slice(address.lastIndexOf('1') + 1, -6)].map((c) => CH.indexOf(c));
  let acc = 0; let bits = 0; const out = [];
  for (const v of data.slice(1)) { acc = (acc << 5) | v; bits += 5; if (bits >= 8) { bits -= 8; out.push((acc >> bits) & 0xff); } }
  return Buffer.from(out).toString('hex');
}

/** A TRON address as TronGrid's transaction list writes it: hex of 0x41 ‖ 20 bytes. */
const tronHex = (a) => decodeBase58(a).toString(16).padStart(50, '0').slice(0, 42);

/** The stand-in node: Esplora under /btc, toncenter under /ton, TronGrid under /tron. */
async function standIn(world) {
  const calls = [];
  const srv = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => answer(req, res, body));
  });
  const answer = (req, res, body) => {
    const url = new URL(req.url, 'http://x');
    calls.push({ method: req.method, path: url.pathname, query: Object.fromEntries(url.searchParams), ...(body ? { body: JSON.parse(body) } : {}) });
    const json = (v, s = 200) => { res.writeHead(s, { 'content-type': 'application/json' }); res.end(JSON.stringify(v)); };
    let m;
    if ((m = url.pathname.match(/^\/btc\/address\/(\w+)\/txs$/))) return json(world.btc(m[1]));
    if (url.pathname === '/evm') {
      const j = JSON.parse(body);
      return json({ jsonrpc: '2.0', id: j.id, result: world.evm(j.method, j.params) });
    }
    if (url.pathname === '/sol') {
      const j = JSON.parse(body);
      return json({ jsonrpc: '2.0', id: j.id, result: world.sol(j.method, j.params) });
    }
    if (url.pathname === '/ton/getTransactions') return world.tonFails ? json({ ok: false, error: 'Ratelimit exceed', code: 429 }, 429) : json({ ok: true, result: world.ton(url.searchParams.get('address')) });
    if ((m = url.pathname.match(/^\/tron\/v1\/accounts\/(\w+)\/transactions\/trc20$/))) return json({ data: world.trc20(m[1]), success: true, meta: { at: 1, page_size: 2 } });
    if ((m = url.pathname.match(/^\/tron\/v1\/accounts\/(\w+)\/transactions$/))) return json({ data: world.tron(m[1]), success: true, meta: { at: 1, page_size: 2 } });
    return json({ error: 'not here' }, 404);
  };
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${srv.address().port}`, calls, close: () => new Promise((r) => srv.close(r)) };
}

const inPage = (p, method, u, body) => p.evaluate(async ([m, x, b]) => {
  const r = await fetch(x, { method: m, headers: b ? { 'content-type': 'application/json' } : {}, body: b ? JSON.stringify(b) : undefined });
  return { status: r.status, json: await r.json() };
}, [method, u, body]);

test('wallet history: EVM, Bitcoin, Solana, TON and TRON transactions newest first, each from exactly the documented calls', async (t) => {
  const server = await startServer();
  const browser = await launch();
  const world = {};
  const node = await standIn(world);
  t.after(async () => {
    await browser.close();
    await node.close();
    server.stop();
    server.cleanup();
  });
  const me = await device(browser, { viewport: DESKTOP });
  const p = me.page;
  await me.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
  await p.addInitScript(recordPrf);
  await p.goto(`${server.url}/#/signup/${encodeURIComponent(server.code)}`);
  await p.getByLabel('User name').fill('hilda');
  await p.getByTestId('signup').click();
  await p.getByRole('link', { name: 'Wallet' }).click();
  await p.getByTestId('wallet-unlock').click();
  await p.getByTestId('wallet-unlocked').waitFor();
  const addr = async (c) => (await p.getByTestId(`wallet-address-${c}`).textContent()).trim();
  const [btc, ton, tron, sol, evmAddr] = [await addr('bitcoin'), await addr('ton'), await addr('tron'), await addr('solana'), await addr('evm')];

  // No node yet: no History button, and the page says there is no node.
  assert.equal(await p.getByTestId('wallet-history-ton').count(), 0);
  await p.evaluate(() => { location.hash = '#/wallet/history/ton'; });
  await p.getByTestId('wallet-history-no-node').waitFor();

  // The account's change address m/84'/0'/0'/1/0, derived here (Node's HMAC-SHA512 and secp256k1).
  const prf = (await p.evaluate(() => window.__prfCopies)).at(-1);
  const seed = seedOf(secretsOf(Uint8Array.from(prf)).mnemonic);
  const pubAt = (change) => {
    const ecdh = createECDH('secp256k1');
    ecdh.setPrivateKey(bip32(seed, [84 + H, H, H, change, 0]).at(-1).key);
    return ecdh.getPublicKey(null, 'compressed');
  };
  assert.equal(program(btc), hash160(pubAt(0)));
  const changeProgram = hash160(pubAt(1));
  const out = (script, address, value) => ({ scriptpubkey: script, scriptpubkey_address: address, value });
  const mine = `0014${program(btc)}`;
  const change = `0014${changeProgram}`;
  const incoming = { txid: '11'.repeat(32), fee: 1000, vin: [{ prevout: out(THEM_BTC_SCRIPT, THEM_BTC, 100_000), is_coinbase: false }], vout: [out(mine, btc, 60_000), out(THEM_BTC_SCRIPT, THEM_BTC, 39_000)], status: { confirmed: true, block_height: 900_000, block_time: 1_800_000_000 } };
  const outgoing = { txid: '22'.repeat(32), fee: 500, vin: [{ prevout: out(mine, btc, 60_000), is_coinbase: false }], vout: [out(THEM_BTC_SCRIPT, THEM_BTC, 20_000), out(change, null, 39_500)], status: { confirmed: false } };
  world.btc = (a) => (a === btc ? [outgoing, incoming] : program(a) === changeProgram ? [outgoing] : []);
  const msg = (source, destination, value, message = '') => ({ '@type': 'raw.message', source, destination, value, fwd_fee: '0', ihr_fee: '0', created_lt: '1', body_hash: 'x', msg_data: { '@type': 'msg.dataText', text: '' }, message });
  world.ton = (a) => [
    { '@type': 'raw.transaction', utime: 1_800_000_300, data: '', transaction_id: { '@type': 'internal.transactionId', lt: '3', hash: 'c2VudCBieSB0aGUgd2FsbGV0' }, fee: '2755426', storage_fee: '0', other_fee: '0', in_msg: msg('', a, '0'), out_msgs: [msg(a, THEM_TON, '1500000001', 'invoice 42')] },
    { '@type': 'raw.transaction', utime: 1_800_000_100, data: '', transaction_id: { '@type': 'internal.transactionId', lt: '1', hash: 'cmVjZWl2ZWQgYnkgdGhlIHdhbGxldA==' }, fee: '100', storage_fee: '0', other_fee: '0', in_msg: msg(THEM_TON, a, '10000000000', 'thanks'), out_msgs: [] },
  ];
  const trxTransfer = (id, from, to, amount, time) => ({ ret: [{ contractRet: 'SUCCESS', fee: 1_100_000 }], txID: id, blockNumber: 70_000_000, block_timestamp: time, raw_data: { contract: [{ parameter: { value: { amount, owner_address: tronHex(from), to_address: tronHex(to) }, type_url: 'type.googleapis.com/protocol.TransferContract' }, type: 'TransferContract' }] } });
  world.tron = (a) => [
    { ret: [{ contractRet: 'SUCCESS', fee: 3_500_000 }], txID: 'cc'.repeat(32), blockNumber: 70_000_002, block_timestamp: 1_800_000_400_000, raw_data: { contract: [{ parameter: { value: { data: 'a9059cbb', owner_address: tronHex(a), contract_address: tronHex(USDT) }, type_url: 'type.googleapis.com/protocol.TriggerSmartContract' }, type: 'TriggerSmartContract' }] } },
    trxTransfer('aa'.repeat(32), a, THEM_TRON, 1_234_567, 1_800_000_200_000),
    trxTransfer('bb'.repeat(32), THEM_TRON, a, 5_000_000, 1_800_000_100_000),
  ];
  world.trc20 = (a) => [
    { transaction_id: 'dd'.repeat(32), token_info: { symbol: 'USDT', address: THEM_TRON, decimals: 6, name: 'look-alike' }, block_timestamp: 1_800_000_500_000, from: THEM_TRON, to: a, type: 'Transfer', value: '1' },
    { transaction_id: 'cc'.repeat(32), token_info: { symbol: 'USDT', address: USDT, decimals: 6, name: 'Tether USD' }, block_timestamp: 1_800_000_400_000, from: a, to: THEM_TRON, type: 'Transfer', value: '12500000' },
  ];
  const TRANSFER = keccakId('Transfer(address,address,uint256)');
  const abi = AbiCoder.defaultAbiCoder();
  const topic = (a) => zeroPadValue(a, 32).toLowerCase();
  world.evm = (method, params) => {
    if (method === 'eth_getBalance') return '0x0';
    if (method === 'eth_blockNumber') return '0x2710';
    if (method === 'eth_call') {
      const sel = params[0].data.slice(0, 10);
      if (sel === '0x95d89b41') return abi.encode(['string'], ['TKN']);
      if (sel === '0x313ce567') return abi.encode(['uint8'], [18]);
      return abi.encode(['uint256'], [0]);
    }
    if (method === 'eth_getLogs') {
      const f = params[0];
      const log = (from, to, value, block, hash) => ({ address: TKN.toLowerCase(), topics: [TRANSFER, topic(from), topic(to)], data: abi.encode(['uint256'], [value]), blockNumber: `0x${block.toString(16)}`, transactionHash: hash, logIndex: '0x0', removed: false });
      return f.topics[1] ? [log(evmAddr, THEM_EVM, 12n * 10n ** 18n + 5n * 10n ** 17n, 9990, HASH_OUT)] : [log(THEM_EVM, evmAddr, 10n ** 18n, 9000, HASH_IN)];
    }
    if (method === 'eth_getTransactionByHash') return { hash: params[0], from: evmAddr, to: TKN, value: '0x0', input: '0xa9059cbb' };
    if (method === 'eth_getTransactionReceipt') return { status: '0x1', blockNumber: '0x2706', gasUsed: '0x5208', effectiveGasPrice: '0x3b9aca00' };
    return null;
  };
  const solKeys = (k) => k.map((pubkey) => ({ pubkey, signer: false, writable: true, source: 'transaction' }));
  world.sol = (method, params) => {
    if (method === 'getBalance') return { context: { slot: 9 }, value: 0 };
    if (method === 'getSignaturesForAddress') {
      return [
        { signature: SIG_OUT, slot: 10, err: null, memo: null, blockTime: 1_800_000_200, confirmationStatus: 'finalized' },
        { signature: SIG_IN, slot: 9, err: null, memo: null, blockTime: 1_800_000_100, confirmationStatus: 'confirmed' },
      ];
    }
    if (method === 'getTransaction' && params[0] === SIG_OUT) {
      return { slot: 10, blockTime: 1_800_000_200, version: 'legacy',
        meta: { err: null, fee: 5000, preBalances: [2_000_000_000, 0, 1], postBalances: [499_995_000, 1_500_000_000, 1], preTokenBalances: [], postTokenBalances: [] },
        transaction: { signatures: [SIG_OUT], message: { accountKeys: solKeys([sol, THEM_SOL, '11111111111111111111111111111111']),
          instructions: [{ program: 'system', programId: '11111111111111111111111111111111', parsed: { type: 'transfer', info: { source: sol, destination: THEM_SOL, lamports: 1_500_000_000 } } }] } } };
    }
    if (method === 'getTransaction' && params[0] === SIG_IN) {
      const tb = (i, owner, amount) => ({ accountIndex: i, mint: MINT, owner, programId: 'TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA', uiTokenAmount: { amount, decimals: 6 } });
      return { slot: 9, blockTime: 1_800_000_100, version: 0,
        meta: { err: null, fee: 5000, preBalances: [9, 9, 9, 9, 9], postBalances: [9, 9, 9, 9, 9], preTokenBalances: [tb(1, THEM_SOL, '20000000')], postTokenBalances: [tb(1, THEM_SOL, '7500000'), tb(2, sol, '12500000')] },
        transaction: { signatures: [SIG_IN], message: { accountKeys: solKeys([THEM_SOL, THEIR_ATA, MY_ATA, MINT, sol]),
          instructions: [{ program: 'spl-token', parsed: { type: 'transferChecked', info: { source: THEIR_ATA, destination: MY_ATA, authority: THEM_SOL, mint: MINT } } }] } } };
    }
    return null;
  };
  assert.equal((await inPage(p, 'POST', '/api/setup/claim', { code: server.code })).status, 200);
  for (const [chain, network, path] of [['bitcoin', 'mainnet', 'btc'], ['ton', 'mainnet', 'ton'], ['tron', 'mainnet', 'tron'], ['solana', 'mainnet', 'sol'], ['evm', 'mainnet', 'evm']]) {
    assert.equal((await inPage(p, 'PUT', '/api/admin/wallet/endpoints', { chain, network, url: `${node.url}/${path}`, ...(chain === 'evm' ? { chain_id: 1 } : {}) })).status, 200);
  }
  assert.equal((await inPage(p, 'POST', '/api/admin/wallet/tokens', { chain: 'tron', network: 'mainnet', contract: USDT, symbol: 'USDT', decimals: 6 })).status, 200);
  assert.equal((await inPage(p, 'POST', '/api/admin/wallet/tokens', { chain: 'evm', network: 'mainnet', contract: TKN, symbol: 'WRONG', decimals: 2 })).status, 200);
  assert.equal((await inPage(p, 'POST', '/api/admin/wallet/tokens', { chain: 'solana', network: 'mainnet', contract: MINT, symbol: 'USDC', decimals: 6 })).status, 200);

  const entry = async (i) => {
    const li = p.getByTestId(`wallet-history-entry-${i}`);
    const f = async (id) => (await li.getByTestId(id).count() ? (await li.getByTestId(id).textContent()).trim() : null);
    return { id: await f('wallet-history-id'), dir: await f('wallet-history-direction'), status: await f('wallet-history-status'), amount: await f('wallet-history-amount'), side: await f('wallet-history-counterparty'), fee: await f('wallet-history-fee'), note: await f('wallet-history-note') };
  };
  // With the nodes set up, every chain's card has a History button (one render of the wallet
  // page: the gateway limits each person's calls, and each render reads every balance).
  await p.evaluate(() => { location.hash = '#/wallet'; });
  await p.getByTestId('wallet-unlocked').waitFor();
  for (const c of ['evm', 'bitcoin', 'solana', 'tron', 'ton']) await p.getByTestId(`wallet-history-${c}`).waitFor();
  const openHistory = async (chain) => {
    await p.evaluate((c) => { location.hash = `#/wallet/history/${c}`; }, chain);
    const name = { evm: 'Ethereum', bitcoin: 'Bitcoin', solana: 'Solana', ton: 'TON', tron: 'TRON' }[chain];
    await p.getByRole('heading', { name: `${name} history`, exact: true }).waitFor();
    await p.getByTestId('wallet-history-covers').waitFor();
  };

  // ---- Bitcoin: one ceremony for the account's addresses, then Esplora's list of each.
  node.calls.length = 0;
  await openHistory('bitcoin');
  const ceremonies = (await p.evaluate(() => window.__prfCopies)).length;
  await p.getByTestId('wallet-history-load').click();
  await p.getByTestId('wallet-history-list').waitFor();
  assert.equal((await p.evaluate(() => window.__prfCopies)).length, ceremonies + 1, 'one passkey ceremony for the change addresses');
  // (The wallet page's balance reads, /address/:a and the others, are not the history's.)
  const btcCalls = node.calls.filter((c) => c.path.endsWith('/txs'));
  assert.equal(btcCalls.length, 10, 'five receive and five change addresses');
  for (const c of btcCalls) {
    assert.equal(c.method, 'GET');
    assert.match(c.path, /^\/btc\/address\/bc1q[0-9a-z]+\/txs$/);
    assert.deepEqual(c.query, {});
  }
  assert.ok(btcCalls.some((c) => c.path === `/btc/address/${btc}/txs`));
  assert.deepEqual(await entry(0), { id: '22'.repeat(32), dir: 'Sent', status: 'Pending', amount: '−0.0002 BTC', side: `To ${THEM_BTC}`, fee: 'Network fee 0.000005 BTC', note: null });
  assert.deepEqual(await entry(1), { id: '11'.repeat(32), dir: 'Received', status: 'Confirmed', amount: '+0.0006 BTC', side: `From ${THEM_BTC}`, fee: null, note: null });
  assert.equal(await p.getByTestId('wallet-history-entry-2').count(), 0, 'each transaction once');
  await p.getByTestId('wallet-history-copy-1').click();
  assert.equal(await p.evaluate(() => navigator.clipboard.readText()), '11'.repeat(32));
  await shot(p, 'wallet-19-history-bitcoin');

  // ---- TON: toncenter's getTransactions for the wallet's address.
  node.calls.length = 0;
  await openHistory('ton');
  await p.getByTestId('wallet-history-list').waitFor();
  assert.deepEqual(node.calls.filter((c) => c.path === '/ton/getTransactions'), [{ method: 'GET', path: '/ton/getTransactions', query: { address: ton, limit: '20' } }]);
  assert.deepEqual(await entry(0), { id: 'c2VudCBieSB0aGUgd2FsbGV0', dir: 'Sent', status: 'Confirmed', amount: '−1.500000001 TON', side: `To ${THEM_TON}`, fee: 'Network fee 0.002755426 TON', note: 'invoice 42' });
  assert.deepEqual(await entry(1), { id: 'cmVjZWl2ZWQgYnkgdGhlIHdhbGxldA==', dir: 'Received', status: 'Confirmed', amount: '+10 TON', side: `From ${THEM_TON}`, fee: null, note: 'thanks' });
  await shot(p, 'wallet-20-history-ton');
  // A node that fails: the page says why, in plain words.
  world.tonFails = true;
  await p.getByTestId('wallet-history-refresh').click();
  await p.getByTestId('wallet-history-error').waitFor();
  assert.match(await p.getByTestId('wallet-history-error').textContent(), /could not be read.*HTTP 429: Ratelimit exceed/);
  world.tonFails = false;

  // ---- TRON: TronGrid's transactions and TRC-20 transfers of the account.
  node.calls.length = 0;
  await openHistory('tron');
  await p.getByTestId('wallet-history-list').waitFor();
  const sorted = node.calls.filter((c) => c.path.startsWith('/tron/v1/')).sort((a, b) => a.path.localeCompare(b.path));
  assert.deepEqual(sorted, [
    { method: 'GET', path: `/tron/v1/accounts/${tron}/transactions`, query: { limit: '20' } },
    { method: 'GET', path: `/tron/v1/accounts/${tron}/transactions/trc20`, query: { limit: '20' } },
  ]);
  const e0 = await entry(0);
  assert.deepEqual({ ...e0, note: null }, { id: 'dd'.repeat(32), dir: 'Received', status: 'Confirmed', amount: '+0.000001 USDT', side: `From ${THEM_TRON}`, fee: null, note: null });
  assert.match(e0.note, /^Not a listed token: symbol and decimals as the indexer reports them \(contract THTR/);
  assert.deepEqual(await entry(1), { id: 'cc'.repeat(32), dir: 'Sent', status: 'Confirmed', amount: '−12.5 USDT', side: `To ${THEM_TRON}`, fee: 'Network fee 3.5 TRX', note: null });
  assert.deepEqual(await entry(2), { id: 'aa'.repeat(32), dir: 'Sent', status: 'Confirmed', amount: '−1.234567 TRX', side: `To ${THEM_TRON}`, fee: 'Network fee 1.1 TRX', note: null });
  assert.deepEqual(await entry(3), { id: 'bb'.repeat(32), dir: 'Received', status: 'Confirmed', amount: '+5 TRX', side: `From ${THEM_TRON}`, fee: null, note: null });
  await shot(p, 'wallet-21-history-tron');

  // ---- Solana: the address's signatures, then each transaction (a bounded number).
  node.calls.length = 0;
  await openHistory('solana');
  await p.getByTestId('wallet-history-list').waitFor();
  const solCalls = node.calls.filter((c) => c.path === '/sol' && ['getSignaturesForAddress', 'getTransaction'].includes(c.body.method)).map((c) => ({ method: c.body.method, params: c.body.params }));
  const tx = (sig) => ({ method: 'getTransaction', params: [sig, { encoding: 'jsonParsed', maxSupportedTransactionVersion: 0, commitment: 'confirmed' }] });
  // The signatures first; then each transaction, read concurrently (so in no fixed order).
  assert.deepEqual(solCalls[0], { method: 'getSignaturesForAddress', params: [sol, { limit: 10, commitment: 'confirmed' }] });
  assert.deepEqual(solCalls.slice(1).sort((a, b) => a.params[0].localeCompare(b.params[0])), [tx(SIG_OUT), tx(SIG_IN)].sort((a, b) => a.params[0].localeCompare(b.params[0])));
  assert.deepEqual(await entry(0), { id: SIG_OUT, dir: 'Sent', status: 'Confirmed', amount: '−1.5 SOL', side: `To ${THEM_SOL}`, fee: 'Network fee 0.000005 SOL', note: null });
  assert.deepEqual(await entry(1), { id: SIG_IN, dir: 'Received', status: 'Confirmed', amount: '+12.5 USDC', side: `From ${THEM_SOL}`, fee: null, note: null });
  await shot(p, 'wallet-23-history-solana');

  // ---- EVM: Transfer logs of the listed token over the newest 5000 blocks, and the
  // transactions this browser broadcast (a hash the send page kept).
  const me_ = await inPage(p, 'GET', '/api/me');
  await p.evaluate(([k, v]) => localStorage.setItem(k, v), [`blindvault:wallet:evm-sent:${me_.json.user.id}`, JSON.stringify([{ network: 'mainnet', hash: HASH_OUT, time: 1_800_000_900 }])]);
  node.calls.length = 0;
  await openHistory('evm');
  await p.locator('[data-testid="wallet-history-list"], [data-testid="wallet-history-error"]').first().waitFor();
  assert.equal(await p.getByTestId('wallet-history-error').count(), 0, await p.getByTestId('wallet-history').textContent());
  const evmCalls = node.calls.filter((c) => c.path === '/evm' && ['eth_blockNumber', 'eth_getLogs', 'eth_getTransactionByHash', 'eth_getTransactionReceipt'].includes(c.body.method)).map((c) => ({ method: c.body.method, params: c.body.params }));
  // The newest 5000 blocks: 5001 (0x1389) to the head 10000 (0x2710); Transfer from, and to, the address.
  const filter = (topics) => ({ fromBlock: '0x1389', toBlock: '0x2710', address: [TKN], topics });
  const byJson = (a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b));
  assert.deepEqual([...evmCalls].sort(byJson), [
    { method: 'eth_blockNumber', params: [] },
    { method: 'eth_getLogs', params: [filter([TRANSFER, null, topic(evmAddr)])] },
    { method: 'eth_getLogs', params: [filter([TRANSFER, topic(evmAddr)])] },
    { method: 'eth_getTransactionByHash', params: [HASH_OUT] },
    { method: 'eth_getTransactionReceipt', params: [HASH_OUT] },
  ].sort(byJson));
  assert.deepEqual(await entry(0), { id: HASH_OUT, dir: 'Sent', status: 'Confirmed', amount: '−12.5 TKN', side: `To ${THEM_EVM}`, fee: 'Network fee 0.000021 ETH', note: null });
  assert.deepEqual(await entry(1), { id: HASH_IN, dir: 'Received', status: 'Confirmed', amount: '+1 TKN', side: `From ${THEM_EVM}`, fee: null, note: null });
  assert.equal(await p.getByTestId('wallet-history-entry-1').getByTestId('wallet-history-time').textContent(), 'In block 9000');
  await shot(p, 'wallet-24-history-evm');
  assert.deepEqual(me.errors, []);
});
