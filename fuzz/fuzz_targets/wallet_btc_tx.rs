//! Bitcoin transactions: the consensus decoder the wallet reads Esplora's `/tx/:txid/hex` with
//! (`parse_tx_hex`, every PSBT input's previous transaction), and the size bound it computes on
//! one. A transaction that decodes serializes back to the same bytes.
#![no_main]
use blindvault_wallet::btc::Transaction;
use blindvault_wallet::btc::esplora::parse_tx_hex;
use blindvault_wallet::btc::send::p2wpkh_vsize_bound;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(tx) = parse_tx_hex(&hex::encode(data)) {
        let again: Vec<u8> = bitcoin::consensus::serialize(&tx);
        assert_eq!(again, data, "a transaction decodes from non-canonical bytes");
        let _ = p2wpkh_vsize_bound(&tx);
        let _ = tx.compute_txid();
        let back: Transaction = bitcoin::consensus::deserialize(&again).expect("re-encoded decodes");
        assert_eq!(back, tx);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = parse_tx_hex(text);
    }
});
