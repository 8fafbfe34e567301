// The README's "Five-minute walkthrough", run as written: every `sh` block of its numbered steps,
// in order, typed line by line into one interactive bash on a terminal (a pty, through
// util-linux's `script`: the org key's passphrase is asked on the terminal while `secret put`
// reads the secret from a pipe, and the command-line token is pasted into `cat`), and every name the
// README prints in bold pressed in Chromium (the e2e suite's virtual authenticator as each
// person's passkey), by that exact text — a renamed button or a changed command breaks this test.
//
// Values a reader copies from earlier output stand in the README as obvious placeholders
// (ENROLMENT_ID, ENTRY_ID, SEQ:HASH); the test fills them in from the output the same way.
// Everything else it does differently from a reader is in EXCEPTIONS and REWRITES below, or is
// the shell's environment (see `walkthroughShell`), each with the reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ARTIFACTS, BIN, ROOT, DESKTOP, PHONE, device, launch, shot, startServer } from './lib.mjs';

// Every wait below is bounded by one of these, set here: nothing relies on a library's default
// being long enough on a slow or loaded machine.
const UI_TIMEOUT_MS = 60_000; // one browser step: a page, a passkey ceremony, a live update
const COMMAND_TIMEOUT_MS = 180_000; // one command, including a `run` waiting for the phone
const SHELL_START_TIMEOUT_MS = 30_000;
// The server's limits the walkthrough relies on. Sessions: the admin's browser session must
// outlast the walk however slow the machine (the README's 15 minutes is the default, not what
// this test is about; the command line's token lives 30 days). Challenges: an
// approval's ceremony must outlast the time between "Unlock" and "Approve".
const SERVER_ARGS = ['--session-ttl', '3600', '--challenge-ttl', '600'];

// What the reader types when a command asks for the org key's passphrase.
const PASSPHRASE = 'correct horse battery staple walkthrough';

// The README's commands that the test does not run as written, and why.
const EXCEPTIONS = {
  // It builds a release server and serves on port 8080 from ./data in the checkout. The suite
  // has built the binary under test already, and runs it on a free port, with a data directory
  // of its own and every limit set (lib.mjs `startServer`). The shell's working directory is
  // that server's directory, so the README's `./data` (step 6) is this server's data directory.
  './scripts/run.sh': async (ctx) => {
    ctx.server = await startServer({ args: SERVER_ARGS });
    // What the README says it prints.
    const printed = ctx.server.log.join('');
    assert.ok(printed.includes(`open ${ctx.server.url}`), `serve printed: ${printed}`);
    assert.match(printed, /setup code \S+/);
    ctx.shell = await walkthroughShell(ctx.server.dir);
  },
};

// Text the test changes in the README's commands before typing them.
const REWRITES = [
  // The reader's server listens on localhost:8080; the test's on a free port.
  [/http:\/\/localhost:8080/g, (ctx) => ctx.server.url],
];

// `run` waits until a person decides on the phone, which the README describes after the
// command: the test leaves it running, does the browser steps that follow, and waits for it
// before the next command (and at the end of the step).
const WAITS_FOR_A_PERSON = /^blindvault run\b/;

// Who acts in the browser in each step, what they open first, and what they type into fields
// (by the field's label, as the README names it in bold).
const STEPS = {
  1: {
    who: 'admin',
    open: (ctx) => ctx.server.url, // "Open the URL"
    fields: (ctx) => ({ 'Invite code': ctx.server.code, 'User name': 'admin', 'Setup code': ctx.server.code }),
  },
  2: { who: 'admin' },
  3: {
    who: 'alice',
    open: (ctx) => ctx.values.link, // "The approver opens it on their phone"
    async opened(page, ctx) {
      // "checks the organisation fingerprint against `org show`"
      await page.getByText(ctx.values.orgFingerprint, { exact: true }).waitFor();
    },
    fields: () => ({ 'User name': 'alice' }),
  },
  4: {},
  5: { who: 'alice' },
  6: {},
  7: { who: 'alice' },
};

