//! Public and secret key types of the identity chain.

use crate::Error;
use crate::secret::secret_bytes;

secret_bytes!(
    /// An approver's X25519 secret key, derived from the PRF output. Opens envelopes.
    ApproverSecretKey, 32
);

impl ApproverSecretKey {
    /// The matching public key.
    pub fn public_key(&self) -> ApproverPublicKey {
        let secret = x25519_dalek::StaticSecret::from(*self.expose());
        ApproverPublicKey(x25519_dalek::PublicKey::from(&secret).to_bytes())
    }
}

/// An approver's X25519 public key, as enrolled and signed by the org key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct ApproverPublicKey(pub(crate) [u8; 32]);

impl ApproverPublicKey {
    /// From raw bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }
    /// From a slice of exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, Error> {
        Ok(Self(crate::encoding::array(bytes, "ApproverPublicKey")?))
    }
    /// Raw bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0
    }
}
