//! Transaction history for the wallet page (no key): the chain API's replies, as the page got
//! them through the gateway, read by the wallet crate ([`blindvault_wallet::history`]) into one
//! list of entries per chain, newest first.

use blindvault_wallet::btc;
use std::collections::BTreeMap;

use blindvault_wallet::history::{self, Entry, solana::KnownMint, tron::KnownToken};
use serde::Deserialize;

use super::{Failure, request};

/// A reply body: its JSON text, or the JSON value itself.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Body {
    /// The text.
    Text(String),
    /// The value (the gateway's `body.json`).
    Json(serde_json::Value),
}

impl Body {
    /// The JSON text.
    pub fn text(&self) -> String {
        match self {
            Body::Text(s) => s.clone(),
            Body::Json(v) => v.to_string(),
        }
    }
}

/// `{network, addresses, bodies}`: the account's addresses (receive and change) and Esplora's
/// `GET /address/:address/txs` reply of each.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BitcoinRequest {
    /// `bitcoin` (mainnet), `testnet`, `testnet4`, `signet` or `regtest`.
    pub network: String,
    /// The wallet's addresses.
    pub addresses: Vec<String>,
    /// The replies.
    pub bodies: Vec<Body>,
}

/// Bitcoin history ([`history::bitcoin::history`]).
pub fn bitcoin(json: &str) -> Result<Vec<Entry>, Failure> {
    let r: BitcoinRequest = request("the Bitcoin history", json)?;
    let bodies: Vec<String> = r.bodies.iter().map(Body::text).collect();
    Ok(history::bitcoin::history(btc::parse_network(&r.network)?, &r.addresses, &bodies)?)
}

/// TON history from toncenter's `getTransactions` reply ([`history::ton::history`]).
pub fn ton(json: &str) -> Result<Vec<Entry>, Failure> {
    let body: Body = request("the TON history", json)?;
    Ok(history::ton::history(&body.text())?)
}

/// `{owner, transactions, trc20, tokens}`: TronGrid's two replies and the tokens the page
/// trusts (`[{contract, symbol, decimals}]`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TronRequest {
    /// The account (`T…`).
    pub owner: String,
    /// `/v1/accounts/:owner/transactions`.
    pub transactions: Body,
    /// `/v1/accounts/:owner/transactions/trc20`.
    pub trc20: Body,
    /// Known tokens.
    #[serde(default)]
    pub tokens: Vec<KnownToken>,
}

/// TRON history ([`history::tron::history`]).
pub fn tron(json: &str) -> Result<Vec<Entry>, Failure> {
    let r: TronRequest = request("the TRON history", json)?;
    Ok(history::tron::history(&r.owner, &r.transactions.text(), &r.trc20.text(), &r.tokens)?)
}

/// `{owner, signatures, transactions, mints}`: `getSignaturesForAddress`'s result, the
/// `getTransaction` result of each signature read (by signature; `null` when the node has
/// none), and the mints whose symbol the page knows (`[{mint, symbol}]`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SolanaRequest {
    /// The wallet (base58).
    pub owner: String,
    /// `getSignaturesForAddress`'s result.
    pub signatures: Body,
    /// `getTransaction`'s result per signature.
    #[serde(default)]
    pub transactions: BTreeMap<String, serde_json::Value>,
    /// Known mints.
    #[serde(default)]
    pub mints: Vec<KnownMint>,
}

/// Solana history ([`history::solana::history`]).
pub fn solana(json: &str) -> Result<Vec<Entry>, Failure> {
    let r: SolanaRequest = request("the Solana history", json)?;
    Ok(history::solana::history(&r.owner, &r.signatures.text(), &r.transactions, &r.mints)?)
}

/// `{owner, contracts, fromBlock, toBlock}`: the `eth_getLogs` filters of the EVM history.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EvmQueryRequest {
    /// The wallet.
    pub owner: String,
    /// The listed tokens' contracts.
    pub contracts: Vec<String>,
    /// First block (a JSON-RPC quantity or number).
    pub from_block: super::Num,
    /// Last block.
    pub to_block: super::Num,
}

/// The two `eth_getLogs` filters (`Transfer` from the owner, `Transfer` to the owner) over the
/// listed contracts and the block range: topic0 = keccak256(`Transfer(address,address,uint256)`),
/// the owner as a 32-byte topic.
pub fn evm_query(json: &str) -> Result<Vec<serde_json::Value>, Failure> {
    let r: EvmQueryRequest = request("the EVM history query", json)?;
    let owner = blindvault_wallet::evm::parse_address(&r.owner)?;
    let contracts = r
        .contracts
        .iter()
        .map(|c| blindvault_wallet::evm::parse_address(c).map(|a| a.to_checksum(None)))
        .collect::<Result<Vec<_>, _>>()?;
    let topic0 = blindvault_wallet::history::evm::transfer_topic().to_string();
    let me = owner.into_word().to_string();
    let (from, to) =
        (format!("0x{:x}", r.from_block.u64("fromBlock")?), format!("0x{:x}", r.to_block.u64("toBlock")?));
    let filter = |topics: serde_json::Value| serde_json::json!({"fromBlock": from, "toBlock": to, "address": contracts, "topics": topics});
    Ok(vec![filter(serde_json::json!([topic0, me])), filter(serde_json::json!([topic0, null, me]))])
}

/// `{owner, logs, sent, tokens, native}`: the `eth_getLogs` results (concatenated), this
/// browser's broadcasts with the node's transaction and receipt, the listed tokens with the
/// symbol and decimals read from their contracts, the native coin.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvmRequest {
    /// The wallet.
    pub owner: String,
    /// Logs.
    #[serde(default)]
    pub logs: Vec<history::evm::Log>,
    /// Broadcasts.
    #[serde(default)]
    pub sent: Vec<history::evm::Broadcast>,
    /// Tokens.
    #[serde(default)]
    pub tokens: Vec<history::evm::ListedToken>,
    /// The native coin.
    pub native: blindvault_wallet::display::Asset,
}

/// EVM history ([`history::evm::history`]).
pub fn evm(json: &str) -> Result<Vec<Entry>, Failure> {
    let r: EvmRequest = request("the EVM history", json)?;
    let owner = blindvault_wallet::evm::parse_address(&r.owner)?;
    Ok(history::evm::history(owner, &r.logs, &r.sent, &r.tokens, &r.native)?)
}
