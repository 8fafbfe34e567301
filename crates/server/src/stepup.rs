//! Step-up: a fresh passkey assertion, bound to one destructive or privilege action and its
//! target, that the action spends. A session alone (a stolen cookie or command-line token) can
//! no longer set a role, make an admin invite, delete a user or a passkey, replace the org key,
//! delete an entry, remove an approver or revoke a host.
//!
//! 1. `POST /api/step-up/start {action, target}` (a session) stores a step-up for the caller and
//!    returns WebAuthn request options whose challenge is
//!    `random(32) ‖ SHA-256("blindvault/v1/step-up" ‖ u32be(len action) ‖ action ‖
//!    u32be(len target) ‖ target)` ([`challenge`]): the assertion itself says what it allows.
//! 2. `POST /api/step-up/{id}/confirm {credential}` (the same person's session, in the web app —
//!    possibly another device than the command line that started it) verifies the assertion
//!    (every check of a login, and [`crate::webauthn::strict`]); the assertion's user must be
//!    the step-up's. The challenge answers once.
//! 3. The action carries `x-blindvault-step-up: <id>`; [`spend_in`] checks it is confirmed, the
//!    caller's, for this action and target, unexpired and unused, and marks it used in the
//!    action's own transaction (a failed action leaves it unspent).
//!
//! A step-up lives [`TTL_SECS`] from its start (to confirm and to use).

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use rand_core::Rng as _;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use sqlx::Row;
use webauthn_rs::prelude::{DiscoverableAuthentication, PublicKeyCredential};

use crate::AppState;
use crate::api::ApiJson;
use crate::audit::{self, Event};
use crate::error::ApiError;
use crate::session::Session;

/// The header a protected action carries: the id of a confirmed step-up.
pub const HEADER: &str = "x-blindvault-step-up";

/// How long a step-up lives, from its start: to be confirmed, and to be used.
pub const TTL_SECS: i64 = 300;

/// The label hashed into every step-up challenge.
pub const LABEL: &[u8] = b"blindvault/v1/step-up";

/// The longest target (bytes).
pub const TARGET_MAX_LEN: usize = 256;

/// An action that needs a step-up, and how its target is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// `PUT /api/admin/users/{id}/role`; target `<user id>:<role>` (the new role is bound too).
    RoleSet,
    /// `DELETE /api/admin/users/{id}`; target the user id.
    UserDelete,
    /// `DELETE /api/passkeys/{id}`; target the credential id.
    PasskeyDelete,
    /// `PUT /api/broker/org` replacing a set key; target the new key's fingerprint.
    OrgReplace,
    /// `DELETE /api/broker/entries/{id}`; target the entry id.
    EntryDelete,
    /// `DELETE /api/broker/enrolments/{id}` (not a dry run); target the enrolment id.
    ApproverRemove,
    /// `POST /api/broker/hosts/{id}/revoke`; target the certificate id.
    HostRevoke,
    /// `POST /api/admin/invites` with role `admin`; target the role (`admin`). A user invite
    /// needs none: a user account has no privilege, and promoting it needs [`Action::RoleSet`].
    InviteCreate,
}

impl Action {
    /// Every action.
    pub const ALL: [Action; 8] = [
        Action::RoleSet,
        Action::UserDelete,
        Action::PasskeyDelete,
        Action::OrgReplace,
        Action::EntryDelete,
        Action::ApproverRemove,
        Action::HostRevoke,
        Action::InviteCreate,
    ];

