// Sending on TRON from the wallet page, end to end: a real server, Chromium with the virtual
// authenticator and its clock fixed, and the gateway's TRON endpoint a stand-in for TRON's HTTP
// API (no TRON node installs from a registry here). The stand-in keeps TRX and TRC-20 balances and
// accepts a broadcast transaction only after checking it independently of the wallet crate:
// txID = SHA-256(raw_data) (Node's crypto), the signature recovers (@noble/curves secp256k1,
// @noble/hashes keccak-256) to the sender, and raw_data decoded with protobufjs from TRON's own
// .proto files (crates/tron-proto-check/proto) says what the form asked — then it applies it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import path from 'node:path';
import protobuf from 'protobufjs';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { keccak_256 as keccak256 } from '@noble/hashes/sha3.js';
import { startServer, launch, device, shot, DESKTOP, ROOT } from './lib.mjs';

const NOW_MS = 1_900_000_000_000; // the page's clock and the stand-in's blocks
const ENERGY_FEE = 210n; // sun per energy unit (getEnergyFee)
const TRANSFER_ENERGY = 13045n; // what the stand-in says a TRC-20 transfer uses
const USDT = 'TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t';
const TO = 'THTR75o8xXAgCTQqpiot2AFRAjvW1tSbVV';

// ---- an independent view of a TRON transaction ---------------------------------------------------

const PROTO = path.join(ROOT, 'crates/tron-proto-check/proto');
const proto = new protobuf.Root();
proto.resolvePath = (_origin, target) => path.join(PROTO, target);
proto.loadSync(['core/Tron.proto', 'core/contract/balance_contract.proto', 'core/contract/smart_contract.proto'], { keepCase: true });
const RawTx = proto.lookupType('protocol.Transaction.raw');

const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const sha256 = (b) => createHash('sha256').update(b).digest();
/** Base58check → the 21-byte address (0x41 ‖ 20 bytes); checks the checksum. */
function addressBytes(s) {
  let n = 0n;
  for (const c of s) n = n * 58n + BigInt(B58.indexOf(c));
  const b = Buffer.from(n.toString(16).padStart(50, '0'), 'hex');
  assert.deepEqual(sha256(sha256(b.subarray(0, 21))).subarray(0, 4), b.subarray(21), `${s} checksum`);
  return b.subarray(0, 21);
}
function base58check(bytes21) {
  const b = Buffer.concat([bytes21, sha256(sha256(bytes21)).subarray(0, 4)]);
  let n = BigInt(`0x${b.toString('hex')}`);
  let s = '';
  while (n > 0n) { s = B58[Number(n % 58n)] + s; n /= 58n; }
  return s;
}

/** A broadcast transaction checked and decoded: {txid, signer, kind, owner, to, amount, contract?, feeLimit, expiration}. */
function inspect(body) {
  const raw = Buffer.from(body.raw_data_hex, 'hex');
  const txid = sha256(raw).toString('hex');
  assert.equal(body.txID, txid, 'txID = SHA-256(raw_data)');
  const sig = Buffer.from(body.signature[0], 'hex');
  const pub = secp256k1.Signature.fromBytes(sig.subarray(0, 64), 'compact').addRecoveryBit(sig[64] - 27).recoverPublicKey(sha256(raw)).toBytes(false);
  const signer = base58check(Buffer.concat([Buffer.from([0x41]), Buffer.from(keccak256(pub.subarray(1))).subarray(12)]));
  const tx = RawTx.toObject(RawTx.decode(raw), { longs: String, bytes: Buffer });
  assert.equal(tx.contract.length, 1);
  const { type_url: url, value } = tx.contract[0].parameter;
  const c = proto.lookupType(url.split('/').pop()).decode(value);
  const out = { txid, signer, expiration: Number(tx.expiration), timestamp: Number(tx.timestamp), feeLimit: String(tx.fee_limit || 0) };
  if (url.endsWith('protocol.TransferContract')) {
    return { ...out, kind: 'trx', owner: base58check(Buffer.from(c.owner_address)), to: base58check(Buffer.from(c.to_address)), amount: BigInt(c.amount.toString()) };
  }
  assert.ok(url.endsWith('protocol.TriggerSmartContract'), url);
  const data = Buffer.from(c.data);
  assert.equal(data.subarray(0, 4).toString('hex'), 'a9059cbb', 'transfer(address,uint256)');
  return {
    ...out, kind: 'trc20', owner: base58check(Buffer.from(c.owner_address)), contract: base58check(Buffer.from(c.contract_address)),
    to: base58check(Buffer.concat([Buffer.from([0x41]), data.subarray(16, 36)])), amount: BigInt(`0x${data.subarray(36, 68).toString('hex')}`),
  };
}

