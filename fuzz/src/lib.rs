//! What the fuzz targets share: a deterministic RNG, the fixed keys of a small org (so that a
//! target can seal bytes the way an approver does and feed them to the consumer's side), and the
//! round-trip check of a canonical encoding.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::sync::LazyLock;

use blindvault_core::identity::{
    Enrolment, HostCertificate, Purpose, Request, SignedHostCertificate, SignedRequest, VerifiedApprover,
};
use blindvault_core::ids::{CertId, EntryId, RequestId};
use blindvault_core::keys::{EphemeralSecretKey, HostSecretKey, OrgSecretKey};
use blindvault_core::schedule::{KeySchedule, PrfOutput};

/// A deterministic generator (SplitMix64): fuzzing needs the same run for the same input.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// Seeded by `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }
    fn step(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

impl rand_core::TryRng for Rng {
    type Error = core::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(self.step() as u32)
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        Ok(self.step())
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for chunk in dst.chunks_mut(8) {
            let v = self.step().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
        Ok(())
    }
}
impl rand_core::TryCryptoRng for Rng {}

/// Unix seconds the fixed world lives at.
pub const NOW: u64 = 1_800_000_000;

/// An org, one approver device, one host and one of its requests, made once.
pub struct World {
    /// The org key.
    pub org: OrgSecretKey,
    /// The approver device's key schedule.
    pub device: KeySchedule,
    /// Its enrolment, verified under the org key.
    pub approver: VerifiedApprover,
    /// The host's certificate.
    pub cert: SignedHostCertificate,
    /// The host's key.
    pub host: HostSecretKey,
    /// The entry the host may ask for.
    pub entry_id: EntryId,
    /// The consumer's ephemeral key of `request`.
    pub ephemeral: EphemeralSecretKey,
    /// The consumer's signed request.
    pub request: SignedRequest,
}

/// The fixed world.
pub static WORLD: LazyLock<World> = LazyLock::new(|| {
    let mut rng = Rng::new(7);
    let org = OrgSecretKey::generate(&mut rng);
    let device = KeySchedule::derive(&PrfOutput::from_bytes([0x42; 32]));
    let enrolment = Enrolment {
        user_id: "user-1".into(),
        credential_id: vec![0xc1; 16],
        approver_key: device.approver_public(),
        issued_at: NOW - 10,
        not_after: NOW + 86_400,
    };
    let approver = enrolment.sign(&org).unwrap().verify(&org.public_key(), NOW).unwrap();
    let host = HostSecretKey::generate(&mut rng);
    let entry_id = EntryId::from_array([0x10; 16]);
    let cert = HostCertificate {
        cert_id: CertId::from_array([0x20; 16]),
        host_name: "build-1".into(),
        host_key: host.public_key(),
        allowed_entries: vec![entry_id],
        not_before: NOW - 10,
        not_after: NOW + 86_400,
        issuer: Some("user-0".into()),
        self_approval: false,
    }
    .sign(&org)
    .unwrap();
    let ephemeral = EphemeralSecretKey::generate(&mut rng);
    let request = Request {
        request_id: RequestId::from_array([0x30; 16]),
        cert_id: cert.cert.cert_id,
        entry_id,
        ephemeral_key: ephemeral.public_key(),
        issued_at: NOW,
        expires_at: NOW + 600,
        nonce: [0x31; 16],
        min_version: 0,
        poll_token_hash: [0x32; 32],
        purpose: Purpose::run(&["deploy"], &["DB_PASSWORD"], 300),
    }
    .sign(&host)
    .unwrap();
    World { org, device, approver, cert, host, entry_id, ephemeral, request }
});

/// A canonical decoder's contract: a value it accepts encodes back to exactly the bytes it was
/// read from (one byte form per value: anything else decoded is a non-canonical encoding
/// accepted), and those bytes decode to the same value.
pub fn canonical<T: PartialEq + std::fmt::Debug, E>(
    data: &[u8],
    from: impl Fn(&[u8]) -> Result<T, E>,
    to: impl Fn(&T) -> Vec<u8>,
) -> Option<T> {
    let value = from(data).ok()?;
    let again = to(&value);
    assert_eq!(again.as_slice(), data, "decoded {value:?} re-encodes to other bytes");
    let twice = from(&again).ok().expect("a re-encoded value does not decode");
    assert_eq!(twice, value);
    Some(value)
}

/// Serde's form of a value that decoded: writing it as JSON and reading it back gives the same.
pub fn json_round_trip<T>(value: &T)
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let json = serde_json::to_string(value).expect("serializes");
    let back: T = serde_json::from_str(&json).expect("its JSON reads back");
    assert_eq!(&back, value);
}
