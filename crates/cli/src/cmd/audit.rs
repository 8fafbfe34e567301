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
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let AuditCommand::Verify(v) = args.command;
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
        let report = audit::verify(&store).await?;
        store.close().await;
        match report.first_bad {
            None => {
                println!("audit chain OK: {} rows", report.rows);
                Ok(ExitCode::SUCCESS)
            }
            Some(bad) => {
                println!("audit chain BROKEN at row {}: {}", bad.seq, bad.reason);
                Ok(ExitCode::from(2))
            }
        }
    })
}
