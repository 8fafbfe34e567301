//! Command-line tokens: made only in a browser session behind a step-up, shown once, kept as a
//! hash; a token works within its scope and the account's current role, never for token or
//! passkey management; expired and revoked tokens are refused at once (on every instance);
//! every use is audited and moves the last use.

use anyhow::{Context, ensure};
use blindvault_api::tokens::{CliTokenList, TokenCreated, TokenWhoami};
use blindvault_api::{ErrorCode, paths};
use blindvault_testkit::{Agent, Backend, Device, Resp, SignedIn, TestServer, token_agent};
use serde_json::json;

both!(
    tokens_are_made_behind_a_step_up_and_shown_once,
    token_scope_and_role_are_checked_at_every_use,
    tokens_never_manage_tokens_or_passkeys,
    expired_and_revoked_tokens_are_refused_and_uses_audited,
    a_revocation_on_one_instance_holds_on_the_other,
    the_database_holds_the_hash_only,
    a_step_up_is_spent_only_by_the_session_or_token_that_started_it
);

fn refused(r: &Resp, status: u16, code: ErrorCode) -> anyhow::Result<()> {
    ensure!(
        r.status == status && r.code() == Some(code),
        "{}: wanted {status} {code:?}, got {} {}",
        r.request,
        r.status,
        r.body
    );
    Ok(())
}

/// An admin (`root`, who claimed the setup code) and a user (`bob`).
async fn people(server: &TestServer) -> anyhow::Result<((Device, SignedIn), (Device, SignedIn))> {
    let code = server.setup_code.clone().context("setup code")?;
    let mut root_phone = Device::new();
    let mut root = root_phone.register(server, "root").await?;
    root.agent.post(paths::SETUP_CLAIM, json!({ "code": code })).await?.ok()?;
    let mut bob_phone = Device::new();
    let bob = bob_phone.register(server, "bob").await?;
    Ok(((root_phone, root), (bob_phone, bob)))
}

fn sha256_hex(b: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(b))
}

async fn count(server: &TestServer, sql: &'static str) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar::<_, i64>(sql).fetch_one(server.state.store.pool()).await?)
}

async fn tokens_are_made_behind_a_step_up_and_shown_once(b: Backend) -> anyhow::Result<()> {
    let server = TestServer::start(b).await?;
    let ((mut root_phone, mut root), _) = people(&server).await?;
    // Without a step-up: refused, and the refusal names the step-up it needs.
    let r = root.agent.post(paths::TOKENS, json!({ "name": "ci", "scope": "admin" })).await?;
    refused(&r, 403, ErrorCode::StepUpRequired)?;
    ensure!(
        r.body["error"]["action"] == "token.create" && r.body["error"]["target"] == "admin",
        "{}",
        r.body
    );
    // A step-up for the other scope does not do.
    let step = root_phone.step_up(&server, &mut root.agent, "token.create", "consumer-read").await?;
    let r = root
        .agent
        .send_stepped("POST", paths::TOKENS, Some(json!({ "name": "ci", "scope": "admin" })), &step)
        .await?;
    refused(&r, 403, ErrorCode::StepUpMismatch)?;
    // Bad names and expiries.
    for (body, code) in [
        (json!({ "name": "", "scope": "admin" }), ErrorCode::InvalidName),
        (json!({ "name": "ci", "scope": "admin", "expires_in_days": 0 }), ErrorCode::InvalidExpiry),
        (json!({ "name": "ci", "scope": "admin", "expires_in_days": 366 }), ErrorCode::InvalidExpiry),
    ] {
        let r = root.agent.post(paths::TOKENS, body).await?;
        refused(&r, 400, code)?;
    }
    let r = root.agent.post(paths::TOKENS, json!({ "name": "ci", "scope": "root" })).await?;
    ensure!(r.status == 400, "{r:?}");
    // With it: the token, once; 30 days by default.
    let before = server.state.clock.now();
    let made: TokenCreated = root_phone.create_token(&server, &mut root.agent, "ci", "admin", None).await?;
    ensure!(made.token.starts_with("bvt_") && made.token.len() == 47, "shape");
    ensure!(made.info.expires_at == before + 30 * 86_400, "{:?}", made.info);
    ensure!(made.info.last_used_at.is_none() && made.info.user_name == "root");
    let longest = root_phone.create_token(&server, &mut root.agent, "year", "admin", Some(365)).await?;
    ensure!(longest.info.expires_at == before + 365 * 86_400);
    // The list never shows a token or its hash.
    let list = root.agent.get(paths::TOKENS).await?.ok()?;
    let text = list.body.to_string();
    let hash = sha256_hex(made.token.as_bytes());
    ensure!(!text.contains(&made.token) && !text.contains(&hash) && !text.contains("bvt_"), "{text}");
    let tokens = list.json::<CliTokenList>()?.tokens;
    ensure!(tokens.len() == 2 && tokens.iter().any(|t| t.id == made.info.id), "{text}");
    // The step-up is spent: it cannot make a second token.
    ensure!(count(&server, "SELECT COUNT(*) FROM audit_log WHERE action = 'token.create'").await? == 2);
    Ok(())
}

