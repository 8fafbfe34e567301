use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use blindvault_server::{Config, Server, SystemClock};

/// Arguments of `blindvault serve`. Flags override environment variables, which override the
/// config file, which overrides the defaults (embedded SQLite on http://localhost:8080).
#[derive(clap::Args, Debug)]
pub struct Args {
    /// TOML configuration file (keys: listen, data_dir, database_url, rp_id, origin, rp_name,
    /// session_ttl_secs, challenge_ttl_secs, rate_limit_per_minute, rate_limit_burst,
    /// account_rate_limit_per_minute, account_rate_limit_burst, host_rate_limit_per_minute,
    /// host_rate_limit_burst, max_open_requests_per_host, max_open_requests_per_org,
    /// max_event_streams_per_session, header_read_timeout_secs, body_read_timeout_secs,
    /// trusted_proxies, forwarded_header, max_db_connections, and the `[gateway]`, `[push]` and
    /// `[metrics]` tables).
    #[arg(long, env = "BLINDVAULT_CONFIG")]
    pub config: Option<PathBuf>,
    /// Log lines as `text` (key=value) or `json` (one object per line, for a log shipper).
    #[arg(long, env = "BLINDVAULT_LOG_FORMAT", default_value = "text", value_parser = ["text", "json"])]
    pub log_format: String,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "BLINDVAULT_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Data directory for the embedded SQLite database [default: ./data].
    #[arg(long, env = "BLINDVAULT_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Database URL: sqlite://FILE or postgres://USER@HOST:PORT/DB.
    #[arg(long, env = "BLINDVAULT_DATABASE_URL")]
    pub database_url: Option<String>,
    /// WebAuthn relying-party id [default: the origin's host].
    #[arg(long, env = "BLINDVAULT_RP_ID")]
    pub rp_id: Option<String>,
    /// Public origin, e.g. https://vault.example.com [default: http://localhost:PORT].
    #[arg(long, env = "BLINDVAULT_ORIGIN")]
    pub origin: Option<String>,
    /// Session lifetime in seconds [default: 900].
    #[arg(long, env = "BLINDVAULT_SESSION_TTL")]
    pub session_ttl: Option<i64>,
    /// Challenge lifetime in seconds [default: 120].
    #[arg(long, env = "BLINDVAULT_CHALLENGE_TTL")]
    pub challenge_ttl: Option<i64>,
    /// Ceremony requests per client address per minute [default: 240].
    #[arg(long, env = "BLINDVAULT_RATE_LIMIT")]
    pub rate_limit_per_minute: Option<u32>,
    /// Ceremony requests a client address may make at once [default: 120].
    #[arg(long, env = "BLINDVAULT_RATE_LIMIT_BURST")]
    pub rate_limit_burst: Option<u32>,
    /// Failed passkey assertions per account per minute [default: 6].
    #[arg(long, env = "BLINDVAULT_ACCOUNT_RATE_LIMIT")]
    pub account_rate_limit_per_minute: Option<u32>,
    /// Failed passkey assertions an account may have at once [default: 10].
    #[arg(long, env = "BLINDVAULT_ACCOUNT_RATE_LIMIT_BURST")]
    pub account_rate_limit_burst: Option<u32>,
    /// A host's calls (request creates and result polls) per minute [default: 600].
    #[arg(long, env = "BLINDVAULT_HOST_RATE_LIMIT")]
    pub host_rate_limit_per_minute: Option<u32>,
    /// A host's calls at once [default: 120].
    #[arg(long, env = "BLINDVAULT_HOST_RATE_LIMIT_BURST")]
    pub host_rate_limit_burst: Option<u32>,
    /// Requests one host may have open (pending or approved) [default: 16].
    #[arg(long, env = "BLINDVAULT_MAX_OPEN_REQUESTS_PER_HOST")]
    pub max_open_requests_per_host: Option<u32>,
    /// Event streams one session may hold open on an instance [default: 4].
    #[arg(long, env = "BLINDVAULT_MAX_EVENT_STREAMS_PER_SESSION")]
    pub max_event_streams_per_session: Option<u32>,
    /// SQLite: `full` syncs every commit (an acknowledged write survives a power loss), `normal`
    /// only at checkpoints (faster; the last commits before a power loss may be lost)
    /// [default: full].
    #[arg(long, env = "BLINDVAULT_SQLITE_SYNCHRONOUS", value_name = "full|normal")]
    pub sqlite_synchronous: Option<blindvault_server::store::Synchronous>,
    /// Requests every host together may have open before the org's approvers [default: 1024].
    #[arg(long, env = "BLINDVAULT_MAX_OPEN_REQUESTS_PER_ORG")]
    pub max_open_requests_per_org: Option<u32>,
    /// Seconds a client has to send a request's headers; then the connection closes [default: 10].
    #[arg(long, env = "BLINDVAULT_HEADER_READ_TIMEOUT", value_name = "SECS")]
    pub header_read_timeout: Option<u64>,
    /// Seconds a client has to send a request's body after its headers; then 408 [default: 30].
    #[arg(long, env = "BLINDVAULT_BODY_READ_TIMEOUT", value_name = "SECS")]
    pub body_read_timeout: Option<u64>,
    /// A reverse proxy (address or CIDR block) whose forwarded-address header is believed;
    /// repeat it or separate with commas [default: none: the client is the TCP peer].
    #[arg(
        long = "trusted-proxy",
        env = "BLINDVAULT_TRUSTED_PROXIES",
        value_delimiter = ',',
        value_name = "CIDR"
    )]
    pub trusted_proxies: Vec<blindvault_server::config::Cidr>,
    /// The header a trusted proxy puts the client's address in [default: X-Forwarded-For].
    #[arg(long, env = "BLINDVAULT_FORWARDED_HEADER", value_name = "NAME")]
    pub forwarded_header: Option<String>,
    /// PostgreSQL: connections this instance keeps to the database at most (SQLite always uses
    /// one) [default: 8].
    #[arg(long, env = "BLINDVAULT_MAX_DB_CONNECTIONS", value_name = "N")]
    pub max_db_connections: Option<u32>,
}

