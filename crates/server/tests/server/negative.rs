//! Negative ceremony and request tests. Every WebAuthn response here is a real one from
//! passkey-rs, produced under a changed condition or replayed — never hand-built.

use anyhow::ensure;
use blindvault_api::ErrorCode;
use blindvault_api::paths;
use blindvault_testkit::{Backend, Device, ServerOptions, TestServer};
use serde_json::json;
use url::Url;

both!(
    wrong_origin_refused,
    wrong_rp_id_refused,
    replayed_challenge_refused,
    expired_challenge_refused,
    missing_user_verification_refused,
    counter_going_backwards_refused,
    non_admin_gets_403,
    cross_origin_post_refused,
    bad_input_is_4xx_json,
    every_route_answers_bad_input_with_a_json_4xx,
    rate_limited,
    failed_assertions_limit_the_account_not_the_address,
);

async fn wrong_origin_refused(b: Backend) -> anyhow::Result<()> {
    let server = TestServer::start(b).await?;
    let evil = Url::parse("http://localhost:1")?;
    // Registration answered by a client on another origin (same RP id).
    let mut phone = Device::new();
    let mut agent = server.agent();
    let start = agent
        .post(paths::REGISTER_START, json!({"name": "alice", "invite": server.invite().await?}))
        .await?
        .ok()?;
    let c = phone.answer_create(&evil, start.body).await?;
    let resp = agent
        .post(paths::REGISTER_FINISH, json!({"ceremony_id": c.ceremony_id, "credential": c.credential}))
        .await?;
    ensure!(resp.status == 401 && resp.code() == Some(ErrorCode::OriginMismatch), "{resp:?}");
    // Login answered on another origin.
    let mut phone = Device::new();
    phone.register(&server, "bob").await?;
    let start = agent.post(paths::LOGIN_START, json!({})).await?.ok()?;
    let (cred, _) = phone.get(&evil, &start.body["options"]).await?;
    let resp = agent
        .post(paths::LOGIN_FINISH, json!({"ceremony_id": start.body["ceremony_id"], "credential": cred}))
        .await?;
    ensure!(resp.status == 401 && resp.code() == Some(ErrorCode::OriginMismatch), "{resp:?}");
    Ok(())
}

async fn wrong_rp_id_refused(b: Backend) -> anyhow::Result<()> {
    let opts = ServerOptions {
        rp_id: Some("vault.example.com".into()),
        origin: Some("https://vault.example.com".into()),
        ..ServerOptions::default()
    };
    let server = TestServer::start_with(b, opts).await?;
    // Sanity: the right RP id works.
    let mut good = Device::new();
    good.register(&server, "good").await?;
    good.login(&server).await?;
    // A client that signs for the parent domain (rp.id changed in the options it was given).
    let mut phone = Device::new();
    let mut agent = server.agent();
    let mut start = agent
        .post(paths::REGISTER_START, json!({"name": "alice", "invite": server.invite().await?}))
        .await?
        .ok()?
        .body;
    start["options"]["publicKey"]["rp"]["id"] = json!("example.com");
    let c = phone.answer_create(&server.origin, start).await?;
    let resp = agent
        .post(paths::REGISTER_FINISH, json!({"ceremony_id": c.ceremony_id, "credential": c.credential}))
        .await?;
    ensure!(resp.status == 401 && resp.code() == Some(ErrorCode::RpIdMismatch), "{resp:?}");
    // Login: an assertion made for the parent domain.
    let mut start = agent.post(paths::LOGIN_START, json!({})).await?.ok()?.body;
    start["options"]["publicKey"]["rpId"] = json!("example.com");
    let (cred, _) = phone.get(&server.origin, &start["options"]).await?;
    let resp = agent
        .post(paths::LOGIN_FINISH, json!({"ceremony_id": start["ceremony_id"], "credential": cred}))
        .await?;
    ensure!(
        resp.status == 401
            && matches!(resp.code(), Some(ErrorCode::RpIdMismatch | ErrorCode::UnknownCredential)),
        "{resp:?}"
    );
    Ok(())
}

