//! Setup code, roles, admin user management and the audit trail of it.

use anyhow::{Context, ensure};
use blindvault_api::admin::Users;
use blindvault_api::audit::{AuditRows, VerifyReport};
use blindvault_api::broker::{ApproverView, EnrolmentView, HostView, OrgView};
use blindvault_api::sessions::{Claimed, Me, Role};
use blindvault_api::{ErrorCode, paths};
use blindvault_core::identity::HostCertificate;
use blindvault_core::ids::{CertId, EntryId};
use blindvault_core::keys::{HostSecretKey, OrgSecretKey};
use blindvault_core::policy::Policy;
use blindvault_core::schedule::KeySchedule;
use blindvault_testkit::broker::{Consumer, World, b64, now, os_rng};
use blindvault_testkit::{Backend, Device, TestServer};
use serde_json::{Value, json};

both!(
    setup_code_claims_first_admin_once,
    admin_manages_roles,
    admin_deletes_user,
    audit_records_sign_ins_and_admin_actions,
    non_admins_get_403_on_broker_admin_routes
);

async fn setup_code_claims_first_admin_once(b: Backend) -> anyhow::Result<()> {
    let server = TestServer::start(b).await?;
    let code = server.setup_code.clone().unwrap_or_default();
    ensure!(code.len() >= 20, "a setup code is printed on first start");
    // Only its hash is stored.
    let stored = server.state.store.setting("setup_code_sha256").await?.unwrap_or_default();
    ensure!(!stored.contains(&code) && stored.len() == 64);
    let mut mallory = Device::new().register(&server, "mallory").await?;
    let resp = mallory.agent.post(paths::SETUP_CLAIM, json!({"code": "AAAAA-BBBBB-CCCCC-DDDDD"})).await?;
    ensure!(resp.status == 403 && resp.code() == Some(ErrorCode::SetupCodeInvalid), "{resp:?}");
    // Without a session the code is useless.
    let resp = server.agent().post(paths::SETUP_CLAIM, json!({"code": code})).await?;
    ensure!(resp.status == 401, "{resp:?}");
    let mut root = Device::new().register(&server, "root").await?;
    let resp = root.agent.post(paths::SETUP_CLAIM, json!({"code": code.to_lowercase()})).await?.ok()?;
    ensure!(serde_json::from_value::<Claimed>(resp.body)?.role == Role::Admin);
    root.agent.get(paths::ADMIN_USERS).await?.ok()?;
    // The code is spent.
    let resp = mallory.agent.post(paths::SETUP_CLAIM, json!({"code": code})).await?;
    ensure!(resp.status == 409 && resp.code() == Some(ErrorCode::AlreadyClaimed), "{resp:?}");
    ensure!(server.state.store.setting("setup_code_sha256").await?.is_none());
    // A restart makes no new code once an admin exists.
    ensure!(blindvault_server::setup::prepare(&server.state.store).await?.is_none());
    Ok(())
}

async fn admin_manages_roles(b: Backend) -> anyhow::Result<()> {
    let server = TestServer::start(b).await?;
    let code = server.setup_code.clone().unwrap_or_default();
    let mut root_phone = Device::new();
    let mut root = root_phone.register(&server, "root").await?;
    root.agent.post(paths::SETUP_CLAIM, json!({"code": code})).await?.ok()?;
    let mut bob = Device::new().register(&server, "bob").await?;
    let users = root.agent.get(paths::ADMIN_USERS).await?.ok()?;
    ensure!(serde_json::from_value::<Users>(users.body)?.users.len() == 2);
    // Make bob an approver: takes effect on his next request (role read from the database).
    set_role(&server, &mut root_phone, &mut root.agent, &bob.user_id, "approver").await?;
    let me: Me = serde_json::from_value(bob.agent.get(paths::ME).await?.ok()?.body)?;
    ensure!(me.user.role == "approver");
    ensure!(bob.agent.get(paths::ADMIN_USERS).await?.status == 403);
    // Make bob admin; then root may step down, but the last admin may not.
    set_role(&server, &mut root_phone, &mut root.agent, &bob.user_id, "admin").await?;
    bob.agent.get(paths::ADMIN_USERS).await?.ok()?;
    let root_id = root.user_id.clone();
    set_role(&server, &mut root_phone, &mut root.agent, &root_id, "user").await?;
    let resp =
        bob.agent.put(&paths::with_id(paths::ADMIN_USER_ROLE, &bob.user_id), json!({"role": "user"})).await?;
    ensure!(resp.status == 409 && resp.code() == Some(ErrorCode::LastAdmin), "{resp:?}");
    let resp = bob
        .agent
        .put(&paths::with_id(paths::ADMIN_USER_ROLE, &bob.user_id), json!({"role": "emperor"}))
        .await?;
    ensure!(resp.status == 400, "{resp:?}");
    let resp =
        bob.agent.put(&paths::with_id(paths::ADMIN_USER_ROLE, "nobody"), json!({"role": "user"})).await?;
    ensure!(resp.status == 404 && resp.code() == Some(ErrorCode::UserNotFound), "{resp:?}");
    Ok(())
}

