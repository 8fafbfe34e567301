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
    a_stale_head_guess_never_forks_the_chain,
    an_anchor_detects_a_consistent_rewrite,
    an_anchor_detects_a_consistently_cut_tail,
    verify_on_a_live_server_never_reports_a_false_break
);

/// `audit verify` against a server that keeps appending: the walk and the head are one snapshot,
/// so a row appended between reading the last page and reading the head is not a "broken tail".
/// Appends and verifications interleave for a bounded number of rounds; none may report a break.
async fn verify_on_a_live_server_never_reports_a_false_break(b: Backend) -> anyhow::Result<()> {
    let server = five_rows(b).await?;
    let store = server.state.store.clone();
    let writer = tokio::spawn(async move {
        for i in 0..300i64 {
            let ev = Event { actor: None, action: "test.append", target: None, detail: json!({ "i": i }) };
            audit::append(&store, 1_800_000_000 + i, ev).await?;
        }
        anyhow::Ok(())
    });
    let mut checks = 0;
    while !writer.is_finished() || checks == 0 {
        let report = audit::verify(&server.state.store).await?;
        ensure!(report.first_bad.is_none(), "a live append read as a break: {report:?}");
        checks += 1;
    }
    writer.await??;
    let report = audit::verify(&server.state.store).await?;
    ensure!(report.first_bad.is_none() && report.rows >= 305, "{report:?}");
    Ok(())
}

/// What someone with write access to the database can do: change row `from`'s detail and
/// recompute every hash from there on, head included. The chain alone verifies again.
async fn rewrite_from(server: &TestServer, from: i64, detail: &str) -> anyhow::Result<()> {
    let pool = server.state.store.pool();
    sqlx::query("UPDATE audit_log SET detail = $1 WHERE seq = $2")
        .bind(detail)
        .bind(from)
        .execute(pool)
        .await?;
    // The hash before row `from` (the genesis value before row 1).
    let mut prev = if from > 1 {
        audit::list(&server.state.store, from - 2, 1).await?.pop().map(|r| r.hash)
    } else {
        None
    };
    let mut last = (0, String::new());
    for row in audit::list(&server.state.store, from - 1, 1000).await? {
        let p = prev.unwrap_or_else(|| audit::GENESIS.to_owned());
        let h = row.hash_after(&p);
        sqlx::query("UPDATE audit_log SET prev_hash = $1, hash = $2 WHERE seq = $3")
            .bind(&p)
            .bind(&h)
            .bind(row.seq)
            .execute(pool)
            .await?;
        last = (row.seq, h.clone());
        prev = Some(h);
    }
    sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
        .bind(last.0)
        .bind(&last.1)
        .execute(pool)
        .await?;
    Ok(())
}