impl Args {
    /// The configuration these arguments select.
    pub fn config(&self) -> anyhow::Result<Config> {
        let mut c = match &self.config {
            Some(p) => Config::from_toml_file(p)?,
            None => Config::default(),
        };
        if let Some(v) = self.listen {
            c.listen = v;
        }
        if let Some(v) = &self.data_dir {
            c.data_dir = v.clone();
        }
        if let Some(v) = &self.database_url {
            c.database_url = Some(v.clone());
        }
        if let Some(v) = &self.rp_id {
            c.rp_id = Some(v.clone());
        }
        if let Some(v) = &self.origin {
            c.origin = Some(v.clone());
        }
        if let Some(v) = self.session_ttl {
            c.session_ttl_secs = v;
        }
        if let Some(v) = self.challenge_ttl {
            c.challenge_ttl_secs = v;
        }
        if let Some(v) = self.max_db_connections {
            c.max_db_connections = v;
        }
        if let Some(v) = self.rate_limit_per_minute {
            c.rate_limit_per_minute = v;
        }
        if let Some(v) = self.rate_limit_burst {
            c.rate_limit_burst = v;
        }
        if let Some(v) = self.account_rate_limit_per_minute {
            c.account_rate_limit_per_minute = v;
        }
        if let Some(v) = self.account_rate_limit_burst {
            c.account_rate_limit_burst = v;
        }
        if let Some(v) = self.host_rate_limit_per_minute {
            c.host_rate_limit_per_minute = v;
        }
        if let Some(v) = self.host_rate_limit_burst {
            c.host_rate_limit_burst = v;
        }
        if let Some(v) = self.max_open_requests_per_host {
            c.max_open_requests_per_host = v;
        }
        if let Some(v) = self.max_event_streams_per_session {
            c.max_event_streams_per_session = v;
        }
        if let Some(v) = self.sqlite_synchronous {
            c.sqlite_synchronous = v;
        }
        if let Some(v) = self.max_open_requests_per_org {
            c.max_open_requests_per_org = v;
        }
        if let Some(v) = self.header_read_timeout {
            c.header_read_timeout_secs = v;
        }
        if let Some(v) = self.body_read_timeout {
            c.body_read_timeout_secs = v;
        }
        if !self.trusted_proxies.is_empty() {
            c.trusted_proxies = self.trusted_proxies.clone();
        }
        if let Some(v) = &self.forwarded_header {
            c.forwarded_header = v.clone();
        }
        Ok(c)
    }
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    // webauthn-rs silenced, every field and line capped (`blindvault_server::logging`). Colours
    // only on a terminal: a log file keeps plain `key=value` fields (what
    // `audit verify --anchors-from` reads).
    let directives = std::env::var("BLINDVAULT_LOG").unwrap_or_else(|_| "info".to_owned());
    let format = args.log_format.parse().map_err(|e: String| anyhow::anyhow!(e))?;
    blindvault_server::logging::init_as(
        format,
        &directives,
        std::io::stderr,
        std::io::IsTerminal::is_terminal(&std::io::stderr()),
    )?;
    // The server holds its session-signing key and passes approvals through: no core dump.
    blindvault_client::harden::no_core_dumps()?;
    let config = args.config()?;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async move {
        // Ctrl-C or SIGTERM (what service managers and `docker stop` send): a graceful stop.
        // Installed first, so a signal that comes as soon as the URL is printed is not lost.
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).context("cannot install the SIGTERM handler")?;
        let mut int = signal(SignalKind::interrupt()).context("cannot install the SIGINT handler")?;
        let listen = config.listen;
        let origin = config.origin_header()?;
        let db_url = config.database_url();
        let engine = if db_url.starts_with("sqlite") { "embedded SQLite" } else { "PostgreSQL" };
        // Before the database is opened (which migrates it and, on a fresh instance, stores a new
        // setup code), and held until the process ends (a crash included: the kernel lets go).
        let _only_server = one_server_per_sqlite_file(&db_url)?;
        let (server, setup) = Server::open(config, Arc::new(SystemClock)).await?;
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        println!("blindvault server listening on {} ({engine})", listener.local_addr()?);
        println!("open {origin}");
        if let Some(code) = setup {
            // Printed to the terminal only: the database holds its SHA-256, the log never sees it.
            println!("first start: claim the admin role with the one-time setup code {}", code.reveal());
            println!("  (open {origin}/#/setup, create your account with a passkey, enter the code)");
        }
        server
            .serve(listener, async move {
                let signal = tokio::select! {
                    _ = int.recv() => "SIGINT",
                    _ = term.recv() => "SIGTERM",
                };
                tracing::info!(signal, "stop requested");
            })
            .await?;
        tracing::info!("blindvault server stopped");
        Ok(ExitCode::SUCCESS)
    })
}

