//! Bitcoin: the address type by purpose (BIP-44/49/84/86 and SLIP-132 vectors), watch-only
//! import of extended public keys, and sending from the BIP-84 account, every signed spend
//! executed by libbitcoinconsensus (Bitcoin Core's script interpreter) against the outputs it
//! spends.
//!
//! Vector sources, all for the mnemonic "abandon ×11 about" with an empty passphrase:
//! - SLIP-0132 (satoshilabs/slips, slip-0132.md, "Bitcoin Test Vectors"): the account keys
//!   m/44'/0'/0' (xprv/xpub), m/49'/0'/0' (yprv/ypub), m/84'/0'/0' (zprv/zpub) and the first
//!   receive address of each. BIP-44 itself publishes no vector, and BIP-49 only testnet ones.
//! - BIP-49 (bitcoin/bips, bip-0049.mediawiki): account m/49'/1'/0' upub, m/49'/1'/0'/0/0's key
//!   and testnet address.
//! - BIP-84 (bip-0084.mediawiki): m/84'/0'/0'/0/0, /0/1 and /1/0 addresses.
//! - BIP-86 (bip-0086.mediawiki): account xpub m/86'/0'/0', internal and output keys and the
//!   addresses of /0/0, /0/1, /1/0.

use std::str::FromStr;

use bitcoin::absolute::LockTime;
use bitcoin::transaction::Version;
use bitcoin::{Amount, Network, OutPoint, ScriptBuf, Sequence, Transaction, TxIn, TxOut, Txid, Witness};
use blindvault_wallet::btc::esplora::{parse_address_utxos, parse_tx_hex};
use blindvault_wallet::btc::send::{MAX_FEE_RATE_SAT_VB, p2wpkh_vsize_bound};
use blindvault_wallet::btc::{
    AddressType, BitcoinError, BitcoinSigner, SendAmount, SendRequest, WalletCoin, WatchOnlyAccount,
};
use blindvault_wallet::derive::parse_path;
use blindvault_wallet::{Chain, Error, Wallet};

use crate::common::ABANDON;

fn wallet() -> Wallet {
    Wallet::from_mnemonic(ABANDON, "").unwrap()
}

fn mainnet(path: &str) -> String {
    wallet().address_at(Chain::Bitcoin, &parse_path(path).unwrap()).unwrap().address
}

const XPUB_44: &str = "xpub6BosfCnifzxcFwrSzQiqu2DBVTshkCXacvNsWGYJVVhhawA7d4R5WSWGFNbi8Aw6ZRc1brxMyWMzG3DSSSSoekkudhUd9yLb6qx39T9nMdj";
const YPUB_49: &str = "ypub6Ww3ibxVfGzLrAH1PNcjyAWenMTbbAosGNB6VvmSEgytSER9azLDWCxoJwW7Ke7icmizBMXrzBx9979FfaHxHcrArf3zbeJJJUZPf663zsP";
const ZPUB_84: &str = "zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf31mGDtKsAYz2oz2AGutZYs";
const XPUB_86: &str = "xpub6BgBgsespWvERF3LHQu6CnqdvfEvtMcQjYrcRzx53QJjSxarj2afYWcLteoGVky7D3UKDP9QyrLprQ3VCECoY49yfdDEHGCtMMj92pReUsQ";
const UPUB_49_TEST: &str = "upub5EFU65HtV5TeiSHmZZm7FUffBGy8UKeqp7vw43jYbvZPpoVsgU93oac7Wk3u6moKegAEWtGNF8DehrnHtv21XXEMYRUocHqguyjknFHYfgY";
const XPRV_44: &str = "xprv9xpXFhFpqdQK3TmytPBqXtGSwS3DLjojFhTGht8gwAAii8py5X6pxeBnQ6ehJiyJ6nDjWGJfZ95WxByFXVkDxHXrqu53WCRGypk2ttuqncb";
const YPRV_49: &str = "yprvAHwhK6RbpuS3dgCYHM5jc2ZvEKd7Bi61u9FVhYMpgMSuZS613T1xxQeKTffhrHY79hZ5PsskBjcc6C2V7DrnsMsNaGDaWev3GLRQRgV7hxF";
const ZPRV_84: &str = "zprvAdG4iTXWBoARxkkzNpNh8r6Qag3irQB8PzEMkAFeTRXxHpbF9z4QgEvBRmfvqWvGp42t42nvgGpNgYSJA9iefm1yYNZKEm7z6qUWCroSQnE";
const UPRV_49_TEST: &str = "uprv91G7gZkzehuMVxDJTYE6tLivdF8e4rvzSu1LFfKw3b2Qx1Aj8vpoFnHdfUZ3hmi9jsvPifmZ24RTN2KhwB8BfMLTVqaBReibyaFFcTP1s9n";

// ---- the address type follows the purpose ---------------------------------------------------

#[test]
fn address_type_follows_the_purpose_bip44_49_84_86() {
    assert_eq!(mainnet("m/44'/0'/0'/0/0"), "1LqBGSKuX5yYUonjxT5qGfpUsXKYYWeabA", "SLIP-132, BIP-44 path");
    assert_eq!(mainnet("m/49'/0'/0'/0/0"), "37VucYSaXLCAsxYyAPfbSi9eh4iEcbShgf", "SLIP-132, BIP-49 path");
    assert_eq!(mainnet("m/84'/0'/0'/0/0"), "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu", "BIP-84");
    assert_eq!(mainnet("m/84'/0'/0'/0/1"), "bc1qnjg0jd8228aq7egyzacy8cys3knf9xvrerkf9g", "BIP-84");
    assert_eq!(mainnet("m/84'/0'/0'/1/0"), "bc1q8c6fshw2dlwun7ekn9qwf37cu2rn755upcp6el", "BIP-84");
    assert_eq!(
        mainnet("m/86'/0'/0'/0/0"),
        "bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr",
        "BIP-86"
    );
    assert_eq!(
        mainnet("m/86'/0'/0'/0/1"),
        "bc1p4qhjn9zdvkux4e44uhx8tc55attvtyu358kutcqkudyccelu0was9fqzwh",
        "BIP-86"
    );
    assert_eq!(
        mainnet("m/86'/0'/0'/1/0"),
        "bc1p3qkhfews2uk44qtvauqyr2ttdsw7svhkl9nkm9s9c3x4ax5h60wqwruhk7",
        "BIP-86"
    );
    // The default path is still BIP-84.
    assert_eq!(wallet().address(Chain::Bitcoin, 0).unwrap().address, mainnet("m/84'/0'/0'/0/0"));
    // `h` marks hardened levels as well as `'`.
    assert_eq!(mainnet("m/44h/0h/0h/0/0"), "1LqBGSKuX5yYUonjxT5qGfpUsXKYYWeabA");
}

