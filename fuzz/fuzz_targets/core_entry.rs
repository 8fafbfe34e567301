//! `SealedEntry::from_bytes`: the sealed entry versions the server stores and hands to approver
//! devices and consumers.
#![no_main]
use blindvault_core::entry::SealedEntry;
use blindvault_fuzz::{WORLD, canonical, json_round_trip};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(e) = canonical(data, SealedEntry::from_bytes, SealedEntry::to_bytes) {
        json_round_trip(&e);
        // What a device and a consumer do next with one: nothing may panic.
        let _ = e.verify_writer(&WORLD.org.public_key());
        let _ = e.decrypt_label_as_org(&WORLD.org);
        let _ = e.open_envelope(WORLD.device.approver_secret());
        let _ = e.envelope_for(&WORLD.device.approver_public());
    }
});
