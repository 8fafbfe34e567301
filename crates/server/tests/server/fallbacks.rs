//! Values that used to fall back silently to a default are errors now: a request without a
//! peer address, a damaged audit head, a malformed `prev_hash` (the passkey flags' own test is in
//! `webauthn.rs`, where their JSON is read).

use blindvault_api::paths;
use std::sync::Arc;

use anyhow::ensure;
use blindvault_server::audit::{self, Event};
use blindvault_testkit::{Backend, TestDb, TestServer};
use serde_json::json;
use tower::ServiceExt as _;

both!(
    a_request_without_a_peer_address_is_refused_not_put_in_a_shared_bucket,
    a_damaged_audit_head_stops_the_append,
    verify_names_a_malformed_prev_hash
);

/// The ceremony routes' rate limit counts per client address. Served without its connect info
/// (a deployment error) the server used to count every client as 127.0.0.1 — one bucket for
/// everyone; now such a request is refused with a 500 and logged.
async fn a_request_without_a_peer_address_is_refused_not_put_in_a_shared_bucket(
    b: Backend,
) -> anyhow::Result<()> {
    let db = TestDb::create(b).await?;
    let config = blindvault_server::Config {
        data_dir: db.dir.path().to_owned(),
        database_url: Some(db.url.clone()),
        ..blindvault_server::Config::default()
    };
    let origin = config.origin_header()?;
    let (server, _code) =
        blindvault_server::Server::open(config, Arc::new(blindvault_server::ManualClock::new())).await?;
    let request = axum::http::Request::post(paths::LOGIN_START)
        .header("origin", origin)
        .header("content-type", "application/json")
        .body(axum::body::Body::from("{}"))?;
    let resp = server.router().oneshot(request).await?;
    let status = resp.status().as_u16();
    let body = axum::body::to_bytes(resp.into_body(), 64 * 1024).await?;
    let body: serde_json::Value = serde_json::from_slice(&body)?;
    ensure!(status == 500 && body["error"]["code"] == "internal", "{status} {body}");
    Ok(())
}

/// An append links the new row to the head's hash. A head whose hash is not 64 hex digits used
/// to be hashed as if it were empty (a new row linked to nothing anyone wrote); now the append
/// fails and nothing is written.
async fn a_damaged_audit_head_stops_the_append(b: Backend) -> anyhow::Result<()> {
    let server = TestServer::start(b).await?;
    let store = &server.state.store;
    let ev = |i: i64| Event { actor: None, action: "test.append", target: None, detail: json!({ "i": i }) };
    audit::append(store, 1_800_000_000, ev(1)).await?;
    let before = audit::list(store, 0, 1000).await?.len();
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
        .bind("not a hash")
        .execute(store.pool())
        .await?;
    ensure!(audit::append(store, 1_800_000_001, ev(2)).await.is_err(), "appended after a damaged head");
    ensure!(audit::list(store, 0, 1000).await?.len() == before, "a row was written");
    Ok(())
}

/// `audit verify` names a row whose `prev_hash` is not a hash at all (it used to report only a
/// mismatch, as for a reordered row).
async fn verify_names_a_malformed_prev_hash(b: Backend) -> anyhow::Result<()> {
    let server = TestServer::start(b).await?;
    let store = &server.state.store;
    for i in 0..3i64 {
        let ev = Event { actor: None, action: "test.append", target: None, detail: json!({ "i": i }) };
        audit::append(store, 1_800_000_000 + i, ev).await?;
    }
    let rows = audit::list(store, 0, 1000).await?;
    let second = rows.get(1).ok_or_else(|| anyhow::anyhow!("rows: {rows:?}"))?.seq;
    sqlx::query("UPDATE audit_log SET prev_hash = $1 WHERE seq = $2")
        .bind("xyz")
        .bind(second)
        .execute(store.pool())
        .await?;
    let bad = audit::verify(store).await?.first_bad.ok_or_else(|| anyhow::anyhow!("not detected"))?;
    ensure!(bad.seq == second && bad.reason.contains("malformed"), "{bad:?}");
    Ok(())
}
