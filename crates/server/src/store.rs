//! The database: one module serving SQLite and PostgreSQL through sqlx's `Any` driver with
//! runtime queries (no compile-time macros). Every statement is written once, in the dialect
//! both engines accept: `$n` placeholders, `TEXT` and `BIGINT` columns, `RETURNING`.
//! Times are Unix seconds (`BIGINT`), flags are `0`/`1`, binary values are hex or base64url text.

use std::str::FromStr;
use std::sync::Once;

use sqlx::AnyPool;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};

use crate::error::ServerError;

mod migrate;

pub(crate) use migrate::known_version as known_schema_version;

/// Which engine a [`Store`] runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// Embedded SQLite file.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

/// When SQLite makes a commit durable (`PRAGMA synchronous`, in WAL mode). PostgreSQL's own
/// setting (`synchronous_commit`, on by default) is the database administrator's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Synchronous {
    /// Every commit is synced to disk before it is acknowledged: an acknowledged write survives
    /// a power loss (the default).
    #[default]
    Full,
    /// The write-ahead log is synced only at checkpoints: no corruption on power loss, but the
    /// last commits before it may be lost (a process crash loses nothing). Faster.
    Normal,
}

impl Synchronous {
    fn pragma(self) -> &'static str {
        match self {
            Self::Full => "PRAGMA synchronous = FULL",
            Self::Normal => "PRAGMA synchronous = NORMAL",
        }
    }
}

impl std::str::FromStr for Synchronous {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "full" => Ok(Self::Full),
            "normal" => Ok(Self::Normal),
            other => Err(format!("sqlite_synchronous is `full` or `normal`, not {other:?}")),
        }
    }
}

/// A connection pool to the server's database.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    engine: Engine,
    /// The audit chain's head as this process last wrote it: a guess that saves a read, checked
    /// by the database on every use (see [`crate::audit::append_in`]).
    audit_hint: std::sync::Arc<std::sync::Mutex<Option<(i64, String)>>>,
}

static DRIVERS: Once = Once::new();

/// The file of a `sqlite:` URL (`sqlite://PATH?…` or `sqlite:PATH`), as the server opens it;
/// `None` for another engine or an in-memory database.
pub fn sqlite_path(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && path != ":memory:").then_some(path)
}

/// The embedded database's directory and files are the server's alone: a directory created here
/// is 0700; the database file is created 0600 before SQLite opens it (SQLite gives its `-wal`
/// and `-shm` files the database file's mode), and an existing database file, `-wal` or `-shm`
/// open to others is set to 0600. An existing directory open to others is left as it is, with a
/// warning (it may be shared on purpose, e.g. `.`).
fn private_sqlite_files(db: &std::path::Path) -> Result<(), ServerError> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
    let io = |what: &std::path::Path, e: std::io::Error| ServerError::Io(format!("{}: {e}", what.display()));
    if db.as_os_str().is_empty()
        || db.to_str().is_some_and(|p| p == ":memory:" || p.starts_with("file::memory"))
    {
        return Ok(());
    }
    if let Some(dir) = db.parent().filter(|d| !d.as_os_str().is_empty()) {
        if dir.exists() {
            let mode = std::fs::metadata(dir).map_err(|e| io(dir, e))?.permissions().mode();
            if mode & 0o077 != 0 {
                tracing::warn!(
                    dir = %dir.display(),
                    mode = format_args!("{:04o}", mode & 0o7777),
                    "the data directory is open to other users; chmod 700 it unless that is meant"
                );
            }
        } else {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|e| ServerError::Io(format!("cannot create {}: {e}", dir.display())))?;
        }
    }
    std::fs::OpenOptions::new().create(true).append(true).mode(0o600).open(db).map_err(|e| io(db, e))?;
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut f = db.as_os_str().to_owned();
        f.push(suffix);
        let f = std::path::PathBuf::from(f);
        if let Ok(meta) = std::fs::metadata(&f)
            && meta.permissions().mode() & 0o077 != 0
        {
            std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).map_err(|e| io(&f, e))?;
        }
    }
    Ok(())
}

