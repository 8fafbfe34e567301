//! EVM history without an indexer. Standard JSON-RPC has no "transactions of an address", so a
//! careful wallet shows what it can prove from a node:
//!
//! - ERC-20 `Transfer` events to or from the address over a bounded range of recent blocks,
//!   for the tokens the page lists (`eth_getLogs {fromBlock, toBlock, address: [tokens], topics:
//!   [Transfer, from?, to?]}`), decoded by alloy's `sol!` event;
//! - the transactions this browser broadcast (their hashes kept in the page's storage), with
//!   `eth_getTransactionByHash` and `eth_getTransactionReceipt`: what they sent and whether the
//!   network executed them.
//!
//! Native coin received, and anything sent from another wallet with the same key, is not seen.

use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_sol_types::{SolCall, SolEvent};
use serde::Deserialize;

use super::{Direction, Entry, Status};
use crate::display::{Amount, Asset};
use crate::error::{Error, Result};
use crate::evm::IERC20;

const CHAIN: &str = "evm";

alloy_sol_types::sol! {
    /// ERC-20's transfer event (topic0 `ddf252ad…`).
    #[derive(Debug)]
    event Transfer(address indexed from, address indexed to, uint256 value);
}

/// topic0 of ERC-20's `Transfer` event: keccak256(`Transfer(address,address,uint256)`).
pub fn transfer_topic() -> B256 {
    Transfer::SIGNATURE_HASH
}

/// A token the page lists, with the symbol and decimals read from its contract.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ListedToken {
    /// The contract.
    pub contract: Address,
    /// `symbol()`.
    pub symbol: String,
    /// `decimals()`.
    pub decimals: u8,
}

/// A log as `eth_getLogs` returns it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Log {
    address: Address,
    topics: Vec<B256>,
    data: Bytes,
    #[serde(default)]
    block_number: Option<U256>,
    transaction_hash: B256,
    #[serde(default)]
    removed: bool,
}

/// A transaction this browser broadcast, with what the node says of it now.
#[derive(Debug, Clone, Deserialize)]
pub struct Broadcast {
    /// Its hash.
    pub hash: B256,
    /// When it was sent (Unix seconds, the page's clock).
    pub time: u64,
    /// `eth_getTransactionByHash`'s result (null when the node does not know it).
    #[serde(default)]
    pub tx: Option<Tx>,
    /// `eth_getTransactionReceipt`'s result (null while pending).
    #[serde(default)]
    pub receipt: Option<Receipt>,
}

/// The fields of a transaction the history reads.
#[derive(Debug, Clone, Deserialize)]
pub struct Tx {
    from: Address,
    #[serde(default)]
    to: Option<Address>,
    value: U256,
    input: Bytes,
}

/// The fields of a receipt the history reads.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Receipt {
    status: U256,
    block_number: U256,
    gas_used: U256,
    effective_gas_price: U256,
}

fn block_of(n: Option<U256>) -> Option<u64> {
    n.and_then(|b| u64::try_from(b).ok())
}

/// The history of `owner` on one network: `logs` the `eth_getLogs` results (any number of
/// queries, concatenated; a log listed twice counts once), `sent` this browser's broadcasts,
/// `tokens` the listed tokens (a log of another contract is ignored), `native` the coin.
/// Newest first: pending broadcasts, then by block number descending.
pub fn history(
    owner: Address,
    logs: &[Log],
    sent: &[Broadcast],
    tokens: &[ListedToken],
    native: &Asset,
) -> Result<Vec<Entry>> {
    let mut out: Vec<(Option<u64>, Entry)> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for log in logs.iter().filter(|l| !l.removed) {
        let Some(token) = tokens.iter().find(|t| t.contract == log.address) else { continue };
        if log.topics.first() != Some(&Transfer::SIGNATURE_HASH) {
            continue;
        }
        let ev = Transfer::decode_raw_log(log.topics.iter().copied(), &log.data).map_err(|e| {
            Error::tx(CHAIN, format!("a Transfer log of {} does not decode: {e}", log.address))
        })?;
        if !seen.insert((log.transaction_hash, ev.from, ev.to, ev.value)) {
            continue;
        }
        let (direction, other) = match (ev.from == owner, ev.to == owner) {
            (true, true) => (Direction::SelfTransfer, ev.to),
            (true, false) => (Direction::Sent, ev.to),
            (false, true) => (Direction::Received, ev.from),
            (false, false) => continue,
        };
        let block = block_of(log.block_number);
        out.push((
            block,
            Entry {
                id: log.transaction_hash.to_string(),
                time: None,
                block,
                direction,
                counterparty: Some(other.to_checksum(None)),
                more_counterparties: 0,
                amount: Amount::new(ev.value, &Asset::new(token.symbol.clone(), token.decimals)),
                fee: None,
                status: Status::Confirmed,
                note: None,
            },
        ));
    }
    for b in sent {
        let receipt = b.receipt.as_ref();
        let status = match receipt.map(|r| r.status) {
            None => Status::Pending,
            Some(s) if s == U256::from(1) => Status::Confirmed,
            Some(_) => Status::Failed,
        };
        let block = receipt.and_then(|r| block_of(Some(r.block_number)));
        let fee = receipt.map(|r| Amount::new(r.gas_used.saturating_mul(r.effective_gas_price), native));
        let note = match status {
            Status::Failed => {
                Some("Failed on the network: the fee was paid, the transfer did not happen.".to_owned())
            }
            _ => None,
        };
        let id = b.hash.to_string();
        // The token transfer of this transaction, when its log is listed: one entry, with the
        // receipt's status and fee.
        if let Some((_, e)) = out.iter_mut().find(|(_, e)| e.id == id) {
            e.fee = fee;
            e.status = status;
            e.time = Some(b.time);
            continue;
        }
        let Some(tx) = b.tx.as_ref().filter(|t| t.from == owner) else {
            out.push((
                block,
                Entry {
                    id,
                    time: Some(b.time),
                    block,
                    direction: Direction::Other,
                    counterparty: None,
                    more_counterparties: 0,
                    amount: Amount::new(U256::ZERO, native),
                    fee,
                    status,
                    note: Some("Sent from this browser; the node does not know it (yet).".to_owned()),
                },
            ));
            continue;
        };
        let token = tx.to.and_then(|to| tokens.iter().find(|t| t.contract == to));
        let (amount, other) = match (token, IERC20::transferCall::abi_decode(&tx.input)) {
            (Some(t), Ok(call)) => {
                (Amount::new(call.amount, &Asset::new(t.symbol.clone(), t.decimals)), Some(call.to))
            }
            _ => (Amount::new(tx.value, native), tx.to),
        };
        let plain = tx.input.is_empty() || token.is_some();
        out.push((
            block,
            Entry {
                id,
                time: Some(b.time),
                block,
                direction: if plain { Direction::Sent } else { Direction::Other },
                counterparty: other.map(|a| a.to_checksum(None)),
                more_counterparties: 0,
                amount,
                fee,
                status,
                note: note.or_else(|| (!plain).then(|| "A contract call.".to_owned())),
            },
        ));
    }
    out.sort_by(|(a, ea), (b, eb)| {
        let key = |blk: &Option<u64>, e: &Entry| {
            (e.status != Status::Pending, core::cmp::Reverse(blk.unwrap_or(u64::MAX)))
        };
        key(a, ea).cmp(&key(b, eb)).then_with(|| ea.id.cmp(&eb.id))
    });
    Ok(out.into_iter().map(|(_, e)| e).collect())
}
