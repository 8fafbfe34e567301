//! Transaction history from each chain API's replies (`blindvault_wallet::history`): Bitcoin
//! (Esplora), TON (toncenter v2), TRON (TronGrid), in the shape the wallet page lists.

use bitcoin::Network;
use blindvault_wallet::Wallet;
use blindvault_wallet::history::{self, Direction, Status, tron::KnownToken};

use crate::common::ABANDON;

fn dir(e: &history::Entry) -> (Direction, &str, Option<&str>, Status) {
    (e.direction, e.amount.display.as_str(), e.counterparty.as_deref(), e.status)
}

#[test]
fn bitcoin_history_counts_change_as_ours_and_names_the_other_side() {
    let w = Wallet::from_mnemonic(ABANDON, "").unwrap();
    let s = w.bitcoin_signer(Network::Regtest).unwrap();
    let (r0, c0) = (s.address(false, 0).unwrap(), s.address(true, 0).unwrap());
    let them = "bcrt1qgdjqv0av3q56jvd82tkdjpy7gdp9ut8tlqmgrpmv24sq90ecnvqqjwvw97";
    let them_script = "0020436406a7ac8829a931a752ec9b049e4342578b3af836b0ec5d56001bf9c4d980";
    let out = |addr: &str, script: &str, v: u64| {
        format!(r#"{{"scriptpubkey":"{script}","scriptpubkey_address":"{addr}","value":{v}}}"#)
    };
    let ours = |a: &bitcoin::Address, v: u64| out(&a.to_string(), &a.script_pubkey().to_hex_string(), v);
    let tx = |id: char, vin: &[String], vout: &[String], fee: u64, status: &str| {
        let vin: Vec<String> =
            vin.iter().map(|p| format!(r#"{{"prevout":{p},"is_coinbase":false}}"#)).collect();
        format!(
            r#"{{"txid":"{}","fee":{fee},"vin":[{}],"vout":[{}],"status":{status}}}"#,
            id.to_string().repeat(64),
            vin.join(","),
            vout.join(",")
        )
    };
    let at =
        |h: u32| format!(r#"{{"confirmed":true,"block_height":{h},"block_time":{}}}"#, 1_700_000_000 + h);
    let incoming = tx(
        '1',
        &[out(them, them_script, 100_000)],
        &[ours(&r0, 60_000), out(them, them_script, 39_000)],
        1_000,
        &at(100),
    );
    let outgoing =
        tx('2', &[ours(&r0, 60_000)], &[out(them, them_script, 20_000), ours(&c0, 39_500)], 500, &at(105));
    let to_self = tx('3', &[ours(&c0, 39_500)], &[ours(&r0, 39_000)], 500, r#"{"confirmed":false}"#);
    let addresses = vec![r0.to_string(), c0.to_string()];
    let bodies = vec![format!("[{to_self},{outgoing},{incoming}]"), format!("[{to_self},{outgoing}]")];
    let h = history::bitcoin::history(Network::Regtest, &addresses, &bodies).unwrap();
    assert_eq!(h.len(), 3, "each transaction once");
    assert_eq!(dir(&h[0]), (Direction::SelfTransfer, "0 BTC", None, Status::Pending));
    assert_eq!(h[0].fee.as_ref().unwrap().display, "0.000005 BTC");
    assert_eq!(
        dir(&h[1]),
        (Direction::Sent, "0.0002 BTC", Some(them), Status::Confirmed),
        "the change is not sent"
    );
    assert_eq!((h[1].fee.as_ref().unwrap().raw.as_str(), h[1].time), ("500", Some(1_700_000_105)));
    assert_eq!(dir(&h[2]), (Direction::Received, "0.0006 BTC", Some(them), Status::Confirmed));
    assert_eq!(h[2].fee, None, "the sender paid the fee");
    // Another network's address, and a reply that is not Esplora's list, are refused.
    assert!(history::bitcoin::history(Network::Bitcoin, &addresses, &bodies).is_err());
    assert!(history::bitcoin::history(Network::Regtest, &addresses, &["{}".to_owned()]).is_err());
}

const ME_TON: &str = "UQBm--PFwDv1yCeS-QTJ-L8oiUpqo9IT1BwgVptlSq3ts4zV";
const OTHER_TON: &str = "EQCD39VS5jcptHL8vMjEXrzGaRcCVYto7HUn4bpAOg8xqB2N";

#[test]
fn ton_history_reads_toncenter_get_transactions() {
    let reply = format!(
        r#"{{"ok":true,"result":[
        {{"@type":"raw.transaction","address":{{"account_address":"{ME_TON}"}},"utime":1700000300,"data":"te6","transaction_id":{{"@type":"internal.transactionId","lt":"47000000000003","hash":"c2VudA=="}},"fee":"2755426","storage_fee":"126","other_fee":"2755300",
          "in_msg":{{"@type":"raw.message","source":"","destination":"{ME_TON}","value":"0","fwd_fee":"0","ihr_fee":"0","created_lt":"0","body_hash":"x","msg_data":{{"@type":"msg.dataRaw","body":"te6","init_state":""}},"message":""}},
          "out_msgs":[{{"@type":"raw.message","source":"{ME_TON}","destination":"{OTHER_TON}","value":"1500000001","fwd_fee":"266669","ihr_fee":"0","created_lt":"47000000000004","body_hash":"y","msg_data":{{"@type":"msg.dataText","text":"aW52b2ljZSA0Mg=="}},"message":"invoice 42"}}]}},
        {{"@type":"raw.transaction","address":{{"account_address":"{ME_TON}"}},"utime":1700000100,"data":"te6","transaction_id":{{"@type":"internal.transactionId","lt":"47000000000001","hash":"cmVjZWl2ZWQ="}},"fee":"100","storage_fee":"0","other_fee":"100",
          "in_msg":{{"@type":"raw.message","source":"{OTHER_TON}","destination":"{ME_TON}","value":"10000000000","fwd_fee":"0","ihr_fee":"0","created_lt":"1","body_hash":"z","msg_data":{{"@type":"msg.dataText","text":""}},"message":"thanks\u0007"}},
          "out_msgs":[]}},
        {{"@type":"raw.transaction","utime":1700000200,"transaction_id":{{"lt":"47000000000002","hash":"ZGVwbG95"}},"fee":"5000","in_msg":{{"source":"","destination":"{ME_TON}","value":"0","message":""}},"out_msgs":[]}}
        ]}}"#
    );
    let h = history::ton::history(&reply).unwrap();
    let ids: Vec<&str> = h.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["c2VudA==", "ZGVwbG95", "cmVjZWl2ZWQ="], "newest first");
    assert_eq!(dir(&h[0]), (Direction::Sent, "1.500000001 TON", Some(OTHER_TON), Status::Confirmed));
    assert_eq!(
        (h[0].fee.as_ref().unwrap().display.as_str(), h[0].note.as_deref()),
        ("0.002755426 TON", Some("invoice 42"))
    );
    assert_eq!(dir(&h[1]), (Direction::Other, "0 TON", None, Status::Confirmed));
    assert_eq!(h[1].note.as_deref(), Some("No transfer: only the fee was paid."));
    assert_eq!(dir(&h[2]), (Direction::Received, "10 TON", Some(OTHER_TON), Status::Confirmed));
    assert_eq!(
        (h[2].fee.as_ref(), h[2].note.as_deref()),
        (None, Some("thanks")),
        "control characters dropped"
    );
    assert!(
        history::ton::history(r#"{"ok":false,"error":"LITE_SERVER_UNKNOWN"}"#)
            .unwrap_err()
            .to_string()
            .contains("LITE_SERVER_UNKNOWN")
    );
    assert!(
        history::ton::history(&reply.replace("\"1500000001\"", "\"1.5\"")).is_err(),
        "a value must be whole nanotons"
    );
}

#[test]
fn tron_history_merges_trongrid_transactions_and_trc20_transfers() {
    let me = "TUEZSdKsoDHQMeZwihtdoBiN46zxhGWYdH";
    let other = "THTR75o8xXAgCTQqpiot2AFRAjvW1tSbVV";
    let usdt = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t";
    let hex_of = |a: &str| hex::encode(blindvault_wallet::tron::decode_address(a).unwrap());
    let (me_hex, other_hex, usdt_hex) = (hex_of(me), hex_of(other), hex_of(usdt));
    let transfer = |id: &str, from: &str, to: &str, sun: u64, ret: &str, block: &str| {
        format!(
            r#"{{"ret":[{{"contractRet":"{ret}","fee":1100000}}],"signature":["00"],"txID":"{id}","net_usage":0,"raw_data_hex":"0a",{block}"block_timestamp":1700000000000,"energy_fee":0,"raw_data":{{"contract":[{{"parameter":{{"value":{{"amount":{sun},"owner_address":"{from}","to_address":"{to}"}},"type_url":"type.googleapis.com/protocol.TransferContract"}},"type":"TransferContract"}}],"ref_block_bytes":"abcd","ref_block_hash":"0102030405060708","expiration":1700000060000,"timestamp":1700000000000}},"internal_transactions":[]}}"#
        )
    };
    let a = "aa".repeat(32);
    let b = "bb".repeat(32);
    let c = "cc".repeat(32);
    let d = "dd".repeat(32);
    let call = format!(
        r#"{{"ret":[{{"contractRet":"SUCCESS","fee":3500000}}],"txID":"{c}","blockNumber":12,"block_timestamp":1700000400000,"raw_data":{{"contract":[{{"parameter":{{"value":{{"data":"a9059cbb","owner_address":"{me_hex}","contract_address":"{usdt_hex}"}},"type_url":"type.googleapis.com/protocol.TriggerSmartContract"}},"type":"TriggerSmartContract"}}]}}}}"#
    );
    let internal = r#"{"internal_tx_id":"x","data":{"note":"63616c6c"},"block_timestamp":1,"to_address":"41","from_address":"41","tx_id":"y"}"#;
    let txs = format!(
        r#"{{"data":[{call},{},{},{internal}],"success":true,"meta":{{"at":1,"page_size":3}}}}"#,
        transfer(&a, &me_hex, &other_hex, 1_234_567, "SUCCESS", r#""blockNumber":10,"#),
        transfer(&b, &other_hex, &me_hex, 5_000_000, "SUCCESS", ""),
    );
    let trc20 = format!(
        r#"{{"data":[
        {{"transaction_id":"{c}","token_info":{{"symbol":"USDT","address":"{usdt}","decimals":6,"name":"Tether USD"}},"block_timestamp":1700000400000,"from":"{me}","to":"{other}","type":"Transfer","value":"12500000"}},
        {{"transaction_id":"{d}","token_info":{{"symbol":"USDT","address":"{other}","decimals":6,"name":"fake"}},"block_timestamp":1700000500000,"from":"{other}","to":"{me}","type":"Transfer","value":"1"}}
        ],"success":true,"meta":{{"at":1,"page_size":2}}}}"#
    );
    let known = [KnownToken { contract: usdt.into(), symbol: "USDT".into(), decimals: 6 }];
    let h = history::tron::history(me, &txs, &trc20, &known).unwrap();
    let ids: Vec<&str> = h.iter().map(|e| &e.id[..2]).collect();
    assert_eq!(ids, ["bb", "dd", "cc", "aa"], "pending first, then newest; the token call once");
    assert_eq!(dir(&h[0]), (Direction::Received, "5 TRX", Some(other), Status::Pending));
    assert_eq!(h[0].fee, None, "the sender paid");
    assert_eq!(dir(&h[1]), (Direction::Received, "0.000001 USDT", Some(other), Status::Confirmed));
    assert!(h[1].note.as_deref().unwrap().starts_with("Not a listed token"), "a look-alike is flagged");
    assert_eq!(dir(&h[2]), (Direction::Sent, "12.5 USDT", Some(other), Status::Confirmed));
    assert_eq!((h[2].fee.as_ref().unwrap().display.as_str(), h[2].note.as_ref()), ("3.5 TRX", None));
    assert_eq!(dir(&h[3]), (Direction::Sent, "1.234567 TRX", Some(other), Status::Confirmed));
    assert_eq!(h[3].fee.as_ref().unwrap().display, "1.1 TRX");
    // A failed transfer, and replies that are not TronGrid's.
    let failed = format!(
        r#"{{"data":[{}],"success":true}}"#,
        transfer(&a, &me_hex, &other_hex, 1, "OUT_OF_ENERGY", r#""blockNumber":10,"#)
    );
    let f = history::tron::history(me, &failed, r#"{"data":[],"success":true}"#, &known).unwrap();
    assert_eq!((f[0].status, f[0].note.as_deref()), (Status::Failed, Some("OUT_OF_ENERGY")));
    assert!(
        history::tron::history(me, r#"{"success":false,"error":"bad"}"#, r#"{"data":[]}"#, &known).is_err()
    );
    assert!(history::tron::history(me, &txs.replace(&other_hex, "42ff"), &trc20, &known).is_err());
    assert!(history::tron::history("TNotAnAddress", &txs, &trc20, &known).is_err());
}

#[test]
fn solana_history_reads_balance_changes_of_the_wallet() {
    use std::collections::BTreeMap;

    use blindvault_wallet::history::solana::KnownMint;
    let me = "HAgk14JpMQLgt6rVgv7cBQFJWFto5Dqxi472uT3DKpqk";
    let them = "4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T";
    let mint = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v";
    let (my_ata, their_ata) =
        ("9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin", "7UX2i7SucgLMQcfZ75s3VXmZZY4YRUyJN9X1RgfMoDUi");
    let keys = |k: &[&str]| {
        serde_json::Value::from(
            k.iter()
                .map(|p| serde_json::json!({"pubkey": p, "signer": false, "writable": true}))
                .collect::<Vec<_>>(),
        )
    };
    let sol_out = serde_json::json!({
        "slot": 10, "blockTime": 1_700_000_200,
        "meta": {"err": null, "fee": 5000, "preBalances": [2_000_000_000u64, 0, 1], "postBalances": [499_995_000u64, 1_500_000_000u64, 1],
            "preTokenBalances": [], "postTokenBalances": []},
        "transaction": {"signatures": ["s1"], "message": {"accountKeys": keys(&[me, them, "11111111111111111111111111111111"]),
            "instructions": [{"program": "system", "programId": "11111111111111111111111111111111", "parsed": {"type": "transfer", "info": {"source": me, "destination": them, "lamports": 1_500_000_000u64}}}]}},
        "version": "legacy"});
    let token_in = serde_json::json!({
        "slot": 9, "blockTime": 1_700_000_100,
        "meta": {"err": null, "fee": 5000, "preBalances": [9, 9, 9, 9], "postBalances": [9, 9, 9, 9],
            "preTokenBalances": [{"accountIndex": 1, "mint": mint, "owner": them, "programId": "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA", "uiTokenAmount": {"amount": "20000000", "decimals": 6, "uiAmount": 20.0, "uiAmountString": "20"}},
                                 {"accountIndex": 2, "mint": mint, "owner": me, "uiTokenAmount": {"amount": "0", "decimals": 6}}],
            "postTokenBalances": [{"accountIndex": 1, "mint": mint, "owner": them, "uiTokenAmount": {"amount": "7500000", "decimals": 6}},
                                  {"accountIndex": 2, "mint": mint, "owner": me, "uiTokenAmount": {"amount": "12500000", "decimals": 6}}]},
        "transaction": {"message": {"accountKeys": keys(&[them, their_ata, my_ata, mint]),
            "instructions": [{"program": "spl-token", "parsed": {"type": "transferChecked", "info": {"source": their_ata, "destination": my_ata, "authority": them, "mint": mint}}}]}}});
    let sigs = serde_json::json!([
        {"signature": "s1", "slot": 10, "err": null, "memo": null, "blockTime": 1_700_000_200, "confirmationStatus": "finalized"},
        {"signature": "s3", "slot": 11, "err": {"InstructionError": [0, {"Custom": 1}]}, "memo": null, "blockTime": 1_700_000_300, "confirmationStatus": "confirmed"},
        {"signature": "s2", "slot": 9, "err": null, "memo": null, "blockTime": 1_700_000_100, "confirmationStatus": "confirmed"},
    ]);
    let txs: BTreeMap<String, serde_json::Value> =
        [("s1".to_owned(), sol_out), ("s2".to_owned(), token_in), ("s3".to_owned(), serde_json::Value::Null)]
            .into();
    let known = [KnownMint { mint: mint.into(), symbol: "USDC".into() }];
    let h = history::solana::history(me, &sigs.to_string(), &txs, &known).unwrap();
    let ids: Vec<&str> = h.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["s3", "s1", "s2"], "newest first");
    assert_eq!(dir(&h[0]).3, Status::Failed);
    assert!(h[0].note.as_deref().unwrap().contains("Custom"));
    assert_eq!(
        dir(&h[1]),
        (Direction::Sent, "1.5 SOL", Some(them), Status::Confirmed),
        "the fee is not part of the amount"
    );
    assert_eq!(h[1].fee.as_ref().unwrap().display, "0.000005 SOL");
    assert_eq!(
        dir(&h[2]),
        (Direction::Received, "12.5 USDC", Some(them), Status::Confirmed),
        "the token account's owner"
    );
    assert_eq!(h[2].fee, None);
    let unknown = history::solana::history(me, &sigs.to_string(), &txs, &[]).unwrap();
    assert_eq!(unknown[2].amount.display, "12.5 EPjF…Dt1v");
    assert!(history::solana::history("not an address", &sigs.to_string(), &txs, &[]).is_err());
    assert!(history::solana::history(me, "{}", &txs, &[]).is_err());
}

#[test]
fn evm_history_reads_transfer_logs_and_this_browsers_broadcasts() {
    use alloy_primitives::{Address, B256};
    use blindvault_wallet::display::Asset;
    use blindvault_wallet::history::evm::{Broadcast, ListedToken, Log, history, transfer_topic};
    let me: Address = "0x9858EfFD232B4033E47d90003D41EC34EcaEda94".parse().unwrap();
    let them: Address = "0x66f9664f97F2b50F62D13eA064982f936dE76657".parse().unwrap();
    let token: Address = "0x5FbDB2315678afecb367f032d93F642f64180aa3".parse().unwrap();
    assert_eq!(
        transfer_topic().to_string(),
        "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef",
        "keccak256(Transfer(address,address,uint256))"
    );
    let log = |contract: Address,
               from: Address,
               to: Address,
               value: u64,
               block: u64,
               hash: u8,
               removed: bool| {
        serde_json::json!({"address": contract, "topics": [transfer_topic(), from.into_word(), to.into_word()],
            "data": format!("0x{:064x}", value), "blockNumber": format!("0x{block:x}"), "transactionHash": B256::repeat_byte(hash),
            "logIndex": "0x0", "removed": removed})
    };
    let logs: Vec<Log> = serde_json::from_value(serde_json::json!([
        log(token, them, me, 1_000_000_000_000_000_000, 100, 1, false),
        log(token, me, them, 12_500_000_000_000_000_000, 105, 2, false),
        log(token, me, them, 12_500_000_000_000_000_000, 105, 2, false),
        log(them, them, me, 5, 106, 3, false),
        log(token, them, me, 7, 107, 4, true),
    ]))
    .unwrap();
    let receipt = |ok: bool, block: u64| serde_json::json!({"status": if ok { "0x1" } else { "0x0" }, "blockNumber": format!("0x{block:x}"), "gasUsed": "0x5208", "effectiveGasPrice": "0x3b9aca00"});
    let sent: Vec<Broadcast> = serde_json::from_value(serde_json::json!([
        {"hash": B256::repeat_byte(2), "time": 1_700_000_105u64, "tx": {"from": me, "to": token, "value": "0x0", "input": "0xa9059cbb"}, "receipt": receipt(true, 105)},
        {"hash": B256::repeat_byte(5), "time": 1_700_000_110u64, "tx": {"from": me, "to": them, "value": "0x3782dace9d900000", "input": "0x"}, "receipt": receipt(false, 108)},
        {"hash": B256::repeat_byte(6), "time": 1_700_000_120u64, "tx": {"from": me, "to": them, "value": "0x1", "input": "0x"}, "receipt": null},
    ]))
    .unwrap();
    let tokens = [ListedToken { contract: token, symbol: "TKN".into(), decimals: 18 }];
    let h = history(me, &logs, &sent, &tokens, &Asset::new("ETH", 18)).unwrap();
    let ids: Vec<u8> = h.iter().map(|e| e.id.parse::<B256>().unwrap()[0]).collect();
    assert_eq!(
        ids,
        [6, 5, 2, 1],
        "pending first, then by block; one entry per transfer; other contracts and removed logs left out"
    );
    assert_eq!(
        dir(&h[0]),
        (Direction::Sent, "0.000000000000000001 ETH", Some(them.to_checksum(None).as_str()), Status::Pending)
    );
    assert_eq!(dir(&h[1]).3, Status::Failed);
    assert_eq!(h[1].fee.as_ref().unwrap().display, "0.000021 ETH", "gas used × effective gas price");
    assert_eq!(
        dir(&h[2]),
        (Direction::Sent, "12.5 TKN", Some(them.to_checksum(None).as_str()), Status::Confirmed)
    );
    assert_eq!(
        (h[2].time, h[2].block),
        (Some(1_700_000_105), Some(105)),
        "the log and the broadcast are one entry"
    );
    assert_eq!(
        dir(&h[3]),
        (Direction::Received, "1 TKN", Some(them.to_checksum(None).as_str()), Status::Confirmed)
    );
    assert_eq!((h[3].time, h[3].block, h[3].fee.as_ref()), (None, Some(100), None));
}
