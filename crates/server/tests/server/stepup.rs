//! Step-up on destructive and privilege actions: setting a role, deleting a user or a passkey,
//! replacing the org key, deleting an entry, removing an approver and revoking a host each need
//! a fresh passkey assertion bound to the action and its target (`stepup`). A session alone — a
//! stolen cookie or command-line token — is refused with `step_up_required` and changes nothing.

use anyhow::{Context, ensure};
use blindvault_api::ErrorCode;
use blindvault_api::accounts::StepUpView;
use blindvault_api::admin::Users;
use blindvault_api::broker::{EnrolmentView, HostView, OrgView};
use blindvault_api::passkeys::Passkeys;
use blindvault_api::paths;
use blindvault_core::ids::EntryId;
use blindvault_core::keys::OrgSecretKey;
use blindvault_core::policy::Policy;
use blindvault_testkit::broker::{World, b64, os_rng, unb64};
use blindvault_testkit::{Agent, Backend, Device, Resp, start_step_up};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

both!(
    every_destructive_action_refuses_a_plain_session_and_takes_a_step_up,
    a_step_up_is_bound_to_its_action_target_person_and_time,
    a_step_up_challenge_carries_its_action_and_target,
    a_failed_action_leaves_its_step_up_unspent,
    a_poll_while_the_answer_is_checked_reads_pending
);

fn required(what: &str, r: &Resp, action: &str, target: &str) -> anyhow::Result<()> {
    ensure!(
        r.status == 403
            && r.code() == Some(ErrorCode::StepUpRequired)
            && r.body["error"]["action"] == action
            && r.body["error"]["target"] == target,
        "{what}: want 403 step_up_required for {action} {target}, got {} {}",
        r.status,
        r.body
    );
    Ok(())
}

fn refused(what: &str, r: &Resp, status: u16, code: &str) -> anyhow::Result<()> {
    ensure!(
        r.status == status && r.code().map(ErrorCode::as_str) == Some(code),
        "{what}: want {status} {code}, got {} {}",
        r.status,
        r.body
    );
    Ok(())
}

/// One destructive call: method, path, body, step-up action and target.
struct Call {
    method: &'static str,
    path: String,
    body: Option<Value>,
    action: &'static str,
    target: String,
}

