//! The audit hash chain detects an edited, removed or reordered row, and names it.

use anyhow::{Context, ensure};
use blindvault_api::admin::UserSessions;
use blindvault_api::broker::{EnrolmentView, OrgView};
use blindvault_api::passkeys::PasskeyRenamed;
use blindvault_api::sessions::{Me, SessionsRevoked};
use blindvault_api::{ErrorCode, paths};
use blindvault_core::identity::HostCertificate;
use blindvault_core::ids::{CertId, EntryId};
use blindvault_core::keys::{HostSecretKey, OrgSecretKey};
use blindvault_core::policy::Policy;
use blindvault_core::schedule::KeySchedule;
use blindvault_server::audit::{self, Event, RowHash};
use blindvault_server::store::Engine;
use blindvault_testkit::broker::{Consumer, World, b64, now, os_rng};
use blindvault_testkit::{Backend, Device, Resp, TestServer};
use serde_json::json;
use sqlx::Row;

both!(
    verify_detects_edit,
    verify_detects_removal,
    verify_detects_reorder,
    verify_detects_truncation,
    a_stale_head_guess_never_forks_the_chain,
    an_anchor_detects_a_consistent_rewrite,
    an_anchor_detects_a_consistently_cut_tail,
    verify_on_a_live_server_never_reports_a_false_break,
    an_action_whose_audit_row_fails_does_not_happen,
    rename_and_sign_out_everywhere_are_recorded
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
        let h = row.hash_after(&p)?;
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
    let h = row.hash_after(&row.prev_hash)?;
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

/// Makes every audit append fail from now on: a trigger that refuses inserts into `audit_log`
/// (what a full disk, a lost connection or a broken head would do in the middle of an action).
async fn break_audit(server: &TestServer) -> anyhow::Result<()> {
    let pool = server.state.store.pool();
    match server.state.store.engine() {
        Engine::Sqlite => {
            sqlx::query(
                "CREATE TRIGGER audit_down BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'audit log down'); END",
            )
            .execute(pool)
            .await?;
        }
        Engine::Postgres => {
            sqlx::query(
                "CREATE OR REPLACE FUNCTION audit_down() RETURNS trigger LANGUAGE plpgsql AS \
                 $$ BEGIN RAISE EXCEPTION 'audit log down'; END $$",
            )
            .execute(pool)
            .await?;
            sqlx::query(
                "CREATE TRIGGER audit_down BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_down()",
            )
            .execute(pool)
            .await?;
        }
    }
    Ok(())
}

/// Undoes [`break_audit`].
async fn mend_audit(server: &TestServer) -> anyhow::Result<()> {
    let sql = match server.state.store.engine() {
        Engine::Sqlite => "DROP TRIGGER audit_down",
        Engine::Postgres => "DROP TRIGGER audit_down ON audit_log",
    };
    sqlx::query(sql).execute(server.state.store.pool()).await?;
    Ok(())
}

/// One number from `sql` (a single `$1`), as `n`.
async fn count(server: &TestServer, sql: &'static str, bind: &str) -> anyhow::Result<i64> {
    let row = sqlx::query(sql).bind(bind).fetch_one(server.state.store.pool()).await?;
    Ok(row.try_get::<i64, _>("n")?)
}

/// One text value from `sql` (a single `$1`), as `v`.
async fn text(server: &TestServer, sql: &'static str, bind: &str) -> anyhow::Result<Option<String>> {
    let row = sqlx::query(sql).bind(bind).fetch_optional(server.state.store.pool()).await?;
    Ok(row.map(|r| r.try_get::<Option<String>, _>("v")).transpose()?.flatten())
}

/// The answer of an action whose audit row could not be written: the server's fault (500
/// `internal`, a JSON error) — not a 4xx refusal for some other reason, which would make the
/// check of the state below prove nothing.
fn failed(resp: &Resp, what: &str) -> anyhow::Result<()> {
    ensure!(resp.status == 500 && resp.code() == Some(ErrorCode::Internal), "{what}: {resp:?}");
    Ok(())
}

async fn audit_rows(server: &TestServer) -> anyhow::Result<i64> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM audit_log").fetch_one(server.state.store.pool()).await?;
    Ok(row.try_get::<i64, _>("n")?)
}

