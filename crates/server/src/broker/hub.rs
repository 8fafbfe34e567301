//! Notifications: a broadcast channel per server instance, fed locally and — on PostgreSQL —
//! through `LISTEN/NOTIFY`, so an approval made through one instance wakes a consumer (or an
//! approver's event stream) connected to another. Notifications carry ids only; every listener
//! re-reads the database.

use tokio::sync::broadcast;

/// What changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Note {
    /// A request was created, decided, delivered or expired.
    Request(String),
}

/// The channel name used with PostgreSQL `NOTIFY`.
pub const PG_CHANNEL: &str = "blindvault_broker";

/// One instance's notification hub.
#[derive(Debug)]
pub struct Hub {
    tx: broadcast::Sender<Note>,
}

impl Default for Hub {
    fn default() -> Self {
        Self::new()
    }
}

impl Hub {
    /// A hub with room for bursts.
    pub fn new() -> Self {
        let (tx, _) = broadcast::channel(4096);
        Self { tx }
    }
    /// Subscribes to notes.
    pub fn subscribe(&self) -> broadcast::Receiver<Note> {
        self.tx.subscribe()
    }
    /// Delivers a note to this instance's listeners.
    pub fn local(&self, note: Note) {
        let _ = self.tx.send(note);
    }
}

/// Announces a change: locally, and on PostgreSQL to every instance (including this one, which
/// then hears it twice — listeners only ever re-read state, so that is harmless).
pub async fn announce(state: &crate::AppState, note: Note) {
    if state.store.engine() == crate::store::Engine::Postgres {
        let Note::Request(id) = &note;
        let payload = format!("request:{id}");
        if let Err(e) = sqlx::query("SELECT pg_notify($1, $2)")
            .bind(PG_CHANNEL)
            .bind(payload)
            .execute(state.store.pool())
            .await
        {
            tracing::warn!(error = %e, "pg_notify failed; other instances learn of it by polling");
        }
    }
    state.hub.local(note);
}

/// On PostgreSQL, listens for other instances' notes and feeds them to the local hub until the
/// process ends; reconnects after errors.
pub async fn listen_postgres(url: String, hub: std::sync::Arc<Hub>) {
    loop {
        match sqlx::postgres::PgListener::connect(&url).await {
            Ok(mut listener) => {
                if let Err(e) = listener.listen(PG_CHANNEL).await {
                    tracing::warn!(error = %e, "LISTEN failed");
                } else {
                    loop {
                        match listener.recv().await {
                            Ok(n) => {
                                if let Some(id) = n.payload().strip_prefix("request:") {
                                    hub.local(Note::Request(id.to_string()));
                                }
                            }
                            Err(e) => {
                                tracing::warn!(error = %e, "LISTEN connection lost");
                                break;
                            }
                        }
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot connect the LISTEN connection"),
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}
