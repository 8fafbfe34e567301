//! Requests, the approver side: one request, the inbox.

use axum::Json;
use axum::extract::{Path, State};
use blindvault_api::ErrorCode;
use serde::Serialize;
use sqlx::Row;

use super::common::*;
use super::hub::Note;
use super::notify::announce;
use super::status;
use crate::auth::session::Session;
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Serialize)]
pub(crate) struct RequestView {
    pub(crate) request_id: String,
    pub(crate) status: String,
    /// The host name the server registered the certificate under (unchecked until the device
    /// verifies the certificate) and when the request arrived: what a list can show before
    /// anyone unlocks.
    pub(crate) host_name: String,
    pub(crate) created_at: i64,
    /// The host's issuer (user id; for a format-2 certificate the one it names) and their name
    /// as this server knows it (none if the account is gone): the device shows the name beside
    /// the issuer it verified in the certificate.
    pub(crate) issuer: String,
    pub(crate) issuer_name: Option<String>,
    pub(crate) entry_id: String,
    pub(crate) version: i64,
    pub(crate) threshold: i64,
    pub(crate) expires_at: i64,
    pub(crate) signed_request: String,
    pub(crate) certificate: String,
    pub(crate) sealed_entry: Option<String>,
    pub(crate) decisions: Vec<serde_json::Value>,
    pub(crate) approvers: Vec<String>,
    pub(crate) my_decision: Option<String>,
}

/// A request the user can act on: one of their approved devices holds an envelope of the
/// requested version.
pub(crate) async fn user_is_approver_of(
    c: &mut sqlx::AnyConnection,
    user_id: &str,
    entry_id: &str,
    version: i64,
) -> Result<bool, ApiError> {
    let row = sqlx::query("SELECT 1 AS one FROM broker_entry_devices d JOIN broker_enrolments e ON e.approver_key = d.approver_key \
         WHERE d.entry_id = $1 AND d.version = $2 AND e.user_id = $3 AND e.status = 'approved'")
        .bind(entry_id).bind(version).bind(user_id).fetch_optional(&mut *c).await?;
    Ok(row.is_some())
}

/// Who issued the request's host, and whether its certificate (format 1: the entry) lets them
/// approve alone.
pub(crate) struct Separation {
    pub(crate) issuer: String,
    pub(crate) allow_self: bool,
}

pub(crate) async fn request_view(state: &AppState, s: &Session, id: &str) -> Result<RequestView, ApiError> {
    request_view_on(&mut *conn(state).await?, s, id).await
}

/// The request row (with its host and entry) if the caller is one of its approvers — else
/// "no such request" — and the separation-of-duties facts (one statement).
pub(crate) async fn request_row_on(
    c: &mut sqlx::AnyConnection,
    s: &Session,
    id: &str,
) -> Result<(sqlx::any::AnyRow, Separation), ApiError> {
    // `mine`: how many of the caller's approved devices hold an envelope of this version.
    let row = sqlx::query("SELECT r.request_id, r.status, r.entry_id, r.version, r.threshold, r.expires_at, r.created_at, r.signed, h.certificate, \
           h.host_name, h.issued_by, h.revoked_at, e.sealed, COALESCE(h.self_approval, e.allow_self_approval) AS allow_self_approval, \
           (SELECT COUNT(*) FROM broker_entry_devices d JOIN broker_enrolments en ON en.approver_key = d.approver_key \
             WHERE d.entry_id = r.entry_id AND d.version = r.version AND en.user_id = $2 AND en.status = 'approved') AS mine, \
           (SELECT u.name FROM users u WHERE u.id = h.issued_by) AS issuer_name \
           FROM broker_requests r JOIN broker_hosts h ON h.cert_id = r.cert_id \
           LEFT JOIN broker_entries e ON e.entry_id = r.entry_id AND e.version = r.version WHERE r.request_id = $1")
        .bind(id).bind(&s.user_id).fetch_optional(&mut *c).await?
        .ok_or_else(|| ApiError::not_found(ErrorCode::NoSuchRequest, "no such request"))?;
    let mine: i64 = row.try_get("mine")?;
    if mine == 0 {
        return Err(ApiError::not_found(ErrorCode::NoSuchRequest, "no such request"));
    }
    let allow_self: Option<i64> = row.try_get("allow_self_approval")?;
    let separation =
        Separation { issuer: row.try_get("issued_by")?, allow_self: allow_self.unwrap_or(0) != 0 };
    Ok((row, separation))
}

