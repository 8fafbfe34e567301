//! Sealed entries: versions, their envelopes' devices, deletion.

use blindvault_api::ErrorCode;
use std::collections::BTreeSet;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use blindvault_core::entry::SealedEntry;
use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::common::*;
use super::hub::Note;
use super::notify::announce;
use super::status;
use crate::auth::session::AdminSession;
use crate::auth::stepup::{self, Action as StepUp};
use crate::error::ApiError;
use crate::http::extract::ApiJson;
use crate::state::AppState;

#[derive(Deserialize)]
pub(crate) struct PutEntry {
    pub(crate) sealed_entry: SealedEntry,
    #[serde(default)]
    pub(crate) allow_self_approval: bool,
}

#[derive(Serialize)]
pub(crate) struct EntryView {
    pub(crate) entry_id: String,
    pub(crate) version: i64,
    pub(crate) threshold: i64,
    pub(crate) people: i64,
    pub(crate) sealed_entry: String,
}

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
            return Err(ApiError::conflict(
                ErrorCode::EntryDeleted,
                "this entry was deleted; write a new one",
            ));
        }
        Some((v, None)) => v + 1,
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
        let row = sqlx::query(
            "SELECT user_id FROM broker_enrolments WHERE approver_key = $1 AND status = 'approved'",
        )
        .bind(&key)
        .fetch_optional(state.store.pool())
        .await?
        .ok_or_else(|| {
            ApiError::bad_request(
                ErrorCode::UnknownApprover,
                format!("envelope for an approver key that is not enrolled ({})", env.approver.fingerprint()),
            )
        })?;
        people.insert(row.try_get::<String, _>("user_id")?);
    }
    if people.len() != usize::from(e.policy.n()) {
        return Err(ApiError::bad_request(
            ErrorCode::PolicyMismatch,
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

pub(crate) fn entry_from(r: &sqlx::any::AnyRow) -> Result<EntryView, ApiError> {
    Ok(EntryView {
        entry_id: r.try_get("entry_id")?,
        version: r.try_get("version")?,
        threshold: r.try_get("threshold")?,
        people: r.try_get("people")?,
        sealed_entry: r.try_get("sealed")?,
    })
}

pub(crate) async fn list_entries(
    State(state): State<AppState>,
    _a: AdminSession,
) -> Result<Json<Vec<EntryView>>, ApiError> {
    let rows = sqlx::query(entry_head_select!("ORDER BY e.created_at")).fetch_all(state.store.pool()).await?;
    Ok(Json(rows.iter().map(entry_from).collect::<Result<_, _>>()?))
}

pub(crate) async fn get_entry(
    State(state): State<AppState>,
    _a: AdminSession,
    Path(entry_id): Path<String>,
) -> Result<Json<EntryView>, ApiError> {
    let row = sqlx::query(entry_head_select!("AND h.entry_id = $1"))
        .bind(&entry_id)
        .fetch_optional(state.store.pool())
        .await?
        .ok_or_else(|| ApiError::not_found(ErrorCode::NoSuchEntry, "no such entry"))?;
    Ok(Json(entry_from(&row)?))
}

/// Deletes every version's ciphertext; open requests for it end.
pub(crate) async fn delete_entry(
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
        return Err(ApiError::not_found(ErrorCode::NoSuchEntry, "no such entry"));
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
