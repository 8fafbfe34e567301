//! Middleware: the `Origin` check, the per-address rate limit of the ceremony routes, request
//! logging and the headers every answer carries.

use blindvault_api::ErrorCode;
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, rate_limited};
use crate::ratelimit::limit_key;
use crate::state::AppState;

/// The client address of a request: the peer address the connection came from, or — when that
/// peer is one of the configured `trusted_proxies` — the address it forwarded in
/// `forwarded_header` (`crate::net::client_addr`). The peer is missing only when the router is
/// served without its connect info: a deployment error, refused (and logged) rather than counted
/// in one bucket shared by every client.
pub(crate) fn client_ip(
    state: &AppState,
    headers: &axum::http::HeaderMap,
    ext: &axum::http::Extensions,
) -> Result<IpAddr, ApiError> {
    let peer = ext.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip()).ok_or_else(|| {
        // `internal` logs it (an error line) and answers 500 without the detail.
        ApiError::internal("request without a peer address: serve the router with its connect info")
    })?;
    let c = &state.config;
    Ok(crate::net::client_addr(peer, headers, &c.trusted_proxies, &c.forwarded_header))
}

/// Refuses state-changing requests whose `Origin` is not the configured origin (403 `cross_origin`).
pub(crate) async fn origin_check(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let changes = matches!(*req.method(), Method::POST | Method::PUT | Method::PATCH | Method::DELETE);
    // Consumer hosts authenticate by signature, not cookie: no ambient authority to forge.
    let consumer = crate::broker::common::is_consumer_call(req.uri().path());
    if changes && !consumer {
        let want = match state.config.origin_header() {
            Ok(o) => o,
            Err(e) => return ApiError::internal(e).into_response(),
        };
        let ok = req.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok()) == Some(want.as_str());
        if !ok {
            return ApiError::forbidden(
                ErrorCode::CrossOrigin,
                "state-changing requests must come from the server's own origin",
            )
            .into_response();
        }
    }
    next.run(req).await
}

/// Per-address token bucket on the ceremony endpoints (429 `rate_limited`).
pub(crate) async fn rate_limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let ip = match client_ip(&state, req.headers(), req.extensions()) {
        Ok(ip) => limit_key(ip),
        Err(e) => return e.into_response(),
    };
    if let Err(wait) = state.limits.per_address.check(&ip, state.clock.now_ms()) {
        return rate_limited(wait, "too many sign-in attempts from this network address").into_response();
    }
    next.run(req).await
}

/// Logs method, path and status (never bodies, cookies or queries) and sets cache headers.
pub(crate) async fn log_and_harden(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let started = std::time::Instant::now();
    let mut resp = next.run(req).await;
    let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    tracing::info!(%method, %path, status = resp.status().as_u16(), micros, "request");
    // Rejections produced by axum itself (405, 415, bad path or query) get the JSON error shape.
    let status = resp.status();
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if (status.is_client_error() || status.is_server_error()) && !is_json {
        let code = match status {
            StatusCode::METHOD_NOT_ALLOWED => ErrorCode::MethodNotAllowed,
            StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PayloadTooLarge,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorCode::UnsupportedMediaType,
            s if s.is_server_error() => ErrorCode::Internal,
            _ => ErrorCode::InvalidRequest,
        };
        let allow = resp.headers().get(header::ALLOW).cloned();
        resp = ApiError::new(status, code, "the request was not understood").into_response();
        if let Some(a) = allow {
            resp.headers_mut().insert(header::ALLOW, a);
        }
    }
    let h = resp.headers_mut();
    // `no-store` unless the handler chose (only the service worker does: `no-cache`).
    h.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    resp
}
