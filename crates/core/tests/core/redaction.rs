//! Secret types never print their bytes.

use crate::util::*;
use blindvault_core::entry::{Dek, KeyMaterial, LabelKey, seal_entry};
use blindvault_core::keys::{EphemeralSecretKey, HostSecretKey, OrgSecretKey};
use blindvault_core::policy::Policy;
use blindvault_core::schedule::{KeySchedule, LocalStorageKey, PrfOutput, WalletEntropy};
use blindvault_core::secret::SecretBytes;

/// Asserts `dbg` contains none of the usual renderings of `secret`.
fn assert_hidden(dbg: &str, secret: &[u8]) {
    assert!(dbg.contains("REDACTED"), "not marked redacted: {dbg}");
    let hexed = hex(secret);
    let decimal = format!("{secret:?}");
    let b64 = blindvault_core::encoding::b64::encode(secret);
    for needle in [hexed.as_str(), decimal.trim_matches(|c| c == '[' || c == ']'), b64.as_str()] {
        assert!(!dbg.contains(needle), "secret visible in {dbg}");
    }
}

#[test]
fn secrets_are_redacted_in_debug() {
    let raw = [0xA7u8; 32];
    assert_hidden(&format!("{:?}", PrfOutput::from_bytes(raw)), &raw);
    assert_hidden(&format!("{:?}", WalletEntropy::from_bytes(raw)), &raw);
    assert_hidden(&format!("{:?}", LocalStorageKey::from_bytes(raw)), &raw);
    assert_hidden(&format!("{:?}", Dek::from_bytes(raw)), &raw);
    assert_hidden(&format!("{:?}", LabelKey::from_bytes(raw)), &raw);
    assert_hidden(&format!("{:?}", OrgSecretKey::from_bytes(raw)), &raw);
    assert_hidden(&format!("{:?}", HostSecretKey::from_bytes(raw)), &raw);
    assert_hidden(&format!("{:?}", EphemeralSecretKey::from_bytes(raw)), &raw);
    assert_hidden(
        &format!("{:?}", SecretBytes::from_slice(b"correct horse battery staple")),
        b"correct horse battery staple",
    );

    let ks = KeySchedule::derive(&PrfOutput::from_bytes(raw));
    let dbg = format!("{ks:?}");
    assert_hidden(&dbg, ks.wallet_entropy().expose());
    assert_hidden(&dbg, ks.approver_secret().expose());
    assert_hidden(&dbg, ks.local_storage_key().expose());
}

#[test]
fn opened_envelopes_and_releases_are_redacted() {
    let w = World::new("redact");
    let devs: Vec<Device> = (0..2).map(|i| Device::new(&format!("p{i}"), i)).collect();
    let ap: Vec<_> = devs.iter().map(|d| d.verified(&w.org)).collect();
    let value = b"do-not-print-me-0123456789";
    for policy in [Policy::AnyOf { n: 2 }, Policy::MOfN { m: 2, n: 2 }] {
        let e = seal_entry(&w.org, w.entry_id, 1, policy, &ap, b"l", value, &mut rng("s")).unwrap();
        let opened = e.open_envelope(devs[0].keys.approver_secret()).unwrap();
        let dbg = format!("{opened:?}");
        assert_hidden(&dbg, opened.label_key.expose());
        match &opened.key {
            KeyMaterial::Dek(d) => assert_hidden(&dbg, d.expose()),
            KeyMaterial::Share(_) => assert!(dbg.contains("y: [REDACTED]")),
        }
        let (eph, req) = w.request("r");
        let v = blindvault_core::identity::verify_request(&w.org.public_key(), &w.cert, &req, NOW).unwrap();
        let resp =
            blindvault_core::release::approve(devs[0].keys.approver_secret(), &v, &e, &mut rng("x")).unwrap();
        let rel = blindvault_core::release::open_response(&eph, &req, &resp, &ap[0]).unwrap();
        let dbg = format!("{rel:?}");
        assert!(!dbg.contains("do-not-print-me"), "{dbg}");
        assert!(dbg.contains("REDACTED"));
        // Errors say nothing about contents.
        let err = e.decrypt_value(&Dek::from_bytes([0; 32])).unwrap_err();
        assert_eq!(err.to_string(), "decryption failed");
    }
}

/// The Shamir crate wipes its field elements — the dealer's polynomials, whose constant terms are
/// DEK bytes, the shares and the interpolation's temporaries — only with its `zeroize_memory`
/// feature (docs/threat-model.md). This stops compiling if that feature is ever dropped.
#[test]
fn the_shamir_crate_wipes_its_field_elements() {
    // With the feature, `Share` derives `Zeroize` with `#[zeroize(drop)]` (a `Drop` that wipes);
    // without it, no `Zeroize` at all.
    fn wipes<T: zeroize::Zeroize>() {}
    wipes::<blahaj::Share>();
}