async fn every_destructive_action_refuses_a_plain_session_and_takes_a_step_up(
    b: Backend,
) -> anyhow::Result<()> {
    let mut w = World::new(b, &["alice", "bob"]).await?;
    let entry = EntryId::generate(&mut os_rng());
    w.put_secret(entry, 1, Policy::AnyOf { n: 2 }, b"s").await?;
    let (_, cert) = w.host(&[entry]).await?;
    let cert_id = cert.cert.cert_id.to_text();
    let carol = Device::new().register(&w.server, "carol").await?;
    let mine = w.approvers[1].session.agent.get(paths::BROKER_ENROLMENTS_MINE).await?.ok()?;
    let bobs = mine.json::<Vec<EnrolmentView>>()?.into_iter().next().context("bob's enrolment")?.id;
    let new_org = OrgSecretKey::generate(&mut os_rng());
    let new_fp = new_org.public_key().fingerprint().to_string();
    let admin_calls = vec![
        Call {
            method: "PUT",
            path: paths::with_id(paths::ADMIN_USER_ROLE, &carol.user_id),
            body: Some(json!({ "role": "approver" })),
            action: "role.set",
            target: format!("{}:approver", carol.user_id),
        },
        Call {
            method: "DELETE",
            path: paths::with_id(paths::ADMIN_USER, &carol.user_id),
            body: None,
            action: "user.delete",
            target: carol.user_id.clone(),
        },
        Call {
            method: "DELETE",
            path: paths::with_id(paths::BROKER_ENTRY, &entry.to_text()),
            body: None,
            action: "entry.delete",
            target: entry.to_text(),
        },
        Call {
            method: "DELETE",
            path: paths::with_id(paths::BROKER_ENROLMENT, &bobs),
            body: None,
            action: "approver.remove",
            target: bobs.clone(),
        },
        Call {
            method: "POST",
            path: paths::with_id(paths::BROKER_HOST_REVOKE, &cert_id),
            body: Some(json!({})),
            action: "host.revoke",
            target: cert_id.clone(),
        },
        // Last: a new org key sends every enrolment back to pending.
        Call {
            method: "PUT",
            path: paths::BROKER_ORG.into(),
            body: Some(json!({ "org_public_key": b64(&new_org.public_key().to_bytes()), "replace": true })),
            action: "org.replace",
            target: new_fp.clone(),
        },
    ];
    for c in &admin_calls {
        let what = format!("{} {}", c.method, c.path);
        let plain = w.admin.agent.send(c.method, &c.path, c.body.clone()).await?;
        required(&what, &plain, c.action, &c.target)?;
        // A step-up started but not confirmed does not do either.
        let pending = start_step_up(&mut w.admin.agent, c.action, &c.target).await?;
        let r = w.admin.agent.send_stepped(c.method, &c.path, c.body.clone(), &pending).await?;
        refused(&what, &r, 403, "step_up_not_confirmed")?;
        let up = w.admin_step_up(c.action, &c.target).await?;
        w.admin.agent.send_stepped(c.method, &c.path, c.body.clone(), &up).await?.ok().context(what)?;
    }
    // Each took effect, once: carol is gone, the entry, bob's enrolment, the host, the old org key.
    ensure!(carol.agent.clone().get(paths::ME).await?.status == 401, "carol deleted");
    let r = w.admin.agent.get(&paths::with_id(paths::BROKER_ENTRY, &entry.to_text())).await?;
    refused("entry", &r, 404, "no_such_entry")?;
    let hosts = w.admin.agent.get(paths::BROKER_HOSTS).await?.ok()?;
    ensure!(hosts.json::<Vec<HostView>>()?.first().context("the host")?.revoked, "{}", hosts.body);
    let org = w.admin.agent.get(paths::BROKER_ORG).await?.ok()?;
    ensure!(org.json::<OrgView>()?.fingerprint == Some(new_fp), "{}", org.body);
    // A dry run of a removal changes nothing and needs no step-up.
    w.admin
        .agent
        .delete(&format!("{}?dry_run=true", paths::with_id(paths::BROKER_ENROLMENT, &bobs)))
        .await?
        .ok()?;

    // A passkey, by its owner (any signed-in person).
    let (second_id, _) = {
        let a = &mut w.approvers[0];
        Device::new().add_passkey(&w.server, &mut a.session.agent, &mut a.device, "laptop").await?
    };
    let a = &mut w.approvers[0];
    let path = paths::with_id(paths::PASSKEY, &second_id);
    let plain = a.session.agent.delete(&path).await?;
    required("delete passkey", &plain, "passkey.delete", &second_id)?;
    let up = a.device.step_up(&w.server, &mut a.session.agent, "passkey.delete", &second_id).await?;
    a.session.agent.send_stepped("DELETE", &path, None, &up).await?.ok()?;
    let list = a.session.agent.get(paths::PASSKEYS).await?.ok()?;
    ensure!(list.json::<Passkeys>()?.passkeys.len() == 1, "{}", list.body);

    // The audit rows say which step-up allowed each action.
    let rows = blindvault_server::audit::list(&w.server.state.store, 0, 1000).await?;
    for action in [
        "admin.role.set",
        "admin.user.delete",
        "broker.entry.deleted",
        "broker.enrolment.removed",
        "broker.host.revoked",
        "broker.org.replaced",
        "passkey.remove",
    ] {
        let row = rows.iter().find(|r| r.action == action).with_context(|| format!("no {action} row"))?;
        let detail: Value = serde_json::from_str(&row.detail)?;
        ensure!(detail["step_up"].as_str().is_some_and(|s| !s.is_empty()), "{action}: {detail}");
    }
    Ok(())
}

