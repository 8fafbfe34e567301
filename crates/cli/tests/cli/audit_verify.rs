//! `blindvault audit verify` against a real server's database, on SQLite (`--data-dir`) and
//! PostgreSQL (`--database-url`): OK on an intact chain with the head printed as an anchor, exit 2
//! naming the row after an edit, and after a consistent rewrite only when given the anchor.
#![allow(clippy::indexing_slicing)]

use blindvault_api::paths;
use std::process::Command;

use anyhow::ensure;
use blindvault_testkit::{Backend, Device, TestServer};
use serde_json::json;

async fn edited_row_is_named(b: Backend) -> anyhow::Result<()> {
    let server = TestServer::start(b).await?;
    let code = server.setup_code.clone().unwrap_or_default();
    let mut phone = Device::new();
    let mut root = phone.register(&server, "root").await?;
    root.agent.post(paths::SETUP_CLAIM, json!({"code": code})).await?.ok()?;
    phone.login(&server).await?;
    let bob = Device::new().register(&server, "bob").await?;
    // Row 5 is the step-up's confirmation, row 6 the role change it allowed.
    let up =
        phone.step_up(&server, &mut root.agent, "role.set", &format!("{}:approver", bob.user_id)).await?;
    root.agent
        .send_stepped(
            "PUT",
            &paths::with_id(paths::ADMIN_USER_ROLE, &bob.user_id),
            Some(json!({"role": "approver"})),
            &up,
        )
        .await?
        .ok()?;

    let run_with = |extra: &[&str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_blindvault"));
        cmd.args(["audit", "verify"]).args(extra);
        match b {
            Backend::Sqlite => cmd.arg("--data-dir").arg(server.db.dir.path()),
            Backend::Postgres => cmd.arg("--database-url").arg(&server.db.url),
        };
        cmd.env_remove("BLINDVAULT_DATABASE_URL").env_remove("BLINDVAULT_DATA_DIR");
        cmd.output()
    };
    let run = || run_with(&[]);
    let ok = run()?;
    let out = String::from_utf8_lossy(&ok.stdout).to_string();
    ensure!(
        ok.status.success() && out.contains("audit chain OK: 6 rows"),
        "{out} {}",
        String::from_utf8_lossy(&ok.stderr)
    );
    // It prints the head as an anchor to keep elsewhere; a later run checks it.
    let anchor = out
        .lines()
        .find_map(|l| l.strip_prefix("anchor: "))
        .ok_or_else(|| anyhow::anyhow!("no anchor printed: {out}"))?
        .to_owned();
    ensure!(anchor.starts_with("6:") && anchor.len() == 2 + 64, "{anchor}");
    let again = run_with(&["--anchor", &anchor])?;
    let out = String::from_utf8_lossy(&again.stdout).to_string();
    ensure!(again.status.success() && out.contains("matches its anchor"), "{out}");
    // A mistyped anchor is a usage error (exit 1), not a broken chain (exit 2).
    let typo = run_with(&["--anchor", "5:nothex"])?;
    let err = String::from_utf8_lossy(&typo.stderr).to_string();
    ensure!(
        typo.status.code() == Some(1) && err.contains("SEQ:HASH"),
        "exit {:?}: {err}",
        typo.status.code()
    );

    // Anchors read from a kept log: the server's `audit head` lines (plain, and with terminal
    // colours) and this command's saved output — not a client's path that holds "anchor=".
    let pool = &server.state.store;
    let row3 = blindvault_server::audit::list(pool, 2, 1).await?.remove(0);
    let logs = tempfile::tempdir()?;
    let kept = logs.path().join("kept.log");
    std::fs::write(
        &kept,
        format!(
            "2026-12-01T09:00:00.000000Z  INFO blindvault_server::http: request method=GET path=/anchor=1:zz status=404\n\
             {{\"level\":\"INFO\",\"fields\":{{\"message\":\"request\",\"path\":\"/x\",\"anchor\":\"1:zz\"}}}}\n\
             2026-12-01T10:00:00.000000Z  INFO blindvault_server::broker::sweeper: audit head anchor=3:{}\n\
             \x1b[2m2026-12-01T11:00:00Z\x1b[0m \x1b[32m INFO\x1b[0m audit head \
             \x1b[3manchor\x1b[0m\x1b[2m=\x1b[0m{anchor}\n\
             audit chain OK: 6 rows\nanchor: {anchor}\n",
            row3.hash
        ),
    )?;
    let kept_arg = kept.display().to_string();
    let from_log = run_with(&["--anchors-from", &kept_arg])?;
    let out = String::from_utf8_lossy(&from_log.stdout).to_string();
    ensure!(from_log.status.success() && out.contains("matches its 2 anchors"), "{out}");
    // A JSON log (`serve --log-format json`).
    let json_log = logs.path().join("kept.json");
    std::fs::write(
        &json_log,
        format!(
            "{{\"timestamp\":\"2026-12-01T10:00:00.000000Z\",\"level\":\"INFO\",\"target\":\"blindvault_server::broker::sweeper\",\"fields\":{{\"message\":\"audit head\",\"anchor\":\"3:{}\"}}}}\n",
            row3.hash
        ),
    )?;
    let from_json = run_with(&["--anchors-from", &json_log.display().to_string()])?;
    let out = String::from_utf8_lossy(&from_json.stdout).to_string();
    ensure!(from_json.status.success() && out.contains("matches its anchor"), "{out} {:?}", from_json.stderr);
    let nothing = logs.path().join("nothing.log");
    std::fs::write(&nothing, "INFO nothing to see\n")?;
    let none = run_with(&["--anchors-from", &nothing.display().to_string()])?;
    let err = String::from_utf8_lossy(&none.stderr).to_string();
    ensure!(none.status.code() == Some(1) && err.contains("no anchors"), "{err}");
    let garbled = logs.path().join("garbled.log");
    std::fs::write(&garbled, "ok\naudit head anchor=3:zz\n")?;
    let bad_line = run_with(&["--anchors-from", &garbled.display().to_string()])?;
    let err = String::from_utf8_lossy(&bad_line.stderr).to_string();
    ensure!(bad_line.status.code() == Some(1) && err.contains("garbled.log:2"), "{err}");

    // Someone with database access rewrites row 6 consistently: new hash, head moved to match.
    // The chain alone verifies; the anchor kept outside does not.
    let row6 = blindvault_server::audit::list(pool, 5, 1).await?.remove(0);
    let forged_detail = "{\"from\":\"user\",\"to\":\"user\"}";
    let forged = blindvault_server::audit::row_hash(
        &row6.prev_hash,
        6,
        row6.at,
        row6.actor.as_deref(),
        &row6.action,
        row6.target.as_deref(),
        forged_detail,
    )?;
    sqlx::query("UPDATE audit_log SET detail = $1, hash = $2 WHERE seq = 6")
        .bind(forged_detail)
        .bind(&forged)
        .execute(pool.pool())
        .await?;
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1").bind(&forged).execute(pool.pool()).await?;
    let alone = run()?;
    ensure!(alone.status.success(), "a consistent rewrite verifies without an anchor");
    let caught = run_with(&["--anchor", &anchor])?;
    let out = String::from_utf8_lossy(&caught.stdout).to_string();
    ensure!(
        caught.status.code() == Some(2) && out.contains("BROKEN at row 6") && out.contains("anchor"),
        "{out}"
    );
    let caught = run_with(&["--anchors-from", &kept_arg])?;
    let out = String::from_utf8_lossy(&caught.stdout).to_string();
    ensure!(caught.status.code() == Some(2) && out.contains("BROKEN at row 6"), "from the kept log: {out}");

    // An edit that does not fix the hash is caught without any anchor.
    sqlx::query("UPDATE audit_log SET detail = '{\"from\":\"user\",\"to\":\"admin\"}' WHERE seq = 6")
        .execute(pool.pool())
        .await?;
    let bad = run()?;
    let out = String::from_utf8_lossy(&bad.stdout).to_string();
    ensure!(bad.status.code() == Some(2), "exit {:?}: {out}", bad.status.code());
    ensure!(out.contains("BROKEN at row 6") && out.contains("edited"), "{out}");
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
