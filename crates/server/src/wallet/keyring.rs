//! A person's wallet keyring (docs/protocol.md §2.1): the origin passkey, whose own wallet is
//! the person's, and the wallet envelopes through which their other passkeys open it. The server
//! only stores them: an envelope opens only with its passkey's PRF output, and one the server
//! made would not open (HPKE PSK mode). Both are create-only; an envelope is removed with its
//! passkey (`passkeys::delete_passkey`, same transaction).
//!
//! Both writes need a step-up besides the session (`auth::stepup`): a stolen cookie alone could
//! otherwise record a passkey as the origin or plant junk envelopes, which the pages would count
//! as "opens the wallet" (the single-passkey warning gone, a removal told "your wallet stays").
//! The origin's step-up (`wallet.origin.set`, target the user id) must be confirmed by the very
//! passkey named — the first unlock's own ceremony; an envelope's (`wallet.envelope.put`, target
//! its credential id) is the sealing ceremony, by a passkey of the person's. Neither flow gains a
//! ceremony. Each insert checks in the same statement that the passkey is still the caller's
//! (a passkey removed meanwhile is a 404, never a 500 or a row for a deleted passkey).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use blindvault_api::ErrorCode;
use blindvault_api::wallet_keyring::{
    PutWalletEnvelope, SetWalletOrigin, WalletEnvelopeView, WalletKeyring, WalletOrigin,
};
use blindvault_core::encoding::b64;
use blindvault_core::wallet_envelope::WalletEnvelope;

use super::store::keyring as store;
use crate::audit::Event;
use crate::audit::record::log_in;
use crate::auth::session::Session;
use crate::auth::stepup::{self, Action};
use crate::error::ApiError;
use crate::http::extract::ApiJson;
use crate::state::AppState;

/// `GET /api/wallet/keyring`: the caller's own.
pub(crate) async fn mine(State(state): State<AppState>, s: Session) -> Result<Json<WalletKeyring>, ApiError> {
    let origin = store::origin(&mut *state.store.pool().acquire().await?, &s.user_id).await?;
    let envelopes = store::envelopes(&state.store, &s.user_id).await?;
    Ok(Json(WalletKeyring { user_id: s.user_id, origin, envelopes }))
}

fn not_yours() -> ApiError {
    ApiError::not_found(ErrorCode::PasskeyNotFound, "no such passkey of yours")
}

/// `PUT /api/wallet/keyring/origin`: once; the same passkey again answers the stored origin.
pub(crate) async fn set_origin(
    State(state): State<AppState>,
    s: Session,
    headers: HeaderMap,
    ApiJson(body): ApiJson<SetWalletOrigin>,
) -> Result<Json<WalletOrigin>, ApiError> {
    let mut tx = state.store.pool().begin().await?;
    if !store::owns_passkey(&mut tx, &s.user_id, &body.credential_id).await? {
        return Err(not_yours());
    }
    let by = Some(body.credential_id.as_str());
    stepup::spend_by_in(&mut tx, &state, &s, &headers, Action::WalletOriginSet, &s.user_id, by).await?;
    let (inserted, stored) =
        store::set_origin(&mut tx, &s.user_id, &body.credential_id, state.clock.now()).await?;
    // Nothing inserted and nothing stored: the passkey was removed meanwhile.
    let stored = stored.ok_or_else(not_yours)?;
    if stored.credential_id != body.credential_id {
        return Err(ApiError::conflict(
            ErrorCode::WalletOriginExists,
            "your wallet already belongs to another passkey; it never changes",
        ));
    }
    if inserted {
        let ev = Event {
            actor: Some(&s.user_id),
            action: "wallet.origin.set",
            target: Some(&body.credential_id),
            detail: serde_json::json!({}),
        };
        log_in(&mut tx, &state, ev).await?;
    }
    tx.commit().await?;
    Ok(Json(stored))
}

/// `PUT /api/wallet/keyring/envelopes/{id}`: once per passkey; the same bytes again answer the
/// stored envelope.
pub(crate) async fn put_envelope(
    State(state): State<AppState>,
    s: Session,
    headers: HeaderMap,
    Path(credential_id): Path<String>,
    ApiJson(body): ApiJson<PutWalletEnvelope>,
) -> Result<Json<WalletEnvelopeView>, ApiError> {
    let bytes = b64::decode(&body.envelope).map_err(|_| {
        ApiError::bad_request(ErrorCode::WalletEnvelopeInvalid, "the envelope is not unpadded base64url")
    })?;
    // Length and version (the server cannot check more: only the passkey opens it).
    WalletEnvelope::from_bytes(&bytes).map_err(|e| {
        ApiError::bad_request(ErrorCode::WalletEnvelopeInvalid, format!("not a wallet envelope: {e}"))
    })?;
    let envelope = b64::encode(&bytes);
    let mut tx = state.store.pool().begin().await?;
    if !store::owns_passkey(&mut tx, &s.user_id, &credential_id).await? {
        return Err(not_yours());
    }
    let origin = store::origin(&mut tx, &s.user_id).await?.ok_or_else(|| {
        ApiError::conflict(
            ErrorCode::WalletOriginUnset,
            "your wallet has no origin passkey yet; open it first",
        )
    })?;
    if origin.credential_id == credential_id {
        return Err(ApiError::conflict(
            ErrorCode::WalletOriginNeedsNoEnvelope,
            "this passkey is your wallet's origin: it opens the wallet with its own keys",
        ));
    }
    stepup::spend_in(&mut tx, &state, &s, &headers, Action::WalletEnvelopePut, &credential_id).await?;
    let (inserted, stored) =
        store::put_envelope(&mut tx, &s.user_id, &credential_id, &envelope, state.clock.now())
            .await
            .map_err(|e| if store::is_foreign_key_violation(&e) { not_yours() } else { e.into() })?;
    // Nothing inserted and nothing stored: the passkey was removed meanwhile.
    let stored = stored.ok_or_else(not_yours)?;
    if stored.envelope != envelope {
        return Err(ApiError::conflict(
            ErrorCode::WalletEnvelopeExists,
            "this passkey already has a wallet envelope; remove the passkey and add it again to replace it",
        ));
    }
    if inserted {
        let ev = Event {
            actor: Some(&s.user_id),
            action: "wallet.envelope.put",
            target: Some(&credential_id),
            detail: serde_json::json!({ "origin": origin.credential_id }),
        };
        log_in(&mut tx, &state, ev).await?;
    }
    tx.commit().await?;
    Ok(Json(stored))
}
