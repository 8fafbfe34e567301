// The codes of the WebAssembly core's failures, thrown as an `Error` with `code` and `message`
// (`crates/wasm/src/bridge.rs`, `Code`). Written out once here for the pages; the test
// `every_code_of_the_bridge_is_in_the_web_apps_list` (crates/wasm/tests/wasm.rs) checks this
// list against the Rust enum, both ways.
export const CODE = Object.freeze({
  BAD_SIGNATURE: 'bad_signature',
  MISMATCH: 'mismatch',
  MALFORMED: 'malformed',
  REVOCATION_ROLLBACK: 'revocation_rollback',
  REVOCATION_DIVERGED: 'revocation_diverged',
  HOST_REVOKED: 'host_revoked',
  APPROVER_REVOKED: 'approver_revoked',
  EXPIRED: 'expired',
  NOT_YET_VALID: 'not_yet_valid',
  ENTRY_NOT_ALLOWED: 'entry_not_allowed',
  ENTRY_UNSIGNED: 'entry_unsigned',
  ENTRY_ROLLBACK: 'entry_rollback',
  NO_ENVELOPE: 'no_envelope',
  DECRYPT: 'decrypt',
  NOT_BASE64: 'not_base64',
  CLOCK: 'clock',
  NOT_ORG_KEY: 'not_org_key',
  PRF_LENGTH: 'prf_length',
  STORED_VALUE: 'stored_value',
  OTHER_DEVICE: 'other_device',
});

/**
 * Whether a failed check of a request points at a compromised server or requesting machine
 * (a forged or mixed-up chain, a hidden revocation, a revoked machine or device) rather than at
 * something benign (expiry, this device's clock, an entry not sealed to this device, …).
 */
export function pointsAtTampering(code) {
  switch (code) {
    case CODE.BAD_SIGNATURE:
    case CODE.MISMATCH:
    case CODE.MALFORMED:
    case CODE.REVOCATION_ROLLBACK:
    case CODE.REVOCATION_DIVERGED:
    case CODE.HOST_REVOKED:
    case CODE.APPROVER_REVOKED:
      return true;
    default:
      return false;
  }
}