/// The request as an approver sees it (2 statements on one connection: the request with its
/// host, entry and the caller's approver status; decisions and approver names).
pub(crate) async fn request_view_on(
    c: &mut sqlx::AnyConnection,
    s: &Session,
    id: &str,
) -> Result<RequestView, ApiError> {
    let (row, _) = request_row_on(c, s, id).await?;
    let entry_id: String = row.try_get("entry_id")?;
    let version: i64 = row.try_get("version")?;
    let sealed_entry: Option<String> = row.try_get("sealed")?;
    // The decisions so far (kind 0, oldest first) and the names of everyone who may approve
    // (kind 1): one statement.
    let rows = sqlx::query("SELECT 0 AS kind, u.name AS name, a.decision AS decision, a.user_id AS user_id, a.at AS at \
           FROM broker_approvals a JOIN users u ON u.id = a.user_id WHERE a.request_id = $1 \
         UNION ALL SELECT DISTINCT 1, u.name, CAST(NULL AS TEXT), CAST(NULL AS TEXT), CAST(NULL AS BIGINT) FROM broker_entry_devices d \
           JOIN broker_enrolments e ON e.approver_key = d.approver_key AND e.status = 'approved' \
           JOIN users u ON u.id = e.user_id WHERE d.entry_id = $2 AND d.version = $3 \
         ORDER BY kind, at, name")
        .bind(id).bind(&entry_id).bind(version).fetch_all(&mut *c).await?;
    let mut my_decision = None;
    let (mut ds, mut approvers) = (Vec::new(), Vec::new());
    for d in &rows {
        let name: String = d.try_get("name")?;
        if d.try_get::<i64, _>("kind")? == 1 {
            approvers.push(name);
            continue;
        }
        let uid: String = d.try_get::<Option<String>, _>("user_id")?.unwrap_or_default();
        let decision: String = d.try_get::<Option<String>, _>("decision")?.unwrap_or_default();
        if uid == s.user_id {
            my_decision = Some(decision.clone());
        }
        ds.push(serde_json::json!({ "user": name, "decision": decision }));
    }
    approvers.sort();
    let view = RequestView {
        request_id: row.try_get("request_id")?,
        status: row.try_get("status")?,
        host_name: row.try_get("host_name")?,
        created_at: row.try_get("created_at")?,
        issuer: row.try_get("issued_by")?,
        issuer_name: row.try_get("issuer_name")?,
        approvers,
        entry_id,
        version,
        threshold: row.try_get("threshold")?,
        expires_at: row.try_get("expires_at")?,
        signed_request: row.try_get("signed")?,
        certificate: row.try_get("certificate")?,
        sealed_entry,
        decisions: ds,
        my_decision,
    };
    Ok(view)
}

pub(crate) async fn get_request(
    State(state): State<AppState>,
    s: Session,
    Path(id): Path<String>,
) -> Result<Json<RequestView>, ApiError> {
    require_approver(&s)?;
    Ok(Json(request_view(&state, &s, &id).await?))
}

/// Pending requests waiting for the caller's decision.
pub(crate) async fn inbox(
    State(state): State<AppState>,
    s: Session,
) -> Result<Json<Vec<RequestView>>, ApiError> {
    require_approver(&s)?;
    let mut c = conn(&state).await?;
    let rows = sqlx::query("SELECT DISTINCT r.request_id, r.created_at FROM broker_requests r \
         JOIN broker_entry_devices d ON d.entry_id = r.entry_id AND d.version = r.version \
         JOIN broker_enrolments e ON e.approver_key = d.approver_key AND e.status = 'approved' AND e.user_id = $1 \
         WHERE r.status = $2 AND r.expires_at > $3 \
           AND NOT EXISTS (SELECT 1 FROM broker_approvals a WHERE a.request_id = r.request_id AND a.user_id = $1) \
         ORDER BY r.created_at")
        .bind(&s.user_id).bind(status::PENDING).bind(state.clock.now())
        .fetch_all(&mut *c).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let id: String = r.try_get("request_id")?;
        out.push(request_view_on(&mut c, &s, &id).await?);
    }
    Ok(Json(out))
}

/// Ends a request whose host is revoked (one created in the instant of the revocation, which
/// the revocation's own sweep of open requests did not see): denied, responses deleted.
pub(crate) async fn end_request_of_revoked_host(state: &AppState, id: &str) -> Result<(), ApiError> {
    let mut tx = state.store.pool().begin().await?;
    let r = sqlx::query("UPDATE broker_requests SET status = $1, decided_at = $2 WHERE request_id = $3 AND status IN ($4, $5)")
        .bind(status::DENIED).bind(state.clock.now()).bind(id).bind(status::PENDING).bind(status::APPROVED)
        .execute(&mut *tx).await?;
    sqlx::query("DELETE FROM broker_responses WHERE request_id = $1").bind(id).execute(&mut *tx).await?;
    if r.rows_affected() == 1 {
        log_in(
            &mut tx,
            state,
            None,
            "broker.request.denied",
            Some(id),
            serde_json::json!({ "reason": "host_revoked" }),
        )
        .await?;
    }
    tx.commit().await?;
    announce(state, Note::Request(id.to_string())).await;
    Ok(())
}
