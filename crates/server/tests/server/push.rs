//! Web Push end to end through the real HTTP API, against a push-service stand-in (an axum
//! server on 127.0.0.1 in the test): each push's VAPID JWT verifies (ES256, with `ring`) under the
//! key the server serves, its body decrypts with Mozilla's `ece` (OpenSSL) — an implementation
//! independent of the server's RustCrypto one — and holds only the request id; 404/410 remove
//! the subscription; failures retry until the request expires; only the people a request can
//! use hear of it (push and event stream); a push service that hangs does not hold up a release.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use blindvault_api::ErrorCode;
use blindvault_api::broker::PollResult;
use blindvault_api::paths;
use blindvault_api::push::PushKey;
use blindvault_core::ids::EntryId;
use blindvault_core::policy::Policy;
use blindvault_server::config::PushConfig;
use blindvault_server::push::worker::RunSummary;
use blindvault_testkit::broker::{Approver, Consumer, World, b64, b64_decode, device_approves};
use blindvault_testkit::events::EventStream;
use blindvault_testkit::{Backend, Device, ServerOptions};
use serde_json::{Value, json};
use sqlx::Row as _;
use tokio::sync::Notify;

both!(
    a_push_is_signed_encrypted_and_carries_only_the_request,
    only_the_people_a_request_can_use_hear_of_it,
    gone_subscriptions_are_removed_and_failures_retry_until_expiry,
    a_hanging_push_service_does_not_hold_up_a_release,
    subscriptions_are_checked_and_go_with_their_passkey,
    a_push_service_must_be_at_a_public_address,
    one_subscription_per_passkey_never_taken_over_and_none_for_a_demoted_approver,
);

/// Endpoints as Chrome and Edge on Windows make them (the default `[push] services` allow them).
const FCM: &str = "https://fcm.googleapis.com/fcm/send/dGVzdA:APA91b";
const WNS: &str = "https://wns2-par02p.notify.windows.com/w/?token=BQYAAAB";

/// One push as the stand-in received it.
#[derive(Debug, Clone)]
struct Got {
    who: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

/// A push service stand-in: records each push; answers the status set for its path (201 by
/// default), or holds the push open while `hang` is set.
#[derive(Clone, Default)]
struct StandIn {
    got: Arc<Mutex<Vec<Got>>>,
    status: Arc<Mutex<HashMap<String, u16>>>,
    hang: Arc<AtomicBool>,
    arrived: Arc<Notify>,
    base: String,
}

async fn stand_in_push(
    State(s): State<StandIn>,
    Path(who): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    s.got.lock().unwrap().push(Got { who: who.clone(), headers, body: body.to_vec() });
    s.arrived.notify_one();
    if s.hang.load(Ordering::SeqCst) {
        std::future::pending::<()>().await;
    }
    let code = s.status.lock().unwrap().get(&who).copied().unwrap_or(201);
    StatusCode::from_u16(code).unwrap_or(StatusCode::CREATED)
}

impl StandIn {
    async fn start() -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let s = StandIn { base: format!("http://{}", listener.local_addr()?), ..StandIn::default() };
        let app = axum::Router::new()
            .route("/push/{who}", axum::routing::post(stand_in_push))
            .with_state(s.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(s)
    }
    fn endpoint(&self, who: &str) -> String {
        format!("{}/push/{who}", self.base)
    }
    fn take(&self) -> Vec<Got> {
        std::mem::take(&mut *self.got.lock().unwrap())
    }
    fn answer(&self, who: &str, code: u16) {
        self.status.lock().unwrap().insert(who.to_owned(), code);
    }
}

/// The options of a server that accepts the stand-in's endpoints; `worker`: whether the sender
/// runs in the background (otherwise the test drives it with `run_once`).
fn push_options(worker: bool) -> ServerOptions {
    ServerOptions {
        push: Some(PushConfig {
            allow_http_loopback: true,
            worker,
            timeout_secs: 60,
            ..PushConfig::default()
        }),
        ..ServerOptions::default()
    }
}

/// A browser's subscription: its keys (made by `ece`, as a browser makes them) and endpoint.
struct Browser {
    keys: Box<dyn ece::LocalKeyPair>,
    auth: [u8; 16],
    endpoint: String,
}

async fn subscribe(a: &mut Approver, endpoint: &str) -> anyhow::Result<Browser> {
    let (keys, auth) = ece::generate_keypair_and_auth_secret()?;
    let body = json!({ "credential_id": a.session.credential_id, "endpoint": endpoint,
        "keys": { "p256dh": b64(&keys.pub_as_raw()?), "auth": b64(&auth) } });
    a.session.agent.post(paths::PUSH_SUBSCRIPTIONS, body).await?.ok()?;
    Ok(Browser { keys, auth, endpoint: endpoint.to_owned() })
}

async fn count(w: &World, sql: &str) -> anyhow::Result<i64> {
    let row = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned())).fetch_one(w.server.state.store.pool()).await?;
    Ok(row.try_get("n")?)
}

