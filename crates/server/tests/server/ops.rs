//! Operations endpoints: `/healthz` answers while the process serves, `/readyz` only while the
//! database answers with a current schema, `/metrics` only when enabled — and then counts
//! requests by route template (never a raw path), open event streams and pending requests.

use anyhow::{Context, ensure};
use blindvault_api::paths;
use blindvault_core::ids::EntryId;
use blindvault_core::policy::Policy;
use blindvault_server::broker::hub::Note;
use blindvault_testkit::broker::{Consumer, World};
use blindvault_testkit::events::EventStream;
use blindvault_testkit::{Backend, ServerOptions, TestServer};

both!(
    healthz_is_alive_and_readyz_needs_the_database_and_a_current_schema,
    metrics_are_off_unless_enabled,
    metrics_count_requests_by_route_streams_and_pending_requests
);

async fn get(server: &TestServer, path: &str) -> anyhow::Result<(u16, String)> {
    let r = reqwest::get(format!("{}{path}", server.base)).await?;
    let status = r.status().as_u16();
    Ok((status, r.text().await?))
}

async fn healthz_is_alive_and_readyz_needs_the_database_and_a_current_schema(
    b: Backend,
) -> anyhow::Result<()> {
    let server = TestServer::start(b).await?;
    ensure!(get(&server, paths::HEALTHZ).await? == (200, "ok\n".to_owned()));
    let (status, body) = get(&server, paths::READYZ).await?;
    let v: serde_json::Value = serde_json::from_str(&body)?;
    ensure!(status == 200 && v["status"] == "ready" && v["database"] == "ok", "{status} {body}");
    let expected = v["schema_expected"].as_i64().context("schema_expected")?;
    ensure!(v["schema_version"].as_i64() == Some(expected) && expected >= 14, "{body}");

    // The schema one migration behind this build (an instance of a newer release started on a
    // database an older one migrated): not ready, saying so.
    sqlx::query("DELETE FROM _sqlx_migrations WHERE version = $1")
        .bind(expected)
        .execute(server.state.store.pool())
        .await?;
    let (status, body) = get(&server, paths::READYZ).await?;
    let v: serde_json::Value = serde_json::from_str(&body)?;
    ensure!(status == 503 && v["status"] == "not_ready", "{status} {body}");
    ensure!(v["schema_version"].as_i64() == Some(expected - 1), "{body}");
    ensure!(v["database"].as_str().is_some_and(|d| d.contains("restart to migrate")), "{body}");

    // The database gone: not ready, but alive.
    server.state.store.pool().close().await;
    let (status, body) = get(&server, paths::READYZ).await?;
    let v: serde_json::Value = serde_json::from_str(&body)?;
    ensure!(
        status == 503 && v["database"] == "unreachable" && v.get("schema_version").is_none(),
        "{status} {body}"
    );
    ensure!(get(&server, paths::HEALTHZ).await?.0 == 200);
    Ok(())
}

async fn metrics_are_off_unless_enabled(b: Backend) -> anyhow::Result<()> {
    let server = TestServer::start(b).await?;
    let (status, body) = get(&server, paths::METRICS).await?;
    ensure!(!body.contains("blindvault_http_requests"), "{status}: metrics served while off");
    Ok(())
}

/// The value of the sample `line_start` (metric name and labels) in an exposition.
fn sample(text: &str, line_start: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(line_start)?.trim().split(' ').next()?.parse().ok())
}

