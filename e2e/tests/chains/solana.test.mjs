// Solana transactions the wallet bundle builds and signs, executed in LiteSVM (the Solana runtime
// in process, with the real System, SPL Token and Associated Token Account programs): SOL and
// SPL transfers change the balances they say they do; a changed amount, another key's signature,
// a replay, wrong decimals and a missing recipient token account are refused and change nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FailedTransactionMetadata, LiteSVM } from 'litesvm';
import {
  appendTransactionMessageInstructions, createTransactionMessage, generateKeyPairSigner, getAddressDecoder, getBase58Decoder, getTransactionEncoder,
  getTransactionDecoder, pipe, setTransactionMessageFeePayerSigner, signTransactionMessageWithSigners,
} from '@solana/kit';
import { getCreateAccountInstruction } from '@solana-program/system';
import {
  TOKEN_PROGRAM_ADDRESS, findAssociatedTokenPda, getCreateAssociatedTokenIdempotentInstructionAsync,
  getInitializeMint2Instruction, getMintSize, getMintToInstruction, getTokenDecoder,
} from '@solana-program/token';
import { loadWallet, secretsOf, testPrf } from './lib.mjs';

const SOL = 1_000_000_000n;
const FEE = 5000n; // lamports per signature
// litesvm's `TransactionErrorFieldless` (a TypeScript const enum: no runtime object to import).
const SIGNATURE_FAILURE = 11;
const ALREADY_PROCESSED = 6;

const { own: api } = await loadWallet(); // each operation on the test PRF output's own wallet
const prf = () => testPrf(0x11);

function ok(result, what) {
  assert.ok(!(result instanceof FailedTransactionMetadata), `${what} failed: ${result?.toString?.()}`);
}
function refused(result, what) {
  assert.ok(result instanceof FailedTransactionMetadata, `${what} was accepted`);
  return result.err();
}

/** Signs and sends instructions built with @solana/kit (the test's own setup transactions). */
async function sendKit(svm, payer, instructions) {
  const msg = pipe(
    createTransactionMessage({ version: 0 }),
    (m) => setTransactionMessageFeePayerSigner(payer, m),
    (m) => svm.setTransactionMessageLifetimeUsingLatestBlockhash(m),
    (m) => appendTransactionMessageInstructions(instructions, m),
  );
  ok(svm.sendTransaction(await signTransactionMessageWithSigners(msg)), 'setup transaction');
}

/** The wallet's wire bytes (base64) as the runtime takes them. */
const decode = (b64) => getTransactionDecoder().decode(Buffer.from(b64, 'base64'));

function setup() {
  const svm = new LiteSVM().withSigverify(true).withBlockhashCheck(true);
  const [me] = api.walletAddresses(prf(), 0).filter((a) => a.chain === 'solana');
  svm.airdrop(me.address, 10n * SOL);
  return { svm, me: me.address };
}

test('the wallet address is the ed25519 key derived independently', () => {
  const { solanaPublicKey } = secretsOf(prf());
  const [me] = api.walletAddresses(prf(), 0).filter((a) => a.chain === 'solana');
  assert.equal(me.address, getAddressDecoder().decode(solanaPublicKey));
  assert.equal(me.path, "m/44'/501'/0'/0'");
});

test('a SOL transfer signed by the wallet executes in LiteSVM; tampered, foreign-signed and replayed ones do not', async () => {
  const { svm, me } = setup();
  const to = (await generateKeyPairSigner()).address;
  const amount = 1_234_567_890n;
  const signed = api.solanaSignTransfer(prf(), { to, lamports: amount.toString(), recentBlockhash: svm.latestBlockhash() });
  assert.equal(signed.from, me);
  // What the confirmation screen shows is decoded from the signed bytes.
  assert.deepEqual(signed.decoded, {
    fee_payer: me, recent_blockhash: svm.latestBlockhash(), signatures_required: 1, fee_lamports: 5000,
    actions: [{ kind: 'sol_transfer', from: me, to, lamports: Number(amount) }],
  });

  // The amount changed after signing (the last 8 bytes of the message are the lamports).
  const tx = decode(signed.transaction);
  const changed = Uint8Array.from(tx.messageBytes);
  changed.set(new Uint8Array(new BigUint64Array([amount * 2n]).buffer), changed.length - 8);
  assert.equal(refused(svm.sendTransaction({ ...tx, messageBytes: changed }), 'a transfer with a changed amount'), SIGNATURE_FAILURE);
  // (and the decoder reads the changed amount from the changed bytes)
  const changedWire = Buffer.from(getTransactionEncoder().encode({ ...tx, messageBytes: changed })).toString('base64');
  assert.equal(api.solanaDecodeTransaction(changedWire).actions[0].lamports, Number(amount * 2n));

  // The same message signed by another key in the wallet's signature slot.
  const other = await generateKeyPairSigner();
  const sig = new Uint8Array(await crypto.subtle.sign('Ed25519', other.keyPair.privateKey, tx.messageBytes));
  assert.equal(refused(svm.sendTransaction({ ...tx, signatures: { ...tx.signatures, [me]: sig } }), 'a transfer signed by another key'), SIGNATURE_FAILURE);
  assert.equal(svm.getBalance(to), null, 'nothing arrived');
  assert.equal(svm.getBalance(me), 10n * SOL, 'nothing left (no fee either)');

  // The transaction as signed: executes, and the balances move by the amount and the fee.
  ok(svm.sendTransaction(tx), 'the signed transfer');
  assert.equal(svm.getBalance(to), amount);
  assert.equal(svm.getBalance(me), 10n * SOL - amount - FEE);
  // Its id is the signature the wallet returned.
  assert.ok(svm.getTransaction(signed.signature), 'the runtime knows it by the signature the wallet returned');
  assert.equal(getBase58Decoder().decode(tx.signatures[me]), signed.signature);

  // A replay of the same signed transaction is refused.
  assert.equal(refused(svm.sendTransaction(tx), 'a replay'), ALREADY_PROCESSED);
  assert.equal(svm.getBalance(to), amount);
});