/// Verifies a push's VAPID header (RFC 8292) under `key` (the served public key) for `aud` at
/// server time `t`; returns the JWT's claims.
fn verify_vapid(got: &Got, key: &[u8], aud: &str, t: i64) -> anyhow::Result<Value> {
    let header = got.headers.get("authorization").context("an Authorization header")?.to_str()?;
    let rest = header.strip_prefix("vapid ").context("the vapid scheme")?;
    let (mut jwt, mut k) = (None, None);
    for part in rest.split(',').map(str::trim) {
        if let Some(v) = part.strip_prefix("t=") {
            jwt = Some(v);
        } else if let Some(v) = part.strip_prefix("k=") {
            k = Some(v);
        }
    }
    let (jwt, k) = (jwt.context("t=")?, k.context("k=")?);
    ensure!(b64_decode(k)? == key, "k= is the served key");
    let parts: Vec<&str> = jwt.split('.').collect();
    ensure!(parts.len() == 3, "a compact JWT");
    let head: Value = serde_json::from_slice(&b64_decode(parts[0])?)?;
    ensure!(head["alg"] == "ES256", "{head}");
    let sig = b64_decode(parts[2])?;
    ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_FIXED, key)
        .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &sig)
        .map_err(|_| anyhow::anyhow!("the VAPID JWT does not verify under the served key"))?;
    let claims: Value = serde_json::from_slice(&b64_decode(parts[1])?)?;
    ensure!(claims["aud"] == aud, "aud {claims}");
    let exp = claims["exp"].as_i64().context("exp")?;
    ensure!(exp > t && exp <= t + 24 * 3600, "exp within 24 h: {claims}");
    ensure!(claims["sub"].as_str().is_some_and(|s| !s.is_empty()), "sub set: {claims}");
    Ok(claims)
}

/// Decrypts a push with the subscription's private key (Mozilla's `ece`, RFC 8291).
fn decrypt(got: &Got, b: &Browser) -> anyhow::Result<Vec<u8>> {
    ensure!(got.headers.get("content-encoding").is_some_and(|v| v == "aes128gcm"));
    Ok(ece::decrypt(&b.keys.raw_components()?, &b.auth, &got.body)?)
}

/// One pass of the push sender.
async fn run_once(state: &blindvault_server::AppState) -> anyhow::Result<RunSummary> {
    blindvault_server::push::worker::run_once(state).await.map_err(|e| anyhow::anyhow!("push pass: {e:?}"))
}

fn sent(n: usize) -> RunSummary {
    RunSummary { sent: n, ..RunSummary::default() }
}

