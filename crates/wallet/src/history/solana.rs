//! Solana history from `getSignaturesForAddress [address, {"limit": n}]` (newest first) and,
//! for each signature, `getTransaction [signature, {"encoding": "jsonParsed",
//! "maxSupportedTransactionVersion": 0}]`: the balance changes the node recorded for this
//! wallet (`meta.preBalances`/`postBalances`, `preTokenBalances`/`postTokenBalances`).

use std::collections::BTreeMap;

use alloy_primitives::U256;
use serde::Deserialize;
use serde_json::Value;

use super::{Direction, Entry, Status, newest_first};
use crate::display::{Amount, Asset};
use crate::error::{Error, Result};
use crate::solana::parse_address;

const CHAIN: &str = "solana";

/// A mint whose symbol the page knows (the admin's list).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct KnownMint {
    /// The mint (base58).
    pub mint: String,
    /// Its symbol.
    pub symbol: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SignatureInfo {
    signature: String,
    #[serde(default)]
    err: Option<Value>,
    #[serde(default)]
    block_time: Option<u64>,
    #[serde(default)]
    confirmation_status: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TokenBalance {
    account_index: usize,
    mint: String,
    #[serde(default)]
    owner: Option<String>,
    ui_token_amount: UiAmount,
}

#[derive(Deserialize)]
struct UiAmount {
    amount: String,
    decimals: u8,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Meta {
    fee: u64,
    pre_balances: Vec<u64>,
    post_balances: Vec<u64>,
    #[serde(default)]
    pre_token_balances: Vec<TokenBalance>,
    #[serde(default)]
    post_token_balances: Vec<TokenBalance>,
}

#[derive(Deserialize)]
struct Key {
    pubkey: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Message {
    account_keys: Vec<Key>,
    #[serde(default)]
    instructions: Vec<Value>,
}

#[derive(Deserialize)]
struct Transaction {
    message: Message,
}

#[derive(Deserialize)]
struct TxResult {
    meta: Meta,
    transaction: Transaction,
}

fn units(s: &str) -> Result<i128> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::tx(CHAIN, format!("token amount {s:?} is not a whole number")));
    }
    s.parse::<i128>().map_err(|_| Error::tx(CHAIN, format!("token amount {s:?} is out of range")))
}

fn short(mint: &str) -> String {
    let head: String = mint.chars().take(4).collect();
    let tail: String = mint.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
    format!("{head}…{tail}")
}

fn amount(abs: u128, asset: &Asset) -> Amount {
    Amount::new(U256::from(abs), asset)
}

/// The transfers the top-level instructions name: (source, destination) as written (system
/// transfers: wallets; token transfers: token accounts).
fn transfers(instructions: &[Value]) -> Vec<(String, String)> {
    instructions
        .iter()
        .filter_map(|ix| {
            let parsed = ix.get("parsed")?;
            let kind = parsed.get("type")?.as_str()?;
            if !matches!(kind, "transfer" | "transferChecked" | "transferWithSeed") {
                return None;
            }
            let info = parsed.get("info")?;
            Some((info.get("source")?.as_str()?.to_owned(), info.get("destination")?.as_str()?.to_owned()))
        })
        .collect()
}

