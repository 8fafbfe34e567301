//! Invite-only registration: no account without a code from an admin (or the setup code before
//! the first admin); a code is single-use, expires and can be revoked; a bad code and a taken name
//! get one answer; the audit log names who invited whom.

use anyhow::{Context, ensure};
use blindvault_api::ErrorCode;
use blindvault_api::accounts::{InviteCreated, InviteView};
use blindvault_api::audit::AuditRows;
use blindvault_api::paths;
use blindvault_api::sessions::Registered;
use blindvault_testkit::{Agent, Backend, Device, SignedIn, TestServer};
use serde_json::{Value, json};

both!(
    registration_needs_a_code_and_spends_it,
    the_setup_code_admits_only_until_the_claim,
    invites_expire_are_revoked_and_only_admins_make_them,
    two_sign_ups_racing_for_one_code_make_one_account,
    an_invite_dies_with_its_makers_admin_role,
    an_admin_invite_needs_a_step_up,
);

/// The first admin: registered with the setup code, then claimed with it.
async fn admin(server: &TestServer) -> anyhow::Result<SignedIn> {
    let mut device = Device::new();
    admin_with(server, &mut device).await
}

/// [`admin`], on `device` (kept by the caller for step-ups).
async fn admin_with(server: &TestServer, device: &mut Device) -> anyhow::Result<SignedIn> {
    let code = server.setup_code.clone().context("setup code")?;
    let mut agent = server.agent();
    let start = agent.post(paths::REGISTER_START, json!({ "name": "admin", "invite": code })).await?.ok()?;
    let c = device.answer_create(&server.origin, start.body).await?;
    let done = agent
        .post(paths::REGISTER_FINISH, json!({ "ceremony_id": c.ceremony_id, "credential": c.credential }))
        .await?
        .ok()?;
    let registered = done.json::<Registered>()?;
    ensure!(registered.user.role == "user", "the setup code admits; the claim makes the admin");
    agent.post(paths::SETUP_CLAIM, json!({ "code": code })).await?.ok()?;
    let user_id = registered.user.id;
    let credential_id = c.credential["id"].as_str().unwrap_or_default().into();
    Ok(SignedIn { agent, user_id, credential_id, prf: c.prf.context("prf")?, body: done.body })
}

/// Registers `name` with `code` on a fresh device; the whole answer of whichever step failed.
async fn register(
    server: &TestServer,
    name: &str,
    code: Option<&str>,
) -> anyhow::Result<Result<Value, Value>> {
    let mut agent = server.agent();
    let mut body = json!({ "name": name });
    if let Some(c) = code {
        body["invite"] = json!(c);
    }
    let start = agent.post(paths::REGISTER_START, body).await?;
    if start.status != 200 {
        return Ok(Err(json!({ "status": start.status, "body": start.body })));
    }
    finish(server, &mut agent, start.body).await
}

async fn finish(
    server: &TestServer,
    agent: &mut Agent,
    start: Value,
) -> anyhow::Result<Result<Value, Value>> {
    let c = Device::new().answer_create(&server.origin, start).await?;
    let r = agent
        .post(paths::REGISTER_FINISH, json!({ "ceremony_id": c.ceremony_id, "credential": c.credential }))
        .await?;
    Ok(if r.status == 201 { Ok(r.body) } else { Err(json!({ "status": r.status, "body": r.body })) })
}

fn refused(r: &Result<Value, Value>) -> bool {
    matches!(r, Err(e) if e["status"] == 403 && e["body"]["error"]["code"] == "registration_refused")
}

async fn registration_needs_a_code_and_spends_it(b: Backend) -> anyhow::Result<()> {
    let server = TestServer::start(b).await?;
    let mut admin = admin(&server).await?;
    // No code, a made-up code: refused, with the same answer as a taken name.
    ensure!(refused(&register(&server, "mallory", None).await?));
    ensure!(refused(&register(&server, "mallory", Some("AAAAA-BBBBB-CCCCC-DDDDD")).await?));
    let InviteCreated { code, id, .. } =
        admin.agent.post(paths::ADMIN_INVITES, json!({})).await?.ok()?.json()?;
    ensure!(refused(&register(&server, "admin", Some(&code)).await?), "a taken name: the same answer");
    // The admin's code admits one account (typed in lower case with spaces: still the code)…
    let typed = code.to_lowercase().replace('-', " ");
    let alice = register(&server, "alice", Some(&typed)).await?.map_err(|e| anyhow::anyhow!("{e}"))?;
    ensure!(alice["user"]["role"] == "user", "{alice}");
    // …once.
    ensure!(refused(&register(&server, "bob", Some(&code)).await?));
    let list = admin.agent.get(paths::ADMIN_INVITES).await?.ok()?;
    let row = list.json::<Vec<InviteView>>()?.into_iter().find(|r| r.id == id).context("row")?;
    ensure!(
        row.status == "used"
            && row.used_by.as_deref() == Some("alice")
            && row.created_by.as_deref() == Some("admin"),
        "{row:?}"
    );
    // Absent on the wire: a raw check (the type has no `code` member to read).
    let raw = list.body.as_array().context("list")?.iter().find(|r| r["id"] == id.as_str()).context("row")?;
    ensure!(raw.get("code").is_none() && !list.body.to_string().contains(&code), "codes are never listed");
    // The audit log names who invited whom.
    let audit = admin.agent.get(paths::ADMIN_AUDIT).await?.ok()?;
    let reg = audit
        .json::<AuditRows>()?
        .rows
        .into_iter()
        .find(|r| {
            r.action == "user.register" && alice["user"]["id"] == r.target.as_deref().unwrap_or_default()
        })
        .context("user.register row")?;
    let detail: Value = serde_json::from_str(&reg.detail)?;
    ensure!(detail["invite"] == id.as_str() && detail["invited_by"] == admin.user_id.as_str(), "{reg:?}");
    Ok(())
}

