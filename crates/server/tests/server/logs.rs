//! The server's log never holds a secret: no session token, no setup code, no request body.

use blindvault_api::paths;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use anyhow::{Context as _, ensure};
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

/// Captures every log line of this test binary, at debug level, through the server's own
/// subscriber (`blindvault_server::logging`, as `blindvault serve` installs it).
pub(crate) fn captured() -> Buf {
    static BUF: OnceLock<Buf> = OnceLock::new();
    BUF.get_or_init(|| {
        let buf = Buf::default();
        let writer = buf.clone();
        let _ = blindvault_server::logging::init("debug", move || writer.clone(), false);
        buf
    })
    .clone()
}

both!(
    log_holds_no_secrets,
    hostile_bodies_leave_short_lines_without_their_bytes,
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
        .post(paths::REGISTER_FINISH, json!({"ceremony_id": c.ceremony_id, "credential": c.credential}))
        .await?
        .ok()?;
    agent.post(paths::SETUP_CLAIM, json!({"code": code})).await?.ok()?;
    let mut login = phone.login(&server).await?;
    // A failing request with a body, too.
    let _ = login.agent.post(paths::SETUP_CLAIM, json!({"code": "WRONG-SECRET-CODE"})).await?;
    let tokens = [agent.token.clone(), login.agent.token.clone()];
    ensure!(tokens.iter().all(Option::is_some));
    login.agent.post(paths::LOGOUT, json!({})).await?.ok()?;
    let text = buf.0.lock().map(|v| String::from_utf8_lossy(&v).into_owned()).unwrap_or_default();
    ensure!(text.contains(paths::REGISTER_FINISH), "the capture works");
    for secret in tokens.iter().flatten().map(String::as_str).chain([
        code.as_str(),
        client_data.as_str(),
        "WRONG-SECRET-CODE",
    ]) {
        ensure!(secret.len() > 8 && !text.contains(secret), "a secret reached the log");
    }
    Ok(())
}

/// A 64 KiB body built to be logged: a login finish whose authenticator data announces
/// extensions and then carries 46,000 bytes that are no CBOR (webauthn-rs 0.6 logged the rest of
/// its input at ERROR: 150 KB lines), and one whose `clientDataJSON` is 45 KB of text. Every line
/// of the log stays under the cap and none holds the payload, in any encoding.
async fn hostile_bodies_leave_short_lines_without_their_bytes(b: Backend) -> anyhow::Result<()> {
    use blindvault_server::logging::{FIELD_MAX, LINE_MAX};
    use blindvault_testkit::tamper::client_data;
    let buf = captured();
    let server = TestServer::start(b).await?;
    let mut phone = Device::new();
    phone.register(&server, "log-h").await?;
    let pattern = b"HOSTILE-PAYLOAD-";
    let hostile: Vec<u8> = pattern.iter().copied().cycle().take(46_000).collect();

    let mut agent = server.agent();
    let mut c = phone.prepare_login(&server, &mut agent).await?;
    phone.resign_assertion(&mut c.credential, |_, ad| {
        ad.truncate(37);
        if let Some(flags) = ad.get_mut(32) {
            *flags |= 0x80;
        }
        ad.push(0xff);
        ad.extend_from_slice(&hostile);
    })?;
    let body = json!({ "ceremony_id": c.ceremony_id, "credential": c.credential });
    ensure!((60_000..64 * 1024).contains(&body.to_string().len()), "a body just under the cap");
    let r = agent.post(paths::LOGIN_FINISH, body).await?;
    ensure!((400..500).contains(&r.status), "{} {}", r.status, r.body);

    let mut c = phone.prepare_login(&server, &mut agent).await?;
    let text = String::from_utf8_lossy(&hostile[..45_000]).into_owned();
    phone.resign_assertion(&mut c.credential, |cd, _| {
        client_data(cd, |m| {
            m.insert("origin".into(), json!(text));
        })
    })?;
    let r = agent
        .post(paths::LOGIN_FINISH, json!({ "ceremony_id": c.ceremony_id, "credential": c.credential }))
        .await?;
    ensure!((400..500).contains(&r.status), "{} {}", r.status, r.body);

    // The formatter itself: a long field is cut, webauthn-rs's targets are dropped.
    let long = "x".repeat(10 * FIELD_MAX);
    tracing::error!(target: "webauthn_rs_core::internals", payload = %long, "library-probe");
    tracing::error!(payload = %long, other = ?long, "capped-field-probe");

    let log = String::from_utf8_lossy(&buf.contents()).into_owned();
    ensure!(log.contains(paths::LOGIN_FINISH), "the capture works");
    let marker_len = "…[truncated 4294967296 bytes]".len();
    for line in log.lines() {
        ensure!(line.len() <= LINE_MAX + marker_len, "a line of {} bytes", line.len());
    }
    let decimal = pattern.iter().map(u8::to_string).collect::<Vec<_>>().join(", ");
    let hex: String = pattern.iter().map(|b| format!("{b:02x}")).collect();
    let b64 = blindvault_testkit::broker::b64(&hostile[..48]);
    for needle in ["HOSTILE-PAYLOAD", &decimal, &hex, &b64[..32]] {
        let hit = log.lines().find(|l| l.contains(needle)).map(|l| l.chars().take(600).collect::<String>());
        ensure!(hit.is_none(), "the payload reached the log as {needle:?}: {hit:?}");
    }
    ensure!(!log.contains("library-probe"), "webauthn-rs's targets are off");
    let probe = log.lines().find(|l| l.contains("capped-field-probe")).context("the probe is logged")?;
    ensure!(probe.contains(&format!("…[truncated {} bytes]", 10 * FIELD_MAX - FIELD_MAX)), "{probe}");
    ensure!(probe.len() < 3 * FIELD_MAX, "both fields cut: {} bytes", probe.len());
    Ok(())
}

/// At the default level (`info`) an event is written even after a library asked whether a
/// quieter one would be and wrote nothing — what sqlx does for each PostgreSQL notice. Once,
/// every later event on that thread was dropped: on PostgreSQL the `audit head` anchors and the
/// stop messages never reached the log (found by the crash test, which reads anchors from it).
#[test]
fn an_event_after_a_library_asked_enabled_and_wrote_nothing_is_logged() {
    // `log` records reach tracing as in `blindvault serve` (the subscriber's init forwards them).
    let _ = captured();
    for format in [blindvault_server::logging::LogFormat::Text, blindvault_server::logging::LogFormat::Json] {
        let buf = Buf::default();
        let writer = buf.clone();
        let subscriber =
            blindvault_server::logging::subscriber_as(format, "info", move || writer.clone(), false);
        tracing::subscriber::with_default(subscriber, || {
            // What sqlx asks before its query log and each PostgreSQL notice, writing nothing.
            let _ = log::log_enabled!(target: "sqlx::query", log::Level::Debug)
                || tracing::enabled!(target: "sqlx::query", tracing::Level::DEBUG);
            tracing::info!(anchor = "7:ab", "audit head");
            tracing::warn!("and a warning after it");
        });
        let text = String::from_utf8_lossy(&buf.contents()).into_owned();
        assert!(text.contains("audit head") && text.contains("7:ab"), "{format:?}: {text:?}");
        assert!(text.contains("and a warning after it"), "{format:?}: {text:?}");
    }
}
