//! The `ceremonies` table: WebAuthn ceremony state, single-use and short-lived.

use sqlx::{AnyConnection, Row};

use crate::error::ApiError;

/// A ceremony's state to keep.
pub(crate) struct NewCeremony<'a> {
    pub(crate) id: &'a str,
    pub(crate) kind: &'a str,
    pub(crate) user_id: Option<&'a str>,
    pub(crate) state: &'a str,
    pub(crate) expires_at: i64,
}

/// Stores a ceremony's state.
pub(crate) async fn insert(c: &mut AnyConnection, n: &NewCeremony<'_>) -> Result<(), ApiError> {
    sqlx::query("INSERT INTO ceremonies (id, kind, user_id, state, expires_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(n.id)
        .bind(n.kind)
        .bind(n.user_id)
        .bind(n.state)
        .bind(n.expires_at)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// A ceremony's state as taken.
pub(crate) struct Taken {
    pub(crate) user_id: Option<String>,
    pub(crate) state: String,
    pub(crate) expires_at: i64,
}

/// Deletes ceremony `id` of `kind` and returns what it held (one statement: a challenge
/// answers at most once).
pub(crate) async fn take(c: &mut AnyConnection, id: &str, kind: &str) -> Result<Option<Taken>, ApiError> {
    let row = sqlx::query(
        "DELETE FROM ceremonies WHERE id = $1 AND kind = $2 RETURNING user_id, state, expires_at",
    )
    .bind(id)
    .bind(kind)
    .fetch_optional(&mut *c)
    .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(Taken {
        user_id: row.try_get("user_id")?,
        state: row.try_get("state")?,
        expires_at: row.try_get("expires_at")?,
    }))
}

/// Deletes every ceremony that expired at or before `before`; returns how many.
pub(crate) async fn delete_expired(c: &mut AnyConnection, before: i64) -> Result<u64, ApiError> {
    let r =
        sqlx::query("DELETE FROM ceremonies WHERE expires_at <= $1").bind(before).execute(&mut *c).await?;
    Ok(r.rows_affected())
}
