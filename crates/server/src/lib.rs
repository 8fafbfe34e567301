//! blindvault's server: the WebAuthn relying party and the blind store's spine.
//!
//! People, their passkeys, sessions, roles and a hash-chained audit log, on SQLite (the embedded
//! default) or PostgreSQL. The server never sees a PRF output, a private key or a plaintext
//! secret: it asks for the PRF extension with the deployment's fixed public salt and verifies
//! assertions, nothing more.
#![warn(unreachable_pub)]

pub(crate) mod accounts;
pub(crate) mod admin;
pub mod audit;
pub mod auth;
pub mod broker;
pub mod clock;
pub mod config;
pub mod error;
pub(crate) mod http;
pub mod invites;
pub mod logging;
pub mod net;
pub mod openapi;
pub mod ops;
pub(crate) mod passkeys;
pub mod push;
pub(crate) mod ratelimit;
pub mod setup;
pub(crate) mod state;
pub(crate) mod step_ups;
pub mod store;
pub(crate) mod tokens;
pub(crate) mod wallet;
pub mod web;

use std::future::Future;
use std::sync::Arc;

pub use clock::{Clock, ManualClock, SystemClock};
pub use config::Config;
pub use error::{ApiError, ServerError};
pub use setup::SetupCode;
pub use state::AppState;

/// A prepared server: database opened and migrated, keys loaded.
#[derive(Debug)]
pub struct Server {
    state: AppState,
}

impl Server {
    /// Opens the database, applies migrations, loads (or creates) the session key and, while no
    /// admin exists, makes a fresh one-time setup code (only its hash is stored; the caller
    /// prints it).
    pub async fn open(
        config: Config,
        clock: Arc<dyn Clock>,
    ) -> Result<(Self, Option<SetupCode>), ServerError> {
        config.validate()?;
        let store = store::Store::connect_with(
            &config.database_url(),
            config.max_db_connections,
            config.sqlite_synchronous,
        )
        .await?;
        store.migrate().await?;
        let jwt = auth::jwt::JwtKey::load_or_create(&store).await?;
        let rp = auth::rp::RelyingParty::new(&config)?;
        let setup = setup::prepare(&store).await?;
        let limits = ratelimit::Limits::new(&config);
        let gateway = wallet::upstream::Gateway::new(&config.gateway)?;
        let push = push::service::Push::load(&store, &config.push, &config.origin_header()?).await?;
        let state = AppState {
            config: Arc::new(config),
            store,
            rp: Arc::new(rp),
            jwt: Arc::new(jwt),
            clock,
            limits: Arc::new(limits),
            hub: Arc::new(broker::hub::Hub::new()),
            gateway: Arc::new(gateway),
            push: Arc::new(push),
            metrics: Arc::new(ops::metrics::Metrics::new()),
        };
        Ok((Self { state }, setup))
    }

    /// The shared state (for tests and benchmarks that call the server's code path directly).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The HTTP router.
    pub fn router(&self) -> axum::Router {
        http::routes::router(self.state.clone())
    }

    /// Serves HTTP on `listener` until `shutdown` resolves.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServerError> {
        let background = self.start_background();
        let router = self.router();
        let header_read_timeout = std::time::Duration::from_secs(self.state.config.header_read_timeout_secs);
        // Graceful: no new connections once `shutdown` resolves, and requests in flight finish —
        // for at most SHUTDOWN_GRACE, since an approver's event stream never ends by itself.
        let (stopping, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = http::serve::run(listener, router, header_read_timeout, async move {
            shutdown.await;
            tracing::info!("shutting down: finishing the requests in flight");
            let _ = stopping.send(());
        });
        let grace = async move {
            if stopped.await.is_err() {
                std::future::pending::<()>().await;
            }
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        };
        let result = tokio::select! {
            () = serving => Ok(()),
            () = grace => {
                tracing::warn!("connections still open {} s after the shutdown began; closing them", SHUTDOWN_GRACE.as_secs());
                Ok(())
            }
        };
        drop(background);
        self.state.store.close().await;
        result
    }
}

/// How long a shutdown waits for open connections (long polls, event streams) before closing them.
pub const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

impl Server {
    /// Starts the broker's background tasks: the expiry sweeper, the push sender (unless
    /// `[push] worker` is off) and, on PostgreSQL, the
    /// LISTEN connection that carries other instances' notifications. They stop when the
    /// returned guard is dropped.
    pub fn start_background(&self) -> BackgroundTasks {
        let mut tasks =
            vec![tokio::spawn(broker::sweeper::run(self.state.clone(), std::time::Duration::from_secs(5)))];
        if self.state.config.push.worker {
            tasks.push(tokio::spawn(push::worker::run(self.state.clone())));
        }
        if self.state.store.engine() == store::Engine::Postgres {
            tasks.push(tokio::spawn(broker::hub::listen_postgres(
                self.state.config.database_url(),
                self.state.hub.clone(),
            )));
        }
        BackgroundTasks(tasks)
    }
}

/// Background tasks of a server; aborted on drop.
#[derive(Debug)]
pub struct BackgroundTasks(Vec<tokio::task::JoinHandle<()>>);

impl Drop for BackgroundTasks {
    fn drop(&mut self) {
        for t in &self.0 {
            t.abort();
        }
    }
}
