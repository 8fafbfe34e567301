//! The fixture of the approver bundle's memory test (`e2e/tests/approver-memory.test.mjs`): an
//! approval's inputs as the web app receives them, and every secret the approval handles — the
//! PRF output, the key schedule's pseudorandom key and its four keys, the envelope's label key
//! and DEK, the value — which the Node test looks for in the module's memory after each call.
//!
//! The committed file is checked here against an independent derivation (the secrets follow
//! from the inputs), so a wrong expectation cannot make the scan pass.
//! `BLINDVAULT_UPDATE_FIXTURE=1 cargo test -p blindvault-wasm --test memory_fixture` writes a
//! fresh one (new random keys).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::path::PathBuf;

use blindvault_core::encoding::b64;
use blindvault_core::entry::{KeyMaterial, SealedEntry};
use blindvault_core::schedule::{KeySchedule, PrfOutput, SCHEDULE_SALT_V1};
use blindvault_wasm::bridge::{self, Keys, Org};
use blindvault_wasm::fixture::{Fixture, NOW};
use rand_core::Rng as _;
use serde_json::{Value, json};

fn path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../e2e/tests/fixtures/approver-memory.json")
}

/// Every secret an approval with `prf` on `sealed_entry` handles, by name (hex).
fn secrets(prf: &[u8; 32], sealed_entry: &str) -> Vec<(String, String)> {
    let schedule = KeySchedule::derive(&PrfOutput::from_bytes(*prf));
    let (prk, _) = hkdf::Hkdf::<sha2::Sha256>::extract(Some(SCHEDULE_SALT_V1), prf);
    let entry = SealedEntry::from_bytes(&b64::decode(sealed_entry).unwrap()).unwrap();
    let opened = entry.open_envelope(schedule.approver_secret()).unwrap();
    let KeyMaterial::Dek(dek) = &opened.key else { panic!("an any-of entry holds the DEK") };
    let value = entry.decrypt_value(dek).unwrap();
    let hex = |b: &[u8]| hex::encode(b);
    vec![
        ("PRF output".into(), hex(prf)),
        ("key schedule PRK".into(), hex(&prk)),
        ("approver secret key".into(), hex(schedule.approver_secret().expose())),
        ("wallet entropy".into(), hex(schedule.wallet_entropy().expose())),
        ("local storage key".into(), hex(schedule.local_storage_key().expose())),
        ("wallet envelope PSK".into(), hex(schedule.wallet_envelope_psk().expose())),
        ("label key".into(), hex(opened.label_key.expose())),
        ("DEK".into(), hex(dek.expose())),
        ("value".into(), hex(value.expose())),
    ]
}

#[test]
fn the_approver_memory_fixture_holds_the_secrets_its_inputs_give() {
    if std::env::var("BLINDVAULT_UPDATE_FIXTURE").is_ok_and(|v| v == "1") {
        let mut rng = blindvault_core::rng::os_rng();
        let mut prf = [0u8; 32];
        rng.fill_bytes(&mut prf);
        let mut value = [0u8; 48];
        rng.fill_bytes(&mut value);
        let f = Fixture::with(&prf, &value).unwrap();
        let [org, certificate, signed_request, sealed_entry] = f.inputs();
        let list: Vec<Value> = secrets(&prf, &sealed_entry)
            .into_iter()
            .map(|(name, hex)| json!({ "name": name, "hex": hex }))
            .collect();
        let out = json!({
            "now": NOW,
            "prf": hex::encode(prf),
            "org_public_key": org,
            "certificate": certificate,
            "signed_request": signed_request,
            "sealed_entry": sealed_entry,
            "secrets": list,
        });
        std::fs::write(path(), serde_json::to_string_pretty(&out).unwrap() + "\n").unwrap();
    }
    let saved: Value = serde_json::from_slice(&std::fs::read(path()).unwrap()).unwrap();
    let text = |k: &str| saved[k].as_str().unwrap().to_owned();
    let prf: [u8; 32] = hex::decode(text("prf")).unwrap().try_into().unwrap();
    let listed: Vec<(String, String)> = saved["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].as_str().unwrap().to_owned(), s["hex"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(listed, secrets(&prf, &text("sealed_entry")), "the listed secrets are not the inputs'");
    // And the inputs make an approval, as the bundle will run it.
    let keys = Keys::from_prf(&prf).unwrap();
    let org = Org::parse(&text("org_public_key")).unwrap();
    let now = saved["now"].as_f64().unwrap();
    bridge::approve(&keys, &org, &text("certificate"), &text("signed_request"), &text("sealed_entry"), now)
        .unwrap();
}
