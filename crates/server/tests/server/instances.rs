//! Two server instances on one database (SQLite file or PostgreSQL database): ceremony state,
//! the session key and session rows live in the database, so either instance can finish what
//! the other started and a revoke on one takes effect on the other.

use anyhow::ensure;
use blindvault_api::ErrorCode;
use blindvault_api::paths;
use blindvault_server::audit;
use blindvault_testkit::{Backend, Device, TestServer};
use serde_json::json;

both!(instances_share_ceremonies_and_sessions);

async fn instances_share_ceremonies_and_sessions(b: Backend) -> anyhow::Result<()> {
    let a = TestServer::start(b).await?;
    let b2 = TestServer::start_sharing(&a).await?;
    ensure!(b2.setup_code.is_some(), "still unclaimed");
    ensure!(
        a.state.store.setting("setup_code_sha256").await?
            == b2.state.store.setting("setup_code_sha256").await?
    );
    let mut phone = Device::new();
    // Registration started on A, finished on B.
    let mut on_a = a.agent();
    let c = phone.prepare_register(&a, &mut on_a, "alice").await?;
    let mut on_b = b2.agent();
    on_b.post(paths::REGISTER_FINISH, json!({"ceremony_id": c.ceremony_id, "credential": c.credential}))
        .await?
        .ok()?;
    // Login started on B, finished on A.
    let l = phone.prepare_login(&b2, &mut on_b).await?;
    let mut finish_a = a.agent();
    finish_a
        .post(paths::LOGIN_FINISH, json!({"ceremony_id": l.ceremony_id, "credential": l.credential}))
        .await?
        .ok()?;
    // The session cookie from A works on B; logout on B ends it on A.
    let mut same_on_b = b2.agent();
    same_on_b.token = finish_a.token.clone();
    same_on_b.get(paths::ME).await?.ok()?;
    same_on_b.post(paths::LOGOUT, json!({})).await?.ok()?;
    let resp = finish_a.get(paths::ME).await?;
    ensure!(resp.status == 401 && resp.code() == Some(ErrorCode::SessionRevoked), "{resp:?}");
    // Both append to one audit chain, concurrently, without forking it.
    let mut tasks = Vec::new();
    for i in 0..20i64 {
        let store = if i % 2 == 0 { a.state.store.clone() } else { b2.state.store.clone() };
        tasks.push(tokio::spawn(async move {
            let ev = audit::Event {
                actor: None,
                action: "test.concurrent",
                target: None,
                detail: json!({ "i": i }),
            };
            audit::append(&store, 1_700_000_000, ev).await
        }));
    }
    for t in tasks {
        t.await??;
    }
    let v = audit::verify(&a.state.store).await?;
    ensure!(v.first_bad.is_none() && v.rows == 22, "{v:?}");
    Ok(())
}
