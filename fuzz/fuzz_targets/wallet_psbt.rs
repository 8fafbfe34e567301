//! PSBTs a dApp or another wallet hands to the wallet: the binary and base64 forms, then the
//! review the confirmation screen shows (inputs, previous transactions, change, fee) with a
//! fixed wallet on mainnet and testnet.
#![no_main]
use std::str::FromStr;
use std::sync::LazyLock;

use blindvault_wallet::Wallet;
use blindvault_wallet::btc::{BitcoinSigner, Network, Psbt};
use libfuzzer_sys::fuzz_target;

static SIGNERS: LazyLock<[BitcoinSigner; 2]> = LazyLock::new(|| {
    let w = Wallet::from_seed(&[7; 64]).expect("a seed");
    [w.bitcoin_signer(Network::Bitcoin).expect("signer"), w.bitcoin_signer(Network::Testnet).expect("signer")]
});

fn review(psbt: &Psbt) {
    for signer in SIGNERS.iter() {
        let first = signer.review(psbt);
        // The same PSBT reviews the same way twice (what `sign` checks the approval against).
        let again = signer.review(psbt);
        assert_eq!(format!("{first:?}"), format!("{again:?}"));
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(psbt) = Psbt::deserialize(data) {
        review(&psbt);
        let bytes = psbt.serialize();
        let back = Psbt::deserialize(&bytes).expect("a serialized PSBT reads back");
        assert_eq!(back, psbt);
    }
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(psbt) = Psbt::from_str(text.trim())
    {
        review(&psbt);
    }
});
