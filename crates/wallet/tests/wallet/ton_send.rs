//! TON send: builder → unsigned body → decoded summary → signature over only what was decoded;
//! the signed external message decodes to the same summary and its signature verifies.

use blindvault_wallet::Error;
use blindvault_wallet::display::Amount;
use blindvault_wallet::ton::{
    MAX_VALID_FOR_SECS, TonSigner, TonTransfer, TonTransferSummary, decode_external_message,
    decode_unsigned_body,
};
use ed25519_dalek::Verifier;
use tonlib_core::cell::BagOfCells;

use crate::common::ABANDON;

const NOW: u32 = 1_800_000_000;
const TO: &str = "EQBm--PFwDv1yCeS-QTJ-L8oiUpqo9IT1BwgVptlSq3ts90Q";

fn signer() -> TonSigner {
    blindvault_wallet::Wallet::from_mnemonic(ABANDON, "").unwrap().ton_signer(0).unwrap()
}

fn transfer() -> TonTransfer {
    TonTransfer {
        to: TO.into(),
        amount_nano: 1_500_000_001,
        comment: Some("invoice 42 ✓".into()),
        seqno: 9,
        valid_until: NOW + 120,
    }
}

#[test]
fn round_trip_summary_equals_the_inputs() {
    let s = signer();
    let t = transfer();
    let boc = t.unsigned_body_boc(NOW).unwrap();
    let sum = decode_unsigned_body(&boc, s.address()).unwrap();
    assert_eq!(sum.from, s.address().to_base64_url_flags(true, false));
    assert_eq!(
        (sum.wallet_id, sum.seqno, sum.valid_until, sum.deploys_wallet),
        (698983191, 9, NOW + 120, false)
    );
    assert_eq!(sum.messages.len(), 1);
    let m = &sum.messages[0];
    assert_eq!(m.destination, TO, "bounceable form, as given");
    assert!(m.bounce);
    assert_eq!(m.destination_raw, "0:66fbe3c5c03bf5c82792f904c9f8bf28894a6aa3d213d41c20569b654aadedb3");
    assert_eq!((m.amount.raw.as_str(), m.amount.display.as_str()), ("1500000001", "1.500000001 TON"));
    assert_eq!(m.comment.as_deref(), Some("invoice 42 ✓"));
    assert_eq!(m.send_mode, 3);
    assert_eq!((sum.forward_fee.clone(), sum.total_fee.clone()), (None, None), "fees come from the page");
    let root = BagOfCells::parse(&boc).unwrap().single_root().unwrap();
    assert_eq!(sum.signed_hash, hex::encode(tonlib_core::cell::Cell::cell_hash(&root).as_slice()));
    let json = serde_json::to_string(&sum).unwrap();
    assert_eq!(serde_json::from_str::<TonTransferSummary>(&json).unwrap(), sum);

    // Non-bounceable form → non-bounceable message; no comment → none shown; seqno 0 deploys.
    let t2 = TonTransfer {
        to: "UQBm--PFwDv1yCeS-QTJ-L8oiUpqo9IT1BwgVptlSq3ts4DV".into(),
        comment: None,
        seqno: 0,
        ..t
    };
    let sum2 = decode_unsigned_body(&t2.unsigned_body_boc(NOW).unwrap(), s.address()).unwrap();
    assert!(!sum2.messages[0].bounce);
    assert_eq!(sum2.messages[0].destination, "UQBm--PFwDv1yCeS-QTJ-L8oiUpqo9IT1BwgVptlSq3ts4DV");
    assert_eq!((sum2.messages[0].comment.clone(), sum2.deploys_wallet), (None, true));
}

#[test]
fn signed_message_decodes_to_the_approved_summary_and_verifies() {
    let s = signer();
    let boc = transfer().unsigned_body_boc(NOW).unwrap();
    let mut approved = decode_unsigned_body(&boc, s.address()).unwrap();
    // The page adds its network fee estimate; signing compares only what the bytes say.
    approved.forward_fee =
        Some(Amount::new(alloy_primitives::U256::from(266_669u64), &blindvault_wallet::ton::ton()));
    let signed = s.sign_reviewed(&boc, &approved, NOW).unwrap();
    assert_eq!(signed, s.sign_transfer(&transfer(), NOW).unwrap());
    let (read_back, signature) = decode_external_message(&signed.boc).unwrap();
    assert_eq!(read_back, TonTransferSummary { forward_fee: None, ..approved });
    assert_eq!(hex::encode(signed.signed_hash), read_back.signed_hash);
    let vk = ed25519_dalek::VerifyingKey::from_bytes(&s.public_key()).unwrap();
    vk.verify(&signed.signed_hash, &ed25519_dalek::Signature::from_bytes(&signature)).unwrap();
    let mut other = signed.signed_hash;
    other[0] ^= 1;
    assert!(vk.verify(&other, &ed25519_dalek::Signature::from_bytes(&signature)).is_err());
    // Deploy: StateInit attached, and the decoder says so.
    let first = s.sign_transfer(&TonTransfer { seqno: 0, ..transfer() }, NOW).unwrap();
    assert!(decode_external_message(&first.boc).unwrap().0.deploys_wallet);
}

