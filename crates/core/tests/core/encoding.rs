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

/// A length or count beyond its field's width is a typed error, never a cut-down encoding (it
/// was only a `debug_assert` before, and release builds truncated).
#[test]
fn writer_refuses_a_length_beyond_its_field() {
    use blindvault_core::encoding::Writer;

    let too_long = vec![7u8; 0x1_0000];
    let mut w = Writer::new(1);
    w.bytes16(&too_long);
    assert!(matches!(w.finish(), Err(Error::TooLong { max: 0xffff, .. })));

    let mut w = Writer::new(1);
    w.count(0x1_0000);
    assert!(matches!(w.finish(), Err(Error::TooLong { max: 0xffff, .. })));

    // The first over-long field is the error, whatever follows it.
    let mut w = Writer::new(1);
    w.str16(core::str::from_utf8(&too_long).unwrap()).u8(1).bytes16(b"fits");
    assert!(matches!(w.finish(), Err(Error::TooLong { .. })));

    // At the limit: encoded in full.
    let mut w = Writer::new(1);
    w.bytes16(&too_long[1..]).count(0xffff);
    let b = w.finish().unwrap();
    assert_eq!(b.len(), 1 + 2 + 0xffff + 2);
    assert_eq!(&b[..3], &[1, 0xff, 0xff]);
    assert_eq!(&b[b.len() - 2..], &[0xff, 0xff]);
}

/// A request made to carry more command arguments than its 2-byte count holds, after it was
/// signed: the approver's check says what is too long instead of checking a cut-down list, and
/// its encoding is refused.
#[test]
fn a_request_with_more_arguments_than_its_count_holds_is_an_error() {
    use blindvault_core::identity::{Purpose, verify_request};
    let w = World::new("enc-long");
    let (_eph, mut req) = w.request("r");
    verify_request(&w.org.public_key(), &w.cert, &req, NOW).unwrap();
    let Purpose::Run { command, .. } = &mut req.request.purpose else { panic!("a run request") };
    command.resize(0x1_0000, String::new());
    assert!(matches!(
        verify_request(&w.org.public_key(), &w.cert, &req, NOW),
        Err(Error::TooLong { what: "list", max: 0xffff })
    ));
    assert!(SignedRequest::from_bytes(&req.to_bytes()).is_err());
}

/// An enrolment whose credential id was made longer than its 2-byte length after signing: its
/// signature check is the length error, not a check of a truncated body.
#[test]
fn an_enrolment_longer_than_its_layout_is_an_error() {
    let w = World::new("enc-cred");
    let a = Device::new("a", 1);
    let mut signed = a.enrolment(&w.org);
    signed.enrolment.credential_id = vec![1; 0x1_0000];
    assert!(matches!(signed.verify(&w.org.public_key(), NOW), Err(Error::TooLong { max: 0xffff, .. })));
    assert!(matches!(SignedEnrolment::from_bytes(&signed.to_bytes()), Err(Error::Truncated { .. })));
}

/// The workspace's one hex helper writes what the `hex` crate writes and reads it back.
#[test]
fn hex_helper_round_trips() {
    use blindvault_core::encoding::hex as h;
    for bytes in [&b""[..], &[0u8][..], &[0x00, 0x0f, 0xa5, 0xff][..], &(0..=255).collect::<Vec<u8>>()[..]] {
        let s = h::encode(bytes);
        assert_eq!(s, hex::encode(bytes));
        assert_eq!(h::decode(&s).unwrap(), bytes);
        assert_eq!(h::decode(&s.to_uppercase()).unwrap(), bytes);
    }
    for bad in ["0", "0g", "zz", "abc", " 00"] {
        assert!(matches!(h::decode(bad), Err(Error::Malformed { what: "hex" })), "{bad:?}");
    }
}
