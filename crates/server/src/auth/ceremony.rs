//! Ceremony state in the database: single-use, short-lived.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use blindvault_api::ErrorCode;
use rand_core::Rng as _;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::Row;

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
    let id = B64.encode(raw);
    let json = serde_json::to_string(value).map_err(ApiError::internal)?;
    sqlx::query("INSERT INTO ceremonies (id, kind, user_id, state, expires_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(&id)
        .bind(kind.as_str())
        .bind(user_id)
        .bind(json)
        .bind(now.saturating_add(state.config.challenge_ttl_secs))
        .execute(state.store.pool())
        .await?;
    Ok(id)
}

/// Takes (deletes and returns) ceremony state: a challenge answers at most once, and only
/// before it expires.
pub(crate) async fn take_state<T: DeserializeOwned>(
    state: &AppState,
    kind: Kind,
    id: &str,
) -> Result<(Option<String>, T), ApiError> {
    let row = sqlx::query(
        "DELETE FROM ceremonies WHERE id = $1 AND kind = $2 RETURNING user_id, state, expires_at",
    )
    .bind(id)
    .bind(kind.as_str())
    .fetch_optional(state.store.pool())
    .await?
    .ok_or_else(|| ApiError::bad_request(ErrorCode::ChallengeInvalid, "unknown or already used challenge"))?;
    let expires_at: i64 = row.try_get("expires_at")?;
    if expires_at <= state.clock.now() {
        return Err(ApiError::bad_request(
            ErrorCode::ChallengeExpired,
            "the challenge has expired; start again",
        ));
    }
    let user_id: Option<String> = row.try_get("user_id")?;
    let json: String = row.try_get("state")?;
    let value = serde_json::from_str(&json).map_err(ApiError::internal)?;
    Ok((user_id, value))
}
