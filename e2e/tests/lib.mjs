// Shared pieces of the web app's end-to-end tests: a real `blindvault serve` on a free port,
// the real CLI as the admin and the consumer, and Debian's Chromium (playwright-core) with the
// DevTools virtual authenticator standing in for a phone.
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = process.env.BLINDVAULT_BIN || path.resolve(ROOT, process.env.CARGO_TARGET_DIR || 'target', 'debug/blindvault');
export const ARTIFACTS = process.env.BLINDVAULT_E2E_ARTIFACTS || path.join(ROOT, 'e2e/artifacts');
export const CHROMIUM = process.env.BLINDVAULT_CHROMIUM || '/usr/bin/chromium';

export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1280, height: 860 };

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** A running server with its own data directory, plus a home for the admin's CLI. */
/**
 * Every limit the suite relies on is set here, never left to the server's defaults: the suite
 * makes many ceremonies from one address, and how fast it makes them depends on the machine.
 * `limits` overrides them (a test of the limiter itself sets small ones).
 */
export const GENEROUS_LIMITS = { perMinute: 100000, burst: 100000, accountPerMinute: 100000, accountBurst: 100000 };

/** `args`: more `serve` options; `env`: more environment variables; `at`: a stopped server
 * whose data directory and port (so: origin) this one reuses — the same instance restarted. */
