//! Extractors: the JSON body in the API's error format, the session and admin guards, and the
//! check of a name typed by a person.

use axum::Json;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use blindvault_api::ErrorCode;

use crate::auth::session::{AdminSession, Session, authenticate, token_from_headers};
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
            Err(rej) => Err(ApiError::new(
                if rej.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    StatusCode::PAYLOAD_TOO_LARGE
                } else {
                    StatusCode::BAD_REQUEST
                },
                ErrorCode::InvalidRequest,
                rej.body_text(),
            )),
        }
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
        let token = token_from_headers(&state.config, &parts.headers)
            .ok_or_else(|| ApiError::unauthorized(ErrorCode::Unauthenticated, "sign in first"))?;
        authenticate(state, &token).await
    }
}

impl FromRequestParts<AppState> for AdminSession {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let s = Session::from_request_parts(parts, state).await?;
        if s.role != crate::auth::role::Role::Admin {
            return Err(ApiError::forbidden(ErrorCode::Forbidden, "this needs the admin role"));
        }
        Ok(Self(s))
    }
}
