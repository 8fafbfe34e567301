//! The blind broker end to end through the real HTTP API: admin (org key on the "admin's
//! machine", i.e. in the test), approver devices (passkey-rs with PRF), a consumer (host key,
//! ephemeral key), on SQLite and PostgreSQL. Plus a server that turns malicious by editing its
//! own database, and a scan of the database files for anything that opens anything.

use anyhow::{Context, ensure};
use blindvault_api::ErrorCode;
use blindvault_api::broker::{
    ApproverView, CreatedRequest, EnrolmentView, HostView, OrgSettings, OrgView, PollResult,
};
use blindvault_api::broker_calls::{ApprovalRecorded, RequestView, RevocationsView};
use blindvault_api::paths;
use blindvault_core::entry::KeyMaterial;
use blindvault_core::identity::{HostCertificate, verify_request};
use blindvault_core::ids::{CertId, EntryId, RequestId};
use blindvault_core::keys::{EphemeralSecretKey, HostSecretKey, OrgSecretKey};
use blindvault_core::policy::Policy;
use blindvault_testkit::broker::{
    Consumer, World, b64, device_approves, device_finishes_approval, device_prepares_approval, hex, now,
    unb64,
};
use blindvault_testkit::events::{self, EventStream, session_cookie};
use blindvault_testkit::{Agent, Backend, Device, TestServer};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::Row as _;

both!(
    any_of_release_delivers_once,
    an_org_that_refuses_synced_passkeys_refuses_their_enrolment,
    two_of_three_needs_two_people,
    denial_and_expiry_release_nothing,
    revoked_host_is_refused,
    an_open_event_stream_ends_with_its_session,
    a_resumed_event_stream_starts_with_a_resync,
    malicious_server_edits_are_caught_on_the_device,
    database_holds_nothing_that_opens_anything,
    approval_through_one_instance_releases_a_consumer_waiting_on_another,
    bad_input_is_a_4xx_with_a_code,
    issuer_alone_is_refused_and_another_approver_releases,
    issuer_alone_releases_when_the_certificate_allows_self_approval,
    a_v2_certificate_s_issuer_alone_releases_nothing_whatever_the_entry_says,
    the_org_key_holder_cannot_register_from_a_second_account,
    a_format_1_host_keeps_todays_rule,
    migrations_apply_every_version_not_yet_recorded,
    issuer_counts_as_one_of_m_people,
    two_devices_of_one_person_count_as_one,
    simultaneous_approvals_of_two_people_release,
    migration_3_backfills_approval_counts,
    expiry_deletes_the_responses_of_a_request_approved_in_part,
    a_host_never_certified_is_refused,
    a_consumer_cancels_its_open_request,
    revocations_put_refuses_rollback_and_non_admins,
    revocations_put_refuses_a_record_that_drops_a_revocation,
    a_removed_device_is_refused_by_the_consumer_despite_a_colluding_server,
    an_old_signed_enrolment_does_not_put_back_a_removed_or_revoked_device,
);

/// How many sealed responses the database holds for request `id`.
async fn responses_stored(w: &World, id: &str) -> anyhow::Result<i64> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM broker_responses WHERE request_id = $1")
        .bind(id)
        .fetch_one(w.server.state.store.pool())
        .await?;
    Ok(row.try_get("n")?)
}

/// The `status` column of request `id`.
async fn stored_status(w: &World, id: &str) -> anyhow::Result<String> {
    let row = sqlx::query("SELECT status FROM broker_requests WHERE request_id = $1")
        .bind(id)
        .fetch_one(w.server.state.store.pool())
        .await?;
    Ok(row.try_get("status")?)
}

async fn any_of_release_delivers_once(b: Backend) -> anyhow::Result<()> {
    let mut w = World::new(b, &["alice", "bob"]).await?;
    let entry = EntryId::generate(&mut blindvault_testkit::broker::os_rng());
    w.put_secret(entry, 1, Policy::AnyOf { n: 2 }, b"hunter2").await?;
    let (host, cert) = w.host(&[entry]).await?;
    let (c, created) = Consumer::ask(&w.server, &host, &cert, entry).await?;
    ensure!(created.status == 201, "{created:?}");
    ensure!(created.json::<CreatedRequest>()?.approvers == ["alice", "bob"], "{created:?}");
    // Pending until someone approves.
    let r = c.poll(&w.server).await?;
    ensure!(matches!(r.json::<PollResult>()?, PollResult::Pending { threshold: 1, .. }), "{r:?}");
    // Bob sees it in his inbox and approves.
    let inbox = w.approvers[1].session.agent.get(paths::BROKER_INBOX).await?.ok()?;
    ensure!(inbox.body.as_array().map(Vec::len) == Some(1));
    let r = device_approves(&w.server, &mut w.approvers[1], &c.id()).await?.ok()?;
    ensure!(r.json::<ApprovalRecorded>()?.status == "approved", "{r:?}");
    ensure!(responses_stored(&w, &c.id()).await? == 1, "bob's sealed response is stored");
    // A second approval is refused (already released).
    let again = device_approves(&w.server, &mut w.approvers[0], &c.id()).await.err().context("refused")?;
    ensure!(again.to_string().contains("request_not_pending"), "{again}");
    // Delivered once, opened by the consumer.
    let r = c.poll(&w.server).await?.ok()?;
    ensure!(matches!(r.json::<PollResult>()?, PollResult::Delivered { .. }));
    ensure!(c.open(&r.json()?, &w.org.public_key())? == b"hunter2");
    // D19: delivery deleted the sealed response (in the transaction that flipped the status): it
    // is not kept where a later reader of the database could take it. Catches the DELETE in
    // `deliver` dropped or turned into a read — the 410 below comes from the status alone.
    ensure!(responses_stored(&w, &c.id()).await? == 0, "the delivered response is deleted");
    ensure!(stored_status(&w, &c.id()).await? == "delivered");
    let r = c.poll(&w.server).await?;
    ensure!(r.status == 410 && r.code() == Some(ErrorCode::Gone), "second fetch: {r:?}");
    ensure!(responses_stored(&w, &c.id()).await? == 0);
    // Without the poll token, nothing.
    let stranger = Consumer {
        eph: EphemeralSecretKey::generate(&mut blindvault_testkit::broker::os_rng()),
        req: c.req.clone(),
        token: "guess".into(),
    };
    ensure!(stranger.poll(&w.server).await?.status == 404);
    // Replaying the same signed request is refused; with a poll token of the replayer's own, it
    // is refused before that (the token's hash is signed into the request).
    let mut agent = Agent::new(&w.server.base, None);
    let replay = agent
        .post(paths::BROKER_REQUESTS, json!({ "signed_request": b64(&c.req.to_bytes()), "poll_token_hash": hex(&Sha256::digest(b"x")) }))
        .await?;
    ensure!(replay.status == 400 && replay.code() == Some(ErrorCode::InvalidPollToken), "{replay:?}");
    let replay =
        agent.post(paths::BROKER_REQUESTS, json!({ "signed_request": b64(&c.req.to_bytes()) })).await?;
    ensure!(replay.status == 409 && replay.code() == Some(ErrorCode::DuplicateRequest), "{replay:?}");
    // The audit log recorded each step and still verifies.
    let audit = w.admin.agent.get(paths::ADMIN_AUDIT).await?.ok()?;
    let text = audit.body.to_string();
    for action in [
        "broker.request.created",
        "broker.request.approval",
        "broker.request.delivered",
        "broker.entry.created",
        "broker.host.issued",
        "broker.enrolment.approved",
    ] {
        ensure!(text.contains(action), "audit lacks {action}");
    }
    ensure!(blindvault_server::audit::verify(&w.server.state.store).await?.first_bad.is_none());
    Ok(())
}

async fn two_of_three_needs_two_people(b: Backend) -> anyhow::Result<()> {
    let mut w = World::new(b, &["a", "b", "c"]).await?;
    let entry = EntryId::generate(&mut blindvault_testkit::broker::os_rng());
    w.put_secret(entry, 1, Policy::MOfN { m: 2, n: 3 }, b"two keys").await?;
    let (host, cert) = w.host(&[entry]).await?;
    let (c, _) = Consumer::ask(&w.server, &host, &cert, entry).await?;
    let r = device_approves(&w.server, &mut w.approvers[0], &c.id()).await?.ok()?;
    let got = r.json::<ApprovalRecorded>()?;
    ensure!(got.status == "pending" && got.approvals == 1, "{r:?}");
    // Every approver's view shows the decision so far, who may approve, and their own decision.
    let path = paths::with_id(paths::BROKER_REQUEST, &c.id());
    let mine = w.approvers[0].session.agent.get(&path).await?.ok()?.body;
    let theirs = w.approvers[1].session.agent.get(&path).await?.ok()?.body;
    for v in [&mine, &theirs] {
        ensure!(v["decisions"] == json!([{ "user": "a", "decision": "approve" }]), "{v}");
        ensure!(v["approvers"] == json!(["a", "b", "c"]) && v["status"] == "pending", "{v}");
    }
    ensure!(mine["my_decision"] == "approve" && theirs["my_decision"].is_null(), "{mine} {theirs}");
    // One approval releases nothing: the consumer still waits.
    let r = c.poll(&w.server).await?;
    ensure!(matches!(r.json::<PollResult>()?, PollResult::Pending { approvals: 1, .. }), "{r:?}");
    let r = device_approves(&w.server, &mut w.approvers[2], &c.id()).await?.ok()?;
    ensure!(r.json::<ApprovalRecorded>()?.status == "approved", "{r:?}");
    ensure!(responses_stored(&w, &c.id()).await? == 2, "both sealed responses are stored");
    let r = c.poll(&w.server).await?.ok()?;
    ensure!(
        matches!(r.json::<PollResult>()?, PollResult::Delivered { responses, .. } if responses.len() == 2)
    );
    ensure!(c.open(&r.json()?, &w.org.public_key())? == b"two keys");
    // D19: every response of the request is deleted on delivery, not only one; fetched once.
    ensure!(responses_stored(&w, &c.id()).await? == 0, "the delivered responses are deleted");
    let r = c.poll(&w.server).await?;
    ensure!(r.status == 410 && r.code() == Some(ErrorCode::Gone), "second fetch: {r:?}");
    Ok(())
}

