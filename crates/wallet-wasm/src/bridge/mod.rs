//! Conversions between the JavaScript forms (JSON requests and answers, a PRF output as bytes)
//! and blindvault-wallet. Plain Rust, so it is tested natively; the wasm-bindgen layer in
//! `lib.rs` only turns JavaScript values into JSON text and back, and wipes the stack.
//!
//! Every operation is one function `fn(prf: &mut [u8], request: &str) -> Result<Answer,
//! Failure>` that goes through [`with_wallet`]: the PRF output is read, overwritten with zeros,
//! the wallet is derived, the operation runs, and the wallet (seed, keys) is dropped — zeroized —
//! before the answer is returned. Adding an operation is a request type, an answer type and one
//! such function in the chain's module, plus its one-line wrapper in `lib.rs`.

pub mod bitcoin;
pub mod bitcoin_send;
pub mod erc20;
pub mod evm;
pub mod history;
pub mod keyring;
pub mod message;
pub mod recovery;
pub mod show;
pub mod solana;
pub mod solana_send;
pub mod tokens;
pub mod ton;
pub mod ton_send;
pub mod tron_send;

use blindvault_wallet::{Chain, DerivedAddress, PrfOutput, Wallet, WalletEntropy};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

/// What kind of failure a [`Failure`] is: a stable code the web app switches on (JavaScript's
/// `e.code`). Codes are never renamed or reused; new ones are added at the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Code {
    /// The PRF output is not 32 bytes.
    PrfLength,
    /// The request is not the JSON object the operation takes (a field missing, unknown or of
    /// the wrong type).
    BadRequest,
    /// An address (recipient, mint, …) that does not parse for its chain.
    BadAddress,
    /// An amount, nonce, fee, chain id or index that is not a whole number in range.
    BadAmount,
    /// Bytes in the wrong encoding (hex, base64, base58 blockhash, PSBT).
    BadEncoding,
    /// A derivation path or account index the wallet refuses.
    BadPath,
    /// The chain's rules refuse the transaction or message (zero amount, chain id 0, comment
    /// too long, a PSBT input without its previous transaction, …).
    Transaction,
    /// The PSBT does not match the review the person approved.
    ReviewMismatch,
    /// Any other wallet error (never carries secret material).
    Wallet,
    /// This passkey can open no wallet yet: it is not the origin and has no envelope
    /// ([`keyring`]).
    NoWallet,
    /// This passkey's wallet envelope does not open (or is not one): never a fallback to another
    /// wallet ([`keyring`]).
    Envelope,
    /// No key selection for this operation (none made, a refused one, or one another operation
    /// already took): no wallet is opened, never the PRF output's own by default ([`keyring`]).
    NoSelection,
}

impl Code {
    /// Every code, in declaration order.
    pub const ALL: &[Code] = &[
        Code::PrfLength,
        Code::BadRequest,
        Code::BadAddress,
        Code::BadAmount,
        Code::BadEncoding,
        Code::BadPath,
        Code::Transaction,
        Code::ReviewMismatch,
        Code::Wallet,
        Code::NoWallet,
        Code::Envelope,
        Code::NoSelection,
    ];

    /// The stable wire form.
    pub const fn as_str(self) -> &'static str {
        match self {
            Code::PrfLength => "prf_length",
            Code::BadRequest => "bad_request",
            Code::BadAddress => "bad_address",
            Code::BadAmount => "bad_amount",
            Code::BadEncoding => "bad_encoding",
            Code::BadPath => "bad_path",
            Code::Transaction => "transaction",
            Code::ReviewMismatch => "review_mismatch",
            Code::Wallet => "wallet",
            Code::NoWallet => "no_wallet",
            Code::Envelope => "envelope",
            Code::NoSelection => "no_selection",
        }
    }
}

/// A failure shown to the person: a [`Code`] and a sentence that says what is wrong. Carries
/// no secret: the wallet's errors never do, and requests hold none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    code: Code,
    message: String,
}

impl Failure {
    /// A failure of `code`.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Failure { code, message: message.into() }
    }
    /// What kind of failure.
    pub fn code(&self) -> Code {
        self.code
    }
    /// The sentence for the person.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl core::fmt::Display for Failure {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl From<blindvault_wallet::Error> for Failure {
    fn from(e: blindvault_wallet::Error) -> Self {
        use blindvault_wallet::Error as E;
        let code = match &e {
            E::Address { .. } => Code::BadAddress,
            E::Path { .. } => Code::BadPath,
            E::Transaction { .. } | E::ValidUntil { .. } => Code::Transaction,
            E::ReviewMismatch => Code::ReviewMismatch,
            _ => Code::Wallet,
        };
        Failure::new(code, e.to_string())
    }
}

/// Runs `op` on the wallet of a 32-byte PRF output. The caller's bytes are overwritten with
/// zeros first, whatever happens next; the wallet (its seed, and every key `op` derives from
/// it) is dropped, and so zeroized, before this returns.
pub fn with_wallet<T>(prf: &mut [u8], op: impl FnOnce(&Wallet) -> Result<T, Failure>) -> Result<T, Failure> {
    sign(prf, "", |()| Ok(()), |w, ()| op(w))
}