// ---- the stand-in node -------------------------------------------------------------------------

async function tronNode() {
  const trx = new Map();
  const tokens = new Map();
  const infos = new Map();
  const broadcasts = [];
  const calls = [];
  let number = 66_000_000;
  const hex = (s) => Buffer.from(s).toString('hex');
  const block = () => ({
    blockID: Buffer.concat([Buffer.from(BigInt(number).toString(16).padStart(16, '0'), 'hex'), sha256(String(number)).subarray(8)]).toString('hex'),
    block_header: { raw_data: { number, timestamp: NOW_MS } },
  });
  const routes = {
    '/wallet/getnowblock': () => block(),
    '/wallet/getaccount': (b) => (trx.has(b.address) ? { address: b.address, balance: Number(trx.get(b.address)) } : {}),
    '/wallet/getaccountresource': () => ({ freeNetLimit: 600, freeNetUsed: 0 }),
    '/wallet/getchainparameters': () => ({ chainParameter: [{ key: 'getTransactionFee', value: 1000 }, { key: 'getEnergyFee', value: Number(ENERGY_FEE) }] }),
    '/wallet/triggerconstantcontract': (b) => {
      assert.equal(b.function_selector, 'transfer(address,uint256)');
      assert.match(b.parameter, /^[0-9a-f]{128}$/);
      return { result: { result: true }, energy_used: Number(TRANSFER_ENERGY), constant_result: ['1'.padStart(64, '0')] };
    },
    '/wallet/gettransactioninfobyid': (b) => infos.get(b.value) || {},
    '/wallet/broadcasttransaction': (b) => {
      const t = inspect(b);
      broadcasts.push({ body: b, tx: t });
      assert.equal(t.signer, t.owner, 'the signature recovers to the sender');
      const refuse = (code, message) => ({ result: false, code, txid: t.txid, message: hex(message) });
      if (t.expiration <= NOW_MS) return refuse('TRANSACTION_EXPIRATION_ERROR', 'Transaction expired');
      if (infos.has(t.txid)) return refuse('DUP_TRANSACTION_ERROR', 'Dup transaction');
      const have = trx.get(t.owner) ?? 0n;
      if (t.kind === 'trx') {
        if (have < t.amount) return refuse('CONTRACT_VALIDATE_ERROR', 'Contract validate error : Validate TransferContract error, balance is not sufficient.');
        trx.set(t.owner, have - t.amount);
        trx.set(t.to, (trx.get(t.to) ?? 0n) + t.amount);
        infos.set(t.txid, { id: t.txid, blockNumber: number + 1, blockTimeStamp: NOW_MS + 3000, contractResult: [''], receipt: { net_usage: 267 } });
      } else {
        const key = (a) => `${t.contract}:${a}`;
        const held = tokens.get(key(t.owner)) ?? 0n;
        const burnt = TRANSFER_ENERGY * ENERGY_FEE;
        assert.ok(burnt <= BigInt(t.feeLimit), 'within the fee limit');
        trx.set(t.owner, have - burnt);
        const ok = held >= t.amount;
        if (ok) {
          tokens.set(key(t.owner), held - t.amount);
          tokens.set(key(t.to), (tokens.get(key(t.to)) ?? 0n) + t.amount);
        }
        infos.set(t.txid, { id: t.txid, fee: Number(burnt), blockNumber: number + 1, blockTimeStamp: NOW_MS + 3000, contract_address: t.contract,
          receipt: { energy_fee: Number(burnt), energy_usage_total: Number(TRANSFER_ENERGY), result: ok ? 'SUCCESS' : 'REVERT' }, ...(ok ? {} : { result: 'FAILED' }) });
      }
      number += 1;
      return { result: true, txid: t.txid };
    },
  };
  const srv = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      const url = new URL(req.url, 'http://x');
      const json = body ? JSON.parse(body) : {};
      calls.push({ path: url.pathname, body: json });
      const reply = (status, v) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify(v)); };
      const route = routes[url.pathname];
      if (!route || req.method !== 'POST') return reply(404, { Error: 'not here' });
      try { return reply(200, route(json)); } catch (e) { return reply(500, { Error: String(e.message) }); }
    });
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${srv.address().port}`, trx, tokens, broadcasts, calls, close: () => new Promise((r) => srv.close(r)) };
}

const inPage = (p, method, u, body) => p.evaluate(async ([m, x, b]) => {
  const r = await fetch(x, { method: m, headers: b ? { 'content-type': 'application/json' } : {}, body: b ? JSON.stringify(b) : undefined });
  return { status: r.status, json: await r.json() };
}, [method, u, body]);

test('send TRX and a TRC-20 token from the wallet page: the broadcast transaction is the one shown, checked independently', async (t) => {
  const server = await startServer();
  const browser = await launch();
  const node = await tronNode();
  t.after(async () => {
    await browser.close();
    await node.close();
    server.stop();
    server.cleanup();
  });
  const me = await device(browser, { viewport: DESKTOP });
  const p = me.page;
  await p.clock.setFixedTime(NOW_MS);
  await p.goto(`${server.url}/#/signup/${encodeURIComponent(server.code)}`);
  await p.getByLabel('User name').fill('tron');
  await p.getByTestId('signup').click();
  await p.getByRole('link', { name: 'Wallet' }).click();
  await p.getByTestId('wallet-unlock').click();
  await p.getByTestId('wallet-unlocked').waitFor();
  const from = (await p.getByTestId('wallet-address-tron').textContent()).trim();
  addressBytes(from);
  assert.equal((await inPage(p, 'POST', '/api/setup/claim', { code: server.code })).status, 200);
  assert.equal((await inPage(p, 'PUT', '/api/admin/wallet/endpoints', { chain: 'tron', network: 'stand-in', url: node.url })).status, 200);
  assert.equal((await inPage(p, 'POST', '/api/admin/wallet/tokens', { chain: 'tron', network: 'stand-in', contract: USDT, symbol: 'USDT', decimals: 6 })).status, 200);
  node.trx.set(from, 50_000_000n); // 50 TRX
  node.tokens.set(`${USDT}:${from}`, 1_000_000_000n); // 1000 USDT

  const fact = async (id) => (await p.getByTestId(id).textContent()).trim();
  const openSend = async () => {
    await p.evaluate(() => { location.hash = '#/wallet'; });
    await p.getByTestId('wallet-unlocked').waitFor();
    await p.getByTestId('wallet-refresh').click();
    await p.getByTestId('wallet-send-tron').click();
    await p.getByTestId('wallet-send-to').waitFor();
  };
  const review = async (to, amount, asset = 'trx') => {
    await p.getByTestId('wallet-send-asset').selectOption(asset);
    await p.getByTestId('wallet-send-to').fill(to);
    await p.getByTestId('wallet-send-amount').fill(amount);
    await p.getByTestId('wallet-send-review').click();
    await p.getByTestId('wallet-send-confirmation').waitFor();
  };

  await t.test('TRX: more than the account holds is refused by the node, said plainly; nothing moves', async () => {
    await openSend();
    await review(TO, '100');
    await p.getByTestId('wallet-send-confirm').click();
    await p.getByText('Not sent', { exact: true }).waitFor();
    await p.getByText(/^Not enough TRX to send this amount\. Nothing was sent\./).waitFor();
    assert.equal(node.trx.get(from), 50_000_000n);
    assert.equal(node.trx.get(TO), undefined);
  });

  await t.test('TRX: the confirmation screen is the raw_data decoded; the node\'s independent decoding agrees; balances move', async () => {
    await openSend();
    await review(TO, '12.5');
    assert.equal(await fact('wallet-send-chain'), 'TRON stand-in');
    assert.equal(await fact('wallet-send-from'), from);
    assert.equal(await fact('wallet-send-recipient'), TO);
    assert.equal(await fact('wallet-send-amount-shown'), '12.5 TRX');
    assert.match(await fact('wallet-send-bandwidth'), /^\d+ bytes, covered by this account's free bandwidth$/);
    assert.equal(await p.getByTestId('wallet-send-fee-limit').count(), 0);
    const txid = await fact('wallet-send-txid');
    await shot(p, 'wallet-send-tron-01-confirm');
    await p.getByTestId('wallet-send-confirm').click();
    await p.getByText('Confirmed', { exact: true }).waitFor();
    const sent = node.broadcasts.at(-1).tx;
    assert.equal(sent.txid, txid, 'the transaction id shown is the one broadcast');
    assert.equal(await fact('wallet-send-hash'), txid);
    assert.deepEqual([sent.kind, sent.owner, sent.signer, sent.to, sent.amount], ['trx', from, from, TO, 12_500_000n]);
    assert.equal(sent.timestamp, NOW_MS);
    assert.equal(sent.expiration, NOW_MS + 600_000, 'valid for 10 minutes after its reference block');
    assert.equal(node.trx.get(from), 37_500_000n);
    assert.equal(node.trx.get(TO), 12_500_000n);
    await shot(p, 'wallet-send-tron-02-confirmed');
  });

  await t.test('TRC-20: the token, the energy estimate and the fee limit are shown; the node decodes the same call; token balances move', async () => {
    await openSend();
    await review(TO, '250.75', USDT);
    assert.equal(await fact('wallet-send-amount-shown'), '250.75 USDT');
    assert.equal(await fact('wallet-send-token'), USDT);
    assert.equal(await fact('wallet-send-energy'), `${TRANSFER_ENERGY} energy, about 2.73945 TRX if burnt`);
    assert.equal(await fact('wallet-send-fee-limit'), '100 TRX: the most this call\'s energy may burn');
    await shot(p, 'wallet-send-tron-03-trc20-confirm');
    await p.getByTestId('wallet-send-confirm').click();
    await p.getByText('Confirmed', { exact: true }).waitFor();
    const sent = node.broadcasts.at(-1).tx;
    assert.deepEqual([sent.kind, sent.owner, sent.signer, sent.contract, sent.to, sent.amount, sent.feeLimit],
      ['trc20', from, from, USDT, TO, 250_750_000n, '100000000']);
    assert.equal(node.tokens.get(`${USDT}:${from}`), 1_000_000_000n - 250_750_000n);
    assert.equal(node.tokens.get(`${USDT}:${TO}`), 250_750_000n);
    assert.equal(node.trx.get(from), 37_500_000n - TRANSFER_ENERGY * ENERGY_FEE);
    await shot(p, 'wallet-send-tron-04-trc20-confirmed');
  });

  const paths = new Set(node.calls.map((c) => c.path));
  for (const x of ['/wallet/getnowblock', '/wallet/getaccountresource', '/wallet/triggerconstantcontract', '/wallet/broadcasttransaction', '/wallet/gettransactioninfobyid']) assert.ok(paths.has(x), x);
  assert.deepEqual(me.errors, []);
});
