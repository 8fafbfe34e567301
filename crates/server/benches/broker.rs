//! The broker's whole release path with an automated approver, against its floor measured in
//! the same run; and the memory one instance needs to hold 10,000 pending requests with their
//! consumers waiting.
//!
//! `cargo bench -p blindvault-server --bench broker` (`-- --quick` for fewer releases,
//! `-- --no-memory` for the release path alone).
//!
//! * **release**: consumer signs and posts a request and long-polls its result; the approver
//!   phone (passkey-rs with PRF) fetches the request, verifies the chain from its pinned org key,
//!   runs the approval ceremony, opens its envelope and re-seals; the server verifies the
//!   assertion and relays; the consumer opens the response. Embedded SQLite.
//! * **floor**: the same five HTTP round trips as bare `GET /api/health` calls to the same server
//!   (the consumer's two on fresh connections, as in the release), plus the cryptography done
//!   in-process: request signing, the chain verification (server and device), the passkey
//!   assertion (passkey-rs), the server's P-256 signature check, `approve`, `open_response`. One
//!   floor sample follows each release, so both see the same load; the ratio printed is the
//!   median of the per-round ratios (mean/mean and p99/p99 beside it). The P-256 check runs
//!   with the code webauthn-rs 0.6 runs (RustCrypto `p256` 0.14: key from its SEC1 point, DER
//!   signature, verify), like every other primitive in the floor; each sample also times ring's
//!   assembly P-256 on the same signature, and a second ratio against the floor with ring's
//!   figure in its place is printed beside the first (the figure the server would approach if
//!   webauthn-rs verified with ring).
//! * **memory**: 10,000 requests created, then 10,000 consumers long-polling them from a child
//!   process (so sockets on both ends do not share one file-descriptor limit); the server
//!   process's resident memory is read from `/proc/self/status`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::time::{Duration, Instant};

use anyhow::Context;
use blindvault_core::ids::EntryId;
use blindvault_core::policy::Policy;
use blindvault_testkit::broker::{Consumer, World, os_rng};
use blindvault_testkit::{Agent, Backend};

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).map(str::to_owned))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// The floor's fixed parts: a ceremony's options to answer, and a P-256 key for the server's
/// share of the assertion check.
struct FloorKit {
    org: blindvault_core::keys::OrgPublicKey,
    /// The approving device's org-signed enrolment, which the consumer verifies per release.
    enrolment: blindvault_core::identity::SignedEnrolment,
    sealed: blindvault_core::entry::SealedEntry,
    now: u64,
    options: serde_json::Value,
    pk: ring::signature::UnparsedPublicKey<Vec<u8>>,
    /// The same key as an uncompressed SEC1 point (as webauthn-rs builds it from the COSE key).
    pk_sec1: Vec<u8>,
    msg: [u8; 69],
    sig: ring::signature::Signature,
}

/// One P-256 signature check as webauthn-rs 0.6 does it (crypto-glue → RustCrypto `p256`).
fn p256_check(kit: &FloorKit) -> anyhow::Result<()> {
    use p256::ecdsa::signature::Verifier;
    let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(&kit.pk_sec1).map_err(|_| anyhow::anyhow!("key"))?;
    let sig = p256::ecdsa::DerSignature::from_bytes(kit.sig.as_ref()).map_err(|_| anyhow::anyhow!("der"))?;
    key.verify(&kit.msg, &sig).map_err(|_| anyhow::anyhow!("verify"))
}

/// The same check with ring.
fn ring_check(kit: &FloorKit) -> anyhow::Result<()> {
    kit.pk.verify(&kit.msg, kit.sig.as_ref()).map_err(|_| anyhow::anyhow!("verify"))
}

