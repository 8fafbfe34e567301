//! TRON transactions: the builders (form values → the exact `raw_data` bytes to sign) and the
//! decoder (those bytes → the [`TronTxSummary`] a confirmation screen shows).
//!
//! `Transaction.raw` (java-tron `core/Tron.proto`), fields written in this order:
//!
//! | field | name | wire type | here |
//! |---|---|---|---|
//! | 1 | `ref_block_bytes` | 2 (bytes) | 2 bytes: block number bytes 6..8 |
//! | 4 | `ref_block_hash` | 2 | 8 bytes: block id bytes 8..16 |
//! | 8 | `expiration` | 0 (int64) | ms since the epoch |
//! | 11 | `contract` | 2 (`Transaction.Contract`) | exactly one |
//! | 14 | `timestamp` | 0 (int64) | ms since the epoch |
//! | 18 | `fee_limit` | 0 (int64) | sun; TRC-20 only (absent for TRX) |
//!
//! `Transaction.Contract`: 1 `type` (varint: `TransferContract` = 1, `TriggerSmartContract` =
//! 31), 2 `parameter` (`google.protobuf.Any`: 1 `type_url` string
//! `type.googleapis.com/protocol.<Name>`, 2 `value` bytes). `TransferContract`
//! (`balance_contract.proto`): 1 `owner_address`, 2 `to_address` (21 bytes, 0x41 ‖ 20), 3
//! `amount` (int64 sun). `TriggerSmartContract` (`smart_contract.proto`): 1 `owner_address`,
//! 2 `contract_address`, 4 `data` (`transfer(address,uint256)` calldata, selector `a9059cbb`).
//! Zero values are omitted (proto3). Any other field, wire type or contract is refused.

use alloy_primitives::{Address, U256};
use alloy_sol_types::SolCall;
use bitcoin::hashes::{Hash, sha256};

use super::proto::{self, Fields};
use super::{CHAIN, MAX_EXPIRATION_MS, decode_address, encode_address};
use crate::display::{Amount, Asset};
use crate::error::{Error, Result};
use crate::evm::IERC20;

const TRANSFER_CONTRACT: u64 = 1;
const TRIGGER_SMART_CONTRACT: u64 = 31;
const TRANSFER_URL: &[u8] = b"type.googleapis.com/protocol.TransferContract";
const TRIGGER_URL: &[u8] = b"type.googleapis.com/protocol.TriggerSmartContract";
/// What java-tron adds to a transaction's size per contract when it charges bandwidth
/// (`Constant.MAX_RESULT_SIZE_IN_TX`).
const MAX_RESULT_SIZE_IN_TX: u64 = 64;

/// TRX: symbol and decimals (1 TRX = 1 000 000 sun).
pub fn trx() -> Asset {
    Asset::new("TRX", 6)
}

/// The reference block of a new transaction, from the latest block as TRON's HTTP API returns
/// it (`/wallet/getnowblock` or `/wallet/getblock`): `blockID` and `block_header.raw_data`'s
/// `number` and `timestamp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefBlock {
    /// Bytes 6..8 of the block number (big-endian).
    pub ref_block_bytes: [u8; 2],
    /// Bytes 8..16 of the block id.
    pub ref_block_hash: [u8; 8],
    /// The block's timestamp (ms), a sensible `timestamp` for the transaction.
    pub block_timestamp_ms: i64,
}

impl RefBlock {
    /// Reads a block as the HTTP API returns it. Refuses a `blockID` that is not 32 bytes of
    /// hex or whose first 8 bytes are not the block number (a block id starts with it).
    pub fn from_block_json(block: &serde_json::Value) -> Result<Self> {
        let err = |r: &str| Error::tx(CHAIN, format!("block: {r}"));
        let id_hex = block.get("blockID").and_then(|v| v.as_str()).ok_or_else(|| err("no blockID"))?;
        let id: [u8; 32] = hex::decode(id_hex)
            .ok()
            .and_then(|v| v.try_into().ok())
            .ok_or_else(|| err("blockID is not 32 bytes of hex"))?;
        let field =
            |name: &str| block.pointer(&format!("/block_header/raw_data/{name}")).and_then(|v| v.as_i64());
        let number = field("number").filter(|n| *n > 0).ok_or_else(|| err("no block number"))?;
        let timestamp = field("timestamp").filter(|n| *n > 0).ok_or_else(|| err("no timestamp"))?;
        if id.get(..8) != Some(&number.to_be_bytes()[..]) {
            return Err(err("blockID does not start with the block number"));
        }
        let (ref_block_bytes, ref_block_hash) = super::block_reference(number, &id);
        Ok(Self { ref_block_bytes, ref_block_hash, block_timestamp_ms: timestamp })
    }
}

