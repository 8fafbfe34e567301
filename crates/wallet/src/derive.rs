//! Hierarchical key derivation: BIP-32 over secp256k1 and SLIP-0010 over ed25519.
//!
//! Hand-written (about 60 lines) on top of libsecp256k1, RustCrypto HMAC-SHA512 and
//! ed25519-dalek, because:
//! - `bitcoin::bip32::Xpriv` is `Copy` and never zeroized, and its `derive_priv` computes the
//!   parent public key and its HASH160 at every level (for the fingerprint), which doubles the
//!   elliptic-curve work of a wallet that only needs the leaf key;
//! - no maintained Rust crate of the Solana/TON ecosystems exposes SLIP-0010 ed25519 on its own.
//!
//! Both are checked against every vector in `shared/vectors/bip32.json` and
//! `slip10_ed25519.json`, and the BIP-32 path against `bitcoin::bip32::Xpriv` in the tests.
//!
//! Public keys (the elliptic-curve work that dominates derivation) come from libsecp256k1 0.6
//! (crate `secp256k1` 0.31), whose multi-comb generator multiplication is about 20% faster than
//! the 0.4 that rust-bitcoin 0.32 bundles; the result is handed to rust-bitcoin's types as an
//! uncompressed point (a cheap on-curve check, no square root). HMAC-SHA512 is RustCrypto's,
//! which uses the CPU's SHA-512-friendly vector instructions where `bitcoin::hashes` does not.

use std::sync::OnceLock;

use bitcoin::bip32::{ChildNumber, DerivationPath};
use bitcoin::secp256k1::{self, PublicKey, Scalar, Secp256k1, SecretKey};
use hmac::{Hmac, Mac};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::error::{Error, Result};

/// The 64-byte BIP-39 seed (or any 16–64 byte BIP-32 seed). Zeroized on drop, redacted in `Debug`.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Seed(pub(crate) Vec<u8>);

impl core::fmt::Debug for Seed {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Seed([REDACTED])")
    }
}

impl Seed {
    /// The seed bytes. Keep the borrow short.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

/// Formats a path with `'` for hardened levels (rust-bitcoin prints `'` too).
pub fn path_string(path: &DerivationPath) -> String {
    use core::fmt::Write as _;
    let mut s = String::with_capacity(2 + 12 * path.len());
    s.push('m');
    for child in path {
        // Writing to a String cannot fail.
        let _ = match child {
            ChildNumber::Hardened { index } => write!(s, "/{index}'"),
            ChildNumber::Normal { index } => write!(s, "/{index}"),
        };
    }
    s
}

/// Parses a derivation path such as `m/44'/60'/0'/0/0` (`'`, `h` or `H` mark hardened indices).
pub fn parse_path(path: &str) -> Result<DerivationPath> {
    let trimmed = path.trim();
    if !(trimmed == "m" || trimmed.starts_with("m/")) {
        return Err(Error::Path { path: path.to_owned(), reason: "must start with \"m/\"" });
    }
    // rust-bitcoin reads `'` and `h`; `H` (as some wallets write it) means the same.
    trimmed.replace('H', "h").parse::<DerivationPath>().map_err(|_| Error::Path {
        path: path.to_owned(),
        reason: "each level must be a number below 2^31, optionally followed by ', h or H",
    })
}

fn hmac_sha512(key: &[u8], parts: &[&[u8]]) -> Zeroizing<[u8; 64]> {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail; the fallback keeps the
    // function total without a panic path.
    let Ok(mut mac) = Hmac::<sha2::Sha512>::new_from_slice(key) else {
        return Zeroizing::new([0u8; 64]);
    };
    for p in parts {
        mac.update(p);
    }
    Zeroizing::new(mac.finalize().into_bytes().into())
}

/// The libsecp256k1 0.6 context used for public keys (creating one is cheap, but once is enough).
fn fast_secp() -> &'static secp256k1_fast::Secp256k1<secp256k1_fast::SignOnly> {
    static CONTEXT: OnceLock<secp256k1_fast::Secp256k1<secp256k1_fast::SignOnly>> = OnceLock::new();
    CONTEXT.get_or_init(secp256k1_fast::Secp256k1::signing_only)
}

