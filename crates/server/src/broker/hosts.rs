//! Host certificates: register, list, revoke.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use blindvault_api::ErrorCode;
use blindvault_core::identity::{HostCertificate, SignedHostCertificate};
use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::common::*;
use super::hub::Note;
use super::notify::announce;
use super::status;
use crate::auth::session::{AdminSession, Session};
use crate::auth::stepup::{self, Action as StepUp};
use crate::error::ApiError;
use crate::http::extract::ApiJson;
use crate::state::AppState;

#[derive(Deserialize)]
pub(crate) struct RegisterHost {
    pub(crate) certificate: SignedHostCertificate,
}

#[derive(Serialize)]
pub(crate) struct HostView {
    pub(crate) cert_id: String,
    pub(crate) host_name: String,
    pub(crate) not_after: i64,
    pub(crate) revoked: bool,
    pub(crate) issued_by: String,
    /// Whether the certificate lets its issuer approve alone (`false` for a format-1
    /// certificate, whose entries' own flag applies).
    pub(crate) self_approval: bool,
}

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
    let holder: Option<String> = sqlx::query("SELECT set_by FROM broker_org WHERE id = 1")
        .fetch_optional(state.store.pool())
        .await?
        .map(|r| r.try_get("set_by"))
        .transpose()?;
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
    let r = sqlx::query("INSERT INTO broker_hosts (cert_id, host_name, host_key, certificate, not_after, issued_by, created_at, self_approval) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (cert_id) DO NOTHING")
        .bind(&cert_id).bind(&cert.host_name).bind(b64(&cert.host_key.to_array())).bind(b64(&body.certificate.to_bytes()))
        .bind(not_after).bind(&s.user_id).bind(state.clock.now()).bind(i64::from(cert.self_approval))
        .execute(&mut *tx).await?;
    if r.rows_affected() == 0 {
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

pub(crate) async fn revoke_host(
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
        return Err(ApiError::not_found(ErrorCode::NoSuchHost, "no such unrevoked host"));
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
