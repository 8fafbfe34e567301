//! Accounts: registration, login, the signed-in person's sessions, logout and the setup claim.

pub(crate) mod login;
pub(crate) mod register;
pub(crate) mod store;

use blindvault_api::ErrorCode;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use blindvault_api::sessions::{Claimed, Me, MySessions, Role, SessionRef, SessionsRevoked, SetupClaim};
use serde::Serialize;

use crate::audit::Event;
use crate::audit::record::log_in;
use crate::auth::session::{self, Session};
use crate::error::ApiError;
use crate::http::extract::ApiJson;
use crate::setup;
use crate::state::AppState;

use crate::accounts::store::load_user;

pub(crate) fn with_cookie(status: StatusCode, cookie: String, body: impl Serialize) -> Response {
    let mut resp = (status, Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
}

// ---- the signed-in user -----------------------------------------------------------------------

pub(crate) async fn me(State(state): State<AppState>, s: Session) -> Result<Json<Me>, ApiError> {
    let user = load_user(&state.store, &s.user_id)
        .await?
        .ok_or_else(|| ApiError::unauthorized(ErrorCode::SessionRevoked, "no such user"))?;
    Ok(Json(Me {
        user,
        session: SessionRef { id: s.id, expires_at: s.expires_at },
        // How long a passkey ceremony may take (the web app times its approval window by it).
        ceremony_ttl_secs: state.config.challenge_ttl_secs,
    }))
}

pub(crate) async fn logout(State(state): State<AppState>, s: Session) -> Result<Response, ApiError> {
    session::revoke(&state, &s.id).await?;
    Ok(with_cookie(StatusCode::OK, session::clear_cookie(&state.config), SessionsRevoked { revoked: 1 }))
}

pub(crate) async fn logout_all(State(state): State<AppState>, s: Session) -> Result<Response, ApiError> {
    // The revocation and its audit row: one transaction.
    let mut tx = state.store.pool().begin().await?;
    let n = session::revoke_all_in(&mut tx, &state, &s.user_id).await?;
    log_in(
        &mut tx,
        &state,
        Event {
            actor: Some(&s.user_id),
            action: "session.revoke_all",
            target: Some(&s.user_id),
            detail: serde_json::json!({ "revoked": n, "from_session": s.id }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(with_cookie(StatusCode::OK, session::clear_cookie(&state.config), SessionsRevoked { revoked: n }))
}

pub(crate) async fn my_sessions(
    State(state): State<AppState>,
    s: Session,
) -> Result<Json<MySessions>, ApiError> {
    let sessions = session::list_for_user(&state, &s.user_id).await?;
    Ok(Json(MySessions { sessions, current: s.id }))
}

pub(crate) async fn setup_claim(
    State(state): State<AppState>,
    s: Session,
    ApiJson(body): ApiJson<SetupClaim>,
) -> Result<Json<Claimed>, ApiError> {
    if body.code.len() > 64 {
        return Err(ApiError::forbidden(ErrorCode::SetupCodeInvalid, "wrong setup code"));
    }
    // The claim (or the failed attempt) and its audit row: one transaction.
    let mut tx = state.store.pool().begin().await?;
    match setup::claim_in(&mut tx, &s.user_id, &body.code).await? {
        setup::Claim::Claimed => {
            log_in(
                &mut tx,
                &state,
                Event {
                    actor: Some(&s.user_id),
                    action: "setup.claim_admin",
                    target: Some(&s.user_id),
                    detail: serde_json::json!({}),
                },
            )
            .await?;
            tx.commit().await?;
            Ok(Json(Claimed { role: Role::Admin }))
        }
        setup::Claim::WrongCode => {
            log_in(
                &mut tx,
                &state,
                Event {
                    actor: Some(&s.user_id),
                    action: "setup.claim_failed",
                    target: None,
                    detail: serde_json::json!({}),
                },
            )
            .await?;
            tx.commit().await?;
            Err(ApiError::forbidden(ErrorCode::SetupCodeInvalid, "wrong setup code"))
        }
        setup::Claim::NotAvailable => {
            Err(ApiError::conflict(ErrorCode::AlreadyClaimed, "this instance already has an admin"))
        }
    }
}
