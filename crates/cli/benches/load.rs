//! Load across instances: two `blindvault serve` processes on one PostgreSQL database, a
//! thousand consumers (each a request from a host, then long polls of its result) spread over
//! both, and automated approvers (test-kit phones: a real passkey ceremony with PRF per approval)
//! on both. Halfway through, one instance is killed (SIGKILL): its consumers and approvers go on
//! at the other. Every release must reach its own consumer exactly once.
//!
//! Prints throughput, the p50/p99 from an approval's start to the consumer holding the value,
//! and the memory each instance holds per waiting consumer — beside the floor measured in the
//! same run: one release alone on an idle instance.
//!
//! `BLINDVAULT_TEST_DATABASE_URL=postgres://… cargo bench -p blindvault-cli --bench load`
//! (`BLINDVAULT_LOAD_CONSUMERS`, default 1000; `BLINDVAULT_LOAD_APPROVERS`, default 4).

#![allow(clippy::indexing_slicing)]

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};
use blindvault_api::broker::PollResult;
use blindvault_api::broker_calls::RequestView;
use blindvault_api::paths;
use blindvault_core::identity::SignedHostCertificate;
use blindvault_core::ids::EntryId;
use blindvault_core::keys::HostSecretKey;
use blindvault_core::policy::Policy;
use blindvault_testkit::Backend;
use blindvault_testkit::bench::{env_usize, main_on_postgres, percentile};
use blindvault_testkit::broker::{Approver, Consumer, World, device_approves, now, os_rng};
use blindvault_testkit::process::ServerProcess;
use tokio::sync::Mutex;

const VALUE: &[u8] = b"load test secret";

/// Resident memory of a process, in KiB.
fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).context("VmRSS")?;
    Ok(line.split_whitespace().nth(1).context("VmRSS value")?.parse()?)
}

/// What the approvers share: the ids to approve (as a push would bring them), when each
/// approval began, and which instance is still up.
struct Desk {
    queue: Mutex<Vec<String>>,
    started: Mutex<HashMap<String, Instant>>,
    b_down: AtomicBool,
}

