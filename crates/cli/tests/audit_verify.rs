//! `blindvault audit verify` against a real server's database, on SQLite (`--data-dir`) and
//! PostgreSQL (`--database-url`): OK on an intact chain, exit 2 naming the row after an edit.
#![allow(clippy::indexing_slicing)]

use std::process::Command;

use anyhow::ensure;
use blindvault_testkit::{Backend, Device, TestServer};
use serde_json::json;

async fn edited_row_is_named(b: Backend) -> anyhow::Result<()> {
    let server = TestServer::start(b).await?;
    let code = server.setup_code.clone().unwrap_or_default();
    let mut phone = Device::new();
    let mut root = phone.register(&server, "root").await?;
    root.agent.post("/api/setup/claim", json!({"code": code})).await?.ok()?;
    phone.login(&server).await?;
    let bob = Device::new().register(&server, "bob").await?;
    root.agent
        .put(&format!("/api/admin/users/{}/role", bob.user_id), json!({"role": "approver"}))
        .await?
        .ok()?;

    let run = || {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_blindvault"));
        cmd.args(["audit", "verify"]);
        match b {
            Backend::Sqlite => cmd.arg("--data-dir").arg(server.db.dir.path()),
            Backend::Postgres => cmd.arg("--database-url").arg(&server.db.url),
        };
        cmd.env_remove("BLINDVAULT_DATABASE_URL").env_remove("BLINDVAULT_DATA_DIR");
        cmd.output()
    };
    let ok = run()?;
    let out = String::from_utf8_lossy(&ok.stdout).to_string();
    ensure!(
        ok.status.success() && out.contains("audit chain OK: 5 rows"),
        "{out} {}",
        String::from_utf8_lossy(&ok.stderr)
    );

    // Someone with database access rewrites history: the role change becomes a no-op.
    let pool = &server.state.store;
    sqlx::query("UPDATE audit_log SET detail = '{\"from\":\"user\",\"to\":\"user\"}' WHERE seq = 5")
        .execute(pool.pool())
        .await?;
    let bad = run()?;
    let out = String::from_utf8_lossy(&bad.stdout).to_string();
    ensure!(bad.status.code() == Some(2), "exit {:?}: {out}", bad.status.code());
    ensure!(out.contains("BROKEN at row 5") && out.contains("edited"), "{out}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_verify_names_edited_row_sqlite() -> anyhow::Result<()> {
    edited_row_is_named(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_verify_names_edited_row_postgres() -> anyhow::Result<()> {
    if !Backend::Postgres.available() {
        return Ok(());
    }
    edited_row_is_named(Backend::Postgres).await
}
