//! TON sends through the bridge: the unsigned v4R2 body built and decoded for the confirmation
//! screen, then signed only while it still decodes to the approved summary and its `valid_until`
//! is within 10 minutes of the page's clock — and then the very message the wallet crate's own
//! signer gives for the same transfer.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use blindvault_wallet::{PrfOutput, Wallet};
use blindvault_wallet_wasm::bridge::{self, Failure};
use serde_json::{Value, json};

const PRF: [u8; 32] = [0x5a; 32];
const TO: &str = "EQBvW8Z5huBkMJYdnfAEM5JqTNkuWX3diqYENkWsIL0XggGG";
const NOW: u32 = 1_900_000_000;

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

fn sign(req: &Value) -> Result<bridge::ton::SignedMessage, Failure> {
    with_prf(|p| bridge::ton_send::sign_reviewed(p, &req.to_string()))
}

#[test]
fn a_ton_send_is_built_decoded_and_signed_only_as_approved() {
    let from = wallet().address(blindvault_wallet::Chain::Ton, 0).unwrap().address;
    let req = json!({"from": from, "to": TO, "amountNano": "1500000000", "comment": "rent", "seqno": 4,
                     "validUntil": NOW + 300, "now": NOW});
    let built = bridge::ton_send::build_send(&req.to_string()).unwrap();
    let s = &built.summary;
    assert_eq!(s.from, from);
    assert_eq!((s.seqno, s.valid_until, s.deploys_wallet), (4, NOW + 300, false));
    assert_eq!(s.messages.len(), 1);
    assert_eq!(s.messages[0].destination, TO);
    assert!(s.messages[0].bounce, "an EQ… address sends bounceable");
    assert_eq!(s.messages[0].amount.display, "1.5 TON");
    assert_eq!(s.messages[0].comment.as_deref(), Some("rent"));
    assert_ne!(built.fee_body, built.body, "the fee body carries a (zero) signature");
    let approved = serde_json::to_value(s).unwrap();

    let signed = sign(&json!({"body": built.body, "summary": approved, "now": NOW + 10})).unwrap();
    let direct = with_prf(|p| {
        bridge::ton::sign_transfer(
            p,
            &json!({"to": TO, "amountNano": "1500000000", "comment": "rent", "seqno": 4, "validUntil": NOW + 300,
                    "now": NOW})
            .to_string(),
        )
        .unwrap()
    });
    assert_eq!(signed, direct, "the message the wallet crate's signer gives for that transfer");
    assert_eq!(signed.signed_hash, s.signed_hash.trim_start_matches("0x").to_lowercase());

    // Fee estimates the page filled in are not part of what is compared.
    let mut with_fees = approved.clone();
    with_fees["total_fee"] =
        json!({"raw": "1", "symbol": "TON", "decimals": 9, "display": "0.000000001 TON"});
    assert!(sign(&json!({"body": built.body, "summary": with_fees, "now": NOW})).is_ok());
    // Another amount approved, another seqno in the bytes, another account: refused.
    let mut changed = approved.clone();
    changed["messages"][0]["amount"]["raw"] = json!("2500000000");
    assert_eq!(code(sign(&json!({"body": built.body, "summary": changed, "now": NOW}))), "review_mismatch");
    let mut other = req.clone();
    other["seqno"] = json!(5);
    let other = bridge::ton_send::build_send(&other.to_string()).unwrap();
    assert_eq!(code(sign(&json!({"body": other.body, "summary": approved, "now": NOW}))), "review_mismatch");
    assert_eq!(
        code(sign(&json!({"account": 1, "body": built.body, "summary": approved, "now": NOW}))),
        "review_mismatch"
    );
    // The page's clock at signing: past valid_until (expired), or more than 10 minutes before it.
    assert_eq!(
        code(sign(&json!({"body": built.body, "summary": approved, "now": NOW + 300}))),
        "transaction"
    );
    assert_eq!(
        code(sign(&json!({"body": built.body, "summary": approved, "now": NOW - 301}))),
        "transaction"
    );
    assert_eq!(code(sign(&json!({"body": built.body, "summary": approved}))), "bad_request", "no clock");
    // Building refuses an expiry more than 10 minutes ahead of the page's clock.
    let mut far = req;
    far["validUntil"] = json!(NOW + 601);
    assert_eq!(code(bridge::ton_send::build_send(&far.to_string())), "transaction");
}
