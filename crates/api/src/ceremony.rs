//! The bodies of the WebAuthn ceremonies: the options a start hands out and the answer a
//! finish sends back.
//!
//! The WebAuthn JSON itself (creation and request options, the authenticator's credential) is
//! webauthn-rs's and the browser's, not this crate's: it is `serde_json::Value` here. The request
//! bodies are generic over the credential's type, `C`, so that the server reads them straight
//! into webauthn-rs's types (a credential that does not parse is the body's 400
//! `invalid_request`) while clients build them with the default, a `Value`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The answer to a ceremony's start (`/api/register/start`, `/api/login/start`,
/// `/api/passkeys/register/start`, `/api/broker/requests/{id}/approve/start`).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct CeremonyStart {
    /// The ceremony's id (its state is single-use and short-lived), sent back with the answer.
    pub ceremony_id: String,
    /// The WebAuthn options (`{"publicKey": …}`), with the PRF extension's salt.
    pub options: serde_json::Value,
}

/// A ceremony's answer: its id and the authenticator's credential (`/api/login/finish`,
/// `/api/passkeys/register/finish`).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct CeremonyAnswer<C = serde_json::Value> {
    /// The id from [`CeremonyStart`].
    pub ceremony_id: String,
    /// The WebAuthn credential (an assertion, or for a registration an attestation).
    pub credential: C,
}

/// `POST /api/register/start`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RegisterStart {
    /// The account's name (1 to 64 characters).
    pub name: String,
    /// The name to show (the account's name when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// An invite code from an admin, or the setup code while the instance has no admin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invite: Option<String>,
}

/// `POST /api/register/finish`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RegisterFinish<C = serde_json::Value> {
    /// The id from [`CeremonyStart`].
    pub ceremony_id: String,
    /// The authenticator's new credential.
    pub credential: C,
    /// The passkey's name (`passkey` when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passkey_name: Option<String>,
}

/// `POST /api/passkeys/register/start`: a name for the new passkey and a fresh assertion (from
/// `/api/login/start`) by one of the account's passkeys.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct AddPasskeyStart<C = serde_json::Value> {
    /// The new passkey's name (`passkey` when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The login ceremony's id.
    pub ceremony_id: String,
    /// The assertion.
    pub credential: C,
}
