//! blindvault's HTTP contract: the one place that names every route, header and error
//! code the server and its clients (the command line, the test kit, the web app) exchange.
//! The server routes by these constants and answers with these codes; the clients call and
//! match by them; the OpenAPI document is made from the route table. Renaming one here breaks
//! every user at compile time rather than at run time.
//!
//! The crate has no I/O and depends only on `blindvault-core` (whose signed objects are the
//! bodies' fields) and serde, so a consumer host's slim build and the WebAssembly module can
//! depend on it.

pub mod accounts;
pub mod broker;
pub mod error;
pub mod paths;
pub mod routes;
pub mod wallet;

pub use error::ErrorCode;
pub use routes::{Access, Method, ROUTES, Route};

/// An error body as the server sends it: `{"error": {"code": …, "message": …}}`, with
/// `retry_after_secs` on a 429 and, for some codes, more members (a step-up's `action` and
/// `target`, for example).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// The `error` object of an [`ErrorBody`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
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
