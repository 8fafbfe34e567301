//! The server's log never holds a secret: no session token, no setup code, no request body.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use anyhow::ensure;
use blindvault_testkit::{Backend, Device, TestServer};
use serde_json::json;

#[derive(Clone, Default)]
pub(crate) struct Buf(Arc<Mutex<Vec<u8>>>);

impl Buf {
    /// Everything logged so far.
    pub(crate) fn contents(&self) -> Vec<u8> {
        self.0.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut v) = self.0.lock() {
            v.extend_from_slice(b);
        }
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Captures every log line of this test binary, at debug level.
pub(crate) fn captured() -> Buf {
    static BUF: OnceLock<Buf> = OnceLock::new();
    BUF.get_or_init(|| {
        let buf = Buf::default();
        let writer = buf.clone();
        let _ = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .try_init();
        buf
    })
    .clone()
}

both!(
    log_holds_no_secrets,
    audit_head_is_logged_hourly_as_an_anchor,
    background_sweeper_logs_the_audit_head_at_start
);

/// The server logs its audit head at start and then hourly when it changed, so that a log kept
/// elsewhere holds anchors for `audit verify --anchor`. Driven on a server that is opened but not
/// serving (no background sweeper racing the test), with its clock moved by hand.
async fn audit_head_is_logged_hourly_as_an_anchor(b: Backend) -> anyhow::Result<()> {
    use blindvault_server::audit::{self, Event};
    use blindvault_server::broker::sweeper::{AUDIT_ANCHOR_LOG_SECS, log_audit_anchor};
    use blindvault_server::clock::Clock as _;
    let buf = captured();
    let db = blindvault_testkit::TestDb::create(b).await?;
    let config = blindvault_server::Config {
        data_dir: db.dir.path().to_owned(),
        database_url: Some(db.url.clone()),
        ..blindvault_server::Config::default()
    };
    let clock = Arc::new(blindvault_server::ManualClock::new());
    let (server, _code) = blindvault_server::Server::open(config, clock.clone()).await?;
    let state = server.state();
    // Unique rows (the two backends' tests share the log capture and the clock's start).
    let nonce = db.dir.path().display().to_string();
    let append = |i: i64| {
        let ev =
            Event { actor: None, action: "anchor.test", target: None, detail: json!({ "i": i, "n": nonce }) };
        audit::append(&state.store, clock.now() + i, ev)
    };
    let logged = |anchor: &audit::Anchor| {
        let text = String::from_utf8_lossy(&buf.contents()).into_owned();
        text.lines().filter(|l| l.contains("audit head") && l.contains(&format!("anchor={anchor}"))).count()
    };
    let head = || async { audit::head(&state.store).await?.ok_or_else(|| anyhow::anyhow!("empty log")) };
    append(1).await?;
    let mut last = None;
    log_audit_anchor(state, &mut last).await;
    let first = head().await?;
    ensure!(logged(&first) == 1, "the head is logged at start");
    ensure!(audit::verify(&state.store).await?.head.as_ref() == Some(&first), "it is the verified head");

    append(2).await?;
    let second = head().await?;
    clock.advance(AUDIT_ANCHOR_LOG_SECS - 1);
    log_audit_anchor(state, &mut last).await;
    ensure!(logged(&second) == 0, "not again within the hour");
    clock.advance(1);
    log_audit_anchor(state, &mut last).await;
    ensure!(logged(&second) == 1, "an hour later, the moved head");
    clock.advance(AUDIT_ANCHOR_LOG_SECS);
    log_audit_anchor(state, &mut last).await;
    ensure!(logged(&second) == 1 && logged(&first) == 1, "an unchanged head is not repeated");

    // Someone rewrites the row this server logged as its head: the next hourly check says so.
    let rewritten = |anchor: &audit::Anchor| {
        let text = String::from_utf8_lossy(&buf.contents()).into_owned();
        text.lines().any(|l| l.contains("audit log rewritten") && l.contains(&format!("anchor={anchor}")))
    };
    ensure!(!rewritten(&second), "no false alarm");
    sqlx::query("UPDATE audit_log SET hash = $1 WHERE seq = $2")
        .bind("f".repeat(64))
        .bind(second.seq)
        .execute(state.store.pool())
        .await?;
    clock.advance(AUDIT_ANCHOR_LOG_SECS);
    log_audit_anchor(state, &mut last).await;
    ensure!(rewritten(&second), "the rewrite of the logged head is reported");
    Ok(())
}

/// The server's background task does log it: a second instance started on a database that
/// already has a log writes its head at start.
async fn background_sweeper_logs_the_audit_head_at_start(b: Backend) -> anyhow::Result<()> {
    use blindvault_server::audit::{self, Event};
    let buf = captured();
    let first = TestServer::start(b).await?;
    let nonce = first.db.dir.path().display().to_string();
    let ev = Event { actor: None, action: "anchor.start", target: None, detail: json!({ "n": nonce }) };
    audit::append(&first.state.store, 1_700_000_000, ev).await?;
    let head = audit::head(&first.state.store).await?.ok_or_else(|| anyhow::anyhow!("empty log"))?;
    let _second = TestServer::start_sharing(&first).await?;
    let line = format!("anchor={head}");
    for _ in 0..100 {
        let text = String::from_utf8_lossy(&buf.contents()).into_owned();
        if text.lines().any(|l| l.contains("audit head") && l.contains(&line)) {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    anyhow::bail!("the second instance did not log {line} within 5 s")
}

async fn log_holds_no_secrets(b: Backend) -> anyhow::Result<()> {
    let buf = captured();
    let server = TestServer::start(b).await?;
    let code = server.setup_code.clone().unwrap_or_default();
    let mut phone = Device::new();
    let mut agent = server.agent();
    let c = phone.prepare_register(&server, &mut agent, "log-alice").await?;
    let client_data = c.credential["response"]["clientDataJSON"].as_str().unwrap_or("-").to_owned();
    agent
        .post("/api/register/finish", json!({"ceremony_id": c.ceremony_id, "credential": c.credential}))
        .await?
        .ok()?;
    agent.post("/api/setup/claim", json!({"code": code})).await?.ok()?;
    let mut login = phone.login(&server).await?;
    // A failing request with a body, too.
    let _ = login.agent.post("/api/setup/claim", json!({"code": "WRONG-SECRET-CODE"})).await?;
    let tokens = [agent.token.clone(), login.agent.token.clone()];
    ensure!(tokens.iter().all(Option::is_some));
    login.agent.post("/api/logout", json!({})).await?.ok()?;
    let text = buf.0.lock().map(|v| String::from_utf8_lossy(&v).into_owned()).unwrap_or_default();
    ensure!(text.contains("/api/register/finish"), "the capture works");
    for secret in tokens.iter().flatten().map(String::as_str).chain([
        code.as_str(),
        client_data.as_str(),
        "WRONG-SECRET-CODE",
    ]) {
        ensure!(secret.len() > 8 && !text.contains(secret), "a secret reached the log");
    }
    Ok(())
}
