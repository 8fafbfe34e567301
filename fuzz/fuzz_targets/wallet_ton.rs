//! TON: an unsigned body (a bag of cells) for the confirmation screen and a signed external
//! message (`decode_unsigned_body`, `decode_external_message`).
#![no_main]
use std::sync::LazyLock;

use blindvault_wallet::ton::{Address, decode_external_message, decode_unsigned_body};
use libfuzzer_sys::fuzz_target;

static FROM: LazyLock<Address> = LazyLock::new(|| {
    blindvault_wallet::ton::parse_address(
        "0:0000000000000000000000000000000000000000000000000000000000000000",
    )
    .expect("an address")
    .0
});

fuzz_target!(|data: &[u8]| {
    let _ = decode_unsigned_body(data, &FROM);
    let _ = decode_external_message(data);
});
