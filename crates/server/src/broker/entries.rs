//! Sealed entries: versions, their envelopes' devices, deletion.

use blindvault_api::ErrorCode;
use std::collections::BTreeSet;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use blindvault_api::broker_calls::{EntryDeleted, PutEntry};

use super::common::{b64, log_in, require_org};
use super::hub::Note;
use super::notify::announce;
use super::store;
use super::store::entries::EntryView;
use crate::auth::session::AdminSession;
use crate::auth::stepup::{self, Action as StepUp};
use crate::error::ApiError;
use crate::http::extract::ApiJson;
use crate::state::AppState;

/// Stores a new entry (version 1) or a new version (latest + 1). Every envelope must be sealed
/// to an approved enrolment's key (the writer checked the org signatures; this is routing).
pub(crate) async fn put_entry(
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
            ErrorCode::EntryNotSigned,
            "the entry is not signed by the org key this server holds (sign it with the org key: blindvault secret put)",
        ));
    }
    let entry_id = e.entry_id.to_text();
    let version = i64::from(e.version);
    let expected = match store::entries::head(&state.store, &entry_id).await? {
        None => 1,
        Some(h) if h.deleted => {
            return Err(ApiError::conflict(
                ErrorCode::EntryDeleted,
                "this entry was deleted; write a new one",
            ));
        }
        Some(h) => h.version + 1,
    };
    if version != expected {
        return Err(ApiError::conflict(
            ErrorCode::VersionConflict,
            format!("expected version {expected}, got {version}"),
        ));
    }
    let mut people = BTreeSet::new();
    for env in &e.envelopes {
        let key = b64(&env.approver.to_array());
        let owner = store::entries::approved_key_owner(&state.store, &key).await?.ok_or_else(|| {
            ApiError::bad_request(
                ErrorCode::UnknownApprover,
                format!("envelope for an approver key that is not enrolled ({})", env.approver.fingerprint()),
            )
        })?;
        people.insert(owner);
    }
    if people.len() != usize::from(e.policy.n()) {
        return Err(ApiError::bad_request(
            ErrorCode::PolicyMismatch,
            format!("the policy names {} people but the envelopes belong to {}", e.policy.n(), people.len()),
        ));
    }
    let now = state.clock.now();
    let mut tx = state.store.pool().begin().await?;
    let sealed = b64(&e.to_bytes());
    let devices: Vec<String> = e.envelopes.iter().map(|env| b64(&env.approver.to_array())).collect();
    let new = store::entries::NewVersion {
        entry_id: &entry_id,
        version,
        threshold: i64::from(e.policy.threshold()),
        people: people.len() as i64,
        sealed: &sealed,
        allow_self_approval: body.allow_self_approval,
        created_by: &s.user_id,
        created_at: now,
        devices: &devices,
    };
    if !store::entries::insert_version(&mut tx, &new).await? {
        return Err(ApiError::conflict(
            ErrorCode::VersionConflict,
            "another writer stored this version first",
        ));
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
            sealed_entry: body.sealed_entry.clone(),
        }),
    )
        .into_response())
}

pub(crate) async fn list_entries(
    State(state): State<AppState>,
    _a: AdminSession,
) -> Result<Json<Vec<EntryView>>, ApiError> {
    Ok(Json(store::entries::list(&state.store).await?))
}

pub(crate) async fn get_entry(
    State(state): State<AppState>,
    _a: AdminSession,
    Path(entry_id): Path<String>,
) -> Result<Json<EntryView>, ApiError> {
    let entry = store::entries::get(&state.store, &entry_id)
        .await?
        .ok_or_else(|| ApiError::not_found(ErrorCode::NoSuchEntry, "no such entry"))?;
    Ok(Json(entry))
}

/// Deletes every version's ciphertext; open requests for it end.
pub(crate) async fn delete_entry(
    State(state): State<AppState>,
    AdminSession(s): AdminSession,
    headers: HeaderMap,
    Path(entry_id): Path<String>,
) -> Result<Json<EntryDeleted>, ApiError> {
    let now = state.clock.now();
    let mut tx = state.store.pool().begin().await?;
    if !store::entries::mark_deleted(&mut tx, &entry_id, now).await? {
        return Err(ApiError::not_found(ErrorCode::NoSuchEntry, "no such entry"));
    }
    let step_up = stepup::spend_in(&mut tx, &state, &s, &headers, StepUp::EntryDelete, &entry_id).await?;
    let ended = store::entries::purge(&mut tx, &entry_id, now).await?;
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
        announce(&state, Note::Request(r.clone())).await;
    }
    Ok(Json(EntryDeleted { deleted: true }))
}
