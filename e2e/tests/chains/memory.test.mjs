// After every operation of the production wallet bundle (web/wallet-pkg), no copy of any secret
// derived from the PRF output remains anywhere in the module's linear memory: not in live or freed
// heap blocks, not on the shadow stack. The expected secrets are derived independently here
// (lib.mjs: Node's HKDF, PBKDF2, HMAC-SHA512 and secp256k1), and that derivation is itself checked
// against the BIP-39, BIP-32 and SLIP-0010 vectors first, so that a wrong expectation cannot make
// the scan pass.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createECDH, createHash, hkdfSync } from 'node:crypto';
import { getBase58Encoder } from '@solana/kit';
import { PATHS, bip32, findSecrets, loadWallet, mnemonicOf, secretsOf, seedOf, slip10, testPrf, vector } from './lib.mjs';

const { api, own, memory } = await loadWallet();
const PRF_BYTE = 0x33;
const prf = () => testPrf(PRF_BYTE);
const { list: SECRETS } = secretsOf(prf());

// The module's layout (Rust's wasm32 default, checked below): the shadow stack is the first
// 1 MiB of linear memory, growing down from 1 MiB; data and heap lie above it.
const STACK_TOP = 1 << 20;
const SCRUB = 256 * 1024; // crates/wallet-wasm/src/scrub.rs: SCRUB_BYTES
const PATTERN = 0xa5;

const hd = (p) => p.split('/').slice(1).map((s) => (s.endsWith("'") ? parseInt(s, 10) + 0x80000000 : parseInt(s, 10)));

test('the independent derivation gives the BIP-39, BIP-32 and SLIP-0010 vectors', () => {
  for (const v of vector('bip39.json').vectors) {
    assert.equal(mnemonicOf(Buffer.from(v.entropy, 'hex')), v.mnemonic);
    assert.equal(seedOf(v.mnemonic, v.passphrase).toString('hex'), v.seed);
  }
  for (const v of vector('bip32.json').vectors) {
    for (const c of v.chains) {
      const raw = Buffer.from(getBase58Encoder().encode(c.xprv));
      const levels = bip32(Buffer.from(v.seed_hex, 'hex'), c.path === 'm' ? [] : hd(c.path));
      const last = levels[levels.length - 1];
      assert.equal(last.chainCode.toString('hex'), raw.subarray(13, 45).toString('hex'), `${v.name} ${c.path} chain code`);
      assert.equal(last.key.toString('hex'), raw.subarray(46, 78).toString('hex'), `${v.name} ${c.path} key`);
    }
  }
  for (const v of vector('slip10_ed25519.json').vectors) {
    for (const c of v.chains) {
      const levels = slip10(Buffer.from(v.seed_hex, 'hex'), c.path === 'm' ? [] : hd(c.path));
      const last = levels[levels.length - 1];
      assert.equal(last.key.toString('hex'), c.private_key, `${v.name} ${c.path}`);
      assert.equal(last.chainCode.toString('hex'), c.chain_code);
    }
  }
});

test('the wallet bundle derives from the same secrets (its addresses are theirs)', async () => {
  const { solanaPublicKey } = secretsOf(prf());
  const { getAddressDecoder } = await import('@solana/kit');
  const solana = own.walletAddresses(prf(), 0).find((a) => a.chain === 'solana');
  assert.equal(solana.address, getAddressDecoder().decode(solanaPublicKey));
  assert.ok(SECRETS.length >= 60, `${SECRETS.length} secrets to look for`);
});