async fn metrics_count_requests_by_route_streams_and_pending_requests(b: Backend) -> anyhow::Result<()> {
    let opts = ServerOptions { metrics: true, ..ServerOptions::default() };
    let mut w = World::new_with(b, &["alice"], opts).await?;
    let entry = EntryId::generate(&mut blindvault_testkit::broker::os_rng());
    w.put_secret(entry, 1, Policy::AnyOf { n: 1 }, b"s").await?;
    let (host, cert) = w.host(&[entry]).await?;
    let (c, created) = Consumer::ask(&w.server, &host, &cert, entry).await?;
    ensure!(created.status == 201, "{created:?}");
    // Three polls of the request's result: counted under the route's template.
    for _ in 0..3 {
        c.poll(&w.server).await?;
    }
    // An event stream held open by alice.
    let mut stream = EventStream::of(&w.server, &w.approvers[0].session.agent).await?;
    stream.read_until("event: ready").await?;

    // A made-up method: counted as `other`, never as a label of its own (each would be held
    // forever).
    let odd = reqwest::Method::from_bytes(b"FLOODMETHOD123")?;
    reqwest::Client::new().request(odd, format!("{}{}", w.server.base, paths::HEALTH)).send().await?;
    let (status, text) = get(&w.server, paths::METRICS).await?;
    ensure!(status == 200, "{status} {text}");
    ensure!(!text.contains("FLOODMETHOD123"), "a client's method became a label:\n{text}");
    ensure!(text.contains(&format!("method=\"other\",route=\"{}\"", paths::HEALTH)), "{text}");
    let result_route = paths::BROKER_REQUEST_RESULT;
    let polls = sample(
        &text,
        &format!("blindvault_http_requests_total{{method=\"GET\",route=\"{result_route}\",status=\"200\"}}"),
    );
    ensure!(polls == Some(3.0), "three polls counted by template: {polls:?}\n{text}");
    ensure!(!text.contains(&c.id()), "no raw path (a request id) in a label");
    ensure!(sample(&text, "blindvault_event_streams ") == Some(1.0), "{text}");
    ensure!(sample(&text, "blindvault_pending_requests ") == Some(1.0), "{text}");
    ensure!(sample(&text, "blindvault_push_queue ").is_some(), "{text}");
    ensure!(sample(&text, "blindvault_audit_head_seq ").is_some_and(|s| s >= 1.0), "{text}");
    // In flight: only the scrape itself (a stream's response has started, so it counts under
    // `event_streams`).
    let scrape = format!("blindvault_http_requests_in_flight{{route=\"{}\"}}", paths::METRICS);
    ensure!(sample(&text, &scrape) == Some(1.0), "{text}");
    ensure!(text.contains("blindvault_http_request_duration_seconds_bucket{"), "{text}");

    // The stream closed by its client: no longer counted (the server notices on its next write
    // or session re-check; the test waits on the condition, bounded).
    drop(stream);
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        // Each note on the hub makes the stream write; a closed connection then ends it.
        w.server.state.hub.local(Note::Request(c.id()));
        let (_, text) = get(&w.server, paths::METRICS).await?;
        if sample(&text, "blindvault_event_streams ") == Some(0.0) {
            break;
        }
        ensure!(tokio::time::Instant::now() < deadline, "the closed stream is still counted:\n{text}");
        tokio::task::yield_now().await;
    }
    Ok(())
}

/// SQLite syncs every commit by default (`synchronous = FULL`: an acknowledged secret write,
/// approval or revocation survives a power loss); `sqlite_synchronous = "normal"` is the
/// operator's explicit choice of speed over the last commits.
#[tokio::test]
async fn sqlite_syncs_every_commit_unless_told_otherwise() -> anyhow::Result<()> {
    use blindvault_server::store::{Store, Synchronous};
    let server = TestServer::start(Backend::Sqlite).await?;
    let level: i64 = sqlx::query_scalar("PRAGMA synchronous").fetch_one(server.state.store.pool()).await?;
    ensure!(level == 2, "the server's connection runs synchronous={level}, not FULL (2)");
    ensure!(blindvault_server::Config::default().sqlite_synchronous == Synchronous::Full);
    let db = blindvault_testkit::TestDb::create(Backend::Sqlite).await?;
    let normal = Store::connect_with(&db.url, 1, Synchronous::Normal).await?;
    let level: i64 = sqlx::query_scalar("PRAGMA synchronous").fetch_one(normal.pool()).await?;
    ensure!(level == 1, "synchronous={level}, not NORMAL (1)");
    let toml: blindvault_server::Config = toml::from_str("sqlite_synchronous = \"normal\"")?;
    ensure!(toml.sqlite_synchronous == Synchronous::Normal);
    ensure!(toml::from_str::<blindvault_server::Config>("sqlite_synchronous = \"off\"").is_err());
    Ok(())
}

/// On PostgreSQL every connection runs READ COMMITTED whatever the cluster's default: the open
/// requests a host has are counted under its row's lock and must see the requests committed
/// before (an instance that read an older snapshot would let a host past its cap).
#[tokio::test]
async fn postgres_connections_read_committed() -> anyhow::Result<()> {
    if !Backend::Postgres.available() {
        return Ok(());
    }
    // A database whose default is SERIALIZABLE.
    let db = blindvault_testkit::TestDb::create(Backend::Postgres).await?;
    let mut admin = <sqlx::postgres::PgConnection as sqlx::Connection>::connect(&db.url).await?;
    let name: String =
        sqlx::query_scalar("SELECT CAST(current_database() AS TEXT)").fetch_one(&mut admin).await?;
    let alter = format!("ALTER DATABASE {name} SET default_transaction_isolation = 'serializable'");
    sqlx::query(sqlx::AssertSqlSafe(alter)).execute(&mut admin).await?;
    sqlx::Connection::close(admin).await?;
    let mut server = TestServer::start(Backend::Sqlite).await?;
    server.restart_on(db).await?;
    let mut tx = server.state.store.pool().begin().await?;
    let level: String = sqlx::query_scalar("SHOW transaction_isolation").fetch_one(&mut *tx).await?;
    ensure!(level == "read committed", "{level}");
    Ok(())
}
