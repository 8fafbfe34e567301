//! The server's JSON request bodies: every request body type of the route table
//! (`blindvault_api::ROUTES`), read from raw bytes as axum's `Json` extractor reads them
//! (`serde_json::from_slice`). Byte 0 chooses the type; the rest is the body. A body that reads
//! writes out as JSON that reads again into a value that writes out the same; and every route's
//! own check (`Body::check`: the body is exactly a value of its type) runs on it without panicking.
#![no_main]
use blindvault_api::{
    admin, broker, broker_calls, ceremony, passkeys, push, sessions, step_ups, tokens, wallet, wallet_keyring,
};
use libfuzzer_sys::fuzz_target;
use serde::Serialize;
use serde::de::DeserializeOwned;

fn round_trip<T: Serialize + DeserializeOwned>(body: &[u8]) {
    let Ok(value) = serde_json::from_slice::<T>(body) else { return };
    let json = serde_json::to_value(&value).expect("a body that reads writes out");
    let back: T = serde_json::from_value(json.clone()).expect("what a body writes out reads again");
    assert_eq!(serde_json::to_value(&back).expect("writes out"), json, "{}", std::any::type_name::<T>());
}

macro_rules! bodies {
    ($($t:ty),* $(,)?) => {
        const BODIES: &[fn(&[u8])] = &[$(round_trip::<$t>),*];
    };
}

bodies!(
    ceremony::RegisterStart,
    ceremony::RegisterFinish,
    ceremony::CeremonyAnswer,
    ceremony::AddPasskeyStart,
    tokens::CreateToken,
    sessions::SetupClaim,
    passkeys::RenamePasskey,
    step_ups::StartStepUp,
    step_ups::ConfirmStepUp,
    admin::SetRole,
    admin::CreateInvite,
    broker_calls::PutOrg,
    broker::OrgSettings,
    broker_calls::CreateEnrolment,
    broker_calls::ApproveEnrolment,
    broker_calls::PutRevocations,
    broker_calls::RegisterHost,
    broker_calls::PutEntry,
    broker::CreateRequest,
    broker_calls::ApproveFinish,
    push::PushSubscribe,
    push::PushUnsubscribe,
    wallet::AddressPublish,
    wallet::GatewayRequest,
    wallet::EndpointSet,
    wallet::TokenSet,
    wallet_keyring::PutWalletEnvelope,
    wallet_keyring::SetWalletOrigin,
);

fuzz_target!(|data: &[u8]| {
    let Some((&which, body)) = data.split_first() else { return };
    BODIES[usize::from(which) % BODIES.len()](body);
    if which == 0xff
        && let Ok(value) = serde_json::from_slice::<serde_json::Value>(body)
    {
        for route in blindvault_api::ROUTES {
            if let Some(b) = route.request {
                let _ = (b.check)(&value);
            }
        }
    }
});
