//! Command-line tokens below the HTTP layer: minting, hashing, and the check every token
//! request makes (docs/server.md "Command-line tokens").
//!
//! A token is `bvt_` + base64url (no padding) of 32 bytes from the OS RNG. The server keeps only
//! `hex(SHA-256(token))` and finds a presented token by that hash (an indexed lookup, never a
//! scan or a comparison in a loop). Every check reads the database — no cache — so a revocation
//! or an expiry holds at once on every instance, and the role is the account's role now.

use blindvault_api::ErrorCode;
use blindvault_api::tokens::{TOKEN_LEN, TOKEN_PREFIX, TokenScope};
use blindvault_core::encoding::b64;
use rand_core::Rng as _;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::auth::role::Role;
use crate::auth::store::tokens as db;
use crate::error::ApiError;
use crate::state::AppState;

/// A token string: zeroized on drop, redacted in `Debug`, never logged.
pub(crate) struct TokenSecret(Zeroizing<String>);

impl TokenSecret {
    /// A new token from the OS RNG.
    pub(crate) fn generate() -> Self {
        let mut raw = Zeroizing::new([0u8; 32]);
        blindvault_core::rng::os_rng().fill_bytes(&mut *raw);
        Self(Zeroizing::new(format!("{TOKEN_PREFIX}{}", b64::encode(&*raw))))
    }
    /// The token as text (to hash, or to show once in the create reply).
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for TokenSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenSecret([REDACTED])")
    }
}

/// What the database keeps of a token: `hex(SHA-256(token))`.
pub(crate) fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Whether `s` has a token's shape (`bvt_` and 43 base64url characters).
pub(crate) fn well_formed(s: &str) -> bool {
    s.len() == TOKEN_LEN
        && s.starts_with(TOKEN_PREFIX)
        && s[TOKEN_PREFIX.len()..].bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The bearer token of an `Authorization` header, if the request carries one. `Some(Err)` for a
/// header that is not `Bearer <token>`.
pub(crate) fn bearer(headers: &axum::http::HeaderMap) -> Option<Result<Zeroizing<String>, ApiError>> {
    let v = headers.get(axum::http::header::AUTHORIZATION)?;
    let v = v.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")).map(str::trim);
    Some(v.map(|t| Zeroizing::new(t.to_owned())).ok_or_else(invalid))
}

/// The refusal of an unknown, revoked or expired token: one code and one message for all three
/// (a caller learns nothing about which tokens exist).
pub(crate) fn invalid() -> ApiError {
    ApiError::unauthorized(
        ErrorCode::TokenInvalid,
        "the command-line token is not valid (unknown, revoked or expired): make a new one in the web app \
         (Account → Command-line tokens) and run `blindvault login`",
    )
}

/// A token's use as the request made it.
pub(crate) struct Use<'a> {
    /// `GET`, `POST`, …
    pub(crate) method: &'a str,
    /// The route's path template (never the concrete path with its ids, never the body).
    pub(crate) path: &'a str,
    /// The client's address, as sessions record it.
    pub(crate) addr: Option<String>,
}

/// A live token as a request's check found it: the account it acts as, with its role now.
pub(crate) struct Checked {
    pub(crate) id: String,
    pub(crate) user_id: String,
    pub(crate) user_name: String,
    pub(crate) role: Role,
    pub(crate) scope: TokenScope,
    pub(crate) expires_at: i64,
}

/// Checks a token and records its use (last use and one `token.use` audit row, one
/// transaction); returns the account it acts as, its role now, and the token.
pub(crate) async fn authenticate(state: &AppState, token: &str, u: Use<'_>) -> Result<Checked, ApiError> {
    if !well_formed(token) {
        return Err(invalid());
    }
    let now = state.clock.now();
    let hash = token_hash(token);
    let mut tx = state.store.pool().begin().await?;
    let row = db::find_live_by_hash(&mut tx, &hash, now).await?.ok_or_else(invalid)?;
    let role = Role::parse(&row.role).ok_or_else(|| ApiError::internal("unknown role in database"))?;
    let scope = TokenScope::parse(&row.scope).ok_or_else(|| ApiError::internal("unknown token scope"))?;
    // Out of scope: refused before anything is recorded (`consumer-read` reads only).
    if scope == TokenScope::ConsumerRead && u.method != "GET" {
        return Err(ApiError::forbidden(
            ErrorCode::TokenScope,
            "this token's scope is consumer-read: read-only (GET) calls only",
        ));
    }
    db::record_use(&mut tx, &row.id, now, u.addr.as_deref()).await?;
    let detail =
        serde_json::json!({ "token": row.id, "method": u.method, "path": u.path, "scope": scope.as_str() });
    crate::audit::record::log_in(
        &mut tx,
        state,
        crate::audit::Event { actor: Some(&row.user_id), action: "token.use", target: Some(&row.id), detail },
    )
    .await?;
    tx.commit().await?;
    Ok(Checked {
        id: row.id,
        user_id: row.user_id,
        user_name: row.user_name,
        role,
        scope,
        expires_at: row.expires_at,
    })
}

/// A new token's row inside `tx`; returns the token (to show once) and its id.
pub(crate) async fn create_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user_id: &str,
    name: &str,
    scope: TokenScope,
    now: i64,
    expires_at: i64,
) -> Result<(TokenSecret, String), ApiError> {
    let token = TokenSecret::generate();
    let mut raw = [0u8; 12];
    blindvault_core::rng::os_rng().fill_bytes(&mut raw);
    let id = hex::encode(raw);
    let new = db::NewToken {
        id: &id,
        user_id,
        name,
        scope: scope.as_str(),
        token_hash: &token_hash(token.expose()),
        created_at: now,
        expires_at,
    };
    db::insert(tx, &new).await?;
    Ok((token, id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_and_redaction() {
        let t = TokenSecret::generate();
        assert!(well_formed(t.expose()), "{}", t.expose().len());
        assert!(!format!("{t:?}").contains(&t.expose()[4..]));
        assert_ne!(TokenSecret::generate().expose(), t.expose());
        assert!(!well_formed("bvt_short"));
        assert!(!well_formed(&format!("bvx_{}", &t.expose()[4..])));
        assert_eq!(token_hash("bvt_x").len(), 64);
    }
}
