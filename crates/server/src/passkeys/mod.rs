//! A person's passkeys: list, add (after a fresh assertion), rename, remove (with a step-up).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use blindvault_api::ErrorCode;
use blindvault_api::ceremony::{AddPasskeyStart, CeremonyAnswer, CeremonyStart};
use blindvault_api::passkeys::{PasskeyAdded, PasskeyRemoved, PasskeyRenamed, Passkeys, RenamePasskey};
use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::{PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential, Uuid};

use crate::audit::Event;
use crate::audit::record::log_in;
use crate::auth::ceremony::{self as wa, Kind};
use crate::auth::session::Session;
use crate::auth::stepup::Action;
use crate::error::ApiError;
use crate::http::extract::{ApiJson, check_label};
use crate::state::AppState;

use crate::accounts::store::load_user;
use crate::auth::assertion::verify_login;
use crate::auth::store::credentials;

// ---- passkeys ---------------------------------------------------------------------------------

pub(crate) async fn list_passkeys(
    State(state): State<AppState>,
    s: Session,
) -> Result<Json<Passkeys>, ApiError> {
    let passkeys = credentials::list(&mut *state.store.pool().acquire().await?, &s.user_id).await?;
    Ok(Json(Passkeys { passkeys }))
}

#[derive(Serialize, Deserialize)]
pub(crate) struct AddState {
    pub(crate) reg: PasskeyRegistration,
    pub(crate) name: String,
}

/// Starts adding a passkey to the signed-in account, after a fresh assertion by one it has.
pub(crate) async fn add_passkey_start(
    State(state): State<AppState>,
    s: Session,
    ApiJson(body): ApiJson<AddPasskeyStart<PublicKeyCredential>>,
) -> Result<Json<CeremonyStart>, ApiError> {
    let name = body.name.unwrap_or_else(|| "passkey".to_owned());
    check_label("name", &name)?;
    // A step-up, as for a command-line session: a stolen cookie or CLI token alone cannot add a
    // passkey (which would outlive every session and its revocation).
    let verified = verify_login(&state, &body.ceremony_id, &body.credential).await?;
    if verified.user_id != s.user_id {
        return Err(ApiError::forbidden(ErrorCode::WrongUser, "that passkey belongs to another account"));
    }
    let user = load_user(&state.store, &s.user_id)
        .await?
        .ok_or_else(|| ApiError::unauthorized(ErrorCode::SessionRevoked, "no such user"))?;
    let uuid = Uuid::parse_str(&s.user_id).map_err(ApiError::internal)?;
    let exclude = credentials::all_of(&mut *state.store.pool().acquire().await?, &s.user_id)
        .await?
        .iter()
        .map(|pk| pk.cred_id().clone())
        .collect();
    let (ccr, reg) = state
        .rp
        .webauthn
        .start_passkey_registration(uuid, &user.name, &user.display_name, Some(exclude))
        .map_err(|e| ApiError::internal(format_args!("start registration: {e}")))?;
    let options = state.rp.patch_options(&ccr, true)?;
    let id = wa::put_state(&state, Kind::AddPasskey, Some(&s.user_id), &AddState { reg, name }).await?;
    Ok(Json(CeremonyStart { ceremony_id: id, options }))
}

pub(crate) async fn add_passkey_finish(
    State(state): State<AppState>,
    s: Session,
    ApiJson(body): ApiJson<CeremonyAnswer<RegisterPublicKeyCredential>>,
) -> Result<Response, ApiError> {
    let (owner, st): (Option<String>, AddState) =
        wa::take_state(&state, Kind::AddPasskey, &body.ceremony_id).await?;
    if owner.as_deref() != Some(s.user_id.as_str()) {
        return Err(ApiError::bad_request(ErrorCode::ChallengeInvalid, "unknown or already used challenge"));
    }
    crate::auth::strict::check_registration(&body.credential)?;
    let passkey = state
        .rp
        .webauthn
        .finish_passkey_registration(&body.credential, &st.reg)
        .map_err(|e| crate::auth::rp::map_error(&e))?;
    let now = state.clock.now();
    let mut tx = state.store.pool().begin().await?;
    let cred_id = credentials::insert(&mut tx, &s.user_id, &st.name, &passkey, now).await?;
    log_in(
        &mut tx,
        &state,
        Event {
            actor: Some(&s.user_id),
            action: "passkey.add",
            target: Some(&cred_id),
            detail: serde_json::json!({ "name": st.name }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(PasskeyAdded { credential_id: cred_id })).into_response())
}

pub(crate) async fn rename_passkey(
    State(state): State<AppState>,
    s: Session,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RenamePasskey>,
) -> Result<Json<PasskeyRenamed>, ApiError> {
    check_label("name", &body.name)?;
    // The rename and its audit row: one transaction (names are not secrets; the row keeps the
    // old and the new one).
    let mut tx = state.store.pool().begin().await?;
    let old = credentials::rename(&mut tx, &id, &s.user_id, &body.name)
        .await?
        .ok_or_else(|| ApiError::not_found(ErrorCode::PasskeyNotFound, "no such passkey"))?;
    log_in(
        &mut tx,
        &state,
        Event {
            actor: Some(&s.user_id),
            action: "passkey.rename",
            target: Some(&id),
            detail: serde_json::json!({ "from": old, "to": body.name }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Json(PasskeyRenamed { id, name: body.name }))
}

pub(crate) async fn delete_passkey(
    State(state): State<AppState>,
    s: Session,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<PasskeyRemoved>, ApiError> {
    let mut tx = state.store.pool().begin().await?;
    // Under the user's lock on PostgreSQL: two removals cannot remove the last two at once.
    let check = credentials::removal_check(&mut tx, state.store.engine(), &id, &s.user_id).await?;
    if !check.exists {
        return Err(ApiError::not_found(ErrorCode::PasskeyNotFound, "no such passkey"));
    }
    if check.count <= 1 {
        return Err(ApiError::conflict(
            ErrorCode::LastPasskey,
            "this is your only passkey; add another before removing it",
        ));
    }
    // A stolen session alone cannot remove a passkey: a fresh assertion bound to this one.
    let step_up =
        crate::auth::stepup::spend_in(&mut tx, &state, &s, &headers, Action::PasskeyDelete, &id).await?;
    // Its wallet envelope goes with it (docs/wallet.md, "More than one device").
    let wallet_envelope = crate::wallet::store::keyring::delete_envelope(&mut tx, &s.user_id, &id).await?;
    credentials::delete(&mut tx, &id, &s.user_id).await?;
    log_in(
        &mut tx,
        &state,
        Event {
            actor: Some(&s.user_id),
            action: "passkey.remove",
            target: Some(&id),
            detail: serde_json::json!({ "step_up": step_up, "wallet_envelope_removed": wallet_envelope }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Json(PasskeyRemoved { removed: id }))
}
