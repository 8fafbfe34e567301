//! What webauthn-rs 0.6 lets through and the server refuses (`webauthn::strict`): a ceremony run
//! in a cross-origin frame (`crossOrigin: true`, any `topOrigin`), authenticator data with bytes
//! the flags do not announce, `none` attestation with a statement, a credential id over 1,023
//! bytes. Each tampered assertion is signed again with the device's own key, so the library
//! alone would accept it (the control case shows one re-signed assertion going through); each
//! refusal is a 400 with a stable code, at login, at the step-ups (a command-line session,
//! another passkey, the confirmation of a destructive action) and at a broker approval.

use anyhow::{Context, ensure};
use blindvault_api::ErrorCode;
use blindvault_api::accounts::StepUpView;
use blindvault_api::broker::PollResult;
use blindvault_api::broker_calls::ApprovalRecorded;
use blindvault_api::passkeys::Passkeys;
use blindvault_api::paths;
use blindvault_core::ids::EntryId;
use blindvault_core::policy::Policy;
use blindvault_testkit::broker::{Consumer, World, device_finishes_approval, device_prepares_approval};
use blindvault_testkit::tamper::{self, auth_data, client_data, replace_credential_id};
use blindvault_testkit::{Agent, Backend, Device, TestServer};
use serde_cbor_2::Value as Cbor;
use serde_json::{Value, json};
use sqlx::Row as _;

both!(
    login_refuses_cross_origin_frames_and_trailing_bytes,
    step_ups_refuse_cross_origin_frames_and_trailing_bytes,
    approval_refuses_cross_origin_frames_and_trailing_bytes,
    registration_refuses_what_the_library_lets_through
);

/// An edit of a real assertion, signed again.
#[derive(Debug, Clone, Copy)]
enum Tamper {
    /// `crossOrigin: true` (a page framed by another site).
    CrossOrigin,
    /// A `topOrigin` member (the top-level site of a cross-origin frame).
    TopOrigin,
    /// One byte after the authenticator data, no extension flag.
    TrailingByte,
    /// An empty extension map announced by the ED flag, then one more byte.
    TrailingAfterExtensions,
}

const TAMPERS: [Tamper; 4] =
    [Tamper::CrossOrigin, Tamper::TopOrigin, Tamper::TrailingByte, Tamper::TrailingAfterExtensions];

impl Tamper {
    fn apply(self, cd: &mut Vec<u8>, ad: &mut Vec<u8>) {
        match self {
            Tamper::CrossOrigin => client_data(cd, |m| {
                m.insert("crossOrigin".into(), json!(true));
            }),
            Tamper::TopOrigin => client_data(cd, |m| {
                m.insert("topOrigin".into(), json!("https://evil.example"));
            }),
            Tamper::TrailingByte => ad.push(0),
            Tamper::TrailingAfterExtensions => {
                if let Some(flags) = ad.get_mut(32) {
                    *flags |= 0x80;
                }
                ad.extend_from_slice(&[0xa0, 0x00]);
            }
        }
    }

    fn code(self) -> &'static str {
        match self {
            Tamper::CrossOrigin | Tamper::TopOrigin => "webauthn_cross_origin",
            Tamper::TrailingByte | Tamper::TrailingAfterExtensions => "webauthn_authenticator_data_invalid",
        }
    }
}

/// The control: re-signed with `crossOrigin: false` spelled out and nothing else changed.
fn harmless(cd: &mut Vec<u8>, _: &mut Vec<u8>) {
    client_data(cd, |m| {
        m.insert("crossOrigin".into(), json!(false));
    });
}

fn refused(what: &str, r: &blindvault_testkit::Resp, code: &str) -> anyhow::Result<()> {
    ensure!(
        r.status == 400 && r.code().map(ErrorCode::as_str) == Some(code),
        "{what}: want 400 {code}, got {} {}",
        r.status,
        r.body
    );
    Ok(())
}

async fn login_refuses_cross_origin_frames_and_trailing_bytes(b: Backend) -> anyhow::Result<()> {
    let server = TestServer::start(b).await?;
    let mut phone = Device::new();
    phone.register(&server, "alice").await?;
    for t in TAMPERS {
        let mut agent = server.agent();
        let mut c = phone.prepare_login(&server, &mut agent).await?;
        phone.resign_assertion(&mut c.credential, |cd, ad| t.apply(cd, ad))?;
        let r = agent
            .post(paths::LOGIN_FINISH, json!({ "ceremony_id": c.ceremony_id, "credential": c.credential }))
            .await?;
        refused(&format!("login {t:?}"), &r, t.code())?;
        ensure!(agent.token.is_none() && r.set_cookie.is_none(), "{t:?}: no session");
    }
    let mut agent = server.agent();
    let mut c = phone.prepare_login(&server, &mut agent).await?;
    phone.resign_assertion(&mut c.credential, harmless)?;
    agent
        .post(paths::LOGIN_FINISH, json!({ "ceremony_id": c.ceremony_id, "credential": c.credential }))
        .await?
        .ok()?;
    ensure!(agent.token.is_some(), "the re-signed control assertion signs in");
    Ok(())
}

