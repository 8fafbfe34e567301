//! # blindvault-wasm
//!
//! The core ([`blindvault_core`]) for the browser. This crate has no logic of its own: every
//! function converts JavaScript values (strings of unpadded base64url, `Uint8Array`, numbers) to
//! the core's types, calls the core, and converts back. JavaScript drives WebAuthn, the DOM and
//! `fetch`; key derivation, verification, envelope opening and sealing all run here.
//!
//! The conversions live in [`bridge`] as plain Rust (tested natively); the `#[wasm_bindgen]`
//! wrappers below only turn a [`bridge::Failure`] into a JavaScript `Error` with a `code`
//! ([`bridge::Code`], listed for the web app in `web/js/codes.js`) and a `message`.
//!
//! Secrets: [`DeviceKeys`] holds the PRF-derived key schedule; the core's types zeroize on drop,
//! which happens when JavaScript calls `free()` (the app does so right after each use). Nothing
//! else stays in the module's linear memory (which any script in the page can read) after a
//! call, as in the wallet bundle (docs/wallet.md, "Keys are wiped from WebAssembly memory"):
//! every heap block is zeroed when it is freed (the global allocator is 1Password's
//! `zeroizing_alloc::ZeroAlloc` around the target's), and every call that touches a secret runs
//! in a callee and then scrubs the stack that callee used ([`scrubbed`]). The keys live in a box,
//! so the value JavaScript holds is a pointer: no copy of them is left in a caller's frame.
//! `e2e/tests/approver-memory.test.mjs` checks it on the production bundle.

pub mod bridge;
/// The benchmark fixture: native builds (tests, `benches/approve.rs`) and the benchmark bundle
/// only — the production bundle (`wasm32` without the `bench` feature) does not carry it.
#[cfg(any(feature = "bench", not(target_arch = "wasm32")))]
pub mod fixture;

use wasm_bindgen::prelude::*;

use crate::bridge::Failure;

/// Every heap block is zeroed when freed.
#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
#[global_allocator]
static ALLOCATOR: zeroizing_alloc::ZeroAlloc<std::alloc::System> =
    zeroizing_alloc::ZeroAlloc(std::alloc::System);

/// The stack [`scrubbed`] overwrites below its frame: 256 KiB (64 Ki words), far beyond the
/// deepest approval (as in the wallet bundle; Rust gives a wasm32 module a 1 MiB stack).
const SCRUB_WORDS: usize = 256 * 1024 / 8;

/// Runs `op`, which handles a secret, in a callee, then overwrites the stack that callee used:
/// this frame holds only the (public, or boxed) answer.
fn scrubbed<T>(op: impl FnOnce() -> T) -> T {
    let out = run(op);
    blindvault_core::secret::scrub_stack::<SCRUB_WORDS>();
    out
}

#[inline(never)]
fn run<T>(op: impl FnOnce() -> T) -> T {
    op()
}

/// A failure as JavaScript sees it: an `Error` whose `message` is the sentence for the person
/// and whose `code` is the [`bridge::Code`]'s wire form (the list in `web/js/codes.js`).
#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
fn js(e: Failure) -> JsValue {
    let err = js_sys::Error::new(e.message());
    // Setting a property on a fresh Error object cannot fail.
    let _ = js_sys::Reflect::set(&err, &JsValue::from_str("code"), &JsValue::from_str(e.code().as_str()));
    err.into()
}

/// Natively (the crate's tests call `bridge` directly) there is no JavaScript to throw to.
#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
fn js(e: Failure) -> JsValue {
    JsValue::from_str(e.message())
}

/// The 32-byte PRF salt every ceremony passes as `prf.eval.first` (the server sends the same).
#[wasm_bindgen(js_name = prfSalt)]
pub fn prf_salt() -> Vec<u8> {
    bridge::prf_salt().to_vec()
}

/// An organisation public key pinned from an invite link.
#[wasm_bindgen]
#[derive(Debug)]
pub struct OrgKey(bridge::Org);

#[wasm_bindgen]
impl OrgKey {
    /// Parses the base64url form carried in an invite link's fragment.
    #[wasm_bindgen(js_name = fromBase64)]
    pub fn from_base64(s: &str) -> Result<OrgKey, JsValue> {
        bridge::Org::parse(s).map(OrgKey).map_err(js)
    }
    /// The short fingerprint people compare by eye.
    pub fn fingerprint(&self) -> String {
        self.0.fingerprint()
    }
    /// The canonical base64url form.
    #[wasm_bindgen(js_name = toBase64)]
    pub fn to_base64(&self) -> String {
        self.0.to_base64()
    }
}

/// The keys one PRF evaluation derives on this device. Call `free()` as soon as the operation
/// that needed them is done.
#[wasm_bindgen]
#[derive(Debug)]
pub struct DeviceKeys(Box<bridge::Keys>);

