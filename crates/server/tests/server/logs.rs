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

both!(log_holds_no_secrets);

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
