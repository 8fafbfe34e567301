//! Databases made before the schema moved to sqlx's migrator: the project's own runner recorded
//! versions 1..8 in `schema_migrations`. Such a database opens under the new server with its
//! data intact, its versions recorded in `_sqlx_migrations` once and nothing run twice; an older
//! one gets only the migrations it lacks. The old runner's statements are kept here as they were
//! (store.rs and broker/mod.rs before the move), as the fixture that builds those databases.

use std::sync::Arc;

use anyhow::{Context, ensure};
use blindvault_server::audit::{self, Event};
use blindvault_server::store::{Engine, Store};
use blindvault_testkit::{Backend, TestDb};
use serde_json::json;
use sqlx::Row;

/// The migrations made after the old runner's last (8), in order.
const AFTER_OLD_RUNNER: &[i64] = &[9, 10, 11, 12, 13, 14];
both!(
    a_database_from_the_old_runner_opens_with_its_data_and_nothing_rerun,
    an_older_database_gets_only_the_migrations_it_lacks,
    old_and_new_runner_make_the_same_schema,
    instances_opening_together_migrate_once
);

const OLD_MIGRATIONS: &[(i64, &[&str])] = &[
    (
        1,
        &[
            "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
            "CREATE TABLE users (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, display_name TEXT NOT NULL, \
         role TEXT NOT NULL, created_at BIGINT NOT NULL)",
            "CREATE TABLE credentials (id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE, \
         name TEXT NOT NULL, passkey TEXT NOT NULL, sign_count BIGINT NOT NULL, backup_eligible BIGINT NOT NULL, \
         backup_state BIGINT NOT NULL, created_at BIGINT NOT NULL, last_used_at BIGINT)",
            "CREATE INDEX credentials_user ON credentials (user_id)",
            "CREATE TABLE ceremonies (id TEXT PRIMARY KEY, kind TEXT NOT NULL, user_id TEXT, state TEXT NOT NULL, \
         expires_at BIGINT NOT NULL)",
            "CREATE TABLE sessions (id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE, \
         created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL, revoked_at BIGINT, client_addr TEXT)",
            "CREATE INDEX sessions_user ON sessions (user_id)",
            "CREATE TABLE audit_log (seq BIGINT PRIMARY KEY, at BIGINT NOT NULL, actor TEXT, action TEXT NOT NULL, \
         target TEXT, detail TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL)",
            "CREATE TABLE audit_head (id BIGINT PRIMARY KEY, seq BIGINT NOT NULL, hash TEXT NOT NULL)",
            "INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, \
         '0000000000000000000000000000000000000000000000000000000000000000')",
        ],
    ),
    (2, OLD_SCHEMA),
    (3, OLD_SCHEMA_3),
    // The sweeper deletes stale challenges every few seconds: by index, not a scan of a table
    // that anyone can grow (rate-limited) with `login/start`.
    (4, &["CREATE INDEX ceremonies_expires ON ceremonies (expires_at)"]),
    // Invite-only registration: single-use codes, stored as their SHA-256.
    (
        5,
        &["CREATE TABLE invites (id TEXT PRIMARY KEY, code_hash TEXT NOT NULL UNIQUE, role TEXT NOT NULL, \
         created_by TEXT NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL, used_by TEXT, used_at BIGINT, \
         revoked_at BIGINT)"],
    ),
    // Step-up: a fresh assertion bound to one destructive action and its target (`stepup`).
    (
        6,
        &[
            "CREATE TABLE step_ups (id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE, \
         action TEXT NOT NULL, target TEXT NOT NULL, options TEXT NOT NULL, state TEXT, created_at BIGINT NOT NULL, \
         expires_at BIGINT NOT NULL, confirmed_at BIGINT, credential_id TEXT, used_at BIGINT, cancelled_at BIGINT)",
            "CREATE INDEX step_ups_expires ON step_ups (expires_at)",
        ],
    ),
    (7, OLD_SCHEMA_7),
    // The org-signed revocation record: one row, the newest (the server stores and relays it; it
    // cannot make one).
    (
        8,
        &[
            "CREATE TABLE broker_revocations (id BIGINT PRIMARY KEY, epoch BIGINT NOT NULL, record TEXT NOT NULL, \
         set_at BIGINT NOT NULL, set_by TEXT NOT NULL)",
        ],
    ),
];

