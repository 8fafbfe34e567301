//! The database's side of the metrics: counts read at scrape time.

use sqlx::Row as _;

use crate::broker::status;
use crate::error::ServerError;
use crate::store::Store;

/// What `/metrics` reads from the database.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Gauges {
    /// Requests waiting for approvers (pending and not expired).
    pub pending_requests: i64,
    /// Pushes queued for sending (not yet sent or given up).
    pub push_queue: i64,
    /// The audit log's last sequence number.
    pub audit_head_seq: i64,
}

/// Reads [`Gauges`] (three single-row statements).
pub(crate) async fn gauges(store: &Store, now: i64) -> Result<Gauges, ServerError> {
    let pending =
        sqlx::query("SELECT COUNT(*) AS n FROM broker_requests WHERE status = $1 AND expires_at > $2")
            .bind(status::PENDING)
            .bind(now)
            .fetch_one(store.pool())
            .await?
            .try_get::<i64, _>("n")?;
    let push_queue = sqlx::query("SELECT COUNT(*) AS n FROM push_outbox")
        .fetch_one(store.pool())
        .await?
        .try_get::<i64, _>("n")?;
    let audit_head_seq = sqlx::query("SELECT COALESCE(MAX(seq), 0) AS n FROM audit_head")
        .fetch_one(store.pool())
        .await?
        .try_get::<i64, _>("n")?;
    Ok(Gauges { pending_requests: pending, push_queue, audit_head_seq })
}
