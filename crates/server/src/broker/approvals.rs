//! Approving (with a fresh assertion and the sealed response) and denying a request.

use axum::Json;
use axum::extract::{Path, State};
use blindvault_api::ErrorCode;
use blindvault_api::broker_calls::{ApprovalRecorded, ApproveFinish, RequestDenied};
use blindvault_api::ceremony::CeremonyStart;
use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::{DiscoverableAuthentication, PublicKeyCredential};

use super::common::{b64, conn, host_revoked, log_in, request_expired, require_approver};
use super::hub::Note;
use super::notify::announce;
use super::requests::{request_row_on, request_view_on};
use super::status;
use super::store;
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
) -> Result<Json<CeremonyStart>, ApiError> {
    require_approver(&s)?;
    // Only what the ceremony depends on (the device read the full view already).
    let row = request_row_on(&mut *conn(&state).await?, &s, &id).await?;
    let st = row.status;
    if st != status::PENDING {
        return Err(ApiError::conflict(ErrorCode::RequestNotPending, format!("the request is {st}")));
    }
    if row.revoked_at.is_some() {
        return Err(host_revoked());
    }
    if row.expires_at <= state.clock.now() {
        return Err(request_expired());
    }
    check_separation(&s.user_id, &row.issued_by, row.threshold, row.allow_self)?;
    let (rcr, auth) = state
        .rp
        .webauthn
        .start_discoverable_authentication()
        .map_err(|e| ApiError::internal(format_args!("start authentication: {e}")))?;
    let options = state.rp.patch_options(&rcr, false)?;
    let ceremony = ApproveCeremony { request_id: id, user_id: s.user_id.clone(), auth };
    let cid = wa::put_state(&state, Kind::Approve, Some(&s.user_id), &ceremony).await?;
    Ok(Json(CeremonyStart { ceremony_id: cid, options }))
}

pub(crate) async fn approve_finish(
    State(state): State<AppState>,
    s: Session,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ApproveFinish<PublicKeyCredential>>,
) -> Result<Json<ApprovalRecorded>, ApiError> {
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
    let req = store::approvals::context(&mut c, &id, &cred_id, &user_id)
        .await?
        .ok_or_else(|| ApiError::not_found(ErrorCode::NoSuchRequest, "no such request"))?;
    let key = req.approver_key.ok_or_else(|| {
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
    let st = req.status;
    if st != status::PENDING {
        return Err(ApiError::conflict(ErrorCode::RequestNotPending, format!("the request is {st}")));
    }
    if req.revoked_at.is_some() {
        return Err(host_revoked());
    }
    // Past its deadline (the sweeper may not have run yet): nothing is recorded or released.
    if req.expires_at <= state.clock.now() {
        return Err(request_expired());
    }
    let (threshold, issuer, allow_self) = (req.threshold, req.issued_by, req.allow_self);
    check_separation(&user_id, &issuer, threshold, allow_self)?;
    if !req.holds {
        return Err(ApiError::forbidden(
            ErrorCode::NotAnApprover,
            "this device holds no envelope of the requested secret",
        ));
    }
    let now = state.clock.now();
    // The approval, its response, the state change and the audit row: one transaction.
    let mut tx = sqlx::Connection::begin(&mut *c).await?;
    let decision = store::approvals::Decision {
        request_id: &id,
        user_id: &user_id,
        credential_id: &cred_id,
        approver_key: &key,
        decision: "approve",
        at: now,
    };
    if !store::approvals::record(&mut tx, &decision).await? {
        return Err(ApiError::conflict(
            ErrorCode::AlreadyDecided,
            "you have already decided on this request",
        ));
    }
    store::approvals::insert_response(&mut tx, &id, &user_id, &b64(&body.sealed_response.to_bytes())).await?;
    // Count this person and decide, in one statement under the request row's lock (concurrent
    // approvals queue here, each seeing the others' counts). Separation of duties: the person
    // who issued the host does not count alone unless its certificate allows self-approval
    // (`check_separation` already refused a lone issuer; this keeps the count honest on its own).
    let counted = store::approvals::count(&mut tx, &id, user_id != issuer, allow_self, now)
        .await?
        // Denied, expired or ended since it was read: record nothing.
        .ok_or_else(|| {
            ApiError::conflict(ErrorCode::RequestNotPending, "the request was decided meanwhile")
        })?;
    let (approvals, enough) = (counted.approvals, counted.released);
    log_in(&mut tx, &state, Some(&user_id), "broker.request.approval", Some(&id), serde_json::json!({ "credential": cred_id, "approvals": approvals, "threshold": threshold, "released": enough })).await?;
    tx.commit().await?;
    drop(c);
    announce(&state, Note::Request(id.clone())).await;
    let status = if enough { status::APPROVED } else { status::PENDING };
    Ok(Json(ApprovalRecorded { status: status.to_owned(), approvals, threshold }))
}

pub(crate) async fn deny(
    State(state): State<AppState>,
    s: Session,
    Path(id): Path<String>,
) -> Result<Json<RequestDenied>, ApiError> {
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
    let decision = store::approvals::Decision {
        request_id: &id,
        user_id: &s.user_id,
        credential_id: "",
        approver_key: "",
        decision: "deny",
        at: now,
    };
    if !store::approvals::record(&mut tx, &decision).await? {
        return Err(ApiError::conflict(
            ErrorCode::AlreadyDecided,
            "you have already decided on this request",
        ));
    }
    let denied = store::approvals::deny_pending(&mut tx, &id, now, &s.user_name).await?;
    if !denied {
        // An approval released it (or it expired) since the read above: nothing is recorded.
        return Err(ApiError::conflict(ErrorCode::RequestNotPending, "the request was decided meanwhile"));
    }
    store::requests::delete_responses(&mut tx, &id).await?;
    log_in(&mut tx, &state, Some(&s.user_id), "broker.request.denied", Some(&id), serde_json::json!({}))
        .await?;
    tx.commit().await?;
    drop(c);
    announce(&state, Note::Request(id)).await;
    Ok(Json(RequestDenied { status: status::DENIED.to_owned() }))
}
