// Sending on Solana from the wallet page, end to end: a real server, Chromium with the virtual
// authenticator, and the gateway's Solana endpoint a stand-in JSON-RPC server backed by LiteSVM
// (the Solana runtime in process with the real System, SPL Token and Associated Token Account
// programs): `sendTransaction` executes the page's signed transaction there, and the balances
// after are read from LiteSVM itself.
//
//   SOL: the confirmation screen is the unsigned transaction decoded (recipient, amount, fee,
//   blockhash, expiry) → passkey → LiteSVM executes it → Confirmed; the balances move by the
//   amount and 5000 lamports. More than the account holds, and a blockhash that expired between
//   review and signature: refused in plain words, nothing moves. SPL: a token from the admin's
//   list, the recipient's token account created (rent paid by the sender), and a mint the person
//   enters (decimals read from their own token account): token balances exact.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { FailedTransactionMetadata, LiteSVM } from 'litesvm';
import {
  appendTransactionMessageInstructions, createTransactionMessage, generateKeyPairSigner, getBase58Decoder, getTransactionDecoder,
  pipe, setTransactionMessageFeePayerSigner, signTransactionMessageWithSigners,
} from '@solana/kit';
import { getCreateAccountInstruction } from '@solana-program/system';
import {
  TOKEN_PROGRAM_ADDRESS, findAssociatedTokenPda, getCreateAssociatedTokenIdempotentInstructionAsync,
  getInitializeMint2Instruction, getMintDecoder, getMintSize, getMintToInstruction, getTokenDecoder,
} from '@solana-program/token';
import { startServer, launch, device, shot, DESKTOP } from './lib.mjs';

const SOL = 1_000_000_000n;
const FEE = 5000n;

// litesvm's fieldless transaction errors (a TypeScript const enum: numbers at run time), as the
// real node words them (agave's `TransactionError` Display).
const NODE_WORDS = { 4: 'Insufficient funds for fee', 6: 'This transaction has already been processed', 7: 'Blockhash not found', 11: 'Transaction did not pass signature verification' };

/** A failed transaction's error in the words of the node's preflight refusal. */
function nodeMessage(err) {
  if (typeof err === 'number') return NODE_WORDS[err] || `transaction error ${err}`;
  if (err && typeof err.index === 'number') {
    const ie = err.err();
    return `Error processing Instruction ${err.index}: ${ie && typeof ie.code === 'number' ? `custom program error: 0x${ie.code.toString(16)}` : String(ie)}`;
  }
  return String(err);
}

/** The stand-in node: Solana's JSON-RPC methods the page calls, answered from LiteSVM in the
 * forms https://solana.com/docs/rpc/http documents. Records every call. */
