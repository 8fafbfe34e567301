//! TRON send: builder → bytes → decoded summary → signature over only what was decoded.

use alloy_primitives::{B256, Signature, U256};
use bitcoin::hashes::{Hash, sha256};
use blindvault_wallet::Error;
use blindvault_wallet::display::Asset;
use blindvault_wallet::tron::{
    RefBlock, Trc20Transfer, TronTxKind, TrxTransfer, decode_raw_data, encode_address, message_hash,
    recover_message_signer,
};

use crate::common::ABANDON;

const USDT: &str = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t";
const TO: &str = "THTR75o8xXAgCTQqpiot2AFRAjvW1tSbVV";

fn signer() -> blindvault_wallet::tron::TronSigner {
    blindvault_wallet::Wallet::from_mnemonic(ABANDON, "").unwrap().tron_signer(0).unwrap()
}

fn usdt() -> Asset {
    Asset::new("USDT", 6)
}

fn trc20(from: String) -> Trc20Transfer {
    Trc20Transfer {
        from,
        token: USDT.into(),
        to: TO.into(),
        amount: U256::from(1_000_001u64),
        fee_limit_sun: 15_000_000,
        ref_block_bytes: [0xab, 0xcd],
        ref_block_hash: [1, 2, 3, 4, 5, 6, 7, 8],
        expiration_ms: 1_700_000_300_000,
        timestamp_ms: 1_700_000_000_000,
    }
}

#[test]
fn ref_block_from_the_http_api_block() {
    let block = serde_json::json!({
        "blockID": "0000000003ef1480c3b5a0f3e2d1c4b5a69788796a5b4c3d2e1f0a1b2c3d4e5f",
        "block_header": {"raw_data": {"number": 66_000_000, "timestamp": 1_733_000_000_000i64}}
    });
    let r = RefBlock::from_block_json(&block).unwrap();
    assert_eq!(r.ref_block_bytes, [0x14, 0x80]);
    assert_eq!(r.ref_block_hash, [0xc3, 0xb5, 0xa0, 0xf3, 0xe2, 0xd1, 0xc4, 0xb5]);
    assert_eq!(r.block_timestamp_ms, 1_733_000_000_000);
    let mut wrong = block.clone();
    wrong["block_header"]["raw_data"]["number"] = 66_000_001.into();
    assert!(RefBlock::from_block_json(&wrong).is_err(), "id does not start with the number");
    assert!(RefBlock::from_block_json(&serde_json::json!({"blockID": "00"})).is_err());
}

#[test]
fn trx_round_trip_summary_equals_the_inputs() {
    let s = signer();
    let t = TrxTransfer {
        from: s.address(),
        to: TO.into(),
        amount_sun: 2_500_000,
        ref_block_bytes: [0x12, 0x34],
        ref_block_hash: [9; 8],
        expiration_ms: 1_700_000_060_000,
        timestamp_ms: 1_700_000_000_000,
    };
    let raw = t.raw_data().unwrap();
    let sum = decode_raw_data(&raw, None).unwrap();
    assert_eq!(sum.kind, TronTxKind::Trx);
    assert_eq!((sum.from.as_str(), sum.to.as_str()), (s.address().as_str(), TO));
    assert_eq!((sum.amount.raw.as_str(), sum.amount.display.as_str()), ("2500000", "2.5 TRX"));
    assert_eq!((&sum.token_contract, &sum.fee_limit), (&None, &None));
    assert_eq!((sum.ref_block_bytes.as_str(), sum.ref_block_hash.as_str()), ("1234", "0909090909090909"));
    assert_eq!((sum.timestamp_ms, sum.expiration_ms), (t.timestamp_ms, t.expiration_ms));
    assert_eq!(sum.txid, hex::encode(sha256::Hash::hash(&raw).to_byte_array()));
    // Transaction { 1: raw_data (tag, 2-byte length), 2: signature (tag, length, 65) } + 64.
    assert!(raw.len() >= 128);
    assert_eq!(sum.bandwidth_bytes, 1 + 2 + raw.len() as u64 + 67 + 64);
    let signed = s.sign(&raw, &sum).unwrap();
    assert_eq!(signed, s.sign_transfer(&t).unwrap());
    // JSON for the page: the summary serializes and reads back.
    let json = serde_json::to_string(&sum).unwrap();
    assert_eq!(serde_json::from_str::<blindvault_wallet::tron::TronTxSummary>(&json).unwrap(), sum);
}

#[test]
fn trc20_round_trip_summary_equals_the_inputs() {
    let s = signer();
    let t = trc20(s.address());
    let raw = t.raw_data().unwrap();
    let sum = decode_raw_data(&raw, Some(&usdt())).unwrap();
    assert_eq!(sum.kind, TronTxKind::Trc20);
    assert_eq!((sum.from.as_str(), sum.to.as_str()), (s.address().as_str(), TO));
    assert_eq!(sum.token_contract.as_deref(), Some(USDT));
    assert_eq!(sum.amount.display, "1.000001 USDT");
    assert_eq!(sum.fee_limit.as_ref().unwrap().display, "15 TRX");
    assert_eq!(sum.expiration_ms - sum.timestamp_ms, 300_000);
    assert!(decode_raw_data(&raw, None).is_err(), "a token amount is never shown without its decimals");
    let signed = s.sign_trc20(&t, &usdt()).unwrap();
    let sig = Signature::from_raw(&signed.signature).unwrap();
    let who = sig.recover_address_from_prehash(&B256::from(signed.txid)).unwrap();
    assert_eq!(encode_address(&who.into_array()), s.address());
    // What the builder refuses.
    assert!(Trc20Transfer { amount: U256::ZERO, ..t.clone() }.raw_data().is_err());
    assert!(Trc20Transfer { fee_limit_sun: 0, ..t.clone() }.raw_data().is_err());
    assert!(Trc20Transfer { token: "Tnot".into(), ..t.clone() }.raw_data().is_err());
    assert!(Trc20Transfer { expiration_ms: t.timestamp_ms + 86_400_001, ..t }.raw_data().is_err());
}