/// Splits a 64-byte HMAC output into (IL, IR) as zeroizing arrays.
fn split(i: &[u8; 64]) -> (Zeroizing<[u8; 32]>, Zeroizing<[u8; 32]>) {
    let mut l = Zeroizing::new([0u8; 32]);
    let mut r = Zeroizing::new([0u8; 32]);
    for (k, b) in i.iter().enumerate() {
        if let Some(slot) = l.get_mut(k) {
            *slot = *b;
        } else if let Some(slot) = r.get_mut(k - 32) {
            *slot = *b;
        }
    }
    (l, r)
}

fn check_seed(seed: &[u8]) -> Result<()> {
    if (16..=64).contains(&seed.len()) { Ok(()) } else { Err(Error::SeedLength(seed.len())) }
}

/// A BIP-32 extended private key on secp256k1: key and chain code, zeroized on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Secp256k1Key {
    secret: [u8; 32],
    chain_code: [u8; 32],
}

impl core::fmt::Debug for Secp256k1Key {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Secp256k1Key([REDACTED])")
    }
}

impl Secp256k1Key {
    /// The BIP-32 master key of a seed: HMAC-SHA512("Bitcoin seed", seed).
    pub fn master(seed: &[u8]) -> Result<Self> {
        check_seed(seed)?;
        let i = hmac_sha512(b"Bitcoin seed", &[seed]);
        let (il, ir) = split(&i);
        SecretKey::from_slice(il.as_ref()).map_err(|_| Error::InvalidChildKey)?;
        Ok(Self { secret: *il, chain_code: *ir })
    }

    /// A single imported private key (chain code zero): for signing with a key from elsewhere
    /// (test vectors, a sweep); do not derive children from it.
    pub fn from_private_key(secret: &[u8; 32]) -> Result<Self> {
        SecretKey::from_slice(secret).map_err(|_| Error::InvalidChildKey)?;
        Ok(Self { secret: *secret, chain_code: [0u8; 32] })
    }

    /// CKDpriv along a whole path.
    pub fn derive_path(&self, path: &DerivationPath) -> Result<Self> {
        self.derive_children(path.as_ref())
    }

    /// CKDpriv along a relative path (the levels below this key).
    pub fn derive_children(&self, children: &[ChildNumber]) -> Result<Self> {
        let mut key = self.clone();
        for child in children {
            key = key.child(*child)?;
        }
        Ok(key)
    }

    /// BIP-32 CKDpriv for one index.
    pub fn child(&self, child: ChildNumber) -> Result<Self> {
        let index = u32::from(child).to_be_bytes();
        let i = match child {
            ChildNumber::Hardened { .. } => hmac_sha512(&self.chain_code, &[&[0u8], &self.secret, &index]),
            ChildNumber::Normal { .. } => {
                let public = self.point()?.serialize();
                hmac_sha512(&self.chain_code, &[&public, &index])
            }
        };
        let (il, ir) = split(&i);
        let tweak = Scalar::from_be_bytes(*il).map_err(|_| Error::InvalidChildKey)?;
        let mut parent = self.secret_key()?;
        let child_key = parent.add_tweak(&tweak).map_err(|_| Error::InvalidChildKey);
        parent.non_secure_erase();
        let mut child_key = child_key?;
        let out = Self { secret: child_key.secret_bytes(), chain_code: *ir };
        child_key.non_secure_erase();
        Ok(out)
    }

    /// The libsecp256k1 secret key. The caller should call `non_secure_erase` when done.
    pub(crate) fn secret_key(&self) -> Result<SecretKey> {
        SecretKey::from_slice(&self.secret).map_err(|_| Error::InvalidChildKey)
    }

    /// The 32 secret key bytes. Keep the borrow short.
    pub fn expose_secret(&self) -> &[u8; 32] {
        &self.secret
    }

