//! The bridge, natively: every operation gives exactly what the wallet crate gives for the same
//! PRF output, zeroes the caller's PRF bytes (on success and on failure), and fails with its
//! stable code on bad input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::str::FromStr as _;

use blindvault_wallet::{PrfOutput, Wallet};
use blindvault_wallet_wasm::bridge::{self, Code, Failure, keyring};
use serde_json::{Value, json};

const PRF: [u8; 32] = [0x5a; 32];

fn wallet() -> Wallet {
    Wallet::from_prf(&PrfOutput::from_slice(&PRF).unwrap())
}

/// Runs `op` on a fresh copy of the PRF output, whose own wallet is selected (explicitly: no
/// selection opens none, `tests/keyring.rs`), and checks the copy is zeros afterwards.
fn with_prf<T>(op: impl FnOnce(&mut [u8]) -> T) -> T {
    keyring::select_own();
    let mut prf = PRF;
    let out = op(&mut prf);
    assert_eq!(prf, [0u8; 32], "the caller's PRF output is zeroed");
    out
}

fn code<T: core::fmt::Debug>(r: Result<T, Failure>) -> &'static str {
    r.unwrap_err().code().as_str()
}

#[test]
fn error_codes_are_stable() {
    let codes: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(
        codes,
        [
            "prf_length",
            "bad_request",
            "bad_address",
            "bad_amount",
            "bad_encoding",
            "bad_path",
            "transaction",
            "review_mismatch",
            "wallet",
            "no_wallet",
            "envelope",
            "no_selection"
        ]
    );
}

#[test]
fn addresses_are_the_wallet_crates() {
    let got = with_prf(|p| bridge::addresses(p, 0).unwrap());
    assert_eq!(got, wallet().first_addresses().unwrap());
    assert_eq!(
        got.iter().map(|a| a.chain.as_str()).collect::<Vec<_>>(),
        ["evm", "bitcoin", "solana", "tron", "ton"]
    );
    let third = with_prf(|p| bridge::addresses(p, 3).unwrap());
    for (a, chain) in third.iter().zip(blindvault_wallet::Chain::ALL) {
        assert_eq!(*a, wallet().address(chain, 3).unwrap());
    }
    // A PRF output of another length: refused, and zeroed all the same.
    let mut short = [9u8; 31];
    assert_eq!(code(bridge::addresses(&mut short, 0)), "prf_length");
    assert_eq!(short, [0u8; 31]);
}

fn evm_request() -> Value {
    json!({
        "chainId": 31337, "nonce": 4, "to": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
        "value": "1000000000000000000", "gasLimit": 21000, "maxFeePerGas": "30000000000",
        "maxPriorityFeePerGas": "0x3b9aca00", "data": "0x"
    })
}

#[test]
fn evm_transaction_is_the_wallet_crates() {
    use blindvault_wallet::evm::{TxEip1559, TxKind, U256, parse_address};
    let got = with_prf(|p| bridge::evm::sign_transaction(p, &evm_request().to_string()).unwrap());
    let tx = TxEip1559 {
        chain_id: 31337,
        nonce: 4,
        gas_limit: 21000,
        max_fee_per_gas: 30_000_000_000,
        max_priority_fee_per_gas: 1_000_000_000,
        to: TxKind::Call(parse_address("0x70997970C51812dc3A010C7d01b50e0d17dc79C8").unwrap()),
        value: U256::from(10u64).pow(U256::from(18u64)),
        access_list: Default::default(),
        input: Default::default(),
    };
    let want = wallet().evm_signer(0).unwrap().sign_eip1559(tx).unwrap();
    assert_eq!(got.raw, format!("0x{}", hex::encode(&want.raw)));
    assert_eq!(got.hash, format!("0x{}", hex::encode(want.hash)));
    assert_eq!(got.from, wallet().address(blindvault_wallet::Chain::Evm, 0).unwrap().address);

    // Another account signs from another address.
    let mut r = evm_request();
    r["account"] = json!(1);
    let other = with_prf(|p| bridge::evm::sign_transaction(p, &r.to_string()).unwrap());
    assert_eq!(other.from, wallet().address(blindvault_wallet::Chain::Evm, 1).unwrap().address);
}

