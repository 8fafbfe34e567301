//! blindvault test kit: a software passkey authenticator (1Password's passkey-rs, with PRF) and
//! a real blindvault server on `127.0.0.1:0`, talked to over HTTP.
//!
//! ```ignore
//! let server = TestServer::start(Backend::Sqlite).await?;
//! let mut phone = Device::new();
//! let reg = phone.register(&server, "alice").await?;   // real ceremony, PRF included
//! let login = phone.login(&server).await?;             // usernameless
//! assert_eq!(reg.prf, login.prf);
//! login.agent.get(paths::ME).await?;
//! ```
//!
//! Replies are read as the contract's types (`resp.json::<blindvault_api::broker::OrgView>()`),
//! so a field renamed in `blindvault-api` fails to compile here and in the tests too; `resp.body`
//! keeps the raw JSON for the checks that are about the wire itself (a member the server must not
//! send, a malformed answer).

// Reading a `serde_json::Value` by key yields `Null` when absent; it never panics.
#![allow(clippy::indexing_slicing)]

pub mod bench;
pub mod broker;
pub mod events;
pub mod process;
pub mod saved;
pub mod tamper;

/// Runs each named `async fn(Backend) -> anyhow::Result<()>` once per backend, as tests in
/// modules `sqlite` and `postgres` (the PostgreSQL half returns early, with a notice from
/// [`Backend::available`], when `BLINDVAULT_TEST_DATABASE_URL` is unset).
#[macro_export]
macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() -> anyhow::Result<()> {
                    super::$name($crate::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() -> anyhow::Result<()> {
                    if !$crate::Backend::Postgres.available() {
                        return Ok(());
                    }
                    super::$name($crate::Backend::Postgres).await
                }
            )*
        }
    };
}

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, anyhow, bail};
use blindvault_api::accounts::StepUpView;
use blindvault_api::paths;
use blindvault_core::schedule::PrfOutput;
use blindvault_server::{Config, ManualClock, Server};
use passkey_authenticator::{
    Authenticator, CredentialStore, DiscoverabilitySupport, StoreInfo, UiHint, UserCheck,
    UserValidationMethod,
};
use passkey_client::Client;
use passkey_types::Passkey;
use passkey_types::ctap2::make_credential::{PublicKeyCredentialRpEntity, PublicKeyCredentialUserEntity};
use passkey_types::ctap2::{Aaguid, Ctap2Error, StatusCode};
use passkey_types::webauthn::PublicKeyCredentialDescriptor;
use passkey_types::webauthn::{CredentialCreationOptions, CredentialRequestOptions};
use serde_json::Value;
use url::Url;

/// Which database a test server runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file in a temporary directory.
    Sqlite,
    /// A fresh database in the PostgreSQL cluster of `BLINDVAULT_TEST_DATABASE_URL`.
    Postgres,
}

/// Environment variable with the PostgreSQL admin URL the test script exports.
pub const PG_ENV: &str = "BLINDVAULT_TEST_DATABASE_URL";

impl Backend {
    /// Whether this backend can run here. PostgreSQL needs `BLINDVAULT_TEST_DATABASE_URL`;
    /// when it is missing this prints a loud notice (the test script always sets it).
    pub fn available(self) -> bool {
        match self {
            Backend::Sqlite => true,
            Backend::Postgres => {
                let ok = std::env::var(PG_ENV).is_ok_and(|v| !v.is_empty());
                if !ok {
                    // The real stderr: `eprintln!` would be captured by the test harness.
                    use std::io::Write as _;
                    let _ = writeln!(
                        std::io::stderr(),
                        "!!! SKIPPING PostgreSQL half: {PG_ENV} is not set (scripts/test.sh sets it) !!!"
                    );
                }
                ok
            }
        }
    }
}

