// The wallet's "Sign a message" page end to end (#/wallet/sign): a real server, Chromium with the
// virtual authenticator (PRF), the production wallet module. Every signature the page shows is
// checked with a library that is not the wallet: npm `ethers` (EIP-191 `verifyMessage`, EIP-712
// `verifyTypedData`, TIP-191 recovered with its keccak256 and secp256k1) and Node's own ed25519
// (the Solana off-chain message).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, verify } from 'node:crypto';
import { TypedDataEncoder, concat, encodeBase58, getBytes, keccak256, recoverAddress, sha256, toUtf8Bytes, verifyMessage, verifyTypedData } from 'ethers';
import { getAddressEncoder } from '@solana/kit';
import { startServer, launch, device, shot, DESKTOP } from './lib.mjs';

/** Counts the passkey ceremonies the page runs (each signature must be one of its own). */
function countCeremonies() {
  const get = navigator.credentials.get.bind(navigator.credentials);
  window.__ceremonies = 0;
  navigator.credentials.get = async (o) => { window.__ceremonies += 1; return get(o); };
}

// EIP-712's own example ("Mail"), as dapps send it to eth_signTypedData_v4.
const MAIL = {
  types: {
    EIP712Domain: [{ name: 'name', type: 'string' }, { name: 'version', type: 'string' }, { name: 'chainId', type: 'uint256' }, { name: 'verifyingContract', type: 'address' }],
    Person: [{ name: 'name', type: 'string' }, { name: 'wallet', type: 'address' }],
    Mail: [{ name: 'from', type: 'Person' }, { name: 'to', type: 'Person' }, { name: 'contents', type: 'string' }],
  },
  primaryType: 'Mail',
  domain: { name: 'Ether Mail', version: '1', chainId: 1, verifyingContract: '0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC' },
  message: {
    from: { name: 'Cow', wallet: '0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826' },
    to: { name: 'Bob', wallet: '0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB' },
    contents: 'Hello, Bob!',
  },
};

/** The TRON address of an EVM address: base58check of 0x41 ‖ the 20 bytes. */
function tronAddress(evm) {
  const raw = concat(['0x41', evm]);
  return encodeBase58(concat([raw, getBytes(sha256(sha256(raw))).slice(0, 4)]));
}

/** The signer of a TIP-191 signature (TronWeb's verifyMessageV2), with ethers' primitives. */
function tronSigner(message, signature) {
  const bytes = typeof message === 'string' ? toUtf8Bytes(message) : message;
  const hash = keccak256(concat([toUtf8Bytes(`\x19TRON Signed Message:\n${bytes.length}`), bytes]));
  return tronAddress(recoverAddress(hash, signature));
}

