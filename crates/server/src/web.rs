//! The web app, embedded at build time (see `build.rs`) and served with a strict
//! Content-Security-Policy: scripts, styles, the WebAssembly module and API calls only from this
//! origin; no inline script or style, no frames, no plugins, no external anything.

use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use blindvault_api::ErrorCode;

use crate::error::ApiError;

include!(concat!(env!("OUT_DIR"), "/web_assets.rs"));

/// The policy on every page. `'wasm-unsafe-eval'` lets the page compile the WebAssembly core
/// (it does not allow JavaScript `eval`); Trusted Types with no policy make every HTML-string
/// sink (`innerHTML`, `document.write`, …) throw at run time.
pub const CSP: &str = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
     img-src 'self'; connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'; require-trusted-types-for 'script'; trusted-types 'none'";

/// Looks up an embedded asset (`/` is `index.html`).
pub fn asset(path: &str) -> Option<(&'static [u8], &'static str)> {
    let path = if path == "/" { "/index.html" } else { path };
    ASSETS.iter().find(|(p, _, _)| *p == path).map(|(_, b, ct)| (*b, *ct))
}

/// The router's fallback: the API's JSON 404 under `/api/`, an asset for a `GET`/`HEAD`,
/// else 404.
pub async fn serve(method: Method, uri: Uri) -> Response {
    let path = uri.path();
    if path.starts_with("/api/") || path == "/api" {
        return ApiError::not_found(ErrorCode::NotFound, "no such route").into_response();
    }
    if method != Method::GET && method != Method::HEAD {
        return ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::MethodNotAllowed,
            "the web app is read-only",
        )
        .into_response();
    }
    let Some((body, ct)) = asset(path) else {
        return ApiError::not_found(ErrorCode::NotFound, "no such page").into_response();
    };
    let mut resp = (StatusCode::OK, body).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    h.insert("cross-origin-resource-policy", HeaderValue::from_static("same-origin"));
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=(), usb=()"),
    );
    resp
}
