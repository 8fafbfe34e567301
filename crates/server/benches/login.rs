//! Logins per second through the server's code path vs raw ECDSA P-256 verifies per second
//! (ring), measured in the same run on one core, printed with their ratio.
//!
//! `cargo bench -p blindvault-server --bench login`
//!
//! * **raw**: `ring::signature::ECDSA_P256_SHA256_ASN1` verifying one signature repeatedly.
//! * **webauthn**: webauthn-rs `finish_discoverable_authentication_v2` on a real passkey-rs
//!   assertion (client data, authenticator data, flags, counter, the signature) — the relying
//!   party library's share of a login.
//! * **login**: `blindvault_server::auth::assertion::verify_login` on fresh assertions: takes the single-use
//!   challenge from the database, finds the credential, verifies with webauthn-rs, updates the
//!   counter (embedded SQLite) — the whole login except HTTP and the session row.

use std::time::{Duration, Instant};

use anyhow::Context;
use blindvault_server::auth::assertion::verify_login;
use blindvault_server::auth::ceremony::{Kind, put_state};
use blindvault_server::store::Synchronous;
use blindvault_testkit::{Backend, Device, ServerOptions, TestServer};
use webauthn_rs::prelude::PublicKeyCredential;

fn raw_p256(budget: Duration) -> anyhow::Result<f64> {
    use ring::rand::SystemRandom;
    use ring::signature::{self, EcdsaKeyPair, KeyPair};
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
        .map_err(|_| anyhow::anyhow!("keygen"))?;
    let kp = EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng)
        .map_err(|_| anyhow::anyhow!("key"))?;
    let msg = [7u8; 69]; // authenticator data (37) ‖ SHA-256(client data) (32): a login's size
    let sig = kp.sign(&rng, &msg).map_err(|_| anyhow::anyhow!("sign"))?;
    let pk = signature::UnparsedPublicKey::new(
        &signature::ECDSA_P256_SHA256_ASN1,
        kp.public_key().as_ref().to_vec(),
    );
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < budget {
        for _ in 0..100 {
            pk.verify(&msg, sig.as_ref()).map_err(|_| anyhow::anyhow!("verify"))?;
        }
        n += 100;
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

async fn assertion(server: &TestServer, phone: &mut Device) -> anyhow::Result<(String, PublicKeyCredential)> {
    let state = &server.state;
    let (rcr, auth) = state.rp.webauthn.start_discoverable_authentication()?;
    let options = state.rp.patch_options(&rcr, false).map_err(|e| anyhow::anyhow!("{}", e.message))?;
    let id =
        put_state(state, Kind::Login, None, &auth).await.map_err(|e| anyhow::anyhow!("{}", e.message))?;
    let (cred, _) = phone.get(&server.origin, &options).await?;
    Ok((id, serde_json::from_value(cred)?))
}

/// Logins per second through the server's login path on `server`, on fresh single-use challenges.
async fn login_path(server: &TestServer, phone: &mut Device) -> anyhow::Result<f64> {
    let count = 400;
    let mut pending = Vec::with_capacity(count);
    for _ in 0..count {
        pending.push(assertion(server, phone).await?);
    }
    let start = Instant::now();
    for (id, cred) in &pending {
        verify_login(&server.state, id, cred).await.map_err(|e| anyhow::anyhow!("login: {}", e.code))?;
    }
    Ok(count as f64 / start.elapsed().as_secs_f64())
}

async fn run() -> anyhow::Result<()> {
    let budget = Duration::from_secs(3);
    let server = TestServer::start(Backend::Sqlite).await?;
    let mut phone = Device::new();
    phone.register(&server, "bench").await?;

    // webauthn-rs alone, on one real assertion verified repeatedly.
    let state = &server.state;
    let (rcr, auth) = state.rp.webauthn.start_discoverable_authentication()?;
    let options = state.rp.patch_options(&rcr, false).map_err(|e| anyhow::anyhow!("{}", e.message))?;
    let (cred, _) = phone.get(&server.origin, &options).await?;
    let cred: PublicKeyCredential = serde_json::from_value(cred)?;
    let row = sqlx::query_scalar::<_, String>("SELECT passkey FROM credentials")
        .fetch_one(state.store.pool())
        .await?;
    let passkey: webauthn_rs::prelude::Passkey = serde_json::from_str(&row)?;
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < budget {
        for _ in 0..20 {
            state
                .rp
                .webauthn
                .finish_discoverable_authentication_v2(&cred, auth.clone(), &passkey)
                .context("webauthn verify")?;
        }
        n += 20;
    }
    let webauthn_rate = n as f64 / start.elapsed().as_secs_f64();

    // The server's login path on fresh, single-use challenges: SQLite syncing every commit (the
    // default), then syncing only at checkpoints.
    let login_rate = login_path(&server, &mut phone).await?;
    let normal = TestServer::start_with(
        Backend::Sqlite,
        ServerOptions { sqlite_synchronous: Some(Synchronous::Normal), ..ServerOptions::default() },
    )
    .await?;
    let mut other_phone = Device::new();
    other_phone.register(&normal, "bench").await?;
    let normal_rate = login_path(&normal, &mut other_phone).await?;

    let raw = raw_p256(budget)?;
    println!("raw ECDSA P-256 verify (ring, 1 core):         {raw:>9.0} /s");
    println!(
        "webauthn-rs assertion verify (1 core):         {webauthn_rate:>9.0} /s   ratio {:.3}",
        webauthn_rate / raw
    );
    println!(
        "server login path verify_login (SQLite, synchronous=full):   {login_rate:>9.0} /s   ratio {:.3}",
        login_rate / raw
    );
    println!(
        "server login path verify_login (SQLite, synchronous=normal): {normal_rate:>9.0} /s   ratio {:.3}   full costs {:.2}x",
        normal_rate / raw,
        normal_rate / login_rate
    );
    println!("login/raw ratio per core: {:.3} (target >= 0.5)", login_rate / raw);
    Ok(())
}

fn main() -> anyhow::Result<()> {
    // Skip when run as a test (`cargo test --benches` passes --bench only for real runs).
    if !std::env::args().any(|a| a == "--bench") {
        println!("login benchmark: run with `cargo bench -p blindvault-server --bench login`");
        return Ok(());
    }
    tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(run())
}
