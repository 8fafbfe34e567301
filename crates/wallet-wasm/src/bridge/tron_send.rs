//! TRON sends reviewed before they are signed (the Send screen): the wallet builds the
//! `Transaction.raw` protobuf itself (TRX `TransferContract` or a TRC-20 `transfer` through
//! `TriggerSmartContract`) from the node's latest block, decodes it
//! ([`blindvault_wallet::tron::decode_raw_data`]) for the confirmation screen, and signs only bytes
//! that still decode to the approved summary ([`blindvault_wallet::tron::TronSigner::sign`]).

use alloy_primitives::U256;
use blindvault_wallet::display::Asset;
use blindvault_wallet::tron::{self, RefBlock, Trc20Transfer, TronTxSummary, TrxTransfer};
use serde::{Deserialize, Serialize};

use super::{Code, Failure, Num, from_hex, request, sign};

/// How long a transaction stays valid after its reference block's time: 10 minutes (the node
/// refuses it after that; TRON allows up to 24 hours).
pub const VALID_FOR_MS: i64 = 10 * 60 * 1000;

/// A TRC-20 token as the page knows it (the admin's list).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Token {
    /// The contract (base58check).
    pub contract: String,
    /// Its symbol.
    pub symbol: String,
    /// Its decimals.
    pub decimals: u8,
}

/// A send to build (no key). The page fills it from the form, the token list and the node.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SendRequest {
    /// The sender: this wallet's address (base58check).
    pub from: String,
    /// The recipient (base58check).
    pub to: String,
    /// Amount in base units (sun, or the token's).
    pub amount: Num,
    /// TRC-20 only: the token.
    #[serde(default)]
    pub token: Option<Token>,
    /// TRC-20 only: the most TRX (in sun) the call's energy may burn.
    #[serde(default)]
    pub fee_limit_sun: Option<Num>,
    /// The latest block as `/wallet/getnowblock` returns it (`blockID`, `block_header.raw_data`'s
    /// `number` and `timestamp`): the reference block, and the transaction's timestamp.
    pub block: serde_json::Value,
}

/// A built send: the unsigned `raw_data` and its decoding.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BuiltSend {
    /// `Transaction.raw` protobuf bytes, hex: what will be signed (its SHA-256, the txid).
    pub raw_data: String,
    /// TRC-20 only: the ABI-encoded `transfer(address,uint256)` arguments (hex, no selector), for
    /// the node's energy estimate (`/wallet/triggerconstantcontract`'s `parameter`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
    /// The decoding: what the confirmation screen shows and the person approves.
    pub summary: TronTxSummary,
}

/// Builds the unsigned `raw_data` of a TRX or TRC-20 send and decodes it. Takes no key.
pub fn build_send(json: &str) -> Result<BuiltSend, Failure> {
    let r: SendRequest = request("the send", json)?;
    let block = RefBlock::from_block_json(&r.block)?;
    let expiration_ms = block
        .block_timestamp_ms
        .checked_add(VALID_FOR_MS)
        .ok_or_else(|| Failure::new(Code::BadAmount, "the block's timestamp is out of range"))?;
    match r.token {
        None => {
            if r.fee_limit_sun.is_some() {
                return Err(Failure::new(Code::BadRequest, "a TRX transfer takes no fee limit"));
            }
            let amount = i64::try_from(r.amount.u64("amount")?)
                .map_err(|_| Failure::new(Code::BadAmount, "amount is above 2^63 - 1 sun"))?;
            let t = TrxTransfer {
                from: r.from,
                to: r.to,
                amount_sun: amount,
                ref_block_bytes: block.ref_block_bytes,
                ref_block_hash: block.ref_block_hash,
                expiration_ms,
                timestamp_ms: block.block_timestamp_ms,
            };
            let raw = t.raw_data()?;
            let summary = tron::decode_raw_data(&raw, None)?;
            Ok(BuiltSend { raw_data: hex::encode(raw), parameter: None, summary })
        }
        Some(token) => {
            if token.symbol.is_empty() || token.symbol.len() > 16 {
                return Err(Failure::new(Code::BadRequest, "the symbol must be 1 to 16 characters"));
            }
            let fee_limit = r
                .fee_limit_sun
                .ok_or_else(|| Failure::new(Code::BadRequest, "a TRC-20 transfer needs a fee limit"))?;
            let fee_limit_sun = i64::try_from(fee_limit.u64("feeLimitSun")?)
                .map_err(|_| Failure::new(Code::BadAmount, "feeLimitSun is above 2^63 - 1"))?;
            let amount = U256::from(r.amount.u128("amount")?);
            let to = tron::decode_address(&r.to)?;
            let t = Trc20Transfer {
                from: r.from,
                token: token.contract,
                to: r.to,
                amount,
                fee_limit_sun,
                ref_block_bytes: block.ref_block_bytes,
                ref_block_hash: block.ref_block_hash,
                expiration_ms,
                timestamp_ms: block.block_timestamp_ms,
            };
            let raw = t.raw_data()?;
            let summary = tron::decode_raw_data(&raw, Some(&Asset::new(token.symbol, token.decimals)))?;
            // address (20 bytes, left-padded to 32) ‖ amount (uint256, big-endian).
            let mut parameter = [0u8; 64];
            for (dst, src) in parameter.iter_mut().skip(12).zip(to.iter().skip(1)) {
                *dst = *src;
            }
            for (dst, src) in parameter.iter_mut().skip(32).zip(amount.to_be_bytes::<32>()) {
                *dst = src;
            }
            Ok(BuiltSend { raw_data: hex::encode(raw), parameter: Some(hex::encode(parameter)), summary })
        }
    }
}

/// Signs `raw_data` the person approved.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReviewedRequest {
    /// Account index (`m/44'/195'/0'/0/account`), default 0.
    #[serde(default)]
    pub account: u32,
    /// The unsigned `raw_data` (hex), as [`build_send`] gave it.
    pub raw_data: String,
    /// The approved summary.
    pub summary: TronTxSummary,
}

/// A signed transaction.
#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SignedTx {
    /// txID = SHA-256(raw_data), hex.
    pub txid: String,
    /// r ‖ s ‖ v (v = 27/28), hex.
    pub signature: String,
    /// The body of `/wallet/broadcasttransaction`: `{txID, raw_data_hex, signature: [hex]}`.
    pub transaction: serde_json::Value,
}

/// Signs the `raw_data` only if it still decodes to exactly the approved summary, with this
/// account as its sender (else `review_mismatch` / `transaction`).
pub fn sign_reviewed(prf: &mut [u8], json: &str) -> Result<SignedTx, Failure> {
    sign(
        prf,
        json,
        |r: ReviewedRequest| Ok((r.account, from_hex("rawData", &r.raw_data)?, r.summary)),
        |w, (account, raw, summary)| {
            let signed = w.tron_signer(account)?.sign(&raw, &summary)?;
            Ok(SignedTx {
                txid: hex::encode(signed.txid),
                signature: hex::encode(signed.signature),
                transaction: signed.to_json(),
            })
        },
    )
}
