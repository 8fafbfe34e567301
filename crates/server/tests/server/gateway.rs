//! The RPC gateway against a local HTTP server standing in for each chain's endpoint: the exact
//! request each chain's public API documents goes out (method, path, query, content type, JSON
//! body), the credential only on the outbound request and only where the admin put it, nothing of
//! the caller's request but the checked call, every broadcast audited; the allow-lists, the size
//! limits, the per-person rate (injected clock), the timeout, redirects and 5xx answers.

use std::sync::{Arc, Mutex};

use anyhow::ensure;
use blindvault_api::ErrorCode;
use blindvault_api::wallet::{GatewayBody, GatewayReply};
use blindvault_server::config::GatewayConfig;
use blindvault_testkit::{Agent, Backend, Device, ServerOptions, TestServer};
use serde_json::{Value, json};

use super::wallet::{admin, audit_rows};

both!(
    gateway_forwards_each_chain_as_its_api_documents,
    gateway_refuses_what_is_not_on_its_list,
    gateway_never_shows_the_credential_to_the_browser,
    gateway_limits_each_person_by_the_injected_clock,
    gateway_times_out_and_refuses_redirects_large_and_failed_answers,
);

const EVM_ADDR: &str = "0x52908400098527886E0F7030069857D2E4169EE7";
const SOL_ADDR: &str = "4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T";
const BTC_ADDR: &str = "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu";
const TRON_ADDR: &str = "TLa2f6VPqDgRE67v1736s7bJ8Ray5wYjU7";
const TON_ADDR: &str = "EQDtFpEwcFAEcRe5mLVh2N6C0x-_hJEM7W61_JLnSF74p4q2";
const EVM_TX: &str = "0x88df016429689c079f3b2f6ad39fa052532c56795b733da78a91ebe6a713944b";
const SOL_SIG: &str =
    "5VERv8NMvzbJMEkV8xnrLkEaWRtSz9CosKDYjCJjBRnbJLgp8uirBgmQpjKhoR4tjF3ZpRzrFmBV6UjKdiSZkQUW";
const BTC_TX: &str = "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b";
const TRON_TX: &str = "7c2d4206c03a883dd9066d620335dc1be272a8dc733cfa3f6d10308faa37facc";
const TON_HASH: &str = "YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXoxMjM0NTY=";

/// Each chain's credential, where the admin puts it.
const EVM_KEY: &str = "evmpathsecret0123456789";
const SOL_KEY: &str = "sol-header-secret-0123456789";
const BTC_KEY: &str = "Bearer btc-bearer-secret-0123";
const TRON_KEY: &str = "tron-header-secret-0123456789";
const TON_KEY: &str = "ton-query-secret-0123456789";
const KEYS: [&str; 5] = [EVM_KEY, SOL_KEY, BTC_KEY, TRON_KEY, TON_KEY];

/// An expected request: method, path, query, content type, JSON body (`Null`: not checked).
type Want = (&'static str, String, Option<String>, Option<&'static str>, Value);

/// One request the local endpoint received.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    query: Option<String>,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
    fn url(&self) -> String {
        format!("{}?{}", self.path, self.query.clone().unwrap_or_default())
    }
}

