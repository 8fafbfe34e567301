//! TON history from toncenter's API v2 `GET /getTransactions?address=…&limit=…`
//! (`{"ok": true, "result": [raw.transaction, …]}`, newest first).

use alloy_primitives::U256;
use serde::Deserialize;

use super::{Direction, Entry, Status, newest_first};
use crate::display::{Amount, Asset};
use crate::error::{Error, Result};

const CHAIN: &str = "ton";

#[derive(Deserialize)]
struct Reply {
    ok: bool,
    #[serde(default)]
    result: Option<Vec<RawTx>>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
struct TxId {
    lt: String,
    hash: String,
}

#[derive(Deserialize)]
struct RawTx {
    utime: u64,
    transaction_id: TxId,
    fee: String,
    #[serde(default)]
    in_msg: Option<Msg>,
    #[serde(default)]
    out_msgs: Vec<Msg>,
}

#[derive(Deserialize)]
struct Msg {
    #[serde(default)]
    source: String,
    #[serde(default)]
    destination: String,
    value: String,
    #[serde(default)]
    message: Option<String>,
}

fn nano(what: &str, s: &str) -> Result<u128> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::tx(CHAIN, format!("{what} {s:?} is not a whole number of nanotons")));
    }
    s.parse::<u128>().map_err(|_| Error::tx(CHAIN, format!("{what} {s:?} is out of range")))
}

fn ton(n: u128) -> Amount {
    Amount::new(U256::from(n), &Asset::new("TON", 9))
}

/// A comment as shown: printable text only, at most 200 characters.
fn comment(m: Option<&String>) -> Option<String> {
    let t = m?.trim();
    if t.is_empty() {
        return None;
    }
    let clean: String = t.chars().filter(|c| !c.is_control()).take(200).collect();
    Some(clean)
}

/// The wallet's transactions from toncenter's `getTransactions` reply (its JSON text). An
/// incoming internal message with value is `received` (from its source, with its comment); a
/// transaction started by the wallet's own external message sends its outgoing messages: `sent`,
/// the amount their sum, the recipient the first one's destination, the fee the transaction's
/// `fee`. An external message that sent nothing is `other` (the fee was paid: e.g. a deployment,
/// or a transfer the wallet could not pay). Every listed transaction is in a block (toncenter
/// lists only those). A reply with `ok: false` is an error with toncenter's words.
pub fn history(body: &str) -> Result<Vec<Entry>> {
    let reply: Reply = serde_json::from_str(body)
        .map_err(|e| Error::tx(CHAIN, format!("getTransactions reply is not the expected JSON: {e}")))?;
    if !reply.ok {
        return Err(Error::tx(CHAIN, format!("the node refused: {}", reply.error.unwrap_or_default())));
    }
    let mut out = Vec::new();
    for t in reply.result.unwrap_or_default() {
        nano("lt", &t.transaction_id.lt)?;
        let fee = nano("fee", &t.fee)?;
        let incoming = t.in_msg.as_ref().filter(|m| !m.source.is_empty());
        let received = match incoming {
            Some(m) => nano("message value", &m.value)?,
            None => 0,
        };
        let mut sent = 0u128;
        for m in &t.out_msgs {
            sent = sent
                .checked_add(nano("message value", &m.value)?)
                .ok_or_else(|| Error::tx(CHAIN, "overflow"))?;
        }
        let external = t.in_msg.as_ref().is_none_or(|m| m.source.is_empty());
        let (direction, amount, counterparty, more, note, paid) =
            if let (Some(m), 0) = (incoming.filter(|_| received > 0), sent) {
                (Direction::Received, received, Some(m.source.clone()), 0, comment(m.message.as_ref()), false)
            } else if let (Some(first), true) = (t.out_msgs.first(), sent > 0) {
                let more = t.out_msgs.iter().skip(1).filter(|m| m.destination != first.destination).count();
                (
                    Direction::Sent,
                    sent,
                    Some(first.destination.clone()),
                    more,
                    comment(first.message.as_ref()),
                    external,
                )
            } else {
                (
                    Direction::Other,
                    0,
                    None,
                    0,
                    external.then(|| "No transfer: only the fee was paid.".to_owned()),
                    external,
                )
            };
        out.push(Entry {
            id: t.transaction_id.hash.clone(),
            time: Some(t.utime),
            block: None,
            direction,
            counterparty,
            more_counterparties: u32::try_from(more).unwrap_or(u32::MAX),
            amount: ton(amount),
            fee: paid.then(|| ton(fee)),
            status: Status::Confirmed,
            note,
        });
    }
    newest_first(&mut out);
    Ok(out)
}
