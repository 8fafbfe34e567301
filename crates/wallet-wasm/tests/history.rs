//! History through the bridge: the page hands the gateway's replies in as it got them (the JSON
//! value or its text) and gets the wallet crate's entries back, in the JSON the page reads.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use blindvault_wallet_wasm::bridge::{self, history};
use serde_json::{Value, json};

const ME: &str = "TUEZSdKsoDHQMeZwihtdoBiN46zxhGWYdH";
const THEM: &str = "THTR75o8xXAgCTQqpiot2AFRAjvW1tSbVV";
const USDT: &str = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t";

fn answer<T: serde::Serialize>(v: &T) -> Value {
    serde_json::from_str(&bridge::answer(v).unwrap()).unwrap()
}

#[test]
fn tron_history_takes_the_gateways_replies_as_values_or_text() {
    let trc20 = json!({"data": [{"transaction_id": "cc".repeat(32), "token_info": {"symbol": "FAKE", "address": USDT, "decimals": 2, "name": "x"},
        "block_timestamp": 1_800_000_000_000u64, "from": ME, "to": THEM, "type": "Transfer", "value": "12500000"}], "success": true});
    let txs = json!({"data": [], "success": true});
    let req = json!({"owner": ME, "transactions": txs, "trc20": trc20.to_string(),
        "tokens": [{"contract": USDT, "symbol": "USDT", "decimals": 6}]});
    let out = answer(&history::tron(&req.to_string()).unwrap());
    assert_eq!(
        out,
        json!([{"id": "cc".repeat(32), "time": 1_800_000_000u64, "direction": "sent", "counterparty": THEM, "more_counterparties": 0,
            "amount": {"raw": "12500000", "symbol": "USDT", "decimals": 6, "display": "12.5 USDT"},
            "fee": null, "status": "confirmed", "note": null}]),
        "the listed token's symbol and decimals, not the indexer's"
    );
    let unknown = json!({"owner": ME, "transactions": txs, "trc20": trc20, "extra": 1});
    assert_eq!(history::tron(&unknown.to_string()).unwrap_err().code().as_str(), "bad_request");
}

#[test]
fn ton_and_bitcoin_history_refuse_what_is_not_their_api_reply() {
    assert_eq!(answer(&history::ton(r#"{"ok": true, "result": []}"#).unwrap()), json!([]));
    assert_eq!(
        history::ton(r#"{"ok": true, "result": [{"utime": 1}]}"#).unwrap_err().code().as_str(),
        "transaction"
    );
    let req = json!({"network": "bitcoin", "addresses": ["bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu"], "bodies": [[]]});
    assert_eq!(answer(&history::bitcoin(&req.to_string()).unwrap()), json!([]));
    let wrong = json!({"network": "bitcoin", "addresses": ["tb1qcr8te4kr609gcawutmrza0j4xv80jy8zn8k5xp"], "bodies": [[]]});
    assert!(history::bitcoin(&wrong.to_string()).is_err(), "another network's address");
}

#[test]
fn solana_history_takes_each_transaction_by_signature() {
    let req = json!({"owner": "HAgk14JpMQLgt6rVgv7cBQFJWFto5Dqxi472uT3DKpqk",
        "signatures": [{"signature": "s1", "slot": 1, "err": null, "blockTime": 5, "confirmationStatus": "finalized"}],
        "transactions": {"s1": null}, "mints": []});
    let out = answer(&history::solana(&req.to_string()).unwrap());
    assert_eq!(out[0]["direction"], "other");
    assert_eq!(out[0]["note"], "Details not read: only the newest transactions are.");
    let bad = json!({"owner": "HAgk14JpMQLgt6rVgv7cBQFJWFto5Dqxi472uT3DKpqk", "signatures": [], "transactions": {}, "tokens": []});
    assert_eq!(history::solana(&bad.to_string()).unwrap_err().code().as_str(), "bad_request");
}

#[test]
fn evm_history_filters_are_built_by_the_wallet() {
    let q = history::evm_query(
        r#"{"owner": "0x9858EfFD232B4033E47d90003D41EC34EcaEda94", "contracts": ["0x5fbdb2315678afecb367f032d93f642f64180aa3"], "fromBlock": 5001, "toBlock": "0x2710"}"#,
    )
    .unwrap();
    let word = "0x0000000000000000000000009858effd232b4033e47d90003d41ec34ecaeda94";
    let t0 = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef";
    let f = |topics: Value| json!({"fromBlock": "0x1389", "toBlock": "0x2710", "address": ["0x5FbDB2315678afecb367f032d93F642f64180aa3"], "topics": topics});
    assert_eq!(q, vec![f(json!([t0, word])), f(json!([t0, null, word]))]);
    assert_eq!(
        history::evm_query(r#"{"owner": "0x12", "contracts": [], "fromBlock": 1, "toBlock": 2}"#)
            .unwrap_err()
            .code()
            .as_str(),
        "bad_address"
    );
}
