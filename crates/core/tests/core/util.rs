//! Shared test fixtures.

use blindvault_core::entry::{SealedEntry, seal_entry};
use blindvault_core::identity::{
    Enrolment, HostCertificate, Purpose, Request, SignedEnrolment, SignedHostCertificate, SignedRequest,
    VerifiedApprover,
};
use blindvault_core::ids::{CertId, EntryId, RequestId};
use blindvault_core::keys::{EphemeralSecretKey, HostSecretKey, OrgSecretKey};
use blindvault_core::policy::Policy;
use blindvault_core::schedule::{KeySchedule, PrfOutput};
use sha2::{Digest, Sha256};

/// A deterministic RNG that any implementation can reproduce: the concatenation of
/// SHA-256(seed ‖ counter as u64 big-endian) for counter = 0, 1, 2, …
/// (also specified in docs/protocol.md, "Test vectors").
#[derive(Debug)]
pub struct StreamRng {
    seed: Vec<u8>,
    counter: u64,
    buf: [u8; 32],
    pos: usize,
}

impl StreamRng {
    pub fn new(seed: &[u8]) -> Self {
        Self { seed: seed.to_vec(), counter: 0, buf: [0; 32], pos: 32 }
    }
}

impl rand_core::TryRng for StreamRng {
    type Error = core::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for d in dst {
            if self.pos == 32 {
                let mut h = Sha256::new();
                h.update(&self.seed);
                h.update(self.counter.to_be_bytes());
                self.buf.copy_from_slice(&h.finalize());
                self.counter += 1;
                self.pos = 0;
            }
            *d = self.buf[self.pos];
            self.pos += 1;
        }
        Ok(())
    }
}
impl rand_core::TryCryptoRng for StreamRng {}

pub fn rng(seed: &str) -> StreamRng {
    StreamRng::new(seed.as_bytes())
}

pub const NOW: u64 = 1_800_000_000;

/// One approver device: a person, a credential, a PRF output.
#[derive(Debug)]
pub struct Device {
    pub user: String,
    pub credential: Vec<u8>,
    pub keys: KeySchedule,
}

impl Device {
    pub fn new(user: &str, cred: u8) -> Self {
        let prf = PrfOutput::from_bytes(Sha256::digest(format!("prf/{user}/{cred}")).into());
        Self { user: user.to_string(), credential: vec![cred; 16], keys: KeySchedule::derive(&prf) }
    }
    pub fn enrolment(&self, org: &OrgSecretKey) -> SignedEnrolment {
        Enrolment {
            user_id: self.user.clone(),
            credential_id: self.credential.clone(),
            approver_key: self.keys.approver_public(),
            issued_at: NOW - 100,
            not_after: NOW + 86_400,
        }
        .sign(org)
        .expect("sign enrolment")
    }
    pub fn verified(&self, org: &OrgSecretKey) -> VerifiedApprover {
        self.enrolment(org).verify(&org.public_key(), NOW).expect("verify enrolment")
    }
}

/// An org, its host and one consumer request.
#[derive(Debug)]
pub struct World {
    pub org: OrgSecretKey,
    pub host: HostSecretKey,
    pub cert: SignedHostCertificate,
    pub entry_id: EntryId,
}

impl World {
    pub fn new(seed: &str) -> Self {
        let mut r = rng(seed);
        let org = OrgSecretKey::generate(&mut r);
        let host = HostSecretKey::generate(&mut r);
        let entry_id = EntryId::generate(&mut r);
        let cert = HostCertificate {
            cert_id: CertId::generate(&mut r),
            host_name: "ci-runner-7.example".into(),
            host_key: host.public_key(),
            allowed_entries: vec![entry_id],
            not_before: NOW - 3600,
            not_after: NOW + 86_400,
            issuer: Some("admin-1".into()),
            self_approval: false,
        }
        .sign(&org)
        .expect("sign cert");
        Self { org, host, cert, entry_id }
    }

    /// Version `version` of this world's entry, any-of over `devices`, holding `value`.
    pub fn any_of(&self, devices: &[&Device], version: u32, value: &[u8], seed: &str) -> SealedEntry {
        let approvers: Vec<VerifiedApprover> = devices.iter().map(|d| d.verified(&self.org)).collect();
        let n = u8::try_from(approvers.len()).expect("few devices");
        seal_entry(
            &self.org,
            self.entry_id,
            version,
            Policy::AnyOf { n },
            &approvers,
            b"l",
            value,
            &mut rng(seed),
        )
        .expect("seal")
    }

    pub fn request(&self, seed: &str) -> (EphemeralSecretKey, SignedRequest) {
        self.request_for(seed, self.entry_id, NOW, NOW + 300)
    }

    pub fn request_for(
        &self,
        seed: &str,
        entry_id: EntryId,
        issued_at: u64,
        expires_at: u64,
    ) -> (EphemeralSecretKey, SignedRequest) {
        let mut r = rng(seed);
        let eph = EphemeralSecretKey::generate(&mut r);
        let mut nonce = [0u8; 16];
        rand_core::Rng::fill_bytes(&mut r, &mut nonce);
        let req = Request {
            request_id: RequestId::generate(&mut r),
            cert_id: self.cert.cert.cert_id,
            entry_id,
            ephemeral_key: eph.public_key(),
            issued_at,
            expires_at,
            nonce,
            min_version: 0,
            poll_token_hash: [0x77; 32],
            purpose: purpose(),
        }
        .sign(&self.host)
        .expect("sign request");
        (eph, req)
    }
}

/// The purpose every test request carries: what `blindvault run` would sign.
pub fn purpose() -> Purpose {
    Purpose::run(&["./migrate.sh", "--apply"], &["DB"], 900)
}

pub fn hex(b: &[u8]) -> String {
    hex::encode(b)
}