/// BIP-86's internal and output keys of m/86'/0'/0'/0/0: the key-path tweak with no script tree.
#[test]
fn bip86_internal_and_output_keys() {
    let w = wallet();
    let pk = w.secp256k1_key(&parse_path("m/86'/0'/0'/0/0").unwrap()).unwrap().public_key().unwrap();
    assert_eq!(
        hex::encode(pk.x_only_public_key().0.serialize()),
        "cc8a4bc64d897bddc5fbc2f670f7a8ba0b386779106cf1223c6fc5d7cd6fc115"
    );
    let out = AddressType::p2tr_output_key(&pk, &bitcoin::secp256k1::Secp256k1::verification_only());
    assert_eq!(
        hex::encode(out.serialize()),
        "a60869f0dbcf1dc659c9cecbaf8050135ea9e8cdc487053f1dc6880949dc684c"
    );
    let secp = bitcoin::secp256k1::Secp256k1::verification_only();
    assert_eq!(
        AddressType::P2tr.script_pubkey(&pk, &secp).to_hex_string(),
        "5120a60869f0dbcf1dc659c9cecbaf8050135ea9e8cdc487053f1dc6880949dc684c"
    );
}

/// BIP-49's own vector is on testnet: m/49'/1'/0'/0/0 → 2Mww8dCYPUpKHofjgcXcBCEGmniw9CoaiD2.
#[test]
fn bip49_testnet_vector_and_test_network_prefixes() {
    let w = wallet();
    let path = parse_path("m/49'/1'/0'/0/0").unwrap();
    let key = w.secp256k1_key(&path).unwrap();
    assert_eq!(
        hex::encode(key.expose_secret()),
        "c9bdb49cfbaedca21c4b1f3a7803c34636b1d7dc55a717132443fc3f4c5867e8"
    );
    assert_eq!(
        hex::encode(key.public_key().unwrap().serialize()),
        "03a1af804ac108a8a51782198c2d034b28bf90c8803f5a53f76276fa69a4eae77f"
    );
    assert_eq!(
        w.bitcoin_address_at(&path, Network::Testnet).unwrap().address,
        "2Mww8dCYPUpKHofjgcXcBCEGmniw9CoaiD2"
    );
    // The other types' test-network prefixes.
    let p2pkh = w.bitcoin_address_at(&parse_path("m/44'/1'/0'/0/0").unwrap(), Network::Regtest).unwrap();
    assert!(p2pkh.address.starts_with('m') || p2pkh.address.starts_with('n'), "{}", p2pkh.address);
    let p2tr = w.bitcoin_address_at(&parse_path("m/86'/1'/0'/0/0").unwrap(), Network::Testnet).unwrap();
    assert!(p2tr.address.starts_with("tb1p"), "{}", p2tr.address);
    let p2wpkh = w.bitcoin_address_at(&parse_path("m/84'/1'/0'/0/0").unwrap(), Network::Regtest).unwrap();
    assert!(p2wpkh.address.starts_with("bcrt1q"), "{}", p2wpkh.address);
}

#[test]
fn an_unknown_purpose_is_a_typed_error_naming_the_known_ones() {
    let w = wallet();
    for (path, purpose) in [
        ("m/45'/0'/0'/0/0", "45'"),
        ("m/0'/0'/0'/0/0", "0'"),
        ("m/84/0/0/0/0", "84 (not hardened)"),
        ("m", "no purpose level"),
    ] {
        let err = w.address_at(Chain::Bitcoin, &parse_path(path).unwrap()).unwrap_err();
        let Error::Bitcoin(BitcoinError::UnknownPurpose { purpose: p, .. }) = &err else {
            panic!("{path}: {err:?}");
        };
        assert_eq!(p, purpose);
        let text = err.to_string();
        for known in ["44' (P2PKH", "49' (P2SH-P2WPKH", "84' (P2WPKH", "86' (P2TR"] {
            assert!(text.contains(known), "{text}");
        }
        assert!(w.bitcoin_address_at(&parse_path(path).unwrap(), Network::Regtest).is_err());
    }
    assert_eq!(AddressType::of_path(&parse_path("m/86'/0'/0'").unwrap()).unwrap(), AddressType::P2tr);
    assert_eq!(AddressType::ALL.map(AddressType::purpose), [44, 49, 84, 86]);
}

// ---- watch-only import ----------------------------------------------------------------------

#[test]
fn watch_only_slip132_keys_give_the_published_addresses() {
    let cases = [
        (XPUB_44, None, AddressType::P2pkh, "1LqBGSKuX5yYUonjxT5qGfpUsXKYYWeabA", "m/44'/0'/0'"),
        (YPUB_49, None, AddressType::P2shP2wpkh, "37VucYSaXLCAsxYyAPfbSi9eh4iEcbShgf", "m/49'/0'/0'"),
        (ZPUB_84, None, AddressType::P2wpkh, "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu", "m/84'/0'/0'"),
        (
            XPUB_86,
            Some(AddressType::P2tr),
            AddressType::P2tr,
            "bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr",
            "m/86'/0'/0'",
        ),
    ];
    let w = wallet();
    for (key, chosen, ty, first, account) in cases {
        let acct = WatchOnlyAccount::parse(key, Network::Bitcoin, chosen).unwrap();
        assert_eq!(acct.address_type(), ty);
        assert_eq!(acct.depth(), 3);
        assert_eq!(acct.address(false, 0).unwrap().to_string(), first, "{ty}");
        // Receive and change addresses equal the wallet's own at the full path.
        let receive = acct.addresses(false, 0, 3).unwrap();
        let change = acct.addresses(true, 0, 2).unwrap();
        for (i, a) in receive.iter().enumerate() {
            assert_eq!(a.to_string(), mainnet(&format!("{account}/0/{i}")), "{ty} receive {i}");
        }
        for (i, a) in change.iter().enumerate() {
            assert_eq!(a.to_string(), mainnet(&format!("{account}/1/{i}")), "{ty} change {i}");
        }
        assert_eq!(acct.address(true, 1).unwrap(), change[1]);
        // And the xpub is the one of the wallet's own account key.
        let own = w.secp256k1_key(&parse_path(account).unwrap()).unwrap();
        assert_eq!(acct.xpub().public_key, own.public_key().unwrap());
        assert_eq!(acct.xpub().chain_code.as_bytes(), own.expose_chain_code());
    }
    // BIP-84 and BIP-86 change addresses as published.
    let z = WatchOnlyAccount::parse(ZPUB_84, Network::Bitcoin, None).unwrap();
    assert_eq!(z.address(true, 0).unwrap().to_string(), "bc1q8c6fshw2dlwun7ekn9qwf37cu2rn755upcp6el");
    let t = WatchOnlyAccount::parse(XPUB_86, Network::Bitcoin, Some(AddressType::P2tr)).unwrap();
    assert_eq!(
        t.address(true, 0).unwrap().to_string(),
        "bc1p3qkhfews2uk44qtvauqyr2ttdsw7svhkl9nkm9s9c3x4ax5h60wqwruhk7"
    );
    // BIP-49's testnet upub, on testnet and signet (both test networks).
    for net in [Network::Testnet, Network::Signet] {
        let u = WatchOnlyAccount::parse(UPUB_49_TEST, net, None).unwrap();
        assert_eq!(u.address(false, 0).unwrap().to_string(), "2Mww8dCYPUpKHofjgcXcBCEGmniw9CoaiD2");
    }
    // Whitespace around a pasted key is fine.
    assert!(WatchOnlyAccount::parse(&format!("  {ZPUB_84}\n"), Network::Bitcoin, None).is_ok());
}

