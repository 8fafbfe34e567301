//! Floods at the connection and address level, each bounded by a named limit while a
//! well-behaved client ([`Bystander`]) keeps being served (its latency printed, not asserted):
//! slow-loris headers and bodies (`header_read_timeout_secs`, `body_read_timeout_secs`: real
//! timeouts, configured short, awaited with generous bounds), clients behind a trusted proxy
//! (`trusted_proxies`, `forwarded_header`) and IPv6 address rotation (a /64 is one client), and
//! oversize and deeply nested JSON (413 `payload_too_large`, 400 `invalid_request`).

use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use blindvault_api::paths;
use blindvault_api::{ErrorCode, broker::PollResult};
use blindvault_core::ids::EntryId;
use blindvault_core::policy::Policy;
use blindvault_testkit::broker::{Consumer, World};
use blindvault_testkit::events::EventStream;
use blindvault_testkit::{Agent, Backend, Device, ServerOptions, TestServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::floods::Bystander;

both!(
    slow_clients_are_cut_off_while_streams_and_long_polls_go_on,
    a_client_behind_a_trusted_proxy_counts_by_its_own_address_and_cannot_spoof_one,
    ipv6_clients_count_by_their_64,
    oversize_and_deeply_nested_json_are_refused_with_a_code,
);

/// Everything `s` sends until it closes, within `bound` (generous: the subject is that it ends).
async fn read_to_close(s: &mut (impl AsyncReadExt + Unpin), bound: Duration) -> anyhow::Result<String> {
    let mut got = Vec::new();
    let read = tokio::time::timeout(bound, async {
        let mut buf = [0u8; 4096];
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(buf.get(..n).unwrap_or_default()),
            }
        }
    })
    .await;
    ensure!(
        read.is_ok(),
        "the connection was still open after {bound:?}: {:?}",
        String::from_utf8_lossy(&got)
    );
    Ok(String::from_utf8_lossy(&got).into_owned())
}

fn host_port(server: &TestServer) -> String {
    server.base.trim_start_matches("http://").to_owned()
}

