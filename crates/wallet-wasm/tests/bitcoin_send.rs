//! Bitcoin sends through the bridge: the account's addresses, a payment planned over the coins
//! the page fetched (as Esplora lists them), its review, and the signature by
//! `bitcoinSignPsbt` — executed by libbitcoinconsensus against the outputs it spends.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::str::FromStr as _;

use bitcoin::absolute::LockTime;
use bitcoin::transaction::Version;
use bitcoin::{Amount, OutPoint, ScriptBuf, Sequence, Transaction, TxIn, TxOut, Txid, Witness};
use blindvault_wallet::{PrfOutput, Wallet};
use blindvault_wallet_wasm::bridge::{self, Failure};
use serde_json::{Value, json};

const PRF: [u8; 32] = [0x5a; 32];
const STRANGER: &str = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080";

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

fn funding(tag: u8, outputs: Vec<TxOut>) -> Transaction {
    Transaction {
        version: Version::TWO,
        lock_time: LockTime::ZERO,
        input: vec![TxIn {
            previous_output: OutPoint {
                txid: Txid::from_str(&format!("{tag:02x}").repeat(32)).unwrap(),
                vout: 0,
            },
            script_sig: ScriptBuf::new(),
            sequence: Sequence::MAX,
            witness: Witness::new(),
        }],
        output: outputs,
    }
}

fn utxo(tx: &Transaction, vout: u32, confirmed: bool) -> Value {
    json!({"txid": tx.compute_txid().to_string(), "vout": vout, "value": tx.output[vout as usize].value.to_sat(),
           "status": {"confirmed": confirmed}})
}

#[test]
fn a_payment_planned_over_fetched_coins_signs_and_passes_consensus() {
    let addrs = with_prf(|p| {
        bridge::bitcoin_send::account_addresses(
            p,
            &json!({"network": "regtest", "receive": 3, "change": 2}).to_string(),
        )
        .unwrap()
    });
    let signer = Wallet::from_prf(&PrfOutput::from_slice(&PRF).unwrap())
        .bitcoin_signer(blindvault_wallet::btc::Network::Regtest)
        .unwrap();
    assert_eq!(addrs.receive.len(), 3);
    assert_eq!(addrs.receive[1], signer.address(false, 1).unwrap().to_string());
    assert_eq!(addrs.change[0], signer.address(true, 0).unwrap().to_string());

    let script = |a: &str| bitcoin::Address::from_str(a).unwrap().assume_checked().script_pubkey();
    let t1 =
        funding(1, vec![TxOut { value: Amount::from_sat(50_000), script_pubkey: script(&addrs.receive[0]) }]);
    let t2 = funding(
        2,
        vec![
            TxOut { value: Amount::from_sat(7_000), script_pubkey: script(STRANGER) },
            TxOut { value: Amount::from_sat(30_000), script_pubkey: script(&addrs.receive[2]) },
        ],
    );
    let hex = |t: &Transaction| bitcoin::consensus::encode::serialize_hex(t);
    let req = json!({
        "network": "regtest", "recipient": STRANGER, "amountSat": "60000", "feeRate": 5, "changeIndex": 1,
        "coins": [
            {"address": addrs.receive[0], "utxos": [utxo(&t1, 0, true)]},
            {"address": addrs.receive[1], "utxos": "[]"},
            {"address": addrs.receive[2], "utxos": [utxo(&t2, 1, true)]},
        ],
        "prevTxs": [hex(&t1), hex(&t2)],
    });
    let planned = with_prf(|p| bridge::bitcoin_send::plan(p, &req.to_string()).unwrap());
    let c = &planned.confirmation;
    assert_eq!(c.input_count, 2);
    assert_eq!(c.recipients.len(), 1);
    assert_eq!((c.recipients[0].address.as_deref(), c.recipients[0].value_sat), (Some(STRANGER), 60_000));
    assert_eq!(c.change.len(), 1);
    assert_eq!(
        c.change[0].address,
        Some(signer.address(true, 1).unwrap().to_string()),
        "change to change address 1"
    );
    assert_eq!(c.fee_sat, c.vsize * 5 + c.dust_to_fee_sat);
    assert_eq!(c.change[0].value_sat + 60_000 + c.fee_sat, 80_000);
    assert!(c.replaceable);

    // Signed with the review shown: the transaction passes Bitcoin Core's script interpreter.
    let signed = with_prf(|p| {
        bridge::bitcoin::sign_psbt(
            p,
            &json!({"network": "regtest", "psbt": planned.psbt, "review": planned.review}).to_string(),
        )
        .unwrap()
    });
    assert_eq!(signed.txid, c.txid);
    let tx: Transaction =
        bitcoin::consensus::encode::deserialize_hex(signed.transaction.as_deref().unwrap()).unwrap();
    let spent: Vec<TxOut> = tx
        .input
        .iter()
        .map(|i| {
            let prev = [&t1, &t2].into_iter().find(|t| t.compute_txid() == i.previous_output.txid).unwrap();
            prev.output[i.previous_output.vout as usize].clone()
        })
        .collect();
    let bytes = bitcoin::consensus::serialize(&tx);
    for (i, o) in spent.iter().enumerate() {
        bitcoinconsensus::verify(o.script_pubkey.as_bytes(), o.value.to_sat(), &bytes, None, i).unwrap();
    }
    let fee = spent.iter().map(|o| o.value.to_sat()).sum::<u64>()
        - tx.output.iter().map(|o| o.value.to_sat()).sum::<u64>();
    assert_eq!(fee, c.fee_sat);

    // A review other than the PSBT's is refused.
    let mut changed = planned.review.clone();
    changed["fee_sat"] = json!(1);
    assert_eq!(
        code(with_prf(|p| bridge::bitcoin::sign_psbt(
            p,
            &json!({"network": "regtest", "psbt": planned.psbt, "review": changed}).to_string()
        ))),
        "review_mismatch"
    );
    // More than the coins hold; coins of an address that is not the wallet's; no amount.
    let mut more = req.clone();
    more["amountSat"] = json!("90000");
    assert!(
        with_prf(|p| bridge::bitcoin_send::plan(p, &more.to_string()))
            .unwrap_err()
            .message()
            .contains("insufficient")
    );
    let mut foreign = req.clone();
    foreign["coins"][1]["address"] = json!(STRANGER);
    assert!(with_prf(|p| bridge::bitcoin_send::plan(p, &foreign.to_string())).is_err());
    let mut neither = req;
    neither.as_object_mut().unwrap().remove("amountSat");
    assert_eq!(code(with_prf(|p| bridge::bitcoin_send::plan(p, &neither.to_string()))), "bad_request");
}
