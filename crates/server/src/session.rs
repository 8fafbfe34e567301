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

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use rand_core::Rng as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::Row;
use subtle::ConstantTimeEq;

use crate::AppState;
use crate::config::Config;
use crate::error::{ApiError, ServerError};
use crate::store::Store;

const KEY_SETTING: &str = "jwt_hs256_key";

/// The HMAC-SHA256 key that signs session tokens (32 random bytes, made at first start and kept
/// in the database so that every instance sharing it accepts the same tokens).
pub struct JwtKey([u8; 32]);

impl std::fmt::Debug for JwtKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JwtKey([REDACTED])")
    }
}

/// The claims of a session token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
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
    pub async fn load_or_create(store: &Store) -> Result<Self, ServerError> {
        let mut fresh = [0u8; 32];
        blindvault_core::rng::os_rng().fill_bytes(&mut fresh);
        let stored = store.setting_insert_or_get(KEY_SETTING, &B64.encode(fresh)).await?;
        let bytes =
            B64.decode(stored).map_err(|_| ServerError::Config("stored session key is malformed".into()))?;
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|_| ServerError::Config("stored session key has the wrong length".into()))?;
        Ok(Self(key))
    }

    /// Wraps raw key bytes (tests).
    pub fn from_bytes(key: [u8; 32]) -> Self {
        Self(key)
    }

    fn mac(&self, data: &[u8]) -> Result<Vec<u8>, ApiError> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).map_err(ApiError::internal)?;
        mac.update(data);
        Ok(mac.finalize().into_bytes().to_vec())
    }

    /// Signs claims into a compact JWT.
    pub fn sign(&self, claims: &Claims) -> Result<String, ApiError> {
        let payload = serde_json::to_vec(claims).map_err(ApiError::internal)?;
        let signing_input = format!("{}.{}", B64.encode(HEADER_JSON), B64.encode(payload));
        let sig = self.mac(signing_input.as_bytes())?;
        Ok(format!("{signing_input}.{}", B64.encode(sig)))
    }

    /// Verifies a compact JWT: exactly three parts, header alg HS256 only, a valid MAC, not
    /// expired at `now`.
    pub fn verify(&self, token: &str, now: i64) -> Result<Claims, ApiError> {
        let bad = || ApiError::unauthorized("invalid_session", "the session token is not valid");
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let header: Header =
            B64.decode(h).ok().and_then(|b| serde_json::from_slice(&b).ok()).ok_or_else(bad)?;
        if header.alg != "HS256" || header.typ.as_deref().is_some_and(|t| t != "JWT") {
            return Err(bad());
        }
        let sig = B64.decode(s).map_err(|_| bad())?;
        let signing_input_len = h.len() + 1 + p.len();
        let signing_input = token.get(..signing_input_len).ok_or_else(bad)?;
        let want = self.mac(signing_input.as_bytes())?;
        if sig.len() != want.len() || !bool::from(sig.ct_eq(&want)) {
            return Err(bad());
        }
        let claims: Claims =
            B64.decode(p).ok().and_then(|b| serde_json::from_slice(&b).ok()).ok_or_else(bad)?;
        if claims.exp <= now {
            return Err(ApiError::unauthorized("session_expired", "the session has expired; sign in again"));
        }
        Ok(claims)
    }
}

/// Row id of a session secret.
pub fn session_row_id(sid: &str) -> String {
    hex::encode(Sha256::digest(sid.as_bytes()))
}

/// A `Set-Cookie` value carrying `token` for `max_age` seconds: `__Host-bv_session=…; Secure`
/// on an https origin, `bv_session=…` without `Secure` on plain-http localhost.
pub fn cookie(config: &Config, token: &str, max_age: i64) -> String {
    let name = config.session_cookie_name();
    let secure = if config.https() { "; Secure" } else { "" };
    format!("{name}={token}; Path=/; Max-Age={max_age}; HttpOnly{secure}; SameSite=Strict")
}