/// Every single-bit change of the bytes either fails to decode or changes the summary, and the
/// signer refuses to sign it against the approved summary.
#[test]
fn every_tampered_bit_changes_the_summary_or_fails() {
    let s = signer();
    let raw = trc20(s.address()).raw_data().unwrap();
    let approved = decode_raw_data(&raw, Some(&usdt())).unwrap();
    let mut shown_changes = 0;
    for i in 0..raw.len() {
        for bit in 0..8 {
            let mut t = raw.clone();
            t[i] ^= 1 << bit;
            if let Ok(sum) = decode_raw_data(&t, Some(&usdt())) {
                assert_ne!(sum, approved, "byte {i} bit {bit}");
                // Not only the txid: some field the user reads changed too.
                assert_ne!(
                    sum.clone(),
                    blindvault_wallet::tron::TronTxSummary { txid: sum.txid.clone(), ..approved.clone() }
                );
                shown_changes += 1;
            }
            assert!(s.sign(&t, &approved).is_err(), "byte {i} bit {bit} signed");
        }
    }
    assert!(shown_changes > 100, "most amount/address/time bits decode to a visibly different summary");
}

#[test]
fn sign_needs_the_decoded_summary_and_our_address() {
    let s = signer();
    let raw = trc20(s.address()).raw_data().unwrap();
    let approved = decode_raw_data(&raw, Some(&usdt())).unwrap();
    let mut other = approved.clone();
    other.to = "TJRyWwFs9wTFGZg3JbrVriFbNfCug5tDeC".into();
    assert_eq!(s.sign(&raw, &other).unwrap_err(), Error::ReviewMismatch);
    // Same bytes, other decimals shown: a different amount on screen, so a different approval.
    let mut shown = approved.clone();
    shown.amount.decimals = 18;
    assert_eq!(s.sign(&raw, &shown).unwrap_err(), Error::ReviewMismatch);
    // Someone else's transaction, decoded and approved: still not ours to sign.
    let theirs = trc20("TJRyWwFs9wTFGZg3JbrVriFbNfCug5tDeC".into()).raw_data().unwrap();
    let sum = decode_raw_data(&theirs, Some(&usdt())).unwrap();
    assert!(s.sign(&theirs, &sum).unwrap_err().to_string().contains("not this wallet"));
    // Unknown fields are refused, not skipped: a memo (field 10) appended.
    let mut memo = raw.clone();
    memo.extend_from_slice(&[0x52, 0x02, b'h', b'i']);
    assert!(decode_raw_data(&memo, Some(&usdt())).is_err());
    // Non-canonical: the expiration's varint with a redundant trailing 0x80 0x00 — the same
    // number to a lenient reader, refused here.
    assert_eq!(raw[14], 8 << 3, "field 8 (expiration) follows ref_block_bytes and ref_block_hash");
    let end = 15 + raw[15..].iter().position(|b| b & 0x80 == 0).unwrap();
    let mut long_varint = raw[..end].to_vec();
    long_varint.push(raw[end] | 0x80);
    long_varint.push(0x00);
    long_varint.extend_from_slice(&raw[end + 1..]);
    assert!(decode_raw_data(&long_varint, Some(&usdt())).is_err(), "non-minimal varint");
    let mut fields_out_of_order = raw[4..].to_vec();
    fields_out_of_order.extend_from_slice(&raw[..4]);
    assert!(decode_raw_data(&fields_out_of_order, Some(&usdt())).is_err(), "field order is canonical");
    assert!(decode_raw_data(&[], None).is_err());
    assert!(decode_raw_data(&[0xff; 12], None).is_err());
}

/// TIP-191 (TronWeb `signMessageV2`): keccak256("\x19TRON Signed Message:\n" ‖ len ‖ message).
#[test]
fn tip191_message_signature_recovers_to_the_address() {
    let s = signer();
    let msg = b"blindvault login 42";
    let mut prefixed = b"\x19TRON Signed Message:\n19".to_vec();
    prefixed.extend_from_slice(msg);
    assert_eq!(message_hash(msg), alloy_primitives::keccak256(&prefixed));
    let sig = s.sign_message(msg).unwrap();
    assert!(sig[64] == 27 || sig[64] == 28);
    assert_eq!(recover_message_signer(msg, &sig).unwrap(), s.address());
    assert_ne!(recover_message_signer(b"blindvault login 43", &sig).unwrap(), s.address());
    // Not the Ethereum prefix: the same key's EIP-191 signature differs.
    let evm = blindvault_wallet::Wallet::from_mnemonic(ABANDON, "").unwrap();
    let key = evm.secp256k1_key(&blindvault_wallet::Chain::Tron.default_path(0).unwrap()).unwrap();
    let e = blindvault_wallet::evm::EvmSigner::new(&key).unwrap();
    assert_ne!(e.sign_personal_message(msg).unwrap(), sig);
}