async fn token_scope_and_role_are_checked_at_every_use(b: Backend) -> anyhow::Result<()> {
    let server = TestServer::start(b).await?;
    let ((mut root_phone, mut root), (mut bob_phone, mut bob)) = people(&server).await?;
    // A user cannot make an admin token, step-up or not.
    let step = bob_phone.step_up(&server, &mut bob.agent, "token.create", "admin").await?;
    let r = bob
        .agent
        .send_stepped("POST", paths::TOKENS, Some(json!({ "name": "x", "scope": "admin" })), &step)
        .await?;
    refused(&r, 403, ErrorCode::Forbidden)?;
    // consumer-read: GET only.
    let read = bob_phone.create_token(&server, &mut bob.agent, "laptop", "consumer-read", Some(7)).await?;
    let mut cli = token_agent(&server, &read.token);
    let me: TokenWhoami = cli.get(paths::TOKENS_ME).await?.ok()?.json()?;
    ensure!(me.token.user_name == "bob" && me.role == "user" && me.token.scope.as_str() == "consumer-read");
    cli.get(paths::ME).await?.ok()?;
    cli.get(paths::BROKER_ENROLMENTS_MINE).await?.ok()?;
    let r = cli.post(paths::STEP_UP_START, json!({ "action": "host.revoke", "target": "x" })).await?;
    refused(&r, 403, ErrorCode::TokenScope)?;
    let r = cli.get(paths::ADMIN_USERS).await?;
    refused(&r, 403, ErrorCode::Forbidden)?;
    // An admin's consumer-read token reads, but gives no admin power.
    let root_read = root_phone.create_token(&server, &mut root.agent, "r", "consumer-read", None).await?;
    let r = token_agent(&server, &root_read.token).get(paths::ADMIN_USERS).await?;
    refused(&r, 403, ErrorCode::TokenScope)?;
    // The browser-only route that says who a token is refuses a cookie.
    let r = bob.agent.get(paths::TOKENS_ME).await?;
    refused(&r, 401, ErrorCode::Unauthenticated)?;
    // Bob is made an admin, makes an admin token, which works — until he is demoted.
    let target = format!("{}:admin", bob.user_id);
    let step = root_phone.step_up(&server, &mut root.agent, "role.set", &target).await?;
    let role = paths::with_id(paths::ADMIN_USER_ROLE, &bob.user_id);
    root.agent.send_stepped("PUT", &role, Some(json!({ "role": "admin" })), &step).await?.ok()?;
    let admin = bob_phone.create_token(&server, &mut bob.agent, "ci", "admin", None).await?;
    let mut ci = token_agent(&server, &admin.token);
    ci.get(paths::ADMIN_USERS).await?.ok()?;
    // A step-up action: the token alone is not enough (a step-up is a passkey's, never a token's).
    let r = ci.delete(&paths::with_id(paths::ADMIN_USER, &root.user_id)).await?;
    refused(&r, 403, ErrorCode::StepUpRequired)?;
    let target = format!("{}:user", bob.user_id);
    let step = root_phone.step_up(&server, &mut root.agent, "role.set", &target).await?;
    root.agent.send_stepped("PUT", &role, Some(json!({ "role": "user" })), &step).await?.ok()?;
    let r = ci.get(paths::ADMIN_USERS).await?;
    refused(&r, 403, ErrorCode::Forbidden)?;
    let me: TokenWhoami = ci.get(paths::TOKENS_ME).await?.ok()?.json()?;
    ensure!(me.role == "user", "acts with the role it has now");
    // Both a token and a cookie: refused rather than guessed.
    let mut both = bob.agent.clone();
    both.bearer = Some(admin.token.clone());
    let r = both.get(paths::ME).await?;
    refused(&r, 400, ErrorCode::TokenAndCookie)?;
    // A malformed or unknown token.
    for bad in ["nonsense", "bvt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"] {
        let r = token_agent(&server, bad).get(paths::ME).await?;
        refused(&r, 401, ErrorCode::TokenInvalid)?;
    }
    Ok(())
}