test('the scan finds a secret that is in memory, and the stack lies where the scrub expects it', () => {
  const mem = new Uint8Array(memory.buffer);
  // Unused stack (far below any frame) is all zeros, and the data above 1 MiB is not.
  assert.ok(mem.subarray(0, STACK_TOP - 64 * 1024).every((b) => b === 0), 'the low stack is untouched');
  assert.ok(mem.subarray(STACK_TOP, STACK_TOP + 4096).some((b) => b !== 0), 'data starts at 1 MiB');
  const seed = SECRETS.find((s) => s.name === 'BIP-39 seed').bytes;
  mem.set(seed.subarray(0, 16), 4096);
  assert.deepEqual(findSecrets(memory, SECRETS), [`BIP-39 seed (first 16 bytes) at 4096`]);
  mem.fill(0, 4096, 4112);
  assert.deepEqual(findSecrets(memory, SECRETS), []);
});

// ---- a PSBT for the Bitcoin operations: one input paid to this wallet's first regtest address ---

const sha256 = (b) => createHash('sha256').update(b).digest();
const hash160 = (b) => createHash('ripemd160').update(sha256(b)).digest();
const compact = (n) => Buffer.from([n]); // every length here is below 0xfd
const u32le = (n) => { const b = Buffer.alloc(4); b.writeUInt32LE(n); return b; };
const u64le = (n) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(n); return b; };
const p2wpkh = (h) => Buffer.concat([Buffer.from([0x00, 0x14]), h]);
const tx = (inputs, outputs) => Buffer.concat([
  u32le(2), compact(inputs.length),
  ...inputs.map(([txid, vout]) => Buffer.concat([txid, u32le(vout), compact(0), u32le(0xfffffffd)])),
  compact(outputs.length),
  ...outputs.map(([value, script]) => Buffer.concat([u64le(value), compact(script.length), script])),
  u32le(0),
]);

function psbt() {
  const seed = seedOf(mnemonicOf(SECRETS.find((s) => s.name === 'wallet entropy').bytes));
  const levels = bip32(seed, hd(PATHS.bitcoinTest));
  const ecdh = createECDH('secp256k1');
  ecdh.setPrivateKey(levels[levels.length - 1].key);
  const mine = p2wpkh(hash160(ecdh.getPublicKey(null, 'compressed')));
  const prev = tx([[Buffer.alloc(32), 0xffffffff]], [[100_000n, mine]]);
  const prevId = sha256(sha256(prev));
  const unsigned = tx([[prevId, 0]], [[90_000n, p2wpkh(Buffer.alloc(20, 7))]]);
  const long = (key, value) => { // values above 0xfc bytes take a 3-byte compact size
    const len = value.length > 0xfc ? Buffer.from([0xfd, value.length & 0xff, value.length >> 8]) : compact(value.length);
    return Buffer.concat([compact(key.length), key, len, value]);
  };
  return Buffer.concat([
    Buffer.from('70736274ff', 'hex'),
    long(Buffer.from([0x00]), unsigned), Buffer.from([0x00]),
    long(Buffer.from([0x00]), prev), Buffer.from([0x00]),
    Buffer.from([0x00]),
  ]).toString('base64');
}

// ---- every operation, then the scan ------------------------------------------------------------

const BLOCKHASH = 'EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N';
const SOL_TO = '9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM';
const EVM_TX = {
  chainId: 1, nonce: 0, to: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8', value: '1000', gasLimit: 21000,
  maxFeePerGas: '30000000000', maxPriorityFeePerGas: '1000000000',
};
const TYPED = {
  types: { EIP712Domain: [{ name: 'name', type: 'string' }], Mail: [{ name: 'contents', type: 'string' }] },
  primaryType: 'Mail', domain: { name: 'blindvault' }, message: { contents: 'hi' },
};

