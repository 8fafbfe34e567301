//! Upgrades from a released database: `tests/fixtures/upgrade/schema-0014/` holds a SQLite
//! database made by the release whose newest migration was 0014 (an org, an approver whose
//! passkey is kept beside it, a sealed secret and a registered host), with what a test needs to
//! act as its people and machines (`world.json`: the org and host keys, the host certificate,
//! the approver's software passkey, the secret, the audit anchor at the time); and the same for
//! PostgreSQL: `postgres.sql` (`pg_dump --inserts` of such a database) with
//! `postgres-world.json`. Today's server opens each, applies every migration made since, and then
//! the chain verifies against the old anchor, the approver signs in with the old passkey and the
//! host is released the old secret.
//!
//! A release that adds a migration keeps these fixtures and adds its own
//! (`cargo test -p blindvault-server --test server upgrade::make_fixture -- --ignored`, with
//! `BLINDVAULT_FIXTURE_OUT` naming the directory to write and `BLINDVAULT_FIXTURE_ENGINE=postgres`
//! for the PostgreSQL half, which runs `pg_dump` — `BLINDVAULT_PG_DUMP` names it if it is not on
//! the path — on the database of `BLINDVAULT_TEST_DATABASE_URL`'s cluster).

use std::path::{Path, PathBuf};

use anyhow::{Context as _, ensure};
use blindvault_api::broker::PollResult;
use blindvault_core::identity::SignedHostCertificate;
use blindvault_core::ids::EntryId;
use blindvault_core::keys::{HostSecretKey, OrgSecretKey};
use blindvault_core::policy::Policy;
use blindvault_core::schedule::KeySchedule;
use blindvault_server::audit::{self, Anchor};
use blindvault_testkit::broker::{Approver, Consumer, World, b64, b64_decode, device_approves, now, os_rng};
use blindvault_testkit::saved::{store_from_json, store_to_json};
use blindvault_testkit::{Backend, Device, ServerOptions, TestDb, TestServer};
use serde_json::{Value, json};

const VALUE: &[u8] = b"the database password kept since the release with migration 0014";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/upgrade")
}

/// Every released SQLite database this build must open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn databases_from_earlier_releases_upgrade_and_release_their_secrets() -> anyhow::Result<()> {
    upgrade_every(Backend::Sqlite).await
}

/// Every released PostgreSQL database (a dump of it) this build must open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_databases_from_earlier_releases_upgrade_and_release_their_secrets() -> anyhow::Result<()> {
    if !Backend::Postgres.available() {
        return Ok(());
    }
    upgrade_every(Backend::Postgres).await
}

async fn upgrade_every(backend: Backend) -> anyhow::Result<()> {
    let mut dirs: Vec<PathBuf> =
        std::fs::read_dir(fixtures())?.map(|e| Ok(e?.path())).collect::<anyhow::Result<_>>()?;
    dirs.sort();
    ensure!(!dirs.is_empty(), "no fixtures in {}", fixtures().display());
    for dir in dirs {
        upgrade_one(&dir, backend)
            .await
            .with_context(|| format!("upgrading {} ({backend:?})", dir.display()))?;
    }
    Ok(())
}

/// Executes a plain `pg_dump` file on a fresh database (its own connection: the dump empties
/// the connection's search path). psql's meta-commands (lines starting with a backslash, such as
/// the `\restrict` newer dumps open with) are psql's, not SQL: they are left out.
async fn load_dump(url: &str, dump: &Path) -> anyhow::Result<()> {
    use sqlx::Connection as _;
    let text = std::fs::read_to_string(dump)?;
    let sql: String = text.lines().filter(|l| !l.starts_with('\\')).flat_map(|l| [l, "\n"]).collect();
    let mut conn = sqlx::postgres::PgConnection::connect(url).await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut conn).await.context("loading the dump")?;
    conn.close().await?;
    Ok(())
}

