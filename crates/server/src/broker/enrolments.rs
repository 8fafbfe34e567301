//! Approver enrolments: a passkey's approver key, approved by the admin's org signature.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use blindvault_api::ErrorCode;
use blindvault_core::identity::SignedEnrolment;
use blindvault_core::ids::RequestId;
use blindvault_core::keys::ApproverPublicKey;
use blindvault_core::revocation::SignedRevocations;
use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::common::*;
use super::org::{refuse_synced, synced_refused};
use super::revocations::revocations_on;
use crate::auth::session::{AdminSession, Session};
use crate::auth::stepup::{self, Action as StepUp};
use crate::error::ApiError;
use crate::http::extract::ApiJson;
use crate::state::AppState;

#[derive(Serialize)]
pub(crate) struct EnrolmentView {
    pub(crate) id: String,
    pub(crate) user_id: String,
    pub(crate) user_name: String,
    pub(crate) credential_id: String,
    pub(crate) approver_public_key: String,
    pub(crate) fingerprint: String,
    pub(crate) status: String,
    pub(crate) signed_enrolment: Option<String>,
    pub(crate) created_at: i64,
    /// The credential's flags as its authenticator last reported them: backup-eligible (a synced
    /// passkey) and backed up. `None` once the credential is deleted.
    pub(crate) backup_eligible: Option<bool>,
    pub(crate) backup_state: Option<bool>,
}

/// `SELECT` of enrolment views, followed by a literal tail (SQL stays literal for sqlx).
macro_rules! enrolment_select {
    ($tail:literal) => {
        concat!(
            "SELECT e.id, e.user_id, u.name, e.credential_id, e.approver_key, e.status, e.signed, e.created_at, \
             c.backup_eligible, c.backup_state \
             FROM broker_enrolments e JOIN users u ON u.id = e.user_id LEFT JOIN credentials c ON c.id = e.credential_id ",
            $tail
        )
    };
}

pub(crate) fn enrolment_from(row: &sqlx::any::AnyRow) -> Result<EnrolmentView, ApiError> {
    let key: String = row.try_get("approver_key")?;
    let pk = ApproverPublicKey::from_bytes(&unb64(&key, "approver key")?).map_err(ApiError::internal)?;
    Ok(EnrolmentView {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        user_name: row.try_get("name")?,
        credential_id: row.try_get("credential_id")?,
        approver_public_key: key,
        fingerprint: pk.fingerprint().to_string(),
        status: row.try_get("status")?,
        signed_enrolment: row.try_get("signed")?,
        created_at: row.try_get("created_at")?,
        backup_eligible: row.try_get::<Option<i64>, _>("backup_eligible")?.map(|v| v != 0),
        backup_state: row.try_get::<Option<i64>, _>("backup_state")?.map(|v| v != 0),
    })
}

#[derive(Deserialize)]
pub(crate) struct ListQuery {
    pub(crate) status: Option<String>,
}

pub(crate) async fn list_enrolments(
    State(state): State<AppState>,
    _a: AdminSession,
    Query(q): Query<ListQuery>,
) -> Result<Json<Vec<EnrolmentView>>, ApiError> {
    let rows = match &q.status {
        Some(st) => {
            sqlx::query(enrolment_select!("WHERE e.status = $1 ORDER BY e.created_at"))
                .bind(st)
                .fetch_all(state.store.pool())
                .await?
        }
        None => {
            sqlx::query(enrolment_select!("WHERE e.status <> 'removed' ORDER BY e.created_at"))
                .fetch_all(state.store.pool())
                .await?
        }
    };
    Ok(Json(rows.iter().map(enrolment_from).collect::<Result<_, _>>()?))
}

pub(crate) async fn my_enrolments(
    State(state): State<AppState>,
    s: Session,
) -> Result<Json<Vec<EnrolmentView>>, ApiError> {
    let rows = sqlx::query(enrolment_select!(
        "WHERE e.user_id = $1 AND e.status <> 'removed' ORDER BY e.created_at"
    ))
    .bind(&s.user_id)
    .fetch_all(state.store.pool())
    .await?;
    Ok(Json(rows.iter().map(enrolment_from).collect::<Result<_, _>>()?))
}

#[derive(Deserialize)]
pub(crate) struct CreateEnrolment {
    pub(crate) credential_id: String,
    pub(crate) approver_public_key: ApproverPublicKey,
}