/// Options of a test server beyond the defaults.
#[derive(Clone, Debug, Default)]
pub struct ServerOptions {
    /// The server clock's first reading, in unix seconds (default: now). Set it rather than
    /// moving the clock after the start when the test needs another time: the background
    /// tasks read the clock from their first tick.
    pub clock_start: Option<i64>,
    /// RP id (default `localhost`).
    pub rp_id: Option<String>,
    /// Origin (default `http://localhost:<port>`).
    pub origin: Option<String>,
    /// `(per_minute, burst)` for the ceremony rate limit per address (default generous).
    pub rate_limit: Option<(u32, u32)>,
    /// `(per_minute, burst)` for failed assertions per account (default generous).
    pub account_rate_limit: Option<(u32, u32)>,
    /// Session lifetime in seconds.
    pub session_ttl_secs: Option<i64>,
    /// `(per_minute, burst)` for a consumer host's requests and polls (default generous).
    pub host_rate_limit: Option<(u32, u32)>,
    /// Open requests one host may have at once (default generous).
    pub max_open_requests_per_host: Option<u32>,
    /// Open event streams one session may have at once (default generous).
    pub max_event_streams_per_session: Option<u32>,
    /// Open requests every host together may have at once (default generous).
    pub max_open_requests_per_org: Option<u32>,
    /// `(header, body)` read timeouts in seconds (default generous: 300 each).
    pub read_timeouts_secs: Option<(u64, u64)>,
    /// Trusted reverse proxies, e.g. `127.0.0.1` (default none), and their header (default
    /// `X-Forwarded-For`).
    pub trusted_proxies: Vec<String>,
    /// The forwarded-address header (default the server's).
    pub forwarded_header: Option<String>,
    /// The wallet gateway's limits (default: a generous rate, the server's sizes and timeout).
    pub gateway: Option<blindvault_server::config::GatewayConfig>,
    /// Web Push settings (default: the server's, with the sender running in the background).
    pub push: Option<blindvault_server::config::PushConfig>,
    /// Serve `/metrics` (`[metrics] enabled`).
    pub metrics: bool,
    /// SQLite's `synchronous` (default: the server's, `full`).
    pub sqlite_synchronous: Option<blindvault_server::store::Synchronous>,
}

/// A database made for one test: a SQLite file in a temporary directory, or a fresh PostgreSQL
/// database.
#[derive(Debug)]
pub struct TestDb {
    /// The URL to give the server.
    pub url: String,
    /// The data dir (SQLite) — kept alive as long as this value.
    pub dir: tempfile::TempDir,
}

impl TestDb {
    /// Makes a fresh database on `backend`.
    pub async fn create(backend: Backend) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let url = match backend {
            Backend::Sqlite => format!("sqlite://{}?mode=rwc", dir.path().join("blindvault.db").display()),
            Backend::Postgres => {
                use sqlx::Connection;
                let admin = std::env::var(PG_ENV).with_context(|| format!("{PG_ENV} is not set"))?;
                let name = format!("bv_{}", uuid::Uuid::new_v4().simple());
                let mut conn = sqlx::postgres::PgConnection::connect(&admin).await?;
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut conn)
                    .await?;
                conn.close().await?;
                let mut u = Url::parse(&admin)?;
                u.set_path(&format!("/{name}"));
                u.to_string()
            }
        };
        Ok(Self { url, dir })
    }
}

/// A real blindvault server on `127.0.0.1:<random port>`.
#[derive(Debug)]
pub struct TestServer {
    /// `http://127.0.0.1:PORT`: where requests go.
    pub base: String,
    /// The configured origin (`http://localhost:PORT` unless overridden).
    pub origin: Url,
    /// The injected clock: `clock.advance(secs)` moves server time.
    pub clock: Arc<ManualClock>,
    /// The one-time setup code printed at start.
    pub setup_code: Option<String>,
    /// The database.
    pub db: TestDb,
    /// The server's state (for direct calls into its code path).
    pub state: blindvault_server::AppState,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl TestServer {
    /// Starts a server with default options.
    pub async fn start(backend: Backend) -> anyhow::Result<Self> {
        Self::start_with(backend, ServerOptions::default()).await
    }

    /// Starts a second instance on `other`'s database, serving the same origin (as two
    /// instances behind one load balancer would). It has its own clock.
    pub async fn start_sharing(other: &TestServer) -> anyhow::Result<Self> {
        Self::start_sharing_with(other, ServerOptions::default()).await
    }

    /// [`TestServer::start_sharing`] with `opts` (their origin is `other`'s).
    pub async fn start_sharing_with(other: &TestServer, opts: ServerOptions) -> anyhow::Result<Self> {
        let db = TestDb { url: other.db.url.clone(), dir: tempfile::tempdir()? };
        let opts = ServerOptions { origin: Some(other.origin.origin().ascii_serialization()), ..opts };
        Self::start_on(db, opts).await
    }

    /// Starts a server with `opts`.
    pub async fn start_with(backend: Backend, opts: ServerOptions) -> anyhow::Result<Self> {
        let db = TestDb::create(backend).await?;
        Self::start_on(db, opts).await
    }

    /// Stops this server and starts another on `db` at the same address and origin — what a
    /// database restored onto the same host looks like to every client. Waits (bounded) until
    /// the old one has let go of the port.
    pub async fn restart_on(&mut self, db: TestDb) -> anyhow::Result<()> {
        self.restart_on_with(db, ServerOptions::default()).await
    }

    /// [`TestServer::restart_on`] with `opts` (their origin is this server's).
    pub async fn restart_on_with(&mut self, db: TestDb, opts: ServerOptions) -> anyhow::Result<()> {
        let opts = ServerOptions { origin: Some(self.origin.origin().ascii_serialization()), ..opts };
        let listener = self.stop_and_take_address().await?;
        *self = Self::start_listening(db, opts, listener).await?;
        Ok(())
    }

    /// Stops serving and frees this server's address for another process to serve on (the
    /// database stays; clients keep `base` and `origin`). The server's `state` is closed.
    pub async fn stop_serving(&mut self) -> anyhow::Result<std::net::SocketAddr> {
        let listener = self.stop_and_take_address().await?;
        Ok(listener.local_addr()?)
    }

    /// Stops this server and binds its address once the old server has let go of it (bounded).
    async fn stop_and_take_address(&mut self) -> anyhow::Result<tokio::net::TcpListener> {
        let addr: std::net::SocketAddr = self.base.trim_start_matches("http://").parse()?;
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            match tokio::net::TcpListener::bind(addr).await {
                Ok(l) => return Ok(l),
                Err(e) if tokio::time::Instant::now() < deadline => {
                    let _ = e;
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                }
                Err(e) => return Err(anyhow::anyhow!("the old server kept {addr}: {e}")),
            }
        }
    }

