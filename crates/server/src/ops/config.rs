//! `[metrics]`: whether `/metrics` is served.

use serde::Deserialize;

/// `[metrics]` in the server's configuration.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// Serve Prometheus metrics at `/metrics` (off by default: route counts and timings say how
    /// busy the vault is, so expose the path only to the scraper — see docs/server.md).
    pub enabled: bool,
}