/// One entry from a transaction the node returned.
fn entry(sig: &SignatureInfo, owner: &str, tx: &TxResult, known: &[KnownMint]) -> Result<Entry> {
    let keys: Vec<&str> = tx.transaction.message.account_keys.iter().map(|k| k.pubkey.as_str()).collect();
    let me = keys.iter().position(|k| *k == owner);
    let fee_payer = keys.first().copied() == Some(owner);
    let lamports = |v: &[u64]| me.and_then(|i| v.get(i)).copied().map_or(0, i128::from);
    let mut sol = lamports(&tx.meta.post_balances) - lamports(&tx.meta.pre_balances);
    if fee_payer {
        sol += i128::from(tx.meta.fee);
    }
    // Token balance changes of this owner, per mint (with the decimals the node reports).
    let mut tokens: BTreeMap<&str, (i128, u8)> = BTreeMap::new();
    for (list, sign) in [(&tx.meta.post_token_balances, 1i128), (&tx.meta.pre_token_balances, -1)] {
        for b in list.iter().filter(|b| b.owner.as_deref() == Some(owner)) {
            let e = tokens.entry(b.mint.as_str()).or_insert((0, b.ui_token_amount.decimals));
            e.0 += sign * units(&b.ui_token_amount.amount)?;
        }
    }
    // Token account → its owner, for the other side of a token transfer.
    let owner_of: BTreeMap<&str, &str> = tx
        .meta
        .pre_token_balances
        .iter()
        .chain(&tx.meta.post_token_balances)
        .filter_map(|b| Some((*keys.get(b.account_index)?, b.owner.as_deref()?)))
        .collect();
    let moved = tokens.iter().find(|(_, (d, _))| *d != 0);
    let (delta, asset) = match moved {
        Some((mint, (d, decimals))) => {
            let symbol =
                known.iter().find(|k| k.mint == *mint).map_or_else(|| short(mint), |k| k.symbol.clone());
            (*d, Asset::new(symbol, *decimals))
        }
        None => (sol, Asset::new("SOL", 9)),
    };
    let direction = match delta.signum() {
        1 => Direction::Received,
        -1 => Direction::Sent,
        _ => Direction::Other,
    };
    let whose = |a: &str| owner_of.get(a).map_or_else(|| a.to_owned(), |o| (*o).to_owned());
    let others: Vec<String> = transfers(&tx.transaction.message.instructions)
        .into_iter()
        .filter_map(|(src, dst)| {
            let (from, to) = (whose(&src), whose(&dst));
            match direction {
                Direction::Sent if from == owner && to != owner => Some(to),
                Direction::Received if to == owner && from != owner => Some(from),
                _ => None,
            }
        })
        .collect();
    Ok(Entry {
        id: sig.signature.clone(),
        time: sig.block_time,
        block: None,
        direction,
        counterparty: others.first().cloned(),
        more_counterparties: u32::try_from(others.len().saturating_sub(1)).unwrap_or(u32::MAX),
        amount: amount(delta.unsigned_abs(), &asset),
        fee: fee_payer.then(|| amount(u128::from(tx.meta.fee), &Asset::new("SOL", 9))),
        status: status(sig),
        note: note(sig),
    })
}

fn status(sig: &SignatureInfo) -> Status {
    if sig.err.as_ref().is_some_and(|e| !e.is_null()) {
        Status::Failed
    } else if sig.confirmation_status.as_deref() == Some("processed") {
        Status::Pending
    } else {
        Status::Confirmed
    }
}

fn note(sig: &SignatureInfo) -> Option<String> {
    sig.err.as_ref().filter(|e| !e.is_null()).map(|e| format!("The network refused it: {e}"))
}

/// The history of `owner`: `signatures` is the `result` of `getSignaturesForAddress` (JSON
/// text), `transactions` the `result` of `getTransaction` for each signature the page asked
/// about (`null` when the node has none). Per transaction: when a token balance of `owner`
/// changed, that token (the node's decimals; the symbol of `known`, else the mint shortened);
/// otherwise the SOL change without the fee: `received` when positive, `sent` when negative,
/// `other` when only the fee moved. The other side is read from the top-level transfer
/// instructions (token accounts resolved to their owners). A signature whose transaction was
/// not read is `other`, saying so. `err` is `failed`; `processed` is `pending`.
pub fn history(
    owner: &str,
    signatures: &str,
    transactions: &BTreeMap<String, Value>,
    known: &[KnownMint],
) -> Result<Vec<Entry>> {
    parse_address(owner)?;
    let sigs: Vec<SignatureInfo> = serde_json::from_str(signatures).map_err(|e| {
        Error::tx(CHAIN, format!("getSignaturesForAddress result is not the expected JSON: {e}"))
    })?;
    let mut out = Vec::new();
    for sig in &sigs {
        match transactions.get(&sig.signature).filter(|v| !v.is_null()) {
            Some(v) => {
                let tx: TxResult = serde_json::from_value(v.clone()).map_err(|e| {
                    Error::tx(
                        CHAIN,
                        format!("getTransaction result for {} is not the expected JSON: {e}", sig.signature),
                    )
                })?;
                out.push(entry(sig, owner, &tx, known)?);
            }
            None => out.push(Entry {
                id: sig.signature.clone(),
                time: sig.block_time,
                block: None,
                direction: Direction::Other,
                counterparty: None,
                more_counterparties: 0,
                amount: amount(0, &Asset::new("SOL", 9)),
                fee: None,
                status: status(sig),
                note: note(sig)
                    .or_else(|| Some("Details not read: only the newest transactions are.".to_owned())),
            }),
        }
    }
    newest_first(&mut out);
    Ok(out)
}
