//! Bitcoin history from Esplora's `GET /address/:address/txs` of the account's addresses.

use std::collections::BTreeSet;

use alloy_primitives::U256;
use bitcoin::Network;

use super::{Direction, Entry, Status, newest_first};
use crate::btc::esplora::{EsploraTx, parse_address_txs};
use crate::btc::history::history as merge;
use crate::btc::send::parse_address;
use crate::display::{Amount, Asset};
use crate::error::Result;

fn btc(sat: u64) -> Amount {
    Amount::new(U256::from(sat), &Asset::new("BTC", 8))
}

/// The history of the wallet whose addresses on `network` are `addresses` (its receive and
/// change addresses: an outgoing payment's change is recognised only when its address is
/// listed), from `bodies`, the text of `GET /address/:address/txs` of each (any order; a
/// transaction listed under several addresses counts once). Per transaction: `net` = outputs to
/// the wallet − inputs from it; `received` when positive (the other side: the first input's
/// address that is not the wallet's); `sent` when the wallet's inputs paid others (the amount:
/// the outputs to others; the other side: the first of them; the fee apart); `self_transfer`
/// when only the fee left. Unconfirmed first, then by block time.
pub fn history(network: Network, addresses: &[String], bodies: &[String]) -> Result<Vec<Entry>> {
    let mut ours = BTreeSet::new();
    for a in addresses {
        ours.insert(parse_address(a, network)?.script_pubkey().to_hex_string());
    }
    let lists: Vec<Vec<EsploraTx>> = bodies.iter().map(|b| parse_address_txs(b)).collect::<Result<_>>()?;
    let mine = |script: &str| ours.contains(&script.to_ascii_lowercase());
    let mut out = Vec::new();
    for h in merge(&lists, &ours) {
        let Some(tx) = lists.iter().flatten().find(|t| t.txid == h.txid) else { continue };
        let to_others: u64 = h.to_others.iter().map(|(_, v)| *v).sum();
        let (direction, amount, counterparty, more) = if h.net_sat > 0 {
            let from: Vec<String> = tx
                .vin
                .iter()
                .filter_map(|i| i.prevout.as_ref())
                .filter(|o| !mine(&o.scriptpubkey))
                .map(|o| o.scriptpubkey_address.clone().unwrap_or_else(|| o.scriptpubkey.clone()))
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            (
                Direction::Received,
                h.net_sat.unsigned_abs(),
                from.first().cloned(),
                from.len().saturating_sub(1),
            )
        } else if h.sent_sat > 0 && to_others > 0 {
            let first = h.to_others.first().map(|(a, _)| a.clone());
            (Direction::Sent, to_others, first, h.to_others.len().saturating_sub(1))
        } else if h.sent_sat > 0 {
            (Direction::SelfTransfer, 0, None, 0)
        } else {
            (Direction::Other, 0, None, 0)
        };
        out.push(Entry {
            id: h.txid.clone(),
            time: h.block_time,
            block: None,
            direction,
            counterparty,
            more_counterparties: u32::try_from(more).unwrap_or(u32::MAX),
            amount: btc(amount),
            fee: h.fee_sat.map(btc),
            status: if h.confirmed { Status::Confirmed } else { Status::Pending },
            note: None,
        });
    }
    newest_first(&mut out);
    Ok(out)
}