/// Two people approve a 2-of-3 request at the same moment: each approval must see the other,
/// so the second to commit releases it (on PostgreSQL two transactions that each counted only
/// themselves would leave it pending for good). Rounds repeat to give the race its chances.
async fn simultaneous_approvals_of_two_people_release(b: Backend) -> anyhow::Result<()> {
    let mut w = World::new(b, &["a", "b", "c"]).await?;
    let entry = EntryId::generate(&mut blindvault_testkit::broker::os_rng());
    w.put_secret(entry, 1, Policy::MOfN { m: 2, n: 3 }, b"two keys").await?;
    let (host, cert) = w.host(&[entry]).await?;
    for round in 0..8 {
        let (c, _) = Consumer::ask(&w.server, &host, &cert, entry).await?;
        let fa = device_prepares_approval(&w.server, &mut w.approvers[0], &c.id()).await?;
        let fb = device_prepares_approval(&w.server, &mut w.approvers[1], &c.id()).await?;
        let id = c.id();
        let (first, rest) = w.approvers.split_at_mut(1);
        let (ra, rb) = tokio::join!(
            device_finishes_approval(&mut first[0], &id, fa),
            device_finishes_approval(&mut rest[0], &id, fb)
        );
        let (ra, rb) = (ra?.ok()?, rb?.ok()?);
        let mut statuses = [ra.json::<ApprovalRecorded>()?.status, rb.json::<ApprovalRecorded>()?.status];
        statuses.sort();
        ensure!(statuses == ["approved", "pending"], "round {round}: {ra:?} {rb:?}");
        let r = c.poll(&w.server).await?.ok()?;
        ensure!(matches!(r.json::<PollResult>()?, PollResult::Delivered { .. }), "round {round}: {r:?}");
        ensure!(c.open(&r.json()?, &w.org.public_key())? == b"two keys");
    }
    ensure!(blindvault_server::audit::verify(&w.server.state.store).await?.first_bad.is_none());
    Ok(())
}

async fn denial_and_expiry_release_nothing(b: Backend) -> anyhow::Result<()> {
    let mut w = World::new(b, &["alice"]).await?;
    let entry = EntryId::generate(&mut blindvault_testkit::broker::os_rng());
    w.put_secret(entry, 1, Policy::AnyOf { n: 1 }, b"s").await?;
    let (host, cert) = w.host(&[entry]).await?;
    // Denied.
    let (c, _) = Consumer::ask(&w.server, &host, &cert, entry).await?;
    let id = c.id();
    w.approvers[0]
        .session
        .agent
        .post(&paths::with_id(paths::BROKER_REQUEST_DENY, &id), json!({}))
        .await?
        .ok()?;
    let r = c.poll(&w.server).await?.ok()?;
    ensure!(matches!(r.json::<PollResult>()?, PollResult::Denied { by: Some(by) } if by == "alice"), "{r:?}");
    let late =
        device_approves(&w.server, &mut w.approvers[0], &id).await.err().context("a late approval fails")?;
    ensure!(late.to_string().contains("request_not_pending"), "{late}");
    // An approval begun in time and finished after the deadline (before any sweep) is refused
    // and records nothing.
    // (The request row's deadline is brought forward so that it passes while the ceremony is
    // still fresh.)
    let (c, _) = Consumer::ask(&w.server, &host, &cert, entry).await?;
    let finish = device_prepares_approval(&w.server, &mut w.approvers[0], &c.id()).await?;
    sqlx::query("UPDATE broker_requests SET expires_at = $1 WHERE request_id = $2")
        .bind(w.server.state.clock.now() + 10)
        .bind(c.id())
        .execute(w.server.state.store.pool())
        .await?;
    w.server.clock.advance(11);
    let r = device_finishes_approval(&mut w.approvers[0], &c.id(), finish).await?;
    ensure!(r.status == 409 && r.code() == Some(ErrorCode::RequestExpired), "{r:?}");
    let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM broker_approvals WHERE request_id = $1")
        .bind(c.id())
        .fetch_one(w.server.state.store.pool())
        .await?
        .try_get("n")?;
    ensure!(n == 0, "{n} approvals recorded after the deadline");
    // Expired: time passes, the sweeper runs.
    let (c, _) = Consumer::ask(&w.server, &host, &cert, entry).await?;
    w.server.clock.advance(301);
    // The consumer learns it at once, before any sweep.
    let r = c.poll(&w.server).await?.ok()?;
    ensure!(matches!(r.json::<PollResult>()?, PollResult::Expired), "{r:?}");
    blindvault_server::broker::sweeper::sweep(&w.server.state)
        .await
        .map_err(|e| anyhow::anyhow!("sweep: {}", e.code))?;
    let r = c.poll(&w.server).await?.ok()?;
    ensure!(matches!(r.json::<PollResult>()?, PollResult::Expired), "{r:?}");
    ensure!(w.approvers[0].session.agent.get(paths::BROKER_INBOX).await?.ok()?.body == json!([]));
    Ok(())
}

/// An approver's open event stream does not outlive the session it was opened with: after
/// sign-out it ends (an `ended` event) instead of announcing the next request.
async fn an_open_event_stream_ends_with_its_session(b: Backend) -> anyhow::Result<()> {
    let mut w = World::new(b, &["alice"]).await?;
    let entry = EntryId::generate(&mut blindvault_testkit::broker::os_rng());
    w.put_secret(entry, 1, Policy::AnyOf { n: 1 }, b"s").await?;
    let (host, cert) = w.host(&[entry]).await?;
    let mut stream = EventStream::of(&w.server, &w.approvers[0].session.agent).await?;
    stream.read_until("event: ready").await?;
    // While signed in, a new request is announced.
    let (first, _) = Consumer::ask(&w.server, &host, &cert, entry).await?;
    let got = stream.read_until(&first.id()).await?;
    ensure!(got.contains("event: request"), "{got}");
    // Signed out: the next note ends the stream, and the request is not announced on it.
    w.approvers[0].session.agent.post(paths::LOGOUT, json!({})).await?.ok()?;
    let (second, _) = Consumer::ask(&w.server, &host, &cert, entry).await?;
    let got = stream.read_until("event: ended").await?;
    ensure!(!got.contains(&second.id()), "a request was announced after sign-out: {got}");
    ensure!(stream.is_closed().await, "the stream is closed");
    Ok(())
}

async fn revoked_host_is_refused(b: Backend) -> anyhow::Result<()> {
    let mut w = World::new(b, &["alice"]).await?;
    let entry = EntryId::generate(&mut blindvault_testkit::broker::os_rng());
    w.put_secret(entry, 1, Policy::AnyOf { n: 1 }, b"s").await?;
    let (host, cert) = w.host(&[entry]).await?;
    let (pending, _) = Consumer::ask(&w.server, &host, &cert, entry).await?;
    let cert_id = cert.cert.cert_id.to_text();
    w.admin_stepped(
        "POST",
        &paths::with_id(paths::BROKER_HOST_REVOKE, &cert_id),
        Some(json!({})),
        "host.revoke",
        &cert_id,
    )
    .await?
    .ok()?;
    let (_, r) = Consumer::ask(&w.server, &host, &cert, entry).await?;
    ensure!(r.status == 403 && r.code() == Some(ErrorCode::HostRevoked), "{r:?}");
    // Its open request ended too.
    let r = pending.poll(&w.server).await?.ok()?;
    ensure!(matches!(r.json::<PollResult>()?, PollResult::Denied { .. }), "{r:?}");
    // A request that slipped in while the revocation ran (created after the check of the host,
    // committed after the revocation ended its open requests; made here by SQL): it cannot be
    // approved, and polling it ends it.
    let (late, refused) = Consumer::ask(&w.server, &host, &cert, entry).await?;
    ensure!(refused.status == 403, "{refused:?}");
    let pool = w.server.state.store.pool().clone();
    sqlx::query("INSERT INTO broker_requests (request_id, entry_id, version, threshold, approvals, non_issuer_approvals, expires_at, created_at, cert_id, signed, status, poll_hash) \
         SELECT $1, entry_id, version, threshold, 0, 0, expires_at, created_at, cert_id, $2, 'pending', $3 FROM broker_requests WHERE request_id = $4")
        .bind(late.id())
        .bind(b64(&late.req.to_bytes()))
        .bind(blindvault_testkit::broker::hex(&Sha256::digest(late.token.as_bytes())))
        .bind(pending.id())
        .execute(&pool)
        .await?;
    let r = w.approvers[0]
        .session
        .agent
        .post(&paths::with_id(paths::BROKER_REQUEST_APPROVE_START, &late.id()), json!({}))
        .await?;
    ensure!(r.status == 409 && r.code() == Some(ErrorCode::HostRevoked), "{r:?}");
    let r = late.poll(&w.server).await?.ok()?;
    ensure!(matches!(r.json::<PollResult>()?, PollResult::Denied { .. }), "{r:?}");
    let st: String = sqlx::query("SELECT status FROM broker_requests WHERE request_id = $1")
        .bind(late.id())
        .fetch_one(&pool)
        .await?
        .try_get("status")?;
    ensure!(st == "denied", "{st}");
    // A host the org never certified.
    let rogue = OrgSecretKey::generate(&mut blindvault_testkit::broker::os_rng());
    let mut c2 = cert.cert.clone();
    c2.cert_id = CertId::generate(&mut blindvault_testkit::broker::os_rng());
    let forged = c2.sign(&rogue)?;
    let resp =
        w.admin.agent.post(paths::BROKER_HOSTS, json!({ "certificate": b64(&forged.to_bytes()) })).await?;
    ensure!(resp.status == 400 && resp.code() == Some(ErrorCode::BadCertificate), "{resp:?}");
    Ok(())
}