const LIVE_SESSIONS: &str = "SELECT COUNT(*) AS n FROM sessions WHERE user_id = $1 AND revoked_at IS NULL";

/// Every action appends its audit row inside its own transaction: when the row cannot be
/// written, the action does not happen either — no account, session, passkey, role, org key,
/// enrolment, host, entry or expiry without its record, and nothing half done.
async fn an_action_whose_audit_row_fails_does_not_happen(b: Backend) -> anyhow::Result<()> {
    // A fresh instance: the setup claim and the first org key.
    let server = TestServer::start(b).await?;
    let code = server.setup_code.clone().context("setup code")?;
    let mut root = Device::new().register(&server, "root").await?;
    let before = audit_rows(&server).await?;
    break_audit(&server).await?;
    let resp = root.agent.post(paths::SETUP_CLAIM, json!({ "code": code })).await?;
    failed(&resp, "setup claim")?;
    let role = "SELECT role AS v FROM users WHERE id = $1";
    ensure!(text(&server, role, &root.user_id).await?.as_deref() == Some("user"), "claimed unrecorded");
    ensure!(server.state.store.setting("setup_code_sha256").await?.is_some(), "the code was spent");
    // A wrong code is recorded as a failed claim; without its row, the answer is an error too.
    let resp = root.agent.post(paths::SETUP_CLAIM, json!({ "code": "AAAAA-BBBBB-CCCCC-DDDDD" })).await?;
    failed(&resp, "wrong setup code")?;
    ensure!(audit_rows(&server).await? == before, "a row was written");
    mend_audit(&server).await?;
    // The code was not spent: it claims the instance once the log works again.
    root.agent.post(paths::SETUP_CLAIM, json!({ "code": code })).await?.ok()?;
    break_audit(&server).await?;
    let org = OrgSecretKey::generate(&mut os_rng());
    let resp = root
        .agent
        .put(paths::BROKER_ORG, json!({ "org_public_key": b64(&org.public_key().to_bytes()) }))
        .await?;
    failed(&resp, "first org key")?;
    let orgs =
        count(&server, "SELECT COUNT(*) AS n FROM broker_org WHERE set_by = $1", &root.user_id).await?;
    let org: OrgView = serde_json::from_value(root.agent.get(paths::BROKER_ORG).await?.ok()?.body)?;
    ensure!(orgs == 0 && org.fingerprint.is_none());
    mend_audit(&server).await?;
    ensure!(audit::verify(&server.state.store).await?.first_bad.is_none(), "the chain holds");

    // An instance in use: people, passkeys, sessions, an approver, an entry, a host, a request.
    let mut w = World::new(b, &["alice"]).await?;
    let mut second = Device::new();
    let (second_id, _) = {
        let a = &mut w.approvers[0];
        second.add_passkey(&w.server, &mut a.session.agent, &mut a.device, "second").await?
    };
    let alice = w.approvers[0].session.user_id.clone();
    let mut bob = Device::new().register(&w.server, "bob").await?;
    let mut dave = Device::new().register(&w.server, "dave").await?;
    let entry = EntryId::generate(&mut os_rng());
    w.put_secret(entry, 1, Policy::AnyOf { n: 1 }, b"s").await?;
    let (host, cert) = w.host(&[entry]).await?;
    let cert_id = cert.cert.cert_id.to_text();
    let (consumer, resp) = Consumer::ask(&w.server, &host, &cert, entry).await?;
    resp.ok()?;
    let request = consumer.id();
    let unsent = EntryId::generate(&mut os_rng());
    let sealed = w.seal_secret(unsent, 1, Policy::AnyOf { n: 1 }, b"t").await?;
    let t = now(&w.server);
    let new_cert = HostCertificate {
        cert_id: CertId::generate(&mut os_rng()),
        host_name: "ci-runner-8".into(),
        host_key: HostSecretKey::generate(&mut os_rng()).public_key(),
        allowed_entries: vec![entry],
        not_before: t - 60,
        not_after: t + 86_400,
        issuer: Some(w.admin.user_id.clone()),
        self_approval: false,
    }
    .sign(&w.org)?;
    let mine = w.approvers[0].session.agent.get(paths::BROKER_ENROLMENTS_MINE).await?.ok()?;
    let mine: Vec<EnrolmentView> = serde_json::from_value(mine.body)?;
    let enrolment = mine.first().context("alice's enrolment")?.id.clone();
    let bob_sessions =
        w.admin.agent.get(&paths::with_id(paths::ADMIN_USER_SESSIONS, &bob.user_id)).await?.ok()?;
    let bob_sessions: UserSessions = serde_json::from_value(bob_sessions.body)?;
    let bob_session = bob_sessions.sessions.first().context("bob's session")?.id.clone();
    let alice_sessions = count(&w.server, LIVE_SESSIONS, &alice).await?;
    let org_before = w.admin.agent.get(paths::BROKER_ORG).await?.ok()?.body;
    // The step-ups the destructive actions need, confirmed while the log works (a confirmation
    // is recorded too); each failed action below leaves its step-up unspent.
    let other = OrgSecretKey::generate(&mut os_rng());
    let other_fp = other.public_key().fingerprint().to_string();
    let up_passkey = {
        let a = &mut w.approvers[0];
        a.device.step_up(&w.server, &mut a.session.agent, "passkey.delete", &second_id).await?
    };
    let up_delete = w.admin_step_up("user.delete", &bob.user_id).await?;
    let up_role = w.admin_step_up("role.set", &format!("{}:admin", bob.user_id)).await?;
    let up_org = w.admin_step_up("org.replace", &other_fp).await?;
    let up_remove = w.admin_step_up("approver.remove", &enrolment).await?;
    let up_revoke = w.admin_step_up("host.revoke", &cert_id).await?;
    let up_entry = w.admin_step_up("entry.delete", &entry.to_text()).await?;
    let server = &w.server;
    let before = audit_rows(server).await?;
    break_audit(server).await?;

    // Registration: no account, no passkey, no session.
    let mut carol = Device::new();
    let mut agent = server.agent();
    let c = carol.prepare_register(server, &mut agent, "carol").await?;
    let resp = agent
        .post(paths::REGISTER_FINISH, json!({ "ceremony_id": c.ceremony_id, "credential": c.credential }))
        .await?;
    failed(&resp, "registration")?;
    ensure!(resp.set_cookie.is_none(), "a cookie for a session that does not exist");
    ensure!(count(server, "SELECT COUNT(*) AS n FROM users WHERE name = $1", "carol").await? == 0);
    // Login: no session (a new one, or the extension of a live one).
    let mut anon = server.agent();
    let c = w.approvers[0].device.prepare_login(server, &mut anon).await?;
    let resp = anon
        .post(paths::LOGIN_FINISH, json!({ "ceremony_id": c.ceremony_id, "credential": c.credential }))
        .await?;
    failed(&resp, "login")?;
    ensure!(resp.set_cookie.is_none() && count(server, LIVE_SESSIONS, &alice).await? == alice_sessions);
    // The failure came after the assertion verified; its challenge is used up all the same (the
    // same answer again is refused even once the log works), so a valid answer that was never
    // honoured cannot be spent later.
    let replay = json!({ "ceremony_id": c.ceremony_id, "credential": c.credential });
    mend_audit(server).await?;
    let resp = server.agent().post(paths::LOGIN_FINISH, replay).await?;
    ensure!(resp.status == 400 && resp.code() == Some(ErrorCode::ChallengeInvalid), "{resp:?}");
    break_audit(server).await?;
    server.clock.advance(60);
    let me: Me = serde_json::from_value(w.approvers[0].session.agent.get(paths::ME).await?.ok()?.body)?;
    let expires = me.session.expires_at;
    let a = &mut w.approvers[0];
    let c = a.device.prepare_login(server, &mut a.session.agent).await?;
    let resp = a
        .session
        .agent
        .post(paths::LOGIN_FINISH, json!({ "ceremony_id": c.ceremony_id, "credential": c.credential }))
        .await?;
    failed(&resp, "re-authentication")?;
    let me: Me = serde_json::from_value(a.session.agent.get(paths::ME).await?.ok()?.body)?;
    ensure!(me.session.expires_at == expires, "session extended unrecorded: {me:?}");
    // Passkeys: add, rename, remove.
    let passkeys = "SELECT COUNT(*) AS n FROM credentials WHERE user_id = $1";
    let step = a.device.prepare_login(server, &mut a.session.agent).await?;
    let start = a
        .session
        .agent
        .post(
            paths::PASSKEYS_REGISTER_START,
            json!({ "name": "third", "ceremony_id": step.ceremony_id, "credential": step.credential }),
        )
        .await?
        .ok()?;
    let c = Device::new().answer_create(&server.origin, start.body).await?;
    let resp = a
        .session
        .agent
        .post(
            paths::PASSKEYS_REGISTER_FINISH,
            json!({ "ceremony_id": c.ceremony_id, "credential": c.credential }),
        )
        .await?;
    failed(&resp, "add passkey")?;
    ensure!(count(server, passkeys, &alice).await? == 2, "passkey added unrecorded");
    let resp = a
        .session
        .agent
        .patch(&paths::with_id(paths::PASSKEY, &second_id), json!({ "name": "renamed" }))
        .await?;
    failed(&resp, "rename passkey")?;
    let name = text(server, "SELECT name AS v FROM credentials WHERE id = $1", &second_id).await?;
    ensure!(name.as_deref() == Some("second"), "renamed unrecorded: {name:?}");
    let resp = a
        .session
        .agent
        .send_stepped("DELETE", &paths::with_id(paths::PASSKEY, &second_id), None, &up_passkey)
        .await?;
    failed(&resp, "remove passkey")?;
    ensure!(count(server, passkeys, &alice).await? == 2, "passkey removed unrecorded");
    // Sign out everywhere.
    let resp = a.session.agent.post(paths::LOGOUT_ALL, json!({})).await?;
    failed(&resp, "sign out everywhere")?;
    a.session.agent.get(paths::ME).await?.ok()?;
    ensure!(count(server, LIVE_SESSIONS, &alice).await? == alice_sessions);
    // The admin's actions on bob: delete, role, revoke his sessions, revoke one session.
    let resp = w
        .admin
        .agent
        .send_stepped("DELETE", &paths::with_id(paths::ADMIN_USER, &bob.user_id), None, &up_delete)
        .await?;
    failed(&resp, "delete user")?;
    bob.agent.get(paths::ME).await?.ok()?;
    let resp = w
        .admin
        .agent
        .send_stepped(
            "PUT",
            &paths::with_id(paths::ADMIN_USER_ROLE, &bob.user_id),
            Some(json!({ "role": "admin" })),
            &up_role,
        )
        .await?;
    failed(&resp, "set role")?;
    ensure!(text(server, role, &bob.user_id).await?.as_deref() == Some("user"), "role set unrecorded");
    let resp = w
        .admin
        .agent
        .post(&paths::with_id(paths::ADMIN_USER_REVOKE_SESSIONS, &bob.user_id), json!({}))
        .await?;
    failed(&resp, "revoke a user's sessions")?;
    bob.agent.get(paths::ME).await?.ok()?;
    let resp = w.admin.agent.delete(&paths::with_id(paths::ADMIN_SESSION, &bob_session)).await?;
    failed(&resp, "revoke a session")?;
    bob.agent.get(paths::ME).await?.ok()?;
    // The org key and its settings.
    let resp = w
        .admin
        .agent
        .send_stepped(
            "PUT",
            paths::BROKER_ORG,
            Some(json!({ "org_public_key": b64(&other.public_key().to_bytes()), "replace": true })),
            &up_org,
        )
        .await?;
    failed(&resp, "replace the org key")?;
    ensure!(
        w.admin.agent.get(paths::BROKER_ORG).await?.ok()?.body == org_before,
        "org key replaced unrecorded"
    );
    let resp =
        w.admin.agent.put(paths::BROKER_ORG_SETTINGS, json!({ "refuse_synced_approvers": true })).await?;
    failed(&resp, "org settings")?;
    ensure!(server.state.store.setting("broker.refuse_synced_approvers").await?.is_none());
    // The org's revocation record: not stored.
    let record = blindvault_core::revocation::Revocations::none()
        .next(&[], &[], blindvault_testkit::broker::now(server))?
        .sign(&w.org)?;
    let resp = w
        .admin
        .agent
        .put(paths::BROKER_REVOCATIONS, json!({ "revocations": b64(&record.to_bytes()) }))
        .await?;
    failed(&resp, "revocation record")?;
    let stored: i64 = sqlx::query("SELECT COUNT(*) AS n FROM broker_revocations")
        .fetch_one(server.state.store.pool())
        .await?
        .try_get("n")?;
    ensure!(stored == 0, "a revocation record stored unrecorded");
    // An invite code: none is made (so none could be handed out and used unrecorded).
    let resp = w.admin.agent.post(paths::ADMIN_INVITES, json!({})).await?;
    failed(&resp, "invite create")?;
    let invites: i64 = sqlx::query("SELECT COUNT(*) AS n FROM invites")
        .fetch_one(server.state.store.pool())
        .await?
        .try_get("n")?;
    let by_an_admin: i64 =
        sqlx::query("SELECT COUNT(*) AS n FROM invites WHERE created_by <> 'test-harness'")
            .fetch_one(server.state.store.pool())
            .await?
            .try_get("n")?;
    ensure!(by_an_admin == 0, "invite made unrecorded ({invites} in all)");
    // Enrolments: a request, and the removal of an approver.
    let keys = KeySchedule::derive(&dave.prf);
    let resp = dave
        .agent
        .post(
            paths::BROKER_ENROLMENTS,
            json!({ "credential_id": dave.credential_id, "approver_public_key": b64(&keys.approver_public().to_array()) }),
        )
        .await?;
    failed(&resp, "request enrolment")?;
    ensure!(
        count(server, "SELECT COUNT(*) AS n FROM broker_enrolments WHERE user_id = $1", &dave.user_id)
            .await?
            == 0
    );
    let resp = w
        .admin
        .agent
        .send_stepped("DELETE", &paths::with_id(paths::BROKER_ENROLMENT, &enrolment), None, &up_remove)
        .await?;
    failed(&resp, "remove approver")?;
    let status = "SELECT status AS v FROM broker_enrolments WHERE id = $1";
    ensure!(text(server, status, &enrolment).await?.as_deref() == Some("approved"), "removed unrecorded");
    // Hosts: registration and revocation.
    let resp =
        w.admin.agent.post(paths::BROKER_HOSTS, json!({ "certificate": b64(&new_cert.to_bytes()) })).await?;
    failed(&resp, "register host")?;
    let hosts = "SELECT COUNT(*) AS n FROM broker_hosts WHERE cert_id = $1";
    ensure!(count(server, hosts, &new_cert.cert.cert_id.to_text()).await? == 0, "host registered unrecorded");
    let resp = w
        .admin
        .agent
        .send_stepped(
            "POST",
            &paths::with_id(paths::BROKER_HOST_REVOKE, &cert_id),
            Some(json!({})),
            &up_revoke,
        )
        .await?;
    failed(&resp, "revoke host")?;
    let revoked = "SELECT COUNT(*) AS n FROM broker_hosts WHERE cert_id = $1 AND revoked_at IS NULL";
    ensure!(count(server, revoked, &cert_id).await? == 1, "host revoked unrecorded");
    // Entries: a new one, and the deletion of one (with its open request).
    let resp = w
        .admin
        .agent
        .post(
            paths::BROKER_ENTRIES,
            json!({ "sealed_entry": b64(&sealed.to_bytes()), "allow_self_approval": false }),
        )
        .await?;
    failed(&resp, "store entry")?;
    let heads = "SELECT COUNT(*) AS n FROM broker_entry_heads WHERE entry_id = $1";
    ensure!(count(server, heads, &unsent.to_text()).await? == 0, "entry stored unrecorded");
    let resp = w
        .admin
        .agent
        .send_stepped("DELETE", &paths::with_id(paths::BROKER_ENTRY, &entry.to_text()), None, &up_entry)
        .await?;
    failed(&resp, "delete entry")?;
    w.admin.agent.get(&paths::with_id(paths::BROKER_ENTRY, &entry.to_text())).await?.ok()?;
    let req_status = "SELECT status AS v FROM broker_requests WHERE request_id = $1";
    ensure!(text(server, req_status, &request).await?.as_deref() == Some("pending"));
    // The expiry of a request by the sweeper.
    server.clock.advance(400);
    ensure!(
        blindvault_server::broker::sweeper::sweep(&server.state).await.is_err(),
        "sweep without its rows"
    );
    ensure!(text(server, req_status, &request).await?.as_deref() == Some("pending"), "expired unrecorded");

    ensure!(audit_rows(server).await? == before, "a row was written while the log was down");
    mend_audit(server).await?;
    // The chain holds (no row of a rolled-back action links anywhere) and goes on.
    ensure!(audit::verify(&server.state.store).await?.first_bad.is_none(), "the chain holds");
    blindvault_server::broker::sweeper::sweep(&server.state).await.map_err(|e| anyhow::anyhow!("{e:?}"))?;
    ensure!(text(server, req_status, &request).await?.as_deref() == Some("expired"));
    // The step-ups of the failed actions were not spent (only expired since: 460 s passed).
    let unspent = "SELECT COUNT(*) AS n FROM step_ups WHERE used_at IS NULL AND confirmed_at IS NOT NULL AND user_id = $1";
    ensure!(count(server, unspent, &w.admin.user_id).await? == 6, "a failed action spent its step-up");
    let up = w.admin_step_up("user.delete", &bob.user_id).await?;
    w.admin
        .agent
        .send_stepped("DELETE", &paths::with_id(paths::ADMIN_USER, &bob.user_id), None, &up)
        .await?
        .ok()?;
    let server = &w.server;
    ensure!(bob.agent.get(paths::ME).await?.status == 401, "deleted");
    let rows = audit::list(&server.state.store, before, 100).await?;
    let actions: Vec<&str> = rows.iter().map(|r| r.action.as_str()).collect();
    ensure!(
        actions.contains(&"broker.request.expired") && actions.last() == Some(&"admin.user.delete"),
        "{actions:?}"
    );
    ensure!(audit::verify(&server.state.store).await?.first_bad.is_none());
    Ok(())
}

