//! Host certificates: register, list, revoke.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use blindvault_api::ErrorCode;
use blindvault_api::broker_calls::{HostRevoked, RegisterHost};
use blindvault_core::identity::HostCertificate;

use super::common::{b64, core_err, log_in, now_u64, require_org};
use super::hub::Note;
use super::notify::announce;
use super::store;
use super::store::hosts::HostView;
use crate::auth::session::{AdminSession, Session};
use crate::auth::stepup::{self, Action as StepUp};
use crate::error::ApiError;
use crate::http::extract::ApiJson;
use crate::state::AppState;

/// Separation of duties starts at registration: the certificate must name its issuer (format
/// 2), and that person must be the one registering it and the org key's holder (the user who
/// set the org key). The org key's signature is that holder's act, so an issuer of any other
/// name — a second account of theirs — would let them approve alone; and a certificate without
/// an issuer (format 1) would leave the issuer to the registering session, which is the hole
/// this closes.
pub(crate) async fn check_issuer(
    state: &AppState,
    s: &Session,
    cert: &HostCertificate,
) -> Result<(), ApiError> {
    let issuer = cert.issuer.as_deref().ok_or_else(|| {
        ApiError::bad_request(
            ErrorCode::CertificateNamesNoIssuer,
            "the certificate names no issuer (format 1); issue it again with this version: blindvault host issue",
        )
    })?;
    if issuer != s.user_id {
        return Err(ApiError::forbidden(
            ErrorCode::CertificateIssuerMismatch,
            "the certificate names another person as its issuer; its issuer registers it",
        ));
    }
    let holder = store::org::holder(&state.store).await?;
    if holder.as_deref() != Some(issuer) {
        return Err(ApiError::forbidden(
            ErrorCode::NotOrgKeyHolder,
            "only the person who holds the org key (who set it on this server) issues host certificates",
        ));
    }
    Ok(())
}

pub(crate) async fn register_host(
    State(state): State<AppState>,
    AdminSession(s): AdminSession,
    ApiJson(body): ApiJson<RegisterHost>,
) -> Result<Response, ApiError> {
    let (org_key, _) = require_org(&state).await?;
    let cert = body
        .certificate
        .verify(&org_key, now_u64(&state))
        .map_err(|e| core_err(ErrorCode::BadCertificate, e))?;
    check_issuer(&state, &s, cert).await?;
    let cert_id = cert.cert_id.to_text();
    let not_after = i64::try_from(cert.not_after).unwrap_or(i64::MAX);
    // The host and its audit row: one transaction.
    let mut tx = state.store.pool().begin().await?;
    let host_key = b64(&cert.host_key.to_array());
    let certificate = b64(&body.certificate.to_bytes());
    let new = store::hosts::NewHost {
        cert_id: &cert_id,
        host_name: &cert.host_name,
        host_key: &host_key,
        certificate: &certificate,
        not_after,
        issued_by: &s.user_id,
        created_at: state.clock.now(),
        self_approval: cert.self_approval,
    };
    if !store::hosts::insert(&mut tx, &new).await? {
        return Err(ApiError::conflict(ErrorCode::HostExists, "this certificate is already registered"));
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

pub(crate) async fn list_hosts(
    State(state): State<AppState>,
    _a: AdminSession,
) -> Result<Json<Vec<HostView>>, ApiError> {
    Ok(Json(store::hosts::list(&state.store).await?))
}

pub(crate) async fn revoke_host(
    State(state): State<AppState>,
    AdminSession(s): AdminSession,
    headers: HeaderMap,
    Path(cert_id): Path<String>,
) -> Result<Json<HostRevoked>, ApiError> {
    let now = state.clock.now();
    // The revocation, the end of its open requests and the audit row: one transaction.
    let mut tx = state.store.pool().begin().await?;
    if !store::hosts::revoke(&mut tx, &cert_id, now).await? {
        return Err(ApiError::not_found(ErrorCode::NoSuchHost, "no such unrevoked host"));
    }
    let step_up = stepup::spend_in(&mut tx, &state, &s, &headers, StepUp::HostRevoke, &cert_id).await?;
    // Its open requests end now.
    let ended = store::requests::end_open_of_host(&mut tx, &cert_id, now).await?;
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
    Ok(Json(HostRevoked { revoked: true, requests_ended: ended.len() as u64 }))
}