    /// The chain code (secret too: with an xpub it yields every non-hardened child key).
    pub fn expose_chain_code(&self) -> &[u8; 32] {
        &self.chain_code
    }

    /// The public key.
    pub fn public_key(&self) -> Result<PublicKey> {
        PublicKey::from_slice(&self.public_key_uncompressed()?).map_err(|_| Error::InvalidChildKey)
    }

    /// The public key as SEC 1 uncompressed bytes (`04 ‖ x ‖ y`), without the conversion to
    /// rust-bitcoin's type (what EVM and TRON addresses hash).
    pub fn public_key_uncompressed(&self) -> Result<[u8; 65]> {
        Ok(self.point()?.serialize_uncompressed())
    }

    /// k·G by libsecp256k1 0.6 (constant time in k).
    fn point(&self) -> Result<secp256k1_fast::PublicKey> {
        let mut sk =
            secp256k1_fast::SecretKey::from_byte_array(self.secret).map_err(|_| Error::InvalidChildKey)?;
        let pk = secp256k1_fast::PublicKey::from_secret_key(fast_secp(), &sk);
        sk.non_secure_erase();
        Ok(pk)
    }
}

/// A SLIP-0010 ed25519 extended private key: key and chain code, zeroized on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Ed25519Key {
    secret: [u8; 32],
    chain_code: [u8; 32],
}

impl core::fmt::Debug for Ed25519Key {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Ed25519Key([REDACTED])")
    }
}

impl Ed25519Key {
    /// The SLIP-0010 master key: HMAC-SHA512("ed25519 seed", seed).
    pub fn master(seed: &[u8]) -> Result<Self> {
        check_seed(seed)?;
        let i = hmac_sha512(b"ed25519 seed", &[seed]);
        let (il, ir) = split(&i);
        Ok(Self { secret: *il, chain_code: *ir })
    }

    /// A single imported private key (chain code zero): for signing with a key from elsewhere.
    pub fn from_private_key(secret: &[u8; 32]) -> Self {
        Self { secret: *secret, chain_code: [0u8; 32] }
    }

    /// Derives along a path; SLIP-0010 ed25519 has hardened children only.
    pub fn derive_path(&self, path: &DerivationPath) -> Result<Self> {
        self.derive_children(path.as_ref())
    }

    /// Derives along a relative path (the levels below this key); hardened levels only.
    pub fn derive_children(&self, children: &[ChildNumber]) -> Result<Self> {
        let mut key = self.clone();
        for child in children {
            let ChildNumber::Hardened { .. } = child else {
                return Err(Error::Path {
                    path: DerivationPath::from(children.to_vec()).to_string(),
                    reason: "ed25519 (SLIP-0010) allows hardened levels only (add ')",
                });
            };
            let index = u32::from(*child).to_be_bytes();
            let i = hmac_sha512(&key.chain_code, &[&[0u8], &key.secret, &index]);
            let (il, ir) = split(&i);
            key = Self { secret: *il, chain_code: *ir };
        }
        Ok(key)
    }

    /// The 32-byte private key (ed25519 seed). Keep the borrow short.
    pub fn expose_secret(&self) -> &[u8; 32] {
        &self.secret
    }

    /// The chain code.
    pub fn expose_chain_code(&self) -> &[u8; 32] {
        &self.chain_code
    }

    /// The ed25519-dalek signing key (zeroized on drop).
    pub fn signing_key(&self) -> ed25519_dalek::SigningKey {
        ed25519_dalek::SigningKey::from_bytes(&self.secret)
    }

    /// The raw 32-byte public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.signing_key().verifying_key().to_bytes()
    }
}

/// Re-export for callers that build paths.
pub use bitcoin::bip32::{ChildNumber as Child, DerivationPath as Path};

/// A libsecp256k1 context for signing and derivation.
pub(crate) fn secp() -> Secp256k1<secp256k1::All> {
    Secp256k1::new()
}