/// The server edits its own rows (as a malicious operator could); the device refuses.
async fn malicious_server_edits_are_caught_on_the_device(b: Backend) -> anyhow::Result<()> {
    let mut w = World::new(b, &["alice"]).await?;
    let entry = EntryId::generate(&mut blindvault_testkit::broker::os_rng());
    w.put_secret(entry, 1, Policy::AnyOf { n: 1 }, b"s").await?;
    let (host, cert) = w.host(&[entry]).await?;
    let pool = w.server.state.store.pool().clone();

    // 1. The ephemeral key is swapped for the server's own (request re-encoded, signature kept).
    let (c, _) = Consumer::ask(&w.server, &host, &cert, entry).await?;
    let mut forged = c.req.clone();
    forged.request.ephemeral_key =
        EphemeralSecretKey::generate(&mut blindvault_testkit::broker::os_rng()).public_key();
    sqlx::query("UPDATE broker_requests SET signed = $1 WHERE request_id = $2")
        .bind(b64(&forged.to_bytes()))
        .bind(c.id())
        .execute(&pool)
        .await?;
    let err = device_approves(&w.server, &mut w.approvers[0], &c.id()).await.err().context("must fail")?;
    ensure!(err.to_string().contains("request: signature does not verify"), "{err}");

    // 2. The host certificate is replaced by one the server made for its own key.
    let (c, _) = Consumer::ask(&w.server, &host, &cert, entry).await?;
    let rogue_org = OrgSecretKey::generate(&mut blindvault_testkit::broker::os_rng());
    let server_host = HostSecretKey::generate(&mut blindvault_testkit::broker::os_rng());
    let mut rc = cert.cert.clone();
    rc.host_key = server_host.public_key();
    let rogue_cert = rc.sign(&rogue_org)?;
    sqlx::query("UPDATE broker_hosts SET certificate = $1 WHERE cert_id = $2")
        .bind(b64(&rogue_cert.to_bytes()))
        .bind(cert.cert.cert_id.to_text())
        .execute(&pool)
        .await?;
    let err = device_approves(&w.server, &mut w.approvers[0], &c.id()).await.err().context("must fail")?;
    ensure!(err.to_string().contains("host certificate: signature does not verify"), "{err}");
    sqlx::query("UPDATE broker_hosts SET certificate = $1 WHERE cert_id = $2")
        .bind(b64(&cert.to_bytes()))
        .bind(cert.cert.cert_id.to_text())
        .execute(&pool)
        .await?;

    // 3. The org key on the server is replaced: the device keeps its pinned key, so a chain the
    //    server roots in its own org key does not verify.
    let rogue_org_pub = rogue_org.public_key();
    sqlx::query("UPDATE broker_org SET public_key = $1")
        .bind(b64(&rogue_org_pub.to_bytes()))
        .execute(&pool)
        .await?;
    let view = w.approvers[0].session.agent.get(paths::BROKER_ORG).await?.ok()?;
    ensure!(
        view.json::<OrgView>()?.fingerprint != Some(w.approvers[0].pinned_org.fingerprint().to_string()),
        "the device notices the change"
    );
    ensure!(verify_request(&w.approvers[0].pinned_org, &rogue_cert, &c.req, now(&w.server)).is_err());

    // 4. An approver key substituted in an enrolment: the writer's verification refuses it.
    let list = w.admin.agent.get(paths::BROKER_APPROVERS).await?.ok()?;
    let mut signed =
        list.json::<Vec<ApproverView>>()?.first().context("an approver")?.signed_enrolment.clone();
    signed.enrolment.approver_key = blindvault_core::keys::ApproverPublicKey::from_array([9; 32]);
    ensure!(signed.verify(&w.org.public_key(), now(&w.server)).is_err());
    Ok(())
}

/// After a run with many secrets, no byte of the database files (and WAL), nor of the server's
/// log output, is a secret value, a DEK, a PRF output or a private key.
async fn database_holds_nothing_that_opens_anything(b: Backend) -> anyhow::Result<()> {
    // Every log line of this test binary, at debug level, is searched too.
    let log = crate::logs::captured();
    let mut w = World::new(b, &["alice", "bob"]).await?;
    let mut needles: Vec<(String, Vec<u8>)> = Vec::new();
    let (host, cert_entries) = {
        let mut ids = Vec::new();
        for i in 0..12u8 {
            let id = EntryId::generate(&mut blindvault_testkit::broker::os_rng());
            let value = format!(
                "secret-value-{i}-{}",
                b64(&RequestId::generate(&mut blindvault_testkit::broker::os_rng()).to_array())
            );
            let policy = if i % 2 == 0 { Policy::AnyOf { n: 2 } } else { Policy::MOfN { m: 2, n: 2 } };
            let e = w.put_secret(id, 1, policy, value.as_bytes()).await?;
            let opened = e.open_envelope(w.approvers[0].keys.approver_secret())?;
            if let KeyMaterial::Dek(d) = &opened.key {
                needles.push((format!("DEK {i}"), d.expose().to_vec()));
            }
            needles.push((format!("label key {i}"), opened.label_key.expose().to_vec()));
            needles.push((format!("value {i}"), value.into_bytes()));
            ids.push(id);
        }
        let (h, c) = w.host(&ids).await?;
        (h, (c, ids))
    };
    let (cert, ids) = cert_entries;
    // Release a few, so responses pass through the database.
    for id in ids.iter().step_by(2).take(3) {
        let (c, _) = Consumer::ask(&w.server, &host, &cert, *id).await?;
        device_approves(&w.server, &mut w.approvers[0], &c.id()).await?.ok()?;
        let r = c.poll(&w.server).await?.ok()?;
        c.open(&r.json()?, &w.org.public_key())?;
        needles.push(("ephemeral secret".into(), c.eph.expose().to_vec()));
    }
    for a in &w.approvers {
        needles.push((format!("{} PRF output", a.name), a.session.prf.expose().to_vec()));
        needles.push((format!("{} approver secret", a.name), a.keys.approver_secret().expose().to_vec()));
        needles.push((format!("{} wallet entropy", a.name), a.keys.wallet_entropy().expose().to_vec()));
    }
    needles.push(("org seed".into(), w.org.expose().to_vec()));
    needles.push(("host secret".into(), host.expose().to_vec()));

    let haystack: Vec<u8> = match b {
        Backend::Sqlite => {
            let mut all = Vec::new();
            for entry in std::fs::read_dir(w.server.db.dir.path())? {
                let p = entry?.path();
                if p.is_file() {
                    all.extend(std::fs::read(&p)?);
                }
            }
            ensure!(!all.is_empty(), "found the database files");
            all
        }
        Backend::Postgres => {
            // Every table's every row, as text.
            let mut all = String::new();
            let tables = sqlx::query("SELECT CAST(tablename AS TEXT) AS tablename FROM pg_tables WHERE schemaname = current_schema()").fetch_all(w.server.state.store.pool()).await?;
            for t in tables {
                use sqlx::Row;
                let name: String = t.try_get("tablename")?;
                let q = format!("SELECT CAST(row_to_json(x) AS TEXT) AS j FROM \"{name}\" x");
                for r in sqlx::query(sqlx::AssertSqlSafe(q)).fetch_all(w.server.state.store.pool()).await? {
                    all.push_str(&r.try_get::<String, _>("j")?);
                }
            }
            ensure!(all.contains("broker_") || all.len() > 10_000, "read the tables");
            all.into_bytes()
        }
    };
    let logged = log.contents();
    ensure!(!logged.is_empty(), "the server's log was captured");
    for (what, needle) in &needles {
        for form in [needle.clone(), b64(needle).into_bytes(), hex(needle).into_bytes()] {
            ensure!(
                !haystack.windows(form.len()).any(|win| win == form.as_slice()),
                "{what} found in the database"
            );
            ensure!(!logged.windows(form.len()).any(|win| win == form.as_slice()), "{what} found in the log");
        }
    }
    Ok(())
}

/// Two instances on one database: the consumer waits on B, the approval goes through A. On
/// PostgreSQL, LISTEN/NOTIFY wakes B's waiting consumer at once (well before its 2-second
/// re-read); on SQLite (one file, two instances in one process) the re-read finds it.
async fn approval_through_one_instance_releases_a_consumer_waiting_on_another(
    b: Backend,
) -> anyhow::Result<()> {
    let mut w = World::new(b, &["alice"]).await?;
    let entry = EntryId::generate(&mut blindvault_testkit::broker::os_rng());
    w.put_secret(entry, 1, Policy::AnyOf { n: 1 }, b"across instances").await?;
    let (host, cert) = w.host(&[entry]).await?;
    let other = TestServer::start_sharing(&w.server).await?;
    // Let B's LISTEN connection come up.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let (c, created) = Consumer::ask(&other, &host, &cert, entry).await?;
    ensure!(created.status == 201, "{created:?}");
    let c = std::sync::Arc::new(c);
    let waiter = c.wait_in_background(&other.base, 20);
    // Give the consumer time to start waiting, then approve through A.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let approved_at = std::time::Instant::now();
    device_approves(&w.server, &mut w.approvers[0], &c.id()).await?.ok()?;
    let result = waiter.await??;
    let latency = approved_at.elapsed();
    ensure!(matches!(result, PollResult::Delivered { .. }), "{result:?}");
    ensure!(c.open(&result, &w.org.public_key())? == b"across instances");
    eprintln!("cross-instance release latency ({b:?}): {latency:?}");
    if b == Backend::Postgres {
        ensure!(
            latency < std::time::Duration::from_millis(1000),
            "NOTIFY should wake B at once, took {latency:?}"
        );
    }
    Ok(())
}

/// Garbage at every broker endpoint is a 4xx with a stable code — never a 500.
async fn bad_input_is_a_4xx_with_a_code(b: Backend) -> anyhow::Result<()> {
    let mut w = World::new(b, &["alice"]).await?;
    let big = "A".repeat(5 * 1024 * 1024);
    // An id nothing has.
    let nope = |template: &str| paths::with_id(template, "nope");
    let admin_cases: Vec<(&str, String, Value)> = vec![
        ("PUT", paths::BROKER_ORG.into(), json!({ "org_public_key": "not base64!" })),
        ("PUT", paths::BROKER_ORG.into(), json!({ "org_public_key": b64(&[1u8; 10]) })),
        ("POST", paths::BROKER_ENTRIES.into(), json!({ "sealed_entry": "AAAA" })),
        ("POST", paths::BROKER_ENTRIES.into(), json!({ "wrong": 1 })),
        ("POST", paths::BROKER_HOSTS.into(), json!({ "certificate": b64(&[1u8; 200]) })),
        ("POST", nope(paths::BROKER_ENROLMENT_APPROVE), json!({ "signed_enrolment": b64(&[1u8; 100]) })),
        ("POST", nope(paths::BROKER_HOST_REVOKE), json!({})),
        ("DELETE", nope(paths::BROKER_ENTRY), Value::Null),
        ("DELETE", nope(paths::BROKER_ENROLMENT), Value::Null),
    ];
    for (m, p, body) in admin_cases {
        let body = (!body.is_null()).then_some(body);
        let r = w.admin.agent.send(m, &p, body).await?;
        ensure!((400..500).contains(&r.status) && r.code().is_some(), "{m} {p}: {r:?}");
    }
    // An entry sealed to a real approver but not signed by the org key (a writer without it, or
    // an entry the server made itself): refused with its own code.
    let list = w.admin.agent.get(paths::BROKER_APPROVERS).await?.ok()?;
    let alice =
        list.json::<Vec<ApproverView>>()?.first().context("alice")?.signed_enrolment.enrolment.clone();
    let rogue = blindvault_core::keys::OrgSecretKey::generate(&mut blindvault_testkit::broker::os_rng());
    let rogue_view = alice.sign(&rogue)?.verify(&rogue.public_key(), now(&w.server))?;
    let unsigned = blindvault_core::entry::seal_entry(
        &rogue,
        EntryId::generate(&mut blindvault_testkit::broker::os_rng()),
        1,
        Policy::AnyOf { n: 1 },
        &[rogue_view],
        b"l",
        b"v",
        &mut blindvault_testkit::broker::os_rng(),
    )?;
    let r = w
        .admin
        .agent
        .post(paths::BROKER_ENTRIES, json!({ "sealed_entry": b64(&unsigned.to_bytes()) }))
        .await?;
    ensure!(r.status == 400 && r.code() == Some(ErrorCode::EntryNotSigned), "{r:?}");
    // Over the body limit: 413, or the server closes the connection before reading it all
    // (which it may do once it has answered) — never a 5xx.
    match w.admin.agent.post(paths::BROKER_ENTRIES, json!({ "sealed_entry": big })).await {
        Ok(r) => ensure!(r.status == 413, "oversized entry: {r:?}"),
        Err(e) => ensure!(format!("{e:#}").contains("connection closed"), "oversized entry: {e:#}"),
    }
    let a = &mut w.approvers[0].session.agent;
    for (m, p, body) in [
        (
            "POST",
            paths::BROKER_ENROLMENTS.to_owned(),
            json!({ "credential_id": "AAAA", "approver_public_key": b64(&[2u8; 32]) }),
        ),
        (
            "POST",
            paths::BROKER_ENROLMENTS.to_owned(),
            json!({ "credential_id": "***", "approver_public_key": "x" }),
        ),
        ("GET", nope(paths::BROKER_REQUEST), Value::Null),
        ("POST", nope(paths::BROKER_REQUEST_APPROVE_START), json!({})),
        (
            "POST",
            nope(paths::BROKER_REQUEST_APPROVE_FINISH),
            json!({ "ceremony_id": "x", "credential": {}, "sealed_response": "AAAA" }),
        ),
        ("POST", nope(paths::BROKER_REQUEST_DENY), json!({})),
    ] {
        let body = (!body.is_null()).then_some(body);
        let r = a.send(m, &p, body).await?;
        ensure!((400..500).contains(&r.status) && r.code().is_some(), "{m} {p}: {r:?}");
    }
    let mut consumer = Agent::new(&w.server.base, None);
    for body in [
        json!({}),
        json!({ "signed_request": "AAAA", "poll_token_hash": "00" }),
        json!({ "signed_request": b64(&[1u8; 300]), "poll_token_hash": hex(&[0u8; 32]) }),
    ] {
        let r = consumer.post(paths::BROKER_REQUESTS, body).await?;
        ensure!((400..500).contains(&r.status) && r.code().is_some(), "{r:?}");
    }
    let r = consumer.get(&format!("{}?wait=abc", nope(paths::BROKER_REQUEST_RESULT))).await?;
    ensure!(r.status == 400 && r.code() == Some(ErrorCode::InvalidQuery), "{r:?}");
    let r = consumer.get(&nope(paths::BROKER_REQUEST_RESULT)).await?;
    ensure!(r.status == 404 && r.code() == Some(ErrorCode::NoSuchRequest), "{r:?}");
    Ok(())
}