#[wasm_bindgen]
impl DeviceKeys {
    /// Runs the key schedule on a 32-byte PRF output, then overwrites the given bytes with
    /// zeros (a `&mut` slice: wasm-bindgen copies the zeros back into the caller's
    /// `Uint8Array`, so neither the WebAssembly copy nor the JavaScript one keeps the output).
    #[wasm_bindgen(constructor)]
    pub fn new(prf: &mut [u8]) -> Result<DeviceKeys, JsValue> {
        scrubbed(|| {
            let keys = bridge::Keys::from_prf(prf).map(Box::new);
            zeroize::Zeroize::zeroize(prf);
            keys
        })
        .map(DeviceKeys)
        .map_err(js)
    }
    /// The approver X25519 public key (base64url) this device enrols.
    #[wasm_bindgen(js_name = approverPublicKey)]
    pub fn approver_public_key(&self) -> String {
        scrubbed(|| self.0.approver_public_key())
    }
    /// The approver key's fingerprint (what the admin's `approver list` shows).
    #[wasm_bindgen(js_name = approverFingerprint)]
    pub fn approver_fingerprint(&self) -> String {
        scrubbed(|| self.0.approver_fingerprint())
    }
    /// Seals `plaintext` for the local-storage slot `name` (base64url out).
    #[wasm_bindgen(js_name = sealLocal)]
    pub fn seal_local(&self, name: &str, plaintext: &str) -> Result<String, JsValue> {
        scrubbed(|| self.0.seal_local(name, plaintext)).map_err(js)
    }
    /// Opens a value sealed by `sealLocal` for the same slot.
    #[wasm_bindgen(js_name = openLocal)]
    pub fn open_local(&self, name: &str, sealed: &str) -> Result<String, JsValue> {
        scrubbed(|| self.0.open_local(name, sealed)).map_err(js)
    }
}

/// Verifies this device's signed enrolment against the pinned org key and its own approver key,
/// valid at `now` (Unix seconds). Returns JSON `{"user_id", "issued_at", "not_after"}`.
#[wasm_bindgen(js_name = verifyEnrolment)]
pub fn verify_enrolment(
    org: &OrgKey,
    signed_enrolment: &str,
    approver_public_key: &str,
    now: f64,
) -> Result<String, JsValue> {
    bridge::verify_enrolment(&org.0, signed_enrolment, approver_public_key, now).map_err(js)
}

/// First half of the revocation check, before approving: the server's record (base64url;
/// empty: none) is signed by the pinned org key and append-only against `seen` (the record this
/// device remembers for this org; empty: none). Returns the record to remember — store it
/// before calling [`verify_revocations`], so a record that refuses this request still counts.
#[wasm_bindgen(js_name = acceptRevocations)]
pub fn accept_revocations(org: &OrgKey, record: &str, seen: &str) -> Result<String, JsValue> {
    bridge::accept_revocations(&org.0, record, seen).map_err(js)
}

/// Second half: the record [`accept_revocations`] returned names neither the request's host
/// certificate nor this device's approver key. Returns its epoch.
#[wasm_bindgen(js_name = verifyRevocations)]
pub fn verify_revocations(
    org: &OrgKey,
    record: &str,
    certificate: &str,
    approver_public_key: &str,
) -> Result<f64, JsValue> {
    bridge::verify_revocations(&org.0, record, certificate, approver_public_key).map(|e| e as f64).map_err(js)
}

/// Verifies a request's chain from the pinned org key: org → host certificate → request, at
/// `now` (Unix seconds, this device's clock), and that the sealed entry is the one requested.
/// Returns JSON of what was verified (see [`bridge::Verified`]).
#[wasm_bindgen(js_name = verifyRequest)]
pub fn verify_request(
    org: &OrgKey,
    certificate: &str,
    signed_request: &str,
    sealed_entry: &str,
    now: f64,
) -> Result<String, JsValue> {
    bridge::verify(&org.0, certificate, signed_request, sealed_entry, now)
        .map_err(js)
        .and_then(|v| serde_json::to_string(&v).map_err(|e| JsError::new(&e.to_string()).into()))
}

/// Opens this device's envelope of the entry and decrypts its label (shown before approving),
/// after checking that the pinned org key signed the entry.
#[wasm_bindgen(js_name = openLabel)]
pub fn open_label(keys: &DeviceKeys, org: &OrgKey, sealed_entry: &str) -> Result<String, JsValue> {
    scrubbed(|| bridge::open_label(&keys.0, &org.0, sealed_entry)).map_err(js)
}

/// The approval: re-verifies the chain, opens this device's envelope and seals the secret (or
/// this person's share) to the request's ephemeral key. Returns the sealed response (base64url).
#[wasm_bindgen]
pub fn approve(
    keys: &DeviceKeys,
    org: &OrgKey,
    certificate: &str,
    signed_request: &str,
    sealed_entry: &str,
    now: f64,
) -> Result<String, JsValue> {
    scrubbed(|| bridge::approve(&keys.0, &org.0, certificate, signed_request, sealed_entry, now)).map_err(js)
}

/// A fixed approval for the benchmark: the same operation the native bench measures. Only in the
/// benchmark bundle (`bench` feature).
#[cfg(feature = "bench")]
#[wasm_bindgen]
#[derive(Debug)]
pub struct ApproveBench(fixture::Fixture);

#[cfg(feature = "bench")]
#[wasm_bindgen]
impl ApproveBench {
    /// Builds the fixture (org, approver, entry, host certificate, request).
    #[wasm_bindgen(constructor)]
    pub fn new() -> Result<ApproveBench, JsValue> {
        fixture::Fixture::new().map(ApproveBench).map_err(js)
    }
    /// One approval (verify + open + reseal), as the approve button does it.
    pub fn run(&self) -> Result<usize, JsValue> {
        self.0.run().map_err(js)
    }
}