    async fn start_on(db: TestDb, opts: ServerOptions) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        Self::start_listening(db, opts, listener).await
    }

    async fn start_listening(
        db: TestDb,
        opts: ServerOptions,
        listener: tokio::net::TcpListener,
    ) -> anyhow::Result<Self> {
        let addr = listener.local_addr()?;
        // Every test sets the limits it relies on: none depends on the server's defaults.
        let (per_minute, burst) = opts.rate_limit.unwrap_or((100_000, 100_000));
        let (account_per_minute, account_burst) = opts.account_rate_limit.unwrap_or((100_000, 100_000));
        let (host_per_minute, host_burst) = opts.host_rate_limit.unwrap_or((100_000, 100_000));
        let config = Config {
            listen: addr,
            data_dir: db.dir.path().to_owned(),
            database_url: Some(db.url.clone()),
            rp_id: opts.rp_id.clone(),
            origin: Some(opts.origin.clone().unwrap_or_else(|| format!("http://localhost:{}", addr.port()))),
            rate_limit_per_minute: per_minute,
            rate_limit_burst: burst,
            account_rate_limit_per_minute: account_per_minute,
            account_rate_limit_burst: account_burst,
            host_rate_limit_per_minute: host_per_minute,
            host_rate_limit_burst: host_burst,
            max_open_requests_per_host: opts.max_open_requests_per_host.unwrap_or(100_000),
            max_event_streams_per_session: opts.max_event_streams_per_session.unwrap_or(100_000),
            max_open_requests_per_org: opts.max_open_requests_per_org.unwrap_or(100_000),
            header_read_timeout_secs: opts.read_timeouts_secs.map_or(300, |t| t.0),
            body_read_timeout_secs: opts.read_timeouts_secs.map_or(300, |t| t.1),
            trusted_proxies: opts
                .trusted_proxies
                .iter()
                .map(|p| p.parse::<blindvault_server::config::Cidr>().map_err(|e| anyhow::anyhow!(e)))
                .collect::<anyhow::Result<_>>()?,
            forwarded_header: opts.forwarded_header.clone().unwrap_or_else(|| "X-Forwarded-For".to_owned()),
            session_ttl_secs: opts.session_ttl_secs.unwrap_or(15 * 60),
            max_db_connections: 4,
            gateway: opts.gateway.clone().unwrap_or(blindvault_server::config::GatewayConfig {
                rate_limit_per_minute: 100_000,
                rate_limit_burst: 100_000,
                ..Default::default()
            }),
            push: opts.push.clone().unwrap_or_default(),
            metrics: blindvault_server::config::MetricsConfig { enabled: opts.metrics },
            sqlite_synchronous: opts.sqlite_synchronous.unwrap_or_default(),
            ..Config::default()
        };
        let origin = config.origin_url()?;
        let clock = Arc::new(opts.clock_start.map_or_else(ManualClock::new, ManualClock::at));
        let (server, code) = Server::open(config, clock.clone()).await?;
        let state = server.state().clone();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = server
                .serve(listener, async move {
                    let _ = rx.await;
                })
                .await;
        });
        Ok(Self {
            base: format!("http://{addr}"),
            origin,
            clock,
            setup_code: code.map(|c| c.reveal().to_owned()),
            db,
            state,
            shutdown: Some(tx),
        })
    }

    /// A fresh HTTP client that sends this server's origin.
    pub fn agent(&self) -> Agent {
        Agent::new(&self.base, Some(self.origin.origin().ascii_serialization()))
    }

    /// A fresh single-use invite code, made out of band (as an admin would make one), for tests
    /// whose subject is not registration itself. Registration is invite-only; tests about the
    /// invites use the admin routes.
    pub async fn invite(&self) -> anyhow::Result<String> {
        Ok(blindvault_server::invites::create_for_tests(
            &self.state.store,
            "test-harness",
            self.state.clock.now(),
        )
        .await?)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// An HTTP response.
#[derive(Debug, Clone)]
pub struct Resp {
    /// The request it answers (`METHOD /path`), named when its body does not read.
    pub request: String,
    /// Status code.
    pub status: u16,
    /// JSON body (`Null` if none or not JSON).
    pub body: Value,
    /// The `Set-Cookie` header, if any.
    pub set_cookie: Option<String>,
    /// The `Retry-After` header, if any.
    pub retry_after: Option<String>,
}

impl Resp {
    /// The stable error code of an error response.
    pub fn code(&self) -> Option<blindvault_api::ErrorCode> {
        self.body
            .get("error")
            .and_then(|e| e.get("code"))
            .and_then(Value::as_str)
            .map(blindvault_api::ErrorCode::from_wire)
    }
    /// Fails unless the status is 2xx.
    pub fn ok(self) -> anyhow::Result<Self> {
        if (200..300).contains(&self.status) {
            Ok(self)
        } else {
            bail!("{}: HTTP {}: {}", self.request, self.status, self.body)
        }
    }
    /// The body as the contract type `T` (`resp.json::<OrgView>()?`); an error names the request,
    /// the status and the body when it does not read as one.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> anyhow::Result<T> {
        T::deserialize(&self.body).with_context(|| {
            format!(
                "{}: HTTP {}: the body is not a {}: {}",
                self.request,
                self.status,
                std::any::type_name::<T>(),
                self.body
            )
        })
    }
    /// The body as the contract's error body (`{"error": {"code", "message", …}}`).
    pub fn error(&self) -> anyhow::Result<blindvault_api::ErrorDetail> {
        Ok(self.json::<blindvault_api::ErrorBody>()?.error)
    }
}

