//! Every vector of shared/vectors that concerns the wallet.

use std::str::FromStr;

use bitcoin::bip32::{Xpriv, Xpub};
use blindvault_wallet::derive::{Ed25519Key, Secp256k1Key, parse_path};
use blindvault_wallet::ton::TonAddresses;
use blindvault_wallet::{Chain, Wallet, evm};

use crate::common::{arr, h32, s, vector};

fn secp() -> bitcoin::secp256k1::Secp256k1<bitcoin::secp256k1::All> {
    bitcoin::secp256k1::Secp256k1::new()
}

/// Checks our key against an xprv parsed by rust-bitcoin.
fn assert_matches_xprv(ours: &Secp256k1Key, xprv: &str, what: &str) {
    let x = Xpriv::from_str(xprv).unwrap();
    assert_eq!(ours.expose_secret(), &x.private_key.secret_bytes(), "{what}: private key");
    assert_eq!(ours.expose_chain_code(), x.chain_code.as_bytes(), "{what}: chain code");
}

#[test]
fn bip39_all_english_vectors() {
    let v = vector("bip39.json");
    let vectors = arr(&v, "vectors");
    assert_eq!(vectors.len(), 24, "all 24 English vectors");
    for t in vectors {
        let entropy = hex::decode(s(t, "entropy")).unwrap();
        let phrase = Wallet::mnemonic_from_entropy(&entropy).unwrap();
        assert_eq!(phrase.expose(), s(t, "mnemonic"));
        let wallet = Wallet::from_mnemonic(s(t, "mnemonic"), s(t, "passphrase")).unwrap();
        assert_eq!(hex::encode(wallet.seed().expose()), s(t, "seed"));
        let master = Secp256k1Key::master(wallet.seed().expose()).unwrap();
        assert_matches_xprv(&master, s(t, "bip32_xprv"), s(t, "mnemonic"));
    }
}

#[test]
fn bip32_vectors_1_to_3() {
    let v = vector("bip32.json");
    let secp = secp();
    let mut checked = 0;
    for t in arr(&v, "vectors") {
        let wallet = Wallet::from_seed(&hex::decode(s(t, "seed_hex")).unwrap()).unwrap();
        for c in arr(t, "chains") {
            let path = parse_path(s(c, "path")).unwrap();
            let key = wallet.secp256k1_key(&path).unwrap();
            assert_matches_xprv(&key, s(c, "xprv"), s(c, "path"));
            let xpub = Xpub::from_str(s(c, "xpub")).unwrap();
            assert_eq!(key.public_key().unwrap(), xpub.public_key, "{} public key", s(c, "path"));
            // And rust-bitcoin's own derivation agrees with the hand-written one.
            let theirs = Xpriv::new_master(bitcoin::NetworkKind::Main, wallet.seed().expose())
                .unwrap()
                .derive_priv(&secp, &path)
                .unwrap();
            assert_eq!(key.expose_secret(), &theirs.private_key.secret_bytes());
            checked += 1;
        }
    }
    assert!(checked >= 14, "checked {checked} chains");
}

#[test]
fn slip10_ed25519_vectors_1_and_2() {
    let v = vector("slip10_ed25519.json");
    let mut checked = 0;
    for t in arr(&v, "vectors") {
        let master = Ed25519Key::master(&hex::decode(s(t, "seed_hex")).unwrap()).unwrap();
        for c in arr(t, "chains") {
            let key = master.derive_path(&parse_path(s(c, "path")).unwrap()).unwrap();
            assert_eq!(hex::encode(key.expose_chain_code()), s(c, "chain_code"), "{}", s(c, "path"));
            assert_eq!(hex::encode(key.expose_secret()), s(c, "private_key"), "{}", s(c, "path"));
            assert_eq!(
                format!("00{}", hex::encode(key.public_key())),
                s(c, "public_key"),
                "{}",
                s(c, "path")
            );
            checked += 1;
        }
    }
    assert!(checked >= 10);
}

/// SLIP-132 zprv: base58check of 78 bytes; chain code at 13..45, key at 46..78.
fn zprv_parts(z: &str) -> ([u8; 32], [u8; 32]) {
    let b = bitcoin::base58::decode_check(z).unwrap();
    assert_eq!(b.len(), 78);
    (b[13..45].try_into().unwrap(), b[46..78].try_into().unwrap())
}

