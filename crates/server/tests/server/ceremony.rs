//! Registration, usernameless login, PRF, several passkeys per user.

use anyhow::{Context, ensure};
use blindvault_api::ceremony::{AddPasskeyStart, CeremonyStart};
use blindvault_api::passkeys::{Passkeys, RenamePasskey};
use blindvault_api::sessions::Me;
use blindvault_api::{ErrorCode, paths};
use blindvault_testkit::{Backend, Device, TestServer};
use serde_json::json;

both!(
    register_login_prf,
    options_carry_prf_and_require_uv,
    three_passkeys_list_rename_remove,
    adding_a_passkey_needs_a_fresh_assertion_by_the_same_person,
    counter_and_flags_recorded,
    stale_ceremonies_are_swept
);

async fn register_login_prf(b: Backend) -> anyhow::Result<()> {
    let server = TestServer::start(b).await?;
    let mut phone = Device::new();
    let mut reg = phone.register(&server, "alice").await?;
    let me = reg.agent.get(paths::ME).await?.ok()?;
    let me: Me = serde_json::from_value(me.body)?;
    ensure!(me.user.name == "alice" && me.user.role == "user", "{me:?}");
    let login = phone.login(&server).await?;
    ensure!(login.user_id == reg.user_id);
    ensure!(login.credential_id == reg.credential_id);
    // The PRF output (for the deployment's fixed salt) is the same at registration and login,
    // and 32 bytes of something other than zeros.
    ensure!(login.prf == reg.prf, "PRF differs between registration and login");
    ensure!(login.prf.expose() != &[0u8; 32]);
    // A second device without this passkey cannot log in.
    let mut other = Device::new();
    ensure!(other.login(&server).await.is_err());
    Ok(())
}

async fn options_carry_prf_and_require_uv(b: Backend) -> anyhow::Result<()> {
    let server = TestServer::start(b).await?;
    let mut agent = server.agent();
    let salt = blindvault_core::encoding::b64::encode(&blindvault_core::schedule::PRF_SALT_V1);
    let reg = agent
        .post(paths::REGISTER_START, json!({"name": "bob", "invite": server.invite().await?}))
        .await?
        .ok()?;
    let reg: CeremonyStart = serde_json::from_value(reg.body)?;
    let pk = &reg.options["publicKey"];
    ensure!(pk["extensions"]["prf"]["eval"]["first"] == salt.as_str(), "{pk}");
    ensure!(pk["authenticatorSelection"]["residentKey"] == "required", "{pk}");
    ensure!(pk["authenticatorSelection"]["userVerification"] == "required", "{pk}");
    ensure!(pk["rp"]["id"] == "localhost");
    // Names that would show as something else (a right-to-left override makes "eve\u{202E}ecila"
    // read as "eve" + "alice" reversed; zero-width characters hide in "alice") are refused.
    for name in ["eve\u{202E}ecila", "al\u{200B}ice", "\u{2066}bob\u{2069}", "bob\u{FEFF}", "a\u{7}"] {
        let r = agent
            .post(paths::REGISTER_START, json!({ "name": name, "invite": server.invite().await? }))
            .await?;
        ensure!(r.status == 400 && r.code() == Some(ErrorCode::InvalidName), "{name:?}: {r:?}");
    }
    let login = agent.post(paths::LOGIN_START, json!({})).await?.ok()?;
    let login: CeremonyStart = serde_json::from_value(login.body)?;
    let pk = &login.options["publicKey"];
    ensure!(pk["extensions"]["prf"]["eval"]["first"] == salt.as_str(), "{pk}");
    ensure!(pk["userVerification"] == "required", "{pk}");
    ensure!(
        pk.get("allowCredentials").is_none_or(|a| a.as_array().is_none_or(Vec::is_empty)),
        "usernameless: {pk}"
    );
    Ok(())
}

