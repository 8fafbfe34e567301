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
