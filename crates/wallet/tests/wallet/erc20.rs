//! ERC-20 reads: the `eth_call` data the pages send and the strict decoding of what a token
//! contract returns. Expected bytes are written out from the ERC-20 selectors (the first four
//! bytes of keccak256 of the signature, computed here) and the Solidity ABI's layout.

use alloy_primitives::{U256, address, keccak256};
use blindvault_wallet::evm::erc20::{
    balance_of_call, decimals_call, decode_balance, decode_decimals, decode_symbol, symbol_call,
    transfer_call,
};

fn selector(sig: &str) -> String {
    hex::encode(&keccak256(sig.as_bytes())[..4])
}

fn word(n: u64) -> String {
    format!("{n:064x}")
}

/// An ABI `string` return: offset 0x20, length, the bytes right-padded to a word.
fn abi_string(s: &str) -> Vec<u8> {
    let mut data = hex::decode(word(32) + &word(s.len() as u64)).unwrap();
    let mut tail = s.as_bytes().to_vec();
    tail.resize(s.len().div_ceil(32).max(1) * 32, 0);
    if s.is_empty() {
        tail.clear();
    }
    data.extend(tail);
    data
}

#[test]
fn erc20_calls_are_the_standard_selectors_and_words() {
    let owner = address!("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed");
    assert_eq!(hex::encode(decimals_call()), selector("decimals()"));
    assert_eq!(hex::encode(symbol_call()), selector("symbol()"));
    assert_eq!(selector("balanceOf(address)"), "70a08231");
    assert_eq!(
        hex::encode(balance_of_call(owner)),
        format!("70a08231000000000000000000000000{}", hex::encode(owner))
    );
    assert_eq!(
        hex::encode(transfer_call(owner, U256::from(1_000_001u64))),
        format!(
            "{}000000000000000000000000{}{}",
            selector("transfer(address,uint256)"),
            hex::encode(owner),
            word(1_000_001)
        )
    );
}

#[test]
fn erc20_replies_decode_strictly() {
    // balanceOf: one word, any 256-bit value.
    assert_eq!(decode_balance(&hex::decode(word(1_500_000)).unwrap()).unwrap(), U256::from(1_500_000u64));
    assert_eq!(decode_balance(&[0xff; 32]).unwrap(), U256::MAX);
    assert!(decode_balance(&[]).is_err(), "no contract at the address: eth_call returns 0x");
    assert!(decode_balance(&[0; 31]).is_err());
    assert!(decode_balance(&[0; 64]).is_err());
    // decimals: a uint8 in one word; 6 and 18 as USDC and WETH return them.
    assert_eq!(decode_decimals(&hex::decode(word(6)).unwrap()).unwrap(), 6);
    assert_eq!(decode_decimals(&hex::decode(word(18)).unwrap()).unwrap(), 18);
    assert!(decode_decimals(&hex::decode(word(256)).unwrap()).is_err(), "not a uint8");
    assert!(decode_decimals(&hex::decode(word(78)).unwrap()).is_err(), "more decimals than digits");
    assert!(decode_decimals(&[]).is_err());
    // symbol: an ABI string (USDC's reply, byte for byte), or MKR's bytes32.
    let usdc = hex::decode(
        "0000000000000000000000000000000000000000000000000000000000000020\
         0000000000000000000000000000000000000000000000000000000000000004\
         5553444300000000000000000000000000000000000000000000000000000000",
    )
    .unwrap();
    assert_eq!(usdc, abi_string("USDC"));
    assert_eq!(decode_symbol(&usdc).unwrap(), "USDC");
    let mkr = hex::decode("4d4b520000000000000000000000000000000000000000000000000000000000").unwrap();
    assert_eq!(decode_symbol(&mkr).unwrap(), "MKR");
    assert_eq!(decode_symbol(&abi_string("USD₮0")).unwrap(), "USD₮0");
    // Refused: nothing, empty, too long, control characters, padding spaces, bytes after a
    // bytes32 symbol's end, a non-canonical string (a trailing word), not text.
    assert!(decode_symbol(&[]).is_err());
    assert!(decode_symbol(&abi_string("")).is_err());
    assert!(decode_symbol(&abi_string(&"A".repeat(33))).is_err());
    assert_eq!(decode_symbol(&abi_string(&"A".repeat(32))).unwrap(), "A".repeat(32));
    assert!(decode_symbol(&abi_string("US\nDC")).is_err());
    assert!(decode_symbol(&abi_string(" USDC")).is_err());
    let mut gap = mkr.clone();
    gap[5] = b'X';
    assert!(decode_symbol(&gap).is_err());
    let mut long = usdc.clone();
    long.extend([0u8; 32]);
    assert!(decode_symbol(&long).is_err());
    let mut bad = usdc;
    bad[64] = 0xff;
    assert!(decode_symbol(&bad).is_err());
}
