//! The command-line token routes: make one (browser session and step-up `token.create`), list
//! mine, revoke; an admin lists the org's and may revoke any; `GET /api/tokens/me` tells a
//! token who it is. The check every token request makes is `auth::token`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use blindvault_api::ErrorCode;
use blindvault_api::tokens::{
    CliTokenList, CreateToken, DEFAULT_DAYS, MAX_DAYS, MIN_DAYS, TokenCreated, TokenRevoked, TokenScope,
    TokenWhoami,
};

use crate::audit::Event;
use crate::audit::record::log_in;
use crate::auth::role::Role;
use crate::auth::session::{AdminSession, Session};
use crate::auth::stepup::{self, Action};
use crate::auth::store::tokens as db;
use crate::auth::token;
use crate::error::ApiError;
use crate::http::extract::{ApiJson, check_label};
use crate::state::AppState;

/// How long an ended (revoked or expired) token stays in the lists.
const LISTED_AFTER_END_SECS: i64 = 30 * 86_400;

fn not_found() -> ApiError {
    ApiError::not_found(ErrorCode::TokenNotFound, "no such command-line token")
}

pub(crate) async fn create(
    State(state): State<AppState>,
    s: Session,
    headers: HeaderMap,
    ApiJson(body): ApiJson<CreateToken>,
) -> Result<(StatusCode, Json<TokenCreated>), ApiError> {
    check_label("a token's name", &body.name)?;
    let days = body.expires_in_days.unwrap_or(DEFAULT_DAYS);
    if !(MIN_DAYS..=MAX_DAYS).contains(&days) {
        return Err(ApiError::bad_request(
            ErrorCode::InvalidExpiry,
            format!("a token lives {MIN_DAYS} to {MAX_DAYS} days"),
        ));
    }
    if body.scope == TokenScope::Admin && s.role != Role::Admin {
        return Err(ApiError::forbidden(
            ErrorCode::Forbidden,
            "only an admin may make a token of scope admin",
        ));
    }
    let now = state.clock.now();
    let expires_at = now.saturating_add(days.saturating_mul(86_400));
    let mut tx = state.store.pool().begin().await?;
    let step_up =
        stepup::spend_in(&mut tx, &state, &s, &headers, Action::TokenCreate, body.scope.as_str()).await?;
    let (secret, id) = token::create_in(&mut tx, &s.user_id, &body.name, body.scope, now, expires_at).await?;
    let detail = serde_json::json!({
        "name": body.name, "scope": body.scope.as_str(), "expires_at": expires_at, "step_up": step_up,
    });
    log_in(
        &mut tx,
        &state,
        Event { actor: Some(&s.user_id), action: "token.create", target: Some(&id), detail },
    )
    .await?;
    let info = db::get(&mut tx, &id).await?.ok_or_else(|| ApiError::internal("new token not found"))?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(TokenCreated { token: secret.expose().to_owned(), info })))
}

pub(crate) async fn list_mine(
    State(state): State<AppState>,
    s: Session,
) -> Result<Json<CliTokenList>, ApiError> {
    let since = state.clock.now().saturating_sub(LISTED_AFTER_END_SECS);
    let mut c = state.store.pool().acquire().await?;
    Ok(Json(CliTokenList { tokens: db::list(&mut c, Some(&s.user_id), since).await? }))
}

pub(crate) async fn list_all(
    State(state): State<AppState>,
    AdminSession(_a): AdminSession,
) -> Result<Json<CliTokenList>, ApiError> {
    let since = state.clock.now().saturating_sub(LISTED_AFTER_END_SECS);
    let mut c = state.store.pool().acquire().await?;
    Ok(Json(CliTokenList { tokens: db::list(&mut c, None, since).await? }))
}

pub(crate) async fn revoke(
    State(state): State<AppState>,
    s: Session,
    Path(id): Path<String>,
) -> Result<Json<TokenRevoked>, ApiError> {
    let mut tx = state.store.pool().begin().await?;
    let t = db::get(&mut tx, &id).await?.ok_or_else(not_found)?;
    // Someone else's token is "no such token" unless the caller is an admin.
    if t.user_id != s.user_id && s.role != Role::Admin {
        return Err(not_found());
    }
    if !db::revoke(&mut tx, &id, state.clock.now()).await? {
        return Err(ApiError::not_found(ErrorCode::TokenNotFound, "this token is already revoked"));
    }
    let detail = serde_json::json!({ "owner": t.user_id, "name": t.name, "scope": t.scope.as_str() });
    log_in(
        &mut tx,
        &state,
        Event { actor: Some(&s.user_id), action: "token.revoke", target: Some(&id), detail },
    )
    .await?;
    tx.commit().await?;
    Ok(Json(TokenRevoked { revoked: id }))
}

pub(crate) async fn whoami(State(state): State<AppState>, s: Session) -> Result<Json<TokenWhoami>, ApiError> {
    let t = s.token.as_ref().ok_or_else(token::invalid)?;
    let mut c = state.store.pool().acquire().await?;
    let info = db::get(&mut c, &t.id).await?.ok_or_else(token::invalid)?;
    Ok(Json(TokenWhoami { token: info, role: s.role.as_str().to_owned() }))
}

/// Revokes every token of `user_id` inside `tx` (with their sessions, when an admin ends them
/// all); returns how many were live.
pub(crate) async fn revoke_all_in(
    tx: &mut crate::auth::session::Tx<'_>,
    state: &AppState,
    user_id: &str,
) -> Result<u64, ApiError> {
    db::revoke_all_of(tx, user_id, state.clock.now()).await
}
