//! Property tests: round trips for arbitrary values, policies and quorums.

use crate::util::*;
use blindvault_core::entry::{SealedEntry, seal_entry};
use blindvault_core::identity::{SignedRequest, verify_request};
use blindvault_core::policy::Policy;
use blindvault_core::release::{approve, open_response, recover_secret};
use blindvault_core::revocation::Revocations;
use proptest::prelude::*;

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
}