#[test]
fn evm_bad_requests_fail_with_their_code_and_zero_the_prf() {
    let cases: [(&str, Value, &str); 8] = [
        ("unknown field", json!({"gasLimt": 1}), "bad_request"),
        ("fractional value", json!({"value": "1.5"}), "bad_amount"),
        ("negative nonce", json!({"nonce": -1}), "bad_request"),
        ("value above 2^256", json!({"value": format!("0x1{}", "0".repeat(64))}), "bad_amount"),
        ("gas above 2^64", json!({"gasLimit": "18446744073709551616"}), "bad_amount"),
        ("bad checksum", json!({"to": "0x70997970c51812dc3A010C7d01b50e0d17dc79C8"}), "bad_address"),
        ("data not hex", json!({"data": "0xzz"}), "bad_encoding"),
        ("chain id 0", json!({"chainId": 0}), "transaction"),
    ];
    for (what, patch, want) in cases {
        let mut r = evm_request();
        for (k, v) in patch.as_object().unwrap() {
            r[k] = v.clone();
        }
        let got = with_prf(|p| bridge::evm::sign_transaction(p, &r.to_string()));
        assert_eq!(code(got), want, "{what}");
    }
    assert_eq!(code(with_prf(|p| bridge::evm::sign_transaction(p, "[1]"))), "bad_request");
}