async fn upgrade_one(fixture: &Path, backend: Backend) -> anyhow::Result<()> {
    let world = match backend {
        Backend::Sqlite => "world.json",
        Backend::Postgres => "postgres-world.json",
    };
    let saved: Value = serde_json::from_slice(&std::fs::read(fixture.join(world))?)?;
    let text = |k: &str| saved.get(k).and_then(Value::as_str).with_context(|| format!("{world}: {k}"));
    // A copy of the released database (the fixture itself is never written).
    let db = TestDb::create(backend).await?;
    match backend {
        Backend::Sqlite => {
            std::fs::copy(fixture.join("blindvault.db"), db.dir.path().join("blindvault.db"))?;
        }
        Backend::Postgres => load_dump(&db.url, &fixture.join("postgres.sql")).await?,
    }
    let before: Vec<i64> = {
        let old = blindvault_server::store::Store::connect(&db.url, 1).await?;
        let v = sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version")
            .fetch_all(old.pool())
            .await?;
        old.close_reader().await;
        v
    };
    // The server's clock at the fixture's time (its certificates and enrolments were issued
    // then), from its first reading: the sweeper's first pass, at start, must not see today's
    // time and delete a challenge the test makes at the fixture's.
    let made_at = saved.get("made_at").and_then(Value::as_i64).context("made_at")?;
    let mut server = TestServer::start(backend).await?;
    let at_fixture = ServerOptions { clock_start: Some(made_at + 60), ..ServerOptions::default() };
    server.restart_on_with(db, at_fixture).await?;
    // Every migration this build has is recorded now: the released ones kept, the newer applied.
    let after: Vec<i64> = sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version")
        .fetch_all(server.state.store.pool())
        .await?;
    ensure!(after.starts_with(&before) && after.len() >= before.len(), "{before:?} → {after:?}");
    let known = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations"))?.count();
    ensure!(after.len() == known, "{} of {known} migrations recorded: {after:?}", after.len());
    // The chain verifies against the anchor kept at release time.
    let anchor: Anchor = text("anchor")?.parse().map_err(|e| anyhow::anyhow!("anchor: {e:?}"))?;
    let report = audit::verify_with_anchors(&server.state.store, std::slice::from_ref(&anchor)).await?;
    ensure!(report.first_bad.is_none(), "{report:?}");

    let org = OrgSecretKey::from_bytes(
        b64_decode(text("org_secret")?)?.try_into().map_err(|_| anyhow::anyhow!("org key"))?,
    );
    let host = HostSecretKey::from_bytes(
        b64_decode(text("host_secret")?)?.try_into().map_err(|_| anyhow::anyhow!("host key"))?,
    );
    let cert = SignedHostCertificate::from_bytes(&b64_decode(text("host_certificate")?)?)?;
    let entry = EntryId::parse(text("entry")?)?;
    let mut device = Device::new();
    device.restore(store_from_json(saved.get("approver_passkeys").context("approver_passkeys")?)?);
    let session = device.login(&server).await.context("the approver signs in with the released passkey")?;
    let keys = KeySchedule::derive(&session.prf);
    let mut approver = Approver { name: "alice".into(), device, session, keys, pinned_org: org.public_key() };
    let (consumer, resp) = Consumer::ask(&server, &host, &cert, entry).await?;
    ensure!(resp.status == 201, "{resp:?}");
    device_approves(&server, &mut approver, &consumer.id()).await?.ok()?;
    let result: PollResult = consumer.poll(&server).await?.ok()?.json()?;
    ensure!(consumer.open(&result, &org.public_key())? == VALUE, "the released secret differs");
    Ok(())
}

/// Writes a fixture of this build's database into `BLINDVAULT_FIXTURE_OUT` (run by hand at a
/// release that adds a migration): SQLite's file and `world.json`, or with
/// `BLINDVAULT_FIXTURE_ENGINE=postgres` a `pg_dump` of a PostgreSQL database and
/// `postgres-world.json`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "makes a fixture; run by hand at a release"]
async fn make_fixture() -> anyhow::Result<()> {
    let out = PathBuf::from(std::env::var("BLINDVAULT_FIXTURE_OUT").context("set BLINDVAULT_FIXTURE_OUT")?);
    let postgres = std::env::var("BLINDVAULT_FIXTURE_ENGINE").is_ok_and(|e| e == "postgres");
    let backend = if postgres { Backend::Postgres } else { Backend::Sqlite };
    std::fs::create_dir_all(&out)?;
    let mut w = World::new(backend, &["alice"]).await?;
    let entry = EntryId::generate(&mut os_rng());
    w.put_secret(entry, 1, Policy::AnyOf { n: 1 }, VALUE).await?;
    let (host, cert) = w.host(&[entry]).await?;
    let anchor = audit::head(&w.server.state.store).await?.context("an audit head")?;
    let made_at = now(&w.server);
    let passkeys = store_to_json(&w.approvers[0].device.snapshot())?;
    // Stopping checkpoints SQLite's write-ahead log: the file alone holds everything.
    w.server.stop_serving().await?;
    if postgres {
        let pg_dump = std::env::var("BLINDVAULT_PG_DUMP").unwrap_or_else(|_| "pg_dump".to_owned());
        let status = std::process::Command::new(&pg_dump)
            .args(["--inserts", "--no-owner", "--no-privileges", "--dbname", &w.server.db.url, "--file"])
            .arg(out.join("postgres.sql"))
            .status()
            .with_context(|| format!("running {pg_dump} (BLINDVAULT_PG_DUMP names it)"))?;
        ensure!(status.success(), "pg_dump: {status}");
    } else {
        std::fs::copy(w.server.db.dir.path().join("blindvault.db"), out.join("blindvault.db"))?;
    }
    let world = json!({
        "made_at": made_at,
        "anchor": anchor.to_string(),
        "org_secret": b64(w.org.expose()),
        "host_secret": b64(host.expose()),
        "host_certificate": b64(&cert.to_bytes()),
        "entry": entry.to_text(),
        "approver_passkeys": passkeys,
    });
    let name = if postgres { "postgres-world.json" } else { "world.json" };
    std::fs::write(out.join(name), serde_json::to_vec_pretty(&world)?)?;
    println!("fixture written to {}", out.display());
    Ok(())
}
