//! An approver's event stream (`GET /api/broker/events`, server-sent events) read as text: open
//! it with a session's cookie, then wait — with a deadline, never a fixed pause — until it has
//! sent something.

use std::time::Duration;

use anyhow::Context as _;
use blindvault_api::paths;

use crate::{Agent, TestServer};

/// How long [`EventStream::read_until`] waits for what it looks for.
const WAIT: Duration = Duration::from_secs(20);

/// The `cookie` header of `agent`'s session on `server`.
pub fn session_cookie(server: &TestServer, agent: &Agent) -> anyhow::Result<String> {
    let token = agent.token.as_deref().context("the agent has no session")?;
    Ok(format!("{}={token}", server.state.config.session_cookie_name()))
}

/// Opens the event stream with `cookie`, `query` (`""` or `?…`) and `headers`; the response is
/// returned whatever its status.
pub async fn open(
    server: &TestServer,
    cookie: &str,
    query: &str,
    headers: &[(&str, &str)],
) -> anyhow::Result<reqwest::Response> {
    let mut req = reqwest::Client::new()
        .get(format!("{}{}{query}", server.base, paths::BROKER_EVENTS))
        .header("cookie", cookie);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    Ok(req.send().await?)
}

/// An open event stream and everything it has sent so far.
#[derive(Debug)]
pub struct EventStream {
    resp: reqwest::Response,
    seen: String,
}

impl EventStream {
    /// Opens the stream of `agent`'s session; refuses any status but 200.
    pub async fn of(server: &TestServer, agent: &Agent) -> anyhow::Result<Self> {
        let resp = open(server, &session_cookie(server, agent)?, "", &[]).await?;
        Self::from_response(resp)
    }

    /// Reads an opened stream; refuses any status but 200.
    pub fn from_response(resp: reqwest::Response) -> anyhow::Result<Self> {
        anyhow::ensure!(resp.status() == 200, "the event stream answered {}", resp.status());
        Ok(Self { resp, seen: String::new() })
    }

    /// Reads until the stream has sent `want` (within 20 s); everything sent so far.
    pub async fn read_until(&mut self, want: &str) -> anyhow::Result<&str> {
        let deadline = tokio::time::Instant::now() + WAIT;
        while !self.seen.contains(want) {
            match tokio::time::timeout_at(deadline, self.resp.chunk()).await {
                Ok(Ok(Some(c))) => self.seen.push_str(&String::from_utf8_lossy(&c)),
                Ok(Ok(None)) => anyhow::bail!("the stream ended before {want:?}: {:?}", self.seen),
                Ok(Err(e)) => return Err(e.into()),
                Err(_) => anyhow::bail!("nothing like {want:?} within {} s: {:?}", WAIT.as_secs(), self.seen),
            }
        }
        Ok(&self.seen)
    }

    /// Everything the stream has sent so far.
    pub fn seen(&self) -> &str {
        &self.seen
    }

    /// Whether the server has closed the stream (its next read ends or fails).
    pub async fn is_closed(&mut self) -> bool {
        matches!(self.resp.chunk().await, Ok(None) | Err(_))
    }
}
