//! Session cookies, logout, sign-out everywhere, admin revoke, expiry, re-authentication, JWTs.

use anyhow::ensure;
use blindvault_api::admin::UserSessions;
use blindvault_api::sessions::{LoggedIn, MySessions};
use blindvault_api::{ErrorCode, paths};
use blindvault_core::encoding::b64;
use blindvault_testkit::{Backend, Device, ServerOptions, TestServer};
use serde_json::json;

both!(
    cookie_name_and_flags_follow_the_origin,
    logout_takes_effect_at_once,
    sign_out_everywhere,
    admin_revoke_takes_effect_at_once,
    expired_session_refused,
    reauthentication_extends,
    tampered_tokens_refused
);

/// An https origin: `__Host-bv_session=…; Secure`. Plain-http localhost: `bv_session=…` without
/// `Secure` (Safari drops a `Secure` cookie set over http). Each server reads only its own name,
/// and logout clears the same cookie.
async fn cookie_name_and_flags_follow_the_origin(b: Backend) -> anyhow::Result<()> {
    let https = ServerOptions {
        rp_id: Some("vault.example.com".into()),
        origin: Some("https://vault.example.com".into()),
        ..ServerOptions::default()
    };
    let cases = [
        (TestServer::start_with(b, https).await?, "__Host-bv_session=", true),
        (TestServer::start(b).await?, "bv_session=", false),
    ];
    for (server, name, secure) in &cases {
        let mut phone = Device::new();
        let mut agent = server.agent();
        let c = phone.prepare_register(server, &mut agent, "alice").await?;
        let resp = agent
            .post(paths::REGISTER_FINISH, json!({"ceremony_id": c.ceremony_id, "credential": c.credential}))
            .await?
            .ok()?;
        let cookie = resp.set_cookie.unwrap_or_default();
        ensure!(cookie.starts_with(name), "cookie {cookie:?} is not {name}");
        for flag in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=900"] {
            ensure!(cookie.split("; ").any(|f| f == flag), "cookie {cookie:?} lacks {flag}");
        }
        ensure!(
            cookie.split("; ").any(|f| f == "Secure") == *secure,
            "cookie {cookie:?}: Secure must be {secure}"
        );
        ensure!(!cookie.contains("Domain"), "no Domain: {cookie:?}");
        agent.get(paths::ME).await?.ok()?;
        // The other name is not read.
        let token = agent.token.clone().unwrap_or_default();
        let mut other = server.agent();
        other.cookie_name = if *secure { "bv_session" } else { "__Host-bv_session" };
        other.token = Some(token);
        let r = other.get(paths::ME).await?;
        ensure!(
            r.status == 401 && r.code() == Some(ErrorCode::Unauthenticated),
            "{name}: {} {}",
            r.status,
            r.body
        );
        let login = phone.login(server).await?;
        ensure!(login.agent.token.is_some());
        let out = agent.post(paths::LOGOUT, json!({})).await?.ok()?;
        let cleared = out.set_cookie.unwrap_or_default();
        ensure!(cleared.starts_with(name) && cleared.contains("Max-Age=0"), "{cleared:?}");
    }
    let doc = cases[0].0.agent().get(paths::OPENAPI).await?.ok()?;
    ensure!(doc.body["components"]["securitySchemes"]["session"]["name"] == "__Host-bv_session");
    Ok(())
}

async fn logout_takes_effect_at_once(b: Backend) -> anyhow::Result<()> {
    let server = TestServer::start(b).await?;
    let mut phone = Device::new();
    let mut s = phone.register(&server, "alice").await?;
    let mut stolen = s.agent.clone(); // a copy of the cookie
    stolen.get(paths::ME).await?.ok()?;
    let out = s.agent.post(paths::LOGOUT, json!({})).await?.ok()?;
    ensure!(out.set_cookie.as_deref().is_some_and(|c| c.contains("Max-Age=0")));
    let resp = stolen.get(paths::ME).await?;
    ensure!(resp.status == 401 && resp.code() == Some(ErrorCode::SessionRevoked), "{resp:?}");
    Ok(())
}

async fn sign_out_everywhere(b: Backend) -> anyhow::Result<()> {
    let server = TestServer::start(b).await?;
    let mut phone = Device::new();
    let mut a = phone.register(&server, "alice").await?.agent;
    let mut b2 = phone.login(&server).await?.agent;
    let sessions = a.get(paths::SESSIONS).await?.ok()?;
    let sessions: MySessions = serde_json::from_value(sessions.body)?;
    ensure!(sessions.sessions.len() == 2);
    b2.post(paths::LOGOUT_ALL, json!({})).await?.ok()?;
    let resp = a.get(paths::ME).await?;
    ensure!(resp.status == 401 && resp.code() == Some(ErrorCode::SessionRevoked), "{resp:?}");
    Ok(())
}

