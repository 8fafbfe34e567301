//! The consumer's lease: start the command with its secrets in the environment, forward the
//! signals the consumer receives, end the lease at its deadline (SIGTERM, then SIGKILL after a
//! grace period), and report the child's exit code as its own.
//!
//! The plaintext exists in this process only from the moment the response is opened until the
//! child is spawned (then our copies are zeroized) — and in the child's environment for the life
//! of the lease, by necessity.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, ExitStatus};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use blindvault_core::secret::SecretBytes;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::ClientError;

/// Signals forwarded to the child.
pub const FORWARDED: &[i32] = &[
    signal_hook::consts::SIGINT,
    signal_hook::consts::SIGTERM,
    signal_hook::consts::SIGHUP,
    signal_hook::consts::SIGQUIT,
    signal_hook::consts::SIGUSR1,
    signal_hook::consts::SIGUSR2,
    signal_hook::consts::SIGWINCH,
];

/// What to run.
#[derive(Debug)]
pub struct LeaseSpec {
    /// The program and its arguments.
    pub command: Vec<OsString>,
    /// Environment variables carrying secrets.
    pub env: Vec<(String, SecretBytes)>,
    /// When the lease ends (the child is sent SIGTERM), if ever.
    pub deadline: Option<Instant>,
    /// Time between SIGTERM and SIGKILL at the deadline.
    pub grace: Duration,
}

/// How the lease ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseOutcome {
    /// The exit code to report: the child's, or 128 + signal number if a signal ended it.
    pub code: i32,
    /// True when the deadline ended the lease.
    pub deadline_reached: bool,
}

fn code_of(status: ExitStatus) -> i32 {
    status.code().or_else(|| status.signal().map(|s| 128 + s)).unwrap_or(1)
}

/// Checks that an environment variable name is usable.
pub fn valid_env_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Runs the lease to its end. `on_deadline` is told when the deadline fires (for a message).
pub fn run(spec: LeaseSpec, mut on_deadline: impl FnMut()) -> Result<LeaseOutcome, ClientError> {
    let (program, args) = spec
        .command
        .split_first()
        .ok_or_else(|| ClientError::Lease("no command to run (after --)".into()))?;
    for (name, value) in &spec.env {
        if !valid_env_name(name) {
            return Err(ClientError::Lease(format!("{name:?} is not a valid environment variable name")));
        }
        if value.expose().contains(&0) {
            return Err(ClientError::Lease(format!(
                "the secret for {name} contains a NUL byte and cannot go into the environment; use `inject` with a file instead"
            )));
        }
    }
    // Register the forwarding handlers before the child exists, so no signal is lost between.
    let mut signals = signal_hook::iterator::Signals::new(FORWARDED)
        .map_err(|e| ClientError::Lease(format!("cannot install signal handlers: {e}")))?;
    let handle = signals.handle();

    let mut cmd = Command::new(program);
    cmd.args(args);
    for (name, value) in &spec.env {
        cmd.env(name, OsString::from_vec(value.expose().to_vec()));
    }
    let mut child = cmd
        .spawn()
        .map_err(|source| ClientError::Spawn { program: program.to_string_lossy().into_owned(), source })?;
    // Our copies of the secrets end here; `Command` (and its copy) is dropped right after.
    drop(spec.env);
    drop(cmd);
    let pid = Pid::from_raw(
        i32::try_from(child.id()).map_err(|_| ClientError::Lease("child pid out of range".into()))?,
    );

    let forwarder = std::thread::spawn(move || {
        for sig in signals.forever() {
            if let Ok(s) = Signal::try_from(sig) {
                let _ = kill(pid, s);
            }
        }
    });
    let (tx, rx) = mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let _ = tx.send(child.wait());
    });

    let mut deadline_reached = false;
    let status = loop {
        let timeout = match spec.deadline {
            Some(d) if !deadline_reached => d.saturating_duration_since(Instant::now()),
            _ => Duration::from_secs(3600),
        };
        match rx.recv_timeout(timeout) {
            Ok(res) => break res.map_err(|e| ClientError::Lease(format!("waiting for the command: {e}")))?,
            Err(mpsc::RecvTimeoutError::Timeout) if spec.deadline.is_some() && !deadline_reached => {
                deadline_reached = true;
                on_deadline();
                let _ = kill(pid, Signal::SIGTERM);
                match rx.recv_timeout(spec.grace) {
                    Ok(res) => {
                        break res
                            .map_err(|e| ClientError::Lease(format!("waiting for the command: {e}")))?;
                    }
                    Err(_) => {
                        let _ = kill(pid, Signal::SIGKILL);
                    }
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => continue,
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err(ClientError::Lease("lost track of the command".into()));
            }
        }
    };
    handle.close();
    let _ = forwarder.join();
    let _ = waiter.join();
    Ok(LeaseOutcome { code: code_of(status), deadline_reached })
}