/// Separation of duties: the admin who issued the host is an enrolled approver of the entry, but
/// in an any-of policy their approval would be the only one, so it is refused — before the
/// ceremony and again at `approve/finish` — and releases nothing. Another approver's releases.
async fn issuer_alone_is_refused_and_another_approver_releases(b: Backend) -> anyhow::Result<()> {
    let mut w = World::new(b, &["alice"]).await?;
    let admin = w.enrol_admin().await?;
    let entry = EntryId::generate(&mut blindvault_testkit::broker::os_rng());
    w.put_secret(entry, 1, Policy::AnyOf { n: 2 }, b"separated").await?;
    // The admin issues (registers) the host.
    let (host, cert) = w.host(&[entry]).await?;
    let (c, created) = Consumer::ask(&w.server, &host, &cert, entry).await?;
    ensure!(created.json::<CreatedRequest>()?.approvers == ["admin", "alice"], "{created:?}");
    let id = c.id();
    // The admin sees the request (they hold an envelope) but cannot approve it alone.
    let view =
        w.approvers[admin].session.agent.get(&paths::with_id(paths::BROKER_REQUEST, &id)).await?.ok()?;
    ensure!(view.json::<RequestView>()?.status == "pending", "{view:?}");
    let start = w.approvers[admin]
        .session
        .agent
        .post(&paths::with_id(paths::BROKER_REQUEST_APPROVE_START, &id), json!({}))
        .await?;
    ensure!(start.status == 403 && start.code() == Some(ErrorCode::SelfApprovalRefused), "{start:?}");
    let err = device_approves(&w.server, &mut w.approvers[admin], &id).await.err().context("refused")?;
    ensure!(err.to_string().contains("self_approval_refused"), "{err}");
    // Where the approval would be recorded the rule holds on its own: a ceremony started while
    // the host's record allowed self-approval is refused at finish once it no longer does.
    let pool = w.server.state.store.pool().clone();
    let cert_id = cert.cert.cert_id.to_text();
    let set_allow = |v: i64| {
        sqlx::query("UPDATE broker_hosts SET self_approval = $1 WHERE cert_id = $2")
            .bind(v)
            .bind(&cert_id)
            .execute(&pool)
    };
    set_allow(1).await?;
    let finish = device_prepares_approval(&w.server, &mut w.approvers[admin], &id).await?;
    set_allow(0).await?;
    let r = device_finishes_approval(&mut w.approvers[admin], &id, finish).await?;
    ensure!(r.status == 403 && r.code() == Some(ErrorCode::SelfApprovalRefused), "{r:?}");
    // Nothing was recorded or released: the consumer still waits.
    let r = c.poll(&w.server).await?.ok()?;
    ensure!(matches!(r.json::<PollResult>()?, PollResult::Pending { approvals: 0, .. }), "{r:?}");
    let audit = w.admin.agent.get(paths::ADMIN_AUDIT).await?.ok()?;
    ensure!(!audit.body.to_string().contains("broker.request.approval"), "no approval was recorded");
    // Another approver's approval releases.
    let alice = w.approvers.iter().position(|a| a.name == "alice").context("alice")?;
    let r = device_approves(&w.server, &mut w.approvers[alice], &id).await?.ok()?;
    let got = r.json::<ApprovalRecorded>()?;
    ensure!(got.status == "approved" && got.approvals == 1, "{r:?}");
    let r = c.poll(&w.server).await?.ok()?;
    ensure!(
        matches!(r.json::<PollResult>()?, PollResult::Delivered { responses, .. } if responses.len() == 1)
    );
    ensure!(c.open(&r.json()?, &w.org.public_key())? == b"separated");
    Ok(())
}

/// With self-approval in the (org-signed) certificate, the issuing admin's approval alone
/// releases, and the consumer's own check agrees.
async fn issuer_alone_releases_when_the_certificate_allows_self_approval(b: Backend) -> anyhow::Result<()> {
    let mut w = World::new(b, &[]).await?;
    let admin = w.enrol_admin().await?;
    let entry = EntryId::generate(&mut blindvault_testkit::broker::os_rng());
    w.put_secret(entry, 1, Policy::AnyOf { n: 1 }, b"solo admin").await?;
    let (host, cert) = w.host_with(&[entry], true).await?;
    ensure!(cert.cert.issuer.as_deref() == Some(w.admin.user_id.as_str()) && cert.cert.self_approval);
    let hosts = w.admin.agent.get(paths::BROKER_HOSTS).await?.ok()?;
    ensure!(hosts.json::<Vec<HostView>>()?.first().context("the host")?.self_approval, "{hosts:?}");
    let (c, _) = Consumer::ask(&w.server, &host, &cert, entry).await?;
    let r = device_approves(&w.server, &mut w.approvers[admin], &c.id()).await?.ok()?;
    ensure!(r.json::<ApprovalRecorded>()?.status == "approved", "{r:?}");
    let r = c.poll(&w.server).await?.ok()?;
    ensure!(matches!(r.json::<PollResult>()?, PollResult::Delivered { .. }), "{r:?}");
    ensure!(c.open_checked(&r.json()?, &w.org.public_key(), &cert.cert)? == b"solo admin");
    Ok(())
}

/// A format-2 certificate carries the rule: an entry written with `allow_self_approval` (the
/// flag `secret put` used to send) no longer lets the certificate's issuer approve alone — not
/// at `approve/start`, not at `approve/finish` — and nothing is released.
async fn a_v2_certificate_s_issuer_alone_releases_nothing_whatever_the_entry_says(
    b: Backend,
) -> anyhow::Result<()> {
    let mut w = World::new(b, &[]).await?;
    let admin = w.enrol_admin().await?;
    let entry = EntryId::generate(&mut blindvault_testkit::broker::os_rng());
    w.put_secret_with(entry, 1, Policy::AnyOf { n: 1 }, b"entry says yes", true).await?;
    let (host, cert) = w.host(&[entry]).await?;
    ensure!(cert.cert.format() == 2 && !cert.cert.self_approval);
    let (c, _) = Consumer::ask(&w.server, &host, &cert, entry).await?;
    let id = c.id();
    let start = w.approvers[admin]
        .session
        .agent
        .post(&paths::with_id(paths::BROKER_REQUEST_APPROVE_START, &id), json!({}))
        .await?;
    ensure!(start.status == 403 && start.code() == Some(ErrorCode::SelfApprovalRefused), "{start:?}");
    let err = device_approves(&w.server, &mut w.approvers[admin], &id).await.err().context("refused")?;
    ensure!(err.to_string().contains("self_approval_refused"), "{err}");
    let r = c.poll(&w.server).await?.ok()?;
    ensure!(matches!(r.json::<PollResult>()?, PollResult::Pending { approvals: 0, .. }), "{r:?}");
    Ok(())
}

/// The hole of separation by session: the org key's holder signs a certificate and registers it
/// from a second admin account, then approves alone as themselves. Registration now refuses it
/// in every form — a certificate naming the second account (`not_org_key_holder`), one naming
/// the holder but registered by another account (`certificate_issuer_mismatch`), one naming no
/// issuer at all (format 1, `certificate_names_no_issuer`, even from the holder) — and writes
/// nothing; the holder's own registration of a certificate naming them works.
async fn the_org_key_holder_cannot_register_from_a_second_account(b: Backend) -> anyhow::Result<()> {
    let mut w = World::new(b, &[]).await?;
    let entry = EntryId::generate(&mut blindvault_testkit::broker::os_rng());
    // The holder's second account, made an admin.
    let mut second = Device::new().register(&w.server, "admin-two").await?;
    sqlx::query("UPDATE users SET role = 'admin' WHERE id = $1")
        .bind(&second.user_id)
        .execute(w.server.state.store.pool())
        .await?;
    let t = now(&w.server);
    let cert = |issuer: Option<&str>| {
        HostCertificate {
            cert_id: CertId::generate(&mut blindvault_testkit::broker::os_rng()),
            host_name: "ci-runner-7".into(),
            host_key: HostSecretKey::generate(&mut blindvault_testkit::broker::os_rng()).public_key(),
            allowed_entries: vec![entry],
            not_before: t - 60,
            not_after: t + 86_400,
            issuer: issuer.map(Into::into),
            self_approval: false,
        }
        .sign(&w.org)
    };
    let holder = w.admin.user_id.clone();
    let cases = [
        (Some(second.user_id.clone()), false, 403, "not_org_key_holder"),
        (Some(holder.clone()), false, 403, "certificate_issuer_mismatch"),
        (None, false, 400, "certificate_names_no_issuer"),
        (None, true, 400, "certificate_names_no_issuer"),
    ];
    for (issuer, by_holder, status, code) in cases {
        let c = cert(issuer.as_deref())?;
        let agent = if by_holder { &mut w.admin.agent } else { &mut second.agent };
        let r = agent.post(paths::BROKER_HOSTS, json!({ "certificate": b64(&c.to_bytes()) })).await?;
        ensure!(
            r.status == status && r.code().map(ErrorCode::as_str) == Some(code),
            "{issuer:?} by holder {by_holder}: {r:?}"
        );
    }
    let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM broker_hosts")
        .fetch_one(w.server.state.store.pool())
        .await?
        .try_get("n")?;
    ensure!(n == 0, "nothing was registered ({n})");
    let audit = w.admin.agent.get(paths::ADMIN_AUDIT).await?.ok()?;
    ensure!(!audit.body.to_string().contains("broker.host.issued"), "no registration was recorded");
    let mine = cert(Some(&holder))?;
    let ok = w.admin.agent.post(paths::BROKER_HOSTS, json!({ "certificate": b64(&mine.to_bytes()) })).await?;
    ensure!(ok.status == 201 && ok.json::<HostView>()?.issued_by == holder, "{ok:?}");
    Ok(())
}

