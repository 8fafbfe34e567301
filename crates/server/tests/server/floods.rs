//! Floods a client can aim at the broker, each bounded by a named limit and answered 429 with a
//! stable code, while a well-behaved client (another host, another session) is still served:
//! a host's open requests (`max_open_requests_per_host`, counted in the database), a host's
//! calls (`host_rate_limit_per_minute` / `host_rate_limit_burst`, on the injected clock) and a
//! session's event streams (`max_event_streams_per_session`, per instance) and the open
//! requests before an org's approvers (`max_open_requests_per_org`, counted in the database).
//! During each, a well-behaved client ([`Bystander`]) keeps asking and must be served every
//! time; its p50 and p99 latency are printed (never asserted: the machine's speed is not the
//! subject).

use anyhow::{Context, ensure};
use blindvault_api::ErrorCode;
use blindvault_api::broker::PollResult;
use blindvault_api::paths;
use blindvault_core::ids::EntryId;
use blindvault_core::keys::HostSecretKey;
use blindvault_core::policy::Policy;
use blindvault_testkit::broker::{Consumer, World};
use blindvault_testkit::events::{self, EventStream};
use blindvault_testkit::{Backend, Resp, ServerOptions, TestServer};

both!(
    a_host_s_open_requests_are_capped_and_another_host_is_served,
    open_requests_are_counted_across_instances_and_concurrent_creates,
    a_host_s_calls_are_rate_limited_and_another_host_is_served,
    a_session_s_event_streams_are_capped_and_another_session_is_served,
    the_org_s_open_requests_are_capped_across_hosts_and_instances,
);

/// A well-behaved client during a flood: makes its call again and again (a short pause between)
/// until [`Bystander::finish`]; every answer must be a success.
pub(crate) struct Bystander {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    task: tokio::task::JoinHandle<anyhow::Result<Vec<std::time::Duration>>>,
}

impl Bystander {
    /// Starts calling `call` (its answer's status) in a task of its own.
    pub(crate) fn start<F, Fut>(mut call: F) -> Self
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: std::future::Future<Output = anyhow::Result<u16>> + Send + 'static,
    {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let task = tokio::spawn(async move {
            let mut took = Vec::new();
            loop {
                let started = std::time::Instant::now();
                let status = call().await?;
                took.push(started.elapsed());
                ensure!((200..300).contains(&status), "the well-behaved client was answered {status}");
                if flag.load(std::sync::atomic::Ordering::Acquire) {
                    return Ok(took);
                }
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        });
        Self { stop, task }
    }

    /// `GET path` on `base` (no session), again and again.
    pub(crate) fn get(base: &str, path: &str) -> Self {
        let (client, url) = (reqwest::Client::new(), format!("{base}{path}"));
        Self::start(move || {
            let req = client.get(&url);
            async move { Ok(req.send().await?.status().as_u16()) }
        })
    }

    /// `GET path` with `agent` (its session), again and again.
    pub(crate) fn agent_get(agent: &blindvault_testkit::Agent, path: &'static str) -> Self {
        let agent = agent.clone();
        Self::start(move || {
            let mut a = agent.clone();
            async move { Ok(a.get(path).await?.status) }
        })
    }

    /// Stops the client, checks it was served every time and prints its latency during `flood`.
    pub(crate) async fn finish(self, flood: &str) -> anyhow::Result<()> {
        self.stop.store(true, std::sync::atomic::Ordering::Release);
        let mut took = self.task.await??;
        took.sort();
        let at = |q: usize| took[(took.len() * q).div_ceil(100).clamp(1, took.len()) - 1];
        // On the real stderr: the harness would hold back `eprintln!`.
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "flood {flood}: a well-behaved client was served {} times, p50 {:.1} ms, p99 {:.1} ms",
            took.len(),
            at(50).as_secs_f64() * 1e3,
            at(99).as_secs_f64() * 1e3,
        );
        Ok(())
    }
}

fn refused_with(r: &Resp, code: ErrorCode) -> bool {
    r.status == 429 && r.code() == Some(code)
}

