//! Solana sends through the bridge: built unsigned and decoded for the confirmation screen, then
//! signed only while the bytes still decode to the approved summary — and then the very bytes the
//! wallet crate's own signer gives for the same transfer (ed25519 signatures are deterministic).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use blindvault_wallet::{PrfOutput, Wallet};
use blindvault_wallet_wasm::bridge::{self, Failure};
use serde_json::{Value, json};

const PRF: [u8; 32] = [0x5a; 32];
const BLOCKHASH: &str = "9zrUHnA1nCByPksy3aL8tQ47vqdaG2vnFs4HrxgcZj4F";
const TO: &str = "4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T";
const MINT: &str = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v";

fn wallet() -> Wallet {
    Wallet::from_prf(&PrfOutput::from_slice(&PRF).unwrap())
}

fn me(account: u32) -> String {
    wallet().solana_signer(account).unwrap().address().to_string()
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

fn sign(req: &Value) -> Result<bridge::solana::SignedTx, Failure> {
    with_prf(|p| bridge::solana_send::sign_reviewed(p, &req.to_string()))
}

#[test]
fn a_sol_send_is_built_decoded_and_signed_only_as_approved() {
    let from = me(0);
    let built = bridge::solana_send::build_send(
        &json!({"from": from, "to": TO, "amount": "1500000000", "recentBlockhash": BLOCKHASH}).to_string(),
    )
    .unwrap();
    let s = &built.summary;
    assert_eq!((s.from.as_str(), s.to.as_str()), (from.as_str(), TO));
    assert_eq!(s.amount.display, "1.5 SOL");
    assert_eq!(s.fee.display, "0.000005 SOL");
    assert_eq!(s.recent_blockhash, BLOCKHASH);
    assert_eq!((s.mint.as_ref(), s.creates_recipient_account), (None, false));
    // The unsigned bytes: an all-zero signature slot, and the decoding is theirs.
    let decoded = bridge::solana::decode(&built.transaction).unwrap();
    assert_eq!(decoded.fee_payer, from);
    let approved = serde_json::to_value(s).unwrap();

    let signed = sign(&json!({"transaction": built.transaction, "summary": approved})).unwrap();
    let direct = with_prf(|p| {
        bridge::solana::sign_transfer(
            p,
            &json!({"to": TO, "lamports": "1500000000", "recentBlockhash": BLOCKHASH}).to_string(),
        )
        .unwrap()
    });
    assert_eq!(signed, direct, "the bytes the wallet crate's signer gives for that transfer");

    // The approved summary changed (another amount): refused.
    let mut changed = approved.clone();
    changed["amount"]["raw"] = json!("2500000000");
    changed["amount"]["display"] = json!("2.5 SOL");
    assert_eq!(code(sign(&json!({"transaction": built.transaction, "summary": changed}))), "review_mismatch");
    // Other bytes (built for another amount) under the approved summary: refused.
    let other = bridge::solana_send::build_send(
        &json!({"from": from, "to": TO, "amount": "2500000000", "recentBlockhash": BLOCKHASH}).to_string(),
    )
    .unwrap();
    assert_eq!(
        code(sign(&json!({"transaction": other.transaction, "summary": approved}))),
        "review_mismatch"
    );
    // Another account's key is not the fee payer: refused.
    assert_eq!(
        code(sign(&json!({"account": 1, "transaction": built.transaction, "summary": approved}))),
        "review_mismatch"
    );
    // Bytes that are not a transaction, and a summary that is not one.
    assert_eq!(code(sign(&json!({"transaction": "AAAA", "summary": approved}))), "transaction");
    assert_eq!(code(sign(&json!({"transaction": built.transaction, "summary": {}}))), "bad_request");
}

#[test]
fn an_spl_send_is_built_decoded_and_signed_only_as_approved() {
    let from = me(0);
    let req = json!({
        "from": from, "to": TO, "amount": "2500000", "recentBlockhash": BLOCKHASH, "mint": MINT,
        "decimals": 6, "symbol": "USDC", "createRecipientAccount": true,
    });
    let built = bridge::solana_send::build_send(&req.to_string()).unwrap();
    let s = &built.summary;
    assert_eq!(s.amount.display, "2.5 USDC");
    assert_eq!(s.mint.as_deref(), Some(MINT));
    assert!(s.creates_recipient_account);
    let theirs = bridge::solana_send::token_account(&json!({"owner": TO, "mint": MINT}).to_string()).unwrap();
    let mine = bridge::solana_send::token_account(&json!({"owner": from, "mint": MINT}).to_string()).unwrap();
    assert_eq!(s.destination_token_account.as_deref(), Some(theirs.as_str()));
    assert_eq!(s.source_token_account.as_deref(), Some(mine.as_str()));
    let approved = serde_json::to_value(s).unwrap();

    let signed = sign(&json!({"transaction": built.transaction, "summary": approved})).unwrap();
    let direct = with_prf(|p| {
        bridge::solana::sign_spl_transfer(
            p,
            &json!({"mint": MINT, "to": TO, "amount": "2500000", "decimals": 6, "createRecipientAccount": true,
                    "recentBlockhash": BLOCKHASH})
            .to_string(),
        )
        .unwrap()
    });
    assert_eq!(signed, direct);

    // Approved with another recipient (whose token account is not the one in the bytes).
    let mut changed = approved.clone();
    changed["to"] = json!(from);
    assert_eq!(code(sign(&json!({"transaction": built.transaction, "summary": changed}))), "transaction");
    // Approved without creating the recipient's account, but the bytes create it.
    let mut changed = approved.clone();
    changed["creates_recipient_account"] = json!(false);
    assert_eq!(code(sign(&json!({"transaction": built.transaction, "summary": changed}))), "review_mismatch");
    // Decimals other than the bytes' (TransferChecked carries them).
    let mut changed = approved;
    changed["amount"]["decimals"] = json!(9);
    assert_eq!(code(sign(&json!({"transaction": built.transaction, "summary": changed}))), "transaction");

    // Bad requests fail before anything is built.
    let bad = |over: Value| {
        let mut r = req.clone();
        r.as_object_mut().unwrap().extend(over.as_object().unwrap().clone());
        code(bridge::solana_send::build_send(&r.to_string()))
    };
    assert_eq!(bad(json!({"to": "not-an-address"})), "bad_address");
    assert_eq!(bad(json!({"amount": "0"})), "transaction");
    assert_eq!(bad(json!({"amount": "-1"})), "bad_amount");
    assert_eq!(bad(json!({"to": from})), "transaction", "to itself");
    assert_eq!(bad(json!({"extra": 1})), "bad_request");
    assert_eq!(
        code(bridge::solana_send::build_send(
            &json!({"from": from, "to": TO, "amount": "1", "recentBlockhash": BLOCKHASH, "decimals": 6})
                .to_string()
        )),
        "bad_request"
    );
}
