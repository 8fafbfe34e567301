// WebAuthn ceremonies with the PRF extension. The PRF salt comes from the core, never from the
// server; PRF output never leaves this page: it is turned into keys in WebAssembly and those are
// freed right after use.
import { ApiError } from './api.js';
import { DeviceKeys, prfSalt } from './wasm.js';

export const b64u = {
  enc(buf) {
    const bytes = buf instanceof Uint8Array ? buf : new Uint8Array(buf);
    let s = '';
    for (const b of bytes) s += String.fromCharCode(b);
    return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  },
  dec(s) {
    const t = s.replace(/-/g, '+').replace(/_/g, '/');
    const bin = atob(t + '='.repeat((4 - (t.length % 4)) % 4));
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  },
};

/** The message shown whenever a passkey gives no PRF output. blindvault never falls back. */
export const PRF_UNSUPPORTED =
  'This passkey cannot evaluate the PRF extension, so blindvault cannot derive your keys from it. ' +
  'blindvault never falls back to a weaker key.';

export const PRF_PLATFORMS = [
  'iPhone, iPad or Mac with iCloud Keychain (iOS / macOS 18 or later, Safari or Chrome)',
  'Android with Google Password Manager (Chrome)',
  'Chrome or Edge on Windows, macOS or Linux, with passkeys saved in Google Password Manager',
  'A FIDO2 security key with hmac-secret (for example YubiKey 5 series) in Chrome, Edge or Firefox',
];

export class PrfUnsupported extends Error {
  constructor() { super(PRF_UNSUPPORTED); this.code = 'prf_unsupported'; }
}

export function requireWebAuthn() {
  if (!window.PublicKeyCredential || !navigator.credentials) {
    throw new ApiError(0, 'no_webauthn', 'This browser does not support passkeys (WebAuthn). Use a current Chrome, Edge, Safari or Firefox.');
  }
}

// The PRF salt comes from the core, never from the server.
export const prfInput = () => ({ prf: { eval: { first: prfSalt() } } });

export async function createCredential(options) {
  requireWebAuthn();
  const pk = structuredClone(options.publicKey);
  pk.challenge = b64u.dec(pk.challenge);
  pk.user = { ...pk.user, id: b64u.dec(pk.user.id) };
  pk.excludeCredentials = (pk.excludeCredentials || []).map((c) => ({ ...c, id: b64u.dec(c.id) }));
  pk.extensions = prfInput();
  // User verification is the page's rule, not the server's: a security key's PRF output depends
  // on whether it verified the person, so "discouraged" from a lying server would enrol a
  // touch-only key.
  pk.authenticatorSelection = { ...(pk.authenticatorSelection || {}), userVerification: 'required' };
  const cred = await navigator.credentials.create({ publicKey: pk });
  const r = cred.response;
  const json = {
    id: cred.id,
    rawId: b64u.enc(cred.rawId),
    type: cred.type,
    response: {
      attestationObject: b64u.enc(r.attestationObject),
      clientDataJSON: b64u.enc(r.clientDataJSON),
      transports: typeof r.getTransports === 'function' ? r.getTransports() : [],
    },
    extensions: {},
  };
  const prf = cred.getClientExtensionResults().prf;
  return {
    json, rawId: new Uint8Array(cred.rawId), prfEnabled: !!(prf && prf.enabled),
    prf: prf && prf.results && prf.results.first ? new Uint8Array(prf.results.first) : null,
  };
}

/** An assertion, with the PRF extension when `prf` (only where a key is needed). `only` limits
 * it to one credential (raw id). Returns the JSON for the server (never any PRF output) and the
 * PRF output separately (or null). */
export async function getAssertion(options, { prf: wantPrf = true, only = null } = {}) {
  requireWebAuthn();
  const pk = structuredClone(options.publicKey);
  pk.challenge = b64u.dec(pk.challenge);
  pk.allowCredentials = only
    ? [{ type: 'public-key', id: only }]
    : (pk.allowCredentials || []).map((c) => ({ ...c, id: b64u.dec(c.id) }));
  if (wantPrf) pk.extensions = prfInput();
  else delete pk.extensions;
  pk.userVerification = 'required';
  const cred = await navigator.credentials.get({ publicKey: pk });
  const r = cred.response;
  // Flags byte of authenticatorData (after the 32-byte RP id hash): UV is bit 2. No key is
  // derived from an assertion that did not verify the person.
  if (!(new Uint8Array(r.authenticatorData)[32] & 0x04)) {
    throw new ApiError(0, 'uv_missing', 'Your passkey did not verify you (PIN, fingerprint or face). Try again, and set up a PIN or biometric on the security key if it has none.');
  }
  const json = {
    id: cred.id,
    rawId: b64u.enc(cred.rawId),
    type: cred.type,
    response: {
      authenticatorData: b64u.enc(r.authenticatorData),
      clientDataJSON: b64u.enc(r.clientDataJSON),
      signature: b64u.enc(r.signature),
      userHandle: r.userHandle ? b64u.enc(r.userHandle) : null,
    },
    extensions: {},
  };
  const prf = cred.getClientExtensionResults().prf;
  const out = wantPrf && prf && prf.results && prf.results.first ? new Uint8Array(prf.results.first) : null;
  return { json, credentialId: cred.id, rawId: new Uint8Array(cred.rawId), prf: out };
}

/** Overwrites a PRF output (or any byte array) held by JavaScript. */
export const wipe = (a) => { if (a) a.fill(0); };

/** Runs the key schedule on a PRF output, hands the keys to `use`, frees them after. */
export async function withKeys(prf, use) {
  if (!prf || prf.length !== 32) { wipe(prf); throw new PrfUnsupported(); }
  const keys = new DeviceKeys(prf); // zeroes `prf` (WebAssembly and JavaScript copies)
  try { return await use(keys); } finally { keys.free(); }
}
