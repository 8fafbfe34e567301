//! Property tests: round trips for arbitrary values, policies and quorums.

use crate::util::*;
use blindvault_core::entry::{SealedEntry, seal_entry};
use blindvault_core::identity::{
    Enrolment, HostCertificate, Purpose, Request, SignedEnrolment, SignedHostCertificate, SignedRequest,
    verify_request,
};
use blindvault_core::ids::{CertId, EntryId, RequestId};
use blindvault_core::keys::{ApproverPublicKey, EphemeralPublicKey, HostPublicKey};
use blindvault_core::policy::Policy;
use blindvault_core::release::{SealedResponse, approve, open_response, recover_secret};
use blindvault_core::revocation::{Revocations, SignedRevocations};
use proptest::prelude::*;

/// A name the core accepts (user ids, host names, issuers): 1 to 40 printable characters.
fn name() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 ._@é-]{1,40}"
}

/// Canonical bytes: they decode, and the decoded value encodes to the same bytes.
fn canonical<T: PartialEq + std::fmt::Debug>(
    bytes: &[u8],
    from: fn(&[u8]) -> Result<T, blindvault_core::Error>,
    to: fn(&T) -> Vec<u8>,
) -> Result<T, TestCaseError> {
    let value = from(bytes).map_err(|e| TestCaseError::fail(format!("does not decode: {e}")))?;
    prop_assert_eq!(to(&value), bytes);
    Ok(value)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn any_policy_round_trips(
        value in proptest::collection::vec(any::<u8>(), 0..2048),
        label in proptest::collection::vec(any::<u8>(), 0..64),
        n in 1u8..6,
        m_seed in 0u8..6,
        pick_seed in any::<u64>(),
        seed in any::<u64>(),
    ) {
        let w = World::new(&format!("prop-{seed}"));
        let devs: Vec<Device> = (0..n).map(|i| Device::new(&format!("p{i}"), i)).collect();
        let approvers: Vec<_> = devs.iter().map(|d| d.verified(&w.org)).collect();
        let policy = if n >= 2 && m_seed >= 2 { Policy::MOfN { m: 2 + m_seed % (n - 1), n } } else { Policy::AnyOf { n } };
        let e = seal_entry(&w.org, w.entry_id, 1, policy, &approvers, &label, &value, &mut rng(&seed.to_string())).unwrap();
        // Wire round trip.
        let e = SealedEntry::from_bytes(&e.to_bytes()).unwrap();
        let got = e.decrypt_label_as_org(&w.org).unwrap();
        prop_assert_eq!(got.expose(), label.as_slice());
        let (eph, req) = w.request("r");
        let req = SignedRequest::from_bytes(&req.to_bytes()).unwrap();
        let v = verify_request(&w.org.public_key(), &w.cert, &req, NOW).unwrap();
        // A pseudo-random quorum of exactly m distinct people.
        let m = policy.threshold() as usize;
        let mut order: Vec<usize> = (0..n as usize).collect();
        let mut s = pick_seed;
        for i in (1..order.len()).rev() { s = s.wrapping_mul(6364136223846793005).wrapping_add(1); order.swap(i, (s >> 33) as usize % (i + 1)); }
        let releases: Vec<_> = order[..m].iter().map(|&i| {
            let r = approve(devs[i].keys.approver_secret(), &v, &e, &mut rng(&format!("a{i}"))).unwrap();
            open_response(&eph, &req, &r, &approvers[i]).unwrap()
        }).collect();
        let got = recover_secret(&releases, &e, &Revocations::none()).unwrap();
        prop_assert_eq!(got.expose(), value.as_slice());
        if m > 1 {
            prop_assert!(recover_secret(&releases[..m - 1], &e, &Revocations::none()).is_err());
        }
    }

    #[test]
    fn decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = SealedEntry::from_bytes(&bytes);
        let _ = SignedRequest::from_bytes(&bytes);
        let _ = blindvault_core::identity::SignedHostCertificate::from_bytes(&bytes);
        let _ = blindvault_core::identity::SignedEnrolment::from_bytes(&bytes);
        let _ = blindvault_core::release::SealedResponse::from_bytes(&bytes);
        let _ = blindvault_core::keys::OrgPublicKey::from_bytes(&bytes);
    }

    #[test]
    fn enrolments_round_trip(
        user_id in name(),
        credential_id in proptest::collection::vec(any::<u8>(), 1..1024),
        key in any::<[u8; 32]>(),
        (issued_at, not_after) in (any::<u64>(), any::<u64>()).prop_map(|(a, b)| (a.min(b), a.max(b))),
        seed in any::<u64>(),
    ) {
        prop_assume!(issued_at < not_after);
        let w = World::new(&format!("enrol-{seed}"));
        let e = Enrolment {
            user_id,
            credential_id,
            approver_key: ApproverPublicKey::from_array(key),
            issued_at,
            not_after,
        };
        let signed = e.clone().sign(&w.org).unwrap();
        let back = canonical(&signed.to_bytes(), SignedEnrolment::from_bytes, SignedEnrolment::to_bytes)?;
        prop_assert_eq!(&back.enrolment, &e);
        prop_assert!(back.verify_signature_only(&w.org.public_key()).is_ok());
    }

    #[test]
    fn host_certificates_round_trip(
        host_name in name(),
        issuer in proptest::option::of(name()),
        self_approval in any::<bool>(),
        entries in proptest::collection::vec(any::<[u8; 16]>(), 1..40),
        key in any::<[u8; 32]>(),
        not_before in any::<u64>(),
        life in 1u64..1_000_000_000,
        seed in any::<u64>(),
    ) {
        prop_assume!(not_before.checked_add(life).is_some());
        let w = World::new(&format!("cert-{seed}"));
        let c = HostCertificate {
            cert_id: CertId::from_array([seed as u8; 16]),
            host_name,
            host_key: HostPublicKey::from_array(key),
            allowed_entries: entries.into_iter().map(EntryId::from_array).collect(),
            not_before,
            not_after: not_before + life,
            self_approval: self_approval && issuer.is_some(),
            issuer,
        };
        let signed = c.clone().sign(&w.org).unwrap();
        let back = canonical(&signed.to_bytes(), SignedHostCertificate::from_bytes, SignedHostCertificate::to_bytes)?;
        prop_assert_eq!(&back.cert, &c);
        prop_assert!(back.verify(&w.org.public_key(), not_before).is_ok());
    }

    #[test]
    fn requests_round_trip(
        command in proptest::collection::vec(".{0,20}", 1..8),
        env in proptest::collection::vec("[A-Z_][A-Z0-9_]{0,10}", 0..8),
        lease_secs in any::<u64>(),
        inject in proptest::option::of((any::<[u8; 32]>(), ".{0,40}")),
        issued_at in 0u64..u64::MAX - 4000,
        lifetime in 1u64..=3600,
        min_version in any::<u32>(),
        ids in any::<([u8; 16], [u8; 16], [u8; 16])>(),
        key in any::<[u8; 32]>(),
        seed in any::<u64>(),
    ) {
        let w = World::new(&format!("req-{seed}"));
        let purpose = match inject {
            Some((template_sha256, out)) => Purpose::Inject { template_sha256, out },
            None => Purpose::Run { command, env, lease_secs },
        };
        let q = Request {
            request_id: RequestId::from_array(ids.0),
            cert_id: CertId::from_array(ids.1),
            entry_id: EntryId::from_array(ids.2),
            ephemeral_key: EphemeralPublicKey::from_array(key),
            issued_at,
            expires_at: issued_at + lifetime,
            nonce: ids.0,
            min_version,
            poll_token_hash: key,
            purpose,
        };
        let signed = q.clone().sign(&w.host).unwrap();
        let back = canonical(&signed.to_bytes(), SignedRequest::from_bytes, SignedRequest::to_bytes)?;
        prop_assert_eq!(&back.request, &q);
    }

    #[test]
    fn revocation_records_round_trip(
        epoch in 1u64..=u64::MAX,
        issued_at in any::<u64>(),
        approvers in proptest::collection::btree_set(any::<[u8; 32]>(), 0..50),
        hosts in proptest::collection::btree_set(any::<[u8; 16]>(), 0..50),
        seed in any::<u64>(),
    ) {
        let w = World::new(&format!("rev-{seed}"));
        let r = Revocations {
            epoch,
            issued_at,
            approvers: approvers.into_iter().map(ApproverPublicKey::from_array).collect(),
            hosts: hosts.into_iter().map(CertId::from_array).collect(),
        };
        let signed = r.clone().sign(&w.org).unwrap();
        let back = canonical(&signed.to_bytes(), SignedRevocations::from_bytes, SignedRevocations::to_bytes)?;
        prop_assert_eq!(&back.record, &r);
        prop_assert!(back.verify(&w.org.public_key()).is_ok());
        // The same lists in another order, or with a duplicate, are not this record's encoding.
        if r.approvers.len() >= 2 {
            let mut swapped = r.clone();
            swapped.approvers.swap(0, 1);
            prop_assert!(swapped.sign(&w.org).is_err());
        }
    }

    #[test]
    fn responses_round_trip(value in proptest::collection::vec(any::<u8>(), 0..256), seed in any::<u64>()) {
        let w = World::new(&format!("resp-{seed}"));
        let dev = Device::new("p0", 0);
        let approvers = [dev.verified(&w.org)];
        let e = seal_entry(&w.org, w.entry_id, 1, Policy::AnyOf { n: 1 }, &approvers, b"l", &value, &mut rng("e")).unwrap();
        let (eph, req) = w.request("r");
        let v = verify_request(&w.org.public_key(), &w.cert, &req, NOW).unwrap();
        let r = approve(dev.keys.approver_secret(), &v, &e, &mut rng(&seed.to_string())).unwrap();
        let back = canonical(&r.to_bytes(), SealedResponse::from_bytes, SealedResponse::to_bytes)?;
        prop_assert_eq!(&back, &r);
        let release = open_response(&eph, &req, &back, &approvers[0]).unwrap();
        let got = recover_secret(&[release], &e, &Revocations::none()).unwrap();
        prop_assert_eq!(got.expose(), value.as_slice());
    }

    #[test]
    fn decoders_accept_only_canonical_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        // Whatever decodes re-encodes to exactly its input (one byte form per value).
        if let Ok(v) = SealedEntry::from_bytes(&bytes) { prop_assert_eq!(v.to_bytes(), bytes.clone()); }
        if let Ok(v) = SignedRequest::from_bytes(&bytes) { prop_assert_eq!(v.to_bytes(), bytes.clone()); }
        if let Ok(v) = SignedHostCertificate::from_bytes(&bytes) { prop_assert_eq!(v.to_bytes(), bytes.clone()); }
        if let Ok(v) = SignedEnrolment::from_bytes(&bytes) { prop_assert_eq!(v.to_bytes(), bytes.clone()); }
        if let Ok(v) = SealedResponse::from_bytes(&bytes) { prop_assert_eq!(v.to_bytes(), bytes.clone()); }
        if let Ok(v) = SignedRevocations::from_bytes(&bytes) { prop_assert_eq!(v.to_bytes(), bytes.clone()); }
    }
}
