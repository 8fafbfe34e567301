//! Checks of what the admin and people send about wallets: network names, EVM chain ids, endpoint
//! URLs and credentials, addresses per chain, derivation paths, labels and token fields — and
//! the refusal of anything that looks like private material.
//!
//! Addresses are checked for their form (prefix, alphabet, length), not their checksums: the
//! server links no chain code (docs/architecture.md: the server never links what could open a
//! secret, and the wallet crate is the device's). A checksum error shows on the device, which
//! derives the address itself and compares it.

use blindvault_api::ErrorCode;
use blindvault_api::wallet::{Chain, EndpointCredential};
use url::Url;

use crate::error::ApiError;

/// The largest EVM chain id the pages can hold as a JavaScript number: 2^53 − 1.
pub(crate) const MAX_CHAIN_ID: u64 = (1 << 53) - 1;

const BASE58: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
const BECH32: &[u8] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";

fn bad(code: ErrorCode, msg: impl Into<String>) -> ApiError {
    ApiError::bad_request(code, msg)
}

fn all_in(s: &str, alphabet: &[u8]) -> bool {
    s.bytes().all(|b| alphabet.contains(&b))
}

fn is_hex(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A network's short name: 1 to 32 of `a-z 0-9 -`, not starting or ending with `-`.
pub(crate) fn network(s: &str) -> Result<(), ApiError> {
    let ok = (1..=32).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(bad(ErrorCode::WalletInvalidNetwork, "a network is 1 to 32 of a-z, 0-9 and -"))
    }
}

/// EVM needs its chain id (1 to 2^53 − 1); the other chains take none.
pub(crate) fn chain_id(chain: Chain, id: Option<u64>) -> Result<(), ApiError> {
    match (chain, id) {
        (Chain::Evm, Some(id)) if (1..=MAX_CHAIN_ID).contains(&id) => Ok(()),
        (Chain::Evm, _) => {
            Err(bad(ErrorCode::WalletInvalidNetwork, "an EVM endpoint needs its chain id (1 to 2^53 - 1)"))
        }
        (_, None) => Ok(()),
        (_, Some(_)) => Err(bad(ErrorCode::WalletInvalidNetwork, "only an EVM endpoint has a chain id")),
    }
}

