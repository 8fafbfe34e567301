//! An action's audit row, as handlers append it.

use crate::audit::{self, Event};
use crate::auth::session;
use crate::error::ApiError;
use crate::state::AppState;

/// Appends an audit row on its own: only for records of something that changed nothing
/// (`login.failed`). An action appends inside its own transaction ([`log_in`]).
pub(crate) async fn log_event(state: &AppState, ev: Event<'_>) -> Result<(), ApiError> {
    audit::append(&state.store, state.clock.now(), ev).await?;
    Ok(())
}

/// Appends an action's audit row inside the action's transaction, after its other writes: the
/// action and its record commit together or not at all.
pub(crate) async fn log_in(
    tx: &mut session::Tx<'_>,
    state: &AppState,
    ev: Event<'_>,
) -> Result<(), ApiError> {
    audit::append_in(&state.store, tx, state.clock.now(), ev).await?;
    Ok(())
}
