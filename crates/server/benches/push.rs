//! Web Push latency: a request created → its push received by a push-service stand-in, against a
//! floor measured in the same run.
//!
//! `cargo bench -p blindvault-server --bench push` (`-- --quick` for fewer rounds).
//!
//! * **push**: the consumer posts a request for an entry whose approver has one subscribed
//!   device; the server queues the push in the request's transaction and its background sender
//!   (woken by the queue) encrypts (RFC 8291), signs (VAPID) and posts it to a stand-in on
//!   127.0.0.1; the time runs until the stand-in has the whole push. Embedded SQLite.
//! * **floor**: the same request for an entry whose only approver has no subscription (no push),
//!   plus one push encrypted in-process (Mozilla's `ece`) and posted to the stand-in on a kept-alive
//!   connection. One floor sample follows each push sample; the ratio printed is the median of the
//!   per-round ratios.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use blindvault_api::paths;
use blindvault_core::ids::EntryId;
use blindvault_core::policy::Policy;
use blindvault_server::config::PushConfig;
use blindvault_testkit::broker::{Consumer, World, b64, os_rng};
use blindvault_testkit::{Backend, ServerOptions};
use serde_json::json;
use tokio::sync::mpsc;

async fn arrived(State(tx): State<mpsc::UnboundedSender<Instant>>, _body: Bytes) -> axum::http::StatusCode {
    let _ = tx.send(Instant::now());
    axum::http::StatusCode::CREATED
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

async fn run(rounds: usize) -> anyhow::Result<()> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let endpoint = format!("http://{}/push/alice", listener.local_addr()?);
    let app = axum::Router::new().route("/push/{who}", axum::routing::post(arrived)).with_state(tx);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let opts = ServerOptions {
        push: Some(PushConfig { allow_http_loopback: true, ..PushConfig::default() }),
        ..ServerOptions::default()
    };
    // Bob alone holds the floor's entry; Bob and Alice the pushed one; only Alice subscribes.
    let mut w = World::new_with(Backend::Sqlite, &["bob"], opts).await?;
    let (quiet, pushed) = (EntryId::generate(&mut os_rng()), EntryId::generate(&mut os_rng()));
    w.put_secret(quiet, 1, Policy::AnyOf { n: 1 }, b"s").await?;
    w.enrol("alice").await?;
    w.put_secret(pushed, 1, Policy::AnyOf { n: 2 }, b"s").await?;
    let (host, cert) = w.host(&[quiet, pushed]).await?;
    let (keys, auth) = ece::generate_keypair_and_auth_secret()?;
    let public = keys.pub_as_raw()?;
    let a = &mut w.approvers[1];
    let body = json!({ "credential_id": a.session.credential_id, "endpoint": endpoint,
        "keys": { "p256dh": b64(&public), "auth": b64(&auth) } });
    a.session.agent.post(paths::PUSH_SUBSCRIPTIONS, body).await?.ok()?;
    let client = reqwest::Client::new();
    let payload = br#"{"request":"AAAAAAAAAAAAAAAAAAAAAA"}"#;
    let (mut pushes, mut floors, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds + 5 {
        let t0 = Instant::now();
        let (_, r) = Consumer::ask(&w.server, &host, &cert, pushed).await?;
        anyhow::ensure!(r.status == 201, "{r:?}");
        let at = tokio::time::timeout(Duration::from_secs(30), rx.recv()).await?.expect("stand-in");
        let push = at.duration_since(t0).as_secs_f64() * 1e3;
        let t1 = Instant::now();
        let (_, r) = Consumer::ask(&w.server, &host, &cert, quiet).await?;
        anyhow::ensure!(r.status == 201, "{r:?}");
        let sealed = ece::encrypt(&public, &auth, payload)?;
        client.post(&endpoint).header("content-encoding", "aes128gcm").body(sealed).send().await?;
        let at = tokio::time::timeout(Duration::from_secs(30), rx.recv()).await?.expect("stand-in");
        let floor = at.duration_since(t1).as_secs_f64() * 1e3;
        if round >= 5 {
            pushes.push(push);
            floors.push(floor);
            ratios.push(push / floor);
        }
    }
    let (p, f) = (median(pushes.clone()), median(floors));
    pushes.sort_by(f64::total_cmp);
    println!(
        "push: request created → push at the stand-in, {rounds} rounds (SQLite, sender in the background)"
    );
    println!("  push p50 {p:.2} ms, p99 {:.2} ms", pushes[(pushes.len() * 99 / 100).min(pushes.len() - 1)]);
    println!(
        "  floor p50 {f:.2} ms (the same request with no subscriber + one push encrypted and posted in-process)"
    );
    println!("  ratio push/floor: median of per-round ratios {:.2}", median(ratios));
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let quick = std::env::args().any(|a| a == "--quick");
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    rt.block_on(run(if quick { 20 } else { 200 }))
}