async fn admin_revoke_takes_effect_at_once(b: Backend) -> anyhow::Result<()> {
    let server = TestServer::start(b).await?;
    let code = server.setup_code.clone().unwrap_or_default();
    let mut admin = Device::new().register(&server, "root").await?;
    admin.agent.post(paths::SETUP_CLAIM, json!({"code": code})).await?.ok()?;
    let mut user = Device::new().register(&server, "bob").await?;
    let list = admin.agent.get(&paths::with_id(paths::ADMIN_USER_SESSIONS, &user.user_id)).await?.ok()?;
    let list: UserSessions = serde_json::from_value(list.body)?;
    let sid = list.sessions.first().map(|s| s.id.clone()).unwrap_or_default();
    admin.agent.delete(&paths::with_id(paths::ADMIN_SESSION, &sid)).await?.ok()?;
    let resp = user.agent.get(paths::ME).await?;
    ensure!(resp.status == 401 && resp.code() == Some(ErrorCode::SessionRevoked), "{resp:?}");
    // Revoke-all for a user.
    let mut phone = Device::new();
    let mut u2 = phone.register(&server, "carl").await?;
    admin
        .agent
        .post(&paths::with_id(paths::ADMIN_USER_REVOKE_SESSIONS, &u2.user_id), json!({}))
        .await?
        .ok()?;
    let resp = u2.agent.get(paths::ME).await?;
    ensure!(resp.status == 401, "{resp:?}");
    Ok(())
}

async fn expired_session_refused(b: Backend) -> anyhow::Result<()> {
    let server = TestServer::start(b).await?;
    let mut s = Device::new().register(&server, "alice").await?;
    s.agent.get(paths::ME).await?.ok()?;
    server.clock.advance(15 * 60 + 1);
    let resp = s.agent.get(paths::ME).await?;
    ensure!(resp.status == 401 && resp.code() == Some(ErrorCode::SessionExpired), "{resp:?}");
    Ok(())
}

async fn reauthentication_extends(b: Backend) -> anyhow::Result<()> {
    let server = TestServer::start(b).await?;
    let mut phone = Device::new();
    let s = phone.register(&server, "alice").await?;
    server.clock.advance(14 * 60);
    let again = phone.login_with(&server, s.agent.clone()).await?;
    ensure!(serde_json::from_value::<LoggedIn>(again.body.clone())?.extended, "{}", again.body);
    let mut agent = again.agent;
    server.clock.advance(5 * 60); // 19 min after the first sign-in, 5 after re-authentication
    agent.get(paths::ME).await?.ok()?;
    let sessions = agent.get(paths::SESSIONS).await?.ok()?;
    let sessions: MySessions = serde_json::from_value(sessions.body)?;
    ensure!(sessions.sessions.len() == 1, "extended, not a new session");
    Ok(())
}

async fn tampered_tokens_refused(b: Backend) -> anyhow::Result<()> {
    let server = TestServer::start(b).await?;
    let victim = Device::new().register(&server, "victim").await?;
    let mut s = Device::new().register(&server, "mallory").await?;
    let token = s.agent.token.clone().unwrap_or_default();
    let parts: Vec<&str> = token.split('.').collect();
    ensure!(parts.len() == 3);
    let (h, p, sig) = (parts[0], parts[1], parts[2]);
    let mut claims: serde_json::Value = serde_json::from_slice(&b64::decode(p)?)?;
    claims["sub"] = json!(victim.user_id);
    claims["exp"] = json!(claims["exp"].as_i64().unwrap_or(0) + 100_000);
    let p2 = b64::encode(&serde_json::to_vec(&claims)?);
    let none_header = b64::encode(br#"{"alg":"none","typ":"JWT"}"#);
    let hs512 = b64::encode(br#"{"alg":"HS512","typ":"JWT"}"#);
    // Re-signed with another key (what an attacker without the server's key can do).
    let resigned = {
        use ring::hmac;
        let key = hmac::Key::new(hmac::HMAC_SHA256, b"attacker key attacker key 123456");
        let input = format!("{h}.{p2}");
        format!("{input}.{}", b64::encode(hmac::sign(&key, input.as_bytes()).as_ref()))
    };
    let cases = [
        ("payload edited", format!("{h}.{p2}.{sig}")),
        ("alg none, no signature", format!("{none_header}.{p2}.")),
        ("alg none, old signature", format!("{none_header}.{p}.{sig}")),
        ("alg HS512", format!("{hs512}.{p}.{sig}")),
        ("re-signed", resigned),
        ("signature flipped", format!("{h}.{p}.{}", sig.chars().rev().collect::<String>())),
        ("two parts", format!("{h}.{p}")),
        ("garbage", "not-a-jwt".to_owned()),
    ];
    for (what, t) in cases {
        let mut a = server.agent();
        a.token = Some(t);
        let resp = a.get(paths::ME).await?;
        ensure!(resp.status == 401 && resp.code() == Some(ErrorCode::InvalidSession), "{what}: {resp:?}");
    }
    s.agent.get(paths::ME).await?.ok()?;
    Ok(())
}
