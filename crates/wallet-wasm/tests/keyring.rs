//! Which wallet a passkey opens (`bridge::keyring`, docs/protocol.md §2.1): the origin its own,
//! another passkey the origin's through its envelope — for every operation, since all of them
//! take their PRF output through `bridge::sign` — and a passkey with neither, or with an
//! envelope that does not open, no wallet at all (never its own by mistake); and with no
//! selection, no wallet either (`no_selection`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use blindvault_core::encoding::b64;
use blindvault_core::hpke;
use blindvault_core::schedule::KeySchedule;
use blindvault_core::wallet_envelope::{WALLET_ENVELOPE_LABEL_V1, associated_data};
use blindvault_wallet::{PrfOutput, Wallet};
use blindvault_wallet_wasm::bridge::{self, Failure, keyring};
use serde_json::json;

const ORIGIN: [u8; 32] = [0x11; 32];
const LAPTOP: [u8; 32] = [0x22; 32];
const KEY: [u8; 32] = [0x33; 32];
const USER: &str = "8d6c3f0e-user";

fn id(n: u8) -> String {
    b64::encode(&[n; 16])
}

fn wallet(prf: [u8; 32]) -> Wallet {
    Wallet::from_prf(&PrfOutput::from_slice(&prf).unwrap())
}

fn code<T: core::fmt::Debug>(r: Result<T, Failure>) -> &'static str {
    r.unwrap_err().code().as_str()
}

fn select(credential: u8, envelope: Option<&str>) -> Result<keyring::Selection, Failure> {
    keyring::select(
        &json!({ "userId": USER, "credentialId": id(credential), "origin": id(1), "envelope": envelope })
            .to_string(),
    )
}

/// The envelope the origin's device seals to passkey `to` (credential `n`).
fn sealed_by_origin(to: [u8; 32], n: u8) -> String {
    assert_eq!(select(1, None).unwrap().source, "origin");
    let (mut a, mut b) = (ORIGIN, to);
    let s =
        keyring::seal(&mut a, &mut b, &json!({ "userId": USER, "credentialId": id(n) }).to_string()).unwrap();
    assert_eq!((a, b), ([0; 32], [0; 32]), "both PRF outputs zeroed");
    assert_eq!(s.credential_id, id(n));
    s.envelope
}

fn addresses(prf: [u8; 32]) -> Result<Vec<blindvault_wallet::DerivedAddress>, Failure> {
    let mut p = prf;
    let out = bridge::addresses(&mut p, 0);
    assert_eq!(p, [0; 32], "PRF output zeroed");
    out
}

#[test]
fn the_origin_opens_its_own_wallet_and_another_passkey_the_origins_through_its_envelope() {
    let origin = wallet(ORIGIN).first_addresses().unwrap();
    assert_eq!(select(1, None).unwrap().source, "origin");
    assert_eq!(addresses(ORIGIN).unwrap(), origin);

    let env = sealed_by_origin(LAPTOP, 2);
    assert_eq!(select(2, Some(&env)).unwrap().source, "envelope");
    assert_eq!(addresses(LAPTOP).unwrap(), origin, "the laptop shows the origin's five addresses");
    assert_ne!(wallet(LAPTOP).first_addresses().unwrap(), origin);

    // Signing goes through the same place: the laptop signs as the origin's address.
    select(2, Some(&env)).unwrap();
    let req = json!({
        "chainId": 1, "nonce": 0, "to": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", "value": "1",
        "gasLimit": 21000, "maxFeePerGas": "1", "maxPriorityFeePerGas": "1"
    });
    let mut p = LAPTOP;
    let signed = bridge::evm::sign_transaction(&mut p, &req.to_string()).unwrap();
    assert_eq!(signed.from, origin[0].address);

    // The origin's envelope on the origin is ignored: the origin is its own wallet.
    assert_eq!(select(1, Some(&env)).unwrap().source, "origin");
    assert_eq!(addresses(ORIGIN).unwrap(), origin);
}

#[test]
fn a_device_opened_through_an_envelope_adds_the_next_passkey_to_the_same_wallet() {
    let origin = wallet(ORIGIN).first_addresses().unwrap();
    let laptop_env = sealed_by_origin(LAPTOP, 2);
    select(2, Some(&laptop_env)).unwrap();
    let (mut a, mut b) = (LAPTOP, KEY);
    let key_env =
        keyring::seal(&mut a, &mut b, &json!({ "userId": USER, "credentialId": id(3) }).to_string()).unwrap();
    select(3, Some(&key_env.envelope)).unwrap();
    assert_eq!(addresses(KEY).unwrap(), origin);
}

#[test]
fn a_passkey_with_neither_origin_nor_envelope_opens_no_wallet() {
    assert_eq!(code(select(2, None)), "no_wallet");
    let none = json!({ "userId": USER, "credentialId": id(1), "origin": null }).to_string();
    assert_eq!(code(keyring::select(&none)), "no_wallet", "no origin recorded yet");
    // A refused selection leaves none behind.
    let env = sealed_by_origin(LAPTOP, 2);
    select(2, Some(&env)).unwrap();
    assert_eq!(code(select(2, None)), "no_wallet");
    // The next operation then opens no wallet at all — not the passkey's own.
    assert_eq!(code(addresses(LAPTOP)), "no_selection");
}

