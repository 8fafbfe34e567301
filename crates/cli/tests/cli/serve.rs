//! `blindvault serve` on the embedded default: prints the URL and, on first start only, the
//! setup code — to stdout, never to the log (stderr) and never in plaintext into the database.

#![allow(clippy::indexing_slicing)]

use blindvault_api::paths;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, ensure};

struct Served {
    stdout: Vec<String>,
    stderr: String,
}

fn serve_once(data_dir: &std::path::Path) -> anyhow::Result<Served> {
    serve_once_as(data_dir, "text")
}

fn serve_once_as(data_dir: &std::path::Path, log_format: &str) -> anyhow::Result<Served> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_blindvault"))
        .args(["serve", "--listen", "127.0.0.1:0", "--origin", "http://localhost:8080", "--data-dir"])
        .arg(data_dir)
        .env_remove("BLINDVAULT_DATABASE_URL")
        .env("BLINDVAULT_LOG", "debug")
        .env("BLINDVAULT_LOG_FORMAT", log_format)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let out = child.stdout.take().context("stdout")?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut stdout = Vec::new();
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(20)) {
        let done = line.starts_with("open ");
        stdout.push(line);
        if done {
            break;
        }
    }
    // A first-start code line follows "open" immediately when there is one.
    if let Ok(line) = rx.recv_timeout(Duration::from_millis(500)) {
        stdout.push(line);
    }
    let addr = stdout
        .iter()
        .find_map(|l| l.strip_prefix("blindvault server listening on "))
        .and_then(|l| l.split(' ').next())
        .context("no listening line")?
        .to_owned();
    // One request so that the log has something in it.
    let _ = std::net::TcpStream::connect(&addr).map(|mut s| {
        use std::io::Write;
        let _ = s.write_all(b"GET /api/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        let mut buf = String::new();
        let _ = std::io::Read::read_to_string(&mut s, &mut buf);
    });
    child.kill()?;
    let output = child.wait_with_output()?;
    Ok(Served { stdout, stderr: String::from_utf8_lossy(&output.stderr).into_owned() })
}

#[test]
fn serve_prints_url_and_setup_code_only_on_the_terminal() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let first = serve_once(dir.path())?;
    ensure!(first.stdout.iter().any(|l| l == "open http://localhost:8080"), "{:?}", first.stdout);
    let code = first
        .stdout
        .iter()
        .find_map(|l| l.strip_prefix("first start: claim the admin role with the one-time setup code "))
        .context("no setup code printed")?
        .to_owned();
    ensure!(code.len() >= 20);
    ensure!(first.stderr.contains(paths::HEALTH), "the log works: {}", first.stderr);
    ensure!(!first.stderr.contains(&code), "setup code in the log");
    // The database file holds no plaintext code.
    let db = std::fs::read(dir.path().join("blindvault.db"))?;
    let wal = std::fs::read(dir.path().join("blindvault.db-wal")).unwrap_or_default();
    let needle = code.as_bytes();
    ensure!(
        !db.windows(needle.len()).chain(wal.windows(needle.len())).any(|w| w == needle),
        "code stored in plaintext"
    );
    // Still unclaimed: the next start prints a fresh code (the old one is replaced).
    let second = serve_once(dir.path())?;
    ensure!(
        second.stdout.iter().any(|l| l.contains("setup code") && !l.contains(&code)),
        "{:?}",
        second.stdout
    );
    Ok(())
}

/// `BLINDVAULT_LOG_FORMAT=json`: every log line is one JSON object; the request's line has its
/// method, path and status as fields.
#[test]
fn serve_logs_json_lines_on_request() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let served = serve_once_as(dir.path(), "json")?;
    let mut lines = 0;
    let mut request_seen = false;
    for line in served.stderr.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).with_context(|| format!("not a JSON line: {line}"))?;
        ensure!(v["timestamp"].is_string() && v["level"].is_string() && v["target"].is_string(), "{line}");
        lines += 1;
        let f = &v["fields"];
        if f["message"] == "request" && f["path"] == paths::HEALTH {
            ensure!(f["method"] == "GET" && f["status"] == 200, "{line}");
            request_seen = true;
        }
    }
    ensure!(lines > 1 && request_seen, "{}", served.stderr);
    Ok(())
}

/// `blindvault web verify`: a server serving this build's web app passes; one serving anything
/// else (here: a stand-in that answers every file with other bytes) is reported, exit 6.
#[tokio::test]
async fn web_verify_tells_the_served_app_from_this_build() -> anyhow::Result<()> {
    use blindvault_testkit::{Backend, TestServer};
    let server = TestServer::start(Backend::Sqlite).await?;
    let base = server.base.clone();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_blindvault")).args(["web", "verify", "--server", &base]).output()
    })
    .await??;
    let stdout = String::from_utf8_lossy(&out.stdout);
    ensure!(out.status.code() == Some(0), "{stdout} {}", String::from_utf8_lossy(&out.stderr));
    ensure!(stdout.contains("ok                   /app.js") && stdout.contains("exactly"), "{stdout}");

    // A server that serves other code.
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for mut conn in listener.incoming().map_while(Result::ok) {
            let mut buf = [0u8; 4096];
            let _ = conn.read(&mut buf);
            let body = "console.log('not the release')";
            let _ = write!(
                conn,
                "HTTP/1.1 200 OK\r\ncontent-type: text/javascript\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    let url = format!("http://127.0.0.1:{}", addr.port());
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_blindvault"))
            .args(["web", "verify", "--server", &url, "--format", "json"])
            .output()
    })
    .await??;
    ensure!(out.status.code() == Some(6), "exit {:?}", out.status.code());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    ensure!(report["ok"] == false && report["csp_ok"] == false, "{report}");
    ensure!(report["files"].as_array().is_some_and(|f| f.iter().all(|c| c["ok"] == false)), "{report}");
    Ok(())
}

