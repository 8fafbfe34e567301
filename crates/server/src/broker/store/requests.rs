//! `broker_requests` and the sealed `broker_responses` waiting for delivery.

use sqlx::{AnyConnection, Row};

use crate::broker::status;
use crate::error::ApiError;

/// Denies every open (pending or approved) request of host `cert_id` at `now` and deletes their
/// responses; returns their ids.
pub(crate) async fn end_open_of_host(
    c: &mut AnyConnection,
    cert_id: &str,
    now: i64,
) -> Result<Vec<String>, ApiError> {
    let rows = sqlx::query(
        "UPDATE broker_requests SET status = $1, decided_at = $2 WHERE cert_id = $3 AND status IN ($4, $5) RETURNING request_id",
    )
    .bind(status::DENIED)
    .bind(now)
    .bind(cert_id)
    .bind(status::PENDING)
    .bind(status::APPROVED)
    .fetch_all(&mut *c)
    .await?;
    let ids: Vec<String> = rows.iter().map(|r| r.try_get("request_id")).collect::<Result<_, _>>()?;
    for id in &ids {
        delete_responses(c, id).await?;
    }
    Ok(ids)
}

/// Deletes the sealed responses of request `id`.
pub(crate) async fn delete_responses(c: &mut AnyConnection, id: &str) -> Result<(), ApiError> {
    sqlx::query("DELETE FROM broker_responses WHERE request_id = $1").bind(id).execute(&mut *c).await?;
    Ok(())
}
