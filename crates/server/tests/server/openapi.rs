//! The OpenAPI document lists exactly the routes of the contract's table, every one is routed,
//! and no other method is routed on their paths. (The router takes every path from
//! `blindvault_api::paths`, whose every constant has a route in the table: the contract crate's
//! own test.)

use anyhow::ensure;
use blindvault_api::ErrorCode;
use blindvault_api::paths;
use blindvault_api::{Method, ROUTES};
use blindvault_server::openapi::document;
use blindvault_testkit::{Backend, TestServer};

both!(openapi_matches_router);

async fn openapi_matches_router(b: Backend) -> anyhow::Result<()> {
    let server = TestServer::start(b).await?;
    let mut a = server.agent();
    let served = a.get(paths::OPENAPI).await?.ok()?;
    ensure!(served.body == document(server.state.config.session_cookie_name()));
    let paths = served.body["paths"].as_object().cloned().unwrap_or_default();
    let mut n = 0;
    for (path, ops) in &paths {
        for method in ops.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()).unwrap_or_default() {
            n += 1;
            ensure!(ROUTES.iter().any(|r| r.method.lower() == method && r.path == path));
            // Every documented route is routed: neither 404 nor 405.
            let concrete = path.replace("{id}", "x");
            let body = (method != "get").then(|| serde_json::json!({}));
            let resp = a.send(&method.to_uppercase(), &concrete, body).await?;
            ensure!(
                resp.status != 404 || resp.code() != Some(ErrorCode::NotFound),
                "{method} {path} not routed: {resp:?}"
            );
            ensure!(resp.status != 405, "{method} {path}: method not routed");
        }
    }
    ensure!(n == ROUTES.len());
    // A method the table does not list for a path is not routed there (405).
    for path in ROUTES.iter().map(|r| r.path).collect::<std::collections::BTreeSet<_>>() {
        let concrete = path.replace("{id}", "x");
        for m in [Method::Get, Method::Post, Method::Put, Method::Patch, Method::Delete] {
            if ROUTES.iter().any(|r| r.method == m && r.path == path) {
                continue;
            }
            let body = (m != Method::Get).then(|| serde_json::json!({}));
            let resp = a.send(m.upper(), &concrete, body).await?;
            ensure!(resp.status == 405, "{} {path} is routed but not in the contract: {resp:?}", m.upper());
        }
    }
    // And an undocumented path is not routed.
    ensure!(a.get("/api/secret-undocumented").await?.status == 404);
    Ok(())
}
