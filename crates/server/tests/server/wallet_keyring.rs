//! A person's wallet keyring (docs/protocol.md §2.1, docs/wallet.md "More than one device"): the
//! origin passkey and the wallet envelopes of their other passkeys — each person's own, create-
//! only, checked for form, audited, and removed with their passkey. The envelopes are sealed and
//! opened here with the core and the software authenticators' real PRF outputs.

use anyhow::{Context, ensure};
use blindvault_api::ErrorCode;
use blindvault_api::paths;
use blindvault_api::wallet_keyring::{PutWalletEnvelope, SetWalletOrigin, WalletKeyring};
use blindvault_core::encoding::b64;
use blindvault_core::schedule::{KeySchedule, PrfOutput};
use blindvault_core::wallet_envelope::{self, WalletEnvelope};
use blindvault_testkit::{Agent, Backend, Device, Resp, TestServer};
use serde_json::{Value, json};

use crate::wallet::audit_rows;

both!(
    wallet_keyring_is_each_persons_own_and_a_second_passkey_opens_the_origins_wallet,
    wallet_keyring_is_create_only_and_refuses_what_is_not_an_envelope,
    a_wallet_envelope_goes_with_its_passkey_and_the_origin_stays,
    wallet_keyring_writes_need_a_step_up_bound_to_the_action_and_the_passkey,
);

fn envelope_path(credential_id: &str) -> String {
    paths::with_id(paths::WALLET_KEYRING_ENVELOPE, credential_id)
}

async fn keyring(agent: &mut Agent) -> anyhow::Result<WalletKeyring> {
    agent.get(paths::WALLET_KEYRING).await?.ok()?.json()
}

/// `PUT` the origin; with `by`, behind a step-up (`wallet.origin.set`, target the user id)
/// confirmed by a passkey on that device, as the first unlock does; without, a session alone.
async fn set_origin(
    server: &TestServer,
    agent: &mut Agent,
    by: Option<&mut Device>,
    credential_id: &str,
) -> anyhow::Result<Resp> {
    let body = serde_json::to_value(SetWalletOrigin { credential_id: credential_id.to_owned() })?;
    match by {
        Some(device) => {
            let user_id = keyring(agent).await?.user_id;
            let up = device.step_up(server, agent, "wallet.origin.set", &user_id).await?;
            agent.send_stepped("PUT", paths::WALLET_KEYRING_ORIGIN, Some(body), &up).await
        }
        None => agent.put(paths::WALLET_KEYRING_ORIGIN, body).await,
    }
}

/// `PUT` an envelope; with `by`, behind a step-up (`wallet.envelope.put`, target the credential
/// id) confirmed on that device, as the sealing ceremony does; without, a session alone.
async fn put_envelope(
    server: &TestServer,
    agent: &mut Agent,
    by: Option<&mut Device>,
    credential_id: &str,
    envelope: &str,
) -> anyhow::Result<Resp> {
    let body = serde_json::to_value(PutWalletEnvelope { envelope: envelope.to_owned() })?;
    match by {
        Some(device) => {
            let up = device.step_up(server, agent, "wallet.envelope.put", credential_id).await?;
            agent.send_stepped("PUT", &envelope_path(credential_id), Some(body), &up).await
        }
        None => agent.put(&envelope_path(credential_id), body).await,
    }
}

/// The envelope a device that opened `origin`'s wallet seals to the passkey `to` (base64url).
fn seal(origin: &PrfOutput, to: &PrfOutput, user_id: &str, credential_id: &str) -> anyhow::Result<String> {
    let from = KeySchedule::derive(origin);
    let raw = b64::decode(credential_id)?;
    let env = wallet_envelope::seal(
        from.wallet_entropy(),
        &KeySchedule::derive(to),
        user_id,
        &raw,
        &mut blindvault_core::rng::os_rng(),
    )?;
    Ok(b64::encode(&env.to_bytes()))
}

