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

/// Marks every pending or approved request whose deadline is at or before `now` expired (at
/// `now`); returns their ids.
pub(crate) async fn expire_due(c: &mut AnyConnection, now: i64) -> Result<Vec<String>, ApiError> {
    let rows = sqlx::query(
        "UPDATE broker_requests SET status = $1, decided_at = $2 WHERE status IN ($3, $4) AND expires_at <= $2 \
         RETURNING request_id",
    )
    .bind(status::EXPIRED)
    .bind(now)
    .bind(status::PENDING)
    .bind(status::APPROVED)
    .fetch_all(&mut *c)
    .await?;
    Ok(rows.iter().map(|r| r.try_get("request_id")).collect::<Result<_, _>>()?)
}

/// Whether one of `user_id`'s approved devices holds an envelope of `entry_id` at `version`.
pub(crate) async fn user_is_approver_of(
    c: &mut AnyConnection,
    user_id: &str,
    entry_id: &str,
    version: i64,
) -> Result<bool, ApiError> {
    let row = sqlx::query(
        "SELECT 1 AS one FROM broker_entry_devices d JOIN broker_enrolments e ON e.approver_key = d.approver_key \
         WHERE d.entry_id = $1 AND d.version = $2 AND e.user_id = $3 AND e.status = 'approved'",
    )
    .bind(entry_id)
    .bind(version)
    .bind(user_id)
    .fetch_optional(&mut *c)
    .await?;
    Ok(row.is_some())
}

/// The entry and version request `id` asks for, if it exists.
pub(crate) async fn entry_of(c: &mut AnyConnection, id: &str) -> Result<Option<(String, i64)>, ApiError> {
    let row = sqlx::query("SELECT entry_id, version FROM broker_requests WHERE request_id = $1")
        .bind(id)
        .fetch_optional(&mut *c)
        .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some((row.try_get("entry_id")?, row.try_get("version")?)))
}

/// A request with its host and entry, as an approver reads it.
pub(crate) struct ApproverRequest {
    pub(crate) request_id: String,
    pub(crate) status: String,
    pub(crate) entry_id: String,
    pub(crate) version: i64,
    pub(crate) threshold: i64,
    pub(crate) expires_at: i64,
    pub(crate) created_at: i64,
    /// The signed request (base64url).
    pub(crate) signed: String,
    /// The host certificate (base64url).
    pub(crate) certificate: String,
    pub(crate) host_name: String,
    pub(crate) issued_by: String,
    pub(crate) issuer_name: Option<String>,
    pub(crate) revoked_at: Option<i64>,
    /// The sealed entry of the requested version (none once deleted).
    pub(crate) sealed: Option<String>,
    /// The host certificate's self-approval flag (format 1: the entry's).
    pub(crate) allow_self: bool,
    /// How many of the reader's approved devices hold an envelope of this version.
    pub(crate) mine: i64,
}

/// Request `id` as `user_id` (an approver) reads it: one statement.
pub(crate) async fn for_approver(
    c: &mut AnyConnection,
    id: &str,
    user_id: &str,
) -> Result<Option<ApproverRequest>, ApiError> {
    let row = sqlx::query(
        "SELECT r.request_id, r.status, r.entry_id, r.version, r.threshold, r.expires_at, r.created_at, r.signed, h.certificate, \
           h.host_name, h.issued_by, h.revoked_at, e.sealed, COALESCE(h.self_approval, e.allow_self_approval) AS allow_self_approval, \
           (SELECT COUNT(*) FROM broker_entry_devices d JOIN broker_enrolments en ON en.approver_key = d.approver_key \
             WHERE d.entry_id = r.entry_id AND d.version = r.version AND en.user_id = $2 AND en.status = 'approved') AS mine, \
           (SELECT u.name FROM users u WHERE u.id = h.issued_by) AS issuer_name \
           FROM broker_requests r JOIN broker_hosts h ON h.cert_id = r.cert_id \
           LEFT JOIN broker_entries e ON e.entry_id = r.entry_id AND e.version = r.version WHERE r.request_id = $1",
    )
    .bind(id)
    .bind(user_id)
    .fetch_optional(&mut *c)
    .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(ApproverRequest {
        request_id: row.try_get("request_id")?,
        status: row.try_get("status")?,
        entry_id: row.try_get("entry_id")?,
        version: row.try_get("version")?,
        threshold: row.try_get("threshold")?,
        expires_at: row.try_get("expires_at")?,
        created_at: row.try_get("created_at")?,
        signed: row.try_get("signed")?,
        certificate: row.try_get("certificate")?,
        host_name: row.try_get("host_name")?,
        issued_by: row.try_get("issued_by")?,
        issuer_name: row.try_get("issuer_name")?,
        revoked_at: row.try_get("revoked_at")?,
        sealed: row.try_get("sealed")?,
        allow_self: row.try_get::<Option<i64>, _>("allow_self_approval")?.unwrap_or(0) != 0,
        mine: row.try_get("mine")?,
    }))
}

