// The web app end to end: a real server, the real CLI, Debian's Chromium with the DevTools
// virtual authenticator (PRF on) as the approver's phone.
//
//   first admin claims the instance → makes a command-line token → org init/push → invite link →
//   approver enrols in the browser (fingerprints compared) → CLI approves the enrolment →
//   secret put, host issue → `blindvault run` waits → the browser shows the verified host and
//   label → approve → the child prints the secret. Then: deny; a tampered host certificate;
//   a passkey without PRF. Screenshots of every page at phone and desktop widths.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { startServer, cli, cliSpawn, launch, device, shot, stopChildren, DESKTOP, PHONE, sleep } from './lib.mjs';

const SECRET = 'hunter2-e2e-\u00e9';

async function signUp(page, name, code) {
  // Registration is invite-only: the code comes from an invite link (already filled in) or is typed.
  if (code !== undefined) await page.getByLabel('Invite code').fill(code);
  await page.getByLabel('User name').fill(name);
  await page.getByTestId('signup').click();
}

async function waitForRequest(page, run) {
  // The list is live (server-sent events): no reload.
  const shown = page.getByTestId('request-item').first().waitFor({ timeout: 60000 });
  const ended = run.done.then((r) => { throw new Error(`run ended before its request showed: ${r.code} ${r.stdout} ${r.stderr}`); });
  await Promise.race([shown, ended]);
}

