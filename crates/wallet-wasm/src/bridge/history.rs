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
