use blindvault_core::schedule::*;
use sha2::{Digest, Sha256};

#[test]
fn prf_salt_is_the_hash_of_its_label() {
    assert_eq!(PRF_SALT_V1.as_slice(), Sha256::digest(PRF_SALT_LABEL_V1).as_slice());
}

#[test]
fn schedule_is_deterministic_and_domain_separated() {
    let prf = PrfOutput::from_bytes([7u8; 32]);
    let a = KeySchedule::derive(&prf);
    let b = KeySchedule::derive(&prf);
    assert_eq!(a.approver_public(), b.approver_public());
    assert_eq!(a.wallet_entropy(), b.wallet_entropy());
    assert_eq!(a.local_storage_key(), b.local_storage_key());
    // Three different keys from one PRF output.
    let w = a.wallet_entropy().expose();
    let s = a.local_storage_key().expose();
    let x = a.approver_secret().expose();
    assert_ne!(w, s);
    assert_ne!(w, x);
    assert_ne!(s, x);
    // A different PRF output changes everything.
    let c = KeySchedule::derive(&PrfOutput::from_bytes([8u8; 32]));
    assert_ne!(a.approver_public(), c.approver_public());
    assert_ne!(a.wallet_entropy(), c.wallet_entropy());
}

#[test]
fn schedule_matches_hkdf_as_documented() {
    // docs/protocol.md: PRK = HKDF-Extract(salt = SCHEDULE_SALT_V1, IKM = P); each key =
    // HKDF-Expand(PRK, label, 32). Recompute with the hkdf crate directly.
    let p = [0x42u8; 32];
    let ks = KeySchedule::derive(&PrfOutput::from_bytes(p));
    let hk = hkdf::Hkdf::<Sha256>::new(Some(SCHEDULE_SALT_V1), &p);
    let mut out = [0u8; 32];
    hk.expand(INFO_WALLET_V1, &mut out).unwrap();
    assert_eq!(ks.wallet_entropy().expose(), &out);
    hk.expand(INFO_STORAGE_V1, &mut out).unwrap();
    assert_eq!(ks.local_storage_key().expose(), &out);
    hk.expand(INFO_APPROVER_V1, &mut out).unwrap();
    assert_eq!(ks.approver_secret().expose(), &out);
    let pk = x25519_dalek::PublicKey::from(&x25519_dalek::StaticSecret::from(out));
    assert_eq!(ks.approver_public().to_array(), pk.to_bytes());
}

#[test]
fn wrong_length_prf_is_an_error_not_a_panic() {
    assert!(PrfOutput::from_slice(&[0u8; 31]).is_err());
    assert!(PrfOutput::from_slice(&[0u8; 33]).is_err());
    assert!(PrfOutput::from_slice(&[0u8; 32]).is_ok());
}
