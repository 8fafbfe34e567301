// Sending TON from the wallet page, end to end: a real server, Chromium with the virtual
// authenticator and its clock fixed (the page's `now`), and the gateway's TON endpoint a
// toncenter-style stand-in backed by @ton/sandbox (the TON emulator, its clock set to the same
// time) in which the page's wallet v4R2 contract is deployed: `getWalletInformation` reads its
// seqno and balance there, `estimateFee` emulates the body without its signature
// (`ignoreChksig`) and rolls back, and `sendBoc` executes the page's message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { Blockchain } from '@ton/sandbox';
import { WalletContractV4 } from '@ton/ton';
import { Address, Cell, external, toNano } from '@ton/core';
import { startServer, launch, device, shot, DESKTOP, recordPrf } from './lib.mjs';
import { secretsOf } from './chains/lib.mjs';

const NOW = 1_900_000_000; // the page's and the emulator's clock (Unix seconds)


/** The stand-in: toncenter API v2 calls (https://toncenter.com/api/v2/) answered from the
 * sandbox in toncenter's `{ok, result}` form. Records every call. */
async function sandboxNode(bc) {
  const calls = [];
  const walletInfo = async (address) => {
    const a = Address.parse(address);
    const c = await bc.getContract(a);
    const active = c.accountState?.type === 'active';
    const seqno = active ? (await bc.runGetMethod(a, 'seqno')).stackReader.readNumber() : undefined;
    return { wallet: active, balance: String(c.balance), account_state: active ? 'active' : 'uninitialized', wallet_type: 'wallet v4 r2', seqno, wallet_id: 698983191 };
  };
  const estimateFee = async ({ address, body, ignore_chksig: skip }) => {
    assert.equal(skip, true);
    const snap = bc.snapshot();
    try {
      const res = await bc.sendMessage(external({ to: Address.parse(address), body: Cell.fromBase64(body) }), { ignoreChksig: true });
      const d = res.transactions[0].description;
      const gas = d.computePhase.type === 'vm' ? d.computePhase.gasFees : 0n;
      const storage = d.storagePhase ? d.storagePhase.storageFeesCollected : 0n;
      const fwd = d.actionPhase ? d.actionPhase.totalFwdFees ?? 0n : 0n;
      const inFwd = res.transactions[0].totalFees.coins - gas - storage - (d.actionPhase ? d.actionPhase.totalActionFees ?? 0n : 0n);
      return { '@type': 'query.fees', source_fees: { '@type': 'fees', in_fwd_fee: Number(inFwd), storage_fee: Number(storage), gas_fee: Number(gas), fwd_fee: Number(fwd) }, destination_fees: [] };
    } finally {
      await bc.loadFrom(snap);
    }
  };
  const srv = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', async () => {
      const url = new URL(req.url, 'http://x');
      const json = body ? JSON.parse(body) : null;
      calls.push({ method: req.method, path: url.pathname, query: Object.fromEntries(url.searchParams), body: json });
      const reply = (status, v) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify(v)); };
      try {
        if (url.pathname === '/getWalletInformation') return reply(200, { ok: true, result: await walletInfo(url.searchParams.get('address')) });
        if (url.pathname === '/getAddressBalance') return reply(200, { ok: true, result: String((await bc.getContract(Address.parse(url.searchParams.get('address')))).balance) });
        if (url.pathname === '/estimateFee') return reply(200, { ok: true, result: await estimateFee(json) });
        if (url.pathname === '/sendBoc') {
          try {
            await bc.sendMessage(Cell.fromBase64(json.boc));
          } catch (e) {
            return reply(500, { ok: false, error: `LITE_SERVER_UNKNOWN: cannot apply external message to current state : External message was not accepted (${e.message.split('\n')[0]})`, code: 500 });
          }
          return reply(200, { ok: true, result: { '@type': 'ok' } });
        }
        return reply(404, { ok: false, error: 'not here', code: 404 });
      } catch (e) {
        return reply(500, { ok: false, error: String(e.message), code: 500 });
      }
    });
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${srv.address().port}`, calls, close: () => new Promise((r) => srv.close(r)) };
}

const inPage = (p, method, path, body) => p.evaluate(async ([m, u, b]) => {
  const r = await fetch(u, { method: m, headers: b ? { 'content-type': 'application/json' } : {}, body: b ? JSON.stringify(b) : undefined });
  return { status: r.status, json: await r.json() };
}, [method, path, body]);

test('send TON from the wallet page: the sandbox executes what the confirmation screen showed', async (t) => {
  const server = await startServer();
  const browser = await launch();
  const bc = await Blockchain.create();
  bc.now = NOW;
  const node = await sandboxNode(bc);
  t.after(async () => {
    await browser.close();
    await node.close();
    server.stop();
    server.cleanup();
  });
  const me = await device(browser, { viewport: DESKTOP });
  const p = me.page;
  await p.addInitScript(recordPrf);
  await p.clock.setFixedTime(NOW * 1000);
  await p.goto(`${server.url}/#/signup/${encodeURIComponent(server.code)}`);
  await p.getByLabel('User name').fill('tony');
  await p.getByTestId('signup').click();
  await p.getByRole('link', { name: 'Wallet' }).click();
  await p.getByTestId('wallet-unlock').click();
  await p.getByTestId('wallet-unlocked').waitFor();
  const from = (await p.getByTestId('wallet-address-ton').textContent()).trim();
  const prf = (await p.evaluate(() => window.__prfCopies)).at(-1);

  // The page's wallet contract (v4R2 for the public key derived in Node), deployed and funded.
  const wallet = bc.openContract(WalletContractV4.create({ workchain: 0, publicKey: secretsOf(Uint8Array.from(prf)).tonPublicKey }));
  assert.equal(wallet.address.toString({ bounceable: false }), from);
  const funder = await bc.treasury('funder');
  await funder.send({ to: wallet.address, value: toNano('10'), init: wallet.init, bounce: false });
  assert.equal(await wallet.getSeqno(), 0);
  assert.equal((await inPage(p, 'POST', '/api/setup/claim', { code: server.code })).status, 200);
  assert.equal((await inPage(p, 'PUT', '/api/admin/wallet/endpoints', { chain: 'ton', network: 'sandbox', url: node.url })).status, 200);

  const fact = async (id) => (await p.getByTestId(id).textContent()).trim();
  const balance = async (a) => (await bc.getContract(a)).balance;
  const openSend = async () => {
    await p.evaluate(() => { location.hash = '#/wallet'; });
    await p.getByTestId('wallet-unlocked').waitFor();
    await p.getByTestId('wallet-refresh').click();
    await p.getByTestId('wallet-send-ton').click();
    await p.getByTestId('wallet-send-to').waitFor();
  };
  const fill = async (to, amount, comment = '') => {
    await p.getByTestId('wallet-send-to').fill(to);
    await p.getByTestId('wallet-send-amount').fill(amount);
    await p.getByTestId('wallet-send-comment').fill(comment);
    await p.getByTestId('wallet-send-review').click();
  };
  const nobody = (n) => new Address(0, Buffer.alloc(32, n));

  await t.test('more than the wallet holds is refused before anything is signed', async () => {
    await openSend();
    await fill(nobody(1).toString({ bounceable: false }), '100');
    await p.getByText(/Not enough TON to send this amount and pay the network fee: this wallet holds 9\.\d+ TON\./).waitFor();
    assert.equal(await p.getByTestId('wallet-send-confirmation').count(), 0);
  });

  await t.test('a review older than its expiry (the page\'s clock moved on) is not signed', async () => {
    await openSend();
    const to = nobody(2);
    await fill(to.toString({ bounceable: false }), '0.1');
    await p.getByTestId('wallet-send-confirmation').waitFor();
    await p.clock.setFixedTime((NOW + 301) * 1000);
    await p.getByTestId('wallet-send-confirm').click();
    await p.getByText(/^This transfer expired before it was signed/).waitFor();
    await p.clock.setFixedTime(NOW * 1000);
    assert.equal(await wallet.getSeqno(), 0);
    assert.equal(node.calls.filter((c) => c.path === '/sendBoc').length, 0, 'nothing was broadcast');
  });

  await t.test('the confirmation screen is the body decoded; the sandbox executes it; seqno and balances move', async () => {
    await openSend();
    const to = nobody(3);
    const start = await balance(wallet.address);
    await fill(to.toString({ bounceable: false }), '1.5', 'thanks');
    await p.getByTestId('wallet-send-confirmation').waitFor();
    assert.equal(await fact('wallet-send-chain'), 'TON sandbox');
    assert.equal(await fact('wallet-send-from'), from);
    assert.equal(await fact('wallet-send-recipient'), to.toString({ bounceable: false }));
    assert.equal(await fact('wallet-send-bounce'), 'No (a wallet address)');
    assert.equal(await fact('wallet-send-amount-shown'), '1.5 TON');
    assert.equal(await fact('wallet-send-comment-shown'), 'thanks');
    assert.equal(await fact('wallet-send-nonce'), '0');
    assert.equal(await p.getByTestId('wallet-send-deploys').count(), 0, 'the wallet is already deployed');
    assert.match(await fact('wallet-send-fee'), /^0\.\d+ TON \(of which forward fee 0\.\d+ TON\)$/);
    assert.match(await fact('wallet-send-expiry'), new RegExp(`\\(${NOW + 300}\\): after that the wallet refuses it$`));
    await shot(p, 'wallet-send-ton-01-confirm');
    await p.getByTestId('wallet-send-confirm').click();
    await p.getByText('Confirmed', { exact: true }).waitFor();
    assert.equal(await wallet.getSeqno(), 1);
    assert.equal(await balance(to), toNano('1.5'));
    const spent = start - (await balance(wallet.address));
    assert.ok(spent > toNano('1.5') && spent < toNano('1.5') + toNano('0.05'), `the wallet paid the amount and a fee (${spent})`);
    // The broadcast message is the one whose hash the page shows.
    const sent = node.calls.filter((c) => c.path === '/sendBoc');
    assert.equal(sent.length, 1);
    assert.equal(Cell.fromBase64(sent[0].body.boc).hash().toString('hex'), await fact('wallet-send-hash'));
    await shot(p, 'wallet-send-ton-02-confirmed');
  });

  // Every call reached the node through the gateway in toncenter's form.
  const paths = new Set(node.calls.map((c) => c.path));
  for (const x of ['/getWalletInformation', '/estimateFee', '/sendBoc']) assert.ok(paths.has(x), x);
  for (const c of node.calls.filter((x) => x.path === '/getWalletInformation')) assert.deepEqual(c.query, { address: from });
  assert.deepEqual(me.errors, []);
});
