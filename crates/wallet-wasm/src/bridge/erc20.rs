//! ERC-20 reads for the pages (no key): the `eth_call` data of `balanceOf`, `symbol`,
//! `decimals` and the `transfer` data for a gas estimate, and the contract's replies decoded
//! strictly by the wallet crate ([`blindvault_wallet::evm::erc20`]). The page sends the data
//! through the gateway (`eth_call [{to: token, data}, "latest"]`) and hands the `result` back.

use blindvault_wallet::evm::{self, erc20};
use serde::Deserialize;

use super::evm::wei;
use super::{Code, Failure, Num, from_hex, hex0x, request};

/// Which call to encode.
#[derive(Debug, Deserialize)]
#[serde(tag = "call", rename_all = "camelCase", deny_unknown_fields)]
pub enum CallRequest {
    /// `balanceOf(owner)`.
    BalanceOf {
        /// The holder.
        owner: String,
    },
    /// `symbol()`.
    Symbol,
    /// `decimals()`.
    Decimals,
    /// `transfer(to, amount)`: for `eth_estimateGas` only (the payload to sign is built by
    /// `evmBuildSend`).
    Transfer {
        /// Recipient.
        to: String,
        /// Amount in the token's base units.
        amount: Num,
    },
}

/// The call data (`0x` hex) of `json`'s call.
pub fn encode(json: &str) -> Result<String, Failure> {
    let data = match request::<CallRequest>("the ERC-20 call", json)? {
        CallRequest::BalanceOf { owner } => erc20::balance_of_call(evm::parse_address(&owner)?),
        CallRequest::Symbol => erc20::symbol_call(),
        CallRequest::Decimals => erc20::decimals_call(),
        CallRequest::Transfer { to, amount } => {
            erc20::transfer_call(evm::parse_address(&to)?, wei(&amount, "amount")?)
        }
    };
    Ok(hex0x(&data))
}

/// A contract's reply to `call` (`balanceOf`, `symbol` or `decimals`; `result` is the
/// `eth_call` result, `0x` hex), decoded: the balance as a decimal string, the decimals as a
/// number, the symbol as text. A reply that is not exactly what ERC-20 specifies is refused
/// (`transaction`), e.g. `0x` from an address without a token contract.
pub fn decode(call: &str, result: &str) -> Result<serde_json::Value, Failure> {
    let ret = from_hex("the contract's reply", result)?;
    Ok(match call {
        "balanceOf" => serde_json::Value::String(erc20::decode_balance(&ret)?.to_string()),
        "decimals" => serde_json::Value::from(erc20::decode_decimals(&ret)?),
        "symbol" => serde_json::Value::String(erc20::decode_symbol(&ret)?),
        _ => return Err(Failure::new(Code::BadRequest, "call must be balanceOf, symbol or decimals")),
    })
}
