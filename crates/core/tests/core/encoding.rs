//! Decoders reject trailing bytes, unknown versions, wrong lengths.

use crate::util::*;
use blindvault_core::Error;
use blindvault_core::entry::{SealedEntry, seal_entry};
use blindvault_core::identity::{SignedEnrolment, SignedHostCertificate, SignedRequest};
use blindvault_core::keys::OrgPublicKey;
use blindvault_core::policy::Policy;
use blindvault_core::release::SealedResponse;

type Parse = fn(&[u8]) -> Result<(), Error>;

fn all_encodings() -> Vec<(&'static str, Vec<u8>, Parse)> {
    let w = World::new("enc");
    let a = Device::new("a", 1);
    let e = seal_entry(
        &w.org,
        w.entry_id,
        1,
        Policy::AnyOf { n: 1 },
        &[a.verified(&w.org)],
        b"l",
        b"v",
        &mut rng("s"),
    )
    .unwrap();
    let (_eph, req) = w.request("r");
    let v = blindvault_core::identity::verify_request(&w.org.public_key(), &w.cert, &req, NOW).unwrap();
    let resp = blindvault_core::release::approve(a.keys.approver_secret(), &v, &e, &mut rng("x")).unwrap();
    vec![
        ("entry", e.to_bytes(), |b| SealedEntry::from_bytes(b).map(drop)),
        ("enrolment", a.enrolment(&w.org).to_bytes(), |b| SignedEnrolment::from_bytes(b).map(drop)),
        ("cert", w.cert.to_bytes(), |b| SignedHostCertificate::from_bytes(b).map(drop)),
        ("request", req.to_bytes(), |b| SignedRequest::from_bytes(b).map(drop)),
        ("response", resp.to_bytes(), |b| SealedResponse::from_bytes(b).map(drop)),
        ("org", w.org.public_key().to_bytes(), |b| OrgPublicKey::from_bytes(b).map(drop)),
    ]
}

#[test]
fn decoders_are_strict() {
    for (name, bytes, parse) in all_encodings() {
        parse(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        // Trailing byte.
        let mut t = bytes.clone();
        t.push(0);
        assert!(
            matches!(parse(&t), Err(Error::TrailingBytes { .. })),
            "{name}: trailing bytes accepted: {:?}",
            parse(&t)
        );
        // Unknown version.
        let mut v = bytes.clone();
        v[0] = 0x7f;
        assert!(matches!(parse(&v), Err(Error::UnknownVersion { version: 0x7f, .. })), "{name}: version");
        // Every truncation is an error, never a panic.
        for n in 0..bytes.len() {
            assert!(parse(&bytes[..n]).is_err(), "{name}: truncated to {n} accepted");
        }
        assert!(parse(&[]).is_err());
    }
}

#[test]
fn serde_form_is_base64url_of_canonical_bytes() {
    let w = World::new("serde");
    let json = serde_json::to_string(&w.cert).unwrap();
    assert!(json.starts_with('"') && !json.contains('=') && !json.contains('+') && !json.contains('/'));
    let back: SignedHostCertificate = serde_json::from_str(&json).unwrap();
    assert_eq!(back, w.cert);
    // Garbage is a deserialisation error, not a panic.
    assert!(serde_json::from_str::<SignedHostCertificate>("\"AAAA\"").is_err());
    assert!(serde_json::from_str::<SignedHostCertificate>("\"***\"").is_err());
    let p = Policy::MOfN { m: 2, n: 3 };
    assert_eq!(serde_json::to_string(&p).unwrap(), r#"{"type":"m-of-n","m":2,"n":3}"#);
}

#[test]
fn policy_bytes_are_validated() {
    assert!(Policy::from_bytes([2, 4, 3]).is_err());
    assert!(Policy::from_bytes([1, 2, 3]).is_err());
    assert!(Policy::from_bytes([3, 1, 1]).is_err());
    assert_eq!(Policy::from_bytes([2, 2, 3]).unwrap(), Policy::MOfN { m: 2, n: 3 });
}

#[test]
fn an_entry_with_two_envelopes_for_one_device_is_refused() {
    let w = World::new("dup");
    let a = Device::new("a", 1);
    let b = Device::new("b", 2);
    let e = seal_entry(
        &w.org,
        w.entry_id,
        1,
        Policy::AnyOf { n: 2 },
        &[a.verified(&w.org), b.verified(&w.org)],
        b"l",
        b"v",
        &mut rng("s"),
    )
    .unwrap();
    let mut dup = e.clone();
    dup.envelopes[1].approver = dup.envelopes[0].approver;
    assert!(matches!(SealedEntry::from_bytes(&dup.to_bytes()), Err(Error::Malformed { .. })));
}