/// What the passkey `with` opens from the keyring's envelope for it.
fn open(ring: &WalletKeyring, with: &PrfOutput, credential_id: &str) -> anyhow::Result<[u8; 32]> {
    let view = ring.envelopes.iter().find(|e| e.credential_id == credential_id).context("no envelope")?;
    let env = WalletEnvelope::from_bytes(&b64::decode(&view.envelope)?)?;
    let opened =
        wallet_envelope::open(&env, &KeySchedule::derive(with), &ring.user_id, &b64::decode(credential_id)?)?;
    Ok(*opened.expose())
}

fn refused(r: &Resp, status: u16, code: ErrorCode) -> anyhow::Result<()> {
    ensure!(r.status == status && r.code() == Some(code), "expected {status} {code}: {r:?}");
    Ok(())
}

async fn wallet_keyring_is_each_persons_own_and_a_second_passkey_opens_the_origins_wallet(
    b: Backend,
) -> anyhow::Result<()> {
    let server = TestServer::start(b).await?;
    let mut phone = Device::new();
    let mut alice = phone.register(&server, "alice").await?;
    let mut laptop = Device::new();
    let (laptop_id, laptop_prf) = laptop.add_passkey(&server, &mut alice.agent, &mut phone, "laptop").await?;
    let mut bob_device = Device::new();
    let mut bob = bob_device.register(&server, "bob").await?;

    // Nothing yet; not signed in: 401.
    let ring = keyring(&mut alice.agent).await?;
    ensure!(ring.user_id == alice.user_id && ring.origin.is_none() && ring.envelopes.is_empty(), "{ring:?}");
    ensure!(server.agent().get(paths::WALLET_KEYRING).await?.status == 401);

    // The phone opened the wallet first: it is the origin, once.
    let o = set_origin(&server, &mut alice.agent, Some(&mut phone), &alice.credential_id).await?.ok()?;
    ensure!(o.body["credential_id"] == alice.credential_id.as_str(), "{o:?}");
    set_origin(&server, &mut alice.agent, Some(&mut phone), &alice.credential_id).await?.ok()?;
    let r = set_origin(&server, &mut alice.agent, Some(&mut laptop), &laptop_id).await?;
    refused(&r, 409, ErrorCode::WalletOriginExists)?;

    // The phone seals its wallet to the laptop's passkey; the laptop opens the phone's wallet.
    let sealed = seal(&alice.prf, &laptop_prf, &alice.user_id, &laptop_id)?;
    put_envelope(&server, &mut alice.agent, Some(&mut phone), &laptop_id, &sealed).await?.ok()?;
    let ring = keyring(&mut alice.agent).await?;
    ensure!(ring.origin.as_ref().is_some_and(|o| o.credential_id == alice.credential_id));
    ensure!(ring.envelopes.len() == 1 && ring.envelopes[0].envelope == sealed);
    let phone_wallet = *KeySchedule::derive(&alice.prf).wallet_entropy().expose();
    ensure!(open(&ring, &laptop_prf, &laptop_id)? == phone_wallet, "the laptop opens the phone's wallet");
    ensure!(*KeySchedule::derive(&laptop_prf).wallet_entropy().expose() != phone_wallet);

    // Bob sees only his own keyring, and cannot name Alice's passkeys.
    let theirs = keyring(&mut bob.agent).await?;
    ensure!(
        theirs.user_id == bob.user_id && theirs.origin.is_none() && theirs.envelopes.is_empty(),
        "{theirs:?}"
    );
    let r = set_origin(&server, &mut bob.agent, None, &alice.credential_id).await?;
    refused(&r, 404, ErrorCode::PasskeyNotFound)?;
    set_origin(&server, &mut bob.agent, Some(&mut bob_device), &bob.credential_id).await?.ok()?;
    let r = put_envelope(&server, &mut bob.agent, Some(&mut bob_device), &laptop_id, &sealed).await?;
    refused(&r, 404, ErrorCode::PasskeyNotFound)?;
    let r = set_origin(&server, &mut alice.agent, None, "bm8tc3VjaC1wYXNza2V5").await?;
    refused(&r, 404, ErrorCode::PasskeyNotFound)?;
    // Nothing of Bob's reached Alice's keyring.
    ensure!(keyring(&mut alice.agent).await? == ring);
    ensure!(keyring(&mut bob.agent).await?.envelopes.is_empty());

    // Audited, without the envelope's bytes.
    let mut root = crate::wallet::admin(&server).await?;
    let origins = audit_rows(&mut root.agent, "wallet.origin.set").await?;
    ensure!(origins.len() == 2, "one row per person, none for a repeat: {origins:?}");
    let puts = audit_rows(&mut root.agent, "wallet.envelope.put").await?;
    ensure!(
        puts.len() == 1
            && puts[0].0["target"] == laptop_id.as_str()
            && puts[0].0["actor"] == alice.user_id.as_str()
    );
    ensure!(puts[0].1 == json!({ "origin": alice.credential_id }), "{:?}", puts[0].1);
    ensure!(!puts[0].0.to_string().contains(&sealed));
    Ok(())
}