/// A stolen cookie (or command-line token) alone cannot add a passkey, which would outlive every
/// session and its revocation: `passkeys/register/start` needs a fresh assertion by one of the
/// account's own passkeys, once.
async fn adding_a_passkey_needs_a_fresh_assertion_by_the_same_person(b: Backend) -> anyhow::Result<()> {
    let server = TestServer::start(b).await?;
    let mut alice_phone = Device::new();
    let mut alice = alice_phone.register(&server, "alice").await?;
    let mut bob_phone = Device::new();
    let _bob = bob_phone.register(&server, "bob").await?;
    // The cookie alone: refused.
    let r = alice.agent.post(paths::PASSKEYS_REGISTER_START, json!({ "name": "attacker" })).await?;
    ensure!((400..500).contains(&r.status) && r.code().is_some(), "{} {:?}", r.status, r.body);
    ensure!(r.body["options"].is_null(), "no registration options without a step-up");
    // Bob's passkey does not vouch for Alice's account.
    let start: CeremonyStart =
        serde_json::from_value(alice.agent.post(paths::LOGIN_START, json!({})).await?.ok()?.body)?;
    let (cred, _) = bob_phone.get(&server.origin, &start.options).await?;
    let body =
        AddPasskeyStart { name: Some("x".to_owned()), ceremony_id: start.ceremony_id, credential: cred };
    let r = alice.agent.post(paths::PASSKEYS_REGISTER_START, serde_json::to_value(body)?).await?;
    ensure!(r.status == 403 && r.code() == Some(ErrorCode::WrongUser), "{} {:?}", r.status, r.body);
    // Alice's own fresh assertion does, once.
    let start: CeremonyStart =
        serde_json::from_value(alice.agent.post(paths::LOGIN_START, json!({})).await?.ok()?.body)?;
    let (cred, _) = alice_phone.get(&server.origin, &start.options).await?;
    let body =
        AddPasskeyStart { name: Some("laptop".to_owned()), ceremony_id: start.ceremony_id, credential: cred };
    let body = serde_json::to_value(body)?;
    let r = alice.agent.post(paths::PASSKEYS_REGISTER_START, body.clone()).await?.ok()?;
    let r: CeremonyStart = serde_json::from_value(r.body)?;
    ensure!(r.options["publicKey"].is_object(), "{r:?}");
    let again = alice.agent.post(paths::PASSKEYS_REGISTER_START, body).await?;
    ensure!(
        again.status == 400 && again.code() == Some(ErrorCode::ChallengeInvalid),
        "{} {:?}",
        again.status,
        again.body
    );
    // And the whole flow adds a passkey that logs in to the same account.
    let mut laptop = Device::new();
    laptop.add_passkey(&server, &mut alice.agent, &mut alice_phone, "laptop").await?;
    ensure!(laptop.login(&server).await?.user_id == alice.user_id);
    Ok(())
}

async fn three_passkeys_list_rename_remove(b: Backend) -> anyhow::Result<()> {
    let server = TestServer::start(b).await?;
    let mut laptop = Device::new();
    let mut phone = Device::new();
    let mut key = Device::new();
    let mut reg = laptop.register(&server, "carol").await?;
    server.clock.advance(1);
    let (phone_id, phone_prf) = phone.add_passkey(&server, &mut reg.agent, &mut laptop, "phone").await?;
    server.clock.advance(1);
    let (key_id, _) = key.add_passkey(&server, &mut reg.agent, &mut laptop, "key").await?;
    // Each passkey logs in to the same account; each has its own PRF output.
    let a = laptop.login(&server).await?;
    let p = phone.login(&server).await?;
    let k = key.login(&server).await?;
    ensure!(a.user_id == reg.user_id && p.user_id == reg.user_id && k.user_id == reg.user_id);
    ensure!(p.prf == phone_prf && p.prf != a.prf && k.prf != a.prf);
    let list = reg.agent.get(paths::PASSKEYS).await?.ok()?;
    let list: Passkeys = serde_json::from_value(list.body)?;
    let names: Vec<&str> = list.passkeys.iter().map(|p| p.name.as_str()).collect();
    ensure!(names == ["first", "phone", "key"], "{names:?}");
    // Rename.
    let rename = serde_json::to_value(RenamePasskey { name: "old phone".to_owned() })?;
    reg.agent.patch(&paths::with_id(paths::PASSKEY, &phone_id), rename).await?.ok()?;
    let list: Passkeys = serde_json::from_value(reg.agent.get(paths::PASSKEYS).await?.ok()?.body)?;
    ensure!(list.passkeys.get(1).is_some_and(|p| p.name == "old phone"));
    // Remove the phone: it can no longer log in; the others still can.
    let up = laptop.step_up(&server, &mut reg.agent, "passkey.delete", &phone_id).await?;
    reg.agent.send_stepped("DELETE", &paths::with_id(paths::PASSKEY, &phone_id), None, &up).await?.ok()?;
    let r = phone.prepare_login(&server, &mut server.agent()).await?;
    let resp = server
        .agent()
        .post(paths::LOGIN_FINISH, json!({"ceremony_id": r.ceremony_id, "credential": r.credential}))
        .await?;
    ensure!(resp.status == 401 && resp.code() == Some(ErrorCode::UnknownCredential), "{resp:?}");
    laptop.login(&server).await?;
    key.login(&server).await?;
    // Remove the key, then the last one is refused.
    let up = laptop.step_up(&server, &mut reg.agent, "passkey.delete", &key_id).await?;
    reg.agent.send_stepped("DELETE", &paths::with_id(paths::PASSKEY, &key_id), None, &up).await?.ok()?;
    let last = reg.credential_id.clone();
    let resp = reg.agent.delete(&paths::with_id(paths::PASSKEY, &last)).await?;
    ensure!(resp.status == 409 && resp.code() == Some(ErrorCode::LastPasskey), "{resp:?}");
    laptop.login(&server).await?;
    // Someone else's passkey id is "not found", never removed.
    let mut eve = Device::new().register(&server, "eve").await?;
    let resp = eve.agent.delete(&paths::with_id(paths::PASSKEY, &last)).await?;
    ensure!(resp.status == 404, "{resp:?}");
    Ok(())
}

