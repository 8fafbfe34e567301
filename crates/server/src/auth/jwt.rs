//! Sessions: an HS256 JWT in an `HttpOnly; SameSite=Strict` cookie, backed by a row. On an
//! https origin the cookie is `__Host-bv_session` and `Secure`; on plain-http `localhost`
//! development it is `bv_session` without `Secure` (which Safari would drop).
//!
//! The token carries `sub` (user id), `sid` (32 random bytes, base64url), `iat` and `exp`. The
//! row's id is `hex(SHA-256(sid))`, so a copy of the database does not hold live session
//! secrets. Every request re-checks the row (not revoked, not expired) and reads the role from
//! the users table, so logout, "sign out everywhere", a revoke or a role change take effect on
//! the next request. Only `{"alg":"HS256","typ":"JWT"}` headers are accepted; `alg: none` and
//! every other algorithm are refused before the signature is looked at.

use blindvault_api::ErrorCode;
use blindvault_core::encoding::b64;
use hmac::{Hmac, Mac};
use rand_core::Rng as _;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::error::{ApiError, ServerError};
use crate::store::Store;

const KEY_SETTING: &str = "jwt_hs256_key";

/// The HMAC-SHA256 key that signs session tokens (32 random bytes, made at first start and kept
/// in the database so that every instance sharing it accepts the same tokens).
pub(crate) struct JwtKey([u8; 32]);

impl std::fmt::Debug for JwtKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JwtKey([REDACTED])")
    }
}

/// The claims of a session token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Claims {
    /// User id.
    pub sub: String,
    /// Session secret (base64url of 32 random bytes).
    pub sid: String,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Expires at (Unix seconds).
    pub exp: i64,
}

const HEADER_JSON: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

#[derive(Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    typ: Option<String>,
}

impl JwtKey {
    /// Loads the key, or makes and stores one (first start; concurrent starts agree on one).
    pub(crate) async fn load_or_create(store: &Store) -> Result<Self, ServerError> {
        let mut fresh = [0u8; 32];
        blindvault_core::rng::os_rng().fill_bytes(&mut fresh);
        let stored = store.setting_insert_or_get(KEY_SETTING, &b64::encode(&fresh)).await?;
        let bytes = b64::decode(&stored)
            .map_err(|_| ServerError::Config("stored session key is malformed".into()))?;
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|_| ServerError::Config("stored session key has the wrong length".into()))?;
        Ok(Self(key))
    }

    fn mac(&self, data: &[u8]) -> Result<Vec<u8>, ApiError> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).map_err(ApiError::internal)?;
        mac.update(data);
        Ok(mac.finalize().into_bytes().to_vec())
    }

    /// Signs claims into a compact JWT.
    pub(crate) fn sign(&self, claims: &Claims) -> Result<String, ApiError> {
        let payload = serde_json::to_vec(claims).map_err(ApiError::internal)?;
        let signing_input = format!("{}.{}", b64::encode(HEADER_JSON.as_bytes()), b64::encode(&payload));
        let sig = self.mac(signing_input.as_bytes())?;
        Ok(format!("{signing_input}.{}", b64::encode(&sig)))
    }

    /// Verifies a compact JWT: exactly three parts, header alg HS256 only, a valid MAC, not
    /// expired at `now`.
    pub(crate) fn verify(&self, token: &str, now: i64) -> Result<Claims, ApiError> {
        let bad = || ApiError::unauthorized(ErrorCode::InvalidSession, "the session token is not valid");
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let header: Header =
            b64::decode(h).ok().and_then(|b| serde_json::from_slice(&b).ok()).ok_or_else(bad)?;
        if header.alg != "HS256" || header.typ.as_deref().is_some_and(|t| t != "JWT") {
            return Err(bad());
        }
        let sig = b64::decode(s).map_err(|_| bad())?;
        let signing_input_len = h.len() + 1 + p.len();
        let signing_input = token.get(..signing_input_len).ok_or_else(bad)?;
        let want = self.mac(signing_input.as_bytes())?;
        if sig.len() != want.len() || !bool::from(sig.ct_eq(&want)) {
            return Err(bad());
        }
        let claims: Claims =
            b64::decode(p).ok().and_then(|b| serde_json::from_slice(&b).ok()).ok_or_else(bad)?;
        if claims.exp <= now {
            return Err(ApiError::unauthorized(
                ErrorCode::SessionExpired,
                "the session has expired; sign in again",
            ));
        }
        Ok(claims)
    }
}