async fn floor_kit(
    w: &mut World,
    entry: EntryId,
    host: &blindvault_core::keys::HostSecretKey,
    cert: &blindvault_core::identity::SignedHostCertificate,
) -> anyhow::Result<FloorKit> {
    use ring::signature::{self, EcdsaKeyPair, KeyPair};
    let list = w.admin.agent.get(&format!("/api/broker/entries/{}", entry.to_text())).await?.ok()?;
    let sealed = blindvault_core::entry::SealedEntry::from_bytes(&blindvault_testkit::broker::unb64(
        &list.body["sealed_entry"],
    ))?;
    // One approval's options, answered repeatedly by the phone (each answer is a fresh signature).
    let (c, _) = Consumer::ask(&w.server, host, cert, entry).await?;
    let start = w.approvers[0]
        .session
        .agent
        .post(&format!("/api/broker/requests/{}/approve/start", c.id()), serde_json::json!({}))
        .await?
        .ok()?;
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
        .map_err(|_| anyhow::anyhow!("keygen"))?;
    let kp = EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng)
        .map_err(|_| anyhow::anyhow!("key"))?;
    let msg = [7u8; 69];
    let sig = kp.sign(&rng, &msg).map_err(|_| anyhow::anyhow!("sign"))?;
    let enrolments = w.admin.agent.get("/api/broker/enrolments").await?.ok()?;
    let mine = w.approvers[0].keys.approver_public();
    let enrolment = enrolments
        .body
        .as_array()
        .context("enrolments")?
        .iter()
        .filter_map(|e| {
            blindvault_core::identity::SignedEnrolment::from_bytes(&blindvault_testkit::broker::unb64(
                &e["signed_enrolment"],
            ))
            .ok()
        })
        .find(|e| e.enrolment.approver_key == mine)
        .context("the first approver's enrolment")?;
    Ok(FloorKit {
        org: w.org.public_key(),
        enrolment,
        sealed,
        now: blindvault_testkit::broker::now(&w.server),
        options: start.body["options"].clone(),
        pk: signature::UnparsedPublicKey::new(
            &signature::ECDSA_P256_SHA256_ASN1,
            kp.public_key().as_ref().to_vec(),
        ),
        pk_sec1: kp.public_key().as_ref().to_vec(),
        msg,
        sig,
    })
}

/// One floor sample: the release's five HTTP round trips as bare `GET /api/health` calls to the
/// same server — the consumer's two on fresh connections (as the consumer's are), the approver's
/// three on its kept-alive one — plus the release's cryptography, in-process: request signing,
/// the chain verification (server and device), the passkey assertion (passkey-rs), the P-256
/// check (as webauthn-rs does it), the key schedule, `approve`, `open_response`. Returns the
/// sample and, apart, the time of its P-256 check and of ring's on the same signature (ms).
async fn floor_once(
    w: &mut World,
    kit: &FloorKit,
    entry: EntryId,
    host: &blindvault_core::keys::HostSecretKey,
    cert: &blindvault_core::identity::SignedHostCertificate,
) -> anyhow::Result<(f64, f64, f64)> {
    use blindvault_core::identity::{Request, verify_request};
    use blindvault_core::ids::RequestId;
    use blindvault_core::keys::EphemeralSecretKey;
    use blindvault_core::release::{approve, open_response};
    let origin = w.server.origin.clone();
    let t = Instant::now();
    let eph = EphemeralSecretKey::generate(&mut os_rng());
    let req = Request {
        request_id: RequestId::generate(&mut os_rng()),
        cert_id: cert.cert.cert_id,
        entry_id: entry,
        ephemeral_key: eph.public_key(),
        issued_at: kit.now,
        expires_at: kit.now + 300,
        nonce: [1; 16],
        min_version: 0,
        poll_token_hash: [0x50; 32],
        purpose: blindvault_core::identity::Purpose::run(&["./migrate.sh"], &["DB"], 900),
    }
    .sign(host)?;
    Agent::new(&w.server.base, None).get("/api/health").await?.ok()?;
    let _server_check = verify_request(&kit.org, cert, &req, kit.now)?;
    let a = &mut w.approvers[0];
    a.session.agent.get("/api/health").await?.ok()?;
    let v = verify_request(&a.pinned_org, cert, &req, kit.now)?;
    a.session.agent.get("/api/health").await?.ok()?;
    let (_cred, prf) = a.device.get(&origin, &kit.options).await?;
    let keys = blindvault_core::schedule::KeySchedule::derive(&prf.context("prf")?);
    let resp = approve(keys.approver_secret(), &v, &kit.sealed, &mut os_rng())?;
    a.session.agent.get("/api/health").await?.ok()?;
    let v = Instant::now();
    p256_check(kit)?;
    let p256_ms = v.elapsed().as_secs_f64() * 1e3;
    Agent::new(&w.server.base, None).get("/api/health").await?.ok()?;
    let vouched = kit.enrolment.verify(&kit.org, kit.now)?;
    std::hint::black_box(open_response(&eph, &req, &resp, &vouched)?);
    let total = t.elapsed().as_secs_f64() * 1e3;
    // ring's check on the same signature, outside the sample.
    let v = Instant::now();
    ring_check(kit)?;
    let ring_ms = v.elapsed().as_secs_f64() * 1e3;
    Ok((total, p256_ms, ring_ms))
}

