//! Broker HTTP handlers. Thin: decode, check, one or two statements, audit, announce.
//!
//! Three kinds of caller: the admin (an admin session; the org key never reaches the server),
//! approvers (a session; approvals carry a fresh WebAuthn assertion) and consumers (no session:
//! a request must verify under a registered, unrevoked host certificate, and its result is
//! fetched with a poll token whose hash came with the request).

use std::collections::BTreeSet;
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use blindvault_core::entry::SealedEntry;
use blindvault_core::identity::{
    HostCertificate, SignedEnrolment, SignedHostCertificate, SignedRequest, verify_request,
};
use blindvault_core::ids::RequestId;
use blindvault_core::keys::{ApproverPublicKey, OrgPublicKey};
use blindvault_core::release::SealedResponse;
use blindvault_core::revocation::SignedRevocations;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::Row;
use webauthn_rs::prelude::{DiscoverableAuthentication, PublicKeyCredential};

use super::hub::{Note, announce};
use super::status;
use crate::AppState;
use crate::api::{ApiJson, Role};
use crate::audit::{self, Event};
use crate::error::ApiError;
use crate::session::{AdminSession, Session};
use crate::stepup::{self, Action as StepUp};
use crate::webauthn::{self as wa, Kind};

/// The consumer's request endpoint (exempt from the `Origin` check: hosts authenticate by
/// signature, and the handler reads no cookie).
pub const CONSUMER_REQUESTS_PATH: &str = "/api/broker/requests";

/// The state-changing calls of consumer hosts, exempt from the `Origin` check: a new request
/// (authenticated by its signature) and the withdrawal of one (by its poll token). Neither
/// handler reads a cookie, so a cross-site page has no ambient authority to use.
pub fn is_consumer_call(path: &str) -> bool {
    path == CONSUMER_REQUESTS_PATH
        || path
            .strip_prefix(CONSUMER_REQUESTS_PATH)
            .and_then(|rest| rest.strip_prefix('/'))
            .and_then(|rest| rest.strip_suffix("/cancel"))
            .is_some_and(|id| !id.is_empty() && !id.contains('/'))
}

/// The broker's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/broker/org", get(get_org).put(put_org))
        .route("/api/broker/org/settings", get(get_org_settings).put(put_org_settings))
        .route("/api/broker/enrolments", get(list_enrolments).post(create_enrolment))
        .route("/api/broker/enrolments/mine", get(my_enrolments))
        .route("/api/broker/enrolments/{id}/approve", post(approve_enrolment))
        .route("/api/broker/enrolments/{id}", axum::routing::delete(remove_enrolment))
        .route("/api/broker/approvers", get(list_approvers))
        .route("/api/broker/revocations", get(get_revocations).put(put_revocations))
        .route("/api/broker/hosts", get(list_hosts).post(register_host))
        .route("/api/broker/hosts/{id}/revoke", post(revoke_host))
        .route(
            "/api/broker/entries",
            get(list_entries).post(put_entry).layer(axum::extract::DefaultBodyLimit::max(4 * 1024 * 1024)),
        )
        .route("/api/broker/entries/{id}", get(get_entry).delete(delete_entry))
        .route("/api/broker/inbox", get(inbox))
        .route("/api/broker/events", get(events))
        .route(CONSUMER_REQUESTS_PATH, post(create_request))
        .route("/api/broker/requests/{id}", get(get_request))
        .route("/api/broker/requests/{id}/approve/start", post(approve_start))
        .route("/api/broker/requests/{id}/approve/finish", post(approve_finish))
        .route("/api/broker/requests/{id}/deny", post(deny))
        .route("/api/broker/requests/{id}/result", get(result))
        .route("/api/broker/requests/{id}/cancel", post(cancel))
}

// ---------------------------------------------------------------------------------------------
// helpers

fn b64(bytes: &[u8]) -> String {
    blindvault_core::encoding::b64::encode(bytes)
}

fn unb64(s: &str, what: &'static str) -> Result<Vec<u8>, ApiError> {
    blindvault_core::encoding::b64::decode(s)
        .map_err(|_| ApiError::bad_request("invalid_encoding", format!("{what} is not base64url")))
}

fn core_err(code: &'static str, e: blindvault_core::Error) -> ApiError {
    // Core errors never carry secret material; they name the failed check.
    ApiError::bad_request(code, e.to_string())
}

fn require_approver(s: &Session) -> Result<(), ApiError> {
    if matches!(s.role, Role::Approver | Role::Admin) {
        Ok(())
    } else {
        Err(ApiError::forbidden("forbidden", "this needs the approver role"))
    }
}

/// Appends an audit row inside `tx` (the handler's own transaction: the action and its row
/// commit together).
async fn log_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    state: &AppState,
    actor: Option<&str>,
    action: &str,
    target: Option<&str>,
    detail: serde_json::Value,
) -> Result<(), ApiError> {
    audit::append_in(&state.store, tx, state.clock.now(), Event { actor, action, target, detail }).await?;
    Ok(())
}

/// One pooled connection for all of a handler's statements (a checkout per statement costs
/// more than the statement on SQLite).
async fn conn(state: &AppState) -> Result<PoolConn, ApiError> {
    Ok(state.store.pool().acquire().await?)
}

type PoolConn = sqlx::pool::PoolConnection<sqlx::Any>;

/// The org public key and its generation, if set.
async fn org(state: &AppState) -> Result<Option<(OrgPublicKey, i64)>, ApiError> {
    org_on(&mut *conn(state).await?).await
}

async fn org_on(c: &mut sqlx::AnyConnection) -> Result<Option<(OrgPublicKey, i64)>, ApiError> {
    let row = sqlx::query("SELECT public_key, generation FROM broker_org WHERE id = 1")
        .fetch_optional(&mut *c)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let text: String = row.try_get("public_key")?;
    let key = OrgPublicKey::from_bytes(&unb64(&text, "org key")?).map_err(ApiError::internal)?;
    Ok(Some((key, row.try_get("generation")?)))
}

async fn require_org(state: &AppState) -> Result<(OrgPublicKey, i64), ApiError> {
    require_org_on(&mut *conn(state).await?).await
}

async fn require_org_on(c: &mut sqlx::AnyConnection) -> Result<(OrgPublicKey, i64), ApiError> {
    org_on(c).await?.ok_or_else(org_not_set)
}

fn org_not_set() -> ApiError {
    ApiError::conflict("org_not_set", "the admin has not set the org public key yet (blindvault org push)")
}

fn now_u64(state: &AppState) -> u64 {
    u64::try_from(state.clock.now()).unwrap_or(0)
}

// ---------------------------------------------------------------------------------------------
// org

#[derive(Serialize)]
struct OrgView {
    org_public_key: Option<String>,
    fingerprint: Option<String>,
    generation: i64,
}

async fn get_org(State(state): State<AppState>, _s: Session) -> Result<Json<OrgView>, ApiError> {
    Ok(Json(match org(&state).await? {
        Some((k, g)) => OrgView {
            org_public_key: Some(b64(&k.to_bytes())),
            fingerprint: Some(k.fingerprint().to_string()),
            generation: g,
        },
        None => OrgView { org_public_key: None, fingerprint: None, generation: 0 },
    }))
}

#[derive(Deserialize)]
struct PutOrg {
    org_public_key: OrgPublicKey,
    #[serde(default)]
    replace: bool,
}

