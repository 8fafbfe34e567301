use std::path::PathBuf;
use std::process::ExitCode;

use blindvault_server::store::Store;
use blindvault_server::{Config, audit};

/// Arguments of `blindvault audit`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub command: AuditCommand,
}

/// Audit subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum AuditCommand {
    /// Walk the hash chain of the audit log; exit 2 and name the first bad row if it is broken.
    Verify(VerifyArgs),
}

/// Where the database is.
#[derive(clap::Args, Debug)]
pub struct VerifyArgs {
    /// Data directory of an embedded SQLite server [default: ./data].
    #[arg(long, env = "BLINDVAULT_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Database URL (overrides --data-dir).
    #[arg(long, env = "BLINDVAULT_DATABASE_URL")]
    pub database_url: Option<String>,
    /// An anchor printed by an earlier `audit verify` (`SEQ:HASH`), kept outside the database;
    /// repeatable. Fails (exit 2) if the chain up to that row was rewritten since.
    #[arg(long = "anchor", value_name = "SEQ:HASH")]
    pub anchors: Vec<String>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let AuditCommand::Verify(v) = args.command;
    // Parsed here rather than by clap, so that a mistyped anchor exits 1 (usage), not 2 (broken).
    let anchors = v
        .anchors
        .iter()
        .map(|a| a.parse::<audit::Anchor>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(anyhow::Error::msg)?;
    let mut config = Config::default();
    if let Some(d) = v.data_dir {
        config.data_dir = d;
    }
    config.database_url = v.database_url;
    let url = config.database_url();
    if url.starts_with("sqlite")
        && !config.data_dir.join("blindvault.db").exists()
        && config.database_url.is_none()
    {
        anyhow::bail!("no database at {}", config.data_dir.join("blindvault.db").display());
    }
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    rt.block_on(async move {
        let store = Store::connect(&url, 1).await?;
        let report = audit::verify_with_anchors(&store, &anchors).await?;
        store.close().await;
        match report.first_bad {
            None => {
                let checked = match anchors.len() {
                    0 => String::new(),
                    1 => ", and matches its anchor".to_owned(),
                    n => format!(", and matches its {n} anchors"),
                };
                println!("audit chain OK: {} rows{checked}", report.rows);
                if let Some(head) = report.head {
                    println!("anchor: {head}");
                    println!(
                        "  (keep it outside the database; `blindvault audit verify --anchor {head}` later fails if \
                         the log up to row {} was rewritten)",
                        head.seq
                    );
                }
                Ok(ExitCode::SUCCESS)
            }
            Some(bad) => {
                println!("audit chain BROKEN at row {}: {}", bad.seq, bad.reason);
                Ok(ExitCode::from(2))
            }
        }
    })
}
