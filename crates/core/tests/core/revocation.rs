//! The org-signed revocation record and enrolment expiry: a removed device's old enrolment and a
//! revoked host are refused by what the org signed, not by the server's word.

use crate::util::*;
use blindvault_core::Error;
use blindvault_core::identity::{Enrolment, SignedEnrolment, V1_ENROLMENT_LIFETIME_SECS};
use blindvault_core::ids::CertId;
use blindvault_core::keys::{OrgPublicKey, OrgSecretKey};
use blindvault_core::release::{approve, open_vouched_response, recover_secret};
use blindvault_core::revocation::{Revocations, SignedRevocations};

fn record(w: &World, revoked: &[&Device], hosts: &[CertId], epoch_from: &Revocations) -> SignedRevocations {
    let keys: Vec<_> = revoked.iter().map(|d| d.keys.approver_public()).collect();
    epoch_from.next(&keys, hosts, NOW).unwrap().sign(&w.org).unwrap()
}

#[test]
fn round_trip() {
    let w = World::new("rev-round-trip");
    let (alice, bob) = (Device::new("alice", 1), Device::new("bob", 2));
    let first = record(&w, &[&bob], &[w.cert.cert.cert_id], &Revocations::none());
    let second = record(&w, &[&alice], &[], &first.record);
    // Cumulative, sorted, one epoch up.
    assert_eq!(first.record.epoch, 1);
    assert_eq!(second.record.epoch, 2);
    assert_eq!(second.record.approvers.len(), 2);
    assert!(second.record.approver_revoked(&bob.keys.approver_public()));
    assert!(second.record.approver_revoked(&alice.keys.approver_public()));
    assert!(second.record.host_revoked(&w.cert.cert.cert_id));
    assert!(!first.record.approver_revoked(&alice.keys.approver_public()));
    // Bytes and JSON round-trip; the decoded record verifies.
    let back = SignedRevocations::from_bytes(&second.to_bytes()).unwrap();
    assert_eq!(back, second);
    let json = serde_json::to_string(&second).unwrap();
    assert_eq!(serde_json::from_str::<SignedRevocations>(&json).unwrap(), second);
    assert_eq!(back.verify(&w.org.public_key()).unwrap(), &second.record);
    // Trailing bytes and an unknown version are refused.
    let mut long = second.to_bytes();
    long.push(0);
    assert!(matches!(SignedRevocations::from_bytes(&long), Err(Error::TrailingBytes { .. })));
    let mut v2 = second.to_bytes();
    v2[0] = 2;
    assert!(matches!(SignedRevocations::from_bytes(&v2), Err(Error::UnknownVersion { .. })));
}

#[test]
fn the_signature_is_the_orgs() {
    let w = World::new("rev-signature");
    let bob = Device::new("bob", 2);
    let genuine = record(&w, &[&bob], &[], &Revocations::none());
    // Another key (the server's own) signs nothing a device accepts.
    let rogue = OrgSecretKey::generate(&mut rng("rogue"));
    let forged = Revocations::none().next(&[], &[], NOW).unwrap().sign(&rogue).unwrap();
    assert_eq!(
        forged.verify(&w.org.public_key()).err(),
        Some(Error::BadSignature { link: blindvault_core::Link::RevocationRecord })
    );
    // The server drops bob from a genuine record: the signature breaks (a list entry removed
    // and the count lowered).
    let mut bytes = genuine.to_bytes();
    // 0x01 ‖ u32 len ‖ 0x01 ‖ epoch ‖ issued_at ‖ u16 count ‖ key…
    let count_at = 1 + 4 + 1 + 8 + 8;
    bytes[count_at + 1] = 0;
    bytes.drain(count_at + 2..count_at + 2 + 32);
    let len = u32::from_be_bytes(bytes[1..5].try_into().unwrap()) - 32;
    bytes[1..5].copy_from_slice(&len.to_be_bytes());
    let edited = SignedRevocations::from_bytes(&bytes).unwrap();
    assert!(edited.record.approvers.is_empty());
    assert_eq!(
        edited.verify(&w.org.public_key()).err(),
        Some(Error::BadSignature { link: blindvault_core::Link::RevocationRecord })
    );
    // Any flipped bit of the body breaks it too.
    let mut flipped = genuine.to_bytes();
    flipped[7] ^= 1; // in the epoch
    let flipped = SignedRevocations::from_bytes(&flipped).unwrap();
    assert!(flipped.verify(&w.org.public_key()).is_err());
}