/// A private key pasted by mistake is refused, said to be private, and never repeated.
#[test]
fn watch_only_refuses_a_private_key_and_never_echoes_it() {
    for (key, prefix, net) in [
        (XPRV_44, "xprv", Network::Bitcoin),
        (YPRV_49, "yprv", Network::Bitcoin),
        (ZPRV_84, "zprv", Network::Bitcoin),
        (UPRV_49_TEST, "uprv", Network::Testnet),
        // On the wrong network too: "private" wins over "wrong network".
        (ZPRV_84, "zprv", Network::Testnet),
    ] {
        let err = WatchOnlyAccount::parse(key, net, None).unwrap_err();
        assert_eq!(err, Error::Bitcoin(BitcoinError::PrivateExtendedKey { prefix }));
        let text = format!("{err} {err:?}");
        assert!(text.contains("private key"), "{text}");
        for window in key.as_bytes().windows(8).skip(1) {
            assert!(!text.contains(std::str::from_utf8(window).unwrap()), "echoes the key: {text}");
        }
    }
}

#[test]
fn watch_only_bad_checksum_network_version_and_type_are_typed_errors() {
    // A character changed: the checksum fails (and the text is not echoed).
    let mut bad = ZPUB_84.to_owned();
    bad.replace_range(20..21, if &ZPUB_84[20..21] == "a" { "b" } else { "a" });
    let err = WatchOnlyAccount::parse(&bad, Network::Bitcoin, None).unwrap_err();
    assert!(
        matches!(&err, Error::Bitcoin(BitcoinError::ExtendedKeyEncoding { reason }) if reason.contains("checksum")),
        "{err:?}"
    );
    assert!(!err.to_string().contains(&bad[4..20]));
    // Not base58 at all (0, O, I, l are outside the alphabet).
    assert!(matches!(
        WatchOnlyAccount::parse("zpub0OIl", Network::Bitcoin, None).unwrap_err(),
        Error::Bitcoin(BitcoinError::ExtendedKeyEncoding { .. })
    ));
    // The wrong network, both ways.
    assert!(matches!(
        WatchOnlyAccount::parse(ZPUB_84, Network::Testnet, None).unwrap_err(),
        Error::Bitcoin(BitcoinError::ExtendedKeyNetwork { prefix: "zpub", key_network: "mainnet", .. })
    ));
    assert!(matches!(
        WatchOnlyAccount::parse(UPUB_49_TEST, Network::Bitcoin, None).unwrap_err(),
        Error::Bitcoin(BitcoinError::ExtendedKeyNetwork { prefix: "upub", .. })
    ));
    // A zpub is P2WPKH: asking for P2TR is refused; asking for P2WPKH is fine.
    assert_eq!(
        WatchOnlyAccount::parse(ZPUB_84, Network::Bitcoin, Some(AddressType::P2tr)).unwrap_err(),
        Error::Bitcoin(BitcoinError::ExtendedKeyType { prefix: "zpub", fixed: "p2wpkh" })
    );
    assert!(WatchOnlyAccount::parse(ZPUB_84, Network::Bitcoin, Some(AddressType::P2wpkh)).is_ok());
    // A multisig Zpub (SLIP-132 version 02aa7ed3, same key bytes) and an unknown version.
    let mut data = bitcoin::base58::decode_check(ZPUB_84).unwrap();
    data[..4].copy_from_slice(&[0x02, 0xaa, 0x7e, 0xd3]);
    let err =
        WatchOnlyAccount::parse(&bitcoin::base58::encode_check(&data), Network::Bitcoin, None).unwrap_err();
    assert!(err.to_string().contains("multisig"), "{err}");
    data[..4].copy_from_slice(&[1, 2, 3, 4]);
    assert!(matches!(
        WatchOnlyAccount::parse(&bitcoin::base58::encode_check(&data), Network::Bitcoin, None).unwrap_err(),
        Error::Bitcoin(BitcoinError::ExtendedKeyVersion { .. })
    ));
    // Wrong length, and a public key that is not a point.
    let mut short = bitcoin::base58::decode_check(ZPUB_84).unwrap();
    short.truncate(77);
    assert!(WatchOnlyAccount::parse(&bitcoin::base58::encode_check(&short), Network::Bitcoin, None).is_err());
    let mut off_curve = bitcoin::base58::decode_check(ZPUB_84).unwrap();
    off_curve[45] = 0x05;
    assert!(matches!(
        WatchOnlyAccount::parse(&bitcoin::base58::encode_check(&off_curve), Network::Bitcoin, None)
            .unwrap_err(),
        Error::Bitcoin(BitcoinError::ExtendedKeyInvalid { .. })
    ));
    // Empty input.
    assert!(WatchOnlyAccount::parse("", Network::Bitcoin, None).is_err());
}

// ---- chain API replies ----------------------------------------------------------------------

