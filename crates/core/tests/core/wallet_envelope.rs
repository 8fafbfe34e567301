//! Wallet envelopes (docs/protocol.md §2.1): the second passkey of a person opens the first one's
//! wallet, and nothing else does; the server can neither read nor make one. The committed vector
//! `docs/vectors/wallet_envelope_v1.json` lists its inputs and every intermediate value.

use crate::generated_vectors::check_or_update;
use crate::util::{hex, rng};
use blindvault_core::Error;
use blindvault_core::hpke;
use blindvault_core::schedule::{KeySchedule, PrfOutput, WalletEntropy};
use blindvault_core::wallet_envelope::{
    self, WALLET_ENVELOPE_LABEL_V1, WALLET_ENVELOPE_LEN, WalletEnvelope, associated_data,
};
use serde_json::json;

const FIRST_PRF: [u8; 32] = [0x61; 32];
const SECOND_PRF: [u8; 32] = [0x62; 32];
const USER: &str = "user-1";
const SECOND_CREDENTIAL: [u8; 16] = [0x72; 16];
const RNG_SEED: &str = "blindvault/v1/test-vectors/wallet-envelope";

fn schedule(prf: [u8; 32]) -> KeySchedule {
    KeySchedule::derive(&PrfOutput::from_bytes(prf))
}

fn sealed() -> (KeySchedule, KeySchedule, WalletEnvelope) {
    let (first, second) = (schedule(FIRST_PRF), schedule(SECOND_PRF));
    let env =
        wallet_envelope::seal(first.wallet_entropy(), &second, USER, &SECOND_CREDENTIAL, &mut rng(RNG_SEED))
            .unwrap();
    (first, second, env)
}

#[test]
fn the_second_passkey_opens_the_first_passkey_s_wallet() {
    let (first, second, env) = sealed();
    assert_ne!(
        first.wallet_entropy().expose(),
        second.wallet_entropy().expose(),
        "two passkeys, two entropies"
    );
    let bytes = env.to_bytes();
    assert_eq!(bytes.len(), WALLET_ENVELOPE_LEN);
    let opened = wallet_envelope::open(
        &WalletEnvelope::from_bytes(&bytes).unwrap(),
        &second,
        USER,
        &SECOND_CREDENTIAL,
    )
    .unwrap();
    assert_eq!(opened.expose(), first.wallet_entropy().expose());
}

#[test]
fn another_passkey_person_or_credential_cannot_open_it() {
    let (first, _, env) = sealed();
    let third = schedule([0x63; 32]);
    assert_eq!(wallet_envelope::open(&env, &third, USER, &SECOND_CREDENTIAL), Err(Error::Decrypt));
    assert_eq!(wallet_envelope::open(&env, &first, USER, &SECOND_CREDENTIAL), Err(Error::Decrypt));
    let second = schedule(SECOND_PRF);
    assert_eq!(wallet_envelope::open(&env, &second, "user-2", &SECOND_CREDENTIAL), Err(Error::Decrypt));
    assert_eq!(wallet_envelope::open(&env, &second, USER, &[0x73; 16]), Err(Error::Decrypt));
}

/// The server knows the new passkey's public key (it could be enrolled as an approver) but not
/// its PRF output: an envelope of a wallet it chose, sealed in base mode or with a guessed
/// pre-shared key, does not open; nor does any envelope with one bit changed.
#[test]
fn an_envelope_the_server_made_or_changed_does_not_open() {
    let second = schedule(SECOND_PRF);
    let chosen = WalletEntropy::from_bytes([0xee; 32]);
    let pk = second.approver_public().to_array();
    let aad = associated_data(USER, &SECOND_CREDENTIAL).unwrap();
    let base = hpke::seal(&pk, WALLET_ENVELOPE_LABEL_V1, &aad, chosen.expose(), &mut rng("server")).unwrap();
    let guessed = hpke::seal_psk(
        &pk,
        (&[0u8; 32], WALLET_ENVELOPE_LABEL_V1),
        WALLET_ENVELOPE_LABEL_V1,
        &aad,
        chosen.expose(),
        &mut rng("server"),
    )
    .unwrap();
    for forged in [base, guessed] {
        let mut bytes = vec![0x01];
        bytes.extend_from_slice(&forged.enc);
        bytes.extend_from_slice(&forged.ct);
        let env = WalletEnvelope::from_bytes(&bytes).unwrap();
        assert_eq!(wallet_envelope::open(&env, &second, USER, &SECOND_CREDENTIAL), Err(Error::Decrypt));
    }
    let good = sealed().2.to_bytes();
    for i in 1..good.len() {
        for bit in 0..8 {
            let mut bytes = good.clone();
            bytes[i] ^= 1 << bit;
            let env = WalletEnvelope::from_bytes(&bytes).unwrap();
            assert_eq!(
                wallet_envelope::open(&env, &second, USER, &SECOND_CREDENTIAL),
                Err(Error::Decrypt),
                "{i}/{bit}"
            );
        }
    }
}

#[test]
fn a_malformed_envelope_is_an_encoding_error() {
    let good = sealed().2.to_bytes();
    assert!(matches!(
        WalletEnvelope::from_bytes(&good[..80]),
        Err(Error::Length { expected: 81, got: 80, .. })
    ));
    assert!(matches!(WalletEnvelope::from_bytes(&[]), Err(Error::Length { expected: 81, got: 0, .. })));
    let mut longer = good.clone();
    longer.push(0);
    assert!(matches!(WalletEnvelope::from_bytes(&longer), Err(Error::Length { .. })));
    let mut v2 = good;
    v2[0] = 2;
    assert!(matches!(WalletEnvelope::from_bytes(&v2), Err(Error::UnknownVersion { version: 2, .. })));
    assert!(matches!(associated_data(&"x".repeat(65_536), &[]), Err(Error::TooLong { .. })));
}

/// `docs/vectors/wallet_envelope_v1.json`: inputs, the second passkey's keys, the associated
/// data, the drawn HPKE ephemeral key material and the envelope.
#[test]
fn wallet_envelope_vector_matches_the_committed_file() {
    let (first, second, env) = sealed();
    let mut draw = rng(RNG_SEED);
    let mut ikm = [0u8; 32];
    rand_core::Rng::fill_bytes(&mut draw, &mut ikm);
    let (_, enc) = hpke::derive_keypair(&ikm);
    let bytes = env.to_bytes();
    assert_eq!(bytes[1..33], enc, "enc is DeriveKeyPair of the first 32 bytes of the stream");
    let v = json!({
        "description": "docs/protocol.md §2.1: the first passkey's wallet entropy sealed to the second passkey",
        "inputs": {
            "first_prf_output": hex(&FIRST_PRF),
            "second_prf_output": hex(&SECOND_PRF),
            "user_id": USER,
            "second_credential_id": hex(&SECOND_CREDENTIAL),
            "rng_seed": RNG_SEED,
        },
        "intermediate": {
            "wallet_entropy": hex(first.wallet_entropy().expose()),
            "second_approver_public": hex(&second.approver_public().to_array()),
            "second_wallet_envelope_psk": hex(second.wallet_envelope_psk().expose()),
            "psk_id": hex(WALLET_ENVELOPE_LABEL_V1),
            "info": hex(WALLET_ENVELOPE_LABEL_V1),
            "aad": hex(&associated_data(USER, &SECOND_CREDENTIAL).unwrap()),
            "hpke_ikm": hex(&ikm),
            "enc": hex(&enc),
        },
        "envelope": hex(&bytes),
    });
    check_or_update("wallet_envelope_v1.json", &v);
}