/// SQLite serves one instance: a second `serve` on the same database would race the first for
/// every write (and answer 500 when both write at once). Each takes an exclusive lock on
/// `DATABASE-serve.lock` beside the database file (`flock`, which the kernel releases when the
/// process ends, however it ends); the second is refused, saying what to do. Tools that only
/// read or copy the database (`backup`, `audit verify`) take no lock.
fn one_server_per_sqlite_file(url: &str) -> anyhow::Result<Option<std::fs::File>> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let Some(path) = blindvault_server::store::sqlite_path(url) else {
        return Ok(None);
    };
    // A first start: the data directory is made here as the store would make it (0700).
    if let Some(dir) = std::path::Path::new(path).parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let lock = format!("{path}-serve.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(&lock)
        .with_context(|| format!("cannot open {lock}"))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => Err(anyhow::anyhow!(
            "another `blindvault serve` is using the database {path}: SQLite serves one instance — stop \
             the other one, or give this one its own --data-dir (several instances share a PostgreSQL \
             database: docs/server.md, \"Deployment: several instances\")"
        )),
        Err(std::fs::TryLockError::Error(e)) => Err(e).with_context(|| format!("cannot lock {lock}")),
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    #[derive(clap::Parser, Debug)]
    struct Cmd {
        #[command(flatten)]
        serve: super::Args,
    }

    #[test]
    fn the_flood_flags_set_the_configuration() -> anyhow::Result<()> {
        let cmd = Cmd::try_parse_from([
            "serve",
            "--max-open-requests-per-org",
            "50",
            "--header-read-timeout",
            "3",
            "--body-read-timeout",
            "4",
            "--trusted-proxy",
            "10.0.0.0/8,192.0.2.1",
            "--trusted-proxy",
            "2001:db8::/32",
            "--forwarded-header",
            "X-Real-IP",
        ])?;
        let c = cmd.serve.config()?;
        assert_eq!(c.max_open_requests_per_org, 50);
        assert_eq!((c.header_read_timeout_secs, c.body_read_timeout_secs), (3, 4));
        let proxies: Vec<String> = c.trusted_proxies.iter().map(ToString::to_string).collect();
        assert_eq!(proxies, ["10.0.0.0/8", "192.0.2.1/32", "2001:db8::/32"]);
        assert_eq!(c.forwarded_header, "X-Real-IP");
        assert!(Cmd::try_parse_from(["serve", "--trusted-proxy", "10.0.0.0/99"]).is_err());
        Ok(())
    }
}
