//! Logins at scale: two `blindvault serve` processes on one PostgreSQL database, 64 clients
//! (each its own account and passkey) signing in at once, half at each instance — beside the
//! bare webauthn-rs verification rate measured in the same run on every core of the machine.
//!
//! A login is two calls: `login/start` (the server stores a single-use challenge) and
//! `login/finish` (it takes the challenge, finds the passkey, verifies the assertion with
//! webauthn-rs, records the counter, and commits the session with its audit row). The clients'
//! own work — the authenticator's P-256 signature — runs between the two, untimed, so the
//! figures are the servers' (the clients share the machine's cores with both servers). Each round
//! every client starts `BATCH` logins, signs them, then finishes them in order (a passkey's
//! counter only goes up).
//!
//! Printed: logins/s (start and finish), finishes/s, their p50/p99, the database transactions
//! and rows each login costs (PostgreSQL's own counters), for each pool size in
//! `BLINDVAULT_LOGIN_POOLS` (default `8,32`: the default pool, then a larger one).
//!
//! `BLINDVAULT_TEST_DATABASE_URL=postgres://… cargo bench -p blindvault-cli --bench logins`
//! (`BLINDVAULT_LOGIN_CLIENTS`, default 64; `BLINDVAULT_LOGIN_ROUNDS`, default 8).

#![allow(clippy::indexing_slicing)]

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, ensure};
use blindvault_api::ceremony::CeremonyStart;
use blindvault_api::paths;
use blindvault_testkit::bench::{env_usize, main_on_postgres, percentile};
use blindvault_testkit::process::ServerProcess;
use blindvault_testkit::{Agent, Backend, Device, TestServer};
use serde_json::{Value, json};
use tokio::sync::Mutex;
use webauthn_rs::prelude::{DiscoverableAuthentication, Passkey, PublicKeyCredential};

const BATCH: usize = 4;

/// webauthn-rs `finish_discoverable_authentication_v2` on one real assertion, verified over and
/// over on `threads` threads at once for `budget`: verifications per second, all threads together.
fn webauthn_rate(
    server: &TestServer,
    cred: &PublicKeyCredential,
    auth: &DiscoverableAuthentication,
    passkey: &Passkey,
    threads: usize,
    budget: Duration,
) -> anyhow::Result<f64> {
    let start = Instant::now();
    let counts = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| -> anyhow::Result<u64> {
                    let mut n = 0u64;
                    while start.elapsed() < budget {
                        server
                            .state
                            .rp
                            .webauthn
                            .finish_discoverable_authentication_v2(cred, auth.clone(), passkey)
                            .context("webauthn verify")?;
                        n += 1;
                    }
                    Ok(n)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().map_err(|_| anyhow::anyhow!("thread"))?).collect::<Vec<_>>()
    });
    let mut total = 0;
    for c in counts {
        total += c?;
    }
    Ok(total as f64 / start.elapsed().as_secs_f64())
}

/// PostgreSQL's counters for the database: committed transactions and rows written.
async fn db_counters(pool: &sqlx::AnyPool) -> anyhow::Result<[i64; 4]> {
    // The statistics a backend reports reach the view at most once a second, and a snapshot
    // taken in a transaction is cached: a fresh one each call.
    sqlx::query("SELECT pg_stat_clear_snapshot()").execute(pool).await?;
    let row: (i64, i64, i64, i64) = sqlx::query_as(
        "SELECT xact_commit::BIGINT, tup_inserted::BIGINT, tup_updated::BIGINT, tup_deleted::BIGINT \
         FROM pg_stat_database WHERE datname = current_database()",
    )
    .fetch_one(pool)
    .await?;
    Ok([row.0, row.1, row.2, row.3])
}

/// CPU time (user + system, in clock ticks) of process `pid`, all its threads.
fn cpu_ticks(pid: u32) -> u64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return 0 };
    // After the command name (which may hold spaces, in parentheses): state is field 3, utime 14.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let at = |i: usize| f.get(i - 3).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    at(14) + at(15)
}

/// CPU time of every PostgreSQL process on the machine (the cluster's backends and helpers).
fn postgres_ticks() -> u64 {
    let Ok(dir) = std::fs::read_dir("/proc") else { return 0 };
    dir.filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()))
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == "postgres")
        })
        .map(cpu_ticks)
        .sum()
}

/// CPU ticks of the two servers, PostgreSQL, and this process (the clients), in that order.
fn cpu_now(servers: [u32; 2]) -> [u64; 3] {
    [cpu_ticks(servers[0]) + cpu_ticks(servers[1]), postgres_ticks(), cpu_ticks(std::process::id())]
}

