// Shared pieces of the chain tests: the production wallet bundle (web/wallet-pkg, built by
// scripts/build-web.sh) loaded in Node exactly as the browser loads it, and an independent
// derivation of every secret the wallet derives from a PRF output (Node's own HKDF, PBKDF2,
// HMAC-SHA512 and secp256k1, the BIP-39 word list from @ton/crypto), checked here against the
// BIP-39, BIP-32 and SLIP-0010 vectors in shared/vectors.
import { createECDH, createHash, createHmac, createPrivateKey, createPublicKey, hkdfSync, pbkdf2Sync } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mnemonicWordList } from '@ton/crypto';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
// BLINDVAULT_WALLET_PKG: another build of the bundle (e.g. one built without the memory wipe, to
// see the memory test fail).
const PKG = process.env.BLINDVAULT_WALLET_PKG || path.join(ROOT, 'web/wallet-pkg');

/**
 * A fresh instance of the production wallet module. Each call imports the glue under its own
 * URL, so every test file (and every call) gets its own module and its own linear memory.
 * Returns the API, `own` (the same API, where every call that takes a PRF output first selects
 * that output's own wallet, explicitly: without a selection an operation opens no wallet,
 * `no_selection`) and `memory` (the module's WebAssembly.Memory).
 */
let instances = 0;
export async function loadWallet() {
  const glue = path.join(PKG, 'blindvault_wallet_wasm.js');
  if (!existsSync(glue)) throw new Error(`${glue} is missing: run ./scripts/build-web.sh first`);
  const api = await import(`${glue}?instance=${++instances}`);
  const exports = api.initSync({ module: readFileSync(path.join(PKG, 'blindvault_wallet_wasm_bg.wasm')) });
  return { api, own: ownWallet(api), memory: exports.memory, exports };
}

/** `api`, with `walletSelectOwnKey()` run right before each call whose first argument is a PRF
 * output (a `Uint8Array`): the tests that mean the passkey's own wallet say so. */
export function ownWallet(api) {
  return new Proxy(api, {
    get(target, name) {
      const f = target[name];
      if (typeof f !== 'function') return f;
      return (...args) => {
        if (args[0] instanceof Uint8Array) target.walletSelectOwnKey();
        return f(...args);
      };
    },
  });
}

/** A fixed PRF output for the tests (a passkey's would be random). */
export function testPrf(byte = 0x42) {
  return new Uint8Array(32).fill(byte).map((b, i) => (b + i * 7) & 0xff);
}

// ---- the expected secrets, derived independently ------------------------------------------------

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const hmac512 = (key, data) => createHmac('sha512', key).update(data).digest();
const ser32 = (i) => { const b = Buffer.alloc(4); b.writeUInt32BE(i >>> 0); return b; };
const toBig = (b) => BigInt(`0x${b.toString('hex')}`);
const fromBig = (n) => Buffer.from(n.toString(16).padStart(64, '0'), 'hex');
const H = 0x80000000;

function compressedPublic(k) {
  const ecdh = createECDH('secp256k1');
  ecdh.setPrivateKey(k);
  return ecdh.getPublicKey(null, 'compressed');
}

/** BIP-32 CKDpriv along `path` (array of indices, hardened ≥ 2^31); every level's key and chain code. */
export function bip32(seed, pathIdx) {
  let I = hmac512('Bitcoin seed', seed);
  let k = I.subarray(0, 32);
  let c = I.subarray(32);
  const levels = [{ key: Buffer.from(k), chainCode: Buffer.from(c) }];
  for (const i of pathIdx) {
    const data = i >= H ? Buffer.concat([Buffer.alloc(1), k, ser32(i)]) : Buffer.concat([compressedPublic(k), ser32(i)]);
    I = hmac512(c, data);
    k = fromBig((toBig(I.subarray(0, 32)) + toBig(k)) % N);
    c = I.subarray(32);
    levels.push({ key: Buffer.from(k), chainCode: Buffer.from(c) });
  }
  return levels;
}

/** SLIP-0010 ed25519 along `path` (hardened only); every level's key and chain code. */
export function slip10(seed, pathIdx) {
  let I = hmac512('ed25519 seed', seed);
  const levels = [{ key: I.subarray(0, 32), chainCode: I.subarray(32) }];
  for (const i of pathIdx) {
    const { key, chainCode } = levels[levels.length - 1];
    I = hmac512(chainCode, Buffer.concat([Buffer.alloc(1), key, ser32(i)]));
    levels.push({ key: I.subarray(0, 32), chainCode: I.subarray(32) });
  }
  return levels;
}

/** The raw ed25519 public key of a 32-byte private key (Node's own ed25519). */
export function ed25519Public(secret) {
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), secret]);
  const pub = createPublicKey(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }));
  return pub.export({ format: 'der', type: 'spki' }).subarray(-32);
}

