//! Approving (with a fresh assertion and the sealed response) and denying a request.

use axum::Json;
use axum::extract::{Path, State};
use blindvault_api::ErrorCode;
use blindvault_core::release::SealedResponse;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use webauthn_rs::prelude::{DiscoverableAuthentication, PublicKeyCredential};

use super::common::*;
use super::hub::Note;
use super::notify::announce;
use super::requests::*;
use super::status;
use crate::auth::ceremony::{self as wa, Kind};
use crate::auth::session::Session;
use crate::error::ApiError;
use crate::http::extract::ApiJson;
use crate::state::AppState;

/// Separation of duties: the person who issued the requesting host's certificate (named in a
/// format-2 certificate and checked at registration; for a format-1 one, the admin who
/// registered it) cannot be the only approver of its requests unless the certificate allows
/// self-approval (format 1: unless the entry does). With a threshold of one person their
/// approval would be the only one, so it is refused (before the ceremony, and again where the
/// approval would be recorded); with `m ≥ 2` distinct people it counts as one of them. Every
/// consumer checks the same against its own certificate (`release::check_separation`).
pub(crate) fn check_separation(
    user_id: &str,
    issuer: &str,
    threshold: i64,
    allow_self: bool,
) -> Result<(), ApiError> {
    if user_id == issuer && threshold <= 1 && !allow_self {
        return Err(ApiError::forbidden(
            ErrorCode::SelfApprovalRefused,
            "you issued this request's host certificate, so another approver must approve it \
             (or issue the host with blindvault host issue --allow-self-approval)",
        ));
    }
    Ok(())
}

#[derive(Serialize, Deserialize)]
pub(crate) struct ApproveCeremony {
    pub(crate) request_id: String,
    pub(crate) user_id: String,
    pub(crate) auth: DiscoverableAuthentication,
}

/// Starts the approval ceremony: a WebAuthn assertion with the PRF extension, bound (in the
/// stored ceremony state) to this request and this user.
pub(crate) async fn approve_start(
    State(state): State<AppState>,
    s: Session,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    require_approver(&s)?;
    // Only what the ceremony depends on (the device read the full view already).
    let (row, sep) = request_row_on(&mut *conn(&state).await?, &s, &id).await?;
    let st: String = row.try_get("status")?;
    if st != status::PENDING {
        return Err(ApiError::conflict(ErrorCode::RequestNotPending, format!("the request is {st}")));
    }
    if row.try_get::<Option<i64>, _>("revoked_at")?.is_some() {
        return Err(host_revoked());
    }
    if row.try_get::<i64, _>("expires_at")? <= state.clock.now() {
        return Err(request_expired());
    }
    check_separation(&s.user_id, &sep.issuer, row.try_get("threshold")?, sep.allow_self)?;
    let (rcr, auth) = state
        .rp
        .webauthn
        .start_discoverable_authentication()
        .map_err(|e| ApiError::internal(format_args!("start authentication: {e}")))?;
    let options = state.rp.patch_options(&rcr, false)?;
    let ceremony = ApproveCeremony { request_id: id, user_id: s.user_id.clone(), auth };
    let cid = wa::put_state(&state, Kind::Approve, Some(&s.user_id), &ceremony).await?;
    Ok(Json(serde_json::json!({ "ceremony_id": cid, "options": options })))
}

#[derive(Deserialize)]
pub(crate) struct ApproveFinish {
    pub(crate) ceremony_id: String,
    pub(crate) credential: PublicKeyCredential,
    pub(crate) sealed_response: SealedResponse,
}

