//! Arguments and helpers shared by the broker commands (`org`, `approver`, `host`, `secret`,
//! `run`, `inject`).
// A build with some of the parts (the consumer build) uses some of these helpers only.
#![cfg_attr(not(all(feature = "admin", feature = "consumer", feature = "server")), allow(dead_code))]

use std::path::PathBuf;
use std::process::ExitCode;

use blindvault_client::ClientError;
use blindvault_client::api::{self, BrokerClient};

/// `--server`, also from `BLINDVAULT_SERVER`.
#[derive(clap::Args, Debug)]
pub struct ServerArg {
    /// The blindvault server (e.g. http://localhost:8080).
    #[arg(long, env = "BLINDVAULT_SERVER", global = true)]
    pub server: Option<String>,
}

impl ServerArg {
    /// A broker client for the server (no session).
    pub fn client(&self) -> Result<BrokerClient, ClientError> {
        let url = self.server.as_deref().ok_or_else(|| {
            ClientError::Input("no server: pass --server URL or set BLINDVAULT_SERVER".into())
        })?;
        Ok(BrokerClient::new(url)?)
    }
}

/// The admin's server and command-line token.
#[derive(clap::Args, Debug)]
pub struct AdminArgs {
    #[command(flatten)]
    pub server: ServerArg,
    /// File holding a command-line token (bvt_…, made in the web app: Account → Command-line
    /// tokens), readable by you alone (chmod 600). Without it, the token `blindvault login`
    /// kept in the OS keyring. Never pass the token itself on the command line.
    #[arg(long, env = api::TOKEN_FILE_ENV, global = true)]
    pub token_file: Option<PathBuf>,
    /// Gone: web sessions no longer work on the command line (a clear message says what to do).
    #[arg(long, env = api::OLD_SESSION_FILE_ENV, global = true, hide = true)]
    pub session_file: Option<PathBuf>,
}

/// Where the org key lives.
#[derive(clap::Args, Debug)]
pub struct OrgDirArg {
    /// The org key directory [default: $BLINDVAULT_HOME, else ~/.config/blindvault].
    #[arg(long, global = true)]
    pub dir: Option<PathBuf>,
}

impl OrgDirArg {
    pub fn path(&self) -> PathBuf {
        self.dir.clone().unwrap_or_else(blindvault_client::admin::default_home)
    }
}

/// Where the org key's passphrase comes from.
#[derive(clap::Args, Debug)]
pub struct PassArg {
    /// Read the org key passphrase from this file (first line) instead of the terminal.
    #[arg(long, env = "BLINDVAULT_PASSPHRASE_FILE")]
    pub passphrase_file: Option<PathBuf>,
}

/// Output format for commands that print data.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// For people.
    #[default]
    Text,
    /// One JSON document.
    Json,
}

impl AdminArgs {
    /// A broker client with the admin's token: from `--token-file` / `BLINDVAULT_TOKEN_FILE`,
    /// else from the OS keyring (`blindvault login`).
    pub fn client(&self) -> Result<BrokerClient, ClientError> {
        if self.session_file.is_some() {
            return Err(ClientError::Input(format!(
                "--session-file and {} are gone: the command line no longer uses a web session. Instead, {}",
                api::OLD_SESSION_FILE_ENV,
                api::TOKEN_HOWTO
            )));
        }
        let api = self.server.client()?;
        if let Some(path) = self.token_file.as_deref() {
            return Ok(api.with_token(api::read_token_file(path)?));
        }
        #[cfg(feature = "admin")]
        let kept = crate::cmd::keyring_store::from_keyring(&api);
        #[cfg(not(feature = "admin"))]
        let kept: Option<zeroize::Zeroizing<String>> = None;
        match kept {
            Some(token) => Ok(api.with_token(token)),
            None => Err(api::ApiError::NoToken.into()),
        }
    }
}

/// A single-threaded runtime for one command.
pub fn block_on<T>(fut: impl std::future::Future<Output = Result<T, ClientError>>) -> Result<T, ClientError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| ClientError::Local(format!("cannot start the async runtime: {e}")))?
        .block_on(fut)
}

/// Prints the error and gives its exit code (3 denied, 4 expired, 5 host refused, 1 otherwise).
/// Messages can carry the server's words (an approver's name, the server's error message), so
/// they go through [`printable`] (line breaks kept).
pub fn fail(e: &ClientError) -> ExitCode {
    let text = e.to_string();
    let safe: Vec<String> = text.split('\n').map(printable).collect();
    eprintln!("error: {}", safe.join("\n"));
    ExitCode::from(e.exit_code())
}

