// The bridge to the WebAssembly core (../pkg, built from crates/wasm by scripts/build-web.sh):
// every key derivation, verification, envelope opening and sealing runs there.
export {
  default as init, prfSalt, OrgKey, DeviceKeys, verifyRequest, acceptRevocations, verifyRevocations, openLabel, approve,
} from '../pkg/blindvault_wasm.js';