/// `blindvault serve` stops cleanly on SIGTERM (what service managers send): exit 0 within a
/// bounded wait, "stopped" in the log, and the write-ahead log checkpointed into the database
/// file. The data directory it creates is 0700 and the database files 0600.
#[test]
fn serve_stops_on_sigterm_and_keeps_its_files_private() -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("data");
    let mut child = Command::new(env!("CARGO_BIN_EXE_blindvault"))
        .args(["serve", "--listen", "127.0.0.1:0", "--origin", "http://localhost:8080", "--data-dir"])
        .arg(&data)
        .env_remove("BLINDVAULT_DATABASE_URL")
        .env("BLINDVAULT_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let out = child.stdout.take().context("stdout")?;
    let mut lines = BufReader::new(out).lines();
    // Started once it prints its URL (a closed stdout means it exited).
    loop {
        let line = lines.next().context("serve exited before it printed its URL")??;
        if line.starts_with("open ") {
            break;
        }
    }
    let mode = |p: &std::path::Path| std::fs::metadata(p).map(|m| m.permissions().mode() & 0o777);
    ensure!(mode(&data)? == 0o700, "data directory mode {:o}", mode(&data)?);
    let db = data.join("blindvault.db");
    for f in [db.clone(), data.join("blindvault.db-wal"), data.join("blindvault.db-shm")] {
        if f.exists() {
            ensure!(mode(&f)? == 0o600, "{} mode {:o}", f.display(), mode(&f)?);
        }
    }
    // A second server on the same SQLite database is refused, saying why (the first goes on).
    let second = Command::new(env!("CARGO_BIN_EXE_blindvault"))
        .args(["serve", "--listen", "127.0.0.1:0", "--origin", "http://localhost:8080", "--data-dir"])
        .arg(&data)
        .env_remove("BLINDVAULT_DATABASE_URL")
        .stdin(Stdio::null())
        .output()?;
    let why = String::from_utf8_lossy(&second.stderr);
    ensure!(
        !second.status.success() && why.contains("another `blindvault serve` is using the database"),
        "{why}"
    );
    // Refused before it opened the database: no new setup code replaced the first one's.
    ensure!(!String::from_utf8_lossy(&second.stdout).contains("setup code"), "the second one started");
    ensure!(mode(&data.join("blindvault.db-serve.lock"))? == 0o600, "lock file mode");
    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status()?;
    ensure!(killed.success(), "kill -TERM");
    // Bounded: the server gives open connections 5 s; allow far more before calling it hung.
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if started.elapsed() > Duration::from_secs(60) {
            child.kill()?;
            anyhow::bail!("serve did not stop within 60 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().context("stderr")?, &mut stderr)?;
    ensure!(status.code() == Some(0), "exit {status:?}: {stderr}");
    ensure!(stderr.contains("SIGTERM") && stderr.contains("blindvault server stopped"), "{stderr}");
    // Checkpointed: the database file alone holds the data (the setup code's hash among it).
    let wal = std::fs::metadata(data.join("blindvault.db-wal")).map(|m| m.len()).unwrap_or(0);
    ensure!(wal == 0, "{wal} bytes left in the write-ahead log");
    let bytes = std::fs::read(&db)?;
    ensure!(bytes.windows(b"setup_code_sha256".len()).any(|w| w == b"setup_code_sha256"), "data in the file");
    ensure!(mode(&db)? == 0o600, "database file mode {:o}", mode(&db)?);
    Ok(())
}

/// `serve` (which holds the session-signing key and the database's secrets) dumps no core: its
/// soft core file size limit is 0 and it is not dumpable — a process of the same user and
/// capabilities cannot open its memory (`/proc/PID/mem`), which the kernel refuses only for a
/// non-dumpable process. Needs root and util-linux `setpriv` (see `procmem`).
#[test]
fn serve_dumps_no_core_and_is_not_dumpable() -> anyhow::Result<()> {
    use crate::procmem;
    let tmp = tempfile::tempdir()?;
    let mut child = Command::new(procmem::NO_PTRACE[0])
        .args(&procmem::NO_PTRACE[1..])
        .arg(env!("CARGO_BIN_EXE_blindvault"))
        .args(["serve", "--listen", "127.0.0.1:0", "--origin", "http://localhost:8080", "--data-dir"])
        .arg(tmp.path().join("data"))
        .env_remove("BLINDVAULT_DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let out = child.stdout.take().context("stdout")?;
    let mut lines = BufReader::new(out).lines();
    let started = loop {
        match lines.next() {
            Some(Ok(line)) if line.starts_with("open ") => break Ok(()),
            Some(Ok(_)) => {}
            Some(Err(e)) => break Err(anyhow::Error::from(e)),
            None => break Err(anyhow::anyhow!("serve exited before it printed its URL")),
        }
    };
    let pid = child.id();
    let checked = started.and_then(|()| {
        let limit = procmem::core_limit(pid)?;
        ensure!(limit == "0", "serve's soft core file size limit is {limit}, not 0");
        ensure!(
            !procmem::peer_can_read(pid)?,
            "serve is dumpable: a process of its user can read its memory"
        );
        Ok(())
    });
    child.kill()?;
    child.wait()?;
    checked
}
