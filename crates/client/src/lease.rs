//! The consumer's lease: start the command with its secrets in the environment, in a process
//! group of its own; forward the signals the consumer receives to that whole group; end the
//! lease at its deadline (SIGTERM to the group, then SIGKILL after a grace period) — so that
//! processes the command started lose the secret too — and report the command's exit code as
//! its own. When the command exits, what is left of its group is ended the same way. An
//! [`EarlyEnd`] (the lease watch of `blindvault run`, when an approver ends the lease in the web
//! app) ends the group the same way before the deadline.
//!
//! The plaintext exists in this process only from the moment the response is opened until the
//! child is spawned, always in buffers that are zeroized when dropped (the environment is built
//! here and handed to `posix_spawnp` directly, not copied into `std::process::Command`'s own
//! buffers) — and in the child's environment for the life of the lease, by necessity.
//!
//! On a terminal (standard input is one and this process owns its foreground), the command's
//! group is made the terminal's foreground, so an interactive command reads and gets Ctrl-C as
//! usual; Ctrl-Z stops the command and then this process, and `fg` resumes both.

use std::ffi::{CStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use blindvault_core::secret::SecretBytes;
use nix::sys::signal::{SigSet, SigmaskHow, Signal, kill, killpg, pthread_sigmask};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;
use zeroize::Zeroizing;

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
    /// True when [`EarlyEnd::end`] ended the lease before its deadline (someone ended it from
    /// the web app).
    pub ended_early: bool,
}

/// What the lease's loop hears: the command's exit, or an early end.
enum Event {
    Exited(Result<i32, nix::Error>),
    End,
}

/// Ends a running lease early, from another thread (`blindvault run`'s lease watch): the
/// command's group is stopped exactly as at the deadline (SIGTERM, SIGKILL after the grace).
#[derive(Debug, Clone)]
pub struct EarlyEnd(mpsc::Sender<Event>);

impl std::fmt::Debug for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Event::Exited(_) => "Exited",
            Event::End => "End",
        })
    }
}

impl EarlyEnd {
    /// Ends the lease now (nothing if it is already over).
    pub fn end(&self) {
        let _ = self.0.send(Event::End);
    }
}

/// The lease's side of [`early_end`], for [`run_until_ended`].
#[derive(Debug)]
pub struct EarlyEndReceiver {
    tx: mpsc::Sender<Event>,
    rx: mpsc::Receiver<Event>,
}

/// A way to end a lease early: the trigger, and the receiver [`run_until_ended`] takes.
pub fn early_end() -> (EarlyEnd, EarlyEndReceiver) {
    let (tx, rx) = mpsc::channel();
    (EarlyEnd(tx.clone()), EarlyEndReceiver { tx, rx })
}

/// Checks that an environment variable name is usable.
pub fn valid_env_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// One `NAME=VALUE\0` for the environment, zeroized when dropped.
fn env_entry(name: &[u8], value: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut e = Zeroizing::new(Vec::with_capacity(name.len() + value.len() + 2));
    e.extend_from_slice(name);
    e.push(b'=');
    e.extend_from_slice(value);
    e.push(0);
    e
}

/// A `\0`-terminated copy of `s`, or an error naming `what` if it holds a NUL byte.
fn c_bytes(s: &[u8], what: &str) -> Result<Zeroizing<Vec<u8>>, ClientError> {
    if s.contains(&0) {
        return Err(ClientError::Input(format!("{what} contains a NUL byte")));
    }
    let mut v = Zeroizing::new(Vec::with_capacity(s.len() + 1));
    v.extend_from_slice(s);
    v.push(0);
    Ok(v)
}

fn as_cstr(v: &[u8]) -> Result<&CStr, ClientError> {
    CStr::from_bytes_with_nul(v).map_err(|_| ClientError::Input("an argument contains a NUL byte".into()))
}

/// The terminal this process owns the foreground of (standard input), if any.
fn owned_terminal() -> Option<std::io::Stdin> {
    let stdin = std::io::stdin();
    let fg = nix::unistd::tcgetpgrp(&stdin).ok()?;
    (fg == nix::unistd::getpgrp()).then_some(stdin)
}

/// Whether any process of group `pg` is left (zombies count until their parent reaps them).
fn group_alive(pg: Pid) -> bool {
    killpg(pg, None).is_ok()
}