/// A TRC-20 `transfer(address,uint256)` through `TriggerSmartContract`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trc20Transfer {
    /// Sender (the signer's address), base58check.
    pub from: String,
    /// The token contract, base58check.
    pub token: String,
    /// Recipient, base58check.
    pub to: String,
    /// Amount in the token's base units (positive).
    pub amount: U256,
    /// The most TRX (in sun) the sender lets the energy of this call burn (positive).
    pub fee_limit_sun: i64,
    /// Bytes 6..8 of the reference block number.
    pub ref_block_bytes: [u8; 2],
    /// Bytes 8..16 of the reference block id.
    pub ref_block_hash: [u8; 8],
    /// Expiration (ms): after the timestamp, at most 24 hours after it.
    pub expiration_ms: i64,
    /// Creation time (ms, positive).
    pub timestamp_ms: i64,
}

/// What a transaction does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Call {
    /// TRX transfer.
    Trx { to: [u8; 21], amount_sun: i64 },
    /// TRC-20 transfer.
    Trc20 { token: [u8; 21], to: [u8; 21], amount: U256 },
}

/// Every field of a `raw_data` this crate writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawTx {
    pub(crate) owner: [u8; 21],
    pub(crate) call: Call,
    pub(crate) ref_block_bytes: [u8; 2],
    pub(crate) ref_block_hash: [u8; 8],
    pub(crate) expiration_ms: i64,
    pub(crate) timestamp_ms: i64,
    /// 0 = absent.
    pub(crate) fee_limit_sun: i64,
}

fn check_times(timestamp_ms: i64, expiration_ms: i64) -> Result<()> {
    if timestamp_ms <= 0 {
        return Err(Error::tx(CHAIN, "timestamp must be positive"));
    }
    if expiration_ms <= timestamp_ms {
        return Err(Error::tx(CHAIN, "expiration must be after the timestamp"));
    }
    if expiration_ms - timestamp_ms > MAX_EXPIRATION_MS {
        return Err(Error::tx(CHAIN, "expiration more than 24 hours after the timestamp"));
    }
    Ok(())
}

fn tron_to_evm(a: &[u8; 21]) -> Address {
    Address::from_slice(a.get(1..).unwrap_or_default())
}

fn evm_to_tron(a: Address) -> [u8; 21] {
    let mut out = [super::ADDRESS_PREFIX; 21];
    out[1..].copy_from_slice(a.as_slice());
    out
}

impl RawTx {
    /// Checks what the encoding does not: positive amounts, times, a fee limit exactly for TRC-20.
    fn check(&self) -> Result<()> {
        check_times(self.timestamp_ms, self.expiration_ms)?;
        match &self.call {
            Call::Trx { amount_sun, .. } if *amount_sun <= 0 => {
                Err(Error::tx(CHAIN, "amount must be positive"))
            }
            Call::Trx { .. } if self.fee_limit_sun != 0 => {
                Err(Error::tx(CHAIN, "a TRX transfer carries no fee limit"))
            }
            Call::Trc20 { amount, .. } if amount.is_zero() => {
                Err(Error::tx(CHAIN, "amount must be positive"))
            }
            Call::Trc20 { .. } if self.fee_limit_sun <= 0 => {
                Err(Error::tx(CHAIN, "a TRC-20 transfer needs a positive fee limit"))
            }
            _ => Ok(()),
        }
    }

    /// The protobuf bytes (see the module docs for every field).
    pub(crate) fn encode(&self) -> Result<Vec<u8>> {
        self.check()?;
        let (kind, url, param) = match &self.call {
            Call::Trx { to, amount_sun } => {
                let mut p = Vec::new();
                proto::field_bytes(&mut p, 1, &self.owner);
                proto::field_bytes(&mut p, 2, to);
                proto::field_varint(&mut p, 3, *amount_sun as u64);
                (TRANSFER_CONTRACT, TRANSFER_URL, p)
            }
            Call::Trc20 { token, to, amount } => {
                let data = IERC20::transferCall { to: tron_to_evm(to), amount: *amount }.abi_encode();
                let mut p = Vec::new();
                proto::field_bytes(&mut p, 1, &self.owner);
                proto::field_bytes(&mut p, 2, token);
                proto::field_bytes(&mut p, 4, &data);
                (TRIGGER_SMART_CONTRACT, TRIGGER_URL, p)
            }
        };
        let mut any = Vec::new();
        proto::field_bytes(&mut any, 1, url);
        proto::field_bytes(&mut any, 2, &param);
        let mut contract = Vec::new();
        proto::field_varint(&mut contract, 1, kind);
        proto::field_bytes(&mut contract, 2, &any);
        let mut raw = Vec::new();
        proto::field_bytes(&mut raw, 1, &self.ref_block_bytes);
        proto::field_bytes(&mut raw, 4, &self.ref_block_hash);
        proto::field_varint(&mut raw, 8, self.expiration_ms as u64);
        proto::field_bytes(&mut raw, 11, &contract);
        proto::field_varint(&mut raw, 14, self.timestamp_ms as u64);
        if self.fee_limit_sun != 0 {
            proto::field_varint(&mut raw, 18, self.fee_limit_sun as u64);
        }
        Ok(raw)
    }