async fn replayed_challenge_refused(b: Backend) -> anyhow::Result<()> {
    let server = TestServer::start(b).await?;
    let mut phone = Device::new();
    phone.register(&server, "alice").await?;
    let mut agent = server.agent();
    let c = phone.prepare_login(&server, &mut agent).await?;
    let body = json!({"ceremony_id": c.ceremony_id, "credential": c.credential});
    agent.post(paths::LOGIN_FINISH, body.clone()).await?.ok()?;
    // The same response again: the challenge is used up.
    let resp = server.agent().post(paths::LOGIN_FINISH, body).await?;
    ensure!(resp.status == 400 && resp.code() == Some(ErrorCode::ChallengeInvalid), "{resp:?}");
    // The same response against a fresh challenge: it signs the old one.
    let fresh = agent.post(paths::LOGIN_START, json!({})).await?.ok()?;
    let resp = server
        .agent()
        .post(
            paths::LOGIN_FINISH,
            json!({"ceremony_id": fresh.body["ceremony_id"], "credential": c.credential}),
        )
        .await?;
    ensure!(resp.status == 401 && resp.code() == Some(ErrorCode::ChallengeInvalid), "{resp:?}");
    // A refused answer used the fresh challenge up too (its deletion commits before anything
    // else of the login): a right answer to it now is refused.
    let (right, _) = phone.get(&server.origin, &fresh.body["options"]).await?;
    let resp = server
        .agent()
        .post(paths::LOGIN_FINISH, json!({"ceremony_id": fresh.body["ceremony_id"], "credential": right}))
        .await?;
    ensure!(resp.status == 400 && resp.code() == Some(ErrorCode::ChallengeInvalid), "{resp:?}");
    // A registration response replayed.
    let mut other = Device::new();
    let r = other.prepare_register(&server, &mut agent, "bob").await?;
    let body = json!({"ceremony_id": r.ceremony_id, "credential": r.credential});
    server.agent().post(paths::REGISTER_FINISH, body.clone()).await?.ok()?;
    let resp = server.agent().post(paths::REGISTER_FINISH, body).await?;
    ensure!(resp.status == 400 && resp.code() == Some(ErrorCode::ChallengeInvalid), "{resp:?}");
    Ok(())
}

async fn expired_challenge_refused(b: Backend) -> anyhow::Result<()> {
    let server = TestServer::start(b).await?;
    let mut phone = Device::new();
    let mut agent = server.agent();
    let r = phone.prepare_register(&server, &mut agent, "alice").await?;
    server.clock.advance(121);
    let resp = agent
        .post(paths::REGISTER_FINISH, json!({"ceremony_id": r.ceremony_id, "credential": r.credential}))
        .await?;
    ensure!(resp.status == 400 && resp.code() == Some(ErrorCode::ChallengeExpired), "{resp:?}");
    phone.register(&server, "bob").await?;
    let c = phone.prepare_login(&server, &mut agent).await?;
    server.clock.advance(121);
    let resp = agent
        .post(paths::LOGIN_FINISH, json!({"ceremony_id": c.ceremony_id, "credential": c.credential}))
        .await?;
    ensure!(resp.status == 400 && resp.code() == Some(ErrorCode::ChallengeExpired), "{resp:?}");
    Ok(())
}

/// Options as a client that ignores `userVerification: required` would treat them.
fn without_uv(options: &mut serde_json::Value) {
    let pk = &mut options["publicKey"];
    if pk.get("authenticatorSelection").is_some() {
        pk["authenticatorSelection"]["userVerification"] = json!("discouraged");
    } else {
        pk["userVerification"] = json!("discouraged");
    }
    if let Some(ext) = pk.get_mut("extensions").and_then(|e| e.as_object_mut()) {
        ext.remove("prf");
    }
}

async fn missing_user_verification_refused(b: Backend) -> anyhow::Result<()> {
    let server = TestServer::start(b).await?;
    let mut phone = Device::new();
    phone.register(&server, "alice").await?;
    phone.set_user_verification(false);
    let mut agent = server.agent();
    // Login with an authenticator that only tested presence (UV flag clear).
    let mut start = agent.post(paths::LOGIN_START, json!({})).await?.ok()?.body;
    without_uv(&mut start["options"]);
    let (cred, _) = phone.get(&server.origin, &start["options"]).await?;
    let resp = agent
        .post(paths::LOGIN_FINISH, json!({"ceremony_id": start["ceremony_id"], "credential": cred}))
        .await?;
    ensure!(resp.status == 401 && resp.code() == Some(ErrorCode::UserNotVerified), "{resp:?}");
    // Registration likewise.
    let mut start = agent
        .post(paths::REGISTER_START, json!({"name": "bob", "invite": server.invite().await?}))
        .await?
        .ok()?
        .body;
    without_uv(&mut start["options"]);
    let c = phone.answer_create(&server.origin, start).await?;
    let resp = agent
        .post(paths::REGISTER_FINISH, json!({"ceremony_id": c.ceremony_id, "credential": c.credential}))
        .await?;
    ensure!(resp.status == 401 && resp.code() == Some(ErrorCode::UserNotVerified), "{resp:?}");
    Ok(())
}