#[test]
fn valid_until_is_at_most_ten_minutes_ahead_of_the_given_clock() {
    let s = signer();
    for (valid_until, ok) in [
        (NOW, false),
        (NOW - 1, false),
        (NOW + 1, true),
        (NOW + MAX_VALID_FOR_SECS, true),
        (NOW + MAX_VALID_FOR_SECS + 1, false),
        (u32::MAX, false),
    ] {
        let t = TonTransfer { valid_until, ..transfer() };
        let r = t.unsigned_body_boc(NOW);
        assert_eq!(r.is_ok(), ok, "valid_until {valid_until}");
        if !ok {
            assert_eq!(
                r.unwrap_err(),
                Error::ValidUntil {
                    valid_until: u64::from(valid_until),
                    now: u64::from(NOW),
                    max_ahead_secs: 600
                }
            );
        }
    }
    // A body approved earlier is refused once the clock has moved past its window…
    let boc = transfer().unsigned_body_boc(NOW).unwrap();
    let approved = decode_unsigned_body(&boc, s.address()).unwrap();
    assert!(matches!(s.sign_reviewed(&boc, &approved, NOW + 120).unwrap_err(), Error::ValidUntil { .. }));
    // …and when the clock is far behind it (a body valid for hours).
    assert!(matches!(s.sign_reviewed(&boc, &approved, NOW - 1000).unwrap_err(), Error::ValidUntil { .. }));
    assert!(s.sign_reviewed(&boc, &approved, NOW + 119).is_ok());
}

#[test]
fn every_tampered_bit_changes_the_summary_or_fails() {
    let s = signer();
    let t = transfer();
    let boc = t.unsigned_body_boc(NOW).unwrap();
    let approved = decode_unsigned_body(&boc, s.address()).unwrap();
    // Flip each bit of each cell's data (the BOC's framing aside): rebuild, decode, compare.
    let root = BagOfCells::parse(&boc).unwrap().single_root().unwrap();
    let internal = root.references()[0].clone();
    let mut changed = 0;
    for (which, cell) in [("body", root.clone()), ("internal", internal.clone())] {
        for bit in 0..cell.bit_len() {
            let mut data = cell.data().to_vec();
            data[bit / 8] ^= 0x80 >> (bit % 8);
            let mut b = tonlib_core::cell::CellBuilder::new();
            b.store_bits(cell.bit_len(), &data).unwrap();
            for r in cell.references() {
                b.store_reference(r).unwrap();
            }
            let tampered = b.build().unwrap().to_arc();
            let body = if which == "body" {
                tampered
            } else {
                let mut b = tonlib_core::cell::CellBuilder::new();
                b.store_bits(root.bit_len(), root.data()).unwrap();
                b.store_reference(&tampered).unwrap();
                b.build().unwrap().to_arc()
            };
            let tboc = BagOfCells::from_root((*body).clone()).serialize(true).unwrap();
            if let Ok(sum) = decode_unsigned_body(&tboc, s.address()) {
                assert_ne!(
                    TonTransferSummary { signed_hash: approved.signed_hash.clone(), ..sum },
                    approved,
                    "{which} bit {bit}: only the hash changed"
                );
                changed += 1;
            }
            assert!(s.sign_reviewed(&tboc, &approved, NOW).is_err(), "{which} bit {bit} signed");
        }
    }
    assert!(changed > 50, "seqno, valid_until, amount, address and comment bits show as changes ({changed})");
}

#[test]
fn sign_reviewed_refuses_what_was_not_approved() {
    let s = signer();
    let boc = transfer().unsigned_body_boc(NOW).unwrap();
    let approved = decode_unsigned_body(&boc, s.address()).unwrap();
    let mut other = approved.clone();
    other.messages[0].amount.raw = "1".into();
    assert_eq!(s.sign_reviewed(&boc, &other, NOW).unwrap_err(), Error::ReviewMismatch);
    let mut other = approved.clone();
    other.messages[0].comment = None;
    assert_eq!(s.sign_reviewed(&boc, &other, NOW).unwrap_err(), Error::ReviewMismatch);
    // Another wallet's approval is not ours.
    let stranger = TonSigner::from_private_key(&[5; 32]).unwrap();
    assert_eq!(stranger.sign_reviewed(&boc, &approved, NOW).unwrap_err(), Error::ReviewMismatch);
    // Garbage and truncated BOCs are errors, not panics.
    assert!(decode_unsigned_body(&[], s.address()).is_err());
    assert!(decode_unsigned_body(&boc[..boc.len() - 3], s.address()).is_err());
    assert!(decode_external_message(&boc).is_err(), "an unsigned body is not an external message");
}

