//! `blindvault backup` and `restore`: a consistent copy of an embedded SQLite database, taken
//! while the server runs (SQLite's `VACUUM INTO`: one read transaction, so the copy is the
//! database at one instant, write-ahead log included), checked before it is called a backup; and
//! its way back into a data directory that has no database. PostgreSQL is backed up with its own
//! tools (`pg_dump`), which these commands name.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use blindvault_server::audit;
use blindvault_server::store::Store;

/// Arguments of `blindvault backup`.
#[derive(clap::Args, Debug)]
pub struct BackupArgs {
    /// Data directory of the embedded SQLite server [default: ./data].
    #[arg(long, env = "BLINDVAULT_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Database URL (overrides --data-dir; PostgreSQL is backed up with pg_dump).
    #[arg(long, env = "BLINDVAULT_DATABASE_URL")]
    pub database_url: Option<String>,
    /// The file to write (must not exist; written private, mode 600).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

/// Arguments of `blindvault restore`.
#[derive(clap::Args, Debug)]
pub struct RestoreArgs {
    /// A file written by `blindvault backup`.
    #[arg(long, value_name = "FILE")]
    pub from: PathBuf,
    /// The data directory to restore into; it must hold no database yet [default: ./data].
    #[arg(long, env = "BLINDVAULT_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
}

const DB_FILE: &str = "blindvault.db";

/// A new file only its owner may read or write (refused if it exists).
fn create_private(path: &Path) -> anyhow::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))
}

fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

/// The copy's own checks: SQLite's integrity check and the audit chain. Returns the chain's
/// report line and its head.
async fn check_copy(path: &Path) -> anyhow::Result<(i64, Option<audit::Anchor>)> {
    // A file that is no SQLite database is named at once (opening one would retry for long).
    let mut head = [0u8; 16];
    let read = std::fs::File::open(path).and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head));
    if read.is_err() || &head != b"SQLite format 3\0" {
        bail!("{}: not a blindvault backup (not an SQLite database)", path.display());
    }
    let store = Store::connect(&sqlite_url(path), 1)
        .await
        .with_context(|| format!("cannot open {}", path.display()))?;
    let result = async {
        // Only what this build's migrations make: a trigger, a view or an unknown table in a
        // file would run (or be read) by the server once restored.
        let foreign = store.foreign_schema_objects().await?;
        if !foreign.is_empty() {
            bail!("{}: not a blindvault backup: it holds {}", path.display(), foreign.join(", "));
        }
        let ok = store.integrity_check().await?;
        if ok != "ok" {
            bail!("{}: SQLite's integrity check failed: {ok}", path.display());
        }
        let report = audit::verify_with_anchors(&store, &[]).await?;
        if let Some(bad) = report.first_bad {
            bail!("{}: the audit chain is broken at row {}: {}", path.display(), bad.seq, bad.reason);
        }
        Ok((report.rows, report.head))
    }
    .await;
    // The copy is this command's own: checkpointed and closed, it is one file again.
    store.close().await;
    result
}