/// A host registered from a format-1 certificate before this version (no issuer in it, no
/// self-approval in its row) keeps the rule it had: its registering admin is the issuer and the
/// entry's flag decides.
async fn a_format_1_host_keeps_todays_rule(b: Backend) -> anyhow::Result<()> {
    let mut w = World::new(b, &[]).await?;
    let admin = w.enrol_admin().await?;
    let entry = EntryId::generate(&mut blindvault_testkit::broker::os_rng());
    w.put_secret_with(entry, 1, Policy::AnyOf { n: 1 }, b"old host", true).await?;
    let host = HostSecretKey::generate(&mut blindvault_testkit::broker::os_rng());
    let t = now(&w.server);
    let cert = HostCertificate {
        cert_id: CertId::generate(&mut blindvault_testkit::broker::os_rng()),
        host_name: "ci-runner-7".into(),
        host_key: host.public_key(),
        allowed_entries: vec![entry],
        not_before: t - 60,
        not_after: t + 86_400,
        issuer: None,
        self_approval: false,
    }
    .sign(&w.org)?;
    ensure!(cert.cert.format() == 1);
    // As the previous version stored it.
    sqlx::query("INSERT INTO broker_hosts (cert_id, host_name, host_key, certificate, not_after, issued_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(cert.cert.cert_id.to_text()).bind("ci-runner-7").bind(b64(&host.public_key().to_array()))
        .bind(b64(&cert.to_bytes())).bind(i64::try_from(t + 86_400)?).bind(&w.admin.user_id).bind(i64::try_from(t)?)
        .execute(w.server.state.store.pool()).await?;
    let (c, _) = Consumer::ask(&w.server, &host, &cert, entry).await?;
    let r = device_approves(&w.server, &mut w.approvers[admin], &c.id()).await?.ok()?;
    ensure!(r.json::<ApprovalRecorded>()?.status == "approved", "{r:?}");
    let r = c.poll(&w.server).await?.ok()?;
    ensure!(c.open_checked(&r.json()?, &w.org.public_key(), &cert.cert)? == b"old host");
    // Without the entry's flag the registering admin alone is refused, as before.
    let other = EntryId::generate(&mut blindvault_testkit::broker::os_rng());
    w.put_secret(other, 1, Policy::AnyOf { n: 1 }, b"old host 2").await?;
    sqlx::query("UPDATE broker_entries SET allow_self_approval = 0")
        .execute(w.server.state.store.pool())
        .await?;
    let (c, _) = Consumer::ask(&w.server, &host, &cert, entry).await?;
    let r = device_approves(&w.server, &mut w.approvers[admin], &c.id()).await;
    ensure!(r.err().map(|e| e.to_string().contains("self_approval_refused")) == Some(true));
    Ok(())
}

/// The migration runner applies every version `_sqlx_migrations` does not record, in order —
/// not only those above the highest recorded — so a database that got a later migration first
/// (merge order) still gets migration 7; a second run applies nothing.
async fn migrations_apply_every_version_not_yet_recorded(b: Backend) -> anyhow::Result<()> {
    let w = World::new(b, &[]).await?;
    let pool = w.server.state.store.pool();
    let has_column =
        || async { sqlx::query("SELECT self_approval FROM broker_hosts").fetch_all(pool).await.is_ok() };
    ensure!(has_column().await, "migration 7 ran");
    // As a database would be that recorded a later version before 7 existed.
    sqlx::query("ALTER TABLE broker_hosts DROP COLUMN self_approval").execute(pool).await?;
    sqlx::query("DELETE FROM _sqlx_migrations WHERE version = 7").execute(pool).await?;
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (1000, 'later', $1, $2, 0)",
    )
    .bind(true)
    .bind(vec![0u8; 48])
    .execute(pool)
    .await?;
    ensure!(!has_column().await);
    w.server.state.store.migrate().await?;
    ensure!(has_column().await, "migration 7 applied below a higher recorded version");
    let versions: Vec<i64> = sqlx::query("SELECT version FROM _sqlx_migrations ORDER BY version")
        .fetch_all(pool)
        .await?
        .iter()
        .map(|r| r.try_get("version"))
        .collect::<Result<_, _>>()?;
    ensure!(versions.contains(&7) && versions.contains(&1000), "{versions:?}");
    // Nothing left to apply: a second run changes nothing (and does not fail).
    w.server.state.store.migrate().await?;
    Ok(())
}

/// A 2-of-3 secret (alice, bob and the admin who issued the host), a request for it, and the
/// admin's approval — which must leave it pending with one approval.
async fn approved_by_the_issuer_alone(b: Backend, secret: &[u8]) -> anyhow::Result<(World, Consumer)> {
    let mut w = World::new(b, &["alice", "bob"]).await?;
    let admin = w.enrol_admin().await?;
    let entry = EntryId::generate(&mut blindvault_testkit::broker::os_rng());
    w.put_secret(entry, 1, Policy::MOfN { m: 2, n: 3 }, secret).await?;
    let (host, cert) = w.host(&[entry]).await?;
    let (c, _) = Consumer::ask(&w.server, &host, &cert, entry).await?;
    let r = device_approves(&w.server, &mut w.approvers[admin], &c.id()).await?.ok()?;
    let got = r.json::<ApprovalRecorded>()?;
    ensure!(got.status == "pending" && got.approvals == 1, "{r:?}");
    Ok((w, c))
}

/// In `m-of-n` (m ≥ 2) the issuing admin is never the only approver, so their approval counts as
/// one of the m people; it releases nothing by itself.
async fn issuer_counts_as_one_of_m_people(b: Backend) -> anyhow::Result<()> {
    let (mut w, c) = approved_by_the_issuer_alone(b, b"two people").await?;
    let r = c.poll(&w.server).await?;
    ensure!(matches!(r.json::<PollResult>()?, PollResult::Pending { approvals: 1, .. }), "{r:?}");
    let r = device_approves(&w.server, &mut w.approvers[1], &c.id()).await?.ok()?;
    let got = r.json::<ApprovalRecorded>()?;
    ensure!(got.status == "approved" && got.approvals == 2, "{r:?}");
    let r = c.poll(&w.server).await?.ok()?;
    ensure!(c.open(&r.json()?, &w.org.public_key())? == b"two people");
    Ok(())
}

/// Migration 3 moved the approval count onto the request row; its backfill must count what a
/// database written by the previous version holds (approvals by people, those by someone other
/// than the host's issuer), so that a pending request decided half-way releases as before.
async fn migration_3_backfills_approval_counts(b: Backend) -> anyhow::Result<()> {
    use sqlx::Row;
    // The issuing admin approved first: one person, none of them a non-issuer.
    let (mut w, c) = approved_by_the_issuer_alone(b, b"upgraded").await?;
    let pool = w.server.state.store.pool();
    // As the previous version left it: decisions recorded, no counts on the request row.
    sqlx::query("UPDATE broker_requests SET approvals = 0, non_issuer_approvals = 0").execute(pool).await?;
    let backfill = include_str!("../../migrations/0003_broker_approval_counts.sql")
        .split(';')
        .map(str::trim)
        .find(|s| s.starts_with("UPDATE"))
        .context("the backfill statement")?;
    sqlx::query(sqlx::AssertSqlSafe(backfill)).execute(pool).await?;
    let row =
        sqlx::query("SELECT approvals, non_issuer_approvals FROM broker_requests WHERE request_id = $1")
            .bind(c.id())
            .fetch_one(pool)
            .await?;
    let counts: (i64, i64) = (row.try_get("approvals")?, row.try_get("non_issuer_approvals")?);
    ensure!(counts == (1, 0), "backfilled {counts:?}");
    let r = device_approves(&w.server, &mut w.approvers[1], &c.id()).await?.ok()?;
    let got = r.json::<ApprovalRecorded>()?;
    ensure!(got.status == "approved" && got.approvals == 2, "{r:?}");
    ensure!(c.open(&c.result(&w.server).await?, &w.org.public_key())? == b"upgraded");
    Ok(())
}

/// In `m-of-n`, people count, not devices: a second phone of the same person approving after the
/// first is refused (`already_decided`) and moves nothing; a second person releases.
async fn two_devices_of_one_person_count_as_one(b: Backend) -> anyhow::Result<()> {
    let mut w = World::new(b, &["a", "b", "c"]).await?;
    let a2 = w.enrol_second_device(0).await?;
    ensure!(w.approvers[a2].session.user_id == w.approvers[0].session.user_id);
    ensure!(w.approvers[a2].keys.approver_public() != w.approvers[0].keys.approver_public());
    let entry = EntryId::generate(&mut blindvault_testkit::broker::os_rng());
    // Four approver devices, three people.
    let sealed = w.put_secret(entry, 1, Policy::MOfN { m: 2, n: 3 }, b"people not phones").await?;
    ensure!(sealed.envelopes.len() == 4, "an envelope per device");
    let (host, cert) = w.host(&[entry]).await?;
    let (c, created) = Consumer::ask(&w.server, &host, &cert, entry).await?;
    ensure!(created.json::<CreatedRequest>()?.approvers == ["a", "b", "c"], "{created:?}");
    let r = device_approves(&w.server, &mut w.approvers[0], &c.id()).await?.ok()?;
    let got = r.json::<ApprovalRecorded>()?;
    ensure!(got.status == "pending" && got.approvals == 1, "{r:?}");
    // The same person's other phone: refused, still one approval, nothing released.
    let r = device_approves(&w.server, &mut w.approvers[a2], &c.id()).await?;
    ensure!(r.status == 409 && r.code() == Some(ErrorCode::AlreadyDecided), "{r:?}");
    let r = c.poll(&w.server).await?;
    ensure!(matches!(r.json::<PollResult>()?, PollResult::Pending { approvals: 1, .. }), "{r:?}");
    // A second person releases.
    let r = device_approves(&w.server, &mut w.approvers[1], &c.id()).await?.ok()?;
    let got = r.json::<ApprovalRecorded>()?;
    ensure!(got.status == "approved" && got.approvals == 2, "{r:?}");
    let r = c.poll(&w.server).await?.ok()?;
    ensure!(
        matches!(r.json::<PollResult>()?, PollResult::Delivered { responses, .. } if responses.len() == 2)
    );
    ensure!(c.open(&r.json()?, &w.org.public_key())? == b"people not phones");
    Ok(())
}

