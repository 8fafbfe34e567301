//! Transaction history as the wallet page lists it, one shape for every chain, read from the
//! replies of each chain's public API (no I/O here: the page fetches through the server's
//! gateway and hands the reply bodies in):
//!
//! - Bitcoin: Esplora `GET /address/:address/txs` of the account's addresses
//!   ([`bitcoin::history`], over [`crate::btc::history`]);
//! - EVM: `eth_getLogs` of token `Transfer` events and this browser's broadcasts
//!   ([`evm::history`]);
//! - Solana: `getSignaturesForAddress` and `getTransaction` of each ([`solana::history`]);
//! - TON: toncenter v2 `GET /getTransactions` ([`ton::history`]);
//! - TRON: TronGrid `GET /v1/accounts/:address/transactions` and `…/transactions/trc20`
//!   ([`tron::history`]).
//!
//! Every entry says what it did to this wallet: the direction, the other side when the chain
//! names one, the amount (always positive, base units with symbol and decimals), the fee when
//! this wallet paid it, and whether the network executed it. Lists are newest first.

pub mod bitcoin;
pub mod evm;
pub mod solana;
pub mod ton;
pub mod tron;

use crate::display::Amount;

/// What a transaction did to the wallet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Value left the wallet.
    Sent,
    /// Value came in.
    Received,
    /// From the wallet to itself (only the fee left).
    SelfTransfer,
    /// Neither: a contract call or an account operation moving none of the listed assets.
    Other,
}

/// Whether the network executed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// In a block and executed.
    Confirmed,
    /// Not yet in a block.
    Pending,
    /// In a block, but the network refused what it asked (the fee was paid).
    Failed,
}

/// One line of the history.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Entry {
    /// The transaction id as the chain's explorers write it (Bitcoin and TRON hex, TON the
    /// transaction hash in base64).
    pub id: String,
    /// The block's time (Unix seconds), when known (EVM: the time this browser sent it).
    pub time: Option<u64>,
    /// The block's number, where the chain's reply gives it without a time (EVM).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block: Option<u64>,
    /// What it did to the wallet.
    pub direction: Direction,
    /// The other side: the recipient of a payment sent, the sender of one received (the first
    /// of several; `more_counterparties` says how many others).
    pub counterparty: Option<String>,
    /// How many other counterparties there are beyond `counterparty`.
    pub more_counterparties: u32,
    /// The amount moved (positive; for `sent`, without the fee).
    pub amount: Amount,
    /// The fee, when this wallet paid it.
    pub fee: Option<Amount>,
    /// Executed, pending or failed.
    pub status: Status,
    /// Why it failed, in the chain's words, or a comment the sender attached (TON).
    pub note: Option<String>,
}

/// Sorts newest first: pending ones, then by time descending; ties by id (stable output).
pub(crate) fn newest_first(entries: &mut [Entry]) {
    entries.sort_by(|a, b| {
        let key = |e: &Entry| (e.status != Status::Pending, core::cmp::Reverse(e.time.unwrap_or(0)));
        key(a).cmp(&key(b)).then_with(|| a.id.cmp(&b.id))
    });
}