/// An admin invite makes an admin, as `role.set` does: a session alone (a stolen cookie) cannot
/// make one; a step-up bound to `invite.create` / `admin` makes one, once. A user invite needs
/// none.
async fn an_admin_invite_needs_a_step_up(b: Backend) -> anyhow::Result<()> {
    let server = TestServer::start(b).await?;
    let mut phone = Device::new();
    let mut admin = admin_with(&server, &mut phone).await?;
    let r = admin.agent.post(paths::ADMIN_INVITES, json!({ "role": "admin" })).await?;
    ensure!(r.status == 403 && r.code() == Some(ErrorCode::StepUpRequired), "{r:?}");
    ensure!(r.body["error"]["action"] == "invite.create" && r.body["error"]["target"] == "admin", "{r:?}");
    // A step-up for another action or target does not do.
    let other = phone.step_up(&server, &mut admin.agent, "invite.create", "user").await?;
    let r = admin
        .agent
        .send_stepped("POST", paths::ADMIN_INVITES, Some(json!({ "role": "admin" })), &other)
        .await?;
    ensure!(r.status == 403 && r.code() == Some(ErrorCode::StepUpMismatch), "{r:?}");
    let list = admin.agent.get(paths::ADMIN_INVITES).await?.ok()?;
    ensure!(list.json::<Vec<InviteView>>()?.is_empty(), "nothing made: {}", list.body);
    // With a step-up: made, once.
    let up = phone.step_up(&server, &mut admin.agent, "invite.create", "admin").await?;
    let inv: InviteCreated = admin
        .agent
        .send_stepped("POST", paths::ADMIN_INVITES, Some(json!({ "role": "admin" })), &up)
        .await?
        .ok()?
        .json()?;
    let again =
        admin.agent.send_stepped("POST", paths::ADMIN_INVITES, Some(json!({ "role": "admin" })), &up).await?;
    ensure!(again.status == 409 && again.code() == Some(ErrorCode::StepUpUsed), "{again:?}");
    let carol = register(&server, "carol", Some(&inv.code)).await?.map_err(|e| anyhow::anyhow!("{e}"))?;
    ensure!(carol["user"]["role"] == "admin", "{carol}");
    // A user invite stays session-only.
    admin.agent.post(paths::ADMIN_INVITES, json!({ "role": "user" })).await?.ok()?;
    Ok(())
}

async fn the_setup_code_admits_only_until_the_claim(b: Backend) -> anyhow::Result<()> {
    let server = TestServer::start(b).await?;
    let code = server.setup_code.clone().context("setup code")?;
    // Before the claim, the setup code admits (more than one person may try the instance).
    ensure!(register(&server, "early", Some(&code)).await?.is_ok());
    admin(&server).await?;
    ensure!(refused(&register(&server, "late", Some(&code)).await?), "claimed: the setup code is spent");
    Ok(())
}

