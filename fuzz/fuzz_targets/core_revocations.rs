//! `SignedRevocations::from_bytes`: the org's revocation record, from the server and from the
//! file a host keeps beside its key.
#![no_main]
use blindvault_core::revocation::{Revocations, SignedRevocations};
use blindvault_fuzz::{WORLD, canonical, json_round_trip};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(r) = canonical(data, SignedRevocations::from_bytes, SignedRevocations::to_bytes) {
        json_round_trip(&r);
        let org = WORLD.org.public_key();
        let _ = SignedRevocations::check(Some(&r), &org, 0);
        let _ = SignedRevocations::check_against(Some(&r), &org, Some(&Revocations::none()));
        let _ = r.record.replaces(&r.record);
        let _ = r.record.check_approver(&WORLD.device.approver_public());
        let _ = r.record.check_host(&WORLD.cert.cert.cert_id);
    }
});
