//! What a confirmation screen shows, shared by the chains: amounts in base units with their
//! symbol and decimals (exact integer arithmetic, never floats), and a signed message shown as
//! text or, when it is not UTF-8, as hex.

use alloy_primitives::U256;

use crate::error::{Error, Result};

/// A token or coin as the page knows it: its symbol and how many decimals its base unit has
/// (ETH 18, TRX 6, TON 9, USDT on TRON 6). For a token the page reads both from the contract.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Asset {
    /// Ticker shown beside the amount, e.g. `ETH`, `USDT`.
    pub symbol: String,
    /// Decimals of the base unit (an amount of `raw` base units is `raw / 10^decimals`).
    pub decimals: u8,
}

impl Asset {
    /// An asset from a symbol and decimals.
    pub fn new(symbol: impl Into<String>, decimals: u8) -> Self {
        Self { symbol: symbol.into(), decimals }
    }
}

/// An amount as a confirmation screen shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Amount {
    /// The integer amount in base units (wei, sun, nanotons, token units), in decimal.
    pub raw: String,
    /// The symbol.
    pub symbol: String,
    /// The decimals.
    pub decimals: u8,
    /// `raw / 10^decimals` written exactly, without trailing zeros (`1.5`, `0.000000000000000001`,
    /// `0`), followed by a space and the symbol.
    pub display: String,
}

impl Amount {
    /// `raw` base units of `asset`.
    pub fn new(raw: U256, asset: &Asset) -> Self {
        let number = format_units(raw, asset.decimals);
        let display = if asset.symbol.is_empty() { number } else { format!("{number} {}", asset.symbol) };
        Self { raw: raw.to_string(), symbol: asset.symbol.clone(), decimals: asset.decimals, display }
    }

    /// The amount in base units.
    pub fn raw_value(&self) -> Result<U256> {
        self.raw.parse::<U256>().map_err(|e| Error::tx("amount", e))
    }
}

/// `raw / 10^decimals` written exactly in decimal, trailing zeros of the fraction removed
/// (`format_units(1500000, 6)` = `1.5`; `format_units(1, 18)` = `0.000000000000000001`).
/// String arithmetic on the integer's digits: exact for every `U256` and every `decimals`.
pub fn format_units(raw: U256, decimals: u8) -> String {
    let digits = raw.to_string();
    let d = usize::from(decimals);
    let (int_part, frac_part) = if digits.len() > d {
        let (i, f) = digits.split_at(digits.len() - d);
        (i.to_owned(), f.to_owned())
    } else {
        ("0".to_owned(), format!("{}{digits}", "0".repeat(d - digits.len())))
    };
    let frac = frac_part.trim_end_matches('0');
    if frac.is_empty() { int_part } else { format!("{int_part}.{frac}") }
}

/// The inverse of [`format_units`] for what a user types in a form: `"1.5"` with 6 decimals is
/// 1 500 000. Refuses a sign, an exponent, more fraction digits than `decimals`, an empty
/// string and a value above `U256::MAX`.
pub fn parse_units(text: &str, decimals: u8) -> Result<U256> {
    let t = text.trim();
    let err = |reason: &str| Error::tx("amount", format!("{t:?}: {reason}"));
    let (int_part, frac_part) = match t.split_once('.') {
        Some((i, f)) => (i, f),
        None => (t, ""),
    };
    if int_part.is_empty() && frac_part.is_empty() {
        return Err(err("no digits"));
    }
    if !int_part.bytes().chain(frac_part.bytes()).all(|b| b.is_ascii_digit()) {
        return Err(err("only digits and one decimal point are allowed"));
    }
    if frac_part.len() > usize::from(decimals) {
        return Err(err("more decimal places than the asset has"));
    }
    let padded = format!("{int_part}{frac_part}{}", "0".repeat(usize::from(decimals) - frac_part.len()));
    let digits = padded.trim_start_matches('0');
    if digits.is_empty() {
        return Ok(U256::ZERO);
    }
    U256::from_str_radix(digits, 10).map_err(|_| err("too large"))
}

/// A message to sign, as the page shows it: the text when the bytes are UTF-8 without control
/// characters other than newline and tab, else hex. `hex` is always there.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MessageView {
    /// The message as text, when it is readable text.
    pub text: Option<String>,
    /// The message's bytes in hex (`0x…`).
    pub hex: String,
    /// Its length in bytes (what the EIP-191 / TIP-191 prefix writes).
    pub length: usize,
}

impl MessageView {
    /// The view of `message`.
    pub fn of(message: &[u8]) -> Self {
        let text = core::str::from_utf8(message)
            .ok()
            .filter(|s| !s.chars().any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r'))
            .map(str::to_owned);
        Self { text, hex: format!("0x{}", hex::encode(message)), length: message.len() }
    }
}
