//! A release on the consumer's side: `SealedResponse::from_bytes` (what the server relays), and
//! the payload an approver seals in it (read by `open_response`: the request and entry it names,
//! the policy, and the DEK or Shamir share), sealed here under the fixed world's keys so that the
//! fuzzer reaches the payload's reader.
//!
//! Input: byte 0 chooses what the rest is — 0 mod 3: a `SealedResponse`'s bytes; 1: a payload;
//! 2: the key material after a payload prefix that names the world's request, entry and approver
//! (so the fuzzer spends its time on the DEK and share readers; bit 2 of byte 0 chooses any-of
//! or 2-of-3).
#![no_main]
use blindvault_core::hpke;
use blindvault_core::release::{SealedResponse, open_response};
use blindvault_fuzz::{Rng, WORLD, canonical, json_round_trip};
use libfuzzer_sys::fuzz_target;

const INFO: &[u8] = blindvault_core::release::INFO_RESPONSE_V2;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let w = &*WORLD;
    if mode % 3 == 0 {
        if let Some(r) = canonical(rest, SealedResponse::from_bytes, SealedResponse::to_bytes) {
            json_round_trip(&r);
            let _ = open_response(&w.ephemeral, &w.request, &r, &w.approver);
        }
        return;
    }
    let req = &w.request.request;
    let payload = if mode % 3 == 1 {
        rest.to_vec()
    } else {
        // 0x02 ‖ request id ‖ entry id ‖ version ‖ policy ‖ approver key ‖ key material.
        let mut p = vec![2];
        p.extend_from_slice(&req.request_id.to_array());
        p.extend_from_slice(&req.entry_id.to_array());
        p.extend_from_slice(&1u32.to_be_bytes());
        p.extend_from_slice(if mode & 4 == 0 { &[1, 1, 1] } else { &[2, 2, 3] });
        p.extend_from_slice(&w.approver.public_key().to_array());
        p.extend_from_slice(rest);
        p
    };
    let pk = w.approver.public_key().to_array();
    let mut info = INFO.to_vec();
    info.push(0);
    info.extend_from_slice(&req.request_id.to_array());
    let sealed = hpke::seal_auth(
        &req.ephemeral_key.to_array(),
        (w.device.approver_secret().expose(), &pk),
        &info,
        &pk,
        &payload,
        &mut Rng::new(1),
    )
    .expect("seals");
    let mut bytes = vec![1];
    bytes.extend_from_slice(&req.request_id.to_array());
    bytes.extend_from_slice(&pk);
    bytes.extend_from_slice(&sealed.enc);
    bytes.extend_from_slice(&(sealed.ct.len() as u32).to_be_bytes());
    bytes.extend_from_slice(&sealed.ct);
    let response = SealedResponse::from_bytes(&bytes).expect("a sealed response");
    if let Ok(release) = open_response(&w.ephemeral, &w.request, &response, &w.approver) {
        // Accepted: it names this request's entry, and its policy is a valid one.
        assert_eq!(release.entry_id, req.entry_id);
        assert!(release.policy.validate().is_ok());
    }
});
