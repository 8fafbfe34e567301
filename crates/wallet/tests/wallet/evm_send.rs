//! EVM send and sign screens: builder → unsigned payload → decoded summary → a signature over
//! only what was decoded; EIP-712 and personal_sign shown decoded, and recovered to the address.

use alloy_consensus::transaction::SignerRecoverable;
use alloy_consensus::{Transaction as _, TxEnvelope};
use alloy_eips::eip2718::Decodable2718;
use alloy_primitives::{Address, U256, address, keccak256};
use blindvault_wallet::Error;
use blindvault_wallet::display::Asset;
use blindvault_wallet::evm::{
    Eip1559Request, EvmPayment, EvmSigner, EvmTxKind, EvmTxSummary, decode_eip1559, decode_typed_data,
    personal_message_view, recover_personal_signer, recover_typed_data_signer,
};

use crate::common::ABANDON;

const TOKEN: Address = address!("0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48");
const TO: Address = address!("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed");

fn signer() -> EvmSigner {
    blindvault_wallet::Wallet::from_mnemonic(ABANDON, "").unwrap().evm_signer(0).unwrap()
}

fn eth() -> Asset {
    Asset::new("ETH", 18)
}

fn usdc() -> Asset {
    Asset::new("USDC", 6)
}

fn request(payment: EvmPayment) -> Eip1559Request {
    Eip1559Request {
        chain_id: 11155111,
        nonce: 7,
        payment,
        gas_limit: 65_000,
        max_fee_per_gas: 30_000_000_000,
        max_priority_fee_per_gas: 1_500_000_000,
    }
}

#[test]
fn native_round_trip_summary_equals_the_inputs_and_the_signature_recovers() {
    let s = signer();
    let amount = U256::from(1_250_000_000_000_000_000u128);
    let req = Eip1559Request { gas_limit: 21_000, ..request(EvmPayment::Native { to: TO, amount }) };
    let payload = req.unsigned_payload().unwrap();
    assert_eq!(payload[0], 0x02);
    let sum = decode_eip1559(&payload, s.address(), &eth(), None).unwrap();
    assert_eq!(sum.kind, EvmTxKind::Native);
    assert_eq!((sum.chain_id, sum.nonce, sum.gas_limit), (11155111, 7, 21_000));
    assert_eq!(sum.from, s.address().to_checksum(None));
    assert_eq!(
        (sum.to.as_str(), sum.recipient.as_str()),
        ("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")
    );
    assert_eq!(sum.amount.display, "1.25 ETH");
    assert_eq!(sum.value, sum.amount);
    assert_eq!(sum.data, "0x");
    assert_eq!(sum.max_fee_per_gas.display, "0.00000003 ETH");
    assert_eq!(sum.max_priority_fee_per_gas.raw, "1500000000");
    assert_eq!(sum.max_fee.raw, (21_000u128 * 30_000_000_000).to_string(), "gas limit × max fee per gas");
    assert_eq!(sum.max_fee.display, "0.00063 ETH");
    assert_eq!(sum.signing_hash, format!("{}", keccak256(&payload)));
    let json = serde_json::to_string(&sum).unwrap();
    assert_eq!(serde_json::from_str::<EvmTxSummary>(&json).unwrap(), sum);

    let signed = s.sign_reviewed(&payload, &sum).unwrap();
    let env = TxEnvelope::decode_2718(&mut signed.raw.as_slice()).unwrap();
    assert_eq!(env.recover_signer().unwrap(), s.address());
    assert_eq!((env.chain_id(), env.nonce(), env.value(), env.to()), (Some(11155111), 7, amount, Some(TO)));
    assert_eq!(signed.hash, keccak256(&signed.raw));
}

