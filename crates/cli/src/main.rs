//! `blindvault`: one thin binary. Each subcommand lives in its own module under `cmd/` and
//! calls into a library crate; no logic of its own beyond argument handling and printing.
//! Cargo features choose the subcommands a build carries (Cargo.toml): the default has all of
//! them; `--no-default-features --features consumer` is the slim build for a consumer host.

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
    #[cfg(feature = "server")]
    Serve(cmd::serve::Args),
    /// Audit log tools.
    #[cfg(feature = "server")]
    Audit(cmd::audit::Args),
    /// Write a consistent, checked copy of the embedded SQLite database (the server may run).
    #[cfg(feature = "server")]
    Backup(cmd::backup::BackupArgs),
    /// Put a backup into a data directory that has no database yet.
    #[cfg(feature = "server")]
    Restore(cmd::backup::RestoreArgs),
    /// Wallet tools for a BIP-39 mnemonic read from stdin (addresses of every chain).
    #[cfg(feature = "wallet")]
    Wallet(cmd::wallet::Args),
    /// Keep a command-line token (made in the web app) in the OS keyring, after checking it.
    #[cfg(feature = "admin")]
    Login(cmd::login::LoginArgs),
    /// Forget the command-line token kept in the OS keyring for a server.
    #[cfg(feature = "admin")]
    Logout(cmd::login::LogoutArgs),
    /// The org identity key (on this machine only): init, show, push to the server.
    #[cfg(feature = "admin")]
    Org(cmd::org::Args),
    /// Approver devices: invite, list, approve (sign with the org key), remove.
    #[cfg(feature = "admin")]
    Approver(cmd::approver::Args),
    /// Invite codes: registration is invite-only (create, list, revoke).
    #[cfg(feature = "admin")]
    Invite(cmd::invite::Args),
    /// Consumer hosts: issue (key file + certificate), revoke, list.
    #[cfg(feature = "admin")]
    Host(cmd::host::Args),
    /// Sealed secrets: put, rotate, list, rm.
    #[cfg(feature = "admin")]
    Secret(cmd::secret::Args),
    /// Server settings for admins: the wallet's RPC endpoints, default tokens, published addresses.
    #[cfg(feature = "admin")]
    Admin(cmd::admin::Args),
    /// Run a command with approved secrets in its environment, for one lease.
    #[cfg(feature = "consumer")]
    Run(cmd::run::Args),
    /// Fill a template with approved secrets into a 0600 file.
    #[cfg(feature = "consumer")]
    Inject(cmd::inject::Args),
    /// The web app: check that a server serves exactly the one built into this binary.
    #[cfg(feature = "server")]
    Web(cmd::web::Args),
}

fn main() -> ExitCode {
    // A usage error exits 1 like any other error that stopped the command from doing its job;
    // 2 means one thing only: `audit verify` found the chain broken (docs/broker.md, exit codes).
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 1 } else { 0 });
        }
    };
    let result = match cli.command {
        Command::Info(args) => cmd::info::run(args),
        #[cfg(feature = "server")]
        Command::Serve(args) => cmd::serve::run(args),
        #[cfg(feature = "server")]
        Command::Audit(args) => cmd::audit::run(args),
        #[cfg(feature = "server")]
        Command::Backup(args) => cmd::backup::backup(args),
        #[cfg(feature = "server")]
        Command::Restore(args) => cmd::backup::restore(args),
        #[cfg(feature = "wallet")]
        Command::Wallet(args) => cmd::wallet::run(args),
        #[cfg(feature = "admin")]
        Command::Login(args) => cmd::login::login(args),
        #[cfg(feature = "admin")]
        Command::Logout(args) => cmd::login::logout(args),
        #[cfg(feature = "admin")]
        Command::Org(args) => cmd::org::run(args),
        #[cfg(feature = "admin")]
        Command::Invite(args) => cmd::invite::run(args),
        #[cfg(feature = "admin")]
        Command::Approver(args) => cmd::approver::run(args),
        #[cfg(feature = "admin")]
        Command::Host(args) => cmd::host::run(args),
        #[cfg(feature = "admin")]
        Command::Secret(args) => cmd::secret::run(args),
        #[cfg(feature = "admin")]
        Command::Admin(args) => cmd::admin::run(args),
        #[cfg(feature = "consumer")]
        Command::Run(args) => cmd::run::run(args),
        #[cfg(feature = "consumer")]
        Command::Inject(args) => cmd::inject::run(args),
        #[cfg(feature = "server")]
        Command::Web(args) => cmd::web::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(1)
        }
    }
}
