//! blindvault's own test vectors: every derived key and every canonical encoding, produced from
//! fixed inputs and the documented deterministic RNG, committed in `docs/vectors/` (beside
//! `docs/protocol.md`, which links them) and checked here byte for byte. The file lists its own
//! inputs (`inputs`), written from the same constants the vectors are built from, so the two
//! cannot drift. The WASM build and any second implementation check the same file.
//! Regenerate (after a deliberate format change, with a version bump) with
//! `BLINDVAULT_UPDATE_VECTORS=1 cargo test -p blindvault-core --test core generated`.

use crate::util::*;
use blindvault_core::entry::{SealedEntry, seal_entry};
use blindvault_core::identity::{
    Enrolment, HostCertificate, Request, SignedEnrolment, VerifiedApprover, verify_request,
};
use blindvault_core::ids::{CertId, EntryId, RequestId};
use blindvault_core::keys::{EphemeralSecretKey, HostSecretKey, OrgSecretKey};
use blindvault_core::policy::Policy;
use blindvault_core::release::approve;
use blindvault_core::revocation::Revocations;
use blindvault_core::schedule::{KeySchedule, PRF_SALT_V1, PrfOutput};
use serde_json::{Value, json};
use std::path::PathBuf;

/// A committed vector file: `docs/vectors/NAME` at the repository root.
pub fn vector_path(name: &str) -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/vectors").join(name)
}

/// Writes `now` to `docs/vectors/NAME` when `BLINDVAULT_UPDATE_VECTORS` is set, then checks
/// that the committed file equals it.
pub fn check_or_update(name: &str, now: &Value) {
    let path = vector_path(name);
    if std::env::var_os("BLINDVAULT_UPDATE_VECTORS").is_some() {
        std::fs::write(&path, serde_json::to_string_pretty(now).unwrap() + "\n").unwrap();
    }
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("{} missing ({e}); generate it with BLINDVAULT_UPDATE_VECTORS=1", path.display())
    });
    let committed: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(&committed, now, "protocol bytes changed: a format change needs a version bump");
}

// ---- the fixed inputs (all of them: the file's `inputs` object is written from these) --------

const ORG_SEED: [u8; 32] = [0x01; 32];
const HOST_SECRET: [u8; 32] = [0x02; 32];
const EPHEMERAL_SECRET: [u8; 32] = [0x03; 32];
const ENTRY_ID: [u8; 16] = [0x10; 16];
const CERT_ID: [u8; 16] = [0x20; 16];
const REQUEST_ID: [u8; 16] = [0x30; 16];
const REQUEST_NONCE: [u8; 16] = [0x40; 16];
const HOST_NAME: &str = "build-1.example";
/// The issuer a format-2 certificate names (the org key holder's user id).
const CERT_ISSUER: &str = "admin-1";
const ENROLLED_AT: u64 = 1_800_000_000;
const ENROLLED_UNTIL: u64 = ENROLLED_AT + 365 * 86_400;
const NOT_BEFORE: u64 = 1_800_000_000;
const NOT_AFTER: u64 = 1_800_086_400;
const REQUEST_ISSUED_AT: u64 = 1_800_000_100;
const REQUEST_EXPIRES_AT: u64 = 1_800_000_400;
const VERIFIED_AT: u64 = 1_800_000_200;
const REQUEST_MIN_VERSION: u32 = 0;
const POLL_TOKEN_HASH: [u8; 32] = [0x50; 32];
/// The revocation record's `issued_at`; it names the last device and the host certificate.
const REVOKED_AT: u64 = 1_800_000_300;
const PURPOSE_COMMAND: [&str; 2] = ["./migrate.sh", "--apply"];
const PURPOSE_ENV: [&str; 1] = ["DB_PASSWORD"];
const PURPOSE_LEASE_SECS: u64 = 900;

fn purpose() -> blindvault_core::identity::Purpose {
    blindvault_core::identity::Purpose::run(&PURPOSE_COMMAND, &PURPOSE_ENV, PURPOSE_LEASE_SECS)
}