export async function startServer({ limits = GENEROUS_LIMITS, args: extra = [], env = {}, at = null } = {}) {
  const dir = at ? at.dir : mkdtempSync(path.join(tmpdir(), 'blindvault-e2e-'));
  const port = at ? at.port : await freePort();
  const url = `http://localhost:${port}`;
  const l = { ...GENEROUS_LIMITS, ...limits };
  const args = ['serve', '--listen', `127.0.0.1:${port}`, '--data-dir', path.join(dir, 'data'), '--origin', url,
    '--rate-limit-per-minute', String(l.perMinute), '--rate-limit-burst', String(l.burst),
    '--account-rate-limit-per-minute', String(l.accountPerMinute), '--account-rate-limit-burst', String(l.accountBurst),
    // The broker's flood limits, set here like every other (none of these tests is about them).
    '--host-rate-limit-per-minute', '100000', '--host-rate-limit-burst', '100000',
    '--max-open-requests-per-host', '1000', '--max-event-streams-per-session', '1000', ...extra];
  const proc = spawn(BIN, args, {
    env: { ...process.env, RUST_LOG: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const log = [];
  proc.stderr.on('data', (d) => log.push(d.toString()));
  const code = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out} ${log.join('')}`)), 60000);
    proc.stdout.on('data', (d) => {
      out += d.toString();
      log.push(d.toString());
      const m = out.match(/setup code (\S+)/);
      // A restarted instance that was already claimed prints no setup code: its "open" line
      // says it is serving.
      if (m || (at && /^open \S+$/m.test(out))) { clearTimeout(timer); resolve(m ? m[1] : null); }
    });
    proc.once('exit', (c) => { clearTimeout(timer); reject(new Error(`server exited ${c}: ${out} ${log.join('')}`)); });
  });
  mkdirSync(path.join(dir, 'home'), { recursive: true });
  writeFileSync(path.join(dir, 'passphrase'), 'correct horse battery staple e2e\n', { mode: 0o600 });
  return {
    url, code, dir, port, proc, log,
    db: path.join(dir, 'data', 'blindvault.db'),
    stop() { proc.kill('SIGTERM'); },
    /** Resolves once the process has exited (after `stop`). */
    exited() { return proc.exitCode !== null || proc.signalCode !== null ? Promise.resolve() : new Promise((r) => proc.once('exit', r)); },
    cleanup() { try { rmSync(dir, { recursive: true, force: true }); } catch { /* best effort */ } },
  };
}

/** The CLI environment of the admin (and of the consumer host, which uses no token). */
function cliEnv(server) {
  return {
    ...process.env,
    HOME: path.join(server.dir, 'home'),
    BLINDVAULT_SERVER: server.url,
    BLINDVAULT_HOME: path.join(server.dir, 'org'),
    BLINDVAULT_TOKEN_FILE: path.join(server.dir, 'token'),
    BLINDVAULT_PASSPHRASE_FILE: path.join(server.dir, 'passphrase'),
    BLINDVAULT_TEST_SCRYPT_LOG_N: '4',
  };
}

const children = new Set();

/** Ends every CLI process still running (a failed test must not wait for a `run` to time out). */
export function stopChildren() {
  for (const p of children) p.kill('SIGKILL');
  children.clear();
}

/** Starts `blindvault ARGS`; `.done` resolves with {code, stdout, stderr}. */
export function cliSpawn(server, args, stdin) {
  const p = spawn(BIN, args, { env: cliEnv(server), stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(p);
  p.once('close', () => children.delete(p));
  let stdout = '';
  let stderr = '';
  p.stdout.on('data', (d) => { stdout += d.toString(); });
  p.stderr.on('data', (d) => { stderr += d.toString(); });
  if (stdin !== undefined) p.stdin.end(stdin); else p.stdin.end();
  const done = new Promise((resolve) => p.once('close', (code) => resolve({ code, stdout, stderr })));
  return { proc: p, done, get stderr() { return stderr; } };
}

export async function cli(server, args, stdin) {
  const r = await cliSpawn(server, args, stdin).done;
  if (r.code !== 0) throw new Error(`blindvault ${args.join(' ')} exited ${r.code}: ${r.stdout} ${r.stderr}`);
  return r.stdout;
}

export const LAUNCH = {
  executablePath: CHROMIUM,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
};

export async function launch() {
  return chromium.launch(LAUNCH);
}

/** A browser context with a virtual platform authenticator (user verification by "fingerprint"),
 * with or without the PRF extension. */
/** A browser context with a virtual authenticator (PRF unless `prf` is false). `serviceWorkers:
 * 'block'` for a test that intercepts requests with `page.route`: a request the app's service
 * worker answers from its cache never reaches the route. */
export async function device(browser, { prf = true, viewport = PHONE, serviceWorkers = 'allow' } = {}) {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1, serviceWorkers });
  return withAuthenticator(context, await context.newPage(), prf);
}

/** A device whose browser has a profile of its own (`chromium.launchPersistentContext` in a
 * fresh directory) — what Chromium needs to route a desktop notification's click to the service
 * worker. `env`: the browser's environment (a notification service's bus). `close()` ends it. */
export async function persistentDevice({ prf = true, viewport = PHONE, env = {} } = {}) {
  const profile = mkdtempSync(path.join(tmpdir(), 'blindvault-profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    ...LAUNCH, env: { ...process.env, ...env }, viewport, deviceScaleFactor: 1,
  });
  const d = await withAuthenticator(context, context.pages()[0] || await context.newPage(), prf);
  d.close = async () => { await context.close(); rmSync(profile, { recursive: true, force: true }); };
  return d;
}

/** Adds the virtual authenticator to `page` and records its errors. */
async function withAuthenticator(context, page, prf) {
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  // Failed fetches (a 401 before sign-in, a wrong setup code) are expected and shown in the page.
  page.on('console', (m) => { if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text()); });
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2', ctap2Version: 'ctap2_1', transport: 'internal', hasResidentKey: true,
      hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true, hasPrf: prf,
    },
  });
  return { context, page, cdp, authenticatorId, errors };
}

/** Saves a screenshot of the page at phone and desktop widths. `mask` hides secrets-like text. */
export async function shot(page, name, mask = []) {
  mkdirSync(ARTIFACTS, { recursive: true });
  // A page a person reads never shows a template's leftovers.
  const text = await page.evaluate(() => document.body.innerText);
  // Whole words only: base64url ids and fingerprints on the page may contain "NaN" by chance.
  const leftover = text.match(/(?<![\w-])(null|undefined|NaN)(?![\w-])|\[object \w+\]/);
  if (leftover) throw new Error(`page ${name} shows "${leftover[0]}": ${text.slice(Math.max(0, leftover.index - 80), leftover.index + 80)}`);
  const original = page.viewportSize();
  for (const [label, vp] of [['phone', PHONE], ['desktop', DESKTOP]]) {
    await page.setViewportSize(vp);
    await page.screenshot({ path: path.join(ARTIFACTS, `${name}.${label}.png`), fullPage: true, mask: mask.map((s) => page.locator(s)) });
  }
  await page.setViewportSize(original);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** An init script (`page.addInitScript(recordPrf)`): keeps a copy of every PRF output the page
 * receives in `window.__prfCopies`, so a test can derive what the wallet should show. */
export function recordPrf() {
  const get = navigator.credentials.get.bind(navigator.credentials);
  window.__prfCopies = [];
  navigator.credentials.get = async (o) => {
    const cred = await get(o);
    const r = cred.getClientExtensionResults();
    if (r.prf && r.prf.results && r.prf.results.first) window.__prfCopies.push(Array.from(new Uint8Array(r.prf.results.first)));
    return cred;
  };
}
