//! What the push handlers and the worker share: the VAPID key, the HTTP client, the `sub`
//! claim, the endpoint rule and the worker's wake-up.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use url::{Host, Url};

use super::config::PushConfig;
use super::resolve::{PublicOnly, is_public};
use super::vapid::VapidKey;
use crate::error::ServerError;
use crate::store::Store;

/// The longest endpoint URL accepted.
pub(crate) const MAX_ENDPOINT_LEN: usize = 2048;

/// The push machinery of one instance.
#[derive(Debug)]
pub struct Push {
    /// The VAPID key (the same on every instance: it lives in the database).
    pub key: VapidKey,
    pub(crate) client: reqwest::Client,
    /// The VAPID `sub` claim.
    pub(crate) subject: String,
    /// The `[push]` settings the endpoint rule reads (`services`, `allow_http_loopback`).
    pub(crate) config: PushConfig,
    /// Wakes the worker when a request filled the outbox on this instance.
    pub(crate) wake: Notify,
}

impl Push {
    /// Loads (or makes) the key and builds the client with the configured timeout. Redirects
    /// are not followed: a push service answers, it does not send the push elsewhere. Names
    /// resolve to public addresses only (`resolve::PublicOnly`); no proxy.
    pub(crate) async fn load(store: &Store, config: &PushConfig, origin: &str) -> Result<Self, ServerError> {
        let key = VapidKey::load_or_create(store).await?;
        let timeout = Duration::from_secs(config.timeout_secs);
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(Arc::new(PublicOnly))
            // A proxy from the environment would resolve the push service's name itself, past
            // `PublicOnly` (and its own name would go through it): pushes connect directly.
            .no_proxy()
            .user_agent("blindvault-push")
            .build()
            .map_err(|e| ServerError::Config(format!("push client: {e}")))?;
        let subject = config.subject.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| origin.to_owned());
        Ok(Self { key, client, subject, config: config.clone(), wake: Notify::new() })
    }

    /// The endpoint as a URL if it may be pushed to: `https` on the default port, with no
    /// credentials or fragment, at a host `[push] services` names; or — only with `[push]
    /// allow_http_loopback` — `http` on a loopback address.
    pub(crate) fn check_endpoint(&self, endpoint: &str) -> Result<Url, EndpointRefused> {
        use EndpointRefused::Invalid;
        if endpoint.len() > MAX_ENDPOINT_LEN {
            return Err(Invalid("the endpoint URL is too long"));
        }
        let url = Url::parse(endpoint).map_err(|_| Invalid("the endpoint is not a URL"))?;
        if !url.username().is_empty() || url.password().is_some() || url.fragment().is_some() {
            return Err(Invalid("the endpoint URL may not carry credentials or a fragment"));
        }
        let Some(host) = url.host_str() else { return Err(Invalid("the endpoint URL has no host")) };
        match url.scheme() {
            "https" if url.port().is_some() => Err(Invalid("the endpoint URL may not name a port")),
            "https" if !self.config.service_allowed(host) => {
                Err(EndpointRefused::ServiceNotAllowed(host.to_owned()))
            }
            "https" if ip_literal(&url).is_some_and(|ip| !is_public(ip)) => {
                Err(Invalid("the endpoint's address is not a public one"))
            }
            "https" => Ok(url),
            "http"
                if self.config.allow_http_loopback && ip_literal(&url).is_some_and(|ip| ip.is_loopback()) =>
            {
                Ok(url)
            }
            "http" => Err(Invalid("the endpoint must be https")),
            _ => Err(Invalid("the endpoint must be an https URL")),
        }
    }
}

/// Why a subscription endpoint is refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum EndpointRefused {
    /// Not a URL the rule accepts (the reason).
    Invalid(&'static str),
    /// An `https` URL at a host that is not one of `[push] services` (the host).
    ServiceNotAllowed(String),
}

/// The address a URL's host is, when it is one rather than a name.
fn ip_literal(url: &Url) -> Option<IpAddr> {
    match url.host()? {
        Host::Ipv4(a) => Some(IpAddr::V4(a)),
        Host::Ipv6(a) => Some(IpAddr::V6(a)),
        Host::Domain(_) => None,
    }
}