async fn a_push_is_signed_encrypted_and_carries_only_the_request(b: Backend) -> anyhow::Result<()> {
    let stand_in = StandIn::start().await?;
    let mut w = World::new_with(b, &["alice"], push_options(false)).await?;
    let entry = EntryId::generate(&mut blindvault_testkit::broker::os_rng());
    w.put_secret(entry, 1, Policy::AnyOf { n: 1 }, b"hunter2").await?;
    let (host, cert) = w.host(&[entry]).await?;
    let browser = subscribe(&mut w.approvers[0], &stand_in.endpoint("alice")).await?;
    let served: PushKey = w.server.agent().get(paths::PUSH_KEY).await?.ok()?.json()?;
    let key = b64_decode(&served.public_key)?;
    ensure!(key.len() == 65 && key[0] == 4, "an uncompressed P-256 point");
    let (c, _) = Consumer::ask(&w.server, &host, &cert, entry).await?;
    ensure!(count(&w, "SELECT COUNT(*) AS n FROM push_outbox").await? == 1, "queued with the request");
    ensure!(run_once(&w.server.state).await? == sent(1));
    let got = stand_in.take();
    ensure!(got.len() == 1 && got[0].who == "alice", "{got:?}");
    let t = w.server.state.clock.now();
    verify_vapid(&got[0], &key, &stand_in.base, t)?;
    let plain = decrypt(&got[0], &browser)?;
    ensure!(serde_json::from_slice::<Value>(&plain)? == json!({ "request": c.id() }), "{plain:?}");
    let text = String::from_utf8(plain)?;
    for never in
        ["label", "database", "ci-runner-7", "hunter2", &entry.to_text(), &cert.cert.cert_id.to_text()]
    {
        ensure!(!text.contains(never), "the payload holds {never:?}: {text}");
    }
    let h = |name: &str| got[0].headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let ttl: i64 = h("ttl").parse()?;
    ensure!(ttl > 0 && ttl <= i64::try_from(c.req.request.expires_at)? - t, "TTL = time to expiry: {ttl}");
    ensure!(h("urgency") == "high" && h("topic").len() == 32, "{:?}", got[0].headers);
    ensure!(count(&w, "SELECT COUNT(*) AS n FROM push_outbox").await? == 0, "sent rows are deleted");
    // The key is the same after a restart on the same database (kept, not remade).
    let second = blindvault_testkit::TestServer::start_sharing(&w.server).await?;
    let again: PushKey = second.agent().get(paths::PUSH_KEY).await?.ok()?.json()?;
    ensure!(again.public_key == served.public_key);
    Ok(())
}

/// Alice holds envelopes of both entries, Bob only of the second: a request for the first
/// reaches Alice's device and Alice's event stream, and neither Bob's device nor his stream.
async fn only_the_people_a_request_can_use_hear_of_it(b: Backend) -> anyhow::Result<()> {
    let stand_in = StandIn::start().await?;
    let mut w = World::new_with(b, &["alice"], push_options(false)).await?;
    let mut rng = blindvault_testkit::broker::os_rng();
    let (first, second) = (EntryId::generate(&mut rng), EntryId::generate(&mut rng));
    w.put_secret(first, 1, Policy::AnyOf { n: 1 }, b"alice's only").await?;
    w.enrol("bob").await?;
    w.put_secret(second, 1, Policy::AnyOf { n: 2 }, b"both").await?;
    let (host, cert) = w.host(&[first, second]).await?;
    subscribe(&mut w.approvers[0], &stand_in.endpoint("alice")).await?;
    subscribe(&mut w.approvers[1], &stand_in.endpoint("bob")).await?;
    let mut stream = EventStream::of(&w.server, &w.approvers[1].session.agent).await?;
    stream.read_until("event: ready").await?;
    let (only_alice, _) = Consumer::ask(&w.server, &host, &cert, first).await?;
    ensure!(run_once(&w.server.state).await? == sent(1));
    let got = stand_in.take();
    ensure!(got.iter().map(|g| g.who.as_str()).collect::<Vec<_>>() == ["alice"], "{got:?}");
    // The next request (Bob's too) is announced on Bob's stream; the first never was.
    let (both, _) = Consumer::ask(&w.server, &host, &cert, second).await?;
    let text = stream.read_until(&both.id()).await?;
    ensure!(!text.contains(&only_alice.id()), "bob's stream announced a request he cannot use: {text}");
    ensure!(run_once(&w.server.state).await? == sent(2));
    let mut who: Vec<String> = stand_in.take().into_iter().map(|g| g.who).collect();
    who.sort();
    ensure!(who == ["alice", "bob"], "{who:?}");
    Ok(())
}

