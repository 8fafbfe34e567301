// The wallet page end to end: a real server, Debian's Chromium with the DevTools virtual
// authenticator (PRF on), and Playwright's clock installed in the page (so the auto-lock is
// tested by moving the page's clock, not by waiting).
//
//   sign up → #/wallet (locked) → "Unlock wallet" (a passkey ceremony with PRF) → the five
//   addresses, each equal to what the wallet module (in Node) and the native wallet crate (the
//   CLI, from the mnemonic derived independently in Node) give for the PRF output the virtual
//   authenticator produced; the page's copy of that output is zeros; copy buttons and QR codes
//   (decoded by jsQR) carry the addresses → another account → "Lock" and the addresses are gone
//   from the DOM → auto-lock after the idle time the person chose.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { createServer as netServer } from 'node:net';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import jsQR from 'jsqr';
import { AbiCoder, Interface } from 'ethers';
import { startServer, cli, launch, device, shot, DESKTOP, ROOT } from './lib.mjs';
import { loadWallet, secretsOf } from './chains/lib.mjs';

const CHAINS = ['evm', 'bitcoin', 'solana', 'tron', 'ton'];

/** Every PRF output the page is handed, recorded by the test before the page sees it: a copy
 * (`window.__prfCopies`) and the very buffers the page gets (`window.__prfHanded`), to check
 * afterwards that the page zeroed them. */
function recordPrf() {
  const get = navigator.credentials.get.bind(navigator.credentials);
  window.__prfCopies = [];
  window.__prfHanded = [];
  navigator.credentials.get = async (o) => {
    const cred = await get(o);
    const real = cred.getClientExtensionResults.bind(cred);
    const first = real();
    if (first.prf && first.prf.results && first.prf.results.first) {
      window.__prfCopies.push(Array.from(new Uint8Array(first.prf.results.first)));
    }
    cred.getClientExtensionResults = () => {
      const r = real();
      if (r.prf && r.prf.results && r.prf.results.first) window.__prfHanded.push(r.prf.results.first);
      return r;
    };
    return cred;
  };
}

async function shownAddresses(p) {
  const out = {};
  for (const c of CHAINS) out[c] = (await p.getByTestId(`wallet-address-${c}`).textContent()).trim();
  return out;
}

/** The wallet crate's addresses for `prf` and `account`, twice: the production wallet module in
 * Node, and the native crate through the CLI from the mnemonic derived independently (Node's
 * HKDF and the BIP-39 word list, chains/lib.mjs). */
async function expectedAddresses(server, prf, account) {
  const { own: api } = await loadWallet();
  const fromModule = Object.fromEntries(api.walletAddresses(Uint8Array.from(prf), account).map((a) => [a.chain, a.address]));
  const { mnemonic } = secretsOf(Uint8Array.from(prf));
  const native = JSON.parse(await cli(server, ['wallet', 'addresses', '--chain', 'all', '--index', String(account), '--count', '1', '--format', 'json'], `${mnemonic}\n`));
  const fromCli = Object.fromEntries(native.map((a) => [a.chain, a.address]));
  assert.deepEqual(fromModule, fromCli, 'the wallet module and the native crate agree');
  return fromModule;
}

