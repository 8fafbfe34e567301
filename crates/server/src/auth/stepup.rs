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
//!    (every check of a login, and `auth::strict`); the assertion's user must be
//!    the step-up's. The challenge answers once.
//! 3. The action carries `x-blindvault-step-up: <id>`; `spend_in` checks it is confirmed, the
//!    caller's, for this action and target, unexpired and unused, and marks it used in the
//!    action's own transaction (a failed action leaves it unspent).
//!
//! A step-up lives [`TTL_SECS`] from its start (to confirm and to use).

use crate::auth::store::step_ups::{self as step_up_store, StepUpRow};
use axum::http::{HeaderMap, StatusCode};
use blindvault_api::ErrorCode;
use sha2::{Digest, Sha256};

use crate::auth::session::Session;
use crate::error::ApiError;
use crate::state::AppState;

/// The header a protected action carries: the id of a confirmed step-up.
pub(crate) const HEADER: &str = blindvault_api::paths::STEP_UP_HEADER;

/// How long a step-up lives, from its start: to be confirmed, and to be used.
pub const TTL_SECS: i64 = 300;

/// The label hashed into every step-up challenge.
pub(crate) const LABEL: &[u8] = b"blindvault/v1/step-up";

/// The longest target (bytes).
pub(crate) const TARGET_MAX_LEN: usize = 256;

/// An action that needs a step-up, and how its target is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
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
    /// `PUT /api/wallet/keyring/origin`; target the caller's user id, and the step-up must be
    /// confirmed by the very passkey named as the origin (the first unlock's own ceremony).
    WalletOriginSet,
    /// `PUT /api/wallet/keyring/envelopes/{id}`; target the credential id the envelope is for
    /// (the step-up is the sealing ceremony, by a passkey of the person's that opens the wallet).
    WalletEnvelopePut,
    /// `POST /api/tokens`; target the new token's scope (`admin` or `consumer-read`).
    TokenCreate,
}

impl Action {
    /// Every action.
    pub(crate) const ALL: [Action; 11] = [
        Action::RoleSet,
        Action::UserDelete,
        Action::PasskeyDelete,
        Action::OrgReplace,
        Action::EntryDelete,
        Action::ApproverRemove,
        Action::HostRevoke,
        Action::InviteCreate,
        Action::WalletOriginSet,
        Action::WalletEnvelopePut,
        Action::TokenCreate,
    ];

    /// The wire name (hashed into the challenge).
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Action::RoleSet => "role.set",
            Action::UserDelete => "user.delete",
            Action::PasskeyDelete => "passkey.delete",
            Action::OrgReplace => "org.replace",
            Action::EntryDelete => "entry.delete",
            Action::ApproverRemove => "approver.remove",
            Action::HostRevoke => "host.revoke",
            Action::InviteCreate => "invite.create",
            Action::WalletOriginSet => "wallet.origin.set",
            Action::WalletEnvelopePut => "wallet.envelope.put",
            Action::TokenCreate => "token.create",
        }
    }

    /// Parses a wire name.
    pub(crate) fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// The target of [`Action::RoleSet`]: `<user id>:<role>`.
pub(crate) fn role_target(user_id: &str, role: &str) -> String {
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

/// The status of a step-up row at `now`.
/// The `state` of a step-up whose one answer is being checked right now.
pub(crate) const ANSWERING: &str = "answering";

pub(crate) fn status_of(row: &StepUpRow, now: i64) -> &'static str {
    let (used, cancelled, confirmed) = (row.used_at, row.cancelled_at, row.confirmed_at);
    let (expires_at, challenge_open) = (row.expires_at, row.state.is_some());
    if used.is_some() {
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
    }
}

pub(crate) fn answered() -> ApiError {
    ApiError::conflict(
        ErrorCode::ChallengeInvalid,
        "this step-up's challenge was already answered; start again",
    )
}

pub(crate) fn invalid() -> ApiError {
    ApiError::forbidden(ErrorCode::StepUpInvalid, "no such step-up; start the action again")
}

pub(crate) fn wrong_user() -> ApiError {
    ApiError::forbidden(ErrorCode::WrongUser, "this step-up belongs to another account")
}