async fn invites_expire_are_revoked_and_only_admins_make_them(b: Backend) -> anyhow::Result<()> {
    let server = TestServer::start(b).await?;
    let mut admin = admin(&server).await?;
    let mut user = Device::new().register(&server, "user").await?;
    let r = user.agent.post(paths::ADMIN_INVITES, json!({})).await?;
    ensure!(r.status == 403, "{r:?}");
    for bad in [
        json!({ "role": "approver" }),
        json!({ "expires_in_secs": 10 }),
        json!({ "expires_in_secs": 86_400 * 31 }),
    ] {
        let r = admin.agent.post(paths::ADMIN_INVITES, bad.clone()).await?;
        ensure!(r.status == 400, "{bad}: {r:?}");
    }
    let short: InviteCreated =
        admin.agent.post(paths::ADMIN_INVITES, json!({ "expires_in_secs": 60 })).await?.ok()?.json()?;
    let revoked: InviteCreated = admin.agent.post(paths::ADMIN_INVITES, json!({})).await?.ok()?.json()?;
    let id = &revoked.id;
    admin.agent.delete(&paths::with_id(paths::ADMIN_INVITE, id)).await?.ok()?;
    let again = admin.agent.delete(&paths::with_id(paths::ADMIN_INVITE, id)).await?;
    ensure!(again.status == 404, "{again:?}");
    ensure!(refused(&register(&server, "x", Some(&revoked.code)).await?), "revoked");
    server.clock.advance(60);
    ensure!(refused(&register(&server, "y", Some(&short.code)).await?), "expired");
    let list: Vec<InviteView> = admin.agent.get(paths::ADMIN_INVITES).await?.ok()?.json()?;
    let statuses: Vec<&str> = list.iter().map(|r| r.status.as_str()).collect();
    ensure!(statuses.contains(&"revoked") && statuses.contains(&"expired"), "{statuses:?}");
    Ok(())
}

/// Two ceremonies started with one code: both start (the code is only checked), the first to
/// finish spends it, the second is refused and leaves no account.
async fn two_sign_ups_racing_for_one_code_make_one_account(b: Backend) -> anyhow::Result<()> {
    let server = TestServer::start(b).await?;
    let mut admin = admin(&server).await?;
    let inv: InviteCreated = admin.agent.post(paths::ADMIN_INVITES, json!({})).await?.ok()?.json()?;
    let code = inv.code.as_str();
    let (mut a1, mut a2) = (server.agent(), server.agent());
    let s1 = a1.post(paths::REGISTER_START, json!({ "name": "one", "invite": code })).await?.ok()?;
    let s2 = a2.post(paths::REGISTER_START, json!({ "name": "two", "invite": code })).await?.ok()?;
    ensure!(finish(&server, &mut a1, s1.body).await?.is_ok());
    ensure!(refused(&finish(&server, &mut a2, s2.body).await?));
    let users = admin.agent.get(paths::ADMIN_USERS).await?.ok()?;
    ensure!(!users.body.to_string().contains("\"two\""), "{}", users.body);
    Ok(())
}

/// An admin about to be removed cannot leave a way back: the open invites they made are revoked
/// when they are demoted (or deleted), in the same transaction.
async fn an_invite_dies_with_its_makers_admin_role(b: Backend) -> anyhow::Result<()> {
    let server = TestServer::start(b).await?;
    let mut phone = Device::new();
    let mut admin = admin_with(&server, &mut phone).await?;
    // Carol becomes an admin through an admin invite, and makes an admin invite of her own.
    let up = phone.step_up(&server, &mut admin.agent, "invite.create", "admin").await?;
    let inv: InviteCreated = admin
        .agent
        .send_stepped("POST", paths::ADMIN_INVITES, Some(json!({ "role": "admin" })), &up)
        .await?
        .ok()?
        .json()?;
    let mut carol_agent = server.agent();
    let start = carol_agent
        .post(paths::REGISTER_START, json!({ "name": "carol", "invite": inv.code }))
        .await?
        .ok()?;
    let mut carols_phone = Device::new();
    let c = carols_phone.answer_create(&server.origin, start.body).await?;
    let carol = carol_agent
        .post(paths::REGISTER_FINISH, json!({ "ceremony_id": c.ceremony_id, "credential": c.credential }))
        .await?
        .ok()?
        .body;
    ensure!(carol["user"]["role"] == "admin", "{carol}");
    let up = carols_phone.step_up(&server, &mut carol_agent, "invite.create", "admin").await?;
    let hers: InviteCreated = carol_agent
        .send_stepped("POST", paths::ADMIN_INVITES, Some(json!({ "role": "admin" })), &up)
        .await?
        .ok()?
        .json()?;
    let code = hers.code.clone();
    let carol_id = carol["user"]["id"].as_str().context("id")?;
    let up = phone.step_up(&server, &mut admin.agent, "role.set", &format!("{carol_id}:user")).await?;
    admin
        .agent
        .send_stepped(
            "PUT",
            &paths::with_id(paths::ADMIN_USER_ROLE, carol_id),
            Some(json!({ "role": "user" })),
            &up,
        )
        .await?
        .ok()?;
    ensure!(refused(&register(&server, "carols-friend", Some(&code)).await?), "revoked with her role");
    let list: Vec<InviteView> = admin.agent.get(paths::ADMIN_INVITES).await?.ok()?.json()?;
    let row = list.into_iter().find(|r| r.id == hers.id).context("row")?;
    ensure!(row.status == "revoked", "{row:?}");
    Ok(())
}
