//! The wallet's TRON transactions decoded by types generated from TRON's `.proto` files: every
//! field, the txID, the bandwidth the wallet reports, and the signer recovered from the signature.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use alloy_primitives::{B256, Signature, U256};
use blindvault_wallet::Wallet;
use blindvault_wallet::display::Asset;
use blindvault_wallet::tron::{
    RefBlock, SignedTronTx, Trc20Transfer, TronTxKind, TrxTransfer, decode_address, decode_raw_data,
    encode_address,
};
use prost::Message;
use sha2::{Digest, Sha256};
use tron_proto_check::protocol::transaction::contract::ContractType;
use tron_proto_check::protocol::transaction::{Contract, Raw};
use tron_proto_check::protocol::{Transaction, TransferContract, TriggerSmartContract};

const ABANDON: &str =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
const USDT: &str = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t";
const TO: &str = "THTR75o8xXAgCTQqpiot2AFRAjvW1tSbVV";

/// A block as `/wallet/getnowblock` returns it (number 66 000 000; the id's first 8 bytes are
/// the number, as in every TRON block id).
fn block() -> RefBlock {
    let json = serde_json_block();
    RefBlock::from_block_json(&json).unwrap()
}

fn serde_json_block() -> serde_json::Value {
    serde_json::json!({
        "blockID": "0000000003ef1480c3b5a0f3e2d1c4b5a69788796a5b4c3d2e1f0a1b2c3d4e5f",
        "block_header": {"raw_data": {"number": 66_000_000, "timestamp": 1_733_000_000_000i64,
            "witness_address": "41f16412b9a17ee9408646e2a21e16478f72ed1e95", "version": 31}}
    })
}

fn raw_of(signed: &SignedTronTx) -> Raw {
    Raw::decode(signed.raw_data.as_slice()).unwrap()
}

