//! The schema: the `.sql` files in `crates/server/migrations`, embedded at build time and run by
//! sqlx's migrator (`_sqlx_migrations`, each migration once), all pending ones in one
//! transaction that instances starting together take in turn (see [`Store::migrate`]).
//!
//! Databases made before the migrator recorded their versions in `schema_migrations` (the
//! project's own runner, versions 1 to 8). [`bridge_old_runner`] records those versions in
//! sqlx's table — with the checksums of the files here, which hold the same statements — once,
//! in one transaction, so that nothing runs twice.

use std::borrow::Cow;

use sqlx::migrate::{Migrate as _, Migration, MigrationType, Migrator};
use sqlx::{Row as _, SqlSafeStr as _};

use super::{Engine, Store};
use crate::error::ServerError;

/// The migration files, in order: (version, description, SQL).
const FILES: &[(i64, &str, &str)] = &[
    (1, "accounts", include_str!("../../migrations/0001_accounts.sql")),
    (2, "broker", include_str!("../../migrations/0002_broker.sql")),
    (3, "broker approval counts", include_str!("../../migrations/0003_broker_approval_counts.sql")),
    (4, "ceremonies expiry index", include_str!("../../migrations/0004_ceremonies_expiry_index.sql")),
    (5, "invites", include_str!("../../migrations/0005_invites.sql")),
    (6, "step ups", include_str!("../../migrations/0006_step_ups.sql")),
    (7, "host self approval", include_str!("../../migrations/0007_host_self_approval.sql")),
    (8, "broker revocations", include_str!("../../migrations/0008_broker_revocations.sql")),
    (9, "wallet", include_str!("../../migrations/0009_wallet.sql")),
    (10, "wallet keyring", include_str!("../../migrations/0010_wallet_keyring.sql")),
    (11, "api tokens", include_str!("../../migrations/0011_api_tokens.sql")),
    (12, "push", include_str!("../../migrations/0012_push.sql")),
    (13, "lease end", include_str!("../../migrations/0013_lease_end.sql")),
    (14, "step-up starter", include_str!("../../migrations/0014_step_up_starter.sql")),
];

/// The highest version the old runner (`schema_migrations`) knew.
const OLD_RUNNER_LAST: i64 = 8;

/// sqlx's bookkeeping table.
const TABLE: &str = "_sqlx_migrations";

/// The migrator over [`FILES`]. A version recorded in the database but unknown here (from a
/// newer build) is tolerated, as the old runner did.
pub(crate) fn migrator() -> Migrator {
    let migrations = FILES
        .iter()
        .map(|(version, description, sql)| {
            Migration::new(
                *version,
                Cow::Borrowed(*description),
                MigrationType::Simple,
                sql.into_sql_str(),
                false,
            )
        })
        .collect();
    let mut m = Migrator::with_migrations(migrations);
    m.set_ignore_missing(true);
    m
}

fn migrate_error(e: sqlx::migrate::MigrateError) -> ServerError {
    ServerError::Db(format!("migration: {e}"))
}

impl Store {
    /// Records the old runner's versions in sqlx's table, then applies every migration not yet
    /// applied. Every migration whose version is not recorded is applied, in ascending order —
    /// not only those above the highest recorded one.
    ///
    /// One transaction holds the bridge and every pending migration (each migration in a
    /// savepoint of it): instances starting together take turns — on SQLite by `BEGIN
    /// IMMEDIATE` (the write lock, waited for up to the busy timeout), on PostgreSQL by an
    /// advisory lock — so the second finds everything applied; and a failure leaves the schema
    /// as it was (both engines roll DDL back).
    pub async fn migrate(&self) -> Result<(), ServerError> {
        let mut tx = match self.engine() {
            Engine::Sqlite => self.pool().begin_with("BEGIN IMMEDIATE").await?,
            Engine::Postgres => {
                let mut tx = self.pool().begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock(7242001)").execute(&mut *tx).await?;
                tx
            }
        };
        bridge_old_runner(&mut tx, self.engine()).await?;
        // `run_direct` is `run` on a connection: `run`'s `Acquire` bound makes this future not
        // `Send` ("implementation of `Acquire` is not general enough"), which sqlx works around
        // the same way.
        migrator().run_direct(None, &mut *tx, false).await.map_err(migrate_error)?;
        tx.commit().await?;
        Ok(())
    }
}

impl Store {
    /// The schema's state for `/readyz`: the highest migration applied successfully (0 when
    /// none) and the highest this build knows.
    pub(crate) async fn schema_versions(&self) -> Result<(i64, i64), ServerError> {
        let applied =
            sqlx::query("SELECT COALESCE(MAX(version), 0) AS v FROM _sqlx_migrations WHERE success = TRUE")
                .fetch_one(self.pool())
                .await?
                .try_get::<i64, _>("v")?;
        Ok((applied, known_version()))
    }
}

/// The highest migration this build knows.
pub(crate) fn known_version() -> i64 {
    FILES.last().map_or(0, |f| f.0)
}

/// A database migrated by the old runner (a `schema_migrations` table, sqlx's table empty or
/// absent): its recorded versions go into sqlx's table, marked applied, with the checksums of
/// the files here — inside the migration's transaction, so once. `schema_migrations` is left as
/// it was.
async fn bridge_old_runner(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    engine: Engine,
) -> Result<(), ServerError> {
    let old_exists = match engine {
        Engine::Sqlite => sqlx::query("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"),
        Engine::Postgres => sqlx::query(
            "SELECT CAST(tablename AS TEXT) AS tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'schema_migrations'",
        ),
    }
    .fetch_optional(&mut **tx)
    .await?
    .is_some();
    if !old_exists {
        return Ok(());
    }
    tx.ensure_migrations_table(TABLE).await.map_err(migrate_error)?;
    let bridged = sqlx::query("SELECT COUNT(*) AS n FROM _sqlx_migrations").fetch_one(&mut **tx).await?;
    if bridged.try_get::<i64, _>("n")? > 0 {
        return Ok(());
    }
    let old: Vec<i64> = sqlx::query("SELECT version FROM schema_migrations ORDER BY version")
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|r| r.try_get::<i64, _>("version"))
        .collect::<Result<_, _>>()?;
    let m = migrator();
    for version in old.into_iter().filter(|v| (1..=OLD_RUNNER_LAST).contains(v)) {
        if let Some(migration) = m.iter().find(|x| x.version == version) {
            tx.skip(TABLE, migration).await.map_err(migrate_error)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    /// Every migration has its own version and the list is in ascending order, from 1, and each
    /// file's name starts with its version.
    #[test]
    fn versions_are_unique_and_ascending() {
        let versions: Vec<i64> = super::FILES.iter().map(|(v, _, _)| *v).collect();
        let mut sorted = versions.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted, versions, "migration versions must be unique and in ascending order");
        assert_eq!(versions.first(), Some(&1));
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".sql"))
            .collect();
        files.sort();
        let from_names: Vec<i64> =
            files.iter().filter_map(|n| n.split('_').next().and_then(|v| v.parse().ok())).collect();
        assert_eq!(from_names, versions, "every file in migrations/ is embedded, once: {files:?}");
        assert!(versions.contains(&super::OLD_RUNNER_LAST));
    }
}
