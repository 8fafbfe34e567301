//! TON send: the wallet v4R2 body the user signs, decoded into the [`TonTransferSummary`] a
//! confirmation screen shows, from the unsigned body (before signing) or the signed external
//! message (after).
//!
//! Wallet v4R2 body (the cell whose representation hash is signed):
//! `subwallet_id:uint32 valid_until:uint32 seqno:uint32 op:uint8 (0 = send)` then, per message
//! (at most 4), `send_mode:uint8` and a reference to the internal message cell. The signed
//! external message body is `signature:bits512` followed by the same bits and references.
//! Internal message (TL-B `int_msg_info$0`): `ihr_disabled:1 bounce:1 bounced:0 src:addr_none
//! dest:MsgAddressInt value:Grams other:empty ihr_fee:0 fwd_fee:0 created_lt:0 created_at:0`,
//! no StateInit, body in a reference: empty, or a text comment `0x00000000 ‖ UTF-8` (≤ 123 bytes).

use tonlib_core::TonAddress;
use tonlib_core::cell::{ArcCell, BagOfCells, Cell, CellBuilder};
use tonlib_core::tlb_types::block::message::{CommonMsgInfo, Message};
use tonlib_core::tlb_types::block::msg_address::{MsgAddress, MsgAddressInt};
use tonlib_core::tlb_types::tlb::TLB;
use tonlib_core::wallet::versioned::v4::WalletExtMsgBodyV4;

use super::{CHAIN, cell_err};
use crate::display::{Amount, Asset};
use crate::error::{Error, Result};

/// The longest a signed TON message may stay valid: 10 minutes after the caller's clock.
pub const MAX_VALID_FOR_SECS: u32 = 600;
/// The only send mode this crate builds and accepts: 3 = pay fees separately (+1), ignore
/// errors (+2).
pub const SEND_MODE: u8 = 3;

/// TON: symbol and decimals (1 TON = 10^9 nanotons).
pub fn ton() -> Asset {
    Asset::new("TON", 9)
}

/// Refuses a `valid_until` that is not after `now` or more than [`MAX_VALID_FOR_SECS`] after
/// it (both Unix seconds; `now` is the caller's clock: nothing here reads one).
pub fn check_valid_until(valid_until: u32, now: u32) -> Result<()> {
    if valid_until <= now || u64::from(valid_until) > u64::from(now) + u64::from(MAX_VALID_FOR_SECS) {
        return Err(Error::ValidUntil {
            valid_until: u64::from(valid_until),
            now: u64::from(now),
            max_ahead_secs: u64::from(MAX_VALID_FOR_SECS),
        });
    }
    Ok(())
}

/// One internal message, as shown.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TonMessageView {
    /// Destination, user-friendly mainnet form matching the bounce flag (`EQ…` bounceable,
    /// `UQ…` not).
    pub destination: String,
    /// Destination, raw `workchain:hex`.
    pub destination_raw: String,
    /// Amount in TON (nanotons, 9 decimals).
    pub amount: Amount,
    /// Whether the message bounces back if the destination fails or does not exist.
    pub bounce: bool,
    /// Send mode (always [`SEND_MODE`]).
    pub send_mode: u8,
    /// Text comment, if any.
    pub comment: Option<String>,
}

/// What a TON confirmation screen shows.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TonTransferSummary {
    /// The wallet that sends (`UQ…`, the form the address list shows).
    pub from: String,
    /// `subwallet_id` (698983191 for the default v4R2 wallet).
    pub wallet_id: u32,
    /// The wallet's sequence number this message consumes.
    pub seqno: u32,
    /// Unix time after which the wallet rejects the message.
    pub valid_until: u32,
    /// Whether the wallet contract is deployed by this message (seqno 0: StateInit attached).
    pub deploys_wallet: bool,
    /// The internal messages, in order.
    pub messages: Vec<TonMessageView>,
    /// Forward fee estimate, filled by the page from the network's estimate (`estimateFee`'s
    /// `fwd_fee`); never from the bytes, and not compared when signing.
    pub forward_fee: Option<Amount>,
    /// Total fee estimate (in-forward + storage + gas + forward), filled by the page likewise.
    pub total_fee: Option<Amount>,
    /// Representation hash of the unsigned body: the 32 bytes signed (ed25519).
    pub signed_hash: String,
}

impl TonTransferSummary {
    /// The summary without the fields the page fills (what signing compares).
    pub(crate) fn without_page_fields(&self) -> Self {
        Self { forward_fee: None, total_fee: None, ..self.clone() }
    }
}

/// One internal message as built: destination, bounce, nanotons, comment.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Internal {
    pub(crate) dest: TonAddress,
    pub(crate) bounce: bool,
    pub(crate) amount_nano: u64,
    pub(crate) comment: Option<String>,
}

