//! Requests, the consumer side: a host's signed request, its result (once) and its withdrawal.

use blindvault_api::ErrorCode;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use blindvault_api::broker_calls::ResultQuery;
use blindvault_core::identity::{SignedHostCertificate, verify_request};
use blindvault_core::keys::OrgPublicKey;
use sha2::{Digest, Sha256};

use super::common::{b64, conn, log_in, now_u64, org_not_set, stored, unb64};
use super::hub::Note;
use super::notify::announce;
use super::requests::end_request_of_revoked_host;
use super::revocations::revocations_on;
use super::status;
use super::store;
use crate::error::{ApiError, rate_limited, too_many_open_requests, too_many_org_requests};
use crate::http::extract::ApiJson;
use crate::state::AppState;
use crate::store::Engine;

pub(crate) use blindvault_api::broker::CreateRequest;
use blindvault_api::broker::{CreatedRequest, PollResult};

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

/// The lease a request's purpose signs, bounded so that `delivered_at + lease` cannot overflow
/// (about 290 000 years; the CLI refuses far shorter ones); `inject` has none.
pub(crate) fn lease_secs_of(p: &blindvault_core::identity::Purpose) -> Option<i64> {
    match p {
        blindvault_core::identity::Purpose::Run { lease_secs, .. } => {
            Some(i64::try_from(*lease_secs).unwrap_or(i64::MAX).min(1 << 53))
        }
        blindvault_core::identity::Purpose::Inject { .. } => None,
    }
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
    let ctx = store::consumer::create_context(&mut c, &cert_id, &entry_id).await?.ok_or_else(org_not_set)?;
    let org_key = OrgPublicKey::from_bytes(&unb64(&ctx.org_key, "org key")?).map_err(ApiError::internal)?;
    let cert_text = ctx.certificate.ok_or_else(|| {
        ApiError::forbidden(ErrorCode::UnknownHost, "this host certificate is not registered")
    })?;
    if ctx.host_revoked {
        return Err(ApiError::forbidden(ErrorCode::HostRevoked, "this host's certificate has been revoked"));
    }
    let cert =
        SignedHostCertificate::from_bytes(&unb64(&cert_text, "certificate")?).map_err(ApiError::internal)?;
    let verified = verify_request(&org_key, &cert, &body.signed_request, now_u64(&state))
        .map_err(|e| ApiError::forbidden(ErrorCode::RequestInvalid, e.to_string()))?;
    let Some((version, threshold)) = ctx.head else {
        return Err(ApiError::not_found(ErrorCode::NoSuchEntry, "no such entry"));
    };
    let request_id = verified.request_id().to_text();
    let expires_at = i64::try_from(verified.expires_at()).unwrap_or(i64::MAX);
    let approvers = ctx.approvers;
    let host_name = ctx.host_name.unwrap_or_default();
    // The request and its audit row: one transaction, one commit. On SQLite it takes the write
    // lock at once (`BEGIN IMMEDIATE`): a deferred one that counts first and inserts after fails
    // at the insert, without waiting, if another connection to the file wrote in between.
    let mut tx = match state.store.engine() {
        Engine::Sqlite => sqlx::Connection::begin_with(&mut *c, "BEGIN IMMEDIATE").await?,
        Engine::Postgres => sqlx::Connection::begin(&mut *c).await?,
    };
    // At most `max_open_requests_per_host` open at once for this host, and
    // `max_open_requests_per_org` for every host together: counted under the org's and the
    // host's locks in the transaction that inserts, so concurrent creates (on any instance)
    // cannot pass either together.
    let (max_host, max_org) =
        (state.config.max_open_requests_per_host, state.config.max_open_requests_per_org);
    let open =
        store::consumer::open_requests(&mut tx, state.store.engine(), &cert_id, state.clock.now()).await?;
    if open.host >= i64::from(max_host) {
        return Err(too_many_open_requests(max_host));
    }
    if open.org >= i64::from(max_org) {
        return Err(too_many_org_requests(max_org));
    }
    let signed = b64(&body.signed_request.to_bytes());
    let new = store::consumer::NewRequest {
        request_id: &request_id,
        entry_id: &entry_id,
        version,
        cert_id: &cert_id,
        signed: &signed,
        poll_hash: &poll_hash,
        threshold,
        created_at: state.clock.now(),
        expires_at,
        lease_secs: lease_secs_of(verified.purpose()),
    };
    if !store::consumer::insert(&mut tx, &new).await? {
        return Err(ApiError::conflict(
            ErrorCode::DuplicateRequest,
            "a request with this id exists (replay?)",
        ));
    }
    // The host's budget of calls, spent only by a new request the host signed: not by someone
    // naming its certificate, nor by a replay of a request it made (approvers see those), which
    // was refused above. Refused here, the insert is rolled back with the transaction.
    if let Err(wait) = state.limits.per_host.check(&cert_id, state.clock.now_ms()) {
        return Err(rate_limited(wait, "too many requests and polls from this host; wait a moment"));
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
    // Pushes to the devices of the people this request can use: queued in this transaction,
    // sent by the push worker (never on this path).
    let queued =
        crate::push::store::enqueue(&mut tx, &request_id, &entry_id, version, expires_at, state.clock.now())
            .await?;
    tx.commit().await?;
    drop(c);
    if queued > 0 {
        crate::push::worker::wake(&state);
    }
    announce(&state, Note::Request(request_id.clone())).await;
    Ok((
        StatusCode::CREATED,
        Json(CreatedRequest {
            request_id,
            status: status::PENDING.to_owned(),
            threshold,
            approvers,
            expires_at: verified.expires_at(),
        }),
    )
        .into_response())
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
    let mut first = true;
    loop {
        // Armed before the read, so a note that arrives while reading still wakes this poll.
        let notified = watch.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let row = store::consumer::poll_row(&state.store, &id).await?.ok_or_else(not_found)?;
        let poll_hash = &row.poll_hash;
        if !bool::from(subtle::ConstantTimeEq::ct_eq(poll_hash.as_bytes(), hash.as_bytes())) {
            return Err(not_found());
        }
        // One token of the host's budget per poll (not per re-read while it waits), spent only
        // by the holder of the poll token.
        if std::mem::take(&mut first)
            && let Err(wait) = state.limits.per_host.check(&row.cert_id, state.clock.now_ms())
        {
            return Err(rate_limited(wait, "too many requests and polls from this host; wait a moment"));
        }
        let st = row.status.clone();
        if row.host_revoked && (st == status::PENDING || st == status::APPROVED) {
            end_request_of_revoked_host(&state, &id).await?;
            return Ok(Json(PollResult::Denied { by: None }).into_response());
        }
        if (st == status::PENDING || st == status::APPROVED) && row.expires_at <= state.clock.now() {
            // Past its deadline: expired now, whether or not the sweeper has run yet.
            super::sweeper::sweep(&state).await?;
            return Ok(Json(PollResult::Expired).into_response());
        }
        let threshold = row.threshold;
        match st.as_str() {
            status::APPROVED => {
                return deliver(&state, &id, row.entry_id, row.version).await;
            }
            status::DENIED => {
                return Ok(Json(PollResult::Denied { by: row.decided_by }).into_response());
            }
            status::EXPIRED => return Ok(Json(PollResult::Expired).into_response()),
            status::CANCELLED => {
                return Ok(Json(PollResult::Cancelled).into_response());
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
            let approvers =
                store::consumer::approver_names(&mut *conn(&state).await?, &row.entry_id, row.version)
                    .await?;
            return Ok(
                Json(PollResult::Pending { approvals: row.approvals, threshold, approvers }).into_response()
            );
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
) -> Result<Json<PollResult>, ApiError> {
    let token = headers.get(blindvault_api::paths::POLL_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
    let hash = hex::encode(Sha256::digest(token.as_bytes()));
    let not_found = || ApiError::not_found(ErrorCode::NoSuchRequest, "no such request");
    let mut c = conn(&state).await?;
    let poll_hash = store::consumer::poll_hash(&mut c, &id).await?.ok_or_else(not_found)?;
    if !bool::from(subtle::ConstantTimeEq::ct_eq(poll_hash.as_bytes(), hash.as_bytes())) {
        return Err(not_found());
    }
    let now = state.clock.now();
    let mut tx = sqlx::Connection::begin(&mut *c).await?;
    if let Err(st) = store::consumer::cancel_open(&mut tx, &id, now).await? {
        return Err(ApiError::conflict(ErrorCode::RequestNotPending, format!("the request is already {st}")));
    }
    log_in(&mut tx, &state, None, "broker.request.cancelled", Some(&id), serde_json::json!({})).await?;
    tx.commit().await?;
    drop(c);
    announce(&state, Note::Request(id)).await;
    Ok(Json(PollResult::Cancelled))
}

pub(crate) async fn deliver(
    state: &AppState,
    id: &str,
    entry_id: String,
    version: i64,
) -> Result<Response, ApiError> {
    let now = state.clock.now();
    let mut tx = state.store.pool().begin().await?;
    // Handed over and deleted in one statement; with the org-signed entry version (the
    // consumer decrypts its value itself with the released DEK or the combined shares) and the
    // org-signed enrolment of each device that approved (the consumer accepts a response only
    // from a device whose enrolment verifies under the org key in its host key file).
    let Some(d) = store::consumer::deliver(&mut tx, id, &entry_id, version, now).await? else {
        return Err(ApiError::new(
            StatusCode::GONE,
            ErrorCode::Gone,
            "this request's response was already delivered",
        ));
    };
    let (responses, sealed_entry, enrolments) = (d.responses, d.sealed_entry, d.enrolments);
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
    Ok(Json(PollResult::Delivered {
        responses: responses.into_iter().map(stored).collect::<Result<_, _>>()?,
        enrolments: enrolments.into_iter().map(stored).collect::<Result<_, _>>()?,
        sealed_entry: sealed_entry.map(stored).transpose()?.map(Box::new),
        revocations: revocations.map(stored).transpose()?.map(Box::new),
    })
    .into_response())
}
