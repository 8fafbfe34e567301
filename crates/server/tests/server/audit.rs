//! The audit hash chain detects an edited, removed or reordered row, and names it.

use anyhow::ensure;
use blindvault_server::audit::{self, Event};
use blindvault_testkit::{Backend, TestServer};
use serde_json::json;

both!(verify_detects_edit, verify_detects_removal, verify_detects_reorder, verify_detects_truncation);

async fn five_rows(b: Backend) -> anyhow::Result<TestServer> {
    let server = TestServer::start(b).await?;
    for i in 0..5 {
        let ev =
            Event { actor: Some("u1"), action: "test.event", target: Some("t"), detail: json!({ "i": i }) };
        audit::append(&server.state.store, 1_700_000_000 + i, ev).await?;
    }
    let ok = audit::verify(&server.state.store).await?;
    ensure!(ok.rows == 5 && ok.first_bad.is_none(), "{ok:?}");
    Ok(server)
}

async fn verify_detects_edit(b: Backend) -> anyhow::Result<()> {
    let server = five_rows(b).await?;
    sqlx::query("UPDATE audit_log SET detail = '{\"i\":99}' WHERE seq = 3")
        .execute(server.state.store.pool())
        .await?;
    let r = audit::verify(&server.state.store).await?;
    let bad = r.first_bad.ok_or_else(|| anyhow::anyhow!("edit not detected"))?;
    ensure!(bad.seq == 3 && bad.reason.contains("edited"), "{bad:?}");
    // Re-computing the edited row's hash just moves the break to the next row.
    let row = audit::list(&server.state.store, 2, 1).await?.remove(0);
    let h = audit::row_hash(
        &row.prev_hash,
        row.seq,
        row.at,
        row.actor.as_deref(),
        &row.action,
        row.target.as_deref(),
        &row.detail,
    );
    sqlx::query("UPDATE audit_log SET hash = $1 WHERE seq = 3")
        .bind(h)
        .execute(server.state.store.pool())
        .await?;
    let bad =
        audit::verify(&server.state.store).await?.first_bad.ok_or_else(|| anyhow::anyhow!("not detected"))?;
    ensure!(bad.seq == 4, "{bad:?}");
    Ok(())
}

async fn verify_detects_removal(b: Backend) -> anyhow::Result<()> {
    let server = five_rows(b).await?;
    sqlx::query("DELETE FROM audit_log WHERE seq = 2").execute(server.state.store.pool()).await?;
    let bad =
        audit::verify(&server.state.store).await?.first_bad.ok_or_else(|| anyhow::anyhow!("not detected"))?;
    ensure!(bad.seq == 3 && bad.reason.contains("removed"), "{bad:?}");
    Ok(())
}

async fn verify_detects_reorder(b: Backend) -> anyhow::Result<()> {
    let server = five_rows(b).await?;
    let pool = server.state.store.pool();
    // Swap rows 2 and 4 (their contents trade places; seq stays dense).
    sqlx::query("UPDATE audit_log SET seq = 100 WHERE seq = 2").execute(pool).await?;
    sqlx::query("UPDATE audit_log SET seq = 2 WHERE seq = 4").execute(pool).await?;
    sqlx::query("UPDATE audit_log SET seq = 4 WHERE seq = 100").execute(pool).await?;
    let bad =
        audit::verify(&server.state.store).await?.first_bad.ok_or_else(|| anyhow::anyhow!("not detected"))?;
    ensure!(bad.seq == 2, "{bad:?}");
    Ok(())
}

async fn verify_detects_truncation(b: Backend) -> anyhow::Result<()> {
    let server = five_rows(b).await?;
    sqlx::query("DELETE FROM audit_log WHERE seq = 5").execute(server.state.store.pool()).await?;
    let bad =
        audit::verify(&server.state.store).await?.first_bad.ok_or_else(|| anyhow::anyhow!("not detected"))?;
    ensure!(bad.seq == 4 && bad.reason.contains("removed"), "{bad:?}");
    Ok(())
}
