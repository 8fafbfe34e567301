//! The WebAuthn relying party (webauthn-rs): options with the PRF extension, ceremony state in
//! the database (single-use, short-lived), and error mapping to stable codes.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use rand_core::Rng as _;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::Row;
use webauthn_rs::prelude::{Passkey, Url, WebauthnError};
use webauthn_rs::{Webauthn, WebauthnBuilder};

pub mod strict;

use crate::AppState;
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
        Ok(Self { webauthn, prf_salt_b64: B64.encode(blindvault_core::schedule::PRF_SALT_V1) })
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
pub fn map_error(e: &WebauthnError) -> ApiError {
    let debug = format!("{e:?}");
    let kind = debug.split(['(', ' ', '{']).next().unwrap_or_default();
    let (code, msg) = match e {
        WebauthnError::InvalidRPOrigin | WebauthnError::CredentialCrossOrigin => {
            ("origin_mismatch", "the ceremony came from another origin")
        }
        WebauthnError::InvalidRPIDHash => ("rp_id_mismatch", "the credential is for another relying party"),
        WebauthnError::UserNotVerified => ("user_not_verified", "user verification is required"),
        WebauthnError::UserNotPresent => ("user_not_present", "user presence is required"),
        WebauthnError::MismatchedChallenge | WebauthnError::ChallengeNotFound => {
            ("challenge_invalid", "the challenge does not match")
        }
        WebauthnError::CredentialPossibleCompromise | WebauthnError::CredentialCounterUpdateFailure => {
            ("counter_regression", "the signature counter went backwards: the credential may be cloned")
        }
        WebauthnError::CredentialExcludedFromRequest | WebauthnError::CredentialAlreadyExists => {
            ("credential_exists", "this passkey is already registered")
        }
        WebauthnError::InvalidClientDataType => ("client_data_invalid", "wrong client data type"),
        _ => ("webauthn_failed", "the passkey response could not be verified"),
    };
    tracing::debug!(kind, code, "webauthn ceremony rejected");
    ApiError::new(axum::http::StatusCode::UNAUTHORIZED, code, msg)
}

/// Ceremony kinds kept in the `ceremonies` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// New account registration.
    Register,
    /// Adding a passkey to a signed-in account.
    AddPasskey,
    /// Usernameless login.
    Login,
    /// A broker approval (an assertion bound to one request and one user).
    Approve,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Register => "register",
            Kind::AddPasskey => "add_passkey",
            Kind::Login => "login",
            Kind::Approve => "approve",
        }
    }
}

/// Stores ceremony state and returns its id (random, 128 bits).
pub async fn put_state(
    state: &AppState,
    kind: Kind,
    user_id: Option<&str>,
    value: &impl Serialize,
) -> Result<String, ApiError> {
    let now = state.clock.now();
    // Stale ceremonies are deleted by the background sweeper (`broker::sweeper`), not here.
    let mut raw = [0u8; 16];
    blindvault_core::rng::os_rng().fill_bytes(&mut raw);
    let id = B64.encode(raw);
    let json = serde_json::to_string(value).map_err(ApiError::internal)?;
    sqlx::query("INSERT INTO ceremonies (id, kind, user_id, state, expires_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(&id)
        .bind(kind.as_str())
        .bind(user_id)
        .bind(json)
        .bind(now.saturating_add(state.config.challenge_ttl_secs))
        .execute(state.store.pool())
        .await?;
    Ok(id)
}

/// Takes (deletes and returns) ceremony state: a challenge answers at most once, and only
/// before it expires.
pub async fn take_state<T: DeserializeOwned>(
    state: &AppState,
    kind: Kind,
    id: &str,
) -> Result<(Option<String>, T), ApiError> {
    let row = sqlx::query(
        "DELETE FROM ceremonies WHERE id = $1 AND kind = $2 RETURNING user_id, state, expires_at",
    )
    .bind(id)
    .bind(kind.as_str())
    .fetch_optional(state.store.pool())
    .await?
    .ok_or_else(|| ApiError::bad_request("challenge_invalid", "unknown or already used challenge"))?;
    let expires_at: i64 = row.try_get("expires_at")?;
    if expires_at <= state.clock.now() {
        return Err(ApiError::bad_request("challenge_expired", "the challenge has expired; start again"));
    }
    let user_id: Option<String> = row.try_get("user_id")?;
    let json: String = row.try_get("state")?;
    let value = serde_json::from_str(&json).map_err(ApiError::internal)?;
    Ok((user_id, value))
}

/// Counter and backup flags of a passkey as webauthn-rs records them.
pub fn passkey_flags(pk: &Passkey) -> (i64, bool, bool) {
    let v = serde_json::to_value(pk).unwrap_or_default();
    let cred = v.get("cred").cloned().unwrap_or_default();
    let counter = cred.get("counter").and_then(|c| c.as_i64()).unwrap_or(0);
    let be = cred.get("backup_eligible").and_then(|c| c.as_bool()).unwrap_or(false);
    let bs = cred.get("backup_state").and_then(|c| c.as_bool()).unwrap_or(false);
    (counter, be, bs)
}

/// Base64url (no padding) of a credential id, as used for the `credentials.id` column.
pub fn cred_id_text(id: &[u8]) -> String {
    B64.encode(id)
}