/// No selection is no wallet: after a refused selection, or one already taken, neither an
/// operation nor a seal (which would be permanent: envelopes are create-only) falls back to the
/// PRF output's own wallet. Only an explicit `select_own` opens it.
#[test]
fn without_a_selection_no_operation_and_no_seal_opens_any_wallet() {
    keyring::forget();
    assert_eq!(code(addresses(LAPTOP)), "no_selection");
    let mut p = LAPTOP;
    assert_eq!(code(bridge::recovery::phrase(&mut p)), "no_selection");
    assert_eq!(p, [0; 32]);
    // A refused selection clears the slot: the seal that follows fails closed.
    assert_eq!(code(select(2, None)), "no_wallet");
    let (mut a, mut b) = (LAPTOP, KEY);
    let req = json!({ "userId": USER, "credentialId": id(3) }).to_string();
    assert_eq!(code(keyring::seal(&mut a, &mut b, &req)), "no_selection");
    assert_eq!((a, b), ([0; 32], [0; 32]), "both PRF outputs zeroed");
    // Said explicitly, the own wallet opens (once).
    assert_eq!(keyring::select_own().source, "own");
    assert_eq!(addresses(LAPTOP).unwrap(), wallet(LAPTOP).first_addresses().unwrap());
    assert_eq!(code(addresses(LAPTOP)), "no_selection");
}

/// What a server can store: an envelope it sealed itself (base mode, to the passkey's public
/// key, of a wallet it knows), another passkey's or another person's envelope, changed bytes.
/// None opens, and the operation fails instead of showing any wallet.
#[test]
fn an_envelope_that_does_not_open_fails_the_operation_and_never_falls_back() {
    let laptop_env = sealed_by_origin(LAPTOP, 2);
    let key_env = sealed_by_origin(KEY, 3);
    let pk = KeySchedule::derive(&PrfOutput::from_slice(&LAPTOP).unwrap()).approver_public().to_array();
    let aad = associated_data(USER, &[2; 16]).unwrap();
    let forged =
        hpke::seal(&pk, WALLET_ENVELOPE_LABEL_V1, &aad, &[0xee; 32], &mut blindvault_core::rng::os_rng())
            .unwrap();
    let mut forged_bytes = vec![1u8];
    forged_bytes.extend_from_slice(&forged.enc);
    forged_bytes.extend_from_slice(&forged.ct);
    let mut flipped = b64::decode(&laptop_env).unwrap();
    flipped[40] ^= 1;
    for (what, env) in [
        ("server-made", b64::encode(&forged_bytes)),
        ("another passkey's", key_env.clone()),
        ("changed", b64::encode(&flipped)),
    ] {
        select(2, Some(&env)).unwrap();
        assert_eq!(code(addresses(LAPTOP)), "envelope", "{what}");
    }
    // Another person's: the user id is bound.
    let other =
        json!({ "userId": "someone-else", "credentialId": id(2), "origin": id(1), "envelope": laptop_env });
    keyring::select(&other.to_string()).unwrap();
    assert_eq!(code(addresses(LAPTOP)), "envelope");
    // Not an envelope at all: refused when selected.
    for bad in ["AQ", "not base64!", ""] {
        assert_eq!(code(select(2, Some(bad))), "envelope", "{bad:?}");
    }
}

#[test]
fn a_selection_serves_one_operation_only() {
    let env = sealed_by_origin(LAPTOP, 2);
    select(2, Some(&env)).unwrap();
    // Used (and cleared) even by an operation that fails on its request.
    let mut p = LAPTOP;
    assert_eq!(code(bridge::evm::sign_transaction(&mut p, "{\"bogus\":1}")), "bad_request");
    assert_eq!(code(addresses(LAPTOP)), "no_selection", "taken: the next operation opens none");
    select(2, Some(&env)).unwrap();
    assert_eq!(addresses(LAPTOP).unwrap(), wallet(ORIGIN).first_addresses().unwrap());
    assert_eq!(code(addresses(LAPTOP)), "no_selection");
    select(2, Some(&env)).unwrap();
    keyring::forget();
    assert_eq!(code(addresses(LAPTOP)), "no_selection");
}

#[test]
fn sealing_refuses_bad_input_and_zeroes_both_outputs() {
    let req = json!({ "userId": USER, "credentialId": id(2) }).to_string();
    let (mut short, mut b) = ([7u8; 31], LAPTOP);
    assert_eq!(code(keyring::seal(&mut short, &mut b, &req)), "prf_length");
    assert_eq!((short, b), ([0; 31], [0; 32]));
    let (mut a, mut b) = (ORIGIN, ORIGIN);
    assert_eq!(code(keyring::seal(&mut a, &mut b, &req)), "bad_request", "sealing to itself");
    let (mut a, mut b) = (ORIGIN, LAPTOP);
    let bad = json!({ "userId": USER, "credentialId": "***" }).to_string();
    assert_eq!(code(keyring::seal(&mut a, &mut b, &bad)), "bad_encoding");
    assert_eq!((a, b), ([0; 32], [0; 32]));
    let (mut a, mut b) = (ORIGIN, LAPTOP);
    assert_eq!(code(keyring::seal(&mut a, &mut b, "{\"userId\":\"u\"}")), "bad_request");
}