/// The PRF outputs of the devices, in `key_schedule` order.
fn prf_outputs() -> [[u8; 32]; 5] {
    [
        core::array::from_fn(|i| i as u8),
        core::array::from_fn(|i| 0xff - i as u8),
        [0x33; 32],
        [0x44; 32],
        [0x55; 32],
    ]
}

/// One enrolled device: its person, its credential id (16 times this byte), its PRF output.
struct DeviceInput {
    user_id: &'static str,
    credential_byte: u8,
    prf: usize,
}

/// Device `i` uses PRF output `i`. user-1 has two devices (0 and 3).
const DEVICES: [DeviceInput; 5] = [
    DeviceInput { user_id: "user-1", credential_byte: 0xc1, prf: 0 },
    DeviceInput { user_id: "user-2", credential_byte: 0xc2, prf: 1 },
    DeviceInput { user_id: "user-3", credential_byte: 0xc3, prf: 2 },
    DeviceInput { user_id: "user-1", credential_byte: 0xc4, prf: 3 },
    DeviceInput { user_id: "user-4", credential_byte: 0xc5, prf: 4 },
];

/// One sealed entry version: the approver devices in the order given to `seal_entry`.
struct EntryInput {
    key: &'static str,
    version: u32,
    policy: Policy,
    devices: &'static [usize],
    label: &'static str,
    value: &'static str,
    rng_seed: &'static str,
}

const ENTRIES: [EntryInput; 3] = [
    EntryInput {
        key: "entry_any_of",
        version: 1,
        policy: Policy::AnyOf { n: 3 },
        devices: &[0, 1, 2],
        label: "label: production database",
        value: "value: hunter2",
        rng_seed: "blindvault/v1/test-vectors/any-of",
    },
    EntryInput {
        key: "entry_2_of_3",
        version: 2,
        policy: Policy::MOfN { m: 2, n: 3 },
        devices: &[0, 1, 2],
        label: "label: signing key",
        value: "value: 2-of-3 secret",
        rng_seed: "blindvault/v1/test-vectors/m-of-n",
    },
    // Four people, five devices: user-1's second device (3) comes third, after user-2's, so
    // person order (user-1, user-2, user-3, user-4 → x = 1, 2, 3, 4) is not device order.
    EntryInput {
        key: "entry_3_of_4",
        version: 3,
        policy: Policy::MOfN { m: 3, n: 4 },
        devices: &[0, 1, 3, 2, 4],
        label: "label: release key",
        value: "value: 3-of-4 secret, two devices for user-1",
        rng_seed: "blindvault/v1/test-vectors/3-of-4",
    },
];

/// One sealed response: device `device` approves the request for entry `entry`.
struct ResponseInput {
    key: &'static str,
    device: usize,
    entry: &'static str,
    rng_seed: &'static str,
}

const RESPONSES: [ResponseInput; 2] = [
    ResponseInput {
        key: "response",
        device: 0,
        entry: "entry_any_of",
        rng_seed: "blindvault/v1/test-vectors/response",
    },
    ResponseInput {
        key: "response_m_of_n",
        device: 1,
        entry: "entry_2_of_3",
        rng_seed: "blindvault/v1/test-vectors/response-m-of-n",
    },
];

fn policy_json(p: &Policy) -> Value {
    serde_json::to_value(p).unwrap()
}

