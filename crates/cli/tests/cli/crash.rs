//! Crash safety: the real `blindvault serve` process, on SQLite and on PostgreSQL, killed with
//! SIGKILL at random moments while secrets are written, requests made, approved by a phone and
//! delivered — then restarted on the same database. Afterwards:
//!
//! * every write the server acknowledged is there (a secret version, a request, an approval);
//! * no response is delivered twice (a second poll of a delivered request answers 410), and
//!   every delivered value is the one its version was written with;
//! * nothing half-written is visible: every entry reads, verifies on the phone and releases;
//!   every request the approver lists verifies;
//! * every request ends released, denied, withdrawn or expired — none is left pending or approved
//!   once the approver and the consumer have finished with it;
//! * `audit verify` passes with the anchor taken just before each kill and every anchor the
//!   server logged at its starts; SQLite's integrity check says `ok`.
//!
//! The short form (six kills per engine) runs in the test command. The long form is the same
//! test with more kills: `BLINDVAULT_CRASH_KILLS=50 cargo test -p blindvault-cli --test cli
//! crash -- --nocapture`. `BLINDVAULT_CRASH_SEED` replays a run's schedule of kill moments
//! (the seed is printed). Kill moments are random by design; no check depends on how fast the
//! machine is (every wait is for a state, with a generous bound).

use std::io::Write as _;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, bail, ensure};
use blindvault_api::broker::{EntryView, PollResult};
use blindvault_api::broker_calls::RequestView;
use blindvault_api::paths;
use blindvault_core::identity::{SignedHostCertificate, SignedRequest, verify_request};
use blindvault_core::ids::EntryId;
use blindvault_core::policy::Policy;
use blindvault_server::store::Store;
use blindvault_testkit::broker::{Consumer, World, b64_decode, device_approves, now, os_rng};
use blindvault_testkit::process::ServerProcess;
use blindvault_testkit::{Backend, both};

both!(a_server_killed_at_random_moments_loses_nothing_it_acknowledged);

/// Kills per engine in the test command's short form.
const SHORT_KILLS: u32 = 6;
/// Secrets written and asked for.
const ENTRIES: usize = 3;

/// A small deterministic generator (splitmix64) for the kill schedule, so that a seed replays it.
struct Schedule(u64);

impl Schedule {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// A pause in `lo..hi` milliseconds.
    fn pause(&mut self, lo: u64, hi: u64) -> Duration {
        Duration::from_millis(lo + self.next() % (hi - lo))
    }
}

/// Whether the server is up: even while serving, odd from just before a kill until the next
/// start is ready. An operation that failed while the count stayed the same failed for a
/// reason of its own — a real failure, not the crash.
#[derive(Clone, Default)]
struct Epoch(Arc<AtomicU64>);

