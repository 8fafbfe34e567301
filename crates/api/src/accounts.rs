//! The bodies of the account, invite and step-up routes.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A new invite code, shown once.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
pub struct InviteCreated {
    /// Its id (for `invite revoke`).
    pub id: String,
    /// The code to give the person (never stored in the clear on the server).
    pub code: String,
    /// The role the account gets.
    pub role: String,
    /// When it stops working (Unix seconds).
    pub expires_at: i64,
}

/// An invite code as the server lists it.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
pub struct InviteView {
    /// Its id.
    pub id: String,
    /// The role the account gets.
    pub role: String,
    /// The admin who made it.
    pub created_by: Option<String>,
    /// When (Unix seconds).
    pub created_at: i64,
    /// When it stops working.
    pub expires_at: i64,
    /// Who used it.
    pub used_by: Option<String>,
    /// When it was used (Unix seconds).
    pub used_at: Option<i64>,
    /// `open`, `used`, `revoked` or `expired`.
    pub status: String,
}

/// A step-up: what it allows and where it stands.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
pub struct StepUpView {
    /// Its id (the confirm link's last part, and the value of [`crate::paths::STEP_UP_HEADER`]).
    pub id: String,
    /// The action (`host.revoke`, `approver.remove`, `entry.delete`, `org.replace`, …).
    pub action: String,
    /// Its target (an id, or the new org key's fingerprint).
    pub target: String,
    /// When it stops working (Unix seconds).
    pub expires_at: i64,
    /// `pending`, `confirmed`, `failed`, `used`, `cancelled` or `expired` (absent at start:
    /// `pending`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The WebAuthn request options to confirm it with (while pending; `null` after).
    #[serde(default)]
    pub options: Option<serde_json::Value>,
    /// Where the web app confirms it (`/#/confirm/<id>`; in the answer to its start only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirm_path: Option<String>,
}

/// The signed-in user, as `GET /api/me` names them.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
pub struct MeUser {
    /// User id.
    pub id: String,
    /// User name.
    pub name: String,
}
