//! Requests, the consumer side: a host's signed request, its result (once) and its withdrawal.

use blindvault_api::ErrorCode;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use blindvault_core::identity::{SignedHostCertificate, SignedRequest, verify_request};
use blindvault_core::keys::OrgPublicKey;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::Row;

use super::common::*;
use super::hub::Note;
use super::notify::announce;
use super::requests::end_request_of_revoked_host;
use super::revocations::revocations_on;
use super::status;
use crate::error::ApiError;
use crate::http::extract::ApiJson;
use crate::state::AppState;

#[derive(Deserialize)]
pub(crate) struct CreateRequest {
    pub(crate) signed_request: SignedRequest,
    /// Lowercase hex SHA-256 of the consumer's poll token. The signed request carries it (format
    /// 2); when sent here too it must be the same.
    #[serde(default)]
    pub(crate) poll_token_hash: Option<String>,
}

/// A request's purpose as the audit log keeps it (the host's signed claim of what will run).
pub(crate) fn purpose_json(p: &blindvault_core::identity::Purpose) -> serde_json::Value {
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
pub(crate) struct Created {
    pub(crate) request_id: String,
    pub(crate) status: &'static str,
    pub(crate) threshold: i64,
    pub(crate) approvers: Vec<String>,
    pub(crate) expires_at: u64,
}

pub(crate) async fn create_request(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CreateRequest>,
) -> Result<Response, ApiError> {
    // The poll token's hash is the one the host signed: a party that sees the request first
    // cannot register it with a token of its own and spend the one delivery.
    let poll_hash = hex::encode(body.signed_request.request.poll_token_hash);
    if body.poll_token_hash.as_ref().is_some_and(|h| *h != poll_hash) {
        return Err(ApiError::bad_request(
            ErrorCode::InvalidPollToken,
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
    let cert_text: String = row.try_get::<Option<String>, _>("certificate")?.ok_or_else(|| {
        ApiError::forbidden(ErrorCode::UnknownHost, "this host certificate is not registered")
    })?;
    let revoked: Option<i64> = row.try_get("revoked_at")?;
    if revoked.is_some() {
        return Err(ApiError::forbidden(ErrorCode::HostRevoked, "this host's certificate has been revoked"));
    }
    let cert =
        SignedHostCertificate::from_bytes(&unb64(&cert_text, "certificate")?).map_err(ApiError::internal)?;
    let verified = verify_request(&org_key, &cert, &body.signed_request, now_u64(&state))
        .map_err(|e| ApiError::forbidden(ErrorCode::RequestInvalid, e.to_string()))?;
    let (Some(version), Some(threshold)) =
        (row.try_get::<Option<i64>, _>("version")?, row.try_get::<Option<i64>, _>("threshold")?)
    else {
        return Err(ApiError::not_found(ErrorCode::NoSuchEntry, "no such entry"));
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
        return Err(ApiError::conflict(
            ErrorCode::DuplicateRequest,
            "a request with this id exists (replay?)",
        ));
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

pub(crate) async fn approver_names(
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
pub(crate) struct ResultQuery {
    #[serde(default)]
    pub(crate) wait: Option<String>,
}

/// The consumer's poll: waits up to `wait` seconds (at most 30) for a decision; an approved
/// request's responses are handed over once and deleted in the same transaction.
pub(crate) async fn result(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<ResultQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let token = headers.get(blindvault_api::paths::POLL_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
    let hash = hex::encode(Sha256::digest(token.as_bytes()));
    let not_found = || ApiError::not_found(ErrorCode::NoSuchRequest, "no such request");
    let wait = match q.wait.as_deref() {
        None | Some("") => 0,
        Some(w) => w.parse::<u64>().map_err(|_| {
            ApiError::bad_request(ErrorCode::InvalidQuery, "wait must be a number of seconds")
        })?,
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
                    ErrorCode::Gone,
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
pub(crate) async fn cancel(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let token = headers.get(blindvault_api::paths::POLL_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
    let hash = hex::encode(Sha256::digest(token.as_bytes()));
    let not_found = || ApiError::not_found(ErrorCode::NoSuchRequest, "no such request");
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
        return Err(ApiError::conflict(ErrorCode::RequestNotPending, format!("the request is already {st}")));
    }
    sqlx::query("DELETE FROM broker_responses WHERE request_id = $1").bind(&id).execute(&mut *tx).await?;
    log_in(&mut tx, &state, None, "broker.request.cancelled", Some(&id), serde_json::json!({})).await?;
    tx.commit().await?;
    drop(c);
    announce(&state, Note::Request(id)).await;
    Ok(Json(serde_json::json!({ "status": status::CANCELLED })))
}

pub(crate) async fn deliver(
    state: &AppState,
    id: &str,
    entry_id: String,
    version: i64,
) -> Result<Response, ApiError> {
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
        return Err(ApiError::new(
            StatusCode::GONE,
            ErrorCode::Gone,
            "this request's response was already delivered",
        ));
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