async fn wallet_keyring_is_create_only_and_refuses_what_is_not_an_envelope(b: Backend) -> anyhow::Result<()> {
    let server = TestServer::start(b).await?;
    let mut phone = Device::new();
    let mut alice = phone.register(&server, "alice").await?;
    let (laptop_id, laptop_prf) =
        Device::new().add_passkey(&server, &mut alice.agent, &mut phone, "laptop").await?;
    let sealed = seal(&alice.prf, &laptop_prf, &alice.user_id, &laptop_id)?;

    // No origin yet: an envelope would say nothing.
    let r = put_envelope(&server, &mut alice.agent, Some(&mut phone), &laptop_id, &sealed).await?;
    refused(&r, 409, ErrorCode::WalletOriginUnset)?;
    set_origin(&server, &mut alice.agent, Some(&mut phone), &alice.credential_id).await?.ok()?;
    // The origin takes no envelope.
    let own = seal(&alice.prf, &alice.prf, &alice.user_id, &alice.credential_id)?;
    refused(
        &put_envelope(&server, &mut alice.agent, Some(&mut phone), &alice.credential_id, &own).await?,
        409,
        ErrorCode::WalletOriginNeedsNoEnvelope,
    )?;

    // Not an envelope: not base64url, padded, a length other than 81, a version other than 1.
    let raw = b64::decode(&sealed)?;
    let mut v2 = raw.clone();
    v2[0] = 2;
    let mut long = raw.clone();
    long.push(0);
    for bad in [
        "not base64!".to_owned(),
        format!("{sealed}="),
        b64::encode(&raw[..80]),
        b64::encode(&long),
        b64::encode(&v2),
        String::new(),
    ] {
        refused(
            &put_envelope(&server, &mut alice.agent, None, &laptop_id, &bad).await?,
            400,
            ErrorCode::WalletEnvelopeInvalid,
        )?;
    }
    // Unknown fields and a wrong type: the contract's 400.
    let r =
        alice.agent.put(&envelope_path(&laptop_id), json!({ "envelope": sealed, "replace": true })).await?;
    refused(&r, 400, ErrorCode::InvalidRequest)?;
    let r = alice.agent.put(&envelope_path(&laptop_id), json!({ "envelope": 81 })).await?;
    refused(&r, 400, ErrorCode::InvalidRequest)?;
    ensure!(keyring(&mut alice.agent).await?.envelopes.is_empty(), "nothing stored");

    // Stored once; the same bytes again are answered as stored; other bytes are refused.
    put_envelope(&server, &mut alice.agent, Some(&mut phone), &laptop_id, &sealed).await?.ok()?;
    put_envelope(&server, &mut alice.agent, Some(&mut phone), &laptop_id, &sealed).await?.ok()?;
    let other = seal(&alice.prf, &laptop_prf, &alice.user_id, &laptop_id)?;
    ensure!(other != sealed, "a fresh ephemeral key");
    refused(
        &put_envelope(&server, &mut alice.agent, Some(&mut phone), &laptop_id, &other).await?,
        409,
        ErrorCode::WalletEnvelopeExists,
    )?;
    let ring = keyring(&mut alice.agent).await?;
    ensure!(ring.envelopes.len() == 1 && ring.envelopes[0].envelope == sealed, "{ring:?}");
    Ok(())
}