// What the test checks (and copies) after a command, beyond its exit status 0.
const AFTER_COMMAND = [
  [/^blindvault org show$/, (r, ctx) => {
    ctx.values.orgFingerprint = one(r.output, /^fingerprint: +(\S.*?)\s*$/m, 'the org fingerprint');
  }],
  [/^blindvault invite create$/, (r, ctx) => {
    assert.ok(r.output.includes(`${ctx.server.url}/#/signup/`), r.output);
  }],
  [/^blindvault approver invite$/, (r, ctx) => {
    ctx.values.link = one(r.output, /^(http\S+\/#\/enrol\/\S+)$/m, 'the invite link');
  }],
  [/^blindvault approver list$/, (r, ctx) => {
    const row = r.output.split('\n').find((l) => /\bpending\b/.test(l) && l.trim().endsWith(' alice'));
    assert.ok(row, `no pending enrolment for alice in: ${r.output}`);
    ctx.values.ENROLMENT_ID = row.trim().split(/\s+/)[0];
    // "The admin sees the same fingerprint in the list."
    assert.ok(row.includes(ctx.values.approverFingerprint), `${row} does not show ${ctx.values.approverFingerprint}`);
  }],
  [/^blindvault approver approve /, (r) => assert.match(r.output, /alice is now an approver/)],
  [/^printf %s '.*' \| blindvault secret put /, (r, ctx, cmd) => {
    ctx.values.secret = one(cmd, /^printf %s '([^']*)'/, 'the secret');
    ctx.values.label = one(cmd, /--label "([^"]*)"/, 'the label');
    ctx.values.ENTRY_ID = one(r.output, /^([A-Za-z0-9_-]{22})$/m, 'the entry id');
  }],
  [/^blindvault host issue /, (r, ctx, cmd) => {
    ctx.values.host = one(cmd, /--name (\S+)/, 'the host name');
    assert.match(r.output, /valid until \d{4}-\d\d-\d\dT/);
  }],
  [WAITS_FOR_A_PERSON, (r, ctx, cmd) => {
    ctx.runs = (ctx.runs || 0) + 1;
    if (ctx.runs === 1) {
      // Approved: the command ran with the secret.
      assert.ok(r.output.split('\n').includes(ctx.values.secret), `the command did not print the secret: ${r.output}`);
    } else {
      // Denied: the command never started, and `run` exited 3.
      assert.match(cmd, /; echo "exit code \$\?"$/);
      assert.ok(!r.output.includes(ctx.values.secret), r.output);
      assert.match(r.output, /denied/i);
      assert.match(r.output, /^exit code 3$/m);
    }
  }],
  [/^blindvault audit verify$/, (r, ctx) => {
    ctx.values['SEQ:HASH'] = one(r.output, /^anchor: (\d+:[0-9a-f]{64})$/m, 'the anchor');
  }],
  [/^blindvault audit verify --anchor /, (r) => assert.match(r.output, /audit chain OK: \d+ rows, and matches its anchor/)],
  [/\| blindvault wallet addresses --chain all$/, (r) => {
    // BIP-39's "abandon … about" at m/44'/60'/0'/0/0 (the address every wallet shows for it).
    assert.match(r.output, /0x9858EfFD232B4033E47d90003D41EC34EcaEda94/i);
  }],
];

