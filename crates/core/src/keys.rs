//! Key types of the identity chain.
//!
//! * [`ApproverSecretKey`] / [`ApproverPublicKey`]: X25519, derived from the PRF on the device.
//! * [`OrgSecretKey`] / [`OrgPublicKey`]: the organisation's identity. One 32-byte seed gives an
//!   Ed25519 signing key (enrolments, host certificates) and an X25519 key (so that the admin's
//!   CLI can read the encrypted labels of entries it wrote). Both halves are in the public key and
//!   in its fingerprint.
//! * [`HostSecretKey`] / [`HostPublicKey`]: Ed25519, one per consumer host, certified by the org.
//! * [`EphemeralSecretKey`] / [`EphemeralPublicKey`]: X25519, fresh per request.

use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use hkdf::Hkdf;
use rand_core::CryptoRng;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::Error;
use crate::encoding::{Reader, Writer, serde_via_bytes};
use crate::secret::secret_bytes;

/// Fills a fresh 32-byte secret from the injected RNG.
fn random32(rng: &mut impl CryptoRng) -> Zeroizing<[u8; 32]> {
    let mut b = Zeroizing::new([0u8; 32]);
    rng.fill_bytes(b.as_mut());
    b
}

fn x25519_public(secret: &[u8; 32]) -> [u8; 32] {
    let s = x25519_dalek::StaticSecret::from(*secret);
    x25519_dalek::PublicKey::from(&s).to_bytes()
}

macro_rules! public_key {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub(crate) [u8; 32]);

        impl $name {
            /// From raw bytes.
            pub fn from_array(bytes: [u8; 32]) -> Self {
                Self(bytes)
            }
            /// From a slice of exactly 32 bytes.
            pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
                Ok(Self(crate::encoding::array(bytes, stringify!($name))?))
            }
            /// Raw bytes.
            pub fn to_array(&self) -> [u8; 32] {
                self.0
            }
            /// Raw bytes, as a vector (for the serde form).
            pub fn to_bytes(&self) -> alloc::vec::Vec<u8> {
                self.0.to_vec()
            }
        }

        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), crate::encoding::b64::encode(&self.0))
            }
        }
        serde_via_bytes!($name);
    };
}

// ---------------------------------------------------------------------------------------------
// Approver

secret_bytes!(
    /// An approver's X25519 secret key, derived from the PRF output. Opens envelopes.
    ApproverSecretKey, 32
);

impl ApproverSecretKey {
    /// The matching public key.
    pub fn public_key(&self) -> ApproverPublicKey {
        ApproverPublicKey(x25519_public(self.expose()))
    }
}

public_key!(
    /// An approver's X25519 public key, as enrolled and signed by the org key.
    ApproverPublicKey
);

// ---------------------------------------------------------------------------------------------
// Org

/// HKDF info of the org Ed25519 signing key, from the org seed.
pub const INFO_ORG_SIGN_V1: &[u8] = b"blindvault/v1/org-ed25519";
/// HKDF info of the org X25519 label key, from the org seed.
pub const INFO_ORG_BOX_V1: &[u8] = b"blindvault/v1/org-x25519";
/// Domain label of the org fingerprint.
pub const ORG_FINGERPRINT_LABEL_V1: &[u8] = b"blindvault/v1/org-fingerprint";

secret_bytes!(
    /// The organisation's 32-byte identity seed. Lives only on the admin's machine, encrypted.
    OrgSecretKey, 32
);

/// The two halves of the org public identity.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct OrgPublicKey {
    sign: [u8; 32],
    box_key: [u8; 32],
}

impl OrgSecretKey {
    /// A fresh org identity.
    pub fn generate(rng: &mut impl CryptoRng) -> Self {
        Self::from_bytes(*random32(rng))
    }

    fn expand(&self, info: &[u8]) -> Zeroizing<[u8; 32]> {
        let hk = Hkdf::<Sha256>::new(None, self.expose());
        let mut out = Zeroizing::new([0u8; 32]);
        #[allow(clippy::expect_used)]
        hk.expand(info, out.as_mut()).expect("32 bytes is within HKDF-SHA256's limit");
        out
    }

    pub(crate) fn signing_key(&self) -> SigningKey {
        SigningKey::from_bytes(&self.expand(INFO_ORG_SIGN_V1))
    }

    pub(crate) fn box_secret(&self) -> Zeroizing<[u8; 32]> {
        self.expand(INFO_ORG_BOX_V1)
    }

