//! Usernameless login with a passkey.

use blindvault_api::ErrorCode;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use blindvault_api::ceremony::{CeremonyAnswer, CeremonyStart};
use blindvault_api::sessions::LoggedIn;
use webauthn_rs::prelude::PublicKeyCredential;

use crate::audit::Event;
use crate::audit::record::log_in;
use crate::auth::ceremony::{self as wa, Kind};
use crate::auth::session::{self};
use crate::error::ApiError;
use crate::http::extract::{ApiJson, ClientIp};
use crate::state::AppState;

use crate::accounts::store::load_user_on;
use crate::accounts::with_cookie;
use crate::auth::assertion::verify_login_in;

// ---- login ------------------------------------------------------------------------------------

pub(crate) async fn login_start(State(state): State<AppState>) -> Result<Json<CeremonyStart>, ApiError> {
    let (rcr, auth) = state
        .rp
        .webauthn
        .start_discoverable_authentication()
        .map_err(|e| ApiError::internal(format_args!("start authentication: {e}")))?;
    let options = state.rp.patch_options(&rcr, false)?;
    let id = wa::put_state(&state, Kind::Login, None, &auth).await?;
    Ok(Json(CeremonyStart { ceremony_id: id, options }))
}

pub(crate) async fn login_finish(
    State(state): State<AppState>,
    ClientIp(addr): ClientIp,
    headers: HeaderMap,
    ApiJson(body): ApiJson<CeremonyAnswer<PublicKeyCredential>>,
) -> Result<Response, ApiError> {
    // Re-authentication extends the caller's live session of the same user (looked up before
    // the login's transaction takes a connection of its own).
    let current = match session::token_from_headers(&state.config, &headers) {
        Some(t) => session::authenticate(&state, &t).await.ok(),
        None => None,
    };
    // The challenge is used up first (its own commit); then the passkey's counter, the session
    // (new or extended) and the audit row commit together or not at all.
    let (mut tx, verified) = verify_login_in(&state, &body.ceremony_id, &body.credential).await?;
    let (user_id, cred_id) = (verified.user_id, verified.credential_id);
    // A session revoked since it was read is not extended: a new one is made instead.
    let extended = match current.filter(|s| s.user_id == user_id) {
        Some(s) => session::extend_in(&mut tx, &state, &s).await?.map(|t| (t, s.id)),
        None => None,
    };
    let (token, sess_id, extended) = match extended {
        Some((t, id)) => (t, id, true),
        None => {
            let (t, id) = session::create_in(&mut tx, &state, &user_id, &addr.to_string()).await?;
            (t, id, false)
        }
    };
    let user = load_user_on(&mut tx, &user_id)
        .await?
        .ok_or_else(|| ApiError::unauthorized(ErrorCode::UnknownCredential, "no such user"))?;
    let detail = serde_json::json!({ "credential": cred_id, "session": sess_id, "extended": extended, "addr": addr.to_string() });
    log_in(&mut tx, &state, Event { actor: Some(&user_id), action: "login", target: Some(&user_id), detail })
        .await?;
    tx.commit().await?;
    Ok(with_cookie(
        StatusCode::OK,
        session::cookie(&state.config, &token, state.config.session_ttl_secs),
        LoggedIn { user, credential_id: cred_id, extended },
    ))
}