/// A `Set-Cookie` value that clears the cookie.
pub fn clear_cookie(config: &Config) -> String {
    cookie(config, "", 0)
}

/// The transaction a handler's writes and its audit row share.
pub type Tx<'c> = sqlx::Transaction<'c, sqlx::Any>;

/// Creates a session row for `user_id` inside `tx` and returns `(token, row id)`. The caller
/// appends its audit row to the same transaction, so the session exists only if it is recorded.
pub async fn create_in(
    tx: &mut Tx<'_>,
    state: &AppState,
    user_id: &str,
    client_addr: &str,
) -> Result<(String, String), ApiError> {
    let now = state.clock.now();
    let exp = now.saturating_add(state.config.session_ttl_secs);
    let mut raw = [0u8; 32];
    blindvault_core::rng::os_rng().fill_bytes(&mut raw);
    let sid = B64.encode(raw);
    let id = session_row_id(&sid);
    sqlx::query(
        "INSERT INTO sessions (id, user_id, created_at, expires_at, revoked_at, client_addr) VALUES ($1, $2, $3, $4, NULL, $5)",
    )
    .bind(&id)
    .bind(user_id)
    .bind(now)
    .bind(exp)
    .bind(client_addr)
    .execute(&mut **tx)
    .await?;
    let token = state.jwt.sign(&Claims { sub: user_id.to_owned(), sid, iat: now, exp })?;
    Ok((token, id))
}

