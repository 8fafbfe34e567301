//! The push sender: takes due rows of `push_outbox` under a lease, sends each as an encrypted
//! Web Push, and settles it — sent or refused: deleted; 404/410: the subscription is deleted;
//! 429, 5xx, a timeout or no connection: retried with backoff until the request expires. It
//! runs beside the request path, never on it: a request's creation only inserts rows.

use std::time::Duration;

use blindvault_api::push::PushPayload;
use blindvault_core::encoding::b64;
use rand_core::Rng as _;
use sha2::{Digest, Sha256};

use super::encrypt::encrypt;
use super::resolve::is_not_public;
use super::service::Push;
use super::store::{self, Claimed};
use super::vapid::JWT_LIFETIME_SECS;
use crate::error::ApiError;
use crate::state::AppState;

/// How many rows one pass claims.
const BATCH: i64 = 64;
/// The first retry's delay, doubled per attempt up to [`MAX_BACKOFF_SECS`].
const FIRST_BACKOFF_SECS: i64 = 5;
/// The longest delay between two attempts.
const MAX_BACKOFF_SECS: i64 = 300;
/// How often the background worker looks for due rows when nothing woke it (rows queued by
/// another instance, retries falling due).
const POLL: Duration = Duration::from_secs(1);

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RunSummary {
    /// Accepted by the push service.
    pub sent: usize,
    /// Answered 404/410, or its endpoint is no longer one `[push] services` allows: the
    /// subscription was deleted.
    pub gone: usize,
    /// Refused (another 4xx), expired, or for a request no longer waiting: dropped.
    pub dropped: usize,
    /// Failed for now (429, 5xx, timeout, no connection): queued again.
    pub retried: usize,
}

enum Outcome {
    Sent,
    Gone,
    /// The endpoint fails today's rule (stored before `[push] services` was narrowed).
    NotAllowed,
    Refused(u16),
    Retry(String),
}

/// One pass: drops expired rows, claims the due ones and settles each. Sends run concurrently;
/// the pass returns when every one has an answer or hit the `[push] timeout_secs`.
pub async fn run_once(state: &AppState) -> Result<RunSummary, ApiError> {
    let now = state.clock.now();
    let mut summary = RunSummary::default();
    let mut c = state.store.pool().acquire().await?;
    summary.dropped += usize::try_from(store::drop_expired(&mut c, now).await?).unwrap_or(0);
    let mut token = [0u8; 16];
    blindvault_core::rng::os_rng().fill_bytes(&mut token);
    let token = hex::encode(token);
    // The lease outlasts a send's timeout; a worker that dies leaves its rows to the next.
    let lease = i64::try_from(state.config.push.timeout_secs).unwrap_or(120).saturating_add(30);
    if store::claim(&mut c, now, now.saturating_add(lease), &token, BATCH).await? == 0 {
        return Ok(summary);
    }
    let rows = store::claimed(&mut c, &token).await?;
    drop(c);
    let mut sends = tokio::task::JoinSet::new();
    for row in rows {
        if !row.pending {
            let mut c = state.store.pool().acquire().await?;
            store::delete_row(&mut c, &row.id).await?;
            summary.dropped += 1;
            continue;
        }
        let push = state.push.clone();
        sends.spawn(async move {
            let outcome = send(&push, &row, now).await;
            (row, outcome)
        });
    }
    while let Some(done) = sends.join_next().await {
        let (row, outcome) = done.map_err(ApiError::internal)?;
        let mut c = state.store.pool().acquire().await?;
        match outcome {
            Outcome::Sent => {
                store::delete_row(&mut c, &row.id).await?;
                summary.sent += 1;
            }
            Outcome::Gone => {
                store::delete_subscription(&mut c, &row.subscription_id).await?;
                tracing::info!(subscription = %row.subscription_id, "push subscription gone; removed");
                summary.gone += 1;
            }
            Outcome::NotAllowed => {
                store::delete_subscription(&mut c, &row.subscription_id).await?;
                tracing::warn!(
                    subscription = %row.subscription_id,
                    "push endpoint no longer allowed by [push] services; subscription removed"
                );
                summary.gone += 1;
            }
            Outcome::Refused(status) => {
                store::delete_row(&mut c, &row.id).await?;
                tracing::warn!(status, subscription = %row.subscription_id, "push refused; dropped");
                summary.dropped += 1;
            }
            Outcome::Retry(why) => {
                let shift = u32::try_from(row.attempts.saturating_sub(1).clamp(0, 16)).unwrap_or(16);
                let delay = FIRST_BACKOFF_SECS.saturating_mul(1 << shift).min(MAX_BACKOFF_SECS);
                let next = now.saturating_add(delay);
                if next >= row.expires_at {
                    store::delete_row(&mut c, &row.id).await?;
                    summary.dropped += 1;
                } else {
                    store::retry_at(&mut c, &row.id, &token, next).await?;
                    summary.retried += 1;
                }
                tracing::info!(reason = %why, subscription = %row.subscription_id, "push failed for now");
            }
        }
    }
    Ok(summary)
}

