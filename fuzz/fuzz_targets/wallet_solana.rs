//! Solana: a legacy transaction in wire form for the confirmation screen (`decode_transaction`)
//! and a transaction message a dApp asks to sign (`sign_transaction_message`). A transaction
//! that decodes serializes back to the same bytes.
#![no_main]
use std::sync::LazyLock;

use blindvault_wallet::Wallet;
use blindvault_wallet::solana::SolanaSigner;
use blindvault_wallet::solana::decode::decode_transaction;
use libfuzzer_sys::fuzz_target;
use solana_transaction::Transaction;

static SIGNER: LazyLock<SolanaSigner> =
    LazyLock::new(|| Wallet::from_seed(&[7; 64]).expect("a seed").solana_signer(0).expect("a signer"));

fuzz_target!(|data: &[u8]| {
    if decode_transaction(data).is_ok() {
        let tx: Transaction = wincode::deserialize_exact(data).expect("decoded once");
        let again = wincode::serialize(&tx).expect("serializes");
        assert_eq!(again, data, "a transaction decodes from non-canonical bytes");
    }
    let _ = SIGNER.sign_transaction_message(data);
});
