//! Web Push (RFC 8030, RFC 8291, RFC 8292): the server's VAPID public key, and an approver's
//! per-device subscription. A push carries only `{"request": "<request id>"}`, encrypted to the
//! subscription's key (docs/api.md "Web Push").

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The server's VAPID public key and the name a notification shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PushKey {
    /// The P-256 public key: the uncompressed point (65 bytes), base64url without padding — the
    /// `applicationServerKey` of `pushManager.subscribe`.
    pub public_key: String,
    /// The organisation's display name (the server's `rp_name`), the notification's body.
    pub org_name: String,
}

/// The keys of a browser's `PushSubscription` (its `toJSON().keys`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PushSubscriptionKeys {
    /// The subscription's P-256 public key, uncompressed (65 bytes), base64url.
    pub p256dh: String,
    /// The subscription's authentication secret (16 bytes), base64url.
    pub auth: String,
}

/// Opt this device in: the passkey it signed in with and the browser's subscription.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PushSubscribe {
    /// The id of the caller's passkey on this device (base64url); removing the passkey removes
    /// the subscription.
    pub credential_id: String,
    /// The push service's endpoint URL: https, at a push service the server's `[push] services`
    /// allows (403 `push_service_not_allowed` otherwise); http on a loopback address only when
    /// the server's `[push] allow_http_loopback` is set, for tests.
    pub endpoint: String,
    /// The subscription's keys.
    pub keys: PushSubscriptionKeys,
}

/// A stored subscription.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PushSubscribed {
    /// The subscription's id.
    pub id: String,
}

/// Opt a device out, by the endpoint of its subscription.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PushUnsubscribe {
    /// The endpoint URL the device subscribed with.
    pub endpoint: String,
}

/// The result of an opt-out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PushUnsubscribed {
    /// Whether a subscription of the caller's with that endpoint existed (and is now gone).
    pub removed: bool,
}

/// The payload of a push, before encryption: an opaque request reference and nothing else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PushPayload {
    /// The request id (random: a hash over the host's signed request, which holds a random
    /// request id and nonce).
    pub request: String,
}