async fn counter_going_backwards_refused(b: Backend) -> anyhow::Result<()> {
    let server = TestServer::start(b).await?;
    let mut phone = Device::new();
    phone.register(&server, "alice").await?;
    phone.login(&server).await?; // counter 1
    let clone = phone.snapshot(); // a copy of the key, as a cloner would make
    phone.login(&server).await?; // counter 2
    phone.restore(clone); // the clone answers with counter 2 again
    let mut agent = server.agent();
    let c = phone.prepare_login(&server, &mut agent).await?;
    let resp = agent
        .post(paths::LOGIN_FINISH, json!({"ceremony_id": c.ceremony_id, "credential": c.credential}))
        .await?;
    ensure!(resp.status == 401 && resp.code() == Some(ErrorCode::CounterRegression), "{resp:?}");
    Ok(())
}

async fn non_admin_gets_403(b: Backend) -> anyhow::Result<()> {
    let server = TestServer::start(b).await?;
    let mut s = Device::new().register(&server, "alice").await?;
    let uid = s.user_id.clone();
    let checks = [
        ("GET", paths::ADMIN_USERS.to_owned(), None),
        ("DELETE", paths::with_id(paths::ADMIN_USER, &uid), None),
        ("PUT", paths::with_id(paths::ADMIN_USER_ROLE, &uid), Some(json!({"role": "admin"}))),
        ("GET", paths::with_id(paths::ADMIN_USER_SESSIONS, &uid), None),
        ("POST", paths::with_id(paths::ADMIN_USER_REVOKE_SESSIONS, &uid), Some(json!({}))),
        ("DELETE", paths::with_id(paths::ADMIN_SESSION, "x"), None),
        ("GET", paths::ADMIN_AUDIT.to_owned(), None),
        ("GET", paths::ADMIN_AUDIT_VERIFY.to_owned(), None),
    ];
    for (m, path, body) in checks {
        let resp = s.agent.send(m, &path, body).await?;
        ensure!(resp.status == 403 && resp.code() == Some(ErrorCode::Forbidden), "{m} {path}: {resp:?}");
    }
    // Without a session: 401.
    let resp = server.agent().get(paths::ADMIN_USERS).await?;
    ensure!(resp.status == 401 && resp.code() == Some(ErrorCode::Unauthenticated), "{resp:?}");
    // An approver is not an admin either.
    let me = s.agent.get(paths::ME).await?.ok()?;
    ensure!(me.json::<blindvault_api::sessions::Me>()?.user.role == "user");
    Ok(())
}

async fn cross_origin_post_refused(b: Backend) -> anyhow::Result<()> {
    let server = TestServer::start(b).await?;
    let s = Device::new().register(&server, "alice").await?;
    for origin in [
        Some("https://evil.example".to_owned()),
        Some("http://localhost:1".to_owned()),
        Some("null".to_owned()),
        None,
    ] {
        let mut a = s.agent.clone();
        a.origin = origin.clone();
        let passkey = paths::with_id(paths::PASSKEY, "x");
        for (m, path) in
            [("POST", paths::LOGOUT), ("POST", paths::LOGIN_START), ("PATCH", &passkey), ("DELETE", &passkey)]
        {
            let resp = a.send(m, path, Some(json!({}))).await?;
            ensure!(
                resp.status == 403 && resp.code() == Some(ErrorCode::CrossOrigin),
                "{origin:?} {m} {path}: {resp:?}"
            );
        }
        // Reads are not state-changing.
        a.get(paths::ME).await?.ok()?;
    }
    // The session survived every refused logout.
    let mut a = s.agent.clone();
    a.get(paths::ME).await?.ok()?;
    Ok(())
}

