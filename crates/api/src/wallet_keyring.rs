//! A person's wallet keyring: which passkey's wallet is theirs (the origin passkey) and the
//! wallet envelopes through which their other passkeys open it (docs/protocol.md §2.1,
//! docs/wallet.md "More than one device"). Public data only: an envelope opens only with the
//! PRF output of the passkey it was sealed to, which never reaches the server.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `GET /api/wallet/keyring`: the caller's own keyring, never another person's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct WalletKeyring {
    /// The caller's user id: the `user_id` bound into every envelope's associated data.
    pub user_id: String,
    /// The origin passkey, once a device has opened the wallet; it never changes.
    pub origin: Option<WalletOrigin>,
    /// The envelopes, one per passkey other than the origin that can open the wallet, by
    /// credential id.
    pub envelopes: Vec<WalletEnvelopeView>,
}

/// The origin passkey: its own wallet entropy is the person's wallet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct WalletOrigin {
    /// Its credential id (base64url). It stays the origin after that passkey is removed.
    pub credential_id: String,
    /// When it was recorded (Unix seconds).
    pub created_at: i64,
}

/// One wallet envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct WalletEnvelopeView {
    /// The passkey it is sealed to (credential id, base64url).
    pub credential_id: String,
    /// `0x01 ‖ enc[32] ‖ ct[48]` (81 bytes), base64url without padding.
    pub envelope: String,
    /// When it was stored (Unix seconds).
    pub created_at: i64,
}

/// `PUT /api/wallet/keyring/origin`: records the origin passkey, once. The same passkey again is
/// answered as stored; another is refused (`wallet_origin_exists`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SetWalletOrigin {
    /// One of the caller's passkeys (credential id, base64url).
    pub credential_id: String,
}

/// `PUT /api/wallet/keyring/envelopes/{id}`: stores the envelope of the caller's passkey `{id}`,
/// once. The same bytes again are answered as stored; other bytes are refused
/// (`wallet_envelope_exists`): a person's wallet never changes, so neither does a correct
/// envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PutWalletEnvelope {
    /// `0x01 ‖ enc[32] ‖ ct[48]`, base64url without padding.
    pub envelope: String,
}
