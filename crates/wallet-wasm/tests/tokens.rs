//! SPL and TRC-20 reads through the bridge: the `triggerconstantcontract` fields the page sends
//! and the node's `constant_result` (hex without `0x`) decoded as strictly as ERC-20's.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use blindvault_wallet_wasm::bridge::{self, tokens};
use serde_json::json;

#[test]
fn trc20_reads_are_encoded_and_decoded_by_the_wallet() {
    let call =
        tokens::trc20_encode(r#"{"call": "balanceOf", "owner": "TUEZSdKsoDHQMeZwihtdoBiN46zxhGWYdH"}"#)
            .unwrap();
    let v: serde_json::Value = serde_json::from_str(&bridge::answer(&call).unwrap()).unwrap();
    assert_eq!(v["functionSelector"], "balanceOf(address)");
    assert_eq!(v["parameter"].as_str().unwrap().len(), 64);
    assert_eq!(
        tokens::trc20_encode(r#"{"call": "symbol", "extra": 1}"#).unwrap_err().code().as_str(),
        "bad_request"
    );
    // "USDT" as an ABI string, as java-tron returns it (hex, no 0x).
    let usdt = format!("{:064x}{:064x}{}{}", 32, 4, hex::encode("USDT"), "00".repeat(28));
    assert_eq!(tokens::trc20_decode("symbol", &usdt).unwrap(), json!("USDT"));
    assert_eq!(tokens::trc20_decode("decimals", &format!("{:064x}", 6)).unwrap(), json!(6));
    assert_eq!(
        tokens::trc20_decode("balanceOf", "").unwrap_err().code().as_str(),
        "transaction",
        "no contract"
    );
}

#[test]
fn spl_reads_refuse_what_is_not_the_nodes_base64_account() {
    assert_eq!(
        tokens::spl_mint_decimals(r#"{"context": {"slot": 1}, "value": null}"#).unwrap_err().code().as_str(),
        "transaction"
    );
    let empty = json!({"owner": "HAgk14JpMQLgt6rVgv7cBQFJWFto5Dqxi472uT3DKpqk", "mint": "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v",
        "result": {"context": {"slot": 1}, "value": []}});
    assert_eq!(tokens::spl_balance(&empty.to_string()).unwrap(), "0");
}