async fn tokens_never_manage_tokens_or_passkeys(b: Backend) -> anyhow::Result<()> {
    let server = TestServer::start(b).await?;
    let ((mut root_phone, mut root), _) = people(&server).await?;
    let made = root_phone.create_token(&server, &mut root.agent, "ci", "admin", None).await?;
    let mut cli = token_agent(&server, &made.token);
    let step = root_phone.step_up(&server, &mut root.agent, "token.create", "admin").await?;
    let pk = root.credential_id.clone();
    let calls: Vec<(&str, String, Option<serde_json::Value>)> = vec![
        ("GET", paths::TOKENS.into(), None),
        ("POST", paths::TOKENS.into(), Some(json!({ "name": "more", "scope": "admin" }))),
        ("DELETE", paths::with_id(paths::TOKEN, &made.info.id), None),
        ("GET", paths::ADMIN_TOKENS.into(), None),
        ("GET", paths::PASSKEYS.into(), None),
        ("PATCH", paths::with_id(paths::PASSKEY, &pk), Some(json!({ "name": "x" }))),
        ("DELETE", paths::with_id(paths::PASSKEY, &pk), None),
        ("POST", paths::PASSKEYS_REGISTER_START.into(), Some(json!({}))),
        ("POST", paths::with_id(paths::STEP_UP_CONFIRM, &step), Some(json!({ "credential": {} }))),
        ("GET", paths::SESSIONS.into(), None),
        ("POST", paths::LOGOUT_ALL.into(), Some(json!({}))),
        ("GET", paths::BROKER_EVENTS.into(), None),
        // What only the person's own device does (a stolen token could otherwise re-key an
        // approver's enrolment, deny requests or publish an address in their name).
        ("POST", paths::BROKER_ENROLMENTS.into(), Some(json!({}))),
        ("POST", paths::with_id(paths::BROKER_REQUEST_APPROVE_START, "r"), Some(json!({}))),
        ("POST", paths::with_id(paths::BROKER_REQUEST_APPROVE_FINISH, "r"), Some(json!({}))),
        ("POST", paths::with_id(paths::BROKER_REQUEST_DENY, "r"), Some(json!({}))),
        ("POST", paths::WALLET_ADDRESSES.into(), Some(json!({}))),
        ("DELETE", paths::with_id(paths::WALLET_ADDRESS, "a"), None),
        ("PUT", paths::WALLET_KEYRING_ORIGIN.into(), Some(json!({}))),
        ("PUT", paths::with_id(paths::WALLET_KEYRING_ENVELOPE, &pk), Some(json!({}))),
        ("POST", paths::PUSH_SUBSCRIPTIONS.into(), Some(json!({}))),
        ("POST", paths::PUSH_UNSUBSCRIBE.into(), Some(json!({}))),
    ];
    for (method, path, body) in calls {
        let r = cli.send_with(method, &path, body, &[(paths::STEP_UP_HEADER, &step)]).await?;
        refused(&r, 403, ErrorCode::TokenNotAllowed)?;
    }
    // Nothing changed: still one token, one passkey, and the token still works.
    let list = root.agent.get(paths::TOKENS).await?.ok()?.json::<CliTokenList>()?;
    ensure!(list.tokens.len() == 1 && list.tokens[0].revoked_at.is_none());
    cli.get(paths::ME).await?.ok()?;
    // The same calls in the browser session work (the step-up is still unspent).
    let r = root
        .agent
        .send_stepped("POST", paths::TOKENS, Some(json!({ "name": "more", "scope": "admin" })), &step)
        .await?;
    r.ok()?;
    Ok(())
}