impl Internal {
    pub(crate) fn to_cell(&self) -> Result<Cell> {
        let body: Cell = match &self.comment {
            None => Cell::default(),
            Some(text) => {
                if text.len() > 123 {
                    return Err(Error::tx(CHAIN, "comment longer than 123 bytes"));
                }
                let mut b = CellBuilder::new();
                b.store_u32(32, 0).map_err(cell_err)?;
                b.store_slice(text.as_bytes()).map_err(cell_err)?;
                b.build().map_err(cell_err)?
            }
        };
        super::internal_message(&self.dest, self.bounce, self.amount_nano, body)
    }

    fn from_cell(cell: &ArcCell) -> Result<Self> {
        let unsupported = |what: &str| Error::tx(CHAIN, format!("internal message: {what} is not supported"));
        let msg = Message::from_cell(cell).map_err(cell_err)?;
        let CommonMsgInfo::Int(info) = msg.info else { return Err(unsupported("a non-internal message")) };
        if msg.init.is_some() {
            return Err(unsupported("an attached StateInit"));
        }
        if info.value.other.is_some() {
            return Err(unsupported("extra currencies"));
        }
        let amount_nano = u64::try_from(&info.value.grams.amount)
            .map_err(|_| unsupported("an amount above 2^64 nanotons"))?;
        let dest = match info.dest {
            MsgAddress::Int(MsgAddressInt::Std(_)) => {
                TonAddress::from_msg_address(info.dest.clone()).map_err(cell_err)?
            }
            _ => return Err(unsupported("a destination that is not a standard address")),
        };
        let body = msg.body.value;
        let comment = if body.bit_len() == 0 && body.references().is_empty() {
            None
        } else {
            let mut p = body.parser();
            let op = p.load_u32(32).map_err(|_| unsupported("a payload that is not a comment"))?;
            let rest = p.remaining_bits();
            if op != 0 || !body.references().is_empty() || rest % 8 != 0 {
                return Err(unsupported("a payload that is not a text comment"));
            }
            let bytes = p.load_bytes(rest / 8).map_err(cell_err)?;
            Some(String::from_utf8(bytes).map_err(|_| unsupported("a comment that is not UTF-8"))?)
        };
        Ok(Self { dest, bounce: info.bounce, amount_nano, comment })
    }
}

/// The unsigned wallet v4R2 body.
pub(crate) fn body_cell(wallet_id: u32, valid_until: u32, seqno: u32, msgs: &[Internal]) -> Result<Cell> {
    if msgs.is_empty() || msgs.len() > 4 {
        return Err(Error::tx(CHAIN, "a wallet v4R2 message carries 1 to 4 internal messages"));
    }
    let cells = msgs.iter().map(|m| m.to_cell().map(Cell::to_arc)).collect::<Result<Vec<_>>>()?;
    WalletExtMsgBodyV4 {
        subwallet_id: wallet_id as i32,
        valid_until,
        msg_seqno: seqno,
        opcode: 0,
        msgs_modes: vec![SEND_MODE; cells.len()],
        msgs: cells,
    }
    .to_cell()
    .map_err(cell_err)
}

/// Reads an unsigned body cell of a wallet at `from`; the result re-encodes to the same cell.
pub(crate) fn summarize_body(
    body: &Cell,
    from: &TonAddress,
    deploys_wallet: bool,
) -> Result<TonTransferSummary> {
    let parsed = WalletExtMsgBodyV4::from_cell(body).map_err(cell_err)?;
    if parsed.msgs_modes.iter().any(|m| *m != SEND_MODE) {
        return Err(Error::tx(CHAIN, format!("only send mode {SEND_MODE} is supported")));
    }
    let msgs = parsed.msgs.iter().map(Internal::from_cell).collect::<Result<Vec<_>>>()?;
    let wallet_id = parsed.subwallet_id as u32;
    let rebuilt = body_cell(wallet_id, parsed.valid_until, parsed.msg_seqno, &msgs)?;
    if rebuilt.cell_hash() != body.cell_hash() {
        return Err(Error::tx(
            CHAIN,
            "the body is not in the form this wallet builds (hidden bits or fields)",
        ));
    }
    Ok(TonTransferSummary {
        from: from.to_base64_url_flags(true, false),
        wallet_id,
        seqno: parsed.msg_seqno,
        valid_until: parsed.valid_until,
        deploys_wallet,
        messages: msgs
            .iter()
            .map(|m| TonMessageView {
                destination: m.dest.to_base64_url_flags(!m.bounce, false),
                destination_raw: m.dest.to_hex(),
                amount: Amount::new(alloy_primitives::U256::from(m.amount_nano), &ton()),
                bounce: m.bounce,
                send_mode: SEND_MODE,
                comment: m.comment.clone(),
            })
            .collect(),
        forward_fee: None,
        total_fee: None,
        signed_hash: hex::encode(body.cell_hash().as_slice()),
    })
}

