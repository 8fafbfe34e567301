// Web Push end to end (docs/webapp.md "Notifications"): a real server configured to accept a
// push-service stand-in on 127.0.0.1 (`[push] allow_http_loopback`), the real CLI, Debian's
// Chromium with the virtual authenticator as the approver's phone.
//
//   a subscription at a push service outside `[push] services` is refused with a message naming
//   it, and not kept → approver opts in on the Requests page (notification permission granted through the browser
//   context) → the subscription reaches the server → the app is closed (its tab leaves for
//   about:blank; the tab stays because the virtual authenticator holding the passkey lives in
//   it) → `blindvault run` asks
//   → the stand-in receives the push, which the test decrypts with npm `http_ece` (an RFC 8291
//   implementation independent of the server's) → the test delivers it to the service worker
//   with CDP `ServiceWorker.deliverPushMessage` → the worker shows "A request is waiting for
//   your approval", which reaches a desktop notification service stand-in on a private D-Bus
//   (tests/desktop-notifications.mjs) as Chromium shows it → the test clicks it there, as a
//   person would on the notification → Chromium hands the click to the service worker, which
//   opens the request page in a new window → approve with the passkey (in the tab whose virtual
//   authenticator holds it, on the page the click opened) → the command runs.
//
// Chromium without Google's API keys cannot reach a real push service, so `pushManager.subscribe`
// is replaced in this test's pages (an init script, never in the app) by one that returns a
// subscription to the stand-in with keys the test holds. Everything after that — the server's
// encryption and VAPID signature, the worker's notification, the request page — is the real code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import ece from 'http_ece';
import { startServer, cli, cliSpawn, launch, device, persistentDevice, shot, stopChildren, DESKTOP } from './lib.mjs';
import { notificationService } from './desktop-notifications.mjs';

const SECRET = 'hunter2-push-e2e';

/** `promise`, or a failure naming `what` after `ms` (a bound, not a wait for speed). */
async function within(promise, ms, what) {
  let timer;
  const late = new Promise((_, no) => { timer = setTimeout(() => no(new Error(`timed out waiting for ${what}`)), ms); });
  try { return await Promise.race([promise, late]); } finally { clearTimeout(timer); }
}

/** A push service stand-in: resolves `next()` with each push it receives (and answers 201). */
async function standIn() {
  const waiting = [];
  const got = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const push = { at: performance.now(), url: req.url, headers: req.headers, body: Buffer.concat(chunks) };
      res.writeHead(201).end();
      const w = waiting.shift();
      if (w) w(push); else got.push(push);
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    base: `http://127.0.0.1:${server.address().port}`,
    next: () => (got.length ? Promise.resolve(got.shift()) : new Promise((r) => waiting.push(r))),
    close: () => server.close(),
  };
}

/** Replaces `pushManager.subscribe`/`getSubscription` in a page with a subscription to the
 * stand-in, with the test's keys (init script; runs before the app's modules). */
function fakePushService({ endpoints, p256dh, auth }) {
  let current = null;
  let made = 0;
  const make = (opts) => ({
    endpoint: endpoints[Math.min(made++, endpoints.length - 1)],
    options: { userVisibleOnly: true, applicationServerKey: opts.applicationServerKey },
    toJSON() { return { endpoint: this.endpoint, expirationTime: null, keys: { p256dh, auth } }; },
    unsubscribe: async () => { current = null; return true; },
  });
  PushManager.prototype.subscribe = async function subscribe(opts) {
    if (!opts || opts.userVisibleOnly !== true || !opts.applicationServerKey) throw new TypeError('subscribe options');
    window.__applicationServerKey = Array.from(new Uint8Array(opts.applicationServerKey));
    current = make(opts);
    return current;
  };
  PushManager.prototype.getSubscription = async function getSubscription() { return current; };
}

