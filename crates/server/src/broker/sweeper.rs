//! Expiry: pending or approved requests past their deadline become `expired`, and every sealed
//! response of a request that is no longer `approved` is deleted; ceremony state (challenges)
//! is deleted [`CEREMONY_GRACE_SECS`] after its lifetime ends (it can no longer be answered:
//! `take_state` checks the expiry itself; the grace keeps the answer to a late reply "expired,
//! start again" rather than "unknown challenge").

use super::hub::Note;
use super::notify::announce;
use super::store::requests;
use crate::audit::{self, Event};
use crate::auth::store::ceremonies;
use crate::state::AppState;

/// One sweep; returns how many requests expired. The expiries, the deletion of their responses
/// and their audit rows commit together, in one transaction.
pub async fn sweep(state: &AppState) -> Result<u64, crate::error::ApiError> {
    let now = state.clock.now();
    let mut tx = state.store.pool().begin().await?;
    let ids = requests::expire_due(&mut tx, now).await?;
    if ids.is_empty() {
        // Nothing expired: no audit row, and the head row is not touched.
        tx.commit().await?;
        return Ok(0);
    }
    for id in &ids {
        requests::delete_responses(&mut tx, id).await?;
    }
    for id in &ids {
        audit::append_in(
            &state.store,
            &mut tx,
            now,
            Event {
                actor: None,
                action: "broker.request.expired",
                target: Some(id),
                detail: serde_json::json!({}),
            },
        )
        .await?;
    }
    tx.commit().await?;
    let n = ids.len() as u64;
    for id in ids {
        announce(state, Note::Request(id)).await;
    }
    Ok(n)
}

/// How long after its expiry a ceremony row is kept.
pub const CEREMONY_GRACE_SECS: i64 = 300;

/// Deletes ceremony state [`CEREMONY_GRACE_SECS`] past its lifetime; returns how many rows went.
pub async fn sweep_ceremonies(state: &AppState) -> Result<u64, crate::error::ApiError> {
    let before = state.clock.now().saturating_sub(CEREMONY_GRACE_SECS);
    ceremonies::delete_expired(&mut *state.store.pool().acquire().await?, before).await
}

/// How often the audit head is logged (when it moved), in seconds: an anchor for log shipping.
pub const AUDIT_ANCHOR_LOG_SECS: i64 = 3600;

/// The audit head last seen by [`log_audit_anchor`] (`SEQ:HASH`, empty for an empty log) and
/// when (unix seconds).
pub type AnchorLogged = Option<(String, i64)>;

/// Logs the audit head (`audit head anchor=SEQ:HASH`, info level) at start and then hourly if
/// it changed: a log kept elsewhere preserves it for `blindvault audit verify --anchor`
/// (docs/server.md). Hourly it also checks that the row it logged last still carries the same
/// hash, and logs an error if not (the log was rewritten while this process ran). The sweeper
/// calls this on every tick; `last` is its memory.
pub async fn log_audit_anchor(state: &AppState, last: &mut AnchorLogged) {
    let now = state.clock.now();
    if last.as_ref().is_some_and(|(_, at)| now.saturating_sub(*at) < AUDIT_ANCHOR_LOG_SECS) {
        return;
    }
    if let Some(prev) = last.as_ref().and_then(|(a, _)| a.parse::<crate::audit::Anchor>().ok()) {
        match crate::audit::verify::hash_at(&state.store, prev.seq).await {
            Ok(Some(hash)) if hash == prev.hash => {}
            Ok(_) => tracing::error!(
                anchor = %prev,
                "audit log rewritten: the row this server logged as its head has changed or is gone"
            ),
            Err(e) => {
                tracing::warn!(
                    code = crate::error::ApiError::from(e).code.as_str(),
                    "reading the audit log failed"
                )
            }
        }
    }
    match crate::audit::head(&state.store).await {
        Ok(head) => {
            let anchor = head.map(|a| a.to_string()).unwrap_or_default();
            if !anchor.is_empty() && last.as_ref().is_none_or(|(seen, _)| *seen != anchor) {
                tracing::info!(anchor = %anchor, "audit head");
            }
            *last = Some((anchor, now));
        }
        Err(e) => {
            tracing::warn!(
                code = crate::error::ApiError::from(e).code.as_str(),
                "reading the audit head failed"
            )
        }
    }
}

/// Sweeps every `period` until the process ends.
pub async fn run(state: AppState, period: std::time::Duration) {
    let mut tick = tokio::time::interval(period);
    let mut anchor_logged = None;
    loop {
        tick.tick().await;
        log_audit_anchor(&state, &mut anchor_logged).await;
        if let Err(e) = sweep(&state).await {
            tracing::warn!(code = e.code.as_str(), "expiry sweep failed");
        }
        if let Err(e) = sweep_ceremonies(&state).await {
            tracing::warn!(code = e.code.as_str(), "ceremony sweep failed");
        }
        if let Err(e) = crate::auth::stepup::sweep(&state).await {
            tracing::warn!(code = e.code.as_str(), "step-up sweep failed");
        }
    }
}