#[test]
fn bip84_vectors() {
    let v = vector("bip84.json");
    let wallet = Wallet::from_mnemonic(s(&v, "mnemonic"), s(&v, "passphrase")).unwrap();
    let root = Secp256k1Key::master(wallet.seed().expose()).unwrap();
    let (cc, k) = zprv_parts(s(&v, "rootpriv"));
    assert_eq!((root.expose_chain_code(), root.expose_secret()), (&cc, &k));
    let account = &v["account0"];
    let key = wallet.secp256k1_key(&parse_path(s(account, "path")).unwrap()).unwrap();
    let (cc, k) = zprv_parts(s(account, "zprv"));
    assert_eq!((key.expose_chain_code(), key.expose_secret()), (&cc, &k));
    for a in arr(&v, "addresses") {
        let path = parse_path(s(a, "path")).unwrap();
        let derived = wallet.address_at(Chain::Bitcoin, &path).unwrap();
        assert_eq!(derived.address, s(a, "address"), "{}", s(a, "label"));
        let key = wallet.secp256k1_key(&path).unwrap();
        let wif = bitcoin::PrivateKey::from_wif(s(a, "privkey_wif")).unwrap();
        assert_eq!(key.expose_secret(), &wif.inner.secret_bytes());
        assert_eq!(hex::encode(key.public_key().unwrap().serialize()), s(a, "pubkey"));
    }
    // The BIP-84 paths are this wallet's defaults for receive index 0 and 1.
    assert_eq!(wallet.address(Chain::Bitcoin, 1).unwrap().address, s(&arr(&v, "addresses")[1], "address"));
}

#[test]
fn eip55_checksums() {
    let v = vector("eip55.json");
    for t in arr(&v, "vectors") {
        let expected = s(t, "checksummed");
        let parsed = evm::parse_address(&expected.to_lowercase()).unwrap();
        assert_eq!(parsed.to_checksum(None), expected);
        // The checksummed form validates, and a flipped letter case is rejected when mixed.
        assert_eq!(evm::parse_address(expected).unwrap(), parsed);
    }
    let good = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";
    let bad = good.replace("aA", "Aa");
    assert!(evm::parse_address(&bad).is_err(), "wrong checksum must be rejected");
}

#[test]
fn addresses_of_the_abandon_mnemonic() {
    let v = vector("addresses_abandon.json");
    let wallet = Wallet::from_mnemonic(s(&v, "mnemonic"), s(&v, "passphrase")).unwrap();
    assert_eq!(hex::encode(wallet.seed().expose()), s(&v, "bip39_seed_hex"));
    let root = Secp256k1Key::master(wallet.seed().expose()).unwrap();
    assert_matches_xprv(&root, s(&v, "bip32_root_xprv"), "root");
    let mut chains = Vec::new();
    for a in arr(&v, "addresses") {
        let chain = match s(a, "chain") {
            "ethereum" => Chain::Evm,
            other => Chain::from_str(other).unwrap(),
        };
        let path = parse_path(s(a, "path")).unwrap();
        assert_eq!(wallet.address_at(chain, &path).unwrap().address, s(a, "address"), "{chain}");
        if let Some(pk) = a["public_key_hex"].as_str() {
            assert_eq!(hex::encode(wallet.ed25519_key(&path).unwrap().public_key()), pk);
        }
        chains.push(chain);
        // Index 0 at the default path is the same address (the paths are DESIGN.md's).
        assert_eq!(wallet.address(chain, 0).unwrap().address, s(a, "address"), "{chain} default path");
    }
    for c in [Chain::Evm, Chain::Bitcoin, Chain::Solana, Chain::Tron] {
        assert!(chains.contains(&c), "vector file lacks {c}");
    }
    // `first_addresses` shares the master keys and m/44' between chains: the same addresses as
    // one-by-one derivation, and as the vector file.
    let first = wallet.first_addresses().unwrap();
    assert_eq!(first.len(), Chain::ALL.len());
    let mut in_vectors = 0;
    for (chain, shown) in Chain::ALL.iter().zip(&first) {
        let alone = wallet.address(*chain, 0).unwrap();
        assert_eq!((&shown.chain, &shown.path, &shown.address), (&alone.chain, &alone.path, &alone.address));
        if let Some(a) = arr(&v, "addresses").iter().find(|a| s(a, "path") == shown.path) {
            assert_eq!(shown.address, s(a, "address"), "{chain} via first_addresses");
            in_vectors += 1;
        }
    }
    assert!(in_vectors >= 4, "only {in_vectors} first addresses are in the vector file");
}