/// A connection that sends half a header is closed once `header_read_timeout_secs` has passed;
/// one that sends its headers and then trickles its body is answered 408 `request_timeout` once
/// `body_read_timeout_secs` has; neither timeout cuts an approver's event stream or a consumer's
/// long poll, which take longer than both; a well-behaved client is served throughout.
async fn slow_clients_are_cut_off_while_streams_and_long_polls_go_on(b: Backend) -> anyhow::Result<()> {
    let mut w = World::new_with(b, &["alice"], ServerOptions::default()).await?;
    let entry = EntryId::generate(&mut blindvault_testkit::broker::os_rng());
    w.put_secret(entry, 1, Policy::AnyOf { n: 1 }, b"s").await?;
    let (host, cert) = w.host(&[entry]).await?;
    // The instance under test: one second for headers, one for a body.
    let opts = ServerOptions { read_timeouts_secs: Some((1, 1)), ..ServerOptions::default() };
    let fast = TestServer::start_sharing_with(&w.server, opts).await?;
    let addr = host_port(&fast);
    let bystander = Bystander::get(&fast.base, paths::HEALTH);

    // Twenty connections, each half a header: all closed, none answered 200.
    let started = Instant::now();
    let mut halves = Vec::new();
    for _ in 0..20 {
        let mut s = TcpStream::connect(&addr).await?;
        s.write_all(b"GET /api/health HTTP/1.1\r\nHost: localhost\r\nX-Slow: a").await?;
        halves.push(s);
    }
    for mut s in halves {
        let got = read_to_close(&mut s, Duration::from_secs(30)).await?;
        ensure!(!got.contains(" 200 "), "a half-sent request was answered: {got}");
    }
    report("half-sent headers closed", started);

    // Headers, then a body a byte every 100 ms: 408 with the code, then the connection closes.
    let started = Instant::now();
    let origin = fast.origin.origin().ascii_serialization();
    let s = TcpStream::connect(&addr).await?;
    let (mut rd, mut wr) = s.into_split();
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: localhost\r\nOrigin: {origin}\r\nContent-Type: application/json\r\n\
         Content-Length: 1000\r\n\r\n{{",
        paths::REGISTER_START
    );
    wr.write_all(head.as_bytes()).await?;
    let trickle = tokio::spawn(async move {
        while wr.write_all(b" ").await.is_ok() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let got = read_to_close(&mut rd, Duration::from_secs(30)).await?;
    trickle.abort();
    ensure!(got.starts_with("HTTP/1.1 408"), "a trickled body: {got}");
    ensure!(got.contains("\"request_timeout\"") && got.contains("body_read_timeout_secs"), "{got}");
    report("trickled body answered 408", started);

    // An event stream and a long poll, each open longer than both timeouts, are not cut.
    let mut stream = EventStream::of(&fast, &w.approvers[0].session.agent).await?;
    stream.read_until("event: ready").await?;
    let (first, r) = Consumer::ask(&fast, &host, &cert, entry).await?;
    ensure!(r.status == 201, "{r:?}");
    stream.read_until(&first.id()).await?;
    let first = std::sync::Arc::new(first);
    let poll = first.wait_in_background(&fast.base, 3);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (second, r) = Consumer::ask(&fast, &host, &cert, entry).await?;
    ensure!(r.status == 201, "{r:?}");
    stream.read_until(&second.id()).await?;
    let answered = poll.await??;
    ensure!(matches!(answered, PollResult::Pending { .. }), "a 3 s long poll: {answered:?}");
    bystander.finish("slow-loris headers and bodies").await?;
    Ok(())
}

fn report(what: &str, started: Instant) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "{what} after {:.1} s", started.elapsed().as_secs_f64());
}

/// `POST /api/login/start` as the client at `forwarded` (sent in `X-Forwarded-For`): its status
/// and code.
async fn login_start(server: &TestServer, forwarded: &str) -> anyhow::Result<(u16, Option<ErrorCode>)> {
    let mut agent = server.agent();
    agent.headers.push(("x-forwarded-for".into(), forwarded.into()));
    let r = agent.post(paths::LOGIN_START, serde_json::json!({})).await?;
    Ok((r.status, r.code()))
}

const LIMITED: (u16, Option<ErrorCode>) = (429, Some(ErrorCode::RateLimited));
const SERVED: (u16, Option<ErrorCode>) = (200, None);

/// A well-behaved crowd behind the trusted proxy: sign-in starts, the `n`th from the address
/// `address(n)` (a new one each time), none of which may be refused.
fn forwarded_bystander(server: &TestServer, address: fn(u32) -> String) -> Bystander {
    let (client, url, origin) = (
        reqwest::Client::new(),
        format!("{}{}", server.base, paths::LOGIN_START),
        server.origin.origin().ascii_serialization(),
    );
    let mut n = 0u32;
    Bystander::start(move || {
        n += 1;
        let req = client
            .post(&url)
            .header("origin", &origin)
            .header("x-forwarded-for", address(n))
            .json(&serde_json::json!({}));
        async move { Ok(req.send().await?.status().as_u16()) }
    })
}

/// Signs `device` in through an agent that sends `forwarded`; the address its session records.
async fn session_addr(server: &TestServer, device: &mut Device, forwarded: &str) -> anyhow::Result<String> {
    let mut agent = server.agent();
    agent.headers.push(("x-forwarded-for".into(), forwarded.into()));
    let mut signed = device.login_with(server, agent).await?;
    let mine: blindvault_api::sessions::MySessions = signed.agent.get(paths::SESSIONS).await?.ok()?.json()?;
    let current = mine.sessions.iter().find(|s| s.id == mine.current).context("the current session")?;
    current.client_addr.clone().context("an address")
}

/// Behind a trusted proxy (here: loopback) each client counts by the address the proxy
/// forwarded — the rightmost one in the header, so what a client writes there itself changes
/// nothing — and its sessions record that address. From a peer that is not a trusted proxy the
/// header is ignored: a client cannot choose its bucket, nor the address recorded.
async fn a_client_behind_a_trusted_proxy_counts_by_its_own_address_and_cannot_spoof_one(
    b: Backend,
) -> anyhow::Result<()> {
    let proxied = ServerOptions {
        rate_limit: Some((60, 3)),
        trusted_proxies: vec!["127.0.0.1".into()],
        ..ServerOptions::default()
    };
    let server = TestServer::start_with(b, proxied).await?;
    // The bystander: people behind the proxy, each at an address of their own.
    let bystander = forwarded_bystander(&server, |n| format!("198.51.{}.{}", n / 250, n % 250));
    for _ in 0..3 {
        ensure!(login_start(&server, "203.0.113.7").await? == SERVED);
    }
    for i in 0..20 {
        ensure!(login_start(&server, "203.0.113.7").await? == LIMITED);
        // The client writes an address of its choice; the proxy appends the real one.
        ensure!(login_start(&server, &format!("192.0.2.{i}, 203.0.113.7")).await? == LIMITED);
    }
    ensure!(login_start(&server, "203.0.113.8").await? == SERVED, "another client behind the proxy");
    bystander.finish("one address behind a trusted proxy").await?;
    let mut device = Device::new();
    device.register(&server, "carol").await?;
    ensure!(session_addr(&server, &mut device, "203.0.113.9").await? == "203.0.113.9");

    // No proxy trusted (the default): the header is the client's own words, and ignored.
    let direct = ServerOptions { rate_limit: Some((60, 3)), ..ServerOptions::default() };
    let server = TestServer::start_with(b, direct).await?;
    for i in 0..3 {
        ensure!(login_start(&server, &format!("203.0.113.{i}")).await? == SERVED);
    }
    ensure!(login_start(&server, "203.0.113.99").await? == LIMITED, "a forged address is not a new bucket");
    let server = TestServer::start_with(b, ServerOptions::default()).await?;
    let mut device = Device::new();
    device.register(&server, "dave").await?;
    ensure!(session_addr(&server, &mut device, "203.0.113.9").await? == "127.0.0.1");
    Ok(())
}

/// An IPv6 client counts by its /64: rotating through the addresses of one network is one
/// bucket, another network has its own, and an IPv4-mapped address is its IPv4 one. Presented
/// through the trusted-proxy header, the way a test on loopback can be many addresses.
async fn ipv6_clients_count_by_their_64(b: Backend) -> anyhow::Result<()> {
    let opts = ServerOptions {
        rate_limit: Some((60, 3)),
        trusted_proxies: vec!["127.0.0.1".into()],
        ..ServerOptions::default()
    };
    let server = TestServer::start_with(b, opts).await?;
    let bystander = forwarded_bystander(&server, |n| format!("2001:db8:2:{n:x}::1"));
    for last in ["2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:abcd::3"] {
        ensure!(login_start(&server, last).await? == SERVED, "{last}");
    }
    for i in 0..50u32 {
        let rotated = format!("2001:db8:1:2:{i:x}:{i:x}:{i:x}:{:x}", i + 7);
        ensure!(login_start(&server, &rotated).await? == LIMITED, "{rotated} is the same /64");
    }
    ensure!(login_start(&server, "2001:db8:1:3::1").await? == SERVED, "the next /64");
    for _ in 0..3 {
        ensure!(login_start(&server, "::ffff:203.0.113.50").await? == SERVED);
    }
    ensure!(login_start(&server, "203.0.113.50").await? == LIMITED, "a mapped address is its IPv4 one");
    bystander.finish("IPv6 address rotation").await?;
    Ok(())
}

/// Sends raw `bytes` on a fresh connection and reads the answer to the close.
async fn raw(server: &TestServer, bytes: &[u8]) -> anyhow::Result<String> {
    let mut s = TcpStream::connect(host_port(server)).await?;
    s.write_all(bytes).await?;
    read_to_close(&mut s, Duration::from_secs(60)).await
}

/// A body over the route's limit is 413 `payload_too_large` (with a length or chunked); JSON
/// nested 60,000 or 100,000 deep is 400 `invalid_request` (serde_json's recursion limit), never a
/// stack overflow or a 500; the server goes on serving.
async fn oversize_and_deeply_nested_json_are_refused_with_a_code(b: Backend) -> anyhow::Result<()> {
    let w = World::new(b, &[]).await?;
    let server = &w.server;
    let bystander = Bystander::get(&server.base, paths::HEALTH);
    let origin = server.origin.origin().ascii_serialization();
    let post = |path: &str, body: Vec<u8>, cookie: Option<String>| {
        let mut req = reqwest::Client::new()
            .post(format!("{}{path}", server.base))
            .header("origin", &origin)
            .header("content-type", "application/json");
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        async move {
            let r = req.body(body).send().await?;
            let status = r.status().as_u16();
            let body: serde_json::Value = r.json().await.unwrap_or_default();
            anyhow::Ok((status, body["error"]["code"].as_str().unwrap_or_default().to_owned()))
        }
    };
    // 70 KB to a 64 KiB route.
    let big = format!("{{\"name\":\"{}\"}}", "a".repeat(70_000)).into_bytes();
    ensure!(post(paths::REGISTER_START, big.clone(), None).await? == (413, "payload_too_large".into()));
    // The same, chunked (no length announced).
    let mut chunked = format!(
        "POST {} HTTP/1.1\r\nHost: localhost\r\nOrigin: {origin}\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        paths::REGISTER_START
    )
    .into_bytes();
    for piece in big.chunks(8192) {
        chunked.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        chunked.extend_from_slice(piece);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let got = raw(server, &chunked).await?;
    ensure!(got.starts_with("HTTP/1.1 413") && got.contains("\"payload_too_large\""), "chunked: {got}");
    // Nested deeper than any real body, under the 64 KiB limit and under the 4 MiB one of
    // secret entries (signed in: the body is read only past the session check).
    let cookie = format!(
        "{}={}",
        server.state.config.session_cookie_name(),
        w.admin.agent.token.clone().context("admin")?
    );
    for (path, body, cookie) in [
        (paths::REGISTER_START, "[".repeat(60_000), None),
        (paths::REGISTER_START, "{\"a\":".repeat(12_000), None),
        (paths::BROKER_ENTRIES, "[".repeat(100_000), Some(cookie.clone())),
        (
            paths::BROKER_ENTRIES,
            format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)),
            Some(cookie.clone()),
        ),
        (paths::WALLET_RPC, "[".repeat(100_000), Some(cookie.clone())),
    ] {
        let got = post(path, body.into_bytes(), cookie).await?;
        ensure!(got == (400, "invalid_request".into()), "{path}: {got:?}");
    }
    bystander.finish("oversize and deeply nested JSON").await?;
    let mut agent = Agent::new(&server.base, None);
    ensure!(agent.get(paths::HEALTH).await?.status == 200);
    Ok(())
}