    /// Reads bytes this crate could have written, and only those: [`Self::encode`] of the
    /// result must give the same bytes back (no unknown, repeated or out-of-order field, no
    /// non-minimal varint).
    pub(crate) fn decode(raw: &[u8]) -> Result<Self> {
        let r = Fields::parse("Transaction.raw", raw, &[1, 4, 8, 11, 14, 18])?;
        let fixed = |b: &[u8], what: &str| Error::tx(CHAIN, format!("{what} has {} bytes", b.len()));
        let ref_block_bytes: [u8; 2] =
            r.bytes(1)?.try_into().map_err(|_| fixed(r.bytes(1).unwrap_or_default(), "ref_block_bytes"))?;
        let ref_block_hash: [u8; 8] =
            r.bytes(4)?.try_into().map_err(|_| fixed(r.bytes(4).unwrap_or_default(), "ref_block_hash"))?;
        let int = |v: u64, what: &str| {
            i64::try_from(v).map_err(|_| Error::tx(CHAIN, format!("{what} is negative or too large")))
        };
        let c = Fields::parse("Transaction.Contract", r.bytes(11)?, &[1, 2])?;
        let any = Fields::parse("google.protobuf.Any", c.bytes(2)?, &[1, 2])?;
        let address = |b: &[u8], what: &str| -> Result<[u8; 21]> {
            match <[u8; 21]>::try_from(b) {
                Ok(a) if a[0] == super::ADDRESS_PREFIX => Ok(a),
                _ => Err(Error::tx(CHAIN, format!("{what} is not a 21-byte 0x41 address"))),
            }
        };
        let (owner, call) = match (c.varint(1)?, any.bytes(1)?) {
            (TRANSFER_CONTRACT, TRANSFER_URL) => {
                let p = Fields::parse("TransferContract", any.bytes(2)?, &[1, 2, 3])?;
                let call = Call::Trx {
                    to: address(p.bytes(2)?, "to_address")?,
                    amount_sun: int(p.varint(3)?, "amount")?,
                };
                (address(p.bytes(1)?, "owner_address")?, call)
            }
            (TRIGGER_SMART_CONTRACT, TRIGGER_URL) => {
                // call_value (3), call_token_value (5) and token_id (6) are refused: not shown.
                let p = Fields::parse("TriggerSmartContract", any.bytes(2)?, &[1, 2, 4])?;
                let data = p.bytes(4)?;
                let call = IERC20::transferCall::abi_decode_validate(data).map_err(|_| {
                    Error::tx(CHAIN, "the contract call is not a TRC-20 transfer(address,uint256)")
                })?;
                let call = Call::Trc20 {
                    token: address(p.bytes(2)?, "contract_address")?,
                    to: evm_to_tron(call.to),
                    amount: call.amount,
                };
                (address(p.bytes(1)?, "owner_address")?, call)
            }
            (kind, _) => {
                return Err(Error::tx(
                    CHAIN,
                    format!("contract type {kind} (or its type_url) is not supported"),
                ));
            }
        };
        let tx = Self {
            owner,
            call,
            ref_block_bytes,
            ref_block_hash,
            expiration_ms: int(r.varint(8)?, "expiration")?,
            timestamp_ms: int(r.varint(14)?, "timestamp")?,
            fee_limit_sun: int(r.varint(18)?, "fee_limit")?,
        };
        if tx.encode()? != raw {
            return Err(Error::tx(CHAIN, "raw_data is not in the canonical encoding"));
        }
        Ok(tx)
    }
}

impl super::TrxTransfer {
    pub(crate) fn to_raw(&self) -> Result<RawTx> {
        Ok(RawTx {
            owner: decode_address(&self.from)?,
            call: Call::Trx { to: decode_address(&self.to)?, amount_sun: self.amount_sun },
            ref_block_bytes: self.ref_block_bytes,
            ref_block_hash: self.ref_block_hash,
            expiration_ms: self.expiration_ms,
            timestamp_ms: self.timestamp_ms,
            fee_limit_sun: 0,
        })
    }
}

impl Trc20Transfer {
    /// The protobuf bytes of `Transaction.raw`. Refuses a zero amount, a fee limit that is not
    /// positive, and the times [`super::TrxTransfer::raw_data`] refuses.
    pub fn raw_data(&self) -> Result<Vec<u8>> {
        self.to_raw()?.encode()
    }