/// A fresh assertion for a step-up, from `/api/login/start`, edited by `edit`.
async fn step_up(
    server: &TestServer,
    phone: &mut Device,
    agent: &mut Agent,
    edit: impl FnOnce(&mut Vec<u8>, &mut Vec<u8>),
) -> anyhow::Result<Value> {
    let mut c = phone.prepare_login(server, agent).await?;
    phone.resign_assertion(&mut c.credential, edit)?;
    Ok(json!({ "ceremony_id": c.ceremony_id, "credential": c.credential, "name": "laptop" }))
}

async fn step_ups_refuse_cross_origin_frames_and_trailing_bytes(b: Backend) -> anyhow::Result<()> {
    let server = TestServer::start(b).await?;
    let mut phone = Device::new();
    let mut alice = phone.register(&server, "alice").await?;
    for path in [paths::PASSKEYS_REGISTER_START] {
        for t in TAMPERS {
            let body = step_up(&server, &mut phone, &mut alice.agent, |cd, ad| t.apply(cd, ad)).await?;
            let r = alice.agent.post(path, body).await?;
            refused(&format!("{path} {t:?}"), &r, t.code())?;
        }
        let body = step_up(&server, &mut phone, &mut alice.agent, harmless).await?;
        alice.agent.post(path, body).await?.ok().with_context(|| format!("{path}: the control"))?;
    }
    // The step-up of a destructive action (`/api/step-up/{id}/confirm`): refused, and the
    // step-up stays unconfirmed.
    let list = alice.agent.get(paths::PASSKEYS).await?.ok()?;
    let target = list.json::<Passkeys>()?.passkeys.into_iter().next().context("a passkey")?.id;
    for t in TAMPERS {
        let id = blindvault_testkit::start_step_up(&mut alice.agent, "passkey.delete", &target).await?;
        let view: StepUpView = alice.agent.get(&paths::with_id(paths::STEP_UP, &id)).await?.ok()?.json()?;
        let (mut credential, _) =
            phone.get(&server.origin, view.options.as_ref().context("options")?).await?;
        phone.resign_assertion(&mut credential, |cd, ad| t.apply(cd, ad))?;
        let r = alice
            .agent
            .post(&paths::with_id(paths::STEP_UP_CONFIRM, &id), json!({ "credential": credential }))
            .await?;
        refused(&format!("step-up confirm {t:?}"), &r, t.code())?;
        let view: StepUpView = alice.agent.get(&paths::with_id(paths::STEP_UP, &id)).await?.ok()?.json()?;
        ensure!(view.status.as_deref() == Some("failed"), "{t:?}: {view:?}");
    }
    let id = blindvault_testkit::start_step_up(&mut alice.agent, "passkey.delete", &target).await?;
    let view: StepUpView = alice.agent.get(&paths::with_id(paths::STEP_UP, &id)).await?.ok()?.json()?;
    let (mut credential, _) = phone.get(&server.origin, view.options.as_ref().context("options")?).await?;
    phone.resign_assertion(&mut credential, harmless)?;
    alice
        .agent
        .post(&paths::with_id(paths::STEP_UP_CONFIRM, &id), json!({ "credential": credential }))
        .await?
        .ok()
        .context("step-up confirm: the control")?;
    Ok(())
}

async fn approval_refuses_cross_origin_frames_and_trailing_bytes(b: Backend) -> anyhow::Result<()> {
    let mut w = World::new(b, &["alice"]).await?;
    let entry = EntryId::generate(&mut blindvault_testkit::broker::os_rng());
    w.put_secret(entry, 1, Policy::AnyOf { n: 1 }, b"s").await?;
    let (host, cert) = w.host(&[entry]).await?;
    let (c, _) = Consumer::ask(&w.server, &host, &cert, entry).await?;
    let id = c.id();
    for t in TAMPERS {
        let mut finish = device_prepares_approval(&w.server, &mut w.approvers[0], &id).await?;
        w.approvers[0].device.resign_assertion(&mut finish["credential"], |cd, ad| t.apply(cd, ad))?;
        let r = device_finishes_approval(&mut w.approvers[0], &id, finish).await?;
        refused(&format!("approval {t:?}"), &r, t.code())?;
        let p = c.poll(&w.server).await?;
        ensure!(
            matches!(p.json::<PollResult>()?, PollResult::Pending { .. }),
            "{t:?}: nothing approved: {:?}",
            p.body
        );
    }
    let mut finish = device_prepares_approval(&w.server, &mut w.approvers[0], &id).await?;
    w.approvers[0].device.resign_assertion(&mut finish["credential"], harmless)?;
    let r = device_finishes_approval(&mut w.approvers[0], &id, finish).await?.ok()?;
    ensure!(
        r.json::<ApprovalRecorded>()?.status == "approved",
        "the re-signed control approves: {:?}",
        r.body
    );
    Ok(())
}

