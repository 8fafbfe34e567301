//! Registration with an invite (or the setup code): a new account and its first passkey.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use blindvault_api::ceremony::{CeremonyStart, RegisterFinish, RegisterStart};
use blindvault_api::sessions::Registered;
use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::{PasskeyRegistration, RegisterPublicKeyCredential, Uuid};

use crate::audit::Event;
use crate::audit::record::log_in;
use crate::auth::ceremony::{self as wa, Kind};
use crate::auth::session::{self};
use crate::error::ApiError;
use crate::http::extract::{ApiJson, ClientIp, check_label};
use crate::state::AppState;

use crate::accounts::store::{self as users, load_user};
use crate::accounts::with_cookie;
use crate::auth::store::credentials;

// ---- registration -----------------------------------------------------------------------------

#[derive(Serialize, Deserialize)]
pub(crate) struct RegisterState {
    pub(crate) reg: PasskeyRegistration,
    pub(crate) name: String,
    pub(crate) display_name: String,
    pub(crate) admission: crate::invites::Admission,
}

pub(crate) async fn register_start(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<RegisterStart>,
) -> Result<Json<CeremonyStart>, ApiError> {
    check_label("name", &body.name)?;
    let display_name = body.display_name.unwrap_or_else(|| body.name.clone());
    check_label("display_name", &display_name)?;
    // Invite-only: a code from an admin (or the setup code before the first admin). A bad code
    // and a taken name get the same answer, so the form tells nobody which names exist.
    let admission =
        crate::invites::admit(&state, body.invite.as_deref().unwrap_or_default(), state.clock.now())
            .await?
            .ok_or_else(crate::invites::refused)?;
    if users::name_taken(&state.store, &body.name).await? {
        return Err(crate::invites::refused());
    }
    let user_id = Uuid::new_v4();
    let (ccr, reg) = state
        .rp
        .webauthn
        .start_passkey_registration(user_id, &body.name, &display_name, None)
        .map_err(|e| ApiError::internal(format_args!("start registration: {e}")))?;
    let options = state.rp.patch_options(&ccr, true)?;
    let st = RegisterState { reg, name: body.name, display_name, admission };
    let id = wa::put_state(&state, Kind::Register, Some(&user_id.to_string()), &st).await?;
    Ok(Json(CeremonyStart { ceremony_id: id, options }))
}

pub(crate) async fn register_finish(
    State(state): State<AppState>,
    ClientIp(addr): ClientIp,
    ApiJson(body): ApiJson<RegisterFinish<RegisterPublicKeyCredential>>,
) -> Result<Response, ApiError> {
    let (user_id, st): (Option<String>, RegisterState) =
        wa::take_state(&state, Kind::Register, &body.ceremony_id).await?;
    let user_id = user_id.ok_or_else(|| ApiError::internal("registration state without user"))?;
    crate::auth::strict::check_registration(&body.credential)?;
    let passkey = state
        .rp
        .webauthn
        .finish_passkey_registration(&body.credential, &st.reg)
        .map_err(|e| crate::auth::rp::map_error(&e))?;
    let pk_name = body.passkey_name.unwrap_or_else(|| "passkey".to_owned());
    check_label("passkey_name", &pk_name)?;
    let now = state.clock.now();
    let (role, invite, invited_by) = match &st.admission {
        crate::invites::Admission::Invite { id, created_by, role } => {
            (role.as_str(), Some(id), Some(created_by))
        }
        crate::invites::Admission::Setup => ("user", None, None),
    };
    let mut tx = state.store.pool().begin().await?;
    let new = users::NewUser {
        id: &user_id,
        name: &st.name,
        display_name: &st.display_name,
        role,
        created_at: now,
    };
    if !users::insert(&mut tx, &new).await? {
        return Err(crate::invites::refused());
    }
    // The code is spent with the account (one transaction): a second sign-up with it, started
    // meanwhile, is refused here. The setup code stays until the claim.
    let admitted = match invite {
        Some(id) => crate::invites::spend_in(&mut tx, id, &user_id, now).await?,
        None => crate::setup::unclaimed_in(&mut tx).await?,
    };
    if !admitted {
        return Err(crate::invites::refused());
    }
    let cred_id = credentials::insert(&mut tx, &user_id, &pk_name, &passkey, now).await?;
    // The account, its passkey, the spent code, its first session and the audit row: one
    // transaction.
    let (token, sess_id) = session::create_in(&mut tx, &state, &user_id, &addr.to_string()).await?;
    let detail = serde_json::json!({ "credential": cred_id, "session": sess_id, "addr": addr.to_string(),
        "invite": invite, "invited_by": invited_by, "role": role, "setup_code": invite.is_none() });
    log_in(
        &mut tx,
        &state,
        Event { actor: Some(&user_id), action: "user.register", target: Some(&user_id), detail },
    )
    .await?;
    tx.commit().await?;
    let user = load_user(&state.store, &user_id).await?.ok_or_else(|| ApiError::internal("user vanished"))?;
    Ok(with_cookie(
        StatusCode::CREATED,
        session::cookie(&state.config, &token, state.config.session_ttl_secs),
        Registered { user, credential_id: cred_id },
    ))
}