/// Sets `user`'s role with a fresh step-up for it.
pub(crate) async fn set_role(
    server: &TestServer,
    phone: &mut Device,
    agent: &mut blindvault_testkit::Agent,
    user: &str,
    role: &str,
) -> anyhow::Result<()> {
    let id = phone.step_up(server, agent, "role.set", &format!("{user}:{role}")).await?;
    agent
        .send_stepped(
            "PUT",
            &paths::with_id(paths::ADMIN_USER_ROLE, user),
            Some(json!({ "role": role })),
            &id,
        )
        .await?
        .ok()?;
    Ok(())
}

async fn audit_records_sign_ins_and_admin_actions(b: Backend) -> anyhow::Result<()> {
    let server = TestServer::start(b).await?;
    let code = server.setup_code.clone().unwrap_or_default();
    let mut phone = Device::new();
    let mut root = phone.register(&server, "root").await?;
    root.agent.post(paths::SETUP_CLAIM, json!({"code": code})).await?.ok()?;
    let bob = Device::new().register(&server, "bob").await?;
    phone.login(&server).await?;
    set_role(&server, &mut phone, &mut root.agent, &bob.user_id, "approver").await?;
    root.agent
        .post(&paths::with_id(paths::ADMIN_USER_REVOKE_SESSIONS, &bob.user_id), json!({}))
        .await?
        .ok()?;
    let log = root.agent.get(paths::ADMIN_AUDIT).await?.ok()?;
    let rows = serde_json::from_value::<AuditRows>(log.body.clone())?.rows;
    let actions: Vec<&str> = rows.iter().map(|r| r.action.as_str()).collect();
    ensure!(
        actions
            == [
                "user.register",
                "setup.claim_admin",
                "user.register",
                "login",
                "step_up.confirm",
                "admin.role.set",
                "admin.user.revoke_sessions"
            ],
        "{actions:?}"
    );
    // Rows chain: each row's prev_hash is the previous row's hash.
    for w in rows.windows(2) {
        ensure!(w[1].prev_hash == w[0].hash);
    }
    // No secret in the log: not the setup code, not a session token.
    let text = log.body.to_string();
    ensure!(!text.contains(&code) && !text.contains(root.agent.token.as_deref().unwrap_or("-")));
    let v: VerifyReport =
        serde_json::from_value(root.agent.get(paths::ADMIN_AUDIT_VERIFY).await?.ok()?.body)?;
    ensure!(v.first_bad.is_none() && v.rows == 7, "{v:?}");
    Ok(())
}

