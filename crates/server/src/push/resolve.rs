//! The push client's name resolution: a push service's name must resolve to public addresses.
//! `[push] services` names who may be pushed to; this stops a listed name that resolves inside
//! the network (a zone where others make names, split-horizon DNS, a rebinding attacker's zone)
//! from turning a push into a request to an internal service. Addresses that are not public are
//! dropped from the answer; a name left with none is refused ([`NotPublic`]).

use std::error::Error as StdError;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

type BoxError = Box<dyn StdError + Send + Sync>;

/// Resolves with the system resolver, keeping public addresses only.
#[derive(Debug, Default)]
pub(crate) struct PublicOnly;

/// A name that resolved to no public address.
#[derive(Debug)]
pub(crate) struct NotPublic(pub(crate) String);

impl fmt::Display for NotPublic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} resolves to no public address", self.0)
    }
}

impl StdError for NotPublic {}

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found =
                tokio::net::lookup_host((host.as_str(), 0)).await.map_err(|e| Box::new(e) as BoxError)?;
            let public: Vec<SocketAddr> = found.filter(|a| is_public(a.ip())).collect();
            if public.is_empty() {
                return Err(Box::new(NotPublic(host)) as BoxError);
            }
            Ok::<Addrs, BoxError>(Box::new(public.into_iter()))
        })
    }
}

/// Whether `err` (or an error it wraps) is a [`NotPublic`] refusal.
pub(crate) fn is_not_public(err: &(dyn StdError + 'static)) -> bool {
    let mut e: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(cur) = e {
        if cur.is::<NotPublic>() {
            return true;
        }
        e = cur.source();
    }
    false
}

/// Whether an address is reachable on the public internet: not loopback, private, link-local,
/// shared (CGNAT), unspecified, multicast, broadcast, documentation, benchmarking or reserved
/// space (IANA's special-purpose registries); for IPv6, global unicast outside the
/// special-purpose blocks, or an IPv4-mapped or well-known-prefix NAT64 form of a public IPv4
/// address. A network-specific NAT64 prefix cannot be told from a public address.
pub(crate) fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0 // "this network"
        || (a == 100 && (b & 0xc0) == 64) // 100.64.0.0/10, shared address space (CGNAT)
        || (a == 192 && b == 0 && c == 0) // 192.0.0.0/24, protocol assignments
        || (a == 198 && (b & 0xfe) == 18) // 198.18.0.0/15, benchmarking
        || a >= 240) // 240.0.0.0/4, reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let s = ip.segments();
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        // 64:ff9b::/96, the well-known NAT64 prefix: the IPv4 address in its last 32 bits.
        let [a, b] = s[6].to_be_bytes();
        let [c, d] = s[7].to_be_bytes();
        return is_public_v4(Ipv4Addr::new(a, b, c, d));
    }
    // Global unicast (2000::/3) only — so not loopback, unspecified, multicast, unique-local,
    // link-local, site-local, IPv4-compatible or the local-use NAT64 prefix 64:ff9b:1::/48 —
    // and within it not the IETF protocol assignments 2001::/23 (Teredo among them), 6to4
    // 2002::/16 (both carry IPv4 addresses) or documentation (2001:db8::/32, 3fff::/20).
    (s[0] & 0xe000) == 0x2000
        && !(s[0] == 0x2001 && s[1] < 0x0200)
        && !(s[0] == 0x2001 && s[1] == 0x0db8)
        && s[0] != 0x2002
        && (s[0] & 0xfff0) != 0x3ff0
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn internal_addresses_are_not_public() {
        for a in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "192.0.0.8",
            "198.18.0.1",
            "203.0.113.9",
            "240.0.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "2001:db8::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1",
            "::127.0.0.1",
            "64:ff9b:1::a00:1",
            "2002:a00:1::1",
            "2001:0:4136:e378::1",
            "3fff::1",
            "100::1",
        ] {
            assert!(!is_public(ip(a)), "{a}");
        }
    }

    #[test]
    fn public_addresses_are() {
        for a in [
            "142.250.74.10",
            "8.8.8.8",
            "17.57.146.20",
            "2a00:1450:4001:80e::200a",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ] {
            assert!(is_public(ip(a)), "{a}");
        }
    }

    #[tokio::test]
    async fn a_name_that_resolves_to_loopback_is_refused() {
        let name: Name = "localhost".parse().unwrap();
        let err = PublicOnly.resolve(name).await.err().unwrap();
        assert!(is_not_public(err.as_ref()), "{err}");
    }
}
