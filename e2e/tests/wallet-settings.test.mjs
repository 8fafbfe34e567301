// The wallet's settings page end to end (#/wallet/settings): the recovery phrase (a passkey
// ceremony of its own, the words the wallet crate gives for the authenticator's PRF output, gone
// from the page when hidden, left or locked, never stored or sent), the accounts, the auto-lock
// time; and, in the browser, the wallet module's WebAssembly memory scanned after a signature,
// after the phrase was shown and after lock for every secret of the wallet (derived
// independently in Node: e2e/tests/chains/lib.mjs): none is there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, cli, launch, device, shot, DESKTOP, recordPrf } from './lib.mjs';
import { loadWallet, secretsOf } from './chains/lib.mjs';


/** Scans the page's wallet module memory (the very instance the page uses: the same module URL,
 * whose init returns the running instance) for each secret, whole and its first 16 bytes. */
async function scanWasm(p, secrets, plant = null) {
  return p.evaluate(async ([list, planted]) => {
    const m = await import('/wallet-pkg/blindvault_wallet_wasm.js');
    const exports = await m.default();
    const bytes = new Uint8Array(exports.memory.buffer);
    const fromHex = (x) => Uint8Array.from(x.match(/../g).map((b) => parseInt(b, 16)));
    if (planted) bytes.set(fromHex(planted), 4096); // unused low stack (the positive control)
    // windows-1252 maps each byte to its own character: a byte search as a string search.
    const dec = new TextDecoder('windows-1252');
    const hay = dec.decode(bytes);
    const found = [];
    for (const { name, hex } of list) {
      const whole = fromHex(hex);
      for (const [what, needle] of [['whole', whole], ['first 16 bytes', whole.subarray(0, 16)]]) {
        const at = hay.indexOf(dec.decode(needle));
        if (at >= 0) found.push(`${name} (${what}) at ${at}`);
      }
    }
    if (planted) bytes.fill(0, 4096, 4096 + planted.length / 2);
    // The module was fetched and instantiated once: this is the instance the page signs with.
    const fetches = performance.getEntriesByType('resource').filter((e) => e.name.endsWith('/wallet-pkg/blindvault_wallet_wasm_bg.wasm')).length;
    return { found, size: bytes.length, fetches };
  }, [secrets.map((s) => ({ name: s.name, hex: s.bytes.toString('hex') })), plant]);
}