/// One client: its passkey and its connection to the instance it signs in at.
struct Client {
    device: Device,
    agent: Agent,
}

struct Round {
    /// Time spent in the start calls and the finish calls, all clients at once.
    start: Duration,
    finish: Duration,
    latencies: Vec<Duration>,
    /// CPU ticks spent during the finishes: servers, PostgreSQL, clients.
    finish_cpu: [u64; 3],
}

/// One round: every client starts `BATCH` logins (all clients at once), signs them, then
/// finishes them (all clients at once, each in order).
async fn round(
    clients: &[Arc<Mutex<Client>>],
    origin: &url::Url,
    servers: [u32; 2],
) -> anyhow::Result<Round> {
    let t = Instant::now();
    let mut starts = Vec::new();
    for c in clients {
        let c = c.clone();
        starts.push(tokio::spawn(async move {
            let mut c = c.lock().await;
            let mut got = Vec::with_capacity(BATCH);
            for _ in 0..BATCH {
                let s: CeremonyStart = c.agent.post(paths::LOGIN_START, json!({})).await?.ok()?.json()?;
                got.push(s);
            }
            anyhow::Ok(got)
        }));
    }
    let mut started = Vec::new();
    for s in starts {
        started.push(s.await??);
    }
    let start = t.elapsed();
    // The authenticators sign (the clients' work, not timed).
    let mut signed: Vec<Vec<Value>> = Vec::new();
    for (c, batch) in clients.iter().zip(started) {
        let mut c = c.lock().await;
        let mut answers = Vec::with_capacity(BATCH);
        for s in batch {
            let (credential, _) = c.device.get(origin, &s.options).await?;
            answers.push(json!({ "ceremony_id": s.ceremony_id, "credential": credential }));
        }
        signed.push(answers);
    }
    let (t, cpu) = (Instant::now(), cpu_now(servers));
    let mut finishes = Vec::new();
    for (c, answers) in clients.iter().zip(signed) {
        let c = c.clone();
        finishes.push(tokio::spawn(async move {
            let mut c = c.lock().await;
            let mut lat = Vec::with_capacity(BATCH);
            for body in answers {
                // A fresh sign-in each time (no session to extend).
                c.agent.token = None;
                let one = Instant::now();
                let r = c.agent.post(paths::LOGIN_FINISH, body).await?;
                ensure!(r.status == 200, "login: {r:?}");
                lat.push(one.elapsed());
            }
            anyhow::Ok(lat)
        }));
    }
    let mut latencies = Vec::new();
    for f in finishes {
        latencies.extend(f.await??);
    }
    let finish = t.elapsed();
    let after = cpu_now(servers);
    let finish_cpu = [after[0] - cpu[0], after[1] - cpu[1], after[2] - cpu[2]];
    Ok(Round { start, finish, latencies, finish_cpu })
}