fn inputs_json() -> Value {
    json!({
        "prf_outputs": prf_outputs().iter().map(|p| hex(p)).collect::<Vec<_>>(),
        "org_seed": hex(&ORG_SEED),
        "devices": DEVICES.iter().map(|d| json!({
            "user_id": d.user_id,
            "credential_id": hex(&[d.credential_byte; 16]),
            "prf_output": d.prf,
            "enrolment_issued_at": ENROLLED_AT,
            "enrolment_not_after": ENROLLED_UNTIL,
        })).collect::<Vec<_>>(),
        "revocations_issued_at": REVOKED_AT,
        "host_certificate": {
            "cert_id": hex(&CERT_ID),
            "host_name": HOST_NAME,
            "host_secret": hex(&HOST_SECRET),
            "allowed_entries": [hex(&ENTRY_ID)],
            "not_before": NOT_BEFORE,
            "not_after": NOT_AFTER,
            "issuer": CERT_ISSUER,
            "self_approval": false,
        },
        "request": {
            "request_id": hex(&REQUEST_ID),
            "cert_id": hex(&CERT_ID),
            "entry_id": hex(&ENTRY_ID),
            "ephemeral_secret": hex(&EPHEMERAL_SECRET),
            "issued_at": REQUEST_ISSUED_AT,
            "expires_at": REQUEST_EXPIRES_AT,
            "nonce": hex(&REQUEST_NONCE),
            "min_version": REQUEST_MIN_VERSION,
            "poll_token_hash": hex(&POLL_TOKEN_HASH),
            "purpose": { "kind": "run", "command": PURPOSE_COMMAND, "env": PURPOSE_ENV, "lease_secs": PURPOSE_LEASE_SECS },
            "verified_at": VERIFIED_AT,
        },
        "entries": ENTRIES.iter().map(|e| json!({
            "vector": e.key,
            "entry_id": hex(&ENTRY_ID),
            "version": e.version,
            "policy": policy_json(&e.policy),
            "policy_bytes": hex(&e.policy.to_bytes()),
            "approver_devices": e.devices,
            "label": e.label,
            "value": e.value,
            "rng_seed": e.rng_seed,
        })).collect::<Vec<_>>(),
        "responses": RESPONSES.iter().map(|r| json!({
            "vector": r.key,
            "approver_device": r.device,
            "entry": r.entry,
            "request": "request",
            "rng_seed": r.rng_seed,
        })).collect::<Vec<_>>(),
    })
}

// ---- the documented draws, replayed independently of the sealing code ------------------------

/// Multiplication in GF(2⁸) modulo x⁸+x⁴+x³+x²+1 (0x11d), bit by bit (not blahaj's tables).
fn gf_mul(mut a: u8, mut b: u8) -> u8 {
    let mut p = 0u8;
    while b != 0 {
        if b & 1 != 0 {
            p ^= a;
        }
        let carry = a & 0x80 != 0;
        a <<= 1;
        if carry {
            a ^= 0x1d;
        }
        b >>= 1;
    }
    p
}

/// What `seal_entry` draws from the vector RNG, in the order of docs/protocol.md §5.2, and the
/// shares that follow from it (docs/protocol.md §1, "Shamir sharing").
struct Draws {
    dek: [u8; 32],
    label_key: [u8; 32],
    value_nonce: [u8; 12],
    label_nonce: [u8; 12],
    /// Per DEK byte: the m − 1 random coefficients, highest degree first.
    coefficients: Vec<Vec<u8>>,
    /// Per person (x = 1, 2, …): y.
    shares: Vec<(u8, [u8; 32])>,
    /// Per envelope in approver order, then the org envelope: the HPKE `DeriveKeyPair` input.
    hpke_ikm: Vec<[u8; 32]>,
}

fn draw<const N: usize>(r: &mut StreamRng) -> [u8; N] {
    let mut b = [0u8; N];
    rand_core::Rng::fill_bytes(r, &mut b);
    b
}

