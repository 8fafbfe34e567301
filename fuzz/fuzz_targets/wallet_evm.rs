//! EVM: an unsigned EIP-1559 payload a dApp asks to sign (`decode_eip1559`, for the
//! confirmation screen), EIP-712 typed data (`decode_typed_data`) and the ERC-20 reads' return
//! data. Byte 0 chooses; the rest is the input.
#![no_main]
use blindvault_wallet::display::Asset;
use blindvault_wallet::evm::{Address, decode_eip1559, decode_typed_data, erc20};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else { return };
    let native = Asset::new("ETH", 18);
    let token = Asset::new("USDT", 6);
    match which % 4 {
        0 => {
            let _ = decode_eip1559(rest, Address::repeat_byte(0x11), &native, None);
        }
        1 => {
            let _ = decode_eip1559(rest, Address::repeat_byte(0x11), &native, Some(&token));
        }
        2 => {
            if let Ok(text) = std::str::from_utf8(rest) {
                let _ = decode_typed_data(text);
            }
        }
        _ => {
            let _ = erc20::decode_balance(rest);
            let _ = erc20::decode_decimals(rest);
            let _ = erc20::decode_symbol(rest);
        }
    }
});
