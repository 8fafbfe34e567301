//! The step-up routes: start, status, confirm, cancel (the spending is `auth::stepup`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use blindvault_api::ErrorCode;
use blindvault_api::step_ups::{ConfirmStepUp, StartStepUp, StepUpCancelled, StepUpConfirmed};
use blindvault_core::encoding::b64;
use rand_core::Rng as _;
use webauthn_rs::prelude::{DiscoverableAuthentication, PublicKeyCredential};

use crate::audit::{self, Event};
use crate::auth::session::Session;
use crate::auth::stepup::{
    ANSWERING, Action, TARGET_MAX_LEN, TTL_SECS, answered, challenge, invalid, refusal, status_of, wrong_user,
};
use crate::auth::store::step_ups::{self as step_up_store, StepUpRow};
use crate::error::ApiError;
use crate::http::extract::ApiJson;
use crate::state::AppState;
use blindvault_api::accounts::StepUpView;

pub(crate) fn check_target(target: &str) -> Result<(), ApiError> {
    if target.is_empty()
        || target.len() > TARGET_MAX_LEN
        || target.chars().any(|c| c.is_control() || blindvault_core::text::refused_in_name(c))
    {
        return Err(ApiError::bad_request(
            ErrorCode::InvalidTarget,
            format!("the target must be 1 to {TARGET_MAX_LEN} bytes of printable text"),
        ));
    }
    Ok(())
}

/// A discoverable authentication whose challenge is `challenge` (webauthn-rs draws its own:
/// it is replaced in both the options and the stored state).
pub(crate) fn bound_authentication(
    state: &AppState,
    challenge: &[u8],
) -> Result<(serde_json::Value, DiscoverableAuthentication), ApiError> {
    let (rcr, auth) = state
        .rp
        .webauthn
        .start_discoverable_authentication()
        .map_err(|e| ApiError::internal(format_args!("start authentication: {e}")))?;
    let text = b64::encode(challenge);
    let mut options = state.rp.patch_options(&rcr, false)?;
    let mut st = serde_json::to_value(&auth).map_err(ApiError::internal)?;
    match (options.pointer_mut("/publicKey/challenge"), st.pointer_mut("/ast/challenge")) {
        (Some(o), Some(s)) if o.is_string() && s.is_string() => {
            *o = serde_json::Value::String(text.clone());
            *s = serde_json::Value::String(text.clone());
        }
        _ => return Err(ApiError::internal("unexpected authentication state shape")),
    }
    let auth: DiscoverableAuthentication = serde_json::from_value(st).map_err(ApiError::internal)?;
    // The replaced challenge must be the one the library will check.
    let back = serde_json::to_value(&auth).map_err(ApiError::internal)?;
    if back.pointer("/ast/challenge").and_then(|c| c.as_str()) != Some(text.as_str()) {
        return Err(ApiError::internal("the bound challenge did not take"));
    }
    Ok((options, auth))
}

pub(crate) async fn start(
    State(state): State<AppState>,
    s: Session,
    ApiJson(body): ApiJson<StartStepUp>,
) -> Result<(StatusCode, Json<StepUpView>), ApiError> {
    let action = Action::parse(&body.action).ok_or_else(|| {
        ApiError::bad_request(
            ErrorCode::InvalidAction,
            "unknown step-up action (see docs/protocol.md, step-up)",
        )
    })?;
    check_target(&body.target)?;
    let mut random = [0u8; 32];
    blindvault_core::rng::os_rng().fill_bytes(&mut random);
    let chal = challenge(&random, action.as_str(), &body.target);
    let (options, auth) = bound_authentication(&state, &chal)?;
    let mut raw = [0u8; 16];
    blindvault_core::rng::os_rng().fill_bytes(&mut raw);
    let id = b64::encode(&raw);
    let now = state.clock.now();
    let expires_at = now.saturating_add(TTL_SECS);
    let options_json = serde_json::to_string(&options).map_err(ApiError::internal)?;
    let state_json = serde_json::to_string(&auth).map_err(ApiError::internal)?;
    let new = step_up_store::NewStepUp {
        id: &id,
        user_id: &s.user_id,
        action: action.as_str(),
        target: &body.target,
        options: &options_json,
        state: &state_json,
        created_at: now,
        expires_at,
        started_by: &crate::auth::stepup::starter(&s),
    };
    step_up_store::insert(&state.store, &new).await?;
    Ok((
        StatusCode::CREATED,
        Json(StepUpView {
            confirm_path: Some(format!("/#/confirm/{id}")),
            id,
            action: action.as_str().to_owned(),
            target: body.target,
            expires_at,
            status: None,
            options: Some(serde_json::to_value(options).map_err(ApiError::internal)?),
        }),
    ))
}

