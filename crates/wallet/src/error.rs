//! The wallet's error type. No variant ever carries secret material (no key, seed or word of a
//! mnemonic); inputs that are public (a path, a chain name, an address) may be echoed.

/// Everything that can go wrong in the wallet.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The mnemonic is not a valid BIP-39 English phrase (word count, unknown word or checksum).
    /// The phrase itself is never included.
    #[error("invalid mnemonic: {0}")]
    Mnemonic(String),
    /// A derivation path could not be parsed or is not allowed for the curve.
    #[error("invalid derivation path {path:?}: {reason}")]
    Path {
        /// The path as given.
        path: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The chain name is not one of evm, bitcoin, solana, tron, ton.
    #[error("unknown chain {0:?} (expected evm, bitcoin, solana, tron, ton or all)")]
    UnknownChain(String),
    /// The seed has a length BIP-32 does not allow (16 to 64 bytes).
    #[error("seed must be 16 to 64 bytes, got {0}")]
    SeedLength(usize),
    /// A derived key is invalid (probability below 2^-127; the spec says skip the index).
    #[error("derived key is invalid at this index; use the next index")]
    InvalidChildKey,
    /// An address given as input could not be parsed.
    #[error("invalid {chain} address {address:?}: {reason}")]
    Address {
        /// The chain whose format was expected.
        chain: &'static str,
        /// The address as given.
        address: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A transaction or message could not be built, parsed or signed.
    #[error("{chain} transaction: {reason}")]
    Transaction {
        /// The chain.
        chain: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A PSBT changed between the review the user approved and the signing.
    #[error("the PSBT does not match the reviewed summary; review it again")]
    ReviewMismatch,
    /// Bitcoin: an unknown path purpose, a refused extended key, or a send that cannot be built.
    #[error(transparent)]
    Bitcoin(#[from] crate::btc::error::BitcoinError),
    /// A TON message's `valid_until` is not after the current time, or further ahead of it than
    /// allowed (a signed message can be replayed until it expires).
    #[error("valid_until {valid_until} must be after now ({now}) and at most {max_ahead_secs} s after it")]
    ValidUntil {
        /// The requested expiry (Unix seconds).
        valid_until: u64,
        /// The caller's current time (Unix seconds).
        now: u64,
        /// The furthest ahead allowed, in seconds.
        max_ahead_secs: u64,
    },
}

impl Error {
    pub(crate) fn tx(chain: &'static str, reason: impl core::fmt::Display) -> Self {
        Error::Transaction { chain, reason: reason.to_string() }
    }
    pub(crate) fn address(chain: &'static str, address: &str, reason: impl core::fmt::Display) -> Self {
        Error::Address { chain, address: address.to_owned(), reason: reason.to_string() }
    }
}

/// Result alias.
pub type Result<T, E = Error> = core::result::Result<T, E>;