fn replay(e: &EntryInput) -> Draws {
    let mut r = StreamRng::new(e.rng_seed.as_bytes());
    let dek: [u8; 32] = draw(&mut r);
    let label_key = draw(&mut r);
    let value_nonce = draw(&mut r);
    let label_nonce = draw(&mut r);
    let (m, n) = match e.policy {
        Policy::MOfN { m, n } => (m, n),
        Policy::AnyOf { .. } => (0, 0),
    };
    // Each coefficient is one 32-bit word of the stream (4 bytes, read little-endian), of which
    // only the low byte — the first of the four — is kept. No rejection.
    let coefficients: Vec<Vec<u8>> = if m == 0 {
        Vec::new()
    } else {
        (0..32).map(|_| (1..m).map(|_| draw::<4>(&mut r)[0]).collect()).collect()
    };
    let shares = (1..=n)
        .map(|x| {
            let y = core::array::from_fn(|i| {
                coefficients[i].iter().chain([&dek[i]]).fold(0u8, |acc, c| gf_mul(acc, x) ^ c)
            });
            (x, y)
        })
        .collect();
    let hpke_ikm = (0..=e.devices.len()).map(|_| draw(&mut r)).collect();
    Draws { dek, label_key, value_nonce, label_nonce, coefficients, shares, hpke_ikm }
}

fn binding(label: &[u8], version: u32, policy: &Policy) -> Vec<u8> {
    let mut b = label.to_vec();
    b.push(0);
    b.extend_from_slice(&ENTRY_ID);
    b.extend_from_slice(&version.to_be_bytes());
    b.extend_from_slice(&policy.to_bytes());
    b
}

/// Checks the sealed entry against the replayed draws, opening each envelope by hand (HPKE base
/// mode, §5.2's `info` and `aad`), and returns the intermediate values for the file.
fn intermediates(e: &EntryInput, sealed: &SealedEntry, schedules: &[KeySchedule]) -> Value {
    use blindvault_core::entry::{Dek, LabelKey};
    let d = replay(e);
    let bytes = sealed.to_bytes();
    assert_eq!(bytes[24..36], d.value_nonce, "{}: value nonce", e.key);
    assert_eq!(sealed.decrypt_value(&Dek::from_bytes(d.dek)).unwrap().expose(), e.value.as_bytes());
    assert_eq!(
        sealed.decrypt_label(&LabelKey::from_bytes(d.label_key)).unwrap().expose(),
        e.label.as_bytes()
    );
    let info = binding(b"blindvault/v1/envelope", e.version, &e.policy);
    let mut people: Vec<&str> = Vec::new();
    for (k, &dev) in e.devices.iter().enumerate() {
        let env = &sealed.envelopes[k];
        let (_, enc) = blindvault_core::hpke::derive_keypair(&d.hpke_ikm[k]);
        assert_eq!(env.sealed.enc, enc, "{}: envelope {k} ephemeral key", e.key);
        let ks = &schedules[DEVICES[dev].prf];
        let pk = ks.approver_public().to_array();
        assert_eq!(env.approver.to_array(), pk);
        let payload =
            blindvault_core::hpke::open(ks.approver_secret().expose(), &info, &pk, &env.sealed).unwrap();
        let p = payload.expose();
        assert_eq!((p[0], &p[1..33]), (1, &d.label_key[..]));
        if !people.contains(&DEVICES[dev].user_id) {
            people.push(DEVICES[dev].user_id);
        }
        match e.policy {
            Policy::AnyOf { .. } => assert_eq!((p[33], &p[34..]), (1, &d.dek[..])),
            Policy::MOfN { m, .. } => {
                let x = people.iter().position(|u| *u == DEVICES[dev].user_id).unwrap() + 1;
                let (sx, sy) = &d.shares[x - 1];
                assert_eq!((p[33], p[34], p[35], &p[36..]), (2, m, *sx, &sy[..]), "{}: envelope {k}", e.key);
                assert_eq!(usize::from(*sx), x);
            }
        }
    }
    let (_, enc) = blindvault_core::hpke::derive_keypair(&d.hpke_ikm[e.devices.len()]);
    assert_eq!(sealed.org_envelope.enc, enc, "{}: org envelope ephemeral key", e.key);
    let mut v = json!({
        "dek": hex(&d.dek),
        "label_key": hex(&d.label_key),
        "value_nonce": hex(&d.value_nonce),
        "label_nonce": hex(&d.label_nonce),
        "hpke_ikm": d.hpke_ikm.iter().map(|b| hex(b)).collect::<Vec<_>>(),
    });
    if let Policy::MOfN { .. } = e.policy {
        v["people"] = json!(people);
        v["coefficients"] = json!(d.coefficients.iter().map(|c| hex(c)).collect::<Vec<_>>());
        v["shares"] = json!(d.shares.iter().map(|(x, y)| json!({"x": x, "y": hex(y)})).collect::<Vec<_>>());
    }
    v
}

