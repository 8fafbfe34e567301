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

/** Selects in the wallet module the wallet that the passkey `credentialId` opens, for the next
 * operation only. The first passkey that ever opens the wallet becomes its origin (create-only
 * on the server: a device that loses that race finds the other passkey recorded). Throws
 * `NoWallet` when this passkey opens none. */
export async function selectKey(credentialId) {
  const w = await walletModule();
  let ring = await loadKeyring();
  if (!ring.origin) {
    try {
      await api('PUT', '/api/wallet/keyring/origin', { credential_id: credentialId });
    } catch (e) {
      if (!(e instanceof ApiError) || e.code !== 'wallet_origin_exists') throw e;
    }
    ring = await loadKeyring();
  }
  const env = ring.envelopes.find((e) => e.credential_id === credentialId);
  try {
    w.walletSelectKey({ userId: ring.user_id, credentialId, origin: ring.origin ? ring.origin.credential_id : null, envelope: env ? env.envelope : null });
  } catch (e) {
    if (e && e.code === 'no_wallet') {
      const { passkeys } = await api('GET', '/api/passkeys');
      const name = (id) => (passkeys.find((p) => p.id === id) || {}).name;
      throw new NoWallet(noWalletNotice(name(credentialId) || 'this passkey', ring.origin && name(ring.origin.credential_id)));
    }
    throw e;
  }
  return ring;
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
 * ceremony (`withWalletPrf`), which selects the wallet of whichever passkey answers. */
export async function letIn(withPrf, credentialId, newPrf) {
  const w = await walletModule();
  try {
    const ring = await loadKeyring();
    const sealed = await withPrf((prf) => w.walletSealEnvelope(prf, newPrf, { userId: ring.user_id, credentialId }), { exclude: credentialId }); // zeroes both
    await api('PUT', `/api/wallet/keyring/envelopes/${encodeURIComponent(credentialId)}`, { envelope: sealed.envelope });
  } finally {
    wipe(newPrf);
  }
}

/** A raw credential id from its base64url form (for a ceremony limited to it). */
export const rawIdOf = (id) => b64u.dec(id);