/// An edit of a real registration response (`none` attestation: nothing to sign again).
#[derive(Debug, Clone, Copy)]
enum RegTamper {
    CrossOrigin,
    TopOrigin,
    NoneWithStatement,
    TrailingByte,
    LongCredentialId,
}

const REG_TAMPERS: [RegTamper; 5] = [
    RegTamper::CrossOrigin,
    RegTamper::TopOrigin,
    RegTamper::NoneWithStatement,
    RegTamper::TrailingByte,
    RegTamper::LongCredentialId,
];

impl RegTamper {
    fn apply(self, credential: &mut Value) -> anyhow::Result<()> {
        let long_id = vec![0x5a; 1024];
        tamper::registration(credential, |cd, att| match self {
            RegTamper::CrossOrigin => client_data(cd, |m| {
                m.insert("crossOrigin".into(), json!(true));
            }),
            RegTamper::TopOrigin => client_data(cd, |m| {
                m.insert("topOrigin".into(), json!("https://evil.example"));
            }),
            RegTamper::NoneWithStatement => {
                let stmt = [(Cbor::Text("sig".into()), Cbor::Bytes(vec![1; 64]))].into_iter().collect();
                att.insert(Cbor::Text("attStmt".into()), Cbor::Map(stmt));
            }
            RegTamper::TrailingByte => {
                if let Some(ad) = auth_data(att) {
                    ad.push(0);
                }
            }
            RegTamper::LongCredentialId => {
                if let Some(ad) = auth_data(att) {
                    let _ = replace_credential_id(ad, &long_id);
                }
            }
        })?;
        if let RegTamper::LongCredentialId = self {
            let id = blindvault_testkit::broker::b64(&long_id);
            credential["id"] = json!(id);
            credential["rawId"] = json!(id);
        }
        Ok(())
    }

    fn code(self) -> &'static str {
        match self {
            RegTamper::CrossOrigin | RegTamper::TopOrigin => "webauthn_cross_origin",
            RegTamper::NoneWithStatement => "webauthn_attestation_invalid",
            RegTamper::TrailingByte => "webauthn_authenticator_data_invalid",
            RegTamper::LongCredentialId => "webauthn_credential_id_too_long",
        }
    }
}

async fn registration_refuses_what_the_library_lets_through(b: Backend) -> anyhow::Result<()> {
    let server = TestServer::start(b).await?;
    // Sign-up.
    for (i, t) in REG_TAMPERS.into_iter().enumerate() {
        let mut phone = Device::new();
        let mut agent = server.agent();
        let mut c = phone.prepare_register(&server, &mut agent, &format!("new-{i}")).await?;
        t.apply(&mut c.credential)?;
        let r = agent
            .post(paths::REGISTER_FINISH, json!({ "ceremony_id": c.ceremony_id, "credential": c.credential }))
            .await?;
        refused(&format!("sign-up {t:?}"), &r, t.code())?;
        ensure!(agent.token.is_none(), "{t:?}: no account, no session");
    }
    let users: i64 = sqlx::query("SELECT COUNT(*) AS n FROM users")
        .fetch_one(server.state.store.pool())
        .await?
        .try_get("n")?;
    ensure!(users == 0, "{users} accounts made from refused sign-ups");
    // Another passkey for a signed-in account.
    let mut phone = Device::new();
    let mut alice = phone.register(&server, "alice").await?;
    for t in REG_TAMPERS {
        let mut laptop = Device::new();
        let step_up = phone.prepare_login(&server, &mut alice.agent).await?;
        let body =
            json!({ "name": "laptop", "ceremony_id": step_up.ceremony_id, "credential": step_up.credential });
        let start = alice.agent.post(paths::PASSKEYS_REGISTER_START, body).await?.ok()?;
        let mut c = laptop.answer_create(&server.origin, start.body).await?;
        t.apply(&mut c.credential)?;
        let r = alice
            .agent
            .post(
                paths::PASSKEYS_REGISTER_FINISH,
                json!({ "ceremony_id": c.ceremony_id, "credential": c.credential }),
            )
            .await?;
        refused(&format!("add passkey {t:?}"), &r, t.code())?;
    }
    let list = alice.agent.get(paths::PASSKEYS).await?.ok()?;
    ensure!(list.json::<Passkeys>()?.passkeys.len() == 1, "only the first passkey: {:?}", list.body);
    Ok(())
}
