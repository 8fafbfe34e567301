//! Notifications: a broadcast channel per server instance (for approvers' event streams) and a
//! per-request wake-up for consumers waiting on one request, fed locally and — on PostgreSQL —
//! through `LISTEN/NOTIFY`, so an approval made through one instance wakes a consumer (or an
//! approver's event stream) connected to another. Notifications carry ids only; every listener
//! re-reads the database.
//!
//! Consumers waiting on a request do not subscribe to the broadcast: with 10 000 of them every
//! note would wake 10 000 tasks to compare ids. A note about a request wakes only its waiters.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{Notify, broadcast};

/// What changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Note {
    /// A request was created, decided, delivered or expired.
    Request(String),
}

/// The channel name used with PostgreSQL `NOTIFY`.
pub(crate) const PG_CHANNEL: &str = "blindvault_broker";

/// One instance's notification hub.
#[derive(Debug)]
pub struct Hub {
    tx: broadcast::Sender<Note>,
    /// Request id → its waiters' wake-up and how many `Watch`es share it.
    waiters: Mutex<HashMap<String, (Arc<Notify>, usize)>>,
}

/// A registration for notes about one request; removed when the last one for it is dropped.
#[derive(Debug)]
pub struct Watch<'a> {
    hub: &'a Hub,
    id: String,
    notify: Arc<Notify>,
}

impl Watch<'_> {
    /// A wake-up for the next note about this request. Call `enable()` on the pinned future
    /// before re-reading the database, so a note that arrives in between is not missed.
    pub fn notified(&self) -> tokio::sync::futures::Notified<'_> {
        self.notify.notified()
    }
}

impl Drop for Watch<'_> {
    fn drop(&mut self) {
        let mut waiters = self.hub.waiters();
        if let Some((_, count)) = waiters.get_mut(&self.id) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                waiters.remove(&self.id);
            }
        }
    }
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
        Self { tx, waiters: Mutex::new(HashMap::new()) }
    }

    fn waiters(&self) -> MutexGuard<'_, HashMap<String, (Arc<Notify>, usize)>> {
        // The map stays consistent under a panic elsewhere (each update is one statement).
        self.waiters.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Registers interest in notes about request `id`.
    pub fn watch(&self, id: &str) -> Watch<'_> {
        let mut waiters = self.waiters();
        let (notify, count) = waiters.entry(id.to_owned()).or_insert_with(|| (Arc::new(Notify::new()), 0));
        *count += 1;
        let notify = notify.clone();
        drop(waiters);
        Watch { hub: self, id: id.to_owned(), notify }
    }

    /// How many requests have waiters (for tests and diagnostics).
    pub fn watched(&self) -> usize {
        self.waiters().len()
    }
    /// Subscribes to notes.
    pub fn subscribe(&self) -> broadcast::Receiver<Note> {
        self.tx.subscribe()
    }
    /// Delivers a note to this instance's listeners.
    pub fn local(&self, note: Note) {
        let Note::Request(id) = &note;
        if let Some((notify, _)) = self.waiters().get(id) {
            notify.notify_waiters();
        }
        let _ = self.tx.send(note);
    }
}

/// On PostgreSQL, listens for other instances' notes and feeds them to the local hub until the
/// process ends; reconnects after errors.
pub(crate) async fn listen_postgres(url: String, hub: std::sync::Arc<Hub>) {
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
