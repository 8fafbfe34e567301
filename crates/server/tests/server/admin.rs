//! Setup code, roles, admin user management and the audit trail of it.

use anyhow::ensure;
use blindvault_testkit::{Backend, Device, TestServer};
use serde_json::json;

both!(
    setup_code_claims_first_admin_once,
    admin_manages_roles,
    admin_deletes_user,
    audit_records_sign_ins_and_admin_actions
);

async fn setup_code_claims_first_admin_once(b: Backend) -> anyhow::Result<()> {
    let server = TestServer::start(b).await?;
    let code = server.setup_code.clone().unwrap_or_default();
    ensure!(code.len() >= 20, "a setup code is printed on first start");
    // Only its hash is stored.
    let stored = server.state.store.setting("setup_code_sha256").await?.unwrap_or_default();
    ensure!(!stored.contains(&code) && stored.len() == 64);
    let mut mallory = Device::new().register(&server, "mallory").await?;
    let resp = mallory.agent.post("/api/setup/claim", json!({"code": "AAAAA-BBBBB-CCCCC-DDDDD"})).await?;
    ensure!(resp.status == 403 && resp.code() == Some("setup_code_invalid"), "{resp:?}");
    // Without a session the code is useless.
    let resp = server.agent().post("/api/setup/claim", json!({"code": code})).await?;
    ensure!(resp.status == 401, "{resp:?}");
    let mut root = Device::new().register(&server, "root").await?;
    let resp = root.agent.post("/api/setup/claim", json!({"code": code.to_lowercase()})).await?.ok()?;
    ensure!(resp.body["role"] == "admin");
    root.agent.get("/api/admin/users").await?.ok()?;
    // The code is spent.
    let resp = mallory.agent.post("/api/setup/claim", json!({"code": code})).await?;
    ensure!(resp.status == 409 && resp.code() == Some("already_claimed"), "{resp:?}");
    ensure!(server.state.store.setting("setup_code_sha256").await?.is_none());
    // A restart makes no new code once an admin exists.
    ensure!(blindvault_server::setup::prepare(&server.state.store).await?.is_none());
    Ok(())
}

async fn admin_manages_roles(b: Backend) -> anyhow::Result<()> {
    let server = TestServer::start(b).await?;
    let code = server.setup_code.clone().unwrap_or_default();
    let mut root = Device::new().register(&server, "root").await?;
    root.agent.post("/api/setup/claim", json!({"code": code})).await?.ok()?;
    let mut bob = Device::new().register(&server, "bob").await?;
    let users = root.agent.get("/api/admin/users").await?.ok()?;
    ensure!(users.body["users"].as_array().map(Vec::len) == Some(2));
    // Make bob an approver: takes effect on his next request (role read from the database).
    root.agent
        .put(&format!("/api/admin/users/{}/role", bob.user_id), json!({"role": "approver"}))
        .await?
        .ok()?;
    let me = bob.agent.get("/api/me").await?.ok()?;
    ensure!(me.body["user"]["role"] == "approver");
    ensure!(bob.agent.get("/api/admin/users").await?.status == 403);
    // Make bob admin; then root may step down, but the last admin may not.
    root.agent
        .put(&format!("/api/admin/users/{}/role", bob.user_id), json!({"role": "admin"}))
        .await?
        .ok()?;
    bob.agent.get("/api/admin/users").await?.ok()?;
    root.agent
        .put(&format!("/api/admin/users/{}/role", root.user_id), json!({"role": "user"}))
        .await?
        .ok()?;
    let resp =
        bob.agent.put(&format!("/api/admin/users/{}/role", bob.user_id), json!({"role": "user"})).await?;
    ensure!(resp.status == 409 && resp.code() == Some("last_admin"), "{resp:?}");
    let resp =
        bob.agent.put(&format!("/api/admin/users/{}/role", bob.user_id), json!({"role": "emperor"})).await?;
    ensure!(resp.status == 400, "{resp:?}");
    let resp = bob.agent.put("/api/admin/users/nobody/role", json!({"role": "user"})).await?;
    ensure!(resp.status == 404 && resp.code() == Some("user_not_found"), "{resp:?}");
    Ok(())
}