async fn put_org(
    State(state): State<AppState>,
    AdminSession(s): AdminSession,
    headers: HeaderMap,
    ApiJson(body): ApiJson<PutOrg>,
) -> Result<Json<OrgView>, ApiError> {
    let now = state.clock.now();
    let key = b64(&body.org_public_key.to_bytes());
    let fp = body.org_public_key.fingerprint().to_string();
    let current = org(&state).await?;
    let generation = match current {
        Some((k, g)) if k == body.org_public_key => g,
        Some((_, g)) => {
            if !body.replace {
                return Err(ApiError::conflict(
                    "org_already_set",
                    "an org key is already set; replacing it needs replace=true and re-enrols every approver",
                ));
            }
            // The new key, the reset of every enrolment and the audit row: one transaction; the
            // generation it replaces is part of the condition, so two replacements at once do
            // not both count.
            let mut tx = state.store.pool().begin().await?;
            // Replacing the org key is bound to the new key's fingerprint.
            let step_up = stepup::spend_in(&mut tx, &state, &s, &headers, StepUp::OrgReplace, &fp).await?;
            let r = sqlx::query("UPDATE broker_org SET public_key = $1, fingerprint = $2, generation = $3, set_at = $4, set_by = $5 WHERE id = 1 AND generation = $6")
                .bind(&key).bind(&fp).bind(g + 1).bind(now).bind(&s.user_id).bind(g)
                .execute(&mut *tx).await?;
            if r.rows_affected() != 1 {
                return Err(ApiError::conflict(
                    "conflict",
                    "the org key changed meanwhile; reload and try again",
                ));
            }
            // Enrolments signed by the old key no longer vouch for anything; nor does its
            // revocation record.
            sqlx::query(
                "UPDATE broker_enrolments SET status = 'pending', signed = NULL WHERE status = 'approved'",
            )
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM broker_revocations").execute(&mut *tx).await?;
            log_in(
                &mut tx,
                &state,
                Some(&s.user_id),
                "broker.org.replaced",
                None,
                serde_json::json!({ "fingerprint": fp, "generation": g + 1, "step_up": step_up }),
            )
            .await?;
            tx.commit().await?;
            g + 1
        }
        None => {
            // The first key and its audit row: one transaction.
            let mut tx = state.store.pool().begin().await?;
            sqlx::query("INSERT INTO broker_org (id, public_key, fingerprint, generation, set_at, set_by) VALUES (1, $1, $2, 1, $3, $4)")
                .bind(&key).bind(&fp).bind(now).bind(&s.user_id)
                .execute(&mut *tx).await?;
            log_in(
                &mut tx,
                &state,
                Some(&s.user_id),
                "broker.org.set",
                None,
                serde_json::json!({ "fingerprint": fp }),
            )
            .await?;
            tx.commit().await?;
            1
        }
    };
    Ok(Json(OrgView { org_public_key: Some(key), fingerprint: Some(fp), generation }))
}

/// The settings key of "refuse backup-eligible (synced) passkeys as approver devices".
const REFUSE_SYNCED: &str = "broker.refuse_synced_approvers";

#[derive(Serialize, Deserialize)]
struct OrgSettings {
    /// Refuse enrolments (requests and approvals) from backup-eligible credentials: synced
    /// passkeys, whose private key and PRF secret follow the person's cloud account.
    refuse_synced_approvers: bool,
}

async fn refuse_synced(state: &AppState) -> Result<bool, ApiError> {
    Ok(state.store.setting(REFUSE_SYNCED).await?.as_deref() == Some("1"))
}

async fn get_org_settings(
    State(state): State<AppState>,
    _a: AdminSession,
) -> Result<Json<OrgSettings>, ApiError> {
    Ok(Json(OrgSettings { refuse_synced_approvers: refuse_synced(&state).await? }))
}