/// The `Topic` of a request's pushes: a later push for it replaces an undelivered earlier one
/// (32 characters of the URL-safe alphabet, as RFC 8030 §5.4 allows).
pub fn topic(request_id: &str) -> String {
    let mut t = hex::encode(Sha256::digest(request_id.as_bytes()));
    t.truncate(32);
    t
}

async fn send(push: &Push, row: &Claimed, now: i64) -> Outcome {
    let url = match push.check_endpoint(&row.endpoint) {
        Ok(u) => u,
        Err(_) => return Outcome::NotAllowed,
    };
    let ttl = row.expires_at.saturating_sub(now).max(0);
    let payload = match serde_json::to_vec(&PushPayload { request: row.request_id.clone() }) {
        Ok(p) => p,
        Err(_) => return Outcome::Refused(0),
    };
    let (Ok(p256dh), Ok(auth)) = (b64::decode(&row.p256dh), b64::decode(&row.auth)) else {
        return Outcome::Refused(0);
    };
    let body = match encrypt(&p256dh, &auth, &payload) {
        Ok(b) => b,
        Err(_) => return Outcome::Refused(0),
    };
    let aud = url.origin().ascii_serialization();
    let authorization = push.key.authorization(&aud, &push.subject, now.saturating_add(JWT_LIFETIME_SECS));
    let sent = push
        .client
        .post(url)
        .header("authorization", authorization)
        .header("content-encoding", "aes128gcm")
        .header("content-type", "application/octet-stream")
        .header("ttl", ttl.to_string())
        .header("urgency", "high")
        .header("topic", topic(&row.request_id))
        .body(body)
        .send()
        .await;
    match sent {
        Ok(r) => match r.status().as_u16() {
            200..=299 => Outcome::Sent,
            404 | 410 => Outcome::Gone,
            429 => Outcome::Retry("429".into()),
            s @ 400..=499 => Outcome::Refused(s),
            s => Outcome::Retry(s.to_string()),
        },
        Err(e) if e.is_timeout() => Outcome::Retry("timeout".into()),
        // The push service's name resolved to no public address: not connected to; this push
        // is dropped (logged), the subscription kept — a resolver fault must not unsubscribe
        // everyone.
        Err(e) if is_not_public(&e) => {
            tracing::warn!(subscription = %row.subscription_id, "push service resolves to no public address");
            Outcome::Refused(0)
        }
        Err(_) => Outcome::Retry("connection".into()),
    }
}

/// Sends until the process ends: a pass whenever this instance queued pushes, and every
/// [`POLL`] (rows another instance queued, retries that fell due).
pub async fn run(state: AppState) {
    loop {
        if let Err(e) = run_once(&state).await {
            tracing::warn!(code = e.code.as_str(), "push pass failed");
        }
        tokio::select! {
            () = state.push.wake.notified() => {}
            () = tokio::time::sleep(POLL) => {}
        }
    }
}

/// Wakes this instance's worker (a request was queued).
pub(crate) fn wake(state: &AppState) {
    state.push.wake.notify_one();
}
