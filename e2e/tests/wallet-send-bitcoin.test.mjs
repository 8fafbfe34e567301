// Sending bitcoin from the wallet page, end to end: a real server, Chromium with the virtual
// authenticator, and the gateway's Bitcoin endpoint a stand-in Esplora that lists two coins on
// the wallet's first receive address (in funding transactions built here) and takes the page's
// broadcast. The broadcast transaction is parsed here, independently of the wallet crate: it
// spends exactly those coins, pays the recipient the amount, returns the change to the wallet's
// own change address m/84'/0'/0'/1/0 (derived here from the PRF output with Node's own BIP-32),
// its fee (inputs − outputs) is the one shown (vsize × rate), and each input's witness carries the
// key whose hash the coin's script locks to. Its signatures are executed by libbitcoinconsensus
// against the spent outputs in crates/wallet-wasm/tests/bitcoin_send.rs (Node has no verifier).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createECDH, createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { ripemd160 } from '@noble/hashes/legacy.js';
import { startServer, launch, device, shot, DESKTOP, recordPrf } from './lib.mjs';
import { bip32, secretsOf, seedOf } from './chains/lib.mjs';

const RECIPIENT = 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4'; // BIP-173's example
const H = 0x80000000;


// ---- Bitcoin bytes, written and read here -------------------------------------------------------

const sha256 = (b) => createHash('sha256').update(b).digest();
const dsha = (b) => sha256(sha256(b));
const hash160 = (b) => Buffer.from(ripemd160(sha256(b)));
const le = (n, bytes) => { const b = Buffer.alloc(bytes); b.writeBigUInt64LE(BigInt(n) << BigInt(64 - 8 * bytes) >> BigInt(64 - 8 * bytes), 0); return b.subarray(0, bytes); };
const u32 = (n) => { const b = Buffer.alloc(4); b.writeUInt32LE(n); return b; };
const u64 = (n) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(n)); return b; };
const varint = (n) => (n < 0xfd ? Buffer.from([n]) : Buffer.concat([Buffer.from([0xfd]), le(n, 2)]));

/** A segwit v0 address's witness program (bech32 data part; the checksum is the sender's job). */
function program(address) {
  const CH = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
  const data = [...address.slice(address.lastIndexOf('1') + 1, -6)].map((c) => CH.indexOf(c));
  assert.equal(data[0], 0, 'witness version 0');
  let acc = 0; let bits = 0; const out = [];
  for (const v of data.slice(1)) { acc = (acc << 5) | v; bits += 5; if (bits >= 8) { bits -= 8; out.push((acc >> bits) & 0xff); } }
  return Buffer.from(out);
}
const p2wpkh = (prog) => Buffer.concat([Buffer.from([0x00, 0x14]), prog]);

/** A funding transaction (legacy serialization) paying `outputs` [{script, value}]. */
function funding(tag, outputs) {
  const raw = Buffer.concat([
    u32(2), varint(1), Buffer.alloc(32, tag), u32(0), varint(0), u32(0xffffffff),
    varint(outputs.length), ...outputs.flatMap((o) => [u64(o.value), varint(o.script.length), o.script]), u32(0),
  ]);
  return { hex: raw.toString('hex'), txid: Buffer.from(dsha(raw)).reverse().toString('hex') };
}

/** Parses a segwit transaction: inputs (txid, vout, witness), outputs (value, script), txid. */
function parseTx(hex) {
  const b = Buffer.from(hex, 'hex');
  let i = 0;
  const take = (n) => { const s = b.subarray(i, i + n); i += n; return s; };
  const vi = () => { const f = take(1)[0]; return f < 0xfd ? f : take(2).readUInt16LE(0); };
  const version = take(4);
  assert.deepEqual([...take(2)], [0, 1], 'segwit marker and flag');
  const bodyStart = i;
  const inputs = [];
  for (let n = vi(); n > 0; n -= 1) {
    const txid = Buffer.from(take(32)).reverse().toString('hex');
    const vout = take(4).readUInt32LE(0);
    assert.equal(vi(), 0, 'empty scriptSig');
    inputs.push({ txid, vout, sequence: take(4).readUInt32LE(0) });
  }
  const outputs = [];
  for (let n = vi(); n > 0; n -= 1) outputs.push({ value: Number(take(8).readBigUInt64LE(0)), script: take(vi()) });
  const bodyEnd = i;
  for (const input of inputs) { input.witness = []; for (let n = vi(); n > 0; n -= 1) input.witness.push(take(vi())); }
  const lock = take(4);
  assert.equal(i, b.length, 'nothing after the lock time');
  const txid = Buffer.from(dsha(Buffer.concat([version, b.subarray(bodyStart, bodyEnd), lock]))).reverse().toString('hex');
  return { txid, inputs, outputs };
}

// ---- the stand-in Esplora ----------------------------------------------------------------------