#[test]
fn erc20_round_trip_shows_the_token_recipient_and_amount() {
    let s = signer();
    let payment = EvmPayment::Erc20 { token: TOKEN, to: TO, amount: U256::from(2_500_000u64) };
    let payload = request(payment).unsigned_payload().unwrap();
    let sum = decode_eip1559(&payload, s.address(), &eth(), Some(&usdc())).unwrap();
    assert_eq!(sum.kind, EvmTxKind::Erc20);
    assert_eq!(sum.to, TOKEN.to_checksum(None), "the transaction goes to the token contract");
    assert_eq!(sum.token_contract.as_deref(), Some(TOKEN.to_checksum(None).as_str()));
    assert_eq!(sum.recipient, TO.to_checksum(None), "the person paid, decoded from the call");
    assert_eq!(sum.amount.display, "2.5 USDC");
    assert_eq!(sum.value.display, "0 ETH");
    assert!(sum.data.starts_with("0xa9059cbb"), "ERC-20 transfer selector");
    assert_eq!(sum.max_fee.raw, (65_000u128 * 30_000_000_000).to_string());
    assert!(decode_eip1559(&payload, s.address(), &eth(), None).is_err(), "no decimals: not shown");
    let signed = s.sign_reviewed(&payload, &sum).unwrap();
    let env = TxEnvelope::decode_2718(&mut signed.raw.as_slice()).unwrap();
    assert_eq!(env.recover_signer().unwrap(), s.address());
    assert_eq!(env.to(), Some(TOKEN));
    assert_eq!(env.value(), U256::ZERO);
}

#[test]
fn every_tampered_bit_changes_the_summary_or_fails() {
    let s = signer();
    let payload = request(EvmPayment::Erc20 { token: TOKEN, to: TO, amount: U256::from(2_500_000u64) })
        .unsigned_payload()
        .unwrap();
    let approved = decode_eip1559(&payload, s.address(), &eth(), Some(&usdc())).unwrap();
    for i in 0..payload.len() {
        for bit in 0..8 {
            let mut t = payload.clone();
            t[i] ^= 1 << bit;
            if let Ok(sum) = decode_eip1559(&t, s.address(), &eth(), Some(&usdc())) {
                assert_ne!(sum, approved, "byte {i} bit {bit}");
                assert_ne!(
                    EvmTxSummary { signing_hash: approved.signing_hash.clone(), ..sum },
                    approved,
                    "byte {i} bit {bit}: only the hash changed"
                );
            }
            assert!(s.sign_reviewed(&t, &approved).is_err(), "byte {i} bit {bit} signed");
        }
    }
}

#[test]
fn sign_reviewed_refuses_what_was_not_approved() {
    let s = signer();
    let payload = request(EvmPayment::Native { to: TO, amount: U256::from(1u8) }).unsigned_payload().unwrap();
    let approved = decode_eip1559(&payload, s.address(), &eth(), None).unwrap();
    let mut other = approved.clone();
    other.recipient = Address::ZERO.to_checksum(None);
    assert_eq!(s.sign_reviewed(&payload, &other).unwrap_err(), Error::ReviewMismatch);
    // Approved for another account: not ours.
    let stranger = EvmSigner::from_private_key(&[7; 32]).unwrap();
    assert_eq!(stranger.sign_reviewed(&payload, &approved).unwrap_err(), Error::ReviewMismatch);
    // The same bytes shown with other decimals are another approval.
    let mut shown = approved.clone();
    shown.value.decimals = 6;
    assert_eq!(s.sign_reviewed(&payload, &shown).unwrap_err(), Error::ReviewMismatch);
    // What the decoder refuses.
    let mut trailing = payload.clone();
    trailing.push(0);
    assert!(decode_eip1559(&trailing, s.address(), &eth(), None).is_err());
    let mut legacy_type = payload.clone();
    legacy_type[0] = 0x01;
    assert!(decode_eip1559(&legacy_type, s.address(), &eth(), None).is_err());
    assert!(decode_eip1559(&[], s.address(), &eth(), None).is_err());
    let mut tx =
        request(EvmPayment::Erc20 { token: TOKEN, to: TO, amount: U256::from(5u8) }).build().unwrap();
    tx.value = U256::from(1u8);
    let with_value = alloy_consensus::SignableTransaction::encoded_for_signing(&tx);
    assert!(decode_eip1559(&with_value, s.address(), &eth(), Some(&usdc())).is_err(), "token + native value");
    let mut tx = request(EvmPayment::Native { to: TO, amount: U256::from(1u8) }).build().unwrap();
    tx.access_list = vec![alloy_eips::eip2930::AccessListItem { address: TO, storage_keys: vec![] }].into();
    let with_list = alloy_consensus::SignableTransaction::encoded_for_signing(&tx);
    assert!(decode_eip1559(&with_list, s.address(), &eth(), None).is_err(), "access list not shown");
    // What the builder refuses.
    let ok = request(EvmPayment::Native { to: TO, amount: U256::from(1u8) });
    assert!(Eip1559Request { chain_id: 0, ..ok.clone() }.build().is_err());
    assert!(Eip1559Request { gas_limit: 0, ..ok.clone() }.build().is_err());
    assert!(Eip1559Request { max_priority_fee_per_gas: ok.max_fee_per_gas + 1, ..ok }.build().is_err());
    assert!(request(EvmPayment::Erc20 { token: TOKEN, to: TO, amount: U256::ZERO }).build().is_err());
}