/** Decodes the QR code the page drew (its SVG, rasterised by Chromium in a blank page) with jsQR. */
async function decodeQr(browser, p, testid) {
  const markup = await p.getByTestId(testid).evaluate((el) => new XMLSerializer().serializeToString(el));
  const scratch = await browser.newPage();
  try {
    const { width, height, data } = await scratch.evaluate(async (svgText) => {
      const img = new Image();
      img.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svgText)}`;
      await img.decode();
      const c = document.createElement('canvas');
      c.width = 400; c.height = 400;
      const ctx = c.getContext('2d');
      ctx.fillStyle = '#fff';
      ctx.fillRect(0, 0, 400, 400);
      ctx.drawImage(img, 0, 0, 400, 400);
      return { width: 400, height: 400, data: Array.from(ctx.getImageData(0, 0, 400, 400).data) };
    }, markup);
    const code = jsQR(Uint8ClampedArray.from(data), width, height);
    assert.ok(code, `${testid} decodes`);
    return code.data;
  } finally {
    await scratch.close();
  }
}

/** A stand-in for the five chains' nodes on 127.0.0.1 (each under its own path prefix, as the
 * admin's endpoint URLs say): answers a native-balance call in each public API's form with fixed
 * amounts, and records every request. `/tron-down` answers 500. */
async function fakeNodes() {
  const seen = [];
  const srv = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      const url = new URL(req.url, 'http://x');
      seen.push({ method: req.method, path: url.pathname, query: Object.fromEntries(url.searchParams), body: body ? JSON.parse(body) : null });
      const json = (v, status = 200) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify(v)); };
      const rpc = (result) => json({ jsonrpc: '2.0', id: 1, result });
      const p = url.pathname;
      if (p === '/evm' || p === '/evm-big') return rpc(p === '/evm' ? '0x14d1120d7b160000' : `0x${'f'.repeat(64)}`);
      if (p.startsWith('/btc/address/')) {
        return json({ address: p.slice(13), chain_stats: { funded_txo_count: 2, funded_txo_sum: 150000000, spent_txo_count: 1, spent_txo_sum: 50000000, tx_count: 3 },
          mempool_stats: { funded_txo_count: 1, funded_txo_sum: 2500, spent_txo_count: 0, spent_txo_sum: 0, tx_count: 1 } });
      }
      if (p === '/sol') return rpc({ context: { slot: 1 }, value: 2500000000 });
      if (p === '/tron/wallet/getaccount') return json({ address: body && JSON.parse(body).address, balance: 1234567 });
      if (p === '/tron-down/wallet/getaccount') return json({ error: 'down' }, 500);
      if (p === '/ton/getAddressBalance') return json({ ok: true, result: '1000000001' });
      return json({ error: 'not here' }, 404);
    });
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${srv.address().port}`, seen, close: () => new Promise((r) => srv.close(r)) };
}

/** anvil (npm @foundry-rs/anvil-linux-amd64, installed with the e2e packages): a local EVM node,
 * chain id 31337, mining each transaction as it arrives. `rpc(method, params)` talks to it
 * directly (the test's own view of the chain, not through the gateway). */
async function startAnvil() {
  const port = await new Promise((resolve, reject) => {
    const s = netServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port: p } = s.address(); s.close(() => resolve(p)); });
  });
  const bin = path.join(ROOT, 'e2e/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil');
  const proc = spawn(bin, ['--host', '127.0.0.1', '--port', String(port), '--chain-id', '31337'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d) => { out += d; });
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`anvil did not start: ${out}`)), 60000);
    proc.stdout.on('data', () => { if (out.includes('Listening on')) { clearTimeout(timer); resolve(); } });
    proc.once('exit', (c) => { clearTimeout(timer); reject(new Error(`anvil exited ${c}: ${out}`)); });
  });
  const url = `http://127.0.0.1:${port}`;
  const rpc = async (method, params = []) => {
    const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
    const j = await r.json();
    if (j.error) throw new Error(`${method}: ${j.error.message}`);
    return j.result;
  };
  return { url, rpc, stop: () => proc.kill('SIGTERM') };
}

/** OpenZeppelin's ERC20PresetFixedSupply (npm @openzeppelin/contracts 4.9, compiled by its
 * publisher): constructor(name, symbol, initialSupply, owner) mints the whole supply to owner. */
const PRESET = JSON.parse(readFileSync(path.join(ROOT, 'e2e/node_modules/@openzeppelin/contracts/build/contracts/ERC20PresetFixedSupply.json'), 'utf8'));
const ERC20 = new Interface(PRESET.abi);

/** Deploys a fixed-supply ERC-20 on anvil from anvil's own first account (unlocked on the node):
 * its address. */
