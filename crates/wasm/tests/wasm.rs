//! The browser bridge, natively: the same conversions the web app calls, on real core objects.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use blindvault_core::encoding::b64;
use blindvault_core::entry::seal_entry;
use blindvault_core::identity::{Enrolment, HostCertificate, Request};
use blindvault_core::ids::{CertId, EntryId, RequestId};
use blindvault_core::keys::{EphemeralSecretKey, HostSecretKey, OrgSecretKey};
use blindvault_core::policy::Policy;
use blindvault_core::release::{SealedResponse, open_response, recover_secret};
use blindvault_core::revocation::Revocations;
use blindvault_core::rng::os_rng;
use blindvault_core::schedule::{KeySchedule, PrfOutput};
use blindvault_wasm::bridge::{self, Keys, Org};

const NOW: u64 = 1_900_000_000;
const PRF: [u8; 32] = [42; 32];

struct World {
    org: OrgSecretKey,
    eph: EphemeralSecretKey,
    req: blindvault_core::identity::SignedRequest,
    cert: String,
    request: String,
    entry: String,
    other_entry: String,
    /// The requested entry id, sealed to this device, by someone without the org key.
    servers_entry: String,
    signed_enrolment: String,
    approver: blindvault_core::identity::VerifiedApprover,
}

fn world() -> World {
    let org = OrgSecretKey::generate(&mut os_rng());
    let me = KeySchedule::derive(&PrfOutput::from_bytes(PRF));
    let signed = Enrolment {
        user_id: "alice".into(),
        credential_id: vec![1; 16],
        approver_key: me.approver_public(),
        issued_at: NOW,
        not_after: NOW + 86_400,
    }
    .sign(&org)
    .unwrap();
    let approver = signed.verify(&org.public_key(), NOW).unwrap();
    let entry_id = EntryId::generate(&mut os_rng());
    let seal = |id| {
        seal_entry(
            &org,
            id,
            1,
            Policy::AnyOf { n: 1 },
            std::slice::from_ref(&approver),
            b"prod db password",
            b"hunter2",
            &mut os_rng(),
        )
        .unwrap()
    };
    let entry = seal(entry_id);
    let other = seal(EntryId::generate(&mut os_rng()));
    let servers = OrgSecretKey::generate(&mut os_rng());
    let servers_entry = seal_entry(
        &servers,
        entry_id,
        1,
        Policy::AnyOf { n: 1 },
        &[signed.enrolment.clone().sign(&servers).unwrap().verify(&servers.public_key(), NOW).unwrap()],
        b"prod db password",
        b"the server's value",
        &mut os_rng(),
    )
    .unwrap();
    let host = HostSecretKey::generate(&mut os_rng());
    let cert = HostCertificate {
        cert_id: CertId::generate(&mut os_rng()),
        host_name: "ci-runner-7".into(),
        host_key: host.public_key(),
        allowed_entries: vec![entry_id, other.entry_id],
        not_before: NOW - 60,
        not_after: NOW + 86_400,
        issuer: Some("admin-1".into()),
        self_approval: false,
    }
    .sign(&org)
    .unwrap();
    let eph = EphemeralSecretKey::generate(&mut os_rng());
    let req = Request {
        request_id: RequestId::generate(&mut os_rng()),
        cert_id: cert.cert.cert_id,
        entry_id,
        ephemeral_key: eph.public_key(),
        issued_at: NOW,
        expires_at: NOW + 300,
        nonce: [1; 16],
        min_version: 0,
        poll_token_hash: [0x50; 32],
        purpose: blindvault_core::identity::Purpose::run(&["./migrate.sh"], &["DB"], 900),
    }
    .sign(&host)
    .unwrap();
    World {
        cert: b64::encode(&cert.to_bytes()),
        request: b64::encode(&req.to_bytes()),
        entry: b64::encode(&entry.to_bytes()),
        other_entry: b64::encode(&other.to_bytes()),
        servers_entry: b64::encode(&servers_entry.to_bytes()),
        signed_enrolment: b64::encode(&signed.to_bytes()),
        approver,
        org,
        eph,
        req,
    }
}