async fn gone_subscriptions_are_removed_and_failures_retry_until_expiry(b: Backend) -> anyhow::Result<()> {
    let stand_in = StandIn::start().await?;
    let mut w = World::new_with(b, &["alice", "bob"], push_options(false)).await?;
    let entry = EntryId::generate(&mut blindvault_testkit::broker::os_rng());
    w.put_secret(entry, 1, Policy::AnyOf { n: 2 }, b"s").await?;
    let (host, cert) = w.host(&[entry]).await?;
    let subs = "SELECT COUNT(*) AS n FROM push_subscriptions";
    let queued = "SELECT COUNT(*) AS n FROM push_outbox";
    // 404 and 410: the subscription is deleted.
    subscribe(&mut w.approvers[0], &stand_in.endpoint("alice")).await?;
    subscribe(&mut w.approvers[1], &stand_in.endpoint("bob")).await?;
    stand_in.answer("alice", 404);
    stand_in.answer("bob", 410);
    Consumer::ask(&w.server, &host, &cert, entry).await?;
    ensure!(run_once(&w.server.state).await? == RunSummary { gone: 2, ..RunSummary::default() });
    ensure!(count(&w, subs).await? == 0 && count(&w, queued).await? == 0);
    // Another 4xx: that push is dropped, the subscription stays.
    subscribe(&mut w.approvers[0], &stand_in.endpoint("alice")).await?;
    stand_in.answer("alice", 400);
    Consumer::ask(&w.server, &host, &cert, entry).await?;
    ensure!(run_once(&w.server.state).await? == RunSummary { dropped: 1, ..RunSummary::default() });
    ensure!(count(&w, subs).await? == 1 && count(&w, queued).await? == 0);
    // 5xx: retried after a backoff (not before), then sent.
    stand_in.answer("alice", 503);
    Consumer::ask(&w.server, &host, &cert, entry).await?;
    ensure!(run_once(&w.server.state).await? == RunSummary { retried: 1, ..RunSummary::default() });
    ensure!(run_once(&w.server.state).await? == RunSummary::default(), "not due before its backoff");
    w.server.clock.advance(5);
    stand_in.answer("alice", 201);
    ensure!(run_once(&w.server.state).await? == sent(1));
    ensure!(stand_in.take().len() == 5, "404, 410, 400, 503 and the retry");
    // Failing until the request expires: then dropped, never sent late.
    stand_in.answer("alice", 500);
    Consumer::ask(&w.server, &host, &cert, entry).await?;
    let mut tries = 0;
    loop {
        let r = run_once(&w.server.state).await?;
        tries += r.retried;
        if r.dropped == 1 || count(&w, queued).await? == 0 {
            break;
        }
        w.server.clock.advance(60);
        ensure!(tries < 50, "still queued after {tries} tries");
    }
    ensure!(tries >= 2 && count(&w, queued).await? == 0, "retried {tries} times, then dropped");
    // A request decided before its push went out is not pushed.
    stand_in.answer("alice", 201);
    let _ = stand_in.take();
    let (d, _) = Consumer::ask(&w.server, &host, &cert, entry).await?;
    device_approves(&w.server, &mut w.approvers[0], &d.id()).await?.ok()?;
    ensure!(run_once(&w.server.state).await? == RunSummary { dropped: 1, ..RunSummary::default() });
    ensure!(stand_in.take().is_empty());
    // A subscription stored before `[push] services` (or before the operator narrowed it) whose
    // endpoint the list no longer allows: never sent to, and removed.
    subscribe(&mut w.approvers[1], &stand_in.endpoint("bob")).await?;
    sqlx::query("UPDATE push_subscriptions SET endpoint = 'https://push.internal.example/x' WHERE endpoint LIKE '%/bob'")
        .execute(w.server.state.store.pool())
        .await?;
    Consumer::ask(&w.server, &host, &cert, entry).await?;
    ensure!(run_once(&w.server.state).await? == RunSummary { sent: 1, gone: 1, ..RunSummary::default() });
    ensure!(stand_in.take().iter().all(|g| g.who == "alice"), "only alice's endpoint is pushed to");
    ensure!(count(&w, subs).await? == 1 && count(&w, queued).await? == 0);
    Ok(())
}