const operations = [
  ['walletAddresses (account 0)', (p) => own.walletAddresses(p, 0)],
  ['walletAddresses (account 5)', (p) => own.walletAddresses(p, 5)],
  ['evmSignTransaction', (p) => own.evmSignTransaction(p, EVM_TX)],
  ['evmSignReviewed', (p) => {
    const from = own.walletAddresses(prf(), 0)[0].address;
    const { payload, summary } = own.evmBuildSend({ ...EVM_TX, from, symbol: 'ETH' });
    return own.evmSignReviewed(p, { payload, summary });
  }],
  ['evmSignReviewed with a changed summary (refused after derivation)', (p) => {
    const from = own.walletAddresses(prf(), 0)[0].address;
    const { payload, summary } = own.evmBuildSend({ ...EVM_TX, from, symbol: 'ETH' });
    assert.throws(() => own.evmSignReviewed(p, { payload, summary: { ...summary, nonce: 1 } }), { code: 'review_mismatch' });
  }],
  ['evmSignPersonalMessage', (p) => own.evmSignPersonalMessage(p, { message: 'hello' })],
  ['evmSignTypedData', (p) => own.evmSignTypedData(p, { typedData: TYPED })],
  ['evmSignTypedDataReviewed', (p) => own.evmSignTypedDataReviewed(p, { typedData: TYPED, view: own.evmDecodeTypedData(TYPED) })],
  ['evmSignTypedDataReviewed with a changed view (refused after derivation)', (p) => {
    const view = own.evmDecodeTypedData(TYPED);
    assert.throws(() => own.evmSignTypedDataReviewed(p, { typedData: TYPED, view: { ...view, primary_type: 'Other' } }), { code: 'review_mismatch' });
  }],
  ['solanaSignOffchainMessage', (p) => own.solanaSignOffchainMessage(p, { message: 'hello' })],
  ['tronSignMessage', (p) => own.tronSignMessage(p, { messageHex: '0x00ff' })],
  ['walletRecoveryPhrase', (p) => {
    const { words } = own.walletRecoveryPhrase(p);
    assert.equal(words.join(' '), secretsOf(prf()).mnemonic, 'the words are the mnemonic derived independently');
  }],
  ['solanaSignTransfer', (p) => own.solanaSignTransfer(p, { to: SOL_TO, lamports: '5', recentBlockhash: BLOCKHASH })],
  ['solanaSignSplTransfer', (p) => own.solanaSignSplTransfer(p, {
    mint: 'EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v', to: SOL_TO, amount: '5', decimals: 6, createRecipientAccount: true, recentBlockhash: BLOCKHASH,
  })],
  ['solanaSignReviewed', (p) => {
    const from = own.walletAddresses(prf(), 0)[2].address;
    const { transaction, summary } = own.solanaBuildSend({ from, to: SOL_TO, amount: '5', recentBlockhash: BLOCKHASH });
    return own.solanaSignReviewed(p, { transaction, summary });
  }],
  ['solanaSignReviewed with a changed summary (refused after derivation)', (p) => {
    const from = own.walletAddresses(prf(), 0)[2].address;
    const { transaction, summary } = own.solanaBuildSend({ from, to: SOL_TO, amount: '5', recentBlockhash: BLOCKHASH });
    assert.throws(() => own.solanaSignReviewed(p, { transaction, summary: { ...summary, from: SOL_TO } }), { code: 'review_mismatch' });
  }],
  ['tonSignTransfer', (p) => own.tonSignTransfer(p, { to: 'EQBvW8Z5huBkMJYdnfAEM5JqTNkuWX3diqYENkWsIL0XggGG', amountNano: '5', comment: 'x', seqno: 0, validUntil: 1_900_000_060, now: 1_900_000_000 })],
  ['tonSignReviewed', (p) => {
    const from = own.walletAddresses(prf(), 0)[4].address;
    const { body, summary } = own.tonBuildSend({ from, to: 'EQBvW8Z5huBkMJYdnfAEM5JqTNkuWX3diqYENkWsIL0XggGG', amountNano: '5', seqno: 1, validUntil: 1_900_000_060, now: 1_900_000_000 });
    return own.tonSignReviewed(p, { body, summary, now: 1_900_000_000 });
  }],
  ['tronSignReviewed', (p) => {
    const from = own.walletAddresses(prf(), 0)[3].address;
    const block = { blockID: '0000000003ef1480c3b5a0f3e2d1c4b5a69788796a5b4c3d2e1f0a1b2c3d4e5f', block_header: { raw_data: { number: 66000000, timestamp: 1800000000000 } } };
    const { rawData, summary } = own.tronBuildSend({ from, to: 'THTR75o8xXAgCTQqpiot2AFRAjvW1tSbVV', amount: '5', block });
    return own.tronSignReviewed(p, { rawData, summary });
  }],
  ['bitcoinReviewPsbt', (p) => own.bitcoinReviewPsbt(p, { network: 'regtest', psbt: psbt() })],
  ['bitcoinSignPsbt', (p) => {
    const review = own.bitcoinReviewPsbt(testPrf(PRF_BYTE), { network: 'regtest', psbt: psbt() });
    const signed = own.bitcoinSignPsbt(p, { network: 'regtest', psbt: psbt(), review });
    assert.deepEqual(signed.signedInputs, [0]);
    assert.ok(signed.transaction, 'fully signed');
    return signed;
  }],
  ['bitcoinAccountAddresses', (p) => own.bitcoinAccountAddresses(p, { network: 'regtest', receive: 2, change: 2 })],
  ['bitcoinPlanSend (refused after derivation: no coins)', (p) => {
    assert.throws(() => own.bitcoinPlanSend(p, { network: 'regtest', recipient: 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080', amountSat: '1000', feeRate: 1, changeIndex: 0, coins: [], prevTxs: [] }), { code: 'wallet' });
  }],
  // Failures: before any key is derived, and after (the chain refuses while signing).
  ['a request that is not one (fails early)', (p) => assert.throws(() => own.evmSignTransaction(p, { nonce: 'x' }), { code: 'bad_request' })],
  ['a TON transfer with validUntil 0, before now (fails while signing)', (p) => assert.throws(
    () => own.tonSignTransfer(p, { to: 'EQBvW8Z5huBkMJYdnfAEM5JqTNkuWX3diqYENkWsIL0XggGG', amountNano: '5', seqno: 0, validUntil: 0, now: 1_900_000_000 }), { code: 'transaction' })],
  ['a PSBT with a changed review (refused after derivation)', (p) => {
    const review = own.bitcoinReviewPsbt(testPrf(PRF_BYTE), { network: 'regtest', psbt: psbt() });
    assert.throws(() => own.bitcoinSignPsbt(p, { network: 'regtest', psbt: psbt(), review: { ...review, fee_sat: 1 } }), { code: 'review_mismatch' });
  }],
];

for (const [name, op] of operations) {
  test(`after ${name}: no secret anywhere in WebAssembly memory, the caller's PRF bytes zeroed`, () => {
    const mem = () => new Uint8Array(memory.buffer);
    // The unused stack painted, to see afterwards how deep the call went and that the scrub ran.
    mem().fill(PATTERN, 0, STACK_TOP - 64 * 1024);
    const p = prf();
    op(p);
    assert.ok(p.every((b) => b === 0), 'the PRF output handed in is zeros now');
    const m = mem();
    const below = m.subarray(0, STACK_TOP - SCRUB - 4096);
    assert.ok(below.every((b) => b === PATTERN), 'the call went no deeper than the scrubbed area');
    const scrubbed = m.subarray(STACK_TOP - SCRUB + 4096, STACK_TOP - 64 * 1024);
    assert.ok(scrubbed.every((b) => b === 0), 'the scrubbed area is zeros');
    m.fill(0, 0, STACK_TOP - 64 * 1024);
    assert.deepEqual(findSecrets(memory, SECRETS), []);
  });
}

// ---- one wallet on several passkeys (crates/wallet-wasm/src/bridge/keyring.rs) ------------------
// The PRF output handed in (0x33) opens the wallet of another passkey (0x44, the origin) through
// its envelope; sealing takes two PRF outputs. Nothing of either passkey stays: their schedules'
// keys (and each one's wallet-envelope PSK), the origin's wallet and every key derived from it.

const ORIGIN_BYTE = 0x44;
const cred = (n) => Buffer.alloc(16, n).toString('base64url');
const USER = 'user-memory';
const pskOf = (p) => Buffer.from(hkdfSync('sha256', Buffer.from(p), Buffer.from('blindvault/v1/key-schedule'), Buffer.from('blindvault/v1/wallet-envelope-psk'), 32));
const BOTH = [
  ...SECRETS,
  ...secretsOf(testPrf(ORIGIN_BYTE)).list.map((s) => ({ ...s, name: `origin's ${s.name}` })),
  { name: 'wallet-envelope PSK', bytes: pskOf(prf()) },
  { name: 'origin\'s wallet-envelope PSK', bytes: pskOf(testPrf(ORIGIN_BYTE)) },
];
/** The envelope the origin (0x44) seals to the passkey of 0x33. */
function envelopeToMe() {
  api.walletSelectKey({ userId: USER, credentialId: cred(ORIGIN_BYTE), origin: cred(ORIGIN_BYTE) });
  return api.walletSealEnvelope(testPrf(ORIGIN_BYTE), prf(), { userId: USER, credentialId: cred(PRF_BYTE) }).envelope;
}
const selectMine = (envelope) => api.walletSelectKey({ userId: USER, credentialId: cred(PRF_BYTE), origin: cred(ORIGIN_BYTE), envelope });

const keyringOperations = [
  ['walletSealEnvelope (this passkey is the origin)', (p) => {
    api.walletSelectKey({ userId: USER, credentialId: cred(PRF_BYTE), origin: cred(PRF_BYTE) });
    const other = testPrf(ORIGIN_BYTE);
    api.walletSealEnvelope(p, other, { userId: USER, credentialId: cred(ORIGIN_BYTE) });
    assert.ok(other.every((b) => b === 0), 'the new passkey\'s PRF output is zeros too');
  }],
  ['walletAddresses through an envelope', (p) => {
    selectMine(envelopeToMe());
    const got = api.walletAddresses(p, 0);
    assert.deepEqual(got, own.walletAddresses(testPrf(ORIGIN_BYTE), 0), 'the origin\'s addresses');
  }],
  ['evmSignTransaction through an envelope', (p) => {
    selectMine(envelopeToMe());
    const from = api.evmSignTransaction(p, EVM_TX).from;
    assert.equal(from, own.walletAddresses(testPrf(ORIGIN_BYTE), 0)[0].address);
  }],
  ['walletSealEnvelope from a passkey that opened through its envelope', (p) => {
    selectMine(envelopeToMe());
    api.walletSealEnvelope(p, testPrf(0x55), { userId: USER, credentialId: cred(0x55) });
  }],
  ['an operation without a selection (no wallet: never the own one)', (p) => {
    api.walletForgetKey();
    assert.throws(() => api.walletAddresses(p, 0), { code: 'no_selection' });
  }],
  ['a seal after a refused selection (no wallet: never the own one)', (p) => {
    assert.throws(() => selectMine(null), { code: 'no_wallet' });
    const other = testPrf(0x55);
    assert.throws(() => api.walletSealEnvelope(p, other, { userId: USER, credentialId: cred(0x55) }), { code: 'no_selection' });
    assert.ok(other.every((b) => b === 0), 'the new passkey\'s PRF output is zeros too');
  }],
  ['an envelope that does not open (refused after the key schedule)', (p) => {
    const env = Buffer.from(envelopeToMe(), 'base64url');
    env[40] ^= 1;
    selectMine(env.toString('base64url'));
    assert.throws(() => api.walletAddresses(p, 0), { code: 'envelope' });
  }],
];

for (const [name, op] of keyringOperations) {
  test(`after ${name}: no secret of either passkey anywhere in WebAssembly memory`, () => {
    const p = prf();
    op(p);
    assert.ok(p.every((b) => b === 0), 'the PRF output handed in is zeros now');
    assert.deepEqual(findSecrets(memory, BOTH), []);
  });
}