pub fn backup(args: BackupArgs) -> anyhow::Result<ExitCode> {
    let data_dir = args.data_dir.unwrap_or_else(|| PathBuf::from("data"));
    let url = match &args.database_url {
        Some(u) if !u.is_empty() => u.clone(),
        _ => {
            let db = data_dir.join(DB_FILE);
            if !db.exists() {
                bail!("no database at {} (give --data-dir DIR or --database-url URL)", db.display());
            }
            sqlite_url(&db)
        }
    };
    if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        bail!(
            "this is a PostgreSQL database: back it up with its own tools, e.g. `pg_dump --format=custom --file=FILE \
             DATABASE` (and `pg_restore` to bring it back); see docs/server.md, Backups"
        );
    }
    if args.out.to_str().is_none() {
        bail!("{}: give a file name in UTF-8", args.out.display());
    }
    if args.out.exists() {
        bail!("{} exists: give a new file name (a backup never overwrites)", args.out.display());
    }
    // Written as `FILE.partial` and linked to FILE only once checked, so FILE is never half a
    // backup (not even after Ctrl-C). An empty private file first: `VACUUM INTO` writes into it
    // (an empty file is allowed), so the copy is never readable by others.
    let mut partial = args.out.clone().into_os_string();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    drop(create_private(&partial)?);
    let out = std::fs::canonicalize(&partial)?;
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let result = rt.block_on(async {
        let store = Store::connect(&url, 1).await?;
        let copied = store.vacuum_into(&out).await;
        store.close_reader().await;
        copied.context("the copy failed")?;
        check_copy(&out).await
    });
    let linked = result.and_then(|r| {
        // A link, not a rename: it refuses to replace a file made at FILE meanwhile.
        std::fs::hard_link(&out, &args.out)
            .with_context(|| format!("cannot write {}", args.out.display()))?;
        Ok(r)
    });
    // Nothing half-written is left to be mistaken for a backup.
    let _ = std::fs::remove_file(&out);
    let (rows, head) = linked?;
    let out = std::fs::canonicalize(&args.out)?;
    let size = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
    println!("backup written: {} ({size} bytes), integrity ok, audit chain OK: {rows} rows", out.display());
    if let Some(head) = head {
        println!("anchor: {head}");
    }
    println!(
        "  (keep it as private as the database: it opens no secret, but holds every sealed entry and the session \
         key; restore with `blindvault restore --from {} --data-dir DIR`)",
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

pub fn restore(args: RestoreArgs) -> anyhow::Result<ExitCode> {
    let data_dir = args.data_dir.unwrap_or_else(|| PathBuf::from("data"));
    let target = data_dir.join(DB_FILE);
    for existing in [target.clone(), data_dir.join(format!("{DB_FILE}-wal"))] {
        if existing.exists() {
            bail!(
                "{} exists: restore only into a data directory without a database (stop the server and move its \
                 data directory away first, or give --data-dir NEW_DIR)",
                existing.display()
            );
        }
    }
    if !args.from.is_file() {
        bail!("{}: no such backup file", args.from.display());
    }
    // A data directory made here is the owner's alone (as the server makes its own).
    std::os::unix::fs::DirBuilderExt::mode(std::fs::DirBuilder::new().recursive(true), 0o700)
        .create(&data_dir)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", data_dir.display()))?;
    // Copied beside the target and checked there (the backup itself is left untouched), then
    // linked in: the data directory never holds half a database, nor one that failed its checks.
    let partial = data_dir.join(format!("{DB_FILE}.restoring"));
    // Another restore into this directory is running, or one was cut off: its file is not ours
    // to remove.
    let mut to = create_private(&partial).context("another restore may be running into this directory")?;
    let checked = (|| {
        let mut from = std::fs::File::open(&args.from).with_context(|| format!("{}", args.from.display()))?;
        std::io::copy(&mut from, &mut to).with_context(|| format!("cannot write {}", partial.display()))?;
        to.sync_all().with_context(|| format!("cannot write {}", partial.display()))?;
        drop(to);
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        rt.block_on(check_copy(&partial)).map_err(|e| anyhow::anyhow!("{}: {e:#}", args.from.display()))
    })();
    let (rows, head) = match checked {
        Ok(r) => r,
        Err(e) => {
            for leftover in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(data_dir.join(format!("{DB_FILE}.restoring{leftover}")));
            }
            return Err(e);
        }
    };
    // A link, not a rename: it refuses to replace a database made at the target meanwhile.
    let linked = std::fs::hard_link(&partial, &target).map_err(|e| {
        anyhow::anyhow!("cannot write {}: {e} (is a server starting on this directory?)", target.display())
    });
    let _ = std::fs::remove_file(&partial);
    linked?;
    println!("restored {} into {}: audit chain OK: {rows} rows", args.from.display(), target.display());
    if let Some(head) = head {
        println!("anchor: {head}");
        println!(
            "  (check it against an anchor kept from before: `blindvault audit verify --data-dir {} --anchors-from LOG`)",
            data_dir.display()
        );
    }
    println!(
        "Nothing here proves the backup is yours: a forged file can carry a chain that agrees with itself. Check it \
         against an anchor kept from before it was taken, then start the server on it: blindvault serve --data-dir {}",
        data_dir.display()
    );
    Ok(ExitCode::SUCCESS)
}