test('sign messages: what is shown is what is signed, and every signature recovers to the wallet\'s address', async (t) => {
  const server = await startServer();
  const browser = await launch();
  t.after(async () => {
    await browser.close();
    server.stop();
    server.cleanup();
  });
  const me = await device(browser, { viewport: DESKTOP });
  const p = me.page;
  await me.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
  await p.addInitScript(countCeremonies);
  const ceremonies = () => p.evaluate(() => window.__ceremonies);
  const text = async (id) => (await p.getByTestId(id).textContent()).trim();

  const addr = {};
  await t.test('sign up and unlock', async () => {
    await p.goto(`${server.url}/#/signup/${encodeURIComponent(server.code)}`);
    await p.getByLabel('User name').fill('sam');
    await p.getByTestId('signup').click();
    await p.getByRole('link', { name: 'Wallet' }).click();
    await p.getByTestId('wallet-unlock').click();
    await p.getByTestId('wallet-unlocked').waitFor();
    for (const c of ['evm', 'solana', 'tron']) addr[c] = await text(`wallet-address-${c}`);
    await p.getByTestId('wallet-go-sign').click();
    await p.getByTestId('wallet-sign-input').waitFor();
    await p.getByTestId('wallet-sign-kind').selectOption('typed');
    await shot(p, 'wallet-16-sign-form');
  });

  /** Fills the form, reviews, signs with a passkey ceremony of its own: the signature. */
  async function sign(kind, input, { format = 'text', screenshot = null, check = async () => {} } = {}) {
    await p.getByTestId('wallet-sign-kind').selectOption(kind);
    if (format !== 'text') await p.getByTestId('wallet-sign-format').selectOption(format);
    await p.getByTestId('wallet-sign-input').fill(input);
    await p.getByTestId('wallet-sign-review').click();
    await p.getByTestId('wallet-sign-review-card').waitFor();
    await check();
    if (screenshot) await shot(p, screenshot);
    const before = await ceremonies();
    await p.getByTestId('wallet-sign-confirm').click();
    await p.getByTestId('wallet-sign-done').waitFor();
    assert.equal(await ceremonies(), before + 1, 'the signature was its own passkey ceremony');
    const signature = await text('wallet-sign-signature');
    const address = await text('wallet-sign-address');
    return { signature, address };
  }

  const again = async () => {
    await p.goto(`${server.url}/#/wallet`);
    await p.getByTestId('wallet-go-sign').click();
    await p.getByTestId('wallet-sign-input').waitFor();
  };

  await t.test('EIP-191 personal_sign of text: shown as it is, verified by ethers.verifyMessage', async () => {
    const message = 'Sign in to example.org\nNonce: 42 ✓';
    const sig = await sign('personal', message, {
      screenshot: 'wallet-10-sign-message',
      check: async () => {
        assert.equal(await p.getByTestId('wallet-sign-text').textContent(), message, 'the text exactly, newline included');
        assert.equal(await text('wallet-sign-by'), addr.evm);
        assert.equal(await text('wallet-sign-length'), `${Buffer.byteLength(message)} bytes`);
      },
    });
    assert.equal(sig.address, addr.evm);
    assert.equal(verifyMessage(message, sig.signature), addr.evm);
    await p.getByTestId('wallet-sign-copy').click();
    assert.equal(await p.evaluate(() => navigator.clipboard.readText()), sig.signature);
    await shot(p, 'wallet-12-signed');
  });

  await t.test('EIP-191 of bytes that are not text: shown as hex, signed as those bytes', async () => {
    await again();
    const sig = await sign('personal', '0xdeadbeef00ff', {
      format: 'hex',
      check: async () => {
        assert.equal(await text('wallet-sign-hex'), '0xdeadbeef00ff');
        assert.equal(await p.getByTestId('wallet-sign-text').count(), 0);
        assert.equal(await text('wallet-sign-length'), '6 bytes');
      },
    });
    assert.equal(verifyMessage(getBytes('0xdeadbeef00ff'), sig.signature), addr.evm);
  });

  await t.test('EIP-712: domain, primary type and nested fields shown decoded; ethers.verifyTypedData recovers the address', async () => {
    await again();
    const sig = await sign('typed', JSON.stringify(MAIL, null, 2), {
      screenshot: 'wallet-11-sign-typed',
      check: async () => {
        assert.equal(await text('wallet-sign-domain-name'), 'Ether Mail');
        assert.equal(await text('wallet-sign-domain-version'), '1');
        assert.equal(await text('wallet-sign-domain-chain'), '1 (Ethereum mainnet)');
        assert.equal(await text('wallet-sign-domain-contract'), '0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC');
        assert.equal(await text('wallet-sign-primary-type'), 'Mail');
        const fields = p.getByTestId('wallet-sign-fields');
        const from = fields.locator('li[data-field="from"]');
        assert.match(await from.textContent(), /^from Person.*name string\s*Cow.*wallet address\s*0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826/s);
        assert.match(await fields.locator('li[data-field="contents"]').textContent(), /contents string\s*Hello, Bob!/);
        const { EIP712Domain, ...types } = MAIL.types;
        assert.equal(await text('wallet-sign-hash'), TypedDataEncoder.hash(MAIL.domain, types, MAIL.message));
      },
    });
    const { EIP712Domain, ...types } = MAIL.types;
    assert.equal(verifyTypedData(MAIL.domain, types, MAIL.message, sig.signature), addr.evm);
  });

  await t.test('typed data for another chain, and JSON that is not typed data: a plain error, nothing signed', async () => {
    await again();
    const before = await ceremonies();
    await p.getByTestId('wallet-sign-kind').selectOption('typed');
    await p.getByTestId('wallet-sign-input').fill(JSON.stringify({ ...MAIL, domain: { ...MAIL.domain, chainId: 5 } }));
    await p.getByTestId('wallet-sign-review').click();
    await p.getByText('This typed data is for chain id 5, not Ethereum mainnet (chain id 1). Nothing was signed.').waitFor();
    await shot(p, 'wallet-18-sign-wrong-chain');
    assert.equal(await p.getByTestId('wallet-sign-review-card').count(), 0);
    await p.getByTestId('wallet-sign-input').fill('{"types": {"Mail": [');
    await p.getByTestId('wallet-sign-review').click();
    await p.getByText(/^This is not EIP-712 typed data that can be shown: .*Nothing was signed\.$/).waitFor();
    await p.getByTestId('wallet-sign-input').fill(JSON.stringify({ ...MAIL, message: { ...MAIL.message, to: { name: 'Bob', wallet: '0x12' } } }));
    await p.getByTestId('wallet-sign-review').click();
    await p.getByText(/^This is not EIP-712 typed data that can be shown: /).waitFor();
    assert.equal(await ceremonies(), before, 'no passkey ceremony');
  });

  await t.test('TRON TIP-191: recovered with ethers\' keccak256 and secp256k1 to the page\'s TRON address', async () => {
    await again();
    const message = 'TRON says hello';
    const sig = await sign('tron', message, { check: async () => assert.equal(await text('wallet-sign-by'), addr.tron) });
    assert.equal(sig.address, addr.tron);
    assert.equal(tronSigner(message, sig.signature), addr.tron);
    await again();
    const hexSig = await sign('tron', '0x00ff10', { format: 'hex' });
    assert.equal(tronSigner(getBytes('0x00ff10'), hexSig.signature), addr.tron);
  });

  await t.test('Solana off-chain message: the bytes signed are the standard header and the text; Node\'s ed25519 verifies', async () => {
    await again();
    const message = 'Solana says hello';
    const sig = await sign('solana', message, { check: async () => assert.equal(await text('wallet-sign-by'), addr.solana) });
    assert.equal(sig.address, addr.solana);
    const signed = Buffer.from(getBytes(await text('wallet-sign-signed-bytes')));
    // "\xffsolana offchain", version 0, format 0 (restricted ASCII), length u16 LE, the text.
    const header = Buffer.concat([Buffer.from('\xffsolana offchain', 'latin1'), Buffer.from([0, 0]), Buffer.from([message.length, 0])]);
    assert.deepEqual(signed, Buffer.concat([header, Buffer.from(message)]));
    const pub = Buffer.from(getAddressEncoder().encode(addr.solana));
    const key = createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), pub]), format: 'der', type: 'spki' });
    const { getBase58Encoder } = await import('@solana/kit');
    const raw = Buffer.from(getBase58Encoder().encode(sig.signature));
    assert.equal(raw.length, 64);
    assert.ok(verify(null, signed, key, raw), 'ed25519 signature over the off-chain message');
    assert.ok(!verify(null, Buffer.from(message), key, raw), 'not over the bare text');
  });

  await t.test('lock: the signing page is gone', async () => {
    await p.goto(`${server.url}/#/wallet`);
    await p.getByTestId('wallet-lock').click();
    await p.getByTestId('wallet-locked').waitFor();
    await p.goto(`${server.url}/#/wallet/sign`);
    await p.getByTestId('wallet-locked').waitFor();
    const html = await p.evaluate(() => document.documentElement.outerHTML);
    for (const a of Object.values(addr)) assert.ok(!html.includes(a), `${a} is still in the DOM`);
  });

  assert.deepEqual(me.errors, []);
});