test('a push reaches the closed app, its notification opens the request, the approval releases', async (t) => {
  const push = await standIn();
  const conf = mkdtempSync(path.join(tmpdir(), 'blindvault-push-'));
  const config = path.join(conf, 'server.toml');
  writeFileSync(config, '[push]\nallow_http_loopback = true\nsubject = "mailto:ops@example.com"\n');
  const server = await startServer({ args: ['--config', config] });
  const browser = await launch();
  const desktop = await notificationService();
  // The phone's browser has a profile of its own, on the notification service's bus.
  const phone = await persistentDevice({ env: desktop.env });
  t.after(async () => {
    stopChildren(); await browser.close(); await phone.close(); desktop.stop();
    server.stop(); server.cleanup(); push.close();
  });
  const admin = await device(browser, { viewport: DESKTOP });
  await phone.context.grantPermissions(['notifications'], { origin: server.url });

  // The subscription's keys, as a browser would make them.
  const ua = crypto.createECDH('prime256v1');
  ua.generateKeys();
  const auth = crypto.randomBytes(16);
  // The first subscription is at a push service the server does not send to (refused, as any
  // host outside `[push] services`); the second at the stand-in.
  const sub = { endpoints: ['https://push.example.net/wpush/alice-phone', `${push.base}/push/alice-phone`], p256dh: ua.getPublicKey().toString('base64url'), auth: auth.toString('base64url') };
  await phone.context.addInitScript(fakePushService, sub);

  // Setup as in webapp.test.mjs: the admin claims the instance and the org; alice enrols.
  const signUp = async (p, name, code) => {
    if (code !== undefined) await p.getByLabel('Invite code').fill(code);
    await p.getByLabel('User name').fill(name);
    await p.getByTestId('signup').click();
  };
  {
    const p = admin.page;
    await p.goto(`${server.url}/#/setup`);
    await p.getByRole('link', { name: 'Create account' }).first().click();
    await signUp(p, 'admin', server.code);
    await p.getByLabel('Setup code').fill(server.code);
    await p.getByTestId('claim').click();
    await p.getByText('This instance is claimed').waitFor();
    await p.goto(`${server.url}/#/account/tokens`);
    await p.getByTestId('make-token').click();
    const token = await p.getByTestId('new-token').inputValue();
    writeFileSync(path.join(server.dir, 'token'), `${token}\n`, { mode: 0o600 });
    await cli(server, ['org', 'init']);
    await cli(server, ['org', 'push']);
    const invite = JSON.parse(await cli(server, ['approver', 'invite', '--format', 'json']));
    await phone.page.goto(invite.link);
    await phone.page.locator('#main').getByRole('link', { name: 'Create account' }).click();
    await signUp(phone.page, 'alice');
    await phone.page.getByTestId('enrol').click();
    await phone.page.getByTestId('enrolled').waitFor();
    const list = JSON.parse(await cli(server, ['approver', 'list', '--format', 'json']));
    const pending = list.find((r) => r.user_name === 'alice' && r.status === 'pending');
    await cli(server, ['approver', 'approve', pending.id, '--yes']);
  }
  const entry = (await cli(server, ['secret', 'put', '--label', 'prod db password', '--policy', 'any-of'], SECRET)).trim();
  const hostKey = path.join(server.dir, 'ci-runner-7.json');
  await cli(server, ['host', 'issue', '--name', 'ci-runner-7', '--entry', entry, '--expires', '1d', '--out', hostKey]);

  // Opt in on the Requests page.
  const p = phone.page;
  await p.goto(`${server.url}/#/requests`);
  await p.getByTestId('push-on').waitFor();
  await shot(p, 'push-00-opt-in');
  await p.getByTestId('push-on').click();
  await p.getByText('This server does not send notifications through this browser\'s push service (push.example.net)').waitFor();
  await shot(p, 'push-00b-service-refused');
  assert.equal(await p.evaluate(async () => (await navigator.serviceWorker.ready).pushManager.getSubscription()), null,
    'the refused subscription is not kept in the browser');
  await p.getByTestId('push-on').click();
  await p.getByTestId('push-off').waitFor();
  const served = await (await fetch(`${server.url}/api/push/key`)).json();
  const askedWith = Buffer.from(await p.evaluate(() => window.__applicationServerKey)).toString('base64url');
  assert.equal(askedWith, served.public_key, 'subscribed with the served VAPID key');
  await shot(p, 'push-01-opted-in');
  // The worker's registration, before the page goes (the push is delivered to it by id).
  const cdp = await phone.context.newCDPSession(p);
  const registrations = [];
  cdp.on('ServiceWorker.workerRegistrationUpdated', (e) => registrations.push(...e.registrations));
  await cdp.send('ServiceWorker.enable');
  const origin = new URL(server.url).origin;
  const deadline = Date.now() + 30000;
  while (!registrations.some((r) => r.scopeURL === `${origin}/` && !r.isDeleted)) {
    assert.ok(Date.now() < deadline, 'the service worker registered');
    await new Promise((r) => cdp.once('ServiceWorker.workerRegistrationUpdated', r));
  }
  const { registrationId } = registrations.find((r) => r.scopeURL === `${origin}/`);
  // The app is closed: its tab leaves for a blank page (the tab stays, for the virtual
  // authenticator that holds alice's passkey lives in it).
  await p.goto('about:blank');
  assert.equal((await phone.context.pages()).filter((x) => x.url().startsWith(origin)).length, 0, 'no page of the app is open');

  // The CLI asks; the push reaches the stand-in.
  const t0 = performance.now();
  const run = cliSpawn(server, ['run', '--host-key', hostKey, '--env', `DB=${entry}`, '--', 'sh', '-c', 'echo "child sees $DB"']);
  const got = await Promise.race([push.next(), run.done.then((r) => { throw new Error(`run ended first: ${r.stderr}`); })]);
  const tPush = got.at - t0;
  assert.equal(got.url, '/push/alice-phone');
  assert.equal(got.headers['content-encoding'], 'aes128gcm');
  assert.equal(got.headers.urgency, 'high');
  assert.match(got.headers.authorization, /^vapid t=[\w-]+\.[\w-]+\.[\w-]+, k=[\w-]+$/);
  const plain = ece.decrypt(got.body, { version: 'aes128gcm', privateKey: ua, authSecret: auth.toString('base64url') }).toString('utf8');
  const payload = JSON.parse(plain);
  assert.deepEqual(Object.keys(payload), ['request']);
  for (const never of ['prod db password', 'ci-runner-7', entry, SECRET]) assert.ok(!plain.includes(never), `payload holds ${never}`);

  // Delivered to the service worker with the app closed: it shows the notification, which
  // reaches the desktop's notification service.
  await cdp.send('ServiceWorker.deliverPushMessage', { origin, registrationId, data: plain });
  const note = await within(desktop.next(), 60000, 'the notification shown');
  const tNote = note.at - t0;
  assert.equal(note.summary, 'A request is waiting for your approval');
  assert.ok(note.body.includes(served.org_name), `the notification names the organisation: ${note.body}`);
  for (const never of ['prod db password', 'ci-runner-7', entry, SECRET]) assert.ok(!note.body.includes(never), `notification shows ${never}`);
  console.log(`push benchmark: request → push at the stand-in ${tPush.toFixed(0)} ms; → notification shown ${tNote.toFixed(0)} ms`);

  // The person clicks it: the service worker opens the request page.
  const opened = phone.context.waitForEvent('page', { timeout: 60000 });
  desktop.click(note.id);
  const target = await opened;
  await target.waitForURL((u) => u.hash === `#/requests/${payload.request}`, { timeout: 60000 });
  await target.getByTestId('unlock').waitFor();
  await shot(target, 'push-02-notification-target');
  await target.close();
  // Approve there with the passkey, in the tab whose virtual authenticator holds it.
  await p.goto(new URL(`/#/requests/${payload.request}`, server.url).href);
  await p.getByTestId('unlock').waitFor();
  await p.getByTestId('unlock').click();
  await p.getByTestId('verified').waitFor();
  assert.equal(await p.getByTestId('host-name').textContent(), 'ci-runner-7');
  await p.getByTestId('approve').click();
  await p.getByText('Approved', { exact: true }).waitFor();
  const r = await run.done;
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), `child sees ${SECRET}`);
});