test('an SPL transfer signed by the wallet executes: the recipient token account is created and the token balances move', async () => {
  const { svm, me } = setup();
  const authority = await generateKeyPairSigner();
  svm.airdrop(authority.address, 10n * SOL);
  const mint = await generateKeyPairSigner();
  const decimals = 6;
  // The mint (System createAccount + Token InitializeMint2), and 1000 tokens for the wallet.
  const space = BigInt(getMintSize());
  await sendKit(svm, authority, [
    getCreateAccountInstruction({
      payer: authority, newAccount: mint, lamports: svm.minimumBalanceForRentExemption(space), space, programAddress: TOKEN_PROGRAM_ADDRESS,
    }),
    getInitializeMint2Instruction({ mint: mint.address, decimals, mintAuthority: authority.address }),
  ]);
  const [mine] = await findAssociatedTokenPda({ owner: me, mint: mint.address, tokenProgram: TOKEN_PROGRAM_ADDRESS });
  await sendKit(svm, authority, [
    await getCreateAssociatedTokenIdempotentInstructionAsync({ payer: authority, owner: me, mint: mint.address }),
    getMintToInstruction({ mint: mint.address, token: mine, mintAuthority: authority, amount: 1_000_000_000n }),
  ]);
  const tokens = (a) => getTokenDecoder().decode(svm.getAccount(a).data).amount;
  assert.equal(tokens(mine), 1_000_000_000n);

  const recipient = (await generateKeyPairSigner()).address;
  const [theirs] = await findAssociatedTokenPda({ owner: recipient, mint: mint.address, tokenProgram: TOKEN_PROGRAM_ADDRESS });
  const request = (over) => ({
    mint: mint.address, to: recipient, amount: '250000000', decimals, createRecipientAccount: true,
    recentBlockhash: svm.latestBlockhash(), ...over,
  });

  // Without the recipient's token account, and without asking to create it: refused.
  refused(svm.sendTransaction(decode(api.solanaSignSplTransfer(prf(), request({ createRecipientAccount: false })).transaction)),
    'a transfer to a token account that does not exist');
  // Decimals other than the mint's: TransferChecked refuses.
  refused(svm.sendTransaction(decode(api.solanaSignSplTransfer(prf(), request({ decimals: 9 })).transaction)), 'wrong decimals');

  const signed = api.solanaSignSplTransfer(prf(), request());
  assert.equal(signed.sourceTokenAccount, mine);
  assert.equal(signed.destinationTokenAccount, theirs);
  assert.deepEqual(signed.decoded.actions, [
    { kind: 'create_token_account', funder: me, account: theirs, owner: recipient, mint: mint.address, idempotent: true },
    { kind: 'token_transfer', source: mine, mint: mint.address, destination: theirs, authority: me, amount: 250000000, decimals },
  ]);
  const tx = decode(signed.transaction);
  // The amount changed after signing (TransferChecked data: 12, amount u64 LE, decimals — the
  // message's last 10 bytes).
  const changed = Uint8Array.from(tx.messageBytes);
  changed.set(new Uint8Array(new BigUint64Array([999_000_000n]).buffer), changed.length - 9);
  assert.equal(refused(svm.sendTransaction({ ...tx, messageBytes: changed }), 'an SPL transfer with a changed amount'), SIGNATURE_FAILURE);
  assert.equal(tokens(mine), 1_000_000_000n, 'no token moved');

  const before = svm.getBalance(me);
  ok(svm.sendTransaction(tx), 'the signed SPL transfer');
  assert.equal(tokens(mine), 750_000_000n);
  assert.equal(tokens(theirs), 250_000_000n);
  const token = getTokenDecoder().decode(svm.getAccount(theirs).data);
  assert.equal(token.owner, recipient, 'the new token account belongs to the recipient');
  assert.equal(token.mint, mint.address);
  const rent = svm.minimumBalanceForRentExemption(165n);
  assert.equal(svm.getBalance(me), before - rent - FEE, 'the wallet paid the fee and the new account\'s rent');

  // Creation is idempotent: a second transfer that asks again still executes.
  svm.expireBlockhash();
  ok(svm.sendTransaction(decode(api.solanaSignSplTransfer(prf(), request({ amount: '1' })).transaction)), 'a second transfer');
  assert.equal(tokens(theirs), 250_000_001n);
});
