//! The org-signed revocation record.

use axum::Json;
use axum::extract::State;
use blindvault_api::ErrorCode;
use blindvault_api::broker_calls::{PutRevocations, RevocationsStored, RevocationsView};
use blindvault_core::revocation::SignedRevocations;

use super::common::{b64, conn, core_err, log_in, require_org, stored, unb64};
use super::store;
use crate::auth::session::{AdminSession, Session};
use crate::error::ApiError;
use crate::http::extract::ApiJson;
use crate::state::AppState;

/// The stored revocation record (base64url), if any.
pub(crate) async fn revocations_on(c: &mut sqlx::AnyConnection) -> Result<Option<String>, ApiError> {
    Ok(store::revocations::get(c).await?.map(|r| r.record))
}

/// The org's newest revocation record, for devices and admins to verify themselves.
pub(crate) async fn get_revocations(
    State(state): State<AppState>,
    _s: Session,
) -> Result<Json<RevocationsView>, ApiError> {
    let record = revocations_on(&mut *conn(&state).await?).await?;
    Ok(Json(RevocationsView { revocations: record.map(stored).transpose()? }))
}

pub(crate) fn changed_meanwhile() -> ApiError {
    ApiError::conflict(
        ErrorCode::Conflict,
        "the revocation record changed meanwhile; fetch it and sign the next one",
    )
}

/// Stores a newer org-signed revocation record. It must verify under the org key
/// (`400 bad_signature`) and have a higher epoch than the stored one (`409
/// revocation_rollback`; the same record again is accepted) and contain the stored one — every
/// approver device and host it revokes (`409 revocation_diverged`). The server keeps it as routing
/// data: devices and consumers verify it, and refuse an older one than they have seen.
pub(crate) async fn put_revocations(
    State(state): State<AppState>,
    AdminSession(s): AdminSession,
    ApiJson(body): ApiJson<PutRevocations>,
) -> Result<Json<RevocationsStored>, ApiError> {
    let (org_key, _) = require_org(&state).await?;
    let record = body.revocations.verify(&org_key).map_err(|e| core_err(ErrorCode::BadSignature, e))?;
    let epoch = i64::try_from(record.epoch)
        .map_err(|_| ApiError::bad_request(ErrorCode::InvalidRevocations, "the epoch is out of range"))?;
    let text = b64(&body.revocations.to_bytes());
    let mut tx = state.store.pool().begin().await?;
    let current = store::revocations::get(&mut tx).await?;
    let new = store::revocations::New { epoch, record: &text, at: state.clock.now(), by: &s.user_id };
    if let Some(row) = current {
        let (have, stored) = (row.epoch, row.record);
        if have == epoch && stored == text {
            return Ok(Json(RevocationsStored { epoch, stored: false }));
        }
        if have >= epoch {
            return Err(ApiError::conflict(
                ErrorCode::RevocationRollback,
                format!("the stored revocation record has epoch {have}; a new one needs a higher epoch"),
            ));
        }
        // Append-only: the new record must still revoke everything the stored one does.
        let stored_record = unb64(&stored, "the stored revocation record")
            .ok()
            .and_then(|b| SignedRevocations::from_bytes(&b).ok())
            .ok_or_else(|| ApiError::internal("the stored revocation record does not parse"))?
            .record;
        if record.replaces(&stored_record).is_err() {
            return Err(ApiError::conflict(
                ErrorCode::RevocationDiverged,
                format!(
                    "the new revocation record does not contain the stored one (epoch {have}): records are \
                     append-only, every approver device and host revoked before must still be listed"
                ),
            ));
        }
        if !store::revocations::replace(&mut tx, &new, have).await? {
            return Err(changed_meanwhile());
        }
    } else {
        // Two first uploads at once: one stores, the other is told to look again.
        if !store::revocations::insert_first(&mut tx, &new).await? {
            return Err(changed_meanwhile());
        }
    }
    log_in(
        &mut tx,
        &state,
        Some(&s.user_id),
        "broker.revocations.set",
        None,
        serde_json::json!({
            "epoch": epoch,
            "approvers": record.approvers.len(),
            "hosts": record.hosts.iter().map(|h| h.to_text()).collect::<Vec<_>>(),
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(RevocationsStored { epoch, stored: true }))
}