fn pinned(w: &World) -> Org {
    Org::parse(&b64::encode(&w.org.public_key().to_bytes())).unwrap()
}

fn another_org() -> Org {
    Org::parse(&b64::encode(&OrgSecretKey::generate(&mut os_rng()).public_key().to_bytes())).unwrap()
}

#[test]
fn verify_label_approve_and_the_consumer_opens_it() {
    let w = world();
    let org = pinned(&w);
    let keys = Keys::from_prf(&PRF).unwrap();
    let v = bridge::verify(&org, &w.cert, &w.request, &w.entry, NOW as f64).unwrap();
    assert_eq!(v.host_name, "ci-runner-7");
    // What will run, as the host signed it, ready to show.
    assert_eq!(v.purpose.kind, "run");
    assert_eq!(v.purpose.command.as_deref(), Some("./migrate.sh"));
    assert_eq!(v.purpose.env, ["DB"]);
    assert_eq!(v.purpose.lease_secs, Some(900));
    // The certificate's issuer, for "Certificate issued by …".
    assert_eq!((v.issuer.as_deref(), v.self_approval), (Some("admin-1"), false));
    assert_eq!((v.policy, v.threshold, v.devices, v.expires_at), ("any-of", 1, 1, NOW + 300));
    assert_eq!(bridge::open_label(&keys, &org, &w.entry).unwrap(), "prod db password");
    let sealed = bridge::approve(&keys, &org, &w.cert, &w.request, &w.entry, NOW as f64).unwrap();
    let response = SealedResponse::from_bytes(&b64::decode(&sealed).unwrap()).unwrap();
    let release = open_response(&w.eph, &w.req, &response, &w.approver).unwrap();
    let entry = blindvault_core::entry::SealedEntry::from_bytes(&b64::decode(&w.entry).unwrap()).unwrap();
    assert_eq!(recover_secret(&[release], &entry, &Revocations::none()).unwrap().expose(), b"hunter2");
}

#[test]
fn every_failed_check_is_a_plain_message_and_nothing_is_sealed() {
    let w = world();
    let org = pinned(&w);
    let keys = Keys::from_prf(&PRF).unwrap();
    let now = NOW as f64;
    // A server that renames the host in the certificate.
    let mut cert = b64::decode(&w.cert).unwrap();
    let at = cert.windows(11).position(|x| x == b"ci-runner-7").unwrap();
    cert[at + 10] = b'8';
    let tampered = b64::encode(&cert);
    let e = bridge::verify(&org, &tampered, &w.request, &w.entry, now).unwrap_err();
    assert_eq!(e.to_string(), "the host certificate is not signed by your organisation's key");
    assert_eq!(bridge::approve(&keys, &org, &tampered, &w.request, &w.entry, now).unwrap_err(), e);
    // Checked against another org key (what a server would hand out), nothing verifies.
    let e = bridge::verify(&another_org(), &w.cert, &w.request, &w.entry, now).unwrap_err();
    assert!(e.to_string().contains("organisation's key"), "{e}");
    // The requested entry id, sealed to this device by someone without the org key: it opens
    // (anyone can seal to an enrolled key) but is neither shown nor approved.
    let e = bridge::verify(&org, &w.cert, &w.request, &w.servers_entry, now).unwrap_err();
    assert!(e.to_string().contains("entry is not signed by your organisation's key"), "{e}");
    assert_eq!(bridge::open_label(&keys, &org, &w.servers_entry).unwrap_err(), e);
    assert_eq!(bridge::approve(&keys, &org, &w.cert, &w.request, &w.servers_entry, now).unwrap_err(), e);
    // Another entry than the one requested.
    let e = bridge::approve(&keys, &org, &w.cert, &w.request, &w.other_entry, now).unwrap_err();
    assert!(e.to_string().contains("another secret"), "{e}");
    // Expired, and device clocks that make no sense.
    let e = bridge::approve(&keys, &org, &w.cert, &w.request, &w.entry, (NOW + 301) as f64).unwrap_err();
    assert_eq!(e.to_string(), "the request has expired");
    assert!(bridge::verify(&org, &w.cert, &w.request, &w.entry, f64::NAN).is_err());
    assert!(bridge::verify(&org, &w.cert, &w.request, &w.entry, -1.0).is_err());
    // Garbage from the server.
    let e = bridge::verify(&org, "***", &w.request, &w.entry, now).unwrap_err();
    assert!(e.to_string().contains("base64url"), "{e}");
    let e = bridge::verify(&org, &w.cert, &w.cert, &w.entry, now).unwrap_err();
    assert!(e.to_string().starts_with("malformed"), "{e}");
    // Another passkey's keys open nothing.
    let stranger = Keys::from_prf(&[7; 32]).unwrap();
    let e = bridge::approve(&stranger, &org, &w.cert, &w.request, &w.entry, now).unwrap_err();
    assert!(e.to_string().starts_with("this secret is not sealed to this device's key"), "{e}");
}