/// A device asks to become an approver: "my passkey C derives approver key K". Pending until
/// the admin compares the fingerprint and signs it with the org key.
pub(crate) async fn create_enrolment(
    State(state): State<AppState>,
    s: Session,
    ApiJson(body): ApiJson<CreateEnrolment>,
) -> Result<Response, ApiError> {
    unb64(&body.credential_id, "credential_id")?;
    let owned = sqlx::query("SELECT backup_eligible FROM credentials WHERE id = $1 AND user_id = $2")
        .bind(&body.credential_id)
        .bind(&s.user_id)
        .fetch_optional(state.store.pool())
        .await?
        .ok_or_else(|| ApiError::forbidden(ErrorCode::NotYourPasskey, "that passkey is not one of yours"))?;
    if owned.try_get::<i64, _>("backup_eligible")? != 0 && refuse_synced(&state).await? {
        return Err(synced_refused());
    }
    let key = b64(&body.approver_public_key.to_array());
    let now = state.clock.now();
    // The request for enrolment and its audit row: one transaction.
    let mut tx = state.store.pool().begin().await?;
    let existing =
        sqlx::query("SELECT id, approver_key, status FROM broker_enrolments WHERE credential_id = $1")
            .bind(&body.credential_id)
            .fetch_optional(&mut *tx)
            .await?;
    let id = match existing {
        Some(row) => {
            let id: String = row.try_get("id")?;
            let old: String = row.try_get("approver_key")?;
            let st: String = row.try_get("status")?;
            if old != key || st == "removed" {
                sqlx::query("UPDATE broker_enrolments SET approver_key = $1, status = 'pending', signed = NULL, created_at = $2, decided_at = NULL WHERE id = $3")
                    .bind(&key).bind(now).bind(&id).execute(&mut *tx).await?;
            }
            id
        }
        None => {
            let id = b64(&RequestId::generate(&mut crate::broker::common::os_rng()).to_array());
            sqlx::query("INSERT INTO broker_enrolments (id, user_id, credential_id, approver_key, status, created_at) VALUES ($1, $2, $3, $4, 'pending', $5)")
                .bind(&id).bind(&s.user_id).bind(&body.credential_id).bind(&key).bind(now)
                .execute(&mut *tx).await?;
            id
        }
    };
    log_in(&mut tx, &state, Some(&s.user_id), "broker.enrolment.requested", Some(&id), serde_json::json!({ "credential": body.credential_id, "fingerprint": body.approver_public_key.fingerprint().to_string() })).await?;
    tx.commit().await?;
    let row =
        sqlx::query(enrolment_select!("WHERE e.id = $1")).bind(&id).fetch_one(state.store.pool()).await?;
    Ok((StatusCode::CREATED, Json(enrolment_from(&row)?)).into_response())
}

#[derive(Deserialize)]
pub(crate) struct ApproveEnrolment {
    pub(crate) signed_enrolment: SignedEnrolment,
}