    /// The public identity (Ed25519 verifying key ‖ X25519 label key).
    pub fn public_key(&self) -> OrgPublicKey {
        OrgPublicKey {
            sign: self.signing_key().verifying_key().to_bytes(),
            box_key: x25519_public(&self.box_secret()),
        }
    }

    /// Signs `context ‖ message` with the org Ed25519 key.
    pub(crate) fn sign(&self, context: &[u8], message: &[u8]) -> [u8; 64] {
        let mut m = alloc::vec::Vec::with_capacity(context.len() + message.len());
        m.extend_from_slice(context);
        m.extend_from_slice(message);
        self.signing_key().sign(&m).to_bytes()
    }
}

/// The Ed25519 public keys blindvault accepts (docs/protocol.md §1, "Ed25519"): the canonical
/// encoding (y < p, and a clear sign bit when x = 0) of a point of the prime-order subgroup other
/// than the identity. `VerifyingKey::from_bytes` alone also takes non-canonical encodings,
/// small-order points and points with a torsion component.
pub(crate) fn ed25519_public_key(bytes: &[u8; 32]) -> Option<VerifyingKey> {
    let vk = VerifyingKey::from_bytes(bytes).ok()?;
    let point = vk.to_edwards();
    let canonical = point.compress().to_bytes() == *bytes;
    (canonical && !vk.is_weak() && point.is_torsion_free()).then_some(vk)
}

/// Verifies an Ed25519 signature over `context ‖ message`: the key as [`ed25519_public_key`],
/// then `verify_strict` (S < ℓ; R decodes, is not of small order and is the canonical encoding
/// of [S]B − [k]A, cofactorless).
pub(crate) fn verify_ed25519(
    key: &[u8; 32],
    context: &[u8],
    message: &[u8],
    sig: &[u8; 64],
    link: crate::Link,
) -> Result<(), Error> {
    let vk = ed25519_public_key(key).ok_or(Error::BadSignature { link })?;
    let sig = ed25519_dalek::Signature::from_bytes(sig);
    let mut m = alloc::vec::Vec::with_capacity(context.len() + message.len());
    m.extend_from_slice(context);
    m.extend_from_slice(message);
    vk.verify_strict(&m, &sig).map_err(|_| Error::BadSignature { link })
}

impl OrgPublicKey {
    /// Canonical encoding: version 1 ‖ Ed25519 key (32) ‖ X25519 key (32).
    pub fn to_bytes(&self) -> alloc::vec::Vec<u8> {
        let mut w = Writer::new(1);
        w.fixed(&self.sign).fixed(&self.box_key);
        crate::encoding::or_unencodable(w.finish())
    }
    /// Decodes the canonical encoding.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(bytes, "org public key", 1)?;
        let sign = r.fixed()?;
        let box_key = r.fixed()?;
        r.finish()?;
        ed25519_public_key(&sign).ok_or(Error::Malformed { what: "org public key" })?;
        Ok(Self { sign, box_key })
    }
    /// The Ed25519 verifying key.
    pub fn signing_key_bytes(&self) -> [u8; 32] {
        self.sign
    }
    /// The X25519 key that label envelopes for the admin are sealed to.
    pub fn box_key(&self) -> ApproverPublicKey {
        ApproverPublicKey(self.box_key)
    }
    /// SHA-256(label ‖ encoding), first 16 bytes: what people compare by eye.
    pub fn fingerprint(&self) -> Fingerprint {
        Fingerprint::of(ORG_FINGERPRINT_LABEL_V1, &self.to_bytes())
    }
}

impl core::fmt::Debug for OrgPublicKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "OrgPublicKey({})", self.fingerprint())
    }
}
serde_via_bytes!(OrgPublicKey);

/// A short hash to compare by eye: 16 bytes, shown as eight groups of four hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Fingerprint([u8; 16]);

impl Fingerprint {
    /// First 16 bytes of SHA-256(`label` ‖ `bytes`).
    pub fn of(label: &[u8], bytes: &[u8]) -> Self {
        let mut h = Sha256::new();
        h.update(label);
        h.update(bytes);
        let d = h.finalize();
        let d: [u8; 32] = d.into();
        Self(core::array::from_fn(|i| d.get(i).copied().unwrap_or(0)))
    }
    /// The raw 16 bytes.
    pub fn to_array(&self) -> [u8; 16] {
        self.0
    }
}

impl core::fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        for (i, pair) in self.0.chunks(2).enumerate() {
            if i > 0 {
                f.write_str("-")?;
            }
            for b in pair {
                write!(f, "{b:02x}")?;
            }
        }
        Ok(())
    }
}