async fn bad_input_is_4xx_json(b: Backend) -> anyhow::Result<()> {
    let server = TestServer::start(b).await?;
    let mut a = server.agent();
    let cases = [
        ("POST", paths::REGISTER_START, Some(json!("not an object"))),
        ("POST", paths::REGISTER_START, Some(json!({"name": ""}))),
        ("POST", paths::REGISTER_START, Some(json!({"name": "x".repeat(65)}))),
        ("POST", paths::REGISTER_START, Some(json!({"name": "a\u{0}b"}))),
        ("POST", paths::REGISTER_FINISH, Some(json!({"ceremony_id": "nope", "credential": {}}))),
        ("POST", paths::LOGIN_FINISH, Some(json!({"ceremony_id": "nope"}))),
        (
            "POST",
            paths::LOGIN_FINISH,
            Some(
                json!({"ceremony_id": "nope", "credential": {"id": "x", "rawId": "x", "type": "public-key", "response": {}}}),
            ),
        ),
        ("POST", paths::LOGIN_FINISH, None),
        ("GET", "/api/nope", None),
        ("PUT", paths::HEALTH, Some(json!({}))),
        ("PATCH", "/api/passkeys/%ZZ", Some(json!({"name": "x"}))),
    ];
    for (m, path, body) in cases {
        let resp = a.send(m, path, body.clone()).await?;
        ensure!((400..500).contains(&resp.status), "{m} {path} {body:?}: {resp:?}");
        ensure!(resp.code().is_some(), "{m} {path}: not a JSON error: {resp:?}");
    }
    // A real login response with a garbled signature: 401, not 500.
    let mut phone = Device::new();
    phone.register(&server, "alice").await?;
    let mut c = phone.prepare_login(&server, &mut a).await?;
    c.credential["response"]["signature"] = json!("AAAA");
    let resp = a
        .post(paths::LOGIN_FINISH, json!({"ceremony_id": c.ceremony_id, "credential": c.credential}))
        .await?;
    ensure!(resp.status == 401, "{resp:?}");
    // Name taken: the same answer as a bad invite code (the form tells nobody which names exist).
    let mut a2 = server.agent();
    let resp =
        a2.post(paths::REGISTER_START, json!({"name": "alice", "invite": server.invite().await?})).await?;
    ensure!(resp.status == 403 && resp.code() == Some(ErrorCode::RegistrationRefused), "{resp:?}");
    Ok(())
}

async fn rate_limited(b: Backend) -> anyhow::Result<()> {
    let server =
        TestServer::start_with(b, ServerOptions { rate_limit: Some((60, 3)), ..ServerOptions::default() })
            .await?;
    let mut a = server.agent();
    for _ in 0..3 {
        a.post(paths::LOGIN_START, json!({})).await?.ok()?;
    }
    let resp = a.post(paths::LOGIN_START, json!({})).await?;
    ensure!(resp.status == 429 && resp.code() == Some(ErrorCode::RateLimited), "{resp:?}");
    // The wait is in `Retry-After` and in the body, for the web app to show.
    ensure!(resp.retry_after.as_deref() == Some("1"), "{resp:?}");
    ensure!(resp.error()?.retry_after_secs == Some(1), "{resp:?}");
    // Reads are not limited; after a second, one more token.
    a.get(paths::HEALTH).await?.ok()?;
    server.clock.advance(1);
    a.post(paths::LOGIN_START, json!({})).await?.ok()?;
    Ok(())
}

/// Failed assertions count per account: past the account's burst a failure answers 429 (with
/// the wait) instead of 401, on the server's clock. A valid assertion is never refused by that
/// bucket — credential and user ids are not secret, so a bucket that refused good assertions
/// would let anyone lock an approver out — and another person behind the same address signs in.
async fn failed_assertions_limit_the_account_not_the_address(b: Backend) -> anyhow::Result<()> {
    let opts = ServerOptions { account_rate_limit: Some((6, 10)), ..ServerOptions::default() };
    let server = TestServer::start_with(b, opts).await?;
    let evil = Url::parse("http://localhost:1")?;
    let mut alice = Device::new();
    alice.register(&server, "alice").await?;
    let mut bob = Device::new();
    bob.register(&server, "bob").await?;
    let mut agent = server.agent();
    let fail = async |agent: &mut blindvault_testkit::Agent,
                      alice: &mut Device|
           -> anyhow::Result<blindvault_testkit::Resp> {
        let start = agent.post(paths::LOGIN_START, json!({})).await?.ok()?;
        let (cred, _) = alice.get(&evil, &start.body["options"]).await?;
        agent
            .post(paths::LOGIN_FINISH, json!({"ceremony_id": start.body["ceremony_id"], "credential": cred}))
            .await
    };
    for _ in 0..10 {
        let resp = fail(&mut agent, &mut alice).await?;
        ensure!(resp.status == 401 && resp.code() == Some(ErrorCode::OriginMismatch), "{resp:?}");
    }
    let resp = fail(&mut agent, &mut alice).await?;
    ensure!(resp.status == 429 && resp.code() == Some(ErrorCode::RateLimited), "{resp:?}");
    ensure!(resp.retry_after.as_deref() == Some("10"), "{resp:?}");
    // Alice's own passkey still signs her in (the attacker cannot lock her out), and so does Bob
    // from the same address.
    alice.login(&server).await?;
    bob.login(&server).await?;
    // One token every ten seconds of the server's clock: a failure is a plain 401 again.
    server.clock.advance(10);
    let resp = fail(&mut agent, &mut alice).await?;
    ensure!(resp.status == 401, "{resp:?}");
    Ok(())
}

