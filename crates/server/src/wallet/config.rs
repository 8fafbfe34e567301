//! The gateway's knobs: `[gateway]` in the server's TOML configuration (docs/server.md).

use serde::Deserialize;

use crate::error::ServerError;

/// Limits of the RPC gateway.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct GatewayConfig {
    /// Gateway calls one person may make per minute (sustained rate).
    pub rate_limit_per_minute: u32,
    /// Gateway calls one person may make in a burst.
    pub rate_limit_burst: u32,
    /// The largest gateway call body (bytes); a larger one is refused with 413.
    pub max_request_bytes: usize,
    /// The largest endpoint answer (bytes) the gateway reads; a larger one is a 502.
    pub max_response_bytes: usize,
    /// How long the gateway waits for an endpoint's whole answer (milliseconds), connecting
    /// included; then a 504.
    pub timeout_ms: u64,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            // A wallet page refreshing five chains' balances, tokens and history: a few dozen calls.
            rate_limit_per_minute: 240,
            rate_limit_burst: 120,
            // A large Bitcoin transaction in hex is under 200 KB; EVM, Solana, TRON and TON ones
            // are far smaller.
            max_request_bytes: 256 * 1024,
            max_response_bytes: 4 * 1024 * 1024,
            timeout_ms: 15_000,
        }
    }
}

impl GatewayConfig {
    /// Checks the values.
    pub fn validate(&self) -> Result<(), ServerError> {
        if self.rate_limit_per_minute == 0 || self.rate_limit_burst == 0 {
            return Err(ServerError::Config("gateway rate limits must be positive".into()));
        }
        if self.max_request_bytes == 0 || self.max_response_bytes == 0 {
            return Err(ServerError::Config("gateway size limits must be positive".into()));
        }
        if !(1..=300_000).contains(&self.timeout_ms) {
            return Err(ServerError::Config("gateway timeout_ms must be 1 to 300000".into()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gateway_table_of_the_config_file() -> Result<(), Box<dyn std::error::Error>> {
        let c: crate::Config = toml::from_str("[gateway]\ntimeout_ms = 2500\nrate_limit_burst = 7\n")?;
        assert_eq!(c.gateway.timeout_ms, 2500);
        assert_eq!(c.gateway.rate_limit_burst, 7);
        assert_eq!(c.gateway.max_request_bytes, GatewayConfig::default().max_request_bytes);
        c.validate()?;
        assert!(toml::from_str::<crate::Config>("[gateway]\ntimeout = 1\n").is_err(), "unknown key");
        let zero: crate::Config = toml::from_str("[gateway]\ntimeout_ms = 0\n")?;
        assert!(zero.validate().is_err());
        Ok(())
    }
}
