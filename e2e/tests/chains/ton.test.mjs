// TON transfers the wallet bundle builds and signs, executed in @ton/sandbox (the TON emulator)
// against a wallet v4R2 contract for the wallet's public key: the amount arrives, the seqno
// moves on, and a replay, a wrong seqno or an expired message is refused by the contract.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Blockchain } from '@ton/sandbox';
import { flattenTransaction } from '@ton/test-utils';
import { WalletContractV4 } from '@ton/ton';
import { Address, Cell, toNano } from '@ton/core';
import { loadWallet, secretsOf, testPrf } from './lib.mjs';

const { own: api } = await loadWallet(); // each operation on the test PRF output's own wallet
const prf = () => testPrf(0x22);
const NOW = 1_800_000_000; // the emulator's clock, set: nothing here depends on the real time

async function chain() {
  const bc = await Blockchain.create();
  bc.now = NOW;
  return bc;
}

const tonAddress = (account) => api.walletAddresses(prf(), account).find((a) => a.chain === 'ton').address;
const balance = async (bc, address) => (await bc.getContract(address)).balance;
/** A fresh address nobody deployed (the recipient). */
const nobody = (n) => new Address(0, Buffer.alloc(32, n));

/** The in-message of the transaction on `to` among a send's transactions. */
function arrival(result, to) {
  const flat = result.transactions.map(flattenTransaction).filter((t) => t.to?.equals(to) && t.from);
  assert.equal(flat.length, 1, `one message reached ${to}`);
  return flat[0];
}

test('a transfer signed by the wallet executes on a deployed v4R2 wallet; replay, wrong seqno and expired ones are refused', async () => {
  const bc = await chain();
  // The v4R2 contract for the independently derived public key (@ton/ton's own code and data).
  const { tonPublicKey } = secretsOf(prf());
  const wallet = bc.openContract(WalletContractV4.create({ workchain: 0, publicKey: tonPublicKey }));
  assert.equal(wallet.address.toString({ bounceable: false }), tonAddress(0), 'the wallet bundle gives the same address');
  // Deployed and funded by another account.
  const funder = await bc.treasury('funder');
  await funder.send({ to: wallet.address, value: toNano('10'), init: wallet.init, bounce: false });
  assert.equal(await wallet.getSeqno(), 0);
  const start = await balance(bc, wallet.address);

  const to = nobody(7);
  const amount = toNano('1.5');
  const request = (over) => ({
    to: to.toString({ bounceable: false }), amountNano: amount.toString(), comment: 'from blindvault',
    seqno: 0, validUntil: NOW + 60, now: NOW, ...over,
  });
  const signed = api.tonSignTransfer(prf(), request());
  assert.equal(signed.from, tonAddress(0));
  const message = Cell.fromBase64(signed.boc);
  assert.equal(message.hash().toString('hex'), signed.hash);

  const result = await bc.sendMessage(message);
  const got = arrival(result, to);
  assert.equal(got.value, amount, 'the amount arrived');
  const body = got.body.beginParse();
  assert.equal(body.loadUint(32), 0, 'a text comment');
  assert.equal(body.loadStringTail(), 'from blindvault');
  assert.equal(await balance(bc, to), amount);
  assert.equal(await wallet.getSeqno(), 1, 'the seqno moved on');
  const spent = start - (await balance(bc, wallet.address));
  assert.ok(spent > amount && spent < amount + toNano('0.05'), `the wallet paid the amount and a fee (${spent})`);

  // The same message again: the contract refuses it (seqno 0 is used), nothing moves.
  await assert.rejects(bc.sendMessage(message), /not accepted|exit code|failed/i, 'a replay');
  assert.equal(await wallet.getSeqno(), 1);
  assert.equal(await balance(bc, to), amount);
  // A seqno ahead of the wallet's, and a message past its validUntil: refused too.
  await assert.rejects(bc.sendMessage(Cell.fromBase64(api.tonSignTransfer(prf(), request({ seqno: 5 })).boc)), /not accepted|exit code|failed/i, 'a wrong seqno');
  await assert.rejects(bc.sendMessage(Cell.fromBase64(api.tonSignTransfer(prf(), request({ seqno: 1, validUntil: NOW - 1, now: NOW - 61 })).boc)), /not accepted|exit code|failed/i, 'an expired message');
  // The module itself refuses an expiry not after the page's clock, or more than 600 s after it.
  assert.throws(() => api.tonSignTransfer(prf(), request({ validUntil: NOW })), { code: 'transaction' });
  assert.throws(() => api.tonSignTransfer(prf(), request({ validUntil: NOW + 601 })), { code: 'transaction' });
  assert.equal(await wallet.getSeqno(), 1);

  // The next seqno goes through.
  await bc.sendMessage(Cell.fromBase64(api.tonSignTransfer(prf(), request({ seqno: 1, amountNano: '1000' })).boc));
  assert.equal(await wallet.getSeqno(), 2);
  assert.equal(await balance(bc, to), amount + 1000n);
});

test('the first transfer of a wallet nobody deployed carries its StateInit and deploys it', async () => {
  const bc = await chain();
  const mine = Address.parse(tonAddress(1));
  const funder = await bc.treasury('funder');
  await funder.send({ to: mine, value: toNano('3'), bounce: false });
  assert.equal((await bc.getContract(mine)).accountState?.type, 'uninit');

  const to = nobody(9);
  const signed = api.tonSignTransfer(prf(), { account: 1, to: to.toString({ bounceable: false }), amountNano: '700000000', seqno: 0, validUntil: NOW + 60, now: NOW });
  assert.equal(signed.from, mine.toString({ bounceable: false }));
  const result = await bc.sendMessage(Cell.fromBase64(signed.boc));
  assert.equal(arrival(result, to).value, 700_000_000n);
  assert.equal((await bc.getContract(mine)).accountState?.type, 'active', 'deployed by its own first message');
  const seqno = await bc.runGetMethod(mine, 'seqno');
  assert.equal(seqno.stackReader.readNumber(), 1, 'and its seqno moved on');
});
