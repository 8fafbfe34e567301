//! Requests, the approver side: one request, the inbox.

use axum::Json;
use axum::extract::{Path, State};
use blindvault_api::ErrorCode;
use blindvault_api::broker_calls::RequestDecision;
pub(crate) use blindvault_api::broker_calls::RequestView;

use super::common::{conn, log_in, require_approver};
use super::hub::Note;
use super::notify::announce;
use super::store;
use super::store::requests::{ApproverRequest, Party};
use crate::auth::session::Session;
use crate::error::ApiError;
use crate::state::AppState;

/// The request (with its host and entry) if the caller is one of its approvers — else "no such
/// request" (one statement).
pub(crate) async fn request_row_on(
    c: &mut sqlx::AnyConnection,
    s: &Session,
    id: &str,
) -> Result<ApproverRequest, ApiError> {
    let no_such = || ApiError::not_found(ErrorCode::NoSuchRequest, "no such request");
    let row = store::requests::for_approver(c, id, &s.user_id).await?.ok_or_else(no_such)?;
    if row.mine == 0 {
        return Err(no_such());
    }
    Ok(row)
}

/// The request as an approver sees it (2 statements on one connection: the request with its
/// host, entry and the caller's approver status; decisions and approver names).
pub(crate) async fn request_view_on(
    c: &mut sqlx::AnyConnection,
    s: &Session,
    id: &str,
) -> Result<RequestView, ApiError> {
    let row = request_row_on(c, s, id).await?;
    let mut my_decision = None;
    let (mut ds, mut approvers) = (Vec::new(), Vec::new());
    for p in store::requests::parties(c, id, &row.entry_id, row.version).await? {
        match p {
            Party::Approver { name } => approvers.push(name),
            Party::Decision { name, user_id, decision } => {
                if user_id == s.user_id {
                    my_decision = Some(decision.clone());
                }
                ds.push(RequestDecision { user: name, decision });
            }
        }
    }
    approvers.sort();
    Ok(RequestView {
        request_id: row.request_id,
        status: row.status,
        host_name: row.host_name,
        created_at: row.created_at,
        issuer: row.issued_by,
        issuer_name: row.issuer_name,
        approvers,
        entry_id: row.entry_id,
        version: row.version,
        threshold: row.threshold,
        expires_at: row.expires_at,
        signed_request: row.signed,
        certificate: row.certificate,
        sealed_entry: row.sealed,
        decisions: ds,
        my_decision,
        lease: None,
    })
}

pub(crate) async fn get_request(
    State(state): State<AppState>,
    s: Session,
    Path(id): Path<String>,
) -> Result<Json<RequestView>, ApiError> {
    require_approver(&s)?;
    let mut c = conn(&state).await?;
    let mut view = request_view_on(&mut c, &s, &id).await?;
    // A delivered request's lease: running (with the End now button), ended by whom, or over.
    if view.status == super::status::DELIVERED
        && let Some(row) = store::leases::get(&mut c, &id).await?
    {
        view.lease = super::leases::lease_view_on(&mut c, row, state.clock.now()).await?;
    }
    Ok(Json(view))
}

/// Pending requests waiting for the caller's decision.
pub(crate) async fn inbox(
    State(state): State<AppState>,
    s: Session,
) -> Result<Json<Vec<RequestView>>, ApiError> {
    require_approver(&s)?;
    let mut c = conn(&state).await?;
    let ids = store::requests::inbox_ids(&mut c, &s.user_id, state.clock.now()).await?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        out.push(request_view_on(&mut c, &s, &id).await?);
    }
    Ok(Json(out))
}

/// Ends a request whose host is revoked (one created in the instant of the revocation, which
/// the revocation's own sweep of open requests did not see): denied, responses deleted.
pub(crate) async fn end_request_of_revoked_host(state: &AppState, id: &str) -> Result<(), ApiError> {
    let mut tx = state.store.pool().begin().await?;
    let ended = store::requests::deny_open(&mut tx, id, state.clock.now()).await?;
    if ended {
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