async fn put_org_settings(
    State(state): State<AppState>,
    AdminSession(s): AdminSession,
    ApiJson(body): ApiJson<OrgSettings>,
) -> Result<Json<OrgSettings>, ApiError> {
    let mut tx = state.store.pool().begin().await?;
    sqlx::query(
        "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .bind(REFUSE_SYNCED)
    .bind(if body.refuse_synced_approvers { "1" } else { "0" })
    .execute(&mut *tx)
    .await?;
    log_in(
        &mut tx,
        &state,
        Some(&s.user_id),
        "broker.org.settings",
        None,
        serde_json::json!({ "refuse_synced_approvers": body.refuse_synced_approvers }),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(body))
}

fn synced_refused() -> ApiError {
    ApiError::forbidden(
        "synced_passkey_refused",
        "this organisation accepts approver devices only on passkeys that cannot be synced or backed up \
         (a security key, or a device-bound passkey); this passkey is backup-eligible",
    )
}

// ---------------------------------------------------------------------------------------------
// enrolments

#[derive(Serialize)]
struct EnrolmentView {
    id: String,
    user_id: String,
    user_name: String,
    credential_id: String,
    approver_public_key: String,
    fingerprint: String,
    status: String,
    signed_enrolment: Option<String>,
    created_at: i64,
    /// The credential's flags as its authenticator last reported them: backup-eligible (a synced
    /// passkey) and backed up. `None` once the credential is deleted.
    backup_eligible: Option<bool>,
    backup_state: Option<bool>,
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

fn enrolment_from(row: &sqlx::any::AnyRow) -> Result<EnrolmentView, ApiError> {
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
struct ListQuery {
    status: Option<String>,
}

async fn list_enrolments(
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

async fn my_enrolments(
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
struct CreateEnrolment {
    credential_id: String,
    approver_public_key: ApproverPublicKey,
}

/// A device asks to become an approver: "my passkey C derives approver key K". Pending until
/// the admin compares the fingerprint and signs it with the org key.
async fn create_enrolment(
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
        .ok_or_else(|| ApiError::forbidden("not_your_passkey", "that passkey is not one of yours"))?;
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
            let id = b64(&RequestId::generate(&mut crate::broker::api::os_rng()).to_array());
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
struct ApproveEnrolment {
    signed_enrolment: SignedEnrolment,
}

async fn approve_enrolment(
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
    .ok_or_else(|| ApiError::not_found("no_such_enrolment", "no such enrolment"))?;
    if row.try_get::<Option<i64>, _>("backup_eligible")?.unwrap_or(0) != 0 && refuse_synced(&state).await? {
        return Err(synced_refused());
    }
    let verified =
        body.signed_enrolment.verify(&org_key, now_u64(&state)).map_err(|e| core_err("bad_signature", e))?;
    let user_id: String = row.try_get("user_id")?;
    let cred: String = row.try_get("credential_id")?;
    let key: String = row.try_get("approver_key")?;
    if verified.user_id() != user_id
        || b64(verified.credential_id()) != cred
        || b64(&verified.public_key().to_array()) != key
    {
        return Err(ApiError::bad_request(
            "enrolment_mismatch",
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
                "approver_revoked",
                "the org's revocation record names this device's key: it cannot be approved again (enrol a new device)",
            ));
        }
    }
    let r = sqlx::query("UPDATE broker_enrolments SET status = 'approved', signed = $1, org_generation = $2, decided_at = $3 WHERE id = $4 AND approver_key = $5 AND status <> 'removed'")
        .bind(b64(&body.signed_enrolment.to_bytes())).bind(generation).bind(now).bind(&id).bind(&key)
        .execute(&mut *tx).await?;
    if r.rows_affected() != 1 {
        return Err(ApiError::conflict("conflict", "the enrolment changed meanwhile; list it again"));
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

fn enrolment_removed() -> ApiError {
    ApiError::conflict(
        "enrolment_removed",
        "this device was removed: it cannot be approved again (the device enrols again, with a new request)",
    )
}

#[derive(Deserialize)]
struct RemoveQuery {
    #[serde(default)]
    dry_run: Option<String>,
}

#[derive(Serialize)]
struct QuorumImpact {
    entry_id: String,
    threshold: i64,
    people_left: i64,
}

/// Entries whose latest version would have fewer distinct approving people than its threshold
/// once `removed_key` is gone.
async fn quorum_impact(state: &AppState, removed_key: &str) -> Result<Vec<QuorumImpact>, ApiError> {
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

async fn remove_enrolment(
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
        .ok_or_else(|| ApiError::not_found("no_such_enrolment", "no such enrolment"))?;
    let key: String = row.try_get("approver_key")?;
    let dry_run = match q.dry_run.as_deref() {
        None | Some("false") | Some("0") => false,
        Some("true") | Some("1") | Some("") => true,
        Some(_) => return Err(ApiError::bad_request("invalid_query", "dry_run must be true or false")),
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
struct ApproverView {
    user_id: String,
    user_name: String,
    credential_id: String,
    signed_enrolment: String,
}

/// Approved enrolments, for a writer to verify against its own copy of the org key.
async fn list_approvers(
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

// ---------------------------------------------------------------------------------------------
// revocations

/// The stored revocation record (base64url), if any.
async fn revocations_on(c: &mut sqlx::AnyConnection) -> Result<Option<String>, ApiError> {
    Ok(sqlx::query("SELECT record FROM broker_revocations WHERE id = 1")
        .fetch_optional(&mut *c)
        .await?
        .map(|r| r.try_get("record"))
        .transpose()?)
}

/// The org's newest revocation record, for devices and admins to verify themselves.
async fn get_revocations(
    State(state): State<AppState>,
    _s: Session,
) -> Result<Json<serde_json::Value>, ApiError> {
    let record = revocations_on(&mut *conn(&state).await?).await?;
    Ok(Json(serde_json::json!({ "revocations": record })))
}

fn changed_meanwhile() -> ApiError {
    ApiError::conflict("conflict", "the revocation record changed meanwhile; fetch it and sign the next one")
}

#[derive(Deserialize)]
struct PutRevocations {
    revocations: SignedRevocations,
}

/// Stores a newer org-signed revocation record. It must verify under the org key
/// (`400 bad_signature`) and have a higher epoch than the stored one (`409
/// revocation_rollback`; the same record again is accepted) and contain the stored one — every
/// approver device and host it revokes (`409 revocation_diverged`). The server keeps it as routing
/// data: devices and consumers verify it, and refuse an older one than they have seen.
async fn put_revocations(
    State(state): State<AppState>,
    AdminSession(s): AdminSession,
    ApiJson(body): ApiJson<PutRevocations>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (org_key, _) = require_org(&state).await?;
    let record = body.revocations.verify(&org_key).map_err(|e| core_err("bad_signature", e))?;
    let epoch = i64::try_from(record.epoch)
        .map_err(|_| ApiError::bad_request("invalid_revocations", "the epoch is out of range"))?;
    let text = b64(&body.revocations.to_bytes());
    let mut tx = state.store.pool().begin().await?;
    let current = sqlx::query("SELECT epoch, record FROM broker_revocations WHERE id = 1")
        .fetch_optional(&mut *tx)
        .await?;
    if let Some(row) = &current {
        let have: i64 = row.try_get("epoch")?;
        let stored: String = row.try_get("record")?;
        if have == epoch && stored == text {
            return Ok(Json(serde_json::json!({ "epoch": epoch, "stored": false })));
        }
        if have >= epoch {
            return Err(ApiError::conflict(
                "revocation_rollback",
                format!("the stored revocation record has epoch {have}; a new one needs a higher epoch"),
            ));
        }
        // Append-only: the new record must still revoke everything the stored one does.
        let stored_record = unb64(&stored, "the stored revocation record")
            .ok()
            .and_then(|b| SignedRevocations::from_bytes(&b).ok())
            .ok_or_else(|| ApiError::internal("the stored revocation record does not parse"))?
            .record;
        if record.replaces(&stored_record).is_err() {
            return Err(ApiError::conflict(
                "revocation_diverged",
                format!(
                    "the new revocation record does not contain the stored one (epoch {have}): records are \
                     append-only, every approver device and host revoked before must still be listed"
                ),
            ));
        }
        let r = sqlx::query("UPDATE broker_revocations SET epoch = $1, record = $2, set_at = $3, set_by = $4 WHERE id = 1 AND epoch = $5")
            .bind(epoch).bind(&text).bind(state.clock.now()).bind(&s.user_id).bind(have)
            .execute(&mut *tx).await?;
        if r.rows_affected() != 1 {
            return Err(changed_meanwhile());
        }
    } else {
        // Two first uploads at once: one stores, the other is told to look again.
        let r = sqlx::query("INSERT INTO broker_revocations (id, epoch, record, set_at, set_by) VALUES (1, $1, $2, $3, $4) ON CONFLICT (id) DO NOTHING")
            .bind(epoch).bind(&text).bind(state.clock.now()).bind(&s.user_id)
            .execute(&mut *tx).await?;
        if r.rows_affected() != 1 {
            return Err(changed_meanwhile());
        }
    }
    log_in(
        &mut tx,
        &state,
        Some(&s.user_id),
        "broker.revocations.set",
        None,
        serde_json::json!({
            "epoch": epoch,
            "approvers": record.approvers.len(),
            "hosts": record.hosts.iter().map(|h| h.to_text()).collect::<Vec<_>>(),
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(serde_json::json!({ "epoch": epoch, "stored": true })))
}

// ---------------------------------------------------------------------------------------------
// hosts

#[derive(Deserialize)]
struct RegisterHost {
    certificate: SignedHostCertificate,
}

#[derive(Serialize)]
struct HostView {
    cert_id: String,
    host_name: String,
    not_after: i64,
    revoked: bool,
    issued_by: String,
    /// Whether the certificate lets its issuer approve alone (`false` for a format-1
    /// certificate, whose entries' own flag applies).
    self_approval: bool,
}

/// Separation of duties starts at registration: the certificate must name its issuer (format
/// 2), and that person must be the one registering it and the org key's holder (the user who
/// set the org key). The org key's signature is that holder's act, so an issuer of any other
/// name — a second account of theirs — would let them approve alone; and a certificate without
/// an issuer (format 1) would leave the issuer to the registering session, which is the hole
/// this closes.
async fn check_issuer(state: &AppState, s: &Session, cert: &HostCertificate) -> Result<(), ApiError> {
    let issuer = cert.issuer.as_deref().ok_or_else(|| {
        ApiError::bad_request(
            "certificate_names_no_issuer",
            "the certificate names no issuer (format 1); issue it again with this version: blindvault host issue",
        )
    })?;
    if issuer != s.user_id {
        return Err(ApiError::forbidden(
            "certificate_issuer_mismatch",
            "the certificate names another person as its issuer; its issuer registers it",
        ));
    }
    let holder: Option<String> = sqlx::query("SELECT set_by FROM broker_org WHERE id = 1")
        .fetch_optional(state.store.pool())
        .await?
        .map(|r| r.try_get("set_by"))
        .transpose()?;
    if holder.as_deref() != Some(issuer) {
        return Err(ApiError::forbidden(
            "not_org_key_holder",
            "only the person who holds the org key (who set it on this server) issues host certificates",
        ));
    }
    Ok(())
}

async fn register_host(
    State(state): State<AppState>,
    AdminSession(s): AdminSession,
    ApiJson(body): ApiJson<RegisterHost>,
) -> Result<Response, ApiError> {
    let (org_key, _) = require_org(&state).await?;
    let cert =
        body.certificate.verify(&org_key, now_u64(&state)).map_err(|e| core_err("bad_certificate", e))?;
    check_issuer(&state, &s, cert).await?;
    let cert_id = cert.cert_id.to_text();
    let not_after = i64::try_from(cert.not_after).unwrap_or(i64::MAX);
    // The host and its audit row: one transaction.
    let mut tx = state.store.pool().begin().await?;
    let r = sqlx::query("INSERT INTO broker_hosts (cert_id, host_name, host_key, certificate, not_after, issued_by, created_at, self_approval) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (cert_id) DO NOTHING")
        .bind(&cert_id).bind(&cert.host_name).bind(b64(&cert.host_key.to_array())).bind(b64(&body.certificate.to_bytes()))
        .bind(not_after).bind(&s.user_id).bind(state.clock.now()).bind(i64::from(cert.self_approval))
        .execute(&mut *tx).await?;
    if r.rows_affected() == 0 {
        return Err(ApiError::conflict("host_exists", "this certificate is already registered"));
    }
    log_in(&mut tx, &state, Some(&s.user_id), "broker.host.issued", Some(&cert_id), serde_json::json!({ "host": cert.host_name, "entries": cert.allowed_entries.len(), "not_after": not_after, "self_approval": cert.self_approval })).await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(HostView {
            cert_id,
            host_name: cert.host_name.clone(),
            not_after,
            revoked: false,
            issued_by: s.user_id,
            self_approval: cert.self_approval,
        }),
    )
        .into_response())
}

async fn list_hosts(
    State(state): State<AppState>,
    _a: AdminSession,
) -> Result<Json<Vec<HostView>>, ApiError> {
    let rows = sqlx::query(
        "SELECT cert_id, host_name, not_after, revoked_at, issued_by, self_approval FROM broker_hosts ORDER BY created_at",
    )
    .fetch_all(state.store.pool())
    .await?;
    rows.iter()
        .map(|r| {
            let revoked: Option<i64> = r.try_get("revoked_at")?;
            Ok(HostView {
                cert_id: r.try_get("cert_id")?,
                host_name: r.try_get("host_name")?,
                not_after: r.try_get("not_after")?,
                revoked: revoked.is_some(),
                issued_by: r.try_get("issued_by")?,
                self_approval: r.try_get::<Option<i64>, _>("self_approval")?.unwrap_or(0) != 0,
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()
        .map(Json)
}

async fn revoke_host(
    State(state): State<AppState>,
    AdminSession(s): AdminSession,
    headers: HeaderMap,
    Path(cert_id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let now = state.clock.now();
    // The revocation, the end of its open requests and the audit row: one transaction.
    let mut tx = state.store.pool().begin().await?;
    let r = sqlx::query("UPDATE broker_hosts SET revoked_at = $1 WHERE cert_id = $2 AND revoked_at IS NULL")
        .bind(now)
        .bind(&cert_id)
        .execute(&mut *tx)
        .await?;
    if r.rows_affected() == 0 {
        return Err(ApiError::not_found("no_such_host", "no such unrevoked host"));
    }
    let step_up = stepup::spend_in(&mut tx, &state, &s, &headers, StepUp::HostRevoke, &cert_id).await?;
    // Its open requests end now.
    let ended = sqlx::query("UPDATE broker_requests SET status = $1, decided_at = $2 WHERE cert_id = $3 AND status IN ($4, $5) RETURNING request_id")
        .bind(status::DENIED).bind(now).bind(&cert_id).bind(status::PENDING).bind(status::APPROVED)
        .fetch_all(&mut *tx).await?;
    let ended: Vec<String> = ended.iter().map(|r| r.try_get("request_id")).collect::<Result<_, _>>()?;
    for id in &ended {
        sqlx::query("DELETE FROM broker_responses WHERE request_id = $1").bind(id).execute(&mut *tx).await?;
    }
    log_in(
        &mut tx,
        &state,
        Some(&s.user_id),
        "broker.host.revoked",
        Some(&cert_id),
        serde_json::json!({ "requests_ended": ended.len(), "step_up": step_up }),
    )
    .await?;
    tx.commit().await?;
    for id in &ended {
        announce(&state, Note::Request(id.clone())).await;
    }
    Ok(Json(serde_json::json!({ "revoked": true, "requests_ended": ended.len() })))
}

// ---------------------------------------------------------------------------------------------
// entries

#[derive(Deserialize)]
struct PutEntry {
    sealed_entry: SealedEntry,
    #[serde(default)]
    allow_self_approval: bool,
}

#[derive(Serialize)]
struct EntryView {
    entry_id: String,
    version: i64,
    threshold: i64,
    people: i64,
    sealed_entry: String,
}

/// Stores a new entry (version 1) or a new version (latest + 1). Every envelope must be sealed
/// to an approved enrolment's key (the writer checked the org signatures; this is routing).
async fn put_entry(
    State(state): State<AppState>,
    AdminSession(s): AdminSession,
    ApiJson(body): ApiJson<PutEntry>,
) -> Result<Response, ApiError> {
    let e = &body.sealed_entry;
    // The writer signs with the org key; an entry without that signature would be refused by
    // every approver device and consumer, so refuse it here with a clear message (a check for
    // the writer's sake: the devices do not trust this one).
    let (org_key, _) = require_org(&state).await?;
    if e.verify_writer(&org_key).is_err() {
        return Err(ApiError::bad_request(
            "entry_not_signed",
            "the entry is not signed by the org key this server holds (sign it with the org key: blindvault secret put)",
        ));
    }
    let entry_id = e.entry_id.to_text();
    let version = i64::from(e.version);
    let head: Option<(i64, Option<i64>)> =
        sqlx::query("SELECT version, deleted_at FROM broker_entry_heads WHERE entry_id = $1")
            .bind(&entry_id)
            .fetch_optional(state.store.pool())
            .await?
            .map(|r| Ok::<_, sqlx::Error>((r.try_get("version")?, r.try_get("deleted_at")?)))
            .transpose()?;
    let expected = match head {
        None => 1,
        Some((_, Some(_))) => {
            return Err(ApiError::conflict("entry_deleted", "this entry was deleted; write a new one"));
        }
        Some((v, None)) => v + 1,
    };
    if version != expected {
        return Err(ApiError::conflict(
            "version_conflict",
            format!("expected version {expected}, got {version}"),
        ));
    }
    let mut people = BTreeSet::new();
    for env in &e.envelopes {
        let key = b64(&env.approver.to_array());
        let row = sqlx::query(
            "SELECT user_id FROM broker_enrolments WHERE approver_key = $1 AND status = 'approved'",
        )
        .bind(&key)
        .fetch_optional(state.store.pool())
        .await?
        .ok_or_else(|| {
            ApiError::bad_request(
                "unknown_approver",
                format!("envelope for an approver key that is not enrolled ({})", env.approver.fingerprint()),
            )
        })?;
        people.insert(row.try_get::<String, _>("user_id")?);
    }
    if people.len() != usize::from(e.policy.n()) {
        return Err(ApiError::bad_request(
            "policy_mismatch",
            format!("the policy names {} people but the envelopes belong to {}", e.policy.n(), people.len()),
        ));
    }
    let now = state.clock.now();
    let mut tx = state.store.pool().begin().await?;
    sqlx::query("INSERT INTO broker_entries (entry_id, version, threshold, people, sealed, allow_self_approval, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(&entry_id).bind(version).bind(i64::from(e.policy.threshold())).bind(people.len() as i64)
        .bind(b64(&e.to_bytes())).bind(i64::from(body.allow_self_approval)).bind(&s.user_id).bind(now)
        .execute(&mut *tx).await?;
    for env in &e.envelopes {
        sqlx::query("INSERT INTO broker_entry_devices (entry_id, version, approver_key) VALUES ($1, $2, $3)")
            .bind(&entry_id)
            .bind(version)
            .bind(b64(&env.approver.to_array()))
            .execute(&mut *tx)
            .await?;
    }
    let r = if version == 1 {
        sqlx::query("INSERT INTO broker_entry_heads (entry_id, version) VALUES ($1, 1) ON CONFLICT (entry_id) DO NOTHING").bind(&entry_id).execute(&mut *tx).await?
    } else {
        sqlx::query("UPDATE broker_entry_heads SET version = $1 WHERE entry_id = $2 AND version = $3 AND deleted_at IS NULL").bind(version).bind(&entry_id).bind(version - 1).execute(&mut *tx).await?
    };
    if r.rows_affected() != 1 {
        return Err(ApiError::conflict("version_conflict", "another writer stored this version first"));
    }
    let action = if version == 1 { "broker.entry.created" } else { "broker.entry.rotated" };
    log_in(
        &mut tx,
        &state,
        Some(&s.user_id),
        action,
        Some(&entry_id),
        serde_json::json!({ "version": version, "threshold": e.policy.threshold(), "people": people.len() }),
    )
    .await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(EntryView {
            entry_id,
            version,
            threshold: i64::from(e.policy.threshold()),
            people: people.len() as i64,
            sealed_entry: b64(&e.to_bytes()),
        }),
    )
        .into_response())
}

/// `SELECT` of the latest version of live entries, followed by a literal tail.
macro_rules! entry_head_select {
    ($tail:literal) => {
        concat!(
            "SELECT e.entry_id, e.version, e.threshold, e.people, e.sealed FROM broker_entry_heads h \
             JOIN broker_entries e ON e.entry_id = h.entry_id AND e.version = h.version WHERE h.deleted_at IS NULL ",
            $tail
        )
    };
}

fn entry_from(r: &sqlx::any::AnyRow) -> Result<EntryView, ApiError> {
    Ok(EntryView {
        entry_id: r.try_get("entry_id")?,
        version: r.try_get("version")?,
        threshold: r.try_get("threshold")?,
        people: r.try_get("people")?,
        sealed_entry: r.try_get("sealed")?,
    })
}

async fn list_entries(
    State(state): State<AppState>,
    _a: AdminSession,
) -> Result<Json<Vec<EntryView>>, ApiError> {
    let rows = sqlx::query(entry_head_select!("ORDER BY e.created_at")).fetch_all(state.store.pool()).await?;
    Ok(Json(rows.iter().map(entry_from).collect::<Result<_, _>>()?))
}

async fn get_entry(
    State(state): State<AppState>,
    _a: AdminSession,
    Path(entry_id): Path<String>,
) -> Result<Json<EntryView>, ApiError> {
    let row = sqlx::query(entry_head_select!("AND h.entry_id = $1"))
        .bind(&entry_id)
        .fetch_optional(state.store.pool())
        .await?
        .ok_or_else(|| ApiError::not_found("no_such_entry", "no such entry"))?;
    Ok(Json(entry_from(&row)?))
}

/// Deletes every version's ciphertext; open requests for it end.
async fn delete_entry(
    State(state): State<AppState>,
    AdminSession(s): AdminSession,
    headers: HeaderMap,
    Path(entry_id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let now = state.clock.now();
    let mut tx = state.store.pool().begin().await?;
    let r = sqlx::query(
        "UPDATE broker_entry_heads SET deleted_at = $1 WHERE entry_id = $2 AND deleted_at IS NULL",
    )
    .bind(now)
    .bind(&entry_id)
    .execute(&mut *tx)
    .await?;
    if r.rows_affected() == 0 {
        return Err(ApiError::not_found("no_such_entry", "no such entry"));
    }
    let step_up = stepup::spend_in(&mut tx, &state, &s, &headers, StepUp::EntryDelete, &entry_id).await?;
    sqlx::query("DELETE FROM broker_entries WHERE entry_id = $1").bind(&entry_id).execute(&mut *tx).await?;
    sqlx::query("DELETE FROM broker_entry_devices WHERE entry_id = $1")
        .bind(&entry_id)
        .execute(&mut *tx)
        .await?;
    let ended = sqlx::query("UPDATE broker_requests SET status = $1, decided_at = $2 WHERE entry_id = $3 AND status IN ($4, $5) RETURNING request_id")
        .bind(status::EXPIRED).bind(now).bind(&entry_id).bind(status::PENDING).bind(status::APPROVED)
        .fetch_all(&mut *tx).await?;
    sqlx::query("DELETE FROM broker_responses WHERE request_id IN (SELECT request_id FROM broker_requests WHERE entry_id = $1)").bind(&entry_id).execute(&mut *tx).await?;
    log_in(
        &mut tx,
        &state,
        Some(&s.user_id),
        "broker.entry.deleted",
        Some(&entry_id),
        serde_json::json!({ "requests_ended": ended.len(), "step_up": step_up }),
    )
    .await?;
    tx.commit().await?;
    for r in &ended {
        announce(&state, Note::Request(r.try_get("request_id")?)).await;
    }
    Ok(Json(serde_json::json!({ "deleted": true })))
}

// ---------------------------------------------------------------------------------------------
// requests: consumer side

/// A fresh random id (16 bytes, base64url: 22 characters).
pub(crate) fn new_id() -> String {
    b64(&RequestId::generate(&mut os_rng()).to_array())
}

/// The OS CSPRNG for ids the server makes.
pub(crate) use blindvault_core::rng::os_rng;

#[derive(Deserialize)]
struct CreateRequest {
    signed_request: SignedRequest,
    /// Lowercase hex SHA-256 of the consumer's poll token. The signed request carries it (format
    /// 2); when sent here too it must be the same.
    #[serde(default)]
    poll_token_hash: Option<String>,
}

/// A request's purpose as the audit log keeps it (the host's signed claim of what will run).
fn purpose_json(p: &blindvault_core::identity::Purpose) -> serde_json::Value {
    use blindvault_core::identity::Purpose;
    match p {
        Purpose::Run { command, env, lease_secs } => {
            serde_json::json!({ "kind": "run", "command": command, "env": env, "lease_secs": lease_secs })
        }
        Purpose::Inject { template_sha256, out } => {
            serde_json::json!({ "kind": "inject", "template_sha256": hex::encode(template_sha256), "out": out })
        }
    }
}

#[derive(Serialize)]
struct Created {
    request_id: String,
    status: &'static str,
    threshold: i64,
    approvers: Vec<String>,
    expires_at: u64,
}

async fn create_request(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CreateRequest>,
) -> Result<Response, ApiError> {
    // The poll token's hash is the one the host signed: a party that sees the request first
    // cannot register it with a token of its own and spend the one delivery.
    let poll_hash = hex::encode(body.signed_request.request.poll_token_hash);
    if body.poll_token_hash.as_ref().is_some_and(|h| *h != poll_hash) {
        return Err(ApiError::bad_request(
            "invalid_poll_token",
            "poll_token_hash differs from the one signed into the request",
        ));
    }
    let mut c = conn(&state).await?;
    let req = &body.signed_request.request;
    let cert_id = req.cert_id.to_text();
    let entry_id = req.entry_id.to_text();
    // The org key, the host, the entry's current version and its approvers' names: one
    // statement (a row per approver device). Nothing read here is used before the request's
    // signature chain is verified from the org key.
    // (Aliased: SQLite names a column of a parenthesised join by its qualified name.)
    let rows = sqlx::query("SELECT o.public_key AS public_key, h.certificate AS certificate, h.revoked_at AS revoked_at, \
           h.host_name AS host_name, e.version AS version, e.threshold AS threshold, u.name AS approver FROM broker_org o \
           LEFT JOIN broker_hosts h ON h.cert_id = $1 \
           LEFT JOIN (broker_entry_heads eh JOIN broker_entries e ON e.entry_id = eh.entry_id AND e.version = eh.version) \
             ON eh.entry_id = $2 AND eh.deleted_at IS NULL \
           LEFT JOIN (broker_entry_devices d JOIN broker_enrolments en ON en.approver_key = d.approver_key AND en.status = 'approved' \
             JOIN users u ON u.id = en.user_id) ON d.entry_id = e.entry_id AND d.version = e.version \
           WHERE o.id = 1")
        .bind(&cert_id).bind(&entry_id).fetch_all(&mut *c).await?;
    let row = rows.first().ok_or_else(org_not_set)?;
    let org_text: String = row.try_get("public_key")?;
    let org_key = OrgPublicKey::from_bytes(&unb64(&org_text, "org key")?).map_err(ApiError::internal)?;
    let cert_text: String = row
        .try_get::<Option<String>, _>("certificate")?
        .ok_or_else(|| ApiError::forbidden("unknown_host", "this host certificate is not registered"))?;
    let revoked: Option<i64> = row.try_get("revoked_at")?;
    if revoked.is_some() {
        return Err(ApiError::forbidden("host_revoked", "this host's certificate has been revoked"));
    }
    let cert =
        SignedHostCertificate::from_bytes(&unb64(&cert_text, "certificate")?).map_err(ApiError::internal)?;
    let verified = verify_request(&org_key, &cert, &body.signed_request, now_u64(&state))
        .map_err(|e| ApiError::forbidden("request_invalid", e.to_string()))?;
    let (Some(version), Some(threshold)) =
        (row.try_get::<Option<i64>, _>("version")?, row.try_get::<Option<i64>, _>("threshold")?)
    else {
        return Err(ApiError::not_found("no_such_entry", "no such entry"));
    };
    let request_id = verified.request_id().to_text();
    let expires_at = i64::try_from(verified.expires_at()).unwrap_or(i64::MAX);
    let mut approvers = rows
        .iter()
        .filter_map(|r| r.try_get::<Option<String>, _>("approver").transpose())
        .collect::<Result<Vec<String>, _>>()?;
    approvers.sort();
    approvers.dedup();
    let host_name: String = row.try_get::<Option<String>, _>("host_name")?.unwrap_or_default();
    // The request and its audit row: one transaction, one commit.
    let mut tx = sqlx::Connection::begin(&mut *c).await?;
    let r = sqlx::query("INSERT INTO broker_requests (request_id, entry_id, version, cert_id, signed, status, poll_hash, threshold, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (request_id) DO NOTHING")
        .bind(&request_id).bind(&entry_id).bind(version).bind(&cert_id).bind(b64(&body.signed_request.to_bytes()))
        .bind(status::PENDING).bind(&poll_hash).bind(threshold).bind(state.clock.now()).bind(expires_at)
        .execute(&mut *tx).await?;
    if r.rows_affected() == 0 {
        return Err(ApiError::conflict("duplicate_request", "a request with this id exists (replay?)"));
    }
    log_in(
        &mut tx,
        &state,
        None,
        "broker.request.created",
        Some(&request_id),
        serde_json::json!({ "host": host_name, "cert": cert_id, "entry": entry_id, "version": version,
            "purpose": purpose_json(verified.purpose()) }),
    )
    .await?;
    tx.commit().await?;
    drop(c);
    announce(&state, Note::Request(request_id.clone())).await;
    Ok((
        StatusCode::CREATED,
        Json(Created {
            request_id,
            status: status::PENDING,
            threshold,
            approvers,
            expires_at: verified.expires_at(),
        }),
    )
        .into_response())
}

async fn approver_names(
    c: &mut sqlx::AnyConnection,
    entry_id: &str,
    version: i64,
) -> Result<Vec<String>, ApiError> {
    let rows = sqlx::query("SELECT DISTINCT u.name FROM broker_entry_devices d JOIN broker_enrolments e ON e.approver_key = d.approver_key AND e.status = 'approved' \
         JOIN users u ON u.id = e.user_id WHERE d.entry_id = $1 AND d.version = $2")
        .bind(entry_id).bind(version).fetch_all(&mut *c).await?;
    let mut names = rows.iter().map(|r| r.try_get("name")).collect::<Result<Vec<String>, _>>()?;
    // Sorted here, not in SQL, so every list of names has one order (byte order) on both engines.
    names.sort();
    Ok(names)
}

#[derive(Deserialize)]
struct ResultQuery {
    #[serde(default)]
    wait: Option<String>,
}

/// The consumer's poll: waits up to `wait` seconds (at most 30) for a decision; an approved
/// request's responses are handed over once and deleted in the same transaction.
async fn result(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<ResultQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let token = headers.get("x-blindvault-poll").and_then(|v| v.to_str().ok()).unwrap_or("");
    let hash = hex::encode(Sha256::digest(token.as_bytes()));
    let not_found = || ApiError::not_found("no_such_request", "no such request");
    let wait = match q.wait.as_deref() {
        None | Some("") => 0,
        Some(w) => w
            .parse::<u64>()
            .map_err(|_| ApiError::bad_request("invalid_query", "wait must be a number of seconds"))?,
    };
    let wait = Duration::from_secs(wait.min(30));
    let deadline = tokio::time::Instant::now() + wait;
    let watch = state.hub.watch(&id);
    loop {
        // Armed before the read, so a note that arrives while reading still wakes this poll.
        let notified = watch.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let row = sqlx::query("SELECT r.status, r.poll_hash, r.threshold, r.entry_id, r.version, r.decided_by, r.expires_at, r.approvals, h.revoked_at \
             FROM broker_requests r JOIN broker_hosts h ON h.cert_id = r.cert_id WHERE r.request_id = $1")
            .bind(&id).fetch_optional(state.store.pool()).await?.ok_or_else(not_found)?;
        let poll_hash: String = row.try_get("poll_hash")?;
        if !bool::from(subtle::ConstantTimeEq::ct_eq(poll_hash.as_bytes(), hash.as_bytes())) {
            return Err(not_found());
        }
        let st: String = row.try_get("status")?;
        let revoked: Option<i64> = row.try_get("revoked_at")?;
        if revoked.is_some() && (st == status::PENDING || st == status::APPROVED) {
            end_request_of_revoked_host(&state, &id).await?;
            return Ok(Json(serde_json::json!({ "status": "denied", "by": null })).into_response());
        }
        let expires_at: i64 = row.try_get("expires_at")?;
        if (st == status::PENDING || st == status::APPROVED) && expires_at <= state.clock.now() {
            // Past its deadline: expired now, whether or not the sweeper has run yet.
            super::sweeper::sweep(&state).await?;
            return Ok(Json(serde_json::json!({ "status": "expired" })).into_response());
        }
        let threshold: i64 = row.try_get("threshold")?;
        match st.as_str() {
            status::APPROVED => {
                return deliver(&state, &id, row.try_get("entry_id")?, row.try_get("version")?).await;
            }
            status::DENIED => {
                let by: Option<String> = row.try_get("decided_by")?;
                return Ok(Json(serde_json::json!({ "status": "denied", "by": by })).into_response());
            }
            status::EXPIRED => return Ok(Json(serde_json::json!({ "status": "expired" })).into_response()),
            status::CANCELLED => {
                return Ok(Json(serde_json::json!({ "status": status::CANCELLED })).into_response());
            }
            status::DELIVERED => {
                return Err(ApiError::new(
                    StatusCode::GONE,
                    "gone",
                    "this request's response was already delivered",
                ));
            }
            _ => {}
        }
        let now = tokio::time::Instant::now();
        if now >= deadline {
            let n: i64 = row.try_get("approvals")?;
            let entry_id: String = row.try_get("entry_id")?;
            let version: i64 = row.try_get("version")?;
            return Ok(Json(serde_json::json!({ "status": "pending", "approvals": n, "threshold": threshold, "approvers": approver_names(&mut *conn(&state).await?, &entry_id, version).await? })).into_response());
        }
        // Wait for a note about this request, or the deadline; re-read at least every 2 s
        // (expiry is noticed by reading, and a note from another instance can be lost while
        // its LISTEN connection reconnects).
        let step = (deadline - now).min(Duration::from_secs(2));
        let _ = tokio::time::timeout(step, notified).await;
    }
}

/// The consumer withdraws its request (its `run` was interrupted while waiting): authenticated
/// like the poll, by the token whose SHA-256 came with the request. A pending or approved
/// request becomes `cancelled` — approvers can no longer approve or deny it (409), and the
/// responses already sealed are deleted — with an audit row in the same transaction. A request
/// that has already ended answers 409 `request_not_pending`.
async fn cancel(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let token = headers.get("x-blindvault-poll").and_then(|v| v.to_str().ok()).unwrap_or("");
    let hash = hex::encode(Sha256::digest(token.as_bytes()));
    let not_found = || ApiError::not_found("no_such_request", "no such request");
    let mut c = conn(&state).await?;
    let row = sqlx::query("SELECT poll_hash FROM broker_requests WHERE request_id = $1")
        .bind(&id)
        .fetch_optional(&mut *c)
        .await?
        .ok_or_else(not_found)?;
    let poll_hash: String = row.try_get("poll_hash")?;
    if !bool::from(subtle::ConstantTimeEq::ct_eq(poll_hash.as_bytes(), hash.as_bytes())) {
        return Err(not_found());
    }
    let now = state.clock.now();
    let mut tx = sqlx::Connection::begin(&mut *c).await?;
    let ended = sqlx::query("UPDATE broker_requests SET status = $1, decided_at = $2 WHERE request_id = $3 AND status IN ($4, $5) RETURNING status")
        .bind(status::CANCELLED).bind(now).bind(&id).bind(status::PENDING).bind(status::APPROVED)
        .fetch_optional(&mut *tx).await?;
    if ended.is_none() {
        // Read again: it may have ended since the first read.
        let st: String = sqlx::query("SELECT status FROM broker_requests WHERE request_id = $1")
            .bind(&id)
            .fetch_one(&mut *tx)
            .await?
            .try_get("status")?;
        return Err(ApiError::conflict("request_not_pending", format!("the request is already {st}")));
    }
    sqlx::query("DELETE FROM broker_responses WHERE request_id = $1").bind(&id).execute(&mut *tx).await?;
    log_in(&mut tx, &state, None, "broker.request.cancelled", Some(&id), serde_json::json!({})).await?;
    tx.commit().await?;
    drop(c);
    announce(&state, Note::Request(id)).await;
    Ok(Json(serde_json::json!({ "status": status::CANCELLED })))
}

async fn deliver(state: &AppState, id: &str, entry_id: String, version: i64) -> Result<Response, ApiError> {
    let now = state.clock.now();
    let mut tx = state.store.pool().begin().await?;
    let r = sqlx::query(
        "UPDATE broker_requests SET status = $1, delivered_at = $2 WHERE request_id = $3 AND status = $4",
    )
    .bind(status::DELIVERED)
    .bind(now)
    .bind(id)
    .bind(status::APPROVED)
    .execute(&mut *tx)
    .await?;
    if r.rows_affected() != 1 {
        return Err(ApiError::new(StatusCode::GONE, "gone", "this request's response was already delivered"));
    }
    // Handed over and deleted in one statement.
    let rows = sqlx::query("DELETE FROM broker_responses WHERE request_id = $1 RETURNING sealed")
        .bind(id)
        .fetch_all(&mut *tx)
        .await?;
    // The org-signed entry version, for every policy: the consumer decrypts its value itself
    // with the released DEK or the combined shares (a response never carries the value).
    let sealed_entry: Option<String> =
        sqlx::query("SELECT sealed FROM broker_entries WHERE entry_id = $1 AND version = $2")
            .bind(&entry_id)
            .bind(version)
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| r.try_get("sealed"))
            .transpose()?;
    let responses: Vec<String> = rows.iter().map(|r| r.try_get("sealed")).collect::<Result<_, _>>()?;
    // The org-signed enrolment of each device that approved: the consumer accepts a response
    // only from a device whose enrolment verifies under the org key in its host key file.
    let enrolments: Vec<String> = sqlx::query(
        "SELECT DISTINCT en.signed FROM broker_approvals a JOIN broker_enrolments en ON en.approver_key = a.approver_key \
         WHERE a.request_id = $1 AND a.decision = 'approve' AND en.signed IS NOT NULL",
    )
    .bind(id)
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(|r| r.try_get("signed"))
    .collect::<Result<_, _>>()?;
    // The org's revocation record, which the consumer checks against the newest it has seen.
    let revocations = revocations_on(&mut tx).await?;
    log_in(
        &mut tx,
        state,
        None,
        "broker.request.delivered",
        Some(id),
        serde_json::json!({ "responses": responses.len() }),
    )
    .await?;
    tx.commit().await?;
    announce(state, Note::Request(id.to_string())).await;
    Ok(Json(serde_json::json!({
        "status": "delivered",
        "responses": responses,
        "enrolments": enrolments,
        "sealed_entry": sealed_entry,
        "revocations": revocations,
    }))
    .into_response())
}

// ---------------------------------------------------------------------------------------------
// requests: approver side

#[derive(Serialize)]
struct RequestView {
    request_id: String,
    status: String,
    /// The host name the server registered the certificate under (unchecked until the device
    /// verifies the certificate) and when the request arrived: what a list can show before
    /// anyone unlocks.
    host_name: String,
    created_at: i64,
    /// The host's issuer (user id; for a format-2 certificate the one it names) and their name
    /// as this server knows it (none if the account is gone): the device shows the name beside
    /// the issuer it verified in the certificate.
    issuer: String,
    issuer_name: Option<String>,
    entry_id: String,
    version: i64,
    threshold: i64,
    expires_at: i64,
    signed_request: String,
    certificate: String,
    sealed_entry: Option<String>,
    decisions: Vec<serde_json::Value>,
    approvers: Vec<String>,
    my_decision: Option<String>,
}

/// A request the user can act on: one of their approved devices holds an envelope of the
/// requested version.
async fn user_is_approver_of(
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
struct Separation {
    issuer: String,
    allow_self: bool,
}

async fn request_view(state: &AppState, s: &Session, id: &str) -> Result<RequestView, ApiError> {
    request_view_on(&mut *conn(state).await?, s, id).await
}

/// The request row (with its host and entry) if the caller is one of its approvers — else
/// "no such request" — and the separation-of-duties facts (one statement).
async fn request_row_on(
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
        .ok_or_else(|| ApiError::not_found("no_such_request", "no such request"))?;
    let mine: i64 = row.try_get("mine")?;
    if mine == 0 {
        return Err(ApiError::not_found("no_such_request", "no such request"));
    }
    let allow_self: Option<i64> = row.try_get("allow_self_approval")?;
    let separation =
        Separation { issuer: row.try_get("issued_by")?, allow_self: allow_self.unwrap_or(0) != 0 };
    Ok((row, separation))
}

/// The request as an approver sees it (2 statements on one connection: the request with its
/// host, entry and the caller's approver status; decisions and approver names).
async fn request_view_on(
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

async fn get_request(
    State(state): State<AppState>,
    s: Session,
    Path(id): Path<String>,
) -> Result<Json<RequestView>, ApiError> {
    require_approver(&s)?;
    Ok(Json(request_view(&state, &s, &id).await?))
}

/// Pending requests waiting for the caller's decision.
async fn inbox(State(state): State<AppState>, s: Session) -> Result<Json<Vec<RequestView>>, ApiError> {
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

/// Server-sent events: `request` with a request id whenever a request the caller can act on
/// changes. The client re-reads `inbox` or the request.
/// Ends a request whose host is revoked (one created in the instant of the revocation, which
/// the revocation's own sweep of open requests did not see): denied, responses deleted.
async fn end_request_of_revoked_host(state: &AppState, id: &str) -> Result<(), ApiError> {
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

fn request_expired() -> ApiError {
    ApiError::conflict("request_expired", "the request has expired")
}

fn host_revoked() -> ApiError {
    ApiError::conflict("host_revoked", "the requesting host's certificate was revoked")
}

/// How often an open event stream re-checks its session when no note arrives.
const SSE_SESSION_RECHECK_SECS: u64 = 10;

async fn events(State(state): State<AppState>, s: Session) -> Result<Response, ApiError> {
    require_approver(&s)?;
    let mut notes = state.hub.subscribe();
    let mut recheck = tokio::time::interval(Duration::from_secs(SSE_SESSION_RECHECK_SECS));
    recheck.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let stream = async_stream::stream! {
        yield Ok::<SseEvent, Infallible>(SseEvent::default().event("ready").data("{}"));
        recheck.tick().await;
        loop {
            let next = tokio::select! {
                n = notes.recv() => Some(n),
                _ = recheck.tick() => None,
            };
            // Whatever woke the stream, the session must still be live and an approver's.
            if !crate::session::still_approver(&state, &s.id).await {
                yield Ok(SseEvent::default().event("ended").data("{}"));
                break;
            }
            let Some(next) = next else { continue };
            match next {
                Ok(Note::Request(id)) => {
                    let relevant = match conn(&state).await {
                        Ok(mut c) => match sqlx::query("SELECT entry_id, version FROM broker_requests WHERE request_id = $1").bind(&id).fetch_optional(&mut *c).await {
                            Ok(Some(row)) => {
                                let entry_id: String = row.try_get("entry_id").unwrap_or_default();
                                let version: i64 = row.try_get("version").unwrap_or_default();
                                user_is_approver_of(&mut c, &s.user_id, &entry_id, version).await.unwrap_or(false)
                            }
                            _ => false,
                        },
                        Err(_) => false,
                    };
                    if relevant {
                        yield Ok(SseEvent::default().event("request").data(id));
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    yield Ok(SseEvent::default().event("resync").data("{}"));
                }
                Err(_) => break,
            }
        }
    };
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))).into_response())
}

/// Separation of duties: the person who issued the requesting host's certificate (named in a
/// format-2 certificate and checked at registration; for a format-1 one, the admin who
/// registered it) cannot be the only approver of its requests unless the certificate allows
/// self-approval (format 1: unless the entry does). With a threshold of one person their
/// approval would be the only one, so it is refused (before the ceremony, and again where the
/// approval would be recorded); with `m ≥ 2` distinct people it counts as one of them. Every
/// consumer checks the same against its own certificate (`release::check_separation`).
fn check_separation(user_id: &str, issuer: &str, threshold: i64, allow_self: bool) -> Result<(), ApiError> {
    if user_id == issuer && threshold <= 1 && !allow_self {
        return Err(ApiError::forbidden(
            "self_approval_refused",
            "you issued this request's host certificate, so another approver must approve it \
             (or issue the host with blindvault host issue --allow-self-approval)",
        ));
    }
    Ok(())
}

#[derive(Serialize, Deserialize)]
struct ApproveCeremony {
    request_id: String,
    user_id: String,
    auth: DiscoverableAuthentication,
}

/// Starts the approval ceremony: a WebAuthn assertion with the PRF extension, bound (in the
/// stored ceremony state) to this request and this user.
async fn approve_start(
    State(state): State<AppState>,
    s: Session,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    require_approver(&s)?;
    // Only what the ceremony depends on (the device read the full view already).
    let (row, sep) = request_row_on(&mut *conn(&state).await?, &s, &id).await?;
    let st: String = row.try_get("status")?;
    if st != status::PENDING {
        return Err(ApiError::conflict("request_not_pending", format!("the request is {st}")));
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
struct ApproveFinish {
    ceremony_id: String,
    credential: PublicKeyCredential,
    sealed_response: SealedResponse,
}

async fn approve_finish(
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
            "challenge_invalid",
            "this challenge was issued for another request or user",
        ));
    }
    let (user_id, cred_id) = crate::api::verify_assertion(&state, ceremony.auth, &body.credential).await?;
    if user_id != s.user_id {
        return Err(ApiError::forbidden("wrong_user", "the passkey belongs to another user"));
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
        .ok_or_else(|| ApiError::not_found("no_such_request", "no such request"))?;
    let key: String = req.try_get::<Option<String>, _>("approver_key")?.ok_or_else(|| {
        ApiError::forbidden("not_an_approver", "this passkey is not an enrolled approver device")
    })?;
    if b64(&body.sealed_response.approver.to_array()) != key
        || body.sealed_response.request_id.to_text() != id
    {
        return Err(ApiError::bad_request(
            "response_mismatch",
            "the sealed response names another request or device",
        ));
    }
    let st: String = req.try_get("status")?;
    if st != status::PENDING {
        return Err(ApiError::conflict("request_not_pending", format!("the request is {st}")));
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
            "not_an_approver",
            "this device holds no envelope of the requested secret",
        ));
    }
    let now = state.clock.now();
    // The approval, its response, the state change and the audit row: one transaction.
    let mut tx = sqlx::Connection::begin(&mut *c).await?;
    let r = sqlx::query("INSERT INTO broker_approvals (request_id, user_id, credential_id, approver_key, decision, at) VALUES ($1, $2, $3, $4, 'approve', $5) ON CONFLICT (request_id, user_id) DO NOTHING")
        .bind(&id).bind(&user_id).bind(&cred_id).bind(&key).bind(now).execute(&mut *tx).await?;
    if r.rows_affected() == 0 {
        return Err(ApiError::conflict("already_decided", "you have already decided on this request"));
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
        .ok_or_else(|| ApiError::conflict("request_not_pending", "the request was decided meanwhile"))?;
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

async fn deny(
    State(state): State<AppState>,
    s: Session,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    require_approver(&s)?;
    let mut c = conn(&state).await?;
    let view = request_view_on(&mut c, &s, &id).await?;
    if view.status != status::PENDING {
        return Err(ApiError::conflict("request_not_pending", format!("the request is {}", view.status)));
    }
    let now = state.clock.now();
    let mut tx = sqlx::Connection::begin(&mut *c).await?;
    let r = sqlx::query("INSERT INTO broker_approvals (request_id, user_id, credential_id, approver_key, decision, at) VALUES ($1, $2, '', '', 'deny', $3) ON CONFLICT (request_id, user_id) DO NOTHING")
        .bind(&id).bind(&s.user_id).bind(now).execute(&mut *tx).await?;
    if r.rows_affected() == 0 {
        return Err(ApiError::conflict("already_decided", "you have already decided on this request"));
    }
    let denied = sqlx::query("UPDATE broker_requests SET status = $1, decided_at = $2, decided_by = $3 WHERE request_id = $4 AND status = $5")
        .bind(status::DENIED).bind(now).bind(&s.user_name).bind(&id).bind(status::PENDING).execute(&mut *tx).await?;
    if denied.rows_affected() != 1 {
        // An approval released it (or it expired) since the read above: nothing is recorded.
        return Err(ApiError::conflict("request_not_pending", "the request was decided meanwhile"));
    }
    sqlx::query("DELETE FROM broker_responses WHERE request_id = $1").bind(&id).execute(&mut *tx).await?;
    log_in(&mut tx, &state, Some(&s.user_id), "broker.request.denied", Some(&id), serde_json::json!({}))
        .await?;
    tx.commit().await?;
    drop(c);
    announce(&state, Note::Request(id)).await;
    Ok(Json(serde_json::json!({ "status": status::DENIED })))
}