/// The sender runs in the background; the push service takes each push and never answers. The
/// request is created, approved and delivered while the push is still held open; and creating a
/// request with a subscription takes no longer than without one, within a generous bound.
async fn a_hanging_push_service_does_not_hold_up_a_release(b: Backend) -> anyhow::Result<()> {
    let stand_in = StandIn::start().await?;
    stand_in.hang.store(true, Ordering::SeqCst);
    let mut w = World::new_with(b, &["alice"], push_options(true)).await?;
    let entry = EntryId::generate(&mut blindvault_testkit::broker::os_rng());
    w.put_secret(entry, 1, Policy::AnyOf { n: 1 }, b"hunter2").await?;
    let (host, cert) = w.host(&[entry]).await?;
    // The floor: a request with nobody subscribed.
    let t0 = Instant::now();
    let (floor, _) = Consumer::ask(&w.server, &host, &cert, entry).await?;
    let without = t0.elapsed();
    floor.cancel_with(&w.server, &floor.token).await?.ok()?;
    subscribe(&mut w.approvers[0], &stand_in.endpoint("alice")).await?;
    let t0 = Instant::now();
    let (c, created) = Consumer::ask(&w.server, &host, &cert, entry).await?;
    let with = t0.elapsed();
    ensure!(created.status == 201, "{created:?}");
    // The push reaches the stand-in, which holds it open.
    tokio::time::timeout(Duration::from_secs(30), stand_in.arrived.notified())
        .await
        .context("the background sender pushed within 30 s")?;
    device_approves(&w.server, &mut w.approvers[0], &c.id()).await?.ok()?;
    let r = c.poll(&w.server).await?.ok()?;
    ensure!(matches!(r.json::<PollResult>()?, PollResult::Delivered { .. }), "{r:?}");
    ensure!(c.open(&r.json()?, &w.org.public_key())? == b"hunter2");
    let held = count(&w, "SELECT COUNT(*) AS n FROM push_outbox WHERE claim IS NOT NULL").await?;
    ensure!(held == 1, "released while the push is still held open (claimed rows: {held})");
    println!("create request: {with:?} with a hanging push service, {without:?} with no subscription");
    ensure!(with < without * 20 + Duration::from_secs(2), "{with:?} vs {without:?}");
    Ok(())
}