#[test]
fn ton_wallet_v4r2_addresses() {
    let v = vector("ton_wallet_v4r2.json");
    let cases = arr(&v, "private_key_to_address");
    assert!(!cases.is_empty());
    for t in cases {
        let key = Ed25519Key::from_private_key(&h32(s(t, "private_key")));
        let forms = TonAddresses::v4r2(&key.public_key()).unwrap();
        assert_eq!(forms.non_bounceable, s(t, "expected_address"));
    }
    let f = &v["address_forms"];
    let (addr, _) = blindvault_wallet::ton::parse_address(s(f, "raw")).unwrap();
    let forms = TonAddresses::of(&addr);
    assert_eq!(forms.raw, s(f, "raw"));
    assert_eq!(forms.bounceable, s(f, "bounceable_mainnet"));
    assert_eq!(forms.non_bounceable, s(f, "non_bounceable_mainnet"));
    assert_eq!(forms.bounceable_testnet, s(f, "bounceable_testnet"));
    assert_eq!(forms.non_bounceable_testnet, s(f, "non_bounceable_testnet"));
    // Every user-friendly form parses back to the same account, with its bounce flag.
    for (key, bounce) in [("bounceable_mainnet", true), ("non_bounceable_testnet", false)] {
        let (a, b) = blindvault_wallet::ton::parse_address(s(f, key)).unwrap();
        assert_eq!((a, b), (addr.clone(), bounce));
    }
}

#[test]
fn the_same_prf_always_gives_the_same_addresses() {
    let prf = blindvault_wallet::PrfOutput::from_bytes([7u8; 32]);
    let a = Wallet::from_prf(&prf).first_addresses().unwrap();
    let b = Wallet::from_prf(&prf).first_addresses().unwrap();
    assert_eq!(a, b);
    assert_eq!(a.len(), 5);
    let other =
        Wallet::from_prf(&blindvault_wallet::PrfOutput::from_bytes([8u8; 32])).first_addresses().unwrap();
    for (x, y) in a.iter().zip(other.iter()) {
        assert_ne!(x.address, y.address, "{}", x.chain);
    }
    // from_prf = from_entropy(schedule) = from_mnemonic(24 words of that entropy, "").
    let schedule = blindvault_core::schedule::KeySchedule::derive(&prf);
    let words = Wallet::mnemonic_of(schedule.wallet_entropy());
    assert_eq!(words.expose().split(' ').count(), 24);
    let c = Wallet::from_mnemonic(words.expose(), "").unwrap().first_addresses().unwrap();
    assert_eq!(a, c);
    // Index i > 0 and other paths work, and differ.
    let w = Wallet::from_prf(&prf);
    for chain in Chain::ALL {
        assert_ne!(w.address(chain, 0).unwrap().address, w.address(chain, 7).unwrap().address);
    }
}

#[test]
fn default_paths_are_the_documented_ones_and_print_as_parsed() {
    use blindvault_wallet::{Error, path_string};
    // DESIGN.md's paths, written out; `default_path` builds them without parsing a string.
    let documented = |chain: Chain, i: u32| match chain {
        Chain::Evm => format!("m/44'/60'/0'/0/{i}"),
        Chain::Bitcoin => format!("m/84'/0'/0'/0/{i}"),
        Chain::Solana => format!("m/44'/501'/{i}'/0'"),
        Chain::Tron => format!("m/44'/195'/0'/0/{i}"),
        Chain::Ton => format!("m/44'/607'/{i}'"),
    };
    for chain in Chain::ALL {
        for i in [0, 1, 19, 1 << 30, (1 << 31) - 1] {
            let built = chain.default_path(i).unwrap();
            assert_eq!(built, parse_path(&documented(chain, i)).unwrap(), "{chain} {i}");
            assert_eq!(path_string(&built), documented(chain, i), "{chain} {i}");
        }
        for i in [1 << 31, u32::MAX] {
            let err = chain.default_path(i).unwrap_err();
            assert!(
                matches!(err, Error::Path { .. }) && err.to_string().contains("2^31"),
                "{chain} {i}: {err}"
            );
        }
    }
    assert_eq!(path_string(&parse_path("m").unwrap()), "m");
    assert_eq!(path_string(&parse_path("m/0h/1/2H").unwrap()), "m/0'/1/2'");
}