async fn a_wallet_envelope_goes_with_its_passkey_and_the_origin_stays(b: Backend) -> anyhow::Result<()> {
    let server = TestServer::start(b).await?;
    let mut phone = Device::new();
    let mut alice = phone.register(&server, "alice").await?;
    let mut laptop = Device::new();
    let (laptop_id, laptop_prf) = laptop.add_passkey(&server, &mut alice.agent, &mut phone, "laptop").await?;
    let mut key = Device::new();
    let (key_id, key_prf) = key.add_passkey(&server, &mut alice.agent, &mut phone, "key").await?;
    set_origin(&server, &mut alice.agent, Some(&mut phone), &alice.credential_id).await?.ok()?;
    for (id, prf) in [(&laptop_id, &laptop_prf), (&key_id, &key_prf)] {
        let env = seal(&alice.prf, prf, &alice.user_id, id)?;
        put_envelope(&server, &mut alice.agent, Some(&mut phone), id, &env).await?.ok()?;
    }

    // Remove the laptop (a step-up with the key): its envelope goes with it, the key's stays.
    let up = key.step_up(&server, &mut alice.agent, "passkey.delete", &laptop_id).await?;
    alice.agent.send_stepped("DELETE", &paths::with_id(paths::PASSKEY, &laptop_id), None, &up).await?.ok()?;
    let ring = keyring(&mut alice.agent).await?;
    let ids: Vec<&str> = ring.envelopes.iter().map(|e| e.credential_id.as_str()).collect();
    ensure!(ids == [key_id.as_str()], "{ids:?}");

    // Remove the origin passkey itself (a step-up with the key): it stays the origin, and the key
    // still opens the same wallet.
    let up = key.step_up(&server, &mut alice.agent, "passkey.delete", &alice.credential_id).await?;
    alice
        .agent
        .send_stepped("DELETE", &paths::with_id(paths::PASSKEY, &alice.credential_id), None, &up)
        .await?
        .ok()?;
    let ring = keyring(&mut alice.agent).await?;
    ensure!(ring.origin.as_ref().is_some_and(|o| o.credential_id == alice.credential_id), "{ring:?}");
    ensure!(open(&ring, &key_prf, &key_id)? == *KeySchedule::derive(&alice.prf).wallet_entropy().expose());
    // The origin cannot be moved to the key now, nor can the removed laptop get an envelope.
    refused(
        &set_origin(&server, &mut alice.agent, Some(&mut key), &key_id).await?,
        409,
        ErrorCode::WalletOriginExists,
    )?;
    let again = seal(&alice.prf, &laptop_prf, &alice.user_id, &laptop_id)?;
    let r = put_envelope(&server, &mut alice.agent, Some(&mut key), &laptop_id, &again).await?;
    refused(&r, 404, ErrorCode::PasskeyNotFound)?;

    // The removals say whether an envelope went with the passkey.
    let mut root = crate::wallet::admin(&server).await?;
    let rows = audit_rows(&mut root.agent, "passkey.remove").await?;
    let removed: Vec<(Value, Value)> =
        rows.iter().map(|(r, d)| (r["target"].clone(), d["wallet_envelope_removed"].clone())).collect();
    ensure!(
        removed == [(json!(laptop_id), json!(true)), (json!(alice.credential_id), json!(false))],
        "{removed:?}"
    );
    Ok(())
}

