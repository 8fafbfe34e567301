//! Checks webauthn-rs 0.6 does not make, run on every ceremony response before it is handed to
//! the library:
//!
//! - `clientDataJSON`: `crossOrigin: true` and any `topOrigin` are refused (the library checks
//!   `crossOrigin` only at registration, and `topOrigin` nowhere); a duplicated key is refused.
//! - registration: a credential id over 1,023 bytes (the WebAuthn limit; the library allows
//!   4,096), `none` attestation with a non-empty `attStmt`, trailing bytes after the attestation
//!   object.
//! - authenticator data (both ceremonies): bytes after the attested credential data and the
//!   extensions are refused (the library parses what the flags announce and ignores the rest).
//!
//! Every refusal is a 400 with a stable code (`webauthn_*`) and a fixed message: nothing from
//! the request is echoed or logged.

use blindvault_api::ErrorCode;
use serde::Deserialize;
use webauthn_rs::prelude::{PublicKeyCredential, RegisterPublicKeyCredential};

use crate::error::ApiError;

/// The longest credential id WebAuthn allows (Level 3, §5.8.3 / §6.1).
pub(crate) const CREDENTIAL_ID_MAX_LEN: usize = 1023;

const FLAG_AT: u8 = 0x40;
const FLAG_ED: u8 = 0x80;

fn cross_origin() -> ApiError {
    ApiError::bad_request(
        ErrorCode::WebauthnCrossOrigin,
        "the ceremony ran in a cross-origin frame (crossOrigin or topOrigin); it must run on this site's own page",
    )
}

fn client_data_invalid() -> ApiError {
    ApiError::bad_request(ErrorCode::WebauthnClientDataInvalid, "the client data is not valid")
}

fn credential_id_too_long() -> ApiError {
    ApiError::bad_request(
        ErrorCode::WebauthnCredentialIdTooLong,
        "the credential id is longer than 1023 bytes",
    )
}

fn attestation_invalid() -> ApiError {
    ApiError::bad_request(ErrorCode::WebauthnAttestationInvalid, "the attestation object is not valid")
}

fn authenticator_data_invalid() -> ApiError {
    ApiError::bad_request(ErrorCode::WebauthnAuthenticatorDataInvalid, "the authenticator data is not valid")
}

/// Checks a registration response (`navigator.credentials.create`).
pub(crate) fn check_registration(credential: &RegisterPublicKeyCredential) -> Result<(), ApiError> {
    check_client_data(&credential.response.client_data_json)?;
    if credential.raw_id.len() > CREDENTIAL_ID_MAX_LEN {
        return Err(credential_id_too_long());
    }
    check_attestation_object(&credential.response.attestation_object)
}

/// Checks an assertion (`navigator.credentials.get`): login, every step-up and every approval.
pub(crate) fn check_assertion(credential: &PublicKeyCredential) -> Result<(), ApiError> {
    check_client_data(&credential.response.client_data_json)?;
    if credential.raw_id.len() > CREDENTIAL_ID_MAX_LEN {
        return Err(credential_id_too_long());
    }
    check_authenticator_data(&credential.response.authenticator_data, false)
}

/// The members of `clientDataJSON` this module looks at. serde's derive refuses a duplicated
/// member, so `{"crossOrigin":true,"crossOrigin":false}` cannot say one thing here and another
/// to a parser that keeps the last value.
#[derive(Deserialize)]
struct ClientData {
    #[serde(rename = "crossOrigin", default)]
    cross_origin: Option<bool>,
    #[serde(rename = "topOrigin", default, deserialize_with = "present")]
    top_origin: bool,
}

/// `true` whenever the member is there, whatever its value (also `null`).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    serde::de::IgnoredAny::deserialize(d).map(|_| true)
}

/// `crossOrigin` must be absent or `false`; `topOrigin` must be absent.
pub(crate) fn check_client_data(bytes: &[u8]) -> Result<(), ApiError> {
    let cd: ClientData = serde_json::from_slice(bytes).map_err(|_| client_data_invalid())?;
    if cd.cross_origin == Some(true) || cd.top_origin {
        return Err(cross_origin());
    }
    Ok(())
}

/// Parses one CBOR item at the start of `bytes`; returns the item and its length.
fn cbor_item(bytes: &[u8]) -> Option<(serde_cbor_2::Value, usize)> {
    let mut de = serde_cbor_2::Deserializer::from_slice(bytes);
    let v = serde_cbor_2::Value::deserialize(&mut de).ok()?;
    Some((v, de.byte_offset()))
}