/// Past `max_open_requests_per_host` open requests a host's next one is refused (429
/// `too_many_open_requests`, saying what to do) and nothing is stored; another host asks as
/// usual. A request that ends (denied, withdrawn, or past its deadline) frees its place.
async fn a_host_s_open_requests_are_capped_and_another_host_is_served(b: Backend) -> anyhow::Result<()> {
    let opts = ServerOptions { max_open_requests_per_host: Some(3), ..ServerOptions::default() };
    let mut w = World::new_with(b, &["alice"], opts).await?;
    let entry = EntryId::generate(&mut blindvault_testkit::broker::os_rng());
    w.put_secret(entry, 1, Policy::AnyOf { n: 1 }, b"s").await?;
    let (flooder, flooder_cert) = w.host(&[entry]).await?;
    let (good, good_cert) = w.host(&[entry]).await?;
    let bystander = Bystander::agent_get(&w.approvers[0].session.agent, paths::BROKER_INBOX);
    let mut open = Vec::new();
    for _ in 0..3 {
        let (c, r) = Consumer::ask(&w.server, &flooder, &flooder_cert, entry).await?;
        ensure!(r.status == 201, "{r:?}");
        open.push(c);
    }
    let (refused, r) = Consumer::ask(&w.server, &flooder, &flooder_cert, entry).await?;
    ensure!(refused_with(&r, ErrorCode::TooManyOpenRequests), "the 4th open request: {r:?}");
    let message = r.error()?.message;
    ensure!(message.contains("max_open_requests_per_host") && message.contains("wait"), "{message}");
    ensure!(refused.poll(&w.server).await?.status == 404, "the refused request was not stored");
    // Another host is served meanwhile.
    let (other, r) = Consumer::ask(&w.server, &good, &good_cert, entry).await?;
    ensure!(r.status == 201, "another host: {r:?}");
    // A denied request and a withdrawn one free their places; the flooder's polls still work.
    ensure!(matches!(open[0].result(&w.server).await?, PollResult::Pending { .. }));
    let deny = paths::with_id(paths::BROKER_REQUEST_DENY, &open[0].id());
    w.approvers[0].session.agent.post(&deny, serde_json::json!({})).await?.ok()?;
    open[1].cancel_with(&w.server, &open[1].token).await?.ok()?;
    for _ in 0..2 {
        let (_, r) = Consumer::ask(&w.server, &flooder, &flooder_cert, entry).await?;
        ensure!(r.status == 201, "after two ended: {r:?}");
    }
    let (_, r) = Consumer::ask(&w.server, &flooder, &flooder_cert, entry).await?;
    ensure!(refused_with(&r, ErrorCode::TooManyOpenRequests), "full again: {r:?}");
    bystander.finish("open requests per host").await?;
    // Requests past their deadline count no more, swept or not (they expire 300 s after
    // they were signed).
    w.server.clock.advance(301);
    let (_, r) = Consumer::ask(&w.server, &flooder, &flooder_cert, entry).await?;
    ensure!(r.status == 201, "after the open ones expired: {r:?}");
    ensure!(matches!(other.result(&w.server).await?, PollResult::Expired));
    Ok(())
}

