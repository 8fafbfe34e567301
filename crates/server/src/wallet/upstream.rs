//! The gateway's outbound side: one HTTP client (no redirects, no cookies, no proxy), the
//! per-person limiter, and the sending of one built request with the configured timeout and
//! response size.

use std::time::Duration;

use blindvault_api::ErrorCode;
use blindvault_api::wallet::{EndpointCredential, GatewayBody};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use url::Url;

use super::config::GatewayConfig;
use crate::error::{ApiError, ServerError};
use crate::ratelimit::RateLimiter;

/// The gateway's shared state.
#[derive(Debug)]
pub(crate) struct Gateway {
    client: reqwest::Client,
    /// Calls per person (user id).
    pub(crate) limiter: RateLimiter<String>,
    /// The limits in effect.
    pub(crate) config: GatewayConfig,
}

impl Gateway {
    /// From the configuration.
    pub(crate) fn new(config: &GatewayConfig) -> Result<Self, ServerError> {
        config.validate()?;
        let timeout = Duration::from_millis(config.timeout_ms);
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(timeout)
            .timeout(timeout)
            .user_agent(concat!("blindvault-gateway/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ServerError::Config(format!("gateway HTTP client: {e}")))?;
        let limiter = RateLimiter::new(config.rate_limit_per_minute, config.rate_limit_burst);
        Ok(Self { client, limiter, config: config.clone() })
    }
}

/// A request ready to send: built from an allow-listed call and the endpoint.
#[derive(Debug)]
pub(crate) struct Outbound {
    pub(crate) method: reqwest::Method,
    pub(crate) url: Url,
    pub(crate) body: Option<(Vec<u8>, &'static str)>,
}

/// What came back.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// The endpoint answered below 300, or with a 4xx: its status and body.
    Answered(u16, GatewayBody),
    /// A redirect, a 5xx, an unreadable answer or no connection (the status when there was one).
    Failed(Option<u16>),
    /// More than the configured size.
    TooLarge,
    /// No whole answer within the configured time.
    Timeout,
}

impl Outcome {
    /// The audit row's word for it.
    pub(crate) fn word(&self) -> &'static str {
        match self {
            Outcome::Answered(..) => "answered",
            Outcome::Failed(_) => "failed",
            Outcome::TooLarge => "too_large",
            Outcome::Timeout => "timeout",
        }
    }

    /// The caller's error, for every outcome but an answer.
    pub(crate) fn error(&self) -> Option<ApiError> {
        use axum::http::StatusCode;
        match self {
            Outcome::Answered(..) => None,
            Outcome::Failed(status) => {
                let mut e = ApiError::new(
                    StatusCode::BAD_GATEWAY,
                    ErrorCode::GatewayUpstreamFailed,
                    "the chain's endpoint failed; try again later or ask your admin",
                );
                if let Some(s) = status {
                    let mut extra = serde_json::Map::new();
                    extra.insert("upstream_status".into(), (*s).into());
                    e = e.with_extra(extra);
                }
                Some(e)
            }
            Outcome::TooLarge => Some(ApiError::new(
                StatusCode::BAD_GATEWAY,
                ErrorCode::GatewayResponseTooLarge,
                "the chain's endpoint answered more than the gateway reads",
            )),
            Outcome::Timeout => Some(ApiError::new(
                StatusCode::GATEWAY_TIMEOUT,
                ErrorCode::GatewayUpstreamTimeout,
                "the chain's endpoint did not answer in time",
            )),
        }
    }
}

/// The credential's header, if it is one.
fn credential_header(c: Option<&EndpointCredential>) -> Result<HeaderMap, ApiError> {
    let mut h = HeaderMap::new();
    if let Some(EndpointCredential::Header { name, value }) = c {
        let n = HeaderName::from_bytes(name.as_bytes()).map_err(ApiError::internal)?;
        let mut v = HeaderValue::from_str(value.expose())
            .map_err(|_| ApiError::internal("stored credential header value is not a header value"))?;
        v.set_sensitive(true);
        h.insert(n, v);
    }
    Ok(h)
}

/// The credential's value, to scrub from answers (an endpoint that echoes it back).
fn secret_of(c: Option<&EndpointCredential>) -> Option<&str> {
    match c? {
        EndpointCredential::Header { value, .. }
        | EndpointCredential::Query { value, .. }
        | EndpointCredential::PathSegment { value } => Some(value.expose()),
    }
}

impl Gateway {
    /// Sends `out` with `credential`'s header (its query or path part is already in the URL),
    /// and reads the answer within the limits.
    pub(crate) async fn send(
        &self,
        out: Outbound,
        credential: Option<&EndpointCredential>,
    ) -> Result<Outcome, ApiError> {
        let mut req = self.client.request(out.method, out.url).headers(credential_header(credential)?);
        if let Some((bytes, content_type)) = out.body {
            req = req.header(reqwest::header::CONTENT_TYPE, content_type).body(bytes);
        }
        let limit = self.config.max_response_bytes;
        let work = async move {
            let mut resp = match req.send().await {
                Ok(r) => r,
                Err(e) if e.is_timeout() => return Outcome::Timeout,
                Err(e) => {
                    // Without the URL: it may carry the credential.
                    tracing::warn!(error = %e.without_url(), "gateway: endpoint unreachable");
                    return Outcome::Failed(None);
                }
            };
            let status = resp.status().as_u16();
            let json = resp
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.to_ascii_lowercase().contains("json"));
            if !(200..300).contains(&status) && !(400..500).contains(&status) {
                return Outcome::Failed(Some(status));
            }
            if resp.content_length().is_some_and(|n| n > limit as u64) {
                return Outcome::TooLarge;
            }
            let mut bytes = Vec::new();
            loop {
                match resp.chunk().await {
                    Ok(Some(c)) => {
                        if bytes.len() + c.len() > limit {
                            return Outcome::TooLarge;
                        }
                        bytes.extend_from_slice(&c);
                    }
                    Ok(None) => break,
                    Err(e) if e.is_timeout() => return Outcome::Timeout,
                    Err(_) => return Outcome::Failed(Some(status)),
                }
            }
            match body_of(bytes, secret_of(credential), json) {
                Some(body) => Outcome::Answered(status, body),
                None => Outcome::Failed(Some(status)),
            }
        };
        let timeout = Duration::from_millis(self.config.timeout_ms);
        Ok(tokio::time::timeout(timeout, work).await.unwrap_or(Outcome::Timeout))
    }
}

/// An answer's body: JSON if its type says JSON and it parses, text if it is UTF-8, else
/// nothing. The credential, if the endpoint echoes it, is replaced by `[redacted]`.
fn body_of(bytes: Vec<u8>, secret: Option<&str>, json: bool) -> Option<GatewayBody> {
    let mut text = String::from_utf8(bytes).ok()?;
    if let Some(s) = secret.filter(|s| !s.is_empty()) {
        text = text.replace(s, "[redacted]");
    }
    if json && let Ok(v) = serde_json::from_str(&text) {
        return Some(GatewayBody::Json(v));
    }
    Some(GatewayBody::Text(text))
}