/// Any other call data is shown as hex, not interpreted, and the native value beside it.
#[test]
fn other_calls_show_their_data() {
    let s = signer();
    let mut tx = request(EvmPayment::Native { to: TO, amount: U256::from(3u8) }).build().unwrap();
    tx.input = vec![0xde, 0xad, 0xbe, 0xef].into();
    let payload = alloy_consensus::SignableTransaction::encoded_for_signing(&tx);
    let sum = decode_eip1559(&payload, s.address(), &eth(), None).unwrap();
    assert_eq!(
        (sum.kind, sum.data.as_str(), sum.amount.raw.as_str()),
        (EvmTxKind::ContractCall, "0xdeadbeef", "3")
    );
}

const MAIL: &str = r#"{"types":{"EIP712Domain":[{"name":"name","type":"string"},{"name":"version","type":"string"},{"name":"chainId","type":"uint256"},{"name":"verifyingContract","type":"address"}],"Person":[{"name":"name","type":"string"},{"name":"wallet","type":"address"}],"Mail":[{"name":"from","type":"Person"},{"name":"to","type":"Person"},{"name":"contents","type":"string"}]},"primaryType":"Mail","domain":{"name":"Ether Mail","version":"1","chainId":1,"verifyingContract":"0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"},"message":{"from":{"name":"Cow","wallet":"0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"},"to":{"name":"Bob","wallet":"0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB"},"contents":"Hello, Bob!"}}"#;

/// EIP-712's own "Mail" example (ethereum/EIPs, assets/eip-712/Example.js), decoded for display.
#[test]
fn eip712_is_shown_decoded_and_signed_only_as_shown() {
    let v = decode_typed_data(MAIL).unwrap();
    assert_eq!(v.domain.name.as_deref(), Some("Ether Mail"));
    assert_eq!(v.domain.version.as_deref(), Some("1"));
    assert_eq!(v.domain.chain_id.as_deref(), Some("1"));
    assert_eq!(v.domain.verifying_contract.as_deref(), Some("0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"));
    assert_eq!(v.domain.salt, None);
    assert_eq!(v.primary_type, "Mail");
    assert_eq!(v.signing_hash, "0xbe609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2");
    let names: Vec<_> = v.message.iter().map(|f| (f.name.as_str(), f.type_name.as_str())).collect();
    assert_eq!(names, [("from", "Person"), ("to", "Person"), ("contents", "string")]);
    let from = &v.message[0];
    assert_eq!(from.value, None);
    assert_eq!(from.children[0].value.as_deref(), Some("Cow"));
    assert_eq!((from.children[1].name.as_str(), from.children[1].type_name.as_str()), ("wallet", "address"));
    assert_eq!(from.children[1].value.as_deref(), Some("0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"));
    assert_eq!(v.message[2].value.as_deref(), Some("Hello, Bob!"));

    let cow = EvmSigner::from_private_key(&keccak256(b"cow").0).unwrap();
    let sig = cow.sign_typed_data_reviewed(MAIL, &v).unwrap();
    assert_eq!(recover_typed_data_signer(MAIL, &sig).unwrap(), cow.address());
    let mut changed = v.clone();
    changed.message[2].value = Some("Hello, Alice!".into());
    assert_eq!(cow.sign_typed_data_reviewed(MAIL, &changed).unwrap_err(), Error::ReviewMismatch);
    let other = MAIL.replace("Hello, Bob!", "Pay Mallory");
    assert_eq!(cow.sign_typed_data_reviewed(&other, &v).unwrap_err(), Error::ReviewMismatch);
    // A message that does not match its types is refused, not shown half-decoded.
    assert!(
        decode_typed_data(&MAIL.replace("\"0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB\"", "\"nope\""))
            .is_err()
    );
    assert!(decode_typed_data("{}").is_err());
}

