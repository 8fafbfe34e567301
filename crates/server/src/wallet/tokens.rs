//! The admin's default token list (ERC-20, SPL, TRC-20) that the wallet's pages show, and its
//! read-only view for signed-in people. Changes are audited; like the other settings they need
//! the admin role and no step-up (a token entry only decides what a page lists).

use axum::Json;
use axum::extract::{Path, State};
use blindvault_api::ErrorCode;
use blindvault_api::wallet::{TokenList, TokenSet, TokenView};

use super::store::new_id;
use super::store::tokens::{self as store, NewToken};
use super::validate;
use crate::audit::Event;
use crate::audit::record::log_in;
use crate::auth::session::{AdminSession, Session};
use crate::error::ApiError;
use crate::http::extract::ApiJson;
use crate::state::AppState;

/// `GET /api/wallet/tokens`.
pub(crate) async fn list(State(state): State<AppState>, _s: Session) -> Result<Json<TokenList>, ApiError> {
    Ok(Json(TokenList { tokens: store::list(&state.store).await? }))
}

/// `GET /api/admin/wallet/tokens`.
pub(crate) async fn admin_list(
    State(state): State<AppState>,
    _a: AdminSession,
) -> Result<Json<TokenList>, ApiError> {
    Ok(Json(TokenList { tokens: store::list(&state.store).await? }))
}

/// `POST /api/admin/wallet/tokens`.
pub(crate) async fn set(
    State(state): State<AppState>,
    AdminSession(a): AdminSession,
    ApiJson(body): ApiJson<TokenSet>,
) -> Result<Json<TokenView>, ApiError> {
    validate::network(&body.network)?;
    validate::token(body.chain, &body.contract, &body.symbol, body.decimals)?;
    let id = new_id();
    let new = NewToken {
        id: &id,
        chain: body.chain,
        network: &body.network,
        contract: &body.contract,
        symbol: &body.symbol,
        decimals: body.decimals,
        at: state.clock.now(),
        by: &a.user_id,
    };
    let mut tx = state.store.pool().begin().await?;
    let view = store::upsert(&mut tx, &new).await?;
    let detail = serde_json::to_value(&view).map_err(ApiError::internal)?;
    let ev =
        Event { actor: Some(&a.user_id), action: "admin.wallet.token.set", target: Some(&view.id), detail };
    log_in(&mut tx, &state, ev).await?;
    tx.commit().await?;
    Ok(Json(view))
}

/// `DELETE /api/admin/wallet/tokens/{id}`.
pub(crate) async fn delete(
    State(state): State<AppState>,
    AdminSession(a): AdminSession,
    Path(id): Path<String>,
) -> Result<Json<blindvault_api::wallet::Deleted>, ApiError> {
    let mut tx = state.store.pool().begin().await?;
    let gone = store::delete(&mut tx, &id)
        .await?
        .ok_or_else(|| ApiError::not_found(ErrorCode::WalletTokenNotFound, "no such token"))?;
    let detail = serde_json::to_value(&gone).map_err(ApiError::internal)?;
    let ev =
        Event { actor: Some(&a.user_id), action: "admin.wallet.token.delete", target: Some(&id), detail };
    log_in(&mut tx, &state, ev).await?;
    tx.commit().await?;
    Ok(Json(blindvault_api::wallet::Deleted { deleted: id }))
}