#[test]
fn rollback_is_refused() {
    let w = World::new("rev-rollback");
    let (alice, bob) = (Device::new("alice", 1), Device::new("bob", 2));
    let org = w.org.public_key();
    let one = record(&w, &[&bob], &[], &Revocations::none());
    let two = record(&w, &[&alice], &[], &one.record);
    // Newest wins: the same epoch again or a newer one is taken…
    assert_eq!(SignedRevocations::check(Some(&two), &org, 1).unwrap().epoch, 2);
    assert_eq!(SignedRevocations::check(Some(&two), &org, 2).unwrap().epoch, 2);
    // …an older one (which no longer names alice) is refused…
    assert_eq!(
        SignedRevocations::check(Some(&one), &org, 2).err(),
        Some(Error::Rollback { seen: 2, got: 1 })
    );
    // …and so is no record at all once one was seen (a server that "loses" it).
    assert_eq!(SignedRevocations::check(None, &org, 1).err(), Some(Error::Rollback { seen: 1, got: 0 }));
    // Before any record, none is the empty record.
    assert_eq!(SignedRevocations::check(None, &org, 0).unwrap(), Revocations::none());
}

#[test]
fn the_lists_are_canonical() {
    let w = World::new("rev-canonical");
    let (alice, bob) = (Device::new("alice", 1), Device::new("bob", 2));
    let rec = record(&w, &[&alice, &bob], &[], &Revocations::none());
    let mut bytes = rec.to_bytes();
    // Swap the two keys: same set, not ascending — refused when decoded.
    let at = 1 + 4 + 1 + 8 + 8 + 2;
    let (a, b) = (bytes[at..at + 32].to_vec(), bytes[at + 32..at + 64].to_vec());
    bytes[at..at + 32].copy_from_slice(&b);
    bytes[at + 32..at + 64].copy_from_slice(&a);
    assert_eq!(
        SignedRevocations::from_bytes(&bytes).err(),
        Some(Error::Malformed { what: "revocation record order" })
    );
    // Epoch 0 is never signed.
    assert!(Revocations::none().sign(&w.org).is_err());
}

/// The removed device's old enrolment still verifies and it still holds its envelope of the
/// version it was sealed to; a colluding server relays its approval. The consumer refuses it
/// once the org's record names the device.
#[test]
fn a_revoked_device_is_refused_by_the_consumer() {
    let w = World::new("rev-consumer");
    let (alice, bob) = (Device::new("alice", 1), Device::new("bob", 2));
    let entry = w.any_of(&[&alice, &bob], 1, b"v1 value", "seal");
    let (eph, req) = w.request("req");
    let verified =
        blindvault_core::identity::verify_request(&w.org.public_key(), &w.cert, &req, NOW).unwrap();
    let resp = approve(bob.keys.approver_secret(), &verified, &entry, &mut rng("a")).unwrap();
    let delivered = [bob.enrolment(&w.org)];
    let open = || open_vouched_response(&eph, &req, &resp, &delivered, &w.org.public_key()).unwrap();
    // Before the record names bob, this is a valid release…
    assert_eq!(recover_secret(&[open()], &entry, &Revocations::none()).unwrap().expose(), b"v1 value");
    // …after it, refused, whatever the server says about bob.
    let rec = record(&w, &[&bob], &[], &Revocations::none());
    let revoked = rec.verify(&w.org.public_key()).unwrap();
    assert_eq!(
        recover_secret(&[open()], &entry, revoked).err(),
        Some(Error::Revoked { what: blindvault_core::Revocable::ApproverDevice })
    );
    // Alice, not named, still releases.
    let resp_a = approve(alice.keys.approver_secret(), &verified, &entry, &mut rng("b")).unwrap();
    let rel =
        open_vouched_response(&eph, &req, &resp_a, &[alice.enrolment(&w.org)], &w.org.public_key()).unwrap();
    assert_eq!(recover_secret(&[rel], &entry, revoked).unwrap().expose(), b"v1 value");
    // A revoked host is named too (the device's check).
    let hosts = record(&w, &[], &[w.cert.cert.cert_id], &rec.record);
    assert_eq!(
        hosts.record.check_host(&w.cert.cert.cert_id).err(),
        Some(Error::Revoked { what: blindvault_core::Revocable::HostCertificate })
    );
}

