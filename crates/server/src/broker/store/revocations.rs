//! `broker_revocations`: the org-signed revocation record (one row, the newest).

use sqlx::{AnyConnection, Row};

use crate::error::ApiError;

/// The stored record: its epoch and base64url text.
pub(crate) struct Stored {
    pub(crate) epoch: i64,
    pub(crate) record: String,
}

/// The stored record, if any.
pub(crate) async fn get(c: &mut AnyConnection) -> Result<Option<Stored>, ApiError> {
    let row = sqlx::query("SELECT epoch, record FROM broker_revocations WHERE id = 1")
        .fetch_optional(&mut *c)
        .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(Stored { epoch: row.try_get("epoch")?, record: row.try_get("record")? }))
}

/// A record to store.
pub(crate) struct New<'a> {
    pub(crate) epoch: i64,
    pub(crate) record: &'a str,
    pub(crate) at: i64,
    pub(crate) by: &'a str,
}

/// Replaces the record of epoch `from`; false if it changed meanwhile.
pub(crate) async fn replace(c: &mut AnyConnection, n: &New<'_>, from: i64) -> Result<bool, ApiError> {
    let r = sqlx::query(
        "UPDATE broker_revocations SET epoch = $1, record = $2, set_at = $3, set_by = $4 WHERE id = 1 AND epoch = $5",
    )
    .bind(n.epoch)
    .bind(n.record)
    .bind(n.at)
    .bind(n.by)
    .bind(from)
    .execute(&mut *c)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Stores the first record; false if another was stored meanwhile.
pub(crate) async fn insert_first(c: &mut AnyConnection, n: &New<'_>) -> Result<bool, ApiError> {
    let r = sqlx::query(
        "INSERT INTO broker_revocations (id, epoch, record, set_at, set_by) VALUES (1, $1, $2, $3, $4) \
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(n.epoch)
    .bind(n.record)
    .bind(n.at)
    .bind(n.by)
    .execute(&mut *c)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Deletes the record (the org key it was signed by was replaced).
pub(crate) async fn delete(c: &mut AnyConnection) -> Result<(), ApiError> {
    sqlx::query("DELETE FROM broker_revocations").execute(&mut *c).await?;
    Ok(())
}
