//! The Bitcoin errors a person can act on: an unknown purpose in a path, an extended key refused
//! for a watch-only import, a send that cannot be built. No variant carries a private key, and
//! no extended-key error echoes the text it was given (it may be a private key pasted by
//! mistake).

/// What went wrong with a Bitcoin address, extended key or send.
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone)]
#[non_exhaustive]
pub enum BitcoinError {
    /// The path's first level (its BIP-43 purpose) names no address type the wallet knows.
    #[error(
        "the Bitcoin address type follows the path's purpose (its first level), and {purpose} in {path} is none \
         of 44' (P2PKH, 1…), 49' (P2SH-P2WPKH, 3…), 84' (P2WPKH, bc1q…) or 86' (P2TR, bc1p…)"
    )]
    UnknownPurpose {
        /// The path as given.
        path: String,
        /// Its first level as written (e.g. `45'`, or `none` for the path `m`).
        purpose: String,
    },
    /// A private extended key (xprv, yprv, zprv, tprv, uprv, vprv …) was given where an
    /// extended public key belongs. The key is not repeated anywhere.
    #[error(
        "this is a private key ({prefix}…), not an extended public key: it was not stored or shown. Keep it secret; \
         export the account's extended public key (xpub, ypub or zpub) from the other wallet instead"
    )]
    PrivateExtendedKey {
        /// Its four-letter prefix, e.g. `xprv`.
        prefix: &'static str,
    },
    /// The text is not base58check (a character outside the alphabet, or the checksum fails).
    #[error("not a valid extended public key: {reason} (check that it was copied whole)")]
    ExtendedKeyEncoding {
        /// What failed: the checksum, a character, the length.
        reason: String,
    },
    /// The version bytes are none of SLIP-132's single-key Bitcoin ones.
    #[error(
        "unsupported extended key version {version}: expected xpub, ypub, zpub (mainnet) or tpub, upub, vpub \
         (test networks){hint}"
    )]
    ExtendedKeyVersion {
        /// The four version bytes, hex.
        version: String,
        /// A hint, e.g. that Zpub/Ypub are multisig keys.
        hint: &'static str,
    },
    /// The extended key belongs to the other network kind.
    #[error("this {prefix} is a {key_network} key, but the wallet is on {wallet_network}")]
    ExtendedKeyNetwork {
        /// Its prefix.
        prefix: &'static str,
        /// `mainnet` or `a test network`.
        key_network: &'static str,
        /// The wallet's network.
        wallet_network: String,
    },
    /// An address type was asked for that the key's version bytes rule out (a zpub is P2WPKH).
    #[error("a {prefix} is for {fixed} addresses; only an xpub or tpub can be read as another type")]
    ExtendedKeyType {
        /// Its prefix.
        prefix: &'static str,
        /// The address type its version fixes.
        fixed: &'static str,
    },
    /// The extended key's fields are malformed (public key not on the curve, …).
    #[error("not a valid extended public key: {reason}")]
    ExtendedKeyInvalid {
        /// What is wrong.
        reason: String,
    },
    /// The coins are not enough for the amount and the fee.
    #[error(
        "insufficient funds: {needed_sat} sat needed (amount and fee), {available_sat} sat available; \
         {shortfall_sat} sat short"
    )]
    InsufficientFunds {
        /// Amount plus the fee at the requested rate.
        needed_sat: u64,
        /// The sum of the coins.
        available_sat: u64,
        /// `needed − available`.
        shortfall_sat: u64,
    },
    /// The amount to send is below the recipient output's dust limit.
    #[error("{amount_sat} sat is below the dust limit of {dust_limit_sat} sat for this recipient; send more")]
    DustAmount {
        /// The amount asked for (or what would be left to send).
        amount_sat: u64,
        /// The smallest amount the network relays to that output type.
        dust_limit_sat: u64,
    },
    /// The fee rate is outside the range the wallet accepts.
    #[error("fee rate {rate} sat/vB is outside {min}..={max} sat/vB")]
    FeeRate {
        /// The rate asked for.
        rate: u64,
        /// Lowest accepted.
        min: u64,
        /// Highest accepted.
        max: u64,
    },
    /// The recipient's address is valid but for another network.
    #[error("{address} is not a {network} address")]
    WrongNetwork {
        /// The address as given.
        address: String,
        /// The wallet's network.
        network: String,
    },
    /// A chain API reply could not be read or does not agree with itself.
    #[error("chain API reply: {0}")]
    ChainData(String),
}
