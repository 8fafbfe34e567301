//! The `sessions` table (and, for the check every request makes, the session's user).

use sqlx::{AnyConnection, Row};

use crate::auth::role::Role;
use crate::error::ApiError;
use crate::store::Store;
use blindvault_api::sessions::SessionView;

/// A new session row.
pub(crate) struct NewSession<'a> {
    pub(crate) id: &'a str,
    pub(crate) user_id: &'a str,
    pub(crate) created_at: i64,
    pub(crate) expires_at: i64,
    pub(crate) client_addr: &'a str,
}

/// Inserts a live session.
pub(crate) async fn insert(c: &mut AnyConnection, s: &NewSession<'_>) -> Result<(), ApiError> {
    sqlx::query(
        "INSERT INTO sessions (id, user_id, created_at, expires_at, revoked_at, client_addr) VALUES ($1, $2, $3, $4, NULL, $5)",
    )
    .bind(s.id)
    .bind(s.user_id)
    .bind(s.created_at)
    .bind(s.expires_at)
    .bind(s.client_addr)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// Moves a live session's expiry to `expires_at`; false if it is no longer live (revoked).
pub(crate) async fn extend(c: &mut AnyConnection, id: &str, expires_at: i64) -> Result<bool, ApiError> {
    let r = sqlx::query("UPDATE sessions SET expires_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(expires_at)
        .bind(id)
        .execute(&mut *c)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Revokes one session at `now`; true if it was live.
pub(crate) async fn revoke(c: &mut AnyConnection, id: &str, now: i64) -> Result<bool, ApiError> {
    let r = sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(now)
        .bind(id)
        .execute(&mut *c)
        .await?;
    Ok(r.rows_affected() > 0)
}

/// Revokes every live session of a user at `now`; returns how many there were.
pub(crate) async fn revoke_all(c: &mut AnyConnection, user_id: &str, now: i64) -> Result<u64, ApiError> {
    let r = sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
        .bind(now)
        .bind(user_id)
        .execute(&mut *c)
        .await?;
    Ok(r.rows_affected())
}

/// The live (not revoked, not expired at `now`) sessions of a user, oldest first.
pub(crate) async fn live_of(store: &Store, user_id: &str, now: i64) -> Result<Vec<SessionView>, ApiError> {
    let rows = sqlx::query(
        "SELECT id, user_id, created_at, expires_at, revoked_at, client_addr FROM sessions \
         WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 ORDER BY created_at",
    )
    .bind(user_id)
    .bind(now)
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(SessionView {
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

/// A session row with its user's name and role, as stored.
pub(crate) struct SessionRow {
    pub(crate) user_id: String,
    pub(crate) expires_at: i64,
    pub(crate) revoked_at: Option<i64>,
    pub(crate) user_name: String,
    pub(crate) role: String,
}

/// Session `id` with its user (one statement), if the row exists.
pub(crate) async fn get(store: &Store, id: &str) -> Result<Option<SessionRow>, ApiError> {
    let row = sqlx::query(
        "SELECT s.user_id, s.expires_at, s.revoked_at, u.name, u.role FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.id = $1",
    )
    .bind(id)
    .fetch_optional(store.pool())
    .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(SessionRow {
        user_id: row.try_get("user_id")?,
        expires_at: row.try_get("expires_at")?,
        revoked_at: row.try_get("revoked_at")?,
        user_name: row.try_get("name")?,
        role: row.try_get("role")?,
    }))
}

/// Whether session `id` is live at `now` and its user an approver or admin. A database error,
/// or a row that does not read, counts as no.
pub(crate) async fn live_approver(store: &Store, id: &str, now: i64) -> bool {
    let row = sqlx::query(
        "SELECT s.expires_at, s.revoked_at, u.role FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1",
    )
    .bind(id)
    .fetch_optional(store.pool())
    .await;
    let Ok(Some(row)) = row else { return false };
    let live = row.try_get::<Option<i64>, _>("revoked_at").ok().flatten().is_none()
        && row.try_get::<i64, _>("expires_at").is_ok_and(|e| e > now);
    let role = row.try_get::<String, _>("role").ok().and_then(|r| Role::parse(&r));
    live && matches!(role, Some(Role::Approver | Role::Admin))
}