async fn approver_loop(
    world: Arc<World>,
    mut approver: Approver,
    bases: [String; 2],
    mine: usize,
    desk: Arc<Desk>,
    done: Arc<AtomicUsize>,
    total: usize,
) -> anyhow::Result<usize> {
    let mut approved = 0;
    loop {
        let next = desk.queue.lock().await.pop();
        let Some(id) = next else {
            if done.load(Ordering::SeqCst) >= total {
                return Ok(approved);
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
            continue;
        };
        desk.started.lock().await.insert(id.clone(), Instant::now());
        loop {
            let at = if mine == 1 && !desk.b_down.load(Ordering::SeqCst) { &bases[1] } else { &bases[0] };
            approver.session.agent = approver.session.agent.at(at);
            match device_approves(&world.server, &mut approver, &id).await {
                Ok(r) if r.status == 200 => {
                    approved += 1;
                    break;
                }
                Ok(r) if r.status != 409 => bail!("approving {id}: {r:?}"),
                // Decided already (by an attempt at the killed instance whose answer was cut)?
                Ok(_) | Err(_) => {
                    let path = paths::with_id(paths::BROKER_REQUEST, &id);
                    let view = approver.session.agent.at(&bases[0]).get(&path).await?;
                    if view.status == 200 && view.json::<RequestView>()?.status != "pending" {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }
    }
}

/// What a consumer needs to ask again, and where the approvers will see it.
struct AskAgain {
    t: u64,
    host: HostSecretKey,
    cert: SignedHostCertificate,
    entry: EntryId,
    desk: Arc<Desk>,
    reasked: AtomicUsize,
}

/// One consumer: asks at its instance, then long-polls until it holds the value; moves to the
/// other instance when its own stops answering. Returns the moment it held the value.
async fn consumer_loop(
    mut consumer: Consumer,
    org: blindvault_core::keys::OrgPublicKey,
    bases: [String; 2],
    mine: usize,
    b_down: Arc<AtomicBool>,
    ask: Arc<AskAgain>,
) -> anyhow::Result<(String, Instant, u32)> {
    let mut deliveries = 0u32;
    loop {
        let at = if mine == 1 && !b_down.load(Ordering::SeqCst) { &bases[1] } else { &bases[0] };
        let resp = match consumer.poll_at(at, Some(25)).await {
            Ok(r) => r,
            Err(_) if at == &bases[1] => {
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
            Err(e) => return Err(e),
        };
        if resp.status == 410 {
            // Delivered by the killed instance, whose answer never came: as `run` says, ask
            // again (a new request, approved again) — never a second copy of the first.
            let (again, r) = Consumer::ask_at(&bases[0], ask.t, &ask.host, &ask.cert, ask.entry).await?;
            ensure!(r.status == 201, "{r:?}");
            ask.desk.queue.lock().await.push(again.id());
            ask.reasked.fetch_add(1, Ordering::SeqCst);
            consumer = again;
            continue;
        }
        match resp.ok()?.json::<PollResult>()? {
            PollResult::Pending { .. } => continue,
            result @ PollResult::Delivered { .. } => {
                let at = Instant::now();
                ensure!(consumer.open(&result, &org)? == VALUE, "another value");
                deliveries += 1;
                // Polled once more: the response is gone.
                let again = consumer.poll_at(&bases[0], None).await?;
                ensure!(again.status == 410, "delivered twice: {again:?}");
                return Ok((consumer.id(), at, deliveries));
            }
            other => bail!("request {} ended as {other:?}", consumer.id()),
        }
    }
}

async fn run() -> anyhow::Result<()> {
    let consumers = env_usize("BLINDVAULT_LOAD_CONSUMERS", 1000);
    let approvers = env_usize("BLINDVAULT_LOAD_APPROVERS", 4).max(2);
    let names: Vec<String> = (0..approvers).map(|i| format!("approver-{i}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut w = World::new(Backend::Postgres, &refs).await?;
    let entry = EntryId::generate(&mut os_rng());
    w.put_secret(entry, 1, Policy::AnyOf { n: u8::try_from(approvers)? }, VALUE).await?;
    let (host, cert) = w.host(&[entry]).await?;

    // The floor: one release alone, on the idle in-process instance.
    let mut floor = Vec::new();
    for _ in 0..10 {
        let start = Instant::now();
        let (c, r) = Consumer::ask(&w.server, &host, &cert, entry).await?;
        ensure!(r.status == 201, "{r:?}");
        device_approves(&w.server, &mut w.approvers[0], &c.id()).await?.ok()?;
        let result: PollResult = c.poll(&w.server).await?.ok()?.json()?;
        ensure!(c.open(&result, &w.org.public_key())? == VALUE);
        floor.push(start.elapsed());
    }
    floor.sort();
    let floor = percentile(&floor, 0.5);

    // Two server processes on the database: A at the in-process server's address, B beside it.
    let addr_a = w.server.stop_serving().await?;
    let addr_b = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    let origin = w.server.origin.origin().ascii_serialization();
    let (url, dir) = (w.server.db.url.clone(), w.server.db.dir.path().to_owned());
    let bin = Path::new(env!("CARGO_BIN_EXE_blindvault"));
    let mut a = ServerProcess::new(bin, addr_a, &origin, &url, &dir, &dir.join("a.log"));
    let mut b = ServerProcess::new(bin, addr_b, &origin, &url, &dir, &dir.join("b.log"));
    a.start()?;
    b.start()?;
    a.wait_ready().await?;
    b.wait_ready().await?;
    let bases = [a.base.clone(), b.base.clone()];
    let pids = [a.pid().context("A")?, b.pid().context("B")?];
    let idle = [rss_kib(pids[0])?, rss_kib(pids[1])?];

    // The consumers ask, half at each instance, and wait.
    let b_down = Arc::new(AtomicBool::new(false));
    let t = now(&w.server);
    let mut asked = Vec::with_capacity(consumers);
    for i in 0..consumers {
        let (c, r) = Consumer::ask_at(&bases[i % 2], t, &host, &cert, entry).await?;
        ensure!(r.status == 201, "{r:?}");
        asked.push(c);
    }
    let ids: Vec<String> = asked.iter().map(Consumer::id).collect();
    let org = w.org.public_key();
    let desk = Arc::new(Desk {
        queue: Mutex::new(Vec::new()),
        started: Mutex::new(HashMap::new()),
        b_down: AtomicBool::new(false),
    });
    let again = Arc::new(AskAgain { t, host, cert, entry, desk: desk.clone(), reasked: AtomicUsize::new(0) });
    let mut waiting = Vec::with_capacity(consumers);
    for (i, c) in asked.into_iter().enumerate() {
        waiting.push(tokio::spawn(consumer_loop(
            c,
            org,
            bases.clone(),
            i % 2,
            b_down.clone(),
            again.clone(),
        )));
    }
    // Every consumer is in its long poll once the instances stop growing; then measure.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let held = [rss_kib(pids[0])?, rss_kib(pids[1])?];
    let per_waiting =
        (held[0] + held[1]).saturating_sub(idle[0] + idle[1]) as f64 * 1024.0 / consumers as f64;

    // The approvers: half at each instance, taking ids as pushes would bring them.
    desk.queue.lock().await.extend(ids.iter().rev().cloned());
    let done = Arc::new(AtomicUsize::new(0));
    let phones: Vec<Approver> = w.approvers.drain(..).collect();
    let world = Arc::new(w);
    let start = Instant::now();
    let mut approving = Vec::new();
    for (i, phone) in phones.into_iter().enumerate() {
        approving.push(tokio::spawn(approver_loop(
            world.clone(),
            phone,
            bases.clone(),
            i % 2,
            desk.clone(),
            done.clone(),
            consumers,
        )));
    }
    // Halfway, instance B is killed.
    let mut finished = Vec::with_capacity(consumers);
    let mut killed_at = None;
    for (n, h) in waiting.into_iter().enumerate() {
        finished.push(h.await??);
        done.fetch_add(1, Ordering::SeqCst);
        if n + 1 == consumers / 2 && killed_at.is_none() {
            desk.b_down.store(true, Ordering::SeqCst);
            b_down.store(true, Ordering::SeqCst);
            b.kill()?;
            killed_at = Some(n + 1);
        }
    }
    let elapsed = start.elapsed();
    let mut approved = 0;
    for h in approving {
        approved += h.await??;
    }
    let started = desk.started.lock().await;
    let mut latencies: Vec<Duration> = finished
        .iter()
        .filter_map(|(id, at, _)| started.get(id).map(|s| at.saturating_duration_since(*s)))
        .collect();
    latencies.sort();
    ensure!(
        finished.len() == consumers && finished.iter().all(|(_, _, d)| *d == 1),
        "a release not delivered once"
    );
    let reasked = again.reasked.load(Ordering::SeqCst);
    a.kill()?;

    let rate = consumers as f64 / elapsed.as_secs_f64();
    let floor_rate = 1.0 / floor.as_secs_f64();
    println!(
        "two instances on PostgreSQL, {consumers} consumers, {approvers} approvers; instance B killed after {} releases",
        killed_at.unwrap_or(0)
    );
    println!(
        "floor: one release alone (ask, approve with a passkey, deliver):  {:>8.1} ms  = {floor_rate:>7.1} releases/s",
        floor.as_secs_f64() * 1e3
    );
    println!("under load: {rate:>7.1} releases/s   ratio to the floor {:.2}", rate / floor_rate);
    println!(
        "approval start → consumer holds the value: p50 {:.1} ms, p99 {:.1} ms",
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3
    );
    println!(
        "memory per waiting consumer: {:.1} KiB (both instances: idle {} + {} KiB, {consumers} waiting {} + {} KiB)",
        per_waiting / 1024.0,
        idle[0],
        idle[1],
        held[0],
        held[1]
    );
    println!(
        "approvals sent: {approved}; every consumer holds its value, each response delivered once; {reasked} asked again after the kill cut a delivery's answer"
    );
    Ok(())
}

fn main() -> anyhow::Result<()> {
    main_on_postgres("load", run)
}
