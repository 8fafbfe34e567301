//! `[push]`: Web Push settings.

use serde::Deserialize;

use crate::error::ServerError;

/// The push services of the browsers that support Web Push: Chrome, Edge's Chromium builds,
/// Opera, Brave and Samsung Internet (Firebase Cloud Messaging), Firefox (Mozilla's autopush),
/// Safari (Apple), and Windows' notification service (Edge on Windows, WebView2).
pub const DEFAULT_SERVICES: [&str; 4] =
    ["fcm.googleapis.com", "*.push.services.mozilla.com", "*.push.apple.com", "*.notify.windows.com"];

/// Web Push settings (`[push]` in the configuration file).
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PushConfig {
    /// The VAPID `sub` claim: a `mailto:` address or an `https://` URL where the push service's
    /// operator can reach the deployment's operator. Empty: the server's origin.
    pub subject: Option<String>,
    /// How long one push may take (connect, send, answer), in seconds.
    pub timeout_secs: u64,
    /// The push services a subscription's endpoint may name: host names, each exact
    /// (`fcm.googleapis.com`) or a suffix after `*.` (`*.push.apple.com`: any host under it, not
    /// the name itself); `*` alone allows any `https` host. Default: [`DEFAULT_SERVICES`].
    pub services: Vec<String>,
    /// Accept subscription endpoints on plain `http` at a loopback address (a push-service
    /// stand-in in tests and development). Off by default: endpoints must be `https`.
    pub allow_http_loopback: bool,
    /// Run the sender in the background. Tests that drive it step by step
    /// (`push::worker::run_once`) turn it off.
    pub worker: bool,
}

impl Default for PushConfig {
    fn default() -> Self {
        Self {
            subject: None,
            timeout_secs: 10,
            services: DEFAULT_SERVICES.iter().map(|s| (*s).to_owned()).collect(),
            allow_http_loopback: false,
            worker: true,
        }
    }
}

impl PushConfig {
    /// Checks the values.
    pub fn validate(&self) -> Result<(), ServerError> {
        if !(1..=120).contains(&self.timeout_secs) {
            return Err(ServerError::Config("[push] timeout_secs must be between 1 and 120".into()));
        }
        if let Some(s) = self.subject.as_deref().filter(|s| !s.is_empty())
            && !(s.starts_with("mailto:") || s.starts_with("https://"))
        {
            return Err(ServerError::Config(
                "[push] subject must be a mailto: address or an https:// URL".into(),
            ));
        }
        if let Some(bad) = self.services.iter().find(|s| !valid_service(s)) {
            return Err(ServerError::Config(format!(
                "[push] services: {bad:?} is not a host name (lowercase, at least two labels, \
                 like \"fcm.googleapis.com\"), a \"*.\" suffix of one (\"*.push.apple.com\"), or \"*\""
            )));
        }
        Ok(())
    }

    /// Whether an endpoint on `host` (lowercase, as `url` gives it) may be pushed to.
    pub(crate) fn service_allowed(&self, host: &str) -> bool {
        self.services.iter().any(|s| match s.strip_prefix("*.") {
            _ if s == "*" => true,
            Some(suffix) => host.strip_suffix(suffix).is_some_and(|sub| sub.len() > 1 && sub.ends_with('.')),
            None => host == s,
        })
    }
}

/// A service pattern: `*`, a DNS name of two or more labels whose last has a letter (so not an
/// address), or such a name after `*.`.
fn valid_service(pattern: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    let name = pattern.strip_prefix("*.").unwrap_or(pattern);
    let labels: Vec<&str> = name.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|l| {
            (1..=63).contains(&l.len())
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
        && labels.last().is_some_and(|tld| tld.bytes().any(|b| b.is_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn with(services: &[&str]) -> PushConfig {
        PushConfig { services: services.iter().map(|s| (*s).to_owned()).collect(), ..PushConfig::default() }
    }

    #[test]
    fn the_default_services_are_the_browsers_and_only_they() {
        let c = PushConfig::default();
        c.validate().unwrap();
        for host in [
            "fcm.googleapis.com",
            "updates.push.services.mozilla.com",
            "web.push.apple.com",
            "api.push.apple.com",
            "wns2-par02p.notify.windows.com",
        ] {
            assert!(c.service_allowed(host), "{host}");
        }
        for host in [
            "googleapis.com",
            "evil.googleapis.com",
            "push.apple.com",
            "xpush.apple.com",
            "push.apple.com.evil.example",
            "localhost",
            "127.0.0.1",
            "metadata.google.internal",
            "",
        ] {
            assert!(!c.service_allowed(host), "{host}");
        }
    }

    #[test]
    fn an_operator_list_and_the_wildcard() {
        let c = with(&["push.example.org", "*.ntfy.example"]);
        c.validate().unwrap();
        assert!(c.service_allowed("push.example.org"));
        assert!(c.service_allowed("a.b.ntfy.example"));
        assert!(!c.service_allowed("ntfy.example"));
        assert!(!c.service_allowed("fcm.googleapis.com"));
        assert!(with(&["*"]).service_allowed("anything.internal"));
        assert!(!with(&[]).service_allowed("fcm.googleapis.com"));
        with(&[]).validate().unwrap();
    }

    #[test]
    fn malformed_services_are_refused_at_start() {
        for bad in [
            "",
            "com",
            "*.com",
            "FCM.googleapis.com",
            "10.0.0.1",
            "*",
            "a..b",
            "-a.b",
            "a.b/c",
            "**.b.c",
            "*x.b.c",
        ] {
            let ok = with(&[bad]).validate().is_ok();
            assert_eq!(ok, bad == "*", "{bad:?}");
        }
    }
}
