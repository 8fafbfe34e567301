//! The audit hash chain detects an edited, removed or reordered row, and names it.

use anyhow::ensure;
use blindvault_server::audit::{self, Event};
use blindvault_testkit::{Backend, TestServer};
use serde_json::json;

both!(
    verify_detects_edit,
    verify_detects_removal,
    verify_detects_reorder,
    verify_detects_truncation,
    a_stale_head_guess_never_forks_the_chain
);

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

/// Each process guesses the chain's head from its own last append (saving a read); the
/// database checks the guess. A guess made stale by another instance's append, or by a
/// transaction that rolled back after appending, must fall back to the real head — never a
/// forked, duplicated or mislinked row.
async fn a_stale_head_guess_never_forks_the_chain(b: Backend) -> anyhow::Result<()> {
    let a = five_rows(b).await?;
    let other = TestServer::start_sharing(&a).await?;
    let ev = |i: i64| Event { actor: None, action: "test.stale", target: None, detail: json!({ "i": i }) };
    let mut seqs = Vec::new();
    for i in 0..3 {
        // A, B, A, B, …: every append but the first on each side starts from a stale guess.
        seqs.push(audit::append(&a.state.store, 1_700_000_100 + i, ev(i)).await?);
        seqs.push(audit::append(&other.state.store, 1_700_000_200 + i, ev(i)).await?);
    }
    // An append whose transaction rolls back leaves A's guess ahead of the database.
    let mut tx = a.state.store.pool().begin().await?;
    let ghost = audit::append_in(&a.state.store, &mut tx, 1_700_000_300, ev(99)).await?;
    tx.rollback().await?;
    let next = audit::append(&a.state.store, 1_700_000_301, ev(100)).await?;
    ensure!(next == ghost, "the rolled-back row's number is reused: {next} vs {ghost}");
    seqs.push(next);
    seqs.push(audit::append(&a.state.store, 1_700_000_302, ev(101)).await?);
    let mut sorted = seqs.clone();
    sorted.sort_unstable();
    sorted.dedup();
    ensure!(sorted.len() == seqs.len() && sorted.windows(2).all(|w| w[1] == w[0] + 1), "{seqs:?}");
    let v = audit::verify(&a.state.store).await?;
    ensure!(v.first_bad.is_none(), "{v:?}");
    let last = *sorted.last().ok_or_else(|| anyhow::anyhow!("no rows"))?;
    ensure!(v.rows == last, "rows {} vs head {last}", v.rows);
    Ok(())
}
