//! TRON history from TronGrid's account API: `GET /v1/accounts/:address/transactions` (TRX
//! transfers and every other transaction of the account, addresses in hex `41…`) and
//! `GET /v1/accounts/:address/transactions/trc20` (TRC-20 `Transfer` events, addresses in
//! base58), both `{"data": [...], "success": true, "meta": {...}}`, newest first.

use std::collections::BTreeMap;

use alloy_primitives::U256;
use serde::Deserialize;

use super::{Direction, Entry, Status, newest_first};
use crate::display::{Amount, Asset};
use crate::error::{Error, Result};
use crate::tron::{decode_address, encode_address};

const CHAIN: &str = "tron";

/// A token whose symbol and decimals the page knows from a trusted source (the admin's list,
/// or read from the contract).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct KnownToken {
    /// The contract (`T…`).
    pub contract: String,
    /// Its symbol.
    pub symbol: String,
    /// Its decimals.
    pub decimals: u8,
}

#[derive(Deserialize)]
struct Page<T> {
    #[serde(default)]
    success: Option<bool>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default = "Vec::new")]
    data: Vec<T>,
}

#[derive(Deserialize)]
struct Ret {
    #[serde(rename = "contractRet", default)]
    contract_ret: Option<String>,
    #[serde(default)]
    fee: Option<u64>,
}

#[derive(Deserialize)]
struct Contract {
    #[serde(rename = "type")]
    kind: String,
    parameter: Parameter,
}

#[derive(Deserialize)]
struct Parameter {
    value: serde_json::Value,
}

#[derive(Deserialize)]
struct RawData {
    contract: Vec<Contract>,
}

/// One item of `/transactions`: a transaction, or (with `internal_tx_id`) an internal
/// transaction of a contract, which is not listed (its value moved inside a contract call).
#[derive(Deserialize)]
struct Tx {
    #[serde(rename = "txID", default)]
    tx_id: Option<String>,
    #[serde(default)]
    internal_tx_id: Option<String>,
    #[serde(rename = "blockNumber", default)]
    block_number: Option<u64>,
    #[serde(default)]
    block_timestamp: Option<u64>,
    #[serde(default)]
    ret: Vec<Ret>,
    #[serde(default)]
    raw_data: Option<RawData>,
}

#[derive(Deserialize)]
struct TokenInfo {
    symbol: String,
    address: String,
    decimals: u8,
}

#[derive(Deserialize)]
struct Trc20 {
    transaction_id: String,
    token_info: TokenInfo,
    block_timestamp: u64,
    from: String,
    to: String,
    #[serde(rename = "type")]
    kind: String,
    value: String,
}

fn page<T: serde::de::DeserializeOwned>(what: &str, body: &str) -> Result<Vec<T>> {
    let p: Page<T> = serde_json::from_str(body)
        .map_err(|e| Error::tx(CHAIN, format!("{what} reply is not the expected JSON: {e}")))?;
    if p.success == Some(false) {
        return Err(Error::tx(CHAIN, format!("the node refused {what}: {}", p.error.unwrap_or_default())));
    }
    Ok(p.data)
}

/// A hex address (`41` ‖ 20 bytes) as base58check `T…`.
fn base58(hex_address: &str) -> Result<String> {
    let bytes = hex::decode(hex_address.trim()).map_err(|_| Error::address(CHAIN, hex_address, "not hex"))?;
    match bytes.split_first() {
        Some((&crate::tron::ADDRESS_PREFIX, rest)) if rest.len() == 20 => {
            let mut a = [0u8; 20];
            a.copy_from_slice(rest);
            Ok(encode_address(&a))
        }
        _ => Err(Error::address(CHAIN, hex_address, "not 0x41 and 20 bytes")),
    }
}

fn field<'a>(v: &'a serde_json::Value, name: &str) -> Option<&'a str> {
    v.get(name).and_then(serde_json::Value::as_str)
}

fn whole(what: &str, s: &str) -> Result<U256> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::tx(CHAIN, format!("{what} {s:?} is not a whole number")));
    }
    s.parse::<U256>().map_err(|_| Error::tx(CHAIN, format!("{what} {s:?} is out of range")))
}

fn trx(sun: u64) -> Amount {
    Amount::new(U256::from(sun), &Asset::new("TRX", 6))
}