/// A body written with tonlib-core's own types (two internal messages, one with a comment) is
/// read message by message; a third-party payload (a jetton transfer's op) is refused.
#[test]
fn bodies_written_by_tonlib_decode_message_by_message() {
    use num_bigint::BigUint;
    use tonlib_core::cell::{Cell, CellBuilder};
    use tonlib_core::tlb_types::block::coins::{CurrencyCollection, Grams};
    use tonlib_core::tlb_types::block::message::{CommonMsgInfo, IntMsgInfo, Message};
    use tonlib_core::tlb_types::block::msg_address::MsgAddress;
    use tonlib_core::tlb_types::primitives::either::EitherRefLayout;
    use tonlib_core::tlb_types::tlb::TLB;
    use tonlib_core::wallet::versioned::v4::WalletExtMsgBodyV4;

    let s = signer();
    let (a, _) = blindvault_wallet::ton::parse_address(TO).unwrap();
    let b = s.address().clone();
    let internal = |dest: &tonlib_core::TonAddress, bounce: bool, nano: u64, body: Cell| {
        let info = IntMsgInfo {
            ihr_disabled: true,
            bounce,
            bounced: false,
            src: MsgAddress::NONE,
            dest: dest.to_msg_address(),
            value: CurrencyCollection::new(BigUint::from(nano)),
            ihr_fee: Grams::new(BigUint::from(0u8)),
            fwd_fee: Grams::new(BigUint::from(0u8)),
            created_lt: 0,
            created_at: 0,
        };
        let mut m = Message::new(CommonMsgInfo::Int(info), body.to_arc());
        m.body.layout = EitherRefLayout::ToRef;
        m.to_cell().unwrap().to_arc()
    };
    let mut comment = CellBuilder::new();
    comment.store_u32(32, 0).unwrap();
    comment.store_slice(b"second").unwrap();
    let body = |second_body: Cell| WalletExtMsgBodyV4 {
        subwallet_id: 698983191,
        valid_until: NOW + 60,
        msg_seqno: 3,
        opcode: 0,
        msgs_modes: vec![3, 3],
        msgs: vec![internal(&a, true, 5, Cell::default()), internal(&b, false, 7_000_000_000, second_body)],
    };
    let boc = body(comment.build().unwrap()).to_boc(true).unwrap();
    let sum = decode_unsigned_body(&boc, s.address()).unwrap();
    assert_eq!(sum.messages.len(), 2);
    assert_eq!(
        (sum.messages[0].destination.as_str(), sum.messages[0].amount.display.as_str()),
        (TO, "0.000000005 TON")
    );
    assert_eq!(sum.messages[0].comment, None);
    assert_eq!(sum.messages[1].destination, s.address().to_base64_url_flags(true, false));
    assert_eq!(sum.messages[1].amount.display, "7 TON");
    assert_eq!(sum.messages[1].comment.as_deref(), Some("second"));
    assert!(s.sign_reviewed(&boc, &sum, NOW).is_ok());
    // A jetton transfer (op 0x0f8a7ea5) is not shown as a comment, nor silently signed.
    let mut jetton = CellBuilder::new();
    jetton.store_u32(32, 0x0f8a7ea5).unwrap();
    jetton.store_u64(64, 0).unwrap();
    let boc = body(jetton.build().unwrap()).to_boc(true).unwrap();
    assert!(decode_unsigned_body(&boc, s.address()).is_err());
}

/// Found by the fuzz target `wallet_ton`: a bag of cells whose cell refers to a cell past the
/// last one made tonlib-core 0.26's `BagOfCells::parse` panic (an overflow computing the index).
/// Both decoders now refuse it, and any reference or root outside the bag, with an error.
#[test]
fn a_bag_of_cells_with_a_reference_past_its_cells_is_an_error_not_a_panic() {
    // base64 te6cckEBAQEIAQMDAJxyQQEBAQgBAwMAAABMAABMrLnN
    let crash = hex::decode("b5ee9c724101010108010303009c7241010101080103030000004c00004cacb9cd").unwrap();
    let s = signer();
    let err = decode_unsigned_body(&crash, s.address()).unwrap_err().to_string();
    assert!(err.contains("bag of cells"), "{err}");
    assert!(decode_external_message(&crash).is_err());
    // One cell (1-byte references), one root 0, whose one reference is cell 1, which is not there.
    let dangling = [0xb5, 0xee, 0x9c, 0x72, 0x01, 0x01, 0x01, 0x01, 0x00, 0x05, 0x00, 0x01, 0x02, 0xab, 0x01];
    assert!(decode_unsigned_body(&dangling, s.address()).is_err());
    assert!(decode_external_message(&dangling).is_err());
    // A root past the cells, and a header claiming more cells than the bytes hold.
    let root_out = [0xb5, 0xee, 0x9c, 0x72, 0x01, 0x01, 0x01, 0x01, 0x00, 0x02, 0x05, 0x00, 0x00];
    assert!(decode_external_message(&root_out).is_err());
    let too_many = [0xb5, 0xee, 0x9c, 0x72, 0x04, 0x01, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1, 0, 0, 0, 0, 0];
    assert!(decode_external_message(&too_many).is_err());
}
