//! The audit tables: `audit_log` (the rows) and `audit_head` (the last sequence number and
//! hash), written once for both engines.

use sqlx::{AnyConnection, Row};

use crate::store::{Engine, Store};
use blindvault_api::audit::AuditRow;

/// The transaction an append shares with its action.
pub(crate) type Tx<'c> = sqlx::Transaction<'c, sqlx::Any>;

/// A row to insert.
pub(crate) struct NewRow<'a> {
    pub(crate) seq: i64,
    pub(crate) at: i64,
    pub(crate) actor: Option<&'a str>,
    pub(crate) action: &'a str,
    pub(crate) target: Option<&'a str>,
    pub(crate) detail: &'a str,
    pub(crate) prev_hash: &'a str,
    pub(crate) hash: &'a str,
}

/// Moves the head from `(prev_seq, prev)` to `(seq, hash)` if it still holds exactly that
/// (a compare-and-swap that takes the head's lock); true if it did.
pub(crate) async fn move_head(
    tx: &mut Tx<'_>,
    prev_seq: i64,
    prev: &str,
    seq: i64,
    hash: &str,
) -> Result<bool, sqlx::Error> {
    let moved =
        sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1 AND seq = $3 AND hash = $4")
            .bind(seq)
            .bind(hash)
            .bind(prev_seq)
            .bind(prev)
            .execute(&mut **tx)
            .await?;
    Ok(moved.rows_affected() == 1)
}

/// Takes the next sequence number under the head's lock; returns it and the head's hash (the
/// new row's `prev_hash`).
pub(crate) async fn advance_head(tx: &mut Tx<'_>) -> Result<(i64, String), sqlx::Error> {
    let head = sqlx::query("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
        .fetch_one(&mut **tx)
        .await?;
    Ok((head.try_get("seq")?, head.try_get("hash")?))
}

/// Sets the head's hash (after [`advance_head`]).
pub(crate) async fn set_head_hash(tx: &mut Tx<'_>, hash: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1").bind(hash).execute(&mut **tx).await?;
    Ok(())
}

/// Inserts a row.
pub(crate) async fn insert_row(tx: &mut Tx<'_>, r: &NewRow<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_log (seq, at, actor, action, target, detail, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(r.seq)
    .bind(r.at)
    .bind(r.actor)
    .bind(r.action)
    .bind(r.target)
    .bind(r.detail)
    .bind(r.prev_hash)
    .bind(r.hash)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn row_from(r: &sqlx::any::AnyRow) -> Result<AuditRow, sqlx::Error> {
    Ok(AuditRow {
        seq: r.try_get("seq")?,
        at: r.try_get("at")?,
        actor: r.try_get("actor")?,
        action: r.try_get("action")?,
        target: r.try_get("target")?,
        detail: r.try_get("detail")?,
        prev_hash: r.try_get("prev_hash")?,
        hash: r.try_get("hash")?,
    })
}

/// Rows with `seq > after`, oldest first, at most `limit`.
pub(crate) async fn list_on(
    c: &mut AnyConnection,
    after: i64,
    limit: i64,
) -> Result<Vec<AuditRow>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT seq, at, actor, action, target, detail, prev_hash, hash FROM audit_log \
         WHERE seq > $1 ORDER BY seq LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(&mut *c)
    .await?;
    rows.iter().map(row_from).collect()
}

/// The head row as stored (`seq`, `hash`), if the row exists.
pub(crate) async fn head_on(c: &mut AnyConnection) -> Result<Option<(i64, String)>, sqlx::Error> {
    let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_optional(&mut *c).await?;
    head.map(|h| Ok((h.try_get("seq")?, h.try_get("hash")?))).transpose()
}

/// The stored hash of row `seq`, if there is such a row.
pub(crate) async fn hash_at(store: &Store, seq: i64) -> Result<Option<String>, sqlx::Error> {
    let row = sqlx::query("SELECT hash FROM audit_log WHERE seq = $1")
        .bind(seq)
        .fetch_optional(store.pool())
        .await?;
    row.map(|r| r.try_get::<String, _>("hash")).transpose()
}

/// A read transaction that sees one snapshot (REPEATABLE READ on PostgreSQL; on SQLite in WAL
/// mode a read transaction sees the database as of its first read).
pub(crate) async fn snapshot(store: &Store) -> Result<Tx<'static>, sqlx::Error> {
    let mut tx = store.pool().begin().await?;
    if store.engine() == Engine::Postgres {
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY").execute(&mut *tx).await?;
    }
    Ok(tx)
}