/// Ends what is left of group `pg`: SIGTERM, then SIGKILL if anything remains after `grace`.
fn end_group(pg: Pid, grace: Duration) {
    if !group_alive(pg) {
        return;
    }
    let _ = killpg(pg, Signal::SIGTERM);
    let until = Instant::now() + grace;
    while group_alive(pg) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = killpg(pg, Signal::SIGKILL);
}

/// Runs the lease to its end. `on_deadline` is told when the deadline fires (for a message).
pub fn run(spec: LeaseSpec, on_deadline: impl FnMut()) -> Result<LeaseOutcome, ClientError> {
    let (_never, early) = early_end();
    run_until_ended(spec, early, on_deadline)
}

/// [`run`], which the [`EarlyEnd`] of `early` can also end before the deadline: the command's
/// group then gets SIGTERM, and SIGKILL after the grace, as at the deadline.
pub fn run_until_ended(
    spec: LeaseSpec,
    early: EarlyEndReceiver,
    mut on_deadline: impl FnMut(),
) -> Result<LeaseOutcome, ClientError> {
    let LeaseSpec { command, env, deadline, grace } = spec;
    let (program, _) =
        command.split_first().ok_or_else(|| ClientError::Input("no command to run (after --)".into()))?;
    let program_name = program.to_string_lossy().into_owned();
    for (name, value) in &env {
        if !valid_env_name(name) {
            return Err(ClientError::Input(format!("{name:?} is not a valid environment variable name")));
        }
        if value.expose().contains(&0) {
            return Err(ClientError::Input(format!(
                "the secret for {name} contains a NUL byte and cannot go into the environment; use `inject` with a file instead"
            )));
        }
    }
    // The child's argv and environment: this process's environment with the secrets set, every
    // entry in a buffer that is zeroized when dropped (right after the spawn).
    let argv: Vec<Zeroizing<Vec<u8>>> = command
        .iter()
        .map(|a| c_bytes(a.as_bytes(), &format!("the argument {:?}", a.to_string_lossy())))
        .collect::<Result<_, _>>()?;
    // blindvault's own settings stay behind: the host key file's path above all (a command that
    // could find the key could sign requests of its own, with any purpose), and the server, the
    // session and passphrase files too.
    let mut envp: Vec<Zeroizing<Vec<u8>>> = std::env::vars_os()
        .filter(|(k, _)| !k.as_bytes().starts_with(b"BLINDVAULT_"))
        .filter(|(k, _)| !env.iter().any(|(n, _)| n.as_bytes() == k.as_bytes()))
        .filter(|(k, v)| !k.as_bytes().contains(&0) && !v.as_bytes().contains(&0))
        .map(|(k, v)| env_entry(k.as_bytes(), v.as_bytes()))
        .collect();
    for (name, value) in &env {
        envp.push(env_entry(name.as_bytes(), value.expose()));
    }
    drop(env);

    // SIGTTOU blocked in this thread (and the threads it starts): handing the terminal's
    // foreground to the command and taking it back are then allowed from the background.
    let mut ttou = SigSet::empty();
    ttou.add(Signal::SIGTTOU);
    let _ = pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&ttou), None);
    let terminal = owned_terminal();

    // Register the forwarding handlers before the child exists, so no signal is lost between.
    let mut signals = signal_hook::iterator::Signals::new(FORWARDED)
        .map_err(|e| ClientError::Local(format!("cannot install signal handlers: {e}")))?;
    let handle = signals.handle();

    let spawn_err = |e: nix::Error| ClientError::Spawn {
        program: program_name.clone(),
        source: std::io::Error::from_raw_os_error(e as i32),
    };
    let mut attr = nix::spawn::PosixSpawnAttr::init().map_err(spawn_err)?;
    // Its own process group (pgid = its pid); signals back to their defaults (this process
    // ignores SIGPIPE, as every Rust program does) and none blocked.
    attr.set_pgroup(Pid::from_raw(0)).map_err(spawn_err)?;
    let mut defaults = SigSet::empty();
    defaults.add(Signal::SIGPIPE);
    attr.set_sigdefault(&defaults).map_err(spawn_err)?;
    attr.set_sigmask(&SigSet::empty()).map_err(spawn_err)?;
    attr.set_flags(
        nix::spawn::PosixSpawnFlags::POSIX_SPAWN_SETPGROUP
            | nix::spawn::PosixSpawnFlags::POSIX_SPAWN_SETSIGDEF
            | nix::spawn::PosixSpawnFlags::POSIX_SPAWN_SETSIGMASK,
    )
    .map_err(spawn_err)?;
    let actions = nix::spawn::PosixSpawnFileActions::init().map_err(spawn_err)?;
    let pid = {
        let args: Vec<&CStr> = argv.iter().map(|a| as_cstr(a)).collect::<Result<_, _>>()?;
        let envs: Vec<&CStr> = envp.iter().map(|e| as_cstr(e)).collect::<Result<_, _>>()?;
        let path = args.first().copied().ok_or_else(|| ClientError::Input("no command to run".into()))?;
        nix::spawn::posix_spawnp(path, &actions, &attr, &args, &envs).map_err(spawn_err)?
    };
    // Our copies of the secrets end here.
    drop(envp);
    drop(argv);
    let group = pid;
    if let Some(t) = &terminal {
        let _ = nix::unistd::tcsetpgrp(t, group);
        // Had it read the terminal before it was handed over, it stopped: go on.
        let _ = killpg(group, Signal::SIGCONT);
    }

    let forwarder = std::thread::spawn(move || {
        for sig in signals.forever() {
            if let Ok(s) = Signal::try_from(sig) {
                let _ = killpg(group, s);
            }
        }
    });
    let EarlyEndReceiver { tx, rx } = early;
    let job_control = terminal.is_some();
    let waiter = std::thread::spawn(move || {
        loop {
            let flags = job_control.then_some(WaitPidFlag::WUNTRACED);
            match waitpid(pid, flags) {
                Ok(WaitStatus::Exited(_, code)) => break tx.send(Event::Exited(Ok(code))),
                Ok(WaitStatus::Signaled(_, sig, _)) => break tx.send(Event::Exited(Ok(128 + sig as i32))),
                Ok(WaitStatus::Stopped(..)) => {
                    // Ctrl-Z: take the terminal back, stop as the shell expects, and when
                    // continued (`fg`) hand it over again and continue the command.
                    let stdin = std::io::stdin();
                    let _ = nix::unistd::tcsetpgrp(&stdin, nix::unistd::getpgrp());
                    let _ = kill(nix::unistd::getpid(), Signal::SIGSTOP);
                    let _ = nix::unistd::tcsetpgrp(&stdin, group);
                    let _ = killpg(group, Signal::SIGCONT);
                }
                Ok(_) | Err(nix::errno::Errno::EINTR) => {}
                Err(e) => break tx.send(Event::Exited(Err(e))),
            }
        }
    });

    let lost = |e: nix::Error| ClientError::Lease(format!("waiting for the command: {e}"));
    // SIGTERM to the group, then its exit — or SIGKILL after the grace; early ends heard
    // meanwhile change nothing.
    let stop = |rx: &mpsc::Receiver<Event>| -> Option<Result<i32, nix::Error>> {
        let _ = killpg(group, Signal::SIGTERM);
        let until = Instant::now() + grace;
        loop {
            match rx.recv_timeout(until.saturating_duration_since(Instant::now())) {
                Ok(Event::Exited(res)) => return Some(res),
                Ok(Event::End) => {}
                Err(_) => {
                    let _ = killpg(group, Signal::SIGKILL);
                    return None;
                }
            }
        }
    };
    let mut deadline_reached = false;
    let mut ended_early = false;
    let code = loop {
        let stopping = deadline_reached || ended_early;
        let timeout = match deadline {
            Some(d) if !stopping => d.saturating_duration_since(Instant::now()),
            _ => Duration::from_secs(3600),
        };
        match rx.recv_timeout(timeout) {
            Ok(Event::Exited(res)) => break res.map_err(lost)?,
            Ok(Event::End) if !stopping => {
                ended_early = true;
                if let Some(res) = stop(&rx) {
                    break res.map_err(lost)?;
                }
            }
            Ok(Event::End) => {}
            Err(mpsc::RecvTimeoutError::Timeout) if deadline.is_some() && !stopping => {
                deadline_reached = true;
                on_deadline();
                if let Some(res) = stop(&rx) {
                    break res.map_err(lost)?;
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => continue,
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err(ClientError::Lease("lost track of the command".into()));
            }
        }
    };
    // The lease is over: what the command left running in its group goes too.
    end_group(group, grace);
    if let Some(t) = &terminal {
        let _ = nix::unistd::tcsetpgrp(t, nix::unistd::getpgrp());
    }
    handle.close();
    let _ = forwarder.join();
    let _ = waiter.join();
    let _ = pthread_sigmask(SigmaskHow::SIG_UNBLOCK, Some(&ttou), None);
    Ok(LeaseOutcome { code, deadline_reached, ended_early })
}
