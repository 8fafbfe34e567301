//! A consumer host's requests: creation, the poll, withdrawal and the one delivery.

use sqlx::{AnyConnection, Row};

use crate::broker::status;
use crate::error::ApiError;
use crate::store::Store;

/// What a new request is checked against, read in one statement (a row per approver device).
/// Nothing here is trusted before the request's signature chain verifies from the org key.
pub(crate) struct CreateContext {
    /// The org key (base64url).
    pub(crate) org_key: String,
    /// The host certificate (base64url), if registered.
    pub(crate) certificate: Option<String>,
    pub(crate) host_revoked: bool,
    pub(crate) host_name: Option<String>,
    /// The entry's current version and threshold, if it is live.
    pub(crate) head: Option<(i64, i64)>,
    /// The names of the people whose approved devices hold an envelope of that version.
    pub(crate) approvers: Vec<String>,
}

/// [`CreateContext`] for host `cert_id` asking for `entry_id`; `None` while no org key is set.
pub(crate) async fn create_context(
    c: &mut AnyConnection,
    cert_id: &str,
    entry_id: &str,
) -> Result<Option<CreateContext>, ApiError> {
    // (Aliased: SQLite names a column of a parenthesised join by its qualified name.)
    let rows = sqlx::query(
        "SELECT o.public_key AS public_key, h.certificate AS certificate, h.revoked_at AS revoked_at, \
           h.host_name AS host_name, e.version AS version, e.threshold AS threshold, u.name AS approver FROM broker_org o \
           LEFT JOIN broker_hosts h ON h.cert_id = $1 \
           LEFT JOIN (broker_entry_heads eh JOIN broker_entries e ON e.entry_id = eh.entry_id AND e.version = eh.version) \
             ON eh.entry_id = $2 AND eh.deleted_at IS NULL \
           LEFT JOIN (broker_entry_devices d JOIN broker_enrolments en ON en.approver_key = d.approver_key AND en.status = 'approved' \
             JOIN users u ON u.id = en.user_id) ON d.entry_id = e.entry_id AND d.version = e.version \
           WHERE o.id = 1",
    )
    .bind(cert_id)
    .bind(entry_id)
    .fetch_all(&mut *c)
    .await?;
    let Some(row) = rows.first() else { return Ok(None) };
    let head = match (row.try_get::<Option<i64>, _>("version")?, row.try_get::<Option<i64>, _>("threshold")?)
    {
        (Some(v), Some(t)) => Some((v, t)),
        _ => None,
    };
    let mut approvers = rows
        .iter()
        .filter_map(|r| r.try_get::<Option<String>, _>("approver").transpose())
        .collect::<Result<Vec<_>, _>>()?;
    approvers.sort();
    approvers.dedup();
    Ok(Some(CreateContext {
        org_key: row.try_get("public_key")?,
        certificate: row.try_get("certificate")?,
        host_revoked: row.try_get::<Option<i64>, _>("revoked_at")?.is_some(),
        host_name: row.try_get("host_name")?,
        head,
        approvers,
    }))
}

/// A verified request to store.
pub(crate) struct NewRequest<'a> {
    pub(crate) request_id: &'a str,
    pub(crate) entry_id: &'a str,
    pub(crate) version: i64,
    pub(crate) cert_id: &'a str,
    /// The signed request (base64url).
    pub(crate) signed: &'a str,
    pub(crate) poll_hash: &'a str,
    pub(crate) threshold: i64,
    pub(crate) created_at: i64,
    pub(crate) expires_at: i64,
    /// The lease the host signed (`run`'s; none for `inject`).
    pub(crate) lease_secs: Option<i64>,
}

/// Open requests (pending or approved, not yet past their deadline): host `cert_id`'s and the
/// whole org's (every host's: what the approvers are being asked at once).
#[derive(Debug, Clone, Copy)]
pub(crate) struct OpenCounts {
    pub(crate) host: i64,
    pub(crate) org: i64,
}

