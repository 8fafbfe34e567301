//! SPL and TRC-20 token reads for the wallet page (no key): the wallet crate reads the node's
//! replies ([`blindvault_wallet::tokens`]); TRC-20 replies are ABI like ERC-20's and decoded by
//! the same strict decoder ([`super::erc20::decode`]).

use serde::{Deserialize, Serialize};

use super::history::Body;
use super::{Failure, request};

/// `{owner, mint, result}`: `result` is `getTokenAccountsByOwner`'s (base64 encoding).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SplBalanceRequest {
    /// The wallet (base58).
    pub owner: String,
    /// The mint (base58).
    pub mint: String,
    /// The node's `result`.
    pub result: Body,
}

/// The decimals of an SPL mint from `getAccountInfo`'s `result` (base64 encoding).
pub fn spl_mint_decimals(json: &str) -> Result<u8, Failure> {
    let body: Body = request("the mint account", json)?;
    Ok(blindvault_wallet::tokens::spl_mint_decimals(&body.text())?)
}

/// The owner's balance of the mint, base units as a decimal string.
pub fn spl_balance(json: &str) -> Result<String, Failure> {
    let r: SplBalanceRequest = request("the SPL balance", json)?;
    Ok(blindvault_wallet::tokens::spl_balance(&r.owner, &r.mint, &r.result.text())?.to_string())
}

/// `{call, owner?}`: `symbol`, `decimals`, or `balanceOf` with `owner` (`T…`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trc20Request {
    /// The call.
    pub call: String,
    /// The holder, for `balanceOf`.
    #[serde(default)]
    pub owner: Option<String>,
}

/// The body fields of `/wallet/triggerconstantcontract` for a TRC-20 read.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Trc20Call {
    /// `symbol()`, `decimals()` or `balanceOf(address)`.
    pub function_selector: &'static str,
    /// The ABI-encoded arguments, hex without `0x` (empty for none).
    pub parameter: String,
}

/// A TRC-20 read's `function_selector` and `parameter`.
pub fn trc20_encode(json: &str) -> Result<Trc20Call, Failure> {
    let r: Trc20Request = request("the TRC-20 call", json)?;
    let (function_selector, parameter) = blindvault_wallet::tokens::trc20_call(&r.call, r.owner.as_deref())?;
    Ok(Trc20Call { function_selector, parameter })
}

/// The node's `constant_result[0]` (hex) for `call`, decoded as ERC-20's reply is.
pub fn trc20_decode(call: &str, result: &str) -> Result<serde_json::Value, Failure> {
    let hex = result.trim().trim_start_matches("0x");
    super::erc20::decode(call, &format!("0x{hex}"))
}
