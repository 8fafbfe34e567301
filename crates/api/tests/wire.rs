//! The bodies' bytes on the wire: each reply and request body the server writes (or reads)
//! serialises to exactly the JSON the routes answered with before they were typed — member
//! names, their order, `null` for an absent value where the reply always carries the member, and
//! members omitted where requests leave them out. A renamed, reordered or newly omitted member
//! fails here before it reaches a client.

use blindvault_api::admin::{
    CreateInvite, InviteRevoked, RoleSet, Settings, UserDeleted, UserSessions, Users,
};
use blindvault_api::audit::{Anchor, AuditQuery, AuditRow, AuditRows, BadRow, VerifyReport};
use blindvault_api::broker_calls::{
    ApprovalRecorded, EntryDeleted, HostRevoked, RequestDecision, RequestDenied, RequestView,
    RevocationsStored, RevocationsView,
};
use blindvault_api::ceremony::{
    AddPasskeyStart, CeremonyAnswer, CeremonyStart, RegisterFinish, RegisterStart,
};
use blindvault_api::passkeys::{PasskeyAdded, PasskeyRemoved, PasskeyRenamed, PasskeyView, Passkeys};
use blindvault_api::sessions::{
    Claimed, Health, LoggedIn, Me, MySessions, Role, SessionRef, SessionView, SessionsRevoked, UserView,
};
use blindvault_api::step_ups::{ConfirmStepUp, StartStepUp, StepUpCancelled, StepUpConfirmed};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;

type R = Result<(), Box<dyn std::error::Error>>;

/// `value` writes exactly `text`, and reads back to the same JSON.
fn wire<T: Serialize + DeserializeOwned>(value: &T, text: &str) -> R {
    let written = serde_json::to_string(value)?;
    if written != text {
        return Err(format!("wrote {written}\n expected {text}").into());
    }
    let back: T = serde_json::from_str(text)?;
    if serde_json::to_string(&back)? != text {
        return Err(format!("{text} did not read back to itself").into());
    }
    Ok(())
}

fn user() -> UserView {
    UserView {
        id: "u1".into(),
        name: "alice".into(),
        display_name: "Alice".into(),
        role: "user".into(),
        created_at: 7,
    }
}

const USER: &str = r#"{"id":"u1","name":"alice","display_name":"Alice","role":"user","created_at":7}"#;

