//! Invite-only registration.
//!
//! Nobody registers without a code: an admin makes single-use invite codes (the web app's
//! Admin → People, `blindvault invite create`, and every `blindvault approver invite` link carries
//! one), and the first admin registers with the setup code the server printed at its first start
//! (then claims the instance with it). Only the SHA-256 of a code is stored. A code is spent in
//! the same transaction that creates the account, so two sign-ups cannot share one. An unknown,
//! used, revoked or expired code and a name already taken get one answer
//! (`403 registration_refused`): the sign-up form tells nobody which names exist.
//!
//! An admin invite needs a step-up (`invite.create`, target `admin`): it makes an admin, as
//! `role.set` does, so a session alone (a stolen cookie) must not make one.

use axum::Json;
use blindvault_api::ErrorCode;
pub(crate) mod store;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};

use crate::audit::{self, Event};
use crate::auth::session::AdminSession;
use crate::auth::stepup::Action as StepUp;
use crate::error::ApiError;
use crate::http::extract::ApiJson;
use crate::state::AppState;
use blindvault_api::accounts::{InviteCreated, InviteView};
use blindvault_api::admin::{CreateInvite, InviteRevoked};

/// The default and the longest life of an invite code.
pub(crate) const DEFAULT_TTL_SECS: i64 = 7 * 86_400;
/// The longest life of an invite code.
pub(crate) const MAX_TTL_SECS: i64 = 30 * 86_400;

/// The one answer to a refused registration.
pub(crate) fn refused() -> ApiError {
    ApiError::forbidden(
        ErrorCode::RegistrationRefused,
        "this invite code is not valid (unknown, used, revoked or expired), or this name is taken",
    )
}

/// What a code presented at registration is.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) enum Admission {
    /// An unspent invite (its id, who made it, the role it gives).
    Invite {
        /// The invite's id.
        id: String,
        /// The admin who made it (user id).
        created_by: String,
        /// The role the new account gets.
        role: String,
    },
    /// The setup code, while no admin exists (the account then claims the instance with it).
    Setup,
}

/// Checks `code` at `now` without spending it.
pub(crate) async fn admit(state: &AppState, code: &str, now: i64) -> Result<Option<Admission>, ApiError> {
    if code.is_empty() || code.len() > 64 {
        return Ok(None);
    }
    let hash = crate::setup::hash(code);
    if let Some(i) = store::find_open(&state.store, &hash, now).await? {
        return Ok(Some(Admission::Invite { id: i.id, created_by: i.created_by, role: i.role }));
    }
    Ok(crate::setup::is_setup_code(&state.store, code).await?.then_some(Admission::Setup))
}

/// Spends the invite `id` for `user_id` inside the registration's transaction; `false` if it was
/// spent, revoked or expired meanwhile.
pub(crate) async fn spend_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: &str,
    user_id: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    store::spend(tx, id, user_id, now).await
}

/// Revokes the open invites `user_id` made (when they are deleted or stop being an admin), in
/// the caller's transaction; returns how many.
pub(crate) async fn revoke_made_by_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user_id: &str,
    now: i64,
) -> Result<u64, sqlx::Error> {
    store::revoke_made_by(tx, user_id, now).await
}

/// A fresh code: 20 characters of the setup code's alphabet in four groups (100 bits).
fn new_code() -> String {
    crate::setup::random_code()
}

pub(crate) async fn create(
    State(state): State<AppState>,
    AdminSession(s): AdminSession,
    headers: HeaderMap,
    ApiJson(body): ApiJson<CreateInvite>,
) -> Result<(StatusCode, Json<InviteCreated>), ApiError> {
    let role = body.role.unwrap_or_else(|| "user".to_owned());
    if role != "user" && role != "admin" {
        return Err(ApiError::bad_request(ErrorCode::InvalidRole, "an invite gives the role user or admin"));
    }
    let ttl = body.expires_in_secs.unwrap_or(DEFAULT_TTL_SECS);
    if !(60..=MAX_TTL_SECS).contains(&ttl) {
        return Err(ApiError::bad_request(
            ErrorCode::InvalidExpiry,
            format!("an invite lives from 60 seconds to {} days", MAX_TTL_SECS / 86_400),
        ));
    }
    let now = state.clock.now();
    let code = new_code();
    let id = crate::broker::common::new_id();
    let expires_at = now + ttl;
    let mut tx = state.store.pool().begin().await?;
    // An admin invite makes an admin, as `role.set` does: it needs a step-up bound to the role.
    // A user invite needs none (a user account has no privilege; promoting it needs `role.set`).
    let step_up = if role == "admin" {
        Some(crate::auth::stepup::spend_in(&mut tx, &state, &s, &headers, StepUp::InviteCreate, &role).await?)
    } else {
        None
    };
    let code_hash = crate::setup::hash(&code);
    let new = store::NewInvite {
        id: &id,
        code_hash: &code_hash,
        role: &role,
        created_by: &s.user_id,
        created_at: now,
        expires_at,
    };
    store::insert(&mut tx, &new).await?;
    let detail = serde_json::json!({ "role": role, "expires_at": expires_at, "step_up": step_up });
    let ev = Event { actor: Some(&s.user_id), action: "invite.created", target: Some(&id), detail };
    audit::append_in(&state.store, &mut tx, now, ev).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(InviteCreated { id, code, role, expires_at })))
}

pub(crate) async fn list(
    State(state): State<AppState>,
    _a: AdminSession,
) -> Result<Json<Vec<InviteView>>, ApiError> {
    let now = state.clock.now();
    let views = store::list(&state.store, now)
        .await?
        .into_iter()
        .map(|r| {
            let status = match (r.used_at, r.revoked_at) {
                (Some(_), _) => "used",
                (None, Some(_)) => "revoked",
                (None, None) if r.expires_at <= now => "expired",
                _ => "open",
            };
            InviteView {
                id: r.id,
                role: r.role,
                created_by: r.created_by,
                created_at: r.created_at,
                expires_at: r.expires_at,
                used_by: r.used_by,
                used_at: r.used_at,
                status: status.to_owned(),
            }
        })
        .collect();
    Ok(Json(views))
}

pub(crate) async fn revoke(
    State(state): State<AppState>,
    AdminSession(s): AdminSession,
    Path(id): Path<String>,
) -> Result<Json<InviteRevoked>, ApiError> {
    let now = state.clock.now();
    let mut tx = state.store.pool().begin().await?;
    if !store::revoke(&mut tx, &id, now).await? {
        return Err(ApiError::not_found(ErrorCode::NoSuchInvite, "no open invite with this id"));
    }
    let ev = Event {
        actor: Some(&s.user_id),
        action: "invite.revoked",
        target: Some(&id),
        detail: serde_json::json!({}),
    };
    audit::append_in(&state.store, &mut tx, now, ev).await?;
    tx.commit().await?;
    Ok(Json(InviteRevoked { revoked: id }))
}

/// Makes an invite without HTTP, as `created_by` (for the test kit, which plays the admin out of
/// band in tests about something else; tests about invites use the routes).
pub async fn create_for_tests(
    store: &crate::store::Store,
    created_by: &str,
    now: i64,
) -> Result<String, sqlx::Error> {
    let code = new_code();
    let id = crate::broker::common::new_id();
    let code_hash = crate::setup::hash(&code);
    let new = store::NewInvite {
        id: &id,
        code_hash: &code_hash,
        role: "user",
        created_by,
        created_at: now,
        expires_at: now + DEFAULT_TTL_SECS,
    };
    store::insert(&mut *store.pool().acquire().await?, &new).await?;
    Ok(code)
}
