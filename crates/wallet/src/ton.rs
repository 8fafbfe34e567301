//! TON: wallet v4R2 addresses (and v5R1 as an option) and signed v4R2 transfers as BOC.
//!
//! Cells, StateInit, addresses, the wallet contract code and the external-message layout come
//! from `tonlib-core`. Its own key and signing helpers (crate `nacl`) are **not** used: on
//! wasm32 they compute wrong ed25519 keys and signatures. The body's cell hash is signed with
//! ed25519-dalek instead, and the signature placed with tonlib-core's `VersionHelper::sign_msg`.
//!
//! Send flow: [`TonTransfer::unsigned_body_boc`] (the form, with the caller's clock) →
//! [`decode_unsigned_body`] → the [`TonTransferSummary`] the confirmation screen shows →
//! [`TonSigner::sign_reviewed`], which signs only a body that decodes to the approved summary and
//! whose `valid_until` is at most 10 minutes ahead. [`decode_external_message`] reads a signed
//! message back. Layouts: [`send`].

use num_bigint::BigUint;
use tonlib_core::TonAddress;
use tonlib_core::cell::{ArcCell, Cell};
use tonlib_core::tlb_types::block::coins::{CurrencyCollection, Grams};
use tonlib_core::tlb_types::block::message::{CommonMsgInfo, ExtInMsgInfo, IntMsgInfo, Message};
use tonlib_core::tlb_types::block::msg_address::{MsgAddrNone, MsgAddress, MsgAddressExt};
use tonlib_core::tlb_types::block::state_init::StateInit;
use tonlib_core::tlb_types::primitives::either::{EitherRef, EitherRefLayout};
use tonlib_core::tlb_types::tlb::TLB;
use tonlib_core::wallet::mnemonic::KeyPair;
use tonlib_core::wallet::version_helper::VersionHelper;
use tonlib_core::wallet::versioned::{DEFAULT_WALLET_ID, DEFAULT_WALLET_ID_V5R1};
use tonlib_core::wallet::wallet_version::WalletVersion;

use crate::derive::Ed25519Key;
use crate::error::{Error, Result};

pub mod send;

pub use send::{
    MAX_VALID_FOR_SECS, SEND_MODE, TonMessageView, TonTransferSummary, check_valid_until,
    decode_external_message, decode_unsigned_body, ton,
};

pub use tonlib_core::TonAddress as Address;

const CHAIN: &str = "ton";

fn cell_err(e: impl core::fmt::Display) -> Error {
    Error::tx(CHAIN, e)
}

/// A wallet contract's address in every form wallets show.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TonAddresses {
    /// `0:<hex>`.
    pub raw: String,
    /// Bounceable, mainnet (`EQ…`).
    pub bounceable: String,
    /// Non-bounceable, mainnet (`UQ…`): what wallets show for an uninitialised wallet, and
    /// what this crate lists as "the" TON address.
    pub non_bounceable: String,
    /// Bounceable, testnet (`kQ…`).
    pub bounceable_testnet: String,
    /// Non-bounceable, testnet (`0Q…`).
    pub non_bounceable_testnet: String,
}

impl TonAddresses {
    /// All forms of one address.
    pub fn of(address: &TonAddress) -> Self {
        Self {
            raw: address.to_hex(),
            bounceable: address.to_base64_url_flags(false, false),
            non_bounceable: address.to_base64_url_flags(true, false),
            bounceable_testnet: address.to_base64_url_flags(false, true),
            non_bounceable_testnet: address.to_base64_url_flags(true, true),
        }
    }

    /// Wallet v4R2 (wallet id 698983191, workchain 0) for an ed25519 public key.
    pub fn v4r2(public_key: &[u8; 32]) -> Result<Self> {
        Ok(Self::of(&wallet_address(WalletVersion::V4R2, public_key)?))
    }

    /// Only the form this crate lists as "the" TON address: wallet v4R2, non-bounceable,
    /// mainnet (`UQ…`); the same string as `v4r2(public_key)?.non_bounceable`.
    pub fn v4r2_non_bounceable(public_key: &[u8; 32]) -> Result<String> {
        Ok(wallet_address(WalletVersion::V4R2, public_key)?.to_base64_url_flags(true, false))
    }

    /// Wallet v5R1 (mainnet wallet id, workchain 0) for an ed25519 public key.
    pub fn v5r1(public_key: &[u8; 32]) -> Result<Self> {
        Ok(Self::of(&wallet_address(WalletVersion::V5R1, public_key)?))
    }
}

fn wallet_id(version: WalletVersion) -> i32 {
    match version {
        WalletVersion::V5R1 => DEFAULT_WALLET_ID_V5R1,
        _ => DEFAULT_WALLET_ID,
    }
}

