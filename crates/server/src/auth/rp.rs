//! The WebAuthn relying party (webauthn-rs): options with the PRF extension, error mapping to
//! stable codes, and what the server reads of a stored passkey.

use blindvault_api::ErrorCode;
use blindvault_core::encoding::b64;
use serde::Serialize;
use webauthn_rs::prelude::{Passkey, Url, WebauthnError};
use webauthn_rs::{Webauthn, WebauthnBuilder};

use crate::config::Config;
use crate::error::{ApiError, ServerError};

/// The relying party: webauthn-rs configured for this deployment.
#[derive(Debug)]
pub struct RelyingParty {
    /// The webauthn-rs instance.
    pub webauthn: Webauthn,
    prf_salt_b64: String,
}

impl RelyingParty {
    /// Builds the RP from the configuration (RP id, origin, name).
    pub fn new(config: &Config) -> Result<Self, ServerError> {
        let origin: Url = config.origin_url()?;
        let rp_id = config.rp_id();
        let webauthn = WebauthnBuilder::new(&rp_id, &origin)
            .and_then(|b| {
                b.rp_name(&config.rp_name)
                    .timeout(std::time::Duration::from_secs(
                        u64::try_from(config.challenge_ttl_secs).unwrap_or(120),
                    ))
                    .build()
            })
            .map_err(|e| ServerError::Webauthn(e.to_string()))?;
        Ok(Self { webauthn, prf_salt_b64: b64::encode(&blindvault_core::schedule::PRF_SALT_V1) })
    }

    /// Adds `extensions.prf.eval.first = salt` to serialized creation or request options and,
    /// for creation, requires a discoverable credential (`residentKey: "required"`).
    pub fn patch_options(
        &self,
        options: &impl Serialize,
        creation: bool,
    ) -> Result<serde_json::Value, ApiError> {
        let mut v = serde_json::to_value(options).map_err(ApiError::internal)?;
        let pk = v
            .get_mut("publicKey")
            .and_then(|p| p.as_object_mut())
            .ok_or_else(|| ApiError::internal("options without publicKey"))?;
        let ext = pk.entry("extensions").or_insert_with(|| serde_json::json!({}));
        if !ext.is_object() {
            *ext = serde_json::json!({});
        }
        if let Some(ext) = ext.as_object_mut() {
            ext.insert("prf".into(), serde_json::json!({ "eval": { "first": self.prf_salt_b64 } }));
        }
        if creation {
            let sel = pk.entry("authenticatorSelection").or_insert_with(|| serde_json::json!({}));
            if let Some(sel) = sel.as_object_mut() {
                sel.insert("residentKey".into(), serde_json::json!("required"));
                sel.insert("requireResidentKey".into(), serde_json::json!(true));
                sel.insert("userVerification".into(), serde_json::json!("required"));
            }
        }
        if let Some(obj) = v.as_object_mut() {
            // A modal (not conditional) request: the web app decides how to present it.
            obj.remove("mediation");
        }
        Ok(v)
    }
}

/// Maps a webauthn-rs verification error to a stable API error. The debug log gets the
/// error's kind only: some kinds carry what the client sent (a JSON error quotes the input).
pub(crate) fn map_error(e: &WebauthnError) -> ApiError {
    let debug = format!("{e:?}");
    let kind = debug.split(['(', ' ', '{']).next().unwrap_or_default();
    let (code, msg) = match e {
        WebauthnError::InvalidRPOrigin | WebauthnError::CredentialCrossOrigin => {
            (ErrorCode::OriginMismatch, "the ceremony came from another origin")
        }
        WebauthnError::InvalidRPIDHash => {
            (ErrorCode::RpIdMismatch, "the credential is for another relying party")
        }
        WebauthnError::UserNotVerified => (ErrorCode::UserNotVerified, "user verification is required"),
        WebauthnError::UserNotPresent => (ErrorCode::UserNotPresent, "user presence is required"),
        WebauthnError::MismatchedChallenge | WebauthnError::ChallengeNotFound => {
            (ErrorCode::ChallengeInvalid, "the challenge does not match")
        }
        WebauthnError::CredentialPossibleCompromise | WebauthnError::CredentialCounterUpdateFailure => (
            ErrorCode::CounterRegression,
            "the signature counter went backwards: the credential may be cloned",
        ),
        WebauthnError::CredentialExcludedFromRequest | WebauthnError::CredentialAlreadyExists => {
            (ErrorCode::CredentialExists, "this passkey is already registered")
        }
        WebauthnError::InvalidClientDataType => (ErrorCode::ClientDataInvalid, "wrong client data type"),
        _ => (ErrorCode::WebauthnFailed, "the passkey response could not be verified"),
    };
    tracing::debug!(kind, code = code.as_str(), "webauthn ceremony rejected");
    ApiError::new(axum::http::StatusCode::UNAUTHORIZED, code, msg)
}

