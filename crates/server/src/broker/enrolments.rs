//! Approver enrolments: a passkey's approver key, approved by the admin's org signature.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use blindvault_api::ErrorCode;
use blindvault_api::broker_calls::{ApproveEnrolment, CreateEnrolment, EnrolmentQuery, RemoveQuery};
use blindvault_core::ids::RequestId;
use blindvault_core::revocation::SignedRevocations;

use super::common::{b64, core_err, log_in, now_u64, require_org, stored, unb64};
use super::org::{refuse_synced, synced_refused};
use super::revocations::revocations_on;
use super::store;
use super::store::enrolments::EnrolmentView;
use crate::auth::session::{AdminSession, Session};
use crate::auth::stepup::{self, Action as StepUp};
use crate::error::ApiError;
use crate::http::extract::ApiJson;
use crate::state::AppState;

pub(crate) async fn list_enrolments(
    State(state): State<AppState>,
    _a: AdminSession,
    Query(q): Query<EnrolmentQuery>,
) -> Result<Json<Vec<EnrolmentView>>, ApiError> {
    Ok(Json(store::enrolments::list(&state.store, q.status.as_deref()).await?))
}

pub(crate) async fn my_enrolments(
    State(state): State<AppState>,
    s: Session,
) -> Result<Json<Vec<EnrolmentView>>, ApiError> {
    Ok(Json(store::enrolments::list_of_user(&state.store, &s.user_id).await?))
}

/// A device asks to become an approver: "my passkey C derives approver key K". Pending until
/// the admin compares the fingerprint and signs it with the org key.
pub(crate) async fn create_enrolment(
    State(state): State<AppState>,
    s: Session,
    ApiJson(body): ApiJson<CreateEnrolment>,
) -> Result<Response, ApiError> {
    unb64(&body.credential_id, "credential_id")?;
    let backup_eligible = store::enrolments::credential_backup_eligible(
        &state.store,
        &body.credential_id,
        &s.user_id,
    )
    .await?
    .ok_or_else(|| ApiError::forbidden(ErrorCode::NotYourPasskey, "that passkey is not one of yours"))?;
    if backup_eligible && refuse_synced(&state).await? {
        return Err(synced_refused());
    }
    let key = b64(&body.approver_public_key.to_array());
    let now = state.clock.now();
    // The request for enrolment and its audit row: one transaction.
    let mut tx = state.store.pool().begin().await?;
    let id = match store::enrolments::of_credential(&mut tx, &body.credential_id).await? {
        Some(row) => {
            if row.approver_key != key || row.status == "removed" {
                store::enrolments::request_again(&mut tx, &row.id, &key, now).await?;
            }
            row.id
        }
        None => {
            let id = b64(&RequestId::generate(&mut crate::broker::common::os_rng()).to_array());
            let new = store::enrolments::NewEnrolment {
                id: &id,
                user_id: &s.user_id,
                credential_id: &body.credential_id,
                approver_key: &key,
                created_at: now,
            };
            store::enrolments::insert(&mut tx, &new).await?;
            id
        }
    };
    log_in(&mut tx, &state, Some(&s.user_id), "broker.enrolment.requested", Some(&id), serde_json::json!({ "credential": body.credential_id, "fingerprint": body.approver_public_key.fingerprint().to_string() })).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(store::enrolments::view(&state.store, &id).await?)).into_response())
}