async fn a_step_up_is_bound_to_its_action_target_person_and_time(b: Backend) -> anyhow::Result<()> {
    let mut w = World::new(b, &["alice"]).await?;
    let mut bob_phone = Device::new();
    let mut bob = bob_phone.register(&w.server, "bob").await?;
    let mut carol = Device::new().register(&w.server, "carol").await?;
    let role = |u: &str| paths::with_id(paths::ADMIN_USER_ROLE, u);
    let set = |r: &str| Some(json!({ "role": r }));

    // Another action, or the same action on another target, or another role: refused.
    let up = w.admin_step_up("user.delete", &bob.user_id).await?;
    let r = w.admin.agent.send_stepped("PUT", &role(&bob.user_id), set("admin"), &up).await?;
    refused("user.delete used for role.set", &r, 403, "step_up_mismatch")?;
    ensure!(r.body["error"]["action"] == "role.set", "the refusal names what is needed: {}", r.body);
    let r = w
        .admin
        .agent
        .send_stepped("DELETE", &paths::with_id(paths::ADMIN_USER, &carol.user_id), None, &up)
        .await?;
    refused("bob's deletion used for carol", &r, 403, "step_up_mismatch")?;
    let demote = w.admin_step_up("role.set", &format!("{}:user", bob.user_id)).await?;
    let r = w.admin.agent.send_stepped("PUT", &role(&bob.user_id), set("admin"), &demote).await?;
    refused("a step-up for one role used for another", &r, 403, "step_up_mismatch")?;
    ensure!(
        w.admin
            .agent
            .get(paths::ADMIN_USERS)
            .await?
            .ok()?
            .json::<Users>()?
            .users
            .iter()
            .all(|u| u.role != "admin" || u.name == "admin"),
        "nobody was promoted"
    );

    // Once only: the same step-up a second time is refused, even for the same call.
    w.admin.agent.send_stepped("PUT", &role(&bob.user_id), set("user"), &demote).await?.ok()?;
    let r = w.admin.agent.send_stepped("PUT", &role(&bob.user_id), set("user"), &demote).await?;
    refused("reuse", &r, 409, "step_up_used")?;

    // Another person's step-up (confirmed by them) is theirs alone; so is its status.
    let target = format!("{}:approver", carol.user_id);
    let bobs = bob_phone.step_up(&w.server, &mut bob.agent, "role.set", &target).await?;
    let r = w.admin.agent.send_stepped("PUT", &role(&carol.user_id), set("approver"), &bobs).await?;
    refused("bob's step-up used by the admin", &r, 403, "wrong_user")?;
    refused(
        "status of bob's",
        &w.admin.agent.get(&paths::with_id(paths::STEP_UP, &bobs)).await?,
        403,
        "wrong_user",
    )?;
    // Bob holds a confirmed step-up for it but no admin role.
    let r = bob.agent.send_stepped("PUT", &role(&carol.user_id), set("approver"), &bobs).await?;
    refused("bob is no admin", &r, 403, "forbidden")?;
    // A step-up the admin started cannot be confirmed with another person's passkey, and one
    // person cannot confirm another's.
    let started = start_step_up(&mut w.admin.agent, "role.set", &target).await?;
    let r = bob_phone.confirm_step_up(&w.server, &mut w.admin.agent, &started).await?;
    refused("confirmed with bob's passkey", &r, 403, "wrong_user")?;
    let r = w.admin.agent.send_stepped("PUT", &role(&carol.user_id), set("approver"), &started).await?;
    refused("after a refused confirmation", &r, 403, "step_up_not_confirmed")?;
    let started = start_step_up(&mut w.admin.agent, "role.set", &target).await?;
    let mut bob_agent = bob.agent.clone();
    let view = bob_agent.get(&paths::with_id(paths::STEP_UP, &started)).await?;
    refused("bob reads the admin's step-up", &view, 403, "wrong_user")?;
    let view: StepUpView =
        w.admin.agent.get(&paths::with_id(paths::STEP_UP, &started)).await?.ok()?.json()?;
    ensure!(view.status.as_deref() == Some("pending") && view.target == target, "{view:?}");
    let (credential, _) = bob_phone.get(&w.server.origin, view.options.as_ref().context("options")?).await?;
    let r = bob_agent
        .post(&paths::with_id(paths::STEP_UP_CONFIRM, &started), json!({ "credential": credential }))
        .await?;
    refused("bob confirms the admin's", &r, 403, "wrong_user")?;

    // Confirmed once; a second confirmation is refused.
    w.admin_confirms(&started).await?.ok()?;
    let r = w
        .admin
        .agent
        .post(&paths::with_id(paths::STEP_UP_CONFIRM, &started), json!({ "credential": credential }))
        .await?;
    refused("confirmed twice", &r, 409, "step_up_confirmed")?;

    // Cancelled: refused.
    let cancelled = w.admin_step_up("role.set", &target).await?;
    w.admin.agent.post(&paths::with_id(paths::STEP_UP_CANCEL, &cancelled), json!({})).await?.ok()?;
    let r = w.admin.agent.send_stepped("PUT", &role(&carol.user_id), set("approver"), &cancelled).await?;
    refused("cancelled", &r, 409, "step_up_cancelled")?;

    // Expired (the injected clock): refused, and its status says so.
    let late = w.admin_step_up("role.set", &target).await?;
    w.server.clock.advance(blindvault_server::auth::stepup::TTL_SECS);
    let r = w.admin.agent.send_stepped("PUT", &role(&carol.user_id), set("approver"), &late).await?;
    refused("expired", &r, 410, "step_up_expired")?;
    let view: StepUpView = w.admin.agent.get(&paths::with_id(paths::STEP_UP, &late)).await?.ok()?.json()?;
    ensure!(view.status.as_deref() == Some("expired"), "{view:?}");
    // Unknown ids and bad starts.
    let r = w.admin.agent.send_stepped("PUT", &role(&carol.user_id), set("approver"), "nope").await?;
    refused("unknown id", &r, 403, "step_up_invalid")?;
    let r = w.admin.agent.post(paths::STEP_UP_START, json!({ "action": "root.all", "target": "x" })).await?;
    refused("unknown action", &r, 400, "invalid_action")?;
    let r =
        w.admin.agent.post(paths::STEP_UP_START, json!({ "action": "user.delete", "target": "" })).await?;
    refused("empty target", &r, 400, "invalid_target")?;
    let r = w
        .admin
        .agent
        .post(paths::STEP_UP_START, json!({ "action": "user.delete", "target": "a\u{202e}b" }))
        .await?;
    refused("direction-changing target", &r, 400, "invalid_target")?;
    let r = Agent::new(&w.server.base, Some(w.server.origin.origin().ascii_serialization()))
        .post(paths::STEP_UP_START, json!({ "action": "user.delete", "target": "x" }))
        .await?;
    ensure!(r.status == 401, "no session: {r:?}");
    // Carol's role never changed.
    let users = w.admin.agent.get(paths::ADMIN_USERS).await?.ok()?;
    let c = users.json::<Users>()?.users.into_iter().find(|u| u.id == carol.user_id);
    ensure!(c.is_some_and(|c| c.role == "user"), "{}", users.body);
    let _ = carol.agent.get(paths::ME).await?.ok()?;
    Ok(())
}

