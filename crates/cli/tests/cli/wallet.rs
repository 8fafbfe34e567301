//! `blindvault wallet addresses`: the "abandon … about" vector through the real binary, with the
//! mnemonic on stdin.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn vector(name: &str) -> serde_json::Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("test vector {} missing ({e}); shared/ must sit beside the repo", path.display())
    });
    serde_json::from_str(&text).unwrap()
}

/// `blindvault wallet SUBCOMMAND ARGS…` with `stdin` (a mnemonic or an extended key) on stdin.
fn wallet(subcommand: &str, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_blindvault"))
        .args(["wallet", subcommand])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The command may exit on a bad argument before it reads stdin: a broken pipe is fine.
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    child.wait_with_output().unwrap()
}

fn run(args: &[&str], stdin: &str) -> Output {
    wallet("addresses", args, stdin)
}

fn json(out: &Output) -> Vec<serde_json::Value> {
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap().as_array().unwrap().clone()
}

#[test]
fn abandon_vector_through_the_cli() {
    let v = vector("addresses_abandon.json");
    let mnemonic = v["mnemonic"].as_str().unwrap();
    // Messy whitespace on stdin is normalised.
    let stdin = format!("  {}\n\n", mnemonic.replace(' ', " \t "));
    let list = json(&run(&["--chain", "all", "--format", "json"], &stdin));
    assert_eq!(list.len(), 5);
    for expected in v["addresses"].as_array().unwrap() {
        let chain = match expected["chain"].as_str().unwrap() {
            "ethereum" => "evm",
            c => c,
        };
        let row = list.iter().find(|r| r["chain"] == chain).unwrap_or_else(|| panic!("no {chain} row"));
        assert_eq!(row["path"], expected["path"], "{chain}");
        assert_eq!(row["address"], expected["address"], "{chain}");
        assert_eq!(row.as_object().unwrap().len(), 3, "exactly chain, path, address");
    }
    assert!(list.iter().any(|r| r["chain"] == "ton" && r["path"] == "m/44'/607'/0'"));

    // --count / --index and the table format.
    let out = run(&["--chain", "bitcoin", "--count", "2"], mnemonic);
    assert!(out.status.success());
    let table = String::from_utf8(out.stdout).unwrap();
    let b84 = vector("bip84.json");
    assert!(table.starts_with("CHAIN"), "{table}");
    for a in b84["addresses"].as_array().unwrap().iter().take(2) {
        assert!(table.contains(a["address"].as_str().unwrap()), "{table}");
    }
    let one = json(&run(&["--chain", "evm", "--index", "3", "--count", "1", "--format", "json"], mnemonic));
    assert_eq!(one[0]["path"], "m/44'/60'/0'/0/3");

    // --path: any path, e.g. Trust Wallet's Solana convention.
    let sol = json(&run(&["--chain", "solana", "--path", "m/44'/501'/0'", "--format", "json"], mnemonic));
    assert_eq!(sol[0]["path"], "m/44'/501'/0'");
    assert_ne!(sol[0]["address"], "HAgk14JpMQLgt6rVgv7cBQFJWFto5Dqxi472uT3DKpqk");

    // Regtest addresses (coin type 1).
    let rt = json(&run(&["--chain", "bitcoin", "--network", "regtest", "--format", "json"], mnemonic));
    assert_eq!(rt[0]["path"], "m/84'/1'/0'/0/0");
    assert!(rt[0]["address"].as_str().unwrap().starts_with("bcrt1q"));
}

#[test]
fn passphrase_file_changes_the_addresses() {
    let v = vector("bip39.json");
    let t = &v["vectors"][0];
    let dir = tempfile::tempdir().unwrap();
    let pf = dir.path().join("pass");
    std::fs::write(&pf, format!("{}\n", t["passphrase"].as_str().unwrap())).unwrap();
    let with = json(&run(
        &["--chain", "evm", "--format", "json", "--passphrase-file", pf.to_str().unwrap()],
        t["mnemonic"].as_str().unwrap(),
    ));
    let without = json(&run(&["--chain", "evm", "--format", "json"], t["mnemonic"].as_str().unwrap()));
    assert_ne!(with[0]["address"], without[0]["address"]);
}

