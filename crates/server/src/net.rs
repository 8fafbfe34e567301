//! Client addresses: the trusted reverse proxies (`trusted_proxies`, addresses or CIDR blocks),
//! and the address a request counts as coming from.
//!
//! A request's client is its TCP peer, unless that peer is a trusted proxy: then the client is
//! read from the forwarded-address header (`forwarded_header`, `X-Forwarded-For` by default),
//! walking it from the right — each proxy appends the address it was connected from — and
//! taking the first address that is not itself a trusted proxy. Anything a client writes into
//! the header sits left of what its proxy appended, so it is never read; and from a peer that is
//! not a trusted proxy the header is ignored altogether.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use axum::http::HeaderMap;

/// An address block: `192.0.2.10`, `10.0.0.0/8`, `2001:db8::/32`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(try_from = "String")]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Whether `ip` is in this block (an IPv4-mapped IPv6 address counts as its IPv4 address).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("{s:?} is not an IP address or a CIDR block (10.0.0.0/8, 2001:db8::/32)");
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s.trim(), None),
        };
        let addr = canonical(IpAddr::from_str(addr).map_err(|_| bad())?);
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(bad)?,
            None => max,
        };
        Ok(Self { addr, prefix })
    }
}

impl TryFrom<String> for Cidr {
    type Error = String;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// An IPv4-mapped IPv6 address (`::ffff:192.0.2.7`, what a dual-stack socket reports for an
/// IPv4 peer) as its IPv4 address; any other address as is.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

/// The client address of a request from TCP peer `peer`: the peer itself, or — when the peer
/// is in `trusted` — the rightmost address of `header` (all its lines, in order) that is not in
/// `trusted`. When every address there is trusted, the leftmost; when an entry does not read as
/// an address, the trusted hop that reported it (the header is not the place to get around
/// the limits).
pub fn client_addr(peer: IpAddr, headers: &HeaderMap, trusted: &[Cidr], header: &str) -> IpAddr {
    let peer = canonical(peer);
    if !trusted.iter().any(|c| c.contains(peer)) {
        return peer;
    }
    let forwarded = header.eq_ignore_ascii_case("forwarded");
    let entries: Vec<&str> =
        headers.get_all(header).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).collect();
    let mut client = peer;
    for entry in entries.iter().rev() {
        let Some(ip) = parse_entry(entry, forwarded) else { return client };
        client = canonical(ip);
        if !trusted.iter().any(|c| c.contains(client)) {
            return client;
        }
    }
    client
}

/// One element of a forwarded-address list: `192.0.2.7`, `192.0.2.7:4711`, `2001:db8::1`,
/// `[2001:db8::1]:4711`, or in a `Forwarded` header (RFC 7239) `for=…` among its parameters.
fn parse_entry(entry: &str, forwarded: bool) -> Option<IpAddr> {
    let mut text = entry.trim();
    if forwarded {
        text = text.split(';').find_map(|p| {
            let (k, v) = p.trim().split_once('=')?;
            k.trim().eq_ignore_ascii_case("for").then_some(v.trim())
        })?;
        text = text.trim_matches('"');
    }
    if let Ok(ip) = IpAddr::from_str(text) {
        return Some(ip);
    }
    if let Some(rest) = text.strip_prefix('[') {
        return rest.split_once(']').and_then(|(a, _)| Ipv6Addr::from_str(a).ok()).map(IpAddr::V6);
    }
    let (host, port) = text.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    Ipv4Addr::from_str(host).ok().map(IpAddr::V4)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn cidrs(list: &[&str]) -> Vec<Cidr> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    fn headers(name: &'static str, values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(name, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn blocks_parse_and_contain() {
        let c: Cidr = "10.0.0.0/8".parse().unwrap();
        assert!(c.contains(ip("10.200.1.1")) && !c.contains(ip("11.0.0.1")));
        assert!(c.contains(ip("::ffff:10.1.2.3")), "an IPv4-mapped address is its IPv4 one");
        let one: Cidr = "192.0.2.10".parse().unwrap();
        assert!(one.contains(ip("192.0.2.10")) && !one.contains(ip("192.0.2.11")));
        let v6: Cidr = "2001:db8::/32".parse().unwrap();
        assert!(v6.contains(ip("2001:db8:ffff::1")) && !v6.contains(ip("2001:db9::1")));
        assert!(!v6.contains(ip("10.0.0.1")));
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("203.0.113.9")));
        for bad in ["", "10.0.0.0/33", "2001:db8::/129", "10.0.0/8", "example.com", "10.0.0.0/x"] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad:?}");
        }
        assert_eq!("10.0.0.0/8".parse::<Cidr>().unwrap().to_string(), "10.0.0.0/8");
    }

    #[test]
    fn the_header_counts_only_from_a_trusted_proxy_and_from_the_right() {
        let trusted = cidrs(&["10.0.0.0/8"]);
        let xff = "x-forwarded-for";
        // From a client that is not a proxy: the header is ignored.
        let h = headers(xff, &["203.0.113.5"]);
        assert_eq!(client_addr(ip("198.51.100.1"), &h, &trusted, "X-Forwarded-For"), ip("198.51.100.1"));
        // Through the proxy: what the client wrote stays left of what the proxy appended.
        let h = headers(xff, &["203.0.113.5, 198.51.100.1"]);
        assert_eq!(client_addr(ip("10.0.0.2"), &h, &trusted, "X-Forwarded-For"), ip("198.51.100.1"));
        // Two tiers of proxies, the header split over two lines.
        let h = headers(xff, &["198.51.100.1", "10.0.0.3"]);
        assert_eq!(client_addr(ip("10.0.0.2"), &h, &trusted, xff), ip("198.51.100.1"));
        // No header: the proxy itself. Every hop trusted: the leftmost.
        assert_eq!(client_addr(ip("10.0.0.2"), &HeaderMap::new(), &trusted, xff), ip("10.0.0.2"));
        let h = headers(xff, &["10.0.0.9, 10.0.0.3"]);
        assert_eq!(client_addr(ip("10.0.0.2"), &h, &trusted, xff), ip("10.0.0.9"));
        // Garbage: the trusted hop that reported it.
        let h = headers(xff, &["nonsense, 10.0.0.3"]);
        assert_eq!(client_addr(ip("10.0.0.2"), &h, &trusted, xff), ip("10.0.0.3"));
        // Ports and brackets, IPv4-mapped peers.
        let h = headers(xff, &["[2001:db8::7]:443"]);
        assert_eq!(client_addr(ip("::ffff:10.0.0.2"), &h, &trusted, xff), ip("2001:db8::7"));
        let h = headers(xff, &["192.0.2.1:5000"]);
        assert_eq!(client_addr(ip("10.0.0.2"), &h, &trusted, xff), ip("192.0.2.1"));
        // Another header name, and RFC 7239's `Forwarded`.
        let h = headers("x-real-ip", &["192.0.2.44"]);
        assert_eq!(client_addr(ip("10.0.0.2"), &h, &trusted, "X-Real-IP"), ip("192.0.2.44"));
        let h = headers("forwarded", &["for=192.0.2.60;proto=https, for=\"[2001:db8::1]:80\""]);
        assert_eq!(client_addr(ip("10.0.0.2"), &h, &trusted, "Forwarded"), ip("2001:db8::1"));
        // No proxy trusted (the default): always the peer.
        let h = headers(xff, &["203.0.113.5"]);
        assert_eq!(client_addr(ip("10.0.0.2"), &h, &[], xff), ip("10.0.0.2"));
    }
}