/// Every route of the contract's table, called by an admin and by an approver (so authorisation
/// passes and the handler's own input checks run) and without a session, with malformed path
/// ids and bodies: always an answer within seconds, never a 5xx, and every error is JSON with a
/// stable code.
async fn every_route_answers_bad_input_with_a_json_4xx(b: Backend) -> anyhow::Result<()> {
    use blindvault_api::ROUTES;
    let mut w = blindvault_testkit::broker::World::new(b, &["alice"]).await?;
    let ids = ["x", "%ZZ", "-", "AAAAAAAAAAAAAAAAAAAAAA", &"A".repeat(300), "..%2F..%2Fetc"];
    let long = "x".repeat(70 * 1024);
    let bodies = [
        None,
        Some(json!("a string")),
        Some(json!([1, 2])),
        Some(json!({})),
        Some(json!({
            "name": 5, "role": "king", "code": [], "ceremony_id": {}, "credential": "x",
            "org_public_key": "!!", "replace": "yes", "enrolment": 1, "certificate": null,
            "entry": "x", "sealed": -1, "response": "x", "status": "x", "id": "x", "version": -5,
        })),
        Some(json!({ "name": long })),
    ];
    let mut anon = w.server.agent();
    let mut failures = Vec::new();
    for route in ROUTES {
        let (method, path) = (route.method.lower(), &route.path);
        // Streams and sign-outs take no input (and the latter would end the sessions used here).
        if path.ends_with("/events") || path.starts_with(paths::LOGOUT) {
            continue;
        }
        let paths: Vec<String> = if path.contains("{id}") {
            ids.iter().map(|id| path.replace("{id}", id)).collect()
        } else {
            vec![(*path).to_owned()]
        };
        for p in &paths {
            for body in &bodies {
                for who in 0..3 {
                    let agent = match who {
                        0 => &mut w.admin.agent,
                        1 => &mut w.approvers[0].session.agent,
                        _ => &mut anon,
                    };
                    let m = method.to_ascii_uppercase();
                    let limit = std::time::Duration::from_secs(20);
                    let mut sent = tokio::time::timeout(limit, agent.send(&m, p, body.clone())).await;
                    if let Ok(Err(_)) = sent {
                        // A refusal sent before a large body was read closes that keep-alive
                        // connection (HTTP/1.1 cannot reuse it); a request the client had already
                        // queued on it fails in transport. Browsers retry such a request once;
                        // so does this test, on a fresh connection.
                        sent = tokio::time::timeout(limit, agent.send(&m, p, body.clone())).await;
                    }
                    let what = format!(
                        "{m} {p} as {} with {:.80}",
                        ["admin", "approver", "nobody"][who],
                        format!("{body:?}")
                    );
                    match sent {
                        Err(_) => failures.push(format!("{what}: no answer in 20 s")),
                        Ok(Err(e)) => failures.push(format!("{what}: {e}")),
                        Ok(Ok(r)) if r.status >= 500 => {
                            failures.push(format!("{what}: {} {}", r.status, r.body))
                        }
                        Ok(Ok(r)) if r.status >= 400 && r.code().is_none() => failures
                            .push(format!("{what}: {} without a JSON error code: {}", r.status, r.body)),
                        Ok(Ok(_)) => {}
                    }
                }
            }
        }
    }
    // The sessions still work (nothing above signed anyone out or broke the server).
    w.admin.agent.get(paths::ME).await?.ok()?;
    ensure!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
    Ok(())
}
