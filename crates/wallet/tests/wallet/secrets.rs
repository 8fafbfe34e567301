//! Secret types zeroize and never print themselves.

use blindvault_wallet::derive::{Ed25519Key, Secp256k1Key, parse_path};
use blindvault_wallet::{MnemonicPhrase, PrfOutput, Seed, Wallet};
use zeroize::Zeroize;

use crate::common::ABANDON;

#[test]
fn debug_never_prints_secrets() {
    let w = Wallet::from_mnemonic(ABANDON, "").unwrap();
    let seed_hex = hex::encode(w.seed().expose());
    let path = parse_path("m/44'/60'/0'/0/0").unwrap();
    let k = w.secp256k1_key(&path).unwrap();
    let e = w.ed25519_key(&parse_path("m/44'/501'/0'/0'").unwrap()).unwrap();
    let phrase = Wallet::mnemonic_from_entropy(&[0u8; 16]).unwrap();
    let secrets = [
        hex::encode(k.expose_secret()),
        hex::encode(k.expose_chain_code()),
        hex::encode(e.expose_secret()),
        seed_hex.clone(),
        seed_hex[..16].to_owned(),
    ];
    let printed = [
        format!("{w:?}"),
        format!("{:?}", w.seed()),
        format!("{k:?}"),
        format!("{e:?}"),
        format!("{phrase:?}"),
        format!("{:#?}", w.evm_signer(0).unwrap()),
        format!("{:#?}", w.tron_signer(0).unwrap()),
        format!("{:#?}", w.solana_signer(0).unwrap()),
        format!("{:#?}", w.ton_signer(0).unwrap()),
        format!("{:#?}", w.bitcoin_signer(bitcoin::Network::Bitcoin).unwrap()),
    ];
    for p in &printed {
        for s in &secrets {
            assert!(!p.to_lowercase().contains(s), "Debug output leaks a secret: {p}");
        }
        assert!(!p.contains("abandon"), "Debug output leaks the mnemonic: {p}");
        // Byte-array dumps (e.g. "[94, 176, ...") would also be a leak.
        assert!(
            !p.contains(&format!("{:?}", &w.seed().expose()[..4]).trim_end_matches(']').to_owned()),
            "{p}"
        );
    }
    assert!(format!("{:?}", w.seed()).contains("REDACTED"));
    assert!(format!("{phrase:?}").contains("REDACTED"));
    // The signers' Debug is useful: it shows the public address.
    assert!(format!("{:?}", w.evm_signer(0).unwrap()).contains("0x9858"));
}

#[test]
fn secret_types_zeroize() {
    fn assert_zeroize_on_drop<T: zeroize::ZeroizeOnDrop>() {}
    assert_zeroize_on_drop::<Seed>();
    assert_zeroize_on_drop::<MnemonicPhrase>();
    assert_zeroize_on_drop::<Secp256k1Key>();
    assert_zeroize_on_drop::<Ed25519Key>();
    assert_zeroize_on_drop::<PrfOutput>();
    assert_zeroize_on_drop::<ed25519_dalek::SigningKey>();

    let w = Wallet::from_mnemonic(ABANDON, "").unwrap();
    let mut k = w.secp256k1_key(&parse_path("m/44'/60'/0'/0/0").unwrap()).unwrap();
    k.zeroize();
    assert_eq!(k.expose_secret(), &[0u8; 32]);
    assert_eq!(k.expose_chain_code(), &[0u8; 32]);
    let mut e = w.ed25519_key(&parse_path("m/44'/607'/0'").unwrap()).unwrap();
    e.zeroize();
    assert_eq!(e.expose_secret(), &[0u8; 32]);
    let mut seed = w.seed().clone();
    seed.zeroize();
    assert!(seed.expose().iter().all(|b| *b == 0));
    let mut phrase = Wallet::mnemonic_from_entropy(&[1u8; 32]).unwrap();
    phrase.zeroize();
    assert!(phrase.expose().is_empty());
}