impl Store {
    /// Connects to `url` (`sqlite://…` or `postgres://…`). For SQLite the parent directory is
    /// created and the file is opened in WAL mode, every commit synced ([`Synchronous::Full`]).
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, ServerError> {
        Self::connect_with(url, max_connections, Synchronous::Full).await
    }

    /// [`Store::connect`] with SQLite's `synchronous` setting.
    pub async fn connect_with(
        url: &str,
        max_connections: u32,
        synchronous: Synchronous,
    ) -> Result<Self, ServerError> {
        DRIVERS.call_once(sqlx::any::install_default_drivers);
        let engine = if url.starts_with("sqlite:") {
            Engine::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Engine::Postgres
        } else {
            return Err(ServerError::Config("database URL must start with sqlite: or postgres:".into()));
        };
        if let Some(path) = sqlite_path(url) {
            private_sqlite_files(std::path::Path::new(path))?;
        }
        let opts = AnyConnectOptions::from_str(url)
            .map_err(|e| ServerError::Config(format!("database URL: {e}")))?;
        // SQLite: one connection. SQLite runs one writer at a time anyway, and a connection
        // drops its whole page cache whenever another connection has written; sqlx hands out
        // idle connections oldest first, so with several every handler started on a cold cache
        // (measured: ~0.5 ms of an 8 ms broker release). Nothing holds a connection while it
        // waits for another (the server's tests run on this setting).
        let max_connections = if engine == Engine::Sqlite { 1 } else { max_connections.max(1) };
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections)
            // A ping before every checkout costs a round trip to SQLite's worker thread for
            // nothing: an embedded file's connection does not drop. PostgreSQL's can (network,
            // server restart), so it keeps the check.
            .test_before_acquire(engine == Engine::Postgres)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if engine == Engine::Sqlite {
                        sqlx::query("PRAGMA busy_timeout = 10000").execute(&mut *conn).await?;
                        sqlx::query("PRAGMA foreign_keys = ON").execute(&mut *conn).await?;
                        // WAL + FULL: an acknowledged commit survives a power loss (NORMAL:
                        // no corruption, but the last commits may be lost).
                        sqlx::query(synchronous.pragma()).execute(&mut *conn).await?;
                    } else {
                        // The counts taken under a row lock (a host's open requests) read what
                        // committed before each statement: READ COMMITTED, set here rather than
                        // left to the cluster's `default_transaction_isolation`.
                        sqlx::query(
                            "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ COMMITTED",
                        )
                        .execute(&mut *conn)
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(opts)
            .await?;
        if engine == Engine::Sqlite {
            sqlx::query("PRAGMA journal_mode = WAL").execute(&pool).await?;
        }
        Ok(Self { pool, engine, audit_hint: Default::default() })
    }

    /// SQLite only: writes a consistent copy of the database to `path` (`VACUUM INTO`: one read
    /// transaction, the write-ahead log included; `path` must not exist or be empty). Other
    /// connections — a running server — keep reading and writing meanwhile.
    pub async fn vacuum_into(&self, path: &std::path::Path) -> Result<(), ServerError> {
        if self.engine != Engine::Sqlite {
            return Err(ServerError::Config(
                "a copy with VACUUM INTO is for SQLite only (PostgreSQL: pg_dump)".into(),
            ));
        }
        sqlx::query("VACUUM INTO $1").bind(path.display().to_string()).execute(&self.pool).await?;
        Ok(())
    }

    /// SQLite only: `PRAGMA integrity_check`'s answer (`ok` when the file is sound).
    pub async fn integrity_check(&self) -> Result<String, ServerError> {
        if self.engine != Engine::Sqlite {
            return Err(ServerError::Config("the integrity check is for SQLite only".into()));
        }
        let row = sqlx::query("PRAGMA integrity_check").fetch_one(&self.pool).await?;
        Ok(sqlx::Row::try_get::<String, _>(&row, 0)?)
    }