// What the test checks (and copies) after pressing a bold name in the browser.
const AFTER_PRESS = {
  async 'Unlock wallet'(page) {
    // The five chains' addresses, each with its QR code button, and nothing secret on the page.
    for (const chain of ['evm', 'bitcoin', 'solana', 'tron', 'ton']) {
      await page.getByTestId(`wallet-address-${chain}`).waitFor();
    }
    assert.match(await page.getByTestId('wallet-address-evm').innerText(), /^0x[0-9a-fA-F]{40}$/);
  },
  async 'Create account with a passkey'(page) {
    await page.locator('header').getByRole('link', { name: 'Account', exact: true }).waitFor();
  },
  async 'Become the first admin'(page, ctx) {
    await page.getByText('This instance is claimed').waitFor();
    // Its next steps are the README's commands, in the README's order.
    const shown = await page.locator('#main li code').allTextContents();
    const readme = ctx.steps.flatMap((st) => st.tokens.flatMap((t) => t.sh || []));
    const at = shown.map((c) => readme.indexOf(c));
    assert.ok(shown.length >= 3 && at.every((i, k) => i >= 0 && (k === 0 || i > at[k - 1])),
      `the next steps (${shown.join(', ')}) are not the README's commands in its order`);
  },
  async 'Make a token'(page, ctx) {
    ctx.values.token = await page.getByTestId('new-token').inputValue();
    assert.match(ctx.values.token, /^bvt_[A-Za-z0-9_-]{43}$/);
    // The page tells the reader the same file commands as the README.
    const shown = await page.locator('#main code').allTextContents();
    const readme = ctx.step.tokens.flatMap((t) => t.sh || []);
    for (const line of shown.filter((s) => /token/.test(s))) assert.ok(readme.includes(line), `the page shows "${line}", the README does not`);
    assert.ok(shown.some((s) => s.includes('cat >')), `the page shows no paste line: ${shown}`);
  },
  async 'Make an invite code'(page) {
    await page.getByTestId('invite-code').waitFor();
  },
  async 'Create my approver key with my passkey'(page, ctx) {
    await page.getByTestId('enrolled').waitFor();
    ctx.values.approverFingerprint = (await page.getByTestId('approver-fingerprint').textContent()).trim();
  },
  async 'Unlock with my passkey to check'(page, ctx) {
    // What the README says the phone verified.
    await page.getByTestId('verified').waitFor();
    assert.equal(await page.getByTestId('host-name').textContent(), ctx.values.host);
    assert.equal(await page.getByTestId('secret-label').textContent(), ctx.values.label);
    assert.equal(await page.getByTestId('purpose-command').textContent(), ctx.background.cmd.split(' -- ')[1]);
    assert.equal(await page.getByTestId('purpose-env').textContent(), 'DB_PASSWORD');
  },
  async Approve(page) {
    await page.getByText('Approved', { exact: true }).waitFor();
    await decided(page, 'You approved');
    await shot(page, 'walkthrough-approved');
  },
  async Deny(page) {
    await page.getByText('Denied', { exact: true }).waitFor();
    await decided(page, 'You denied');
    // A denial is a warning, not a success.
    assert.equal(await page.locator('#main .notice.warn', { hasText: 'Denied' }).count(), 1);
    await shot(page, 'walkthrough-denied');
  },
};

/** A decided request's page says who decided, and nothing about it still waiting. */
async function decided(page, status) {
  assert.equal(await page.getByTestId('request-status').textContent(), status);
  const text = await page.locator('#main').innerText();
  assert.doesNotMatch(text, /unlock|pending|waiting/i, `a decided request's page says: ${text}`);
}

function one(text, re, what) {
  const m = text.match(re);
  assert.ok(m, `no ${what} in: ${text}`);
  return m[1];
}

// ---- the README -----------------------------------------------------------------------------

/**
 * The walkthrough's numbered steps (`### N. Title` under `## Five-minute walkthrough`, up to the
 * next other heading), each a list of tokens in reading order: `{ sh: [command, …] }` for a
 * ```sh block (blank and comment lines dropped, `\` continuations joined) and `{ ui: name }` for
 * a name in bold.
 */
