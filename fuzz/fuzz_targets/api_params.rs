//! The server's path and query parameters: the query strings of the API (read as axum's
//! `Query` extractor reads them, with `serde_urlencoded`), the ids a path carries in their text
//! form (entry, request and certificate ids: unpadded base64url of 16 bytes), and a path template
//! filled with an id. Byte 0 chooses; the rest is the input.
#![no_main]
use blindvault_api::{audit, broker_calls, paths};
use blindvault_core::ids::{CertId, EntryId, RequestId};
use libfuzzer_sys::fuzz_target;
use serde::Serialize;
use serde::de::DeserializeOwned;

fn query<T: Serialize + DeserializeOwned>(q: &[u8]) {
    let Ok(value) = serde_urlencoded::from_bytes::<T>(q) else { return };
    let text = serde_urlencoded::to_string(&value).expect("a query that reads writes out");
    let back: T = serde_urlencoded::from_str(&text).expect("what a query writes out reads again");
    assert_eq!(serde_urlencoded::to_string(&back).expect("writes out"), text);
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else { return };
    match which % 6 {
        0 => query::<audit::AuditQuery>(rest),
        1 => query::<broker_calls::EnrolmentQuery>(rest),
        2 => query::<broker_calls::RemoveQuery>(rest),
        3 => query::<broker_calls::ResultQuery>(rest),
        4 => {
            let _ = serde_urlencoded::from_bytes::<std::collections::HashMap<String, String>>(rest);
        }
        _ => {
            let Ok(s) = std::str::from_utf8(rest) else { return };
            if let Ok(id) = EntryId::parse(s) {
                assert_eq!(id.to_text(), s);
                for template in paths::ALL {
                    let path = paths::with_id(template, &id.to_text());
                    assert!(!path.contains("{id}") || template.matches("{id}").count() > 1);
                }
            }
            let _ = RequestId::parse(s);
            let _ = CertId::parse(s);
        }
    }
});