/// The residual risk of a hash chain (a consistent rewrite verifies) and its answer: an anchor
/// taken earlier and kept elsewhere no longer matches.
async fn an_anchor_detects_a_consistent_rewrite(b: Backend) -> anyhow::Result<()> {
    let server = five_rows(b).await?;
    let store = &server.state.store;
    let report = audit::verify(store).await?;
    let anchor = report.head.clone().ok_or_else(|| anyhow::anyhow!("no head: {report:?}"))?;
    ensure!(anchor.seq == 5 && audit::head(store).await?.as_ref() == Some(&anchor), "{anchor:?}");
    // The anchor round-trips through its printed form, which is what people keep.
    ensure!(anchor.to_string().parse::<audit::Anchor>() == Ok(anchor.clone()));
    let ok = audit::verify_with_anchors(store, std::slice::from_ref(&anchor)).await?;
    ensure!(ok.first_bad.is_none(), "{ok:?}");
    // More rows later: the old anchor still holds.
    audit::append(
        store,
        1_700_000_100,
        Event { actor: None, action: "test.more", target: None, detail: json!({}) },
    )
    .await?;
    let ok = audit::verify_with_anchors(store, std::slice::from_ref(&anchor)).await?;
    ensure!(ok.first_bad.is_none() && ok.head.as_ref().map(|h| h.seq) == Some(6), "{ok:?}");

    rewrite_from(&server, 3, "{\"i\":99}").await?;
    let plain = audit::verify(store).await?;
    ensure!(plain.first_bad.is_none(), "a consistent rewrite verifies without an anchor: {plain:?}");
    let r = audit::verify_with_anchors(store, std::slice::from_ref(&anchor)).await?;
    let bad = r.first_bad.ok_or_else(|| anyhow::anyhow!("rewrite not detected"))?;
    ensure!(bad.seq == 5 && bad.reason.contains("anchor") && r.head.is_none(), "{bad:?}");
    // From the very first row, too.
    rewrite_from(&server, 1, "{\"i\":-1}").await?;
    ensure!(audit::verify(store).await?.first_bad.is_none(), "a rewrite from row 1 verifies alone");
    let r = audit::verify_with_anchors(store, std::slice::from_ref(&anchor)).await?;
    ensure!(r.first_bad.is_some_and(|b| b.seq == 5), "rewrite from row 1 not detected");
    // A rewrite after the anchored row leaves it alone.
    let server = five_rows(b).await?;
    let anchor = audit::verify(&server.state.store).await?.head.ok_or_else(|| anyhow::anyhow!("no head"))?;
    audit::append(
        &server.state.store,
        1_700_000_100,
        Event { actor: None, action: "x", target: None, detail: json!({}) },
    )
    .await?;
    let earlier =
        audit::Anchor { seq: 2, hash: audit::list(&server.state.store, 1, 1).await?.remove(0).hash };
    rewrite_from(&server, 6, "{\"changed\":true}").await?;
    let r = audit::verify_with_anchors(&server.state.store, &[earlier, anchor]).await?;
    ensure!(r.first_bad.is_none(), "{r:?}");
    Ok(())
}

/// Cutting the newest rows and moving the head back also verifies alone; an anchor past the new
/// end names it.
async fn an_anchor_detects_a_consistently_cut_tail(b: Backend) -> anyhow::Result<()> {
    let server = five_rows(b).await?;
    let store = &server.state.store;
    let anchor = audit::verify(store).await?.head.ok_or_else(|| anyhow::anyhow!("no head"))?;
    let row3 = audit::list(store, 2, 1).await?.remove(0);
    sqlx::query("DELETE FROM audit_log WHERE seq > 3").execute(store.pool()).await?;
    sqlx::query("UPDATE audit_head SET seq = 3, hash = $1 WHERE id = 1")
        .bind(&row3.hash)
        .execute(store.pool())
        .await?;
    ensure!(audit::verify(store).await?.first_bad.is_none(), "a cut tail with a moved head verifies alone");
    let bad = audit::verify_with_anchors(store, &[anchor])
        .await?
        .first_bad
        .ok_or_else(|| anyhow::anyhow!("cut not detected"))?;
    ensure!(bad.seq == 3 && bad.reason.contains("anchor was recorded for row 5"), "{bad:?}");
    // Malformed anchors are refused with the expected form in the message.
    for s in [
        "",
        "5",
        "x:00",
        "0:".to_owned().as_str(),
        "5:abc",
        &format!("-1:{}", "0".repeat(64)),
        &format!("5:{}", "g".repeat(64)),
    ] {
        let e = s.parse::<audit::Anchor>().err().ok_or_else(|| anyhow::anyhow!("{s:?} parsed"))?;
        ensure!(e.contains("SEQ:HASH"), "{e}");
    }
    ensure!(format!("7:{}", "AB".repeat(32)).parse::<audit::Anchor>().map(|a| a.hash) == Ok("ab".repeat(32)));
    Ok(())
}

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
    let h = row.hash_after(&row.prev_hash);
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
    // Deleting the head row is a broken chain too, not a failure to check it.
    sqlx::query("DELETE FROM audit_head").execute(server.state.store.pool()).await?;
    let bad =
        audit::verify(&server.state.store).await?.first_bad.ok_or_else(|| anyhow::anyhow!("not detected"))?;
    ensure!(bad.reason.contains("head row"), "{bad:?}");
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
