//! A token bucket per client address for the ceremony endpoints (register, login, setup claim).
//!
//! The client address is the TCP peer address; behind a reverse proxy put the limit in the
//! proxy as well (this server does not trust `X-Forwarded-For`).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

/// Per-address token buckets.
#[derive(Debug)]
pub struct RateLimiter {
    per_minute: f64,
    burst: f64,
    buckets: Mutex<HashMap<IpAddr, (f64, i64)>>,
}

const MAX_TRACKED: usize = 100_000;

impl RateLimiter {
    /// `per_minute` sustained, `burst` at once.
    pub fn new(per_minute: u32, burst: u32) -> Self {
        Self {
            per_minute: f64::from(per_minute),
            burst: f64::from(burst),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a token for `addr` at `now_ms`; on refusal returns the seconds to wait.
    pub fn check(&self, addr: IpAddr, now_ms: i64) -> Result<(), u64> {
        let Ok(mut map) = self.buckets.lock() else {
            return Ok(());
        };
        if map.len() >= MAX_TRACKED {
            let (per_ms, burst) = (self.per_minute / 60_000.0, self.burst);
            map.retain(|_, (tokens, at)| *tokens + (now_ms - *at) as f64 * per_ms < burst);
        }
        let entry = map.entry(addr).or_insert((self.burst, now_ms));
        let elapsed = (now_ms - entry.1).max(0) as f64;
        let tokens = (entry.0 + elapsed * self.per_minute / 60_000.0).min(self.burst);
        if tokens >= 1.0 {
            *entry = (tokens - 1.0, now_ms);
            Ok(())
        } else {
            *entry = (tokens, now_ms);
            let wait = ((1.0 - tokens) * 60.0 / self.per_minute).ceil();
            Err(wait.max(1.0) as u64)
        }
    }
}