/// An endpoint URL: `http(s)://host[:port][/path]`, no user info, query or fragment, at most 512
/// bytes. Returns it as the URL parser writes it.
pub(crate) fn endpoint_url(s: &str) -> Result<Url, ApiError> {
    let refuse = |why: &str| bad(ErrorCode::WalletInvalidUrl, format!("endpoint URL: {why}"));
    if s.len() > 512 {
        return Err(refuse("at most 512 bytes"));
    }
    let url = Url::parse(s).map_err(|e| refuse(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(refuse("the scheme must be https or http"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(refuse("no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refuse("no user info (put a key in the credential, which no reply shows)"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(refuse("no query or fragment (a key goes in the credential)"));
    }
    Ok(url)
}

/// Header names the gateway or HTTP itself sets: a credential may not replace them.
const RESERVED_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "content-type",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "upgrade",
    "te",
    "trailer",
    "expect",
    "cookie",
    "accept",
    "accept-encoding",
    "origin",
    "referer",
];

fn unreserved(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~'))
}

/// A credential's name and value.
pub(crate) fn credential(c: &EndpointCredential) -> Result<(), ApiError> {
    let refuse = |why: &str| bad(ErrorCode::WalletInvalidCredential, format!("credential: {why}"));
    let name_ok = |n: &str| {
        (1..=64).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    match c {
        EndpointCredential::Header { name, value } => {
            let lower = name.to_ascii_lowercase();
            if !name_ok(name) || RESERVED_HEADERS.contains(&lower.as_str()) || lower.starts_with("proxy-") {
                return Err(refuse("a header name of letters, digits, - and _, not one HTTP sets"));
            }
            let v = value.expose();
            if !(1..=1024).contains(&v.len())
                || !v.bytes().all(|b| (0x20..0x7f).contains(&b))
                || v.trim() != v
            {
                return Err(refuse("a header value of 1 to 1024 visible ASCII characters"));
            }
        }
        EndpointCredential::Query { name, value } => {
            let v = value.expose();
            if !name_ok(name) || !(1..=512).contains(&v.len()) || !unreserved(v) {
                return Err(refuse(
                    "a query name of letters, digits, - and _, a value of URL-safe characters",
                ));
            }
        }
        EndpointCredential::PathSegment { value } => {
            let v = value.expose();
            if !(1..=256).contains(&v.len()) || !unreserved(v) || v == "." || v == ".." {
                return Err(refuse("a path segment of URL-safe characters"));
            }
        }
    }
    Ok(())
}

/// Whether `s` looks like private material: a mnemonic, an extended private key, a WIF key, a
/// raw 32- or 64-byte key in hex, a Solana secret key (base58 or its JSON byte array) or a PEM
/// block.
pub(crate) fn looks_private(s: &str) -> bool {
    let t = s.trim();
    let words: Vec<&str> = t.split_whitespace().collect();
    if words.len() >= 12 && words.iter().all(|w| w.bytes().all(|b| b.is_ascii_alphabetic())) {
        return true;
    }
    let hex = t.strip_prefix("0x").unwrap_or(t);
    if matches!(hex.len(), 64 | 128) && is_hex(hex) {
        return true;
    }
    let xprv = ["xprv", "yprv", "zprv", "tprv", "uprv", "vprv", "Yprv", "Zprv", "Uprv", "Vprv"];
    if xprv.iter().any(|p| t.starts_with(p)) {
        return true;
    }
    let wif =
        (t.len() == 51 && t.starts_with(['5', '9'])) || (t.len() == 52 && t.starts_with(['K', 'L', 'c']));
    if wif && all_in(t, BASE58) {
        return true;
    }
    if (86..=88).contains(&t.len()) && all_in(t, BASE58) {
        return true;
    }
    t.starts_with('[') || t.contains("PRIVATE KEY") || t.starts_with("-----BEGIN")
}

/// Refuses `value` of field `what` if it looks like private material.
pub(crate) fn refuse_private(what: &str, value: &str) -> Result<(), ApiError> {
    if looks_private(value) {
        return Err(bad(
            ErrorCode::WalletPrivateMaterialRefused,
            format!(
                "{what} looks like a private key or a recovery phrase: the server never takes one; send public addresses only"
            ),
        ));
    }
    Ok(())
}

/// An address in `chain`'s form (see the module's note on checksums).
pub(crate) fn address(chain: Chain, s: &str) -> Result<(), ApiError> {
    refuse_private("the address", s)?;
    let ok = match chain {
        Chain::Evm => s.strip_prefix("0x").is_some_and(|h| h.len() == 40 && is_hex(h)),
        Chain::Bitcoin => bitcoin_address(s),
        Chain::Solana => (32..=44).contains(&s.len()) && all_in(s, BASE58),
        Chain::Tron => s.len() == 34 && s.starts_with('T') && all_in(s, BASE58),
        Chain::Ton => ton_address(s),
    };
    if ok { Ok(()) } else { Err(bad(ErrorCode::WalletInvalidAddress, format!("not a {chain} address"))) }
}

fn bitcoin_address(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    let bech = ["bc1", "tb1", "bcrt1"].iter().find_map(|p| lower.strip_prefix(p));
    if let Some(data) = bech {
        // One case throughout (BIP-173), the data part in bech32's alphabet.
        let one_case = s == lower || s == s.to_ascii_uppercase();
        return one_case
            && (14..=90).contains(&s.len())
            && (7..).contains(&data.len())
            && all_in(data, BECH32);
    }
    (26..=35).contains(&s.len()) && s.starts_with(['1', '3', 'm', 'n', '2']) && all_in(s, BASE58)
}

fn ton_address(s: &str) -> bool {
    if let Some((wc, hash)) = s.split_once(':') {
        return matches!(wc, "0" | "-1") && hash.len() == 64 && is_hex(hash);
    }
    s.len() == 48 && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'+' | b'/'))
}

/// A BIP-32 path: `m` and 1 to 10 components below 2^31, each hardened (`'` or `h`) or not.
pub(crate) fn path(s: &str) -> Result<(), ApiError> {
    let refuse = || bad(ErrorCode::WalletInvalidAddress, "a derivation path is m/N[']/… (1 to 10 steps)");
    let mut parts = s.split('/');
    if parts.next() != Some("m") {
        return Err(refuse());
    }
    let mut n = 0;
    for p in parts {
        let digits = p.strip_suffix(['\'', 'h']).unwrap_or(p);
        let ok = !digits.is_empty()
            && digits.len() <= 10
            && digits.bytes().all(|b| b.is_ascii_digit())
            && digits.parse::<u64>().is_ok_and(|v| v < 1 << 31);
        if !ok {
            return Err(refuse());
        }
        n += 1;
    }
    if (1..=10).contains(&n) { Ok(()) } else { Err(refuse()) }
}

/// A label typed by a person (1 to 64 characters, no control or invisible characters).
pub(crate) fn label(s: &str) -> Result<(), ApiError> {
    refuse_private("the label", s)?;
    crate::http::extract::check_label("a label", s)
}

/// A token's contract on `chain` (ERC-20, SPL mint, TRC-20), symbol and decimals.
pub(crate) fn token(chain: Chain, contract: &str, symbol: &str, decimals: u8) -> Result<(), ApiError> {
    if !matches!(chain, Chain::Evm | Chain::Solana | Chain::Tron) {
        return Err(bad(
            ErrorCode::WalletInvalidAddress,
            "tokens are ERC-20 (evm), SPL (solana) or TRC-20 (tron)",
        ));
    }
    address(chain, contract)?;
    refuse_private("the symbol", symbol)?;
    let n = symbol.chars().count();
    if !(1..=16).contains(&n) || !symbol.chars().all(|c| c.is_ascii_graphic()) {
        return Err(bad(ErrorCode::WalletInvalidAddress, "a symbol is 1 to 16 visible ASCII characters"));
    }
    if decimals > 36 {
        return Err(bad(ErrorCode::WalletInvalidAddress, "decimals are 0 to 36"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_per_chain() {
        let good = [
            (Chain::Evm, "0x52908400098527886E0F7030069857D2E4169EE7"),
            (Chain::Bitcoin, "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu"),
            (Chain::Bitcoin, "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"),
            (Chain::Bitcoin, "tb1pqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesf3hn0c"),
            (Chain::Solana, "4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T"),
            (Chain::Tron, "TLa2f6VPqDgRE67v1736s7bJ8Ray5wYjU7"),
            (Chain::Ton, "EQDtFpEwcFAEcRe5mLVh2N6C0x-_hJEM7W61_JLnSF74p4q2"),
            (Chain::Ton, "0:ed169130705004711b9998b561d8dde82d31fbf84910ced6eb5fc92e7485ef8a"),
        ];
        for (c, a) in good {
            assert!(address(c, a).is_ok(), "{c} {a}");
        }
        let bad = [
            (Chain::Evm, "0x52908400098527886E0F7030069857D2E4169EE"),
            (Chain::Bitcoin, "bc1QCR8te4kr609gcawutmrza0j4xv80jy8z306fyu"),
            (Chain::Bitcoin, "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyb"),
            (Chain::Solana, "0OIl"),
            (Chain::Tron, "XLa2f6VPqDgRE67v1736s7bJ8Ray5wYjU7"),
            (Chain::Ton, "1:ed169130705004711b9998b561d8dde82d31fbf84910ced6eb5fc92e7485ef8a"),
            (Chain::Ton, "../../x"),
        ];
        for (c, a) in bad {
            assert_eq!(address(c, a).map_err(|e| e.code), Err(ErrorCode::WalletInvalidAddress), "{c} {a}");
        }
    }

    #[test]
    fn private_material_is_named_as_such() {
        let private = [
            "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about",
            "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318",
            "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318",
            "xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNKmPGJxWUtg6LnF5kejMRNNU3TGtRBeJgk33yuGBxrMPHi",
            "5HueCGU8rMjxEXxiPuD5BDku4MkFqeZyd4dZ1jvhTVqvbTLvyTJ",
            "KwDiBf89QgGbjEhKnhXJuH7LrciVrZi3qYjgd9M7rFU73sVHnoWn",
            "[12,34,56]",
        ];
        for p in private {
            assert!(looks_private(p), "{p}");
            assert_eq!(
                address(Chain::Evm, p).map_err(|e| e.code),
                Err(ErrorCode::WalletPrivateMaterialRefused)
            );
        }
        assert!(!looks_private("0x52908400098527886E0F7030069857D2E4169EE7"));
        assert!(!looks_private("0:ed169130705004711b9998b561d8dde82d31fbf84910ced6eb5fc92e7485ef8a"));
    }

    #[test]
    fn paths_networks_urls() {
        assert!(path("m/84'/0'/0'/0/0").is_ok());
        assert!(path("m/44h/501h/0h/0h").is_ok());
        for p in ["m", "84'/0'", "m/2147483648", "m//0", "m/-1", "m/0/0/0/0/0/0/0/0/0/0/0"] {
            assert!(path(p).is_err(), "{p}");
        }
        assert!(network("sepolia").is_ok() && network("base-sepolia").is_ok());
        assert!(network("Sepolia").is_err() && network("-x").is_err() && network("").is_err());
        assert!(chain_id(Chain::Evm, None).is_err() && chain_id(Chain::Ton, Some(1)).is_err());
        assert!(endpoint_url("https://rpc.example/v1").is_ok());
        for u in ["ftp://x/", "https://u:p@x/", "https://x/?key=1", "https://x/#f", "file:///etc/passwd"] {
            assert_eq!(
                endpoint_url(u).map(|_| ()).map_err(|e| e.code),
                Err(ErrorCode::WalletInvalidUrl),
                "{u}"
            );
        }
    }
}