fn build() -> Value {
    let prfs = prf_outputs();
    let schedules: Vec<KeySchedule> =
        prfs.iter().map(|p| KeySchedule::derive(&PrfOutput::from_bytes(*p))).collect();
    let org = OrgSecretKey::from_bytes(ORG_SEED);
    let host = HostSecretKey::from_bytes(HOST_SECRET);
    let eph = EphemeralSecretKey::from_bytes(EPHEMERAL_SECRET);
    let entry_id = EntryId::from_array(ENTRY_ID);
    let op = org.public_key();
    let enrolments: Vec<SignedEnrolment> = DEVICES
        .iter()
        .map(|d| {
            Enrolment {
                user_id: d.user_id.into(),
                credential_id: vec![d.credential_byte; 16],
                approver_key: schedules[d.prf].approver_public(),
                issued_at: ENROLLED_AT,
                not_after: ENROLLED_UNTIL,
            }
            .sign(&org)
            .unwrap()
        })
        .collect();
    let verified: Vec<VerifiedApprover> =
        enrolments.iter().map(|e| e.verify(&op, ENROLLED_AT).unwrap()).collect();
    let cert = HostCertificate {
        cert_id: CertId::from_array(CERT_ID),
        host_name: HOST_NAME.into(),
        host_key: host.public_key(),
        allowed_entries: vec![entry_id],
        not_before: NOT_BEFORE,
        not_after: NOT_AFTER,
        issuer: Some(CERT_ISSUER.into()),
        self_approval: false,
    }
    .sign(&org)
    .unwrap();
    // The same certificate in format 1 (no issuer), as certificates issued before format 2 are.
    let cert_v1 = HostCertificate { issuer: None, ..cert.cert.clone() }.sign(&org).unwrap();
    let req = Request {
        request_id: RequestId::from_array(REQUEST_ID),
        cert_id: CertId::from_array(CERT_ID),
        entry_id,
        ephemeral_key: eph.public_key(),
        issued_at: REQUEST_ISSUED_AT,
        expires_at: REQUEST_EXPIRES_AT,
        nonce: REQUEST_NONCE,
        min_version: REQUEST_MIN_VERSION,
        poll_token_hash: POLL_TOKEN_HASH,
        purpose: purpose(),
    }
    .sign(&host)
    .unwrap();
    let v = verify_request(&op, &cert, &req, VERIFIED_AT).unwrap();
    let last = schedules[DEVICES[DEVICES.len() - 1].prf].approver_public();
    let revocations = Revocations::none()
        .next(&[last], &[CertId::from_array(CERT_ID)], REVOKED_AT)
        .unwrap()
        .sign(&org)
        .unwrap();
    assert!(revocations.verify(&op).unwrap().approver_revoked(&last));

    let mut out = json!({
        "description": "blindvault protocol vectors (v1 formats; responses v2, HPKE auth mode), generated by crates/core/tests/core/generated_vectors.rs from `inputs`. RNG of every rng_seed: SHA-256(seed || counter as u64 big-endian) for counter = 0, 1, 2, ..., concatenated; 32-bit words are 4 bytes of it read little-endian (docs/protocol.md, Test vectors). Byte strings are lowercase hex.",
        "inputs": inputs_json(),
        "prf_salt": hex(&PRF_SALT_V1),
        "key_schedule": prfs.iter().zip(&schedules).map(|(p, ks)| json!({
            "prf_output": hex(p),
            "approver_secret": hex(ks.approver_secret().expose()),
            "approver_public": hex(&ks.approver_public().to_array()),
            "approver_fingerprint": ks.approver_public().fingerprint().to_string(),
            "wallet_entropy": hex(ks.wallet_entropy().expose()),
            "local_storage_key": hex(ks.local_storage_key().expose()),
        })).collect::<Vec<_>>(),
        "org": {"seed": hex(org.expose()), "public_key": hex(&op.to_bytes()), "fingerprint": op.fingerprint().to_string()},
        "enrolments": enrolments.iter().map(|e| hex(&e.to_bytes())).collect::<Vec<_>>(),
        "host": {"secret": hex(host.expose()), "public": hex(&host.public_key().to_array()), "certificate": hex(&cert.to_bytes()), "certificate_v1": hex(&cert_v1.to_bytes())},
        "request": {"ephemeral_secret": hex(eph.expose()), "ephemeral_public": hex(&eph.public_key().to_array()), "signed": hex(&req.to_bytes()), "verified_at": VERIFIED_AT},
        "revocations": {
            "note": "epoch 1: the last device's approver key and the host certificate",
            "signed": hex(&revocations.to_bytes()),
        },
    });
    let mut sealed_entries: Vec<(&str, SealedEntry)> = Vec::new();
    for e in &ENTRIES {
        let approvers: Vec<VerifiedApprover> = e.devices.iter().map(|&d| verified[d].clone()).collect();
        let sealed = seal_entry(
            &org,
            entry_id,
            e.version,
            e.policy,
            &approvers,
            e.label.as_bytes(),
            e.value.as_bytes(),
            &mut StreamRng::new(e.rng_seed.as_bytes()),
        )
        .unwrap();
        out[e.key] = json!({
            "rng_seed": e.rng_seed,
            "label": e.label,
            "value": e.value,
            "intermediate": intermediates(e, &sealed, &schedules),
            "sealed": hex(&sealed.to_bytes()),
        });
        sealed_entries.push((e.key, sealed));
    }
    for r in &RESPONSES {
        let entry = &sealed_entries.iter().find(|(k, _)| *k == r.entry).unwrap().1;
        let ks = &schedules[DEVICES[r.device].prf];
        let resp =
            approve(ks.approver_secret(), &v, entry, &mut StreamRng::new(r.rng_seed.as_bytes())).unwrap();
        let bytes = resp.to_bytes();
        let ikm: [u8; 32] = draw(&mut StreamRng::new(r.rng_seed.as_bytes()));
        assert_eq!(bytes[49..81], blindvault_core::hpke::derive_keypair(&ikm).1, "{}: ephemeral key", r.key);
        out[r.key] = json!({
            "rng_seed": r.rng_seed,
            "approver": r.device,
            "entry": r.entry,
            "hpke_mode": "auth (0x02): the sender key is the approver device's, checked against its enrolment",
            "intermediate": {"hpke_ikm": hex(&ikm)},
            "sealed": hex(&bytes),
        });
    }
    out
}

