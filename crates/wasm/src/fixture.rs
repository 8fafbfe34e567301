//! A fixed approval, shared by the native benchmark (`benches/approve.rs`) and the browser
//! benchmark (`ApproveBench` in JavaScript), so both time the same operation on the same bytes.

use blindvault_core::encoding::b64;
use blindvault_core::entry::seal_entry;
use blindvault_core::identity::{Enrolment, HostCertificate, Request};
use blindvault_core::ids::{CertId, EntryId, RequestId};
use blindvault_core::keys::{EphemeralSecretKey, HostSecretKey, OrgSecretKey};
use blindvault_core::policy::Policy;
use blindvault_core::schedule::{KeySchedule, PrfOutput};

use crate::bridge::{self, Failure, Keys, Org};

/// Time the fixture pretends it is (Unix seconds).
pub const NOW: u64 = 1_900_000_000;

/// Everything an approval needs, in the forms the web app receives them.
#[derive(Debug)]
pub struct Fixture {
    keys: Keys,
    org: Org,
    certificate: String,
    signed_request: String,
    sealed_entry: String,
}

impl Fixture {
    /// Builds an org, one approver (from a fixed PRF output), an `any-of` entry sealed to it, a
    /// host certificate and a request.
    pub fn new() -> Result<Self, Failure> {
        Self::with(&[42u8; 32], &[7u8; 48])
    }

    /// [`Fixture::new`] with the approver's PRF output `prf` and the secret `value`.
    pub fn with(prf: &[u8; 32], value: &[u8]) -> Result<Self, Failure> {
        let prf = *prf;
        let mut rng = blindvault_core::rng::os_rng();
        let org = OrgSecretKey::generate(&mut rng);
        let schedule = KeySchedule::derive(&PrfOutput::from_bytes(prf));
        let approver = Enrolment {
            user_id: "bench".into(),
            credential_id: vec![1; 16],
            approver_key: schedule.approver_public(),
            issued_at: NOW,
            not_after: NOW + 86_400,
        }
        .sign(&org)?
        .verify(&org.public_key(), NOW)?;
        let entry_id = EntryId::generate(&mut rng);
        let entry = seal_entry(
            &org,
            entry_id,
            1,
            Policy::AnyOf { n: 1 },
            &[approver],
            b"bench label",
            value,
            &mut rng,
        )?;
        let host = HostSecretKey::generate(&mut rng);
        let cert = HostCertificate {
            cert_id: CertId::generate(&mut rng),
            host_name: "bench-host".into(),
            host_key: host.public_key(),
            allowed_entries: vec![entry_id],
            not_before: NOW - 60,
            not_after: NOW + 86_400,
            issuer: Some("admin-1".into()),
            self_approval: false,
        }
        .sign(&org)?;
        let eph = EphemeralSecretKey::generate(&mut rng);
        let req = Request {
            request_id: RequestId::generate(&mut rng),
            cert_id: cert.cert.cert_id,
            entry_id,
            ephemeral_key: eph.public_key(),
            issued_at: NOW,
            expires_at: NOW + 300,
            nonce: [3; 16],
            min_version: 0,
            poll_token_hash: [0x50; 32],
            purpose: blindvault_core::identity::Purpose::run(&["./migrate.sh"], &["DB"], 900),
        }
        .sign(&host)?;
        Ok(Self {
            keys: Keys::from_prf(&prf)?,
            org: Org::parse(&b64::encode(&org.public_key().to_bytes()))?,
            certificate: b64::encode(&cert.to_bytes()),
            signed_request: b64::encode(&req.to_bytes()),
            sealed_entry: b64::encode(&entry.to_bytes()),
        })
    }

    /// The org's public key, the host certificate, the signed request and the sealed entry, as
    /// the web app receives them (unpadded base64url).
    pub fn inputs(&self) -> [String; 4] {
        [
            self.org.to_base64(),
            self.certificate.clone(),
            self.signed_request.clone(),
            self.sealed_entry.clone(),
        ]
    }

    /// One approval as the approve button runs it (decode, verify, open, reseal, encode).
    /// Returns the sealed response's length (so the work cannot be optimised away).
    pub fn run(&self) -> Result<usize, Failure> {
        bridge::approve(
            &self.keys,
            &self.org,
            &self.certificate,
            &self.signed_request,
            &self.sealed_entry,
            NOW as f64,
        )
        .map(|s| s.len())
    }
}
