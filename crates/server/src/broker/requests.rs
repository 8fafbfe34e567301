//! Requests, the approver side: one request, the inbox.

use axum::Json;
use axum::extract::{Path, State};
use blindvault_api::ErrorCode;
use serde::Serialize;

use super::common::*;
use super::hub::Note;
use super::notify::announce;
use super::store;
use super::store::requests::{ApproverRequest, Party};
use crate::auth::session::Session;
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Serialize)]
pub(crate) struct RequestView {
    pub(crate) request_id: String,
    pub(crate) status: String,
    /// The host name the server registered the certificate under (unchecked until the device
    /// verifies the certificate) and when the request arrived: what a list can show before
    /// anyone unlocks.
    pub(crate) host_name: String,
    pub(crate) created_at: i64,
    /// The host's issuer (user id; for a format-2 certificate the one it names) and their name
    /// as this server knows it (none if the account is gone): the device shows the name beside
    /// the issuer it verified in the certificate.
    pub(crate) issuer: String,
    pub(crate) issuer_name: Option<String>,
    pub(crate) entry_id: String,
    pub(crate) version: i64,
    pub(crate) threshold: i64,
    pub(crate) expires_at: i64,
    pub(crate) signed_request: String,
    pub(crate) certificate: String,
    pub(crate) sealed_entry: Option<String>,
    pub(crate) decisions: Vec<serde_json::Value>,
    pub(crate) approvers: Vec<String>,
    pub(crate) my_decision: Option<String>,
}

pub(crate) async fn request_view(state: &AppState, s: &Session, id: &str) -> Result<RequestView, ApiError> {
    request_view_on(&mut *conn(state).await?, s, id).await
}

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
                ds.push(serde_json::json!({ "user": name, "decision": decision }));
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
    })
}

pub(crate) async fn get_request(
    State(state): State<AppState>,
    s: Session,
    Path(id): Path<String>,
) -> Result<Json<RequestView>, ApiError> {
    require_approver(&s)?;
    Ok(Json(request_view(&state, &s, &id).await?))
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
