//! `blindvault`: one thin binary. Each subcommand lives in its own module under `cmd/` and
//! calls into a library crate; no logic of its own beyond argument handling and printing.

mod cmd;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(name = "blindvault", version, about = "A passkey-rooted vault whose server is blind")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Print the PRF salt and protocol version this build uses.
    Info(cmd::info::Args),
    /// Run the server (embedded SQLite on http://localhost:8080 unless configured).
    Serve(cmd::serve::Args),
    /// Audit log tools.
    Audit(cmd::audit::Args),
    /// Wallet tools for a BIP-39 mnemonic read from stdin (addresses of every chain).
    Wallet(cmd::wallet::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Info(args) => cmd::info::run(args),
        Command::Serve(args) => cmd::serve::run(args),
        Command::Audit(args) => cmd::audit::run(args),
        Command::Wallet(args) => cmd::wallet::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(1)
        }
    }
}
