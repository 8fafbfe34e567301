//! The server's VAPID key (RFC 8292): a P-256 key pair made with the OS generator at first start
//! and kept in `settings` (`push_vapid_p256`), so every instance signs with the same key. It
//! opens nothing: whoever holds it can only send this deployment's subscribers pushes, which
//! carry no secret and approve nothing (docs/threat-model.md).

use blindvault_core::encoding::b64;
use p256_push::ecdsa::signature::Signer as _;
use p256_push::ecdsa::{Signature, SigningKey};
use rand_core::Rng as _;
use zeroize::Zeroizing;

use crate::error::ServerError;
use crate::store::Store;

const KEY_SETTING: &str = "push_vapid_p256";

/// How long a VAPID JWT is valid (RFC 8292 allows at most 24 hours).
pub const JWT_LIFETIME_SECS: i64 = 12 * 3600;

/// The VAPID signing key. Its scalar is wiped on drop (`SigningKey` zeroizes) and never printed.
pub struct VapidKey(SigningKey);

impl std::fmt::Debug for VapidKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VapidKey([REDACTED])")
    }
}

impl VapidKey {
    /// Loads the key, or makes and stores one (first start; concurrent starts agree on one).
    pub(crate) async fn load_or_create(store: &Store) -> Result<Self, ServerError> {
        let fresh = loop {
            let mut bytes = Zeroizing::new([0u8; 32]);
            blindvault_core::rng::os_rng().fill_bytes(&mut *bytes);
            if SigningKey::from_slice(&*bytes).is_ok() {
                break Zeroizing::new(b64::encode(&*bytes));
            }
        };
        let stored = Zeroizing::new(store.setting_insert_or_get(KEY_SETTING, &fresh).await?);
        let bytes = Zeroizing::new(
            b64::decode(&stored).map_err(|_| ServerError::Config("stored VAPID key is malformed".into()))?,
        );
        let key = SigningKey::from_slice(&bytes)
            .map_err(|_| ServerError::Config("stored VAPID key is not a P-256 scalar".into()))?;
        Ok(Self(key))
    }

    /// The public key: the uncompressed point (65 bytes).
    pub fn public_raw(&self) -> Vec<u8> {
        self.0.verifying_key().to_encoded_point(false).as_bytes().to_vec()
    }

    /// The public key, base64url (what the browser's `applicationServerKey` takes).
    pub fn public_b64(&self) -> String {
        b64::encode(&self.public_raw())
    }

    /// A compact ES256 JWT for the push service at origin `aud`, expiring at `exp`.
    pub fn jwt(&self, aud: &str, sub: &str, exp: i64) -> String {
        let header = b64::encode(br#"{"typ":"JWT","alg":"ES256"}"#);
        let claims = serde_json::json!({ "aud": aud, "exp": exp, "sub": sub }).to_string();
        let input = format!("{header}.{}", b64::encode(claims.as_bytes()));
        let sig: Signature = self.0.sign(input.as_bytes());
        format!("{input}.{}", b64::encode(&sig.to_bytes()))
    }

    /// The `Authorization` header value: `vapid t=<jwt>, k=<public key>`.
    pub fn authorization(&self, aud: &str, sub: &str, exp: i64) -> String {
        format!("vapid t={}, k={}", self.jwt(aud, sub, exp), self.public_b64())
    }
}
