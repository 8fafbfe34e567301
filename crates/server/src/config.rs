//! Server configuration: flags, environment or a TOML file all land in [`Config`].

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Deserialize;
use url::Url;

use crate::error::ServerError;
pub use crate::net::Cidr;
pub use crate::ops::config::MetricsConfig;
pub use crate::push::config::PushConfig;
pub use crate::wallet::config::GatewayConfig;

/// The server's configuration. Every field has a default, so an empty file (or none) runs an
/// embedded SQLite server on `http://localhost:8080`.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Directory for the embedded SQLite database.
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; empty means `sqlite://<data_dir>/blindvault.db`.
    pub database_url: Option<String>,
    /// WebAuthn relying-party id (a registrable domain, or `localhost`).
    pub rp_id: Option<String>,
    /// The web origin browsers use (`https://vault.example.com`); defaults to `http://localhost:<port>`.
    pub origin: Option<String>,
    /// Relying-party display name.
    pub rp_name: String,
    /// Lifetime of a session (and of its cookie) in seconds; re-authentication extends it.
    pub session_ttl_secs: i64,
    /// Lifetime of a registration or login challenge in seconds.
    pub challenge_ttl_secs: i64,
    /// Ceremony requests allowed per client address per minute (sustained rate).
    pub rate_limit_per_minute: u32,
    /// Ceremony requests a client address may make in a burst.
    pub rate_limit_burst: u32,
    /// Failed passkey assertions allowed per account per minute (sustained rate).
    pub account_rate_limit_per_minute: u32,
    /// Failed passkey assertions an account may have in a burst.
    pub account_rate_limit_burst: u32,
    /// Requests (`POST /api/broker/requests`) and result polls one consumer host may make per
    /// minute (sustained rate), per instance.
    pub host_rate_limit_per_minute: u32,
    /// Requests and result polls one consumer host may make in a burst.
    pub host_rate_limit_burst: u32,
    /// Open (pending or approved, not yet expired) requests one consumer host may have at once,
    /// counted in the database (so across instances).
    pub max_open_requests_per_host: u32,
    /// Open approver event streams (`GET /api/broker/events`) one session may have at once,
    /// per instance.
    pub max_event_streams_per_session: u32,
    /// Open requests all the hosts together may have at once (what the org's approvers can be
    /// asked), counted in the database (so across instances).
    pub max_open_requests_per_org: u32,
    /// Seconds a client has to send a request's headers (from the connection's start, or the end
    /// of the previous answer on a kept-alive connection); then the connection is closed.
    pub header_read_timeout_secs: u64,
    /// Seconds a client has to send a request's body once its headers are in; then 408
    /// `request_timeout`. Only a body being read counts: answers (event streams, long polls)
    /// take as long as they take.
    pub body_read_timeout_secs: u64,
    /// Reverse proxies (addresses or CIDR blocks) whose forwarded-address header is believed;
    /// empty: the client is always the TCP peer.
    pub trusted_proxies: Vec<Cidr>,
    /// The header a trusted proxy puts the client's address in (`X-Forwarded-For`, `X-Real-IP`,
    /// or RFC 7239's `Forwarded`).
    pub forwarded_header: String,
    /// Maximum database connections in the pool (PostgreSQL; SQLite always uses one).
    pub max_db_connections: u32,
    /// SQLite only: `full` (every acknowledged commit survives a power loss; the default) or
    /// `normal` (faster; the last commits before a power loss may be lost).
    pub sqlite_synchronous: crate::store::Synchronous,
    /// The wallet's RPC gateway (`[gateway]`): per-person rate, sizes, timeout.
    pub gateway: GatewayConfig,
    /// Web Push to approvers' devices (`[push]`): the VAPID `sub`, the send timeout, the push
    /// services endpoints may be at, whether plain-http loopback endpoints are accepted (tests),
    /// whether the sender runs.
    pub push: PushConfig,
    /// Prometheus metrics (`[metrics]`): whether `/metrics` is served.
    pub metrics: MetricsConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("data"),
            database_url: None,
            rp_id: None,
            origin: None,
            rp_name: "blindvault".to_owned(),
            session_ttl_secs: 15 * 60,
            challenge_ttl_secs: 120,
            // An office behind one NAT address: 300 sign-ins (600 requests) in five minutes.
            rate_limit_per_minute: 240,
            rate_limit_burst: 120,
            account_rate_limit_per_minute: 6,
            account_rate_limit_burst: 10,
            // A host at its open-request cap (16) long-polls each request every 5 s (the CLI's
            // wait): 16 * 12 = 192 polls a minute, plus at most 16 creates — about a third of
            // this. A host starting 16 requests at once sends 32 calls: a quarter of the burst.
            host_rate_limit_per_minute: 600,
            host_rate_limit_burst: 120,
            max_open_requests_per_host: 16,
            // A few tabs of the web app (each holds one stream) per sign-in.
            max_event_streams_per_session: 4,
            // 64 hosts at their cap: far more than people can decide, far less than a flood.
            max_open_requests_per_org: 1024,
            header_read_timeout_secs: 10,
            body_read_timeout_secs: 30,
            trusted_proxies: Vec::new(),
            forwarded_header: "X-Forwarded-For".to_owned(),
            max_db_connections: 8,
            sqlite_synchronous: crate::store::Synchronous::Full,
            gateway: GatewayConfig::default(),
            push: PushConfig::default(),
            metrics: MetricsConfig::default(),
        }
    }
}

