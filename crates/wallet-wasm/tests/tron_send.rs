//! TRON sends through the bridge: the `raw_data` protobuf built from the node's latest block and
//! decoded for the confirmation screen, then signed only while it still decodes to the approved
//! summary — the same signature the wallet crate's own signer gives for that transfer.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use blindvault_wallet::display::Asset;
use blindvault_wallet::tron::{RefBlock, Trc20Transfer, TrxTransfer};
use blindvault_wallet::{PrfOutput, Wallet};
use blindvault_wallet_wasm::bridge::{self, Failure};
use serde_json::{Value, json};

const PRF: [u8; 32] = [0x5a; 32];
const USDT: &str = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t";
const TO: &str = "THTR75o8xXAgCTQqpiot2AFRAjvW1tSbVV";

fn block() -> Value {
    json!({
        "blockID": "0000000003ef1480c3b5a0f3e2d1c4b5a69788796a5b4c3d2e1f0a1b2c3d4e5f",
        "block_header": {"raw_data": {"number": 66_000_000u64, "timestamp": 1_800_000_000_000u64}},
    })
}

fn wallet() -> Wallet {
    Wallet::from_prf(&PrfOutput::from_slice(&PRF).unwrap())
}

fn with_prf<T>(op: impl FnOnce(&mut [u8]) -> T) -> T {
    bridge::keyring::select_own();
    let mut prf = PRF;
    let out = op(&mut prf);
    assert_eq!(prf, [0u8; 32], "the caller's PRF output is zeroed");
    out
}

fn code<T: core::fmt::Debug>(r: Result<T, Failure>) -> &'static str {
    r.unwrap_err().code().as_str()
}

fn sign(req: &Value) -> Result<bridge::tron_send::SignedTx, Failure> {
    with_prf(|p| bridge::tron_send::sign_reviewed(p, &req.to_string()))
}

#[test]
fn a_trx_send_is_built_decoded_and_signed_only_as_approved() {
    let signer = wallet().tron_signer(0).unwrap();
    let from = signer.address();
    let built = bridge::tron_send::build_send(
        &json!({"from": from, "to": TO, "amount": "1500000", "block": block()}).to_string(),
    )
    .unwrap();
    let s = &built.summary;
    assert_eq!((s.from.as_str(), s.to.as_str()), (from.as_str(), TO));
    assert_eq!(s.amount.display, "1.5 TRX");
    assert_eq!((s.timestamp_ms, s.expiration_ms), (1_800_000_000_000, 1_800_000_600_000));
    assert_eq!(s.fee_limit, None);
    assert!(built.parameter.is_none());
    let approved = serde_json::to_value(s).unwrap();
    let signed = sign(&json!({"rawData": built.raw_data, "summary": approved})).unwrap();
    let b = RefBlock::from_block_json(&block()).unwrap();
    let want = signer
        .sign_transfer(&TrxTransfer {
            from: from.clone(),
            to: TO.into(),
            amount_sun: 1_500_000,
            ref_block_bytes: b.ref_block_bytes,
            ref_block_hash: b.ref_block_hash,
            expiration_ms: 1_800_000_600_000,
            timestamp_ms: 1_800_000_000_000,
        })
        .unwrap();
    assert_eq!(signed.txid, hex::encode(want.txid));
    assert_eq!(signed.signature, hex::encode(want.signature));
    assert_eq!(signed.transaction, want.to_json());
    assert_eq!(signed.txid, s.txid);

    let mut changed = approved.clone();
    changed["amount"]["raw"] = json!("2500000");
    assert_eq!(code(sign(&json!({"rawData": built.raw_data, "summary": changed}))), "review_mismatch");
    assert_eq!(
        code(sign(&json!({"account": 1, "rawData": built.raw_data, "summary": approved}))),
        "transaction",
        "another account is not the sender"
    );
    assert_eq!(
        code(bridge::tron_send::build_send(
            &json!({"from": from, "to": TO, "amount": "1", "feeLimitSun": 1, "block": block()}).to_string()
        )),
        "bad_request"
    );
    assert_eq!(
        code(bridge::tron_send::build_send(
            &json!({"from": from, "to": TO, "amount": "1", "block": {"blockID": "00"}}).to_string()
        )),
        "transaction"
    );
}

#[test]
fn a_trc20_send_is_built_decoded_and_signed_only_as_approved() {
    let signer = wallet().tron_signer(0).unwrap();
    let from = signer.address();
    let req = json!({"from": from, "to": TO, "amount": "2500000", "feeLimitSun": 100_000_000u64, "block": block(),
                     "token": {"contract": USDT, "symbol": "USDT", "decimals": 6}});
    let built = bridge::tron_send::build_send(&req.to_string()).unwrap();
    let s = &built.summary;
    assert_eq!(s.amount.display, "2.5 USDT");
    assert_eq!(s.token_contract.as_deref(), Some(USDT));
    assert_eq!(s.fee_limit.as_ref().unwrap().display, "100 TRX");
    // The call's arguments are the tail of its data in the raw bytes (after the selector).
    let parameter = built.parameter.clone().unwrap();
    assert_eq!(parameter.len(), 128);
    assert!(built.raw_data.contains(&format!("a9059cbb{parameter}")));
    assert!(parameter.ends_with(&format!("{:064x}", 2_500_000u64)));
    let approved = serde_json::to_value(s).unwrap();
    let signed = sign(&json!({"rawData": built.raw_data, "summary": approved})).unwrap();
    let b = RefBlock::from_block_json(&block()).unwrap();
    let want = signer
        .sign_trc20(
            &Trc20Transfer {
                from,
                token: USDT.into(),
                to: TO.into(),
                amount: alloy_primitives::U256::from(2_500_000u64),
                fee_limit_sun: 100_000_000,
                ref_block_bytes: b.ref_block_bytes,
                ref_block_hash: b.ref_block_hash,
                expiration_ms: 1_800_000_600_000,
                timestamp_ms: 1_800_000_000_000,
            },
            &Asset::new("USDT", 6),
        )
        .unwrap();
    assert_eq!(signed.transaction, want.to_json());
    // Other decimals approved than built: the same bytes show another amount.
    let mut changed = approved;
    changed["amount"]["decimals"] = json!(18);
    assert!(sign(&json!({"rawData": built.raw_data, "summary": changed})).is_err());
}
