//! `SignedRequest::from_bytes`: a consumer's request, as the server and approver devices read it.
#![no_main]
use blindvault_core::identity::{SignedRequest, verify_request};
use blindvault_fuzz::{NOW, WORLD, canonical, json_round_trip};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(r) = canonical(data, SignedRequest::from_bytes, SignedRequest::to_bytes) {
        json_round_trip(&r);
        let _ = verify_request(&WORLD.org.public_key(), &WORLD.cert, &r, NOW);
    }
});
