//! A delivered request's lease: running until `lease_ends_at` (the server's clock) unless
//! someone ends it early (`ended_at`, `ended_by`).

use sqlx::{AnyConnection, Row};

use crate::broker::status;
use crate::error::ApiError;
use crate::store::Store;

/// A request's lease as the server keeps it.
pub(crate) struct LeaseRow {
    pub(crate) request_id: String,
    pub(crate) status: String,
    pub(crate) entry_id: String,
    pub(crate) version: i64,
    /// The signed request (base64url), for the command line it names.
    pub(crate) signed: String,
    pub(crate) host_name: String,
    pub(crate) delivered_at: Option<i64>,
    pub(crate) lease_ends_at: Option<i64>,
    pub(crate) ended_at: Option<i64>,
    pub(crate) ended_by: Option<String>,
    pub(crate) ended_by_name: Option<String>,
}

/// The columns of a [`LeaseRow`] from `broker_requests r JOIN broker_hosts h` (a macro, so that
/// each query stays one `&'static str`).
macro_rules! lease_select {
    () => {
        "SELECT r.request_id, r.status, r.entry_id, r.version, r.signed, h.host_name, r.delivered_at, \
         r.lease_ends_at, r.ended_at, r.ended_by, (SELECT u.name FROM users u WHERE u.id = r.ended_by) AS ended_by_name \
         FROM broker_requests r JOIN broker_hosts h ON h.cert_id = r.cert_id "
    };
}

fn lease_row(r: &sqlx::any::AnyRow) -> Result<LeaseRow, ApiError> {
    Ok(LeaseRow {
        request_id: r.try_get("request_id")?,
        status: r.try_get("status")?,
        entry_id: r.try_get("entry_id")?,
        version: r.try_get("version")?,
        signed: r.try_get("signed")?,
        host_name: r.try_get("host_name")?,
        delivered_at: r.try_get("delivered_at")?,
        lease_ends_at: r.try_get("lease_ends_at")?,
        ended_at: r.try_get("ended_at")?,
        ended_by: r.try_get("ended_by")?,
        ended_by_name: r.try_get("ended_by_name")?,
    })
}

/// Request `id`'s lease, if the request exists.
pub(crate) async fn get(c: &mut AnyConnection, id: &str) -> Result<Option<LeaseRow>, ApiError> {
    let row = sqlx::query(concat!(lease_select!(), "WHERE r.request_id = $1"))
        .bind(id)
        .fetch_optional(&mut *c)
        .await?;
    row.as_ref().map(lease_row).transpose()
}

/// The leases whose time is not over at `now` (running, or ended early): every one for an
/// admin (`all`), else those of requests whose entry version `user_id` is an approver of;
/// newest delivery first.
pub(crate) async fn current(
    c: &mut AnyConnection,
    user_id: &str,
    all: bool,
    now: i64,
) -> Result<Vec<LeaseRow>, ApiError> {
    let rows = sqlx::query(concat!(
        lease_select!(),
        "WHERE r.status = $1 AND r.lease_ends_at > $2 AND ($3 = 1 OR EXISTS (SELECT 1 FROM broker_entry_devices d \
           JOIN broker_enrolments e ON e.approver_key = d.approver_key AND e.status = 'approved' \
           WHERE d.entry_id = r.entry_id AND d.version = r.version AND e.user_id = $4)) \
         ORDER BY r.delivered_at DESC, r.request_id"
    ))
    .bind(status::DELIVERED)
        .bind(now)
        .bind(i64::from(all))
        .bind(user_id)
        .fetch_all(&mut *c)
        .await?;
    rows.iter().map(lease_row).collect()
}

/// The names of the people who approved request `id`, sorted.
pub(crate) async fn approved_by(c: &mut AnyConnection, id: &str) -> Result<Vec<String>, ApiError> {
    let rows = sqlx::query(
        "SELECT DISTINCT u.name FROM broker_approvals a JOIN users u ON u.id = a.user_id \
         WHERE a.request_id = $1 AND a.decision = 'approve'",
    )
    .bind(id)
    .fetch_all(&mut *c)
    .await?;
    let mut names = rows.iter().map(|r| r.try_get("name")).collect::<Result<Vec<String>, _>>()?;
    names.sort();
    Ok(names)
}

/// Ends request `id`'s lease at `now` by `user_id` if it is running (delivered, its lease not
/// over at `now`, not ended): one statement, so of two people ending it at once one wins and
/// the other is told it is not running. True if this call ended it.
pub(crate) async fn end(c: &mut AnyConnection, id: &str, user_id: &str, now: i64) -> Result<bool, ApiError> {
    let r = sqlx::query(
        "UPDATE broker_requests SET ended_at = $1, ended_by = $2 \
         WHERE request_id = $3 AND status = $4 AND lease_ends_at > $1 AND ended_at IS NULL",
    )
    .bind(now)
    .bind(user_id)
    .bind(id)
    .bind(status::DELIVERED)
    .execute(&mut *c)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// The poll token hash of request `id` (the lease poll authenticates like the result poll).
pub(crate) async fn poll_hash(store: &Store, id: &str) -> Result<Option<String>, ApiError> {
    let row = sqlx::query("SELECT poll_hash FROM broker_requests WHERE request_id = $1")
        .bind(id)
        .fetch_optional(store.pool())
        .await?;
    Ok(row.map(|r| r.try_get("poll_hash")).transpose()?)
}