/// Every reply a test sees is checked against the contract: a successful JSON body must be
/// exactly a value of the type the route table declares for its route, and an error body exactly
/// an [`blindvault_api::ErrorBody`] with a code the contract lists. So a body the server changes
/// without the contract (or a route declared with the wrong type) fails every test that calls it.
fn conforms(method: &str, path: &str, status: u16, body: &Value) -> anyhow::Result<()> {
    use blindvault_api::{Method, Reply, routes::route_for};
    let Some(route) = Method::from_upper(method).and_then(|m| route_for(m, path)) else {
        return Ok(());
    };
    let declared = match route.reply {
        Reply::Json(declared) if (200..300).contains(&status) => declared,
        _ if status >= 400 && !body.is_null() => blindvault_api::json::<blindvault_api::ErrorBody>(),
        _ => return Ok(()),
    };
    (declared.check)(body)
        .map_err(|e| anyhow::anyhow!("{method} {path} answered {status} outside the contract: {e}"))
}

/// An HTTP client with the session cookie handled by hand (so tests can read and tamper with it).
#[derive(Debug, Clone)]
pub struct Agent {
    http: reqwest::Client,
    base: String,
    /// The `Origin` header sent on every request (`None`: none sent).
    pub origin: Option<String>,
    /// The session token (the cookie's value).
    pub token: Option<String>,
    /// The session cookie's name (`blindvault_core::cookie`), fixed by the origin given to
    /// [`Agent::new`].
    pub cookie_name: &'static str,
    /// A command-line token sent as `Authorization: Bearer …` (with `token` too, if both are set:
    /// the server refuses that).
    pub bearer: Option<String>,
    /// Headers sent on every request (a proxy's `X-Forwarded-For`, say).
    pub headers: Vec<(String, String)>,
}

impl Agent {
    /// The same client (session, origin) talking to `base` — another instance of the server.
    pub fn at(&self, base: &str) -> Self {
        Self { base: base.to_owned(), ..self.clone() }
    }

    /// A client for `base` sending `origin`.
    pub fn new(base: &str, origin: Option<String>) -> Self {
        let cookie_name = blindvault_core::cookie::session_cookie_name(origin.as_deref().unwrap_or(""));
        Self {
            http: reqwest::Client::new(),
            base: base.to_owned(),
            origin,
            token: None,
            cookie_name,
            bearer: None,
            headers: Vec::new(),
        }
    }

