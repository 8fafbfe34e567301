// One wallet on every passkey of a person (docs/wallet.md, "More than one device";
// docs/protocol.md §2.1). The person's wallet is the wallet of their origin passkey (the first
// that opened it); each other passkey opens it through a wallet envelope, sealed on a device that
// could already open the wallet while it held that passkey's PRF output. The server keeps the
// keyring (the origin's credential id and the envelopes: public data); the wallet module decides
// from it, per ceremony, which wallet the PRF output opens — never the passkey's own by mistake.
import { ApiError, api } from './api.js';
import { h } from './dom.js';
import { b64u, getAssertion, wipe } from './webauthn.js';
import { walletModule } from './wallet.js';

export const loadKeyring = () => api('GET', '/api/wallet/keyring');

/** The passkeys (of `passkeys`, the person's list) that can open the wallet: the origin and
 * those with an envelope. */
export function openers(ring, passkeys) {
  const isOrigin = (p) => !!ring.origin && ring.origin.credential_id === p.id;
  return passkeys
    .filter((p) => isOrigin(p) || ring.envelopes.some((e) => e.credential_id === p.id))
    .map((p) => ({ ...p, how: isOrigin(p) ? 'origin' : 'envelope' }));
}

/** Why a passkey cannot open the wallet, and what to do: a notice the page shows. */
export function noWalletNotice(passkeyName, originName) {
  const owner = originName
    ? `Your wallet is the one of your passkey “${originName}”; this passkey has not been let in yet.`
    : 'Your wallet is the one of a passkey you have since removed; this passkey has not been let in.';
  return h('div.notice.warn', { role: 'alert', 'data-testid': 'wallet-no-envelope' },
    h('strong', { text: `The passkey “${passkeyName}” cannot open your wallet yet` }),
    h('p', { text: owner }),
    h('p', { text: 'To open it here:' }),
    h('ul', {},
      h('li', { text: 'On a device whose passkey opens the wallet, unlock it, then under “Passkeys that open this wallet” choose “Let a passkey open this wallet” and use this passkey (a security key, or a phone nearby). Or add this device as a new passkey from the Account page of that device.' }),
      h('li', { text: 'If no passkey opens it any more, only the wallet\'s 24-word recovery phrase restores it — in any BIP-39 wallet app, or on the command line with “blindvault wallet addresses”.' })),
    h('p.small.muted', { text: 'blindvault never opens another wallet instead: this passkey\'s own keys would be a different wallet with different addresses.' }));
}

/** A thrown "this passkey opens no wallet", shown as its notice (ui.js `errorNotice`). */
export class NoWallet extends Error {
  constructor(notice) { super('This passkey cannot open your wallet yet.'); this.code = 'no_wallet'; this.notice = notice; }
}

/** What the wallet module needs to select the wallet that the passkey `credentialId` opens
 * (`walletSelectKey`'s request: public data from the keyring `ring`). The first passkey that ever
 * opens the wallet becomes its origin: its ceremony was then the step-up `originStepUp`
 * (`wallet.origin.set`, which the server takes only from that very passkey). Create-only on the
 * server: a device that loses that race finds the other passkey recorded. */
export async function keySelection(credentialId, ring, originStepUp = null) {
  if (!ring.origin) {
    try {
      await api('PUT', '/api/wallet/keyring/origin', { credential_id: credentialId },
        originStepUp ? { 'x-blindvault-step-up': originStepUp } : {});
    } catch (e) {
      if (!(e instanceof ApiError) || e.code !== 'wallet_origin_exists') throw e;
    }
    ring = await loadKeyring();
  }
  if (ring.origin) pinOrigin(ring.user_id, ring.origin.credential_id);
  const env = ring.envelopes.find((e) => e.credential_id === credentialId);
  return { userId: ring.user_id, credentialId, origin: ring.origin ? ring.origin.credential_id : null, envelope: env ? env.envelope : null };
}