/// The attestation object: one CBOR map with `fmt` (text), `attStmt` (map) and `authData`
/// (bytes), nothing after it; `none` attestation carries an empty `attStmt`.
pub(crate) fn check_attestation_object(bytes: &[u8]) -> Result<(), ApiError> {
    use serde_cbor_2::Value;
    let (value, len) = cbor_item(bytes).ok_or_else(attestation_invalid)?;
    if len != bytes.len() {
        return Err(attestation_invalid());
    }
    let Value::Map(map) = value else { return Err(attestation_invalid()) };
    let get = |k: &str| map.get(&Value::Text(k.to_owned()));
    let (Some(Value::Text(fmt)), Some(Value::Map(stmt)), Some(Value::Bytes(auth_data))) =
        (get("fmt"), get("attStmt"), get("authData"))
    else {
        return Err(attestation_invalid());
    };
    if fmt == "none" && !stmt.is_empty() {
        return Err(attestation_invalid());
    }
    check_authenticator_data(auth_data, true)
}

/// Authenticator data: RP ID hash (32), flags (1), counter (4), then the attested credential
/// data if `AT` is set (required at registration), then one CBOR map of extensions if `ED` is
/// set — and nothing else.
pub(crate) fn check_authenticator_data(bytes: &[u8], registration: bool) -> Result<(), ApiError> {
    let flags = *bytes.get(32).ok_or_else(authenticator_data_invalid)?;
    let mut rest = bytes.get(37..).ok_or_else(authenticator_data_invalid)?;
    if flags & FLAG_AT != 0 {
        // AAGUID (16), credential id length (2, big-endian), credential id, COSE public key.
        let len_bytes: [u8; 2] =
            rest.get(16..18).and_then(|b| b.try_into().ok()).ok_or_else(authenticator_data_invalid)?;
        let id_len = usize::from(u16::from_be_bytes(len_bytes));
        if id_len > CREDENTIAL_ID_MAX_LEN {
            return Err(credential_id_too_long());
        }
        rest = rest.get(18 + id_len..).ok_or_else(authenticator_data_invalid)?;
        let (_, key_len) = cbor_item(rest).ok_or_else(authenticator_data_invalid)?;
        rest = rest.get(key_len..).ok_or_else(authenticator_data_invalid)?;
    } else if registration {
        return Err(authenticator_data_invalid());
    }
    if flags & FLAG_ED != 0 {
        let (ext, ext_len) = cbor_item(rest).ok_or_else(authenticator_data_invalid)?;
        if !matches!(ext, serde_cbor_2::Value::Map(_)) {
            return Err(authenticator_data_invalid());
        }
        rest = rest.get(ext_len..).ok_or_else(authenticator_data_invalid)?;
    }
    if !rest.is_empty() {
        return Err(authenticator_data_invalid());
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn client_data() {
        let ok =
            br#"{"type":"webauthn.get","challenge":"AA","origin":"https://a.example","crossOrigin":false}"#;
        assert!(check_client_data(ok).is_ok());
        let code = |b: &[u8]| check_client_data(b).err().map(|e| e.code);
        assert_eq!(code(br#"{"crossOrigin":true}"#), Some(ErrorCode::WebauthnCrossOrigin));
        assert_eq!(code(br#"{"topOrigin":"https://b.example"}"#), Some(ErrorCode::WebauthnCrossOrigin));
        assert_eq!(code(br#"{"topOrigin":null}"#), Some(ErrorCode::WebauthnCrossOrigin));
        assert_eq!(
            code(br#"{"crossOrigin":true,"crossOrigin":false}"#),
            Some(ErrorCode::WebauthnClientDataInvalid)
        );
        assert_eq!(code(br#"{"crossOrigin":"yes"}"#), Some(ErrorCode::WebauthnClientDataInvalid));
        assert_eq!(code(b"not json"), Some(ErrorCode::WebauthnClientDataInvalid));
    }

    #[test]
    fn authenticator_data() {
        let mut ad = vec![0u8; 37];
        ad[32] = 0x05;
        assert!(check_authenticator_data(&ad, false).is_ok());
        assert!(check_authenticator_data(&ad, true).is_err(), "registration needs AT");
        assert!(check_authenticator_data(&ad[..36], false).is_err());
        let mut padded = ad.clone();
        padded.push(0);
        assert!(check_authenticator_data(&padded, false).is_err());
        // ED with an empty map (0xa0): fine; with something after it: refused.
        let mut ed = ad.clone();
        ed[32] |= FLAG_ED;
        ed.push(0xa0);
        assert!(check_authenticator_data(&ed, false).is_ok());
        ed.push(0xa0);
        assert!(check_authenticator_data(&ed, false).is_err());
        // ED announced, but not a map.
        let mut not_map = ad.clone();
        not_map[32] |= FLAG_ED;
        not_map.push(0x01);
        assert!(check_authenticator_data(&not_map, false).is_err());
        // AT with a 1,024-byte id.
        let mut at = ad;
        at[32] |= FLAG_AT;
        at.extend_from_slice(&[0u8; 16]);
        at.extend_from_slice(&1024u16.to_be_bytes());
        at.extend_from_slice(&[7u8; 1024]);
        at.push(0xa0);
        assert_eq!(
            check_authenticator_data(&at, true).err().map(|e| e.code),
            Some(ErrorCode::WebauthnCredentialIdTooLong)
        );
    }
}
