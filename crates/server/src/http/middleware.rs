//! Middleware: the `Origin` check, the per-address rate limit of the ceremony routes, request
//! logging and the headers every answer carries.

use blindvault_api::ErrorCode;
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, rate_limited};
use crate::state::AppState;

/// The peer address the connection came from. Missing only when the router is served without
/// `into_make_service_with_connect_info`: a deployment error, refused (and logged) rather than
/// counted in one bucket shared by every client.
pub(crate) fn client_ip(headers_ext: &axum::http::Extensions) -> Result<IpAddr, ApiError> {
    headers_ext.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip()).ok_or_else(|| {
        // `internal` logs it (an error line) and answers 500 without the detail.
        ApiError::internal("request without a peer address: serve the router with its connect info")
    })
}

/// The rate-limit key of a client address: an IPv4 address (or an IPv4-mapped IPv6 one) as is,
/// an IPv6 address by its /64 (one subscriber's network: a host can take any address in it).
pub(crate) fn limit_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
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
    let ip = match client_ip(req.extensions()) {
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

#[cfg(test)]
mod limit_key_tests {
    #![allow(clippy::unwrap_used)]
    use super::limit_key;
    use std::net::IpAddr;

    #[test]
    fn ipv6_counts_by_its_64_and_ipv4_by_its_address() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(limit_key(a), limit_key(b));
        assert_ne!(limit_key(a), limit_key(c));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(limit_key(mapped), "192.0.2.7".parse::<IpAddr>().unwrap());
        assert_ne!(limit_key("192.0.2.7".parse().unwrap()), limit_key("192.0.2.8".parse().unwrap()));
    }
}
