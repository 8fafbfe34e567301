//! The state every handler gets.

use std::sync::Arc;

use crate::auth::jwt::JwtKey;
use crate::auth::rp::RelyingParty;
use crate::broker::hub::Hub;
use crate::clock::Clock;
use crate::config::Config;
use crate::ratelimit::Limits;
use crate::store::Store;

/// Everything a request handler needs.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The configuration the server was started with.
    pub config: Arc<Config>,
    /// The database (SQLite or PostgreSQL).
    pub store: Store,
    /// The relying party.
    pub rp: Arc<RelyingParty>,
    /// The session-token signer.
    pub(crate) jwt: Arc<JwtKey>,
    /// Time source (injected so that expiry is testable).
    pub clock: Arc<dyn Clock>,
    /// The limits: ceremony endpoints per client address and per account, consumer hosts,
    /// event streams per session.
    pub(crate) limits: Arc<Limits>,
    /// Broker notifications (fed locally and, on PostgreSQL, by LISTEN/NOTIFY).
    pub hub: Arc<Hub>,
    /// The wallet's RPC gateway: its HTTP client and per-person limiter.
    pub(crate) gateway: Arc<crate::wallet::upstream::Gateway>,
    /// Web Push: the VAPID key, the sender's client, the worker's wake-up.
    pub push: Arc<crate::push::service::Push>,
    /// The Prometheus registry (`/metrics`, when enabled).
    pub(crate) metrics: Arc<crate::ops::metrics::Metrics>,
}