    /// The wire name (hashed into the challenge).
    pub fn as_str(self) -> &'static str {
        match self {
            Action::RoleSet => "role.set",
            Action::UserDelete => "user.delete",
            Action::PasskeyDelete => "passkey.delete",
            Action::OrgReplace => "org.replace",
            Action::EntryDelete => "entry.delete",
            Action::ApproverRemove => "approver.remove",
            Action::HostRevoke => "host.revoke",
            Action::InviteCreate => "invite.create",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// The target of [`Action::RoleSet`]: `<user id>:<role>`.
pub fn role_target(user_id: &str, role: &str) -> String {
    format!("{user_id}:{role}")
}

/// `SHA-256(LABEL ‖ u32be(len action) ‖ action ‖ u32be(len target) ‖ target)`.
pub fn binding(action: &str, target: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(LABEL);
    for part in [action.as_bytes(), target.as_bytes()] {
        h.update(u32::try_from(part.len()).unwrap_or(u32::MAX).to_be_bytes());
        h.update(part);
    }
    h.finalize().into()
}

/// The 64-byte challenge: `random ‖ binding(action, target)`.
pub fn challenge(random: &[u8; 32], action: &str, target: &str) -> [u8; 64] {
    let mut out = [0u8; 64];
    out[..32].copy_from_slice(random);
    out[32..].copy_from_slice(&binding(action, target));
    out
}

/// Routes of the step-up ceremony (`start` and `confirm` go through the per-address limit).
pub fn routes() -> (Router<AppState>, Router<AppState>) {
    let limited = Router::new()
        .route("/api/step-up/start", post(start))
        .route("/api/step-up/{id}/confirm", post(confirm));
    let open =
        Router::new().route("/api/step-up/{id}", get(status)).route("/api/step-up/{id}/cancel", post(cancel));
    (limited, open)
}

fn check_target(target: &str) -> Result<(), ApiError> {
    if target.is_empty()
        || target.len() > TARGET_MAX_LEN
        || target.chars().any(|c| c.is_control() || blindvault_core::text::refused_in_name(c))
    {
        return Err(ApiError::bad_request(
            "invalid_target",
            format!("the target must be 1 to {TARGET_MAX_LEN} bytes of printable text"),
        ));
    }
    Ok(())
}

#[derive(Deserialize)]
struct StartBody {
    action: String,
    target: String,
}

/// A discoverable authentication whose challenge is `challenge` (webauthn-rs draws its own:
/// it is replaced in both the options and the stored state).
fn bound_authentication(
    state: &AppState,
    challenge: &[u8],
) -> Result<(serde_json::Value, DiscoverableAuthentication), ApiError> {
    let (rcr, auth) = state
        .rp
        .webauthn
        .start_discoverable_authentication()
        .map_err(|e| ApiError::internal(format_args!("start authentication: {e}")))?;
    let text = B64.encode(challenge);
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

async fn start(
    State(state): State<AppState>,
    s: Session,
    ApiJson(body): ApiJson<StartBody>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let action = Action::parse(&body.action).ok_or_else(|| {
        ApiError::bad_request("invalid_action", "unknown step-up action (see docs/protocol.md, step-up)")
    })?;
    check_target(&body.target)?;
    let mut random = [0u8; 32];
    blindvault_core::rng::os_rng().fill_bytes(&mut random);
    let chal = challenge(&random, action.as_str(), &body.target);
    let (options, auth) = bound_authentication(&state, &chal)?;
    let mut raw = [0u8; 16];
    blindvault_core::rng::os_rng().fill_bytes(&mut raw);
    let id = B64.encode(raw);
    let now = state.clock.now();
    let expires_at = now.saturating_add(TTL_SECS);
    sqlx::query(
        "INSERT INTO step_ups (id, user_id, action, target, options, state, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&id)
    .bind(&s.user_id)
    .bind(action.as_str())
    .bind(&body.target)
    .bind(serde_json::to_string(&options).map_err(ApiError::internal)?)
    .bind(serde_json::to_string(&auth).map_err(ApiError::internal)?)
    .bind(now)
    .bind(expires_at)
    .execute(state.store.pool())
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({
            "id": id,
            "action": action.as_str(),
            "target": body.target,
            "expires_at": expires_at,
            "options": options,
            "confirm_path": format!("/#/confirm/{id}"),
        })),
    ))
}

/// The status of a step-up row at `now`.
/// The `state` of a step-up whose one answer is being checked right now.
const ANSWERING: &str = "answering";

fn status_of(row: &sqlx::any::AnyRow, now: i64) -> Result<&'static str, ApiError> {
    let used: Option<i64> = row.try_get("used_at")?;
    let cancelled: Option<i64> = row.try_get("cancelled_at")?;
    let confirmed: Option<i64> = row.try_get("confirmed_at")?;
    let expires_at: i64 = row.try_get("expires_at")?;
    let challenge_open = row.try_get::<Option<String>, _>("state")?.is_some();
    Ok(if used.is_some() {
        "used"
    } else if cancelled.is_some() {
        "cancelled"
    } else if expires_at <= now {
        "expired"
    } else if confirmed.is_some() {
        "confirmed"
    } else if challenge_open {
        // Also while an answer is being checked (`ANSWERING`): a poll in that moment must not
        // read "failed".
        "pending"
    } else {
        // The challenge was answered, and the answer refused: start again.
        "failed"
    })
}