/// Extends a live session (re-authentication) inside `tx` and returns a fresh token for it.
pub async fn extend_in(tx: &mut Tx<'_>, state: &AppState, session: &Session) -> Result<String, ApiError> {
    let now = state.clock.now();
    let exp = now.saturating_add(state.config.session_ttl_secs);
    sqlx::query("UPDATE sessions SET expires_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(exp)
        .bind(&session.id)
        .execute(&mut **tx)
        .await?;
    state.jwt.sign(&Claims { sub: session.user_id.clone(), sid: session.sid.clone(), iat: now, exp })
}

/// Revokes one session by row id; true if it was live.
pub async fn revoke(state: &AppState, id: &str) -> Result<bool, ApiError> {
    let mut tx = state.store.pool().begin().await?;
    let live = revoke_in(&mut tx, state, id).await?;
    tx.commit().await?;
    Ok(live)
}

/// Revokes one session by row id inside `tx`; true if it was live.
pub async fn revoke_in(tx: &mut Tx<'_>, state: &AppState, id: &str) -> Result<bool, ApiError> {
    let r = sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(state.clock.now())
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(r.rows_affected() > 0)
}

/// Revokes every session of a user inside `tx`; returns how many were live.
pub async fn revoke_all_in(tx: &mut Tx<'_>, state: &AppState, user_id: &str) -> Result<u64, ApiError> {
    let r = sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
        .bind(state.clock.now())
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    Ok(r.rows_affected())
}

/// A session listed for its owner or an admin.
#[derive(Debug, Clone, Serialize)]
pub struct SessionInfo {
    /// Row id (`hex(SHA-256(sid))`): safe to show, useless as a credential.
    pub id: String,
    /// Owner.
    pub user_id: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub expires_at: i64,
    /// Unix seconds, if revoked.
    pub revoked_at: Option<i64>,
    /// Client address at sign-in.
    pub client_addr: Option<String>,
}

/// Live sessions of a user.
pub async fn list_for_user(state: &AppState, user_id: &str) -> Result<Vec<SessionInfo>, ApiError> {
    let rows = sqlx::query(
        "SELECT id, user_id, created_at, expires_at, revoked_at, client_addr FROM sessions \
         WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 ORDER BY created_at",
    )
    .bind(user_id)
    .bind(state.clock.now())
    .fetch_all(state.store.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(SessionInfo {
                id: r.try_get("id")?,
                user_id: r.try_get("user_id")?,
                created_at: r.try_get("created_at")?,
                expires_at: r.try_get("expires_at")?,
                revoked_at: r.try_get("revoked_at")?,
                client_addr: r.try_get("client_addr")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(ApiError::from)
}

/// A signed-in caller: the extractor checks cookie, token and session row on every request.
#[derive(Debug, Clone)]
pub struct Session {
    /// Session row id.
    pub id: String,
    /// Session secret (to re-sign an extended token).
    pub sid: String,
    /// User id.
    pub user_id: String,
    /// User name.
    pub user_name: String,
    /// Current role (read from the database on each request).
    pub role: crate::api::Role,
    /// Row expiry.
    pub expires_at: i64,
}

/// The raw session token from a `Cookie` header, if any.
pub fn token_from_headers(config: &Config, headers: &axum::http::HeaderMap) -> Option<String> {
    let name = config.session_cookie_name();
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
        .filter(|v| !v.is_empty())
}

/// Checks a token against the key and the session row.
pub async fn authenticate(state: &AppState, token: &str) -> Result<Session, ApiError> {
    let now = state.clock.now();
    let claims = state.jwt.verify(token, now)?;
    let id = session_row_id(&claims.sid);
    let row = sqlx::query(
        "SELECT s.user_id, s.expires_at, s.revoked_at, u.name, u.role FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.id = $1",
    )
    .bind(&id)
    .fetch_optional(state.store.pool())
    .await?
    .ok_or_else(|| ApiError::unauthorized("session_revoked", "the session has ended"))?;
    let user_id: String = row.try_get("user_id")?;
    let expires_at: i64 = row.try_get("expires_at")?;
    let revoked_at: Option<i64> = row.try_get("revoked_at")?;
    if user_id != claims.sub {
        return Err(ApiError::unauthorized("invalid_session", "the session token is not valid"));
    }
    if revoked_at.is_some() {
        return Err(ApiError::unauthorized("session_revoked", "the session has ended"));
    }
    if expires_at <= now {
        return Err(ApiError::unauthorized("session_expired", "the session has expired; sign in again"));
    }
    let role: String = row.try_get("role")?;
    Ok(Session {
        id,
        sid: claims.sid,
        user_id,
        user_name: row.try_get("name")?,
        role: crate::api::Role::parse(&role).ok_or_else(|| ApiError::internal("unknown role in database"))?,
        expires_at,
    })
}

/// Whether session row `id` is still live (not revoked, not expired) and its user still an
/// approver or admin: what an open event stream checks again as it runs. A database error
/// counts as no (the stream ends; the page reconnects and authenticates afresh).
pub async fn still_approver(state: &AppState, id: &str) -> bool {
    let row = sqlx::query(
        "SELECT s.expires_at, s.revoked_at, u.role FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1",
    )
    .bind(id)
    .fetch_optional(state.store.pool())
    .await;
    let Ok(Some(row)) = row else { return false };
    let live = row.try_get::<Option<i64>, _>("revoked_at").ok().flatten().is_none()
        && row.try_get::<i64, _>("expires_at").is_ok_and(|e| e > state.clock.now());
    let role = row.try_get::<String, _>("role").ok().and_then(|r| crate::api::Role::parse(&r));
    live && matches!(role, Some(crate::api::Role::Approver | crate::api::Role::Admin))
}

impl FromRequestParts<AppState> for Session {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = token_from_headers(&state.config, &parts.headers)
            .ok_or_else(|| ApiError::unauthorized("unauthenticated", "sign in first"))?;
        authenticate(state, &token).await
    }
}

/// A signed-in admin; anyone else gets 403 `forbidden`.
#[derive(Debug, Clone)]
pub struct AdminSession(pub Session);

impl FromRequestParts<AppState> for AdminSession {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let s = Session::from_request_parts(parts, state).await?;
        if s.role != crate::api::Role::Admin {
            return Err(ApiError::forbidden("forbidden", "this needs the admin role"));
        }
        Ok(Self(s))
    }
}
