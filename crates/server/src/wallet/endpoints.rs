//! The admin's RPC endpoints (one per chain and network) and the networks a signed-in person
//! sees. Setting and removing an endpoint is audited; like the instance's other settings
//! (`GET /api/admin/settings`, the org's settings) it needs the admin role and no step-up: an
//! endpoint can censor or misreport, never move funds (every transaction is signed on the
//! person's device after they read it decoded). The credential is write-only.

use axum::Json;
use axum::extract::{Path, State};
use blindvault_api::ErrorCode;
use blindvault_api::wallet::{Chain, EndpointList, EndpointSet, EndpointView, NetworkList};

use super::store::endpoints::{self as store, CredentialWrite, NewEndpoint};
use super::validate;
use crate::audit::Event;
use crate::audit::record::log_in;
use crate::auth::session::{AdminSession, Session};
use crate::error::ApiError;
use crate::http::extract::ApiJson;
use crate::state::AppState;

/// `GET /api/admin/wallet/endpoints`.
pub(crate) async fn list(
    State(state): State<AppState>,
    _a: AdminSession,
) -> Result<Json<EndpointList>, ApiError> {
    Ok(Json(EndpointList { endpoints: store::list(&state.store).await? }))
}

/// `GET /api/wallet/networks`.
pub(crate) async fn networks(
    State(state): State<AppState>,
    _s: Session,
) -> Result<Json<NetworkList>, ApiError> {
    Ok(Json(NetworkList { networks: store::networks(&state.store).await? }))
}

/// `PUT /api/admin/wallet/endpoints`.
pub(crate) async fn set(
    State(state): State<AppState>,
    AdminSession(a): AdminSession,
    ApiJson(body): ApiJson<EndpointSet>,
) -> Result<Json<EndpointView>, ApiError> {
    validate::network(&body.network)?;
    validate::chain_id(body.chain, body.chain_id)?;
    let url = validate::endpoint_url(&body.url)?;
    let credential = match (&body.credential, body.clear_credential) {
        (Some(_), true) => {
            return Err(ApiError::bad_request(
                ErrorCode::WalletInvalidCredential,
                "set a credential or clear it, not both",
            ));
        }
        (Some(c), false) => {
            validate::credential(c)?;
            CredentialWrite::Set(c)
        }
        (None, true) => CredentialWrite::Clear,
        (None, false) => CredentialWrite::Keep,
    };
    let credential_change = match credential {
        CredentialWrite::Set(_) => "set",
        CredentialWrite::Clear => "cleared",
        CredentialWrite::Keep => "kept",
    };
    let new = NewEndpoint {
        chain: body.chain,
        network: &body.network,
        chain_id: body.chain_id,
        url: url.as_str(),
        enabled: body.enabled,
        at: state.clock.now(),
        by: &a.user_id,
    };
    let mut tx = state.store.pool().begin().await?;
    store::upsert(&mut tx, &new, credential).await?;
    let view = store::view(&mut tx, body.chain, &body.network)
        .await?
        .ok_or_else(|| ApiError::internal("endpoint vanished"))?;
    // The row says what changed, never the credential.
    let detail = serde_json::json!({
        "chain": body.chain, "network": body.network, "chain_id": body.chain_id, "url": view.url,
        "enabled": body.enabled, "credential": credential_change, "credential_set": view.credential_set,
    });
    let ev = Event {
        actor: Some(&a.user_id),
        action: "admin.wallet.endpoint.set",
        target: Some(&view.id),
        detail,
    };
    log_in(&mut tx, &state, ev).await?;
    tx.commit().await?;
    Ok(Json(view))
}

/// Reads an endpoint id `<chain>:<network>`.
pub(crate) fn parse_id(id: &str) -> Result<(Chain, &str), ApiError> {
    let not_found = || {
        ApiError::not_found(ErrorCode::WalletEndpointNotFound, "no such endpoint (ids are <chain>:<network>)")
    };
    let (chain, network) = id.split_once(':').ok_or_else(not_found)?;
    let chain = Chain::parse(chain).ok_or_else(not_found)?;
    validate::network(network).map_err(|_| not_found())?;
    Ok((chain, network))
}

/// `DELETE /api/admin/wallet/endpoints/{id}`.
pub(crate) async fn delete(
    State(state): State<AppState>,
    AdminSession(a): AdminSession,
    Path(id): Path<String>,
) -> Result<Json<blindvault_api::wallet::Deleted>, ApiError> {
    let (chain, network) = parse_id(&id)?;
    let mut tx = state.store.pool().begin().await?;
    if !store::delete(&mut tx, chain, network).await? {
        return Err(ApiError::not_found(ErrorCode::WalletEndpointNotFound, "no such endpoint"));
    }
    let detail = serde_json::json!({ "chain": chain, "network": network });
    let ev =
        Event { actor: Some(&a.user_id), action: "admin.wallet.endpoint.delete", target: Some(&id), detail };
    log_in(&mut tx, &state, ev).await?;
    tx.commit().await?;
    Ok(Json(blindvault_api::wallet::Deleted { deleted: id }))
}