/// The checks every transaction gets: one contract of `kind`, txID = SHA-256(raw_data), the
/// generated types re-encode to the same bytes, the signature recovers to the sender, and the
/// bandwidth the wallet reports is the size of the signed `Transaction` + 64.
fn common_checks(
    signed: &SignedTronTx,
    kind: ContractType,
    url: &str,
    owner: &str,
    bandwidth: u64,
) -> Vec<u8> {
    let raw = raw_of(signed);
    assert_eq!(raw.encode_to_vec(), signed.raw_data, "prost re-encodes the same bytes: canonical");
    assert_eq!(signed.txid[..], Sha256::digest(&signed.raw_data)[..]);
    let sig = Signature::from_raw(&signed.signature).unwrap();
    let signer = sig.recover_address_from_prehash(&B256::from(signed.txid)).unwrap();
    assert_eq!(encode_address(&signer.into_array()), owner);
    let tx =
        Transaction { raw_data: Some(raw.clone()), signature: vec![signed.signature.to_vec()], ret: vec![] };
    assert_eq!(tx.encoded_len() as u64 + 64, bandwidth, "bandwidth = signed size + MAX_RESULT_SIZE_IN_TX");
    assert_eq!(raw.contract.len(), 1);
    let c: &Contract = &raw.contract[0];
    assert_eq!(c.r#type(), kind);
    assert_eq!(c.permission_id, 0);
    assert!(c.provider.is_empty() && c.contract_name.is_empty());
    assert!(raw.auths.is_empty() && raw.data.is_empty() && raw.scripts.is_empty() && raw.ref_block_num == 0);
    let any = c.parameter.as_ref().unwrap();
    assert_eq!(any.type_url, url);
    any.value.clone()
}

#[test]
fn trx_transfer_every_field_txid_and_signer() {
    let signer = Wallet::from_mnemonic(ABANDON, "").unwrap().tron_signer(0).unwrap();
    let b = block();
    let t = TrxTransfer {
        from: signer.address(),
        to: TO.into(),
        amount_sun: 1_234_567,
        ref_block_bytes: b.ref_block_bytes,
        ref_block_hash: b.ref_block_hash,
        expiration_ms: b.block_timestamp_ms + 60_000,
        timestamp_ms: b.block_timestamp_ms,
    };
    let signed = signer.sign_transfer(&t).unwrap();
    let summary = decode_raw_data(&signed.raw_data, None).unwrap();
    assert_eq!(summary.kind, TronTxKind::Trx);
    let value = common_checks(
        &signed,
        ContractType::TransferContract,
        "type.googleapis.com/protocol.TransferContract",
        &signer.address(),
        summary.bandwidth_bytes,
    );
    let raw = raw_of(&signed);
    assert_eq!(raw.ref_block_bytes, [0x14, 0x80], "block number bytes 6..8 of 66 000 000 = 0x03ef1480");
    assert_eq!(raw.ref_block_hash, hex::decode("c3b5a0f3e2d1c4b5").unwrap(), "block id bytes 8..16");
    assert_eq!(raw.expiration, 1_733_000_060_000);
    assert_eq!(raw.timestamp, 1_733_000_000_000);
    assert_eq!(raw.fee_limit, 0);
    let p = TransferContract::decode(value.as_slice()).unwrap();
    assert_eq!(p.owner_address, decode_address(&signer.address()).unwrap());
    assert_eq!(p.to_address, decode_address(TO).unwrap());
    assert_eq!(p.amount, 1_234_567);
    assert_eq!(summary.txid, hex::encode(signed.txid));
}

#[test]
fn trc20_transfer_every_field_txid_and_signer() {
    let signer = Wallet::from_mnemonic(ABANDON, "").unwrap().tron_signer(0).unwrap();
    let b = block();
    let t = Trc20Transfer {
        from: signer.address(),
        token: USDT.into(),
        to: TO.into(),
        amount: U256::from(25_500_000u64),
        fee_limit_sun: 30_000_000,
        ref_block_bytes: b.ref_block_bytes,
        ref_block_hash: b.ref_block_hash,
        expiration_ms: b.block_timestamp_ms + 120_000,
        timestamp_ms: b.block_timestamp_ms,
    };
    let signed = signer.sign_trc20(&t, &Asset::new("USDT", 6)).unwrap();
    let summary = decode_raw_data(&signed.raw_data, Some(&Asset::new("USDT", 6))).unwrap();
    assert_eq!(summary.amount.display, "25.5 USDT");
    let value = common_checks(
        &signed,
        ContractType::TriggerSmartContract,
        "type.googleapis.com/protocol.TriggerSmartContract",
        &signer.address(),
        summary.bandwidth_bytes,
    );
    let raw = raw_of(&signed);
    assert_eq!(raw.fee_limit, 30_000_000);
    assert_eq!(raw.expiration, 1_733_000_120_000);
    let p = TriggerSmartContract::decode(value.as_slice()).unwrap();
    assert_eq!(p.owner_address, decode_address(&signer.address()).unwrap());
    assert_eq!(p.contract_address, decode_address(USDT).unwrap());
    assert_eq!((p.call_value, p.call_token_value, p.token_id), (0, 0, 0));
    // The Solidity ABI of transfer(address,uint256), laid out here by hand as the independent
    // reading: selector, the 20-byte address left-padded to 32, the amount as 32 bytes.
    assert_eq!(p.data.len(), 4 + 32 + 32);
    assert_eq!(p.data[..4], [0xa9, 0x05, 0x9c, 0xbb]);
    assert_eq!(p.data[4..16], [0u8; 12]);
    assert_eq!(p.data[16..36], decode_address(TO).unwrap()[1..]);
    assert_eq!(U256::from_be_slice(&p.data[36..68]), U256::from(25_500_000u64));
}

/// The other direction: a transaction written by the generated types (as a node would) decodes
/// in the wallet to the same summary; one with a field the wallet would not show is refused.
#[test]
fn node_built_transactions_decode_in_the_wallet_or_are_refused() {
    let owner = decode_address("TUEZSdKsoDHQMeZwihtdoBiN46zxhGWYdH").unwrap().to_vec();
    let param = TransferContract {
        owner_address: owner,
        to_address: decode_address(TO).unwrap().to_vec(),
        amount: 5,
    };
    let contract = Contract {
        r#type: ContractType::TransferContract as i32,
        parameter: Some(prost_types::Any {
            type_url: "type.googleapis.com/protocol.TransferContract".into(),
            value: param.encode_to_vec(),
        }),
        ..Default::default()
    };
    let raw = Raw {
        ref_block_bytes: vec![1, 2],
        ref_block_hash: vec![3; 8],
        expiration: 1_700_000_060_000,
        timestamp: 1_700_000_000_000,
        contract: vec![contract.clone()],
        ..Default::default()
    };
    let s = decode_raw_data(&raw.encode_to_vec(), None).unwrap();
    assert_eq!(
        (s.from.as_str(), s.to.as_str(), s.amount.raw.as_str()),
        ("TUEZSdKsoDHQMeZwihtdoBiN46zxhGWYdH", TO, "5")
    );
    assert_eq!(s.amount.display, "0.000005 TRX");
    // A memo (`data`, field 10), a permission id, a second contract: each refused.
    let memo = Raw { data: b"hidden".to_vec(), ..raw.clone() };
    assert!(decode_raw_data(&memo.encode_to_vec(), None).is_err());
    let perm = Raw { contract: vec![Contract { permission_id: 2, ..contract.clone() }], ..raw.clone() };
    assert!(decode_raw_data(&perm.encode_to_vec(), None).is_err());
    let two = Raw { contract: vec![contract.clone(), contract], ..raw };
    assert!(decode_raw_data(&two.encode_to_vec(), None).is_err());
}

/// The wallet's encoder and the generated one write the same bytes across varint and length
/// edges (1-, 2-, 5- and 9-byte varints; amounts up to i64::MAX and 2^256 − 1 token units).
#[test]
fn the_wallet_and_the_generated_encoder_agree_at_the_edges() {
    let owner = decode_address("TUEZSdKsoDHQMeZwihtdoBiN46zxhGWYdH").unwrap();
    let to = decode_address(TO).unwrap();
    for amount in [1i64, 127, 128, 16_383, 16_384, 1 << 31, (1 << 35) - 1, i64::MAX] {
        for (ts, exp) in [(1i64, 2i64), (127, 128), (1_700_000_000_000, 1_700_086_400_000)] {
            let t = TrxTransfer {
                from: "TUEZSdKsoDHQMeZwihtdoBiN46zxhGWYdH".into(),
                to: TO.into(),
                amount_sun: amount,
                ref_block_bytes: [0, 0xff],
                ref_block_hash: [0x80; 8],
                expiration_ms: exp,
                timestamp_ms: ts,
            };
            let param = TransferContract { owner_address: owner.to_vec(), to_address: to.to_vec(), amount };
            let raw = Raw {
                ref_block_bytes: vec![0, 0xff],
                ref_block_hash: vec![0x80; 8],
                expiration: exp,
                timestamp: ts,
                contract: vec![Contract {
                    r#type: ContractType::TransferContract as i32,
                    parameter: Some(prost_types::Any {
                        type_url: "type.googleapis.com/protocol.TransferContract".into(),
                        value: param.encode_to_vec(),
                    }),
                    ..Default::default()
                }],
                ..Default::default()
            };
            assert_eq!(t.raw_data().unwrap(), raw.encode_to_vec(), "amount {amount}, times {ts}/{exp}");
        }
    }
    for amount in [U256::from(1u8), U256::from(u64::MAX), U256::MAX] {
        for fee_limit in [1i64, 1_000_000_000, i64::MAX] {
            let t = Trc20Transfer {
                from: "TUEZSdKsoDHQMeZwihtdoBiN46zxhGWYdH".into(),
                token: USDT.into(),
                to: TO.into(),
                amount,
                fee_limit_sun: fee_limit,
                ref_block_bytes: [1, 2],
                ref_block_hash: [3; 8],
                expiration_ms: 1_700_000_060_000,
                timestamp_ms: 1_700_000_000_000,
            };
            let bytes = t.raw_data().unwrap();
            let raw = Raw::decode(bytes.as_slice()).unwrap();
            assert_eq!(raw.fee_limit, fee_limit);
            assert_eq!(raw.encode_to_vec(), bytes);
            let p =
                TriggerSmartContract::decode(raw.contract[0].parameter.as_ref().unwrap().value.as_slice())
                    .unwrap();
            assert_eq!(U256::from_be_slice(&p.data[36..68]), amount);
        }
    }
}
