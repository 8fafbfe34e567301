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
//! A third bucket, **per consumer host** (its certificate id), is taken by every request a host
//! makes (`POST /api/broker/requests`) and every result poll (`GET …/result`), once the call
//! has proven it is the host's (a verified signature, a matching poll token): no one can spend
//! another host's budget. It is sized so that a host at its open-request cap polling each
//! request every 5 s stays far under it (see `Config::default`).
//!
//! Beside the buckets, [`StreamSlots`] counts the approver event streams open per session
//! (in this instance's memory): a slot is taken when a stream opens and given back when it ends.
//!
//! The client address is the TCP peer address, or behind a configured trusted proxy the address
//! that proxy forwarded (`crate::net`); an IPv6 client counts by its /64 ([`limit_key`]). Time
//! comes from the server's injected clock, so tests drive the buckets with a manual clock, never
//! with sleeps.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex};

/// The rate-limit key of a client address: an IPv4 address (or an IPv4-mapped IPv6 one) as is,
/// an IPv6 address by its /64 (one subscriber's network: a host can take any address in it, so
/// rotating through them gains nothing).
pub(crate) fn limit_key(ip: IpAddr) -> IpAddr {
    match crate::net::canonical(ip) {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !u128::from(u64::MAX))),
    }
}

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

/// The server's limiters.
#[derive(Debug)]
pub(crate) struct Limits {
    /// Every ceremony request, by client address.
    pub per_address: RateLimiter<IpAddr>,
    /// Failed assertions, by account (user id).
    pub per_account: RateLimiter<String>,
    /// A consumer host's requests and result polls, by certificate id.
    pub per_host: RateLimiter<String>,
    /// Open approver event streams, by session id.
    pub streams: Arc<StreamSlots>,
}

impl Limits {
    /// From the configuration's numbers.
    pub(crate) fn new(c: &crate::Config) -> Self {
        Self {
            per_address: RateLimiter::new(c.rate_limit_per_minute, c.rate_limit_burst),
            per_account: RateLimiter::new(c.account_rate_limit_per_minute, c.account_rate_limit_burst),
            per_host: RateLimiter::new(c.host_rate_limit_per_minute, c.host_rate_limit_burst),
            streams: Arc::new(StreamSlots::new(c.max_event_streams_per_session)),
        }
    }
}

/// Live counts of something per key (open event streams per session), each at most `max`.
#[derive(Debug)]
pub(crate) struct StreamSlots {
    max: u32,
    live: Mutex<HashMap<String, u32>>,
}

/// A slot taken from [`StreamSlots`]; dropping it (the stream ended, or its client went away)
/// gives the slot back.
#[derive(Debug)]
pub(crate) struct StreamSlot {
    slots: Arc<StreamSlots>,
    key: String,
}

impl StreamSlots {
    pub(crate) fn new(max: u32) -> Self {
        Self { max, live: Mutex::new(HashMap::new()) }
    }

    /// Takes a slot for `key`, or `None` when `key` already holds `max`.
    pub(crate) fn take(self: &Arc<Self>, key: &str) -> Option<StreamSlot> {
        // Plain counters: a poisoned lock is taken over, as for the buckets.
        let mut live = self.live.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = live.entry(key.to_owned()).or_insert(0);
        if *n >= self.max {
            return None;
        }
        *n += 1;
        Some(StreamSlot { slots: self.clone(), key: key.to_owned() })
    }

    /// How many slots `key` holds.
    #[cfg(test)]
    pub(crate) fn held(&self, key: &str) -> u32 {
        let live = self.live.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        live.get(key).copied().unwrap_or(0)
    }

    /// The most slots one key may hold.
    pub(crate) fn max(&self) -> u32 {
        self.max
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut live = self.slots.live.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = live.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                live.remove(&self.key);
            }
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
    fn ipv6_counts_by_its_64_and_ipv4_by_its_address() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
        let (a, b, c) = (ip("2001:db8:1:2:aaaa::1"), ip("2001:db8:1:2:bbbb::9"), ip("2001:db8:1:3::1"));
        assert_eq!(limit_key(a), limit_key(b));
        assert_eq!(limit_key(a), ip("2001:db8:1:2::"));
        assert_ne!(limit_key(a), limit_key(c));
        assert_eq!(limit_key(ip("::ffff:192.0.2.7")), ip("192.0.2.7"), "IPv4-mapped: its IPv4 address");
        assert_ne!(limit_key(ip("192.0.2.7")), limit_key(ip("192.0.2.8")));
        // A client rotating through its /64 shares one bucket; the next /64 has its own.
        let l = RateLimiter::<IpAddr>::new(60, 3);
        for i in 0..3u16 {
            let rotated = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 2, i, i, i, i + 1));
            assert_eq!(l.check(&limit_key(rotated), T0), Ok(()));
        }
        let fourth = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 2, 0xffff, 9, 9, 9));
        assert!(l.check(&limit_key(fourth), T0).is_err(), "a fourth address of the /64 is refused");
        assert_eq!(l.check(&limit_key(c), T0), Ok(()), "another /64 is served");
    }

    #[test]
    fn a_clock_that_goes_back_refills_nothing() {
        let l = RateLimiter::<u8>::new(60, 1);
        assert_eq!(l.check(&1, T0), Ok(()));
        assert!(l.check(&1, T0 - 3_600_000).is_err());
    }

    #[test]
    fn stream_slots_are_counted_per_key_and_given_back_on_drop() {
        let slots = Arc::new(StreamSlots::new(2));
        let a1 = slots.take("a");
        let a2 = slots.take("a");
        assert!(a1.is_some() && a2.is_some());
        assert!(slots.take("a").is_none(), "a third slot for one key is refused");
        assert!(slots.take("b").is_some(), "another key has its own slots");
        assert_eq!(slots.held("b"), 0, "the slot for b was dropped at once");
        drop(a1);
        assert_eq!(slots.held("a"), 1);
        let a3 = slots.take("a");
        assert!(a3.is_some(), "a slot given back can be taken again");
        drop((a2, a3));
        assert_eq!(slots.held("a"), 0);
        assert!(slots.live.lock().map(|m| m.is_empty()).unwrap_or(false), "no key is left behind");
    }

    #[test]
    fn a_host_at_its_open_request_cap_polling_every_5_s_is_never_refused() {
        // The defaults: 16 requests created at once, each polled at once and then every 5 s
        // (the CLI's long-poll wait) for ten minutes; as each request ends another is created.
        let c = crate::Config::default();
        let l = RateLimiter::<u8>::new(c.host_rate_limit_per_minute, c.host_rate_limit_burst);
        let open = i64::from(c.max_open_requests_per_host);
        let mut refused = 0;
        for _ in 0..open * 2 {
            refused += i32::from(l.check(&1, T0).is_err());
        }
        for tick in 1..=120i64 {
            let at = T0 + tick * 5_000;
            for _ in 0..open {
                refused += i32::from(l.check(&1, at).is_err());
            }
            // Every 30 s each request is replaced by a new one (a create and its first poll).
            if tick % 6 == 0 {
                for _ in 0..open * 2 {
                    refused += i32::from(l.check(&1, at).is_err());
                }
            }
        }
        assert_eq!(refused, 0);
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