/// The challenge the passkey signs is `random(32) ‖ SHA-256("blindvault/v1/step-up" ‖
/// u32be(len action) ‖ action ‖ u32be(len target) ‖ target)`: a device (or anyone holding the
/// signed client data) can check what the assertion allowed.
async fn a_step_up_challenge_carries_its_action_and_target(b: Backend) -> anyhow::Result<()> {
    let mut w = World::new(b, &[]).await?;
    let (action, target) = ("host.revoke", "c2VydmVyLWNlcnQ");
    let started = w
        .admin
        .agent
        .post(paths::STEP_UP_START, json!({ "action": action, "target": target }))
        .await?
        .ok()?;
    let start: StepUpView = started.json()?;
    ensure!(
        started.status == 201
            && start.confirm_path.as_deref() == Some(format!("/#/confirm/{}", start.id).as_str())
    );
    let options = start.options.as_ref().context("options")?;
    let challenge = unb64(&options["publicKey"]["challenge"]);
    let mut input = b"blindvault/v1/step-up".to_vec();
    for part in [action, target] {
        input.extend_from_slice(&u32::try_from(part.len())?.to_be_bytes());
        input.extend_from_slice(part.as_bytes());
    }
    ensure!(challenge.len() == 64, "{} bytes", challenge.len());
    ensure!(challenge[32..] == Sha256::digest(&input)[..], "the binding is the challenge's second half");
    ensure!(challenge[32..] == blindvault_server::auth::stepup::binding(action, target));
    // Two step-ups for the same action differ in their first half.
    let again: StepUpView = w
        .admin
        .agent
        .post(paths::STEP_UP_START, json!({ "action": action, "target": target }))
        .await?
        .ok()?
        .json()?;
    let other = unb64(&again.options.as_ref().context("options")?["publicKey"]["challenge"]);
    ensure!(other[..32] != challenge[..32] && other[32..] == challenge[32..]);
    // What the device signs names it (clientDataJSON's challenge).
    let id = &start.id;
    let device = w.admin_device.as_mut().context("admin device")?;
    let (credential, _) = device.get(&w.server.origin, options).await?;
    let cd: Value = serde_json::from_slice(&unb64(&credential["response"]["clientDataJSON"]))?;
    ensure!(unb64(&cd["challenge"]) == challenge, "{cd}");
    w.admin
        .agent
        .post(&paths::with_id(paths::STEP_UP_CONFIRM, id), json!({ "credential": credential }))
        .await?
        .ok()?;
    let view: StepUpView = w.admin.agent.get(&paths::with_id(paths::STEP_UP, id)).await?.ok()?.json()?;
    ensure!(view.status.as_deref() == Some("confirmed") && view.options.is_none(), "{view:?}");
    Ok(())
}

