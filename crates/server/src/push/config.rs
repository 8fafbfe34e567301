//! `[push]`: Web Push settings.

use serde::Deserialize;

use crate::error::ServerError;

/// Web Push settings (`[push]` in the configuration file).
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PushConfig {
    /// The VAPID `sub` claim: a `mailto:` address or an `https://` URL where the push service's
    /// operator can reach the deployment's operator. Empty: the server's origin.
    pub subject: Option<String>,
    /// How long one push may take (connect, send, answer), in seconds.
    pub timeout_secs: u64,
    /// Accept subscription endpoints on plain `http` at a loopback address (a push-service
    /// stand-in in tests and development). Off by default: endpoints must be `https`.
    pub allow_http_loopback: bool,
    /// Run the sender in the background. Tests that drive it step by step
    /// (`push::worker::run_once`) turn it off.
    pub worker: bool,
}

impl Default for PushConfig {
    fn default() -> Self {
        Self { subject: None, timeout_secs: 10, allow_http_loopback: false, worker: true }
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
        Ok(())
    }
}
