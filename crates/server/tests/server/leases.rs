//! A delivered request's lease, on SQLite and PostgreSQL with the injected clock: running until
//! its time is up, ended early by an approver of its entry or an admin (nobody else), `409
//! lease_not_running` for a lease that is not running, the host's lease poll woken by the end
//! (also through a second instance), and the audit row.

use anyhow::{Context, ensure};
use blindvault_api::ErrorCode;
use blindvault_api::broker::{LeaseState, LeaseStatus, LeaseView, PollResult};
use blindvault_api::broker_calls::RequestView;
use blindvault_api::paths;
use blindvault_core::ids::EntryId;
use blindvault_core::policy::Policy;
use blindvault_testkit::broker::{Consumer, World, device_approves};
use blindvault_testkit::{Agent, Backend, Device, TestServer};
use serde_json::json;
use sqlx::Row as _;

both!(
    a_lease_runs_until_an_approver_or_an_admin_ends_it,
    ending_a_lease_on_one_instance_reaches_a_host_polling_another
);

/// The host's lease poll (`GET …/lease?wait=N` with the poll token; no cookie).
async fn lease_poll(
    base: &str,
    c: &Consumer,
    token: &str,
    wait: u64,
) -> anyhow::Result<blindvault_testkit::Resp> {
    let path = format!("{}?wait={wait}", paths::with_id(paths::BROKER_REQUEST_LEASE, &c.id()));
    Agent::new(base, None).send_with("GET", &path, None, &[(paths::POLL_HEADER, token)]).await
}

/// A request for `entry` approved by approver `who` and delivered to its consumer.
async fn delivered(
    w: &mut World,
    host: &(blindvault_core::keys::HostSecretKey, blindvault_core::identity::SignedHostCertificate),
    entry: EntryId,
    who: usize,
) -> anyhow::Result<Consumer> {
    let (c, created) = Consumer::ask(&w.server, &host.0, &host.1, entry).await?;
    ensure!(created.status == 201, "{created:?}");
    device_approves(&w.server, &mut w.approvers[who], &c.id()).await?.ok()?;
    ensure!(matches!(c.result(&w.server).await?, PollResult::Delivered { .. }), "delivered");
    Ok(c)
}

async fn end_lease(agent: &mut Agent, id: &str) -> anyhow::Result<blindvault_testkit::Resp> {
    agent.post(&paths::with_id(paths::BROKER_REQUEST_LEASE_END, id), json!({})).await
}

async fn lease_list(agent: &mut Agent) -> anyhow::Result<Vec<LeaseView>> {
    agent.get(paths::BROKER_LEASES).await?.ok()?.json()
}