fn public_only(public_key: &[u8; 32]) -> KeyPair {
    // tonlib-core's data-cell builder takes a KeyPair but reads only the public half.
    KeyPair { public_key: public_key.to_vec(), secret_key: Vec::new() }
}

fn state_init(version: WalletVersion, public_key: &[u8; 32]) -> Result<(ArcCell, ArcCell)> {
    let data =
        VersionHelper::get_data(version, &public_only(public_key), wallet_id(version)).map_err(cell_err)?;
    let code = VersionHelper::get_code(version).map_err(cell_err)?.clone();
    Ok((code, data.to_arc()))
}

/// The address of a wallet contract = workchain 0 : representation hash of its StateInit.
pub fn wallet_address(version: WalletVersion, public_key: &[u8; 32]) -> Result<TonAddress> {
    let (code, data) = state_init(version, public_key)?;
    TonAddress::derive(0, code, data).map_err(cell_err)
}

/// Parses any address form (raw `0:hex`, user-friendly base64 or base64url).
/// Returns the address and whether the form asked for bounceable messages.
pub fn parse_address(s: &str) -> Result<(TonAddress, bool)> {
    let t = s.trim();
    if t.len() == 48 {
        let parsed = if t.contains('-') || t.contains('_') {
            TonAddress::from_base64_url_flags(t)
        } else {
            TonAddress::from_base64_std_flags(t)
        };
        let (addr, non_bounceable, _testnet) = parsed.map_err(|e| Error::address(CHAIN, s, e))?;
        Ok((addr, !non_bounceable))
    } else {
        let addr = TonAddress::from_hex_str(t).map_err(|e| Error::address(CHAIN, s, e))?;
        Ok((addr, true))
    }
}

/// A TON transfer from a wallet v4R2 (one internal message, send mode 3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TonTransfer {
    /// Recipient, any form. A non-bounceable form (`UQ…`) sends non-bounceable.
    pub to: String,
    /// Amount in nanotons.
    pub amount_nano: u64,
    /// An optional text comment (op 0), at most 123 bytes.
    pub comment: Option<String>,
    /// The wallet's current seqno (0 for a wallet not yet deployed: StateInit is attached).
    pub seqno: u32,
    /// Unix time after which the wallet rejects the message: after the caller's `now` and at
    /// most [`MAX_VALID_FOR_SECS`] (10 minutes) after it, since a signed message stays
    /// replayable until then.
    pub valid_until: u32,
}

impl TonTransfer {
    fn internal(&self) -> Result<send::Internal> {
        let (dest, bounce) = parse_address(&self.to)?;
        Ok(send::Internal { dest, bounce, amount_nano: self.amount_nano, comment: self.comment.clone() })
    }

    /// The unsigned wallet v4R2 body (default wallet id), as a BOC: what the confirmation screen
    /// decodes and the signer signs. `now` is the caller's clock (Unix seconds); `valid_until`
    /// must be after it and at most 10 minutes ahead ([`Error::ValidUntil`] otherwise).
    pub fn unsigned_body_boc(&self, now: u32) -> Result<Vec<u8>> {
        check_valid_until(self.valid_until, now)?;
        let body =
            send::body_cell(DEFAULT_WALLET_ID as u32, self.valid_until, self.seqno, &[self.internal()?])?;
        tonlib_core::cell::BagOfCells::from_root(body).serialize(true).map_err(cell_err)
    }
}

/// An internal message (`int_msg_info`, src none, no fees, no StateInit, body in a reference).
pub(crate) fn internal_message(
    dest: &TonAddress,
    bounce: bool,
    amount_nano: u64,
    body: Cell,
) -> Result<Cell> {
    let info = IntMsgInfo {
        ihr_disabled: true,
        bounce,
        bounced: false,
        src: MsgAddress::NONE,
        dest: dest.to_msg_address(),
        value: CurrencyCollection::new(BigUint::from(amount_nano)),
        ihr_fee: Grams::new(BigUint::from(0u8)),
        fwd_fee: Grams::new(BigUint::from(0u8)),
        created_lt: 0,
        created_at: 0,
    };
    let mut internal = Message::new(CommonMsgInfo::Int(info), body.to_arc());
    internal.body.layout = EitherRefLayout::ToRef;
    internal.to_cell().map_err(cell_err)
}

/// A signed external message, ready for `sendBoc`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedTonMessage {
    /// Bag of cells (with CRC32C).
    pub boc: Vec<u8>,
    /// The external message's cell hash (what explorers index).
    pub hash: [u8; 32],
    /// The signed body's hash, i.e. the 32 bytes that were signed.
    pub signed_hash: [u8; 32],
}

/// The signing key of one TON wallet v4R2 (ed25519-dalek, zeroized on drop).
pub struct TonSigner {
    key: ed25519_dalek::SigningKey,
    address: TonAddress,
}