#[test]
fn bad_input_is_a_clear_error() {
    let v = vector("addresses_abandon.json");
    let mnemonic = v["mnemonic"].as_str().unwrap();
    let cases: [(&[&str], &str, &str); 6] = [
        (&["--chain", "dogecoin"], mnemonic, "unknown chain"),
        (&["--chain", "evm"], &mnemonic.replace("about", "abandon"), "checksum"),
        (&["--chain", "evm"], "", "no mnemonic"),
        (&["--chain", "evm", "--path", "m/44'/x"], mnemonic, "invalid derivation path"),
        (&["--chain", "all", "--path", "m/44'/60'/0'/0/0"], mnemonic, "one --chain"),
        (&["--chain", "ton", "--path", "m/44'/607'/0"], mnemonic, "hardened"),
    ];
    for (args, stdin, needle) in cases {
        let out = run(args, stdin);
        assert!(!out.status.success(), "{args:?} should fail");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains("abandon abandon"), "the mnemonic must not be echoed: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

/// The Bitcoin address type follows the path's purpose, as other wallets show it (SLIP-0132,
/// BIP-84 and BIP-86 vectors of the abandon mnemonic); an unknown purpose is refused.
#[test]
fn bitcoin_address_type_follows_the_path_purpose() {
    let v = vector("addresses_abandon.json");
    let mnemonic = v["mnemonic"].as_str().unwrap();
    for (path, expected) in [
        ("m/44'/0'/0'/0/0", "1LqBGSKuX5yYUonjxT5qGfpUsXKYYWeabA"),
        ("m/49'/0'/0'/0/0", "37VucYSaXLCAsxYyAPfbSi9eh4iEcbShgf"),
        ("m/84'/0'/0'/0/0", "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu"),
        ("m/86'/0'/0'/0/0", "bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr"),
    ] {
        let out = run(&["--chain", "bitcoin", "--path", path], mnemonic);
        assert!(out.status.success(), "{path}: {}", String::from_utf8_lossy(&out.stderr));
        let table = String::from_utf8(out.stdout).unwrap();
        assert!(table.contains(expected), "{path}: {table}");
    }
    // BIP-49's own (testnet) vector, through --network.
    let t = json(&run(
        &["--chain", "bitcoin", "--path", "m/49'/1'/0'/0/0", "--network", "testnet", "--format", "json"],
        mnemonic,
    ));
    assert_eq!(t[0]["address"], "2Mww8dCYPUpKHofjgcXcBCEGmniw9CoaiD2");
    let out = run(&["--chain", "bitcoin", "--path", "m/45'/0'/0'/0/0"], mnemonic);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("45'") && err.contains("44' (P2PKH"), "{err}");
}

fn run_watch(args: &[&str], stdin: &str) -> Output {
    wallet("watch", args, stdin)
}

/// `wallet watch`: SLIP-0132's zpub and BIP-86's xpub (as P2TR) of the abandon mnemonic give the
/// published receive and change addresses; a private key on stdin is refused and not echoed.
#[test]
fn watch_prints_an_extended_public_keys_addresses() {
    let zpub = "zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf31mGDtKsAYz2oz2AGutZYs";
    let list = json(&run_watch(&["--count", "2", "--format", "json"], &format!("{zpub}\n")));
    let rows: Vec<(String, u64, String)> = list
        .iter()
        .map(|r| {
            (
                r["branch"].as_str().unwrap().to_owned(),
                r["index"].as_u64().unwrap(),
                r["address"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let b84 = vector("bip84.json");
    let published: Vec<&str> =
        b84["addresses"].as_array().unwrap().iter().map(|a| a["address"].as_str().unwrap()).collect();
    assert_eq!(rows.len(), 4);
    assert_eq!((rows[0].0.as_str(), rows[0].1, rows[0].2.as_str()), ("receive", 0, published[0]));
    assert_eq!((rows[1].0.as_str(), rows[1].1, rows[1].2.as_str()), ("receive", 1, published[1]));
    assert_eq!((rows[2].0.as_str(), rows[2].1, rows[2].2.as_str()), ("change", 0, published[2]));
    let xpub86 = "xpub6BgBgsespWvERF3LHQu6CnqdvfEvtMcQjYrcRzx53QJjSxarj2afYWcLteoGVky7D3UKDP9QyrLprQ3VCECoY49yfdDEHGCtMMj92pReUsQ";
    let out = run_watch(&["--type", "p2tr", "--count", "1"], xpub86);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(table.contains("bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr"), "{table}");
    assert!(table.contains("bc1p3qkhfews2uk44qtvauqyr2ttdsw7svhkl9nkm9s9c3x4ax5h60wqwruhk7"), "{table}");

    let zprv = "zprvAdG4iTXWBoARxkkzNpNh8r6Qag3irQB8PzEMkAFeTRXxHpbF9z4QgEvBRmfvqWvGp42t42nvgGpNgYSJA9iefm1yYNZKEm7z6qUWCroSQnE";
    for (args, stdin, needle) in [
        (vec![], zprv, "private key"),
        (vec!["--network", "testnet"], zpub, "mainnet"),
        (vec!["--type", "p2tr"], zpub, "p2wpkh"),
        (vec![], &zpub.replace('A', "B"), "checksum"),
        (vec![], "", "no extended public key"),
    ] {
        let out = run_watch(&args, stdin);
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains(&zprv[4..30]) && !err.contains("panicked"), "{err}");
    }
}

fn run_send(args: &[&str], stdin: &str) -> Output {
    wallet("send", args, stdin)
}

/// `wallet send`: coins from Esplora-shaped replies in a file, a payment with change, signed;
/// the transaction is executed by libbitcoinconsensus against the outputs it spends.
#[test]
fn send_signs_a_payment_that_consensus_accepts() {
    use bitcoin::{Amount, OutPoint, ScriptBuf, Transaction, TxIn, TxOut};
    let v = vector("addresses_abandon.json");
    let mnemonic = v["mnemonic"].as_str().unwrap();
    let ours = json(&run(
        &["--chain", "bitcoin", "--network", "regtest", "--count", "2", "--format", "json"],
        mnemonic,
    ));
    let script = |a: &serde_json::Value| {
        a["address"]
            .as_str()
            .unwrap()
            .parse::<bitcoin::Address<_>>()
            .unwrap()
            .assume_checked()
            .script_pubkey()
    };
    let prev = |tag: u8, value: u64, spk: ScriptBuf| Transaction {
        version: bitcoin::transaction::Version::TWO,
        lock_time: bitcoin::absolute::LockTime::ZERO,
        input: vec![TxIn {
            previous_output: OutPoint { txid: format!("{tag:02x}").repeat(32).parse().unwrap(), vout: 0 },
            ..Default::default()
        }],
        output: vec![TxOut { value: Amount::from_sat(value), script_pubkey: spk }],
    };
    let (t0, t1) = (prev(1, 30_000, script(&ours[0])), prev(2, 50_000, script(&ours[1])));
    let utxo = |t: &Transaction| {
        serde_json::json!([{"txid": t.compute_txid().to_string(), "vout": 0, "value": t.output[0].value.to_sat(),
                            "status": {"confirmed": true, "block_height": 101}}])
    };
    let data = serde_json::json!({
        "utxos": {ours[0]["address"].as_str().unwrap(): utxo(&t0), ours[1]["address"].as_str().unwrap(): utxo(&t1)},
        "transactions": [bitcoin::consensus::encode::serialize_hex(&t0), bitcoin::consensus::encode::serialize_hex(&t1)],
    });
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("chain.json");
    std::fs::write(&file, data.to_string()).unwrap();
    let file = file.to_str().unwrap();
    // The recipient: BIP-84's m/84'/0'/0'/0/0 key as a regtest P2WPKH address (not ours here).
    let pk: bitcoin::CompressedPublicKey =
        "0330d54fd0dd420a6e5f8d3624f5f3482cae350f79d5f0753bf5beef9c2d91af3c".parse().unwrap();
    let to = bitcoin::Address::p2wpkh(&pk, bitcoin::Network::Regtest).to_string();

    let base = ["--network", "regtest", "--chain-data", file, "--to", to.as_str()];
    let args =
        [&base[..], &["--amount", "60000", "--fee-rate", "5", "--change-index", "2", "--format", "json"]]
            .concat();
    let out = run_send(&args, mnemonic);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let c = &r["confirmation"];
    assert_eq!(c["recipients"][0]["address"], to.as_str());
    assert_eq!(c["recipients"][0]["value_sat"], 60_000);
    assert_eq!(
        (c["vsize"].as_u64(), c["fee_rate_sat_vb"].as_u64(), c["fee_sat"].as_u64()),
        (Some(209), Some(5), Some(1_045))
    );
    assert_eq!(c["change"][0]["change"], "m/84'/1'/0'/1/2");
    assert_eq!(c["change"][0]["value_sat"], 80_000 - 60_000 - 1_045);
    let tx: Transaction =
        bitcoin::consensus::deserialize(&hex_decode(r["tx_hex"].as_str().unwrap())).unwrap();
    assert_eq!(tx.compute_txid().to_string(), r["txid"].as_str().unwrap());
    let bytes = bitcoin::consensus::serialize(&tx);
    for (i, input) in tx.input.iter().enumerate() {
        let spent = [&t0, &t1].into_iter().find(|t| t.compute_txid() == input.previous_output.txid).unwrap();
        let o = &spent.output[0];
        bitcoinconsensus::verify(o.script_pubkey.as_bytes(), o.value.to_sat(), &bytes, None, i).unwrap();
        assert!(
            bitcoinconsensus::verify(o.script_pubkey.as_bytes(), o.value.to_sat() + 1, &bytes, None, i)
                .is_err()
        );
    }
    // The table names the fee as vbytes × rate.
    let args = [&base[..], &["--all", "--fee-rate", "2"]].concat();
    let out = run_send(&args, mnemonic);
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(table.contains("fee       356 sat = 178 vB x 2 sat/vB"), "{table}");

    for (extra, needle) in [
        (&["--amount", "90000", "--fee-rate", "2"][..], "sat short"),
        (&["--amount", "100", "--fee-rate", "2"][..], "dust limit"),
        (&["--amount", "1000", "--fee-rate", "0"][..], "fee rate 0 sat/vB"),
        (&["--fee-rate", "2"][..], "--amount"),
    ] {
        let out = run_send(&[&base[..], extra].concat(), mnemonic);
        assert!(!out.status.success(), "{extra:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{extra:?}: {err}");
        assert!(!err.contains("abandon abandon"), "{err}");
    }
    // A mainnet recipient for a regtest wallet.
    let args = [
        "--network",
        "regtest",
        "--chain-data",
        file,
        "--to",
        "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu",
        "--amount",
        "1000",
        "--fee-rate",
        "2",
    ];
    let err = String::from_utf8_lossy(&run_send(&args, mnemonic).stderr).into_owned();
    assert!(err.contains("is not a regtest address"), "{err}");
}

fn hex_decode(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}