#[test]
fn not_after_ends_an_enrolment() {
    let w = World::new("rev-not-after");
    let bob = Device::new("bob", 2);
    let signed = Enrolment {
        user_id: bob.user.clone(),
        credential_id: bob.credential.clone(),
        approver_key: bob.keys.approver_public(),
        issued_at: NOW - 100,
        not_after: NOW + 10,
    }
    .sign(&w.org)
    .unwrap();
    let org = w.org.public_key();
    assert!(signed.verify(&org, NOW + 9).is_ok());
    assert_eq!(
        signed.verify(&org, NOW + 10).err(),
        Some(Error::Expired { link: blindvault_core::Link::Enrolment })
    );
    // not_after is signed: extending it breaks the signature.
    let mut longer = signed.clone();
    longer.enrolment.not_after = u64::MAX;
    assert_eq!(
        longer.verify(&org, NOW + 10).err(),
        Some(Error::BadSignature { link: blindvault_core::Link::Enrolment })
    );
    // To name a device (revoking it), only the signature counts: an ended enrolment still
    // names its key; an edited one, or another org's, does not.
    assert_eq!(signed.verify_signature_only(&org).unwrap().approver_key, bob.keys.approver_public());
    assert_eq!(
        longer.verify_signature_only(&org).err(),
        Some(Error::BadSignature { link: blindvault_core::Link::Enrolment })
    );
    let other = World::new("rev-not-after-other");
    assert!(signed.verify_signature_only(&other.org.public_key()).is_err());
    // An enrolment that ends before it starts is never signed.
    let mut bad = signed.enrolment.clone();
    bad.not_after = bad.issued_at;
    assert!(bad.sign(&w.org).is_err());
    // The consumer checks it at its request's issued_at: past not_after, not vouched.
    let entry = w.any_of(&[&bob], 1, b"v", "seal");
    let (eph, req) = w.request_for("late", w.entry_id, NOW + 20, NOW + 300);
    let verified = blindvault_core::identity::verify_request(&org, &w.cert, &req, NOW + 20).unwrap();
    let resp = approve(bob.keys.approver_secret(), &verified, &entry, &mut rng("a")).unwrap();
    assert_eq!(open_vouched_response(&eph, &req, &resp, &[signed], &org).err(), Some(Error::NotVouched));
}