async fn audit_records_sign_ins_and_admin_actions(b: Backend) -> anyhow::Result<()> {
    let server = TestServer::start(b).await?;
    let code = server.setup_code.clone().unwrap_or_default();
    let mut phone = Device::new();
    let mut root = phone.register(&server, "root").await?;
    root.agent.post("/api/setup/claim", json!({"code": code})).await?.ok()?;
    let bob = Device::new().register(&server, "bob").await?;
    phone.login(&server).await?;
    root.agent
        .put(&format!("/api/admin/users/{}/role", bob.user_id), json!({"role": "approver"}))
        .await?
        .ok()?;
    root.agent.post(&format!("/api/admin/users/{}/revoke-sessions", bob.user_id), json!({})).await?.ok()?;
    let log = root.agent.get("/api/admin/audit").await?.ok()?;
    let actions: Vec<&str> =
        log.body["rows"].as_array().into_iter().flatten().filter_map(|r| r["action"].as_str()).collect();
    ensure!(
        actions
            == [
                "user.register",
                "setup.claim_admin",
                "user.register",
                "login",
                "admin.role.set",
                "admin.user.revoke_sessions"
            ],
        "{actions:?}"
    );
    // Rows chain: each row's prev_hash is the previous row's hash.
    let rows = log.body["rows"].as_array().cloned().unwrap_or_default();
    for w in rows.windows(2) {
        ensure!(w[1]["prev_hash"] == w[0]["hash"]);
    }
    // No secret in the log: not the setup code, not a session token.
    let text = log.body.to_string();
    ensure!(!text.contains(&code) && !text.contains(root.agent.token.as_deref().unwrap_or("-")));
    let v = root.agent.get("/api/admin/audit/verify").await?.ok()?;
    ensure!(v.body["first_bad"].is_null() && v.body["rows"] == 6, "{}", v.body);
    Ok(())
}

async fn admin_deletes_user(b: Backend) -> anyhow::Result<()> {
    let server = TestServer::start(b).await?;
    let code = server.setup_code.clone().unwrap_or_default();
    let mut root = Device::new().register(&server, "root").await?;
    root.agent.post("/api/setup/claim", json!({"code": code})).await?.ok()?;
    let mut bobs_phone = Device::new();
    let mut bob = bobs_phone.register(&server, "bob").await?;
    let resp = bob.agent.delete(&format!("/api/admin/users/{}", root.user_id)).await?;
    ensure!(resp.status == 403, "{resp:?}");
    root.agent.delete(&format!("/api/admin/users/{}", bob.user_id)).await?.ok()?;
    // His session ends at once and his passkey no longer signs in.
    let resp = bob.agent.get("/api/me").await?;
    ensure!(resp.status == 401, "{resp:?}");
    let mut a = server.agent();
    let c = bobs_phone.prepare_login(&server, &mut a).await?;
    let resp = a
        .post("/api/login/finish", json!({"ceremony_id": c.ceremony_id, "credential": c.credential}))
        .await?;
    ensure!(resp.status == 401 && resp.code() == Some("unknown_credential"), "{resp:?}");
    // The name is free again; an admin cannot delete themselves; unknown ids are 404.
    Device::new().register(&server, "bob").await?;
    let resp = root.agent.delete(&format!("/api/admin/users/{}", root.user_id)).await?;
    ensure!(resp.status == 409 && resp.code() == Some("cannot_delete_self"), "{resp:?}");
    let resp = root.agent.delete("/api/admin/users/nobody").await?;
    ensure!(resp.status == 404, "{resp:?}");
    let log = root.agent.get("/api/admin/audit").await?.ok()?;
    ensure!(log.body.to_string().contains("admin.user.delete"));
    Ok(())
}