/** The origin never changes (create-only on the server). This browser remembers the one it saw
 * first for each person (`blindvault:wallet:origin:<user id>`, public) and refuses to open a
 * wallet when the server names another: a server that swapped it would make this device open
 * another wallet of the person's (docs/protocol.md §2.1). */
export function pinOrigin(userId, originId) {
  const key = `blindvault:wallet:origin:${userId}`;
  const seen = localStorage.getItem(key);
  if (!seen) {
    localStorage.setItem(key, originId);
    return;
  }
  if (seen !== originId) {
    const e = new Error('The server now names another passkey as the one your wallet belongs to than this browser saw before. A wallet\'s origin never changes, so the wallet was not opened: this device would show other addresses than yours. Tell your administrator.');
    e.code = 'origin_changed';
    throw e;
  }
}

/** Runs `use` — one wallet module operation, called at once — on the wallet that the selection
 * `req` (from `keySelection`) names. Selecting, the operation and clearing the selection run back
 * to back, with no `await` between them: no other wallet flow of this page can run in between and
 * take or replace the selection, and an operation that does not start at once finds none
 * (`no_selection`: no wallet, never the passkey's own). Throws `NoWallet` (with its notice) when
 * the passkey opens no wallet. */
export async function withKey(w, req, use) {
  try {
    w.walletSelectKey(req);
  } catch (e) {
    if (e && e.code === 'no_wallet') throw await noWallet(req);
    throw e;
  }
  try {
    return use();
  } finally {
    w.walletForgetKey();
  }
}

async function noWallet(req) {
  const { passkeys } = await api('GET', '/api/passkeys');
  const name = (id) => (passkeys.find((p) => p.id === id) || {}).name;
  return new NoWallet(noWalletNotice(name(req.credentialId) || 'this passkey', req.origin && name(req.origin)));
}

/** The PRF output of the new passkey `created` (from `createCredential`): the one it returned at
 * registration, or else an assertion limited to that passkey right away. A `prf.enabled` flag
 * alone is not trusted: without an output, no envelope. */
export async function newPasskeyPrf(created) {
  if (created.prf && created.prf.length === 32) return created.prf;
  const start = await api('POST', '/api/login/start');
  const a = await getAssertion(start.options, { only: created.rawId });
  if (!a.prf || a.prf.length !== 32) { wipe(a.prf); return null; }
  return a.prf;
}

/** Lets the passkey `credentialId` (whose PRF output is `newPrf`, zeroed here) open the wallet:
 * a ceremony with a passkey that opens it now (not the new one), then the wallet module seals
 * that wallet to the new passkey and the envelope is stored. `withPrf` is the wallet page's
 * ceremony (`withWalletPrf`), which selects the wallet of whichever passkey answers; that
 * ceremony is also the step-up the server asks for the envelope (`wallet.envelope.put`, bound to
 * the new passkey's id), so a session alone cannot store one. */
export async function letIn(withPrf, credentialId, newPrf) {
  try {
    const w = await walletModule();
    const ring = await loadKeyring();
    // No wallet opened yet: a first ceremony records its passkey as the origin (one ceremony
    // cannot be the step-up of both writes).
    if (!ring.origin) await withPrf(() => null, { exclude: credentialId });
    const seen = {};
    const sealed = await withPrf((prf) => w.walletSealEnvelope(prf, newPrf, { userId: ring.user_id, credentialId }), // zeroes both
      { exclude: credentialId, stepUp: { action: 'wallet.envelope.put', target: credentialId }, seen });
    await api('PUT', `/api/wallet/keyring/envelopes/${encodeURIComponent(credentialId)}`, { envelope: sealed.envelope },
      { 'x-blindvault-step-up': seen.stepUp });
  } finally {
    wipe(newPrf);
  }
}

/** A raw credential id from its base64url form (for a ceremony limited to it). */
export const rawIdOf = (id) => b64u.dec(id);