/// One signing operation: takes the PRF output (overwritten with zeros at once, whatever
/// happens next) and the key selection ([`keyring`]: which wallet this passkey opens — its own
/// as the origin, or the one in its envelope; taken now, so it serves this operation only),
/// checks and converts the request with `prepare` (before any key is derived, so a bad request
/// costs nothing), then derives the wallet and runs `op` on it. The wallet is dropped
/// (zeroized) before this returns. `json` is parsed into `R` unless `R` is `()`.
pub fn sign<R: DeserializeOwned, P, T>(
    prf: &mut [u8],
    json: &str,
    prepare: impl FnOnce(R) -> Result<P, Failure>,
    op: impl FnOnce(&Wallet, P) -> Result<T, Failure>,
) -> Result<T, Failure> {
    let selection = keyring::take();
    let prf_output = PrfOutput::from_slice(prf);
    prf.zeroize();
    let prf_output =
        prf_output.map_err(|_| Failure::new(Code::PrfLength, "the passkey's PRF output must be 32 bytes"))?;
    let parsed: R = if json.is_empty() { request("the", "null")? } else { request("the", json)? };
    let prepared = prepare(parsed)?;
    let out = keyring::open_entropy(&prf_output, selection, |entropy| {
        let wallet = Wallet::from_entropy(entropy);
        let out = op(&wallet, prepared);
        drop(wallet);
        out
    });
    drop(prf_output);
    out
}

/// Runs `op` on the wallet entropy of a 32-byte PRF output (the caller's bytes are zeroed at
/// once, whatever happens next); the entropy is zeroized before this returns. Only the recovery
/// phrase needs the entropy itself; everything else goes through [`sign`] or [`with_wallet`].
pub fn with_entropy<T>(
    prf: &mut [u8],
    op: impl FnOnce(&WalletEntropy) -> Result<T, Failure>,
) -> Result<T, Failure> {
    let selection = keyring::take();
    let prf_output = PrfOutput::from_slice(prf);
    prf.zeroize();
    let prf_output =
        prf_output.map_err(|_| Failure::new(Code::PrfLength, "the passkey's PRF output must be 32 bytes"))?;
    keyring::open_entropy(&prf_output, selection, op)
}

/// Parses a request (JSON text of the operation's request object).
pub fn request<T: DeserializeOwned>(what: &str, json: &str) -> Result<T, Failure> {
    serde_json::from_str(json).map_err(|e| Failure::new(Code::BadRequest, format!("{what} request: {e}")))
}

/// A whole number given as a JSON number or as a decimal string (`"0x…"` hex also accepted):
/// amounts above 2^53 do not survive a JavaScript number, so pass them as strings.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Num {
    /// A JSON number (must be a non-negative integer).
    Int(u64),
    /// A decimal (or `0x` hex) string.
    Text(String),
}

impl Num {
    /// The value as `u128`.
    pub fn u128(&self, what: &str) -> Result<u128, Failure> {
        let bad = || Failure::new(Code::BadAmount, format!("{what} must be a whole number, as digits"));
        match self {
            Num::Int(n) => Ok(u128::from(*n)),
            Num::Text(s) => {
                let t = s.trim();
                match t.strip_prefix("0x") {
                    Some(h) if !h.is_empty() => u128::from_str_radix(h, 16).map_err(|_| bad()),
                    Some(_) => Err(bad()),
                    None if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) => {
                        t.parse::<u128>().map_err(|_| bad())
                    }
                    None => Err(bad()),
                }
            }
        }
    }
    /// The value as `u64`.
    pub fn u64(&self, what: &str) -> Result<u64, Failure> {
        u64::try_from(self.u128(what)?)
            .map_err(|_| Failure::new(Code::BadAmount, format!("{what} is above 2^64 - 1")))
    }
    /// The value as `u32`.
    pub fn u32(&self, what: &str) -> Result<u32, Failure> {
        u32::try_from(self.u128(what)?)
            .map_err(|_| Failure::new(Code::BadAmount, format!("{what} is above 2^32 - 1")))
    }
}

/// Base64 (standard alphabet, padded): how Solana's `sendTransaction` and TON's `sendBoc` take
/// bytes.
pub fn base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Decodes standard base64 (padded or not).
pub fn from_base64(what: &str, s: &str) -> Result<Vec<u8>, Failure> {
    use base64::Engine as _;
    let t = s.trim().trim_end_matches('=');
    base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(t)
        .map_err(|_| Failure::new(Code::BadEncoding, format!("{what} is not base64")))
}

/// `0x`-prefixed lowercase hex.
pub fn hex0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

/// Decodes hex with or without `0x`.
pub fn from_hex(what: &str, s: &str) -> Result<Vec<u8>, Failure> {
    let t = s.trim();
    hex::decode(t.strip_prefix("0x").unwrap_or(t))
        .map_err(|_| Failure::new(Code::BadEncoding, format!("{what} is not hex")))
}

/// The addresses of account `account` on the five chains (EVM, Bitcoin, Solana, TRON, TON) at
/// their default paths, as `blindvault wallet addresses` prints them.
pub fn addresses(prf: &mut [u8], account: u32) -> Result<Vec<DerivedAddress>, Failure> {
    with_wallet(prf, |w| {
        if account == 0 {
            Ok(w.first_addresses()?)
        } else {
            Chain::ALL.iter().map(|&c| w.address(c, account).map_err(Failure::from)).collect()
        }
    })
}

/// Serializes an answer (the wasm layer turns it into a JavaScript object).
pub fn answer<T: Serialize>(value: &T) -> Result<String, Failure> {
    serde_json::to_string(value).map_err(|e| Failure::new(Code::Wallet, format!("answer: {e}")))
}
