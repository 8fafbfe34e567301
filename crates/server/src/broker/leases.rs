//! A delivered request's lease: the approvers' Running list, ending a lease early, and the
//! host's long poll that learns of it (`blindvault run` then stops its command).
//!
//! A lease is *running* while its request is delivered, the server's clock is before
//! `lease_ends_at` (delivery + the lease the host signed) and nobody has ended it. Ending one
//! removes access only — it needs a session, not a step-up.

use std::time::Duration;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use blindvault_api::ErrorCode;
use blindvault_api::broker::{LeaseState, LeaseStatus, LeaseView};
use blindvault_api::broker_calls::ResultQuery;
use blindvault_core::identity::{Purpose, SignedRequest};
use sha2::{Digest, Sha256};

use super::common::{conn, log_in, require_approver, unb64};
use super::hub::Note;
use super::notify::announce;
use super::status;
use super::store;
use super::store::leases::LeaseRow;
use crate::auth::role::Role;
use crate::auth::session::Session;
use crate::error::ApiError;
use crate::state::AppState;

/// Where a lease stands at `now` (none: the request is not delivered).
fn state_of(row: &LeaseRow, now: i64) -> Option<LeaseState> {
    if row.status != status::DELIVERED {
        return None;
    }
    Some(if row.ended_at.is_some() {
        LeaseState::Ended
    } else if row.lease_ends_at.is_some_and(|end| now < end) {
        LeaseState::Running
    } else {
        LeaseState::Over
    })
}

/// The lease of a delivered request with one (else none), as approvers see it.
pub(crate) async fn lease_view_on(
    c: &mut sqlx::AnyConnection,
    row: LeaseRow,
    now: i64,
) -> Result<Option<LeaseView>, ApiError> {
    let (Some(state), Some(ends_at)) = (state_of(&row, now), row.lease_ends_at) else {
        return Ok(None);
    };
    // The command line as the host signed it (the server stored the request after verifying
    // it; the approver's device checked the same bytes before approving).
    let signed =
        SignedRequest::from_bytes(&unb64(&row.signed, "signed request")?).map_err(ApiError::internal)?;
    let (command, env) = match &signed.request.purpose {
        Purpose::Run { command, env, .. } => (
            blindvault_core::text::shell_line(command),
            env.iter().map(|n| blindvault_core::text::ascii_inert(n)).collect(),
        ),
        Purpose::Inject { .. } => (String::new(), Vec::new()),
    };
    let approved_by = store::leases::approved_by(c, &row.request_id).await?;
    Ok(Some(LeaseView {
        request_id: row.request_id,
        host_name: row.host_name,
        command,
        env,
        approved_by,
        delivered_at: row.delivered_at.unwrap_or_default(),
        ends_at,
        state,
        ended_at: row.ended_at,
        ended_by: row.ended_by,
        ended_by_name: row.ended_by_name,
    }))
}

/// `GET /api/broker/leases`: the leases whose time is not over — running, or ended early (the
/// receipt of who ended it) — of the requests the caller is an approver of; an admin sees all.
pub(crate) async fn leases(
    State(state): State<AppState>,
    s: Session,
) -> Result<Json<Vec<LeaseView>>, ApiError> {
    require_approver(&s)?;
    let now = state.clock.now();
    let mut c = conn(&state).await?;
    let rows = store::leases::current(&mut c, &s.user_id, s.role == Role::Admin, now).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        if let Some(v) = lease_view_on(&mut c, row, now).await? {
            out.push(v);
        }
    }
    Ok(Json(out))
}