    /// Sends a request; `body` is JSON (or nothing).
    pub async fn send(&mut self, method: &str, path: &str, body: Option<Value>) -> anyhow::Result<Resp> {
        self.send_with(method, path, body, &[]).await
    }

    /// Sends a request carrying a confirmed step-up (`x-blindvault-step-up: id`).
    pub async fn send_stepped(
        &mut self,
        method: &str,
        path: &str,
        body: Option<Value>,
        step_up: &str,
    ) -> anyhow::Result<Resp> {
        self.send_with(method, path, body, &[(paths::STEP_UP_HEADER, step_up)]).await
    }

    /// Sends a request with extra headers; `body` is JSON (or nothing).
    pub async fn send_with(
        &mut self,
        method: &str,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> anyhow::Result<Resp> {
        let method_name = method;
        let request = format!("{method} {path}");
        let method = reqwest::Method::from_bytes(method.as_bytes())?;
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        for (k, v) in &self.headers {
            req = req.header(k, v);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(o) = &self.origin {
            req = req.header("origin", o);
        }
        if let Some(t) = &self.token {
            req = req.header("cookie", format!("{}={t}", self.cookie_name));
        }
        if let Some(t) = &self.bearer {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await?;
        let status = resp.status().as_u16();
        let set_cookie = resp.headers().get("set-cookie").and_then(|v| v.to_str().ok()).map(str::to_owned);
        if let Some(c) = &set_cookie {
            // Only the cookie this origin's browsers would keep.
            let kv = c.split(';').next().and_then(|kv| kv.split_once('='));
            if let Some((_, v)) = kv.filter(|(k, _)| *k == self.cookie_name) {
                self.token = Some(v.to_owned()).filter(|v| !v.is_empty());
            }
        }
        let retry_after = resp.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let bytes = resp.bytes().await?;
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        conforms(method_name, path, status, &body)?;
        Ok(Resp { request, status, body, set_cookie, retry_after })
    }

    /// GET.
    pub async fn get(&mut self, path: &str) -> anyhow::Result<Resp> {
        self.send("GET", path, None).await
    }
    /// POST with a JSON body.
    pub async fn post(&mut self, path: &str, body: Value) -> anyhow::Result<Resp> {
        self.send("POST", path, Some(body)).await
    }
    /// PUT with a JSON body.
    pub async fn put(&mut self, path: &str, body: Value) -> anyhow::Result<Resp> {
        self.send("PUT", path, Some(body)).await
    }
    /// PATCH with a JSON body.
    pub async fn patch(&mut self, path: &str, body: Value) -> anyhow::Result<Resp> {
        self.send("PATCH", path, Some(body)).await
    }
    /// DELETE.
    pub async fn delete(&mut self, path: &str) -> anyhow::Result<Resp> {
        self.send("DELETE", path, None).await
    }
}

/// The user of a software authenticator: always present, verified while `uv` is on.
#[derive(Debug, Clone)]
pub struct SoftUser {
    uv: Arc<AtomicBool>,
}

#[async_trait::async_trait]
impl UserValidationMethod for SoftUser {
    type PasskeyItem = Passkey;

    async fn check_user<'a>(
        &self,
        _hint: UiHint<'a, Passkey>,
        presence: bool,
        verification: bool,
    ) -> Result<UserCheck, Ctap2Error> {
        Ok(UserCheck { presence, verification: verification && self.uv.load(Ordering::SeqCst) })
    }
    fn is_presence_enabled(&self) -> bool {
        true
    }
    fn is_verification_enabled(&self) -> Option<bool> {
        Some(self.uv.load(Ordering::SeqCst))
    }
}

/// The authenticator's credential store: discoverable (resident) credentials by id, found by RP
/// id when the request has no allow list (passkey-rs's `MemoryStore` needs an allow list).
#[derive(Clone, Default)]
pub struct SoftStore(pub std::collections::HashMap<Vec<u8>, Passkey>);

impl std::fmt::Debug for SoftStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SoftStore({} credentials)", self.0.len())
    }
}

#[async_trait::async_trait]
impl CredentialStore for SoftStore {
    type PasskeyItem = Passkey;

