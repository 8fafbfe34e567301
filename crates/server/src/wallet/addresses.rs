//! Public addresses a person publishes for watch-only display (theirs to list and withdraw), and
//! the admin's view of who holds which. Only public data: every field is checked against the
//! chain's address form and refused when it looks like a key or a recovery phrase.

use axum::Json;
use axum::extract::{Path, Query, State};
use blindvault_api::ErrorCode;
use blindvault_api::wallet::{AddressList, AddressPublish, AddressView, HeldAddressList};
use serde::Deserialize;

use super::store::addresses::{self as store, NewAddress};
use super::store::new_id;
use super::validate;
use crate::audit::Event;
use crate::audit::record::log_in;
use crate::auth::session::{AdminSession, Session};
use crate::error::ApiError;
use crate::http::extract::ApiJson;
use crate::state::AppState;

/// The most addresses one person may publish.
pub(crate) const MAX_PER_USER: i64 = 500;

/// `GET /api/wallet/addresses`.
pub(crate) async fn mine(State(state): State<AppState>, s: Session) -> Result<Json<AddressList>, ApiError> {
    Ok(Json(AddressList { addresses: store::mine(&state.store, &s.user_id).await? }))
}

/// `POST /api/wallet/addresses`.
pub(crate) async fn publish(
    State(state): State<AppState>,
    s: Session,
    ApiJson(body): ApiJson<AddressPublish>,
) -> Result<Json<AddressView>, ApiError> {
    validate::refuse_private("the network", &body.network)?;
    validate::refuse_private("the path", &body.path)?;
    validate::network(&body.network)?;
    validate::path(&body.path)?;
    validate::address(body.chain, &body.address)?;
    if let Some(l) = &body.label {
        validate::label(l)?;
    }
    let id = new_id();
    let new = NewAddress {
        id: &id,
        user_id: &s.user_id,
        chain: body.chain,
        network: &body.network,
        path: &body.path,
        address: &body.address,
        label: body.label.as_deref(),
        at: state.clock.now(),
    };
    let mut tx = state.store.pool().begin().await?;
    if store::count(&mut tx, &s.user_id).await? >= MAX_PER_USER {
        return Err(ApiError::conflict(
            ErrorCode::WalletAddressLimit,
            format!("at most {MAX_PER_USER} published addresses; withdraw some first"),
        ));
    }
    let view = store::upsert(&mut tx, &new).await?;
    let detail = serde_json::json!({ "chain": view.chain, "network": view.network, "path": view.path, "address": view.address });
    let ev =
        Event { actor: Some(&s.user_id), action: "wallet.address.publish", target: Some(&view.id), detail };
    log_in(&mut tx, &state, ev).await?;
    tx.commit().await?;
    Ok(Json(view))
}

/// `DELETE /api/wallet/addresses/{id}`.
pub(crate) async fn withdraw(
    State(state): State<AppState>,
    s: Session,
    Path(id): Path<String>,
) -> Result<Json<blindvault_api::wallet::Deleted>, ApiError> {
    let mut tx = state.store.pool().begin().await?;
    let gone = store::delete(&mut tx, &s.user_id, &id)
        .await?
        .ok_or_else(|| ApiError::not_found(ErrorCode::WalletAddressNotFound, "no such address of yours"))?;
    let detail = serde_json::json!({ "chain": gone.chain, "network": gone.network, "path": gone.path, "address": gone.address });
    let ev = Event { actor: Some(&s.user_id), action: "wallet.address.withdraw", target: Some(&id), detail };
    log_in(&mut tx, &state, ev).await?;
    tx.commit().await?;
    Ok(Json(blindvault_api::wallet::Deleted { deleted: id }))
}

/// The admin's filter.
#[derive(Debug, Deserialize)]
pub(crate) struct HeldQuery {
    #[serde(default)]
    address: Option<String>,
}

/// `GET /api/admin/wallet/addresses[?address=…]`.
pub(crate) async fn held(
    State(state): State<AppState>,
    _a: AdminSession,
    Query(q): Query<HeldQuery>,
) -> Result<Json<HeldAddressList>, ApiError> {
    let filter = q.address.as_deref().filter(|a| !a.is_empty());
    Ok(Json(HeldAddressList { addresses: store::held(&state.store, filter).await? }))
}
