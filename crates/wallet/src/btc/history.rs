//! The wallet's transaction history from the chain API's per-address lists
//! ([`super::esplora::parse_address_txs`]): each transaction once, what it did to the wallet,
//! newest first.

use std::collections::{BTreeMap, BTreeSet};

use super::esplora::EsploraTx;

/// One transaction as the wallet's history shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HistoryEntry {
    /// The transaction id.
    pub txid: String,
    /// In a block.
    pub confirmed: bool,
    /// The block's height, when confirmed.
    pub block_height: Option<u32>,
    /// The block's time (unix seconds), when confirmed.
    pub block_time: Option<u64>,
    /// Paid to the wallet's scripts.
    pub received_sat: u64,
    /// Spent from the wallet's scripts.
    pub sent_sat: u64,
    /// `received − sent`: positive for an incoming payment, negative for an outgoing one
    /// (including its fee when the wallet paid it).
    pub net_sat: i64,
    /// The fee, shown when the wallet paid it (it spent an input of its own).
    pub fee_sat: Option<u64>,
    /// For an outgoing transaction, the outputs to others: (address or script hex, value).
    pub to_others: Vec<(String, u64)>,
}

/// The history of the wallet whose output scripts (lowercase hex) are `ours`, from the
/// transaction lists of its addresses (in any order, with repeats: a transaction touching two
/// of its addresses is listed under both). Newest first: unconfirmed ones, then by block height
/// descending; ties by txid.
pub fn history(lists: &[Vec<EsploraTx>], ours: &BTreeSet<String>) -> Vec<HistoryEntry> {
    let mut by_id: BTreeMap<&str, &EsploraTx> = BTreeMap::new();
    for tx in lists.iter().flatten() {
        by_id.entry(tx.txid.as_str()).or_insert(tx);
    }
    let mine = |script: &str| ours.contains(&script.to_ascii_lowercase());
    let mut out: Vec<HistoryEntry> = by_id
        .values()
        .map(|tx| {
            let received: u64 = tx.vout.iter().filter(|o| mine(&o.scriptpubkey)).map(|o| o.value).sum();
            let sent: u64 = tx
                .vin
                .iter()
                .filter_map(|i| i.prevout.as_ref())
                .filter(|o| mine(&o.scriptpubkey))
                .map(|o| o.value)
                .sum();
            let to_others = if sent > 0 {
                tx.vout
                    .iter()
                    .filter(|o| !mine(&o.scriptpubkey))
                    .map(|o| {
                        (o.scriptpubkey_address.clone().unwrap_or_else(|| o.scriptpubkey.clone()), o.value)
                    })
                    .collect()
            } else {
                Vec::new()
            };
            HistoryEntry {
                txid: tx.txid.clone(),
                confirmed: tx.status.confirmed,
                block_height: tx.status.block_height,
                block_time: tx.status.block_time,
                received_sat: received,
                sent_sat: sent,
                net_sat: i64::try_from(i128::from(received) - i128::from(sent)).unwrap_or(i64::MIN),
                fee_sat: if sent > 0 { tx.fee } else { None },
                to_others,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        let key = |e: &HistoryEntry| (e.confirmed, core::cmp::Reverse(e.block_height.unwrap_or(0)));
        key(a).cmp(&key(b)).then_with(|| a.txid.cmp(&b.txid))
    });
    out
}
