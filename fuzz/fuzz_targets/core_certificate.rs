//! `SignedHostCertificate::from_bytes` (formats 1 and 2): host certificates from the server and
//! from host key files.
#![no_main]
use blindvault_core::identity::{SignedHostCertificate, verify_request};
use blindvault_fuzz::{NOW, WORLD, canonical, json_round_trip};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(c) = canonical(data, SignedHostCertificate::from_bytes, SignedHostCertificate::to_bytes) {
        json_round_trip(&c);
        let _ = c.verify(&WORLD.org.public_key(), NOW);
        let _ = verify_request(&WORLD.org.public_key(), &c, &WORLD.request, NOW);
    }
});