/// The count is the database's, taken under the host's lock in the inserting transaction: a
/// second instance sees the first one's requests, and creates racing on one instance (and, on
/// PostgreSQL, on two) never pass the limit together.
async fn open_requests_are_counted_across_instances_and_concurrent_creates(b: Backend) -> anyhow::Result<()> {
    let opts = ServerOptions { max_open_requests_per_host: Some(3), ..ServerOptions::default() };
    let mut w = World::new_with(b, &["alice"], opts.clone()).await?;
    let entry = EntryId::generate(&mut blindvault_testkit::broker::os_rng());
    w.put_secret(entry, 1, Policy::AnyOf { n: 1 }, b"s").await?;
    let second = TestServer::start_sharing_with(&w.server, opts).await?;
    // Sequentially: two through the first instance, one through the second, then both refuse.
    let (host, cert) = w.host(&[entry]).await?;
    for server in [&w.server, &w.server, &second] {
        let (_, r) = Consumer::ask(server, &host, &cert, entry).await?;
        ensure!(r.status == 201, "{r:?}");
    }
    for server in [&second, &w.server] {
        let (_, r) = Consumer::ask(server, &host, &cert, entry).await?;
        ensure!(refused_with(&r, ErrorCode::TooManyOpenRequests), "{r:?}");
    }
    // Eight at once through one instance: exactly three are stored.
    let (host, cert) = w.host(&[entry]).await?;
    let ask = || Consumer::ask(&w.server, &host, &cert, entry);
    let all = tokio::join!(ask(), ask(), ask(), ask(), ask(), ask(), ask(), ask());
    let all = [all.0?, all.1?, all.2?, all.3?, all.4?, all.5?, all.6?, all.7?];
    let created = all.iter().filter(|(_, r)| r.status == 201).count();
    ensure!(
        created == 3
            && all.iter().all(|(_, r)| r.status == 201 || refused_with(r, ErrorCode::TooManyOpenRequests)),
        "{created} created: {:?}",
        all.iter().map(|(_, r)| r.status).collect::<Vec<_>>()
    );
    if b == Backend::Postgres {
        // Eight at once, alternating between the two instances (two connections, two pools).
        let (host, cert) = w.host(&[entry]).await?;
        let (a, s) = (&w.server, &second);
        let ask = |server| Consumer::ask(server, &host, &cert, entry);
        let all = tokio::join!(ask(a), ask(s), ask(a), ask(s), ask(a), ask(s), ask(a), ask(s));
        let all = [all.0?, all.1?, all.2?, all.3?, all.4?, all.5?, all.6?, all.7?];
        let created = all.iter().filter(|(_, r)| r.status == 201).count();
        ensure!(
            created == 3,
            "{created} created across instances: {:?}",
            all.iter().map(|(_, r)| r.status).collect::<Vec<_>>()
        );
    }
    Ok(())
}

/// A host's requests and result polls share one bucket (`host_rate_limit_*`): past it, 429
/// `rate_limited` with the wait, until the clock moves on. Another host's bucket is its own, and
/// a call that has not proven it is the host's (a wrong poll token, a request signed by another
/// key) is refused for that and spends nothing.
async fn a_host_s_calls_are_rate_limited_and_another_host_is_served(b: Backend) -> anyhow::Result<()> {
    // One call a second, three at once.
    let opts = ServerOptions { host_rate_limit: Some((60, 3)), ..ServerOptions::default() };
    let mut w = World::new_with(b, &["alice"], opts).await?;
    let entry = EntryId::generate(&mut blindvault_testkit::broker::os_rng());
    w.put_secret(entry, 1, Policy::AnyOf { n: 1 }, b"s").await?;
    let (flooder, flooder_cert) = w.host(&[entry]).await?;
    let (good, good_cert) = w.host(&[entry]).await?;
    let bystander = Bystander::agent_get(&w.approvers[0].session.agent, paths::BROKER_INBOX);
    let (c, r) = Consumer::ask(&w.server, &flooder, &flooder_cert, entry).await?;
    ensure!(r.status == 201, "{r:?}");
    // A forged request naming the flooder's certificate and a poll with a guessed token are
    // refused for what they are, whatever the flooder's budget.
    let forger = HostSecretKey::generate(&mut blindvault_testkit::broker::os_rng());
    let (_, r) = Consumer::ask(&w.server, &forger, &flooder_cert, entry).await?;
    ensure!(r.status == 403 && r.code() == Some(ErrorCode::RequestInvalid), "{r:?}");
    let guess = Consumer { token: "guess".into(), ..clone_consumer(&c) };
    ensure!(guess.poll(&w.server).await?.status == 404);
    // A replay of the flooder's own request (approvers see it signed) is refused as one, ten
    // times, and spends nothing either.
    for _ in 0..10 {
        let body = blindvault_api::broker::CreateRequest {
            signed_request: c.req.clone(),
            poll_token_hash: Some(blindvault_testkit::broker::hex(&<sha2::Sha256 as sha2::Digest>::digest(
                c.token.as_bytes(),
            ))),
        };
        let r = blindvault_testkit::Agent::new(&w.server.base, None)
            .post(paths::BROKER_REQUESTS, serde_json::to_value(&body)?)
            .await?;
        ensure!(r.status == 409 && r.code() == Some(ErrorCode::DuplicateRequest), "{r:?}");
    }
    // Two polls spend the rest of the burst; the next poll and the next request are refused.
    for _ in 0..2 {
        ensure!(matches!(c.result(&w.server).await?, PollResult::Pending { .. }));
    }
    let r = c.poll(&w.server).await?;
    ensure!(
        refused_with(&r, ErrorCode::RateLimited) && r.retry_after.as_deref() == Some("1"),
        "the 4th call: {r:?}"
    );
    ensure!(r.error()?.retry_after_secs == Some(1), "{r:?}");
    let (_, r) = Consumer::ask(&w.server, &flooder, &flooder_cert, entry).await?;
    ensure!(refused_with(&r, ErrorCode::RateLimited), "a request over the limit: {r:?}");
    // Another host is served meanwhile: its request and its polls.
    let (other, r) = Consumer::ask(&w.server, &good, &good_cert, entry).await?;
    ensure!(r.status == 201, "another host: {r:?}");
    for _ in 0..2 {
        ensure!(matches!(other.result(&w.server).await?, PollResult::Pending { .. }));
    }
    bystander.finish("calls per host").await?;
    // A second later the flooder has one call again, and only one.
    w.server.clock.advance(1);
    ensure!(matches!(c.result(&w.server).await?, PollResult::Pending { .. }));
    ensure!(refused_with(&c.poll(&w.server).await?, ErrorCode::RateLimited));
    Ok(())
}