    async fn find_credentials(
        &self,
        ids: Option<&[PublicKeyCredentialDescriptor]>,
        rp_id: &str,
        _user_handle: Option<&[u8]>,
    ) -> Result<Vec<Passkey>, StatusCode> {
        let found: Vec<Passkey> = match ids {
            Some(ids) if !ids.is_empty() => {
                ids.iter().filter_map(|d| self.0.get(&*d.id)).filter(|p| p.rp_id == rp_id).cloned().collect()
            }
            _ => self.0.values().filter(|p| p.rp_id == rp_id).cloned().collect(),
        };
        if found.is_empty() { Err(Ctap2Error::NoCredentials.into()) } else { Ok(found) }
    }

    async fn save_credential(
        &mut self,
        cred: Passkey,
        _user: PublicKeyCredentialUserEntity,
        _rp: PublicKeyCredentialRpEntity,
        _options: passkey_types::ctap2::make_credential::Options,
    ) -> Result<(), StatusCode> {
        self.0.insert(cred.credential_id.to_vec(), cred);
        Ok(())
    }

    async fn update_credential(&mut self, cred: &Passkey) -> Result<(), StatusCode> {
        self.0.insert(cred.credential_id.to_vec(), cred.clone());
        Ok(())
    }

    async fn get_info(&self) -> StoreInfo {
        StoreInfo { discoverability: DiscoverabilitySupport::ForcedDiscoverable }
    }
}

type SoftClient =
    Client<SoftStore, SoftUser, passkey_crypto::AvailableBackend, public_suffix::PublicSuffixList, ()>;

/// A software authenticator (a "phone"): passkey-rs with hmac-secret (PRF), user verification
/// and a signature counter.
pub struct Device {
    client: SoftClient,
    uv: Arc<AtomicBool>,
}

impl std::fmt::Debug for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Device").field("uv", &self.uv.load(Ordering::SeqCst)).finish_non_exhaustive()
    }
}

impl Default for Device {
    fn default() -> Self {
        Self::new()
    }
}

/// The result of a registration or login through the server.
#[derive(Debug)]
pub struct SignedIn {
    /// A client holding the new session cookie.
    pub agent: Agent,
    /// The user's id.
    pub user_id: String,
    /// The credential used (base64url).
    pub credential_id: String,
    /// The PRF output for the deployment's salt.
    pub prf: PrfOutput,
    /// The full response body.
    pub body: Value,
}

/// A ceremony response from the authenticator, as JSON, before it is sent.
#[derive(Debug, Clone)]
pub struct Ceremony {
    /// The ceremony id the server gave.
    pub ceremony_id: String,
    /// The options the server sent.
    pub options: Value,
    /// The authenticator's response (JSON, as a browser's `toJSON()`).
    pub credential: Value,
    /// PRF output, if the authenticator evaluated it.
    pub prf: Option<PrfOutput>,
}

fn prf_from(outputs: &passkey_types::webauthn::AuthenticationExtensionsClientOutputs) -> Option<PrfOutput> {
    outputs
        .prf
        .as_ref()
        .and_then(|p| p.results.as_ref())
        .and_then(|r| PrfOutput::from_slice(r.first.as_slice()).ok())
}

impl Device {
    /// A new authenticator with user verification on and an empty credential store.
    pub fn new() -> Self {
        let uv = Arc::new(AtomicBool::new(true));
        let mut auth = Authenticator::new(
            Aaguid::new_empty(),
            SoftStore::default(),
            SoftUser { uv: uv.clone() },
            passkey_crypto::AvailableBackend,
        )
        .hmac_secret(
            passkey_authenticator::extensions::HmacSecretConfig::new_with_uv_only()
                .enable_on_make_credential(),
        );
        auth.set_make_credentials_with_signature_counter(true);
        let client = Client::new(auth).allows_insecure_localhost(true);
        Self { client, uv }
    }

    /// Turns user verification on or off (off: the authenticator can only do presence).
    pub fn set_user_verification(&self, on: bool) {
        self.uv.store(on, Ordering::SeqCst);
    }

    /// A copy of the authenticator's credentials (to restore later, e.g. a rolled-back clone).
    pub fn snapshot(&self) -> SoftStore {
        self.client.authenticator().store().clone()
    }

    /// Replaces the authenticator's credentials with a snapshot.
    pub fn restore(&mut self, store: SoftStore) {
        *self.client.authenticator_mut().store_mut() = store;
    }

    /// Runs `navigator.credentials.create` on `options` (the server's JSON) as `origin`.
    pub async fn create(
        &mut self,
        origin: &Url,
        options: &Value,
    ) -> anyhow::Result<(Value, Option<PrfOutput>)> {
        let opts: CredentialCreationOptions =
            serde_json::from_value(options.clone()).context("creation options")?;
        let cred = self
            .client
            .register(origin, opts, passkey_client::DefaultClientData)
            .await
            .map_err(|e| anyhow!("authenticator: {e:?}"))?;
        let prf = prf_from(&cred.client_extension_results);
        Ok((serde_json::to_value(&cred)?, prf))
    }

