//! `broker_entries` (sealed versions), `broker_entry_heads` (the latest version, or deletion) and
//! `broker_entry_devices` (which approver keys hold an envelope of a version).

use sqlx::{AnyConnection, Row};

use crate::broker::status;
use crate::error::ApiError;
use crate::store::Store;

pub(crate) use blindvault_api::broker::EntryView;

/// `SELECT` of the latest version of live entries, followed by a literal tail.
macro_rules! entry_head_select {
    ($tail:literal) => {
        concat!(
            "SELECT e.entry_id, e.version, e.threshold, e.people, e.sealed FROM broker_entry_heads h \
             JOIN broker_entries e ON e.entry_id = h.entry_id AND e.version = h.version WHERE h.deleted_at IS NULL ",
            $tail
        )
    };
}

fn entry_from(r: &sqlx::any::AnyRow) -> Result<EntryView, ApiError> {
    Ok(EntryView {
        entry_id: r.try_get("entry_id")?,
        version: r.try_get("version")?,
        threshold: r.try_get("threshold")?,
        people: r.try_get("people")?,
        sealed_entry: crate::broker::common::stored(r.try_get("sealed")?)?,
    })
}

/// Every live entry's latest version, oldest first.
pub(crate) async fn list(store: &Store) -> Result<Vec<EntryView>, ApiError> {
    let rows = sqlx::query(entry_head_select!("ORDER BY e.created_at")).fetch_all(store.pool()).await?;
    rows.iter().map(entry_from).collect()
}

/// Live entry `entry_id`'s latest version.
pub(crate) async fn get(store: &Store, entry_id: &str) -> Result<Option<EntryView>, ApiError> {
    let row = sqlx::query(entry_head_select!("AND h.entry_id = $1"))
        .bind(entry_id)
        .fetch_optional(store.pool())
        .await?;
    row.as_ref().map(entry_from).transpose()
}

/// An entry's head: its latest version, and whether it was deleted.
pub(crate) struct Head {
    pub(crate) version: i64,
    pub(crate) deleted: bool,
}

/// The head of `entry_id`, if it was ever written.
pub(crate) async fn head(store: &Store, entry_id: &str) -> Result<Option<Head>, ApiError> {
    let row = sqlx::query("SELECT version, deleted_at FROM broker_entry_heads WHERE entry_id = $1")
        .bind(entry_id)
        .fetch_optional(store.pool())
        .await?;
    let Some(r) = row else { return Ok(None) };
    Ok(Some(Head {
        version: r.try_get("version")?,
        deleted: r.try_get::<Option<i64>, _>("deleted_at")?.is_some(),
    }))
}

/// The user whose approved enrolment has `approver_key`, if any.
pub(crate) async fn approved_key_owner(
    store: &Store,
    approver_key: &str,
) -> Result<Option<String>, ApiError> {
    let row =
        sqlx::query("SELECT user_id FROM broker_enrolments WHERE approver_key = $1 AND status = 'approved'")
            .bind(approver_key)
            .fetch_optional(store.pool())
            .await?;
    Ok(row.map(|r| r.try_get("user_id")).transpose()?)
}

/// A version to store.
pub(crate) struct NewVersion<'a> {
    pub(crate) entry_id: &'a str,
    pub(crate) version: i64,
    pub(crate) threshold: i64,
    pub(crate) people: i64,
    /// The sealed entry (base64url).
    pub(crate) sealed: &'a str,
    pub(crate) allow_self_approval: bool,
    pub(crate) created_by: &'a str,
    pub(crate) created_at: i64,
    /// The approver keys (base64url) its envelopes are sealed to.
    pub(crate) devices: &'a [String],
}

/// Stores a version and its devices and moves the head to it (version 1: creates the head);
/// false if another writer stored this version first.
pub(crate) async fn insert_version(c: &mut AnyConnection, v: &NewVersion<'_>) -> Result<bool, ApiError> {
    sqlx::query(
        "INSERT INTO broker_entries (entry_id, version, threshold, people, sealed, allow_self_approval, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(v.entry_id)
    .bind(v.version)
    .bind(v.threshold)
    .bind(v.people)
    .bind(v.sealed)
    .bind(i64::from(v.allow_self_approval))
    .bind(v.created_by)
    .bind(v.created_at)
    .execute(&mut *c)
    .await?;
    for key in v.devices {
        sqlx::query("INSERT INTO broker_entry_devices (entry_id, version, approver_key) VALUES ($1, $2, $3)")
            .bind(v.entry_id)
            .bind(v.version)
            .bind(key)
            .execute(&mut *c)
            .await?;
    }
    let r = if v.version == 1 {
        sqlx::query("INSERT INTO broker_entry_heads (entry_id, version) VALUES ($1, 1) ON CONFLICT (entry_id) DO NOTHING")
            .bind(v.entry_id)
            .execute(&mut *c)
            .await?
    } else {
        sqlx::query(
            "UPDATE broker_entry_heads SET version = $1 WHERE entry_id = $2 AND version = $3 AND deleted_at IS NULL",
        )
        .bind(v.version)
        .bind(v.entry_id)
        .bind(v.version - 1)
        .execute(&mut *c)
        .await?
    };
    Ok(r.rows_affected() == 1)
}

/// Marks `entry_id` deleted at `now`; false if there is no such live entry.
pub(crate) async fn mark_deleted(c: &mut AnyConnection, entry_id: &str, now: i64) -> Result<bool, ApiError> {
    let r = sqlx::query(
        "UPDATE broker_entry_heads SET deleted_at = $1 WHERE entry_id = $2 AND deleted_at IS NULL",
    )
    .bind(now)
    .bind(entry_id)
    .execute(&mut *c)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Deletes every version's ciphertext and devices of `entry_id`, ends its open requests
/// (expired) and deletes their responses; returns the ended requests' ids.
pub(crate) async fn purge(c: &mut AnyConnection, entry_id: &str, now: i64) -> Result<Vec<String>, ApiError> {
    sqlx::query("DELETE FROM broker_entries WHERE entry_id = $1").bind(entry_id).execute(&mut *c).await?;
    sqlx::query("DELETE FROM broker_entry_devices WHERE entry_id = $1")
        .bind(entry_id)
        .execute(&mut *c)
        .await?;
    let ended = sqlx::query(
        "UPDATE broker_requests SET status = $1, decided_at = $2 WHERE entry_id = $3 AND status IN ($4, $5) RETURNING request_id",
    )
    .bind(status::EXPIRED)
    .bind(now)
    .bind(entry_id)
    .bind(status::PENDING)
    .bind(status::APPROVED)
    .fetch_all(&mut *c)
    .await?;
    sqlx::query(
        "DELETE FROM broker_responses WHERE request_id IN (SELECT request_id FROM broker_requests WHERE entry_id = $1)",
    )
    .bind(entry_id)
    .execute(&mut *c)
    .await?;
    Ok(ended.iter().map(|r| r.try_get("request_id")).collect::<Result<_, _>>()?)
}