/// A decision on a request, or (without decision) one of the people who may approve it.
pub(crate) enum Party {
    /// A recorded decision: the person's name and id and `approve` or `deny`.
    Decision { name: String, user_id: String, decision: String },
    /// Someone whose approved device holds an envelope of the version.
    Approver { name: String },
}

/// The decisions on request `id` (oldest first), then everyone who may approve it: one statement.
pub(crate) async fn parties(
    c: &mut AnyConnection,
    id: &str,
    entry_id: &str,
    version: i64,
) -> Result<Vec<Party>, ApiError> {
    let rows = sqlx::query(
        "SELECT 0 AS kind, u.name AS name, a.decision AS decision, a.user_id AS user_id, a.at AS at \
           FROM broker_approvals a JOIN users u ON u.id = a.user_id WHERE a.request_id = $1 \
         UNION ALL SELECT DISTINCT 1, u.name, CAST(NULL AS TEXT), CAST(NULL AS TEXT), CAST(NULL AS BIGINT) FROM broker_entry_devices d \
           JOIN broker_enrolments e ON e.approver_key = d.approver_key AND e.status = 'approved' \
           JOIN users u ON u.id = e.user_id WHERE d.entry_id = $2 AND d.version = $3 \
         ORDER BY kind, at, name",
    )
    .bind(id)
    .bind(entry_id)
    .bind(version)
    .fetch_all(&mut *c)
    .await?;
    rows.iter()
        .map(|d| {
            let name: String = d.try_get("name")?;
            Ok(if d.try_get::<i64, _>("kind")? == 1 {
                Party::Approver { name }
            } else {
                Party::Decision {
                    name,
                    user_id: d.try_get::<Option<String>, _>("user_id")?.unwrap_or_default(),
                    decision: d.try_get::<Option<String>, _>("decision")?.unwrap_or_default(),
                }
            })
        })
        .collect()
}

/// Pending, unexpired requests that `user_id` can decide and has not decided, oldest first.
pub(crate) async fn inbox_ids(
    c: &mut AnyConnection,
    user_id: &str,
    now: i64,
) -> Result<Vec<String>, ApiError> {
    let rows = sqlx::query(
        "SELECT DISTINCT r.request_id, r.created_at FROM broker_requests r \
         JOIN broker_entry_devices d ON d.entry_id = r.entry_id AND d.version = r.version \
         JOIN broker_enrolments e ON e.approver_key = d.approver_key AND e.status = 'approved' AND e.user_id = $1 \
         WHERE r.status = $2 AND r.expires_at > $3 \
           AND NOT EXISTS (SELECT 1 FROM broker_approvals a WHERE a.request_id = r.request_id AND a.user_id = $1) \
         ORDER BY r.created_at",
    )
    .bind(user_id)
    .bind(status::PENDING)
    .bind(now)
    .fetch_all(&mut *c)
    .await?;
    Ok(rows.iter().map(|r| r.try_get("request_id")).collect::<Result<_, _>>()?)
}

/// Denies request `id` at `now` if it is still open (pending or approved) and deletes its
/// responses; true if it was open.
pub(crate) async fn deny_open(c: &mut AnyConnection, id: &str, now: i64) -> Result<bool, ApiError> {
    let r = sqlx::query(
        "UPDATE broker_requests SET status = $1, decided_at = $2 WHERE request_id = $3 AND status IN ($4, $5)",
    )
    .bind(status::DENIED)
    .bind(now)
    .bind(id)
    .bind(status::PENDING)
    .bind(status::APPROVED)
    .execute(&mut *c)
    .await?;
    delete_responses(c, id).await?;
    Ok(r.rows_affected() == 1)
}
