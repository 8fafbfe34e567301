//! blindvault's HTTP contract: the one place that names every route, header and error
//! code the server and its clients (the command line, the test kit, the web app) exchange.
//! The server routes by these constants and answers with these codes; the clients call and
//! match by them; the OpenAPI document is made from the route table. Renaming one here breaks
//! every user at compile time rather than at run time.
//!
//! Every request and reply body is a type here, one module per resource (`sessions`,
//! `ceremony`, `passkeys`, `admin`, `audit`, `step_ups`, `tokens`, `accounts`, `broker`, `broker_calls`, `wallet`),
//! deriving serde's traits and `schemars::JsonSchema`; the server answers with them and the
//! clients build and read them, so a member renamed here fails to compile on both sides.
//! `tests/wire.rs` pins the bytes each body writes. Error replies are [`ErrorBody`]. WebAuthn's
//! own JSON (options, credentials) stays `serde_json::Value`; the request bodies that carry a
//! credential are generic over its type, so the server reads webauthn-rs's types in place.
//!
//! The crate has no I/O and depends only on `blindvault-core` (whose signed objects are the
//! bodies' fields), serde and schemars, so a consumer host's slim build and the WebAssembly
//! module can depend on it.

pub mod accounts;
pub mod admin;
pub mod audit;
pub mod broker;
pub mod broker_calls;
pub mod ceremony;
pub mod error;
pub mod openapi;
pub mod passkeys;
pub mod paths;
pub mod push;
pub mod routes;
pub mod sessions;
pub mod step_ups;
pub mod tokens;
pub mod wallet;
pub mod wallet_keyring;

pub use error::ErrorCode;
pub use routes::{Access, Body, Method, ROUTES, Reply, Route, json};

/// An error body as the server sends it: `{"error": {"code": …, "message": …}}`, with
/// `retry_after_secs` on a 429 and, for some codes, more members (a step-up's `action` and
/// `target`, for example).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// The `error` object of an [`ErrorBody`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct ErrorDetail {
    /// The stable code.
    pub code: ErrorCode,
    /// A sentence for people; it may change between versions.
    pub message: String,
    /// On a 429: seconds to wait before trying again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<u64>,
    /// More members, by code (e.g. `action` and `target` with `step_up_required`).
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}