async fn run() -> anyhow::Result<()> {
    let n_clients = env_usize("BLINDVAULT_LOGIN_CLIENTS", 64);
    let rounds = env_usize("BLINDVAULT_LOGIN_ROUNDS", 8);
    let pools: Vec<u32> = std::env::var("BLINDVAULT_LOGIN_POOLS")
        .unwrap_or_else(|_| "8,32".into())
        .split(',')
        .filter_map(|p| p.trim().parse().ok())
        .collect();
    let cores = std::thread::available_parallelism().map_or(1, usize::from);

    let mut server = TestServer::start(Backend::Postgres).await?;
    let mut devices = Vec::with_capacity(n_clients);
    for i in 0..n_clients {
        let mut d = Device::new();
        d.register(&server, &format!("client-{i}")).await?;
        devices.push(d);
    }

    // The floor: webauthn-rs alone on a real assertion, on one core and on every core.
    let (rcr, auth) = server.state.rp.webauthn.start_discoverable_authentication()?;
    let options = server.state.rp.patch_options(&rcr, false).map_err(|e| anyhow::anyhow!("{}", e.message))?;
    let (cred, _) = devices[0].get(&server.origin, &options).await?;
    let cred: PublicKeyCredential = serde_json::from_value(cred)?;
    let rows: Vec<String> =
        sqlx::query_scalar("SELECT passkey FROM credentials").fetch_all(server.state.store.pool()).await?;
    let passkey = rows
        .iter()
        .filter_map(|r| serde_json::from_str::<Passkey>(r).ok())
        .find(|p| p.cred_id() == &cred.raw_id)
        .context("the first client's passkey")?;
    let budget = Duration::from_secs(3);
    let one_core = webauthn_rate(&server, &cred, &auth, &passkey, 1, budget)?;
    let all_cores = webauthn_rate(&server, &cred, &auth, &passkey, cores, budget)?;

    // Two server processes on the database: A at the in-process server's address, B beside it.
    let addr_a = server.stop_serving().await?;
    let addr_b = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    let origin = server.origin.origin().ascii_serialization();
    let (url, dir) = (server.db.url.clone(), server.db.dir.path().to_owned());
    let bin = Path::new(env!("CARGO_BIN_EXE_blindvault"));
    // Stopping the in-process server closed its pool: the counters are read on a pool of their own.
    let stats = sqlx::any::AnyPoolOptions::new().max_connections(1).connect(&url).await?;

    println!(
        "logins at scale: two instances on PostgreSQL, {n_clients} clients signing in at once ({BATCH} logins each per round, {rounds} rounds)"
    );
    println!(
        "floor: webauthn-rs assertion verify   {one_core:>8.0} /s on 1 core   {all_cores:>8.0} /s on all {cores} cores"
    );
    let clients: Vec<Arc<Mutex<Client>>> = devices
        .into_iter()
        .map(|device| {
            Arc::new(Mutex::new(Client { device, agent: Agent::new(&origin, Some(origin.clone())) }))
        })
        .collect();
    for pool in pools {
        let log = |name: &str| dir.join(format!("{name}-{pool}.log"));
        let mut a = ServerProcess::new(bin, addr_a, &origin, &url, &dir, &log("a"));
        let mut b = ServerProcess::new(bin, addr_b, &origin, &url, &dir, &log("b"));
        a.arg("--max-db-connections", &pool.to_string());
        b.arg("--max-db-connections", &pool.to_string());
        a.start()?;
        b.start()?;
        a.wait_ready().await?;
        b.wait_ready().await?;
        let bases = [a.base.clone(), b.base.clone()];
        for (i, c) in clients.iter().enumerate() {
            c.lock().await.agent = Agent::new(&bases[i % 2], Some(origin.clone()));
        }
        let servers = [a.pid().context("A")?, b.pid().context("B")?];
        // One warm-up round (connections opened, pages cached), then the measured ones.
        round(&clients, &server.origin, servers).await?;
        let before = db_counters(&stats).await?;
        let (mut start, mut finish, mut latencies) = (Duration::ZERO, Duration::ZERO, Vec::new());
        let mut cpu = [0u64; 3];
        for _ in 0..rounds {
            let r = round(&clients, &server.origin, servers).await?;
            start += r.start;
            finish += r.finish;
            latencies.extend(r.latencies);
            for (total, part) in cpu.iter_mut().zip(r.finish_cpu) {
                *total += part;
            }
        }
        // The statistics collector publishes a backend's counters within a second or so.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let after = db_counters(&stats).await?;
        a.kill()?;
        b.kill()?;
        latencies.sort();
        let logins = (n_clients * BATCH * rounds) as f64;
        let per = |i: usize| (after[i] - before[i]) as f64 / logins;
        let full = logins / (start + finish).as_secs_f64();
        println!("pool of {pool} connections per instance:");
        println!(
            "  logins (start + finish)   {full:>8.0} /s   ratio to webauthn-rs on all cores {:.3}",
            full / all_cores
        );
        println!(
            "  finishes alone            {:>8.0} /s   ratio {:.3}   p50 {:.1} ms  p99 {:.1} ms",
            logins / finish.as_secs_f64(),
            logins / finish.as_secs_f64() / all_cores,
            percentile(&latencies, 0.5).as_secs_f64() * 1e3,
            percentile(&latencies, 0.99).as_secs_f64() * 1e3
        );
        println!("  starts alone              {:>8.0} /s", logins / start.as_secs_f64());
        // Clock ticks are 1/100 s on Linux (USER_HZ).
        let ms = |ticks: u64| ticks as f64 * 10.0 / logins;
        println!(
            "  CPU per finish: servers {:.2} ms, PostgreSQL {:.2} ms, clients {:.2} ms (webauthn-rs's verify alone: {:.2} ms)",
            ms(cpu[0]),
            ms(cpu[1]),
            ms(cpu[2]),
            1e3 / one_core
        );
        println!(
            "  per login: {:.2} transactions, {:.2} rows inserted, {:.2} updated, {:.2} deleted (PostgreSQL's counters)",
            per(0),
            per(1),
            per(2),
            per(3)
        );
    }
    let (pg_fsync,): (String,) = sqlx::query_as("SHOW fsync").fetch_one(&stats).await?;
    println!(
        "PostgreSQL fsync = {pg_fsync} (the test cluster's setting; a production one syncs each commit)"
    );
    Ok(())
}

fn main() -> anyhow::Result<()> {
    main_on_postgres("logins", run)
}