#[test]
fn generated_vectors_match_the_committed_file() {
    check_or_update("blindvault_v1.json", &build());
}

#[test]
fn the_inputs_in_the_file_are_the_generator_s() {
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(vector_path("blindvault_v1.json")).unwrap()).unwrap();
    assert_eq!(v["inputs"], inputs_json());
}

#[test]
fn committed_vectors_open() {
    // Reading direction: a second implementation's job, done here from the file alone.
    use blindvault_core::identity::{SignedHostCertificate, SignedRequest};
    use blindvault_core::keys::{ApproverSecretKey, OrgPublicKey};
    use blindvault_core::release::{SealedResponse, open_response, recover_secret};
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(vector_path("blindvault_v1.json")).unwrap()).unwrap();
    let b = |p: &str| hex::decode(v.pointer(p).unwrap().as_str().unwrap()).unwrap();
    let org = OrgPublicKey::from_bytes(&b("/org/public_key")).unwrap();
    let cert = SignedHostCertificate::from_bytes(&b("/host/certificate")).unwrap();
    let req = SignedRequest::from_bytes(&b("/request/signed")).unwrap();
    let now = v.pointer("/inputs/request/verified_at").unwrap().as_u64().unwrap();
    let verified = verify_request(&org, &cert, &req, now).unwrap();
    assert_eq!(verified.host_name(), "build-1.example");
    assert_eq!(
        (cert.cert.format(), verified.issuer(), verified.self_approval()),
        (2, Some("admin-1"), false)
    );
    // The format-1 certificate (no issuer) still reads and verifies.
    let cert_v1 = SignedHostCertificate::from_bytes(&b("/host/certificate_v1")).unwrap();
    let v1 = verify_request(&org, &cert_v1, &req, now).unwrap();
    assert_eq!((cert_v1.cert.format(), v1.issuer()), (1, None));
    let entry = SealedEntry::from_bytes(&b("/entry_any_of/sealed")).unwrap();
    entry.verify_writer(&org).unwrap();
    let sk =
        |i: usize| ApproverSecretKey::from_slice(&b(&format!("/key_schedule/{i}/approver_secret"))).unwrap();
    let opened = entry.open_envelope(&sk(0)).unwrap();
    assert_eq!(entry.decrypt_label(&opened.label_key).unwrap().expose(), b"label: production database");
    let eph = EphemeralSecretKey::from_slice(&b("/request/ephemeral_secret")).unwrap();
    let enrolment = |i: usize| SignedEnrolment::from_bytes(&b(&format!("/enrolments/{i}"))).unwrap();
    let resp = SealedResponse::from_bytes(&b("/response/sealed")).unwrap();
    let rel =
        open_response(&eph, &req, &resp, &enrolment(0).verify(&org, REQUEST_ISSUED_AT).unwrap()).unwrap();
    assert_eq!(recover_secret(&[rel], &entry, &Revocations::none()).unwrap().expose(), b"value: hunter2");
    // 2-of-3 from the second and third keys.
    let m = SealedEntry::from_bytes(&b("/entry_2_of_3/sealed")).unwrap();
    m.verify_writer(&org).unwrap();
    let share = |m: &SealedEntry, i: usize| match m.open_envelope(&sk(i)).unwrap().key {
        blindvault_core::entry::KeyMaterial::Share(s) => s,
        _ => panic!(),
    };
    assert_eq!(
        m.decrypt_with_shares(&[share(&m, 1), share(&m, 2)]).unwrap().expose(),
        b"value: 2-of-3 secret"
    );
    // The m-of-n response carries device 1's share; with device 2's it recovers the value.
    let resp = SealedResponse::from_bytes(&b("/response_m_of_n/sealed")).unwrap();
    let rel =
        open_response(&eph, &req, &resp, &enrolment(1).verify(&org, REQUEST_ISSUED_AT).unwrap()).unwrap();
    match &rel.released {
        blindvault_core::release::Released::Share(s) => {
            assert_eq!(
                m.decrypt_with_shares(&[s.clone(), share(&m, 2)]).unwrap().expose(),
                b"value: 2-of-3 secret"
            );
        }
        blindvault_core::release::Released::Dek(_) => panic!("an m-of-n response carries a share"),
    }
    // 3-of-4: user-1's two devices (0 and 3) carry one share, which counts once.
    let t = SealedEntry::from_bytes(&b("/entry_3_of_4/sealed")).unwrap();
    t.verify_writer(&org).unwrap();
    let (a, a2) = (share(&t, 0), share(&t, 3));
    assert_eq!(a, a2);
    assert_eq!(a.index(), 1);
    assert_eq!(
        t.decrypt_with_shares(&[a.clone(), share(&t, 2), share(&t, 4)]).unwrap().expose(),
        b"value: 3-of-4 secret, two devices for user-1"
    );
    assert!(t.decrypt_with_shares(&[a, share(&t, 1)]).is_err(), "two shares are not three");
}
