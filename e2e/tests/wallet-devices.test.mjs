// Every device of a person opens the same wallet (docs/wallet.md, "More than one device";
// docs/protocol.md §2.1), end to end in Chromium. One browser stands for the person's laptop
// with its own passkey (virtual authenticator A) and, beside it, other authenticators they can
// use from there (a phone over hybrid, a security key: B and C). Which authenticator answers each
// ceremony is decided by the test before the ceremony starts (the others are left waiting for a
// touch that never comes, and are cancelled when one answers):
//
//   sign up with A → unlock (A becomes the origin) → the single-passkey warning → Account, "Add a
//   passkey" answered by B (step-up A, create B, the wallet sealed to B in a ceremony of A) →
//   lock, unlock with B: the same five addresses (B's own would differ) → remove A (step-up B)
//   → B still opens the same addresses, the warning is back → a passkey C added without an
//   envelope (as before this feature) cannot open the wallet and says what to do; removing B
//   names the loss; "Let this passkey open the wallet" lets C in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, device, shot, DESKTOP } from './lib.mjs';
import { loadWallet } from './chains/lib.mjs';

const CHAINS = ['evm', 'bitcoin', 'solana', 'tron', 'ton'];

/** In the page, before any script: every ceremony first asks the test which authenticator may
 * answer (`__beforeCeremony`), and each PRF output the page receives is copied to
 * `window.__prfCopies` (to compare addresses with the wallet module's). */
function hookCeremonies() {
  const enc = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  const create = navigator.credentials.create.bind(navigator.credentials);
  const get = navigator.credentials.get.bind(navigator.credentials);
  window.__prfCopies = [];
  const copy = (cred) => {
    const r = cred.getClientExtensionResults();
    if (r.prf && r.prf.results && r.prf.results.first) window.__prfCopies.push(Array.from(new Uint8Array(r.prf.results.first)));
    return cred;
  };
  navigator.credentials.create = async (o) => {
    await window.__beforeCeremony('create', []);
    const cred = copy(await create(o));
    // Many authenticators evaluate PRF only in assertions: `__prfOnlyLater` makes this one say
    // `prf.enabled` and give no output at creation.
    if (window.__prfOnlyLater) {
      const real = cred.getClientExtensionResults.bind(cred);
      cred.getClientExtensionResults = () => ({ ...real(), prf: { enabled: true } });
    }
    return cred;
  };
  navigator.credentials.get = async (o) => {
    const ids = (o.publicKey.allowCredentials || []).map((c) => enc(c.id));
    await window.__beforeCeremony('get', ids);
    return copy(await get(o));
  };
}

async function shownAddresses(p) {
  const out = {};
  for (const c of CHAINS) out[c] = (await p.getByTestId(`wallet-address-${c}`).textContent()).trim();
  return out;
}

const b64uOf = (b64) => Buffer.from(b64, 'base64').toString('base64url');

/** `fetch` from the page (its session cookie). */
const inPage = (p, method, path, body) => p.evaluate(async ([m, u, b]) => {
  const r = await fetch(u, { method: m, headers: b ? { 'content-type': 'application/json' } : {}, body: b ? JSON.stringify(b) : undefined });
  return { status: r.status, json: await r.json() };
}, [method, path, body]);