async fn release_path(quick: bool) -> anyhow::Result<()> {
    use blindvault_testkit::broker::{device_finishes_approval, device_prepares_approval};
    let n = if quick { 30 } else { 200 };
    let mut w = World::new(Backend::Sqlite, &["alice"]).await?;
    let entry = EntryId::generate(&mut os_rng());
    w.put_secret(entry, 1, Policy::AnyOf { n: 1 }, b"benchmark secret").await?;
    let (host, cert) = w.host(&[entry]).await?;
    let kit = floor_kit(&mut w, entry, &host, &cert).await?;

    // Releases and floor samples alternate, so load on a shared machine hits both alike.
    let (mut lat, mut floor, mut ratio) = (Vec::new(), Vec::new(), Vec::new());
    let (mut ring_ratio, mut p256_ms, mut ring_ms) = (Vec::new(), Vec::new(), Vec::new());
    let mut steps: Vec<[f64; 4]> = Vec::new();
    for i in 0..n + 5 {
        let t = Instant::now();
        let (c, _) = Consumer::ask(&w.server, &host, &cert, entry).await?;
        let c = std::sync::Arc::new(c);
        let waiter = c.wait_in_background(&w.server.base, 30);
        let t1 = Instant::now();
        let finish = device_prepares_approval(&w.server, &mut w.approvers[0], &c.id()).await?;
        let t2 = Instant::now();
        device_finishes_approval(&mut w.approvers[0], &c.id(), finish).await?.ok()?;
        let t3 = Instant::now();
        let body = waiter.await??;
        anyhow::ensure!(c.open(&body, &w.org.public_key())? == b"benchmark secret");
        let t4 = Instant::now();
        let (f, p, r) = floor_once(&mut w, &kit, entry, &host, &cert).await?;
        if i >= 5 {
            let ms = |a: Instant, b: Instant| (b - a).as_secs_f64() * 1e3;
            let release = ms(t, t4);
            lat.push(release);
            floor.push(f);
            ratio.push(release / f);
            ring_ratio.push(release / (f - p + r));
            p256_ms.push(p);
            ring_ms.push(r);
            steps.push([ms(t, t1), ms(t1, t2), ms(t2, t3), ms(t3, t4)]);
        }
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let sorted = |v: &[f64]| {
        let mut v = v.to_vec();
        v.sort_by(|a, b| a.total_cmp(b));
        v
    };
    let (lat_s, floor_s, ratio_s) = (sorted(&lat), sorted(&floor), sorted(&ratio));
    println!("release path ({n} sequential releases, SQLite, one approver; each followed by a floor sample)");
    println!(
        "  releases/s {:.1}   p50 {:.2} ms   p99 {:.2} ms   mean {:.2} ms",
        1e3 / mean(&lat),
        pct(&lat_s, 0.5),
        pct(&lat_s, 0.99),
        mean(&lat)
    );
    println!(
        "  floor p50 {:.2} ms   mean {:.2} ms (5 bare round trips, 2 on fresh connections, + the crypto)",
        pct(&floor_s, 0.5),
        mean(&floor)
    );
    let names =
        ["ask (POST request)", "device: view + start + ceremony + seal", "approve/finish", "deliver + open"];
    for (k, name) in names.iter().enumerate() {
        let v = sorted(&steps.iter().map(|s| s[k]).collect::<Vec<_>>());
        println!("    {name:<40} p50 {:.2} ms   p99 {:.2} ms", pct(&v, 0.5), pct(&v, 0.99));
    }
    let r = pct(&ratio_s, 0.5);
    println!(
        "  ratio release/floor: median of per-round ratios {r:.2}, mean/mean {:.2}, p99/p99 {:.2} (target ≤ 2.00) {}",
        mean(&lat) / mean(&floor),
        pct(&lat_s, 0.99) / pct(&floor_s, 0.99),
        if r <= 2.0 { "ok" } else { "ABOVE TARGET" }
    );
    println!(
        "  the server's P-256 check in the floor: p50 {:.3} ms (p256 0.14, as webauthn-rs); ring's p50 {:.3} ms; \
         with ring's figure in the floor the median ratio is {:.2}",
        pct(&sorted(&p256_ms), 0.5),
        pct(&sorted(&ring_ms), 0.5),
        pct(&sorted(&ring_ratio), 0.5)
    );
    Ok(())
}

async fn memory(count: usize) -> anyhow::Result<()> {
    let mut w = World::new(Backend::Sqlite, &["alice"]).await?;
    let entry = EntryId::generate(&mut os_rng());
    w.put_secret(entry, 1, Policy::AnyOf { n: 1 }, b"s").await?;
    let (host, cert) = w.host(&[entry]).await?;
    let before = rss_kib();
    let mut lines = String::new();
    for _ in 0..count {
        let (c, r) = Consumer::ask(&w.server, &host, &cert, entry).await?;
        anyhow::ensure!(r.status == 201, "{r:?}");
        lines.push_str(&format!("{} {}\n", c.id(), c.token));
    }
    let list = std::env::temp_dir().join(format!("bv-bench-{}.txt", std::process::id()));
    std::fs::write(&list, lines)?;
    let created = rss_kib();
    // The consumers, in a child process.
    let mut child = std::process::Command::new(std::env::current_exe()?)
        .arg("--consumers")
        .arg(&w.server.base)
        .arg(&list)
        .stdout(std::process::Stdio::piped())
        .spawn()?;
    let stdout = child.stdout.take().context("child stdout")?;
    let ready = tokio::task::spawn_blocking(move || {
        use std::io::BufRead;
        let mut line = String::new();
        let _ = std::io::BufReader::new(stdout).read_line(&mut line);
        line
    });
    let ready_line = tokio::time::timeout(Duration::from_secs(120), ready).await??;
    // Let every poll reach the server and settle into waiting.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let waiting = rss_kib();
    let pending: i64 = {
        use sqlx::Row;
        sqlx::query("SELECT COUNT(*) AS n FROM broker_requests WHERE status = 'pending'")
            .fetch_one(w.server.state.store.pool())
            .await?
            .try_get("n")?
    };
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_file(&list);
    println!("memory ({count} pending requests, consumers waiting: {})", ready_line.trim());
    println!(
        "  server process RSS: {:.1} MiB before, {:.1} MiB with the requests, {:.1} MiB with every consumer waiting; pending rows {pending}",
        before as f64 / 1024.0,
        created as f64 / 1024.0,
        waiting as f64 / 1024.0
    );
    let mib = waiting as f64 / 1024.0;
    println!("  target < 512 MiB: {}", if mib < 512.0 { "ok" } else { "ABOVE TARGET" });
    Ok(())
}

/// Child mode: hold one long-poll per line of `list` open against `base`, re-polling forever.
async fn consumers(base: String, list: std::path::PathBuf) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(list)?;
    let http = reqwest::Client::builder().pool_max_idle_per_host(0).build()?;
    let mut tasks = Vec::new();
    for line in text.lines() {
        let (id, token) = line.split_once(' ').context("line")?;
        let (http, base, id, token) = (http.clone(), base.clone(), id.to_owned(), token.to_owned());
        tasks.push(tokio::spawn(async move {
            loop {
                let r = http
                    .get(format!("{base}/api/broker/requests/{id}/result?wait=30"))
                    .header("x-blindvault-poll", &token)
                    .send()
                    .await;
                if r.is_err() {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }));
        tokio::task::yield_now().await;
    }
    println!("{} consumers started", tasks.len());
    for t in tasks {
        let _ = t.await;
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    if let Some(i) = args.iter().position(|a| a == "--consumers") {
        let base = args.get(i + 1).context("base")?.clone();
        let list = std::path::PathBuf::from(args.get(i + 2).context("list")?);
        return rt.block_on(consumers(base, list));
    }
    let quick = args.iter().any(|a| a == "--quick");
    if std::env::var_os("BV_TRACE").is_some() {
        tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).init();
    }
    rt.block_on(async {
        release_path(quick).await?;
        if args.iter().any(|a| a == "--no-memory") {
            return Ok(());
        }
        memory(if quick { 2_000 } else { 10_000 }).await
    })
}