    /// SQLite only: for a file from elsewhere (a backup being restored). Turns off SQL functions
    /// in its schema for this connection (`trusted_schema = OFF`) and lists every schema object
    /// a database this build migrated would not have: any trigger or view (this schema has
    /// none), or a table or index it does not know.
    pub async fn foreign_schema_objects(&self) -> Result<Vec<String>, ServerError> {
        use sqlx::Row as _;
        if self.engine != Engine::Sqlite {
            return Err(ServerError::Config("for SQLite only".into()));
        }
        sqlx::query("PRAGMA trusted_schema = OFF").execute(&self.pool).await?;
        let reference = Self::connect("sqlite::memory:", 1).await?;
        reference.migrate().await?;
        let list = "SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'";
        let known: std::collections::HashSet<(String, String)> = sqlx::query(list)
            .fetch_all(&reference.pool)
            .await?
            .iter()
            .map(|r| Ok((r.try_get::<String, _>("type")?, r.try_get::<String, _>("name")?)))
            .collect::<Result<_, sqlx::Error>>()?;
        reference.pool.close().await;
        let mut foreign = Vec::new();
        for r in sqlx::query(list).fetch_all(&self.pool).await? {
            let (kind, name) = (r.try_get::<String, _>("type")?, r.try_get::<String, _>("name")?);
            if kind == "trigger" || kind == "view" || !known.contains(&(kind.clone(), name.clone())) {
                foreign.push(format!("{kind} {name}"));
            }
        }
        Ok(foreign)
    }

    /// Closes the pool of a tool that only read a database a server may be using (`audit
    /// verify`, `backup`): no checkpoint. A `TRUNCATE` checkpoint from another process restarts
    /// the write-ahead log under the server, whose transaction begun before it then fails at
    /// once with "database is locked" (its snapshot is gone; no busy timeout helps).
    pub async fn close_reader(&self) {
        self.pool.close().await;
    }

    /// Closes the pool at shutdown. On SQLite the write-ahead log is first checkpointed into the
    /// database file (and truncated), so the file alone holds everything.
    pub async fn close(&self) {
        if self.engine == Engine::Sqlite
            && let Err(e) = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&self.pool).await
        {
            tracing::warn!(error = %e, "checkpoint at shutdown failed");
        }
        self.pool.close().await;
    }

    /// Takes the audit head this process last wrote (sequence number and hash), if any: one
    /// append uses a guess, and the appends that start while it is out take the head's own
    /// value — several guessing the same head would all but one fail their compare-and-swap,
    /// each after waiting for the head's lock (measured: "Logins at scale" in docs/server.md).
    pub(crate) fn take_audit_hint(&self) -> Option<(i64, String)> {
        self.audit_hint.lock().ok().and_then(|mut g| g.take())
    }

    /// Records the audit head this process just wrote.
    pub(crate) fn set_audit_hint(&self, seq: i64, hash: String) {
        if let Ok(mut g) = self.audit_hint.lock() {
            *g = Some((seq, hash));
        }
    }

    /// The pool, for queries.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The engine in use.
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// Reads a setting.
    pub async fn setting(&self, key: &str) -> Result<Option<String>, sqlx::Error> {
        use sqlx::Row;
        let row = sqlx::query("SELECT value FROM settings WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| r.try_get::<String, _>("value")).transpose()
    }

    /// Inserts a setting unless it exists; returns the value in effect afterwards.
    pub(crate) async fn setting_insert_or_get(&self, key: &str, value: &str) -> Result<String, sqlx::Error> {
        sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
            .bind(key)
            .bind(value)
            .execute(&self.pool)
            .await?;
        self.setting(key).await?.ok_or(sqlx::Error::RowNotFound)
    }

    /// Writes a setting.
    pub(crate) async fn set_setting(&self, key: &str, value: &str) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Deletes a setting; true if it existed.
    pub(crate) async fn delete_setting(&self, key: &str) -> Result<bool, sqlx::Error> {
        let r = sqlx::query("DELETE FROM settings WHERE key = $1").bind(key).execute(&self.pool).await?;
        Ok(r.rows_affected() > 0)
    }
}