/// A note about one request wakes that request's waiters and no one else's, and a waiter's
/// registration is gone once it stops waiting (10 000 waiting consumers must not all wake for
/// every note).
#[tokio::test]
async fn a_note_wakes_only_its_requests_waiters() -> anyhow::Result<()> {
    use blindvault_server::broker::hub::{Hub, Note};
    use std::time::Duration;
    let hub = Hub::new();
    let (a1, a2, b) = (hub.watch("a"), hub.watch("a"), hub.watch("b"));
    ensure!(hub.watched() == 2, "two requests watched");
    {
        let (na1, na2, nb) = (a1.notified(), a2.notified(), b.notified());
        tokio::pin!(na1, na2, nb);
        na1.as_mut().enable();
        na2.as_mut().enable();
        nb.as_mut().enable();
        hub.local(Note::Request("a".into()));
        // Armed before the note: both of a's waiters wake, b's does not.
        tokio::time::timeout(Duration::from_secs(5), na1).await.context("a's first waiter woke")?;
        tokio::time::timeout(Duration::from_secs(5), na2).await.context("a's second waiter woke")?;
        ensure!(tokio::time::timeout(Duration::from_millis(50), nb).await.is_err(), "b's waiter slept on");
    }
    drop(a1);
    ensure!(hub.watched() == 2, "a is still watched by its second waiter");
    drop((a2, b));
    ensure!(hub.watched() == 0, "registrations are removed with their last waiter");
    Ok(())
}

