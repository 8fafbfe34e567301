//! Verifying a passkey assertion: login, step-ups and broker approvals share it.

use blindvault_api::ErrorCode;
use webauthn_rs::prelude::PublicKeyCredential;

use crate::audit::Event;
use crate::audit::record::log_event;
use crate::auth::ceremony::{self as wa, Kind};
use crate::auth::rp::PasskeyFlags;
use crate::auth::store::credentials;
use crate::error::ApiError;
use crate::state::AppState;

use crate::error::rate_limited;

/// A verified assertion: whose passkey signed, which one, and what it reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedAssertion {
    /// The account the passkey belongs to.
    pub user_id: String,
    /// The passkey (`credentials.id`).
    pub credential_id: String,
    /// Its counter and backup flags, as this assertion reported them (now recorded).
    pub flags: PasskeyFlags,
}

/// Verifies a login assertion against stored state: the server's whole login code path except
/// HTTP and the session cookie.
pub async fn verify_login(
    state: &AppState,
    ceremony_id: &str,
    credential: &PublicKeyCredential,
) -> Result<VerifiedAssertion, ApiError> {
    let (tx, verified) = verify_login_in(state, ceremony_id, credential).await?;
    tx.commit().await?;
    Ok(verified)
}

/// A login's checks, returning the transaction its writes go in: the challenge is taken first,
/// in its own commit — a challenge answers once, whatever happens after (a refusal, a failure
/// after the verification, a client that hangs up) — then, in the returned transaction, the
/// assertion is verified and the passkey's counter recorded; the caller adds what the login
/// makes (the session and its audit row) and commits. A refused assertion writes nothing more;
/// its failure is recorded and the error returned.
pub(crate) async fn verify_login_in(
    state: &AppState,
    ceremony_id: &str,
    credential: &PublicKeyCredential,
) -> Result<(Tx, VerifiedAssertion), ApiError> {
    let (_, auth): (_, webauthn_rs::prelude::DiscoverableAuthentication) =
        wa::take_state(state, Kind::Login, ceremony_id).await?;
    let mut tx = state.store.pool().begin().await?;
    match verify_on(state, &mut tx, auth, credential).await {
        Ok(verified) => Ok((tx, verified)),
        Err(refusal) => {
            drop(tx);
            Err(refusal.report(state).await)
        }
    }
}

/// A pooled transaction.
pub(crate) type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// Verifies an assertion against a taken ceremony state: credential lookup, signature, user
/// verification, origin, RP ID and the counter (recorded), and first the checks of
/// [`wa::strict`]. Used by step-ups and broker approvals (login: [`verify_login_in`]).
pub(crate) async fn verify_assertion(
    state: &AppState,
    auth: webauthn_rs::prelude::DiscoverableAuthentication,
    credential: &PublicKeyCredential,
) -> Result<VerifiedAssertion, ApiError> {
    let mut conn = state.store.pool().acquire().await?;
    match verify_on(state, &mut conn, auth, credential).await {
        Ok(verified) => Ok(verified),
        Err(refusal) => {
            drop(conn);
            Err(refusal.report(state).await)
        }
    }
}

/// Why an assertion was refused, and the failure to record (`login.failed`) once the caller's
/// connection is released — a second connection held beside the first could wait for a pool
/// every request of which does the same.
pub(crate) struct Refusal {
    error: ApiError,
    failed: Option<(String, serde_json::Value)>,
}

impl From<ApiError> for Refusal {
    fn from(error: ApiError) -> Self {
        Self { error, failed: None }
    }
}

impl From<sqlx::Error> for Refusal {
    fn from(e: sqlx::Error) -> Self {
        ApiError::from(e).into()
    }
}

impl Refusal {
    /// Records the failure, if there is one to record, and gives the error to answer.
    pub(crate) async fn report(self, state: &AppState) -> ApiError {
        if let Some((user_id, detail)) = self.failed {
            let ev = Event { actor: None, action: "login.failed", target: Some(&user_id), detail };
            if let Err(e) = log_event(state, ev).await {
                return e;
            }
        }
        self.error
    }
}

/// [`verify_assertion`] on the caller's connection or transaction `c`.
async fn verify_on(
    state: &AppState,
    c: &mut sqlx::AnyConnection,
    auth: webauthn_rs::prelude::DiscoverableAuthentication,
    credential: &PublicKeyCredential,
) -> Result<VerifiedAssertion, Refusal> {
    // What webauthn-rs does not check (cross-origin frames, trailing bytes), before it looks.
    crate::auth::strict::check_assertion(credential)?;
    let (uuid, raw_cred_id) =
        state.rp.webauthn.identify_discoverable_authentication(credential).map_err(|_| {
            ApiError::unauthorized(ErrorCode::UnknownCredential, "this passkey is not registered here")
        })?;
    let cred_id = crate::auth::rp::cred_id_text(raw_cred_id);
    let user_id = uuid.to_string();
    let mut passkey = credentials::find(c, &cred_id, &user_id).await?.ok_or_else(|| {
        ApiError::unauthorized(ErrorCode::UnknownCredential, "this passkey is not registered here")
    })?;
    let now_ms = state.clock.now_ms();
    let result = match state.rp.webauthn.finish_discoverable_authentication_v2(credential, auth, &passkey) {
        Ok(r) => r,
        Err(e) => {
            // Failures count per account; past its bucket a failure answers 429 instead of 401.
            // A valid assertion is never refused by this bucket: credential and user ids are not
            // secret (consumer hosts see them in delivered enrolments), so a bucket that could
            // refuse good assertions would let anyone lock an approver out, and a passkey
            // signature cannot be guessed anyway. The per-address limit bounds the work.
            if let Err(wait) = state.limits.per_account.check(&user_id, now_ms) {
                return Err(rate_limited(wait, "too many failed passkey attempts for this account").into());
            }
            let err = crate::auth::rp::map_error(&e);
            let detail = serde_json::json!({ "credential": cred_id, "code": err.code });
            return Err(Refusal { error: err, failed: Some((user_id, detail)) });
        }
    };
    passkey.update_credential(&result);
    let flags = PasskeyFlags {
        counter: i64::from(result.counter()),
        backup_eligible: result.backup_eligible(),
        backup_state: result.backup_state(),
    };
    if !credentials::record_use(c, &cred_id, &passkey, flags, state.clock.now()).await? {
        return Err(ApiError::unauthorized(
            ErrorCode::CounterRegression,
            "the signature counter went backwards: the credential may be cloned",
        )
        .into());
    }
    Ok(VerifiedAssertion { user_id, credential_id: cred_id, flags })
}
