//! `broker_approvals` (each person's decision on a request), the sealed responses an approval
//! leaves, and the count that releases a request.

use sqlx::{AnyConnection, Row};

use crate::broker::status;
use crate::error::ApiError;

/// What an approval is checked against: the request, its host, and the approving passkey's
/// approver enrolment (if approved) and whether that device holds an envelope of the version.
pub(crate) struct ApprovalContext {
    pub(crate) status: String,
    pub(crate) threshold: i64,
    pub(crate) expires_at: i64,
    pub(crate) issued_by: String,
    pub(crate) revoked_at: Option<i64>,
    pub(crate) allow_self: bool,
    /// The approver key of the passkey's approved enrolment, if it has one.
    pub(crate) approver_key: Option<String>,
    /// Whether that device holds an envelope of the requested version.
    pub(crate) holds: bool,
}

/// [`ApprovalContext`] of request `id` for passkey `cred_id` of `user_id`: one statement.
pub(crate) async fn context(
    c: &mut AnyConnection,
    id: &str,
    cred_id: &str,
    user_id: &str,
) -> Result<Option<ApprovalContext>, ApiError> {
    let row = sqlx::query(
        "SELECT r.status, r.entry_id, r.version, r.threshold, r.expires_at, h.issued_by, h.revoked_at, \
           COALESCE(h.self_approval, e.allow_self_approval) AS allow_self_approval, en.approver_key, \
           (SELECT COUNT(*) FROM broker_entry_devices d WHERE d.entry_id = r.entry_id AND d.version = r.version \
             AND d.approver_key = en.approver_key) AS holds \
         FROM broker_requests r JOIN broker_hosts h ON h.cert_id = r.cert_id \
         JOIN broker_entries e ON e.entry_id = r.entry_id AND e.version = r.version \
         LEFT JOIN broker_enrolments en ON en.credential_id = $2 AND en.user_id = $3 AND en.status = 'approved' \
         WHERE r.request_id = $1",
    )
    .bind(id)
    .bind(cred_id)
    .bind(user_id)
    .fetch_optional(&mut *c)
    .await?;
    let Some(r) = row else { return Ok(None) };
    Ok(Some(ApprovalContext {
        status: r.try_get("status")?,
        threshold: r.try_get("threshold")?,
        expires_at: r.try_get("expires_at")?,
        issued_by: r.try_get("issued_by")?,
        revoked_at: r.try_get("revoked_at")?,
        allow_self: r.try_get::<i64, _>("allow_self_approval")? != 0,
        approver_key: r.try_get("approver_key")?,
        holds: r.try_get::<i64, _>("holds")? != 0,
    }))
}

/// A decision to record.
pub(crate) struct Decision<'a> {
    pub(crate) request_id: &'a str,
    pub(crate) user_id: &'a str,
    /// The approving passkey and its approver key (empty for a denial).
    pub(crate) credential_id: &'a str,
    pub(crate) approver_key: &'a str,
    /// `approve` or `deny`.
    pub(crate) decision: &'a str,
    pub(crate) at: i64,
}

/// Records a decision; false if this person already decided on the request.
pub(crate) async fn record(c: &mut AnyConnection, d: &Decision<'_>) -> Result<bool, ApiError> {
    let r = sqlx::query(
        "INSERT INTO broker_approvals (request_id, user_id, credential_id, approver_key, decision, at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (request_id, user_id) DO NOTHING",
    )
    .bind(d.request_id)
    .bind(d.user_id)
    .bind(d.credential_id)
    .bind(d.approver_key)
    .bind(d.decision)
    .bind(d.at)
    .execute(&mut *c)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Stores an approver's sealed response (base64url) for the consumer.
pub(crate) async fn insert_response(
    c: &mut AnyConnection,
    id: &str,
    user_id: &str,
    sealed: &str,
) -> Result<(), ApiError> {
    sqlx::query("INSERT INTO broker_responses (request_id, user_id, sealed) VALUES ($1, $2, $3)")
        .bind(id)
        .bind(user_id)
        .bind(sealed)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// The count after an approval.
pub(crate) struct Counted {
    pub(crate) approvals: i64,
    /// Whether this approval released the request.
    pub(crate) released: bool,
}

/// Counts one approval of pending request `id` and decides, in one statement under the request
/// row's lock (concurrent approvals queue here, each seeing the others' counts). The issuer of
/// the host does not count alone unless self-approval is allowed. `None`: no longer pending.
pub(crate) async fn count(
    c: &mut AnyConnection,
    id: &str,
    by_non_issuer: bool,
    allow_self: bool,
    now: i64,
) -> Result<Option<Counted>, ApiError> {
    let row = sqlx::query(
        "UPDATE broker_requests SET approvals = approvals + 1, non_issuer_approvals = non_issuer_approvals + $2, \
           status = CASE WHEN approvals + 1 >= threshold AND ($3 = 1 OR non_issuer_approvals + $2 > 0) THEN $4 ELSE status END, \
           decided_at = CASE WHEN approvals + 1 >= threshold AND ($3 = 1 OR non_issuer_approvals + $2 > 0) THEN $5 ELSE decided_at END \
         WHERE request_id = $1 AND status = $6 RETURNING approvals, status",
    )
    .bind(id)
    .bind(i64::from(by_non_issuer))
    .bind(i64::from(allow_self))
    .bind(status::APPROVED)
    .bind(now)
    .bind(status::PENDING)
    .fetch_optional(&mut *c)
    .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(Counted {
        approvals: row.try_get("approvals")?,
        released: row.try_get::<String, _>("status")? == status::APPROVED,
    }))
}

/// Denies pending request `id` at `now`, naming who did; false if it is no longer pending.
pub(crate) async fn deny_pending(
    c: &mut AnyConnection,
    id: &str,
    now: i64,
    by_name: &str,
) -> Result<bool, ApiError> {
    let r = sqlx::query(
        "UPDATE broker_requests SET status = $1, decided_at = $2, decided_by = $3 WHERE request_id = $4 AND status = $5",
    )
    .bind(status::DENIED)
    .bind(now)
    .bind(by_name)
    .bind(id)
    .bind(status::PENDING)
    .execute(&mut *c)
    .await?;
    Ok(r.rows_affected() == 1)
}