async fn expired_and_revoked_tokens_are_refused_and_uses_audited(b: Backend) -> anyhow::Result<()> {
    let server = TestServer::start(b).await?;
    let ((mut root_phone, mut root), (mut bob_phone, bob)) = people(&server).await?;
    let made = root_phone.create_token(&server, &mut root.agent, "ci", "admin", Some(1)).await?;
    let mut cli = token_agent(&server, &made.token);
    // Every use: one audit row (method and path template, never the body) and the last use.
    let uses_before = count(&server, "SELECT COUNT(*) FROM audit_log WHERE action = 'token.use'").await?;
    cli.get(paths::ADMIN_USERS).await?.ok()?;
    let t0 = server.state.clock.now();
    server.clock.advance(60);
    cli.get(&paths::with_id(paths::ADMIN_USER_SESSIONS, &bob.user_id)).await?.ok()?;
    let uses = count(&server, "SELECT COUNT(*) FROM audit_log WHERE action = 'token.use'").await?;
    ensure!(uses == uses_before + 2, "{uses}");
    let detail: String = sqlx::query_scalar(
        "SELECT detail FROM audit_log WHERE action = 'token.use' ORDER BY seq DESC LIMIT 1",
    )
    .fetch_one(server.state.store.pool())
    .await?;
    ensure!(
        detail.contains("/api/admin/users/{id}/sessions")
            && detail.contains("\"GET\"")
            && !detail.contains(&bob.user_id),
        "{detail}"
    );
    let list = root.agent.get(paths::TOKENS).await?.ok()?.json::<CliTokenList>()?;
    ensure!(list.tokens[0].last_used_at == Some(t0 + 60), "{list:?}");
    ensure!(list.tokens[0].last_used_addr.as_deref() == Some("127.0.0.1"), "{list:?}");
    let v = blindvault_server::audit::verify(&server.state.store).await?;
    ensure!(v.first_bad.is_none(), "{v:?}");
    // Expired by the server's clock: refused with the stable code and a message saying what to do.
    server.clock.advance(86_400);
    let r = cli.get(paths::ME).await?;
    refused(&r, 401, ErrorCode::TokenInvalid)?;
    let msg = r.body["error"]["message"].as_str().unwrap_or_default();
    ensure!(msg.contains("Command-line tokens") && msg.contains("blindvault login"), "{msg}");
    // The list still shows it (ended), and a refused token writes no use.
    ensure!(count(&server, "SELECT COUNT(*) FROM audit_log WHERE action = 'token.use'").await? == uses);
    // (The browser sessions ended long ago too: both sign in again.)
    let mut root = root_phone.login(&server).await?;
    let mut bob = bob_phone.login(&server).await?;
    // Revoked: refused at once. Bob cannot revoke root's token; root (admin) can revoke Bob's.
    let mine = root_phone.create_token(&server, &mut root.agent, "ci2", "admin", None).await?;
    let mut cli = token_agent(&server, &mine.token);
    cli.get(paths::ME).await?.ok()?;
    let r = bob.agent.delete(&paths::with_id(paths::TOKEN, &mine.info.id)).await?;
    refused(&r, 404, ErrorCode::TokenNotFound)?;
    root.agent.delete(&paths::with_id(paths::TOKEN, &mine.info.id)).await?.ok()?;
    refused(&cli.get(paths::ME).await?, 401, ErrorCode::TokenInvalid)?;
    let r = root.agent.delete(&paths::with_id(paths::TOKEN, &mine.info.id)).await?;
    refused(&r, 404, ErrorCode::TokenNotFound)?;
    let bobs = bob_phone.create_token(&server, &mut bob.agent, "laptop", "consumer-read", None).await?;
    let all = root.agent.get(paths::ADMIN_TOKENS).await?.ok()?;
    let all_text = all.body.to_string();
    ensure!(!all_text.contains("bvt_"), "{all_text}");
    let all = all.json::<CliTokenList>()?.tokens;
    ensure!(all.iter().any(|t| t.id == bobs.info.id && t.user_name == "bob"), "{all:?}");
    let r = bob.agent.get(paths::ADMIN_TOKENS).await?;
    refused(&r, 403, ErrorCode::Forbidden)?;
    root.agent.delete(&paths::with_id(paths::TOKEN, &bobs.info.id)).await?.ok()?;
    refused(&token_agent(&server, &bobs.token).get(paths::ME).await?, 401, ErrorCode::TokenInvalid)?;
    ensure!(count(&server, "SELECT COUNT(*) FROM audit_log WHERE action = 'token.revoke'").await? == 2);
    // Ending a person's sessions ends their tokens too.
    let again = bob_phone.create_token(&server, &mut bob.agent, "laptop2", "consumer-read", None).await?;
    token_agent(&server, &again.token).get(paths::ME).await?.ok()?;
    root.agent
        .post(&paths::with_id(paths::ADMIN_USER_REVOKE_SESSIONS, &bob.user_id), json!({}))
        .await?
        .ok()?;
    refused(&token_agent(&server, &again.token).get(paths::ME).await?, 401, ErrorCode::TokenInvalid)?;
    // Removing a person removes their tokens.
    let mut bob = bob_phone.login(&server).await?;
    let last = bob_phone.create_token(&server, &mut bob.agent, "laptop3", "consumer-read", None).await?;
    token_agent(&server, &last.token).get(paths::ME).await?.ok()?;
    let step = root_phone.step_up(&server, &mut root.agent, "user.delete", &bob.user_id).await?;
    root.agent
        .send_stepped("DELETE", &paths::with_id(paths::ADMIN_USER, &bob.user_id), None, &step)
        .await?
        .ok()?;
    refused(&token_agent(&server, &last.token).get(paths::ME).await?, 401, ErrorCode::TokenInvalid)?;
    ensure!(
        count(&server, "SELECT COUNT(*) FROM api_tokens WHERE name LIKE 'laptop%'").await? == 0,
        "bob's rows are gone"
    );
    Ok(())
}