/// A refused action (the last admin, here) does not spend its step-up; it works once the
/// action can.
async fn a_failed_action_leaves_its_step_up_unspent(b: Backend) -> anyhow::Result<()> {
    let mut w = World::new(b, &[]).await?;
    let admin_id = w.admin.user_id.clone();
    let target = format!("{admin_id}:user");
    let up = w.admin_step_up("role.set", &target).await?;
    let path = paths::with_id(paths::ADMIN_USER_ROLE, &admin_id);
    let r = w.admin.agent.send_stepped("PUT", &path, Some(json!({ "role": "user" })), &up).await?;
    refused("last admin", &r, 409, "last_admin")?;
    let view: StepUpView = w.admin.agent.get(&paths::with_id(paths::STEP_UP, &up)).await?.ok()?.json()?;
    ensure!(view.status.as_deref() == Some("confirmed"), "{view:?}");
    // A second admin; now the same step-up demotes.
    let mut bob_phone = Device::new();
    let bob = bob_phone.register(&w.server, "bob").await?;
    let promote = w.admin_step_up("role.set", &format!("{}:admin", bob.user_id)).await?;
    w.admin
        .agent
        .send_stepped(
            "PUT",
            &paths::with_id(paths::ADMIN_USER_ROLE, &bob.user_id),
            Some(json!({ "role": "admin" })),
            &promote,
        )
        .await?
        .ok()?;
    w.admin.agent.send_stepped("PUT", &path, Some(json!({ "role": "user" })), &up).await?.ok()?;
    Ok(())
}

/// While the one answer is being checked (the server took the challenge and has not yet
/// recorded the outcome), a poll reads "pending" — not "failed", which made a waiting command
/// line give up on a good confirmation — and a second answer finds nothing to take.
async fn a_poll_while_the_answer_is_checked_reads_pending(b: Backend) -> anyhow::Result<()> {
    let mut w = World::new(b, &[]).await?;
    let id = start_step_up(&mut w.admin.agent, "host.revoke", "c2VydmVyLWNlcnQ").await?;
    let view: StepUpView = w.admin.agent.get(&paths::with_id(paths::STEP_UP, &id)).await?.ok()?.json()?;
    let device = w.admin_device.as_mut().context("admin device")?;
    let (credential, _) = device.get(&w.server.origin, view.options.as_ref().context("options")?).await?;
    // The moment inside `confirm` between taking the challenge and recording the result.
    sqlx::query("UPDATE step_ups SET state = 'answering' WHERE id = $1")
        .bind(&id)
        .execute(w.server.state.store.pool())
        .await?;
    let view: StepUpView = w.admin.agent.get(&paths::with_id(paths::STEP_UP, &id)).await?.ok()?.json()?;
    ensure!(view.status.as_deref() == Some("pending"), "{view:?}");
    let r = w
        .admin
        .agent
        .post(&paths::with_id(paths::STEP_UP_CONFIRM, &id), json!({ "credential": credential }))
        .await?;
    ensure!(r.status == 409, "a second answer while the first is checked: {} {}", r.status, r.body);
    Ok(())
}