test('every passkey of mine opens the same wallet; removing one keeps it; one left is warned about', async (t) => {
  const server = await startServer();
  const browser = await launch();
  t.after(async () => {
    await browser.close();
    server.stop();
    server.cleanup();
  });
  // This test intercepts the module and API answers with page.route: no service worker in between.
  const me = await device(browser, { viewport: DESKTOP, serviceWorkers: 'block' });
  const { page: p, cdp } = me;
  const authenticators = { A: me.authenticatorId };
  const addAuthenticator = async (name) => {
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2', ctap2Version: 'ctap2_1', transport: 'usb', hasResidentKey: true,
        hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: false, hasPrf: true,
      },
    });
    authenticators[name] = authenticatorId;
  };
  // Who answers: `create` → `creator`; a `get` limited to credentials one authenticator holds →
  // that one; otherwise → `preferred`.
  const route = { creator: 'A', preferred: 'A', log: [] };
  const holder = async (ids) => {
    const owners = new Set();
    for (const [name, id] of Object.entries(authenticators)) {
      const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId: id });
      if (credentials.some((c) => ids.includes(b64uOf(c.credentialId)))) owners.add(name);
    }
    return owners.size === 1 ? [...owners][0] : route.preferred;
  };
  await p.exposeFunction('__beforeCeremony', async (kind, ids) => {
    const who = kind === 'create' ? route.creator : (ids.length ? await holder(ids) : route.preferred);
    route.log.push(`${kind}:${who}`);
    for (const [name, id] of Object.entries(authenticators)) {
      await cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId: id, enabled: name === who });
    }
  });
  await p.addInitScript(hookCeremonies);
  const dialogs = [];
  let confirmAnswer = true;
  p.on('dialog', async (d) => {
    dialogs.push({ type: d.type(), message: d.message() });
    if (d.type() === 'prompt') await d.accept(route.promptAnswer || 'phone');
    else if (confirmAnswer) await d.accept();
    else await d.dismiss();
  });
  const { own: wallet } = await loadWallet();
  const ownAddresses = (prf) => Object.fromEntries(wallet.walletAddresses(Uint8Array.from(prf), 0).map((a) => [a.chain, a.address]));
  const lastPrf = () => p.evaluate(() => window.__prfCopies[window.__prfCopies.length - 1]);
  const keyring = async () => (await inPage(p, 'GET', '/api/wallet/keyring')).json;
  const passkeys = async () => (await inPage(p, 'GET', '/api/passkeys')).json.passkeys;

  let addresses;
  let prfA;
  await t.test('sign up and unlock: the first passkey becomes the origin, and is the only one that opens the wallet', async () => {
    await p.goto(`${server.url}/#/signup/${encodeURIComponent(server.code)}`);
    await p.getByLabel('User name').fill('dana');
    await p.getByTestId('signup').click();
    await p.getByRole('link', { name: 'Wallet' }).click();
    await p.getByTestId('wallet-locked').waitFor();
    assert.equal(await p.getByTestId('wallet-single-passkey').count(), 0, 'no warning before any wallet exists');
    // A wallet module that fails to load: the new passkey's PRF output handed to `letIn` is
    // wiped all the same (the module is not loaded yet on this page: its WebAssembly is refused).
    await p.route('**/wallet-pkg/*.wasm', (r) => r.abort());
    const wiped = await p.evaluate(async () => {
      const { letIn } = await import('/js/keyring.js');
      const prf = new Uint8Array(32).fill(7);
      const err = await letIn(async () => { throw new Error('no ceremony expected'); }, 'AAAA', prf).then(() => null, (e) => String(e));
      return { err, prf: Array.from(prf) };
    });
    await p.unroute('**/wallet-pkg/*.wasm');
    assert.ok(wiped.err && !/no ceremony expected/.test(wiped.err), `the module load failed: ${wiped.err}`);
    assert.deepEqual(wiped.prf, new Array(32).fill(0), 'the PRF output is zeros');
    await p.getByTestId('wallet-unlock').click();
    await p.getByTestId('wallet-unlocked').waitFor();
    prfA = await lastPrf();
    addresses = await shownAddresses(p);
    assert.deepEqual(addresses, ownAddresses(prfA), 'the origin opens its own wallet');
    const ring = await keyring();
    const [a] = await passkeys();
    assert.equal(ring.origin.credential_id, a.id);
    assert.deepEqual(ring.envelopes, []);
    const warning = p.getByTestId('wallet-single-passkey');
    await warning.waitFor();
    assert.match(await warning.textContent(), /Only your passkey “first passkey” opens this wallet/);
    assert.match(await warning.textContent(), /recovery phrase/);
    await shot(p, 'wallet-devices-01-one-passkey');
  });

  await t.test('Account, "Add a passkey": the new passkey (B) gets the wallet sealed to it by this device', async () => {
    await addAuthenticator('B');
    route.creator = 'B';
    route.preferred = 'A';
    route.log.length = 0;
    route.promptAnswer = 'phone';
    await p.evaluate(() => { window.__prfOnlyLater = true; });
    // The server's answer names another passkey (A) as the one just added: the page seals to
    // the id the browser reported for the passkey it created (B), never to the server's.
    const [a] = await passkeys();
    await p.route('**/api/passkeys/register/finish', async (r) => {
      const resp = await r.fetch();
      await r.fulfill({ response: resp, json: { ...(await resp.json()), credential_id: a.id } });
    });
    await p.getByRole('link', { name: 'Account' }).click();
    await p.getByTestId('add-passkey').click();
    await p.getByText('phone', { exact: true }).waitFor();
    await p.getByTestId('passkey-opens-wallet').nth(1).waitFor();
    await p.unroute('**/api/passkeys/register/finish');
    await p.evaluate(() => { window.__prfOnlyLater = false; });
    // Step-up by A, the new passkey created on B — which gave no PRF output at creation (only
    // `prf.enabled`, not trusted), so an assertion limited to it evaluates it —, then A's
    // ceremony for the wallet that is sealed.
    assert.deepEqual(route.log, ['get:A', 'create:B', 'get:B', 'get:A']);
    const ring = await keyring();
    const [, b] = await passkeys();
    assert.equal(b.name, 'phone');
    assert.deepEqual(ring.envelopes.map((e) => e.credential_id), [b.id]);
    assert.equal(Buffer.from(ring.envelopes[0].envelope, 'base64url').length, 81);
    assert.equal(await p.getByTestId('passkey-opens-wallet').count(), 2);
    assert.equal(await p.getByTestId('wallet-single-passkey').count(), 0);
    await shot(p, 'wallet-devices-02-account-two-passkeys');
  });

  let prfB;
  await t.test('lock, then unlock with the second passkey: the same five addresses', async () => {
    await p.getByRole('link', { name: 'Wallet' }).click();
    await p.getByTestId('wallet-lock').click();
    await p.getByTestId('wallet-locked').waitFor();
    route.preferred = 'B';
    // A server that now names B as the origin (B would open its own wallet): this browser saw A
    // as the origin, and refuses.
    const [pkA, pkB] = await passkeys();
    await p.route('**/api/wallet/keyring', async (r) => {
      const resp = await r.fetch();
      const ring = await resp.json();
      await r.fulfill({ response: resp, json: { ...ring, origin: { ...ring.origin, credential_id: pkB.id }, envelopes: [] } });
    });
    await p.getByTestId('wallet-unlock').click();
    await p.getByText('A wallet\'s origin never changes, so the wallet was not opened').waitFor();
    assert.equal(await p.getByTestId('wallet-unlocked').count(), 0);
    await p.unroute('**/api/wallet/keyring');
    assert.equal(await p.evaluate((u) => localStorage.getItem(`blindvault:wallet:origin:${u}`), (await keyring()).user_id), pkA.id);
    await p.getByTestId('wallet-unlock').click();
    await p.getByTestId('wallet-unlocked').waitFor();
    prfB = await lastPrf();
    assert.notDeepEqual(prfB, prfA, 'the second passkey answered');
    assert.deepEqual(await shownAddresses(p), addresses, 'the same wallet');
    const own = ownAddresses(prfB);
    for (const c of CHAINS) assert.notEqual(own[c], addresses[c], `${c}: the second passkey's own wallet is another`);
    assert.equal(await p.getByTestId('wallet-single-passkey').count(), 0);
    assert.equal(await p.getByTestId('wallet-passkey-opens').count(), 2);
    await shot(p, 'wallet-devices-03-unlocked-by-second-passkey');

    // Two wallet flows of the page at once (A's and B's ceremonies both answered, each still
    // preparing its selection): neither takes the other's selection — each opens the wallet
    // with its own passkey's PRF output —, and an operation that does not start right after its
    // selection finds none (no wallet, never a passkey's own).
    const crossed = await p.evaluate(async ([pa, pb]) => {
      const { walletModule } = await import('/js/wallet.js');
      const { keySelection, loadKeyring, withKey } = await import('/js/keyring.js');
      const { api } = await import('/js/api.js');
      const w = await walletModule();
      const { passkeys: [a, b] } = await api('GET', '/api/passkeys');
      const ring = await loadKeyring();
      const flow = async (id, prf) => {
        const req = await keySelection(id, ring);
        await new Promise((r) => setTimeout(r, 0));
        return withKey(w, req, () => w.walletAddresses(Uint8Array.from(prf), 0));
      };
      const both = await Promise.all([flow(a.id, pa), flow(b.id, pb), flow(a.id, pa), flow(b.id, pb)]);
      const late = await withKey(w, await keySelection(b.id, ring), async () => {
        await null;
        return w.walletAddresses(Uint8Array.from(pb), 0);
      }).then(() => 'opened', (e) => e.code);
      return { both: both.map((x) => x.map((y) => y.address)), late };
    }, [prfA, prfB]);
    for (const got of crossed.both) assert.deepEqual(got, CHAINS.map((c) => addresses[c]), 'each flow opened the same wallet');
    assert.equal(crossed.late, 'no_selection');
  });

  await t.test('remove the first passkey (step-up with the second): the second still opens the same wallet, alone', async () => {
    const [a] = await passkeys();
    await p.getByRole('link', { name: 'Account' }).click();
    dialogs.length = 0;
    confirmAnswer = true;
    route.preferred = 'B';
    route.log.length = 0;
    await p.locator('li', { hasText: 'first passkey' }).getByRole('button', { name: 'Remove' }).click();
    await p.getByTestId('wallet-single-passkey').waitFor();
    // Asked first without a claim; the step-up is a PRF ceremony by the second passkey, which
    // opens the wallet in the module: only then "the wallet stays".
    assert.doesNotMatch(dialogs[0].message, /Your wallet stays/);
    assert.match(dialogs[1].message, /Your wallet stays: your passkey “phone” opened it just now/);
    assert.deepEqual(route.log, ['get:B']);
    assert.deepEqual((await passkeys()).map((k) => k.name), ['phone']);
    const ring = await keyring();
    assert.equal(ring.origin.credential_id, a.id, 'the origin stays, though its passkey is gone');
    assert.equal(ring.envelopes.length, 1);
    assert.match(await p.getByTestId('wallet-single-passkey').textContent(), /Only your passkey “phone” opens this wallet/);
    await shot(p, 'wallet-devices-04-account-one-left');
    await p.getByRole('link', { name: 'Wallet' }).click();
    await p.getByTestId('wallet-lock').click();
    await p.getByTestId('wallet-unlock').click();
    await p.getByTestId('wallet-unlocked').waitFor();
    assert.deepEqual(await lastPrf(), prfB);
    assert.deepEqual(await shownAddresses(p), addresses, 'the same wallet without its origin passkey');
    await p.getByTestId('wallet-single-passkey').waitFor();
    await shot(p, 'wallet-devices-05-single-passkey-warning');
  });

  await t.test('a passkey without an envelope opens no wallet and says what to do; removing the last that does names the loss', async () => {
    // A passkey added the way it was before wallet envelopes (no seal): the page's own modules,
    // called from the test.
    await addAuthenticator('C');
    route.creator = 'C';
    route.preferred = 'B';
    await p.evaluate(async () => {
      const { api } = await import('/js/api.js');
      const { createCredential, getAssertion } = await import('/js/webauthn.js');
      const check = await api('POST', '/api/login/start');
      const a = await getAssertion(check.options, { prf: false });
      const start = await api('POST', '/api/passkeys/register/start', { name: 'key', ceremony_id: check.ceremony_id, credential: a.json });
      const created = await createCredential(start.options);
      await api('POST', '/api/passkeys/register/finish', { ceremony_id: start.ceremony_id, credential: created.json });
    });
    const c = (await passkeys()).find((k) => k.name === 'key');
    await p.getByRole('link', { name: 'Account' }).click();
    await p.getByTestId('passkey-no-wallet').waitFor();
    // Removing the only passkey that opens the wallet: the confirmation names it and the loss.
    dialogs.length = 0;
    confirmAnswer = false;
    await Promise.all([
      p.waitForEvent('dialog'),
      p.locator('li', { hasText: 'phone' }).getByRole('button', { name: 'Remove' }).click(),
    ]);
    assert.equal(dialogs.length, 1);
    assert.match(dialogs[0].message, /“phone” is the only passkey that opens your wallet\. Removing it loses the wallet/);
    assert.equal((await passkeys()).length, 2, 'nothing removed');
    confirmAnswer = true;

    // Unlocking with it: no wallet, and what to do — never its own wallet instead.
    await p.getByRole('link', { name: 'Wallet' }).click();
    await p.getByTestId('wallet-lock').click();
    route.preferred = 'C';
    await p.getByTestId('wallet-unlock').click();
    const refused = p.getByTestId('wallet-no-envelope');
    await refused.waitFor();
    assert.match(await refused.textContent(), /The passkey “key” cannot open your wallet yet/);
    assert.match(await refused.textContent(), /recovery phrase/);
    assert.equal(await p.getByTestId('wallet-unlocked').count(), 0);
    await shot(p, 'wallet-devices-06-passkey-cannot-open');

    // Let it in from here: a ceremony with it (C), then one with a passkey that opens the wallet (B).
    route.preferred = 'B';
    await p.getByTestId('wallet-unlock').click();
    await p.getByTestId('wallet-unlocked').waitFor();
    await p.getByTestId(`wallet-passkey-${c.id}`).getByTestId('wallet-passkey-cannot').waitFor();
    route.log.length = 0;
    await p.getByTestId(`wallet-let-in-${c.id}`).click();
    await p.getByTestId(`wallet-passkey-${c.id}`).getByTestId('wallet-passkey-opens').waitFor();
    assert.deepEqual(route.log, ['get:C', 'get:B']);
    await p.getByTestId('wallet-lock').click();
    route.preferred = 'C';
    await p.getByTestId('wallet-unlock').click();
    await p.getByTestId('wallet-unlocked').waitFor();
    assert.deepEqual(await shownAddresses(p), addresses, 'the third passkey opens the same wallet');
    assert.equal(await p.getByTestId('wallet-single-passkey').count(), 0);
  });

  await t.test('a junk envelope planted through the API does not make a removal claim the wallet stays', async () => {
    // A passkey D added without an envelope, and 81 bytes of junk of the right form stored as
    // its envelope through the API (behind the step-up the server asks: a session alone is
    // refused). The server now lists D as opening the wallet.
    await addAuthenticator('D');
    route.creator = 'D';
    route.preferred = 'B';
    const junk = Buffer.concat([Buffer.from([1]), Buffer.alloc(80, 0x5a)]).toString('base64url');
    const planted = await p.evaluate(async (envelope) => {
      const { api } = await import('/js/api.js');
      const { stepped } = await import('/js/stepup.js');
      const { createCredential, getAssertion } = await import('/js/webauthn.js');
      const check = await api('POST', '/api/login/start');
      const a = await getAssertion(check.options, { prf: false });
      const start = await api('POST', '/api/passkeys/register/start', { name: 'spare', ceremony_id: check.ceremony_id, credential: a.json });
      const created = await createCredential(start.options);
      const { credential_id: id } = await api('POST', '/api/passkeys/register/finish', { ceremony_id: start.ceremony_id, credential: created.json });
      const path = `/api/wallet/keyring/envelopes/${encodeURIComponent(id)}`;
      const bare = await api('PUT', path, { envelope }).then(() => 'stored', (e) => e.code);
      await stepped('PUT', path, { envelope }, 'wallet.envelope.put', id);
      return { id, bare };
    }, junk);
    assert.equal(planted.bare, 'step_up_required', 'a session alone cannot plant it');
    assert.ok((await keyring()).envelopes.some((e) => e.credential_id === planted.id && e.envelope === junk));
    const c = (await passkeys()).find((k) => k.name === 'key');
    await p.getByRole('link', { name: 'Account' }).click();
    await p.locator('li', { hasText: 'spare' }).getByTestId('passkey-opens-wallet').waitFor();

    // Removing C: the keyring lists B and D as opening the wallet; the step-up is answered by D,
    // whose envelope does not open: the question names the loss, never "your wallet stays".
    dialogs.length = 0;
    route.preferred = 'D';
    route.log.length = 0;
    // The first question is accepted, the second (with the claim) dismissed.
    confirmAnswer = true;
    const removal = p.locator('li', { has: p.locator('.item-title', { hasText: /^key$/ }) }).getByRole('button', { name: 'Remove' });
    const answered = new Promise((resolve) => {
      const watch = () => {
        confirmAnswer = false;
        if (dialogs.length >= 2) { p.off('dialog', watch); resolve(); }
      };
      p.on('dialog', watch);
    });
    await removal.click();
    await answered;
    assert.deepEqual(route.log, ['get:D']);
    assert.equal(dialogs.length, 2);
    assert.doesNotMatch(dialogs[1].message, /Your wallet stays/);
    assert.match(dialogs[1].message, /“spare”, which you just used, does not open your wallet/);
    assert.match(dialogs[1].message, /loses the wallet/);
    assert.ok((await passkeys()).some((k) => k.id === c.id), 'nothing removed');
    confirmAnswer = true;
    assert.deepEqual(me.errors, []);
  });
});
