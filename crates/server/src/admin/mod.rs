//! The admin's routes: people, roles, sessions, the audit log and the settings in effect.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use blindvault_api::ErrorCode;
use blindvault_api::admin::{RoleSet, SetRole, Settings, UserDeleted, UserSessions, Users};
use blindvault_api::audit::{AuditQuery, AuditRows, VerifyReport};
use blindvault_api::sessions::SessionsRevoked;

use crate::audit::record::log_in;
use crate::audit::{self, Event};
use crate::auth::role::Role;
use crate::auth::session::{self, AdminSession};
use crate::auth::stepup::Action;
use crate::error::ApiError;
use crate::http::extract::ApiJson;
use crate::state::AppState;
use crate::store::Engine;

use crate::accounts::store::{self as users, load_user};

// ---- admin ------------------------------------------------------------------------------------

pub(crate) async fn admin_users(
    State(state): State<AppState>,
    _a: AdminSession,
) -> Result<Json<Users>, ApiError> {
    let users = users::list(&state.store).await?;
    Ok(Json(Users { users }))
}

pub(crate) async fn admin_delete_user(
    State(state): State<AppState>,
    AdminSession(a): AdminSession,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<UserDeleted>, ApiError> {
    if id == a.user_id {
        return Err(ApiError::conflict(
            ErrorCode::CannotDeleteSelf,
            "an admin cannot delete their own account",
        ));
    }
    // The deletion and its audit row: one transaction; the row names whom the delete removed.
    let mut tx = state.store.pool().begin().await?;
    if !users::exists(&mut tx, &id).await? {
        return Err(ApiError::not_found(ErrorCode::UserNotFound, "no such user"));
    }
    let step_up =
        crate::auth::stepup::spend_in(&mut tx, &state, &a, &headers, Action::UserDelete, &id).await?;
    // Passkeys and sessions go with the user (ON DELETE CASCADE): the next request is refused.
    let gone = users::delete(&mut tx, &id)
        .await?
        .ok_or_else(|| ApiError::not_found(ErrorCode::UserNotFound, "no such user"))?;
    let (name, role) = (gone.name, gone.role);
    // Their open invites die with them (an admin about to be removed cannot leave a way back).
    let invites = crate::invites::revoke_made_by_in(&mut tx, &id, state.clock.now()).await?;
    let detail =
        serde_json::json!({ "name": name, "role": role, "invites_revoked": invites, "step_up": step_up });
    log_in(
        &mut tx,
        &state,
        Event { actor: Some(&a.user_id), action: "admin.user.delete", target: Some(&id), detail },
    )
    .await?;
    tx.commit().await?;
    Ok(Json(UserDeleted { deleted: id }))
}

pub(crate) async fn admin_set_role(
    State(state): State<AppState>,
    AdminSession(a): AdminSession,
    headers: HeaderMap,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SetRole>,
) -> Result<Json<RoleSet>, ApiError> {
    let mut tx = state.store.pool().begin().await?;
    users::lock_roles(&mut tx, state.store.engine()).await?;
    let from = users::role_of(&mut tx, &id)
        .await?
        .ok_or_else(|| ApiError::not_found(ErrorCode::UserNotFound, "no such user"))?;
    if from == "admin" && body.role != Role::Admin {
        let admins = users::count_admins(&mut tx).await?;
        if admins <= 1 {
            return Err(ApiError::conflict(ErrorCode::LastAdmin, "the last admin cannot be demoted"));
        }
    }
    // The new role is part of the target: a step-up to demote cannot promote.
    let target = crate::auth::stepup::role_target(&id, body.role.as_str());
    let step_up =
        crate::auth::stepup::spend_in(&mut tx, &state, &a, &headers, Action::RoleSet, &target).await?;
    users::set_role(&mut tx, &id, body.role).await?;
    // An admin no more: the invites they made and nobody used yet are revoked with the role.
    let invites = if body.role == Role::Admin {
        0
    } else {
        crate::invites::revoke_made_by_in(&mut tx, &id, state.clock.now()).await?
    };
    let detail = serde_json::json!({ "from": from, "to": body.role.as_str(), "invites_revoked": invites, "step_up": step_up });
    log_in(
        &mut tx,
        &state,
        Event { actor: Some(&a.user_id), action: "admin.role.set", target: Some(&id), detail },
    )
    .await?;
    tx.commit().await?;
    Ok(Json(RoleSet { id, role: body.role }))
}

pub(crate) async fn admin_user_sessions(
    State(state): State<AppState>,
    _a: AdminSession,
    Path(id): Path<String>,
) -> Result<Json<UserSessions>, ApiError> {
    Ok(Json(UserSessions { sessions: session::list_for_user(&state, &id).await? }))
}

pub(crate) async fn admin_revoke_user_sessions(
    State(state): State<AppState>,
    AdminSession(a): AdminSession,
    Path(id): Path<String>,
) -> Result<Json<SessionsRevoked>, ApiError> {
    if load_user(&state.store, &id).await?.is_none() {
        return Err(ApiError::not_found(ErrorCode::UserNotFound, "no such user"));
    }
    // The revocation and its audit row: one transaction.
    let mut tx = state.store.pool().begin().await?;
    let n = session::revoke_all_in(&mut tx, &state, &id).await?;
    // Ending a person's access ends their command-line tokens too.
    let tokens = crate::tokens::revoke_all_in(&mut tx, &state, &id).await?;
    log_in(
        &mut tx,
        &state,
        Event {
            actor: Some(&a.user_id),
            action: "admin.user.revoke_sessions",
            target: Some(&id),
            detail: serde_json::json!({ "revoked": n, "tokens_revoked": tokens }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Json(SessionsRevoked { revoked: n }))
}

pub(crate) async fn admin_revoke_session(
    State(state): State<AppState>,
    AdminSession(a): AdminSession,
    Path(id): Path<String>,
) -> Result<Json<SessionsRevoked>, ApiError> {
    // The revocation and its audit row: one transaction.
    let mut tx = state.store.pool().begin().await?;
    if !session::revoke_in(&mut tx, &state, &id).await? {
        return Err(ApiError::not_found(ErrorCode::SessionNotFound, "no such live session"));
    }
    log_in(
        &mut tx,
        &state,
        Event {
            actor: Some(&a.user_id),
            action: "admin.session.revoke",
            target: Some(&id),
            detail: serde_json::json!({}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Json(SessionsRevoked { revoked: 1 }))
}

pub(crate) async fn admin_audit(
    State(state): State<AppState>,
    _a: AdminSession,
    Query(q): Query<AuditQuery>,
) -> Result<Json<AuditRows>, ApiError> {
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let rows = audit::list(&state.store, q.after.max(0), limit).await?;
    Ok(Json(AuditRows { rows }))
}

/// The instance's settings as it runs (read-only: they come from the command line and the
/// environment at start).
pub(crate) async fn admin_settings(
    State(state): State<AppState>,
    _a: AdminSession,
) -> Result<Json<Settings>, ApiError> {
    let c = &state.config;
    Ok(Json(Settings {
        rp_id: c.rp_id(),
        origin: c.origin_header()?,
        rp_name: c.rp_name.clone(),
        session_ttl_secs: c.session_ttl_secs,
        challenge_ttl_secs: c.challenge_ttl_secs,
        rate_limit_per_minute: c.rate_limit_per_minute,
        rate_limit_burst: c.rate_limit_burst,
        account_rate_limit_per_minute: c.account_rate_limit_per_minute,
        account_rate_limit_burst: c.account_rate_limit_burst,
        database: match state.store.engine() {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgresql",
        }
        .to_owned(),
        push_services: c.push.services.clone(),
    }))
}

pub(crate) async fn admin_audit_verify(
    State(state): State<AppState>,
    _a: AdminSession,
) -> Result<Json<VerifyReport>, ApiError> {
    Ok(Json(audit::verify(&state.store).await?))
}
