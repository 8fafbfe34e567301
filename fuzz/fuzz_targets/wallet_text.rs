//! The wallet's text inputs: addresses of every chain, amounts in decimal, derivation paths,
//! network names, watch-only extended public keys, and the chain APIs' JSON replies (Esplora's
//! UTXO, transaction and fee lists; the history readers of Bitcoin, TON and TRON). Byte 0
//! chooses; the rest (UTF-8) is the input.
#![no_main]
use blindvault_wallet::btc::{self, Network};
use blindvault_wallet::{derive, display, evm, history, solana, ton, tron};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else { return };
    let Ok(s) = std::str::from_utf8(rest) else { return };
    match which % 10 {
        0 => {
            if let Ok(a) = evm::parse_address(s) {
                // The checksummed form reads back as the same address.
                assert_eq!(evm::parse_address(&a.to_checksum(None)).ok(), Some(a));
            }
            let _ = solana::parse_address(s);
            let _ = solana::parse_hash(s);
            let _ = ton::parse_address(s);
            let _ = tron::decode_address(s);
            let _ = btc::send::parse_address(s, Network::Bitcoin);
            let _ = btc::send::parse_address(s, Network::Testnet);
        }
        1 => {
            for decimals in [0u8, 6, 18, 77, 255] {
                if let Ok(v) = display::parse_units(s, decimals) {
                    let shown = display::format_units(v, decimals);
                    assert_eq!(display::parse_units(&shown, decimals).ok(), Some(v), "{s:?} → {shown:?}");
                }
            }
        }
        2 => {
            if let Ok(p) = derive::parse_path(s) {
                let text = blindvault_wallet::path_string(&p);
                assert_eq!(derive::parse_path(&text).ok(), Some(p));
            }
            let _ = btc::parse_network(s);
        }
        3 => {
            for network in [Network::Bitcoin, Network::Testnet] {
                if let Ok(acct) = btc::WatchOnlyAccount::parse(s, network, None) {
                    let _ = acct.address(false, 0);
                }
            }
        }
        4 => {
            let _ = btc::esplora::parse_address_utxos(s);
        }
        5 => {
            let _ = btc::esplora::parse_address_txs(s);
        }
        6 => {
            if let Ok(f) = btc::esplora::parse_fee_estimates(s) {
                let _ = f.sat_per_vb_within(6);
            }
        }
        7 => {
            let _ = history::bitcoin::history(
                Network::Bitcoin,
                &["bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh".into()],
                &[s.to_owned()],
            );
        }
        8 => {
            let _ = history::ton::history(s);
        }
        _ => {
            let mid = s.len() / 2;
            let (a, b) = if s.is_char_boundary(mid) { s.split_at(mid) } else { (s, "[]") };
            let _ = history::tron::history("TLa2f6VPqDgRE67v1736s7bJ8Ray5wYjU7", a, b, &[]);
        }
    }
});