impl Config {
    /// Reads a TOML configuration file.
    pub fn from_toml_file(path: &std::path::Path) -> Result<Self, ServerError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ServerError::Config(format!("cannot read {}: {e}", path.display())))?;
        toml::from_str(&text).map_err(|e| ServerError::Config(format!("{}: {e}", path.display())))
    }

    /// The database URL in effect.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(u) if !u.is_empty() => u.clone(),
            _ => format!("sqlite://{}?mode=rwc", self.data_dir.join("blindvault.db").display()),
        }
    }

    /// The relying-party id in effect.
    pub fn rp_id(&self) -> String {
        match &self.rp_id {
            Some(id) if !id.is_empty() => id.clone(),
            _ => self
                .origin_url()
                .ok()
                .and_then(|u| u.host_str().map(str::to_owned))
                .unwrap_or_else(|| "localhost".to_owned()),
        }
    }

    /// The origin in effect, as a URL.
    pub fn origin_url(&self) -> Result<Url, ServerError> {
        let text = match &self.origin {
            Some(o) if !o.is_empty() => o.clone(),
            _ => format!("http://localhost:{}", self.listen.port()),
        };
        let url = Url::parse(&text).map_err(|e| ServerError::Config(format!("origin {text:?}: {e}")))?;
        if url.host_str().is_none() || url.path() != "/" || url.query().is_some() {
            return Err(ServerError::Config(format!("origin {text:?} must be scheme://host[:port]")));
        }
        Ok(url)
    }

    /// The origin as browsers send it in the `Origin` header (`http://localhost:8080`).
    pub fn origin_header(&self) -> Result<String, ServerError> {
        Ok(self.origin_url()?.origin().ascii_serialization())
    }

    /// Whether the origin is `https://…` (then the session cookie is `Secure` and
    /// `__Host-`-prefixed; plain-http `localhost` gets neither).
    pub fn https(&self) -> bool {
        self.origin_url().is_ok_and(|u| u.scheme() == "https")
    }

    /// The session cookie's name for this origin (`blindvault_core::cookie`).
    pub fn session_cookie_name(&self) -> &'static str {
        if self.https() {
            blindvault_core::cookie::SESSION_COOKIE_HTTPS
        } else {
            blindvault_core::cookie::SESSION_COOKIE
        }
    }

    /// Checks the values for consistency.
    pub fn validate(&self) -> Result<(), ServerError> {
        let origin = self.origin_url()?;
        if origin.scheme() != "https" && origin.host_str() != Some("localhost") {
            return Err(ServerError::Config("origin must be https (plain http only for localhost)".into()));
        }
        if self.session_ttl_secs <= 0 || self.challenge_ttl_secs <= 0 {
            return Err(ServerError::Config("lifetimes must be positive".into()));
        }
        if self.rate_limit_per_minute == 0
            || self.rate_limit_burst == 0
            || self.account_rate_limit_per_minute == 0
            || self.account_rate_limit_burst == 0
            || self.host_rate_limit_per_minute == 0
            || self.host_rate_limit_burst == 0
        {
            return Err(ServerError::Config("rate limits must be positive".into()));
        }
        if self.max_open_requests_per_host == 0
            || self.max_event_streams_per_session == 0
            || self.max_open_requests_per_org == 0
        {
            return Err(ServerError::Config(
                "max_open_requests_per_host, max_open_requests_per_org and max_event_streams_per_session \
                 must be positive"
                    .into(),
            ));
        }
        // A day at most: past that the number is a typo, and a zero would cut every request.
        for (name, v) in [
            ("header_read_timeout_secs", self.header_read_timeout_secs),
            ("body_read_timeout_secs", self.body_read_timeout_secs),
        ] {
            if v == 0 || v > 86_400 {
                return Err(ServerError::Config(format!("{name} must be 1 to 86400 seconds")));
            }
        }
        if axum::http::HeaderName::from_bytes(self.forwarded_header.to_ascii_lowercase().as_bytes()).is_err()
        {
            return Err(ServerError::Config(format!(
                "forwarded_header {:?} is not a header name",
                self.forwarded_header
            )));
        }
        self.gateway.validate()?;
        self.push.validate()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_embedded_sqlite_on_localhost_8080() -> Result<(), ServerError> {
        let c = Config::default();
        c.validate()?;
        assert_eq!(c.origin_header()?, "http://localhost:8080");
        assert_eq!(c.rp_id(), "localhost");
        assert!(c.database_url().starts_with("sqlite://data/blindvault.db"));
        Ok(())
    }

    #[test]
    fn toml_file_sets_fields_and_rejects_unknown_keys() -> Result<(), Box<dyn std::error::Error>> {
        let dir = std::env::temp_dir().join(format!("bv-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let path = dir.join("good.toml");
        std::fs::write(
            &path,
            "listen = \"0.0.0.0:9000\"\norigin = \"https://vault.example.com\"\n\
             database_url = \"postgres://u@db/bv\"\nsession_ttl_secs = 600\n\
             max_open_requests_per_host = 3\nmax_event_streams_per_session = 2\n\
             host_rate_limit_per_minute = 30\nhost_rate_limit_burst = 5\n\
             max_open_requests_per_org = 40\nheader_read_timeout_secs = 5\nbody_read_timeout_secs = 7\n\
             trusted_proxies = [\"10.0.0.0/8\", \"2001:db8::1\"]\nforwarded_header = \"X-Real-IP\"\n",
        )?;
        let c = Config::from_toml_file(&path)?;
        c.validate()?;
        assert_eq!(c.listen.port(), 9000);
        assert_eq!(c.rp_id(), "vault.example.com");
        assert_eq!(c.database_url(), "postgres://u@db/bv");
        assert_eq!(c.session_ttl_secs, 600);
        assert_eq!((c.max_open_requests_per_host, c.max_event_streams_per_session), (3, 2));
        assert_eq!((c.host_rate_limit_per_minute, c.host_rate_limit_burst), (30, 5));
        assert_eq!(c.max_open_requests_per_org, 40);
        assert_eq!((c.header_read_timeout_secs, c.body_read_timeout_secs), (5, 7));
        assert_eq!(c.trusted_proxies, vec!["10.0.0.0/8".parse::<Cidr>()?, "2001:db8::1".parse::<Cidr>()?]);
        assert_eq!(c.forwarded_header, "X-Real-IP");
        let bad_proxy = dir.join("bad-proxy.toml");
        std::fs::write(&bad_proxy, "trusted_proxies = [\"10.0.0.0/40\"]\n")?;
        assert!(Config::from_toml_file(&bad_proxy).is_err(), "a block that is not one is refused");
        let bad = dir.join("bad.toml");
        std::fs::write(&bad, "listen_on = \"x\"\n")?;
        assert!(Config::from_toml_file(&bad).is_err());
        // Plain http is only for localhost.
        let c = Config { origin: Some("http://vault.example.com".into()), ..Config::default() };
        assert!(c.validate().is_err());
        // A flood limit of zero would refuse everyone: refused at start instead.
        for c in [
            Config { max_open_requests_per_host: 0, ..Config::default() },
            Config { max_event_streams_per_session: 0, ..Config::default() },
            Config { host_rate_limit_per_minute: 0, ..Config::default() },
            Config { host_rate_limit_burst: 0, ..Config::default() },
            Config { max_open_requests_per_org: 0, ..Config::default() },
            Config { header_read_timeout_secs: 0, ..Config::default() },
            Config { body_read_timeout_secs: 0, ..Config::default() },
            Config { forwarded_header: "X Forwarded".into(), ..Config::default() },
        ] {
            assert!(c.validate().is_err());
        }
        std::fs::remove_dir_all(&dir)?;
        Ok(())
    }
}
