//! PostgreSQL's `NOTIFY`: how one instance tells the others that a request changed.

use crate::store::Store;

/// `pg_notify(channel, payload)` (PostgreSQL only; the caller checks the engine).
pub(crate) async fn pg_notify(store: &Store, channel: &str, payload: &str) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_notify($1, $2)").bind(channel).bind(payload).execute(store.pool()).await?;
    Ok(())
}