/// Renaming a passkey and signing out everywhere leave audit rows (in the same transaction as
/// the change).
async fn rename_and_sign_out_everywhere_are_recorded(b: Backend) -> anyhow::Result<()> {
    let server = TestServer::start(b).await?;
    let mut phone = Device::new();
    let mut alice = phone.register(&server, "alice").await?;
    let mut laptop = phone.login(&server).await?;
    let resp = alice
        .agent
        .patch(&paths::with_id(paths::PASSKEY, &alice.credential_id), json!({ "name": "work phone" }))
        .await?
        .ok()?;
    ensure!(serde_json::from_value::<PasskeyRenamed>(resp.body)?.name == "work phone");
    let resp = alice.agent.post(paths::LOGOUT_ALL, json!({})).await?.ok()?;
    let revoked: SessionsRevoked = serde_json::from_value(resp.body)?;
    ensure!(revoked.revoked == 2, "{revoked:?}");
    ensure!(laptop.agent.get(paths::ME).await?.status == 401);
    let rows = audit::list(&server.state.store, 0, 100).await?;
    let rename = rows.iter().find(|r| r.action == "passkey.rename").context("no passkey.rename row")?;
    ensure!(rename.actor.as_deref() == Some(alice.user_id.as_str()));
    ensure!(rename.target.as_deref() == Some(alice.credential_id.as_str()));
    let detail: serde_json::Value = serde_json::from_str(&rename.detail)?;
    ensure!(detail == json!({ "from": "first", "to": "work phone" }), "{detail}");
    let out = rows.iter().find(|r| r.action == "session.revoke_all").context("no session.revoke_all row")?;
    ensure!(out.actor.as_deref() == Some(alice.user_id.as_str()));
    let detail: serde_json::Value = serde_json::from_str(&out.detail)?;
    ensure!(detail["revoked"] == 2, "{detail}");
    ensure!(audit::verify(&server.state.store).await?.first_bad.is_none());
    Ok(())
}
