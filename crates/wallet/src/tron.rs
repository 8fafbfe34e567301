//! TRON: base58check addresses (0x41 prefix) and TRX transfers.
//!
//! Hand-written: the protobuf encoding of `Transaction.raw` with one `TransferContract` (about
//! 50 lines, fields from java-tron's `core/Tron.proto` and `core/contract/balance_contract.proto`).
//! The Rust TRON crates are unmaintained or pull a gRPC stack; the encoding is small and checked
//! against a public node response (raw_data_hex → txID) in the tests. Hashing is SHA-256
//! (`bitcoin::hashes`), signing is alloy's k256 signer (RFC 6979), base58check is rust-bitcoin's.

use alloy_primitives::B256;
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use bitcoin::hashes::{Hash, sha256};

use crate::derive::Secp256k1Key;
use crate::error::{Error, Result};

const CHAIN: &str = "tron";
/// The version byte of mainnet TRON addresses.
pub const ADDRESS_PREFIX: u8 = 0x41;
/// The longest a transaction may stay valid after its timestamp: 24 hours, java-tron's
/// `MAXIMUM_TIME_UNTIL_EXPIRATION`.
pub const MAX_EXPIRATION_MS: i64 = 24 * 60 * 60 * 1000;

/// The TRON address of a secp256k1 key: base58check(0x41 ‖ keccak256(pubkey)[12..]).
pub fn address_of(key: &Secp256k1Key) -> Result<String> {
    let evm = crate::evm::address_of(key)?;
    Ok(encode_address(&evm.into_array()))
}

/// base58check(0x41 ‖ 20 bytes).
pub fn encode_address(hash20: &[u8; 20]) -> String {
    let mut payload = Vec::with_capacity(21);
    payload.push(ADDRESS_PREFIX);
    payload.extend_from_slice(hash20);
    bitcoin::base58::encode_check(&payload)
}

/// Decodes a base58check TRON address to its 21 bytes (0x41 ‖ 20 bytes).
pub fn decode_address(s: &str) -> Result<[u8; 21]> {
    let bytes = bitcoin::base58::decode_check(s.trim()).map_err(|e| Error::address(CHAIN, s, e))?;
    let arr: [u8; 21] =
        bytes.try_into().map_err(|_| Error::address(CHAIN, s, "expected 21 bytes after base58check"))?;
    if arr[0] != ADDRESS_PREFIX {
        return Err(Error::address(CHAIN, s, "prefix is not 0x41"));
    }
    Ok(arr)
}

/// The reference-block fields of a transaction from a recent block's number and id (the
/// `blockID` of `/wallet/getnowblock`): (number bytes 6..8, id bytes 8..16).
pub fn block_reference(number: i64, block_id: &[u8; 32]) -> ([u8; 2], [u8; 8]) {
    let n = number.to_be_bytes();
    let mut hash = [0u8; 8];
    for (dst, src) in hash.iter_mut().zip(block_id.iter().skip(8)) {
        *dst = *src;
    }
    ([n[6], n[7]], hash)
}

/// A TRX transfer (`TransferContract`). Reference block and times come from the node
/// (`/wallet/getnowblock`): `ref_block_bytes` = block number bytes 6..8, `ref_block_hash` = block
/// id bytes 8..16.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrxTransfer {
    /// Sender (must be the signer's address), base58check.
    pub from: String,
    /// Recipient, base58check.
    pub to: String,
    /// Amount in sun (1 TRX = 1,000,000 sun).
    pub amount_sun: i64,
    /// Bytes 6..8 of the reference block number (big-endian).
    pub ref_block_bytes: [u8; 2],
    /// Bytes 8..16 of the reference block id.
    pub ref_block_hash: [u8; 8],
    /// Expiration, milliseconds since the Unix epoch: after `timestamp_ms` and at most
    /// [`MAX_EXPIRATION_MS`] (24 h) after it.
    pub expiration_ms: i64,
    /// Creation time, milliseconds since the Unix epoch (positive).
    pub timestamp_ms: i64,
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn field_varint(out: &mut Vec<u8>, field: u32, v: u64) {
    varint(out, u64::from(field << 3));
    varint(out, v);
}

