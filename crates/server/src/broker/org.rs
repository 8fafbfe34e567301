//! The org public key and the org's settings.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use blindvault_api::ErrorCode;
use blindvault_api::broker_calls::PutOrg;

use super::common::{b64, log_in, org};
use super::store;
use crate::auth::session::{AdminSession, Session};
use crate::auth::stepup::{self, Action as StepUp};
use crate::error::ApiError;
use crate::http::extract::ApiJson;
use crate::state::AppState;
pub(crate) use blindvault_api::broker::{OrgSettings, OrgView};

pub(crate) async fn get_org(State(state): State<AppState>, _s: Session) -> Result<Json<OrgView>, ApiError> {
    Ok(Json(match org(&state).await? {
        Some((k, g)) => OrgView {
            org_public_key: Some(b64(&k.to_bytes())),
            fingerprint: Some(k.fingerprint().to_string()),
            generation: g,
        },
        None => OrgView { org_public_key: None, fingerprint: None, generation: 0 },
    }))
}

pub(crate) async fn put_org(
    State(state): State<AppState>,
    AdminSession(s): AdminSession,
    headers: HeaderMap,
    ApiJson(body): ApiJson<PutOrg>,
) -> Result<Json<OrgView>, ApiError> {
    let now = state.clock.now();
    let key = b64(&body.org_public_key.to_bytes());
    let fp = body.org_public_key.fingerprint().to_string();
    let current = org(&state).await?;
    let generation = match current {
        Some((k, g)) if k == body.org_public_key => g,
        Some((_, g)) => {
            if !body.replace {
                return Err(ApiError::conflict(
                    ErrorCode::OrgAlreadySet,
                    "an org key is already set; replacing it needs replace=true and re-enrols every approver",
                ));
            }
            // The new key, the reset of every enrolment and the audit row: one transaction; the
            // generation it replaces is part of the condition, so two replacements at once do
            // not both count.
            let mut tx = state.store.pool().begin().await?;
            // Replacing the org key is bound to the new key's fingerprint.
            let step_up = stepup::spend_in(&mut tx, &state, &s, &headers, StepUp::OrgReplace, &fp).await?;
            let new = store::org::NewKey { key: &key, fingerprint: &fp, at: now, by: &s.user_id };
            if !store::org::replace(&mut tx, &new, g).await? {
                return Err(ApiError::conflict(
                    ErrorCode::Conflict,
                    "the org key changed meanwhile; reload and try again",
                ));
            }
            // Enrolments signed by the old key no longer vouch for anything; nor does its
            // revocation record.
            store::org::reset_enrolments(&mut tx).await?;
            store::revocations::delete(&mut tx).await?;
            log_in(
                &mut tx,
                &state,
                Some(&s.user_id),
                "broker.org.replaced",
                None,
                serde_json::json!({ "fingerprint": fp, "generation": g + 1, "step_up": step_up }),
            )
            .await?;
            tx.commit().await?;
            g + 1
        }
        None => {
            // The first key and its audit row: one transaction.
            let mut tx = state.store.pool().begin().await?;
            let new = store::org::NewKey { key: &key, fingerprint: &fp, at: now, by: &s.user_id };
            store::org::insert_first(&mut tx, &new).await?;
            log_in(
                &mut tx,
                &state,
                Some(&s.user_id),
                "broker.org.set",
                None,
                serde_json::json!({ "fingerprint": fp }),
            )
            .await?;
            tx.commit().await?;
            1
        }
    };
    Ok(Json(OrgView { org_public_key: Some(key), fingerprint: Some(fp), generation }))
}

/// The settings key of "refuse backup-eligible (synced) passkeys as approver devices".
pub(crate) const REFUSE_SYNCED: &str = "broker.refuse_synced_approvers";

pub(crate) async fn refuse_synced(state: &AppState) -> Result<bool, ApiError> {
    Ok(state.store.setting(REFUSE_SYNCED).await?.as_deref() == Some("1"))
}

pub(crate) async fn get_org_settings(
    State(state): State<AppState>,
    _a: AdminSession,
) -> Result<Json<OrgSettings>, ApiError> {
    Ok(Json(OrgSettings { refuse_synced_approvers: refuse_synced(&state).await? }))
}

pub(crate) async fn put_org_settings(
    State(state): State<AppState>,
    AdminSession(s): AdminSession,
    ApiJson(body): ApiJson<OrgSettings>,
) -> Result<Json<OrgSettings>, ApiError> {
    let mut tx = state.store.pool().begin().await?;
    let value = if body.refuse_synced_approvers { "1" } else { "0" };
    store::org::put_setting(&mut tx, REFUSE_SYNCED, value).await?;
    log_in(
        &mut tx,
        &state,
        Some(&s.user_id),
        "broker.org.settings",
        None,
        serde_json::json!({ "refuse_synced_approvers": body.refuse_synced_approvers }),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(body))
}

pub(crate) fn synced_refused() -> ApiError {
    ApiError::forbidden(
        ErrorCode::SyncedPasskeyRefused,
        "this organisation accepts approver devices only on passkeys that cannot be synced or backed up \
         (a security key, or a device-bound passkey); this passkey is backup-eligible",
    )
}