#[test]
fn eip712_arrays_numbers_and_bytes_as_a_tree() {
    let json = r#"{"types":{"EIP712Domain":[{"name":"name","type":"string"},{"name":"chainId","type":"uint256"},{"name":"salt","type":"bytes32"}],"Item":[{"name":"id","type":"uint256"},{"name":"ok","type":"bool"}],"Order":[{"name":"items","type":"Item[]"},{"name":"delta","type":"int64"},{"name":"tag","type":"bytes"},{"name":"max","type":"uint256"}]},"primaryType":"Order","domain":{"name":"Shop","chainId":"0x89","salt":"0x0000000000000000000000000000000000000000000000000000000000000001"},"message":{"items":[{"id":"0x10","ok":true},{"id":2,"ok":false}],"delta":-5,"tag":"0xcafe","max":"115792089237316195423570985008687907853269984665640564039457584007913129639935"}}"#;
    let v = decode_typed_data(json).unwrap();
    assert_eq!(v.domain.chain_id.as_deref(), Some("137"));
    assert_eq!(
        v.domain.salt.as_deref(),
        Some("0x0000000000000000000000000000000000000000000000000000000000000001")
    );
    let items = &v.message[0];
    assert_eq!((items.type_name.as_str(), items.children.len()), ("Item[]", 2));
    assert_eq!(items.children[0].children[0].value.as_deref(), Some("16"));
    assert_eq!(items.children[1].children[1].value.as_deref(), Some("false"));
    assert_eq!(v.message[1].value.as_deref(), Some("-5"));
    assert_eq!(v.message[2].value.as_deref(), Some("0xcafe"));
    assert_eq!(v.message[3].value.as_deref(), Some(U256::MAX.to_string().as_str()));
    let s = signer();
    let sig = s.sign_typed_data_reviewed(json, &v).unwrap();
    assert_eq!(recover_typed_data_signer(json, &sig).unwrap(), s.address());
}

#[test]
fn personal_sign_shows_text_or_hex_and_recovers() {
    let s = signer();
    let text = b"Sign in to example.org\nNonce: 8f2e";
    let v = personal_message_view(text);
    assert_eq!(v.text.as_deref(), Some("Sign in to example.org\nNonce: 8f2e"));
    let sig = s.sign_personal_message(text).unwrap();
    assert_eq!(recover_personal_signer(text, &sig).unwrap(), s.address());
    let raw = [0x19u8, 0x00, 0xff, 0xfe];
    let v = personal_message_view(&raw);
    assert_eq!((v.text, v.hex.as_str()), (None, "0x1900fffe"));
    let sig = s.sign_personal_message(&raw).unwrap();
    assert_eq!(recover_personal_signer(&raw, &sig).unwrap(), s.address());
    assert_ne!(recover_personal_signer(b"other", &sig).unwrap(), s.address());
}