/// A local HTTP server answering as each chain's API does.
struct Upstream {
    base: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Upstream {
    async fn start() -> anyhow::Result<Self> {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
            let log = log.clone();
            async move { answer(log, req).await }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(Self { base, seen })
    }
    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

async fn answer(log: Arc<Mutex<Vec<Seen>>>, req: axum::extract::Request) -> axum::response::Response {
    use axum::response::IntoResponse;
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20).await.map(|b| b.to_vec()).unwrap_or_default();
    let headers = parts
        .headers
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect::<Vec<_>>();
    let seen = Seen {
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: headers.clone(),
        body: body.clone(),
    };
    if let Ok(mut l) = log.lock() {
        l.push(seen.clone());
    }
    let json = |v: Value| axum::Json(v).into_response();
    let rpc = |result: Value| json(json!({ "jsonrpc": "2.0", "id": 1, "result": result }));
    let method = seen.json()["method"].as_str().unwrap_or_default().to_owned();
    let path = seen.path.as_str();
    match (seen.method.as_str(), path) {
        ("POST", p) if p.starts_with("/evm/") => match method.as_str() {
            "eth_sendRawTransaction" => rpc(json!(EVM_TX)),
            _ => rpc(json!("0xde0b6b3a7640000")),
        },
        ("POST", "/solana") => match method.as_str() {
            "sendTransaction" => rpc(json!(SOL_SIG)),
            _ => rpc(json!({ "context": { "slot": 1 }, "value": 5000 })),
        },
        ("GET", p) if p.starts_with("/esplora/address/") => {
            json(json!([{ "txid": BTC_TX, "vout": 0, "value": 1000, "status": { "confirmed": true } }]))
        }
        ("POST", "/esplora/tx") => BTC_TX.into_response(),
        ("GET", "/esplora/blocks/tip/height") => "840000".into_response(),
        ("POST", "/tron/wallet/getaccount") => json(json!({ "address": TRON_ADDR, "balance": 1_000_000 })),
        ("POST", "/tron/wallet/broadcasthex") => json(json!({ "result": true, "txid": TRON_TX })),
        ("GET", p) if p.starts_with("/tron/v1/accounts/") => json(json!({ "data": [], "success": true })),
        ("GET", "/ton/api/v2/getAddressInformation") => {
            json(json!({ "ok": true, "result": { "balance": "1000", "state": "active" } }))
        }
        ("POST", "/ton/api/v2/sendBocReturnHash") => {
            json(json!({ "ok": true, "result": { "@type": "ext.message.info", "hash": TON_HASH } }))
        }
        // An endpoint that echoes what it got: the gateway must not pass a credential back.
        (_, p) if p.starts_with("/echo") => json(json!({ "jsonrpc": "2.0", "id": 1, "result": {
            "uri": parts.uri.to_string(), "headers": headers, "body": String::from_utf8_lossy(&body) } })),
        (_, p) if p.starts_with("/fail") => {
            (axum::http::StatusCode::INTERNAL_SERVER_ERROR, format!("boom {headers:?}")).into_response()
        }
        (_, p) if p.starts_with("/redirect") => {
            (axum::http::StatusCode::FOUND, [("location", "/elsewhere")], "").into_response()
        }
        (_, p) if p.starts_with("/big") => {
            json(json!({ "jsonrpc": "2.0", "id": 1, "result": "a".repeat(10_000) }))
        }
        _ => (axum::http::StatusCode::NOT_FOUND, "no such route").into_response(),
    }
}

/// Sets an endpoint as the admin.
async fn endpoint(
    admin: &mut Agent,
    chain: &str,
    network: &str,
    url: &str,
    credential: Value,
) -> anyhow::Result<()> {
    let mut body = json!({ "chain": chain, "network": network, "url": url });
    if chain == "evm" {
        body["chain_id"] = json!(11155111);
    }
    if !credential.is_null() {
        body["credential"] = credential;
    }
    admin.put("/api/admin/wallet/endpoints", body).await?.ok()?;
    Ok(())
}

/// The five chains' endpoints on `up`, each with its credential.
async fn five_endpoints(admin: &mut Agent, up: &Upstream) -> anyhow::Result<()> {
    let b = &up.base;
    endpoint(
        admin,
        "evm",
        "sepolia",
        &format!("{b}/evm"),
        json!({ "kind": "path_segment", "value": EVM_KEY }),
    )
    .await?;
    endpoint(
        admin,
        "solana",
        "devnet",
        &format!("{b}/solana"),
        json!({ "kind": "header", "name": "x-api-key", "value": SOL_KEY }),
    )
    .await?;
    endpoint(
        admin,
        "bitcoin",
        "mainnet",
        &format!("{b}/esplora"),
        json!({ "kind": "header", "name": "authorization", "value": BTC_KEY }),
    )
    .await?;
    endpoint(
        admin,
        "tron",
        "nile",
        &format!("{b}/tron/"),
        json!({ "kind": "header", "name": "TRON-PRO-API-KEY", "value": TRON_KEY }),
    )
    .await?;
    endpoint(
        admin,
        "ton",
        "testnet",
        &format!("{b}/ton/api/v2"),
        json!({ "kind": "query", "name": "api_key", "value": TON_KEY }),
    )
    .await?;
    Ok(())
}

fn rpc(chain: &str, network: &str, method: &str, params: Value) -> Value {
    json!({ "chain": chain, "network": network, "call": { "kind": "json_rpc", "method": method, "params": params } })
}

fn rest(chain: &str, network: &str, method: &str, path: &str, query: Value, body: Value) -> Value {
    let mut call = json!({ "kind": "rest", "method": method, "path": path, "query": query });
    if !body.is_null() {
        call["body"] = body;
    }
    json!({ "chain": chain, "network": network, "call": call })
}

/// A gateway call carrying headers a browser (or an attacker) might add: none may go upstream.
/// (An `Authorization` header beside the session cookie is refused outright, 400
/// `token_and_cookie`: `server::tokens::token_scope_and_role_are_checked_at_every_use`.)
async fn call(agent: &mut Agent, body: Value) -> anyhow::Result<blindvault_testkit::Resp> {
    let extra =
        [("x-forwarded-for", "10.0.0.1"), ("proxy-authorization", "Bearer caller-token"), ("x-custom", "1")];
    agent.send_with("POST", "/api/wallet/rpc", Some(body), &extra).await
}

fn reply(r: blindvault_testkit::Resp) -> anyhow::Result<GatewayReply> {
    Ok(serde_json::from_value(r.ok()?.body)?)
}

async fn gateway_forwards_each_chain_as_its_api_documents(b: Backend) -> anyhow::Result<()> {
    let server = TestServer::start(b).await?;
    let up = Upstream::start().await?;
    let mut root = admin(&server).await?;
    five_endpoints(&mut root.agent, &up).await?;
    let mut alice = Device::new().register(&server, "alice").await?;
    let a = &mut alice.agent;
    let calls = [
        rpc("evm", "sepolia", "eth_getBalance", json!([EVM_ADDR, "latest"])),
        rpc("evm", "sepolia", "eth_sendRawTransaction", json!(["0x02f86c0180"])),
        rpc("solana", "devnet", "getBalance", json!([SOL_ADDR, { "commitment": "confirmed" }])),
        rpc("solana", "devnet", "sendTransaction", json!(["AQAB", { "encoding": "base64" }])),
        rest("bitcoin", "mainnet", "GET", &format!("/address/{BTC_ADDR}/utxo"), json!({}), Value::Null),
        rest("bitcoin", "mainnet", "GET", "/blocks/tip/height", json!({}), Value::Null),
        rest("bitcoin", "mainnet", "POST", "/tx", json!({}), json!("0200000001ab")),
        rest(
            "tron",
            "nile",
            "POST",
            "/wallet/getaccount",
            json!({}),
            json!({ "address": TRON_ADDR, "visible": true }),
        ),
        rest("tron", "nile", "POST", "/wallet/broadcasthex", json!({}), json!({ "transaction": "0a02abcd" })),
        rest(
            "tron",
            "nile",
            "GET",
            &format!("/v1/accounts/{TRON_ADDR}/transactions"),
            json!({ "only_confirmed": "true", "limit": "20" }),
            Value::Null,
        ),
        rest("ton", "testnet", "GET", "/getAddressInformation", json!({ "address": TON_ADDR }), Value::Null),
        rest(
            "ton",
            "testnet",
            "POST",
            "/sendBocReturnHash",
            json!({}),
            json!({ "boc": "te6cckEBAQEAAgAAAEysuc0=" }),
        ),
    ];
    let mut replies = Vec::new();
    for c in calls {
        replies.push(reply(call(a, c).await?)?);
    }
    // The endpoint's answers come back as they were, status and body.
    ensure!(replies.iter().all(|r| r.status == 200), "{replies:?}");
    ensure!(
        replies[0].body
            == GatewayBody::Json(json!({ "jsonrpc": "2.0", "id": 1, "result": "0xde0b6b3a7640000" }))
    );
    ensure!(replies[5].body == GatewayBody::Text("840000".into()));
    ensure!(replies[6].body == GatewayBody::Text(BTC_TX.into()));
    let seen = up.seen();
    ensure!(seen.len() == 12, "{seen:#?}");
    let jrpc = |m: &str, p: Value| json!({ "jsonrpc": "2.0", "id": 1, "method": m, "params": p });
    // (method, path, query, content type, body): what each API's reference documents.
    let want: [Want; 12] = [
        (
            "POST",
            format!("/evm/{EVM_KEY}"),
            None,
            Some("application/json"),
            jrpc("eth_getBalance", json!([EVM_ADDR, "latest"])),
        ),
        (
            "POST",
            format!("/evm/{EVM_KEY}"),
            None,
            Some("application/json"),
            jrpc("eth_sendRawTransaction", json!(["0x02f86c0180"])),
        ),
        (
            "POST",
            "/solana".into(),
            None,
            Some("application/json"),
            jrpc("getBalance", json!([SOL_ADDR, { "commitment": "confirmed" }])),
        ),
        (
            "POST",
            "/solana".into(),
            None,
            Some("application/json"),
            jrpc("sendTransaction", json!(["AQAB", { "encoding": "base64" }])),
        ),
        ("GET", format!("/esplora/address/{BTC_ADDR}/utxo"), None, None, Value::Null),
        ("GET", "/esplora/blocks/tip/height".into(), None, None, Value::Null),
        ("POST", "/esplora/tx".into(), None, Some("text/plain"), Value::Null),
        (
            "POST",
            "/tron/wallet/getaccount".into(),
            None,
            Some("application/json"),
            json!({ "address": TRON_ADDR, "visible": true }),
        ),
        (
            "POST",
            "/tron/wallet/broadcasthex".into(),
            None,
            Some("application/json"),
            json!({ "transaction": "0a02abcd" }),
        ),
        (
            "GET",
            format!("/tron/v1/accounts/{TRON_ADDR}/transactions"),
            Some("limit=20&only_confirmed=true".into()),
            None,
            Value::Null,
        ),
        (
            "GET",
            "/ton/api/v2/getAddressInformation".into(),
            Some(format!("address={TON_ADDR}&api_key={TON_KEY}")),
            None,
            Value::Null,
        ),
        (
            "POST",
            "/ton/api/v2/sendBocReturnHash".into(),
            Some(format!("api_key={TON_KEY}")),
            Some("application/json"),
            json!({ "boc": "te6cckEBAQEAAgAAAEysuc0=" }),
        ),
    ];
    for (s, (method, path, query, ctype, body)) in seen.iter().zip(want) {
        ensure!(s.method == method && s.path == path && s.query == query, "{s:?}");
        ensure!(s.header("content-type") == ctype, "{s:?}");
        ensure!(body.is_null() || s.json() == body, "{s:?}");
        // Nothing of the caller's request goes upstream.
        for h in [
            "cookie",
            "origin",
            "referer",
            "x-forwarded-for",
            "x-custom",
            "x-blindvault-step-up",
            "proxy-authorization",
        ] {
            ensure!(s.header(h).is_none(), "{h} forwarded: {s:?}");
        }
        ensure!(s.header("authorization") != Some("Bearer caller-token"), "{s:?}");
    }
    ensure!(seen[6].body == b"0200000001ab" && seen[4].body.is_empty());
    // Each credential arrives only at its own endpoint, only where the admin put it.
    let place = |s: &Seen, key: &str| {
        let in_url = s.url().contains(key);
        let in_headers =
            s.headers.iter().filter(|(_, v)| v.contains(key)).map(|(k, _)| k.clone()).collect::<Vec<_>>();
        let in_body = String::from_utf8_lossy(&s.body).contains(key);
        (in_url, in_headers, in_body)
    };
    for s in &seen {
        let own = match s.path.split('/').nth(1) {
            Some("evm") => EVM_KEY,
            Some("solana") => SOL_KEY,
            Some("esplora") => BTC_KEY,
            Some("tron") => TRON_KEY,
            _ => TON_KEY,
        };
        for key in KEYS {
            let (url, headers, body) = place(s, key);
            ensure!(!body, "{key} in a body: {s:?}");
            if key != own {
                ensure!(!url && headers.is_empty(), "{key} at another endpoint: {s:?}");
            } else if key == EVM_KEY || key == TON_KEY {
                ensure!(url && headers.is_empty(), "{s:?}");
            } else {
                let name = if key == SOL_KEY {
                    "x-api-key"
                } else if key == BTC_KEY {
                    "authorization"
                } else {
                    "tron-pro-api-key"
                };
                ensure!(!url && headers == [name.to_owned()] && s.header(name) == Some(key), "{s:?}");
            }
        }
    }
    // Every broadcast is audited: who, which chain and network, the id the node returned.
    let rows = audit_rows(&mut root.agent, "wallet.broadcast").await?;
    let got: Vec<(String, String, String)> = rows
        .iter()
        .map(|(r, d)| {
            (
                r["target"].as_str().unwrap_or_default().to_owned(),
                d["txid"].as_str().unwrap_or_default().to_owned(),
                d["outcome"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let expected = [
        ("evm:sepolia", EVM_TX),
        ("solana:devnet", SOL_SIG),
        ("bitcoin:mainnet", BTC_TX),
        ("tron:nile", TRON_TX),
        ("ton:testnet", TON_HASH),
    ];
    ensure!(got.len() == 5, "{got:?}");
    for ((target, txid, outcome), (t, id)) in got.iter().zip(expected) {
        ensure!(target == t && txid == id && outcome == "answered", "{got:?}");
    }
    ensure!(rows.iter().all(|(r, d)| r["actor"] == alice.user_id.as_str()
        && d["request_sha256"].as_str().map(str::len) == Some(64)));
    ensure!(rows[2].1["call"] == "/tx" && rows[0].1["call"] == "eth_sendRawTransaction");
    Ok(())
}

async fn gateway_refuses_what_is_not_on_its_list(b: Backend) -> anyhow::Result<()> {
    let server = TestServer::start_with(
        b,
        ServerOptions {
            gateway: Some(GatewayConfig {
                max_request_bytes: 2048,
                rate_limit_per_minute: 100_000,
                rate_limit_burst: 100_000,
                ..GatewayConfig::default()
            }),
            ..ServerOptions::default()
        },
    )
    .await?;
    let up = Upstream::start().await?;
    let mut root = admin(&server).await?;
    five_endpoints(&mut root.agent, &up).await?;
    let mut alice = Device::new().register(&server, "alice").await?;
    let a = &mut alice.agent;
    // Not signed in.
    let r = server.agent().post("/api/wallet/rpc", rpc("evm", "sepolia", "eth_chainId", json!([]))).await?;
    ensure!(r.status == 401 && r.code() == Some(ErrorCode::Unauthenticated), "{r:?}");
    // Methods and routes outside the lists: 403 gateway_method_not_allowed.
    let refused = [
        rpc("evm", "sepolia", "eth_sign", json!([EVM_ADDR, "0x00"])),
        rpc("evm", "sepolia", "eth_accounts", json!([])),
        rpc("evm", "sepolia", "personal_unlockAccount", json!([EVM_ADDR, "pw"])),
        rpc("evm", "sepolia", "admin_addPeer", json!(["enode://x"])),
        rpc("evm", "sepolia", "ETH_GETBALANCE", json!([])),
        rpc("solana", "devnet", "requestAirdrop", json!([SOL_ADDR, 1])),
        rest(
            "bitcoin",
            "mainnet",
            "GET",
            &format!("/address/{BTC_ADDR}/../../admin"),
            json!({}),
            Value::Null,
        ),
        rest("bitcoin", "mainnet", "GET", &format!("/address/{BTC_ADDR}/utxo/"), json!({}), Value::Null),
        rest("bitcoin", "mainnet", "GET", "/address/%2e%2e/utxo", json!({}), Value::Null),
        rest("bitcoin", "mainnet", "GET", "/tx", json!({}), Value::Null),
        rest("bitcoin", "mainnet", "GET", "//evil.example/tx", json!({}), Value::Null),
        rest("tron", "nile", "POST", "/wallet/createtransaction", json!({}), json!({})),
        rest("tron", "nile", "GET", "/wallet/getaccount", json!({}), Value::Null),
        rest(
            "ton",
            "testnet",
            "GET",
            "/getAddressInformation/../sendBoc",
            json!({ "address": TON_ADDR }),
            Value::Null,
        ),
    ];
    for c in refused {
        let r = call(a, c.clone()).await?;
        ensure!(r.status == 403 && r.code() == Some(ErrorCode::GatewayMethodNotAllowed), "{c}: {r:?}");
    }
    // Malformed calls of listed routes: 400 gateway_invalid_call.
    let malformed = [
        rest("evm", "sepolia", "POST", "/", json!({}), json!({})),
        rpc("bitcoin", "mainnet", "getblockcount", json!([])),
        rpc("evm", "sepolia", "eth_getBalance", json!({ "address": EVM_ADDR })),
        rest(
            "ton",
            "testnet",
            "GET",
            "/getAddressInformation",
            json!({ "address": TON_ADDR, "url": "http://x" }),
            Value::Null,
        ),
        rest(
            "ton",
            "testnet",
            "GET",
            "/getAddressInformation",
            json!({ "address": "not an address" }),
            Value::Null,
        ),
        rest("bitcoin", "mainnet", "POST", "/tx", json!({}), json!({ "hex": "00" })),
        rest("bitcoin", "mainnet", "POST", "/tx", json!({}), json!("zz")),
        rest("tron", "nile", "POST", "/wallet/getaccount", json!({}), json!("text")),
        rest("bitcoin", "mainnet", "GET", "/blocks/tip/height", json!({}), json!({ "x": 1 })),
    ];
    for c in malformed {
        let r = call(a, c.clone()).await?;
        ensure!(r.status == 400 && r.code() == Some(ErrorCode::GatewayInvalidCall), "{c}: {r:?}");
    }
    // A chain and network with no endpoint, or a disabled one: 404 gateway_no_endpoint.
    let r = call(a, rpc("solana", "mainnet", "getBalance", json!([SOL_ADDR]))).await?;
    ensure!(r.status == 404 && r.code() == Some(ErrorCode::GatewayNoEndpoint), "{r:?}");
    let off = json!({ "chain": "ton", "network": "testnet", "url": format!("{}/ton/api/v2", up.base), "enabled": false });
    root.agent.put("/api/admin/wallet/endpoints", off).await?.ok()?;
    let r = call(a, rest("ton", "testnet", "GET", "/getMasterchainInfo", json!({}), Value::Null)).await?;
    ensure!(r.status == 404 && r.code() == Some(ErrorCode::GatewayNoEndpoint), "{r:?}");
    // Over the configured size: 413 gateway_body_too_large; not JSON: 415.
    let big = rpc("evm", "sepolia", "eth_sendRawTransaction", json!([format!("0x{}", "ab".repeat(2048))]));
    let r = call(a, big).await?;
    ensure!(r.status == 413 && r.code() == Some(ErrorCode::GatewayBodyTooLarge), "{r:?}");
    let r = a.send_with("POST", "/api/wallet/rpc", None, &[("content-type", "text/plain")]).await?;
    ensure!(r.status == 415 && r.code() == Some(ErrorCode::UnsupportedMediaType), "{r:?}");
    // None of it reached the endpoint.
    ensure!(up.seen().is_empty(), "{:#?}", up.seen());
    Ok(())
}

/// Status, every header and the body of a response, as text.
async fn raw(
    server: &TestServer,
    agent: &Agent,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> anyhow::Result<String> {
    let mut req = reqwest::Client::new()
        .request(reqwest::Method::from_bytes(method.as_bytes())?, format!("{}{path}", server.base));
    if let Some(o) = &agent.origin {
        req = req.header("origin", o);
    }
    if let Some(t) = &agent.token {
        req = req.header("cookie", format!("{}={t}", agent.cookie_name));
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await?;
    let mut out = format!("{}\n", resp.status());
    for (k, v) in resp.headers() {
        out.push_str(&format!("{k}: {}\n", String::from_utf8_lossy(v.as_bytes())));
    }
    out.push_str(&resp.text().await?);
    Ok(out)
}

async fn gateway_never_shows_the_credential_to_the_browser(b: Backend) -> anyhow::Result<()> {
    let server = TestServer::start(b).await?;
    let up = Upstream::start().await?;
    let mut root = admin(&server).await?;
    five_endpoints(&mut root.agent, &up).await?;
    let u = &up.base;
    // Endpoints that echo every header, the URL and the body back, or fail, or redirect.
    endpoint(
        &mut root.agent,
        "evm",
        "echo",
        &format!("{u}/echo"),
        json!({ "kind": "header", "name": "x-api-key", "value": SOL_KEY }),
    )
    .await?;
    endpoint(
        &mut root.agent,
        "evm",
        "echo-path",
        &format!("{u}/echo"),
        json!({ "kind": "path_segment", "value": EVM_KEY }),
    )
    .await?;
    endpoint(
        &mut root.agent,
        "ton",
        "echo",
        &format!("{u}/echo"),
        json!({ "kind": "query", "name": "api_key", "value": TON_KEY }),
    )
    .await?;
    endpoint(
        &mut root.agent,
        "bitcoin",
        "fail",
        &format!("{u}/fail"),
        json!({ "kind": "header", "name": "authorization", "value": BTC_KEY }),
    )
    .await?;
    endpoint(
        &mut root.agent,
        "tron",
        "redirect",
        &format!("{u}/redirect"),
        json!({ "kind": "header", "name": "TRON-PRO-API-KEY", "value": TRON_KEY }),
    )
    .await?;
    let alice = Device::new().register(&server, "alice").await?;
    let (r, a) = (&root.agent, &alice.agent);
    let (mut pages, mut extra) = (Vec::new(), Vec::new());
    for (agent, method, path, body) in [
        (r, "GET", "/api/admin/wallet/endpoints", None),
        (
            r,
            "PUT",
            "/api/admin/wallet/endpoints",
            Some(json!({ "chain": "ton", "network": "echo", "url": format!("{u}/echo") })),
        ),
        (r, "GET", "/api/admin/settings", None),
        (a, "GET", "/api/wallet/networks", None),
        (a, "GET", "/api/wallet/tokens", None),
        (a, "POST", "/api/wallet/rpc", Some(rpc("evm", "echo", "eth_chainId", json!([])))),
        (a, "POST", "/api/wallet/rpc", Some(rpc("evm", "echo-path", "eth_chainId", json!([])))),
        (
            a,
            "POST",
            "/api/wallet/rpc",
            Some(rest(
                "ton",
                "echo",
                "GET",
                "/getAddressInformation",
                json!({ "address": TON_ADDR }),
                Value::Null,
            )),
        ),
        (a, "POST", "/api/wallet/rpc", Some(rest("bitcoin", "fail", "POST", "/tx", json!({}), json!("00")))),
        (
            a,
            "POST",
            "/api/wallet/rpc",
            Some(rest("tron", "redirect", "POST", "/wallet/getnowblock", json!({}), Value::Null)),
        ),
        (a, "POST", "/api/wallet/rpc", Some(rpc("evm", "sepolia", "eth_blockNumber", json!([])))),
        (a, "POST", "/api/wallet/rpc", Some(rpc("solana", "devnet", "getSlot", json!([])))),
        (
            a,
            "POST",
            "/api/wallet/rpc",
            Some(rest("bitcoin", "mainnet", "GET", "/blocks/tip/height", json!({}), Value::Null)),
        ),
        (a, "POST", "/api/wallet/rpc", Some(rpc("evm", "sepolia", "eth_sign", json!([])))),
        (r, "GET", "/api/admin/audit?limit=1000", None),
        (r, "DELETE", "/api/admin/wallet/endpoints/evm:echo", None),
    ] {
        pages.push(raw(&server, agent, method, path, body).await?);
    }
    // And every other route of the contract under /api/admin/ or /api/wallet/, as the admin and
    // as a person, with an empty body (the endpoint ids those that exist).
    let routes = blindvault_api::ROUTES
        .iter()
        .filter(|r| r.path.starts_with("/api/admin/") || r.path.starts_with("/api/wallet/"));
    for route in routes {
        for agent in [r, a] {
            let id = if route.path.contains("/wallet/endpoints/") { "bitcoin:fail" } else { "x" };
            let path = blindvault_api::paths::with_id(route.path, id);
            let body = (route.method != blindvault_api::Method::Get).then(|| json!({}));
            extra.push(raw(&server, agent, route.method.upper(), &path, body).await?);
        }
    }
    ensure!(extra.len() > 40);
    // The echo endpoints did get the credentials (so there was something to leak)...
    let seen = up.seen();
    ensure!(seen.iter().any(|s| s.path == "/echo" && s.header("x-api-key") == Some(SOL_KEY)));
    ensure!(seen.iter().any(|s| s.path == format!("/echo/{EVM_KEY}")));
    ensure!(seen.iter().any(|s| s.query.as_deref().is_some_and(|q| q.contains(TON_KEY))));
    // ...and no response carries one, in a header or a body; the echo came back redacted.
    for page in pages.iter().chain(&extra) {
        for key in KEYS {
            ensure!(!page.contains(key), "{key} reached the browser:\n{page}");
        }
    }
    ensure!(pages[5].contains("[redacted]") && pages[7].contains("[redacted]"), "{}", pages[5]);
    ensure!(pages[8].starts_with("502") && pages[8].contains("gateway_upstream_failed"), "{}", pages[8]);
    ensure!(pages[9].starts_with("502") && !seen.iter().any(|s| s.path == "/elsewhere"), "{}", pages[9]);
    Ok(())
}

async fn gateway_limits_each_person_by_the_injected_clock(b: Backend) -> anyhow::Result<()> {
    let gateway =
        GatewayConfig { rate_limit_per_minute: 60, rate_limit_burst: 3, ..GatewayConfig::default() };
    let server =
        TestServer::start_with(b, ServerOptions { gateway: Some(gateway), ..ServerOptions::default() })
            .await?;
    let mut alice = Device::new().register(&server, "alice").await?;
    let mut bob = Device::new().register(&server, "bob").await?;
    let c = rpc("evm", "sepolia", "eth_chainId", json!([]));
    for _ in 0..3 {
        let r = alice.agent.post("/api/wallet/rpc", c.clone()).await?;
        ensure!(r.code() == Some(ErrorCode::GatewayNoEndpoint), "{r:?}");
    }
    let r = alice.agent.post("/api/wallet/rpc", c.clone()).await?;
    ensure!(
        r.status == 429 && r.code() == Some(ErrorCode::RateLimited) && r.retry_after.as_deref() == Some("1"),
        "{r:?}"
    );
    // Per person: Bob has his own bucket.
    ensure!(bob.agent.post("/api/wallet/rpc", c.clone()).await?.code() == Some(ErrorCode::GatewayNoEndpoint));
    // One call a second (60 a minute), by the server's clock.
    server.clock.advance(1);
    ensure!(
        alice.agent.post("/api/wallet/rpc", c.clone()).await?.code() == Some(ErrorCode::GatewayNoEndpoint)
    );
    ensure!(alice.agent.post("/api/wallet/rpc", c).await?.status == 429);
    Ok(())
}

async fn gateway_times_out_and_refuses_redirects_large_and_failed_answers(b: Backend) -> anyhow::Result<()> {
    let gateway = GatewayConfig {
        timeout_ms: 300,
        max_response_bytes: 4096,
        rate_limit_per_minute: 100_000,
        rate_limit_burst: 100_000,
        ..GatewayConfig::default()
    };
    let server =
        TestServer::start_with(b, ServerOptions { gateway: Some(gateway), ..ServerOptions::default() })
            .await?;
    let up = Upstream::start().await?;
    // An endpoint that accepts connections and never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let silent_url = format!("http://{}/rpc", silent.local_addr()?);
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((sock, _)) = silent.accept().await {
            open.push(sock);
        }
    });
    let mut root = admin(&server).await?;
    let a = &mut root.agent;
    endpoint(a, "evm", "silent", &silent_url, Value::Null).await?;
    endpoint(a, "evm", "big", &format!("{}/big", up.base), Value::Null).await?;
    endpoint(a, "evm", "redirect", &format!("{}/redirect", up.base), Value::Null).await?;
    endpoint(a, "evm", "fail", &format!("{}/fail", up.base), Value::Null).await?;
    let r = a.post("/api/wallet/rpc", rpc("evm", "silent", "eth_blockNumber", json!([]))).await?;
    ensure!(r.status == 504 && r.code() == Some(ErrorCode::GatewayUpstreamTimeout), "{r:?}");
    let r = a.post("/api/wallet/rpc", rpc("evm", "big", "eth_blockNumber", json!([]))).await?;
    ensure!(r.status == 502 && r.code() == Some(ErrorCode::GatewayResponseTooLarge), "{r:?}");
    let r = a.post("/api/wallet/rpc", rpc("evm", "redirect", "eth_blockNumber", json!([]))).await?;
    ensure!(
        r.status == 502
            && r.code() == Some(ErrorCode::GatewayUpstreamFailed)
            && r.body["error"]["upstream_status"] == 302,
        "{r:?}"
    );
    ensure!(!up.seen().iter().any(|s| s.path == "/elsewhere"), "a redirect was followed");
    // A broadcast the endpoint failed, or never answered, is audited all the same.
    let r = a.post("/api/wallet/rpc", rpc("evm", "fail", "eth_sendRawTransaction", json!(["0x02"]))).await?;
    ensure!(r.status == 502 && r.body["error"]["upstream_status"] == 500, "{r:?}");
    let r =
        a.post("/api/wallet/rpc", rpc("evm", "silent", "eth_sendRawTransaction", json!(["0x02"]))).await?;
    ensure!(r.status == 504, "{r:?}");
    let rows = audit_rows(a, "wallet.broadcast").await?;
    let outcomes: Vec<(&str, &Value)> = rows
        .iter()
        .map(|(_, d)| (d["outcome"].as_str().unwrap_or_default(), &d["upstream_status"]))
        .collect();
    ensure!(outcomes == [("failed", &json!(500)), ("timeout", &Value::Null)], "{outcomes:?}");
    ensure!(rows.iter().all(|(_, d)| d["txid"].is_null()));
    held.abort();
    Ok(())
}