/// Counter and backup flags of a passkey as webauthn-rs records them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasskeyFlags {
    /// The signature counter.
    pub counter: i64,
    /// Backup eligible: a synced passkey.
    pub backup_eligible: bool,
    /// Backed up.
    pub backup_state: bool,
}

/// The part of webauthn-rs's serialised `Passkey` the flags are read from. Every field is
/// required: if a release of webauthn-rs renames or drops one, reading fails (an error, not a
/// passkey silently recorded as neither synced nor backed up).
#[derive(serde::Deserialize)]
struct PasskeyJson {
    cred: CredJson,
}

#[derive(serde::Deserialize)]
struct CredJson {
    counter: u32,
    backup_eligible: bool,
    backup_state: bool,
}

/// Reads [`PasskeyFlags`] from a passkey's JSON as webauthn-rs writes it.
pub(crate) fn flags_from_json(json: &str) -> Result<PasskeyFlags, ApiError> {
    let p: PasskeyJson = serde_json::from_str(json)
        .map_err(|e| ApiError::internal(format_args!("webauthn-rs passkey JSON without its flags: {e}")))?;
    Ok(PasskeyFlags {
        counter: i64::from(p.cred.counter),
        backup_eligible: p.cred.backup_eligible,
        backup_state: p.cred.backup_state,
    })
}

/// Counter and backup flags of a passkey (see [`flags_from_json`]).
pub(crate) fn passkey_flags(pk: &Passkey) -> Result<PasskeyFlags, ApiError> {
    flags_from_json(&serde_json::to_string(pk).map_err(ApiError::internal)?)
}

/// Base64url (no padding) of a credential id, as used for the `credentials.id` column.
pub(crate) fn cred_id_text(id: &[u8]) -> String {
    b64::encode(id)
}

#[cfg(test)]
mod flag_tests {
    #![allow(clippy::unwrap_used)]
    use super::{PasskeyFlags, flags_from_json};

    #[test]
    fn flags_are_read_from_the_passkey_json() {
        let json = r#"{"cred":{"cred_id":"AA","counter":7,"backup_eligible":true,"backup_state":false}}"#;
        let want = PasskeyFlags { counter: 7, backup_eligible: true, backup_state: false };
        assert_eq!(flags_from_json(json).unwrap(), want);
    }

    /// A webauthn-rs whose JSON lost or renamed a flag is an error, not "not synced".
    #[test]
    fn a_missing_flag_is_an_error_not_false() {
        for json in [
            r#"{"cred":{"counter":7,"backup_state":true}}"#,
            r#"{"cred":{"counter":7,"backup_eligible":true}}"#,
            r#"{"cred":{"backup_eligible":true,"backup_state":true}}"#,
            r#"{"credential":{"counter":7,"backup_eligible":true,"backup_state":true}}"#,
        ] {
            let err = flags_from_json(json).unwrap_err();
            assert_eq!((err.status.as_u16(), err.code), (500, blindvault_api::ErrorCode::Internal), "{json}");
        }
    }
}
