//! Rate limits on the ceremony endpoints (register, login, setup claim, passkey and CLI-session
//! ceremonies), in two kinds of token bucket:
//!
//! * **per client address**, taken by every ceremony request. Its default is generous (an office
//!   of a few hundred people behind one NAT address signing in at 9:00 stays under it): it bounds
//!   what one address can make the server store and compute, not who may sign in.
//! * **per account**, taken only by a *failed* assertion for that account (a signature, user
//!   verification or counter that did not check out). It is tight: a person who fails ten times
//!   in a minute waits, while everyone else behind the same address goes on signing in.
//!
//! The client address is the TCP peer address; behind a reverse proxy put the limit in the
//! proxy as well (this server does not trust `X-Forwarded-For`). Time comes from the server's
//! injected clock, so tests drive the buckets with a manual clock, never with sleeps.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;

/// Token buckets keyed by `K`.
#[derive(Debug)]
pub(crate) struct RateLimiter<K> {
    per_minute: f64,
    burst: f64,
    buckets: Mutex<HashMap<K, (f64, i64)>>,
}

/// The most keys one limiter tracks; past it, full buckets are forgotten (a full bucket and an
/// absent one behave the same).
const MAX_TRACKED: usize = 100_000;

impl<K: Hash + Eq + Clone> RateLimiter<K> {
    /// `per_minute` sustained, `burst` at once.
    pub(crate) fn new(per_minute: u32, burst: u32) -> Self {
        Self {
            per_minute: f64::from(per_minute),
            burst: f64::from(burst),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// The tokens `key` has at `now_ms`, and the bucket's map entry refreshed to that moment.
    fn refill(&self, map: &mut HashMap<K, (f64, i64)>, key: &K, now_ms: i64) -> f64 {
        if map.len() >= MAX_TRACKED && !map.contains_key(key) {
            let (per_ms, burst) = (self.per_minute / 60_000.0, self.burst);
            map.retain(|_, (tokens, at)| *tokens + (now_ms - *at) as f64 * per_ms < burst);
        }
        let entry = map.entry(key.clone()).or_insert((self.burst, now_ms));
        let elapsed = (now_ms - entry.1).max(0) as f64;
        (entry.0 + elapsed * self.per_minute / 60_000.0).min(self.burst)
    }

    fn wait_secs(&self, tokens: f64) -> u64 {
        let wait = ((1.0 - tokens) * 60.0 / self.per_minute).ceil();
        wait.max(1.0) as u64
    }

    /// Takes a token for `key` at `now_ms`; on refusal returns the seconds to wait.
    pub(crate) fn check(&self, key: &K, now_ms: i64) -> Result<(), u64> {
        // A poisoned lock means a panic elsewhere while holding it; the buckets are plain numbers,
        // so go on with them rather than refusing (or allowing) everyone.
        let mut map = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let tokens = self.refill(&mut map, key, now_ms);
        if tokens >= 1.0 {
            map.insert(key.clone(), (tokens - 1.0, now_ms));
            Ok(())
        } else {
            map.insert(key.clone(), (tokens, now_ms));
            Err(self.wait_secs(tokens))
        }
    }

    /// Whether `key` has a token at `now_ms`, without taking it; on refusal the seconds to wait.
    #[cfg(test)]
    pub(crate) fn peek(&self, key: &K, now_ms: i64) -> Result<(), u64> {
        let mut map = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let tokens = self.refill(&mut map, key, now_ms);
        if tokens >= 1.0 { Ok(()) } else { Err(self.wait_secs(tokens)) }
    }
}

/// The server's two limiters.
#[derive(Debug)]
pub(crate) struct Limits {
    /// Every ceremony request, by client address.
    pub per_address: RateLimiter<IpAddr>,
    /// Failed assertions, by account (user id).
    pub per_account: RateLimiter<String>,
}

impl Limits {
    /// From the configuration's four numbers.
    pub(crate) fn new(address: (u32, u32), account: (u32, u32)) -> Self {
        Self {
            per_address: RateLimiter::new(address.0, address.1),
            per_account: RateLimiter::new(account.0, account.1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_800_000_000_000;

    #[test]
    fn a_burst_then_the_sustained_rate_with_the_wait_to_the_next_token() {
        let l = RateLimiter::<u8>::new(6, 3); // one token every 10 s
        for _ in 0..3 {
            assert_eq!(l.check(&1, T0), Ok(()));
        }
        assert_eq!(l.check(&1, T0), Err(10));
        assert_eq!(l.check(&1, T0 + 4_000), Err(6), "the wait counts down");
        assert_eq!(l.check(&1, T0 + 10_000), Ok(()), "one token after 10 s");
        assert_eq!(l.check(&1, T0 + 10_001), Err(10));
        // Never more than the burst, however long the pause.
        for _ in 0..3 {
            assert_eq!(l.check(&1, T0 + 3_600_000), Ok(()));
        }
        assert!(l.check(&1, T0 + 3_600_000).is_err());
    }

    #[test]
    fn keys_have_their_own_buckets_and_peek_takes_nothing() {
        let l = RateLimiter::<&str>::new(60, 1);
        assert_eq!(l.check(&"alice", T0), Ok(()));
        assert!(l.check(&"alice", T0).is_err());
        assert_eq!(l.peek(&"bob", T0), Ok(()));
        assert_eq!(l.peek(&"bob", T0), Ok(()), "peeking twice takes no token");
        assert_eq!(l.check(&"bob", T0), Ok(()));
        assert_eq!(l.peek(&"bob", T0), Err(1));
    }

    #[test]
    fn a_clock_that_goes_back_refills_nothing() {
        let l = RateLimiter::<u8>::new(60, 1);
        assert_eq!(l.check(&1, T0), Ok(()));
        assert!(l.check(&1, T0 - 3_600_000).is_err());
    }

    #[test]
    fn an_office_behind_one_address_signs_in_at_nine() {
        // The defaults: 300 people, each a start and a finish, over five minutes.
        let c = crate::Config::default();
        let l = RateLimiter::<u8>::new(c.rate_limit_per_minute, c.rate_limit_burst);
        let mut refused = 0;
        for i in 0..600i64 {
            if l.check(&1, T0 + i * 500).is_err() {
                refused += 1;
            }
        }
        assert_eq!(refused, 0);
    }
}