pub(crate) async fn approve_finish(
    State(state): State<AppState>,
    s: Session,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ApproveFinish>,
) -> Result<Json<serde_json::Value>, ApiError> {
    require_approver(&s)?;
    let (_, ceremony): (_, ApproveCeremony) =
        wa::take_state(&state, Kind::Approve, &body.ceremony_id).await?;
    if ceremony.request_id != id || ceremony.user_id != s.user_id {
        return Err(ApiError::bad_request(
            ErrorCode::ChallengeInvalid,
            "this challenge was issued for another request or user",
        ));
    }
    let verified = crate::auth::assertion::verify_assertion(&state, ceremony.auth, &body.credential).await?;
    let (user_id, cred_id) = (verified.user_id, verified.credential_id);
    if user_id != s.user_id {
        return Err(ApiError::forbidden(ErrorCode::WrongUser, "the passkey belongs to another user"));
    }
    // Every read and the transaction on one connection.
    let mut c = conn(&state).await?;
    // The request, the passkey's approver enrolment and whether that device holds an envelope
    // of the requested version: one statement.
    let req = sqlx::query("SELECT r.status, r.entry_id, r.version, r.threshold, r.expires_at, h.issued_by, h.revoked_at, \
           COALESCE(h.self_approval, e.allow_self_approval) AS allow_self_approval, en.approver_key, \
           (SELECT COUNT(*) FROM broker_entry_devices d WHERE d.entry_id = r.entry_id AND d.version = r.version \
             AND d.approver_key = en.approver_key) AS holds \
         FROM broker_requests r JOIN broker_hosts h ON h.cert_id = r.cert_id \
         JOIN broker_entries e ON e.entry_id = r.entry_id AND e.version = r.version \
         LEFT JOIN broker_enrolments en ON en.credential_id = $2 AND en.user_id = $3 AND en.status = 'approved' \
         WHERE r.request_id = $1")
        .bind(&id).bind(&cred_id).bind(&user_id).fetch_optional(&mut *c).await?
        .ok_or_else(|| ApiError::not_found(ErrorCode::NoSuchRequest, "no such request"))?;
    let key: String = req.try_get::<Option<String>, _>("approver_key")?.ok_or_else(|| {
        ApiError::forbidden(ErrorCode::NotAnApprover, "this passkey is not an enrolled approver device")
    })?;
    if b64(&body.sealed_response.approver.to_array()) != key
        || body.sealed_response.request_id.to_text() != id
    {
        return Err(ApiError::bad_request(
            ErrorCode::ResponseMismatch,
            "the sealed response names another request or device",
        ));
    }
    let st: String = req.try_get("status")?;
    if st != status::PENDING {
        return Err(ApiError::conflict(ErrorCode::RequestNotPending, format!("the request is {st}")));
    }
    if req.try_get::<Option<i64>, _>("revoked_at")?.is_some() {
        return Err(host_revoked());
    }
    // Past its deadline (the sweeper may not have run yet): nothing is recorded or released.
    if req.try_get::<i64, _>("expires_at")? <= state.clock.now() {
        return Err(request_expired());
    }
    let threshold: i64 = req.try_get("threshold")?;
    let issuer: String = req.try_get("issued_by")?;
    let allow_self: i64 = req.try_get("allow_self_approval")?;
    check_separation(&user_id, &issuer, threshold, allow_self != 0)?;
    let holds: i64 = req.try_get("holds")?;
    if holds == 0 {
        return Err(ApiError::forbidden(
            ErrorCode::NotAnApprover,
            "this device holds no envelope of the requested secret",
        ));
    }
    let now = state.clock.now();
    // The approval, its response, the state change and the audit row: one transaction.
    let mut tx = sqlx::Connection::begin(&mut *c).await?;
    let r = sqlx::query("INSERT INTO broker_approvals (request_id, user_id, credential_id, approver_key, decision, at) VALUES ($1, $2, $3, $4, 'approve', $5) ON CONFLICT (request_id, user_id) DO NOTHING")
        .bind(&id).bind(&user_id).bind(&cred_id).bind(&key).bind(now).execute(&mut *tx).await?;
    if r.rows_affected() == 0 {
        return Err(ApiError::conflict(
            ErrorCode::AlreadyDecided,
            "you have already decided on this request",
        ));
    }
    sqlx::query("INSERT INTO broker_responses (request_id, user_id, sealed) VALUES ($1, $2, $3)")
        .bind(&id)
        .bind(&user_id)
        .bind(b64(&body.sealed_response.to_bytes()))
        .execute(&mut *tx)
        .await?;
    // Count this person and decide, in one statement under the request row's lock (concurrent
    // approvals queue here, each seeing the others' counts). Separation of duties: the person
    // who issued the host does not count alone unless its certificate allows self-approval
    // (`check_separation` already refused a lone issuer; this keeps the count honest on its own).
    let counted = sqlx::query("UPDATE broker_requests SET approvals = approvals + 1, non_issuer_approvals = non_issuer_approvals + $2, \
           status = CASE WHEN approvals + 1 >= threshold AND ($3 = 1 OR non_issuer_approvals + $2 > 0) THEN $4 ELSE status END, \
           decided_at = CASE WHEN approvals + 1 >= threshold AND ($3 = 1 OR non_issuer_approvals + $2 > 0) THEN $5 ELSE decided_at END \
         WHERE request_id = $1 AND status = $6 RETURNING approvals, status")
        .bind(&id)
        .bind(i64::from(user_id != issuer))
        .bind(i64::from(allow_self != 0))
        .bind(status::APPROVED)
        .bind(now)
        .bind(status::PENDING)
        .fetch_optional(&mut *tx)
        .await?
        // Denied, expired or ended since it was read: record nothing.
        .ok_or_else(|| ApiError::conflict(ErrorCode::RequestNotPending, "the request was decided meanwhile"))?;
    let approvals: i64 = counted.try_get("approvals")?;
    let enough = counted.try_get::<String, _>("status")? == status::APPROVED;
    log_in(&mut tx, &state, Some(&user_id), "broker.request.approval", Some(&id), serde_json::json!({ "credential": cred_id, "approvals": approvals, "threshold": threshold, "released": enough })).await?;
    tx.commit().await?;
    drop(c);
    announce(&state, Note::Request(id.clone())).await;
    Ok(Json(
        serde_json::json!({ "status": if enough { status::APPROVED } else { status::PENDING }, "approvals": approvals, "threshold": threshold }),
    ))
}