async fn admin_deletes_user(b: Backend) -> anyhow::Result<()> {
    let server = TestServer::start(b).await?;
    let code = server.setup_code.clone().unwrap_or_default();
    let mut root_phone = Device::new();
    let mut root = root_phone.register(&server, "root").await?;
    root.agent.post(paths::SETUP_CLAIM, json!({"code": code})).await?.ok()?;
    let mut bobs_phone = Device::new();
    let mut bob = bobs_phone.register(&server, "bob").await?;
    let resp = bob.agent.delete(&paths::with_id(paths::ADMIN_USER, &root.user_id)).await?;
    ensure!(resp.status == 403, "{resp:?}");
    let id = root_phone.step_up(&server, &mut root.agent, "user.delete", &bob.user_id).await?;
    root.agent
        .send_stepped("DELETE", &paths::with_id(paths::ADMIN_USER, &bob.user_id), None, &id)
        .await?
        .ok()?;
    // His session ends at once and his passkey no longer signs in.
    let resp = bob.agent.get(paths::ME).await?;
    ensure!(resp.status == 401, "{resp:?}");
    let mut a = server.agent();
    let c = bobs_phone.prepare_login(&server, &mut a).await?;
    let resp = a
        .post(paths::LOGIN_FINISH, json!({"ceremony_id": c.ceremony_id, "credential": c.credential}))
        .await?;
    ensure!(resp.status == 401 && resp.code() == Some(ErrorCode::UnknownCredential), "{resp:?}");
    // The name is free again; an admin cannot delete themselves; unknown ids are 404.
    Device::new().register(&server, "bob").await?;
    let resp = root.agent.delete(&paths::with_id(paths::ADMIN_USER, &root.user_id)).await?;
    ensure!(resp.status == 409 && resp.code() == Some(ErrorCode::CannotDeleteSelf), "{resp:?}");
    let resp = root.agent.delete(&paths::with_id(paths::ADMIN_USER, "nobody")).await?;
    ensure!(resp.status == 404, "{resp:?}");
    let log: AuditRows = serde_json::from_value(root.agent.get(paths::ADMIN_AUDIT).await?.ok()?.body)?;
    ensure!(log.rows.iter().any(|r| r.action == "admin.user.delete"));
    Ok(())
}