#[test]
fn evm_messages_are_the_wallet_crates() {
    let signer = wallet().evm_signer(0).unwrap();
    let text = with_prf(|p| bridge::evm::sign_personal(p, r#"{"message":"hello blindvault"}"#).unwrap());
    let hexed = with_prf(|p| {
        bridge::evm::sign_personal(p, &json!({"messageHex": hex::encode("hello blindvault")}).to_string())
            .unwrap()
    });
    assert_eq!(text, hexed);
    assert_eq!(
        text.signature,
        format!("0x{}", hex::encode(signer.sign_personal_message(b"hello blindvault").unwrap()))
    );
    assert_eq!(code(with_prf(|p| bridge::evm::sign_personal(p, "{}"))), "bad_request");

    let typed = json!({
        "types": {
            "EIP712Domain": [{"name": "name", "type": "string"}, {"name": "chainId", "type": "uint256"}],
            "Mail": [{"name": "to", "type": "address"}, {"name": "contents", "type": "string"}]
        },
        "primaryType": "Mail",
        "domain": {"name": "blindvault", "chainId": 1},
        "message": {"to": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", "contents": "hi"}
    });
    let as_object =
        with_prf(|p| bridge::evm::sign_typed_data(p, &json!({"typedData": typed}).to_string()).unwrap());
    let as_text = with_prf(|p| {
        bridge::evm::sign_typed_data(p, &json!({"typedData": typed.to_string()}).to_string()).unwrap()
    });
    assert_eq!(as_object, as_text);
    let (sig, hash) = signer.sign_typed_data_json(&typed.to_string()).unwrap();
    assert_eq!(as_object.signature, format!("0x{}", hex::encode(sig)));
    assert_eq!(as_object.hash, Some(format!("0x{}", hex::encode(hash))));
    assert_eq!(
        code(with_prf(|p| bridge::evm::sign_typed_data(p, r#"{"typedData":{"x":1}}"#))),
        "transaction"
    );
}

#[test]
fn solana_transfers_are_the_wallet_crates() {
    use blindvault_wallet::solana::{SplTransfer, associated_token_address, parse_address, parse_hash};
    let blockhash = "EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N";
    let to = "9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM";
    let mint = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v";
    let signer = wallet().solana_signer(0).unwrap();

    let got = with_prf(|p| {
        bridge::solana::sign_transfer(
            p,
            &json!({"to": to, "lamports": "2500000000", "recentBlockhash": blockhash}).to_string(),
        )
        .unwrap()
    });
    let want = signer
        .sign_transfer(&parse_address(to).unwrap(), 2_500_000_000, parse_hash(blockhash).unwrap())
        .unwrap();
    assert_eq!(got.transaction, bridge::base64(&want.wire));
    assert_eq!(got.signature, want.signature.to_string());
    assert_eq!(got.from, signer.address().to_string());
    // The answer carries what its bytes do, and the decoder gives the same from the bytes alone.
    assert_eq!(got.decoded, blindvault_wallet::solana::decode::decode_transaction(&want.wire).unwrap());
    assert_eq!(bridge::solana::decode(&got.transaction).unwrap(), got.decoded);
    assert_eq!(code(bridge::solana::decode("not base64!")), "bad_encoding");
    assert_eq!(code(bridge::solana::decode(&bridge::base64(b"not a transaction"))), "transaction");

    let req = json!({"mint": mint, "to": to, "amount": 1500000, "decimals": 6, "createRecipientAccount": true, "recentBlockhash": blockhash});
    let got = with_prf(|p| bridge::solana::sign_spl_transfer(p, &req.to_string()).unwrap());
    let transfer = SplTransfer {
        mint: parse_address(mint).unwrap(),
        to: parse_address(to).unwrap(),
        amount: 1_500_000,
        decimals: 6,
        create_recipient_account: true,
    };
    let want = signer.sign_spl_transfer(&transfer, parse_hash(blockhash).unwrap()).unwrap();
    assert_eq!(got.transaction, bridge::base64(&want.wire));
    assert_eq!(
        got.destination_token_account.as_deref(),
        Some(associated_token_address(&transfer.to, &transfer.mint).to_string().as_str())
    );
    assert_eq!(
        got.source_token_account.as_deref(),
        Some(associated_token_address(&signer.address(), &transfer.mint).to_string().as_str())
    );

    let bad_to = json!({"to": "not-base58!", "lamports": 1, "recentBlockhash": blockhash}).to_string();
    assert_eq!(code(with_prf(|p| bridge::solana::sign_transfer(p, &bad_to))), "bad_address");
    let zero = json!({"to": to, "lamports": 0, "recentBlockhash": blockhash}).to_string();
    assert_eq!(code(with_prf(|p| bridge::solana::sign_transfer(p, &zero))), "transaction");
    let no_decimals = json!({"mint": mint, "to": to, "amount": 1, "recentBlockhash": blockhash}).to_string();
    assert_eq!(code(with_prf(|p| bridge::solana::sign_spl_transfer(p, &no_decimals))), "bad_request");
}

#[test]
fn ton_transfer_is_the_wallet_crates() {
    use blindvault_wallet::ton::TonTransfer;
    let to = "EQBvW8Z5huBkMJYdnfAEM5JqTNkuWX3diqYENkWsIL0XggGG";
    let got = with_prf(|p| {
        bridge::ton::sign_transfer(
            p,
            &json!({"to": to, "amountNano": "1500000000", "comment": "hi", "seqno": 3, "validUntil": 1_900_000_000u32, "now": 1_899_999_940u32})
                .to_string(),
        )
        .unwrap()
    });
    let signer = wallet().ton_signer(0).unwrap();
    let want = signer
        .sign_transfer(
            &TonTransfer {
                to: to.to_owned(),
                amount_nano: 1_500_000_000,
                comment: Some("hi".to_owned()),
                seqno: 3,
                valid_until: 1_900_000_000,
            },
            1_899_999_940,
        )
        .unwrap();
    assert_eq!(got.boc, bridge::base64(&want.boc));
    assert_eq!(got.hash, hex::encode(want.hash));
    assert_eq!(got.signed_hash, hex::encode(want.signed_hash));
    assert_eq!(got.from, wallet().address(blindvault_wallet::Chain::Ton, 0).unwrap().address);
    let now = 1_900_000_000u32;
    for valid_until in [0, now, now + 601] {
        let refused =
            json!({"to": to, "amountNano": 1, "seqno": 0, "validUntil": valid_until, "now": now}).to_string();
        assert_eq!(
            code(with_prf(|p| bridge::ton::sign_transfer(p, &refused))),
            "transaction",
            "{valid_until}"
        );
    }
    let no_clock = json!({"to": to, "amountNano": 1, "seqno": 0, "validUntil": now + 60}).to_string();
    assert_eq!(code(with_prf(|p| bridge::ton::sign_transfer(p, &no_clock))), "bad_request");
    let big_seqno =
        json!({"to": to, "amountNano": 1, "seqno": 4294967296u64, "validUntil": 1, "now": 0}).to_string();
    assert_eq!(code(with_prf(|p| bridge::ton::sign_transfer(p, &big_seqno))), "bad_amount");
}

/// A PSBT spending one output paid to this wallet's first receive address (regtest).
fn psbt() -> String {
    use bitcoin::absolute::LockTime;
    use bitcoin::transaction::Version;
    use bitcoin::{Amount, OutPoint, Sequence, Transaction, TxIn, TxOut, Witness};
    let ours = wallet().bitcoin_signer(bitcoin::Network::Regtest).unwrap().address(false, 0).unwrap();
    let prev = Transaction {
        version: Version::TWO,
        lock_time: LockTime::ZERO,
        input: vec![TxIn { previous_output: OutPoint::null(), ..Default::default() }],
        output: vec![TxOut { value: Amount::from_sat(100_000), script_pubkey: ours.script_pubkey() }],
    };
    let to =
        bitcoin::Address::from_str("bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080").unwrap().assume_checked();
    let unsigned = Transaction {
        version: Version::TWO,
        lock_time: LockTime::ZERO,
        input: vec![TxIn {
            previous_output: OutPoint { txid: prev.compute_txid(), vout: 0 },
            sequence: Sequence::ENABLE_RBF_NO_LOCKTIME,
            script_sig: Default::default(),
            witness: Witness::new(),
        }],
        output: vec![TxOut { value: Amount::from_sat(90_000), script_pubkey: to.script_pubkey() }],
    };
    let mut psbt = bitcoin::Psbt::from_unsigned_tx(unsigned).unwrap();
    psbt.inputs[0].non_witness_utxo = Some(prev);
    psbt.to_string()
}

#[test]
fn bitcoin_review_then_sign() {
    let psbt = psbt();
    let review = with_prf(|p| {
        bridge::bitcoin::review(p, &json!({"network": "regtest", "psbt": psbt}).to_string()).unwrap()
    });
    assert_eq!(review["fee_sat"], json!(10_000));
    assert_eq!(review["send_sat"], json!(90_000));
    let signed = with_prf(|p| {
        bridge::bitcoin::sign_psbt(
            p,
            &json!({"network": "regtest", "psbt": psbt, "review": review}).to_string(),
        )
        .unwrap()
    });
    assert_eq!(signed.signed_inputs, vec![0]);
    let tx: bitcoin::Transaction =
        bitcoin::consensus::encode::deserialize_hex(signed.transaction.as_deref().unwrap()).unwrap();
    assert_eq!(tx.compute_txid().to_string(), signed.txid);
    assert_eq!(tx.input[0].witness.len(), 2, "P2WPKH witness: signature and public key");

    // A review that is not the one of this PSBT (here: a lower fee shown) is refused.
    let mut shown = review.clone();
    shown["fee_sat"] = json!(1);
    let r = with_prf(|p| {
        bridge::bitcoin::sign_psbt(
            p,
            &json!({"network": "regtest", "psbt": psbt, "review": shown}).to_string(),
        )
    });
    assert_eq!(code(r), "review_mismatch");
    let r = with_prf(|p| bridge::bitcoin::review(p, r#"{"network":"regtest","psbt":"cHNidP8B"}"#));
    assert_eq!(code(r), "bad_encoding");
    let r = with_prf(|p| bridge::bitcoin::review(p, &json!({"network": "moon", "psbt": psbt}).to_string()));
    assert_eq!(code(r), "transaction");
}

#[test]
fn numbers_take_digits_only() {
    use bridge::Num;
    assert_eq!(Num::Text("0042".into()).u64("x").unwrap(), 42);
    assert_eq!(Num::Text("0xff".into()).u64("x").unwrap(), 255);
    assert_eq!(Num::Int(7).u32("x").unwrap(), 7);
    for bad in ["", " ", "1e3", "+1", "-1", "1_000", "0x", "١٢"] {
        assert_eq!(Num::Text(bad.into()).u64("x").unwrap_err().code(), Code::BadAmount, "{bad:?}");
    }
    assert_eq!(Num::Text("4294967296".into()).u32("x").unwrap_err().code(), Code::BadAmount);
}

#[test]
fn amounts_are_formatted_exactly_by_the_wallet_crate() {
    use bridge::show::format_units;
    assert_eq!(format_units("0", 18).unwrap(), "0");
    assert_eq!(format_units("1", 18).unwrap(), "0.000000000000000001");
    assert_eq!(format_units("1500000", 6).unwrap(), "1.5");
    // A JSON-RPC quantity: 10^18 wei.
    assert_eq!(format_units("0xde0b6b3a7640000", 18).unwrap(), "1");
    assert_eq!(format_units("0x0", 9).unwrap(), "0");
    let max = "115792089237316195423570985008687907853269984665640564039457584007913129639935";
    assert_eq!(
        format_units(max, 18).unwrap(),
        "115792089237316195423570985008687907853269984665640564039457.584007913129639935"
    );
    // Above 2^256 - 1, signs, fractions, exponents, empty hex, decimals out of range.
    for bad in [&format!("{max}0")[..], "-1", "1.5", "1e18", "0x", "", " 12 3", "0xzz"] {
        assert_eq!(code(format_units(bad, 18)), "bad_amount", "{bad:?}");
    }
    assert_eq!(code(format_units("1", 78)), "bad_amount");
}

#[test]
fn qr_codes_cover_the_address_with_whole_modules() {
    use bridge::show::qr;
    let address = wallet().first_addresses().unwrap()[1].address.clone(); // bc1q…, 42 characters
    let symbol = qr(&address).unwrap();
    // Version 3 (29 modules) holds 42 bytes at level M.
    assert_eq!(symbol.size, 29);
    // The path draws the three finder patterns: the top-left module and the one beside the
    // top-right corner are dark; every rectangle is one module high and inside the code.
    assert!(symbol.path.starts_with("M0 0h7v1h-7z"), "{}", &symbol.path[..40]);
    for rect in symbol.path.split('z').filter(|r| !r.is_empty()) {
        let nums: Vec<usize> = rect
            .trim_start_matches('M')
            .replace(['h', 'v'], " ")
            .replace("-", "")
            .split(' ')
            .map(|n| n.parse().unwrap())
            .collect();
        let [x, y, w, one, w2] = nums[..] else { panic!("{rect}") };
        assert!(x + w <= symbol.size && y < symbol.size && one == 1 && w == w2 && w > 0, "{rect}");
    }
    assert_eq!(qr(&address).unwrap(), symbol, "deterministic");
    assert_eq!(code(qr("")), "bad_request");
    assert_eq!(code(qr(&"a".repeat(257))), "bad_request");
}

#[test]
fn evm_send_is_built_decoded_and_signed_only_as_approved() {
    use blindvault_wallet::evm::{EvmTxKind, decode_eip1559};
    let from = wallet().first_addresses().unwrap()[0].address.clone();
    let to = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
    let req = json!({"from": from, "chainId": 31337, "nonce": 0, "to": to, "value": "250000000000000000",
        "gasLimit": 21000, "maxFeePerGas": "2000000000", "maxPriorityFeePerGas": "1000000000", "symbol": "ETH"});
    let built = bridge::evm::build_send(&req.to_string()).unwrap();
    let s = &built.summary;
    assert_eq!(s.kind, EvmTxKind::Native);
    assert_eq!((s.chain_id, s.nonce, s.gas_limit), (31337, 0, 21000));
    assert_eq!((s.from.as_str(), s.recipient.as_str()), (from.as_str(), to));
    assert_eq!(s.amount.display, "0.25 ETH");
    assert_eq!(s.max_fee.display, "0.000042 ETH");
    // The summary is the payload's own decoding.
    let payload = hex::decode(built.payload.trim_start_matches("0x")).unwrap();
    let native = blindvault_wallet::display::Asset::new("ETH", 18);
    assert_eq!(
        decode_eip1559(&payload, blindvault_wallet::evm::parse_address(&from).unwrap(), &native, None)
            .unwrap(),
        *s
    );
    let approved = serde_json::to_value(s).unwrap();
    let signed = with_prf(|p| {
        bridge::evm::sign_reviewed(p, &json!({"payload": built.payload, "summary": approved}).to_string())
            .unwrap()
    });
    assert_eq!(signed.from, from);
    // The same bytes the wallet crate's own signer gives for that transaction (RFC 6979: one
    // signature per key and hash).
    use blindvault_wallet::evm::{TxEip1559, TxKind, U256};
    let tx = TxEip1559 {
        chain_id: 31337,
        nonce: 0,
        gas_limit: 21000,
        max_fee_per_gas: 2_000_000_000,
        max_priority_fee_per_gas: 1_000_000_000,
        to: TxKind::Call(blindvault_wallet::evm::parse_address(to).unwrap()),
        value: U256::from(250_000_000_000_000_000_u64),
        access_list: Default::default(),
        input: Default::default(),
    };
    let direct = wallet().evm_signer(0).unwrap().sign_eip1559(tx).unwrap();
    assert_eq!(signed.raw, format!("0x{}", hex::encode(&direct.raw)));
    // Another amount than the one approved, or another account's key: refused.
    let mut changed = approved.clone();
    changed["amount"]["display"] = json!("0.025 ETH");
    assert_eq!(
        code(with_prf(|p| bridge::evm::sign_reviewed(
            p,
            &json!({"payload": built.payload, "summary": changed}).to_string()
        ))),
        "review_mismatch"
    );
    assert_eq!(
        code(with_prf(|p| bridge::evm::sign_reviewed(
            p,
            &json!({"account": 1, "payload": built.payload, "summary": approved}).to_string()
        ))),
        "review_mismatch"
    );
    assert_eq!(bridge::show::parse_units("0.25", 18).unwrap(), "250000000000000000");
    assert_eq!(code(bridge::show::parse_units("0.1234567", 6)), "bad_amount");
    assert_eq!(code(bridge::show::parse_units("-1", 18)), "bad_amount");
}

#[test]
fn erc20_send_is_built_decoded_and_signed_only_as_approved() {
    use blindvault_wallet::evm::{EvmTxKind, decode_eip1559};
    let from = wallet().address(blindvault_wallet::Chain::Evm, 0).unwrap().address;
    let token = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
    let to = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
    let req = json!({"from": from, "chainId": 31337, "nonce": 3, "to": to, "value": "12500000000000000000",
        "gasLimit": 52000, "maxFeePerGas": "2000000000", "maxPriorityFeePerGas": "1000000000", "symbol": "ETH",
        "token": {"contract": token, "symbol": "TKN", "decimals": 18}});
    let built = bridge::evm::build_send(&req.to_string()).unwrap();
    let s = &built.summary;
    assert_eq!(s.kind, EvmTxKind::Erc20);
    assert_eq!(s.to, token, "the transaction calls the token contract");
    assert_eq!(s.recipient, to, "the recipient is read from the call data");
    assert_eq!(s.token_contract.as_deref(), Some(token));
    assert_eq!(s.amount.display, "12.5 TKN");
    assert_eq!(s.value.display, "0 ETH");
    assert_eq!(s.max_fee.display, "0.000104 ETH");
    // The call data is the one `erc20Encode` gives for the gas estimate.
    let transfer = json!({"call": "transfer", "to": to, "amount": "12500000000000000000"}).to_string();
    assert_eq!(s.data, bridge::erc20::encode(&transfer).unwrap());
    let payload = hex::decode(built.payload.trim_start_matches("0x")).unwrap();
    let tkn = blindvault_wallet::display::Asset::new("TKN", 18);
    let native = blindvault_wallet::display::Asset::new("ETH", 18);
    let me = blindvault_wallet::evm::parse_address(&from).unwrap();
    assert_eq!(decode_eip1559(&payload, me, &native, Some(&tkn)).unwrap(), *s);
    let approved = serde_json::to_value(s).unwrap();
    let signed = with_prf(|p| {
        bridge::evm::sign_reviewed(p, &json!({"payload": built.payload, "summary": approved}).to_string())
            .unwrap()
    });
    assert_eq!(signed.from, from);
    // The same token amount shown with other decimals, or another symbol, is another approval.
    for (field, value) in [("decimals", json!(6)), ("symbol", json!("USDC"))] {
        let mut changed = approved.clone();
        changed["amount"][field] = value;
        assert_eq!(
            code(with_prf(|p| bridge::evm::sign_reviewed(
                p,
                &json!({"payload": built.payload, "summary": changed}).to_string()
            ))),
            "review_mismatch"
        );
    }
    // A bad token is refused before anything is built.
    let mut bad = req.clone();
    bad["token"]["contract"] = json!("0x1234");
    assert_eq!(code(bridge::evm::build_send(&bad.to_string())), "bad_address");
    let mut bad = req.clone();
    bad["token"]["symbol"] = json!("");
    assert_eq!(code(bridge::evm::build_send(&bad.to_string())), "bad_request");
    let mut bad = req;
    bad["token"]["decimals"] = json!(300);
    assert_eq!(code(bridge::evm::build_send(&bad.to_string())), "bad_request");
}

#[test]
fn erc20_reads_are_encoded_and_decoded_by_the_wallet_crate() {
    let owner = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
    assert_eq!(
        bridge::erc20::encode(&json!({"call": "balanceOf", "owner": owner}).to_string()).unwrap(),
        format!("0x70a08231000000000000000000000000{}", owner.trim_start_matches("0x").to_lowercase())
    );
    assert_eq!(bridge::erc20::encode(r#"{"call":"symbol"}"#).unwrap(), "0x95d89b41");
    assert_eq!(bridge::erc20::encode(r#"{"call":"decimals"}"#).unwrap(), "0x313ce567");
    assert_eq!(code(bridge::erc20::encode(r#"{"call":"approve"}"#)), "bad_request");
    assert_eq!(code(bridge::erc20::encode(r#"{"call":"balanceOf","owner":"0x12"}"#)), "bad_address");
    let word = |n: u64| format!("0x{n:064x}");
    assert_eq!(bridge::erc20::decode("balanceOf", &word(1_500_000)).unwrap(), json!("1500000"));
    assert_eq!(bridge::erc20::decode("decimals", &word(6)).unwrap(), json!(6));
    let usdc = format!("0x{}{}{:0<64}", &word(32)[2..], &word(4)[2..], hex::encode("USDC"));
    assert_eq!(bridge::erc20::decode("symbol", &usdc).unwrap(), json!("USDC"));
    // `0x` is what a node returns for a call to an address without code.
    assert_eq!(code(bridge::erc20::decode("symbol", "0x")), "transaction");
    assert_eq!(code(bridge::erc20::decode("decimals", &word(300))), "transaction");
    assert_eq!(code(bridge::erc20::decode("symbol", "0xzz")), "bad_encoding");
    assert_eq!(code(bridge::erc20::decode("totalSupply", &word(1))), "bad_request");
}

#[test]
fn typed_data_is_shown_decoded_and_signed_only_as_shown() {
    let typed = json!({
        "types": {
            "EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"}, {"name": "verifyingContract", "type": "address"}],
            "Person": [{"name": "name", "type": "string"}, {"name": "wallet", "type": "address"}],
            "Mail": [{"name": "from", "type": "Person"}, {"name": "to", "type": "Person"}, {"name": "contents", "type": "string"}]
        },
        "primaryType": "Mail",
        "domain": {"name": "Ether Mail", "version": "1", "chainId": 1,
            "verifyingContract": "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"},
        "message": {
            "from": {"name": "Cow", "wallet": "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"},
            "to": {"name": "Bob", "wallet": "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB"},
            "contents": "Hello, Bob!"
        }
    });
    // From the object's JSON text, or from a JSON string holding it (as a page may pass it).
    let view = bridge::evm::decode_typed_data(&typed.to_string()).unwrap();
    assert_eq!(view, bridge::evm::decode_typed_data(&json!(typed.to_string()).to_string()).unwrap());
    // EIP-712's own "Mail" example: its published signing hash.
    assert_eq!(view.signing_hash, "0xbe609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2");
    assert_eq!(view.domain.name.as_deref(), Some("Ether Mail"));
    assert_eq!(view.domain.chain_id.as_deref(), Some("1"));
    assert_eq!(view.primary_type, "Mail");
    let from = &view.message[0];
    assert_eq!((from.name.as_str(), from.type_name.as_str(), from.children.len()), ("from", "Person", 2));
    assert_eq!(from.children[1].value.as_deref(), Some("0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"));
    let approved = serde_json::to_value(&view).unwrap();
    let signed = with_prf(|p| {
        bridge::evm::sign_typed_data_reviewed(p, &json!({"typedData": typed, "view": approved}).to_string())
            .unwrap()
    });
    let sig: [u8; 65] = hex::decode(signed.signature.trim_start_matches("0x")).unwrap().try_into().unwrap();
    let signer = blindvault_wallet::evm::recover_typed_data_signer(&typed.to_string(), &sig).unwrap();
    assert_eq!(signer.to_checksum(None), signed.address);
    assert_eq!(signed.address, wallet().address(blindvault_wallet::Chain::Evm, 0).unwrap().address);
    assert_eq!(signed.hash.as_deref(), Some(view.signing_hash.as_str()));
    // Typed data changed after it was shown, or a view changed after approval: refused.
    let mut other = typed.clone();
    other["message"]["contents"] = json!("Hello, Eve!");
    for (data, shown) in [
        (other, approved.clone()),
        (typed.clone(), {
            let mut v = approved.clone();
            v["domain"]["chain_id"] = json!("5");
            v
        }),
    ] {
        assert_eq!(
            code(with_prf(|p| bridge::evm::sign_typed_data_reviewed(
                p,
                &json!({"typedData": data, "view": shown}).to_string()
            ))),
            "review_mismatch"
        );
    }
    // Not JSON, not typed data, a value that does not fit its type: plain `transaction` errors.
    assert_eq!(code(bridge::evm::decode_typed_data("{not json")), "transaction");
    assert_eq!(code(bridge::evm::decode_typed_data(r#"{"x":1}"#)), "transaction");
    let mut bad = typed;
    bad["message"]["from"]["wallet"] = json!("0x12");
    assert_eq!(code(bridge::evm::decode_typed_data(&bad.to_string())), "transaction");
}

#[test]
fn messages_are_shown_as_text_or_hex_and_signed_by_the_wallet_crate() {
    let v = bridge::message::view(r#"{"message":"hello\nworld"}"#).unwrap();
    assert_eq!(
        (v.text.as_deref(), v.hex.as_str(), v.length),
        (Some("hello\nworld"), "0x68656c6c6f0a776f726c64", 11)
    );
    let v = bridge::message::view(r#"{"messageHex":"0xdeadbeef"}"#).unwrap();
    assert_eq!((v.text, v.hex.as_str(), v.length), (None, "0xdeadbeef", 4));
    assert_eq!(code(bridge::message::view("{}")), "bad_request");
    assert_eq!(code(bridge::message::view(r#"{"messageHex":"0xzz"}"#)), "bad_encoding");

    // TRON TIP-191: the wallet crate's signature, recovered to the account's address.
    let tron = with_prf(|p| bridge::message::tron_sign_message(p, r#"{"message":"hello tron"}"#).unwrap());
    let signer = wallet().tron_signer(0).unwrap();
    assert_eq!(tron.address, signer.address());
    assert_eq!(tron.signature, format!("0x{}", hex::encode(signer.sign_message(b"hello tron").unwrap())));
    let sig: [u8; 65] = hex::decode(&tron.signature[2..]).unwrap().try_into().unwrap();
    assert_eq!(blindvault_wallet::tron::recover_message_signer(b"hello tron", &sig).unwrap(), tron.address);

    // Solana off-chain message: the wallet crate's signature over the serialized message.
    let sol = with_prf(|p| {
        bridge::message::solana_sign_offchain(p, r#"{"account":2,"message":"hello solana"}"#).unwrap()
    });
    let signer = wallet().solana_signer(2).unwrap();
    let (sig, bytes) = signer.sign_offchain_message(b"hello solana").unwrap();
    assert_eq!(sol.address, signer.address().to_string());
    assert_eq!(sol.signature, sig.to_string());
    assert_eq!(sol.signed_message, format!("0x{}", hex::encode(&bytes)));
    assert!(bytes.starts_with(b"\xffsolana offchain\x00") && bytes.ends_with(b"hello solana"));
    assert_eq!(
        code(with_prf(|p| bridge::message::solana_sign_offchain(p, r#"{"messageHex":"00"}"#))),
        "bad_request"
    );
    assert_eq!(
        code(with_prf(|p| bridge::message::solana_sign_offchain(p, r#"{"message":""}"#))),
        "transaction"
    );
}

#[test]
fn the_recovery_phrase_is_the_published_vectors_words_and_opens_the_same_wallet() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/vectors/wallet_v1.json"))
            .unwrap();
    let vectors: Value = serde_json::from_str(&text).unwrap();
    let cases = vectors["cases"].as_array().unwrap();
    assert!(cases.len() >= 2);
    for case in cases {
        let mut prf: Vec<u8> = hex::decode(case["prf_output"].as_str().unwrap()).unwrap();
        keyring::select_own();
        let phrase = bridge::recovery::phrase(&mut prf).unwrap();
        assert!(prf.iter().all(|b| *b == 0), "the caller's PRF output is zeroed");
        assert_eq!(phrase.expose(), case["mnemonic"].as_str().unwrap());
        // What the page receives: {"words": [24 words]}.
        let answer: Value = serde_json::from_str(&bridge::answer(&phrase).unwrap()).unwrap();
        let words: Vec<&str> =
            answer["words"].as_array().unwrap().iter().map(|w| w.as_str().unwrap()).collect();
        assert_eq!(words.len(), 24);
        assert_eq!(words.join(" "), case["mnemonic"].as_str().unwrap());
        // Those words, in any BIP-39 wallet, open the addresses of the passkey's wallet.
        let restored = Wallet::from_mnemonic(&words.join(" "), "").unwrap().first_addresses().unwrap();
        let expected: Vec<&str> =
            case["addresses"].as_array().unwrap().iter().map(|a| a["address"].as_str().unwrap()).collect();
        assert_eq!(restored.iter().map(|a| a.address.as_str()).collect::<Vec<_>>(), expected);
    }
    keyring::select_own();
    assert!(
        !format!("{:?}", bridge::recovery::phrase(&mut PRF.to_vec()).unwrap()).contains(' '),
        "Debug shows no word"
    );
    assert_eq!(code(bridge::recovery::phrase(&mut [1u8; 31])), "prf_length");
}

#[test]
fn a_message_is_signed_only_if_it_still_shows_as_approved() {
    let shown = serde_json::to_value(bridge::message::view(r#"{"message":"pay 1 ETH"}"#).unwrap()).unwrap();
    let plain = with_prf(|p| bridge::evm::sign_personal(p, r#"{"message":"pay 1 ETH"}"#).unwrap());
    let reviewed = with_prf(|p| {
        bridge::evm::sign_personal(p, &json!({"message": "pay 1 ETH", "view": shown}).to_string()).unwrap()
    });
    assert_eq!(plain, reviewed, "the same signature: the view only guards what is signed");
    // Other bytes than the ones shown, on every chain's message signer: refused.
    let other = json!({"message": "pay 9 ETH", "view": shown}).to_string();
    assert_eq!(code(with_prf(|p| bridge::evm::sign_personal(p, &other))), "review_mismatch");
    assert_eq!(code(with_prf(|p| bridge::message::tron_sign_message(p, &other))), "review_mismatch");
    assert_eq!(code(with_prf(|p| bridge::message::solana_sign_offchain(p, &other))), "review_mismatch");
    // The same text given as hex shows the same view (a view is of the bytes, not the form).
    let hexed = json!({"messageHex": hex::encode("pay 1 ETH"), "view": shown}).to_string();
    assert_eq!(with_prf(|p| bridge::evm::sign_personal(p, &hexed).unwrap()), plain);
}