fn field_bytes(out: &mut Vec<u8>, field: u32, bytes: &[u8]) {
    varint(out, u64::from((field << 3) | 2));
    varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

impl TrxTransfer {
    /// The protobuf bytes of `Transaction.raw` (what the node returns as `raw_data_hex`).
    /// Refuses a non-positive amount or timestamp, and an expiration that is not after the
    /// timestamp or is more than 24 hours after it.
    pub fn raw_data(&self) -> Result<Vec<u8>> {
        if self.amount_sun <= 0 {
            return Err(Error::tx(CHAIN, "amount must be positive"));
        }
        if self.timestamp_ms <= 0 {
            return Err(Error::tx(CHAIN, "timestamp must be positive"));
        }
        if self.expiration_ms <= self.timestamp_ms {
            return Err(Error::tx(CHAIN, "expiration must be after the timestamp"));
        }
        if self.expiration_ms - self.timestamp_ms > MAX_EXPIRATION_MS {
            return Err(Error::tx(CHAIN, "expiration more than 24 hours after the timestamp"));
        }
        let owner = decode_address(&self.from)?;
        let to = decode_address(&self.to)?;
        // TransferContract { bytes owner_address = 1; bytes to_address = 2; int64 amount = 3; }
        let mut transfer = Vec::new();
        field_bytes(&mut transfer, 1, &owner);
        field_bytes(&mut transfer, 2, &to);
        field_varint(&mut transfer, 3, self.amount_sun as u64);
        // google.protobuf.Any { string type_url = 1; bytes value = 2; }
        let mut any = Vec::new();
        field_bytes(&mut any, 1, b"type.googleapis.com/protocol.TransferContract");
        field_bytes(&mut any, 2, &transfer);
        // Transaction.Contract { ContractType type = 1 (TransferContract = 1); Any parameter = 2; }
        let mut contract = Vec::new();
        field_varint(&mut contract, 1, 1);
        field_bytes(&mut contract, 2, &any);
        // Transaction.raw { ref_block_bytes = 1; ref_block_hash = 4; expiration = 8;
        //                   contract = 11; timestamp = 14; }
        let mut raw = Vec::new();
        field_bytes(&mut raw, 1, &self.ref_block_bytes);
        field_bytes(&mut raw, 4, &self.ref_block_hash);
        field_varint(&mut raw, 8, self.expiration_ms as u64);
        field_bytes(&mut raw, 11, &contract);
        field_varint(&mut raw, 14, self.timestamp_ms as u64);
        Ok(raw)
    }
}

/// A signed TRON transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedTronTx {
    /// `raw_data` protobuf bytes.
    pub raw_data: Vec<u8>,
    /// txID = SHA-256(raw_data).
    pub txid: [u8; 32],
    /// r ‖ s ‖ v, with v = recovery id + 27 (as TronWeb writes it; java-tron accepts 0/1 too).
    pub signature: [u8; 65],
}

impl SignedTronTx {
    /// The JSON body of `/wallet/broadcasthex`'s sibling `/wallet/broadcasttransaction`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "txID": hex::encode(self.txid),
            "raw_data_hex": hex::encode(&self.raw_data),
            "signature": [hex::encode(self.signature)],
        })
    }
}

/// The signing key of one TRON address (k256, zeroized on drop). `Debug` shows the address.
pub struct TronSigner {
    inner: PrivateKeySigner,
}

impl core::fmt::Debug for TronSigner {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TronSigner").field("address", &self.address()).finish_non_exhaustive()
    }
}

impl TronSigner {
    /// A signer for one imported private key (test vectors, a sweep).
    pub fn from_private_key(secret: &[u8; 32]) -> Result<Self> {
        Self::new(&Secp256k1Key::from_private_key(secret)?)
    }

    /// Wraps a derived key.
    pub fn new(key: &Secp256k1Key) -> Result<Self> {
        // From the borrowed bytes: no copy of the key is made here (k256's key zeroizes itself).
        let inner = PrivateKeySigner::from_slice(key.expose_secret()).map_err(|_| Error::InvalidChildKey)?;
        Ok(Self { inner })
    }

    /// The base58check address.
    pub fn address(&self) -> String {
        encode_address(&self.inner.address().into_array())
    }

    /// Signs a TRX transfer built here. The sender must be this signer.
    pub fn sign_transfer(&self, transfer: &TrxTransfer) -> Result<SignedTronTx> {
        if decode_address(&transfer.from)? != decode_address(&self.address())? {
            return Err(Error::tx(CHAIN, "the sender is not this wallet's address"));
        }
        self.sign_raw_data(&transfer.raw_data()?)
    }

    /// Signs `raw_data` bytes as a node built them (`raw_data_hex` of `/wallet/createtransaction`).
    ///
    /// **Blind signing, a known limitation:** the bytes are not decoded (this crate only encodes
    /// TRON protobuf, for [`TrxTransfer`]), so nothing here checks that they are a transaction,
    /// what it does, that its owner address is this signer's, or its expiration. Whatever the
    /// bytes, the signature authorises them as a transaction of this address. Call it only with
    /// bytes whose content the user has checked by other means; prefer [`Self::sign_transfer`].
    pub fn sign_raw_data(&self, raw_data: &[u8]) -> Result<SignedTronTx> {
        let txid = sha256::Hash::hash(raw_data).to_byte_array();
        let sig = self.inner.sign_hash_sync(&B256::from(txid)).map_err(|e| Error::tx(CHAIN, e))?;
        let mut signature = sig.as_bytes();
        signature[64] = u8::from(sig.v()) + 27;
        Ok(SignedTronTx { raw_data: raw_data.to_vec(), txid, signature })
    }
}
