//! What the wallet pages show that is not a signature: amounts in decimal (the wallet crate's
//! exact formatting, so no page formats an amount with JavaScript numbers) and an address as a
//! QR code (encoded by the `qrcode` crate; the page draws the modules it is given).

use alloy_primitives::U256;
use qrcode::{Color, EcLevel, QrCode};
use serde::Serialize;

use super::{Code, Failure};

/// `raw` base units (decimal digits, or `0x` hex as JSON-RPC writes quantities) as an exact
/// decimal number of `decimals` decimals, trailing zeros dropped: `("1500000", 6)` → `1.5`,
/// `("0xde0b6b3a7640000", 18)` → `1`. No symbol: the page adds it.
pub fn format_units(raw: &str, decimals: u32) -> Result<String, Failure> {
    let decimals = u8::try_from(decimals)
        .ok()
        .filter(|d| *d <= 77)
        .ok_or_else(|| Failure::new(Code::BadAmount, "decimals must be a whole number from 0 to 77"))?;
    let bad = || {
        Failure::new(Code::BadAmount, "the amount must be a whole number of base units (digits, or 0x hex)")
    };
    let t = raw.trim();
    let value = match t.strip_prefix("0x") {
        Some(h) if !h.is_empty() && h.bytes().all(|b| b.is_ascii_hexdigit()) => {
            U256::from_str_radix(h, 16).map_err(|_| bad())?
        }
        None if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) => {
            U256::from_str_radix(t, 10).map_err(|_| bad())?
        }
        _ => return Err(bad()),
    };
    Ok(blindvault_wallet::display::format_units(value, decimals))
}

/// What a person typed (`"0.25"`) in base units of `decimals` decimals, as a decimal string
/// (`display::parse_units`: no sign, no exponent, at most `decimals` fraction digits, at most
/// 2^256 − 1).
pub fn parse_units(text: &str, decimals: u32) -> Result<String, Failure> {
    let decimals = u8::try_from(decimals)
        .ok()
        .filter(|d| *d <= 77)
        .ok_or_else(|| Failure::new(Code::BadAmount, "decimals must be a whole number from 0 to 77"))?;
    blindvault_wallet::display::parse_units(text, decimals)
        .map(|v| v.to_string())
        .map_err(|e| Failure::new(Code::BadAmount, e.to_string()))
}

/// A QR code as the page draws it: `size` modules a side (without the quiet zone, which the
/// page adds: 4 modules) and `path`, an SVG path of the dark modules in module units, one
/// `M x y h n v 1 h -n z` rectangle per horizontal run of dark modules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Qr {
    /// Modules per side.
    pub size: usize,
    /// SVG path data of the dark modules.
    pub path: String,
}

/// The QR code of `text` (an address: public), error correction level M, the smallest version
/// that holds it. At most 256 bytes of text.
pub fn qr(text: &str) -> Result<Qr, Failure> {
    if text.is_empty() || text.len() > 256 {
        return Err(Failure::new(Code::BadRequest, "a QR code holds 1 to 256 bytes of text here"));
    }
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .map_err(|e| Failure::new(Code::BadRequest, format!("QR code: {e}")))?;
    let size = code.width();
    let colors = code.to_colors();
    let mut path = String::new();
    for (y, row) in colors.chunks(size).enumerate() {
        let mut x = 0;
        while x < size {
            if row.get(x) == Some(&Color::Dark) {
                let start = x;
                while row.get(x) == Some(&Color::Dark) {
                    x += 1;
                }
                path.push_str(&format!("M{start} {y}h{}v1h-{}z", x - start, x - start));
            } else {
                x += 1;
            }
        }
    }
    Ok(Qr { size, path })
}