#[test]
fn esplora_replies_parse_into_typed_values() {
    let json = r#"[
      {"txid":"8ac60eb9575db5b2d987e29f301b5b819ea83a5c6579d282d189cc04b8e151ef","vout":1,
       "status":{"confirmed":true,"block_height":840000,
                 "block_hash":"0000000000000000000320283a032748cef8227873ff4872689bf23f1cda83a5",
                 "block_time":1713571767},"value":600000000},
      {"txid":"9f96ade4b41d5433f4eda31e1738ec2b36f6e7d1420d94a6af99801a88f7f7ff","vout":0,
       "status":{"confirmed":false},"value":1000,"extra":"ignored"}
    ]"#;
    let utxos = parse_address_utxos(json).unwrap();
    assert_eq!(utxos.len(), 2);
    assert_eq!(
        utxos[0].outpoint.to_string(),
        "8ac60eb9575db5b2d987e29f301b5b819ea83a5c6579d282d189cc04b8e151ef:1"
    );
    assert_eq!(
        (utxos[0].value_sat, utxos[0].status.confirmed, utxos[0].status.block_height),
        (600_000_000, true, Some(840_000))
    );
    assert_eq!((utxos[1].status.confirmed, utxos[1].status.block_height), (false, None));
    assert!(parse_address_utxos("[]").unwrap().is_empty());
    for bad in [
        "{}",
        r#"[{"txid":"zz","vout":0,"value":1,"status":{"confirmed":true}}]"#,
        r#"[{"txid":"8ac60eb9575db5b2d987e29f301b5b819ea83a5c6579d282d189cc04b8e151ef","vout":0,"value":1}]"#,
        r#"[{"txid":"8ac60eb9575db5b2d987e29f301b5b819ea83a5c6579d282d189cc04b8e151ef","vout":0,"value":2100000000000001,"status":{"confirmed":true}}]"#,
    ] {
        assert!(
            matches!(parse_address_utxos(bad).unwrap_err(), Error::Bitcoin(BitcoinError::ChainData(_))),
            "{bad}"
        );
    }
    // /tx/:txid/hex: BIP-143's unsigned example transaction.
    let hex = "0100000002fff7f7881a8099afa6940d42d1e7f6362bec38171ea3edf433541db4e4ad969f0000000000eeffffffef51e1b804cc89d182d279655c3aa89e815b1b309fe287d9b2b55d57b90ec68a0100000000ffffffff02202cb206000000001976a9148280b37df378db99f66f85c95a783a76ac7a6d5988ac9093510d000000001976a9143bde42dbee7e4dbe6a21b2d50ce2f0167faa815988ac11000000";
    let tx = parse_tx_hex(&format!("{hex}\n")).unwrap();
    assert_eq!(tx.input.len(), 2);
    assert!(parse_tx_hex("zz").is_err());
    assert!(parse_tx_hex(&format!("{hex}00")).is_err(), "trailing bytes");
}

// ---- sending --------------------------------------------------------------------------------

/// A previous transaction paying `outputs` (made distinct by `tag`), as a node would return it.
fn prev_tx(tag: u8, outputs: Vec<TxOut>) -> Transaction {
    Transaction {
        version: Version::TWO,
        lock_time: LockTime::ZERO,
        input: vec![TxIn {
            previous_output: OutPoint {
                txid: Txid::from_str(&format!("{tag:02x}").repeat(32)).unwrap(),
                vout: 0,
            },
            script_sig: ScriptBuf::new(),
            sequence: Sequence::MAX,
            witness: Witness::new(),
        }],
        output: outputs,
    }
}

fn pay(sat: u64, to: &bitcoin::Address) -> TxOut {
    TxOut { value: Amount::from_sat(sat), script_pubkey: to.script_pubkey() }
}

/// A funded regtest wallet: coins on receive 0 (confirmed, 50,000 and 20,000), receive 3
/// (confirmed, 30,000), change 0 (unconfirmed, 80,000). Returns the signer, the coins as the
/// chain API lists them (parsed from its JSON), and the previous transactions (parsed from hex).
fn funded() -> (BitcoinSigner, Vec<WalletCoin>, Vec<Transaction>) {
    let signer = wallet().bitcoin_signer(Network::Regtest).unwrap();
    let (r0, r3, c0) = (
        signer.address(false, 0).unwrap(),
        signer.address(false, 3).unwrap(),
        signer.address(true, 0).unwrap(),
    );
    let stranger = stranger();
    let t1 = prev_tx(1, vec![pay(50_000, &r0), pay(7_777, &stranger), pay(20_000, &r0)]);
    let t2 = prev_tx(2, vec![pay(30_000, &r3)]);
    let t3 = prev_tx(3, vec![pay(80_000, &c0)]);
    let status = |confirmed: bool| {
        if confirmed {
            r#"{"confirmed":true,"block_height":101,"block_hash":"0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206","block_time":1296688602}"#
        } else {
            r#"{"confirmed":false}"#
        }
    };
    let utxo = |t: &Transaction, vout: u32, confirmed: bool| {
        format!(
            r#"{{"txid":"{}","vout":{vout},"status":{},"value":{}}}"#,
            t.compute_txid(),
            status(confirmed),
            t.output[vout as usize].value.to_sat()
        )
    };
    let mut coins = Vec::new();
    let replies = [
        (false, 0, format!("[{},{}]", utxo(&t1, 0, true), utxo(&t1, 2, true))),
        (false, 3, format!("[{}]", utxo(&t2, 0, true))),
        (true, 0, format!("[{}]", utxo(&t3, 0, false))),
    ];
    for (change, index, reply) in replies {
        for u in parse_address_utxos(&reply).unwrap() {
            coins.push(WalletCoin { utxo: u, change, index });
        }
    }
    let prevs = [&t1, &t2, &t3]
        .iter()
        .map(|t| parse_tx_hex(&bitcoin::consensus::encode::serialize_hex(*t)).unwrap())
        .collect();
    (signer, coins, prevs)
}

fn stranger() -> bitcoin::Address {
    Wallet::from_mnemonic("zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo wrong", "")
        .unwrap()
        .bitcoin_signer(Network::Regtest)
        .unwrap()
        .address(false, 0)
        .unwrap()
}

fn request(to: &str, amount: SendAmount, rate: u64) -> SendRequest {
    SendRequest { recipient: to.to_owned(), amount, fee_rate_sat_vb: rate, change_index: 1 }
}

/// Executes `tx` in libbitcoinconsensus against the outputs it spends, from `prevs` (natively;
/// the C++ library does not build for wasm32, where each test's other checks still run).
fn execute(tx: &Transaction, prevs: &[Transaction]) {
    #[cfg(not(target_arch = "wasm32"))]
    consensus::verify_all(tx, &spent_outputs(tx, prevs)).unwrap();
    #[cfg(target_arch = "wasm32")]
    let _ = (tx, prevs);
}

/// The output each input of `tx` spends, from the previous transactions.
#[cfg_attr(target_arch = "wasm32", allow(dead_code))]
fn spent_outputs(tx: &Transaction, prevs: &[Transaction]) -> Vec<TxOut> {
    tx.input
        .iter()
        .map(|i| {
            let prev = prevs.iter().find(|p| p.compute_txid() == i.previous_output.txid).unwrap();
            prev.output[i.previous_output.vout as usize].clone()
        })
        .collect()
}