/// `POST /api/broker/requests/{id}/lease/end`: an approver of the request's entry version (or an
/// admin) ends its running lease now. Anyone else gets "no such request", as on the other
/// request routes; a lease that is not running (not delivered yet, no lease, over, already
/// ended) is `409 lease_not_running`. The audit row and the change commit together; the host's
/// lease poll (on any instance) and the approvers' streams hear of it through the hub.
pub(crate) async fn end_lease(
    State(state): State<AppState>,
    s: Session,
    Path(id): Path<String>,
) -> Result<Json<LeaseView>, ApiError> {
    require_approver(&s)?;
    let no_such = || ApiError::not_found(ErrorCode::NoSuchRequest, "no such request");
    let mut c = conn(&state).await?;
    let row = store::leases::get(&mut c, &id).await?.ok_or_else(no_such)?;
    if s.role != Role::Admin
        && !store::requests::user_is_approver_of(&mut c, &s.user_id, &row.entry_id, row.version).await?
    {
        return Err(no_such());
    }
    let now = state.clock.now();
    let mut tx = sqlx::Connection::begin(&mut *c).await?;
    if !store::leases::end(&mut tx, &id, &s.user_id, now).await? {
        let why = match state_of(&row, now) {
            None => "the request has not been delivered, so no lease is running".to_owned(),
            Some(LeaseState::Ended) => format!(
                "the lease was already ended by {}",
                row.ended_by_name.as_deref().unwrap_or("someone")
            ),
            Some(_) => "the lease is over (or the request has none)".to_owned(),
        };
        return Err(ApiError::conflict(ErrorCode::LeaseNotRunning, why));
    }
    log_in(
        &mut tx,
        &state,
        Some(&s.user_id),
        "broker.lease.ended",
        Some(&id),
        serde_json::json!({ "by": s.user_name, "host": row.host_name, "lease_ends_at": row.lease_ends_at }),
    )
    .await?;
    tx.commit().await?;
    announce(&state, Note::Request(id.clone())).await;
    let row = store::leases::get(&mut c, &id).await?.ok_or_else(no_such)?;
    let view = lease_view_on(&mut c, row, now)
        .await?
        .ok_or_else(|| ApiError::internal("an ended lease has no view"))?;
    Ok(Json(view))
}

/// `GET /api/broker/requests/{id}/lease?wait=N`: the host's long poll of its running lease,
/// authenticated like the result poll (the `x-blindvault-poll` token whose SHA-256 came with
/// the request). Answers at once when the lease is ended or over; while it runs, waits up to
/// `wait` seconds (at most 30) for a note about the request — locally or from another instance
/// — re-reading at least every 2 s. A request not delivered is `409 lease_not_running`.
pub(crate) async fn lease_poll(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<ResultQuery>,
    headers: HeaderMap,
) -> Result<Json<LeaseStatus>, ApiError> {
    let token = headers.get(blindvault_api::paths::POLL_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
    let hash = hex::encode(Sha256::digest(token.as_bytes()));
    let not_found = || ApiError::not_found(ErrorCode::NoSuchRequest, "no such request");
    let wait = match q.wait.as_deref() {
        None | Some("") => 0,
        Some(w) => w.parse::<u64>().map_err(|_| {
            ApiError::bad_request(ErrorCode::InvalidQuery, "wait must be a number of seconds")
        })?,
    };
    let poll_hash = store::leases::poll_hash(&state.store, &id).await?.ok_or_else(not_found)?;
    if !bool::from(subtle::ConstantTimeEq::ct_eq(poll_hash.as_bytes(), hash.as_bytes())) {
        return Err(not_found());
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(wait.min(30));
    let watch = state.hub.watch(&id);
    loop {
        // Armed before the read, so a note that arrives while reading still wakes this poll.
        let notified = watch.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let row = store::leases::get(&mut *conn(&state).await?, &id).await?.ok_or_else(not_found)?;
        let Some(st) = state_of(&row, state.clock.now()) else {
            return Err(ApiError::conflict(
                ErrorCode::LeaseNotRunning,
                "the request has not been delivered, so no lease is running",
            ));
        };
        let now = tokio::time::Instant::now();
        if st != LeaseState::Running || now >= deadline {
            let ended_by = if st == LeaseState::Ended { row.ended_by_name } else { None };
            return Ok(Json(LeaseStatus { state: st, ended_by, ends_at: row.lease_ends_at }));
        }
        let step = (deadline - now).min(Duration::from_secs(2));
        let _ = tokio::time::timeout(step, notified).await;
    }
}