pub(crate) fn refusal(status: &str) -> ApiError {
    match status {
        "used" => ApiError::conflict(
            ErrorCode::StepUpUsed,
            "this step-up was already used; confirm the action again",
        ),
        "cancelled" => ApiError::conflict(ErrorCode::StepUpCancelled, "this step-up was cancelled"),
        "expired" => ApiError::new(
            StatusCode::GONE,
            ErrorCode::StepUpExpired,
            "this step-up has expired; confirm the action again",
        ),
        _ => ApiError::forbidden(
            ErrorCode::StepUpNotConfirmed,
            "this step-up is not confirmed yet: confirm it with your passkey first",
        ),
    }
}

pub(crate) fn with_binding(e: ApiError, action: Action, target: &str) -> ApiError {
    let mut extra = serde_json::Map::new();
    extra.insert("action".into(), action.as_str().into());
    extra.insert("target".into(), target.into());
    e.with_extra(extra)
}

/// Spends the caller's step-up for `action` on `target` inside the action's transaction `tx`:
/// the step-up named by the [`HEADER`] must be the caller's, for this action and target,
/// confirmed, unexpired, unused and not cancelled. Returns its id (for the audit row). Every
/// refusal carries the `action` and `target` a step-up needs, so a client can start one.
pub(crate) async fn spend_in(
    tx: &mut crate::auth::session::Tx<'_>,
    state: &AppState,
    s: &Session,
    headers: &HeaderMap,
    action: Action,
    target: &str,
) -> Result<String, ApiError> {
    spend_by_in(tx, state, s, headers, action, target, None).await
}

/// Who a request is, for binding a step-up to its starter: `session:<row id>` for a browser
/// session, `token:<id>` for a command-line token.
pub(crate) fn starter(s: &Session) -> String {
    match &s.token {
        Some(t) => format!("token:{}", t.id),
        None => format!("session:{}", s.id),
    }
}

/// [`spend_in`], and when `by` is given, the step-up must have been confirmed by that passkey
/// (credential id): the action is then bound to the passkey that answered as well.
pub(crate) async fn spend_by_in(
    tx: &mut crate::auth::session::Tx<'_>,
    state: &AppState,
    s: &Session,
    headers: &HeaderMap,
    action: Action,
    target: &str,
    by: Option<&str>,
) -> Result<String, ApiError> {
    let bind = |e| with_binding(e, action, target);
    let id = headers.get(HEADER).and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty());
    let Some(id) = id else {
        return Err(bind(ApiError::forbidden(
            ErrorCode::StepUpRequired,
            "this action needs a fresh passkey confirmation (a step-up) bound to it",
        )));
    };
    let row = step_up_store::get(tx, id).await?.ok_or_else(|| bind(invalid()))?;
    if row.user_id != s.user_id {
        return Err(bind(wrong_user()));
    }
    // Only the browser session or command-line token that started it may spend it: its id is in
    // the audit log, which an admin's token can read.
    if row.started_by.as_deref() != Some(starter(s).as_str()) {
        return Err(bind(ApiError::forbidden(
            ErrorCode::StepUpMismatch,
            "this step-up was started by another session or token of yours: start one here",
        )));
    }
    if row.action != action.as_str() || row.target != target {
        return Err(bind(ApiError::forbidden(
            ErrorCode::StepUpMismatch,
            "this step-up was confirmed for another action or target",
        )));
    }
    let now = state.clock.now();
    match status_of(&row, now) {
        "confirmed" => {}
        other => return Err(bind(refusal(other))),
    }
    if by.is_some_and(|by| row.credential_id.as_deref() != Some(by)) {
        return Err(bind(ApiError::forbidden(
            ErrorCode::StepUpMismatch,
            "this step-up was confirmed by another passkey than the one this action names",
        )));
    }
    if !step_up_store::spend(tx, id, now).await? {
        return Err(bind(refusal("used")));
    }
    Ok(id.to_owned())
}

/// Deletes step-ups a day past their expiry (the sweeper).
pub async fn sweep(state: &AppState) -> Result<u64, ApiError> {
    step_up_store::delete_expired(&state.store, state.clock.now().saturating_sub(86_400)).await
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