#[test]
fn send_takes_confirmed_coins_largest_first_pays_change_and_signs() {
    let (signer, coins, prevs) = funded();
    let to = stranger().to_string();
    // 60,000 sat at 5 sat/vB: 50,000 alone is short; 50,000 + 30,000 (the largest confirmed
    // ones) pay it, with change; the unconfirmed 80,000 is not touched.
    let plan = signer.plan_send(&coins, &prevs, &request(&to, SendAmount::Exact(60_000), 5)).unwrap();
    let spent: Vec<String> = plan.inputs.iter().map(ToString::to_string).collect();
    let mut expected = vec![coins[0].utxo.outpoint.to_string(), coins[2].utxo.outpoint.to_string()];
    expected.sort();
    assert_eq!(spent, expected, "the two largest confirmed coins, in BIP-69 order");
    // 2 P2WPKH inputs, 2 P2WPKH outputs: 10.5 + 2 × 68 + 2 × 31 = 208.5 → 209 vB (bound).
    assert_eq!(plan.vsize, 209);
    assert_eq!(plan.fee_sat, 209 * 5);
    assert_eq!(plan.dust_to_fee_sat, 0);
    let change = plan.change.clone().unwrap();
    assert_eq!(change.path, "m/84'/1'/0'/1/1", "the next change address");
    assert_eq!(change.address, signer.address(true, 1).unwrap().to_string());
    assert_eq!(change.value_sat, 80_000 - 60_000 - 209 * 5);
    // The review (what the confirmation shows) agrees, from the PSBT's own bytes.
    let r = &plan.review;
    assert_eq!(
        (r.fee_sat, r.estimated_vsize, r.send_sat, r.change_sat),
        (1_045, 209, 60_000, change.value_sat)
    );
    assert_eq!(r.outputs.iter().filter(|o| o.change.as_deref() == Some("m/84'/1'/0'/1/1")).count(), 1);
    assert!(plan.psbt.unsigned_tx.input.iter().all(|i| i.sequence == Sequence::ENABLE_RBF_NO_LOCKTIME));
    assert!(plan.psbt.unsigned_tx.is_explicitly_rbf());
    assert_eq!(p2wpkh_vsize_bound(&plan.psbt.unsigned_tx), plan.vsize);
    // The confirmation, read from the PSBT's review: recipient, amount, vbytes × rate, change.
    let c = plan.confirmation();
    assert_eq!((c.network.as_str(), c.txid.as_str(), c.input_count), ("regtest", r.txid.as_str(), 2));
    assert_eq!(c.recipients.len(), 1);
    assert_eq!((c.recipients[0].address.as_deref(), c.recipients[0].value_sat), (Some(to.as_str()), 60_000));
    assert_eq!(c.change.len(), 1);
    assert_eq!(c.change[0].change.as_deref(), Some("m/84'/1'/0'/1/1"));
    assert_eq!(c.change[0].value_sat, change.value_sat);
    assert_eq!((c.vsize, c.fee_rate_sat_vb, c.fee_sat, c.dust_to_fee_sat), (209, 5, 1_045, 0));
    assert_eq!(c.leaves_wallet_sat, 60_000 + 1_045);
    assert!(c.replaceable);
    let shown = serde_json::to_value(&c).unwrap();
    assert_eq!(shown["fee_sat"], 1_045);

    let signed = signer.sign_send(&plan, &plan.review).unwrap();
    assert_eq!(signed.txid.to_string(), r.txid);
    assert_eq!(signed.tx_hex, bitcoin::consensus::encode::serialize_hex(&signed.transaction));
    assert!(
        signed.vsize <= plan.vsize && signed.vsize + 2 >= plan.vsize,
        "real {} vs bound {}",
        signed.vsize,
        plan.vsize
    );
    assert_eq!(signed.fee_sat, 1_045);
    execute(&signed.transaction, &prevs);
    // A review that is not the plan's is refused.
    let mut other = plan.review.clone();
    other.fee_sat += 1;
    assert_eq!(signer.sign_send(&plan, &other).unwrap_err(), Error::ReviewMismatch);
}

#[test]
fn send_uses_unconfirmed_coins_only_when_confirmed_ones_are_short() {
    let (signer, coins, prevs) = funded();
    let to = stranger().to_string();
    // 100,000 sat needs more than the 100,000 confirmed (fee): the unconfirmed 80,000 first,
    // being the largest remaining.
    let plan = signer.plan_send(&coins, &prevs, &request(&to, SendAmount::Exact(100_000), 2)).unwrap();
    assert_eq!(plan.inputs.len(), 4, "three confirmed coins, then the unconfirmed one");
    assert!(plan.inputs.contains(&coins[3].utxo.outpoint));
    let signed = signer.sign_send(&plan, &plan.review).unwrap();
    execute(&signed.transaction, &prevs);
}

#[test]
fn send_all_spends_every_coin_without_change() {
    let (signer, coins, prevs) = funded();
    let to = stranger().to_string();
    let plan = signer.plan_send(&coins, &prevs, &request(&to, SendAmount::All, 3)).unwrap();
    assert!(plan.change.is_none());
    assert_eq!(plan.inputs.len(), 4);
    // 4 inputs, 1 output: 10.5 + 4 × 68 + 31 = 313.5 → 314 vB.
    assert_eq!(plan.vsize, 314);
    assert_eq!(plan.fee_sat, 314 * 3);
    assert_eq!(plan.amount_sat, 180_000 - 314 * 3);
    assert_eq!(plan.psbt.unsigned_tx.output.len(), 1);
    let signed = signer.sign_send(&plan, &plan.review).unwrap();
    assert_eq!(signed.fee_sat, plan.fee_sat);
    execute(&signed.transaction, &prevs);
}

/// Change below its dust limit (294 sat for P2WPKH) is not made: it goes to the fee.
#[test]
fn send_adds_dust_change_to_the_fee() {
    let (signer, coins, prevs) = funded();
    let to = stranger().to_string();
    // One 50,000 sat coin at 1 sat/vB: one output is 10.5 + 68 + 31 = 109.5 → 110 vB, with a
    // change output 141 vB. An amount leaving 100 sat above the plain fee: 100 sat of change
    // (less its output's 31 vB) would be dust, so the 100 sat go to the fee.
    let only = vec![coins[0].clone()];
    let amount = 50_000 - 110 - 100;
    let plan = signer.plan_send(&only, &prevs, &request(&to, SendAmount::Exact(amount), 1)).unwrap();
    assert!(plan.change.is_none(), "100 sat of change would be dust");
    assert_eq!(plan.vsize, 110);
    assert_eq!(plan.dust_to_fee_sat, 100);
    assert_eq!(plan.fee_sat, 210);
    assert_eq!(plan.review.fee_sat, 210);
    let c = plan.confirmation();
    assert_eq!((c.vsize, c.fee_rate_sat_vb, c.dust_to_fee_sat, c.fee_sat), (110, 1, 100, 210));
    assert!(c.change.is_empty());
    let signed = signer.sign_send(&plan, &plan.review).unwrap();
    execute(&signed.transaction, &prevs);
    // With 294 + the change output's cost left over, change is made.
    let amount = 50_000 - 141 - 294;
    let plan = signer.plan_send(&only, &prevs, &request(&to, SendAmount::Exact(amount), 1)).unwrap();
    assert_eq!(plan.change.unwrap().value_sat, 294);
    assert_eq!(plan.dust_to_fee_sat, 0);
}