    /// Runs `navigator.credentials.get` on `options` (the server's JSON) as `origin`.
    pub async fn get(&mut self, origin: &Url, options: &Value) -> anyhow::Result<(Value, Option<PrfOutput>)> {
        let opts: CredentialRequestOptions =
            serde_json::from_value(options.clone()).context("request options")?;
        let cred = self
            .client
            .authenticate(origin, opts, passkey_client::DefaultClientData)
            .await
            .map_err(|e| anyhow!("authenticator: {e:?}"))?;
        let prf = prf_from(&cred.client_extension_results);
        Ok((serde_json::to_value(&cred)?, prf))
    }

    /// Starts a registration of `name` and answers it, without finishing (for negative tests).
    pub async fn prepare_register(
        &mut self,
        server: &TestServer,
        agent: &mut Agent,
        name: &str,
    ) -> anyhow::Result<Ceremony> {
        let invite = server.invite().await?;
        let start = agent
            .post(paths::REGISTER_START, serde_json::json!({ "name": name, "invite": invite }))
            .await?
            .ok()?;
        self.answer_create(&server.origin, start.body).await
    }

    /// Answers a creation `start` response body.
    pub async fn answer_create(&mut self, origin: &Url, start: Value) -> anyhow::Result<Ceremony> {
        let ceremony_id = start["ceremony_id"].as_str().context("ceremony_id")?.to_owned();
        let options = start["options"].clone();
        let (credential, prf) = self.create(origin, &options).await?;
        Ok(Ceremony { ceremony_id, options, credential, prf })
    }

    /// Starts a login and answers it, without finishing (for negative tests).
    pub async fn prepare_login(
        &mut self,
        server: &TestServer,
        agent: &mut Agent,
    ) -> anyhow::Result<Ceremony> {
        let blindvault_api::ceremony::CeremonyStart { ceremony_id, options } =
            agent.post(paths::LOGIN_START, serde_json::json!({})).await?.ok()?.json()?;
        let (credential, prf) = self.get(&server.origin, &options).await?;
        Ok(Ceremony { ceremony_id, options, credential, prf })
    }

    /// Registers a new account `name` with a fresh passkey; returns the signed-in client.
    pub async fn register(&mut self, server: &TestServer, name: &str) -> anyhow::Result<SignedIn> {
        let mut agent = server.agent();
        let c = self.prepare_register(server, &mut agent, name).await?;
        let body = serde_json::json!({ "ceremony_id": c.ceremony_id, "credential": c.credential, "passkey_name": "first" });
        let resp = agent.post(paths::REGISTER_FINISH, body).await?.ok()?;
        signed_in(agent, resp, c.prf)
    }

    /// Logs in (usernameless) with a passkey on this device.
    pub async fn login(&mut self, server: &TestServer) -> anyhow::Result<SignedIn> {
        let agent = server.agent();
        self.login_with(server, agent).await
    }

    /// Logs in using `agent` (which may carry a live session, to re-authenticate).
    pub async fn login_with(&mut self, server: &TestServer, mut agent: Agent) -> anyhow::Result<SignedIn> {
        let c = self.prepare_login(server, &mut agent).await?;
        let resp = agent
            .post(
                paths::LOGIN_FINISH,
                serde_json::json!({ "ceremony_id": c.ceremony_id, "credential": c.credential }),
            )
            .await?
            .ok()?;
        signed_in(agent, resp, c.prf)
    }

    /// Adds a passkey on this device to the account `agent` is signed in to, after the fresh
    /// assertion the server asks for, made by `existing` (a device with one of the account's
    /// passkeys); returns the new credential id and PRF output.
    pub async fn add_passkey(
        &mut self,
        server: &TestServer,
        agent: &mut Agent,
        existing: &mut Device,
        name: &str,
    ) -> anyhow::Result<(String, PrfOutput)> {
        let step_up = existing.prepare_login(server, agent).await?;
        let body = serde_json::json!({ "name": name, "ceremony_id": step_up.ceremony_id, "credential": step_up.credential });
        let start = agent.post(paths::PASSKEYS_REGISTER_START, body).await?.ok()?;
        let c = self.answer_create(&server.origin, start.body).await?;
        let resp = agent
            .post(
                paths::PASSKEYS_REGISTER_FINISH,
                serde_json::json!({ "ceremony_id": c.ceremony_id, "credential": c.credential }),
            )
            .await?
            .ok()?;
        let id = resp.json::<blindvault_api::passkeys::PasskeyAdded>()?.credential_id;
        Ok((id, c.prf.context("no PRF output at registration")?))
    }
}