/// Waits (on a condition, with a bound) until `server` has a poll waiting on some request.
async fn until_a_poll_waits(server: &TestServer) -> anyhow::Result<()> {
    let until = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while server.state.hub.watched() == 0 {
        ensure!(std::time::Instant::now() < until, "no poll started waiting within 60 s");
        tokio::task::yield_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    Ok(())
}

async fn a_lease_runs_until_an_approver_or_an_admin_ends_it(b: Backend) -> anyhow::Result<()> {
    let mut w = World::new(b, &["alice", "bob"]).await?;
    let entry = EntryId::generate(&mut blindvault_testkit::broker::os_rng());
    w.put_secret(entry, 1, Policy::AnyOf { n: 2 }, b"s").await?;
    // Carol is an approver of another entry only; mallory is no approver at all.
    w.enrol("carol").await?;
    let other_entry = EntryId::generate(&mut blindvault_testkit::broker::os_rng());
    w.put_secret(other_entry, 1, Policy::AnyOf { n: 3 }, b"t").await?;
    let mut mallory = Device::new().register(&w.server, "mallory").await?;
    let host = w.host(&[entry]).await?;

    // Not yet delivered: no lease to end or to poll.
    let (pending, _) = Consumer::ask(&w.server, &host.0, &host.1, entry).await?;
    let r = end_lease(&mut w.approvers[0].session.agent, &pending.id()).await?;
    ensure!(r.status == 409 && r.code() == Some(ErrorCode::LeaseNotRunning), "{r:?}");
    let r = lease_poll(&w.server.base, &pending, &pending.token, 0).await?;
    ensure!(r.status == 409 && r.code() == Some(ErrorCode::LeaseNotRunning), "{r:?}");

    let c = delivered(&mut w, &host, entry, 0).await?;
    let id = c.id();
    let delivered_at = w.server.state.clock.now();
    // Running: on the lists of alice, bob and the admin (who sees all), not carol's.
    let list = lease_list(&mut w.approvers[0].session.agent).await?;
    ensure!(list.len() == 1, "{list:?}");
    let v = &list[0];
    ensure!(v.request_id == id && v.state == LeaseState::Running, "{v:?}");
    ensure!(v.ends_at == delivered_at + 900, "the signed lease (900 s) from delivery: {v:?}");
    ensure!(v.command == "./migrate.sh" && v.env == ["DB"] && v.approved_by == ["alice"], "{v:?}");
    ensure!(lease_list(&mut w.approvers[1].session.agent).await?.len() == 1);
    ensure!(lease_list(&mut w.admin.agent).await?.len() == 1, "an admin sees every running lease");
    ensure!(lease_list(&mut w.approvers[2].session.agent).await?.is_empty(), "carol sees none");
    let view: RequestView =
        w.approvers[1].session.agent.get(&paths::with_id(paths::BROKER_REQUEST, &id)).await?.ok()?.json()?;
    ensure!(view.lease.as_ref().map(|l| l.state) == Some(LeaseState::Running), "{view:?}");
    let s: LeaseStatus = lease_poll(&w.server.base, &c, &c.token, 0).await?.ok()?.json()?;
    ensure!(s.state == LeaseState::Running && s.ended_by.is_none(), "{s:?}");
    // Without the poll token, nothing.
    let r = lease_poll(&w.server.base, &c, "guess", 0).await?;
    ensure!(r.status == 404 && r.code() == Some(ErrorCode::NoSuchRequest), "{r:?}");

    // Neither an approver of another entry nor a non-approver may end it.
    let r = end_lease(&mut w.approvers[2].session.agent, &id).await?;
    ensure!(r.status == 404 && r.code() == Some(ErrorCode::NoSuchRequest), "carol: {r:?}");
    let r = end_lease(&mut mallory.agent, &id).await?;
    ensure!(r.status == 403 && r.code() == Some(ErrorCode::Forbidden), "mallory: {r:?}");
    let r = end_lease(&mut Agent::new(&w.server.base, None), &id).await?;
    ensure!(r.status == 401 || r.status == 403, "no session: {r:?}");

    // The host waits on its lease; bob ends it: the poll answers `ended` by bob.
    let waiting = {
        let (base, path, token) = (
            w.server.base.clone(),
            format!("{}?wait=30", paths::with_id(paths::BROKER_REQUEST_LEASE, &id)),
            c.token.clone(),
        );
        tokio::spawn(async move {
            Agent::new(&base, None).send_with("GET", &path, None, &[(paths::POLL_HEADER, &token)]).await
        })
    };
    until_a_poll_waits(&w.server).await?;
    let ended_at = std::time::Instant::now();
    let r = end_lease(&mut w.approvers[1].session.agent, &id).await?.ok()?;
    let v: LeaseView = r.json()?;
    ensure!(v.state == LeaseState::Ended && v.ended_by_name.as_deref() == Some("bob"), "{v:?}");
    ensure!(v.ended_by.as_deref() == Some(w.approvers[1].session.user_id.as_str()), "{v:?}");
    let s: LeaseStatus = waiting.await??.ok()?.json()?;
    eprintln!("lease poll answered the end after {:?} ({b:?})", ended_at.elapsed());
    ensure!(s.state == LeaseState::Ended && s.ended_by.as_deref() == Some("bob"), "{s:?}");
    // The audit row: who and which request.
    let row = sqlx::query(
        "SELECT actor, detail FROM audit_log WHERE action = 'broker.lease.ended' AND target = $1",
    )
    .bind(&id)
    .fetch_all(w.server.state.store.pool())
    .await?;
    ensure!(row.len() == 1, "one audit row");
    ensure!(
        row[0].try_get::<Option<String>, _>("actor")?.as_deref()
            == Some(w.approvers[1].session.user_id.as_str())
    );
    ensure!(row[0].try_get::<String, _>("detail")?.contains("\"by\":\"bob\""));
    // Ended: the receipt stays on the list while the lease's time lasts; ending it again is 409.
    let list = lease_list(&mut w.approvers[0].session.agent).await?;
    ensure!(list.len() == 1 && list[0].state == LeaseState::Ended, "{list:?}");
    let r = end_lease(&mut w.approvers[0].session.agent, &id).await?;
    ensure!(r.status == 409 && r.code() == Some(ErrorCode::LeaseNotRunning), "{r:?}");
    ensure!(r.body.to_string().contains("bob"), "says who ended it: {r:?}");

    // An admin who is no approver of the entry may end a lease too.
    let c2 = delivered(&mut w, &host, entry, 0).await?;
    let v: LeaseView = end_lease(&mut w.admin.agent, &c2.id()).await?.ok()?.json()?;
    ensure!(v.state == LeaseState::Ended && v.ended_by_name.as_deref() == Some("admin"), "{v:?}");

    // A lease whose time is up (the server's clock) is over: not on the list, not endable.
    let c3 = delivered(&mut w, &host, entry, 1).await?;
    w.server.clock.advance(899);
    let s: LeaseStatus = lease_poll(&w.server.base, &c3, &c3.token, 0).await?.ok()?.json()?;
    ensure!(s.state == LeaseState::Running, "one second left: {s:?}");
    w.server.clock.advance(1);
    let s: LeaseStatus = lease_poll(&w.server.base, &c3, &c3.token, 0).await?.ok()?.json()?;
    ensure!(s.state == LeaseState::Over && s.ended_by.is_none(), "{s:?}");
    // (Sessions last 15 minutes on the same clock: bob signs in again.)
    let mut bob = w.approvers[1].device.login(&w.server).await?;
    let r = end_lease(&mut bob.agent, &c3.id()).await?;
    ensure!(r.status == 409 && r.code() == Some(ErrorCode::LeaseNotRunning), "{r:?}");
    ensure!(lease_list(&mut bob.agent).await?.is_empty(), "nothing running now");
    ensure!(blindvault_server::audit::verify(&w.server.state.store).await?.first_bad.is_none());
    Ok(())
}

/// Ended through instance A, heard by the host polling instance B (on PostgreSQL by `NOTIFY`,
/// on a shared SQLite file by B's re-read every 2 s).
async fn ending_a_lease_on_one_instance_reaches_a_host_polling_another(b: Backend) -> anyhow::Result<()> {
    let mut w = World::new(b, &["alice"]).await?;
    let entry = EntryId::generate(&mut blindvault_testkit::broker::os_rng());
    w.put_secret(entry, 1, Policy::AnyOf { n: 1 }, b"s").await?;
    let host = w.host(&[entry]).await?;
    let other = TestServer::start_sharing(&w.server).await?;
    let c = delivered(&mut w, &host, entry, 0).await?;
    let (base, path, token) = (
        other.base.clone(),
        format!("{}?wait=30", paths::with_id(paths::BROKER_REQUEST_LEASE, &c.id())),
        c.token.clone(),
    );
    let waiting = tokio::spawn(async move {
        Agent::new(&base, None).send_with("GET", &path, None, &[(paths::POLL_HEADER, &token)]).await
    });
    until_a_poll_waits(&other).await?;
    let ended_at = std::time::Instant::now();
    end_lease(&mut w.approvers[0].session.agent, &c.id()).await?.ok()?;
    let s: LeaseStatus = waiting.await??.ok()?.json().context("lease status")?;
    eprintln!("instance B's lease poll answered the end after {:?} ({b:?})", ended_at.elapsed());
    ensure!(s.state == LeaseState::Ended && s.ended_by.as_deref() == Some("alice"), "{s:?}");
    Ok(())
}