async function deployToken(anvil, name, symbol, supply, owner) {
  const [deployer] = await anvil.rpc('eth_accounts');
  const args = AbiCoder.defaultAbiCoder().encode(['string', 'string', 'uint256', 'address'], [name, symbol, supply, owner]);
  const hash = await anvil.rpc('eth_sendTransaction', [{ from: deployer, data: PRESET.bytecode + args.slice(2), gas: '0x500000' }]);
  // anvil mines each transaction as it arrives; its receipt may lag the answer by a moment.
  let receipt = null;
  for (let i = 0; !receipt && i < 600; i += 1) {
    receipt = await anvil.rpc('eth_getTransactionReceipt', [hash]);
    if (!receipt) await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(receipt, `${symbol} deployment mined`);
  assert.equal(receipt.status, '0x1', `${symbol} deployed`);
  return receipt.contractAddress;
}

/** `balanceOf(owner)` of `token`, asked of the node directly (ABI by ethers, not the wallet). */
async function balanceOf(anvil, token, owner) {
  const data = ERC20.encodeFunctionData('balanceOf', [owner]);
  return ERC20.decodeFunctionResult('balanceOf', await anvil.rpc('eth_call', [{ to: token, data }, 'latest']))[0];
}

/** `fetch` from the page (its session cookie): JSON in, JSON out. */
const inPage = (p, method, path, body) => p.evaluate(async ([m, u, b]) => {
  const r = await fetch(u, { method: m, headers: b ? { 'content-type': 'application/json' } : {}, body: b ? JSON.stringify(b) : undefined });
  return { status: r.status, json: await r.json() };
}, [method, path, body]);

test('the wallet page unlocks with a passkey, shows the wallet crate\'s five addresses, locks and auto-locks', async (t) => {
  const server = await startServer();
  const browser = await launch();
  t.after(async () => {
    await browser.close();
    server.stop();
    server.cleanup();
  });
  const nodes = await fakeNodes();
  t.after(() => nodes.close());
  const me = await device(browser, { viewport: DESKTOP });
  const p = me.page;
  await me.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
  await p.clock.install();
  await p.addInitScript(recordPrf);

  await t.test('sign up, then the wallet is locked and holds nothing', async () => {
    await p.goto(`${server.url}/#/signup/${encodeURIComponent(server.code)}`);
    await p.getByLabel('User name').fill('wendy');
    await p.getByTestId('signup').click();
    await p.getByRole('link', { name: 'Wallet' }).click();
    await p.getByTestId('wallet-locked').waitFor();
    assert.equal(await p.getByTestId('wallet-addresses').count(), 0);
    assert.equal(await p.getByRole('link', { name: 'Wallet' }).getAttribute('aria-current'), 'page');
    await shot(p, 'wallet-01-locked');
  });

  let addresses;
  let prf;
  await t.test('unlock: the five addresses are the wallet crate\'s for this passkey\'s PRF output', async () => {
    const posted = [];
    p.on('request', (r) => { if (r.method() !== 'GET') posted.push({ url: r.url(), body: r.postData() || '' }); });
    await p.getByTestId('wallet-unlock').click();
    await p.getByTestId('wallet-unlocked').waitFor();
    const copies = await p.evaluate(() => window.__prfCopies);
    prf = copies[copies.length - 1];
    assert.equal(prf.length, 32);
    assert.ok(prf.some((b) => b !== 0));
    addresses = await shownAddresses(p);
    assert.deepEqual(addresses, await expectedAddresses(server, prf, 0));
    assert.match(addresses.evm, /^0x[0-9a-fA-F]{40}$/);
    assert.match(addresses.bitcoin, /^bc1q/);
    assert.match(addresses.tron, /^T/);
    assert.match(addresses.ton, /^UQ/);
    assert.equal(await p.getByTestId('wallet-account-shown').textContent(), 'Account 0');
    // The page's copy of the PRF output is zeros, and no request carried it.
    const handed = await p.evaluate(() => window.__prfHanded.map((b) => Array.from(new Uint8Array(b))));
    assert.ok(handed.length >= 1);
    for (const b of handed) assert.ok(b.every((x) => x === 0), 'the PRF output the page was handed is zeroed');
    const prfB64 = Buffer.from(prf).toString('base64url');
    for (const x of posted) {
      assert.ok(!x.body.includes(prfB64) && !x.body.includes(Buffer.from(prf).toString('hex')), `PRF output posted to ${x.url}`);
    }
    // The first unlock of all records this passkey as the wallet's origin: its ceremony is the
    // step-up the server asks for that (wallet.origin.set), which checks the assertion.
    const finish = posted.find((x) => /\/api\/step-up\/[^/]+\/confirm$/.test(x.url));
    assert.ok(finish, 'the server checked the assertion');
    assert.deepEqual(JSON.parse(finish.body).credential.extensions, {});
    assert.ok(posted.some((x) => x.url.endsWith('/api/wallet/keyring/origin')), 'the origin recorded');
  });

  await t.test('no node set up: each chain says so plainly; the addresses are published (public data only)', async () => {
    for (const c of CHAINS) {
      assert.match(await p.getByTestId(`wallet-no-endpoint-${c}`).textContent(), /^No balance: this server has no .+ node set up\./);
    }
    const mine = await inPage(p, 'GET', '/api/wallet/addresses');
    assert.equal(mine.status, 200);
    assert.deepEqual(Object.fromEntries(mine.json.addresses.map((a) => [a.chain, a.address])), addresses);
    for (const a of mine.json.addresses) {
      assert.equal(a.network, 'mainnet');
      assert.equal(a.label, 'account 0');
      assert.deepEqual(Object.keys(a).sort(), ['address', 'chain', 'created_at', 'id', 'label', 'network', 'path']);
    }
  });

  await t.test('each address has a copy button and a QR code that decodes to it', async () => {
    for (const c of CHAINS) {
      await p.getByTestId(`wallet-copy-${c}`).click();
      assert.equal(await p.evaluate(() => navigator.clipboard.readText()), addresses[c], `${c} copied`);
      await p.getByTestId(`wallet-show-qr-${c}`).click();
      await p.getByTestId(`wallet-qr-${c}`).waitFor();
      assert.equal(await decodeQr(browser, p, `wallet-qr-${c}`), addresses[c], `${c} QR code`);
    }
    await p.getByTestId('wallet-show-qr-bitcoin').click();
    await p.getByTestId('wallet-show-qr-solana').click();
    await p.getByTestId('wallet-show-qr-tron').click();
    await p.getByTestId('wallet-show-qr-ton').click();
    await shot(p, 'wallet-02-unlocked');
  });

  await t.test('another account is its own passkey ceremony and its own addresses', async () => {
    await p.locator('summary', { hasText: 'Accounts and auto-lock' }).click();
    await p.getByTestId('wallet-account').fill('1');
    const before = (await p.evaluate(() => window.__prfCopies)).length;
    await p.getByTestId('wallet-switch-account').click();
    await p.getByText('Account 1', { exact: true }).waitFor();
    const copies = await p.evaluate(() => window.__prfCopies);
    assert.equal(copies.length, before + 1, 'a new ceremony');
    assert.deepEqual(copies[copies.length - 1], prf, 'the same passkey gives the same PRF output');
    const one = await shownAddresses(p);
    assert.deepEqual(one, await expectedAddresses(server, prf, 1));
    for (const c of CHAINS) assert.notEqual(one[c], addresses[c]);
    await shot(p, 'wallet-03-account-1');
  });

  await t.test('balances through the gateway, each in its chain\'s API, formatted exactly by the wallet module', async () => {
    // The person becomes the admin (setup code) and points the gateway at the stand-in nodes.
    assert.equal((await inPage(p, 'POST', '/api/setup/claim', { code: server.code })).status, 200);
    const endpoints = [
      { chain: 'evm', network: 'sepolia', chain_id: 11155111, url: `${nodes.url}/evm` },
      { chain: 'evm', network: 'big', chain_id: 31337, url: `${nodes.url}/evm-big` },
      { chain: 'bitcoin', network: 'mainnet', url: `${nodes.url}/btc` },
      { chain: 'solana', network: 'mainnet', url: `${nodes.url}/sol` },
      { chain: 'tron', network: 'mainnet', url: `${nodes.url}/tron` },
      { chain: 'tron', network: 'nile', url: `${nodes.url}/tron-down` },
      { chain: 'ton', network: 'mainnet', url: `${nodes.url}/ton` },
    ];
    for (const e of endpoints) {
      const r = await inPage(p, 'PUT', '/api/admin/wallet/endpoints', e);
      assert.ok(r.status < 300, JSON.stringify(r));
    }
    await p.getByTestId('wallet-refresh').click();
    const shown = await shownAddresses(p); // account 1
    const balance = async (c, n) => {
      const el = p.getByTestId(`wallet-balance-${c}-${n}`);
      await p.waitForFunction((e) => e && e.textContent !== 'Loading…', await el.elementHandle());
      return (await el.textContent()).trim();
    };
    assert.equal(await balance('evm', 'sepolia'), '1.5 ETH');
    assert.equal(await balance('evm', 'big'), '115792089237316195423570985008687907853269984665640564039457.584007913129639935 ETH');
    assert.equal(await balance('bitcoin', 'mainnet'), '1 BTC (+0.000025 BTC unconfirmed)');
    assert.equal(await balance('solana', 'mainnet'), '2.5 SOL');
    assert.equal(await balance('tron', 'mainnet'), '1.234567 TRX');
    assert.equal(await balance('ton', 'mainnet'), '1.000000001 TON');
    assert.equal(await balance('tron', 'nile'), 'Unavailable');
    assert.match(await p.getByTestId('wallet-balances-tron').textContent(), /The balance could not be read/);
    // What each node was asked: the documented call, for this account's address.
    const asked = (prefix) => nodes.seen.filter((r) => r.path.startsWith(prefix));
    assert.deepEqual(asked('/evm').map((r) => r.body), [
      { jsonrpc: '2.0', id: 1, method: 'eth_getBalance', params: [shown.evm, 'latest'] },
      { jsonrpc: '2.0', id: 1, method: 'eth_getBalance', params: [shown.evm, 'latest'] },
    ]);
    assert.deepEqual(asked('/btc').map((r) => [r.method, r.path]), [['GET', `/btc/address/${shown.bitcoin}`]]);
    assert.deepEqual(asked('/sol').map((r) => [r.body.method, r.body.params]), [['getBalance', [shown.solana, { commitment: 'confirmed' }]]]);
    assert.deepEqual(asked('/tron/').map((r) => [r.method, r.body]), [['POST', { address: shown.tron, visible: true }]]);
    assert.deepEqual(asked('/ton').map((r) => [r.method, r.path, r.query]), [['GET', '/ton/getAddressBalance', { address: shown.ton }]]);
    await shot(p, 'wallet-05-balances');
  });

  let anvil;
  await t.test('send ETH on anvil: the confirmation screen is the signed bytes decoded; the node\'s balances change', async () => {
    anvil = await startAnvil();
    t.after(() => anvil.stop());
    assert.equal((await inPage(p, 'PUT', '/api/admin/wallet/endpoints', { chain: 'evm', network: 'anvil', chain_id: 31337, url: anvil.url })).status, 200);
    const from = (await shownAddresses(p)).evm; // account 1
    const to = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'; // anvil's second account
    await anvil.rpc('anvil_setBalance', [from, '0x8ac7230489e80000']); // 10 ETH
    const toBefore = BigInt(await anvil.rpc('eth_getBalance', [to, 'latest']));
    await p.getByTestId('wallet-refresh').click();
    await p.getByTestId('wallet-send-evm').click();
    await p.getByTestId('wallet-send-network').selectOption('anvil');
    await p.getByTestId('wallet-send-to').fill(to);
    // More than the account holds: the node refuses the signed transaction, and the page says
    // why in plain words.
    await p.getByTestId('wallet-send-amount').fill('100');
    await p.getByTestId('wallet-send-review').click();
    await p.getByTestId('wallet-send-confirmation').waitFor();
    assert.equal((await p.getByTestId('wallet-send-amount-shown').textContent()).trim(), '100 ETH');
    await p.getByTestId('wallet-send-confirm').click();
    await p.getByText('Not sent', { exact: true }).waitFor();
    await p.getByText(/^Not enough funds to pay the amount and the network fee\. Nothing was sent\./).waitFor();
    assert.equal(await anvil.rpc('eth_getTransactionCount', [from, 'pending']), '0x0');
    await p.getByRole('button', { name: 'Start again' }).click();
    await p.getByTestId('wallet-send-network').selectOption('anvil');
    await p.getByTestId('wallet-send-to').fill(to);
    await p.getByTestId('wallet-send-amount').fill('0.25');
    await p.getByTestId('wallet-send-review').click();
    await p.getByTestId('wallet-send-confirmation').waitFor();
    const shownFact = async (id) => (await p.getByTestId(id).textContent()).trim();
    assert.equal(await shownFact('wallet-send-chain'), 'anvil (chain id 31337)');
    assert.equal(await shownFact('wallet-send-from'), from);
    assert.equal(await shownFact('wallet-send-recipient'), to);
    assert.equal(await shownFact('wallet-send-amount-shown'), '0.25 ETH');
    assert.equal(await shownFact('wallet-send-nonce'), '0');
    const fee = await shownFact('wallet-send-fee');
    assert.match(fee, /^[0-9.]+ ETH \(gas limit 21000 × [0-9.]+ ETH per gas, tip [0-9.]+ ETH\)$/);
    await shot(p, 'wallet-06-send-confirm');
    const before = (await p.evaluate(() => window.__prfCopies)).length;
    await p.getByTestId('wallet-send-confirm').click();
    await p.getByText('Confirmed', { exact: true }).waitFor({ timeout: 60000 });
    assert.equal((await p.evaluate(() => window.__prfCopies)).length, before + 1, 'the signature was its own passkey ceremony');
    const hash = await shownFact('wallet-send-hash');
    // The node: the transaction is the one shown, mined, and the balances moved by it.
    const tx = await anvil.rpc('eth_getTransactionByHash', [hash]);
    assert.equal(tx.from.toLowerCase(), from.toLowerCase());
    assert.equal(tx.to.toLowerCase(), to.toLowerCase());
    assert.equal(BigInt(tx.value), 250000000000000000n);
    assert.equal(BigInt(tx.nonce), 0n);
    assert.equal(BigInt(tx.chainId), 31337n);
    const receipt = await anvil.rpc('eth_getTransactionReceipt', [hash]);
    assert.equal(receipt.status, '0x1');
    const paid = BigInt(receipt.gasUsed) * BigInt(receipt.effectiveGasPrice);
    assert.equal(BigInt(await anvil.rpc('eth_getBalance', [to, 'latest'])), toBefore + 250000000000000000n);
    assert.equal(BigInt(await anvil.rpc('eth_getBalance', [from, 'latest'])), 10000000000000000000n - 250000000000000000n - paid);
    // The fee shown was the most it could cost.
    assert.ok(paid <= BigInt(tx.gas) * BigInt(tx.maxFeePerGas));
    await shot(p, 'wallet-07-sent');
    await p.getByRole('link', { name: 'Back to the wallet' }).first().click();
    const after = p.getByTestId('wallet-balance-evm-anvil');
    await p.waitForFunction((e) => e && e.textContent !== 'Loading…', await after.elementHandle());
    const { own: api } = await loadWallet();
    assert.equal((await after.textContent()).trim(), `${api.formatUnits((10000000000000000000n - 250000000000000000n - paid).toString(), 18)} ETH`);
  });

  await t.test('ERC-20 on anvil: tokens listed and added by address show the contract\'s own symbol and balance; a token send moves exactly the amount', async () => {
    const from = (await shownAddresses(p)).evm; // account 1
    const to = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
    const supply = 1000n * 10n ** 18n;
    const token = await deployToken(anvil, 'Test Token', 'TKN', supply, from);
    const listed = await deployToken(anvil, 'Listed Token', 'LST', 5n * 10n ** 17n, from);
    // The admin lists LST with the wrong symbol and decimals: the page shows the contract's.
    assert.equal((await inPage(p, 'POST', '/api/admin/wallet/tokens', { chain: 'evm', network: 'anvil', contract: listed, symbol: 'WRONG', decimals: 6 })).status < 300, true);
    await p.getByTestId('wallet-refresh').click();
    const id = (c) => `anvil-${c.toLowerCase()}`;
    const balanceText = async (c) => {
      const el = p.getByTestId(`wallet-token-balance-${id(c)}`);
      await el.waitFor();
      await p.waitForFunction((e) => e && e.textContent !== 'Loading…', await el.elementHandle());
      return (await el.textContent()).trim();
    };
    assert.equal(await balanceText(listed), '0.5 LST');
    // Adding an address that holds no token contract is refused, plainly; nothing is kept.
    await p.locator('summary', { hasText: 'Add a token by its contract address' }).click();
    await p.getByTestId('wallet-token-network').selectOption('anvil');
    await p.getByTestId('wallet-token-contract').fill(to);
    await p.getByTestId('wallet-token-add').click();
    await p.getByText(/There is no token contract at this address on this network/).waitFor();
    assert.equal(await p.evaluate(() => Object.keys(localStorage).filter((k) => k.includes(':tokens:')).length), 0);
    // The real token, added by its address: symbol and decimals from the contract.
    await p.getByTestId('wallet-token-contract').fill(token);
    await p.getByTestId('wallet-token-add').click();
    assert.equal(await balanceText(token), '1000 TKN');
    assert.equal(await balanceText(listed), '0.5 LST');
    const kept = await p.evaluate(() => Object.entries(localStorage).filter(([k]) => k.includes(':tokens:')));
    assert.equal(kept.length, 1);
    assert.deepEqual(JSON.parse(kept[0][1]), [{ network: 'anvil', contract: token }], 'only the public contract address is kept');
    await shot(p, 'wallet-08-tokens');

    await p.getByTestId(`wallet-token-send-${id(token)}`).click();
    assert.equal((await p.getByTestId('wallet-send-token').textContent()).trim(), 'TKN (18 decimals, read from the contract)');
    await shot(p, 'wallet-17-token-send-form');
    await p.getByTestId('wallet-send-to').fill(to);
    // More than the account holds: the token refuses the call when the node estimates its gas,
    // before anything is signed; the page says so plainly.
    const tries = (await p.evaluate(() => window.__prfCopies)).length;
    await p.getByTestId('wallet-send-amount').fill('1000.5');
    await p.getByTestId('wallet-send-review').click();
    await p.getByText(/^Not enough of this token to send that amount\. Nothing was signed\./).waitFor();
    assert.equal(await p.getByTestId('wallet-send-confirmation').count(), 0);
    assert.equal((await p.evaluate(() => window.__prfCopies)).length, tries, 'no passkey ceremony');
    await p.getByTestId('wallet-send-amount').fill('12.5');
    await p.getByTestId('wallet-send-review').click();
    await p.getByTestId('wallet-send-confirmation').waitFor();
    const shownFact = async (tid) => (await p.getByTestId(tid).textContent()).trim();
    assert.equal(await shownFact('wallet-send-chain'), 'anvil (chain id 31337)');
    assert.equal(await shownFact('wallet-send-from'), from);
    assert.equal((await shownFact('wallet-send-token-contract')).toLowerCase(), token.toLowerCase());
    assert.equal(await shownFact('wallet-send-recipient'), to, 'the recipient decoded from the transfer call');
    assert.equal(await shownFact('wallet-send-amount-shown'), '12.5 TKN');
    const fee = await shownFact('wallet-send-fee');
    const m = fee.match(/^([0-9.]+) ETH \(gas limit (\d+) × ([0-9.]+) ETH per gas, tip [0-9.]+ ETH\)$/);
    assert.ok(m, fee);
    assert.ok(Number(m[2]) > 21000, 'the gas limit is the node\'s estimate for the token call');
    await shot(p, 'wallet-09-token-confirm');
    const before = (await p.evaluate(() => window.__prfCopies)).length;
    await p.getByTestId('wallet-send-confirm').click();
    await p.getByText('Confirmed', { exact: true }).waitFor({ timeout: 60000 });
    assert.equal((await p.evaluate(() => window.__prfCopies)).length, before + 1, 'its own passkey ceremony');
    const hash = await shownFact('wallet-send-hash');
    const tx = await anvil.rpc('eth_getTransactionByHash', [hash]);
    assert.equal(tx.to.toLowerCase(), token.toLowerCase());
    assert.equal(BigInt(tx.value), 0n);
    assert.equal(BigInt(tx.gas), BigInt(m[2]), 'the gas limit shown is the one signed');
    const call = ERC20.parseTransaction({ data: tx.input });
    assert.equal(call.name, 'transfer');
    assert.equal(call.args[0], to);
    assert.equal(call.args[1], 12500000000000000000n);
    // The node: exactly the amount moved.
    assert.equal(await balanceOf(anvil, token, to), 12500000000000000000n);
    assert.equal(await balanceOf(anvil, token, from), supply - 12500000000000000000n);
    await p.getByRole('link', { name: 'Back to the wallet' }).first().click();
    assert.equal(await balanceText(token), '987.5 TKN');
    // The history (docs/wallet.md "History"): anvil's real Transfer logs and this browser's
    // broadcasts with their receipts — the token send once, the ETH send, the supply received.
    const sent = await p.evaluate(() => Object.entries(localStorage).filter(([k]) => k.startsWith('blindvault:wallet:evm-sent:')).map(([, v]) => JSON.parse(v)));
    assert.deepEqual(sent[0].map((x) => [x.network, x.hash]).slice(-1), [['anvil', hash]], 'the broadcast hash is kept (public)');
    await p.getByTestId('wallet-history-evm').click();
    await p.getByTestId('wallet-history-list').waitFor();
    const entry = (id) => p.locator(`li[data-id="${id}"]`);
    const fact = async (id, tid) => (await entry(id).getByTestId(tid).textContent()).trim();
    assert.equal(await entry(hash).count(), 1, 'the token send is one entry (its log and its broadcast)');
    assert.equal(await fact(hash, 'wallet-history-amount'), '−12.5 TKN');
    assert.equal(await fact(hash, 'wallet-history-status'), 'Confirmed');
    assert.equal(await fact(hash, 'wallet-history-counterparty'), `To ${to}`);
    assert.match(await fact(hash, 'wallet-history-fee'), /^Network fee [0-9.]+ ETH$/);
    const ethSend = sent[0].find((x) => x.hash !== hash).hash;
    assert.equal(await fact(ethSend, 'wallet-history-amount'), '−0.25 ETH');
    assert.equal(await fact(ethSend, 'wallet-history-counterparty'), `To ${to}`);
    assert.match(await p.getByTestId('wallet-history').textContent(), /\+1000 TKN/, 'the supply minted to this address, from its Transfer log');
    await shot(p, 'wallet-25-history-anvil');
    await p.getByRole('link', { name: 'Back to the wallet' }).first().click();
  });

  await t.test('lock: every address is gone from the page', async () => {
    const shown = await shownAddresses(p);
    await p.getByTestId('wallet-lock').click();
    await p.getByTestId('wallet-locked').waitFor();
    const html = await p.evaluate(() => document.documentElement.outerHTML);
    for (const a of [...Object.values(shown), ...Object.values(addresses)]) {
      assert.ok(!html.includes(a), `${a} is still in the DOM`);
    }
    // The locked view remembers the account last opened (public), not the addresses.
    assert.equal(await p.getByTestId('wallet-account').inputValue(), '1');
  });

  await t.test('auto-lock after the idle time the person chose, on the page\'s clock', async () => {
    await p.locator('summary', { hasText: 'Options' }).click();
    assert.equal(await p.getByTestId('wallet-autolock').inputValue(), '5', 'five minutes by default');
    await p.getByTestId('wallet-autolock').selectOption('2');
    assert.equal(await p.evaluate(() => localStorage.getItem('blindvault:wallet:autolock-minutes')), '2');
    await p.getByTestId('wallet-account').fill('0');
    await p.getByTestId('wallet-unlock').click();
    await p.getByTestId('wallet-unlocked').waitFor();
    // Activity keeps it open: 90 s idle, a key press, 90 s more (3 min in all).
    await p.clock.fastForward(90_000);
    await p.keyboard.press('Shift');
    await p.clock.fastForward(90_000);
    assert.equal(await p.getByTestId('wallet-unlocked').count(), 1, 'still open: it was used 90 s ago');
    await p.clock.fastForward(31_000);
    await p.getByTestId('wallet-auto-locked').waitFor();
    assert.equal(await p.getByTestId('wallet-addresses').count(), 0);
    const html = await p.evaluate(() => document.documentElement.outerHTML);
    for (const a of Object.values(addresses)) assert.ok(!html.includes(a), `${a} is still in the DOM`);
    assert.match(await p.getByTestId('wallet-auto-locked').textContent(), /Locked after 2 minutes without activity/);
    await shot(p, 'wallet-04-auto-locked');
  });

  assert.deepEqual(me.errors, []);
});