/// Domain label of an approver key's fingerprint (shown on the device and by `approver approve`).
pub const APPROVER_FINGERPRINT_LABEL_V1: &[u8] = b"blindvault/v1/approver-fingerprint";

impl ApproverPublicKey {
    /// The fingerprint the device shows and the admin compares before signing an enrolment.
    pub fn fingerprint(&self) -> Fingerprint {
        Fingerprint::of(APPROVER_FINGERPRINT_LABEL_V1, &self.0)
    }
}

// ---------------------------------------------------------------------------------------------
// Host

secret_bytes!(
    /// A consumer host's Ed25519 secret key (signs requests). Kept in the host key file.
    HostSecretKey, 32
);

public_key!(
    /// A consumer host's Ed25519 public key, named in its certificate.
    HostPublicKey
);

impl HostSecretKey {
    /// A fresh host key.
    pub fn generate(rng: &mut impl CryptoRng) -> Self {
        Self::from_bytes(*random32(rng))
    }
    /// The matching public key.
    pub fn public_key(&self) -> HostPublicKey {
        HostPublicKey(SigningKey::from_bytes(self.expose()).verifying_key().to_bytes())
    }
    pub(crate) fn sign(&self, context: &[u8], message: &[u8]) -> [u8; 64] {
        let mut m = alloc::vec::Vec::with_capacity(context.len() + message.len());
        m.extend_from_slice(context);
        m.extend_from_slice(message);
        SigningKey::from_bytes(self.expose()).sign(&m).to_bytes()
    }
}

// ---------------------------------------------------------------------------------------------
// Consumer ephemeral key

secret_bytes!(
    /// The consumer's per-request X25519 secret key. Dropped (and zeroized) after the response
    /// is opened.
    EphemeralSecretKey, 32
);

public_key!(
    /// The consumer's per-request X25519 public key, signed by the host into the request.
    EphemeralPublicKey
);

impl EphemeralSecretKey {
    /// A fresh ephemeral key.
    pub fn generate(rng: &mut impl CryptoRng) -> Self {
        Self::from_bytes(*random32(rng))
    }
    /// The matching public key.
    pub fn public_key(&self) -> EphemeralPublicKey {
        EphemeralPublicKey(x25519_public(self.expose()))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn valid() -> [u8; 32] {
        SigningKey::from_bytes(&[7u8; 32]).verifying_key().to_bytes()
    }

    #[test]
    fn a_real_key_is_accepted() {
        assert!(ed25519_public_key(&valid()).is_some());
    }

    #[test]
    fn small_order_keys_are_refused() {
        // The identity (y = 1), the point of order 2 (y = −1) and one of order 4 (y = 0).
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let mut minus_one = [0xffu8; 32];
        minus_one[0] = 0xec;
        minus_one[31] = 0x7f;
        for k in [identity, minus_one, [0u8; 32]] {
            assert!(VerifyingKey::from_bytes(&k).is_ok(), "dalek decodes it");
            assert!(ed25519_public_key(&k).is_none(), "{k:02x?}");
        }
    }

    #[test]
    fn a_key_with_a_torsion_component_is_refused() {
        let a = VerifyingKey::from_bytes(&valid()).unwrap().to_edwards();
        let order4 = [0u8; 32]; // y = 0: a point of order 4
        let t = VerifyingKey::from_bytes(&order4).unwrap().to_edwards();
        let mixed = (a + t).compress().to_bytes();
        assert!(VerifyingKey::from_bytes(&mixed).is_ok(), "dalek decodes it");
        assert!(ed25519_public_key(&mixed).is_none());
    }

    #[test]
    fn every_non_canonical_encoding_is_refused() {
        // y = p + k for k = 0..=18 (p = 2^255 − 19), either sign bit: all 38 encodings with
        // y ≥ p. Then x = 0 with the sign bit set (y = 1 and y = −1).
        for k in 0..=18u8 {
            for sign in [0u8, 0x80] {
                let mut y = [0xffu8; 32];
                y[0] = 0xed + k;
                y[31] = 0x7f | sign;
                assert!(ed25519_public_key(&y).is_none(), "y = p + {k}, sign {sign:#x}");
            }
        }
        let mut one = [0u8; 32];
        one[0] = 1;
        one[31] = 0x80;
        let mut minus_one = [0xffu8; 32];
        minus_one[0] = 0xec;
        for k in [one, minus_one] {
            assert!(ed25519_public_key(&k).is_none(), "{k:02x?}");
        }
    }
}
