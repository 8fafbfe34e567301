//! Errors: [`ServerError`] for start-up, [`ApiError`] for HTTP with stable string codes.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use blindvault_api::ErrorCode;

/// Start-up and command errors.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// Bad configuration.
    #[error("configuration: {0}")]
    Config(String),
    /// Database error.
    #[error("database: {0}")]
    Db(String),
    /// I/O error.
    #[error("i/o: {0}")]
    Io(String),
    /// WebAuthn set-up error.
    #[error("webauthn: {0}")]
    Webauthn(String),
}

impl From<sqlx::Error> for ServerError {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(e.to_string())
    }
}

/// An HTTP API error: a status, a stable machine code and a human message. The JSON body is
/// `{"error": {"code": "...", "message": "..."}}`. Messages never contain secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable code, e.g. [`ErrorCode::SessionExpired`] (`session_expired`).
    pub code: ErrorCode,
    /// Human-readable explanation.
    pub message: String,
    /// Seconds to wait before retrying (429): sent as `Retry-After` and `retry_after_secs`.
    pub retry_after: Option<u64>,
    /// More members of the `error` object (e.g. a step-up's `action` and `target`).
    /// Boxed: an `ApiError` is the error of nearly every function, so it stays small.
    pub extra: Option<Box<serde_json::Map<String, serde_json::Value>>>,
}

impl ApiError {
    /// Builds an error.
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), retry_after: None, extra: None }
    }
    /// The same error with more members in its `error` object (never `code` or `message`).
    pub fn with_extra(self, extra: serde_json::Map<String, serde_json::Value>) -> Self {
        Self { extra: Some(Box::new(extra)), ..self }
    }
    /// The same error with a wait before retrying.
    pub fn retry_after(self, secs: u64) -> Self {
        Self { retry_after: Some(secs), ..self }
    }
    /// 400 with a code.
    pub fn bad_request(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }
    /// 401 with a code.
    pub fn unauthorized(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, message)
    }
    /// 403 with a code.
    pub fn forbidden(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, message)
    }
    /// 404 with a code.
    pub fn not_found(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }
    /// 409 with a code.
    pub fn conflict(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }
    /// 500: the detail goes to the log, never to the client.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(error = %detail, "internal error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::Internal, "internal error")
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        // Two writers of the same row (the same entry version, the first org key, an enrolment
        // of one credential) at once: the loser is told to retry, not given a 500.
        if e.as_database_error().is_some_and(|d| d.is_unique_violation()) {
            return Self::conflict(
                ErrorCode::Conflict,
                "someone else changed this at the same moment; reload and try again",
            );
        }
        Self::internal(format_args!("database: {e}"))
    }
}

impl From<ServerError> for ApiError {
    fn from(e: ServerError) -> Self {
        Self::internal(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut error = serde_json::Map::new();
        error.insert("code".into(), self.code.as_str().into());
        error.insert("message".into(), self.message.into());
        if let Some(secs) = self.retry_after {
            error.insert("retry_after_secs".into(), secs.into());
        }
        for (k, v) in self.extra.map(|e| *e).unwrap_or_default() {
            error.entry(k).or_insert(v);
        }
        let mut resp = (self.status, axum::Json(serde_json::json!({ "error": error }))).into_response();
        if let Some(secs) = self.retry_after {
            resp.headers_mut().insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        resp
    }
}

/// The 429 `rate_limited` answer, with the wait in `Retry-After` and in the body.
pub(crate) fn rate_limited(wait_secs: u64, message: &'static str) -> ApiError {
    ApiError::new(StatusCode::TOO_MANY_REQUESTS, ErrorCode::RateLimited, message).retry_after(wait_secs)
}

/// The 429 `too_many_open_requests` answer: host has `max` open requests already.
pub(crate) fn too_many_open_requests(max: u32) -> ApiError {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::TooManyOpenRequests,
        format!(
            "this host already has {max} open requests waiting for approvers; wait until they are \
             approved, denied or expire (or withdraw some), or ask the server's operator to raise \
             max_open_requests_per_host"
        ),
    )
}

/// The 429 `too_many_streams` answer: the session has `max` event streams open already.
pub(crate) fn too_many_streams(max: u32) -> ApiError {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::TooManyStreams,
        format!(
            "this session already has {max} open event streams; close another tab of the web app, \
             or ask the server's operator to raise max_event_streams_per_session"
        ),
    )
}

/// The 429 `too_many_org_requests` answer: every host together has `max` open requests before
/// the org's approvers already.
pub(crate) fn too_many_org_requests(max: u32) -> ApiError {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::TooManyOrgRequests,
        format!(
            "the org's approvers already have {max} open requests before them; wait until some are \
             approved, denied or expire, or ask the server's operator to raise max_open_requests_per_org"
        ),
    )
}