/// A stolen session alone cannot record an origin or plant an envelope (junk the pages would
/// count as "opens the wallet"): each write needs a step-up bound to its action and passkey —
/// the origin's confirmed by the passkey it names, an envelope's for the credential it is for.
async fn wallet_keyring_writes_need_a_step_up_bound_to_the_action_and_the_passkey(
    b: Backend,
) -> anyhow::Result<()> {
    let server = TestServer::start(b).await?;
    let mut phone = Device::new();
    let mut alice = phone.register(&server, "alice").await?;
    let mut laptop = Device::new();
    let (laptop_id, laptop_prf) = laptop.add_passkey(&server, &mut alice.agent, &mut phone, "laptop").await?;
    let origin_body = serde_json::to_value(SetWalletOrigin { credential_id: alice.credential_id.clone() })?;
    let stepped_origin = |up: String| (origin_body.clone(), up);

    // The origin: no step-up; one for another action or target; one confirmed by another of
    // her passkeys than the one named.
    let r = set_origin(&server, &mut alice.agent, None, &alice.credential_id).await?;
    refused(&r, 403, ErrorCode::StepUpRequired)?;
    ensure!(
        r.body["error"]["action"] == "wallet.origin.set"
            && r.body["error"]["target"] == alice.user_id.as_str(),
        "{r:?}"
    );
    for (action, target) in
        [("passkey.delete", alice.user_id.as_str()), ("wallet.origin.set", laptop_id.as_str())]
    {
        let (body, up) = stepped_origin(phone.step_up(&server, &mut alice.agent, action, target).await?);
        let r = alice.agent.send_stepped("PUT", paths::WALLET_KEYRING_ORIGIN, Some(body), &up).await?;
        refused(&r, 403, ErrorCode::StepUpMismatch)?;
    }
    let (body, up) =
        stepped_origin(laptop.step_up(&server, &mut alice.agent, "wallet.origin.set", &alice.user_id).await?);
    let r = alice.agent.send_stepped("PUT", paths::WALLET_KEYRING_ORIGIN, Some(body), &up).await?;
    refused(&r, 403, ErrorCode::StepUpMismatch)?;
    ensure!(keyring(&mut alice.agent).await?.origin.is_none(), "nothing recorded");
    let (body, up) =
        stepped_origin(phone.step_up(&server, &mut alice.agent, "wallet.origin.set", &alice.user_id).await?);
    alice.agent.send_stepped("PUT", paths::WALLET_KEYRING_ORIGIN, Some(body.clone()), &up).await?.ok()?;
    // A step-up answers once.
    let r = alice.agent.send_stepped("PUT", paths::WALLET_KEYRING_ORIGIN, Some(body), &up).await?;
    refused(&r, 409, ErrorCode::StepUpUsed)?;

    // An envelope: junk of the right form (81 bytes, version 1) is refused without a step-up, or
    // with one for another passkey or action; nothing is stored.
    let mut junk = vec![1u8];
    junk.extend_from_slice(&[0x5a; 80]);
    let junk = b64::encode(&junk);
    let r = put_envelope(&server, &mut alice.agent, None, &laptop_id, &junk).await?;
    refused(&r, 403, ErrorCode::StepUpRequired)?;
    ensure!(
        r.body["error"]["action"] == "wallet.envelope.put" && r.body["error"]["target"] == laptop_id.as_str(),
        "{r:?}"
    );
    let body = serde_json::to_value(PutWalletEnvelope { envelope: junk })?;
    for (action, target) in
        [("wallet.envelope.put", alice.credential_id.as_str()), ("wallet.origin.set", laptop_id.as_str())]
    {
        let up = phone.step_up(&server, &mut alice.agent, action, target).await?;
        let r = alice.agent.send_stepped("PUT", &envelope_path(&laptop_id), Some(body.clone()), &up).await?;
        refused(&r, 403, ErrorCode::StepUpMismatch)?;
    }
    ensure!(keyring(&mut alice.agent).await?.envelopes.is_empty(), "nothing stored");
    // The real one, sealed on the phone, behind the sealing ceremony's step-up.
    let sealed = seal(&alice.prf, &laptop_prf, &alice.user_id, &laptop_id)?;
    put_envelope(&server, &mut alice.agent, Some(&mut phone), &laptop_id, &sealed).await?.ok()?;
    ensure!(keyring(&mut alice.agent).await?.envelopes.len() == 1);
    Ok(())
}
