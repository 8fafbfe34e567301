//! The bodies of a person's passkey routes.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A passkey as its owner's list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PasskeyView {
    /// Its id (the credential id, base64url).
    pub id: String,
    /// Its name.
    pub name: String,
    /// When it was added (Unix seconds).
    pub created_at: i64,
    /// When it last signed in or approved (Unix seconds).
    pub last_used_at: Option<i64>,
    /// The authenticator's signature counter as last seen.
    pub sign_count: i64,
    /// Backup-eligible (a synced passkey), as the authenticator last reported.
    pub backup_eligible: bool,
    /// Backed up now.
    pub backup_state: bool,
}

/// `GET /api/passkeys`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Passkeys {
    /// Oldest first.
    pub passkeys: Vec<PasskeyView>,
}

/// `POST /api/passkeys/register/finish` (201).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PasskeyAdded {
    /// The new passkey's id.
    pub credential_id: String,
}

/// `PATCH /api/passkeys/{id}`: the request, and the answer (with `id`).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RenamePasskey {
    /// The new name (1 to 64 characters).
    pub name: String,
}

/// The answer to a rename.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PasskeyRenamed {
    /// The passkey.
    pub id: String,
    /// Its new name.
    pub name: String,
}

/// `DELETE /api/passkeys/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PasskeyRemoved {
    /// The id of the passkey removed.
    pub removed: String,
}