/** The BIP-39 English mnemonic of `entropy` (word list from @ton/crypto: the same 2048 words). */
export function mnemonicOf(entropy) {
  const checksum = createHash('sha256').update(entropy).digest();
  const bits = [...entropy, checksum[0]].map((b) => b.toString(2).padStart(8, '0')).join('').slice(0, entropy.length * 8 + entropy.length / 4);
  const words = [];
  for (let i = 0; i < bits.length; i += 11) words.push(mnemonicWordList[parseInt(bits.slice(i, i + 11), 2)]);
  return words.join(' ');
}

export const seedOf = (mnemonic, passphrase = '') =>
  pbkdf2Sync(Buffer.from(mnemonic.normalize('NFKD')), Buffer.from(`mnemonic${passphrase}`.normalize('NFKD')), 2048, 64, 'sha512');

const hd = (p) => p.split('/').slice(1).map((s) => (s.endsWith("'") ? parseInt(s, 10) + H : parseInt(s, 10)));

/** The default paths of account 0 (docs/wallet.md), and Bitcoin's regtest account. */
export const PATHS = {
  evm: "m/44'/60'/0'/0/0",
  bitcoin: "m/84'/0'/0'/0/0",
  bitcoinTest: "m/84'/1'/0'/0/0",
  tron: "m/44'/195'/0'/0/0",
  solana: "m/44'/501'/0'/0'",
  ton: "m/44'/607'/0'",
};

/**
 * Every secret the wallet derives from `prf` for account 0: the key schedule's PRK and keys, the
 * wallet entropy, the mnemonic, the BIP-39 seed, and along each chain's path every level's private
 * key and chain code (ed25519 leaves also in their expanded form: the clamped scalar and the
 * nonce prefix). Returns `{ list: [{name, bytes}], tonPublicKey, solanaPublicKey }`.
 */
export function secretsOf(prf) {
  const ikm = Buffer.from(prf);
  const salt = Buffer.from('blindvault/v1/key-schedule');
  const expand = (info) => Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from(info), 32));
  const list = [];
  const add = (name, bytes) => list.push({ name, bytes: Buffer.from(bytes) });
  add('PRF output', ikm);
  add('key schedule PRK', createHmac('sha256', salt).update(ikm).digest());
  add('approver X25519 secret', expand('blindvault/v1/approver-x25519'));
  add('local-storage key', expand('blindvault/v1/local-storage-key'));
  const entropy = expand('blindvault/v1/wallet-entropy');
  add('wallet entropy', entropy);
  const mnemonic = mnemonicOf(entropy);
  add('mnemonic', Buffer.from(mnemonic));
  const seed = seedOf(mnemonic);
  add('BIP-39 seed', seed);
  for (const chain of ['evm', 'bitcoin', 'bitcoinTest', 'tron']) {
    bip32(seed, hd(PATHS[chain])).forEach((l, depth) => {
      add(`${chain} level ${depth} key`, l.key);
      add(`${chain} level ${depth} chain code`, l.chainCode);
    });
  }
  const ed = {};
  for (const chain of ['solana', 'ton']) {
    const levels = slip10(seed, hd(PATHS[chain]));
    levels.forEach((l, depth) => {
      add(`${chain} level ${depth} key`, l.key);
      add(`${chain} level ${depth} chain code`, l.chainCode);
    });
    const leaf = levels[levels.length - 1].key;
    const h = createHash('sha512').update(leaf).digest();
    const scalar = Buffer.from(h.subarray(0, 32));
    scalar[0] &= 248; scalar[31] &= 127; scalar[31] |= 64;
    add(`${chain} ed25519 scalar`, scalar);
    add(`${chain} ed25519 nonce prefix`, h.subarray(32));
    ed[chain] = ed25519Public(leaf);
  }
  // De-duplicate (the paths share their first levels).
  const seen = new Set();
  const unique = list.filter(({ bytes }) => { const k = bytes.toString('hex'); if (seen.has(k)) return false; seen.add(k); return true; });
  return { list: unique, mnemonic, solanaPublicKey: ed.solana, tonPublicKey: ed.ton };
}

/** Where each secret (whole, or its first 16 bytes) occurs in `memory`: [] when nowhere. */
export function findSecrets(memory, secrets) {
  const mem = Buffer.from(memory.buffer);
  const found = [];
  for (const { name, bytes } of secrets) {
    for (const [what, needle] of [['whole', bytes], ['first 16 bytes', bytes.subarray(0, 16)]]) {
      const at = mem.indexOf(needle);
      if (at >= 0) found.push(`${name} (${what}) at ${at}`);
    }
  }
  return found;
}

/** Reads shared/vectors/NAME (shared/ sits beside the repository). */
export function vector(name) {
  return JSON.parse(readFileSync(path.join(ROOT, '../shared/vectors', name), 'utf8'));
}
