//! `SignedEnrolment::from_bytes` (formats 1 and 2): enrolments the server relays to writers.
#![no_main]
use blindvault_core::identity::SignedEnrolment;
use blindvault_fuzz::{NOW, WORLD, canonical, json_round_trip};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(e) = canonical(data, SignedEnrolment::from_bytes, SignedEnrolment::to_bytes) {
        json_round_trip(&e);
        let _ = e.verify(&WORLD.org.public_key(), NOW);
    }
});