/// The history of `owner` (`T…`): `transactions` is the text of `/transactions`, `trc20` of
/// `/transactions/trc20`. A `TransferContract` is TRX `sent` or `received` (the other side
/// converted from hex to `T…`); a TRC-20 `Transfer` event is the token's `sent` or `received`;
/// when both lists hold one transaction, the token transfer is shown with the transaction's
/// fee and result. The token's symbol and decimals are those of `known` (the page's trusted
/// list); a token not in it is shown with the indexer's symbol and decimals and a note saying
/// so (anyone can deploy a token named `USDT`). Any other contract type is `other` with its
/// type name. The fee (`ret[0].fee`, sun) is shown when `owner` signed; `contractRet` other
/// than `SUCCESS` is `failed` with it as the note; no block number is `pending`.
pub fn history(owner: &str, transactions: &str, trc20: &str, known: &[KnownToken]) -> Result<Vec<Entry>> {
    decode_address(owner)?;
    let txs: Vec<Tx> = page("transactions", transactions)?;
    let events: Vec<Trc20> = page("TRC-20 transfers", trc20)?;
    let mut by_id: BTreeMap<String, Entry> = BTreeMap::new();
    for t in txs {
        let (Some(id), None, Some(raw)) = (t.tx_id, t.internal_tx_id, t.raw_data) else { continue };
        let Some(c) = raw.contract.first() else { continue };
        let v = &c.parameter.value;
        let signer = field(v, "owner_address").map(base58).transpose()?;
        let ours = signer.as_deref() == Some(owner);
        let ret = t.ret.first();
        let status = match (ret.and_then(|r| r.contract_ret.as_deref()), t.block_number) {
            (_, None) => Status::Pending,
            (Some("SUCCESS") | None, Some(_)) => Status::Confirmed,
            (Some(_), Some(_)) => Status::Failed,
        };
        let note = match ret.and_then(|r| r.contract_ret.as_deref()) {
            Some(r) if r != "SUCCESS" => Some(r.to_owned()),
            _ => None,
        };
        let (direction, amount, counterparty) = if c.kind == "TransferContract" {
            let to = field(v, "to_address").map(base58).transpose()?;
            let sun = v.get("amount").and_then(serde_json::Value::as_u64).unwrap_or(0);
            match (ours, to.as_deref() == Some(owner)) {
                (true, true) => (Direction::SelfTransfer, sun, to),
                (true, false) => (Direction::Sent, sun, to),
                (false, _) => (Direction::Received, sun, signer.clone()),
            }
        } else {
            (Direction::Other, 0, None)
        };
        let note = note.or_else(|| (direction == Direction::Other).then(|| c.kind.clone()));
        by_id.insert(
            id.clone(),
            Entry {
                id,
                time: t.block_timestamp.map(|ms| ms / 1000),
                block: None,
                direction,
                counterparty,
                more_counterparties: 0,
                amount: trx(amount),
                fee: if ours { ret.and_then(|r| r.fee).map(trx) } else { None },
                status,
                note,
            },
        );
    }
    for e in events {
        if e.kind != "Transfer" {
            continue;
        }
        let value = whole("TRC-20 value", &e.value)?;
        let known_token = known.iter().find(|k| k.contract == e.token_info.address);
        let (asset, unlisted) = match known_token {
            Some(k) => (Asset::new(k.symbol.clone(), k.decimals), None),
            None => (
                Asset::new(
                    e.token_info.symbol.chars().filter(|c| !c.is_control()).take(32).collect::<String>(),
                    e.token_info.decimals,
                ),
                Some(format!(
                    "Not a listed token: symbol and decimals as the indexer reports them (contract {}).",
                    e.token_info.address
                )),
            ),
        };
        let (direction, counterparty) = match (e.from == owner, e.to == owner) {
            (true, true) => (Direction::SelfTransfer, e.to.clone()),
            (true, false) => (Direction::Sent, e.to.clone()),
            (false, _) => (Direction::Received, e.from.clone()),
        };
        let base = by_id.remove(&e.transaction_id);
        let entry = Entry {
            id: e.transaction_id.clone(),
            time: Some(e.block_timestamp / 1000),
            block: None,
            direction,
            counterparty: Some(counterparty),
            more_counterparties: 0,
            amount: Amount::new(value, &asset),
            fee: base.as_ref().and_then(|b| b.fee.clone()),
            status: base.as_ref().map_or(Status::Confirmed, |b| b.status),
            note: base.and_then(|b| b.note.filter(|_| b.status == Status::Failed)).or(unlisted),
        };
        by_id.insert(e.transaction_id, entry);
    }
    let mut out: Vec<Entry> = by_id.into_values().collect();
    newest_first(&mut out);
    Ok(out)
}
