//! `blindvault run`: ask for secrets, wait for a person to approve, run a command with them in
//! its environment for the length of a lease.

use std::ffi::OsString;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use blindvault_client::broker::{self, Wanted};
use blindvault_client::{ClientError, admin, lease};
use blindvault_core::identity::Purpose;

use super::brokercommon::{ConsumerArgs, fail, fetch_leased, printable};

/// The exit code of a run whose lease an approver (or an admin) ended early.
pub const ENDED_EARLY: u8 = 7;

/// Arguments of `blindvault run`.
#[derive(clap::Args, Debug)]
#[command(after_help = "Exit codes: the command's own (128 + N if signal N ended it); 1 an error; \
3 an approver denied the request; 4 it expired before enough people approved; 5 the host is refused; \
7 an approver or an admin ended the lease early from the web app (the command was stopped); \
128 + N signal N stopped it while it waited (the requests were withdrawn).\n\n\
While the command runs, the lease is watched on the server (a long poll): ending it in the web app \
stops the command and every process it started within seconds. If the server cannot be reached, the \
lease runs to its own end, on this host's clock.")]
pub struct Args {
    #[command(flatten)]
    pub consumer: ConsumerArgs,
    /// NAME=ENTRY_ID: put the secret ENTRY_ID in the environment variable NAME (repeatable).
    #[arg(long = "env", value_name = "NAME=ENTRY_ID", required = true)]
    pub env: Vec<String>,
    /// How long the command may run once the secrets are in (then SIGTERM to it and every
    /// process it started; SIGKILL after --grace).
    #[arg(long, default_value = "15m")]
    pub lease: String,
    /// How long approvers have to decide [default: the lease]. At most 1h, and never past the
    /// host certificate's expiry.
    #[arg(long)]
    pub wait: Option<String>,
    /// Time between SIGTERM and SIGKILL when the lease ends.
    #[arg(long, default_value = "10s")]
    pub grace: String,
    /// The command and its arguments (after --).
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<OsString>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match body(args) {
        Ok(code) => Ok(code),
        Err(e) => Ok(fail(&e)),
    }
}

fn parse_env(spec: &str) -> Result<Wanted, ClientError> {
    let (name, id) = spec
        .split_once('=')
        .ok_or_else(|| ClientError::Input(format!("--env {spec:?}: expected NAME=ENTRY_ID")))?;
    if !lease::valid_env_name(name) {
        return Err(ClientError::Input(format!("--env {spec:?}: {name:?} is not a valid variable name")));
    }
    Ok(Wanted { name: name.to_string(), entry: broker::parse_entry_id(id)? })
}

fn body(args: Args) -> Result<ExitCode, ClientError> {
    // The secret passes through this process: no core dump of it, no reading of its memory by
    // another process of this user (`harden`).
    blindvault_client::harden::no_core_dumps()?;
    let wanted = args.env.iter().map(|s| parse_env(s)).collect::<Result<Vec<_>, _>>()?;
    let mut names = std::collections::BTreeSet::new();
    if let Some(dup) = wanted.iter().find(|w| !names.insert(w.name.clone())) {
        return Err(ClientError::Input(format!("--env {} is given twice", dup.name)));
    }
    let lease_secs = admin::parse_duration(&args.lease)?;
    let grace = Duration::from_secs(admin::parse_duration(&args.grace)?);
    if Instant::now().checked_add(Duration::from_secs(lease_secs)).is_none() {
        return Err(ClientError::Input(format!("--lease {} is too long", args.lease)));
    }
    let window = match &args.wait {
        Some(w) => admin::parse_duration(w)?,
        None => lease_secs,
    };
    // Signed into each request and shown on the approver's device: the command line as given,
    // the variable names (never values) and the lease.
    // Exactly the bytes that run: an argument that is not UTF-8 could not be shown as it is.
    let command = args
        .command
        .iter()
        .enumerate()
        .map(|(i, a)| {
            a.to_str().map(str::to_owned).ok_or_else(|| {
                ClientError::Input(format!(
                    "argument {} of the command is not UTF-8: the approver is shown the command line \
                     exactly, and this one cannot be shown; rename or re-encode it",
                    i + 1
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let purpose = Purpose::Run { command, env: wanted.iter().map(|w| w.name.clone()).collect(), lease_secs };
    let (secrets, tickets) = fetch_leased(&args.consumer, &wanted, &purpose, window)?;
    // What the fetch left in the stack frames it used (moved copies of the ephemeral key and
    // the DEK, the decryption's working state) is overwritten before the command starts.
    blindvault_client::harden::scrub_stack();
    // A client of its own: the one that fetched the secrets belonged to a runtime now gone.
    let api = args.consumer.server.client()?;
    let deadline = Instant::now().checked_add(Duration::from_secs(lease_secs));
    // The lease watch: long polls of the server while the command runs; when an approver (or an
    // admin) ends one of the leases in the web app, the command's group is stopped as at the
    // deadline. It holds only the requests' poll tokens, never a secret. Without the server,
    // the lease runs to its own end.
    let (trigger, early) = lease::early_end();
    std::thread::spawn(move || {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
        if let Some(by) = rt.block_on(broker::watch_leases(&api, &tickets)) {
            eprintln!("blindvault: the lease was ended early by {}; stopping the command", printable(&by));
            trigger.end();
        }
    });
    let outcome = lease::run_until_ended(
        lease::LeaseSpec { command: args.command, env: secrets, deadline, grace },
        early,
        || eprintln!("blindvault: the lease has ended; stopping the command"),
    )?;
    if outcome.ended_early {
        return Ok(ExitCode::from(ENDED_EARLY));
    }
    Ok(ExitCode::from(u8::try_from(outcome.code).unwrap_or(1)))
}
