//! The push routes: the VAPID public key, and an approver's opt-in and opt-out per device.

use axum::Json;
use axum::extract::State;
use blindvault_api::ErrorCode;
use blindvault_api::push::{PushKey, PushSubscribe, PushSubscribed, PushUnsubscribe, PushUnsubscribed};
use blindvault_core::encoding::b64;

use super::encrypt::check_keys;
use super::service::EndpointRefused;
use super::store;
use crate::auth::session::Session;
use crate::broker::common::{log_in, require_approver};
use crate::error::ApiError;
use crate::http::extract::ApiJson;
use crate::state::AppState;

/// `GET /api/push/key`: public (a service worker has no session), and secret-free.
pub(crate) async fn key(State(state): State<AppState>) -> Json<PushKey> {
    Json(PushKey { public_key: state.push.key.public_b64(), org_name: state.config.rp_name.clone() })
}

/// `POST /api/push/subscriptions`: stores this device's subscription against the caller's
/// passkey `credential_id` (removing that passkey removes it).
pub(crate) async fn subscribe(
    State(state): State<AppState>,
    s: Session,
    ApiJson(body): ApiJson<PushSubscribe>,
) -> Result<Json<PushSubscribed>, ApiError> {
    require_approver(&s)?;
    state.push.check_endpoint(&body.endpoint).map_err(|e| match e {
        EndpointRefused::Invalid(m) => ApiError::bad_request(ErrorCode::InvalidRequest, m),
        EndpointRefused::ServiceNotAllowed(host) => ApiError::forbidden(
            ErrorCode::PushServiceNotAllowed,
            format!("{host} is not a push service this server sends to (its operator lists them in [push] services)"),
        ),
    })?;
    let bad = |m: &str| ApiError::bad_request(ErrorCode::InvalidEncoding, m.to_owned());
    let p256dh = b64::decode(&body.keys.p256dh).map_err(|_| bad("keys.p256dh is not base64url"))?;
    let auth = b64::decode(&body.keys.auth).map_err(|_| bad("keys.auth is not base64url"))?;
    check_keys(&p256dh, &auth)
        .map_err(|e| ApiError::bad_request(ErrorCode::InvalidRequest, e.to_string()))?;
    let mut tx = state.store.pool().begin().await?;
    if !store::credential_of(&mut tx, &body.credential_id, &s.user_id).await? {
        return Err(ApiError::not_found(ErrorCode::PasskeyNotFound, "no such passkey of yours"));
    }
    let id = uuid::Uuid::new_v4().simple().to_string();
    let new = store::NewSubscription {
        id: &id,
        user_id: &s.user_id,
        credential_id: &body.credential_id,
        endpoint: &body.endpoint,
        p256dh: &b64::encode(&p256dh),
        auth: &b64::encode(&auth),
        created_at: state.clock.now(),
    };
    store::upsert(&mut tx, &new).await?;
    // The endpoint is not logged: it is the address pushes to this device go to.
    let detail = serde_json::json!({ "credential": body.credential_id });
    log_in(&mut tx, &state, Some(&s.user_id), "push.subscribed", Some(&id), detail).await?;
    tx.commit().await?;
    Ok(Json(PushSubscribed { id }))
}

/// `POST /api/push/subscriptions/remove`: removes the caller's subscription with that endpoint.
pub(crate) async fn unsubscribe(
    State(state): State<AppState>,
    s: Session,
    ApiJson(body): ApiJson<PushUnsubscribe>,
) -> Result<Json<PushUnsubscribed>, ApiError> {
    let mut tx = state.store.pool().begin().await?;
    let removed = store::delete_by_endpoint(&mut tx, &s.user_id, &body.endpoint).await?;
    if removed {
        log_in(&mut tx, &state, Some(&s.user_id), "push.unsubscribed", None, serde_json::json!({})).await?;
    }
    tx.commit().await?;
    Ok(Json(PushUnsubscribed { removed }))
}