/// Each failure carries the code the web app switches on (not the wording): a forged or mixed-up
/// chain is told from an expired request or another device's passkey.
#[test]
fn every_failed_check_carries_its_code() {
    use bridge::Code;
    let w = world();
    let org = pinned(&w);
    let keys = Keys::from_prf(&PRF).unwrap();
    let now = NOW as f64;
    let mut cert = b64::decode(&w.cert).unwrap();
    let at = cert.windows(11).position(|x| x == b"ci-runner-7").unwrap();
    cert[at + 10] = b'8';
    let tampered = b64::encode(&cert);
    fn code<T: std::fmt::Debug>(r: Result<T, bridge::Failure>) -> bridge::Code {
        r.unwrap_err().code()
    }
    assert_eq!(code(bridge::verify(&org, &tampered, &w.request, &w.entry, now)), Code::BadSignature);
    assert_eq!(code(bridge::approve(&keys, &org, &tampered, &w.request, &w.entry, now)), Code::BadSignature);
    assert_eq!(code(bridge::verify(&org, &w.cert, &w.request, &w.servers_entry, now)), Code::BadSignature);
    assert_eq!(code(bridge::open_label(&keys, &org, &w.servers_entry)), Code::BadSignature);
    assert_eq!(code(bridge::approve(&keys, &org, &w.cert, &w.request, &w.other_entry, now)), Code::Mismatch);
    assert_eq!(code(bridge::verify(&org, &w.cert, &w.request, &w.other_entry, now)), Code::Mismatch);
    let late = (NOW + 301) as f64;
    assert_eq!(code(bridge::approve(&keys, &org, &w.cert, &w.request, &w.entry, late)), Code::Expired);
    assert_eq!(code(bridge::verify(&org, &w.cert, &w.request, &w.entry, f64::NAN)), Code::Clock);
    assert_eq!(code(bridge::verify(&org, "***", &w.request, &w.entry, now)), Code::NotBase64);
    assert_eq!(code(bridge::verify(&org, &w.cert, &w.cert, &w.entry, now)), Code::Malformed);
    let stranger = Keys::from_prf(&[7; 32]).unwrap();
    assert_eq!(code(bridge::approve(&stranger, &org, &w.cert, &w.request, &w.entry, now)), Code::NoEnvelope);
    assert_eq!(Keys::from_prf(&[1; 31]).unwrap_err().code(), Code::PrfLength);
    assert_eq!(Org::parse("AAAA").unwrap_err().code(), Code::NotOrgKey);
}

