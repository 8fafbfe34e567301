//! The embedded web app (headers, no inline code, the API's errors stay JSON, the installable
//! app's service worker).

use anyhow::{Context, ensure};
use blindvault_api::ErrorCode;
use blindvault_testkit::{Backend, TestServer};
use serde_json::json;

#[tokio::test]
async fn web_app_is_served_with_a_strict_policy() -> anyhow::Result<()> {
    let server = TestServer::start(Backend::Sqlite).await?;
    let http = reqwest::Client::new();
    let get = |p: &str| http.get(format!("{}{p}", server.base)).send();

    let index = get("/").await?;
    ensure!(index.status() == 200);
    let h = index.headers().clone();
    let header = |n: &str| h.get(n).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    ensure!(header("content-type").starts_with("text/html"));
    let csp = header("content-security-policy");
    for directive in [
        "default-src 'none'",
        "script-src 'self' 'wasm-unsafe-eval'",
        "style-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "require-trusted-types-for 'script'",
        // One policy, for the service worker's URL only (web/js/pwa.js); no `default`.
        "trusted-types sw",
    ] {
        ensure!(csp.contains(directive), "CSP {csp:?} lacks {directive}");
    }
    ensure!(csp.ends_with("trusted-types sw"), "no other policy: {csp}");
    ensure!(!csp.contains("unsafe-inline") && !csp.contains("http:") && !csp.contains("https:"), "{csp}");
    ensure!(header("x-frame-options") == "DENY");
    ensure!(header("x-content-type-options") == "nosniff");
    ensure!(header("referrer-policy") == "no-referrer");
    ensure!(header("cross-origin-opener-policy") == "same-origin");
    ensure!(header("cross-origin-resource-policy") == "same-origin");
    ensure!(header("permissions-policy").contains("camera=()"));
    ensure!(header("cache-control") == "no-store");
    let html = index.text().await?;
    // Everything the page runs is a file from this origin: the policy forbids inline code.
    let scripts: Vec<&str> = html.split("<script").skip(1).collect();
    ensure!(
        !scripts.is_empty()
            && scripts.iter().all(|t| t.split('>').next().is_some_and(|a| a.contains(" src=")))
    );
    ensure!(html.matches("</script>").count() == scripts.len(), "script tags carry no inline code");
    for attr in [" style=", " onclick=", " onload=", " onerror=", "javascript:"] {
        ensure!(!html.contains(attr), "inline {attr} in {html}");
    }
    ensure!(!html.contains("<style"), "no inline style block");
    ensure!(!html.contains("http://") && !html.contains("https://"), "no external resource: {html}");

    let js = get("/app.js").await?;
    ensure!(js.headers()["content-type"].to_str()?.starts_with("text/javascript"));
    let js = js.text().await?;
    // The DOM is built from text nodes only: no HTML strings, no eval.
    for banned in ["innerHTML", "outerHTML", "insertAdjacentHTML", "eval(", "new Function", "document.write"]
    {
        ensure!(!js.contains(banned), "app.js uses {banned}");
    }
    let wasm = get("/pkg/blindvault_wasm_bg.wasm").await?;
    ensure!(
        wasm.status() == 200,
        "the WebAssembly bundle is embedded (run scripts/build-web.sh before building)"
    );
    ensure!(wasm.headers()["content-type"] == "application/wasm");
    ensure!(wasm.bytes().await?.starts_with(b"\0asm"));
    ensure!(get("/style.css").await?.headers()["content-type"].to_str()?.starts_with("text/css"));

    // Unknown pages and API routes: JSON 404s; the API's error format is unchanged.
    let r = get("/no-such-page.html").await?;
    ensure!(r.status() == 404);
    let r = get("/api/no-such-route").await?;
    ensure!(r.status() == 404);
    let body: serde_json::Value = r.json().await?;
    ensure!(body["error"]["code"] == "not_found", "{body}");
    // Path tricks do not reach the file system (assets are a fixed table). Sent raw: an HTTP
    // client would normalise them away.
    let addr = server.base.trim_start_matches("http://").to_owned();
    for p in [
        "/../Cargo.toml",
        "/%2e%2e/Cargo.toml",
        "/pkg/../../Cargo.toml",
        "//etc/passwd",
        "/pkg/%2e%2e/app.js",
    ] {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut conn = tokio::net::TcpStream::connect(&addr).await?;
        conn.write_all(format!("GET {p} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes())
            .await?;
        let mut answer = String::new();
        conn.read_to_string(&mut answer).await?;
        let status = answer.split(' ').nth(1).unwrap_or_default().to_owned();
        ensure!(status == "404" || status == "400", "{p}: {status}");
        ensure!(!answer.contains("[package]") && !answer.contains("root:"), "{p} leaked a file");
    }
    // The app is read-only.
    let mut agent = server.agent();
    let r = agent.post("/", json!({})).await?;
    ensure!(r.status == 405 && r.code() == Some(ErrorCode::MethodNotAllowed), "{:?}", r.body);
    Ok(())
}

/// The installable app: the policy allows this origin's service worker and manifest (and no
/// other), `/sw.js` is never taken from an HTTP cache and carries the build's version and the
/// list of files it caches — the app shell and both WebAssembly bundles, never the API or itself.
#[tokio::test]
async fn service_worker_is_served_with_the_build_version() -> anyhow::Result<()> {
    use blindvault_server::web::{VERSION_HEADER, WEB_VERSION};
    let server = TestServer::start(Backend::Sqlite).await?;
    let http = reqwest::Client::new();
    let get = |p: &str| http.get(format!("{}{p}", server.base)).send();

    ensure!(WEB_VERSION.len() == 32 && WEB_VERSION.bytes().all(|b| b.is_ascii_hexdigit()));
    let index = get("/").await?;
    let csp = index.headers()["content-security-policy"].to_str()?.to_owned();
    ensure!(csp.contains("worker-src 'self';") && csp.contains("manifest-src 'self';"), "{csp}");
    ensure!(csp.matches("worker-src").count() == 1 && !csp.contains("child-src"), "{csp}");
    ensure!(index.headers()[VERSION_HEADER] == WEB_VERSION);
    ensure!(index.headers()["cache-control"] == "no-store", "the pages stay no-store");

    let sw = get("/sw.js").await?;
    ensure!(sw.status() == 200);
    let h = sw.headers().clone();
    ensure!(h["content-type"].to_str()?.starts_with("text/javascript"));
    ensure!(h["cache-control"] == "no-cache", "{:?}", h["cache-control"]);
    ensure!(h[VERSION_HEADER] == WEB_VERSION);
    ensure!(h.get("service-worker-allowed").is_none(), "the worker's scope is its own directory");
    ensure!(h["content-security-policy"].to_str()? == blindvault_server::web::CSP);
    let js = sw.text().await?;
    ensure!(js.contains(&format!("const VERSION = '{WEB_VERSION}';")), "{js}");
    ensure!(!js.contains("__BLINDVAULT_"), "every placeholder is filled");
    let shell = js
        .lines()
        .find_map(|l| l.strip_prefix("const SHELL = ")?.strip_suffix(';'))
        .context("the SHELL list")?;
    let shell: Vec<String> = serde_json::from_str(shell)?;
    for p in [
        "/index.html",
        "/offline.html",
        "/app.js",
        "/style.css",
        "/js/router.js",
        "/js/offline.js",
        "/manifest.webmanifest",
        "/icons/icon-192.png",
        "/apple-touch-icon.png",
        "/pkg/blindvault_wasm_bg.wasm",
        "/wallet-pkg/blindvault_wallet_wasm_bg.wasm",
    ] {
        ensure!(shell.iter().any(|s| s == p), "{p} is not cached: {shell:?}");
    }
    ensure!(!shell.iter().any(|p| p == "/sw.js" || p.starts_with("/api")), "{shell:?}");
    for p in &shell {
        ensure!(get(p).await?.status() == 200, "{p} is cached but not served");
    }

    let manifest = get("/manifest.webmanifest").await?;
    ensure!(manifest.headers()["content-type"] == "application/manifest+json");
    let m: serde_json::Value = manifest.json().await?;
    ensure!(m["display"] == "standalone" && m["start_url"] == "/" && m["scope"] == "/");
    Ok(())
}