pub(crate) async fn deny(
    State(state): State<AppState>,
    s: Session,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    require_approver(&s)?;
    let mut c = conn(&state).await?;
    let view = request_view_on(&mut c, &s, &id).await?;
    if view.status != status::PENDING {
        return Err(ApiError::conflict(
            ErrorCode::RequestNotPending,
            format!("the request is {}", view.status),
        ));
    }
    let now = state.clock.now();
    let mut tx = sqlx::Connection::begin(&mut *c).await?;
    let r = sqlx::query("INSERT INTO broker_approvals (request_id, user_id, credential_id, approver_key, decision, at) VALUES ($1, $2, '', '', 'deny', $3) ON CONFLICT (request_id, user_id) DO NOTHING")
        .bind(&id).bind(&s.user_id).bind(now).execute(&mut *tx).await?;
    if r.rows_affected() == 0 {
        return Err(ApiError::conflict(
            ErrorCode::AlreadyDecided,
            "you have already decided on this request",
        ));
    }
    let denied = sqlx::query("UPDATE broker_requests SET status = $1, decided_at = $2, decided_by = $3 WHERE request_id = $4 AND status = $5")
        .bind(status::DENIED).bind(now).bind(&s.user_name).bind(&id).bind(status::PENDING).execute(&mut *tx).await?;
    if denied.rows_affected() != 1 {
        // An approval released it (or it expired) since the read above: nothing is recorded.
        return Err(ApiError::conflict(ErrorCode::RequestNotPending, "the request was decided meanwhile"));
    }
    sqlx::query("DELETE FROM broker_responses WHERE request_id = $1").bind(&id).execute(&mut *tx).await?;
    log_in(&mut tx, &state, Some(&s.user_id), "broker.request.denied", Some(&id), serde_json::json!({}))
        .await?;
    tx.commit().await?;
    drop(c);
    announce(&state, Note::Request(id)).await;
    Ok(Json(serde_json::json!({ "status": status::DENIED })))
}
