//! The real `blindvault serve` as a child process, for tests and benchmarks that kill it
//! (SIGKILL), restart it, or run several instances: started on a database a [`crate::TestServer`]
//! made, at an address and origin of the caller's choosing, with every flood limit set generous
//! (none of these callers is about them), its output appended to a log file.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context as _, bail, ensure};
use blindvault_api::paths;

/// A server process and how to start it again.
#[derive(Debug)]
pub struct ServerProcess {
    bin: PathBuf,
    child: Option<Child>,
    args: Vec<String>,
    log: PathBuf,
    /// `http://ADDR`: where requests go.
    pub base: String,
}

impl ServerProcess {
    /// A server (not started) of `bin` on `listen`, for `origin`, on `database_url` with
    /// `data_dir`, logging to `log`.
    pub fn new(
        bin: &Path,
        listen: std::net::SocketAddr,
        origin: &str,
        database_url: &str,
        data_dir: &Path,
        log: &Path,
    ) -> Self {
        let mut args: Vec<String> = ["serve", "--listen", &listen.to_string(), "--origin", origin]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        args.extend(["--database-url".into(), database_url.to_owned()]);
        args.extend(["--data-dir".into(), data_dir.display().to_string()]);
        for flag in [
            "--rate-limit-per-minute",
            "--rate-limit-burst",
            "--account-rate-limit-per-minute",
            "--account-rate-limit-burst",
            "--host-rate-limit-per-minute",
            "--host-rate-limit-burst",
            "--max-open-requests-per-host",
            "--max-event-streams-per-session",
        ] {
            args.extend([flag.to_owned(), "1000000".to_owned()]);
        }
        Self { bin: bin.to_owned(), child: None, args, log: log.to_owned(), base: format!("http://{listen}") }
    }

    /// Adds `flag value` to the command line of every later start.
    pub fn arg(&mut self, flag: &str, value: &str) -> &mut Self {
        self.args.extend([flag.to_owned(), value.to_owned()]);
        self
    }

    /// Starts it (its output appended to the log).
    pub fn start(&mut self) -> anyhow::Result<()> {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&self.log)?;
        let child = Command::new(&self.bin)
            .args(&self.args)
            .env_remove("BLINDVAULT_DATABASE_URL")
            .env("BLINDVAULT_LOG", "info")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("starting blindvault serve")?;
        self.child = Some(child);
        Ok(())
    }

    /// The running process's id.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// SIGKILL, then waits for the process to be gone.
    pub fn kill(&mut self) -> anyhow::Result<()> {
        if let Some(mut child) = self.child.take() {
            child.kill()?;
            child.wait()?;
        }
        Ok(())
    }

    /// Waits (bounded: 60 s) until `/readyz` answers 200; fails at once if the process exited.
    pub async fn wait_ready(&mut self) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                let log = std::fs::read_to_string(&self.log).unwrap_or_default();
                bail!("the server exited ({status}) while starting:\n{log}");
            }
            let ready = crate::Agent::new(&self.base, None).get(paths::READYZ).await;
            if ready.is_ok_and(|r| r.status == 200) {
                return Ok(());
            }
            ensure!(tokio::time::Instant::now() < deadline, "the server was not ready within 60 s");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.kill();
    }
}