#[test]
fn send_refusals_are_typed_errors() {
    let (signer, coins, prevs) = funded();
    let to = stranger().to_string();
    // Insufficient funds, with the shortfall: every coin, one output (4 inputs: 314 vB).
    let err = signer.plan_send(&coins, &prevs, &request(&to, SendAmount::Exact(180_000), 2)).unwrap_err();
    assert_eq!(
        err,
        Error::Bitcoin(BitcoinError::InsufficientFunds {
            needed_sat: 180_000 + 314 * 2,
            available_sat: 180_000,
            shortfall_sat: 628,
        })
    );
    assert!(err.to_string().contains("628 sat short"), "{err}");
    assert!(matches!(
        signer.plan_send(&[], &prevs, &request(&to, SendAmount::All, 2)).unwrap_err(),
        Error::Bitcoin(BitcoinError::InsufficientFunds { available_sat: 0, .. })
    ));
    // A recipient amount below the dust limit (294 sat for P2WPKH, 546 for P2PKH).
    assert_eq!(
        signer.plan_send(&coins, &prevs, &request(&to, SendAmount::Exact(293), 2)).unwrap_err(),
        Error::Bitcoin(BitcoinError::DustAmount { amount_sat: 293, dust_limit_sat: 294 })
    );
    let p2pkh =
        wallet().bitcoin_address_at(&parse_path("m/44'/1'/0'/0/0").unwrap(), Network::Regtest).unwrap();
    assert!(matches!(
        signer.plan_send(&coins, &prevs, &request(&p2pkh.address, SendAmount::Exact(545), 2)).unwrap_err(),
        Error::Bitcoin(BitcoinError::DustAmount { dust_limit_sat: 546, .. })
    ));
    assert!(signer.plan_send(&coins, &prevs, &request(&p2pkh.address, SendAmount::Exact(546), 2)).is_ok());
    // Send-all whose remainder after the fee is dust.
    let small = prev_tx(9, vec![pay(700, &signer.address(false, 0).unwrap())]);
    let coin = WalletCoin {
        utxo: parse_address_utxos(&format!(
            r#"[{{"txid":"{}","vout":0,"value":700,"status":{{"confirmed":true}}}}]"#,
            small.compute_txid()
        ))
        .unwrap()
        .remove(0),
        change: false,
        index: 0,
    };
    assert!(matches!(
        signer.plan_send(&[coin], &[small], &request(&to, SendAmount::All, 4)).unwrap_err(),
        Error::Bitcoin(BitcoinError::DustAmount { amount_sat: 260, dust_limit_sat: 294 })
    ));
    // A bad address, and one of another network (mainnet address, regtest wallet).
    assert!(matches!(
        signer
            .plan_send(&coins, &prevs, &request("bcrt1qnotanaddress", SendAmount::Exact(1_000), 2))
            .unwrap_err(),
        Error::Address { .. }
    ));
    assert!(matches!(
        signer
            .plan_send(
                &coins,
                &prevs,
                &request("bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu", SendAmount::Exact(1_000), 2)
            )
            .unwrap_err(),
        Error::Bitcoin(BitcoinError::WrongNetwork { .. })
    ));
    // Fee rates out of range.
    for rate in [0, MAX_FEE_RATE_SAT_VB + 1, 25_000] {
        assert!(matches!(
            signer.plan_send(&coins, &prevs, &request(&to, SendAmount::Exact(1_000), rate)).unwrap_err(),
            Error::Bitcoin(BitcoinError::FeeRate { .. })
        ));
    }
    // The highest rate is accepted (here too costly for these coins: an insufficient-funds
    // error, not a fee-rate one).
    assert!(matches!(
        signer
            .plan_send(&coins, &prevs, &request(&to, SendAmount::Exact(1_000), MAX_FEE_RATE_SAT_VB))
            .unwrap_err(),
        Error::Bitcoin(BitcoinError::InsufficientFunds { .. })
    ));
}

/// The chain API's reply is checked against the previous transactions before anything is built.
#[test]
fn send_refuses_chain_data_that_disagrees_with_itself() {
    let (signer, coins, prevs) = funded();
    let to = stranger().to_string();
    let req = request(&to, SendAmount::Exact(10_000), 2);
    // A value that is not the transaction's.
    let mut lying = coins.clone();
    lying[0].utxo.value_sat = 5_000_000;
    let err = signer.plan_send(&lying, &prevs, &req).unwrap_err().to_string();
    assert!(err.contains("listed with 5000000 sat"), "{err}");
    // A coin said to be ours at another index.
    let mut wrong_owner = coins.clone();
    wrong_owner[0].index = 7;
    let err = signer.plan_send(&wrong_owner, &prevs, &req).unwrap_err().to_string();
    assert!(err.contains("does not pay this wallet's address m/84'/1'/0'/0/7"), "{err}");
    // The previous transaction missing.
    let err = signer.plan_send(&coins, &prevs[1..], &req).unwrap_err().to_string();
    assert!(err.contains("is missing"), "{err}");
    // A coin listed twice.
    let mut twice = coins.clone();
    twice.push(coins[0].clone());
    assert!(signer.plan_send(&twice, &prevs, &req).unwrap_err().to_string().contains("listed twice"));
    // A vout the transaction does not have.
    let mut no_vout = coins;
    no_vout[0].utxo.outpoint.vout = 9;
    assert!(signer.plan_send(&no_vout, &prevs, &req).unwrap_err().to_string().contains("no output 9"));
}

/// libbitcoinconsensus (Bitcoin Core 26's script interpreter, crate `bitcoinconsensus` 0.106):
/// every input of a transaction against the outputs it spends, with all soft forks through
/// Taproot enforced.
#[cfg(not(target_arch = "wasm32"))]
pub mod consensus {
    use bitcoin::{Transaction, TxOut};

    pub fn verify_all(tx: &Transaction, spent: &[TxOut]) -> Result<(), String> {
        let bytes = bitcoin::consensus::serialize(tx);
        let scripts: Vec<Vec<u8>> = spent.iter().map(|o| o.script_pubkey.to_bytes()).collect();
        let utxos: Vec<bitcoinconsensus::Utxo> = spent
            .iter()
            .zip(&scripts)
            .map(|(o, s)| bitcoinconsensus::Utxo {
                script_pubkey: s.as_ptr(),
                script_pubkey_len: u32::try_from(s.len()).unwrap(),
                value: i64::try_from(o.value.to_sat()).unwrap(),
            })
            .collect();
        if spent.len() != tx.input.len() {
            return Err(format!("{} spent outputs for {} inputs", spent.len(), tx.input.len()));
        }
        for (i, o) in spent.iter().enumerate() {
            bitcoinconsensus::verify(o.script_pubkey.as_bytes(), o.value.to_sat(), &bytes, Some(&utxos), i)
                .map_err(|e| format!("input {i}: {e:?}"))?;
        }
        Ok(())
    }
}

