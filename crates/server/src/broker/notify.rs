//! Announcing a change to the approvers' event streams, here and on other instances.

use super::hub::{Note, PG_CHANNEL};
use crate::state::AppState;

/// Announces a change: locally, and on PostgreSQL to every instance (including this one, which
/// then hears it twice — listeners only ever re-read state, so that is harmless).
pub(crate) async fn announce(state: &AppState, note: Note) {
    if state.store.engine() == crate::store::Engine::Postgres {
        let Note::Request(id) = &note;
        let payload = format!("request:{id}");
        if let Err(e) = super::store::notify::pg_notify(&state.store, PG_CHANNEL, &payload).await {
            tracing::warn!(error = %e, "pg_notify failed; other instances learn of it by polling");
        }
    }
    state.hub.local(note);
}