const OLD_SCHEMA: &[&str] = &[
    "CREATE TABLE broker_org (id BIGINT PRIMARY KEY, public_key TEXT NOT NULL, fingerprint TEXT NOT NULL, \
     generation BIGINT NOT NULL, set_at BIGINT NOT NULL, set_by TEXT NOT NULL)",
    "CREATE TABLE broker_enrolments (id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE, \
     credential_id TEXT NOT NULL UNIQUE, approver_key TEXT NOT NULL, status TEXT NOT NULL, signed TEXT, \
     org_generation BIGINT, created_at BIGINT NOT NULL, decided_at BIGINT)",
    "CREATE INDEX broker_enrolments_key ON broker_enrolments (approver_key)",
    "CREATE TABLE broker_hosts (cert_id TEXT PRIMARY KEY, host_name TEXT NOT NULL, host_key TEXT NOT NULL, \
     certificate TEXT NOT NULL, not_after BIGINT NOT NULL, issued_by TEXT NOT NULL, created_at BIGINT NOT NULL, \
     revoked_at BIGINT)",
    "CREATE TABLE broker_entries (entry_id TEXT NOT NULL, version BIGINT NOT NULL, threshold BIGINT NOT NULL, \
     people BIGINT NOT NULL, sealed TEXT NOT NULL, allow_self_approval BIGINT NOT NULL, created_by TEXT NOT NULL, \
     created_at BIGINT NOT NULL, PRIMARY KEY (entry_id, version))",
    "CREATE TABLE broker_entry_heads (entry_id TEXT PRIMARY KEY, version BIGINT NOT NULL, deleted_at BIGINT)",
    "CREATE TABLE broker_entry_devices (entry_id TEXT NOT NULL, version BIGINT NOT NULL, approver_key TEXT NOT NULL, \
     PRIMARY KEY (entry_id, version, approver_key))",
    "CREATE TABLE broker_requests (request_id TEXT PRIMARY KEY, entry_id TEXT NOT NULL, version BIGINT NOT NULL, \
     cert_id TEXT NOT NULL, signed TEXT NOT NULL, status TEXT NOT NULL, poll_hash TEXT NOT NULL, \
     threshold BIGINT NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL, decided_at BIGINT, \
     delivered_at BIGINT, decided_by TEXT)",
    "CREATE INDEX broker_requests_status ON broker_requests (status, expires_at)",
    "CREATE TABLE broker_approvals (request_id TEXT NOT NULL, user_id TEXT NOT NULL, credential_id TEXT NOT NULL, \
     approver_key TEXT NOT NULL, decision TEXT NOT NULL, at BIGINT NOT NULL, PRIMARY KEY (request_id, user_id))",
    "CREATE TABLE broker_responses (request_id TEXT NOT NULL, user_id TEXT NOT NULL, sealed TEXT NOT NULL, \
     PRIMARY KEY (request_id, user_id))",
];
const OLD_SCHEMA_3: &[&str] = &[
    "ALTER TABLE broker_requests ADD COLUMN approvals BIGINT NOT NULL DEFAULT 0",
    "ALTER TABLE broker_requests ADD COLUMN non_issuer_approvals BIGINT NOT NULL DEFAULT 0",
    "UPDATE broker_requests SET \
     approvals = (SELECT COUNT(*) FROM broker_approvals a WHERE a.request_id = broker_requests.request_id AND a.decision = 'approve'), \
     non_issuer_approvals = (SELECT COUNT(*) FROM broker_approvals a JOIN broker_hosts h ON h.cert_id = broker_requests.cert_id \
       WHERE a.request_id = broker_requests.request_id AND a.decision = 'approve' AND a.user_id <> h.issued_by)",
];
const OLD_SCHEMA_7: &[&str] = &["ALTER TABLE broker_hosts ADD COLUMN self_approval BIGINT"];

