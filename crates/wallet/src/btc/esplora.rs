//! Replies of an Esplora chain API (the REST API of Blockstream's electrs and mempool.space), as
//! typed values with no I/O: the caller (the CLI, or the browser through the server's gateway)
//! fetches, and hands the reply bodies in as text.
//!
//! - `GET /address/:address/utxo` → a JSON array of
//!   `{"txid": hex, "vout": n, "value": sat, "status": {"confirmed": bool, "block_height"?: n,
//!   "block_hash"?: hex, "block_time"?: unix seconds}}` ([`parse_address_utxos`]);
//! - `GET /tx/:txid/hex` → the transaction's consensus serialization in hex ([`parse_tx_hex`]);
//! - `POST /tx` takes the signed transaction's hex and answers its txid.

use core::str::FromStr;

use bitcoin::{OutPoint, Transaction, Txid};

use super::error::BitcoinError;
use crate::error::Result;

/// Confirmation status of an output, as Esplora reports it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct EsploraStatus {
    /// In a block.
    pub confirmed: bool,
    /// The block's height, when confirmed.
    #[serde(default)]
    pub block_height: Option<u32>,
    /// The block's hash, when confirmed.
    #[serde(default)]
    pub block_hash: Option<String>,
    /// The block's time (unix seconds), when confirmed.
    #[serde(default)]
    pub block_time: Option<u64>,
}

/// One unspent output of an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EsploraUtxo {
    /// The output's place.
    pub outpoint: OutPoint,
    /// Its value in satoshis.
    pub value_sat: u64,
    /// Its confirmation status.
    pub status: EsploraStatus,
}

#[derive(serde::Deserialize)]
struct RawUtxo {
    txid: String,
    vout: u32,
    value: u64,
    status: EsploraStatus,
}

/// Parses the body of `GET /address/:address/utxo`. Unknown fields are ignored; a missing field,
/// a txid that is not 32 bytes of hex, or a value above 21 million BTC is an error.
pub fn parse_address_utxos(json: &str) -> Result<Vec<EsploraUtxo>> {
    let raw: Vec<RawUtxo> = serde_json::from_str(json)
        .map_err(|e| BitcoinError::ChainData(format!("address UTXO list is not the expected JSON: {e}")))?;
    raw.into_iter()
        .map(|r| {
            let txid = Txid::from_str(&r.txid).map_err(|_| {
                BitcoinError::ChainData(format!("UTXO txid {:?} is not 32 bytes of hex", r.txid))
            })?;
            if r.value > bitcoin::Amount::MAX_MONEY.to_sat() {
                return Err(BitcoinError::ChainData(format!(
                    "UTXO value {} sat exceeds 21 million BTC",
                    r.value
                ))
                .into());
            }
            Ok(EsploraUtxo {
                outpoint: OutPoint { txid, vout: r.vout },
                value_sat: r.value,
                status: r.status,
            })
        })
        .collect()
}

/// Parses the body of `GET /tx/:txid/hex` (surrounding whitespace allowed): the whole text must
/// be one transaction.
pub fn parse_tx_hex(text: &str) -> Result<Transaction> {
    let bytes = hex::decode(text.trim())
        .map_err(|e| BitcoinError::ChainData(format!("transaction hex is not hex: {e}")))?;
    bitcoin::consensus::deserialize(&bytes)
        .map_err(|e| BitcoinError::ChainData(format!("not a transaction: {e}")).into())
}

/// The body of `GET /fee-estimates`: confirmation target (blocks) → fee rate (sat/vB, a decimal).
#[derive(Debug, Clone, PartialEq)]
pub struct FeeEstimates(pub std::collections::BTreeMap<u16, f64>);

impl FeeEstimates {
    /// The whole sat/vB rate to confirm within `target` blocks: the estimate of the largest
    /// listed target not above it, rounded up (never below 1). `None` when no listed target is
    /// that short.
    pub fn sat_per_vb_within(&self, target: u16) -> Option<u64> {
        let (_, rate) = self.0.range(..=target).next_back()?;
        // Finite and non-negative (checked when parsed), so the cast is exact after ceil.
        Some((rate.ceil() as u64).max(1))
    }
}

/// Parses the body of `GET /fee-estimates` (`{"2": 87.882, "6": 68.285, …}`); a key that is not
/// a block count or a rate that is negative or not finite is an error.
pub fn parse_fee_estimates(json: &str) -> Result<FeeEstimates> {
    let raw: std::collections::BTreeMap<String, f64> = serde_json::from_str(json)
        .map_err(|e| BitcoinError::ChainData(format!("fee estimates are not the expected JSON: {e}")))?;
    let mut out = std::collections::BTreeMap::new();
    for (k, v) in raw {
        let target = k.parse::<u16>().map_err(|_| {
            BitcoinError::ChainData(format!("fee estimate target {k:?} is not a block count"))
        })?;
        if !v.is_finite() || !(0.0..=1e9).contains(&v) {
            return Err(BitcoinError::ChainData(format!(
                "fee estimate {v} for {target} blocks is not a rate"
            ))
            .into());
        }
        out.insert(target, v);
    }
    Ok(FeeEstimates(out))
}

/// An output as Esplora's transaction format shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct EsploraOutput {
    /// The output script, hex.
    pub scriptpubkey: String,
    /// Its address, when it has one.
    #[serde(default)]
    pub scriptpubkey_address: Option<String>,
    /// Its value in satoshis.
    pub value: u64,
}

/// An input as Esplora's transaction format shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct EsploraInput {
    /// The output it spends (`null` for a coinbase input).
    #[serde(default)]
    pub prevout: Option<EsploraOutput>,
    /// A coinbase input.
    #[serde(default)]
    pub is_coinbase: bool,
}

/// A transaction as `GET /address/:address/txs` (and `/tx/:txid`) return it; fields the wallet
/// does not use are ignored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct EsploraTx {
    /// Its id, hex.
    pub txid: String,
    /// Its fee in satoshis.
    #[serde(default)]
    pub fee: Option<u64>,
    /// Its weight in weight units.
    #[serde(default)]
    pub weight: Option<u64>,
    /// Inputs.
    pub vin: Vec<EsploraInput>,
    /// Outputs.
    pub vout: Vec<EsploraOutput>,
    /// Confirmation status.
    pub status: EsploraStatus,
}

/// Parses the body of `GET /address/:address/txs` (newest first: up to 50 unconfirmed, then 25
/// confirmed; `/txs/chain/:last_seen_txid` pages on). Each txid must be 32 bytes of hex.
pub fn parse_address_txs(json: &str) -> Result<Vec<EsploraTx>> {
    let txs: Vec<EsploraTx> = serde_json::from_str(json).map_err(|e| {
        BitcoinError::ChainData(format!("address transactions are not the expected JSON: {e}"))
    })?;
    for t in &txs {
        Txid::from_str(&t.txid).map_err(|_| {
            BitcoinError::ChainData(format!("transaction id {:?} is not 32 bytes of hex", t.txid))
        })?;
    }
    Ok(txs)
}