async fn counter_and_flags_recorded(b: Backend) -> anyhow::Result<()> {
    let server = TestServer::start(b).await?;
    let mut phone = Device::new();
    let mut reg = phone.register(&server, "dave").await?;
    phone.login(&server).await?;
    phone.login(&server).await?;
    let list = reg.agent.get(paths::PASSKEYS).await?.ok()?;
    // The flags are booleans and the counter a number: the typed body reads only so.
    let list: Passkeys = serde_json::from_value(list.body)?;
    let pk = list.passkeys.first().context("a passkey")?;
    ensure!(pk.sign_count == 2, "{pk:?}");
    ensure!(pk.last_used_at.is_some(), "{pk:?}");
    Ok(())
}

/// Challenges nobody answered are deleted by the background sweeper a grace period after their
/// lifetime (until then a late answer hears "expired"); younger ones stay answerable.
async fn stale_ceremonies_are_swept(b: Backend) -> anyhow::Result<()> {
    use blindvault_server::broker::sweeper::{CEREMONY_GRACE_SECS, sweep_ceremonies};
    let server = TestServer::start(b).await?;
    let mut agent = blindvault_testkit::Agent::new(
        &server.base,
        Some(server.origin.to_string().trim_end_matches('/').to_owned()),
    );
    for _ in 0..3 {
        agent.post(paths::LOGIN_START, json!({})).await?.ok()?;
    }
    let count = |server: &TestServer| {
        let pool = server.state.store.pool().clone();
        async move {
            let r = sqlx::query("SELECT COUNT(*) AS n FROM ceremonies").fetch_one(&pool).await?;
            anyhow::Ok(sqlx::Row::try_get::<i64, _>(&r, "n")?)
        }
    };
    ensure!(count(&server).await? == 3);
    let err = |e: blindvault_server::ApiError| anyhow::anyhow!("sweep: {}", e.code);
    ensure!(sweep_ceremonies(&server.state).await.map_err(err)? == 0, "young challenges were swept");
    server.clock.advance(server.state.config.challenge_ttl_secs + 1);
    ensure!(sweep_ceremonies(&server.state).await.map_err(err)? == 0, "swept before the grace ended");
    server.clock.advance(CEREMONY_GRACE_SECS);
    agent.post(paths::LOGIN_START, json!({})).await?.ok()?;
    // The server's own background sweeper (every 5 s) may get there first: between the two,
    // the three stale challenges go and the fresh one stays.
    let swept = sweep_ceremonies(&server.state).await.map_err(err)?;
    ensure!(swept <= 3, "{swept} swept");
    ensure!(count(&server).await? == 1, "the stale challenges must go and the fresh one stay");
    // The sweep finds them by index (migration 4), not by scanning every challenge.
    let pool = server.state.store.pool();
    match server.state.store.engine() {
        blindvault_server::store::Engine::Sqlite => {
            let plan = sqlx::query("EXPLAIN QUERY PLAN DELETE FROM ceremonies WHERE expires_at <= 1")
                .fetch_all(pool)
                .await?;
            let details: Vec<String> =
                plan.iter().filter_map(|r| sqlx::Row::try_get::<String, _>(r, "detail").ok()).collect();
            ensure!(details.iter().any(|d| d.contains("ceremonies_expires")), "{details:?}");
        }
        blindvault_server::store::Engine::Postgres => {
            let r =
                sqlx::query("SELECT COUNT(*) AS n FROM pg_indexes WHERE indexname = 'ceremonies_expires'")
                    .fetch_one(pool)
                    .await?;
            ensure!(sqlx::Row::try_get::<i64, _>(&r, "n")? == 1, "no index on ceremonies.expires_at");
        }
    }
    Ok(())
}
