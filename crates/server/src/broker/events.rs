//! The approver's event stream (server-sent events).

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};

use super::common::{conn, require_approver};
use super::hub::Note;
use super::store::requests::{entry_of, user_is_approver_of};
use crate::auth::session::Session;
use crate::error::{ApiError, too_many_streams};
use crate::state::AppState;

/// Server-sent events: `request` with a request id whenever a request the caller can act on
/// changes. The client re-reads `inbox` or the request.
/// How often an open event stream re-checks its session when no note arrives.
pub(crate) const SSE_SESSION_RECHECK_SECS: u64 = 10;

/// How long a browser waits before reconnecting a dropped stream (the SSE `retry:` field of the
/// first event); the web app backs off further by itself when the stream cannot be opened.
pub(crate) const SSE_RETRY_MS: u64 = 2000;

/// The event stream. Every event carries an id (`<stream>-<n>`: this stream's random tag and its
/// count), so a browser reconnecting by itself sends `Last-Event-ID` (or the app passes
/// `?last_event_id=`); a stream resumed that way starts with `resync` after `ready`: the
/// listener re-reads everything it shows, and nothing that changed while it was away is missed.
/// Events carry request ids only, never state, so a re-read is a complete resume.
pub(crate) async fn events(
    State(state): State<AppState>,
    s: Session,
    headers: axum::http::HeaderMap,
    query: axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Result<Response, ApiError> {
    require_approver(&s)?;
    // At most `max_event_streams_per_session` open at once in this instance; the slot is given
    // back when the stream ends or its client goes away (the stream, and the slot in it, is
    // dropped).
    let Some(slot) = state.limits.streams.take(&s.id) else {
        return Err(too_many_streams(state.limits.streams.max()));
    };
    let resumed = headers.get("last-event-id").is_some_and(|v| !v.is_empty())
        || query.get("last_event_id").is_some_and(|v| !v.is_empty());
    let tag = {
        use rand_core::Rng as _;
        let mut raw = [0u8; 6];
        blindvault_core::rng::os_rng().fill_bytes(&mut raw);
        hex::encode(raw)
    };
    let mut n: u64 = 0;
    let mut next_id = move || {
        n += 1;
        format!("{tag}-{n}")
    };
    let open = state.metrics.stream_opened();
    let mut notes = state.hub.subscribe();
    let mut recheck = tokio::time::interval(Duration::from_secs(SSE_SESSION_RECHECK_SECS));
    recheck.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let stream = async_stream::stream! {
        let _open = open; // counted as open until the stream ends
        let _slot = slot; // this session's stream slot, given back when the stream ends
        yield Ok::<SseEvent, Infallible>(
            SseEvent::default().event("ready").id(next_id()).retry(Duration::from_millis(SSE_RETRY_MS)).data("{}"),
        );
        if resumed {
            yield Ok(SseEvent::default().event("resync").id(next_id()).data("{}"));
        }
        recheck.tick().await;
        loop {
            let next = tokio::select! {
                n = notes.recv() => Some(n),
                _ = recheck.tick() => None,
            };
            // Whatever woke the stream, the session must still be live and an approver's.
            if !crate::auth::session::still_approver(&state, &s.id).await {
                yield Ok(SseEvent::default().event("ended").data("{}"));
                break;
            }
            let Some(next) = next else { continue };
            match next {
                Ok(Note::Request(id)) => {
                    let relevant = match conn(&state).await {
                        Ok(mut c) => match entry_of(&mut c, &id).await {
                            Ok(Some((entry_id, version))) => {
                                user_is_approver_of(&mut c, &s.user_id, &entry_id, version).await.unwrap_or(false)
                            }
                            _ => false,
                        },
                        Err(_) => false,
                    };
                    if relevant {
                        yield Ok(SseEvent::default().event("request").id(next_id()).data(id));
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    yield Ok(SseEvent::default().event("resync").id(next_id()).data("{}"));
                }
                Err(_) => break,
            }
        }
    };
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))).into_response())
}