/// `web/js/codes.js` lists exactly the bridge's codes, each under its upper-case name.
#[test]
fn every_code_of_the_bridge_is_in_the_web_apps_list() {
    let js = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../web/js/codes.js")).unwrap();
    let block = &js[js.find("export const CODE = Object.freeze({").unwrap()..];
    let block = &block[..block.find("});").unwrap()];
    let listed: Vec<(String, String)> = block
        .lines()
        .filter_map(|l| {
            let (name, value) = l.trim().trim_end_matches(',').split_once(": ")?;
            Some((name.to_owned(), value.trim_matches('\'').to_owned()))
        })
        .collect();
    let ours: Vec<(String, String)> =
        bridge::Code::ALL.iter().map(|c| (c.as_str().to_uppercase(), c.as_str().to_owned())).collect();
    assert_eq!(listed, ours, "web/js/codes.js and bridge::Code disagree");
    // `ALL` is every variant: a code missing from it would be missing from the list too.
    for c in bridge::Code::ALL {
        let n = match c {
            bridge::Code::BadSignature
            | bridge::Code::Mismatch
            | bridge::Code::Malformed
            | bridge::Code::RevocationRollback
            | bridge::Code::RevocationDiverged
            | bridge::Code::HostRevoked
            | bridge::Code::ApproverRevoked
            | bridge::Code::Expired
            | bridge::Code::NotYetValid
            | bridge::Code::EntryNotAllowed
            | bridge::Code::EntryUnsigned
            | bridge::Code::EntryRollback
            | bridge::Code::NoEnvelope
            | bridge::Code::Decrypt
            | bridge::Code::NotBase64
            | bridge::Code::Clock
            | bridge::Code::NotOrgKey
            | bridge::Code::PrfLength
            | bridge::Code::StoredValue
            | bridge::Code::OtherDevice => 20,
        };
        assert_eq!(bridge::Code::ALL.len(), n);
    }
}

#[test]
fn prf_org_and_enrolment_inputs() {
    let w = world();
    assert!(Keys::from_prf(&[1; 31]).unwrap_err().to_string().contains("32 bytes"));
    assert!(Org::parse("AAAA").unwrap_err().to_string().contains("invite link"));
    let org = pinned(&w);
    assert_eq!(org.fingerprint(), w.org.public_key().fingerprint().to_string());
    let keys = Keys::from_prf(&PRF).unwrap();
    let mine = keys.approver_public_key();
    let ok = bridge::verify_enrolment(&org, &w.signed_enrolment, &mine, NOW as f64).unwrap();
    assert!(ok.contains("\"user_id\":\"alice\""), "{ok}");
    let theirs = Keys::from_prf(&[9; 32]).unwrap().approver_public_key();
    assert!(bridge::verify_enrolment(&org, &w.signed_enrolment, &theirs, NOW as f64).is_err());
    assert!(bridge::verify_enrolment(&another_org(), &w.signed_enrolment, &mine, NOW as f64).is_err());
}

#[test]
fn local_storage_is_sealed_per_passkey_and_slot() {
    let keys = Keys::from_prf(&PRF).unwrap();
    let sealed = keys.seal_local("pinned-org", "ORGKEY").unwrap();
    assert!(!sealed.contains("ORGKEY"));
    assert_eq!(keys.open_local("pinned-org", &sealed).unwrap(), "ORGKEY");
    assert!(keys.open_local("enrolment", &sealed).is_err());
    assert!(Keys::from_prf(&[1; 32]).unwrap().open_local("pinned-org", &sealed).is_err());
    let mut edited = b64::decode(&sealed).unwrap();
    edited[20] ^= 1;
    assert!(keys.open_local("pinned-org", &b64::encode(&edited)).is_err());
}

#[test]
fn keys_never_print() {
    let keys = Keys::from_prf(&PRF).unwrap();
    let s = KeySchedule::derive(&PrfOutput::from_bytes(PRF));
    let dbg = format!("{keys:?}");
    for secret in [*s.approver_secret().expose(), *s.local_storage_key().expose(), PRF] {
        let hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
        assert!(!dbg.contains(&hex), "{dbg}");
        assert!(!dbg.contains(&format!("{:?}", &secret[..4])), "{dbg}");
    }
    assert!(dbg.contains("REDACTED"), "{dbg}");
}

#[test]
fn the_benchmark_fixture_approves() {
    let f = blindvault_wasm::fixture::Fixture::new().unwrap();
    assert!(f.run().unwrap() > 100);
}

