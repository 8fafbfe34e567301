//! The `api_tokens` table: command-line tokens, kept as the SHA-256 of the token only.

use blindvault_api::tokens::{TokenInfo, TokenScope};
use sqlx::{AnyConnection, Row};

use crate::error::ApiError;

/// A new token row.
pub(crate) struct NewToken<'a> {
    pub(crate) id: &'a str,
    pub(crate) user_id: &'a str,
    pub(crate) name: &'a str,
    pub(crate) scope: &'a str,
    pub(crate) token_hash: &'a str,
    pub(crate) created_at: i64,
    pub(crate) expires_at: i64,
}

/// Inserts a live token.
pub(crate) async fn insert(c: &mut AnyConnection, t: &NewToken<'_>) -> Result<(), ApiError> {
    sqlx::query(
        "INSERT INTO api_tokens (id, user_id, name, scope, token_hash, created_at, expires_at, revoked_at, last_used_at, last_used_addr) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, NULL, NULL)",
    )
    .bind(t.id)
    .bind(t.user_id)
    .bind(t.name)
    .bind(t.scope)
    .bind(t.token_hash)
    .bind(t.created_at)
    .bind(t.expires_at)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// A live token with its account, as a request's check reads it.
pub(crate) struct LiveToken {
    pub(crate) id: String,
    pub(crate) user_id: String,
    pub(crate) user_name: String,
    pub(crate) role: String,
    pub(crate) scope: String,
    pub(crate) expires_at: i64,
}

/// The token whose hash is `hash`, if it is live (not revoked, not expired) at `now`.
pub(crate) async fn find_live_by_hash(
    c: &mut AnyConnection,
    hash: &str,
    now: i64,
) -> Result<Option<LiveToken>, ApiError> {
    let row = sqlx::query(
        "SELECT t.id, t.user_id, t.scope, t.expires_at, u.name, u.role FROM api_tokens t JOIN users u ON u.id = t.user_id \
         WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND t.expires_at > $2",
    )
    .bind(hash)
    .bind(now)
    .fetch_optional(&mut *c)
    .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(LiveToken {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        user_name: row.try_get("name")?,
        role: row.try_get("role")?,
        scope: row.try_get("scope")?,
        expires_at: row.try_get("expires_at")?,
    }))
}

/// Records a use of token `id` at `now` from `addr`.
pub(crate) async fn record_use(
    c: &mut AnyConnection,
    id: &str,
    now: i64,
    addr: Option<&str>,
) -> Result<(), ApiError> {
    sqlx::query("UPDATE api_tokens SET last_used_at = $1, last_used_addr = $2 WHERE id = $3")
        .bind(now)
        .bind(addr)
        .bind(id)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// The columns a list shows, with the owner's name.
macro_rules! list_sql {
    ($rest:literal) => {
        concat!(
            "SELECT t.id, t.name, t.user_id, u.name AS user_name, t.scope, t.created_at, t.expires_at, \
             t.revoked_at, t.last_used_at, t.last_used_addr FROM api_tokens t JOIN users u ON u.id = t.user_id ",
            $rest
        )
    };
}

fn info(r: &sqlx::any::AnyRow) -> Result<TokenInfo, ApiError> {
    let scope: String = r.try_get("scope")?;
    Ok(TokenInfo {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        user_id: r.try_get("user_id")?,
        user_name: r.try_get("user_name")?,
        scope: TokenScope::parse(&scope).ok_or_else(|| ApiError::internal("unknown token scope"))?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
        revoked_at: r.try_get("revoked_at")?,
        last_used_at: r.try_get("last_used_at")?,
        last_used_addr: r.try_get("last_used_addr")?,
    })
}

/// Tokens live, or ended after `since`, of `user_id` (every user's when `None`), newest first.
pub(crate) async fn list(
    c: &mut AnyConnection,
    user_id: Option<&str>,
    since: i64,
) -> Result<Vec<TokenInfo>, ApiError> {
    let rows = match user_id {
        Some(u) => {
            sqlx::query(list_sql!(
                "WHERE t.user_id = $2 AND (t.revoked_at IS NULL OR t.revoked_at > $1) AND t.expires_at > $1 \
                 ORDER BY t.created_at DESC, t.id"
            ))
            .bind(since)
            .bind(u)
            .fetch_all(&mut *c)
            .await?
        }
        None => {
            sqlx::query(list_sql!(
                "WHERE (t.revoked_at IS NULL OR t.revoked_at > $1) AND t.expires_at > $1 ORDER BY t.created_at DESC, t.id"
            ))
            .bind(since)
            .fetch_all(&mut *c)
            .await?
        }
    };
    rows.iter().map(info).collect()
}

/// Token `id`, if it exists.
pub(crate) async fn get(c: &mut AnyConnection, id: &str) -> Result<Option<TokenInfo>, ApiError> {
    let row = sqlx::query(list_sql!("WHERE t.id = $1")).bind(id).fetch_optional(&mut *c).await?;
    row.as_ref().map(info).transpose()
}

/// Revokes token `id` at `now`; true if it was not revoked yet.
pub(crate) async fn revoke(c: &mut AnyConnection, id: &str, now: i64) -> Result<bool, ApiError> {
    let r = sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(now)
        .bind(id)
        .execute(&mut *c)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Revokes every token of `user_id` at `now`; returns how many were not revoked yet.
pub(crate) async fn revoke_all_of(c: &mut AnyConnection, user_id: &str, now: i64) -> Result<u64, ApiError> {
    let r = sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
        .bind(now)
        .bind(user_id)
        .execute(&mut *c)
        .await?;
    Ok(r.rows_affected())
}
