//! TRON: base58check addresses (0x41 prefix), TRX and TRC-20 transfers, TIP-191 messages.
//!
//! Send flow: a builder ([`TrxTransfer`], [`Trc20Transfer`]) gives the exact `raw_data` bytes;
//! [`decode_raw_data`] turns those bytes (from here or from a node) into the
//! [`TronTxSummary`] the confirmation screen shows; [`TronSigner::sign`] signs only bytes that
//! decode to the summary the user approved. There is no way to sign undecoded bytes.
//!
//! Hand-written: the protobuf of `Transaction.raw` ([`proto`], [`tx`]; field table in [`tx`]).
//! The Rust TRON crates are unmaintained or pull a gRPC stack; the encoding is small, checked
//! against wallet-core's published transfer (txID and signature) and, in the workspace's
//! `tron-proto-check` crate, decoded field by field with types generated from TRON's published
//! `.proto` files. Hashing is SHA-256 (`bitcoin::hashes`), signing is alloy's k256 signer (RFC
//! 6979), base58check is rust-bitcoin's, the TRC-20 call is alloy's `sol!`.

use alloy_primitives::B256;
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use bitcoin::hashes::{Hash, sha256};

use crate::derive::Secp256k1Key;
use crate::display::Asset;
use crate::error::{Error, Result};

mod proto;
pub mod tx;

pub use crate::display::MessageView;
pub use tx::{RefBlock, Trc20Transfer, TronTxKind, TronTxSummary, bandwidth_bytes, decode_raw_data, trx};

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

impl TrxTransfer {
    /// The protobuf bytes of `Transaction.raw` (what the node returns as `raw_data_hex`).
    /// Refuses a non-positive amount or timestamp, and an expiration that is not after the
    /// timestamp or is more than 24 hours after it.
    pub fn raw_data(&self) -> Result<Vec<u8>> {
        self.to_raw()?.encode()
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

    /// Signs a TRX transfer built here: builds its bytes, decodes them and signs what was
    /// decoded (the sender must be this signer).
    pub fn sign_transfer(&self, transfer: &TrxTransfer) -> Result<SignedTronTx> {
        let raw = transfer.raw_data()?;
        let summary = decode_raw_data(&raw, None)?;
        self.sign(&raw, &summary)
    }

    /// Signs a TRC-20 transfer built here; `token` is the symbol and decimals shown.
    pub fn sign_trc20(&self, transfer: &Trc20Transfer, token: &Asset) -> Result<SignedTronTx> {
        let raw = transfer.raw_data()?;
        let summary = decode_raw_data(&raw, Some(token))?;
        self.sign(&raw, &summary)
    }

    /// Signs `raw_data` bytes (built here, or by a node's `/wallet/createtransaction` /
    /// `triggersmartcontract`) **only if** they decode to exactly the summary the user approved
    /// ([`decode_raw_data`] of the same bytes; its `txid` binds the bytes), else
    /// [`Error::ReviewMismatch`]. Bytes that do not decode (another contract type, an unknown
    /// field, a non-canonical encoding) are refused, and so is a sender other than this signer.
    pub fn sign(&self, raw_data: &[u8], approved: &TronTxSummary) -> Result<SignedTronTx> {
        let token = Asset { symbol: approved.amount.symbol.clone(), decimals: approved.amount.decimals };
        let decoded = decode_raw_data(raw_data, Some(&token))?;
        if decoded != *approved {
            return Err(Error::ReviewMismatch);
        }
        if decode_address(&decoded.from)? != decode_address(&self.address())? {
            return Err(Error::tx(CHAIN, "the sender is not this wallet's address"));
        }
        let txid = sha256::Hash::hash(raw_data).to_byte_array();
        let sig = self.inner.sign_hash_sync(&B256::from(txid)).map_err(|e| Error::tx(CHAIN, e))?;
        let mut signature = sig.as_bytes();
        signature[64] = u8::from(sig.v()) + 27;
        Ok(SignedTronTx { raw_data: raw_data.to_vec(), txid, signature })
    }

    /// TIP-191 message signing (TronWeb's `signMessageV2`): signs
    /// keccak256("\x19TRON Signed Message:\n" ‖ decimal byte length ‖ message). Returns
    /// r ‖ s ‖ v with v = 27 or 28. [`MessageView::of`] is what the page shows.
    pub fn sign_message(&self, message: &[u8]) -> Result<[u8; 65]> {
        let sig = self.inner.sign_hash_sync(&message_hash(message)).map_err(|e| Error::tx(CHAIN, e))?;
        let mut out = sig.as_bytes();
        out[64] = u8::from(sig.v()) + 27;
        Ok(out)
    }
}

/// The TIP-191 hash of a message: keccak256("\x19TRON Signed Message:\n" ‖ len ‖ message).
pub fn message_hash(message: &[u8]) -> B256 {
    let mut data = Vec::with_capacity(message.len() + 30);
    data.extend_from_slice(b"\x19TRON Signed Message:\n");
    data.extend_from_slice(message.len().to_string().as_bytes());
    data.extend_from_slice(message);
    alloy_primitives::keccak256(&data)
}

/// The address that signed `message` (TIP-191) with the 65-byte `signature` (v 27/28 or 0/1).
pub fn recover_message_signer(message: &[u8], signature: &[u8; 65]) -> Result<String> {
    let sig = alloy_primitives::Signature::from_raw(signature).map_err(|e| Error::tx(CHAIN, e))?;
    let address =
        sig.recover_address_from_prehash(&message_hash(message)).map_err(|e| Error::tx(CHAIN, e))?;
    Ok(encode_address(&address.into_array()))
}
