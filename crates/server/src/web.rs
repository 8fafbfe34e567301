//! The web app, embedded at build time (see `build.rs`) and served with a strict
//! Content-Security-Policy: scripts, styles, the WebAssembly module and API calls only from this
//! origin; no inline script or style, no frames, no plugins, no external anything.
//!
//! The service worker (`/sw.js`) carries the build's version ([`WEB_VERSION`]) and names its
//! cache after it; every asset is served with that version in `X-Blindvault-Version`, which the
//! worker compares with its own before it serves anything from its cache (docs/webapp.md
//! "Installable app and offline").

use std::borrow::Cow;
use std::sync::OnceLock;

use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use blindvault_api::ErrorCode;

use crate::error::ApiError;

include!(concat!(env!("OUT_DIR"), "/web_assets.rs"));

/// The policy on every page. `'wasm-unsafe-eval'` lets the page compile the WebAssembly core
/// (it does not allow JavaScript `eval`); Trusted Types with one policy, `sw`, created once by
/// `web/js/pwa.js` with only `createScriptURL` (and only for `/sw.js`: registering the service
/// worker is a script-URL sink), make every HTML-string sink (`innerHTML`, `document.write`, …)
/// throw at run time. `worker-src 'self'`: the service worker, from this origin.
pub const CSP: &str = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
     img-src 'self'; connect-src 'self'; manifest-src 'self'; worker-src 'self'; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'; require-trusted-types-for 'script'; trusted-types sw";

/// The response header that carries the served build's version.
pub const VERSION_HEADER: &str = "x-blindvault-version";

/// The environment variable that makes a server serve another version than its build's (tests
/// only: it lets one binary play "a newer server" to a service worker installed by an older one).
pub const TEST_VERSION_ENV: &str = "BLINDVAULT_TEST_WEB_VERSION";

/// The version this server serves: the build's, unless [`TEST_VERSION_ENV`] names another
/// (letters and digits only; anything else is ignored).
pub fn version() -> &'static str {
    static V: OnceLock<String> = OnceLock::new();
    V.get_or_init(|| {
        std::env::var(TEST_VERSION_ENV)
            .ok()
            .filter(|v| !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_alphanumeric()))
            .unwrap_or_else(|| WEB_VERSION.to_owned())
    })
}

/// An asset as served: the embedded bytes, except the service worker under a test version.
fn served(path: &str, body: &'static [u8]) -> Cow<'static, [u8]> {
    if path != "/sw.js" || version() == WEB_VERSION {
        return Cow::Borrowed(body);
    }
    let text = String::from_utf8_lossy(body);
    Cow::Owned(text.replace(&format!("'{WEB_VERSION}'"), &format!("'{}'", version())).into_bytes())
}

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
    let path = if path == "/" { "/index.html" } else { path };
    let mut resp = (StatusCode::OK, served(path, body)).into_response();
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(version()) {
        h.insert(VERSION_HEADER, v);
    }
    if path == "/sw.js" {
        // The browser checks for a new worker on every navigation; it must never get an old one
        // from a cache (the other assets are `no-store`, set by the HTTP layer).
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
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