async function esplora() {
  const coins = new Map(); // address → [{txid, vout, value}]
  const txs = new Map(); // txid → hex
  const broadcasts = [];
  const calls = [];
  const srv = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      const p = new URL(req.url, 'http://x').pathname;
      calls.push({ method: req.method, path: p, body });
      const json = (v, s = 200) => { res.writeHead(s, { 'content-type': 'application/json' }); res.end(JSON.stringify(v)); };
      const text = (v, s = 200) => { res.writeHead(s, { 'content-type': 'text/plain' }); res.end(v); };
      let m;
      if (p === '/fee-estimates') return json({ 1: 20.3, 6: 4.2, 144: 1.004 });
      if ((m = p.match(/^\/address\/(\w+)\/utxo$/))) {
        return json((coins.get(m[1]) || []).map((c) => ({ txid: c.txid, vout: c.vout, value: c.value, status: { confirmed: true, block_height: 900000, block_hash: '00'.repeat(32), block_time: 1_900_000_000 } })));
      }
      if ((m = p.match(/^\/address\/(\w+)$/))) {
        const cs = coins.get(m[1]) || [];
        const sum = cs.reduce((a, c) => a + c.value, 0);
        return json({ address: m[1], chain_stats: { funded_txo_count: cs.length, funded_txo_sum: sum, spent_txo_count: 0, spent_txo_sum: 0, tx_count: cs.length }, mempool_stats: { funded_txo_count: 0, funded_txo_sum: 0, spent_txo_count: 0, spent_txo_sum: 0, tx_count: 0 } });
      }
      if ((m = p.match(/^\/tx\/([0-9a-f]{64})\/hex$/)) && txs.has(m[1])) return text(txs.get(m[1]));
      if ((m = p.match(/^\/tx\/([0-9a-f]{64})\/status$/))) return json(broadcasts.some((x) => x.txid === m[1]) ? { confirmed: true, block_height: 900001, block_hash: '11'.repeat(32), block_time: 1_900_000_600 } : { confirmed: false });
      if (p === '/tx' && req.method === 'POST') {
        const tx = parseTx(body.trim());
        broadcasts.push({ ...tx, hex: body.trim() });
        return text(tx.txid);
      }
      return text('not here', 404);
    });
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${srv.address().port}`, coins, txs, broadcasts, calls, close: () => new Promise((r) => srv.close(r)) };
}

const inPage = (p, method, u, body) => p.evaluate(async ([m, x, b]) => {
  const r = await fetch(x, { method: m, headers: b ? { 'content-type': 'application/json' } : {}, body: b ? JSON.stringify(b) : undefined });
  return { status: r.status, json: await r.json() };
}, [method, u, body]);

test('send bitcoin from the wallet page: coin selection, change and fee by the wallet; the broadcast transaction is the one reviewed', async (t) => {
  const server = await startServer();
  const browser = await launch();
  const node = await esplora();
  t.after(async () => {
    await browser.close();
    await node.close();
    server.stop();
    server.cleanup();
  });
  const me = await device(browser, { viewport: DESKTOP });
  const p = me.page;
  await p.addInitScript(recordPrf);
  await p.goto(`${server.url}/#/signup/${encodeURIComponent(server.code)}`);
  await p.getByLabel('User name').fill('satoshi');
  await p.getByTestId('signup').click();
  await p.getByRole('link', { name: 'Wallet' }).click();
  await p.getByTestId('wallet-unlock').click();
  await p.getByTestId('wallet-unlocked').waitFor();
  const from = (await p.getByTestId('wallet-address-bitcoin').textContent()).trim();
  const prf = (await p.evaluate(() => window.__prfCopies)).at(-1);
  // The wallet's keys at m/84'/0'/0'/0/0 and /1/0, derived here (Node's HMAC-SHA512 and secp256k1).
  const seed = seedOf(secretsOf(Uint8Array.from(prf)).mnemonic);
  const pubAt = (change) => {
    const ecdh = createECDH('secp256k1');
    ecdh.setPrivateKey(bip32(seed, [84 + H, H, H, change, 0]).at(-1).key);
    return ecdh.getPublicKey(null, 'compressed');
  };
  assert.deepEqual(program(from), hash160(pubAt(0)), 'the page\'s address is m/84\'/0\'/0\'/0/0');
  const changeProgram = hash160(pubAt(1));

  // Two coins on the first receive address: 50,000 and 30,000 sat.
  const mine = p2wpkh(program(from));
  const f1 = funding(1, [{ script: mine, value: 50_000 }]);
  const f2 = funding(2, [{ script: p2wpkh(Buffer.alloc(20, 7)), value: 9_000 }, { script: mine, value: 30_000 }]);
  node.txs.set(f1.txid, f1.hex);
  node.txs.set(f2.txid, f2.hex);
  node.coins.set(from, [{ txid: f1.txid, vout: 0, value: 50_000 }, { txid: f2.txid, vout: 1, value: 30_000 }]);
  assert.equal((await inPage(p, 'POST', '/api/setup/claim', { code: server.code })).status, 200);
  assert.equal((await inPage(p, 'PUT', '/api/admin/wallet/endpoints', { chain: 'bitcoin', network: 'mainnet', url: node.url })).status, 200);

  const fact = async (id) => (await p.getByTestId(id).textContent()).trim();
  const openSend = async () => {
    await p.evaluate(() => { location.hash = '#/wallet'; });
    await p.getByTestId('wallet-unlocked').waitFor();
    await p.getByTestId('wallet-refresh').click();
    await p.getByTestId('wallet-send-bitcoin').click();
    await p.getByTestId('wallet-send-to').waitFor();
    await p.waitForFunction(() => document.querySelector('[data-testid="wallet-send-rate"]').value !== '');
  };

  await t.test('more than the coins hold is refused by the wallet before anything is signed', async () => {
    await openSend();
    assert.equal(await p.getByTestId('wallet-send-rate').inputValue(), '5', 'the hour estimate (4.2 sat/vB) rounded up');
    await p.getByTestId('wallet-send-to').fill(RECIPIENT);
    await p.getByTestId('wallet-send-amount').fill('0.001');
    await p.getByTestId('wallet-send-review').click();
    await p.getByText(/^Not enough bitcoin for this amount and the network fee\. Nothing was signed\./).waitFor();
    assert.equal(node.broadcasts.length, 0);
  });

  await t.test('0.0006 BTC: the review shows recipient, fee = vsize × rate, change to the wallet; the broadcast transaction is that one', async () => {
    await openSend();
    await p.getByTestId('wallet-send-to').fill(RECIPIENT);
    await p.getByTestId('wallet-send-amount').fill('0.0006');
    await p.getByTestId('wallet-send-rate').fill('5');
    const copies = (await p.evaluate(() => window.__prfCopies)).length;
    await p.getByTestId('wallet-send-review').click();
    await p.getByTestId('wallet-send-confirmation').waitFor();
    assert.equal((await p.evaluate(() => window.__prfCopies)).length, copies + 1, 'the plan was one ceremony (the addresses are kept from the first Review)');
    assert.equal(await fact('wallet-send-chain'), 'Bitcoin mainnet');
    assert.equal(await fact('wallet-send-recipient'), `${RECIPIENT}: 0.0006 BTC`);
    const fee = (await fact('wallet-send-fee')).match(/^([0-9.]+) BTC \((\d+) vB × 5 sat\/vB\)$/);
    assert.ok(fee, await fact('wallet-send-fee'));
    const feeSat = Math.round(Number(fee[1]) * 1e8);
    assert.equal(feeSat, Number(fee[2]) * 5);
    const change = (await fact('wallet-send-change')).match(/^([0-9.]+) BTC to (\w+) \(m\/84'\/0'\/0'\/1\/0\)$/);
    assert.ok(change, await fact('wallet-send-change'));
    assert.deepEqual(program(change[2]), changeProgram, 'the change address is the wallet\'s m/84\'/0\'/0\'/1/0');
    assert.equal(await fact('wallet-send-inputs'), '2');
    assert.equal(await fact('wallet-send-rbf'), 'Yes (BIP-125): the fee can be raised later');
    const txid = await fact('wallet-send-txid');
    await shot(p, 'wallet-send-bitcoin-01-confirm');
    await p.getByTestId('wallet-send-confirm').click();
    await p.getByText('Confirmed', { exact: true }).waitFor();
    assert.equal(await fact('wallet-send-hash'), txid);

    assert.equal(node.broadcasts.length, 1);
    const tx = node.broadcasts[0];
    assert.equal(tx.txid, txid, 'the transaction id shown is the one broadcast');
    assert.deepEqual(tx.inputs.map((i) => `${i.txid}:${i.vout}`).sort(), [`${f1.txid}:0`, `${f2.txid}:1`].sort(), 'spends exactly the two coins');
    for (const i of tx.inputs) {
      assert.equal(i.sequence, 0xfffffffd, 'signals replace-by-fee');
      assert.equal(i.witness.length, 2, 'signature and key');
      assert.deepEqual(hash160(i.witness[1]), program(from), 'the key the coin is locked to');
      assert.equal(i.witness[0].at(-1), 0x01, 'SIGHASH_ALL');
    }
    const pay = tx.outputs.find((o) => o.script.equals(p2wpkh(program(RECIPIENT))));
    assert.equal(pay.value, 60_000);
    const back = tx.outputs.find((o) => o.script.equals(p2wpkh(changeProgram)));
    assert.equal(back.value, Math.round(Number(change[1]) * 1e8));
    assert.equal(tx.outputs.length, 2);
    assert.equal(80_000 - pay.value - back.value, feeSat, 'the fee paid is the fee shown');
    await shot(p, 'wallet-send-bitcoin-02-confirmed');
  });

  for (const c of node.calls.filter((x) => x.path.includes('/utxo'))) assert.equal(c.method, 'GET');
  assert.deepEqual(me.errors, []);
});