async fn subscriptions_are_checked_and_go_with_their_passkey(b: Backend) -> anyhow::Result<()> {
    let stand_in = StandIn::start().await?;
    let mut w = World::new_with(b, &["alice"], push_options(false)).await?;
    let a = &mut w.approvers[0];
    let (keys, auth) = ece::generate_keypair_and_auth_secret()?;
    let good_keys = json!({ "p256dh": b64(&keys.pub_as_raw()?), "auth": b64(&auth) });
    let cred = a.session.credential_id.clone();
    for (endpoint, keys, credential, status, code) in [
        ("http://push.example.com/x", good_keys.clone(), cred.as_str(), 400, ErrorCode::InvalidRequest),
        ("ftp://127.0.0.1/x", good_keys.clone(), &cred, 400, ErrorCode::InvalidRequest),
        ("https://u:p@fcm.googleapis.com/x", good_keys.clone(), &cred, 400, ErrorCode::InvalidRequest),
        ("https://fcm.googleapis.com:8443/x", good_keys.clone(), &cred, 400, ErrorCode::InvalidRequest),
        // Not a push service: refused before anything is stored, whatever the keys.
        ("https://push.example.com/x", good_keys.clone(), &cred, 403, ErrorCode::PushServiceNotAllowed),
        ("https://10.0.0.1/x", good_keys.clone(), &cred, 403, ErrorCode::PushServiceNotAllowed),
        ("https://[::1]/x", good_keys.clone(), &cred, 403, ErrorCode::PushServiceNotAllowed),
        ("https://localhost/x", good_keys.clone(), &cred, 403, ErrorCode::PushServiceNotAllowed),
        (
            "https://metadata.google.internal/x",
            good_keys.clone(),
            &cred,
            403,
            ErrorCode::PushServiceNotAllowed,
        ),
        (
            "https://fcm.googleapis.com.evil.example/x",
            good_keys.clone(),
            &cred,
            403,
            ErrorCode::PushServiceNotAllowed,
        ),
        ("https://push.apple.com/x", good_keys.clone(), &cred, 403, ErrorCode::PushServiceNotAllowed),
        (FCM, json!({ "p256dh": b64(&[4; 65]), "auth": b64(&auth) }), &cred, 400, ErrorCode::InvalidRequest),
        (
            FCM,
            json!({ "p256dh": b64(&keys.pub_as_raw()?), "auth": b64(&[1; 3]) }),
            &cred,
            400,
            ErrorCode::InvalidRequest,
        ),
        (FCM, json!({ "p256dh": "!!", "auth": b64(&auth) }), &cred, 400, ErrorCode::InvalidEncoding),
        (FCM, good_keys.clone(), "bm90LW1pbmU", 404, ErrorCode::PasskeyNotFound),
    ] {
        let r = a
            .session
            .agent
            .post(
                paths::PUSH_SUBSCRIPTIONS,
                json!({ "credential_id": credential, "endpoint": endpoint, "keys": keys }),
            )
            .await?;
        ensure!(r.status == status && r.code() == Some(code), "{endpoint}: {r:?}");
    }
    ensure!(count(&w, "SELECT COUNT(*) AS n FROM push_subscriptions").await? == 0);
    let a = &mut w.approvers[0];
    // Each browser's push service is accepted as it is (then replaced: one per passkey).
    for endpoint in [
        FCM,
        "https://updates.push.services.mozilla.com/wpush/v2/gAAAAABk",
        "https://web.push.apple.com/QGuQyavXutnMH",
        WNS,
    ] {
        let r = a
            .session
            .agent
            .post(
                paths::PUSH_SUBSCRIPTIONS,
                json!({ "credential_id": cred, "endpoint": endpoint, "keys": good_keys }),
            )
            .await?;
        ensure!(r.status == 200, "{endpoint}: {r:?}");
    }
    a.session.agent.post(paths::PUSH_UNSUBSCRIBE, json!({ "endpoint": WNS })).await?.ok()?;
    // An operator's own list replaces the browsers' (here: one self-hosted service).
    let own = ServerOptions {
        push: Some(PushConfig { services: vec!["push.example.org".into()], ..PushConfig::default() }),
        ..ServerOptions::default()
    };
    let erin_world = World::new_with(b, &["erin"], own).await?;
    let mut erin = erin_world.approvers.into_iter().next().context("erin")?;
    for (endpoint, status) in [("https://push.example.org/e", 200), (FCM, 403)] {
        let r = erin
            .session
            .agent
            .post(
                paths::PUSH_SUBSCRIPTIONS,
                json!({ "credential_id": erin.session.credential_id, "endpoint": endpoint, "keys": good_keys }),
            )
            .await?;
        ensure!(r.status == status, "{endpoint}: {r:?}");
    }
    // Plain-http loopback only when the server is configured for it (off by default).
    let strict = World::new(b, &["carol"]).await?;
    let mut carol = strict.approvers.into_iter().next().context("carol")?;
    let r = carol
        .session
        .agent
        .post(
            paths::PUSH_SUBSCRIPTIONS,
            json!({ "credential_id": carol.session.credential_id,
            "endpoint": stand_in.endpoint("carol"), "keys": good_keys }),
        )
        .await?;
    ensure!(r.status == 400 && r.code() == Some(ErrorCode::InvalidRequest), "{r:?}");
    // Someone who is not an approver cannot subscribe.
    let mut dave = Device::new().register(&w.server, "dave").await?;
    let r = dave
        .agent
        .post(
            paths::PUSH_SUBSCRIPTIONS,
            json!({ "credential_id": dave.credential_id,
            "endpoint": FCM, "keys": good_keys }),
        )
        .await?;
    ensure!(r.status == 403, "{r:?}");
    // A second passkey's subscription goes when that passkey is removed; opting out removes one.
    let a = &mut w.approvers[0];
    let mut phone = Device::new();
    let (second, _) = phone.add_passkey(&w.server, &mut a.session.agent, &mut a.device, "phone").await?;
    let mine = subscribe(a, &stand_in.endpoint("first")).await?;
    a.session.credential_id = second.clone();
    subscribe(a, &stand_in.endpoint("second")).await?;
    ensure!(count(&w, "SELECT COUNT(*) AS n FROM push_subscriptions").await? == 2);
    let a = &mut w.approvers[0];
    let up = a.device.step_up(&w.server, &mut a.session.agent, "passkey.delete", &second).await?;
    a.session
        .agent
        .send_stepped("DELETE", &paths::with_id(paths::PASSKEY, &second), None, &up)
        .await?
        .ok()?;
    let left =
        sqlx::query("SELECT endpoint FROM push_subscriptions").fetch_all(w.server.state.store.pool()).await?;
    ensure!(left.len() == 1 && left[0].try_get::<String, _>("endpoint")? == mine.endpoint, "{}", left.len());
    let r =
        a.session.agent.post(paths::PUSH_UNSUBSCRIBE, json!({ "endpoint": mine.endpoint })).await?.ok()?;
    ensure!(r.body == json!({ "removed": true }), "{r:?}");
    ensure!(count(&w, "SELECT COUNT(*) AS n FROM push_subscriptions").await? == 0);
    Ok(())
}

