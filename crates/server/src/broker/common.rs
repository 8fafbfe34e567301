//! What the broker's handlers share: encodings, the org key, the audit row, common refusals.

use blindvault_api::ErrorCode;
use blindvault_core::ids::RequestId;
use blindvault_core::keys::OrgPublicKey;

pub(crate) use super::codec::{b64, unb64};
use crate::audit::{self, Event};
use crate::auth::role::Role;
use crate::auth::session::Session;
use crate::error::ApiError;
use crate::state::AppState;

/// The consumer's request endpoint (exempt from the `Origin` check: hosts authenticate by
/// signature, and the handler reads no cookie).
pub(crate) const CONSUMER_REQUESTS_PATH: &str = blindvault_api::paths::BROKER_REQUESTS;

/// The state-changing calls of consumer hosts, exempt from the `Origin` check: a new request
/// (authenticated by its signature) and the withdrawal of one (by its poll token). Neither
/// handler reads a cookie, so a cross-site page has no ambient authority to use.
pub(crate) fn is_consumer_call(path: &str) -> bool {
    path == CONSUMER_REQUESTS_PATH
        || path
            .strip_prefix(CONSUMER_REQUESTS_PATH)
            .and_then(|rest| rest.strip_prefix('/'))
            .and_then(|rest| rest.strip_suffix("/cancel"))
            .is_some_and(|id| !id.is_empty() && !id.contains('/'))
}

pub(crate) fn core_err(code: ErrorCode, e: blindvault_core::Error) -> ApiError {
    // Core errors never carry secret material; they name the failed check.
    ApiError::bad_request(code, e.to_string())
}

pub(crate) fn require_approver(s: &Session) -> Result<(), ApiError> {
    if matches!(s.role, Role::Approver | Role::Admin) {
        Ok(())
    } else {
        Err(ApiError::forbidden(ErrorCode::Forbidden, "this needs the approver role"))
    }
}

/// Appends an audit row inside `tx` (the handler's own transaction: the action and its row
/// commit together).
pub(crate) async fn log_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    state: &AppState,
    actor: Option<&str>,
    action: &str,
    target: Option<&str>,
    detail: serde_json::Value,
) -> Result<(), ApiError> {
    audit::append_in(&state.store, tx, state.clock.now(), Event { actor, action, target, detail }).await?;
    Ok(())
}

/// One pooled connection for all of a handler's statements (a checkout per statement costs
/// more than the statement on SQLite).
pub(crate) async fn conn(state: &AppState) -> Result<PoolConn, ApiError> {
    Ok(state.store.pool().acquire().await?)
}

pub(crate) type PoolConn = sqlx::pool::PoolConnection<sqlx::Any>;

/// The org public key and its generation, if set.
pub(crate) async fn org(state: &AppState) -> Result<Option<(OrgPublicKey, i64)>, ApiError> {
    org_on(&mut *conn(state).await?).await
}

pub(crate) async fn org_on(c: &mut sqlx::AnyConnection) -> Result<Option<(OrgPublicKey, i64)>, ApiError> {
    Ok(super::store::org::get(c).await?.map(|o| (o.key, o.generation)))
}

pub(crate) async fn require_org(state: &AppState) -> Result<(OrgPublicKey, i64), ApiError> {
    require_org_on(&mut *conn(state).await?).await
}

pub(crate) async fn require_org_on(c: &mut sqlx::AnyConnection) -> Result<(OrgPublicKey, i64), ApiError> {
    org_on(c).await?.ok_or_else(org_not_set)
}

pub(crate) fn org_not_set() -> ApiError {
    ApiError::conflict(
        ErrorCode::OrgNotSet,
        "the admin has not set the org public key yet (blindvault org push)",
    )
}

pub(crate) fn now_u64(state: &AppState) -> u64 {
    u64::try_from(state.clock.now()).unwrap_or(0)
}

/// A fresh random id (16 bytes, base64url: 22 characters).
pub(crate) fn new_id() -> String {
    b64(&RequestId::generate(&mut os_rng()).to_array())
}

/// The OS CSPRNG for ids the server makes.
pub(crate) use blindvault_core::rng::os_rng;

pub(crate) fn request_expired() -> ApiError {
    ApiError::conflict(ErrorCode::RequestExpired, "the request has expired")
}

pub(crate) fn host_revoked() -> ApiError {
    ApiError::conflict(ErrorCode::HostRevoked, "the requesting host's certificate was revoked")
}

/// A signed object as the database keeps it (its base64url text, written after its checks)
/// read back into its type; a row that no longer reads is the server's fault, not the caller's.
pub(crate) fn stored<T: serde::de::DeserializeOwned>(text: String) -> Result<T, ApiError> {
    serde_json::from_value(serde_json::Value::String(text)).map_err(ApiError::internal)
}