test('the web app releases a secret to the CLI, denies, refuses a tampered request, and says when PRF is missing', async (t) => {
  const server = await startServer();
  const browser = await launch();
  t.after(async () => {
    stopChildren();
    await browser.close();
    server.stop();
    server.cleanup();
  });
  const admin = await device(browser, { viewport: DESKTOP });
  const phone = await device(browser, { viewport: PHONE });

  await t.test('first admin claims the instance', async () => {
    const p = admin.page;
    await p.goto(server.url);
    await p.getByRole('heading', { name: 'A vault whose server is blind' }).waitFor();
    await shot(p, '01-home');
    await p.goto(`${server.url}/#/setup`);
    await shot(p, '02-setup-signed-out');
    await p.getByRole('link', { name: 'Create account' }).first().click();
    await shot(p, '03-signup');
    await signUp(p, 'admin', server.code);
    // Back on the setup page, signed in.
    await p.getByLabel('Setup code').waitFor();
    await p.getByLabel('Setup code').fill('not-the-code');
    await p.getByTestId('claim').click();
    await p.getByText('That did not work').waitFor();
    await p.getByLabel('Setup code').fill(server.code);
    await p.getByTestId('claim').click();
    await p.getByText('This instance is claimed').waitFor();
    await shot(p, '04-claimed');
  });

  await t.test('the admin makes a command-line token (passkey step-up) and sets up the org', async () => {
    const p = admin.page;
    await p.goto(`${server.url}/#/account/tokens`);
    await p.getByTestId('make-token').click();
    const token = await p.getByTestId('new-token').inputValue();
    assert.match(token, /^bvt_[A-Za-z0-9_-]{43}$/);
    await shot(p, 'tokens-new', ['[data-testid=new-token]']);
    writeFileSync(path.join(server.dir, 'token'), `${token}\n`, { mode: 0o600 });
    // Shown once: the page drawn again has the token in its list, never the token itself.
    await p.reload();
    await p.getByTestId('token-row').first().waitFor();
    assert.equal(await p.getByTestId('new-token').count(), 0, 'the token is not shown again');
    assert.ok(!(await p.content()).includes(token), 'the page holds the token nowhere');
    await cli(server, ['org', 'init']);
    await cli(server, ['org', 'push']);
  });

  let enrolmentFingerprint;
  let inviteLink;
  await t.test('an approver enrols through the invite link; the CLI approves the enrolment', async () => {
    const invite = JSON.parse(await cli(server, ['approver', 'invite', '--format', 'json']));
    assert.ok(invite.link.startsWith(`${server.url}/#/enrol/`), invite.link);
    inviteLink = invite.link;
    const p = phone.page;
    await p.goto(invite.link);
    // The device shows the org fingerprint from the link, before any account exists.
    await p.getByText(invite.org_fingerprint).waitFor();
    await shot(p, '06-invite-signed-out');
    // The page's own link (not the header's) carries the invite code from the invite link.
    await p.locator('#main').getByRole('link', { name: 'Create account' }).click();
    assert.ok((await p.getByLabel('Invite code').inputValue()).length > 0, 'the invite link filled the code in');
    await signUp(p, 'alice');
    await p.getByTestId('org-fingerprint').waitFor();
    assert.equal(await p.getByTestId('org-fingerprint').textContent(), invite.org_fingerprint);
    await shot(p, '07-enrol');
    await p.getByTestId('enrol').click();
    await p.getByTestId('enrolled').waitFor();
    enrolmentFingerprint = await p.getByTestId('approver-fingerprint').textContent();
    await shot(p, '08-enrol-requested');

    const list = JSON.parse(await cli(server, ['approver', 'list', '--format', 'json']));
    const pending = list.find((r) => r.user_name === 'alice' && r.status === 'pending');
    assert.ok(pending, JSON.stringify(list));
    assert.equal(pending.fingerprint, enrolmentFingerprint, 'the admin sees the fingerprint the device shows');
    await cli(server, ['approver', 'approve', pending.id, '--yes']);
  });

  let entry;
  let hostKey;
  await t.test('the admin stores a secret and certifies a host', async () => {
    entry = (await cli(server, ['secret', 'put', '--label', 'prod db password', '--policy', 'any-of'], SECRET)).trim();
    hostKey = path.join(server.dir, 'ci-runner-7.json');
    await cli(server, ['host', 'issue', '--name', 'ci-runner-7', '--entry', entry, '--expires', '1d', '--out', hostKey]);
  });

  await t.test('run asks; the browser shows the verified host and label, approves; the child prints the secret', async () => {
    const p = phone.page;
    await p.goto(`${server.url}/#/requests`);
    await p.getByTestId('no-requests').waitFor();
    await shot(p, '09-requests-empty');
    const run = cliSpawn(server, ['run', '--host-key', hostKey, '--env', `DB=${entry}`, '--', 'sh', '-c', 'echo "child sees $DB"; exit 0']);
    await waitForRequest(p, run);
    await shot(p, '10-requests-live');
    await p.getByTestId('request-item').first().click();
    await p.getByTestId('unlock').waitFor();
    await shot(p, '11-request-locked');
    // The server tries to steer the PRF input: the page must use the core's salt (or the
    // approver key would differ and nothing would open), and post no PRF output.
    await p.route('**/approve/start', async (route) => {
      const response = await route.fetch();
      const json = await response.json();
      json.options.publicKey.extensions = { prf: { eval: { first: 'AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE' } } };
      // …and to skip user verification (a security key's PRF output depends on it).
      json.options.publicKey.userVerification = 'discouraged';
      await route.fulfill({ response, json });
    });
    // What the page asks the authenticator for.
    await p.evaluate(() => {
      const get = navigator.credentials.get.bind(navigator.credentials);
      window.__asked = [];
      navigator.credentials.get = (o) => { window.__asked.push(o.publicKey.userVerification); return get(o); };
    });
    const posted = [];
    p.on('request', (r) => { if (r.method() !== 'GET') posted.push({ url: r.url(), body: r.postData() || '' }); });
    await p.getByTestId('unlock').click();
    await p.getByTestId('verified').waitFor();
    assert.equal(await p.getByTestId('host-name').textContent(), 'ci-runner-7');
    // The person the org-signed certificate names as its issuer (the admin who ran host issue).
    assert.equal(await p.getByTestId('cert-issuer').textContent(), 'admin (another person must approve too)');
    assert.equal(await p.getByTestId('secret-label').textContent(), 'prod db password');
    // What will run, as the host signed it: the command line, the variable, the lease.
    assert.equal(await p.getByTestId('purpose-command').textContent(), `sh -c 'echo "child sees $DB"; exit 0'`);
    assert.equal(await p.getByTestId('purpose-env').textContent(), 'DB');
    assert.match(await p.getByTestId('purpose-lease').textContent(), /^15 min once released/);
    await shot(p, '12-request-verified');
    await p.getByTestId('approve').click();
    await p.getByText('Approved', { exact: true }).waitFor();
    // The page no longer says the request is pending.
    assert.equal(await p.getByTestId('request-status').textContent(), 'You approved');
    await shot(p, '13-approved');
    await p.unroute('**/approve/start');
    const asked = await p.evaluate(() => window.__asked);
    assert.ok(asked.length >= 1 && asked.every((uv) => uv === 'required'), `user verification asked: ${asked}`);
    const finish = posted.find((x) => x.url.endsWith('/approve/finish'));
    assert.ok(finish, 'the approval was posted');
    const sent = JSON.parse(finish.body);
    assert.deepEqual(Object.keys(sent).sort(), ['ceremony_id', 'credential', 'sealed_response']);
    assert.deepEqual(sent.credential.extensions, {}, 'no client extension results are posted');
    // Look at the JSON structure, not the raw text: base64url signatures and ciphertexts
    // contain "prf" by chance (a regex over the body failed about one run in twenty).
    for (const x of posted) {
      const keys = [];
      let parsed = {};
      try { parsed = x.body ? JSON.parse(x.body) : {}; } catch { assert.fail(`a non-JSON body was posted to ${x.url}`); }
      collectKeys(parsed, keys);
      const bad = keys.filter((k) => /^(prf|results|clientExtensionResults|first|second|eval|evalByCredential)$/i.test(k));
      assert.deepEqual(bad, [], `PRF data posted to ${x.url}`);
    }
    const r = await run.done;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), `child sees ${SECRET}`);
    assert.ok(r.stderr.includes('alice'), `the status line names the approver: ${r.stderr}`);
    // The server never had it: not in its log either.
    assert.ok(!server.log.join('').includes(SECRET));
  });

  await t.test('deny from the browser: the CLI says so and exits non-zero', async () => {
    const p = phone.page;
    await p.goto(`${server.url}/#/requests`);
    const run = cliSpawn(server, ['run', '--host-key', hostKey, '--env', `DB=${entry}`, '--', 'sh', '-c', 'echo "child ran"']);
    await waitForRequest(p, run);
    await p.getByTestId('request-item').first().click();
    await p.getByTestId('deny').click();
    await p.getByText('Denied', { exact: true }).waitFor();
    assert.equal(await p.getByTestId('request-status').textContent(), 'You denied');
    // A denial is a warning, not a success.
    assert.equal(await p.locator('.notice.warn', { hasText: 'Denied' }).count(), 1);
    await shot(p, '13b-denied');
    const r = await run.done;
    assert.notEqual(r.code, 0);
    assert.ok(!r.stdout.includes('child ran'), 'the command never starts');
    assert.match(r.stderr, /denied/i);
  });

  await t.test('a host the org revoked is refused on the device, though the server serves its request again', async () => {
    const p = phone.page;
    // A second host, for this test alone.
    const key9 = path.join(server.dir, 'ci-runner-9.json');
    await cli(server, ['host', 'issue', '--name', 'ci-runner-9', '--entry', entry, '--expires', '1d', '--out', key9]);
    const hosts = JSON.parse(await cli(server, ['host', 'list', '--format', 'json']));
    const h9 = hosts.find((h) => h.host_name === 'ci-runner-9');
    assert.ok(h9, JSON.stringify(hosts));
    await p.goto(`${server.url}/#/requests`);
    const run = cliSpawn(server, ['run', '--host-key', key9, '--env', `DB=${entry}`, '--', 'sh', '-c', 'echo "child ran"']);
    await waitForRequest(p, run);
    // The admin revokes it: the org key signs a record naming the certificate, then the server
    // revokes its row and ends the request.
    // `host revoke` waits for the admin's step-up, confirmed in the web app.
    const revoke = cliSpawn(server, ['host', 'revoke', h9.cert_id]);
    await openStepUp(admin.page, revoke);
    assert.match(await admin.page.getByTestId('step-up-target').textContent(), new RegExp(h9.cert_id));
    await admin.page.getByTestId('step-up-confirm').click();
    await admin.page.getByText('Go back to your terminal').waitFor();
    const rv = await revoke.done;
    assert.equal(rv.code, 0, `${rv.stdout} ${rv.stderr}`);
    const r = await run.done;
    assert.notEqual(r.code, 0);
    // A server that ignores its own revocation puts the host and its request back.
    execFileSync('python3', ['-c', `
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("UPDATE broker_hosts SET revoked_at = NULL WHERE cert_id = ?", (sys.argv[2],))
c.execute("UPDATE broker_requests SET status = 'pending', decided_at = NULL WHERE cert_id = ?", (sys.argv[2],))
c.commit()
`, server.db, h9.cert_id]);
    await p.reload();
    await p.getByTestId('request-item').first().click();
    await p.getByTestId('unlock').click();
    await p.getByTestId('verify-failed').waitFor();
    assert.match(await p.getByTestId('verify-failed').textContent(), /revoked this machine/);
    // The failure's code (not its wording) picks the warning that the server or the machine may be compromised.
    assert.match(await p.getByTestId('verify-failed').textContent(), /the server or the requesting machine may be compromised/);
    assert.equal(await p.getByTestId('approve').isDisabled(), true);
    await shot(p, '13c-request-host-revoked');
    await p.getByTestId('deny').click();
    await p.getByText('Denied', { exact: true }).waitFor();
  });

  await t.test('a tampered host certificate is shown as a failure and cannot be approved', async () => {
    const p = phone.page;
    await p.goto(`${server.url}/#/requests`);
    const run = cliSpawn(server, ['run', '--host-key', hostKey, '--env', `DB=${entry}`, '--', 'sh', '-c', 'echo "child ran"']);
    await waitForRequest(p, run);
    // A malicious server (here: its database) renames the host inside the certificate.
    execFileSync('python3', ['-c', `
import base64, sqlite3, sys
c = sqlite3.connect(sys.argv[1])
edited = 0
for cid, cert in c.execute("SELECT cert_id, certificate FROM broker_hosts").fetchall():
    b = bytearray(base64.urlsafe_b64decode(cert + "=" * (-len(cert) % 4)))
    i = b.find(b"ci-runner-7")
    if i < 0:
        continue
    b[i + 10] = ord("8")
    c.execute("UPDATE broker_hosts SET certificate = ? WHERE cert_id = ?", (base64.urlsafe_b64encode(bytes(b)).rstrip(b"=").decode(), cid))
    edited += 1
assert edited == 1
c.commit()
`, server.db]);
    await p.getByTestId('request-item').first().click();
    await p.getByTestId('unlock').click();
    await p.getByTestId('verify-failed').waitFor();
    assert.match(await p.getByTestId('verify-failed').textContent(), /not signed by your organisation's key/);
    // The failure's code (not its wording) picks the warning that the server or the machine may be compromised.
    assert.match(await p.getByTestId('verify-failed').textContent(), /the server or the requesting machine may be compromised/);
    assert.equal(await p.getByTestId('approve').isDisabled(), true);
    assert.equal(await p.getByText('ci-runner-8').count(), 0, 'the tampered name is never shown as verified');
    await shot(p, '14-request-tampered');
    await p.getByTestId('deny').click();
    const r = await run.done;
    assert.notEqual(r.code, 0);
    assert.ok(!r.stdout.includes('child ran'));
  });

  await t.test('account and admin pages render (screenshots)', async () => {
    const p = admin.page;
    for (const [hash, name, text] of [
      ['#/account', '15-account', 'Passkeys'],
      ['#/admin/users', '16-admin-people', 'alice'],
      ['#/admin/approvers', '17-admin-approvers', 'Approver devices'],
      ['#/admin/hosts', '18-admin-hosts', 'ci-runner-7'],
      ['#/admin/audit', '19-admin-audit', 'The audit chain verifies'],
      ['#/admin/settings', '20-admin-settings', 'Relying party ID'],
    ]) {
      await p.goto(`${server.url}/${hash}`);
      await p.getByText(text).first().waitFor();
      if (hash === '#/admin/audit') {
        // The head, shown as an anchor to keep outside the server (`audit verify --anchor`).
        assert.match(await p.getByTestId('audit-anchor').textContent(), /^[1-9][0-9]*:[0-9a-f]{64}$/);
        // Requests are credited to the host they came from, not to "the server".
        await p.getByText('host ci-runner-7').first().waitFor();
      }
      if (hash === '#/admin/settings') {
        // The push services approvers may subscribe at: the server's default list.
        assert.equal(await p.getByTestId('push-services').textContent(),
          'fcm.googleapis.com, *.push.services.mozilla.com, *.push.apple.com, *.notify.windows.com');
      }
      if (hash === '#/admin/approvers') {
        // The test authenticator's passkeys are device-bound; the admin sees which kind each is.
        await p.getByTestId('passkey-kind').first().waitFor();
      }
      await shot(p, name);
    }
    assert.deepEqual(admin.errors, [], 'no script errors on the admin pages');
  });

  await t.test('the audit page notices a rewrite since this browser last looked (the anchor it keeps)', async () => {
    const p = admin.page;
    const slot = 'blindvault:audit-anchor';
    const kept = () => p.evaluate((k) => JSON.parse(localStorage.getItem(k)), slot);
    const keep = (a) => p.evaluate(([k, v]) => localStorage.setItem(k, JSON.stringify(v)), [slot, a]);
    const revisit = async () => {
      await p.goto(`${server.url}/#/admin/users`);
      await p.getByText('alice').first().waitFor();
      await p.goto(`${server.url}/#/admin/audit`);
    };
    await revisit();
    await p.getByTestId('audit-anchor').waitFor();
    const head = await kept();
    assert.ok(head && head.seq >= 1 && /^[0-9a-f]{64}$/.test(head.hash), 'the head is kept');
    assert.equal(await p.getByTestId('audit-anchor').textContent(), `${head.seq}:${head.hash}`);
    // What a consistent rewrite of the database looks like from here: row 1 differs from the
    // hash this browser kept for it.
    await keep({ seq: 1, hash: '0'.repeat(64), at: 1700000000 });
    await revisit();
    await p.getByTestId('audit-rewritten').waitFor();
    assert.match(await p.getByTestId('audit-rewritten').textContent(), /audit verify --anchor 1:0{64}/);
    await shot(p, '19b-admin-audit-rewritten');
    assert.deepEqual(await kept(), { seq: 1, hash: '0'.repeat(64), at: 1700000000 }, 'the evidence is kept, not replaced');
    // An admin who set the server up afresh on purpose can tell the browser to forget it.
    p.once('dialog', (d) => d.accept());
    await p.getByTestId('audit-forget-anchor').click();
    await p.getByTestId('audit-rewritten').waitFor({ state: 'detached' });
    await p.getByTestId('audit-ok').waitFor();
    assert.ok((await kept()).seq >= head.seq, 'the current head is kept instead');
    // With row 1 as it really is, the page says it still holds it.
    const row1 = await p.evaluate(async () => (await (await fetch('/api/admin/audit?after=0&limit=1')).json()).rows[0]);
    await keep({ seq: 1, hash: row1.hash, at: 1700000000 });
    await revisit();
    await p.getByTestId('audit-kept-ok').waitFor();
    assert.equal(await p.getByTestId('audit-rewritten').count(), 0);
    assert.ok((await kept()).seq >= head.seq, 'the newest head is kept again');
    assert.deepEqual(admin.errors, [], 'no script errors');
  });

  await t.test('my passkeys: rename; removing the last one is refused with a clear message', async () => {
    const p = admin.page;
    await p.goto(`${server.url}/#/account`);
    p.once('dialog', (d) => d.accept('work laptop'));
    await p.getByRole('button', { name: 'Rename' }).click();
    await p.getByText('work laptop').waitFor();
    p.once('dialog', (d) => d.accept());
    await p.getByRole('button', { name: 'Remove' }).click();
    await p.getByText('That did not work').waitFor();
    assert.match(await p.locator('.notice.bad').first().textContent(), /only passkey/i);
    await shot(p, '15b-account-last-passkey');
  });

  await t.test('removing a passkey takes a fresh passkey confirmation (step-up)', async () => {
    const p = admin.page;
    await p.goto(`${server.url}/#/account`);
    await p.getByText('work laptop').waitFor();
    const [key] = await p.evaluate(async () => (await (await fetch('/api/passkeys')).json()).passkeys);
    // (A plain session's removal is refused with step_up_required: server::stepup tests it for
    // every action; here the only passkey is kept whatever happens, 409 last_passkey.)
    // Through the page: the dialog names what the passkey will confirm, the passkey confirms
    // (recorded), and the server still keeps the last passkey.
    let asked = '';
    p.once('dialog', (d) => { asked = d.message(); d.accept(); });
    await p.getByRole('button', { name: 'Remove' }).click();
    await p.getByText('That did not work').waitFor();
    assert.match(asked, /passkey confirms this removal/);
    assert.ok(asked.includes(key.id), 'the dialog names the passkey the step-up is bound to');
    const rows = await p.evaluate(async () => (await (await fetch('/api/admin/audit?limit=1000')).json()).rows);
    assert.ok(rows.some((r) => r.action === 'step_up.confirm' && String(r.detail).includes('passkey.delete')
      && String(r.detail).includes(key.id)), 'the step-up was confirmed with the passkey');
    assert.ok(!rows.some((r) => r.action === 'passkey.remove'), 'and nothing was removed');
  });

  await t.test('a role change takes a fresh passkey confirmation (step-up)', async () => {
    const p = admin.page;
    await p.goto(`${server.url}/#/admin/users`);
    const role = p.getByLabel('Role of alice');
    await role.waitFor();
    assert.equal(await role.inputValue(), 'approver');
    let asked = '';
    p.once('dialog', (d) => { asked = d.message(); d.accept(); });
    await role.selectOption('admin');
    await p.getByText('alice is now admin').waitFor();
    assert.match(asked, /role\.set .+:admin/);
    await shot(p, '16b-admin-role-changed-with-step-up');
    // And back (alice approves in later steps as an approver).
    p.once('dialog', (d) => d.accept());
    await role.selectOption('approver');
    await p.getByText('alice is now approver').waitFor();
    // Declined: nothing changes.
    p.once('dialog', (d) => d.dismiss());
    await role.selectOption('user');
    await p.waitForFunction(() => document.querySelector('select[aria-label="Role of alice"]').value === 'approver');
    const users = await p.evaluate(async () => (await (await fetch('/api/admin/users')).json()).users);
    assert.equal(users.find((u) => u.name === 'alice').role, 'approver');
    assert.deepEqual(admin.errors, [], 'no script errors');
  });

  await t.test('an org-key replacement by an admin is noticed by the approver device', async () => {
    const p = phone.page;
    await p.goto(`${server.url}/#/requests`);
    await p.getByTestId('request-list').waitFor();
    assert.equal(await p.getByTestId('org-changed').count(), 0, 'no warning while the key is the pinned one');
    // A second org key (another admin machine), pushed with replace=true through the API.
    const other = { ...server, dir: path.join(server.dir, 'other') };
    mkdirSync(path.join(other.dir, 'home'), { recursive: true });
    copyFileSync(path.join(server.dir, 'passphrase'), path.join(other.dir, 'passphrase'));
    await cli(other, ['org', 'init']);
    const key = readFileSync(path.join(other.dir, 'org', 'org.pub'), 'utf8').trim();
    copyFileSync(path.join(server.dir, 'token'), path.join(other.dir, 'token'));
    // `org push --replace` waits for the admin to confirm in the web app (a step-up).
    const push = cliSpawn(other, ['org', 'push', '--replace']);
    const a = admin.page;
    await openStepUp(a, push);
    assert.match(await a.getByTestId('step-up').textContent(), /Replace the organisation key/);
    const fp = JSON.parse(await cli(other, ['org', 'show', '--format', 'json'])).fingerprint;
    assert.equal(await a.getByTestId('step-up-target').textContent(), fp, 'the page names the new key');
    await shot(a, '21a-confirm-step-up');
    await a.getByTestId('step-up-confirm').click();
    await a.getByText('Go back to your terminal').waitFor();
    await shot(a, '21a2-confirm-step-up-done');
    const r = await push.done;
    assert.equal(r.code, 0, `${r.stdout} ${r.stderr}`);
    assert.ok(r.stdout.includes(fp), r.stdout);
    await p.reload();
    await p.getByTestId('org-changed').waitFor();
    await shot(p, '21-org-key-changed');
    // An invite link with another org key cannot silently replace the pinned one.
    await p.goto(`${server.url}/#/enrol/${key}`);
    await p.getByTestId('repin-warning').waitFor();
    await p.getByTestId('enrol').click();
    await p.getByText('confirm above that your admin told you').waitFor();
    await shot(p, '21b-enrol-other-org-key');
  });

  await t.test('a passkey without PRF gets the clear unsupported message', async () => {
    const noPrf = await device(browser, { prf: false, viewport: PHONE });
    const p = noPrf.page;
    const bobInvite = JSON.parse(await cli(server, ['invite', 'create', '--format', 'json']));
    await p.goto(bobInvite.link);
    assert.equal(await p.getByLabel('Invite code').inputValue(), bobInvite.code, 'the link fills the code in');
    await signUp(p, 'bob');
    await p.getByTestId('prf-unsupported').waitFor();
    const text = await p.getByTestId('prf-unsupported').textContent();
    assert.match(text, /cannot evaluate the PRF extension/);
    assert.match(text, /never falls back/);
    await shot(p, '22-prf-unsupported');
    // Enrolment with this passkey fails closed too: no key is derived from anything else.
    await p.goto(inviteLink);
    await p.getByTestId('enrol').click();
    await p.getByTestId('prf-unsupported').waitFor();
    assert.equal(await p.getByTestId('enrolled').count(), 0);
    await shot(p, '22b-enrol-without-prf');
    await noPrf.context.close();
  });

  await t.test('a rate-limited sign-up says so plainly, with the wait, and does not hang', async () => {
    // A server of its own with a tiny per-address limit: two tokens, then one a minute.
    const tight = await startServer({ limits: { perMinute: 1, burst: 2 } });
    const ctx = await device(browser, { viewport: PHONE });
    try {
      const p = ctx.page;
      let limited = false;
      // Each try (refused: no invite code) takes a token; however slow the machine, a few tries
      // exhaust the bucket before it refills one.
      for (let i = 0; i < 5 && !limited; i += 1) {
        await p.goto(`${tight.url}/#/signup`);
        await signUp(p, `office-${i}`, 'NOT-A-CODE');
        const outcome = await Promise.race([
          p.getByTestId('rate-limited').waitFor().then(() => 'limited'),
          p.getByText('That did not work').waitFor().then(() => 'refused'),
        ]);
        limited = outcome === 'limited';
      }
      assert.ok(limited, 'the tight limit was never reached');
      const text = await p.getByTestId('rate-limited').textContent();
      assert.match(text, /Too many attempts/);
      assert.match(text, /Try again in \d+ (s|min)/);
      await shot(p, '22c-rate-limited');
    } finally {
      await ctx.context.close();
      tight.stop();
      tight.cleanup();
    }
  });

  await t.test('registration is invite-only: no code, no account; the admin\'s code works once and the audit names the inviter', async () => {
    const ctx = await device(browser, { viewport: PHONE });
    try {
      const p = ctx.page;
      await p.goto(`${server.url}/#/signup`);
      await signUp(p, 'walk-in', '');
      await p.getByText('That did not work').waitFor();
      assert.match(await p.locator('.notice.bad').textContent(), /invite code is not valid/);
      await shot(p, '03b-signup-refused');
      // The admin makes a code on the People page.
      const a = admin.page;
      await a.goto(`${server.url}/#/admin/users`);
      await a.getByTestId('make-invite').click();
      const code = await a.getByTestId('invite-code').textContent();
      const link = await a.getByTestId('invite-link').textContent();
      await shot(a, '17b-admin-invite', ['[data-testid=invite-code]', '[data-testid=invite-link]']);
      await p.goto(link);
      await signUp(p, 'invited');
      await p.getByRole('link', { name: 'Account' }).waitFor();
      // Spent: someone else signing up with the same code (on their own device) is refused.
      const other = await device(browser, { viewport: PHONE });
      try {
        await other.page.goto(`${server.url}/#/signup`);
        await signUp(other.page, 'second', code);
        await other.page.getByText('That did not work').waitFor();
      } finally {
        await other.context.close();
      }
      const list = JSON.parse(await cli(server, ['invite', 'list', '--format', 'json']));
      const used = list.find((i) => i.used_by === 'invited');
      assert.ok(used && used.status === 'used' && used.created_by === 'admin', JSON.stringify(list));
      const rows = await a.evaluate(async () => (await (await fetch('/api/admin/audit?limit=1000')).json()).rows);
      const reg = rows.find((r) => r.action === 'user.register' && String(r.detail).includes(used.id));
      assert.ok(reg, 'the registration row names the invite');
      const me = await a.evaluate(async () => (await (await fetch('/api/me')).json()).user.id);
      assert.ok(String(reg.detail).includes(me), 'and the inviter');
      // An admin invite makes an admin: the passkey confirms it first (invite.create admin).
      await a.getByLabel('Role of the invited person').selectOption('admin');
      let asked = '';
      a.once('dialog', (d) => { asked = d.message(); d.accept(); });
      await a.getByTestId('make-invite').click();
      await a.getByText('Invite code for one admin').waitFor();
      assert.match(asked, /invite\.create admin/);
      const rows2 = await a.evaluate(async () => (await (await fetch('/api/admin/audit?limit=1000')).json()).rows);
      assert.ok(rows2.some((r) => r.action === 'invite.created' && String(r.detail).includes('"role":"admin"') && !String(r.detail).includes('"step_up":null')), 'the admin invite spent a step-up');
    } finally {
      await ctx.context.close();
    }
  });

  await t.test('the tokens page lists the command-line token with its last use; Revoke stops the CLI at once', async () => {
    const p = admin.page;
    await cli(server, ['approver', 'list']); // the token works
    await p.goto(`${server.url}/#/account/tokens`);
    const row = p.getByTestId('my-tokens').getByTestId('token-row').first();
    await row.waitFor();
    assert.doesNotMatch(await row.getByTestId('token-last-use').textContent(), /never/, 'the last use is shown');
    await p.getByTestId('org-tokens').waitFor(); // an admin also sees the org's tokens
    await shot(p, 'tokens-list');
    p.once('dialog', (d) => d.accept());
    await row.getByTestId('revoke-token').click();
    await p.getByTestId('my-tokens').getByText('revoked').first().waitFor();
    await shot(p, 'tokens-revoked');
    const r = await cliSpawn(server, ['approver', 'list']).done;
    assert.notEqual(r.code, 0, 'the revoked token is refused');
    assert.match(r.stderr, /token_invalid/);
    assert.match(r.stderr, /Command-line tokens/);
    // The People page still lists and revokes browser sessions.
    await p.goto(`${server.url}/#/admin/users`);
    await p.getByRole('button', { name: 'Sessions' }).first().click();
    await p.locator('li', { hasText: 'since' }).first().waitFor();
    await shot(p, '23-admin-user-sessions');
  });

  assert.deepEqual(phone.errors, [], 'no script errors on the phone');
  await sleep(0);
});

// Every object key anywhere in a parsed JSON value.
function collectKeys(value, out) {
  if (Array.isArray(value)) for (const v of value) collectKeys(v, out);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) { out.push(k); collectKeys(v, out); }
  }
}

/** A CLI command waiting for a step-up prints its confirm link (within 30 s); the admin's page
 * opens it and shows what it names. */
async function openStepUp(page, proc) {
  let link = null;
  for (let i = 0; i < 600 && !link; i += 1) {
    const m = proc.stderr.match(/(http\S+\/#\/confirm\/[A-Za-z0-9_-]+)/);
    if (m) link = m[1];
    else await sleep(50);
  }
  assert.ok(link, `no confirm link: ${proc.stderr}`);
  await page.goto(link);
  await page.getByTestId('step-up-facts').waitFor();
}