async fn a_revocation_on_one_instance_holds_on_the_other(b: Backend) -> anyhow::Result<()> {
    let first = TestServer::start(b).await?;
    // A (the instance the admin's browser uses; started second, it holds the setup code now in
    // force) and B (the one the command line reaches), on one database.
    let a = TestServer::start_sharing(&first).await?;
    let b2 = first;
    let ((mut root_phone, mut root), _) = people(&a).await?;
    let made = root_phone.create_token(&a, &mut root.agent, "ci", "admin", None).await?;
    let mut on_b: Agent = token_agent(&b2, &made.token);
    on_b.get(paths::ADMIN_USERS).await?.ok()?;
    // Revoked on A: the very next call on B is refused (B reads the database at every use).
    root.agent.delete(&paths::with_id(paths::TOKEN, &made.info.id)).await?.ok()?;
    refused(&on_b.get(paths::ADMIN_USERS).await?, 401, ErrorCode::TokenInvalid)?;
    refused(&token_agent(&a, &made.token).get(paths::ME).await?, 401, ErrorCode::TokenInvalid)?;
    Ok(())
}

async fn the_database_holds_the_hash_only(b: Backend) -> anyhow::Result<()> {
    let server = TestServer::start(b).await?;
    let ((mut root_phone, mut root), _) = people(&server).await?;
    let made = root_phone.create_token(&server, &mut root.agent, "ci", "admin", None).await?;
    token_agent(&server, &made.token).get(paths::ADMIN_USERS).await?.ok()?;
    let secret = &made.token["bvt_".len()..];
    let raw = blindvault_testkit::broker::b64_decode(secret)?;
    let hash = sha256_hex(made.token.as_bytes());
    let stored: String =
        sqlx::query_scalar("SELECT token_hash FROM api_tokens").fetch_one(server.state.store.pool()).await?;
    ensure!(stored == hash, "the row holds SHA-256 of the token");
    let forms: Vec<Vec<u8>> = vec![
        made.token.as_bytes().to_vec(),
        secret.as_bytes().to_vec(),
        hex::encode(&raw).into_bytes(),
        hex::encode(&raw).to_uppercase().into_bytes(),
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &raw).into_bytes(),
        raw.clone(),
    ];
    if b == Backend::Sqlite {
        // Every file of the database (the main file, and a write-ahead log if there is one).
        let mut seen_hash = false;
        for entry in std::fs::read_dir(server.db.dir.path())? {
            let path = entry?.path();
            let bytes = std::fs::read(&path)?;
            for form in &forms {
                ensure!(
                    !bytes.windows(form.len()).any(|w| w == form.as_slice()),
                    "{} holds the token",
                    path.display()
                );
            }
            seen_hash |= bytes.windows(hash.len()).any(|w| w == hash.as_bytes());
        }
        ensure!(seen_hash, "the hash is in the database files (the grep looks in the right place)");
    }
    Ok(())
}

