//! Session rows: create, extend, revoke, list, and the check every request makes.

use blindvault_api::ErrorCode;
use blindvault_core::encoding::b64;
use rand_core::Rng as _;
use sha2::{Digest, Sha256};

use crate::auth::jwt::Claims;
use crate::auth::store::sessions as db;
use crate::config::Config;
use crate::error::ApiError;
use crate::state::AppState;

/// Row id of a session secret.
pub(crate) fn session_row_id(sid: &str) -> String {
    hex::encode(Sha256::digest(sid.as_bytes()))
}

/// A `Set-Cookie` value carrying `token` for `max_age` seconds: `__Host-bv_session=…; Secure`
/// on an https origin, `bv_session=…` without `Secure` on plain-http localhost.
pub(crate) fn cookie(config: &Config, token: &str, max_age: i64) -> String {
    let name = config.session_cookie_name();
    let secure = if config.https() { "; Secure" } else { "" };
    format!("{name}={token}; Path=/; Max-Age={max_age}; HttpOnly{secure}; SameSite=Strict")
}

/// A `Set-Cookie` value that clears the cookie.
pub(crate) fn clear_cookie(config: &Config) -> String {
    cookie(config, "", 0)
}

/// The transaction a handler's writes and its audit row share.
pub(crate) type Tx<'c> = sqlx::Transaction<'c, sqlx::Any>;

/// Creates a session row for `user_id` inside `tx` and returns `(token, row id)`. The caller
/// appends its audit row to the same transaction, so the session exists only if it is recorded.
pub(crate) async fn create_in(
    tx: &mut Tx<'_>,
    state: &AppState,
    user_id: &str,
    client_addr: &str,
) -> Result<(String, String), ApiError> {
    let now = state.clock.now();
    let exp = now.saturating_add(state.config.session_ttl_secs);
    let mut raw = [0u8; 32];
    blindvault_core::rng::os_rng().fill_bytes(&mut raw);
    let sid = b64::encode(&raw);
    let id = session_row_id(&sid);
    let new = db::NewSession { id: &id, user_id, created_at: now, expires_at: exp, client_addr };
    db::insert(tx, &new).await?;
    let token = state.jwt.sign(&Claims { sub: user_id.to_owned(), sid, iat: now, exp })?;
    Ok((token, id))
}

/// Extends a live session (re-authentication) inside `tx` and returns a fresh token for it;
/// `None` if the session was revoked meanwhile.
pub(crate) async fn extend_in(
    tx: &mut Tx<'_>,
    state: &AppState,
    session: &Session,
) -> Result<Option<String>, ApiError> {
    let now = state.clock.now();
    let exp = now.saturating_add(state.config.session_ttl_secs);
    // Revoked since it was read: not extended (`None`).
    if !db::extend(tx, &session.id, exp).await? {
        return Ok(None);
    }
    state
        .jwt
        .sign(&Claims { sub: session.user_id.clone(), sid: session.sid.clone(), iat: now, exp })
        .map(Some)
}

/// Revokes one session by row id; true if it was live.
pub(crate) async fn revoke(state: &AppState, id: &str) -> Result<bool, ApiError> {
    let mut tx = state.store.pool().begin().await?;
    let live = revoke_in(&mut tx, state, id).await?;
    tx.commit().await?;
    Ok(live)
}

/// Revokes one session by row id inside `tx`; true if it was live.
pub(crate) async fn revoke_in(tx: &mut Tx<'_>, state: &AppState, id: &str) -> Result<bool, ApiError> {
    db::revoke(tx, id, state.clock.now()).await
}

/// Revokes every session of a user inside `tx`; returns how many were live.
pub(crate) async fn revoke_all_in(tx: &mut Tx<'_>, state: &AppState, user_id: &str) -> Result<u64, ApiError> {
    db::revoke_all(tx, user_id, state.clock.now()).await
}

/// A session listed for its owner or an admin.
pub(crate) use blindvault_api::sessions::SessionView as SessionInfo;

/// Live sessions of a user.
pub(crate) async fn list_for_user(state: &AppState, user_id: &str) -> Result<Vec<SessionInfo>, ApiError> {
    db::live_of(&state.store, user_id, state.clock.now()).await
}

/// A signed-in caller: the extractor checks cookie, token and session row on every request.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    /// Session row id.
    pub id: String,
    /// Session secret (to re-sign an extended token).
    pub sid: String,
    /// User id.
    pub user_id: String,
    /// User name.
    pub user_name: String,
    /// Current role (read from the database on each request).
    pub role: crate::auth::role::Role,
    /// Row expiry.
    pub expires_at: i64,
    /// The command-line token this request carries, if it is a token request (then `id` is the
    /// token's id and `sid` is empty).
    pub token: Option<TokenRef>,
}

/// The command-line token a [`Session`] came from.
#[derive(Debug, Clone)]
pub(crate) struct TokenRef {
    /// The token's id.
    pub(crate) id: String,
    /// Its scope.
    pub(crate) scope: blindvault_api::tokens::TokenScope,
}

/// The raw session token from a `Cookie` header, if any.
pub(crate) fn token_from_headers(config: &Config, headers: &axum::http::HeaderMap) -> Option<String> {
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
pub(crate) async fn authenticate(state: &AppState, token: &str) -> Result<Session, ApiError> {
    let now = state.clock.now();
    let claims = state.jwt.verify(token, now)?;
    let id = session_row_id(&claims.sid);
    let row = db::get(&state.store, &id)
        .await?
        .ok_or_else(|| ApiError::unauthorized(ErrorCode::SessionRevoked, "the session has ended"))?;
    let (user_id, expires_at, revoked_at) = (row.user_id, row.expires_at, row.revoked_at);
    if user_id != claims.sub {
        return Err(ApiError::unauthorized(ErrorCode::InvalidSession, "the session token is not valid"));
    }
    if revoked_at.is_some() {
        return Err(ApiError::unauthorized(ErrorCode::SessionRevoked, "the session has ended"));
    }
    if expires_at <= now {
        return Err(ApiError::unauthorized(
            ErrorCode::SessionExpired,
            "the session has expired; sign in again",
        ));
    }
    Ok(Session {
        id,
        sid: claims.sid,
        user_id,
        user_name: row.user_name,
        role: crate::auth::role::Role::parse(&row.role)
            .ok_or_else(|| ApiError::internal("unknown role in database"))?,
        expires_at,
        token: None,
    })
}

/// Whether session row `id` is still live (not revoked, not expired) and its user still an
/// approver or admin: what an open event stream checks again as it runs. A database error
/// counts as no (the stream ends; the page reconnects and authenticates afresh).
pub(crate) async fn still_approver(state: &AppState, id: &str) -> bool {
    db::live_approver(&state.store, id, state.clock.now()).await
}

/// A signed-in admin; anyone else gets 403 `forbidden`.
#[derive(Debug, Clone)]
pub(crate) struct AdminSession(pub Session);