impl Device {
    /// Starts a step-up for `action` on `target` with `agent`'s session and confirms it with
    /// a passkey on this device (as the web app does inline); returns the step-up id, ready
    /// for [`Agent::send_stepped`].
    pub async fn step_up(
        &mut self,
        server: &TestServer,
        agent: &mut Agent,
        action: &str,
        target: &str,
    ) -> anyhow::Result<String> {
        let id = start_step_up(agent, action, target).await?;
        self.confirm_step_up(server, agent, &id).await?.ok()?;
        Ok(id)
    }

    /// The confirm page's side of a step-up someone started (the command line's link): reads
    /// its options and answers them with a passkey on this device. Returns the server's answer.
    pub async fn confirm_step_up(
        &mut self,
        server: &TestServer,
        agent: &mut Agent,
        id: &str,
    ) -> anyhow::Result<Resp> {
        let view: StepUpView = agent.get(&paths::with_id(paths::STEP_UP, id)).await?.ok()?.json()?;
        let options = view.options.context("a pending step-up's options")?;
        let (credential, _) = self.get(&server.origin, &options).await?;
        agent
            .post(
                &paths::with_id(paths::STEP_UP_CONFIRM, id),
                serde_json::json!({ "credential": credential }),
            )
            .await
    }
}

impl Device {
    /// Makes a command-line token as the web app does: a step-up `token.create` bound to the
    /// scope, confirmed with a passkey on this device, then `POST /api/tokens` with it.
    pub async fn create_token(
        &mut self,
        server: &TestServer,
        agent: &mut Agent,
        name: &str,
        scope: &str,
        days: Option<i64>,
    ) -> anyhow::Result<blindvault_api::tokens::TokenCreated> {
        let step = self.step_up(server, agent, "token.create", scope).await?;
        let mut body = serde_json::json!({ "name": name, "scope": scope });
        if let Some(d) = days {
            body["expires_in_days"] = d.into();
        }
        agent.send_stepped("POST", paths::TOKENS, Some(body), &step).await?.ok()?.json()
    }
}

/// An agent for `server` that carries a command-line token and no cookie.
pub fn token_agent(server: &TestServer, token: &str) -> Agent {
    let mut a = server.agent();
    a.bearer = Some(token.to_owned());
    a
}

/// `POST` [`paths::STEP_UP_START`] with `agent`'s session; returns the new step-up's id.
pub async fn start_step_up(agent: &mut Agent, action: &str, target: &str) -> anyhow::Result<String> {
    let start: StepUpView = agent
        .post(paths::STEP_UP_START, serde_json::json!({ "action": action, "target": target }))
        .await?
        .ok()?
        .json()?;
    Ok(start.id)
}

fn signed_in(agent: Agent, resp: Resp, prf: Option<PrfOutput>) -> anyhow::Result<SignedIn> {
    // Registration answers `Registered`, login `LoggedIn`: both name the user and the passkey.
    #[derive(serde::Deserialize)]
    struct Who {
        user: blindvault_api::sessions::UserView,
        credential_id: String,
    }
    let Who { user, credential_id } = resp.json()?;
    let user_id = user.id;
    Ok(SignedIn { agent, user_id, credential_id, prf: prf.context("no PRF output")?, body: resp.body })
}

#[cfg(test)]
mod tests {
    use super::Resp;
    use blindvault_api::broker::OrgView;

    fn resp(body: serde_json::Value) -> Resp {
        Resp { request: "GET /api/broker/org".into(), status: 200, body, set_cookie: None, retry_after: None }
    }

    /// A reply reads as its contract type; one that does not names the request, the status, the
    /// type it should have been and the body, so a failing test says what the server sent.
    #[test]
    fn a_reply_reads_as_its_contract_type_or_says_what_came() -> anyhow::Result<()> {
        let org: OrgView =
            resp(serde_json::json!({ "org_public_key": null, "fingerprint": null, "generation": 0 }))
                .json()?;
        anyhow::ensure!(org.generation == 0 && org.fingerprint.is_none());
        let err = resp(serde_json::json!({ "generation": "zero" }))
            .json::<OrgView>()
            .err()
            .ok_or_else(|| anyhow::anyhow!("a body that is no OrgView was read as one"))?;
        let text = format!("{err:#}");
        for part in ["GET /api/broker/org", "HTTP 200", "OrgView", r#""generation":"zero""#] {
            anyhow::ensure!(text.contains(part), "{part:?} missing from {text:?}");
        }
        Ok(())
    }
}
