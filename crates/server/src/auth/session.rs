//! Session rows: create, extend, revoke, list, and the check every request makes.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use blindvault_api::ErrorCode;
use rand_core::Rng as _;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::auth::jwt::Claims;
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
pub(crate) async fn extend_in(
    tx: &mut Tx<'_>,
    state: &AppState,
    session: &Session,
) -> Result<String, ApiError> {
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
pub(crate) async fn revoke(state: &AppState, id: &str) -> Result<bool, ApiError> {
    let mut tx = state.store.pool().begin().await?;
    let live = revoke_in(&mut tx, state, id).await?;
    tx.commit().await?;
    Ok(live)
}

/// Revokes one session by row id inside `tx`; true if it was live.
pub(crate) async fn revoke_in(tx: &mut Tx<'_>, state: &AppState, id: &str) -> Result<bool, ApiError> {
    let r = sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(state.clock.now())
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(r.rows_affected() > 0)
}

/// Revokes every session of a user inside `tx`; returns how many were live.
pub(crate) async fn revoke_all_in(tx: &mut Tx<'_>, state: &AppState, user_id: &str) -> Result<u64, ApiError> {
    let r = sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
        .bind(state.clock.now())
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    Ok(r.rows_affected())
}

/// A session listed for its owner or an admin.
pub(crate) use blindvault_api::sessions::SessionView as SessionInfo;

/// Live sessions of a user.
pub(crate) async fn list_for_user(state: &AppState, user_id: &str) -> Result<Vec<SessionInfo>, ApiError> {
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
    let row = sqlx::query(
        "SELECT s.user_id, s.expires_at, s.revoked_at, u.name, u.role FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.id = $1",
    )
    .bind(&id)
    .fetch_optional(state.store.pool())
    .await?
    .ok_or_else(|| ApiError::unauthorized(ErrorCode::SessionRevoked, "the session has ended"))?;
    let user_id: String = row.try_get("user_id")?;
    let expires_at: i64 = row.try_get("expires_at")?;
    let revoked_at: Option<i64> = row.try_get("revoked_at")?;
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
    let role: String = row.try_get("role")?;
    Ok(Session {
        id,
        sid: claims.sid,
        user_id,
        user_name: row.try_get("name")?,
        role: crate::auth::role::Role::parse(&role)
            .ok_or_else(|| ApiError::internal("unknown role in database"))?,
        expires_at,
    })
}

/// Whether session row `id` is still live (not revoked, not expired) and its user still an
/// approver or admin: what an open event stream checks again as it runs. A database error
/// counts as no (the stream ends; the page reconnects and authenticates afresh).
pub(crate) async fn still_approver(state: &AppState, id: &str) -> bool {
    let row = sqlx::query(
        "SELECT s.expires_at, s.revoked_at, u.role FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1",
    )
    .bind(id)
    .fetch_optional(state.store.pool())
    .await;
    let Ok(Some(row)) = row else { return false };
    let live = row.try_get::<Option<i64>, _>("revoked_at").ok().flatten().is_none()
        && row.try_get::<i64, _>("expires_at").is_ok_and(|e| e > state.clock.now());
    let role = row.try_get::<String, _>("role").ok().and_then(|r| crate::auth::role::Role::parse(&r));
    live && matches!(role, Some(crate::auth::role::Role::Approver | crate::auth::role::Role::Admin))
}

/// A signed-in admin; anyone else gets 403 `forbidden`.
#[derive(Debug, Clone)]
pub(crate) struct AdminSession(pub Session);