test('wallet settings: the recovery phrase, accounts and auto-lock; no secret left in the module\'s memory', async (t) => {
  const server = await startServer();
  const browser = await launch();
  t.after(async () => {
    await browser.close();
    server.stop();
    server.cleanup();
  });
  const me = await device(browser, { viewport: DESKTOP });
  const p = me.page;
  await p.addInitScript(recordPrf);
  const copies = () => p.evaluate(() => window.__prfCopies.length);
  const html = () => p.evaluate(() => document.documentElement.outerHTML);
  const posted = [];
  p.on('request', (r) => { if (r.method() !== 'GET') posted.push(r.postData() || ''); });

  let prf;
  let secrets;
  await t.test('sign up, unlock, open the settings: the phrase is not in the page until asked for', async () => {
    await p.goto(`${server.url}/#/signup/${encodeURIComponent(server.code)}`);
    await p.getByLabel('User name').fill('pat');
    await p.getByTestId('signup').click();
    await p.getByRole('link', { name: 'Wallet' }).click();
    await p.getByTestId('wallet-unlock').click();
    await p.getByTestId('wallet-unlocked').waitFor();
    prf = (await p.evaluate(() => window.__prfCopies)).at(-1);
    secrets = secretsOf(Uint8Array.from(prf));
    await p.getByTestId('wallet-go-settings').click();
    await p.getByTestId('wallet-phrase-card').waitFor();
    assert.match(await p.getByTestId('wallet-phrase-warning').textContent(), /Anyone who sees these words can take everything in this wallet/);
    assert.equal(await p.getByTestId('wallet-phrase').count(), 0);
    assert.ok(!(await html()).includes(secrets.mnemonic.split(' ').slice(0, 3).join('')));
    await shot(p, 'wallet-13-settings');
  });

  await t.test('show: a passkey ceremony of its own, and the words are the wallet crate\'s mnemonic for this PRF output', async () => {
    const before = await copies();
    await p.getByTestId('wallet-phrase-show').click();
    await p.getByTestId('wallet-phrase').waitFor();
    assert.equal(await copies(), before + 1, 'a fresh passkey ceremony');
    assert.deepEqual((await p.evaluate(() => window.__prfCopies)).at(-1), prf, 'the same passkey');
    const words = await p.getByTestId('wallet-phrase').locator('.word').allTextContents();
    assert.equal(words.length, 24);
    // The BIP-39 words of the key schedule's wallet entropy, derived in Node (HKDF-SHA256 and
    // the BIP-39 list) — and the native crate, given those words, derives the page's addresses.
    assert.equal(words.join(' '), secrets.mnemonic);
    const { own: api } = await loadWallet();
    assert.deepEqual(api.walletRecoveryPhrase(Uint8Array.from(prf)).words, words, 'the wallet module in Node gives the same words');
    const native = JSON.parse(await cli(server, ['wallet', 'addresses', '--chain', 'evm', '--format', 'json'], `${words.join(' ')}\n`));
    assert.equal(native[0].address, api.walletAddresses(Uint8Array.from(prf), 0)[0].address);
    // Never stored, never sent.
    const stored = await p.evaluate(() => JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage)]));
    for (const w of [secrets.mnemonic, words.slice(0, 2).join(' ')]) {
      assert.ok(!stored.includes(w), 'not in localStorage or sessionStorage');
      assert.ok(!posted.some((b) => b.includes(w)), 'not in any request');
    }
    await shot(p, 'wallet-14-recovery-phrase');
  });

  const phraseGone = async (why) => {
    const page = await html();
    for (const w of [secrets.mnemonic, secrets.mnemonic.split(' ').slice(0, 2).join(' ')]) assert.ok(!page.includes(w), `${why}: the phrase is gone from the DOM`);
    assert.equal(await p.getByTestId('wallet-phrase').count(), 0, why);
  };

  await t.test('hidden again by Hide, by a hidden tab, by leaving the page, and by Lock', async () => {
    await p.getByTestId('wallet-phrase-hide').click();
    await phraseGone('hide');
    // The tab hidden (another tab, the phone's app switcher): the words go.
    await p.getByTestId('wallet-phrase-show').click();
    await p.getByTestId('wallet-phrase').waitFor();
    await p.evaluate(() => {
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
      document.dispatchEvent(new Event('visibilitychange'));
      delete document.visibilityState;
    });
    await phraseGone('tab hidden');
    await p.getByTestId('wallet-phrase-show').click();
    await p.getByTestId('wallet-phrase').waitFor();
    await p.getByRole('link', { name: 'Back to the wallet' }).click();
    await p.getByTestId('wallet-unlocked').waitFor();
    await phraseGone('leave');
    await p.getByTestId('wallet-go-settings').click();
    await p.getByTestId('wallet-phrase-card').waitFor();
    assert.equal(await p.getByTestId('wallet-phrase').count(), 0, 'hidden when the page is opened again');
    await p.getByTestId('wallet-phrase-show').click();
    await p.getByTestId('wallet-phrase').waitFor();
    await p.getByTestId('wallet-lock').click();
    await p.getByTestId('wallet-locked').waitFor();
    await phraseGone('lock');
  });

  await t.test('lock, and the keys are gone from WebAssembly memory: after a signature, after the phrase, after lock', async () => {
    // The scan works: a secret put in the module's memory is found.
    const seed = secrets.list.find((s) => s.name === 'BIP-39 seed').bytes;
    const control = await scanWasm(p, secrets.list, seed.subarray(0, 16).toString('hex'));
    assert.deepEqual(control.found, ['BIP-39 seed (first 16 bytes) at 4096']);
    assert.ok(control.size >= 1 << 20);
    assert.equal(control.fetches, 1, 'the page\'s own instance of the module');
    assert.deepEqual((await scanWasm(p, secrets.list)).found, []);
    assert.ok(secrets.list.length >= 60, `${secrets.list.length} secrets`);
    // Unlock and sign a message.
    await p.goto(`${server.url}/#/wallet`);
    await p.getByTestId('wallet-unlock').click();
    await p.getByTestId('wallet-unlocked').waitFor();
    await p.getByTestId('wallet-go-sign').click();
    await p.getByTestId('wallet-sign-input').fill('memory check');
    await p.getByTestId('wallet-sign-review').click();
    await p.getByTestId('wallet-sign-confirm').click();
    await p.getByTestId('wallet-sign-done').waitFor();
    assert.deepEqual((await scanWasm(p, secrets.list)).found, [], 'after a signature');
    await p.goto(`${server.url}/#/wallet/settings`);
    await p.getByTestId('wallet-phrase-show').click();
    await p.getByTestId('wallet-phrase').waitFor();
    assert.deepEqual((await scanWasm(p, secrets.list)).found, [], 'after the phrase was shown (the words live only in the page)');
    await p.getByTestId('wallet-lock').click();
    await p.getByTestId('wallet-locked').waitFor();
    const afterLock = await scanWasm(p, secrets.list);
    assert.deepEqual(afterLock.found, [], 'after lock');
    assert.equal(afterLock.fetches, 1);
    await phraseGone('lock');
  });

  await t.test('accounts: the ones opened, each opened by a passkey ceremony; the auto-lock time', async () => {
    await p.goto(`${server.url}/#/wallet`);
    await p.getByTestId('wallet-unlock').click();
    await p.getByTestId('wallet-unlocked').waitFor();
    await p.getByTestId('wallet-go-settings').click();
    await p.getByTestId('wallet-settings-account').fill('1');
    const before = await copies();
    await p.getByTestId('wallet-settings-open').click();
    await p.waitForFunction(() => document.querySelector('[data-testid="wallet-settings-open-account"]')?.textContent === 'Account 1');
    assert.equal(await copies(), before + 1);
    assert.equal(await p.getByTestId('wallet-settings-open-account').textContent(), 'Account 1');
    const { own: api } = await loadWallet();
    for (const n of [0, 1]) {
      const row = p.getByTestId(`wallet-account-row-${n}`);
      assert.match(await row.textContent(), new RegExp(`Account ${n}`));
      assert.ok((await row.textContent()).includes(api.walletAddresses(Uint8Array.from(prf), n)[0].address), `account ${n}'s EVM address`);
    }
    assert.match(await p.getByTestId('wallet-account-row-1').textContent(), /open/);
    await p.getByTestId('wallet-autolock').selectOption('15');
    assert.equal(await p.evaluate(() => localStorage.getItem('blindvault:wallet:autolock-minutes')), '15');
    await shot(p, 'wallet-15-accounts');
    await p.getByTestId('wallet-account-open-0').click();
    await p.waitForFunction(() => document.querySelector('[data-testid="wallet-settings-open-account"]')?.textContent === 'Account 0');
    assert.equal(await copies(), before + 2);
    await p.getByRole('link', { name: 'Back to the wallet' }).click();
    assert.equal(await p.getByTestId('wallet-account-shown').textContent(), 'Account 0');
  });

  assert.deepEqual(me.errors, []);
});