/// The device checks the org's revocation record before approving: signed by the pinned key,
/// not older than the newest it has seen, and naming neither the request's host nor itself.
#[test]
fn the_device_checks_the_orgs_revocation_record() {
    let w = world();
    let org = pinned(&w);
    let keys = Keys::from_prf(&PRF).unwrap();
    let mine = keys.approver_public_key();
    let cert =
        blindvault_core::identity::SignedHostCertificate::from_bytes(&b64::decode(&w.cert).unwrap()).unwrap();
    let other_device = Keys::from_prf(&[9; 32]).unwrap();
    let other_key = blindvault_core::keys::ApproverPublicKey::from_bytes(
        &b64::decode(&other_device.approver_public_key()).unwrap(),
    )
    .unwrap();
    let enc = |r: &blindvault_core::revocation::SignedRevocations| b64::encode(&r.to_bytes());
    // What the web app does: accept (append-only against what it remembers), remember, then
    // check what the record names.
    let check = |record: &str, seen: &mut String| -> Result<u64, String> {
        let remember = bridge::accept_revocations(&org, record, seen).map_err(|e| e.to_string())?;
        *seen = remember.clone();
        bridge::verify_revocations(&org, &remember, &w.cert, &mine).map_err(|e| e.to_string())
    };
    // The same, for the code each refusal carries.
    let code = |record: &str, mut seen: String| -> Option<bridge::Code> {
        let remember = match bridge::accept_revocations(&org, record, &seen) {
            Ok(r) => r,
            Err(e) => return Some(e.code()),
        };
        seen = remember;
        bridge::verify_revocations(&org, &seen, &w.cert, &mine).err().map(|e| e.code())
    };
    // No record yet: fine, epoch 0, nothing to remember.
    let mut seen = String::new();
    assert_eq!(check("", &mut seen).unwrap(), 0);
    assert_eq!(seen, "");
    // A record naming another device: fine, and it is remembered.
    let one = Revocations::none().next(&[other_key], &[], NOW).unwrap().sign(&w.org).unwrap();
    assert_eq!(check(&enc(&one), &mut seen).unwrap(), 1);
    assert_eq!(seen, enc(&one));
    // The host revoked: refused, whatever the server's host row says…
    let two = one.record.next(&[], &[cert.cert.cert_id], NOW).unwrap().sign(&w.org).unwrap();
    assert_eq!(code(&enc(&two), seen.clone()), Some(bridge::Code::HostRevoked));
    let e = check(&enc(&two), &mut seen).unwrap_err();
    assert!(e.contains("revoked this machine"), "{e}");
    // …and epoch 2 is remembered all the same: serving epoch 1 next is a rollback.
    assert_eq!(seen, enc(&two));
    assert_eq!(code(&enc(&one), seen.clone()), Some(bridge::Code::RevocationRollback));
    let e = check(&enc(&one), &mut seen).unwrap_err();
    assert!(e.contains("older revocation record"), "{e}");
    assert!(check("", &mut seen).is_err());
    // This device removed: refused (a fresh memory, epoch 1 seen).
    let mine_key =
        blindvault_core::keys::ApproverPublicKey::from_bytes(&b64::decode(&mine).unwrap()).unwrap();
    let three = one.record.next(&[mine_key], &[], NOW).unwrap().sign(&w.org).unwrap();
    let mut seen1 = enc(&one);
    assert_eq!(code(&enc(&three), seen1.clone()), Some(bridge::Code::ApproverRevoked));
    let e = check(&enc(&three), &mut seen1).unwrap_err();
    assert!(e.contains("removed this device"), "{e}");
    assert_eq!(seen1, enc(&three), "remembered although it refused");
    // A record of epoch 2 that is not epoch 2 as seen (a fork) or drops a revocation: refused.
    assert_eq!(code(&enc(&three), seen.clone()), Some(bridge::Code::RevocationDiverged));
    let e = check(&enc(&three), &mut seen).unwrap_err();
    assert!(e.contains("does not contain the one"), "{e}");
    // A record not signed by the pinned org key.
    let rogue = Revocations::none()
        .next(&[], &[], NOW)
        .unwrap()
        .sign(&OrgSecretKey::generate(&mut os_rng()))
        .unwrap();
    assert_eq!(code(&enc(&rogue), String::new()), Some(bridge::Code::BadSignature));
    let e = check(&enc(&rogue), &mut String::new()).unwrap_err();
    assert!(e.contains("not signed by your organisation"), "{e}");
    // A remembered record another org key signed (the org key was replaced) counts as none.
    let mut other_org = enc(&rogue);
    assert_eq!(check(&enc(&one), &mut other_org).unwrap(), 1);
}