fn clone_consumer(c: &Consumer) -> Consumer {
    Consumer {
        eph: blindvault_core::keys::EphemeralSecretKey::generate(&mut blindvault_testkit::broker::os_rng()),
        req: c.req.clone(),
        token: c.token.clone(),
    }
}

/// Opens an event stream with `cookie`; the response (its body unread).
async fn open_stream(server: &TestServer, cookie: &str) -> anyhow::Result<reqwest::Response> {
    events::open(server, cookie, "", &[]).await
}

/// Past `max_event_streams_per_session` open streams a session's next one is refused (429
/// `too_many_streams`); another session opens its own. A stream whose client goes away gives
/// its place back.
async fn a_session_s_event_streams_are_capped_and_another_session_is_served(
    b: Backend,
) -> anyhow::Result<()> {
    let opts = ServerOptions { max_event_streams_per_session: Some(2), ..ServerOptions::default() };
    let w = World::new_with(b, &["alice", "bob"], opts).await?;
    let cookie_of = |i: usize| events::session_cookie(&w.server, &w.approvers[i].session.agent);
    let (alice, bob) = (cookie_of(0)?, cookie_of(1)?);
    let bystander = Bystander::agent_get(&w.approvers[1].session.agent, paths::BROKER_INBOX);
    let mut streams = Vec::new();
    for _ in 0..2 {
        let mut s = EventStream::from_response(open_stream(&w.server, &alice).await?)?;
        s.read_until("event: ready").await?;
        streams.push(s);
    }
    let refused = open_stream(&w.server, &alice).await?;
    ensure!(refused.status() == 429, "the 3rd stream: {}", refused.status());
    let body: serde_json::Value = refused.json().await?;
    ensure!(body["error"]["code"] == "too_many_streams", "{body}");
    // Another session (bob's) is served meanwhile.
    let mut other =
        EventStream::from_response(open_stream(&w.server, &bob).await?).context("another session")?;
    other.read_until("event: ready").await?;
    bystander.finish("event streams per session").await?;
    // One of alice's streams is closed by its client: once the server has seen the connection
    // go, the place is free again (awaited with a deadline, not a fixed pause).
    drop(streams.pop());
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    let again = loop {
        let s = open_stream(&w.server, &alice).await?;
        if s.status() == 200 {
            break s;
        }
        ensure!(s.status() == 429, "{}", s.status());
        ensure!(tokio::time::Instant::now() < deadline, "the closed stream's place was never given back");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    let mut again = EventStream::from_response(again)?;
    again.read_until("event: ready").await?;
    ensure!(open_stream(&w.server, &alice).await?.status() == 429, "still at most two");
    Ok(())
}

/// Past `max_open_requests_per_org` open requests — every host's together: what the approvers
/// are being asked at once — the next one is refused (429 `too_many_org_requests`, saying what
/// to do), whichever host asks and although each is under its own cap; nothing is stored. A
/// request that ends frees its place. The count is the database's, taken under the org's lock:
/// creates racing from several hosts (and, on PostgreSQL, through two instances) never pass it.
async fn the_org_s_open_requests_are_capped_across_hosts_and_instances(b: Backend) -> anyhow::Result<()> {
    let opts = ServerOptions {
        max_open_requests_per_host: Some(3),
        max_open_requests_per_org: Some(4),
        ..ServerOptions::default()
    };
    let mut w = World::new_with(b, &["alice"], opts.clone()).await?;
    let entry = EntryId::generate(&mut blindvault_testkit::broker::os_rng());
    w.put_secret(entry, 1, Policy::AnyOf { n: 1 }, b"s").await?;
    let (a, a_cert) = w.host(&[entry]).await?;
    let (b_host, b_cert) = w.host(&[entry]).await?;
    let (c, c_cert) = w.host(&[entry]).await?;
    let bystander = Bystander::agent_get(&w.approvers[0].session.agent, paths::BROKER_INBOX);
    let mut open = Vec::new();
    for _ in 0..3 {
        let (req, r) = Consumer::ask(&w.server, &a, &a_cert, entry).await?;
        ensure!(r.status == 201, "{r:?}");
        open.push(req);
    }
    let (_, r) = Consumer::ask(&w.server, &b_host, &b_cert, entry).await?;
    ensure!(r.status == 201, "the 4th of the org: {r:?}");
    for (host, cert) in [(&b_host, &b_cert), (&c, &c_cert)] {
        let (refused, r) = Consumer::ask(&w.server, host, cert, entry).await?;
        ensure!(refused_with(&r, ErrorCode::TooManyOrgRequests), "the 5th of the org: {r:?}");
        let message = r.error()?.message;
        ensure!(message.contains("max_open_requests_per_org") && message.contains("wait"), "{message}");
        ensure!(refused.poll(&w.server).await?.status == 404, "the refused request was not stored");
    }
    // One denied: another host's request takes its place, and the org is full again.
    let deny = paths::with_id(paths::BROKER_REQUEST_DENY, &open[0].id());
    w.approvers[0].session.agent.post(&deny, serde_json::json!({})).await?.ok()?;
    let (_, r) = Consumer::ask(&w.server, &c, &c_cert, entry).await?;
    ensure!(r.status == 201, "after one ended: {r:?}");
    let (_, r) = Consumer::ask(&w.server, &c, &c_cert, entry).await?;
    ensure!(refused_with(&r, ErrorCode::TooManyOrgRequests), "full again: {r:?}");
    bystander.finish("open requests per org").await?;
    // All past their deadline: two hosts race eight creates — on PostgreSQL alternating between
    // two instances (two pools), on SQLite through one (one writer) — and exactly four are stored.
    let second = match b {
        Backend::Postgres => Some(TestServer::start_sharing_with(&w.server, opts).await?),
        Backend::Sqlite => None,
    };
    w.server.clock.advance(301);
    if let Some(s) = &second {
        s.clock.advance(301);
    }
    let (s1, s2) = (&w.server, second.as_ref().unwrap_or(&w.server));
    let all = tokio::join!(
        Consumer::ask(s1, &a, &a_cert, entry),
        Consumer::ask(s2, &b_host, &b_cert, entry),
        Consumer::ask(s1, &b_host, &b_cert, entry),
        Consumer::ask(s2, &a, &a_cert, entry),
        Consumer::ask(s1, &a, &a_cert, entry),
        Consumer::ask(s2, &b_host, &b_cert, entry),
        Consumer::ask(s1, &b_host, &b_cert, entry),
        Consumer::ask(s2, &a, &a_cert, entry),
    );
    let all = [all.0?, all.1?, all.2?, all.3?, all.4?, all.5?, all.6?, all.7?];
    let created = all.iter().filter(|(_, r)| r.status == 201).count();
    let refused = all.iter().filter(|(_, r)| {
        refused_with(r, ErrorCode::TooManyOrgRequests) || refused_with(r, ErrorCode::TooManyOpenRequests)
    });
    ensure!(
        created == 4 && refused.count() == 4,
        "{created} created: {:?}",
        all.iter().map(|(_, r)| (r.status, r.code())).collect::<Vec<_>>()
    );
    Ok(())
}
