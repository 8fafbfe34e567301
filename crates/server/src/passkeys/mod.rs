//! A person's passkeys: list, add (after a fresh assertion), rename, remove (with a step-up).

pub mod store;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use webauthn_rs::prelude::{PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential, Uuid};

use crate::audit::Event;
use crate::audit::record::log_in;
use crate::auth::ceremony::{self as wa, Kind};
use crate::auth::session::Session;
use crate::auth::stepup::Action;
use crate::error::ApiError;
use crate::http::extract::{ApiJson, check_label};
use crate::state::AppState;
use crate::store::Engine;

use crate::accounts::store::load_user;
use crate::auth::assertion::verify_login;
use crate::passkeys::store::insert_credential;

// ---- passkeys ---------------------------------------------------------------------------------

#[derive(Debug, Serialize)]
pub(crate) struct PasskeyView {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) created_at: i64,
    pub(crate) last_used_at: Option<i64>,
    pub(crate) sign_count: i64,
    pub(crate) backup_eligible: bool,
    pub(crate) backup_state: bool,
}

pub(crate) async fn passkeys_of(state: &AppState, user_id: &str) -> Result<Vec<PasskeyView>, ApiError> {
    let rows = sqlx::query(
        "SELECT id, name, created_at, last_used_at, sign_count, backup_eligible, backup_state FROM credentials \
         WHERE user_id = $1 ORDER BY created_at, id",
    )
    .bind(user_id)
    .fetch_all(state.store.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(PasskeyView {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                created_at: r.try_get("created_at")?,
                last_used_at: r.try_get("last_used_at")?,
                sign_count: r.try_get("sign_count")?,
                backup_eligible: r.try_get::<i64, _>("backup_eligible")? != 0,
                backup_state: r.try_get::<i64, _>("backup_state")? != 0,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(ApiError::from)
}

pub(crate) async fn list_passkeys(
    State(state): State<AppState>,
    s: Session,
) -> Result<Json<serde_json::Value>, ApiError> {
    Ok(Json(serde_json::json!({ "passkeys": passkeys_of(&state, &s.user_id).await? })))
}

#[derive(Deserialize)]
pub(crate) struct AddStart {
    #[serde(default)]
    pub(crate) name: Option<String>,
    /// A fresh assertion (from `/api/login/start`) by one of the account's passkeys.
    pub(crate) ceremony_id: String,
    pub(crate) credential: PublicKeyCredential,
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
    ApiJson(body): ApiJson<AddStart>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let name = body.name.unwrap_or_else(|| "passkey".to_owned());
    check_label("name", &name)?;
    // A step-up, as for a command-line session: a stolen cookie or CLI token alone cannot add a
    // passkey (which would outlive every session and its revocation).
    let (user_id, _) = verify_login(&state, &body.ceremony_id, &body.credential).await?;
    if user_id != s.user_id {
        return Err(ApiError::forbidden("wrong_user", "that passkey belongs to another account"));
    }
    let user = load_user(&state, &s.user_id)
        .await?
        .ok_or_else(|| ApiError::unauthorized("session_revoked", "no such user"))?;
    let uuid = Uuid::parse_str(&s.user_id).map_err(ApiError::internal)?;
    let rows = sqlx::query("SELECT passkey FROM credentials WHERE user_id = $1")
        .bind(&s.user_id)
        .fetch_all(state.store.pool())
        .await?;
    let mut exclude = Vec::new();
    for r in &rows {
        let json: String = r.try_get("passkey")?;
        let pk: webauthn_rs::prelude::Passkey = serde_json::from_str(&json).map_err(ApiError::internal)?;
        exclude.push(pk.cred_id().clone());
    }
    let (ccr, reg) = state
        .rp
        .webauthn
        .start_passkey_registration(uuid, &user.name, &user.display_name, Some(exclude))
        .map_err(|e| ApiError::internal(format_args!("start registration: {e}")))?;
    let options = state.rp.patch_options(&ccr, true)?;
    let id = wa::put_state(&state, Kind::AddPasskey, Some(&s.user_id), &AddState { reg, name }).await?;
    Ok(Json(serde_json::json!({ "ceremony_id": id, "options": options })))
}

#[derive(Deserialize)]
pub(crate) struct AddFinish {
    pub(crate) ceremony_id: String,
    pub(crate) credential: RegisterPublicKeyCredential,
}

pub(crate) async fn add_passkey_finish(
    State(state): State<AppState>,
    s: Session,
    ApiJson(body): ApiJson<AddFinish>,
) -> Result<Response, ApiError> {
    let (owner, st): (Option<String>, AddState) =
        wa::take_state(&state, Kind::AddPasskey, &body.ceremony_id).await?;
    if owner.as_deref() != Some(s.user_id.as_str()) {
        return Err(ApiError::bad_request("challenge_invalid", "unknown or already used challenge"));
    }
    crate::auth::strict::check_registration(&body.credential)?;
    let passkey = state
        .rp
        .webauthn
        .finish_passkey_registration(&body.credential, &st.reg)
        .map_err(|e| crate::auth::rp::map_error(&e))?;
    let now = state.clock.now();
    let mut tx = state.store.pool().begin().await?;
    let cred_id = insert_credential(&mut tx, &s.user_id, &st.name, &passkey, now).await?;
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
    Ok((StatusCode::CREATED, Json(serde_json::json!({ "credential_id": cred_id }))).into_response())
}

#[derive(Deserialize)]
pub(crate) struct Rename {
    pub(crate) name: String,
}

pub(crate) async fn rename_passkey(
    State(state): State<AppState>,
    s: Session,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Rename>,
) -> Result<Json<serde_json::Value>, ApiError> {
    check_label("name", &body.name)?;
    // The rename and its audit row: one transaction (names are not secrets; the row keeps the
    // old and the new one).
    let mut tx = state.store.pool().begin().await?;
    let old = sqlx::query("SELECT name FROM credentials WHERE id = $1 AND user_id = $2")
        .bind(&id)
        .bind(&s.user_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| ApiError::not_found("passkey_not_found", "no such passkey"))?;
    let old: String = old.try_get("name")?;
    let r = sqlx::query("UPDATE credentials SET name = $1 WHERE id = $2 AND user_id = $3")
        .bind(&body.name)
        .bind(&id)
        .bind(&s.user_id)
        .execute(&mut *tx)
        .await?;
    if r.rows_affected() != 1 {
        return Err(ApiError::not_found("passkey_not_found", "no such passkey"));
    }
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
    Ok(Json(serde_json::json!({ "id": id, "name": body.name })))
}

pub(crate) async fn delete_passkey(
    State(state): State<AppState>,
    s: Session,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let mut tx = state.store.pool().begin().await?;
    if state.store.engine() == Engine::Postgres {
        // Serialise passkey removals of one user so two cannot remove the last two at once.
        sqlx::query("SELECT id FROM users WHERE id = $1 FOR UPDATE")
            .bind(&s.user_id)
            .execute(&mut *tx)
            .await?;
    }
    let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM credentials WHERE user_id = $1")
        .bind(&s.user_id)
        .fetch_one(&mut *tx)
        .await?
        .try_get("n")?;
    let exists = sqlx::query("SELECT id FROM credentials WHERE id = $1 AND user_id = $2")
        .bind(&id)
        .bind(&s.user_id)
        .fetch_optional(&mut *tx)
        .await?;
    if exists.is_none() {
        return Err(ApiError::not_found("passkey_not_found", "no such passkey"));
    }
    if n <= 1 {
        return Err(ApiError::conflict(
            "last_passkey",
            "this is your only passkey; add another before removing it",
        ));
    }
    // A stolen session alone cannot remove a passkey: a fresh assertion bound to this one.
    let step_up =
        crate::auth::stepup::spend_in(&mut tx, &state, &s, &headers, Action::PasskeyDelete, &id).await?;
    sqlx::query("DELETE FROM credentials WHERE id = $1 AND user_id = $2")
        .bind(&id)
        .bind(&s.user_id)
        .execute(&mut *tx)
        .await?;
    log_in(
        &mut tx,
        &state,
        Event {
            actor: Some(&s.user_id),
            action: "passkey.remove",
            target: Some(&id),
            detail: serde_json::json!({ "step_up": step_up }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Json(serde_json::json!({ "removed": id })))
}