#[test]
fn bad_input_gives_errors_not_panics() {
    use blindvault_wallet::Error;
    assert!(matches!(Wallet::from_mnemonic("abandon abandon", ""), Err(Error::Mnemonic(_))));
    let bad_checksum = crate::common::ABANDON.replace("about", "abandon");
    let err = Wallet::from_mnemonic(&bad_checksum, "").unwrap_err();
    assert!(err.to_string().contains("checksum"), "{err}");
    assert!(!err.to_string().contains("abandon"), "error must not echo the phrase: {err}");
    let err = Wallet::from_mnemonic(&crate::common::ABANDON.replace("about", "zzzz"), "").unwrap_err();
    assert!(!err.to_string().contains("zzzz") && err.to_string().contains("12"), "{err}");
    for p in ["", "44'/60'", "m/x", "m/44'/60'/0'/0/4294967296", "m//1"] {
        assert!(matches!(parse_path(p), Err(Error::Path { .. })), "{p:?}");
    }
    assert!(matches!(Chain::from_str("dogecoin"), Err(Error::UnknownChain(_))));
    let w = Wallet::from_mnemonic(crate::common::ABANDON, "").unwrap();
    // ed25519 refuses non-hardened levels.
    let err = w.address_at(Chain::Solana, &parse_path("m/44'/501'/0'/0").unwrap()).unwrap_err();
    assert!(matches!(err, Error::Path { .. }), "{err}");
    assert!(matches!(Wallet::from_seed(&[0u8; 8]), Err(Error::SeedLength(8))));
    // Mnemonic whitespace and case are normalised.
    let messy = format!("  {}\n", crate::common::ABANDON.replace(' ', "  \t").to_uppercase());
    assert_eq!(Wallet::from_mnemonic(&messy, "").unwrap().seed().expose(), w.seed().expose());
}

#[test]
fn non_ascii_passphrase_is_nfkd_normalised() {
    let composed = Wallet::from_mnemonic(crate::common::ABANDON, "caf\u{e9}").unwrap();
    let decomposed = Wallet::from_mnemonic(crate::common::ABANDON, "cafe\u{301}").unwrap();
    assert_eq!(composed.seed().expose(), decomposed.seed().expose());
    let ascii = Wallet::from_mnemonic(crate::common::ABANDON, "cafe").unwrap();
    assert_ne!(composed.seed().expose(), ascii.seed().expose());
}

/// End to end from a mnemonic for TON (absent from shared/vectors), and Trust Wallet's Solana
/// path through `address_at`: trustwallet/wallet-core, swift/Tests/CoinAddressDerivationTests.swift
/// (commit 3091ef3e3804649b8731d0c5b84b5926dc0fa9fa), mnemonic "shoot island … above":
/// `.ton` (m/44'/607'/0', wallet v4R2, shown bounceable there), `.solana` (m/44'/501'/0'),
/// `.tron` (m/44'/195'/0'/0/0).
#[test]
fn trust_wallet_core_derivation_of_ton_solana_tron() {
    let w = Wallet::from_mnemonic(
        "shoot island position soft burden budget tooth cruel issue economy destroy above",
        "",
    )
    .unwrap();
    let ton_key = w.ed25519_key(&Chain::Ton.default_path(0).unwrap()).unwrap();
    let forms = TonAddresses::v4r2(&ton_key.public_key()).unwrap();
    assert_eq!(forms.bounceable, "EQDgEMqToTacHic7SnvnPFmvceG5auFkCcAw0mSCvzvKUfk9");
    assert_eq!(w.address(Chain::Ton, 0).unwrap().address, forms.non_bounceable);
    let sol = w.address_at(Chain::Solana, &parse_path("m/44'/501'/0'").unwrap()).unwrap();
    assert_eq!(sol.address, "2bUBiBNZyD29gP1oV6de7nxowMLoDBtopMMTGgMvjG5m");
    assert_eq!(w.address(Chain::Tron, 0).unwrap().address, "TQ5NMqJjhpQGK7YJbESKtNCo86PJ89ujio");
}