/// Runs a command body, mapping its error to a message and an exit code.
pub fn finish(r: Result<(), ClientError>) -> anyhow::Result<ExitCode> {
    Ok(match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    })
}

/// Prints `value` as pretty JSON.
pub fn print_json(value: &impl serde::Serialize) -> Result<(), ClientError> {
    let s = serde_json::to_string_pretty(value).map_err(|e| ClientError::Local(format!("json: {e}")))?;
    println!("{s}");
    Ok(())
}

/// Asks a yes/no question on the terminal; `false` when there is none.
pub fn confirm(question: &str) -> bool {
    use std::io::{BufRead, IsTerminal, Write};
    if !std::io::stdin().is_terminal() {
        return false;
    }
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    if std::io::stdin().lock().read_line(&mut line).is_err() {
        return false;
    }
    matches!(line.trim(), "y" | "Y" | "yes" | "YES" | "Yes")
}

/// The live "waiting for approval…" line on stderr: rewritten in place on a terminal, plain
/// lines (only when the text changes) otherwise.
#[derive(Debug, Default)]
pub struct StatusLine {
    tty: bool,
    last: String,
    shown: bool,
}

impl StatusLine {
    pub fn new() -> Self {
        Self { tty: std::io::IsTerminal::is_terminal(&std::io::stderr()), ..Self::default() }
    }

    pub fn show(&mut self, line: &str) {
        use std::io::Write;
        if line.is_empty() {
            return;
        }
        // Approver names come from the server.
        let line = printable(line);
        let line = line.as_str();
        if self.tty {
            eprint!("\r\x1b[2K{line}");
            let _ = std::io::stderr().flush();
            self.shown = true;
        } else if line != self.last {
            eprintln!("{line}");
        }
        self.last = line.to_string();
    }

    /// Ends the line (on a terminal).
    pub fn done(&mut self) {
        if self.tty && self.shown {
            eprint!("\r\x1b[2K");
            self.shown = false;
        }
    }
}

/// The consumer's common arguments.
#[derive(clap::Args, Debug)]
pub struct ConsumerArgs {
    #[command(flatten)]
    pub server: ServerArg,
    /// The host key file made by `blindvault host issue`.
    #[arg(long, env = "BLINDVAULT_HOST_KEY")]
    pub host_key: PathBuf,
}

impl ConsumerArgs {
    /// The host key file and a broker client that sends no cookie.
    pub fn open(&self) -> Result<(blindvault_client::hostfile::HostKeyFile, BrokerClient), ClientError> {
        let host = blindvault_client::hostfile::HostKeyFile::read(&self.host_key)?;
        Ok((host, self.server.client()?))
    }
}

/// Asks for `wanted`, with the live status line, and returns the secrets. Ctrl-C, SIGTERM or
/// SIGHUP while waiting withdraws the requests on the server before the command exits
/// (128 + the signal's number).
pub fn fetch(
    args: &ConsumerArgs,
    wanted: &[blindvault_client::broker::Wanted],
    purpose: &blindvault_core::identity::Purpose,
    window_secs: u64,
) -> Result<Vec<(String, blindvault_core::secret::SecretBytes)>, ClientError> {
    Ok(fetch_leased(args, wanted, purpose, window_secs)?.0)
}

/// The secrets of a run, by name, and a ticket per request for watching the leases.
pub type Leased =
    (Vec<(String, blindvault_core::secret::SecretBytes)>, Vec<blindvault_client::broker::LeaseTicket>);

/// [`fetch`], also giving a ticket per request for watching the leases.
pub fn fetch_leased(
    args: &ConsumerArgs,
    wanted: &[blindvault_client::broker::Wanted],
    purpose: &blindvault_core::identity::Purpose,
    window_secs: u64,
) -> Result<Leased, ClientError> {
    let (host, api) = args.open()?;
    let mut versions = blindvault_client::hostfile::VersionMemory::beside(&args.host_key)?;
    let mut line = StatusLine::new();
    let r = block_on(async {
        // Registered before any request exists, so no signal in between ends the process with
        // a request left open on the approvers' phones.
        let stop = stop_signals()?;
        blindvault_client::broker::fetch_secrets_leased(
            &api,
            &host,
            blindvault_client::broker::Ask { wanted, purpose, window_secs },
            &mut versions,
            &mut |s| line.show(s),
            stop,
        )
        .await
    });
    line.done();
    r
}

