//! `blindvault run`: ask for secrets, wait for a person to approve, run a command with them in
//! its environment for the length of a lease.

use std::ffi::OsString;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use blindvault_client::broker::{self, Wanted};
use blindvault_client::{ClientError, admin, lease};
use blindvault_core::identity::Purpose;

use super::brokercommon::{ConsumerArgs, fail, fetch};

/// Arguments of `blindvault run`.
#[derive(clap::Args, Debug)]
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
    let secrets = fetch(&args.consumer, &wanted, &purpose, window)?;
    let deadline = Instant::now().checked_add(Duration::from_secs(lease_secs));
    let outcome =
        lease::run(lease::LeaseSpec { command: args.command, env: secrets, deadline, grace }, || {
            eprintln!("blindvault: the lease has ended; stopping the command")
        })?;
    Ok(ExitCode::from(u8::try_from(outcome.code).unwrap_or(1)))
}
