//! The core's small decoders: the org public key file's bytes, a policy, the ids' text form
//! (path parameters of the API), base64url and hex, a wallet envelope and the device-local
//! storage format. Byte 0 chooses the decoder; the rest is its input.
#![no_main]
use blindvault_core::encoding::{b64, hex};
use blindvault_core::ids::{CertId, EntryId, RequestId};
use blindvault_core::keys::OrgPublicKey;
use blindvault_core::policy::Policy;
use blindvault_core::schedule::LocalStorageKey;
use blindvault_core::wallet_envelope::WalletEnvelope;
use blindvault_fuzz::canonical;
use libfuzzer_sys::fuzz_target;

fn id_text<T: PartialEq + std::fmt::Debug>(
    s: &str,
    parse: fn(&str) -> Result<T, blindvault_core::Error>,
    text: fn(&T) -> String,
) {
    if let Ok(id) = parse(s) {
        assert_eq!(text(&id), s, "an id's text form is not canonical");
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else { return };
    let text = std::str::from_utf8(rest).ok();
    match which % 8 {
        0 => {
            if let Some(k) = canonical(rest, OrgPublicKey::from_bytes, OrgPublicKey::to_bytes) {
                let _ = k.fingerprint().to_string();
                blindvault_fuzz::json_round_trip(&k);
            }
        }
        1 => {
            if let Ok(b) = <[u8; 3]>::try_from(rest)
                && let Ok(p) = Policy::from_bytes(b)
            {
                assert_eq!(p.to_bytes(), b);
                assert!(p.threshold() <= p.n() && p.threshold() >= 1);
            }
            if let Some(t) = text
                && let Ok(p) = serde_json::from_str::<Policy>(t)
            {
                // The JSON form is not checked on read: a policy only counts once validated.
                let _ = p.validate();
            }
        }
        2 => {
            if let Some(s) = text {
                id_text(s, EntryId::parse, EntryId::to_text);
                id_text(s, RequestId::parse, RequestId::to_text);
                id_text(s, CertId::parse, CertId::to_text);
            }
        }
        3 => {
            if let Some(s) = text
                && let Ok(b) = b64::decode(s)
            {
                assert_eq!(b64::encode(&b), s, "base64url is not canonical");
            }
        }
        4 => {
            if let Some(s) = text
                && let Ok(b) = hex::decode(s)
            {
                assert_eq!(hex::encode(&b), s.to_ascii_lowercase());
            }
        }
        5 => {
            canonical(rest, WalletEnvelope::from_bytes, WalletEnvelope::to_bytes);
        }
        6 => {
            let key = LocalStorageKey::from_bytes([9; 32]);
            let _ = blindvault_core::storage::open(&key, "pinned-org", rest);
        }
        _ => {
            if let Some(s) = text {
                let _ = blindvault_core::text::ascii_inert(s);
                let _ = blindvault_core::cookie::strip_session_cookie_name(s);
            }
        }
    }
});