/// Every admin-only broker route (each handler in `broker/api.rs` taking `AdminSession`) answers
/// `403 forbidden` to an approver and to a plain user, before it reads its path, query or body,
/// and changes nothing. The ids and most bodies are real, so that without the role check the
/// call would act: replace the org key, approve or remove an enrolment, register or revoke a
/// host, write or delete an entry. Catches any of these routes taking a plain `Session` (or
/// checking the role after parsing the body: a garbage body would then be 400/422, not 403).
/// `negative::non_admin_gets_403` covers `/api/admin/*`.
async fn non_admins_get_403_on_broker_admin_routes(b: Backend) -> anyhow::Result<()> {
    let mut w = World::new(b, &["alice"]).await?;
    let entry = EntryId::generate(&mut os_rng());
    w.put_secret(entry, 1, Policy::AnyOf { n: 1 }, b"s").await?;
    let (host, cert) = w.host(&[entry]).await?;
    let (cert_id, entry_id) = (cert.cert.cert_id.to_text(), entry.to_text());
    // A plain user who has asked to enrol as an approver (pending).
    let mut mallory = Device::new().register(&w.server, "mallory").await?;
    let keys = KeySchedule::derive(&mallory.prf);
    let asked = mallory
        .agent
        .post(
            paths::BROKER_ENROLMENTS,
            json!({ "credential_id": mallory.credential_id, "approver_public_key": b64(&keys.approver_public().to_array()) }),
        )
        .await?
        .ok()?;
    let pending = serde_json::from_value::<EnrolmentView>(asked.body)?.id;
    let mine = w.approvers[0].session.agent.get(paths::BROKER_ENROLMENTS_MINE).await?.ok()?;
    let mine: Vec<EnrolmentView> = serde_json::from_value(mine.body)?;
    let alices = mine.first().context("alice's enrolment")?.id.clone();
    let me: Me = serde_json::from_value(w.approvers[0].session.agent.get(paths::ME).await?.ok()?.body)?;
    ensure!(me.user.role == "approver");
    let me: Me = serde_json::from_value(mallory.agent.get(paths::ME).await?.ok()?.body)?;
    ensure!(me.user.role == "user");
    // What a non-admin would send: a key of their own for the org, a host certificate the org
    // signed but nobody registered, an enrolment "signed" by a key of their own.
    let rogue = OrgSecretKey::generate(&mut os_rng());
    let t = now(&w.server);
    let stray = HostCertificate {
        cert_id: CertId::generate(&mut os_rng()),
        host_name: "stray".into(),
        host_key: HostSecretKey::generate(&mut os_rng()).public_key(),
        allowed_entries: vec![entry],
        not_before: t - 60,
        not_after: t + 86_400,
        issuer: Some(w.admin.user_id.clone()),
        self_approval: false,
    }
    .sign(&w.org)?;
    let enrolment = blindvault_core::identity::Enrolment {
        user_id: mallory.user_id.clone(),
        credential_id: blindvault_core::encoding::b64::decode(&mallory.credential_id)?,
        approver_key: keys.approver_public(),
        issued_at: t,
        not_after: t + 86_400,
    }
    .sign(&rogue)?;
    let routes: Vec<(&str, String, Option<Value>)> = vec![
        (
            "PUT",
            paths::BROKER_ORG.into(),
            Some(json!({ "org_public_key": b64(&rogue.public_key().to_bytes()) })),
        ),
        ("PUT", paths::BROKER_ORG.into(), Some(json!(42))),
        ("GET", paths::BROKER_ENROLMENTS.into(), None),
        ("GET", format!("{}?status=pending", paths::BROKER_ENROLMENTS), None),
        (
            "POST",
            paths::with_id(paths::BROKER_ENROLMENT_APPROVE, &pending),
            Some(json!({ "signed_enrolment": b64(&enrolment.to_bytes()) })),
        ),
        (
            "POST",
            paths::with_id(paths::BROKER_ENROLMENT_APPROVE, &pending),
            Some(json!({ "signed_enrolment": "***" })),
        ),
        ("DELETE", paths::with_id(paths::BROKER_ENROLMENT, &alices), None),
        ("DELETE", format!("{}?dry_run=1", paths::with_id(paths::BROKER_ENROLMENT, &pending)), None),
        ("GET", paths::BROKER_APPROVERS.into(), None),
        (
            "PUT",
            paths::BROKER_REVOCATIONS.into(),
            Some(
                json!({ "revocations": b64(&blindvault_core::revocation::Revocations::none().next(&[keys.approver_public()], &[], t)?.sign(&w.org)?.to_bytes()) }),
            ),
        ),
        ("PUT", paths::BROKER_REVOCATIONS.into(), Some(json!({ "revocations": "AAAA" }))),
        ("GET", paths::BROKER_HOSTS.into(), None),
        ("POST", paths::BROKER_HOSTS.into(), Some(json!({ "certificate": b64(&stray.to_bytes()) }))),
        ("POST", paths::BROKER_HOSTS.into(), Some(json!({ "certificate": [] }))),
        ("POST", paths::with_id(paths::BROKER_HOST_REVOKE, &cert_id), Some(json!({}))),
        ("GET", paths::BROKER_ENTRIES.into(), None),
        ("POST", paths::BROKER_ENTRIES.into(), Some(json!({ "sealed_entry": "AAAA" }))),
        ("POST", paths::BROKER_ENTRIES.into(), Some(json!({ "wrong": 1 }))),
        ("GET", paths::with_id(paths::BROKER_ENTRY, &entry_id), None),
        ("DELETE", paths::with_id(paths::BROKER_ENTRY, &entry_id), None),
    ];
    for who in ["approver", "user"] {
        for (m, path, body) in &routes {
            let agent =
                if who == "approver" { &mut w.approvers[0].session.agent } else { &mut mallory.agent };
            let r = agent.send(m, path, body.clone()).await?;
            ensure!(r.status == 403 && r.code() == Some(ErrorCode::Forbidden), "{who}: {m} {path}: {r:?}");
        }
    }
    // Nothing changed: the org key, the enrolments, the host, the entry.
    let org: OrgView = serde_json::from_value(w.admin.agent.get(paths::BROKER_ORG).await?.ok()?.body)?;
    ensure!(org.fingerprint == Some(w.org.public_key().fingerprint().to_string()), "{org:?}");
    let approvers = w.admin.agent.get(paths::BROKER_APPROVERS).await?.ok()?;
    let approvers: Vec<ApproverView> = serde_json::from_value(approvers.body)?;
    ensure!(approvers.len() == 1, "{approvers:?}");
    let waiting = w.admin.agent.get(&format!("{}?status=pending", paths::BROKER_ENROLMENTS)).await?.ok()?;
    let waiting: Vec<EnrolmentView> = serde_json::from_value(waiting.body)?;
    ensure!(waiting.iter().any(|e| e.id == pending));
    let hosts: Vec<HostView> =
        serde_json::from_value(w.admin.agent.get(paths::BROKER_HOSTS).await?.ok()?.body)?;
    ensure!(hosts.len() == 1, "{hosts:?}");
    w.admin.agent.get(&paths::with_id(paths::BROKER_ENTRY, &entry_id)).await?.ok()?;
    let (_, r) = Consumer::ask(&w.server, &host, &cert, entry).await?;
    ensure!(r.status == 201, "the host is not revoked and the entry is there: {r:?}");
    Ok(())
}
