//! Ceremony state in the database: single-use, short-lived.

use blindvault_api::ErrorCode;
use blindvault_core::encoding::b64;
use rand_core::Rng as _;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::auth::store::ceremonies as db;
use crate::error::ApiError;
use crate::state::AppState;

/// Ceremony kinds kept in the `ceremonies` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// New account registration.
    Register,
    /// Adding a passkey to a signed-in account.
    AddPasskey,
    /// Usernameless login.
    Login,
    /// A broker approval (an assertion bound to one request and one user).
    Approve,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Register => "register",
            Kind::AddPasskey => "add_passkey",
            Kind::Login => "login",
            Kind::Approve => "approve",
        }
    }
}

/// Stores ceremony state and returns its id (random, 128 bits).
pub async fn put_state(
    state: &AppState,
    kind: Kind,
    user_id: Option<&str>,
    value: &impl Serialize,
) -> Result<String, ApiError> {
    let now = state.clock.now();
    // Stale ceremonies are deleted by the background sweeper (`broker::sweeper`), not here.
    let mut raw = [0u8; 16];
    blindvault_core::rng::os_rng().fill_bytes(&mut raw);
    let id = b64::encode(&raw);
    let json = serde_json::to_string(value).map_err(ApiError::internal)?;
    let new = db::NewCeremony {
        id: &id,
        kind: kind.as_str(),
        user_id,
        state: &json,
        expires_at: now.saturating_add(state.config.challenge_ttl_secs),
    };
    db::insert(&mut *state.store.pool().acquire().await?, &new).await?;
    Ok(id)
}

/// Takes (deletes and returns) ceremony state: a challenge answers at most once, and only
/// before it expires.
pub(crate) async fn take_state<T: DeserializeOwned>(
    state: &AppState,
    kind: Kind,
    id: &str,
) -> Result<(Option<String>, T), ApiError> {
    take_state_on(&mut *state.store.pool().acquire().await?, state, kind, id).await
}

/// [`take_state`] on the caller's connection or transaction (the deletion commits with it).
pub(crate) async fn take_state_on<T: DeserializeOwned>(
    c: &mut sqlx::AnyConnection,
    state: &AppState,
    kind: Kind,
    id: &str,
) -> Result<(Option<String>, T), ApiError> {
    let row = db::take(c, id, kind.as_str()).await?.ok_or_else(|| {
        ApiError::bad_request(ErrorCode::ChallengeInvalid, "unknown or already used challenge")
    })?;
    if row.expires_at <= state.clock.now() {
        return Err(ApiError::bad_request(
            ErrorCode::ChallengeExpired,
            "the challenge has expired; start again",
        ));
    }
    let value = serde_json::from_str(&row.state).map_err(ApiError::internal)?;
    Ok((row.user_id, value))
}