pub(crate) async fn approve_enrolment(
    State(state): State<AppState>,
    AdminSession(s): AdminSession,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ApproveEnrolment>,
) -> Result<Json<EnrolmentView>, ApiError> {
    let (org_key, generation) = require_org(&state).await?;
    let row = store::enrolments::to_approve(&state.store, &id)
        .await?
        .ok_or_else(|| ApiError::not_found(ErrorCode::NoSuchEnrolment, "no such enrolment"))?;
    if row.backup_eligible && refuse_synced(&state).await? {
        return Err(synced_refused());
    }
    let verified = body
        .signed_enrolment
        .verify(&org_key, now_u64(&state))
        .map_err(|e| core_err(ErrorCode::BadSignature, e))?;
    let (user_id, cred, key) = (row.user_id, row.credential_id, row.approver_key);
    if verified.user_id() != user_id
        || b64(verified.credential_id()) != cred
        || b64(&verified.public_key().to_array()) != key
    {
        return Err(ApiError::bad_request(
            ErrorCode::EnrolmentMismatch,
            "the signed enrolment does not match this request for enrolment",
        ));
    }
    // A removed device is not put back by its old signed enrolment (a plain session re-posting
    // it would undo the step-up-protected removal): it must enrol again, with a new request.
    if row.status == "removed" {
        return Err(enrolment_removed());
    }
    let now = state.clock.now();
    // The approval, the role and the audit row commit together, and only for the key that was
    // checked above (a re-enrolment with another key meanwhile makes this a conflict, never a
    // row approved with a key its signature does not cover).
    let mut tx = state.store.pool().begin().await?;
    // A key the org's revocation record names stays revoked, whatever the server's rows say.
    if let Some(text) = revocations_on(&mut tx).await? {
        let record = SignedRevocations::from_bytes(&unb64(&text, "revocations")?)
            .map_err(|e| ApiError::internal(format_args!("stored revocation record: {e}")))?;
        let record = record
            .verify(&org_key)
            .map_err(|e| ApiError::internal(format_args!("stored revocation record: {e}")))?;
        if record.approver_revoked(&verified.public_key()) {
            return Err(ApiError::conflict(
                ErrorCode::ApproverRevoked,
                "the org's revocation record names this device's key: it cannot be approved again (enrol a new device)",
            ));
        }
    }
    let signed = b64(&body.signed_enrolment.to_bytes());
    if !store::enrolments::approve(&mut tx, &id, &key, &user_id, &signed, generation, now).await? {
        return Err(ApiError::conflict(
            ErrorCode::Conflict,
            "the enrolment changed meanwhile; list it again",
        ));
    }
    log_in(
        &mut tx,
        &state,
        Some(&s.user_id),
        "broker.enrolment.approved",
        Some(&id),
        serde_json::json!({ "user": user_id, "credential": cred }),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(store::enrolments::view(&state.store, &id).await?))
}

pub(crate) fn enrolment_removed() -> ApiError {
    ApiError::conflict(
        ErrorCode::EnrolmentRemoved,
        "this device was removed: it cannot be approved again (the device enrols again, with a new request)",
    )
}

pub(crate) async fn remove_enrolment(
    State(state): State<AppState>,
    AdminSession(s): AdminSession,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<RemoveQuery>,
) -> Result<Json<RemoveView>, ApiError> {
    let key = store::enrolments::key_of(&state.store, &id)
        .await?
        .ok_or_else(|| ApiError::not_found(ErrorCode::NoSuchEnrolment, "no such enrolment"))?;
    let dry_run = match q.dry_run.as_deref() {
        None | Some("false") | Some("0") => false,
        Some("true") | Some("1") | Some("") => true,
        Some(_) => {
            return Err(ApiError::bad_request(ErrorCode::InvalidQuery, "dry_run must be true or false"));
        }
    };
    let impact = store::enrolments::quorum_impact(&state.store, &key).await?;
    if !dry_run {
        // The removal and its audit row: one transaction.
        let mut tx = state.store.pool().begin().await?;
        let step_up = stepup::spend_in(&mut tx, &state, &s, &headers, StepUp::ApproverRemove, &id).await?;
        store::enrolments::mark_removed(&mut tx, &id, state.clock.now()).await?;
        log_in(
            &mut tx,
            &state,
            Some(&s.user_id),
            "broker.enrolment.removed",
            Some(&id),
            serde_json::json!({ "entries_below_quorum": impact.len(), "step_up": step_up }),
        )
        .await?;
        tx.commit().await?;
    }
    Ok(Json(RemoveView { removed: !dry_run, entries_below_quorum: impact }))
}

pub(crate) use blindvault_api::broker::{ApproverView, RemoveView};

/// Approved enrolments, for a writer to verify against its own copy of the org key.
pub(crate) async fn list_approvers(
    State(state): State<AppState>,
    _a: AdminSession,
) -> Result<Json<Vec<ApproverView>>, ApiError> {
    let rows = store::enrolments::approvers(&state.store).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push(ApproverView {
            user_id: r.user_id,
            user_name: r.user_name,
            credential_id: r.credential_id,
            signed_enrolment: stored(
                r.signed.ok_or_else(|| ApiError::internal("approved enrolment without signature"))?,
            )?,
        });
    }
    Ok(Json(out))
}
