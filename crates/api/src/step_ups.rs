//! The bodies of the step-up routes other than the step-up itself
//! ([`crate::accounts::StepUpView`]).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `POST /api/step-up/start`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct StartStepUp {
    /// The action (`host.revoke`, `approver.remove`, `entry.delete`, `org.replace`, …).
    pub action: String,
    /// Its target (an id, or the new org key's fingerprint).
    pub target: String,
}

/// `POST /api/step-up/{id}/confirm`: the assertion answering the step-up's options.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ConfirmStepUp<C = serde_json::Value> {
    /// The WebAuthn assertion.
    pub credential: C,
}

/// The answer to a confirmation.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct StepUpConfirmed {
    /// The step-up.
    pub id: String,
    /// `confirmed`.
    pub status: String,
    /// What it allows.
    pub action: String,
    /// On what.
    pub target: String,
}

/// The answer to a cancellation.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct StepUpCancelled {
    /// The step-up.
    pub id: String,
    /// `cancelled`.
    pub status: String,
}
