//! TRON: a transaction's `raw_data` protobuf for the confirmation screen (`decode_raw_data`, the
//! hand-written strict decoder), with and without a TRC-20 token's symbol.
#![no_main]
use blindvault_wallet::display::Asset;
use blindvault_wallet::tron::decode_raw_data;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = decode_raw_data(data, None);
    let _ = decode_raw_data(data, Some(&Asset::new("USDT", 6)));
});