/// How often a command waiting for a step-up asks the server whether it is confirmed.
const STEP_UP_POLL: std::time::Duration = std::time::Duration::from_millis(500);

/// Runs a destructive admin call behind a step-up. The call is tried first with the session
/// alone, so that what is wrong with it (an unknown id) is said at once; when the server answers
/// `step_up_required`, a step-up for `action` on `target` starts, the link where the person
/// confirms it with their passkey in the web app is printed, the command waits for the
/// confirmation (a status line; Ctrl-C, SIGTERM or SIGHUP cancel the step-up and end the
/// command with 128 + the signal's number), then runs `act` again with a client that carries it.
pub fn with_step_up<T, F, Fut>(
    api: &BrokerClient,
    action: &str,
    target: &str,
    act: F,
) -> Result<T, ClientError>
where
    F: Fn(BrokerClient) -> Fut,
    Fut: std::future::Future<Output = Result<T, ClientError>>,
{
    let mut line = StatusLine::new();
    let r = block_on(async {
        let stop = stop_signals()?;
        match act(api.clone()).await {
            Err(ClientError::Api(e))
                if e.error_code() == Some(blindvault_client::api::ErrorCode::StepUpRequired) => {}
            other => return other,
        }
        let mut stop = std::pin::pin!(stop);
        let started = api.step_up_start(action, target).await?;
        let id = started.id.clone();
        eprintln!(
            "This needs a fresh confirmation with your passkey: {} {}",
            printable(action),
            printable(target)
        );
        eprintln!("Open this link in the web app, signed in as you, check what it names and confirm:");
        eprintln!("  {}/#/confirm/{}", api.base(), printable(&id));
        let until = blindvault_client::rfc3339_utc(u64::try_from(started.expires_at).unwrap_or(0));
        loop {
            let view = api.step_up_status(&id).await?;
            match view.status.as_deref().unwrap_or("pending") {
                "confirmed" => break,
                "pending" => line.show(&format!(
                    "waiting for your confirmation in the web app (until {until}; Ctrl-C cancels)…"
                )),
                "failed" => {
                    return Err(ClientError::NotConfirmed(
                        "the passkey confirmation was refused; run the command again".into(),
                    ));
                }
                "expired" => {
                    return Err(ClientError::Expired(
                        "the step-up expired before it was confirmed; run the command again".into(),
                    ));
                }
                "cancelled" => return Err(ClientError::NotConfirmed("the step-up was cancelled".into())),
                other => {
                    return Err(ClientError::NotConfirmed(format!(
                        "the step-up is {}; run the command again",
                        printable(other)
                    )));
                }
            }
            tokio::select! {
                signal = stop.as_mut() => {
                    let what = match api.step_up_cancel(&id).await {
                        Ok(()) => format!(
                            "stopped by {} while waiting for confirmation; the step-up was cancelled and nothing was done",
                            blindvault_client::broker::signal_name(signal)
                        ),
                        Err(e) => format!(
                            "stopped by {} while waiting for confirmation; nothing was done (the step-up could not be \
                             cancelled: {e}; it expires at {until})",
                            blindvault_client::broker::signal_name(signal)
                        ),
                    };
                    return Err(ClientError::Interrupted { signal, what });
                }
                () = tokio::time::sleep(STEP_UP_POLL) => {}
            }
        }
        line.show("confirmed");
        line.done();
        act(api.with_step_up(&id)).await
    });
    line.done();
    r
}

/// A future that resolves to the number of the first SIGINT, SIGTERM or SIGHUP (from now on,
/// these no longer end the process by themselves). Needs a running Tokio runtime.
fn stop_signals() -> Result<impl std::future::Future<Output = i32>, ClientError> {
    use tokio::signal::unix::{SignalKind, signal};
    let register = |kind: SignalKind| {
        signal(kind).map_err(|e| ClientError::Local(format!("cannot install signal handlers: {e}")))
    };
    let (mut int, mut term, mut hup) = (
        register(SignalKind::interrupt())?,
        register(SignalKind::terminate())?,
        register(SignalKind::hangup())?,
    );
    Ok(async move {
        tokio::select! {
            _ = int.recv() => 2,
            _ = term.recv() => 15,
            _ = hup.recv() => 1,
        }
    })
}

/// A server-supplied string made safe for a terminal: control characters (escape sequences that
/// could rewrite what is on screen, such as a fingerprint line) and characters that reorder or
/// hide text (bidirectional overrides, zero-width characters) become `?`.
pub fn printable(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() || blindvault_core::text::hides_or_reorders(c) { '?' } else { c })
        .collect()
}