/// The open requests of host `cert_id` and of the org, read inside the transaction that will
/// insert the next one. On PostgreSQL the org's row and then the host's are locked first, so two
/// instances (or two connections) creating requests at once count one after the other: the
/// second counts after the first has committed (each statement of a READ COMMITTED transaction
/// sees what was committed before it began). Creates are thereby serialized for their count and
/// insert (one short transaction each). SQLite has one writer at a time and the pool one
/// connection.
pub(crate) async fn open_requests(
    c: &mut AnyConnection,
    engine: crate::store::Engine,
    cert_id: &str,
    now: i64,
) -> Result<OpenCounts, ApiError> {
    if engine == crate::store::Engine::Postgres {
        sqlx::query("SELECT id FROM broker_org WHERE id = 1 FOR UPDATE").execute(&mut *c).await?;
        sqlx::query("SELECT cert_id FROM broker_hosts WHERE cert_id = $1 FOR UPDATE")
            .bind(cert_id)
            .execute(&mut *c)
            .await?;
    }
    let row = sqlx::query(
        "SELECT COUNT(*) AS org, COALESCE(SUM(CASE WHEN cert_id = $1 THEN 1 ELSE 0 END), 0) AS host \
         FROM broker_requests WHERE status IN ($2, $3) AND expires_at > $4",
    )
    .bind(cert_id)
    .bind(status::PENDING)
    .bind(status::APPROVED)
    .bind(now)
    .fetch_one(&mut *c)
    .await?;
    Ok(OpenCounts { host: row.try_get("host")?, org: row.try_get("org")? })
}