/// Checks the layout of a bag of cells before tonlib-core reads it. tonlib-core 0.26 takes the
/// cell count, the roots and every cell's references from the bytes and indexes its cell list
/// with them unchecked (a reference past the last cell panics: an overflow, or an index out of
/// bounds), and reserves room for as many cells as the header claims. Refused here: a header
/// outside the format (`size` 1..=4, `off_bytes` 1..=8), more cells than the bytes can hold, no
/// root, a root that is not a cell, and a reference that is not a later cell of the bag.
fn check_boc(boc: &[u8]) -> Result<()> {
    struct Bytes<'a>(&'a [u8]);
    impl<'a> Bytes<'a> {
        fn take(&mut self, n: usize) -> Result<&'a [u8]> {
            let (head, rest) =
                self.0.split_at_checked(n).ok_or_else(|| Error::tx(CHAIN, "bag of cells: truncated"))?;
            self.0 = rest;
            Ok(head)
        }
        fn uint(&mut self, n: u8) -> Result<usize> {
            Ok(self.take(usize::from(n))?.iter().fold(0usize, |v, &b| (v << 8) | usize::from(b)))
        }
        fn byte(&mut self) -> Result<u8> {
            Ok(self.take(1)?.first().copied().unwrap_or(0))
        }
    }
    let bad = |why: &str| Error::tx(CHAIN, format!("bag of cells: {why}"));
    let mut r = Bytes(boc);
    if r.take(4)? != [0xb5, 0xee, 0x9c, 0x72] {
        return Err(bad("not the generic bag-of-cells magic"));
    }
    let flags = r.byte()?;
    let (has_idx, has_crc32c, size) = (flags & 0x80 != 0, flags & 0x40 != 0, flags & 0x07);
    let off_bytes = r.byte()?;
    if !(1..=4).contains(&size) || !(1..=8).contains(&off_bytes) {
        return Err(bad("reference or offset size out of range"));
    }
    let cells = r.uint(size)?;
    let roots = r.uint(size)?;
    let _absent = r.uint(size)?;
    let _total_size = r.uint(off_bytes)?;
    // Every cell takes at least its two descriptor bytes.
    if cells > r.0.len() / 2 || roots == 0 || roots > cells {
        return Err(bad("cell or root count out of range"));
    }
    for _ in 0..roots {
        if r.uint(size)? >= cells {
            return Err(bad("a root that is not a cell of the bag"));
        }
    }
    if has_idx {
        r.take(cells.checked_mul(usize::from(off_bytes)).ok_or_else(|| bad("index too large"))?)?;
    }
    for index in 0..cells {
        let (d1, d2) = (r.byte()?, r.byte()?);
        if d1 & 0x10 != 0 {
            // Stored hashes and depths: (number of levels + 1) × (32 + 2) bytes.
            r.take(((d1 >> 5).count_ones() as usize + 1) * 34)?;
        }
        r.take(usize::from((d2 >> 1) + (d2 & 1)))?;
        for _ in 0..(d1 & 0x07) {
            let to = r.uint(size)?;
            if to <= index || to >= cells {
                return Err(bad("a reference that is not a later cell of the bag"));
            }
        }
    }
    if has_crc32c {
        r.take(4)?;
    }
    Ok(())
}

/// Decodes an unsigned body (a BOC, as [`super::TonTransfer::unsigned_body_boc`] gives it) of
/// the wallet at `from` for the confirmation screen. `deploys_wallet` is true when seqno is 0.
pub fn decode_unsigned_body(boc: &[u8], from: &TonAddress) -> Result<TonTransferSummary> {
    check_boc(boc)?;
    let root = BagOfCells::parse(boc).map_err(cell_err)?.single_root().map_err(cell_err)?;
    let parsed_seqno = WalletExtMsgBodyV4::from_cell(&root).map_err(cell_err)?.msg_seqno;
    summarize_body(&root, from, parsed_seqno == 0)
}

/// Decodes a signed external message (a BOC for `sendBoc`): the wallet it goes to, its body
/// (signature stripped) into the summary, and the 64-byte signature. `deploys_wallet` says
/// whether a StateInit is attached.
pub fn decode_external_message(boc: &[u8]) -> Result<(TonTransferSummary, [u8; 64])> {
    check_boc(boc)?;
    let msg = Message::from_boc(boc).map_err(cell_err)?;
    let CommonMsgInfo::ExtIn(info) = &msg.info else {
        return Err(Error::tx(CHAIN, "not an external inbound message"));
    };
    let wallet = TonAddress::from_msg_address(info.dest.clone()).map_err(cell_err)?;
    let body = msg.body.value.clone();
    let mut parser = body.parser();
    let signature: [u8; 64] = parser
        .load_bits(512)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| Error::tx(CHAIN, "the body has no signature"))?;
    let mut rest = CellBuilder::new();
    rest.store_remaining_bits(&mut parser).map_err(cell_err)?;
    for r in body.references() {
        rest.store_reference(r).map_err(cell_err)?;
    }
    let unsigned = rest.build().map_err(cell_err)?;
    Ok((summarize_body(&unsigned, &wallet, msg.init.is_some())?, signature))
}