impl Epoch {
    fn now(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
    fn bump(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
    /// Waits (bounded) for the server to be serving; its epoch.
    async fn up(&self) -> anyhow::Result<u64> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
        loop {
            let e = self.now();
            if e.is_multiple_of(2) {
                return Ok(e);
            }
            ensure!(tokio::time::Instant::now() < deadline, "the server did not come back within 120 s");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    /// `Some(value)` on success; `None` when the operation failed because a kill came while it
    /// ran; the error when it failed with no kill under way.
    async fn outcome<T>(&self, started: u64, r: anyhow::Result<T>, what: &str) -> anyhow::Result<Option<T>> {
        match r {
            Ok(v) => Ok(Some(v)),
            Err(e) if self.now() == started => {
                Err(e.context(format!("{what} failed with no kill under way")))
            }
            Err(_) => {
                self.up().await?;
                Ok(None)
            }
        }
    }
}

/// What the test knows of one request.
struct Asked {
    consumer: Consumer,
    entry: usize,
    /// The entry's newest acknowledged version when the request was made.
    acked_version: u32,
    created: Option<bool>,
    /// `None`: not tried; `Some(true)`: acknowledged; `Some(false)`: cut by a kill, so it may
    /// or may not be stored.
    approved: Option<bool>,
    /// How many polls handed over its responses.
    delivered: u32,
    /// A poll that may have been answered with the delivery was cut by a kill.
    delivery_cut: bool,
}

fn value_of(entry: usize, version: u32) -> Vec<u8> {
    format!("secret {entry} version {version}").into_bytes()
}

fn version_in(value: &[u8]) -> anyhow::Result<u32> {
    let text = std::str::from_utf8(value)?;
    Ok(text.rsplit(' ').next().context("a version")?.parse()?)
}

/// Moves the test kit's clock (which signs requests and checks certificates) to the system's,
/// which the server process uses.
fn sync_clock(w: &World) {
    use blindvault_server::Clock as _;
    let (system, ours) = (blindvault_server::SystemClock.now(), w.server.clock.now());
    w.server.clock.advance((system - ours).max(0));
}

async fn a_server_killed_at_random_moments_loses_nothing_it_acknowledged(b: Backend) -> anyhow::Result<()> {
    let kills: u32 =
        std::env::var("BLINDVAULT_CRASH_KILLS").ok().and_then(|k| k.parse().ok()).unwrap_or(SHORT_KILLS);
    let seed: u64 =
        std::env::var("BLINDVAULT_CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(rand_seed);
    println!(
        "crash test on {b:?}: {kills} kills, seed {seed} (BLINDVAULT_CRASH_SEED={seed} replays the schedule)"
    );

    // The world is made on an in-process server, which then hands its address and database
    // to the real server process.
    let mut w = World::new(b, &["alice"]).await?;
    let entries: Vec<EntryId> = (0..ENTRIES).map(|_| EntryId::generate(&mut os_rng())).collect();
    let mut acked: Vec<u32> = vec![1; ENTRIES];
    for (i, e) in entries.iter().enumerate() {
        w.put_secret(*e, 1, Policy::AnyOf { n: 1 }, &value_of(i, 1)).await?;
    }
    let (host, cert) = w.host(&entries).await?;
    let addr = w.server.stop_serving().await?;
    let (db_url, data_dir) = (w.server.db.url.clone(), w.server.db.dir.path().to_owned());
    let log = data_dir.join("server.log");
    let origin = w.server.origin.origin().ascii_serialization();
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_blindvault"));
    let mut server = ServerProcess::new(bin, addr, &origin, &db_url, &data_dir, &log);
    server.start()?;
    server.wait_ready().await?;
    // The anchors taken just before each kill, read from the database as an operator's
    // monitoring would read the head.
    let reader = Store::connect(&db_url, 1).await?;

    let epoch = Epoch::default();
    let killer = {
        let (epoch, reader) = (epoch.clone(), reader.clone());
        tokio::spawn(async move {
            let mut schedule = Schedule(seed);
            let mut anchors = Vec::new();
            for _ in 0..kills {
                tokio::time::sleep(schedule.pause(150, 1200)).await;
                if let Some(a) = blindvault_server::audit::head(&reader).await? {
                    anchors.push(a.to_string());
                }
                epoch.bump();
                server.kill()?;
                server.start()?;
                server.wait_ready().await?;
                epoch.bump();
            }
            anyhow::Ok((server, anchors))
        })
    };

    // The driver: one operation after another, whatever the killer does meanwhile.
    let mut asked: Vec<Asked> = Vec::new();
    let mut step = 0usize;
    let (mut writes, mut cut) = (0u32, 0u32);
    while !killer.is_finished() {
        step += 1;
        let started = epoch.up().await?;
        sync_clock(&w);
        let entry = step % ENTRIES;
        match step % 4 {
            0 => {
                // A secret write: the next version of the entry, after the newest the server has.
                let r = current_version(&mut w, entries[entry]).await;
                let Some(current) = epoch.outcome(started, r, "reading an entry").await? else {
                    cut += 1;
                    continue;
                };
                ensure!(
                    current >= acked[entry],
                    "entry {entry}: acknowledged v{} but the server has v{current}",
                    acked[entry]
                );
                let v = current + 1;
                let r = w.put_secret(entries[entry], v, Policy::AnyOf { n: 1 }, &value_of(entry, v)).await;
                match epoch.outcome(started, r, "a secret write").await? {
                    Some(_) => {
                        acked[entry] = v;
                        writes += 1;
                    }
                    None => cut += 1,
                }
            }
            1 => {
                let acked_version = acked[entry];
                let r = Consumer::ask(&w.server, &host, &cert, entries[entry]).await;
                let created = match r {
                    Ok((consumer, resp)) => {
                        let ok = resp.status == 201;
                        ensure!(ok || epoch.now() != started, "a request was refused with no kill: {resp:?}");
                        if !ok {
                            cut += 1;
                        }
                        asked.push(Asked {
                            consumer,
                            entry,
                            acked_version,
                            created: Some(ok),
                            approved: None,
                            delivered: 0,
                            delivery_cut: false,
                        });
                        continue;
                    }
                    Err(e) => e,
                };
                // The request was signed but its answer never came: it may or may not be stored.
                epoch.outcome::<()>(started, Err(created), "a request").await?;
                cut += 1;
            }
            2 => {
                let Some(a) =
                    asked.iter_mut().rev().find(|a| a.created != Some(false) && a.approved.is_none())
                else {
                    continue;
                };
                let r = device_approves(&w.server, &mut w.approvers[0], &a.consumer.id())
                    .await
                    .and_then(|r| r.ok());
                match epoch.outcome(started, r, "an approval").await? {
                    Some(_) => a.approved = Some(true),
                    None => {
                        // It may have been stored before the kill: never approved again here
                        // (that would be refused, `request_not_pending`); the last pass sees.
                        a.approved = Some(false);
                        cut += 1;
                    }
                }
            }
            _ => {
                let Some(a) = asked
                    .iter_mut()
                    .find(|a| a.approved == Some(true) && a.delivered == 0 && !a.delivery_cut)
                else {
                    continue;
                };
                let r = a.consumer.poll(&w.server).await;
                match epoch.outcome(started, r, "a result poll").await? {
                    Some(resp) => {
                        let result: PollResult = resp.ok()?.json()?;
                        check_delivery(&w, a, &result)?;
                    }
                    None => {
                        a.delivery_cut = true;
                        cut += 1;
                    }
                }
            }
        }
    }
    let (mut server, mut anchors) = killer.await??;
    println!(
        "{kills} kills during {step} operations: {writes} secret writes and {} requests acknowledged, {cut} operations cut by a kill",
        asked.iter().filter(|a| a.created == Some(true)).count()
    );

    // Afterwards, on the last server: the approver and the consumers finish what is open.
    sync_clock(&w);
    let mut gone_in_flight = 0;
    for a in &mut asked {
        let resp = a.consumer.poll(&w.server).await?;
        if resp.status == 404 {
            ensure!(a.created != Some(true), "an acknowledged request is gone: {}", a.consumer.id());
            continue;
        }
        if resp.status == 410 {
            // Delivered, but the answer was cut by a kill: the consumer asks again (as `run`
            // says). Only a poll the test saw cut may have been that delivery.
            ensure!(
                a.delivered == 1 || a.delivery_cut,
                "410 for a request never delivered: {}",
                a.consumer.id()
            );
            gone_in_flight += usize::from(a.delivered == 0);
            continue;
        }
        match resp.ok()?.json::<PollResult>()? {
            PollResult::Pending { .. } => {
                ensure!(a.approved != Some(true), "an acknowledged approval is gone: {}", a.consumer.id());
                device_approves(&w.server, &mut w.approvers[0], &a.consumer.id()).await?.ok()?;
                let result: PollResult = a.consumer.poll(&w.server).await?.ok()?.json()?;
                check_delivery(&w, a, &result)?;
            }
            result @ PollResult::Delivered { .. } => check_delivery(&w, a, &result)?,
            other => bail!("request {} ended as {other:?}", a.consumer.id()),
        }
        let again = a.consumer.poll(&w.server).await?;
        ensure!(again.status == 410, "a delivered request answered again: {again:?}");
    }
    // Requests whose answer a kill cut before the host saw it: stored or not, the host never
    // learned their poll id. The approver sees them listed (each verifies, as the phone checks
    // it) and denies them, as a person would.
    let inbox: Vec<RequestView> =
        w.approvers[0].session.agent.get(paths::BROKER_INBOX).await?.ok()?.json()?;
    for view in &inbox {
        let cert = SignedHostCertificate::from_bytes(&b64_decode(&view.certificate)?)?;
        let req = SignedRequest::from_bytes(&b64_decode(&view.signed_request)?)?;
        verify_request(&w.approvers[0].pinned_org, &cert, &req, now(&w.server))?;
        ensure!(
            asked.iter().all(|a| a.consumer.id() != view.request_id),
            "a request the consumer finished is still listed: {}",
            view.request_id
        );
        let deny = paths::with_id(paths::BROKER_REQUEST_DENY, &view.request_id);
        w.approvers[0].session.agent.post(&deny, serde_json::json!({})).await?.ok()?;
    }
    // Nothing is left pending or approved.
    let open: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM broker_requests WHERE status IN ('pending', 'approved')")
            .fetch_one(reader.pool())
            .await?;
    ensure!(open == 0, "{open} requests are stuck open");
    // Every entry: at least its acknowledged version, readable, and released.
    for (i, e) in entries.iter().enumerate() {
        let current = current_version(&mut w, *e).await?;
        ensure!(current >= acked[i], "entry {i}: acknowledged v{} but the server has v{current}", acked[i]);
        let (c, resp) = Consumer::ask(&w.server, &host, &cert, *e).await?;
        ensure!(resp.status == 201, "{resp:?}");
        device_approves(&w.server, &mut w.approvers[0], &c.id()).await?.ok()?;
        let result: PollResult = c.poll(&w.server).await?.ok()?.json()?;
        let value = c.open(&result, &w.org.public_key())?;
        ensure!(value == value_of(i, current), "entry {i} released {:?}", String::from_utf8_lossy(&value));
    }
    println!(
        "{} requests stored without their answer reaching the host: denied by the approver",
        inbox.len()
    );
    println!(
        "{gone_in_flight} deliveries were committed but their answer cut by a kill (410 afterwards, never twice)"
    );

    // The audit chain verifies against every anchor: those taken before the kills and those
    // the server logged at each start.
    server.kill()?;
    if let Some(a) = blindvault_server::audit::head(&reader).await? {
        anchors.push(a.to_string());
    }
    if b == Backend::Sqlite {
        ensure!(reader.integrity_check().await? == "ok");
    }
    reader.close_reader().await;
    let mut verify = Command::new(env!("CARGO_BIN_EXE_blindvault"));
    verify.args(["audit", "verify", "--database-url", &db_url, "--anchors-from"]).arg(&log);
    for a in &anchors {
        verify.args(["--anchor", a]);
    }
    let out = verify.env_remove("BLINDVAULT_DATABASE_URL").output()?;
    ensure!(
        out.status.success(),
        "audit verify with {} anchors: {}\n{}\nthe server's log:\n{}",
        anchors.len(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    let _ = std::io::stdout().flush();
    Ok(())
}

/// The newest version the server has of `entry`.
async fn current_version(w: &mut World, entry: EntryId) -> anyhow::Result<u32> {
    let path = paths::with_id(paths::BROKER_ENTRY, &entry.to_text());
    let view: EntryView = w.admin.agent.get(&path).await?.ok()?.json()?;
    Ok(u32::try_from(view.version)?)
}

/// A delivery: opened as `run` opens it, holding the value its version was written with, at
/// least the version acknowledged before the request; counted once.
fn check_delivery(w: &World, a: &mut Asked, result: &PollResult) -> anyhow::Result<()> {
    let value = a.consumer.open(result, &w.org.public_key())?;
    let version = version_in(&value)?;
    ensure!(value == value_of(a.entry, version), "{:?}", String::from_utf8_lossy(&value));
    ensure!(
        version >= a.acked_version,
        "released v{version}, older than the acknowledged v{}",
        a.acked_version
    );
    a.delivered += 1;
    ensure!(a.delivered == 1, "request {} delivered twice", a.consumer.id());
    Ok(())
}

/// A seed from the time and the process id (a kill schedule, not a key).
fn rand_seed() -> u64 {
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    (nanos as u64) ^ (u64::from(std::process::id()) << 32)
}