/// Over HTTP: a consumer's long poll registers while it waits and unregisters when answered.
#[tokio::test]
async fn a_long_poll_unregisters_when_answered() -> anyhow::Result<()> {
    let mut w = World::new(Backend::Sqlite, &["alice"]).await?;
    let entry = EntryId::generate(&mut blindvault_testkit::broker::os_rng());
    w.put_secret(entry, 1, Policy::AnyOf { n: 1 }, b"s").await?;
    let (host, cert) = w.host(&[entry]).await?;
    let (c, _) = Consumer::ask(&w.server, &host, &cert, entry).await?;
    let c = std::sync::Arc::new(c);
    let waiter = c.wait_in_background(&w.server.base, 20);
    for _ in 0..100 {
        if w.server.state.hub.watched() == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    ensure!(w.server.state.hub.watched() == 1, "the waiting poll is registered");
    device_approves(&w.server, &mut w.approvers[0], &c.id()).await?.ok()?;
    let result = waiter.await??;
    ensure!(matches!(result, PollResult::Delivered { .. }), "{result:?}");
    ensure!(w.server.state.hub.watched() == 0, "and unregistered once answered");
    Ok(())
}

/// D22: the sweeper expires a request past its deadline and deletes its sealed responses, also
/// when some were stored — a 2-of-3 request with one approval (pending, one response), and an
/// any-of request approved but never fetched (one response). Catches the sweeper's
/// `DELETE FROM broker_responses` dropped (the rows would outlive their request), a sweep that
/// expired only requests without approvals, and an approved request delivered after its deadline.
async fn expiry_deletes_the_responses_of_a_request_approved_in_part(b: Backend) -> anyhow::Result<()> {
    let mut w = World::new(b, &["a", "b", "c"]).await?;
    let two = EntryId::generate(&mut blindvault_testkit::broker::os_rng());
    w.put_secret(two, 1, Policy::MOfN { m: 2, n: 3 }, b"two keys").await?;
    let one = EntryId::generate(&mut blindvault_testkit::broker::os_rng());
    w.put_secret(one, 1, Policy::AnyOf { n: 3 }, b"one key").await?;
    let (host, cert) = w.host(&[two, one]).await?;
    // Both requests live 300 s from now.
    let (partly, _) = Consumer::ask(&w.server, &host, &cert, two).await?;
    let r = device_approves(&w.server, &mut w.approvers[0], &partly.id()).await?.ok()?;
    let got = r.json::<ApprovalRecorded>()?;
    ensure!(got.status == "pending" && got.approvals == 1, "{r:?}");
    let (fully, _) = Consumer::ask(&w.server, &host, &cert, one).await?;
    let r = device_approves(&w.server, &mut w.approvers[1], &fully.id()).await?.ok()?;
    ensure!(r.json::<ApprovalRecorded>()?.status == "approved", "{r:?}");
    for c in [&partly, &fully] {
        ensure!(responses_stored(&w, &c.id()).await? == 1, "a sealed response is stored");
    }
    let sweep = async |w: &World| {
        blindvault_server::broker::sweeper::sweep(&w.server.state)
            .await
            .map_err(|e| anyhow::anyhow!("sweep: {}", e.code))
    };
    // Before the deadline a sweep leaves them be.
    w.server.clock.advance(299);
    ensure!(sweep(&w).await? == 0, "nothing expired yet");
    ensure!(responses_stored(&w, &partly.id()).await? == 1 && responses_stored(&w, &fully.id()).await? == 1);
    // Past it (expires_at is exclusive), the sweep — not a poll — ends both and deletes their
    // responses.
    w.server.clock.advance(1);
    ensure!(sweep(&w).await? == 2, "both expired");
    for c in [&partly, &fully] {
        ensure!(responses_stored(&w, &c.id()).await? == 0, "an expired request's responses are deleted");
        ensure!(stored_status(&w, &c.id()).await? == "expired");
        let r = c.poll(&w.server).await?.ok()?;
        // Expired, and no responses on the wire (a raw check: the type has no such member to read).
        ensure!(
            matches!(r.json::<PollResult>()?, PollResult::Expired) && r.body["responses"].is_null(),
            "{r:?}"
        );
    }
    // A late approval of the partly approved one is refused by the server too.
    let late = w.approvers[2]
        .session
        .agent
        .post(&paths::with_id(paths::BROKER_REQUEST_APPROVE_START, &partly.id()), json!({}))
        .await?;
    ensure!((400..500).contains(&late.status) && late.code().is_some(), "{late:?}");
    let audit = w.admin.agent.get(paths::ADMIN_AUDIT).await?.ok()?;
    ensure!(audit.body.to_string().matches("broker.request.expired").count() == 2, "{}", audit.body);
    Ok(())
}

/// D21: a host the org never certified asks for a secret. A host key whose certificate (here even
/// a genuine, org-signed one) was never registered is refused `403 unknown_host`; a key the org
/// never certified, signing a request that names a registered host's certificate, is refused
/// `403 request_invalid`. Neither request is stored, polled or shown to an approver. Catches
/// the server accepting a request for a certificate it does not hold, and the server checking
/// only that the named certificate is registered without verifying the request's signature
/// under it (the existing test only refuses *registering* a forged certificate).
async fn a_host_never_certified_is_refused(b: Backend) -> anyhow::Result<()> {
    let mut w = World::new(b, &["alice"]).await?;
    let entry = EntryId::generate(&mut blindvault_testkit::broker::os_rng());
    w.put_secret(entry, 1, Policy::AnyOf { n: 1 }, b"s").await?;
    let (host, cert) = w.host(&[entry]).await?;
    let stray = HostSecretKey::generate(&mut blindvault_testkit::broker::os_rng());
    let t = now(&w.server);
    let unregistered = HostCertificate {
        cert_id: CertId::generate(&mut blindvault_testkit::broker::os_rng()),
        host_name: "ci-runner-7".into(),
        host_key: stray.public_key(),
        allowed_entries: vec![entry],
        not_before: t - 60,
        not_after: t + 86_400,
        issuer: Some(w.admin.user_id.clone()),
        self_approval: false,
    }
    .sign(&w.org)?;
    let (never_registered, r) = Consumer::ask(&w.server, &stray, &unregistered, entry).await?;
    ensure!(r.status == 403 && r.code() == Some(ErrorCode::UnknownHost), "{r:?}");
    // The stray key signs a request naming the registered host's certificate.
    let (borrowed_cert, r) = Consumer::ask(&w.server, &stray, &cert, entry).await?;
    ensure!(r.status == 403 && r.code() == Some(ErrorCode::RequestInvalid), "{r:?}");
    let pool = w.server.state.store.pool().clone();
    for c in [&never_registered, &borrowed_cert] {
        let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM broker_requests WHERE request_id = $1")
            .bind(c.id())
            .fetch_one(&pool)
            .await?
            .try_get("n")?;
        ensure!(n == 0, "a refused request is not stored");
        let r = c.poll(&w.server).await?;
        ensure!(r.status == 404 && r.code() == Some(ErrorCode::NoSuchRequest), "{r:?}");
    }
    ensure!(w.approvers[0].session.agent.get(paths::BROKER_INBOX).await?.ok()?.body == json!([]));
    // The certified host's request for the same entry is accepted: the refusals were the host's.
    let (_, r) = Consumer::ask(&w.server, &host, &cert, entry).await?;
    ensure!(r.status == 201, "{r:?}");
    Ok(())
}

/// The org setting `refuse_synced_approvers`: off by default (the test kit's passkeys, like
/// iCloud Keychain's, are backup-eligible, and enrol); on, a backup-eligible passkey can neither
/// ask to enrol nor be approved (a request made before the setting changed), and the admin sees
/// each enrolment's backup flags. Only admins read or change the setting; the change is audited.
async fn an_org_that_refuses_synced_passkeys_refuses_their_enrolment(b: Backend) -> anyhow::Result<()> {
    let mut w = World::new(b, &["alice"]).await?;
    let list = w.admin.agent.get(paths::BROKER_ENROLMENTS).await?.ok()?;
    let alice = list.json::<Vec<EnrolmentView>>()?.into_iter().next().context("alice")?;
    ensure!(alice.backup_eligible == Some(true) && alice.backup_state == Some(true), "{alice:?}");
    let r = w.admin.agent.get(paths::BROKER_ORG_SETTINGS).await?.ok()?;
    ensure!(!r.json::<OrgSettings>()?.refuse_synced_approvers, "{r:?}");
    // Bob asks to enrol before the setting changes…
    let mut bob = Device::new();
    let mut bob_session = bob.register(&w.server, "bob").await?;
    let keys = blindvault_core::schedule::KeySchedule::derive(&bob_session.prf);
    let body = json!({ "credential_id": bob_session.credential_id, "approver_public_key": b64(&keys.approver_public().to_array()) });
    let pending = bob_session.agent.post(paths::BROKER_ENROLMENTS, body.clone()).await?.ok()?;
    let id = pending.json::<EnrolmentView>()?.id;
    // …an approver cannot change it…
    let r = w.approvers[0]
        .session
        .agent
        .put(paths::BROKER_ORG_SETTINGS, serde_json::to_value(OrgSettings { refuse_synced_approvers: true })?)
        .await?;
    ensure!(r.status == 403, "{r:?}");
    let r = w
        .admin
        .agent
        .put(paths::BROKER_ORG_SETTINGS, serde_json::to_value(OrgSettings { refuse_synced_approvers: true })?)
        .await?
        .ok()?;
    ensure!(r.json::<OrgSettings>()?.refuse_synced_approvers, "{r:?}");
    // …then neither a new request nor the approval of the old one goes through.
    let r = bob_session.agent.post(paths::BROKER_ENROLMENTS, body).await?;
    ensure!(r.status == 403 && r.code() == Some(ErrorCode::SyncedPasskeyRefused), "{r:?}");
    let signed = blindvault_core::identity::Enrolment {
        user_id: bob_session.user_id.clone(),
        credential_id: unb64(&json!(bob_session.credential_id)),
        approver_key: keys.approver_public(),
        issued_at: now(&w.server),
        not_after: now(&w.server) + 86_400,
    }
    .sign(&w.org)?;
    let r = w
        .admin
        .agent
        .post(
            &paths::with_id(paths::BROKER_ENROLMENT_APPROVE, &id),
            json!({ "signed_enrolment": b64(&signed.to_bytes()) }),
        )
        .await?;
    ensure!(r.status == 403 && r.code() == Some(ErrorCode::SyncedPasskeyRefused), "{r:?}");
    let audit = w.admin.agent.get(paths::ADMIN_AUDIT).await?.ok()?;
    ensure!(audit.body.to_string().contains("broker.org.settings"), "the change is audited");
    // Off again: the enrolment is approved.
    w.admin
        .agent
        .put(
            paths::BROKER_ORG_SETTINGS,
            serde_json::to_value(OrgSettings { refuse_synced_approvers: false })?,
        )
        .await?
        .ok()?;
    w.admin
        .agent
        .post(
            &paths::with_id(paths::BROKER_ENROLMENT_APPROVE, &id),
            json!({ "signed_enrolment": b64(&signed.to_bytes()) }),
        )
        .await?
        .ok()?;
    Ok(())
}

/// A consumer whose `run` is interrupted withdraws its request with its poll token: the request
/// is `cancelled`, leaves the approvers' inbox, cannot be approved or denied any more (409), its
/// sealed responses are deleted, and an audit row says so. Nobody without the token can.
async fn a_consumer_cancels_its_open_request(b: Backend) -> anyhow::Result<()> {
    let mut w = World::new(b, &["alice", "bob"]).await?;
    let entry = EntryId::generate(&mut blindvault_testkit::broker::os_rng());
    w.put_secret(entry, 1, Policy::AnyOf { n: 2 }, b"s").await?;
    let (host, cert) = w.host(&[entry]).await?;
    let (c, _) = Consumer::ask(&w.server, &host, &cert, entry).await?;
    let id = c.id();
    // Alice has started her approval ceremony when the consumer goes away.
    let finish = device_prepares_approval(&w.server, &mut w.approvers[0], &id).await?;
    let r = c.cancel_with(&w.server, "not-the-token").await?;
    ensure!(r.status == 404 && r.code() == Some(ErrorCode::NoSuchRequest), "{r:?}");
    ensure!(stored_status(&w, &id).await? == "pending");
    let r = c.cancel_with(&w.server, &c.token).await?;
    ensure!(r.status == 200 && matches!(r.json::<PollResult>()?, PollResult::Cancelled), "{r:?}");
    ensure!(stored_status(&w, &id).await? == "cancelled");
    // Approvers can no longer act on it.
    ensure!(w.approvers[1].session.agent.get(paths::BROKER_INBOX).await?.ok()?.body == json!([]));
    let r = device_finishes_approval(&mut w.approvers[0], &id, finish).await?;
    ensure!(r.status == 409 && r.code() == Some(ErrorCode::RequestNotPending), "{r:?}");
    let late = device_approves(&w.server, &mut w.approvers[1], &id).await.err().context("approve fails")?;
    ensure!(late.to_string().contains("request_not_pending"), "{late}");
    let r = w.approvers[1]
        .session
        .agent
        .post(&paths::with_id(paths::BROKER_REQUEST_DENY, &id), json!({}))
        .await?;
    ensure!(r.status == 409 && r.code() == Some(ErrorCode::RequestNotPending), "{r:?}");
    ensure!(responses_stored(&w, &id).await? == 0);
    let r = c.poll(&w.server).await?.ok()?;
    ensure!(matches!(r.json::<PollResult>()?, PollResult::Cancelled), "{r:?}");
    let r = c.cancel_with(&w.server, &c.token).await?;
    ensure!(r.status == 409 && r.code() == Some(ErrorCode::RequestNotPending), "{r:?}");
    let rows = sqlx::query(
        "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'broker.request.cancelled' AND target = $1",
    )
    .bind(&id)
    .fetch_one(w.server.state.store.pool())
    .await?;
    ensure!(rows.try_get::<i64, _>("n")? == 1, "one audit row");

    // Approved but not yet fetched: cancelling deletes the sealed response; nothing is delivered.
    let (c, _) = Consumer::ask(&w.server, &host, &cert, entry).await?;
    let r = device_approves(&w.server, &mut w.approvers[0], &c.id()).await?.ok()?;
    ensure!(r.json::<ApprovalRecorded>()?.status == "approved", "{r:?}");
    ensure!(responses_stored(&w, &c.id()).await? == 1);
    let r = c.cancel_with(&w.server, &c.token).await?;
    ensure!(r.status == 200, "{r:?}");
    ensure!(responses_stored(&w, &c.id()).await? == 0);
    let r = c.poll(&w.server).await?.ok()?;
    ensure!(matches!(r.json::<PollResult>()?, PollResult::Cancelled), "{r:?}");
    Ok(())
}

/// Records are append-only: a higher epoch that no longer lists an approver device or host the
/// stored record revokes (one built on an older record, say) is refused, and the stored one kept.
async fn revocations_put_refuses_a_record_that_drops_a_revocation(b: Backend) -> anyhow::Result<()> {
    use blindvault_core::revocation::Revocations;
    let mut w = World::new(b, &["alice", "bob"]).await?;
    let (alice, bob) = (w.approvers[0].keys.approver_public(), w.approvers[1].keys.approver_public());
    let host = CertId::generate(&mut blindvault_testkit::broker::os_rng());
    let put =
        |r: &blindvault_core::revocation::SignedRevocations| json!({ "revocations": b64(&r.to_bytes()) });
    let one = Revocations::none().next(&[bob], &[], now(&w.server))?.sign(&w.org)?;
    let two = one.record.next(&[], &[host], now(&w.server))?.sign(&w.org)?;
    w.admin.agent.put(paths::BROKER_REVOCATIONS, put(&one)).await?.ok()?;
    w.admin.agent.put(paths::BROKER_REVOCATIONS, put(&two)).await?.ok()?;
    // Epoch 3 built on epoch 1 (what a server hiding epoch 2 would make an admin sign): it no
    // longer names the host.
    let forked = one.record.next(&[alice], &[], now(&w.server))?;
    let mut forked = forked;
    forked.epoch = 3;
    let forked = forked.sign(&w.org)?;
    let r = w.admin.agent.put(paths::BROKER_REVOCATIONS, put(&forked)).await?;
    ensure!(r.status == 409 && r.code() == Some(ErrorCode::RevocationDiverged), "{r:?}");
    // Epoch 3 that drops bob: refused too.
    let mut no_bob = two.record.next(&[alice], &[], now(&w.server))?;
    no_bob.approvers.retain(|a| *a != bob);
    let no_bob = no_bob.sign(&w.org)?;
    let r = w.admin.agent.put(paths::BROKER_REVOCATIONS, put(&no_bob)).await?;
    ensure!(r.status == 409 && r.code() == Some(ErrorCode::RevocationDiverged), "{r:?}");
    let r = w.admin.agent.get(paths::BROKER_REVOCATIONS).await?.ok()?;
    ensure!(
        r.json::<RevocationsView>()?.revocations.map(|x| x.to_bytes()) == Some(two.to_bytes()),
        "the stored one is kept: {r:?}"
    );
    // A proper successor is stored.
    let three = two.record.next(&[alice], &[], now(&w.server))?.sign(&w.org)?;
    w.admin.agent.put(paths::BROKER_REVOCATIONS, put(&three)).await?.ok()?;
    Ok(())
}

/// The revocation record: stored only if the org key signed it and its epoch is higher than the
/// stored one; only an admin may upload it; any session may read it.
async fn revocations_put_refuses_rollback_and_non_admins(b: Backend) -> anyhow::Result<()> {
    use blindvault_core::revocation::Revocations;
    let mut w = World::new(b, &["alice", "bob"]).await?;
    let r = w.approvers[0].session.agent.get(paths::BROKER_REVOCATIONS).await?.ok()?;
    ensure!(r.json::<RevocationsView>()?.revocations.is_none(), "none yet: {r:?}");
    let bob = w.approvers[1].keys.approver_public();
    let one = Revocations::none().next(&[bob], &[], now(&w.server))?.sign(&w.org)?;
    let two = one
        .record
        .next(&[], &[CertId::generate(&mut blindvault_testkit::broker::os_rng())], now(&w.server))?
        .sign(&w.org)?;
    let put =
        |r: &blindvault_core::revocation::SignedRevocations| json!({ "revocations": b64(&r.to_bytes()) });
    // Not an admin.
    let r = w.approvers[0].session.agent.put(paths::BROKER_REVOCATIONS, put(&one)).await?;
    ensure!(r.status == 403, "{r:?}");
    // Not signed by the org key.
    let rogue = OrgSecretKey::generate(&mut blindvault_testkit::broker::os_rng());
    let forged = Revocations::none().next(&[bob], &[], now(&w.server))?.sign(&rogue)?;
    let r = w.admin.agent.put(paths::BROKER_REVOCATIONS, put(&forged)).await?;
    ensure!(r.status == 400 && r.code() == Some(ErrorCode::BadSignature), "{r:?}");
    // Garbage.
    let r = w.admin.agent.put(paths::BROKER_REVOCATIONS, json!({ "revocations": "AAAA" })).await?;
    ensure!(r.status == 400 || r.status == 422, "{r:?}");
    // Epoch 2, then epoch 1: the older one is refused, the same one again is fine.
    w.admin.agent.put(paths::BROKER_REVOCATIONS, put(&two)).await?.ok()?;
    let r = w.admin.agent.put(paths::BROKER_REVOCATIONS, put(&one)).await?;
    ensure!(r.status == 409 && r.code() == Some(ErrorCode::RevocationRollback), "{r:?}");
    w.admin.agent.put(paths::BROKER_REVOCATIONS, put(&two)).await?.ok()?;
    // Everyone reads the newest.
    let r = w.approvers[1].session.agent.get(paths::BROKER_REVOCATIONS).await?.ok()?;
    ensure!(r.json::<RevocationsView>()?.revocations.map(|x| x.to_bytes()) == Some(two.to_bytes()), "{r:?}");
    let text = w.admin.agent.get(paths::ADMIN_AUDIT).await?.ok()?.body.to_string();
    ensure!(text.contains("broker.revocations.set"), "audited");
    // A replaced org key takes its record with it (the old key's signature vouches for nothing).
    let other = OrgSecretKey::generate(&mut blindvault_testkit::broker::os_rng());
    w.admin_stepped(
        "PUT",
        paths::BROKER_ORG,
        Some(json!({ "org_public_key": b64(&other.public_key().to_bytes()), "replace": true })),
        "org.replace",
        &other.public_key().fingerprint().to_string(),
    )
    .await?
    .ok()?;
    let r = w.admin.agent.get(paths::BROKER_REVOCATIONS).await?.ok()?;
    ensure!(r.json::<RevocationsView>()?.revocations.is_none(), "{r:?}");
    Ok(())
}

/// Bob's device is removed and the org's revocation record names it. The server colludes with
/// whoever holds the device: it puts the enrolment back (status `approved`), so the removed
/// device — which still holds its envelope of the current version and an org-signed enrolment —
/// approves and the server delivers. The consumer refuses: the record names the device. The
/// server then hides the record: a consumer that has seen it refuses the rollback.
async fn a_removed_device_is_refused_by_the_consumer_despite_a_colluding_server(
    b: Backend,
) -> anyhow::Result<()> {
    use blindvault_core::revocation::Revocations;
    let mut w = World::new(b, &["alice", "bob"]).await?;
    let entry = EntryId::generate(&mut blindvault_testkit::broker::os_rng());
    w.put_secret(entry, 1, Policy::AnyOf { n: 2 }, b"hunter2").await?;
    let (host, cert) = w.host(&[entry]).await?;
    let org = w.org.public_key();
    // Before the removal bob releases it.
    let (c, _) = Consumer::ask(&w.server, &host, &cert, entry).await?;
    device_approves(&w.server, &mut w.approvers[1], &c.id()).await?.ok()?;
    let r = c.poll(&w.server).await?.ok()?;
    ensure!(c.open(&r.json()?, &org)? == b"hunter2");
    // The admin revokes bob's device (org-signed record first), then removes it on the server.
    let bob = w.approvers[1].keys.approver_public();
    let record = Revocations::none().next(&[bob], &[], now(&w.server))?.sign(&w.org)?;
    w.admin
        .agent
        .put(paths::BROKER_REVOCATIONS, json!({ "revocations": b64(&record.to_bytes()) }))
        .await?
        .ok()?;
    let pool = w.server.state.store.pool().clone();
    let id: String = sqlx::query("SELECT id FROM broker_enrolments WHERE approver_key = $1")
        .bind(b64(&bob.to_array()))
        .fetch_one(&pool)
        .await?
        .try_get("id")?;
    w.admin_stepped(
        "DELETE",
        &format!("{}?dry_run=false", paths::with_id(paths::BROKER_ENROLMENT, &id)),
        None,
        "approver.remove",
        &id,
    )
    .await?
    .ok()?;
    // The colluding server puts the device back.
    sqlx::query("UPDATE broker_enrolments SET status = 'approved' WHERE id = $1")
        .bind(&id)
        .execute(&pool)
        .await?;
    let (c, _) = Consumer::ask(&w.server, &host, &cert, entry).await?;
    device_approves(&w.server, &mut w.approvers[1], &c.id()).await?.ok()?;
    let r = c.poll(&w.server).await?.ok()?;
    ensure!(matches!(r.json::<PollResult>()?, PollResult::Delivered { .. }), "{r:?}");
    let e = c.open(&r.json()?, &org).err().context("refused")?;
    ensure!(
        e.downcast_ref::<blindvault_core::Error>()
            == Some(&blindvault_core::Error::Revoked { what: blindvault_core::Revocable::ApproverDevice }),
        "{e}"
    );
    // It hides the record too: a consumer that has seen epoch 1 refuses the rollback.
    sqlx::query("DELETE FROM broker_revocations").execute(&pool).await?;
    let (c, _) = Consumer::ask(&w.server, &host, &cert, entry).await?;
    device_approves(&w.server, &mut w.approvers[1], &c.id()).await?.ok()?;
    let r = c.poll(&w.server).await?.ok()?;
    ensure!(matches!(r.json::<PollResult>()?, PollResult::Delivered { revocations: None, .. }), "{r:?}");
    let e = c.open_after(&r.json()?, &org, 1).err().context("refused")?;
    ensure!(
        e.downcast_ref::<blindvault_core::Error>()
            == Some(&blindvault_core::Error::Rollback { seen: 1, got: 0 }),
        "{e}"
    );
    // Alice, not revoked, still releases.
    let (c, _) = Consumer::ask(&w.server, &host, &cert, entry).await?;
    w.admin
        .agent
        .put(paths::BROKER_REVOCATIONS, json!({ "revocations": b64(&record.to_bytes()) }))
        .await?
        .ok()?;
    device_approves(&w.server, &mut w.approvers[0], &c.id()).await?.ok()?;
    let r = c.poll(&w.server).await?.ok()?;
    ensure!(c.open_after(&r.json()?, &org, 1)? == b"hunter2");
    Ok(())
}

/// A plain admin session re-posts a removed device's old org-signed enrolment to put it back
/// (`approved`), undoing the step-up-protected removal: refused (`409 enrolment_removed`). The
/// device asks to enrol again with the same key: a key the org's revocation record names is
/// refused too (`409 approver_revoked`), and the row stays pending.
async fn an_old_signed_enrolment_does_not_put_back_a_removed_or_revoked_device(
    b: Backend,
) -> anyhow::Result<()> {
    use blindvault_core::revocation::Revocations;
    let mut w = World::new(b, &["alice", "bob"]).await?;
    let bob = w.approvers[1].keys.approver_public();
    let pool = w.server.state.store.pool().clone();
    let row = sqlx::query("SELECT id, signed FROM broker_enrolments WHERE approver_key = $1")
        .bind(b64(&bob.to_array()))
        .fetch_one(&pool)
        .await?;
    let id: String = row.try_get("id")?;
    let signed: String = row.try_get("signed")?;
    w.admin_stepped(
        "DELETE",
        &format!("{}?dry_run=false", paths::with_id(paths::BROKER_ENROLMENT, &id)),
        None,
        "approver.remove",
        &id,
    )
    .await?
    .ok()?;
    let approve = paths::with_id(paths::BROKER_ENROLMENT_APPROVE, &id);
    let r = w.admin.agent.post(&approve, json!({ "signed_enrolment": signed })).await?;
    ensure!(r.status == 409 && r.code() == Some(ErrorCode::EnrolmentRemoved), "{r:?}");
    let status = |pool: sqlx::AnyPool, id: String| async move {
        let r = sqlx::query("SELECT status FROM broker_enrolments WHERE id = $1")
            .bind(&id)
            .fetch_one(&pool)
            .await?;
        anyhow::Ok(r.try_get::<String, _>("status")?)
    };
    ensure!(status(pool.clone(), id.clone()).await? == "removed");
    // The org revokes the key; the device asks to enrol again with it.
    let record = Revocations::none().next(&[bob], &[], now(&w.server))?.sign(&w.org)?;
    w.admin
        .agent
        .put(paths::BROKER_REVOCATIONS, json!({ "revocations": b64(&record.to_bytes()) }))
        .await?
        .ok()?;
    let s = &mut w.approvers[1].session;
    let again = s
        .agent
        .post(
            paths::BROKER_ENROLMENTS,
            json!({ "credential_id": s.credential_id, "approver_public_key": b64(&bob.to_array()) }),
        )
        .await?
        .ok()?;
    let again = again.json::<EnrolmentView>()?;
    ensure!(again.id == id && again.status == "pending", "{again:?}");
    let r = w.admin.agent.post(&approve, json!({ "signed_enrolment": signed })).await?;
    ensure!(r.status == 409 && r.code() == Some(ErrorCode::ApproverRevoked), "{r:?}");
    ensure!(status(pool.clone(), id.clone()).await? == "pending");
    Ok(())
}

/// Every event has an id and the first sets the browser's retry delay; a stream opened again
/// with the last id it saw (`Last-Event-ID`, as a browser reconnecting sends it, or the app's
/// `?last_event_id=`) starts with `resync` — re-read everything — and a fresh one does not.
async fn a_resumed_event_stream_starts_with_a_resync(b: Backend) -> anyhow::Result<()> {
    let mut w = World::new(b, &["alice"]).await?;
    let entry = EntryId::generate(&mut blindvault_testkit::broker::os_rng());
    w.put_secret(entry, 1, Policy::AnyOf { n: 1 }, b"s").await?;
    let (host, cert) = w.host(&[entry]).await?;
    let cookie = session_cookie(&w.server, &w.approvers[0].session.agent)?;
    // A fresh stream: ready (with an id and the retry delay), then the request — no resync.
    let mut fresh = EventStream::from_response(events::open(&w.server, &cookie, "", &[]).await?)?;
    fresh.read_until("event: ready").await?;
    let (req, _) = Consumer::ask(&w.server, &host, &cert, entry).await?;
    let seen = fresh.read_until(&req.id()).await?;
    ensure!(
        seen.contains("retry: 2000")
            && seen.matches("\nid: ").count() + usize::from(seen.starts_with("id: ")) >= 2,
        "{seen}"
    );
    ensure!(!seen.contains("event: resync"), "a fresh stream resynced: {seen}");
    // Resumed, by header and by query: ready, then resync.
    let by_header: &[(&str, &str)] = &[("last-event-id", "abc-3")];
    for (headers, query) in [(by_header, ""), (&[][..], "?last_event_id=abc-3")] {
        let mut again = EventStream::from_response(events::open(&w.server, &cookie, query, headers).await?)?;
        let seen = again.read_until("event: resync").await?;
        let (ready, resync) = (seen.find("event: ready"), seen.find("event: resync"));
        ensure!(ready.is_some() && ready < resync, "{seen}");
    }
    Ok(())
}
