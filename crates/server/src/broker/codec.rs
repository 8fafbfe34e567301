//! Binary values as the broker stores and sends them: base64url without padding.

use crate::error::ApiError;
use blindvault_api::ErrorCode;

/// Base64url without padding: the core's one encoder.
pub(crate) use blindvault_core::encoding::b64::encode as b64;

pub(crate) fn unb64(s: &str, what: &'static str) -> Result<Vec<u8>, ApiError> {
    blindvault_core::encoding::b64::decode(s)
        .map_err(|_| ApiError::bad_request(ErrorCode::InvalidEncoding, format!("{what} is not base64url")))
}