/// An enrolment signed before enrolments carried `not_after` (format 1, from the committed
/// vectors of that release) is still read and verifies, valid until `issued_at` + 365 days.
#[test]
fn a_v1_enrolment_is_still_read() {
    const ORG: &str = "0151b50d88333ef304718a3315181f3e73fa1f0214edf120687ebaa37417cc7f608adf472cc2720f789fc0c009e01a5a5631a630f2f8d53bb511494c9427596d5c";
    const V1: &str = "0100000043010006757365722d310010c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c16838f465ef9664772b74a89c2cc683066e912edee1cdc09d1b96945cf04e7b4a000000006b49d200158edf7e82a65d84fa2130b80bbfe2cb5e9cf9616398de0f1512e2febcb475ce60b890bcae0a3a3d706ac42a25e0c3003e0c3b94250b9a68ea521be7cf1bda0e";
    let org = OrgPublicKey::from_bytes(&hex::decode(ORG).unwrap()).unwrap();
    let bytes = hex::decode(V1).unwrap();
    let e = SignedEnrolment::from_bytes(&bytes).unwrap();
    assert_eq!(e.format(), 1);
    assert_eq!(e.enrolment.user_id, "user-1");
    let issued = e.enrolment.issued_at;
    assert_eq!(issued, 1_800_000_000);
    assert_eq!(e.enrolment.not_after, issued + V1_ENROLMENT_LIFETIME_SECS);
    // Re-encoded byte for byte (format 1 stays format 1).
    assert_eq!(e.to_bytes(), bytes);
    assert!(e.verify(&org, issued + 1).is_ok());
    assert_eq!(
        e.verify(&org, issued + V1_ENROLMENT_LIFETIME_SECS).err(),
        Some(Error::Expired { link: blindvault_core::Link::Enrolment })
    );
    // Its body under the v2 context does not verify: a format-1 signature is not a format-2 one.
    let mut as_v2 = bytes.clone();
    as_v2[5] = 2; // the body's format byte
    assert!(SignedEnrolment::from_bytes(&as_v2).is_err()); // a v2 body needs not_after: truncated
}

#[test]
fn a_same_epoch_fork_is_refused() {
    let w = World::new("rev-fork");
    let (alice, bob) = (Device::new("alice", 1), Device::new("bob", 2));
    let org = w.org.public_key();
    let one = record(&w, &[&bob], &[], &Revocations::none());
    // Another record at epoch 1 (signed by the org, say on a second admin machine) that does
    // not name bob: same epoch, other content.
    let fork = record(&w, &[&alice], &[], &Revocations::none());
    assert_eq!(fork.record.epoch, 1);
    assert_eq!(fork.record.replaces(&one.record).err(), Some(Error::Diverged { seen: 1, got: 1 }));
    assert_eq!(
        SignedRevocations::check_against(Some(&fork), &org, Some(&one.record)).err(),
        Some(Error::Diverged { seen: 1, got: 1 })
    );
    // The identical record again is fine.
    assert_eq!(SignedRevocations::check_against(Some(&one), &org, Some(&one.record)).unwrap(), one.record);
}

#[test]
fn a_record_that_drops_a_revocation_is_refused() {
    let w = World::new("rev-shrink");
    let (alice, bob) = (Device::new("alice", 1), Device::new("bob", 2));
    let org = w.org.public_key();
    let one = record(&w, &[&bob], &[w.cert.cert.cert_id], &Revocations::none());
    // A higher epoch built on the empty record: it no longer names bob nor the host.
    let mut shrunk = Revocations::none().next(&[alice.keys.approver_public()], &[], NOW).unwrap();
    shrunk.epoch = 2;
    let shrunk = shrunk.sign(&w.org).unwrap();
    assert_eq!(shrunk.record.replaces(&one.record).err(), Some(Error::Diverged { seen: 1, got: 2 }));
    assert_eq!(
        SignedRevocations::check_against(Some(&shrunk), &org, Some(&one.record)).err(),
        Some(Error::Diverged { seen: 1, got: 2 })
    );
    // Dropping only the host is refused too.
    let mut no_host = one.record.next(&[alice.keys.approver_public()], &[], NOW).unwrap();
    no_host.hosts.clear();
    assert_eq!(no_host.replaces(&one.record).err(), Some(Error::Diverged { seen: 1, got: 2 }));
    // A proper successor (a superset) replaces it; an older one or none is a rollback.
    let two = record(&w, &[&alice], &[], &one.record);
    assert!(two.record.replaces(&one.record).is_ok());
    assert_eq!(one.record.replaces(&two.record).err(), Some(Error::Rollback { seen: 2, got: 1 }));
    assert_eq!(
        SignedRevocations::check_against(None, &org, Some(&one.record)).err(),
        Some(Error::Rollback { seen: 1, got: 0 })
    );
    assert_eq!(SignedRevocations::check_against(None, &org, None).unwrap(), Revocations::none());
}