async function liteSvmNode(svm) {
  const calls = [];
  let height = 1000;
  const ctx = () => ({ slot: Number(svm.getClock().slot) });
  const methods = {
    getBalance: ([a]) => ({ context: ctx(), value: Number(svm.getBalance(a) ?? 0n) }),
    getLatestBlockhash: () => ({ context: ctx(), value: { blockhash: svm.latestBlockhash(), lastValidBlockHeight: height + 150 } }),
    getBlockHeight: () => height,
    getMinimumBalanceForRentExemption: ([n]) => Number(svm.minimumBalanceForRentExemption(BigInt(n))),
    getAccountInfo: ([a]) => {
      const acc = svm.getAccount(a);
      if (!acc || !acc.exists) return { context: ctx(), value: null };
      return { context: ctx(), value: { lamports: Number(acc.lamports), owner: acc.programAddress, data: [Buffer.from(acc.data).toString('base64'), 'base64'], executable: acc.executable, rentEpoch: 0, space: acc.data.length } };
    },
    getTokenAccountBalance: ([a]) => {
      const acc = svm.getAccount(a);
      if (!acc || !acc.exists) throw Object.assign(new Error('Invalid param: could not find account'), { code: -32602 });
      const t = getTokenDecoder().decode(acc.data);
      const { decimals } = getMintDecoder().decode(svm.getAccount(t.mint).data);
      return { context: ctx(), value: { amount: t.amount.toString(), decimals, uiAmount: null, uiAmountString: t.amount.toString() } };
    },
    sendTransaction: ([b64, opts]) => {
      assert.equal(opts.encoding, 'base64');
      const tx = getTransactionDecoder().decode(Buffer.from(b64, 'base64'));
      // Preflight, as the node does by default: a transaction that would fail is refused before
      // it is executed (and charged); else it is executed.
      const sim = svm.simulateTransaction(tx);
      const r = sim instanceof FailedTransactionMetadata ? sim : svm.sendTransaction(tx);
      if (r instanceof FailedTransactionMetadata) {
        throw Object.assign(new Error(`Transaction simulation failed: ${nodeMessage(r.err())}`), { code: -32002, data: { logs: r.meta().logs() } });
      }
      height += 1;
      return getBase58Decoder().decode(Object.values(tx.signatures)[0]);
    },
    getSignatureStatuses: ([sigs]) => ({
      context: ctx(),
      value: sigs.map((s) => {
        const t = svm.getTransaction(s);
        if (!t) return null;
        const failed = t instanceof FailedTransactionMetadata;
        return { slot: Number(svm.getClock().slot), confirmations: null, err: failed ? nodeMessage(t.err()) : null, confirmationStatus: 'confirmed' };
      }),
    }),
  };
  const srv = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      const j = JSON.parse(body);
      calls.push(j);
      const reply = (v) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(JSON.stringify({ jsonrpc: '2.0', id: j.id, ...v })); };
      const m = methods[j.method];
      if (!m) return reply({ error: { code: -32601, message: 'Method not found' } });
      try {
        return reply({ result: m(j.params || []) });
      } catch (e) {
        return reply({ error: { code: e.code || -32603, message: e.message, ...(e.data ? { data: e.data } : {}) } });
      }
    });
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${srv.address().port}`, calls, close: () => new Promise((r) => srv.close(r)) };
}

/** Signs and executes the test's own setup instructions (mints) with @solana/kit. */
async function sendKit(svm, payer, instructions) {
  const msg = pipe(
    createTransactionMessage({ version: 0 }),
    (m) => setTransactionMessageFeePayerSigner(payer, m),
    (m) => svm.setTransactionMessageLifetimeUsingLatestBlockhash(m),
    (m) => appendTransactionMessageInstructions(instructions, m),
  );
  const r = svm.sendTransaction(await signTransactionMessageWithSigners(msg));
  assert.ok(!(r instanceof FailedTransactionMetadata), `setup: ${r}`);
}

/** A mint of `decimals` decimals, and `amount` base units of it in `owner`'s token account. */
async function mintTo(svm, authority, owner, decimals, amount) {
  const mint = await generateKeyPairSigner();
  const space = BigInt(getMintSize());
  await sendKit(svm, authority, [
    getCreateAccountInstruction({ payer: authority, newAccount: mint, lamports: svm.minimumBalanceForRentExemption(space), space, programAddress: TOKEN_PROGRAM_ADDRESS }),
    getInitializeMint2Instruction({ mint: mint.address, decimals, mintAuthority: authority.address }),
  ]);
  const [ata] = await findAssociatedTokenPda({ owner, mint: mint.address, tokenProgram: TOKEN_PROGRAM_ADDRESS });
  await sendKit(svm, authority, [
    await getCreateAssociatedTokenIdempotentInstructionAsync({ payer: authority, owner, mint: mint.address }),
    getMintToInstruction({ mint: mint.address, token: ata, mintAuthority: authority, amount }),
  ]);
  return mint.address;
}

const inPage = (p, method, path, body) => p.evaluate(async ([m, u, b]) => {
  const r = await fetch(u, { method: m, headers: b ? { 'content-type': 'application/json' } : {}, body: b ? JSON.stringify(b) : undefined });
  return { status: r.status, json: await r.json() };
}, [method, path, body]);

test('send SOL and SPL tokens from the wallet page: LiteSVM executes what the confirmation screen showed', async (t) => {
  const server = await startServer();
  const browser = await launch();
  const svm = new LiteSVM().withSigverify(true).withBlockhashCheck(true);
  const node = await liteSvmNode(svm);
  t.after(async () => {
    await browser.close();
    await node.close();
    server.stop();
    server.cleanup();
  });
  const me = await device(browser, { viewport: DESKTOP });
  const p = me.page;
  await p.goto(`${server.url}/#/signup/${encodeURIComponent(server.code)}`);
  await p.getByLabel('User name').fill('sol');
  await p.getByTestId('signup').click();
  await p.getByRole('link', { name: 'Wallet' }).click();
  await p.getByTestId('wallet-unlock').click();
  await p.getByTestId('wallet-unlocked').waitFor();
  const from = (await p.getByTestId('wallet-address-solana').textContent()).trim();

  // The admin points the gateway's Solana endpoint at the stand-in and lists one token.
  assert.equal((await inPage(p, 'POST', '/api/setup/claim', { code: server.code })).status, 200);
  assert.equal((await inPage(p, 'PUT', '/api/admin/wallet/endpoints', { chain: 'solana', network: 'localnet', url: node.url })).status, 200);
  svm.airdrop(from, 10n * SOL);
  const authority = await generateKeyPairSigner();
  svm.airdrop(authority.address, 10n * SOL);
  const listed = await mintTo(svm, authority, from, 6, 1_000_000_000n); // 1000 TST
  const unlisted = await mintTo(svm, authority, from, 2, 10_000n); // 100.00 of a mint the admin did not list
  const tok = await inPage(p, 'POST', '/api/admin/wallet/tokens', { chain: 'solana', network: 'localnet', contract: listed, symbol: 'TST', decimals: 6 });
  assert.equal(tok.status, 200, JSON.stringify(tok));
  const ata = async (owner, mint) => (await findAssociatedTokenPda({ owner, mint, tokenProgram: TOKEN_PROGRAM_ADDRESS }))[0];
  const tokenBalance = async (owner, mint) => {
    const acc = svm.getAccount(await ata(owner, mint));
    return acc && acc.exists ? getTokenDecoder().decode(acc.data).amount : null;
  };
  const fact = async (id) => (await p.getByTestId(id).textContent()).trim();
  const openSend = async () => {
    // In the page (a reload would lock the wallet): back to the wallet, drawn again.
    await p.evaluate(() => { location.hash = '#/wallet'; });
    await p.getByTestId('wallet-unlocked').waitFor();
    await p.getByTestId('wallet-refresh').click();
    await p.getByTestId('wallet-send-solana').click();
    await p.getByTestId('wallet-send-to').waitFor();
  };
  const review = async (to, amount, asset = 'sol') => {
    await p.getByTestId('wallet-send-asset').selectOption(asset);
    await p.getByTestId('wallet-send-to').fill(to);
    await p.getByTestId('wallet-send-amount').fill(amount);
    await p.getByTestId('wallet-send-review').click();
    await p.getByTestId('wallet-send-confirmation').waitFor();
  };
  const sent = () => node.calls.filter((c) => c.method === 'sendTransaction').length;

  await t.test('SOL: more than the account holds is refused in plain words; nothing moves', async () => {
    await openSend();
    const to = (await generateKeyPairSigner()).address;
    await review(to, '100');
    assert.equal(await fact('wallet-send-amount-shown'), '100 SOL');
    await p.getByTestId('wallet-send-confirm').click();
    await p.getByText('Not sent', { exact: true }).waitFor();
    await p.getByText(/^Not enough SOL to pay the amount and the network fee\. Nothing was sent\./).waitFor();
    assert.equal(svm.getBalance(from), 10n * SOL);
    assert.equal(svm.getBalance(to), null);
  });

  await t.test('SOL: a blockhash that expired between review and signature is refused as expired', async () => {
    await openSend();
    const to = (await generateKeyPairSigner()).address;
    await review(to, '0.1');
    svm.expireBlockhash();
    await p.getByTestId('wallet-send-confirm').click();
    await p.getByText(/^The transaction expired before it reached the network/).waitFor();
    assert.equal(svm.getBalance(from), 10n * SOL);
    assert.equal(svm.getBalance(to), null);
  });

  await t.test('SOL: the confirmation screen is the transaction decoded; LiteSVM executes it; balances exact', async () => {
    await openSend();
    const to = (await generateKeyPairSigner()).address;
    await review(to, '1.5');
    assert.equal(await fact('wallet-send-chain'), 'Solana localnet');
    assert.equal(await fact('wallet-send-from'), from);
    assert.equal(await fact('wallet-send-recipient'), to);
    assert.equal(await fact('wallet-send-amount-shown'), '1.5 SOL');
    assert.equal(await fact('wallet-send-fee'), '0.000005 SOL (one signature)');
    assert.equal(await fact('wallet-send-blockhash'), svm.latestBlockhash());
    assert.match(await fact('wallet-send-expiry'), /^If not included by block height \d+ \(about a minute\)/);
    await shot(p, 'wallet-send-solana-01-confirm');
    const before = sent();
    await p.getByTestId('wallet-send-confirm').click();
    await p.getByText('Confirmed', { exact: true }).waitFor();
    assert.equal(sent(), before + 1);
    const id = await fact('wallet-send-hash');
    assert.ok(svm.getTransaction(id), 'LiteSVM knows the transaction by the id shown');
    assert.equal(svm.getBalance(to), 1_500_000_000n);
    assert.equal(svm.getBalance(from), 10n * SOL - 1_500_000_000n - FEE);
    await shot(p, 'wallet-send-solana-02-confirmed');
  });

  await t.test('SPL from the admin\'s list: the recipient\'s token account is created, rent paid by the sender; token balances exact', async () => {
    await openSend();
    const to = (await generateKeyPairSigner()).address;
    const solBefore = svm.getBalance(from);
    await review(to, '250.5', listed);
    assert.equal(await fact('wallet-send-amount-shown'), '250.5 TST');
    assert.equal(await fact('wallet-send-mint-shown'), listed);
    assert.equal(await fact('wallet-send-destination'), await ata(to, listed));
    const rent = svm.minimumBalanceForRentExemption(165n);
    assert.match(await fact('wallet-send-creates'), new RegExp(`you pay its rent, ${Number(rent) / 1e9} SOL\\.$`));
    await shot(p, 'wallet-send-solana-03-spl-confirm');
    await p.getByTestId('wallet-send-confirm').click();
    await p.getByText('Confirmed', { exact: true }).waitFor();
    assert.equal(await tokenBalance(from, listed), 1_000_000_000n - 250_500_000n);
    assert.equal(await tokenBalance(to, listed), 250_500_000n);
    assert.equal(svm.getBalance(from), solBefore - rent - FEE);
    assert.equal(getTokenDecoder().decode(svm.getAccount(await ata(to, listed)).data).owner, to);
    await shot(p, 'wallet-send-solana-04-spl-confirmed');
  });

  await t.test('SPL: more tokens than the wallet holds are refused in plain words; nothing moves', async () => {
    await openSend();
    const to = (await generateKeyPairSigner()).address;
    const solBefore = svm.getBalance(from);
    const held = await tokenBalance(from, listed);
    await review(to, '2000', listed);
    await p.getByTestId('wallet-send-confirm').click();
    await p.getByText('Not sent', { exact: true }).waitFor();
    await p.getByText(/^Not enough of this token to send that amount\. Nothing was sent\./).waitFor();
    assert.equal(await tokenBalance(from, listed), held);
    assert.equal(await tokenBalance(to, listed), null, 'not even the recipient\'s token account was created');
    assert.equal(svm.getBalance(from), solBefore, 'no fee either (refused before execution)');
  });

  await t.test('SPL by mint address: decimals from the wallet\'s own token account; an existing recipient account is not created again', async () => {
    await openSend();
    const to = (await generateKeyPairSigner()).address;
    // The recipient already has a token account for this mint.
    await sendKit(svm, authority, [await getCreateAssociatedTokenIdempotentInstructionAsync({ payer: authority, owner: to, mint: unlisted })]);
    await p.getByTestId('wallet-send-asset').selectOption('mint');
    await p.getByTestId('wallet-send-mint').fill(unlisted);
    await review(to, '12.34', 'mint');
    assert.equal(await fact('wallet-send-amount-shown'), `12.34 ${unlisted.slice(0, 4)}…${unlisted.slice(-4)}`);
    assert.equal(await p.getByTestId('wallet-send-creates').count(), 0);
    await p.getByTestId('wallet-send-confirm').click();
    await p.getByText('Confirmed', { exact: true }).waitFor();
    assert.equal(await tokenBalance(from, unlisted), 10_000n - 1234n);
    assert.equal(await tokenBalance(to, unlisted), 1234n);
  });

  // Every call reached the node through the gateway in Solana's JSON-RPC form.
  const methods = new Set(node.calls.map((c) => c.method));
  for (const m of ['getLatestBlockhash', 'sendTransaction', 'getSignatureStatuses', 'getAccountInfo', 'getTokenAccountBalance']) assert.ok(methods.has(m), m);
  assert.deepEqual(me.errors, []);
});