impl core::fmt::Debug for TonSigner {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TonSigner").field("address", &self.address.to_hex()).finish_non_exhaustive()
    }
}

impl TonSigner {
    /// A signer for one imported ed25519 private key (32-byte seed).
    pub fn from_private_key(secret: &[u8; 32]) -> Result<Self> {
        Self::new(&Ed25519Key::from_private_key(secret))
    }

    /// Wraps a derived key.
    pub fn new(key: &Ed25519Key) -> Result<Self> {
        let key = key.signing_key();
        let address = wallet_address(WalletVersion::V4R2, key.verifying_key().as_bytes())?;
        Ok(Self { key, address })
    }

    /// The wallet's address.
    pub fn address(&self) -> &TonAddress {
        &self.address
    }

    /// The ed25519 public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.key.verifying_key().to_bytes()
    }

    /// Builds, decodes and signs the external message of a v4R2 transfer (see
    /// [`Self::sign_reviewed`]); `now` is the caller's clock (Unix seconds).
    pub fn sign_transfer(&self, transfer: &TonTransfer, now: u32) -> Result<SignedTonMessage> {
        let boc = transfer.unsigned_body_boc(now)?;
        let summary = decode_unsigned_body(&boc, &self.address)?;
        self.sign_reviewed(&boc, &summary, now)
    }

    /// Signs an unsigned body (BOC) **only if** it decodes to exactly the summary the user
    /// approved (the page-filled fee estimates aside), else [`Error::ReviewMismatch`]; its wallet
    /// id must be the default v4R2 one and its `valid_until` at most 10 minutes after `now`
    /// ([`Error::ValidUntil`]). Returns the external message, with the StateInit when seqno is 0.
    pub fn sign_reviewed(
        &self,
        body_boc: &[u8],
        approved: &TonTransferSummary,
        now: u32,
    ) -> Result<SignedTonMessage> {
        use ed25519_dalek::Signer as _;
        let unsigned = tonlib_core::cell::BagOfCells::parse(body_boc)
            .map_err(cell_err)?
            .single_root()
            .map_err(cell_err)?;
        let decoded = decode_unsigned_body(body_boc, &self.address)?;
        if decoded != approved.without_page_fields() {
            return Err(Error::ReviewMismatch);
        }
        if decoded.wallet_id != DEFAULT_WALLET_ID as u32 {
            return Err(Error::tx(CHAIN, "the wallet id is not this wallet's"));
        }
        check_valid_until(decoded.valid_until, now)?;
        let signed_hash = Cell::cell_hash(&unsigned);
        let signature = self.key.sign(signed_hash.as_slice()).to_bytes();
        let signed = VersionHelper::sign_msg(WalletVersion::V4R2, &unsigned, &signature).map_err(cell_err)?;
        let ext = CommonMsgInfo::ExtIn(ExtInMsgInfo {
            src: MsgAddressExt::None(MsgAddrNone {}),
            dest: self.address.to_msg_address_int(),
            import_fee: Grams::new(BigUint::from(0u8)),
        });
        let mut message = Message::new(ext, signed.to_arc());
        message.body.layout = EitherRefLayout::ToRef;
        if decoded.seqno == 0 {
            let (code, data) = state_init(WalletVersion::V4R2, &self.public_key())?;
            message.init =
                Some(EitherRef { value: StateInit::new(code, data), layout: EitherRefLayout::ToRef });
        }
        let cell = message.to_cell().map_err(cell_err)?;
        let boc = message.to_boc(true).map_err(cell_err)?;
        let mut hash = [0u8; 32];
        hash.copy_from_slice(cell.cell_hash().as_slice());
        let mut sh = [0u8; 32];
        sh.copy_from_slice(signed_hash.as_slice());
        Ok(SignedTonMessage { boc, hash, signed_hash: sh })
    }
}

/// The body toncenter's `estimateFee` takes to emulate a transfer (with `ignore_chksig`): the
/// unsigned v4R2 body (`body_boc`, as [`TonTransfer::unsigned_body_boc`] builds it) behind an
/// all-zero 512-bit signature. No wallet accepts it (the signature is not one): it only serves the
/// fee estimate, and carries no key material.
pub fn fee_estimate_body(body_boc: &[u8]) -> Result<Vec<u8>> {
    let unsigned =
        tonlib_core::cell::BagOfCells::parse(body_boc).map_err(cell_err)?.single_root().map_err(cell_err)?;
    let zero = VersionHelper::sign_msg(WalletVersion::V4R2, &unsigned, &[0u8; 64]).map_err(cell_err)?;
    tonlib_core::cell::BagOfCells::from_root(zero).serialize(true).map_err(cell_err)
}