/// A signed spend passes consensus; the same spend against a different amount, a different
/// script, or with an output changed after signing does not.
#[cfg(not(target_arch = "wasm32"))]
#[test]
fn send_tampered_amount_or_script_fails_consensus() {
    let (signer, coins, prevs) = funded();
    let plan = signer
        .plan_send(&coins, &prevs, &request(&stranger().to_string(), SendAmount::Exact(60_000), 5))
        .unwrap();
    let tx = signer.sign_send(&plan, &plan.review).unwrap().transaction;
    let spent = spent_outputs(&tx, &prevs);
    consensus::verify_all(&tx, &spent).unwrap();

    // The amount an input spends (BIP-143 signs it): one satoshi more fails.
    let mut amount = spent.clone();
    amount[0].value += Amount::from_sat(1);
    let err = consensus::verify_all(&tx, &amount).unwrap_err();
    assert!(err.starts_with("input 0"), "{err}");
    // Another script (a stranger's P2WPKH) for the spent output fails.
    let mut script = spent.clone();
    script[1].script_pubkey = stranger().script_pubkey();
    assert!(consensus::verify_all(&tx, &script).unwrap_err().starts_with("input 1"));
    // An output changed after signing fails on every input (SIGHASH_ALL).
    let mut changed = tx.clone();
    changed.output[0].value -= Amount::from_sat(1);
    assert!(consensus::verify_all(&changed, &spent).is_err());
    // A signature's last byte flipped fails.
    let mut bad_sig = tx.clone();
    let mut items: Vec<Vec<u8>> = bad_sig.input[0].witness.iter().map(<[u8]>::to_vec).collect();
    let n = items[0].len();
    items[0][n - 2] ^= 1;
    bad_sig.input[0].witness = Witness::from_slice(&items);
    assert!(consensus::verify_all(&bad_sig, &spent).is_err());
}

/// Random wallets (fixed seed): for each coin set, amount and rate, a plan either pays exactly
/// (inputs = amount + change + fee, fee = vsize × rate + dust, change never dust, confirmed
/// coins largest first before any unconfirmed one) and its signed transaction passes consensus
/// at no less than the rate asked, or the coins really are short.
#[test]
fn send_invariants_over_random_wallets() {
    let signer = wallet().bitcoin_signer(Network::Regtest).unwrap();
    let to = stranger();
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move |n: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % n
    };
    let (mut planned, mut short) = (0, 0);
    for round in 0..60u8 {
        let count = 1 + next(6) as usize;
        let mut coins = Vec::new();
        let mut prevs = Vec::new();
        for k in 0..count {
            let (change, index) = (next(2) == 1, next(4) as u32);
            let value = 1_000 + next(200_000);
            let owner = signer.address(change, index).unwrap();
            let prev = prev_tx(round.wrapping_mul(8).wrapping_add(k as u8), vec![pay(value, &owner)]);
            let reply = format!(
                r#"[{{"txid":"{}","vout":0,"value":{value},"status":{{"confirmed":{}}}}}]"#,
                prev.compute_txid(),
                next(3) != 0
            );
            coins.push(WalletCoin { utxo: parse_address_utxos(&reply).unwrap().remove(0), change, index });
            prevs.push(prev);
        }
        let total: u64 = coins.iter().map(|c| c.utxo.value_sat).sum();
        let rate = 1 + next(40);
        // A fifth send everything, a fifth send close to everything (often short once the fee
        // is added), the rest anything.
        let amount = match next(5) {
            0 => SendAmount::All,
            1 => SendAmount::Exact(total.saturating_sub(next(3_000)).max(294)),
            _ => SendAmount::Exact(294 + next(total)),
        };
        let req = SendRequest {
            recipient: to.to_string(),
            amount,
            fee_rate_sat_vb: rate,
            change_index: next(3) as u32,
        };
        let plan = match signer.plan_send(&coins, &prevs, &req) {
            Ok(plan) => plan,
            Err(Error::Bitcoin(BitcoinError::InsufficientFunds {
                needed_sat,
                available_sat,
                shortfall_sat,
            })) => {
                assert_eq!(available_sat, total);
                assert!(needed_sat > total && shortfall_sat == needed_sat - total, "round {round}");
                short += 1;
                continue;
            }
            Err(Error::Bitcoin(BitcoinError::DustAmount { amount_sat, dust_limit_sat })) => {
                assert!(matches!(amount, SendAmount::All) && amount_sat < dust_limit_sat, "round {round}");
                continue;
            }
            Err(e) => panic!("round {round}: {e}"),
        };
        planned += 1;
        let chosen: Vec<&WalletCoin> =
            coins.iter().filter(|c| plan.inputs.contains(&c.utxo.outpoint)).collect();
        let spent: u64 = chosen.iter().map(|c| c.utxo.value_sat).sum();
        let change = plan.change.as_ref().map_or(0, |c| c.value_sat);
        assert_eq!(spent, plan.amount_sat + change + plan.fee_sat, "round {round}: conservation");
        assert_eq!(plan.fee_sat, plan.vsize * rate + plan.dust_to_fee_sat, "round {round}");
        if let Some(c) = &plan.change {
            assert!(c.value_sat >= 294 && plan.dust_to_fee_sat == 0, "round {round}");
        }
        // The dust given to the fee is less than a change output would have needed.
        assert!(plan.dust_to_fee_sat < 294 + 31 * rate, "round {round}: {}", plan.dust_to_fee_sat);
        if let SendAmount::Exact(a) = amount {
            assert_eq!(plan.amount_sat, a);
            // Confirmed coins before unconfirmed ones, each group largest first: the chosen set
            // is a prefix of that order.
            let mut order: Vec<&WalletCoin> = coins.iter().collect();
            order.sort_by_key(|c| {
                (!c.utxo.status.confirmed, std::cmp::Reverse(c.utxo.value_sat), c.utxo.outpoint)
            });
            let prefix: Vec<OutPoint> = order.iter().take(chosen.len()).map(|c| c.utxo.outpoint).collect();
            assert!(prefix.iter().all(|o| plan.inputs.contains(o)), "round {round}: not a prefix");
        } else {
            assert_eq!(plan.inputs.len(), coins.len());
            assert!(plan.change.is_none());
        }
        let signed = signer.sign_send(&plan, &plan.review).unwrap();
        assert!(signed.vsize <= plan.vsize, "round {round}");
        assert!(signed.fee_sat >= signed.vsize * rate, "round {round}: real rate below the one asked");
        execute(&signed.transaction, &prevs);
    }
    assert!(planned >= 30 && short >= 3, "planned {planned}, short {short}: the cases must cover both");
}

