// After an approval by the production approver bundle (web/pkg, the module the phone's pages
// run), no copy of any secret the approval handled remains anywhere in the module's linear
// memory — not in live or freed heap blocks, not on the shadow stack: the PRF output, the key
// schedule's pseudorandom key and its keys (once the page has freed them), the envelope's label
// key, the DEK and the secret's value. The inputs and the secrets they give are
// tests/fixtures/approver-memory.json, which `cargo test -p blindvault-wasm --test memory_fixture`
// checks against an independent derivation (so a wrong expectation cannot make the scan pass).
// The page in the browser does the same steps (web/js/pages/requests.js): keys from the PRF
// output, the label, the verification, the approval, then `free()`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
// BLINDVAULT_APPROVER_PKG: another build of the bundle (one without the wipe, to see this fail).
const PKG = process.env.BLINDVAULT_APPROVER_PKG || path.join(ROOT, 'web/pkg');
const fx = JSON.parse(readFileSync(path.join(ROOT, 'e2e/tests/fixtures/approver-memory.json'), 'utf8'));
const SECRETS = fx.secrets.map((s) => ({ name: s.name, bytes: Buffer.from(s.hex, 'hex') }));
// What the page's keys hold while they are alive (they are the schedule's output).
const KEYS = new Set(['approver secret key', 'wallet entropy', 'local storage key', 'wallet envelope PSK']);

async function load() {
  const glue = path.join(PKG, 'blindvault_wasm.js');
  if (!existsSync(glue)) throw new Error(`${glue} is missing: run ./scripts/build-web.sh first`);
  const api = await import(`${glue}?instance=${Math.random()}`);
  const exports = api.initSync({ module: readFileSync(path.join(PKG, 'blindvault_wasm_bg.wasm')) });
  return { api, memory: exports.memory };
}

/** Where any 16-byte piece of a secret lies in `memory`: `name (piece at i) at offset`. */
function find(memory, secrets) {
  const mem = Buffer.from(memory.buffer);
  const found = [];
  for (const { name, bytes } of secrets) {
    for (let i = 0; i + 16 <= bytes.length; i++) {
      const at = mem.indexOf(bytes.subarray(i, i + 16));
      if (at >= 0) { found.push(`${name} (bytes ${i}..${i + 16}) at ${at}`); break; }
    }
  }
  return found;
}

const prf = () => new Uint8Array(Buffer.from(fx.prf, 'hex'));

test('the scan sees the module: while the keys are alive, it finds them', async () => {
  const { api, memory } = await load();
  const keys = new api.DeviceKeys(prf());
  const alive = find(memory, SECRETS.filter((s) => KEYS.has(s.name)));
  assert.equal(alive.length, KEYS.size, `the keys in memory: ${alive.join('; ')}`);
  keys.free();
});

test('an approval leaves no secret in the approver bundle\'s memory', async () => {
  const { api, memory } = await load();
  const input = prf();
  const keys = new api.DeviceKeys(input);
  assert.ok(input.every((b) => b === 0), 'the PRF output handed over is zeroed in place');
  const transient = SECRETS.filter((s) => !KEYS.has(s.name));
  assert.deepEqual(find(memory, transient), [], 'after the keys were made');
  const org = api.OrgKey.fromBase64(fx.org_public_key);
  assert.equal(api.openLabel(keys, org, fx.sealed_entry), 'bench label');
  assert.deepEqual(find(memory, transient), [], 'after the label was opened');
  JSON.parse(api.verifyRequest(org, fx.certificate, fx.signed_request, fx.sealed_entry, fx.now));
  const sealed = api.approve(keys, org, fx.certificate, fx.signed_request, fx.sealed_entry, fx.now);
  assert.ok(sealed.length > 100, 'a sealed response');
  assert.deepEqual(find(memory, transient), [], 'after the approval');
  keys.free();
  org.free();
  assert.deepEqual(find(memory, SECRETS), [], 'after the keys were freed');
});