/// Stores a pending request; false if one with this id exists.
pub(crate) async fn insert(c: &mut AnyConnection, r: &NewRequest<'_>) -> Result<bool, ApiError> {
    let done = sqlx::query(
        "INSERT INTO broker_requests (request_id, entry_id, version, cert_id, signed, status, poll_hash, threshold, created_at, expires_at, lease_secs) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (request_id) DO NOTHING",
    )
    .bind(r.request_id)
    .bind(r.entry_id)
    .bind(r.version)
    .bind(r.cert_id)
    .bind(r.signed)
    .bind(status::PENDING)
    .bind(r.poll_hash)
    .bind(r.threshold)
    .bind(r.created_at)
    .bind(r.expires_at)
    .bind(r.lease_secs)
    .execute(&mut *c)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The names of the people who may approve `entry_id` at `version`, in byte order (sorted here,
/// not in SQL, so every list of names has one order on both engines).
pub(crate) async fn approver_names(
    c: &mut AnyConnection,
    entry_id: &str,
    version: i64,
) -> Result<Vec<String>, ApiError> {
    let rows = sqlx::query(
        "SELECT DISTINCT u.name FROM broker_entry_devices d JOIN broker_enrolments e ON e.approver_key = d.approver_key \
         AND e.status = 'approved' JOIN users u ON u.id = e.user_id WHERE d.entry_id = $1 AND d.version = $2",
    )
    .bind(entry_id)
    .bind(version)
    .fetch_all(&mut *c)
    .await?;
    let mut names = rows.iter().map(|r| r.try_get("name")).collect::<Result<Vec<String>, _>>()?;
    names.sort();
    Ok(names)
}

/// A request as its poll reads it.
pub(crate) struct PollRow {
    pub(crate) status: String,
    pub(crate) poll_hash: String,
    pub(crate) threshold: i64,
    pub(crate) entry_id: String,
    pub(crate) version: i64,
    pub(crate) decided_by: Option<String>,
    pub(crate) expires_at: i64,
    pub(crate) approvals: i64,
    /// The host that made the request.
    pub(crate) cert_id: String,
    pub(crate) host_revoked: bool,
}

/// Request `id` as its poll reads it.
pub(crate) async fn poll_row(store: &Store, id: &str) -> Result<Option<PollRow>, ApiError> {
    let row = sqlx::query(
        "SELECT r.status, r.poll_hash, r.threshold, r.entry_id, r.version, r.decided_by, r.expires_at, r.approvals, r.cert_id AS cert_id, h.revoked_at \
         FROM broker_requests r JOIN broker_hosts h ON h.cert_id = r.cert_id WHERE r.request_id = $1",
    )
    .bind(id)
    .fetch_optional(store.pool())
    .await?;
    let Some(r) = row else { return Ok(None) };
    Ok(Some(PollRow {
        status: r.try_get("status")?,
        poll_hash: r.try_get("poll_hash")?,
        threshold: r.try_get("threshold")?,
        entry_id: r.try_get("entry_id")?,
        version: r.try_get("version")?,
        decided_by: r.try_get("decided_by")?,
        expires_at: r.try_get("expires_at")?,
        approvals: r.try_get("approvals")?,
        cert_id: r.try_get("cert_id")?,
        host_revoked: r.try_get::<Option<i64>, _>("revoked_at")?.is_some(),
    }))
}

/// The poll token hash of request `id`.
pub(crate) async fn poll_hash(c: &mut AnyConnection, id: &str) -> Result<Option<String>, ApiError> {
    let row = sqlx::query("SELECT poll_hash FROM broker_requests WHERE request_id = $1")
        .bind(id)
        .fetch_optional(&mut *c)
        .await?;
    Ok(row.map(|r| r.try_get("poll_hash")).transpose()?)
}

/// Cancels request `id` if it is still open (pending or approved) and deletes its responses;
/// `Err(status)` with its current status if it has ended.
pub(crate) async fn cancel_open(
    c: &mut AnyConnection,
    id: &str,
    now: i64,
) -> Result<Result<(), String>, ApiError> {
    let ended = sqlx::query(
        "UPDATE broker_requests SET status = $1, decided_at = $2 WHERE request_id = $3 AND status IN ($4, $5) RETURNING status",
    )
    .bind(status::CANCELLED)
    .bind(now)
    .bind(id)
    .bind(status::PENDING)
    .bind(status::APPROVED)
    .fetch_optional(&mut *c)
    .await?;
    if ended.is_none() {
        // Read again: it may have ended since the caller's read.
        let st: String = sqlx::query("SELECT status FROM broker_requests WHERE request_id = $1")
            .bind(id)
            .fetch_one(&mut *c)
            .await?
            .try_get("status")?;
        return Ok(Err(st));
    }
    super::requests::delete_responses(c, id).await?;
    Ok(Ok(()))
}

/// What the one delivery hands over.
pub(crate) struct Delivery {
    /// The sealed responses (base64url), deleted as they are read.
    pub(crate) responses: Vec<String>,
    /// The org-signed entry version (none once deleted).
    pub(crate) sealed_entry: Option<String>,
    /// The org-signed enrolment of each device that approved.
    pub(crate) enrolments: Vec<String>,
}

/// Marks approved request `id` delivered — its lease, if it has one, ending `lease_secs` from
/// `now` — and takes its responses (handed over and deleted in one statement), with the entry
/// version and the approving devices' enrolments; `None` if it was delivered (or is no longer
/// approved) meanwhile.
pub(crate) async fn deliver(
    c: &mut AnyConnection,
    id: &str,
    entry_id: &str,
    version: i64,
    now: i64,
) -> Result<Option<Delivery>, ApiError> {
    let r = sqlx::query(
        "UPDATE broker_requests SET status = $1, delivered_at = $2, lease_ends_at = $5 + lease_secs \
         WHERE request_id = $3 AND status = $4",
    )
    .bind(status::DELIVERED)
    .bind(now)
    .bind(id)
    .bind(status::APPROVED)
    .bind(now)
    .execute(&mut *c)
    .await?;
    if r.rows_affected() != 1 {
        return Ok(None);
    }
    let rows = sqlx::query("DELETE FROM broker_responses WHERE request_id = $1 RETURNING sealed")
        .bind(id)
        .fetch_all(&mut *c)
        .await?;
    let sealed_entry: Option<String> =
        sqlx::query("SELECT sealed FROM broker_entries WHERE entry_id = $1 AND version = $2")
            .bind(entry_id)
            .bind(version)
            .fetch_optional(&mut *c)
            .await?
            .map(|r| r.try_get("sealed"))
            .transpose()?;
    let responses: Vec<String> = rows.iter().map(|r| r.try_get("sealed")).collect::<Result<_, _>>()?;
    let enrolments: Vec<String> = sqlx::query(
        "SELECT DISTINCT en.signed FROM broker_approvals a JOIN broker_enrolments en ON en.approver_key = a.approver_key \
         WHERE a.request_id = $1 AND a.decision = 'approve' AND en.signed IS NOT NULL",
    )
    .bind(id)
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(|r| r.try_get("signed"))
    .collect::<Result<_, _>>()?;
    Ok(Some(Delivery { responses, sealed_entry, enrolments }))
}