#[test]
fn account_replies() -> R {
    let me =
        Me { user: user(), session: SessionRef { id: "s1".into(), expires_at: 9 }, ceremony_ttl_secs: 120 };
    wire(
        &me,
        &format!(r#"{{"user":{USER},"session":{{"id":"s1","expires_at":9}},"ceremony_ttl_secs":120}}"#),
    )?;
    wire(
        &LoggedIn { user: user(), credential_id: "c1".into(), extended: true },
        &format!(r#"{{"user":{USER},"credential_id":"c1","extended":true}}"#),
    )?;
    wire(
        &blindvault_api::sessions::Registered { user: user(), credential_id: "c1".into() },
        &format!(r#"{{"user":{USER},"credential_id":"c1"}}"#),
    )?;
    wire(&SessionsRevoked { revoked: 2 }, r#"{"revoked":2}"#)?;
    let live = SessionView {
        id: "s1".into(),
        user_id: "u1".into(),
        created_at: 1,
        expires_at: 2,
        revoked_at: None,
        client_addr: None,
    };
    let live_text =
        r#"{"id":"s1","user_id":"u1","created_at":1,"expires_at":2,"revoked_at":null,"client_addr":null}"#;
    wire(
        &MySessions { sessions: vec![live.clone()], current: "s1".into() },
        &format!(r#"{{"sessions":[{live_text}],"current":"s1"}}"#),
    )?;
    wire(&UserSessions { sessions: vec![live] }, &format!(r#"{{"sessions":[{live_text}]}}"#))?;
    wire(&Claimed { role: Role::Admin }, r#"{"role":"admin"}"#)?;
    wire(&Health { status: "ok".into() }, r#"{"status":"ok"}"#)
}

#[test]
fn token_bodies() -> R {
    use blindvault_api::tokens::{
        CliTokenList, CreateToken, TokenCreated, TokenInfo, TokenRevoked, TokenScope, TokenWhoami,
    };
    wire(
        &CreateToken { name: "laptop".into(), scope: TokenScope::ConsumerRead, expires_in_days: Some(7) },
        r#"{"name":"laptop","scope":"consumer-read","expires_in_days":7}"#,
    )?;
    wire(
        &CreateToken { name: "ci".into(), scope: TokenScope::Admin, expires_in_days: None },
        r#"{"name":"ci","scope":"admin"}"#,
    )?;
    let info = TokenInfo {
        id: "t1".into(),
        name: "ci".into(),
        user_id: "u1".into(),
        user_name: "alice".into(),
        scope: TokenScope::Admin,
        created_at: 1,
        expires_at: 2,
        revoked_at: None,
        last_used_at: Some(3),
        last_used_addr: Some("127.0.0.1".into()),
    };
    let info_text = r#"{"id":"t1","name":"ci","user_id":"u1","user_name":"alice","scope":"admin","created_at":1,"expires_at":2,"revoked_at":null,"last_used_at":3,"last_used_addr":"127.0.0.1"}"#;
    wire(
        &TokenCreated { token: "bvt_x".into(), info: info.clone() },
        &format!(r#"{{"token":"bvt_x","info":{info_text}}}"#),
    )?;
    let shown = format!("{:?}", TokenCreated { token: "bvt_secret".into(), info: info.clone() });
    assert!(!shown.contains("bvt_secret"), "{shown}");
    wire(&CliTokenList { tokens: vec![info.clone()] }, &format!(r#"{{"tokens":[{info_text}]}}"#))?;
    wire(&TokenRevoked { revoked: "t1".into() }, r#"{"revoked":"t1"}"#)?;
    wire(
        &TokenWhoami { token: info, role: "admin".into() },
        &format!(r#"{{"token":{info_text},"role":"admin"}}"#),
    )?;
    Ok(())
}

#[test]
fn ceremony_bodies() -> R {
    let options = json!({ "publicKey": { "challenge": "abc" } });
    wire(
        &CeremonyStart { ceremony_id: "c".into(), options },
        r#"{"ceremony_id":"c","options":{"publicKey":{"challenge":"abc"}}}"#,
    )?;
    // Optional request members are left out when absent (and read as absent when missing).
    wire(&RegisterStart { name: "bob".into(), display_name: None, invite: None }, r#"{"name":"bob"}"#)?;
    wire(
        &RegisterStart { name: "bob".into(), display_name: Some("Bob".into()), invite: Some("X".into()) },
        r#"{"name":"bob","display_name":"Bob","invite":"X"}"#,
    )?;
    let cred = json!({ "id": "k" });
    wire(
        &RegisterFinish { ceremony_id: "c".into(), credential: cred.clone(), passkey_name: None },
        r#"{"ceremony_id":"c","credential":{"id":"k"}}"#,
    )?;
    wire(
        &CeremonyAnswer { ceremony_id: "c".into(), credential: cred.clone() },
        r#"{"ceremony_id":"c","credential":{"id":"k"}}"#,
    )?;
    wire(
        &AddPasskeyStart { name: Some("laptop".into()), ceremony_id: "c".into(), credential: cred.clone() },
        r#"{"name":"laptop","ceremony_id":"c","credential":{"id":"k"}}"#,
    )?;
    wire(&ConfirmStepUp { credential: cred }, r#"{"credential":{"id":"k"}}"#)?;
    wire(
        &StartStepUp { action: "host.revoke".into(), target: "h".into() },
        r#"{"action":"host.revoke","target":"h"}"#,
    )
}

#[test]
fn passkey_admin_and_step_up_replies() -> R {
    let pk = PasskeyView {
        id: "k".into(),
        name: "phone".into(),
        created_at: 1,
        last_used_at: None,
        sign_count: 0,
        backup_eligible: false,
        backup_state: false,
    };
    wire(
        &Passkeys { passkeys: vec![pk] },
        r#"{"passkeys":[{"id":"k","name":"phone","created_at":1,"last_used_at":null,"sign_count":0,"backup_eligible":false,"backup_state":false}]}"#,
    )?;
    wire(&PasskeyAdded { credential_id: "k".into() }, r#"{"credential_id":"k"}"#)?;
    wire(&PasskeyRenamed { id: "k".into(), name: "old".into() }, r#"{"id":"k","name":"old"}"#)?;
    wire(&PasskeyRemoved { removed: "k".into() }, r#"{"removed":"k"}"#)?;
    wire(&Users { users: vec![user()] }, &format!(r#"{{"users":[{USER}]}}"#))?;
    wire(&UserDeleted { deleted: "u1".into() }, r#"{"deleted":"u1"}"#)?;
    wire(&RoleSet { id: "u1".into(), role: Role::Approver }, r#"{"id":"u1","role":"approver"}"#)?;
    wire(&InviteRevoked { revoked: "i".into() }, r#"{"revoked":"i"}"#)?;
    wire(&CreateInvite::default(), "{}")?;
    let settings = Settings {
        rp_id: "localhost".into(),
        origin: "http://localhost:8080".into(),
        rp_name: "blindvault".into(),
        session_ttl_secs: 900,
        challenge_ttl_secs: 120,
        rate_limit_per_minute: 60,
        rate_limit_burst: 20,
        account_rate_limit_per_minute: 10,
        account_rate_limit_burst: 5,
        database: "sqlite".into(),
        push_services: vec!["fcm.googleapis.com".into(), "*.push.apple.com".into()],
    };
    wire(
        &settings,
        r#"{"rp_id":"localhost","origin":"http://localhost:8080","rp_name":"blindvault","session_ttl_secs":900,"challenge_ttl_secs":120,"rate_limit_per_minute":60,"rate_limit_burst":20,"account_rate_limit_per_minute":10,"account_rate_limit_burst":5,"database":"sqlite","push_services":["fcm.googleapis.com","*.push.apple.com"]}"#,
    )?;
    wire(
        &StepUpConfirmed {
            id: "s".into(),
            status: "confirmed".into(),
            action: "a".into(),
            target: "t".into(),
        },
        r#"{"id":"s","status":"confirmed","action":"a","target":"t"}"#,
    )?;
    wire(
        &StepUpCancelled { id: "s".into(), status: "cancelled".into() },
        r#"{"id":"s","status":"cancelled"}"#,
    )
}

#[test]
fn audit_bodies() -> R {
    let row = AuditRow {
        seq: 1,
        at: 2,
        actor: None,
        action: "login".into(),
        target: Some("u1".into()),
        detail: "{}".into(),
        prev_hash: "00".into(),
        hash: "ab".into(),
    };
    wire(
        &AuditRows { rows: vec![row] },
        r#"{"rows":[{"seq":1,"at":2,"actor":null,"action":"login","target":"u1","detail":"{}","prev_hash":"00","hash":"ab"}]}"#,
    )?;
    wire(
        &VerifyReport { rows: 3, first_bad: None, head: Some(Anchor { seq: 3, hash: "ab".into() }) },
        r#"{"rows":3,"first_bad":null,"head":{"seq":3,"hash":"ab"}}"#,
    )?;
    wire(
        &VerifyReport { rows: 2, first_bad: Some(BadRow { seq: 2, reason: "edited".into() }), head: None },
        r#"{"rows":2,"first_bad":{"seq":2,"reason":"edited"},"head":null}"#,
    )?;
    wire(&AuditQuery::default(), r#"{"after":0}"#)?;
    // An anchor is written SEQ:HASH and read back only in that form.
    let anchor: Anchor = format!("7:{}", "AB".repeat(32)).parse()?;
    if anchor.to_string() != format!("7:{}", "ab".repeat(32)) || "0:ab".parse::<Anchor>().is_ok() {
        return Err("anchor text".into());
    }
    Ok(())
}

#[test]
fn broker_acks_and_the_request_view() -> R {
    wire(&RevocationsView { revocations: None }, r#"{"revocations":null}"#)?;
    wire(&RevocationsStored { epoch: 3, stored: false }, r#"{"epoch":3,"stored":false}"#)?;
    wire(&HostRevoked { revoked: true, requests_ended: 2 }, r#"{"revoked":true,"requests_ended":2}"#)?;
    wire(&EntryDeleted { deleted: true }, r#"{"deleted":true}"#)?;
    wire(
        &ApprovalRecorded { status: "pending".into(), approvals: 1, threshold: 2 },
        r#"{"status":"pending","approvals":1,"threshold":2}"#,
    )?;
    wire(&RequestDenied { status: "denied".into() }, r#"{"status":"denied"}"#)?;
    let view = RequestView {
        request_id: "r".into(),
        status: "pending".into(),
        host_name: "web-1".into(),
        created_at: 1,
        issuer: "u1".into(),
        issuer_name: None,
        entry_id: "e".into(),
        version: 1,
        threshold: 1,
        expires_at: 2,
        signed_request: "S".into(),
        certificate: "C".into(),
        sealed_entry: None,
        decisions: vec![RequestDecision { user: "bob".into(), decision: "approve".into() }],
        approvers: vec!["bob".into()],
        my_decision: None,
        lease: None,
    };
    wire(
        &view,
        r#"{"request_id":"r","status":"pending","host_name":"web-1","created_at":1,"issuer":"u1","issuer_name":null,"entry_id":"e","version":1,"threshold":1,"expires_at":2,"signed_request":"S","certificate":"C","sealed_entry":null,"decisions":[{"user":"bob","decision":"approve"}],"approvers":["bob"],"my_decision":null}"#,
    )
}

#[test]
fn lease_bodies() -> R {
    use blindvault_api::broker::{LeaseState, LeaseStatus, LeaseView};
    wire(
        &LeaseStatus { state: LeaseState::Ended, ended_by: Some("alice".into()), ends_at: Some(900) },
        r#"{"state":"ended","ended_by":"alice","ends_at":900}"#,
    )?;
    wire(
        &LeaseStatus { state: LeaseState::Running, ended_by: None, ends_at: Some(900) },
        r#"{"state":"running","ended_by":null,"ends_at":900}"#,
    )?;
    wire(
        &LeaseView {
            request_id: "r".into(),
            host_name: "ci-1".into(),
            command: "./migrate.sh".into(),
            env: vec!["DB".into()],
            approved_by: vec!["bob".into()],
            delivered_at: 1,
            ends_at: 901,
            state: LeaseState::Over,
            ended_at: None,
            ended_by: None,
            ended_by_name: None,
        },
        r#"{"request_id":"r","host_name":"ci-1","command":"./migrate.sh","env":["DB"],"approved_by":["bob"],"delivered_at":1,"ends_at":901,"state":"over","ended_at":null,"ended_by":null,"ended_by_name":null}"#,
    )
}

#[test]
fn wallet_keyring_bodies() -> R {
    use blindvault_api::wallet_keyring::{
        PutWalletEnvelope, SetWalletOrigin, WalletEnvelopeView, WalletKeyring, WalletOrigin,
    };
    let ring = WalletKeyring {
        user_id: "u1".into(),
        origin: Some(WalletOrigin { credential_id: "cA".into(), created_at: 3 }),
        envelopes: vec![WalletEnvelopeView {
            credential_id: "cB".into(),
            envelope: "AQ".into(),
            created_at: 4,
        }],
    };
    wire(
        &ring,
        r#"{"user_id":"u1","origin":{"credential_id":"cA","created_at":3},"envelopes":[{"credential_id":"cB","envelope":"AQ","created_at":4}]}"#,
    )?;
    wire(
        &WalletKeyring { user_id: "u1".into(), origin: None, envelopes: vec![] },
        r#"{"user_id":"u1","origin":null,"envelopes":[]}"#,
    )?;
    wire(&SetWalletOrigin { credential_id: "cA".into() }, r#"{"credential_id":"cA"}"#)?;
    wire(&PutWalletEnvelope { envelope: "AQ".into() }, r#"{"envelope":"AQ"}"#)?;
    let unknown = serde_json::from_value::<PutWalletEnvelope>(json!({ "envelope": "AQ", "replace": true }));
    if unknown.is_ok() {
        return Err("an unknown member is refused".into());
    }
    Ok(())
}

#[test]
fn push_bodies() -> R {
    use blindvault_api::push::{
        PushKey, PushPayload, PushSubscribe, PushSubscribed, PushSubscriptionKeys, PushUnsubscribe,
        PushUnsubscribed,
    };
    wire(
        &PushKey { public_key: "BA".into(), org_name: "Acme".into() },
        r#"{"public_key":"BA","org_name":"Acme"}"#,
    )?;
    wire(
        &PushSubscribe {
            credential_id: "c1".into(),
            endpoint: "https://push.example/x".into(),
            keys: PushSubscriptionKeys { p256dh: "BP".into(), auth: "au".into() },
        },
        r#"{"credential_id":"c1","endpoint":"https://push.example/x","keys":{"p256dh":"BP","auth":"au"}}"#,
    )?;
    wire(&PushSubscribed { id: "s1".into() }, r#"{"id":"s1"}"#)?;
    wire(
        &PushUnsubscribe { endpoint: "https://push.example/x".into() },
        r#"{"endpoint":"https://push.example/x"}"#,
    )?;
    wire(&PushUnsubscribed { removed: true }, r#"{"removed":true}"#)?;
    wire(&PushPayload { request: "r1".into() }, r#"{"request":"r1"}"#)
}
