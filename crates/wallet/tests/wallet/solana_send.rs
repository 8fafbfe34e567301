//! Solana sends reviewed before signing (`solana::send`): the unsigned bytes decode to the
//! summary; the signature over them verifies (solana-transaction) and equals the direct signer's;
//! a summary or bytes that differ are refused.

use blindvault_wallet::Wallet;
use blindvault_wallet::display::Asset;
use blindvault_wallet::solana::send::{build_spl_transfer, build_transfer, sol, summarize};
use blindvault_wallet::solana::{Address, Hash, SplTransfer, associated_token_address};
use solana_transaction::Transaction;

use crate::common::ABANDON;

fn wallet() -> Wallet {
    Wallet::from_mnemonic(ABANDON, "").unwrap()
}

#[test]
fn a_reviewed_sol_send_signs_exactly_what_was_summarized() {
    let signer = wallet().solana_signer(0).unwrap();
    let me = signer.address();
    let to = Address::new_from_array([9u8; 32]);
    let blockhash = Hash::new_from_array([3u8; 32]);
    let wire = build_transfer(&me, &to, 1_000_000, blockhash.clone()).unwrap();
    // Unsigned: one all-zero signature slot before the message.
    assert_eq!(wire[0], 1);
    assert!(wire[1..65].iter().all(|b| *b == 0));
    let summary = summarize(&wire, &sol(), &to.to_string()).unwrap();
    assert_eq!(summary.amount.display, "0.001 SOL");
    assert_eq!(summary.fee.raw, "5000");
    assert_eq!(summary.from, me.to_string());
    assert_eq!(summary.recent_blockhash, blockhash.to_string());

    let signed = signer.sign_reviewed(&wire, &summary).unwrap();
    let decoded: Transaction = wincode::deserialize(&signed.wire).unwrap();
    decoded.verify().unwrap();
    assert_eq!(signed.wire, signer.sign_transfer(&to, 1_000_000, blockhash.clone()).unwrap().wire);

    // Another key, another approval, other bytes: refused.
    let other = wallet().solana_signer(1).unwrap();
    assert!(matches!(other.sign_reviewed(&wire, &summary), Err(blindvault_wallet::Error::ReviewMismatch)));
    let mut changed = summary.clone();
    changed.recent_blockhash = Hash::new_from_array([4u8; 32]).to_string();
    assert!(matches!(signer.sign_reviewed(&wire, &changed), Err(blindvault_wallet::Error::ReviewMismatch)));
    let more = build_transfer(&me, &to, 2_000_000, blockhash.clone()).unwrap();
    assert!(signer.sign_reviewed(&more, &summary).is_err());
    // A summary for another recipient does not decode from these bytes.
    assert!(summarize(&wire, &sol(), &me.to_string()).is_err());
    // Nor does SOL with other decimals.
    assert!(summarize(&wire, &Asset::new("SOL", 6), &to.to_string()).is_err());
}

#[test]
fn a_reviewed_spl_send_checks_the_token_accounts() {
    let signer = wallet().solana_signer(0).unwrap();
    let me = signer.address();
    let to = Address::new_from_array([9u8; 32]);
    let mint = Address::new_from_array([7u8; 32]);
    let blockhash = Hash::new_from_array([3u8; 32]);
    for create in [false, true] {
        let t = SplTransfer { mint, to, amount: 2_500_000, decimals: 6, create_recipient_account: create };
        let wire = build_spl_transfer(&me, &t, blockhash.clone()).unwrap();
        let usdc = Asset::new("USDC", 6);
        let summary = summarize(&wire, &usdc, &to.to_string()).unwrap();
        assert_eq!(summary.amount.display, "2.5 USDC");
        assert_eq!(summary.creates_recipient_account, create);
        assert_eq!(summary.source_token_account, Some(associated_token_address(&me, &mint).to_string()));
        assert_eq!(summary.destination_token_account, Some(associated_token_address(&to, &mint).to_string()));
        let signed = signer.sign_reviewed(&wire, &summary).unwrap();
        let decoded: Transaction = wincode::deserialize(&signed.wire).unwrap();
        decoded.verify().unwrap();
        assert_eq!(signed.wire, signer.sign_spl_transfer(&t, blockhash.clone()).unwrap().wire);
        // The destination is not the associated token account of another wallet.
        assert!(summarize(&wire, &usdc, &me.to_string()).is_err());
        // The decimals are the bytes' (TransferChecked).
        assert!(summarize(&wire, &Asset::new("USDC", 9), &to.to_string()).is_err());
    }
}