pub(crate) async fn own_row(state: &AppState, s: &Session, id: &str) -> Result<StepUpRow, ApiError> {
    let row = step_up_store::get(&mut *state.store.pool().acquire().await?, id).await?.ok_or_else(invalid)?;
    if row.user_id != s.user_id {
        return Err(wrong_user());
    }
    Ok(row)
}

pub(crate) async fn status(
    State(state): State<AppState>,
    s: Session,
    Path(id): Path<String>,
) -> Result<Json<StepUpView>, ApiError> {
    let row = own_row(&state, &s, &id).await?;
    let st = status_of(&row, state.clock.now());
    let options = if st == "pending" {
        Some(serde_json::from_str(&row.options).map_err(ApiError::internal)?)
    } else {
        None
    };
    Ok(Json(StepUpView {
        id,
        action: row.action,
        target: row.target,
        status: Some(st.to_owned()),
        expires_at: row.expires_at,
        options,
        confirm_path: None,
    }))
}

pub(crate) async fn confirm(
    State(state): State<AppState>,
    s: Session,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ConfirmStepUp<PublicKeyCredential>>,
) -> Result<Json<StepUpConfirmed>, ApiError> {
    let row = own_row(&state, &s, &id).await?;
    match status_of(&row, state.clock.now()) {
        "pending" => {}
        "confirmed" => {
            return Err(ApiError::conflict(ErrorCode::StepUpConfirmed, "this step-up is already confirmed"));
        }
        "failed" => return Err(answered()),
        other => return Err(refusal(other)),
    }
    // The challenge answers once: take the state, leaving the ANSWERING mark while the answer
    // is checked (a second answer, even a concurrent one, finds no state to take; a status poll
    // meanwhile still reads "pending"). A refused answer then clears the mark: "failed".
    let text: String = row.state.clone().filter(|t| t != ANSWERING).ok_or_else(answered)?;
    if !step_up_store::take_challenge(&state.store, &id, &s.user_id, ANSWERING).await? {
        return Err(answered());
    }
    let checked = async {
        let auth: DiscoverableAuthentication = serde_json::from_str(&text).map_err(ApiError::internal)?;
        let verified = crate::auth::assertion::verify_assertion(&state, auth, &body.credential).await?;
        if verified.user_id != s.user_id {
            return Err(ApiError::forbidden(ErrorCode::WrongUser, "that passkey belongs to another account"));
        }
        Ok(verified.credential_id)
    }
    .await;
    let cred_id = match checked {
        Ok(c) => c,
        Err(e) => {
            step_up_store::drop_challenge(&state.store, &id, ANSWERING).await?;
            return Err(e);
        }
    };
    let (action, target) = (row.action, row.target);
    let mut tx = state.store.pool().begin().await?;
    if !step_up_store::confirm(&mut tx, &id, &cred_id, state.clock.now()).await? {
        return Err(ApiError::conflict(
            ErrorCode::StepUpCancelled,
            "the step-up was cancelled or expired meanwhile",
        ));
    }
    audit::append_in(
        &state.store,
        &mut tx,
        state.clock.now(),
        Event {
            actor: Some(&s.user_id),
            action: "step_up.confirm",
            target: Some(&id),
            detail: serde_json::json!({ "action": action, "target": target, "credential": cred_id }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Json(StepUpConfirmed { id, status: "confirmed".to_owned(), action, target }))
}

pub(crate) async fn cancel(
    State(state): State<AppState>,
    s: Session,
    Path(id): Path<String>,
) -> Result<Json<StepUpCancelled>, ApiError> {
    own_row(&state, &s, &id).await?;
    if !step_up_store::cancel(&state.store, &id, state.clock.now()).await? {
        return Err(ApiError::conflict(ErrorCode::StepUpUsed, "this step-up was already used or cancelled"));
    }
    Ok(Json(StepUpCancelled { id, status: "cancelled".to_owned() }))
}