function parseWalkthrough(markdown) {
  const lines = markdown.split('\n');
  const start = lines.indexOf('## Five-minute walkthrough');
  assert.ok(start >= 0, 'README.md has no "## Five-minute walkthrough" section');
  const steps = [];
  let step = null;
  let fence = null;
  for (const line of lines.slice(start + 1)) {
    if (fence) {
      if (/^\s*```\s*$/.test(line)) {
        if (fence.sh) step.tokens.push({ sh: commands(fence.lines) });
        fence = null;
      } else fence.lines.push(line);
      continue;
    }
    const heading = line.match(/^(#+) (.*)$/);
    if (heading) {
      const numbered = heading[2].match(/^(\d+)\. (.+)$/);
      if (heading[1] !== '###' || !numbered) break;
      step = { n: Number(numbered[1]), title: numbered[2], tokens: [] };
      assert.equal(step.n, steps.length + 1, `step "${heading[2]}" is out of order`);
      steps.push(step);
      continue;
    }
    const open = line.match(/^\s*```(\S*)/);
    if (open) {
      fence = { sh: open[1] === 'sh', lines: [] };
      assert.ok(step || !fence.sh, 'a command block before step 1');
      continue;
    }
    if (!step) continue;
    for (const m of line.matchAll(/\*\*(.+?)\*\*/g)) step.tokens.push({ ui: m[1] });
    assert.ok(!line.replace(/\*\*(.+?)\*\*/g, '').includes('**'), `a bold name split over two lines: ${line}`);
  }
  assert.ok(steps.length >= 5, `only ${steps.length} numbered steps found`);
  return steps;
}

function commands(lines) {
  const out = [];
  let pending = '';
  for (const line of lines) {
    if (!pending && (!line.trim() || line.trim().startsWith('#'))) continue;
    if (line.endsWith('\\')) pending += `${line}\n`;
    else { out.push(pending + line); pending = ''; }
  }
  assert.equal(pending, '', 'a command block ends with a continuation');
  return out;
}

// ---- the terminal ---------------------------------------------------------------------------

/**
 * One interactive bash on a pseudo-terminal (util-linux `script`), as the reader's terminal.
 * Its environment is a fresh login's, with these differences:
 * - HOME is a directory of the test's (so `~/.config/blindvault` is the test's);
 * - the working directory stands for the checkout: it is the test server's directory (its
 *   `./data` is the server's data directory, as with run.sh) with `target/release/blindvault`
 *   a link to the binary under test (the suite builds a debug binary; the README puts
 *   `$PWD/target/release` on PATH);
 * - BLINDVAULT_TEST_SCRYPT_LOG_N lowers the org key file's scrypt cost (seconds per passphrase
 *   in a debug build at the real cost; nothing the walkthrough shows depends on it).
 */
async function walkthroughShell(dir) {
  mkdirSync(path.join(dir, 'target', 'release'), { recursive: true });
  symlinkSync(BIN, path.join(dir, 'target', 'release', 'blindvault'));
  const home = path.join(dir, 'home');
  mkdirSync(home, { recursive: true });
  const env = {
    PATH: process.env.PATH,
    HOME: home,
    TERM: 'dumb',
    LANG: 'C.UTF-8',
    HISTFILE: '/dev/null',
    BLINDVAULT_TEST_SCRYPT_LOG_N: '4',
  };
  const shell = new Shell(dir, env);
  await shell.ready();
  return shell;
}

class Shell {
  constructor(cwd, env) {
    this.nonce = randomBytes(6).toString('hex');
    this.proc = spawn('script', ['-qfec', 'bash --noprofile --norc --noediting -i', '/dev/null'], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.text = ''; // what the terminal showed, without carriage returns and escape sequences
    this.transcript = [];
    this.watchers = new Set();
    this.exited = new Promise((resolve) => this.proc.once('close', resolve));
    const take = (d) => {
      const raw = d.toString();
      this.transcript.push(raw.replace(/\x1b\[2K/g, '\n').replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, ''));
      // "Erase the line" (a live status line rewritten in place) drops the current line.
      for (const [i, part] of raw.split('\x1b[2K').entries()) {
        if (i > 0) this.text = this.text.slice(0, this.text.lastIndexOf('\n') + 1);
        this.text += part.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');
      }
      for (const w of [...this.watchers]) w();
    };
    this.proc.stdout.on('data', take);
    this.proc.stderr.on('data', take);
    this.proc.once('close', (code) => { this.closed = code; for (const w of [...this.watchers]) w(); });
  }

  /** Resolves when `test(textSince)` returns a value, or rejects after `ms`. */
  until(from, test, ms, what) {
    return new Promise((resolve, reject) => {
      const check = () => {
        const v = test(this.text.slice(from));
        if (v) { done(); resolve(v); } else if (this.closed !== undefined) { done(); reject(new Error(`the shell ended while waiting for ${what}: ${this.text.slice(from)}`)); }
      };
      const timer = setTimeout(() => { done(); reject(new Error(`no ${what} within ${ms} ms: ${this.text.slice(from)}`)); }, ms);
      const done = () => { clearTimeout(timer); this.watchers.delete(check); };
      this.watchers.add(check);
      check();
    });
  }

  prompt() { return new RegExp(`\\n?\\[\\[${this.nonce} rc=(\\d+)\\]\\]\\n`); }

  async ready() {
    const from = this.text.length;
    // No echo of what is typed (the transcript shows commands once, and pasted tokens never),
    // and a prompt that carries the last exit status.
    this.proc.stdin.write(`stty -echo; PS1='\\n[[${this.nonce} rc=$?]]\\n'; PS2=''\n`);
    await this.until(from, (s) => this.prompt().exec(s), SHELL_START_TIMEOUT_MS, 'shell prompt');
  }

  /**
   * Types `line` and answers what a person answers while it runs: the passphrase at a
   * passphrase prompt, `confirm(output)` at a [y/N] question, `paste` (then Ctrl-D) for a
   * command that reads the terminal. `.done` resolves with { rc, output }.
   */
  send(line, { confirm, paste } = {}) {
    const from = this.text.length;
    this.transcript.push(`\n$ ${line}\n`);
    let answered = from;
    const answer = () => {
      const tail = this.text.slice(answered);
      if (/passphrase: $/i.test(tail)) {
        answered = this.text.length;
        this.proc.stdin.write(`${PASSPHRASE}\n`);
      } else if (/\[y\/N\] $/.test(tail)) {
        answered = this.text.length;
        this.proc.stdin.write(confirm && confirm(this.text.slice(from)) ? 'y\n' : 'n\n');
      }
    };
    this.watchers.add(answer);
    this.proc.stdin.write(`${line}\n`);
    if (paste !== undefined) this.proc.stdin.write(`${paste}\n\x04`);
    const done = this.until(from, (s) => this.prompt().exec(s), COMMAND_TIMEOUT_MS, `the end of "${line}"`)
      .then((m) => ({ rc: Number(m[1]), output: this.text.slice(from, from + m.index) }))
      .finally(() => this.watchers.delete(answer));
    return { done };
  }

  /** Ctrl-C, as typed on the terminal. */
  interrupt() { this.proc.stdin.write('\x03'); }

  async close() {
    if (this.closed === undefined) {
      this.proc.stdin.end('exit\n');
      const timer = setTimeout(() => this.proc.kill('SIGKILL'), 10_000);
      await this.exited;
      clearTimeout(timer);
    }
  }
}

// ---- the walk -------------------------------------------------------------------------------

async function runCommand(ctx, cmd) {
  await settle(ctx);
  if (EXCEPTIONS[cmd]) return EXCEPTIONS[cmd](ctx);
  assert.ok(ctx.shell, `"${cmd}" comes before the server is started`);
  let line = cmd;
  for (const [re, to] of REWRITES) line = line.replace(re, to(ctx));
  line = line.replace(/\b(ENROLMENT_ID|ENTRY_ID|SEQ:HASH)\b/g, (p) => {
    assert.ok(ctx.values[p], `${p} is used before any output showed it: ${cmd}`);
    return ctx.values[p];
  });
  const pasted = cmd.match(/# paste the (\w+)/);
  const run = ctx.shell.send(line, {
    // `approver approve`: yes only when it shows the fingerprint the phone shows.
    confirm: (out) => Boolean(ctx.values.approverFingerprint) && out.includes(ctx.values.approverFingerprint),
    paste: pasted ? ctx.values[pasted[1]] : undefined,
  });
  if (pasted) assert.ok(ctx.values[pasted[1]], `nothing to paste as the ${pasted[1]}: ${cmd}`);
  ctx.background = { cmd: line, run };
  if (!WAITS_FOR_A_PERSON.test(line)) await settle(ctx);
}

/** Waits for the command still running (if any), and checks it. */
async function settle(ctx) {
  const b = ctx.background;
  if (!b) return;
  ctx.background = null;
  const r = await b.run.done;
  assert.equal(r.rc, 0, `"${b.cmd}" exited ${r.rc}: ${r.output}`);
  for (const [re, check] of AFTER_COMMAND) if (re.test(b.cmd)) check(r, ctx, b.cmd);
}

/** Presses the link or button that shows exactly `label` (the page's own first, else the
 * header's), or types into the field labelled `label`, then waits until the page settled. */
async function act(page, label, fields) {
  const main = page.locator('#main');
  if (label in fields) {
    await main.getByLabel(label, { exact: true }).fill(fields[label]);
    return;
  }
  const clickable = (scope) => scope.getByText(label, { exact: true })
    .locator('xpath=ancestor-or-self::*[self::a or self::button][1]').filter({ visible: true });
  await clickable(main).or(clickable(page.locator('header'))).first().waitFor({ timeout: UI_TIMEOUT_MS })
    .catch((e) => { throw new Error(`no link or button "${label}" on ${page.url()}: ${e.message}`); });
  let target = clickable(main);
  if (await target.count() === 0) target = clickable(page.locator('header'));
  assert.equal(await target.count(), 1, `"${label}" names more than one link or button on ${page.url()}`);
  const handle = await target.elementHandle();
  await target.click();
  // A link is done when the page it leads to replaced it; a button when it is enabled again or
  // gone (the web app disables a button while its action runs).
  await page.waitForFunction((el) => !el.isConnected || (el.tagName === 'BUTTON' && !el.disabled), handle, { timeout: UI_TIMEOUT_MS });
  await page.locator('#main:not([aria-busy])').waitFor({ timeout: UI_TIMEOUT_MS });
  const bad = page.locator('#main .notice.bad');
  if (await bad.count()) throw new Error(`after "${label}": ${await bad.first().innerText()}`);
}

test('the README walkthrough runs as written (CLI and browser)', async (t) => {
  const steps = parseWalkthrough(readFileSync(path.join(ROOT, 'README.md'), 'utf8'));
  const browser = await launch();
  const ctx = { steps, values: {}, background: null };
  t.after(async () => {
    if (ctx.shell) {
      await ctx.shell.close();
      mkdirSync(ARTIFACTS, { recursive: true });
      writeFileSync(path.join(ARTIFACTS, 'walkthrough-transcript.txt'), ctx.shell.transcript.join(''));
    }
    await browser.close();
    if (ctx.server) { ctx.server.stop(); ctx.server.cleanup(); }
  });
  const people = {
    admin: await device(browser, { viewport: DESKTOP }),
    alice: await device(browser, { viewport: PHONE }),
  };
  for (const p of Object.values(people)) p.context.setDefaultTimeout(UI_TIMEOUT_MS);

  for (const step of steps) {
    await t.test(`${step.n}. ${step.title}`, async (st) => {
      if (ctx.failed) { st.skip(`step ${ctx.failed} failed`); return; }
      try {
        await walkStep(step, ctx, people);
      } catch (e) {
        ctx.failed = step.n;
        // A command still waiting for the phone is stopped as a reader would (Ctrl-C, which
        // withdraws its request), not waited for.
        if (ctx.background) {
          ctx.shell.interrupt();
          await ctx.background.run.done.catch(() => {});
          ctx.background = null;
        }
        throw e;
      }
    });
  }
  assert.ok(!ctx.failed, `step ${ctx.failed} failed`);
  assert.ok(ctx.runs >= 2, 'the walkthrough shows an approval and a denial');
  for (const [who, p] of Object.entries(people)) assert.deepEqual(p.errors, [], `no script errors in ${who}'s browser`);
});

/** One numbered step: its commands in the shell, its bold names in the acting person's browser. */
async function walkStep(step, ctx, people) {
  const plan = STEPS[step.n];
  assert.ok(plan, `the test has no plan for step ${step.n} ("${step.title}")`);
  ctx.step = step;
  let opened = false;
  for (const token of step.tokens) {
    if (token.sh) {
      for (const cmd of token.sh) await runCommand(ctx, cmd);
      continue;
    }
    assert.ok(plan.who, `step ${step.n} names "${token.ui}" in bold, but nobody uses the browser in it`);
    const { page } = people[plan.who];
    if (!opened && plan.open) {
      await page.goto(plan.open(ctx));
      if (plan.opened) await plan.opened(page, ctx);
    }
    opened = true;
    const fields = plan.fields ? plan.fields(ctx) : {};
    for (const label of token.ui.split(' → ')) {
      await act(page, label, fields);
      if (AFTER_PRESS[label]) await AFTER_PRESS[label](page, ctx);
    }
  }
  await settle(ctx);
}