/// Even with `[push] services = ["*"]`, a push goes to public addresses only: an endpoint that
/// is an internal address is refused; one whose name resolves inside the network (here
/// `localhost`, from the system's hosts file) is never connected to: the push is dropped, the
/// subscription kept (a resolver fault must not unsubscribe everyone).
async fn a_push_service_must_be_at_a_public_address(b: Backend) -> anyhow::Result<()> {
    let any = ServerOptions {
        push: Some(PushConfig { services: vec!["*".into()], worker: false, ..PushConfig::default() }),
        ..ServerOptions::default()
    };
    let mut w = World::new_with(b, &["alice"], any).await?;
    let a = &mut w.approvers[0];
    let (keys, auth) = ece::generate_keypair_and_auth_secret()?;
    let good_keys = json!({ "p256dh": b64(&keys.pub_as_raw()?), "auth": b64(&auth) });
    for endpoint in [
        "https://10.0.0.1/x",
        "https://169.254.169.254/latest",
        "https://[::1]/x",
        "https://[::ffff:127.0.0.1]/x",
        "https://[fd00::1]/x",
        "https://0x7f000001/x",
    ] {
        let r = a
            .session
            .agent
            .post(
                paths::PUSH_SUBSCRIPTIONS,
                json!({ "credential_id": a.session.credential_id, "endpoint": endpoint, "keys": good_keys }),
            )
            .await?;
        ensure!(r.status == 400 && r.code() == Some(ErrorCode::InvalidRequest), "{endpoint}: {r:?}");
    }
    subscribe(a, "https://localhost/push/alice").await?;
    let entry = EntryId::generate(&mut blindvault_testkit::broker::os_rng());
    w.put_secret(entry, 1, Policy::AnyOf { n: 1 }, b"s").await?;
    let (host, cert) = w.host(&[entry]).await?;
    Consumer::ask(&w.server, &host, &cert, entry).await?;
    let pass = run_once(&w.server.state).await?;
    ensure!(pass == RunSummary { dropped: 1, ..RunSummary::default() }, "{pass:?}");
    ensure!(count(&w, "SELECT COUNT(*) AS n FROM push_subscriptions").await? == 1);
    ensure!(count(&w, "SELECT COUNT(*) AS n FROM push_outbox").await? == 0);
    Ok(())
}

/// A passkey has one subscription (a new one replaces it, so rows stay bounded); an endpoint
/// another account registered is refused, not taken over; and someone whose role is no longer
/// approver hears of no request, as their event stream would not.
async fn one_subscription_per_passkey_never_taken_over_and_none_for_a_demoted_approver(
    b: Backend,
) -> anyhow::Result<()> {
    let stand_in = StandIn::start().await?;
    let mut w = World::new_with(b, &["alice"], push_options(false)).await?;
    w.enrol("bob").await?;
    let mut rng = blindvault_testkit::broker::os_rng();
    let entry = EntryId::generate(&mut rng);
    w.put_secret(entry, 1, Policy::AnyOf { n: 2 }, b"both").await?;
    let (host, cert) = w.host(&[entry]).await?;
    subscribe(&mut w.approvers[0], &stand_in.endpoint("alice-old")).await?;
    let alices = subscribe(&mut w.approvers[0], &stand_in.endpoint("alice")).await?;
    ensure!(count(&w, "SELECT COUNT(*) AS n FROM push_subscriptions").await? == 1, "one per passkey");
    // Bob registers Alice's endpoint: refused; hers stays.
    let bob = &mut w.approvers[1];
    let (keys, auth) = ece::generate_keypair_and_auth_secret()?;
    let r = bob
        .session
        .agent
        .post(
            paths::PUSH_SUBSCRIPTIONS,
            json!({ "credential_id": bob.session.credential_id, "endpoint": alices.endpoint,
                "keys": { "p256dh": b64(&keys.pub_as_raw()?), "auth": b64(&auth) } }),
        )
        .await?;
    ensure!(r.status == 409 && r.code() == Some(ErrorCode::InvalidRequest), "{r:?}");
    subscribe(&mut w.approvers[1], &stand_in.endpoint("bob")).await?;
    ensure!(count(&w, "SELECT COUNT(*) AS n FROM push_subscriptions").await? == 2);
    // Bob is made a plain user (his enrolment stays): he hears of nothing any more.
    sqlx::query("UPDATE users SET role = 'user' WHERE name = 'bob'")
        .execute(w.server.state.store.pool())
        .await?;
    Consumer::ask(&w.server, &host, &cert, entry).await?;
    ensure!(run_once(&w.server.state).await? == sent(1));
    let who: Vec<String> = stand_in.take().into_iter().map(|g| g.who).collect();
    ensure!(who == ["alice"], "{who:?}");
    Ok(())
}