async fn own_row(state: &AppState, s: &Session, id: &str) -> Result<sqlx::any::AnyRow, ApiError> {
    let row = sqlx::query(
        "SELECT user_id, action, target, options, state, expires_at, confirmed_at, used_at, cancelled_at \
         FROM step_ups WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(state.store.pool())
    .await?
    .ok_or_else(invalid)?;
    if row.try_get::<String, _>("user_id")? != s.user_id {
        return Err(wrong_user());
    }
    Ok(row)
}

fn answered() -> ApiError {
    ApiError::conflict("challenge_invalid", "this step-up's challenge was already answered; start again")
}

fn invalid() -> ApiError {
    ApiError::forbidden("step_up_invalid", "no such step-up; start the action again")
}

fn wrong_user() -> ApiError {
    ApiError::forbidden("wrong_user", "this step-up belongs to another account")
}

async fn status(
    State(state): State<AppState>,
    s: Session,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let row = own_row(&state, &s, &id).await?;
    let st = status_of(&row, state.clock.now())?;
    let options = if st == "pending" {
        let text: String = row.try_get("options")?;
        serde_json::from_str(&text).map_err(ApiError::internal)?
    } else {
        serde_json::Value::Null
    };
    Ok(Json(serde_json::json!({
        "id": id,
        "action": row.try_get::<String, _>("action")?,
        "target": row.try_get::<String, _>("target")?,
        "status": st,
        "expires_at": row.try_get::<i64, _>("expires_at")?,
        "options": options,
    })))
}

#[derive(Deserialize)]
struct ConfirmBody {
    credential: PublicKeyCredential,
}

async fn confirm(
    State(state): State<AppState>,
    s: Session,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ConfirmBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let row = own_row(&state, &s, &id).await?;
    match status_of(&row, state.clock.now())? {
        "pending" => {}
        "confirmed" => {
            return Err(ApiError::conflict("step_up_confirmed", "this step-up is already confirmed"));
        }
        "failed" => return Err(answered()),
        other => return Err(refusal(other)),
    }
    // The challenge answers once: take the state, leaving the ANSWERING mark while the answer
    // is checked (a second answer, even a concurrent one, finds no state to take; a status poll
    // meanwhile still reads "pending"). A refused answer then clears the mark: "failed".
    let text: String =
        row.try_get::<Option<String>, _>("state")?.filter(|t| t != ANSWERING).ok_or_else(answered)?;
    let taken = sqlx::query(
        "UPDATE step_ups SET state = $3 WHERE id = $1 AND user_id = $2 AND state IS NOT NULL \
         AND state <> $3 AND cancelled_at IS NULL",
    )
    .bind(&id)
    .bind(&s.user_id)
    .bind(ANSWERING)
    .execute(state.store.pool())
    .await?;
    if taken.rows_affected() != 1 {
        return Err(answered());
    }
    let checked = async {
        let auth: DiscoverableAuthentication = serde_json::from_str(&text).map_err(ApiError::internal)?;
        let (user_id, cred_id) = crate::api::verify_assertion(&state, auth, &body.credential).await?;
        if user_id != s.user_id {
            return Err(ApiError::forbidden("wrong_user", "that passkey belongs to another account"));
        }
        Ok(cred_id)
    }
    .await;
    let cred_id = match checked {
        Ok(c) => c,
        Err(e) => {
            sqlx::query("UPDATE step_ups SET state = NULL WHERE id = $1 AND state = $2")
                .bind(&id)
                .bind(ANSWERING)
                .execute(state.store.pool())
                .await?;
            return Err(e);
        }
    };
    let action: String = row.try_get("action")?;
    let target: String = row.try_get("target")?;
    let mut tx = state.store.pool().begin().await?;
    let r = sqlx::query(
        "UPDATE step_ups SET confirmed_at = $1, credential_id = $2, state = NULL WHERE id = $3 \
         AND confirmed_at IS NULL AND cancelled_at IS NULL AND expires_at > $1",
    )
    .bind(state.clock.now())
    .bind(&cred_id)
    .bind(&id)
    .execute(&mut *tx)
    .await?;
    if r.rows_affected() != 1 {
        return Err(ApiError::conflict(
            "step_up_cancelled",
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
    Ok(Json(serde_json::json!({ "id": id, "status": "confirmed", "action": action, "target": target })))
}

async fn cancel(
    State(state): State<AppState>,
    s: Session,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    own_row(&state, &s, &id).await?;
    let r = sqlx::query(
        "UPDATE step_ups SET cancelled_at = $1, state = NULL WHERE id = $2 AND used_at IS NULL AND cancelled_at IS NULL",
    )
    .bind(state.clock.now())
    .bind(&id)
    .execute(state.store.pool())
    .await?;
    if r.rows_affected() != 1 {
        return Err(ApiError::conflict("step_up_used", "this step-up was already used or cancelled"));
    }
    Ok(Json(serde_json::json!({ "id": id, "status": "cancelled" })))
}

fn refusal(status: &str) -> ApiError {
    match status {
        "used" => {
            ApiError::conflict("step_up_used", "this step-up was already used; confirm the action again")
        }
        "cancelled" => ApiError::conflict("step_up_cancelled", "this step-up was cancelled"),
        "expired" => ApiError::new(
            StatusCode::GONE,
            "step_up_expired",
            "this step-up has expired; confirm the action again",
        ),
        _ => ApiError::forbidden(
            "step_up_not_confirmed",
            "this step-up is not confirmed yet: confirm it with your passkey first",
        ),
    }
}

fn with_binding(e: ApiError, action: Action, target: &str) -> ApiError {
    let mut extra = serde_json::Map::new();
    extra.insert("action".into(), action.as_str().into());
    extra.insert("target".into(), target.into());
    e.with_extra(extra)
}

/// Spends the caller's step-up for `action` on `target` inside the action's transaction `tx`:
/// the step-up named by the [`HEADER`] must be the caller's, for this action and target,
/// confirmed, unexpired, unused and not cancelled. Returns its id (for the audit row). Every
/// refusal carries the `action` and `target` a step-up needs, so a client can start one.
pub async fn spend_in(
    tx: &mut crate::session::Tx<'_>,
    state: &AppState,
    s: &Session,
    headers: &HeaderMap,
    action: Action,
    target: &str,
) -> Result<String, ApiError> {
    let bind = |e| with_binding(e, action, target);
    let id = headers.get(HEADER).and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty());
    let Some(id) = id else {
        return Err(bind(ApiError::forbidden(
            "step_up_required",
            "this action needs a fresh passkey confirmation (a step-up) bound to it",
        )));
    };
    let row = sqlx::query(
        "SELECT user_id, action, target, state, expires_at, confirmed_at, used_at, cancelled_at FROM step_ups \
         WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or_else(|| bind(invalid()))?;
    if row.try_get::<String, _>("user_id")? != s.user_id {
        return Err(bind(wrong_user()));
    }
    if row.try_get::<String, _>("action")? != action.as_str() || row.try_get::<String, _>("target")? != target
    {
        return Err(bind(ApiError::forbidden(
            "step_up_mismatch",
            "this step-up was confirmed for another action or target",
        )));
    }
    let now = state.clock.now();
    match status_of(&row, now)? {
        "confirmed" => {}
        other => return Err(bind(refusal(other))),
    }
    let r = sqlx::query(
        "UPDATE step_ups SET used_at = $1 WHERE id = $2 AND used_at IS NULL AND cancelled_at IS NULL \
         AND confirmed_at IS NOT NULL AND expires_at > $1",
    )
    .bind(now)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    if r.rows_affected() != 1 {
        return Err(bind(refusal("used")));
    }
    Ok(id.to_owned())
}

/// Deletes step-ups a day past their expiry (the sweeper).
pub async fn sweep(state: &AppState) -> Result<u64, ApiError> {
    let r = sqlx::query("DELETE FROM step_ups WHERE expires_at <= $1")
        .bind(state.clock.now().saturating_sub(86_400))
        .execute(state.store.pool())
        .await?;
    Ok(r.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binding_bytes() {
        // The hashed input, byte by byte (docs/protocol.md, step-up).
        let mut input = b"blindvault/v1/step-up".to_vec();
        input.extend_from_slice(&[0, 0, 0, 11]);
        input.extend_from_slice(b"host.revoke");
        input.extend_from_slice(&[0, 0, 0, 3]);
        input.extend_from_slice(b"abc");
        let want: [u8; 32] = Sha256::digest(&input).into();
        assert_eq!(binding("host.revoke", "abc"), want);
        // docs/protocol.md §7.5's vectors.
        assert_eq!(hex::encode(want), "53308be7f095a5ed001ce5304f310eaad2a6d2de8e34c2dd1b9a24d390754ded");
        assert_eq!(
            hex::encode(binding("role.set", "0b7e4a1c-5d2f-4e8a-9b61-3c0d2e9f7a15:admin")),
            "a5f08809dd9831510dc96a7f38f77b33d360aed5d789f7a4044aa772d2c77c11"
        );
        assert_ne!(binding("host.revoke", "abc"), binding("host.revok", "eabc"));
        let c = challenge(&[7; 32], "host.revoke", "abc");
        assert_eq!(&c[..32], &[7; 32]);
        assert_eq!(&c[32..], &want);
        for a in Action::ALL {
            assert_eq!(Action::parse(a.as_str()), Some(a));
        }
        assert_eq!(Action::parse("root.everything"), None);
    }
}