/// The coins of an address reply are tagged with the key that owns the address.
#[test]
fn send_coins_at_an_address_are_tagged_with_its_key() {
    let (signer, coins, _) = funded();
    let c0 = signer.address(true, 0).unwrap().to_string();
    assert_eq!(signer.locate(&c0).unwrap(), Some((true, 0)));
    assert_eq!(signer.locate(&signer.address(false, 19).unwrap().to_string()).unwrap(), Some((false, 19)));
    assert_eq!(
        signer.locate(&signer.address(false, 20).unwrap().to_string()).unwrap(),
        None,
        "beyond the gap"
    );
    assert_eq!(signer.locate(&stranger().to_string()).unwrap(), None);
    let reply = format!(
        r#"[{{"txid":"{}","vout":{},"value":{},"status":{{"confirmed":false}}}}]"#,
        coins[3].utxo.outpoint.txid, coins[3].utxo.outpoint.vout, coins[3].utxo.value_sat
    );
    assert_eq!(signer.coins_at(&c0, &reply).unwrap(), vec![coins[3].clone()]);
    // The balance: 100,000 confirmed, 80,000 unconfirmed; a coin listed twice counts once.
    let mut twice = coins.clone();
    twice.push(coins[0].clone());
    assert_eq!(
        blindvault_wallet::btc::send::balance(&twice),
        blindvault_wallet::btc::send::Balance { confirmed_sat: 100_000, unconfirmed_sat: 80_000 }
    );
    let err = signer.coins_at(&stranger().to_string(), &reply).unwrap_err().to_string();
    assert!(err.contains("not one of this wallet's first 20"), "{err}");
    assert!(matches!(
        signer.coins_at("bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu", &reply).unwrap_err(),
        Error::Bitcoin(BitcoinError::WrongNetwork { .. })
    ));
}

/// `GET /fee-estimates` as Esplora's API document shows it, rounded up to whole sat/vB.
#[test]
fn esplora_fee_estimates_round_up_to_whole_rates() {
    use blindvault_wallet::btc::esplora::parse_fee_estimates;
    let body = r#"{ "2": 87.882, "3": 87.882, "4": 87.882, "5": 81.129, "6": 68.285, "10": 1.027, "20": 1.027, "25": 1.027, "144": 1.027, "504": 1.027, "1008": 1.027 }"#;
    let f = parse_fee_estimates(body).unwrap();
    assert_eq!(f.sat_per_vb_within(2), Some(88));
    assert_eq!(f.sat_per_vb_within(6), Some(69));
    assert_eq!(f.sat_per_vb_within(7), Some(69), "the largest listed target not above 7");
    assert_eq!(f.sat_per_vb_within(1008), Some(2));
    assert_eq!(f.sat_per_vb_within(1), None);
    assert_eq!(parse_fee_estimates(r#"{"3": 0.2}"#).unwrap().sat_per_vb_within(3), Some(1), "never below 1");
    for bad in [r#"{"x": 1.0}"#, r#"{"2": -1.0}"#, r#"{"2": "fast"}"#, "[]"] {
        assert!(parse_fee_estimates(bad).is_err(), "{bad}");
    }
}

/// The history from per-address transaction lists: each transaction once, what it did to the
/// wallet, newest first.
#[test]
fn esplora_address_txs_make_the_wallet_history() {
    use blindvault_wallet::btc::esplora::parse_address_txs;
    use blindvault_wallet::btc::history::history;
    let signer = wallet().bitcoin_signer(Network::Regtest).unwrap();
    let (r0, r1, c0) = (
        signer.address(false, 0).unwrap(),
        signer.address(false, 1).unwrap(),
        signer.address(true, 0).unwrap(),
    );
    let them = stranger();
    let out = |a: &bitcoin::Address, v: u64| {
        format!(
            r#"{{"scriptpubkey":"{}","scriptpubkey_asm":"…","scriptpubkey_type":"v0_p2wpkh","scriptpubkey_address":"{a}","value":{v}}}"#,
            a.script_pubkey().to_hex_string()
        )
    };
    let tx = |id: char, vin: &[String], vout: &[String], fee: u64, status: &str| {
        let vin: Vec<String> = vin
            .iter()
            .map(|p| {
                format!(
                    r#"{{"txid":"{}","vout":0,"prevout":{p},"is_coinbase":false,"sequence":4294967293}}"#,
                    "ab".repeat(32)
                )
            })
            .collect();
        format!(
            r#"{{"txid":"{}","version":2,"locktime":0,"size":222,"weight":561,"fee":{fee},"vin":[{}],"vout":[{}],"status":{status}}}"#,
            id.to_string().repeat(64),
            vin.join(","),
            vout.join(",")
        )
    };
    let confirmed = |h: u32| {
        format!(
            r#"{{"confirmed":true,"block_height":{h},"block_hash":"{}","block_time":{}}}"#,
            "00".repeat(32),
            1_700_000_000 + h
        )
    };
    let incoming =
        tx('1', &[out(&them, 100_000)], &[out(&r0, 60_000), out(&them, 39_000)], 1_000, &confirmed(100));
    let outgoing =
        tx('2', &[out(&r0, 60_000)], &[out(&them, 20_000), out(&c0, 39_500)], 500, &confirmed(105));
    let pending = tx('3', &[out(&them, 9_000)], &[out(&r1, 8_000)], 1_000, r#"{"confirmed":false}"#);
    let lists = [
        parse_address_txs(&format!("[{outgoing},{incoming}]")).unwrap(),
        parse_address_txs(&format!("[{outgoing}]")).unwrap(),
        parse_address_txs(&format!("[{pending}]")).unwrap(),
    ];
    let ours = signer.own_scripts(5, 5).unwrap();
    assert_eq!(ours.len(), 10);
    let h = history(&lists, &ours);
    let ids: Vec<char> = h.iter().map(|e| e.txid.chars().next().unwrap()).collect();
    assert_eq!(ids, ['3', '2', '1'], "unconfirmed first, then newest block; each once");
    assert_eq!((h[0].confirmed, h[0].net_sat, h[0].fee_sat), (false, 8_000, None));
    assert_eq!(
        (h[1].sent_sat, h[1].received_sat, h[1].net_sat, h[1].fee_sat),
        (60_000, 39_500, -20_500, Some(500))
    );
    assert_eq!(h[1].to_others, vec![(them.to_string(), 20_000)]);
    assert_eq!((h[1].block_height, h[1].block_time), (Some(105), Some(1_700_000_105)));
    assert_eq!((h[2].net_sat, h[2].fee_sat, h[2].to_others.len()), (60_000, None, 0));
    // A coinbase input (prevout null) and bad replies.
    let coinbase = format!(
        r#"[{{"txid":"{}","vin":[{{"prevout":null,"is_coinbase":true}}],"vout":[{}],"status":{{"confirmed":true,"block_height":7}}}}]"#,
        "44".repeat(32),
        out(&r0, 5_000_000_000)
    );
    assert_eq!(history(&[parse_address_txs(&coinbase).unwrap()], &ours)[0].net_sat, 5_000_000_000);
    assert!(
        parse_address_txs(r#"[{"txid":"nothex","vin":[],"vout":[],"status":{"confirmed":false}}]"#).is_err()
    );
    assert!(parse_address_txs("{}").is_err());
}
