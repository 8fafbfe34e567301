//! Extractors: the JSON body in the API's error format, the session and admin guards, and the
//! check of a name typed by a person.

use axum::Json;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use blindvault_api::ErrorCode;

use std::net::IpAddr;

use axum::extract::MatchedPath;
use blindvault_api::tokens::TokenScope;
use blindvault_api::{Access, Method, Reply};

use crate::auth::session::{AdminSession, Session, TokenRef, authenticate, token_from_headers};
use crate::auth::token;
use crate::error::ApiError;
use crate::state::AppState;

/// A JSON body whose rejection is a 400 `invalid_request` in the API's error format.
#[derive(Debug)]
pub(crate) struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Self(v)),
            // Over the route's body limit: 413 `payload_too_large`. Anything else — not JSON,
            // the wrong shape, nested deeper than serde_json's recursion limit (128) — is 400
            // `invalid_request`.
            Err(rej) if rej.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::PayloadTooLarge, rej.body_text()))
            }
            Err(rej) => Err(ApiError::bad_request(ErrorCode::InvalidRequest, rej.body_text())),
        }
    }
}

/// The request's client address (`super::middleware::client_ip`: the peer, or what a trusted
/// proxy forwarded), as recorded in sessions and the audit log.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        super::middleware::client_ip(state, &parts.headers, &parts.extensions).map(Self)
    }
}

pub(crate) fn check_label(what: &'static str, s: &str) -> Result<(), ApiError> {
    let n = s.chars().count();
    if n == 0 || n > 64 || s.chars().any(blindvault_core::text::refused_in_name) || s.trim() != s {
        return Err(ApiError::bad_request(
            ErrorCode::InvalidName,
            format!(
                "{what} must be 1 to 64 characters, without control, direction-changing or invisible characters or outer spaces"
            ),
        ));
    }
    Ok(())
}

impl FromRequestParts<AppState> for Session {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let cookie = token_from_headers(&state.config, &parts.headers);
        match (crate::auth::token::bearer(&parts.headers), cookie) {
            (Some(_), Some(_)) => Err(ApiError::bad_request(
                ErrorCode::TokenAndCookie,
                "the request carries both a command-line token and a session cookie: send one",
            )),
            (Some(bearer), None) => token_session(parts, state, &bearer?).await,
            (None, Some(cookie)) => {
                if route_of(parts).is_some_and(|r| r.access == Access::Token) {
                    return Err(ApiError::unauthorized(
                        ErrorCode::Unauthenticated,
                        "this route takes a command-line token (Authorization: Bearer bvt_…)",
                    ));
                }
                authenticate(state, &cookie).await
            }
            (None, None) => Err(ApiError::unauthorized(ErrorCode::Unauthenticated, "sign in first")),
        }
    }
}

/// The contract's route for this request (by its method and matched path template).
fn route_of(parts: &Parts) -> Option<&'static blindvault_api::Route> {
    let template = parts.extensions.get::<MatchedPath>()?.as_str();
    let method = match parts.method {
        axum::http::Method::GET => Method::Get,
        axum::http::Method::POST => Method::Post,
        axum::http::Method::PUT => Method::Put,
        axum::http::Method::PATCH => Method::Patch,
        axum::http::Method::DELETE => Method::Delete,
        _ => return None,
    };
    blindvault_api::routes::find(method, template)
}

/// A token request: the route must take tokens (not browser-only, not an event stream); then the
/// token is checked against the database (its scope must allow the method: `consumer-read` is
/// `GET` only) and its use recorded.
async fn token_session(parts: &Parts, state: &AppState, token: &str) -> Result<Session, ApiError> {
    let route = route_of(parts)
        .ok_or_else(|| ApiError::forbidden(ErrorCode::TokenNotAllowed, "this route does not take a token"))?;
    if matches!(route.access, Access::Browser | Access::BrowserAdmin)
        || matches!(route.reply, Reply::EventStream)
    {
        return Err(ApiError::forbidden(
            ErrorCode::TokenNotAllowed,
            "this takes a browser session, never a command-line token: do it in the web app",
        ));
    }
    let addr =
        super::middleware::client_ip(state, &parts.headers, &parts.extensions).ok().map(|ip| ip.to_string());
    let t = token::authenticate(
        state,
        token,
        token::Use { method: route.method.upper(), path: route.path, addr },
    )
    .await?;
    Ok(Session {
        id: t.id.clone(),
        sid: String::new(),
        user_id: t.user_id,
        user_name: t.user_name,
        role: t.role,
        expires_at: t.expires_at,
        token: Some(TokenRef { id: t.id, scope: t.scope }),
    })
}

impl FromRequestParts<AppState> for AdminSession {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let s = Session::from_request_parts(parts, state).await?;
        if s.role != crate::auth::role::Role::Admin {
            return Err(ApiError::forbidden(ErrorCode::Forbidden, "this needs the admin role"));
        }
        // A token gives admin power only with the admin scope (and, above, an admin account now).
        if s.token.as_ref().is_some_and(|t| t.scope != TokenScope::Admin) {
            return Err(ApiError::forbidden(ErrorCode::TokenScope, "this token's scope is not admin"));
        }
        Ok(Self(s))
    }
}