    pub(crate) fn to_raw(&self) -> Result<RawTx> {
        Ok(RawTx {
            owner: decode_address(&self.from)?,
            call: Call::Trc20 {
                token: decode_address(&self.token)?,
                to: decode_address(&self.to)?,
                amount: self.amount,
            },
            ref_block_bytes: self.ref_block_bytes,
            ref_block_hash: self.ref_block_hash,
            expiration_ms: self.expiration_ms,
            timestamp_ms: self.timestamp_ms,
            fee_limit_sun: self.fee_limit_sun,
        })
    }
}

/// Which kind of transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TronTxKind {
    /// TRX (`TransferContract`).
    Trx,
    /// TRC-20 `transfer` (`TriggerSmartContract`).
    Trc20,
}

/// What a TRON confirmation screen shows, decoded from the `raw_data` bytes alone (plus the
/// token's symbol and decimals, which the page read from the contract).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TronTxSummary {
    /// TRX or TRC-20.
    pub kind: TronTxKind,
    /// Sender (`owner_address`), base58check.
    pub from: String,
    /// Recipient: `to_address`, or the recipient decoded from the TRC-20 call.
    pub to: String,
    /// The TRC-20 contract (`contract_address`); `None` for TRX.
    pub token_contract: Option<String>,
    /// Amount with symbol and decimals (TRX: 6).
    pub amount: Amount,
    /// `fee_limit` in TRX: the most the call's energy may burn (TRC-20 only).
    pub fee_limit: Option<Amount>,
    /// Bandwidth the transaction will use, in bytes: java-tron charges the size of the signed
    /// transaction (`raw_data` and one 65-byte signature) plus 64 per contract. The page turns
    /// it into TRX (free bandwidth, staked bandwidth, or 1 000 sun per byte) and adds its energy
    /// estimate for a TRC-20 call.
    pub bandwidth_bytes: u64,
    /// `ref_block_bytes`, hex (ties the transaction to one chain: a block of it).
    pub ref_block_bytes: String,
    /// `ref_block_hash`, hex.
    pub ref_block_hash: String,
    /// `timestamp`, ms since the epoch.
    pub timestamp_ms: i64,
    /// `expiration`, ms since the epoch: the network drops the transaction after it.
    pub expiration_ms: i64,
    /// txID = SHA-256(raw_data), hex: approving this summary approves exactly these bytes.
    pub txid: String,
}

/// The bandwidth a transaction of `raw_len` bytes with one signature uses (see
/// [`TronTxSummary::bandwidth_bytes`]): `Transaction { 1: raw_data, 2: signature }` + 64.
pub fn bandwidth_bytes(raw_len: usize) -> u64 {
    let tx = 1 + proto::varint_len(raw_len as u64) + raw_len + 1 + 1 + 65;
    tx as u64 + MAX_RESULT_SIZE_IN_TX
}

/// Decodes `raw_data` bytes into what the confirmation screen shows. `token` is the TRC-20's
/// symbol and decimals as the page read them from the contract (required for a TRC-20
/// transfer, ignored for TRX). Refuses anything but the two transfers this crate builds, in
/// their canonical encoding.
pub fn decode_raw_data(raw_data: &[u8], token: Option<&Asset>) -> Result<TronTxSummary> {
    let tx = RawTx::decode(raw_data)?;
    let (kind, to, token_contract, amount) = match &tx.call {
        Call::Trx { to, amount_sun } => {
            (TronTxKind::Trx, to, None, Amount::new(U256::from(*amount_sun as u64), &trx()))
        }
        Call::Trc20 { token: contract, to, amount } => {
            let asset = token.ok_or_else(|| {
                Error::tx(CHAIN, "a TRC-20 transfer needs the token's symbol and decimals to be shown")
            })?;
            (TronTxKind::Trc20, to, Some(encode_tail(contract)), Amount::new(*amount, asset))
        }
    };
    let fee_limit = (tx.fee_limit_sun != 0).then(|| Amount::new(U256::from(tx.fee_limit_sun as u64), &trx()));
    Ok(TronTxSummary {
        kind,
        from: encode_tail(&tx.owner),
        to: encode_tail(to),
        token_contract,
        amount,
        fee_limit,
        bandwidth_bytes: bandwidth_bytes(raw_data.len()),
        ref_block_bytes: hex::encode(tx.ref_block_bytes),
        ref_block_hash: hex::encode(tx.ref_block_hash),
        timestamp_ms: tx.timestamp_ms,
        expiration_ms: tx.expiration_ms,
        txid: hex::encode(sha256::Hash::hash(raw_data).to_byte_array()),
    })
}

fn encode_tail(a: &[u8; 21]) -> String {
    let mut h = [0u8; 20];
    h.copy_from_slice(a.get(1..).unwrap_or_default());
    encode_address(&h)
}
