//! Verifying a passkey assertion: login, step-ups and broker approvals share it.

use sqlx::Row;
use webauthn_rs::prelude::PublicKeyCredential;

use crate::audit::Event;
use crate::audit::record::log_event;
use crate::auth::ceremony::{self as wa, Kind};
use crate::error::ApiError;
use crate::state::AppState;

use crate::error::rate_limited;

/// Verifies a login assertion against stored state: the server's whole login code path except
/// HTTP and the session cookie. Returns the user id and the credential id.
pub async fn verify_login(
    state: &AppState,
    ceremony_id: &str,
    credential: &PublicKeyCredential,
) -> Result<(String, String), ApiError> {
    let (_, auth): (_, webauthn_rs::prelude::DiscoverableAuthentication) =
        wa::take_state(state, Kind::Login, ceremony_id).await?;
    verify_assertion(state, auth, credential).await
}

/// Verifies an assertion against a taken ceremony state: credential lookup, signature, user
/// verification, origin, RP ID and the counter (recorded), and first the checks of
/// [`wa::strict`]. Used by login, every step-up and broker approvals.
pub async fn verify_assertion(
    state: &AppState,
    auth: webauthn_rs::prelude::DiscoverableAuthentication,
    credential: &PublicKeyCredential,
) -> Result<(String, String), ApiError> {
    // What webauthn-rs does not check (cross-origin frames, trailing bytes), before it looks.
    crate::auth::strict::check_assertion(credential)?;
    let (uuid, raw_cred_id) =
        state.rp.webauthn.identify_discoverable_authentication(credential).map_err(|_| {
            ApiError::unauthorized("unknown_credential", "this passkey is not registered here")
        })?;
    let cred_id = crate::auth::rp::cred_id_text(raw_cred_id);
    let user_id = uuid.to_string();
    let mut conn = state.store.pool().acquire().await?;
    let row = sqlx::query("SELECT passkey, sign_count FROM credentials WHERE id = $1 AND user_id = $2")
        .bind(&cred_id)
        .bind(&user_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| ApiError::unauthorized("unknown_credential", "this passkey is not registered here"))?;
    let now_ms = state.clock.now_ms();
    let json: String = row.try_get("passkey")?;
    let mut passkey: webauthn_rs::prelude::Passkey =
        serde_json::from_str(&json).map_err(ApiError::internal)?;
    let result = match state.rp.webauthn.finish_discoverable_authentication_v2(credential, auth, &passkey) {
        Ok(r) => r,
        Err(e) => {
            drop(conn);
            // Failures count per account; past its bucket a failure answers 429 instead of 401.
            // A valid assertion is never refused by this bucket: credential and user ids are not
            // secret (consumer hosts see them in delivered enrolments), so a bucket that could
            // refuse good assertions would let anyone lock an approver out, and a passkey
            // signature cannot be guessed anyway. The per-address limit bounds the work.
            if let Err(wait) = state.limits.per_account.check(&user_id, now_ms) {
                return Err(rate_limited(wait, "too many failed passkey attempts for this account"));
            }
            let err = crate::auth::rp::map_error(&e);
            let detail = serde_json::json!({ "credential": cred_id, "code": err.code });
            log_event(state, Event { actor: None, action: "login.failed", target: Some(&user_id), detail })
                .await?;
            return Err(err);
        }
    };
    passkey.update_credential(&result);
    let counter = i64::from(result.counter());
    let json = serde_json::to_string(&passkey).map_err(ApiError::internal)?;
    // The conditional update closes the race of two logins presenting the same counter.
    let r = sqlx::query(
        "UPDATE credentials SET passkey = $1, sign_count = $2, backup_eligible = $3, backup_state = $4, last_used_at = $5 \
         WHERE id = $6 AND (sign_count < $2 OR $2 = 0)",
    )
    .bind(json)
    .bind(counter)
    .bind(i64::from(result.backup_eligible()))
    .bind(i64::from(result.backup_state()))
    .bind(state.clock.now())
    .bind(&cred_id)
    .execute(&mut *conn)
    .await?;
    if r.rows_affected() != 1 {
        return Err(ApiError::unauthorized(
            "counter_regression",
            "the signature counter went backwards: the credential may be cloned",
        ));
    }
    Ok((user_id, cred_id))
}