pub(crate) async fn approve_enrolment(
    State(state): State<AppState>,
    AdminSession(s): AdminSession,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ApproveEnrolment>,
) -> Result<Json<EnrolmentView>, ApiError> {
    let (org_key, generation) = require_org(&state).await?;
    let row = sqlx::query(
        "SELECT e.user_id, e.credential_id, e.approver_key, e.status, c.backup_eligible FROM broker_enrolments e \
         LEFT JOIN credentials c ON c.id = e.credential_id WHERE e.id = $1",
    )
    .bind(&id)
    .fetch_optional(state.store.pool())
    .await?
    .ok_or_else(|| ApiError::not_found(ErrorCode::NoSuchEnrolment, "no such enrolment"))?;
    if row.try_get::<Option<i64>, _>("backup_eligible")?.unwrap_or(0) != 0 && refuse_synced(&state).await? {
        return Err(synced_refused());
    }
    let verified = body
        .signed_enrolment
        .verify(&org_key, now_u64(&state))
        .map_err(|e| core_err(ErrorCode::BadSignature, e))?;
    let user_id: String = row.try_get("user_id")?;
    let cred: String = row.try_get("credential_id")?;
    let key: String = row.try_get("approver_key")?;
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
    if row.try_get::<String, _>("status")? == "removed" {
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
    let r = sqlx::query("UPDATE broker_enrolments SET status = 'approved', signed = $1, org_generation = $2, decided_at = $3 WHERE id = $4 AND approver_key = $5 AND status <> 'removed'")
        .bind(b64(&body.signed_enrolment.to_bytes())).bind(generation).bind(now).bind(&id).bind(&key)
        .execute(&mut *tx).await?;
    if r.rows_affected() != 1 {
        return Err(ApiError::conflict(
            ErrorCode::Conflict,
            "the enrolment changed meanwhile; list it again",
        ));
    }
    sqlx::query("UPDATE users SET role = 'approver' WHERE id = $1 AND role = 'user'")
        .bind(&user_id)
        .execute(&mut *tx)
        .await?;
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
    let row =
        sqlx::query(enrolment_select!("WHERE e.id = $1")).bind(&id).fetch_one(state.store.pool()).await?;
    Ok(Json(enrolment_from(&row)?))
}

pub(crate) fn enrolment_removed() -> ApiError {
    ApiError::conflict(
        ErrorCode::EnrolmentRemoved,
        "this device was removed: it cannot be approved again (the device enrols again, with a new request)",
    )
}

#[derive(Deserialize)]
pub(crate) struct RemoveQuery {
    #[serde(default)]
    pub(crate) dry_run: Option<String>,
}

#[derive(Serialize)]
pub(crate) struct QuorumImpact {
    pub(crate) entry_id: String,
    pub(crate) threshold: i64,
    pub(crate) people_left: i64,
}

/// Entries whose latest version would have fewer distinct approving people than its threshold
/// once `removed_key` is gone.
pub(crate) async fn quorum_impact(
    state: &AppState,
    removed_key: &str,
) -> Result<Vec<QuorumImpact>, ApiError> {
    let rows = sqlx::query(
        "SELECT h.entry_id, e.threshold, \
           (SELECT COUNT(DISTINCT en.user_id) FROM broker_entry_devices d JOIN broker_enrolments en \
              ON en.approver_key = d.approver_key AND en.status = 'approved' \
            WHERE d.entry_id = h.entry_id AND d.version = h.version AND d.approver_key <> $1) AS people_left \
         FROM broker_entry_heads h JOIN broker_entries e ON e.entry_id = h.entry_id AND e.version = h.version \
         WHERE h.deleted_at IS NULL AND EXISTS (SELECT 1 FROM broker_entry_devices d2 WHERE d2.entry_id = h.entry_id \
           AND d2.version = h.version AND d2.approver_key = $1)",
    )
    .bind(removed_key)
    .fetch_all(state.store.pool())
    .await?;
    let mut out = Vec::new();
    for r in rows {
        let threshold: i64 = r.try_get("threshold")?;
        let people_left: i64 = r.try_get("people_left")?;
        if people_left < threshold {
            out.push(QuorumImpact { entry_id: r.try_get("entry_id")?, threshold, people_left });
        }
    }
    Ok(out)
}

pub(crate) async fn remove_enrolment(
    State(state): State<AppState>,
    AdminSession(s): AdminSession,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<RemoveQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let row = sqlx::query("SELECT approver_key, status FROM broker_enrolments WHERE id = $1")
        .bind(&id)
        .fetch_optional(state.store.pool())
        .await?
        .ok_or_else(|| ApiError::not_found(ErrorCode::NoSuchEnrolment, "no such enrolment"))?;
    let key: String = row.try_get("approver_key")?;
    let dry_run = match q.dry_run.as_deref() {
        None | Some("false") | Some("0") => false,
        Some("true") | Some("1") | Some("") => true,
        Some(_) => {
            return Err(ApiError::bad_request(ErrorCode::InvalidQuery, "dry_run must be true or false"));
        }
    };
    let impact = quorum_impact(&state, &key).await?;
    if !dry_run {
        // The removal and its audit row: one transaction.
        let mut tx = state.store.pool().begin().await?;
        let step_up = stepup::spend_in(&mut tx, &state, &s, &headers, StepUp::ApproverRemove, &id).await?;
        sqlx::query("UPDATE broker_enrolments SET status = 'removed', decided_at = $1 WHERE id = $2")
            .bind(state.clock.now())
            .bind(&id)
            .execute(&mut *tx)
            .await?;
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
    Ok(Json(serde_json::json!({ "removed": !dry_run, "entries_below_quorum": impact })))
}

#[derive(Serialize)]
pub(crate) struct ApproverView {
    pub(crate) user_id: String,
    pub(crate) user_name: String,
    pub(crate) credential_id: String,
    pub(crate) signed_enrolment: String,
}

/// Approved enrolments, for a writer to verify against its own copy of the org key.
pub(crate) async fn list_approvers(
    State(state): State<AppState>,
    _a: AdminSession,
) -> Result<Json<Vec<ApproverView>>, ApiError> {
    let rows = sqlx::query("SELECT e.user_id, u.name, e.credential_id, e.signed FROM broker_enrolments e JOIN users u ON u.id = e.user_id WHERE e.status = 'approved' ORDER BY u.name, e.created_at")
        .fetch_all(state.store.pool()).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let signed: Option<String> = r.try_get("signed")?;
        out.push(ApproverView {
            user_id: r.try_get("user_id")?,
            user_name: r.try_get("name")?,
            credential_id: r.try_get("credential_id")?,
            signed_enrolment: signed
                .ok_or_else(|| ApiError::internal("approved enrolment without signature"))?,
        });
    }
    Ok(Json(out))
}