/// A step-up's id is in the audit log, which an admin's token reads: a token (stolen, say) that
/// sees the admin's browser confirm one cannot spend it — only the session or token that started
/// it can. And the other way round: a step-up the token started is the token's.
async fn a_step_up_is_spent_only_by_the_session_or_token_that_started_it(b: Backend) -> anyhow::Result<()> {
    let server = TestServer::start(b).await?;
    let ((mut root_phone, mut root), (_, bob)) = people(&server).await?;
    let made = root_phone.create_token(&server, &mut root.agent, "ci", "admin", None).await?;
    let mut thief = token_agent(&server, &made.token);
    let target = format!("{}:admin", bob.user_id);
    let step = root_phone.step_up(&server, &mut root.agent, "role.set", &target).await?;
    let audit = thief.get(paths::ADMIN_AUDIT).await?.ok()?;
    ensure!(audit.body.to_string().contains(&step), "the audit log names the step-up");
    let role = paths::with_id(paths::ADMIN_USER_ROLE, &bob.user_id);
    let r = thief.send_stepped("PUT", &role, Some(json!({ "role": "admin" })), &step).await?;
    refused(&r, 403, ErrorCode::StepUpMismatch)?;
    // The browser that started it still spends it.
    root.agent.send_stepped("PUT", &role, Some(json!({ "role": "admin" })), &step).await?.ok()?;
    // A step-up started by the token (the command line's way) is spent by the token, not the
    // browser session that confirmed it.
    let target = format!("{}:user", bob.user_id);
    let r =
        thief.post(paths::STEP_UP_START, json!({ "action": "role.set", "target": target })).await?.ok()?;
    let id = r.body["id"].as_str().context("step-up id")?.to_owned();
    root_phone.confirm_step_up(&server, &mut root.agent, &id).await?.ok()?;
    let r = root.agent.send_stepped("PUT", &role, Some(json!({ "role": "user" })), &id).await?;
    refused(&r, 403, ErrorCode::StepUpMismatch)?;
    thief.send_stepped("PUT", &role, Some(json!({ "role": "user" })), &id).await?.ok()?;
    Ok(())
}