/// The old runner: in one transaction (on PostgreSQL under its advisory lock), every version up
/// to `upto` that `schema_migrations` does not record, in order.
async fn old_runner(store: &Store, upto: i64) -> anyhow::Result<()> {
    let mut tx = store.pool().begin().await?;
    if store.engine() == Engine::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock(7242001)").execute(&mut *tx).await?;
    }
    sqlx::query("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY)")
        .execute(&mut *tx)
        .await?;
    for (version, statements) in OLD_MIGRATIONS.iter().filter(|(v, _)| *v <= upto) {
        for stmt in *statements {
            sqlx::query(*stmt).execute(&mut *tx).await?;
        }
        sqlx::query("INSERT INTO schema_migrations (version) VALUES ($1)")
            .bind(*version)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

fn config(db: &TestDb) -> blindvault_server::Config {
    blindvault_server::Config {
        data_dir: db.dir.path().to_owned(),
        database_url: Some(db.url.clone()),
        ..blindvault_server::Config::default()
    }
}

async fn open(db: &TestDb) -> anyhow::Result<blindvault_server::Server> {
    let clock = Arc::new(blindvault_server::ManualClock::new());
    Ok(blindvault_server::Server::open(config(db), clock).await?.0)
}

/// `(version, execution_time)` of every migration sqlx's table records as applied.
async fn recorded(store: &Store) -> anyhow::Result<Vec<(i64, i64)>> {
    let rows = sqlx::query(
        "SELECT version, execution_time FROM _sqlx_migrations WHERE success = $1 ORDER BY version",
    )
    .bind(true)
    .fetch_all(store.pool())
    .await?;
    rows.iter().map(|r| Ok((r.try_get("version")?, r.try_get("execution_time")?))).collect()
}

async fn a_database_from_the_old_runner_opens_with_its_data_and_nothing_rerun(
    b: Backend,
) -> anyhow::Result<()> {
    let db = TestDb::create(b).await?;
    let old = Store::connect(&db.url, 1).await?;
    old_runner(&old, 8).await?;
    // Data written under the old schema: a user, a revocation record (migration 8's table), an
    // audit row.
    sqlx::query("INSERT INTO users (id, name, display_name, role, created_at) VALUES ('u1', 'alice', 'Alice', 'admin', 5)")
        .execute(old.pool())
        .await?;
    sqlx::query(
        "INSERT INTO broker_revocations (id, epoch, record, set_at, set_by) VALUES (1, 3, 'rec', 6, 'u1')",
    )
    .execute(old.pool())
    .await?;
    audit::append(&old, 7, Event { actor: Some("u1"), action: "test.old", target: None, detail: json!({}) })
        .await?;
    old.close().await;

    let server = open(&db).await?;
    let store = &server.state().store;
    let name: String = sqlx::query("SELECT name FROM users WHERE id = 'u1'")
        .fetch_one(store.pool())
        .await?
        .try_get("name")?;
    ensure!(name == "alice");
    let epoch: i64 = sqlx::query("SELECT epoch FROM broker_revocations WHERE id = 1")
        .fetch_one(store.pool())
        .await?
        .try_get("epoch")?;
    ensure!(epoch == 3);
    let report = audit::verify(store).await?;
    ensure!(report.first_bad.is_none() && report.rows == 1, "{report:?}");
    // Every old version recorded as skipped (execution_time -1: marked applied, not run), with
    // the checksum the migrator checks (it refuses to start on a mismatch).
    let versions = recorded(store).await?;
    // Then the migrations made after the old runner (9 on) run once.
    let (bridged, after) = versions.split_at(versions.len().min(8));
    ensure!(bridged == (1..=8).map(|v| (v, -1)).collect::<Vec<_>>(), "{versions:?}");
    ensure!(
        after.iter().map(|a| a.0).eq(AFTER_OLD_RUNNER.iter().copied()) && after.iter().all(|a| a.1 >= 0),
        "{versions:?}"
    );
    // The old table is left as it was.
    let old_versions: i64 = sqlx::query("SELECT COUNT(*) AS n FROM schema_migrations")
        .fetch_one(store.pool())
        .await?
        .try_get("n")?;
    ensure!(old_versions == 8);
    // Opening again bridges nothing and runs nothing.
    store.migrate().await?;
    ensure!(recorded(store).await? == versions);
    drop(server);
    let again = open(&db).await?;
    ensure!(recorded(&again.state().store).await? == versions);
    Ok(())
}

/// A database from a build that had run versions 1..5: those are bridged, 6 on applied.
async fn an_older_database_gets_only_the_migrations_it_lacks(b: Backend) -> anyhow::Result<()> {
    let db = TestDb::create(b).await?;
    let old = Store::connect(&db.url, 1).await?;
    old_runner(&old, 5).await?;
    sqlx::query("INSERT INTO settings (key, value) VALUES ('kept', 'yes')").execute(old.pool()).await?;
    old.close().await;
    let server = open(&db).await?;
    let store = &server.state().store;
    ensure!(store.setting("kept").await?.as_deref() == Some("yes"));
    let versions = recorded(store).await?;
    let skipped: Vec<i64> = versions.iter().filter(|(_, t)| *t == -1).map(|(v, _)| *v).collect();
    let applied: Vec<i64> = versions.iter().filter(|(_, t)| *t >= 0).map(|(v, _)| *v).collect();
    ensure!(
        skipped == [1, 2, 3, 4, 5] && applied == [[6, 7, 8].as_slice(), AFTER_OLD_RUNNER].concat(),
        "{versions:?}"
    );
    sqlx::query("SELECT self_approval FROM broker_hosts")
        .fetch_all(store.pool())
        .await
        .context("migration 7")?;
    Ok(())
}

/// Tables, columns and indexes of a database (names only, sorted).
async fn schema_of(store: &Store) -> anyhow::Result<Vec<String>> {
    let q = match store.engine() {
        Engine::Sqlite => {
            "SELECT m.name || '.' || p.name AS n FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT IN ('schema_migrations', '_sqlx_migrations') \
             UNION SELECT 'index ' || name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%'"
        }
        Engine::Postgres => {
            "SELECT table_name || '.' || column_name AS n FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name NOT IN ('schema_migrations', '_sqlx_migrations') \
             UNION SELECT 'index ' || indexname FROM pg_indexes WHERE schemaname = current_schema() \
             AND indexname NOT LIKE '%_pkey' AND indexname NOT LIKE '%_key'"
        }
    };
    let mut names: Vec<String> = sqlx::query(q)
        .fetch_all(store.pool())
        .await?
        .iter()
        .map(|r| r.try_get("n"))
        .collect::<Result<_, _>>()?;
    names.sort();
    Ok(names)
}

/// The `.sql` files hold the old runner's statements: both make the same tables, columns and
/// indexes.
async fn old_and_new_runner_make_the_same_schema(b: Backend) -> anyhow::Result<()> {
    let old_db = TestDb::create(b).await?;
    let old = Store::connect(&old_db.url, 1).await?;
    old_runner(&old, 8).await?;
    let new_db = TestDb::create(b).await?;
    let server = open(&new_db).await?;
    let (a, mut b2) = (schema_of(&old).await?, schema_of(&server.state().store).await?);
    // What the migrations after the old runner's last add: 9 and 10, the wallet's tables; 11,
    // command-line tokens; 12, push; 13, a delivered request's lease; 14, a step-up's starter.
    let lease = [
        "broker_requests.lease_secs",
        "broker_requests.lease_ends_at",
        "broker_requests.ended_at",
        "broker_requests.ended_by",
    ];
    let later = |n: &String| {
        n.starts_with("wallet_")
            || n.starts_with("index wallet_")
            || n.starts_with("api_tokens")
            || n == "index api_tokens_user"
            || n.starts_with("push_")
            || n.starts_with("index push_")
            || n == "step_ups.started_by"
            || lease.contains(&n.as_str())
    };
    ensure!(b2.iter().filter(|n| later(n)).count() > 20);
    b2.retain(|n| !later(n));
    ensure!(a.len() > 80 && a == b2, "old {a:?}\nnew {b2:?}");
    Ok(())
}

/// Instances starting together on one database (a fresh one, and one from the old runner) take
/// turns: every one opens, and each migration is recorded once.
async fn instances_opening_together_migrate_once(b: Backend) -> anyhow::Result<()> {
    for from_old_runner in [false, true] {
        let db = TestDb::create(b).await?;
        if from_old_runner {
            let old = Store::connect(&db.url, 1).await?;
            old_runner(&old, 8).await?;
            old.close().await;
        }
        let opens: Vec<_> = (0..3)
            .map(|_| {
                let config = config(&db);
                async move {
                    let clock = Arc::new(blindvault_server::ManualClock::new());
                    Ok(blindvault_server::Server::open(config, clock).await?.0)
                }
            })
            .collect();
        let mut servers = Vec::new();
        for r in futures_join(opens).await {
            servers.push(
                r.with_context(|| format!("an instance failed to open (old runner: {from_old_runner})"))?,
            );
        }
        let versions = recorded(&servers[0].state().store).await?;
        let numbers: Vec<i64> = versions.iter().map(|(v, _)| *v).collect();
        ensure!(
            numbers == (1..=8).chain(AFTER_OLD_RUNNER.iter().copied()).collect::<Vec<_>>(),
            "old runner {from_old_runner}: {versions:?}"
        );
    }
    Ok(())
}

/// Runs the futures at once (each on its own task) and collects their results in order.
async fn futures_join<F, T>(futures: Vec<F>) -> Vec<anyhow::Result<T>>
where
    F: std::future::Future<Output = anyhow::Result<T>> + Send + 'static,
    T: Send + 'static,
{
    let tasks: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.map_err(anyhow::Error::from).and_then(|r| r));
    }
    out
}
