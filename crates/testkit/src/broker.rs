//! The broker's actors over the real HTTP API, shared by the server's tests, the CLI's tests and
//! the benchmarks: an admin holding the org key, approver phones (passkey-rs with PRF), and a
//! consumer with a host key and an ephemeral key.

use anyhow::{Context, bail, ensure};
use blindvault_api::broker::{ApproverView, CreateRequest, EnrolmentView, EntryView, HostView, PollResult};
use blindvault_api::broker_calls::RequestView;
use blindvault_api::ceremony::CeremonyStart;
use blindvault_api::paths;
use blindvault_core::entry::{SealedEntry, seal_entry};
use blindvault_core::identity::{
    Enrolment, HostCertificate, Request, SignedHostCertificate, SignedRequest, VerifiedApprover,
    verify_request,
};
use blindvault_core::ids::{CertId, EntryId, RequestId};
use blindvault_core::keys::{EphemeralSecretKey, HostSecretKey, OrgPublicKey, OrgSecretKey};
use blindvault_core::policy::Policy;
use blindvault_core::release::{
    Release, SealedResponse, approve, check_separation, open_vouched_response, recover_secret,
};
use blindvault_core::revocation::{Revocations, SignedRevocations};
use blindvault_core::schedule::KeySchedule;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::{Agent, Backend, Device, SignedIn, TestServer};

/// The OS CSPRNG as the core's injected RNG.
pub use blindvault_core::rng::os_rng;

/// Unpadded base64url.
pub fn b64(b: &[u8]) -> String {
    blindvault_core::encoding::b64::encode(b)
}
/// Base64url (unpadded) text to bytes; an error names what was not base64url.
pub fn b64_decode(s: &str) -> anyhow::Result<Vec<u8>> {
    blindvault_core::encoding::b64::decode(s).map_err(|_| anyhow::anyhow!("not base64url: {s}"))
}

/// Decodes a JSON string of base64url (empty on anything else).
pub fn unb64(s: &Value) -> Vec<u8> {
    blindvault_core::encoding::b64::decode(s.as_str().unwrap_or_default()).unwrap_or_default()
}

/// An approver: a person with a phone.
#[derive(Debug)]
pub struct Approver {
    /// The person's user name.
    pub name: String,
    /// Their phone.
    pub device: Device,
    /// Their signed-in session.
    pub session: SignedIn,
    /// The keys their passkey's PRF derives.
    pub keys: KeySchedule,
    /// The org key this device pinned at enrolment (from the invite link, never the server).
    pub pinned_org: OrgPublicKey,
}

/// A server with an admin (holding the org key), enrolled approvers.
#[derive(Debug)]
pub struct World {
    /// The server.
    pub server: TestServer,
    /// The admin's session.
    pub admin: SignedIn,
    /// The admin's own passkey device, until [`World::enrol_admin`] makes it an approver's
    /// (then it lives in that [`Approver`]).
    pub admin_device: Option<Device>,
    /// The org key (on the admin's machine).
    pub org: OrgSecretKey,
    /// Enrolled approvers.
    pub approvers: Vec<Approver>,
}

/// The server's clock, in Unix seconds.
pub fn now(server: &TestServer) -> u64 {
    u64::try_from(server.state.clock.now()).unwrap_or(0)
}

impl World {
    /// Starts a server, claims it, sets an org key and enrols `names`.
    pub async fn new(b: Backend, names: &[&str]) -> anyhow::Result<Self> {
        Self::new_with(b, names, crate::ServerOptions::default()).await
    }

    /// [`World::new`] on a server started with `opts`.
    pub async fn new_with(b: Backend, names: &[&str], opts: crate::ServerOptions) -> anyhow::Result<Self> {
        let server = TestServer::start_with(b, opts).await?;
        let code = server.setup_code.clone().context("setup code")?;
        let mut admin_device = Device::new();
        let mut admin = admin_device.register(&server, "admin").await?;
        admin.agent.post(paths::SETUP_CLAIM, json!({ "code": code })).await?.ok()?;
        let org = OrgSecretKey::generate(&mut os_rng());
        admin
            .agent
            .put(paths::BROKER_ORG, json!({ "org_public_key": b64(&org.public_key().to_bytes()) }))
            .await?
            .ok()?;
        let mut w = Self { server, admin, admin_device: Some(admin_device), org, approvers: Vec::new() };
        for n in names {
            w.enrol(n).await?;
        }
        Ok(w)
    }

    /// A confirmed step-up of the admin for `action` on `target` (started with the admin's
    /// session, confirmed with the admin's passkey).
    pub async fn admin_step_up(&mut self, action: &str, target: &str) -> anyhow::Result<String> {
        let server = &self.server;
        let device = admin_device(&mut self.admin_device, &mut self.approvers, &self.admin.user_id)?;
        device.step_up(server, &mut self.admin.agent, action, target).await
    }

    /// The admin confirms a step-up someone started with the admin's account (a command-line
    /// session's confirm link), in the admin's browser session.
    pub async fn admin_confirms(&mut self, id: &str) -> anyhow::Result<crate::Resp> {
        let server = &self.server;
        let device = admin_device(&mut self.admin_device, &mut self.approvers, &self.admin.user_id)?;
        device.confirm_step_up(server, &mut self.admin.agent, id).await
    }

    /// The admin sends `method path body` with a fresh step-up for `action` on `target`.
    pub async fn admin_stepped(
        &mut self,
        method: &str,
        path: &str,
        body: Option<Value>,
        action: &str,
        target: &str,
    ) -> anyhow::Result<crate::Resp> {
        let id = self.admin_step_up(action, target).await?;
        self.admin.agent.send_stepped(method, path, body, &id).await
    }

    /// A person registers on a device, derives the approver key from the PRF, asks to enrol;
    /// the admin compares the fingerprint and signs with the org key.
    pub async fn enrol(&mut self, name: &str) -> anyhow::Result<()> {
        let mut device = Device::new();
        let session = device.register(&self.server, name).await?;
        self.enrol_device(name, device, session).await
    }

    /// The admin enrols their own passkey as an approver device (signing their own enrolment
    /// with the org key). Returns the index of the new [`Approver`]; the admin's device moves
    /// there from [`World::admin_device`].
    pub async fn enrol_admin(&mut self) -> anyhow::Result<usize> {
        let mut device = self.admin_device.take().context("the admin's device is already enrolled")?;
        // A second session of the admin, on the same passkey (the PRF output is the same).
        let session = device.login(&self.server).await?;
        ensure!(session.user_id == self.admin.user_id, "logged in as the admin");
        self.enrol_device("admin", device, session).await?;
        Ok(self.approvers.len() - 1)
    }

    /// Another device (a second phone) of the person of `approvers[index]`: a new passkey added
    /// to their account, signed in and enrolled as an approver device of the same person.
    /// Returns the index of the new [`Approver`].
    pub async fn enrol_second_device(&mut self, index: usize) -> anyhow::Result<usize> {
        let first = self.approvers.get_mut(index).context("no such approver")?;
        let name = first.name.clone();
        let mut device = Device::new();
        device.add_passkey(&self.server, &mut first.session.agent, &mut first.device, "second phone").await?;
        let session = device.login(&self.server).await?;
        ensure!(session.user_id == first.session.user_id, "the same person");
        self.enrol_device(&name, device, session).await?;
        Ok(self.approvers.len() - 1)
    }

    /// Enrols `session`'s passkey (on `device`) as an approver device of `name`.
    async fn enrol_device(
        &mut self,
        name: &str,
        device: Device,
        mut session: SignedIn,
    ) -> anyhow::Result<()> {
        let keys = KeySchedule::derive(&session.prf);
        let asked: EnrolmentView = session
            .agent
            .post(
                paths::BROKER_ENROLMENTS,
                json!({ "credential_id": session.credential_id, "approver_public_key": b64(&keys.approver_public().to_array()) }),
            )
            .await?
            .ok()?
            .json()?;
        let id = asked.id;
        // The admin's view shows the same fingerprint the device shows.
        let pending: Vec<EnrolmentView> = self
            .admin
            .agent
            .get(&format!("{}?status=pending", paths::BROKER_ENROLMENTS))
            .await?
            .ok()?
            .json()?;
        let row = pending.into_iter().find(|r| r.id == id).context("pending")?;
        ensure!(row.fingerprint == keys.approver_public().fingerprint().to_string());
        let signed = Enrolment {
            user_id: row.user_id,
            credential_id: blindvault_core::encoding::b64::decode(&row.credential_id)?,
            approver_key: keys.approver_public(),
            issued_at: now(&self.server),
            not_after: now(&self.server) + 365 * 86_400,
        }
        .sign(&self.org)?;
        self.admin
            .agent
            .post(
                &paths::with_id(paths::BROKER_ENROLMENT_APPROVE, &id),
                json!({ "signed_enrolment": b64(&signed.to_bytes()) }),
            )
            .await?
            .ok()?;
        // The approver role takes effect on the next request.
        self.approvers.push(Approver {
            name: name.into(),
            device,
            session,
            keys,
            pinned_org: self.org.public_key(),
        });
        Ok(())
    }

    /// The admin's CLI: fetch enrolments, verify each against its own org key, seal, upload.
    /// Writes a secret as the admin's CLI does.
    pub async fn put_secret(
        &mut self,
        entry_id: EntryId,
        version: u32,
        policy: Policy,
        value: &[u8],
    ) -> anyhow::Result<SealedEntry> {
        self.put_secret_with(entry_id, version, policy, value, false).await
    }

    /// [`World::put_secret`], with the entry's own self-approval flag (what `secret put
    /// --allow-self-approval` sent before certificates carried it: it still governs hosts whose
    /// certificate is of format 1, and nothing else).
    pub async fn put_secret_with(
        &mut self,
        entry_id: EntryId,
        version: u32,
        policy: Policy,
        value: &[u8],
        allow_self_approval: bool,
    ) -> anyhow::Result<SealedEntry> {
        let entry = self.seal_secret(entry_id, version, policy, value).await?;
        let stored: EntryView = self
            .admin
            .agent
            .post(
                paths::BROKER_ENTRIES,
                json!({ "sealed_entry": b64(&entry.to_bytes()), "allow_self_approval": allow_self_approval }),
            )
            .await?
            .ok()?
            .json()?;
        ensure!(
            stored.entry_id == entry_id.to_text() && stored.version == i64::from(version),
            "the server stored another entry: {stored:?}"
        );
        Ok(entry)
    }

    /// Seals and signs a secret as the admin's CLI does, to the approvers the server lists (each
    /// verified against the org key), without uploading it.
    pub async fn seal_secret(
        &mut self,
        entry_id: EntryId,
        version: u32,
        policy: Policy,
        value: &[u8],
    ) -> anyhow::Result<SealedEntry> {
        let list: Vec<ApproverView> = self.admin.agent.get(paths::BROKER_APPROVERS).await?.ok()?.json()?;
        let org_pub = self.org.public_key();
        let verified: Vec<VerifiedApprover> = list
            .iter()
            .map(|a| a.signed_enrolment.verify(&org_pub, now(&self.server)))
            .collect::<Result<_, _>>()?;
        Ok(seal_entry(
            &self.org,
            entry_id,
            version,
            policy,
            &verified,
            b"label: database",
            value,
            &mut os_rng(),
        )?)
    }

    /// Issues and registers a host certificate for `entries` (format 2, naming the admin as its
    /// issuer; the issuer may not approve its requests alone).
    pub async fn host(
        &mut self,
        entries: &[EntryId],
    ) -> anyhow::Result<(HostSecretKey, SignedHostCertificate)> {
        self.host_with(entries, false).await
    }

    /// [`World::host`], choosing whether the certificate lets its issuer (the admin) be the only
    /// approver of its requests (`host issue --allow-self-approval`).
    pub async fn host_with(
        &mut self,
        entries: &[EntryId],
        self_approval: bool,
    ) -> anyhow::Result<(HostSecretKey, SignedHostCertificate)> {
        let host = HostSecretKey::generate(&mut os_rng());
        let t = now(&self.server);
        let cert = HostCertificate {
            cert_id: CertId::generate(&mut os_rng()),
            host_name: "ci-runner-7".into(),
            host_key: host.public_key(),
            allowed_entries: entries.to_vec(),
            not_before: t - 60,
            not_after: t + 86_400,
            issuer: Some(self.admin.user_id.clone()),
            self_approval,
        }
        .sign(&self.org)?;
        let registered = self
            .admin
            .agent
            .post(paths::BROKER_HOSTS, json!({ "certificate": b64(&cert.to_bytes()) }))
            .await?
            .ok()?;
        let registered: HostView = registered.json()?;
        ensure!(
            registered.cert_id == cert.cert.cert_id.to_text() && registered.self_approval == self_approval,
            "the server registered another host: {registered:?}"
        );
        Ok((host, cert))
    }
}

/// The admin's passkey device, wherever it lives ([`World::admin_device`] or, once enrolled,
/// the admin's [`Approver`]).
fn admin_device<'a>(
    own: &'a mut Option<Device>,
    approvers: &'a mut [Approver],
    admin_id: &str,
) -> anyhow::Result<&'a mut Device> {
    match own.as_mut() {
        Some(d) => Ok(d),
        None => Ok(&mut approvers
            .iter_mut()
            .find(|a| a.session.user_id == admin_id)
            .context("the admin's device")?
            .device),
    }
}

/// A consumer's request in flight.
#[derive(Debug)]
pub struct Consumer {
    /// Its ephemeral key.
    pub eph: EphemeralSecretKey,
    /// Its signed request.
    pub req: SignedRequest,
    /// Its poll token.
    pub token: String,
}

impl Consumer {
    /// Signs and posts a request.
    pub async fn ask(
        server: &TestServer,
        host: &HostSecretKey,
        cert: &SignedHostCertificate,
        entry: EntryId,
    ) -> anyhow::Result<(Self, crate::Resp)> {
        Self::ask_at(&server.base, now(server), host, cert, entry).await
    }

    /// [`Consumer::ask`] of the server at `base` (another instance), signed at time `t`.
    pub async fn ask_at(
        base: &str,
        t: u64,
        host: &HostSecretKey,
        cert: &SignedHostCertificate,
        entry: EntryId,
    ) -> anyhow::Result<(Self, crate::Resp)> {
        let mut rng = os_rng();
        let eph = EphemeralSecretKey::generate(&mut rng);
        let token = b64(&RequestId::generate(&mut rng).to_array());
        let req = Request {
            request_id: RequestId::generate(&mut rng),
            cert_id: cert.cert.cert_id,
            entry_id: entry,
            ephemeral_key: eph.public_key(),
            issued_at: t,
            expires_at: t + 300,
            nonce: [7; 16],
            min_version: 0,
            poll_token_hash: Sha256::digest(token.as_bytes()).into(),
            purpose: test_purpose(),
        }
        .sign(host)?;
        // A consumer sends no Origin and no cookie.
        let mut agent = Agent::new(base, None);
        let body = CreateRequest {
            signed_request: req.clone(),
            poll_token_hash: Some(hex(&Sha256::digest(token.as_bytes()))),
        };
        let resp = agent.post(paths::BROKER_REQUESTS, serde_json::to_value(&body)?).await?;
        Ok((Self { eph, req, token }, resp))
    }

    /// The request id (text).
    pub fn id(&self) -> String {
        self.req.request.request_id.to_text()
    }

    /// One poll of the result (its body reads as a [`PollResult`]).
    pub async fn poll(&self, server: &TestServer) -> anyhow::Result<crate::Resp> {
        self.poll_at(&server.base, None).await
    }

    /// One poll of the result at `base`, waiting up to `wait` seconds for a decision.
    pub async fn poll_at(&self, base: &str, wait: Option<u64>) -> anyhow::Result<crate::Resp> {
        let mut path = paths::with_id(paths::BROKER_REQUEST_RESULT, &self.id());
        if let Some(w) = wait {
            path = format!("{path}?wait={w}");
        }
        Agent::new(base, None).send_with("GET", &path, None, &[(paths::POLL_HEADER, &self.token)]).await
    }

    /// The result of one poll, as the contract's [`PollResult`].
    pub async fn result(&self, server: &TestServer) -> anyhow::Result<PollResult> {
        self.poll(server).await?.ok()?.json()
    }

    /// Withdraws the request (`POST …/cancel` with the poll token `token`; no cookie, no Origin).
    pub async fn cancel_with(&self, server: &TestServer, token: &str) -> anyhow::Result<crate::Resp> {
        let path = paths::with_id(paths::BROKER_REQUEST_CANCEL, &self.id());
        Agent::new(&server.base, None).send_with("POST", &path, None, &[(paths::POLL_HEADER, token)]).await
    }

    /// A long poll of the result (`?wait=wait_secs`) in a task of its own: the body it answers.
    pub fn wait_in_background(
        self: &std::sync::Arc<Self>,
        base: &str,
        wait_secs: u64,
    ) -> tokio::task::JoinHandle<anyhow::Result<PollResult>> {
        let (c, base) = (self.clone(), base.to_owned());
        tokio::spawn(async move {
            let path = format!("{}?wait={wait_secs}", paths::with_id(paths::BROKER_REQUEST_RESULT, &c.id()));
            let resp = Agent::new(&base, None)
                .send_with("GET", &path, None, &[(paths::POLL_HEADER, &c.token)])
                .await?;
            resp.json()
        })
    }

    /// Opens a delivered result as `blindvault run` does: each response only from a device
    /// whose enrolment (delivered beside it) verifies under `org`, none from a device the org's
    /// revocation record (delivered beside it, checked as by a consumer that has seen none
    /// before) names.
    pub fn open(&self, result: &PollResult, org: &OrgPublicKey) -> anyhow::Result<Vec<u8>> {
        self.open_after(result, org, 0)
    }

    /// [`Consumer::open`] by a consumer that has already seen the revocation record of epoch
    /// `seen` (an older one, or none, is a rollback).
    pub fn open_after(&self, result: &PollResult, org: &OrgPublicKey, seen: u64) -> anyhow::Result<Vec<u8>> {
        let (releases, revoked, entry) = self.releases(result, org, seen)?;
        Ok(recover_secret(&releases, entry, &revoked)?.expose().to_vec())
    }

    /// [`Consumer::open`] with the consumer's separation-of-duties check against its own
    /// certificate first (what `blindvault run` does too).
    pub fn open_checked(
        &self,
        result: &PollResult,
        org: &OrgPublicKey,
        cert: &HostCertificate,
    ) -> anyhow::Result<Vec<u8>> {
        let (releases, revoked, entry) = self.releases(result, org, 0)?;
        check_separation(cert, &releases)?;
        Ok(recover_secret(&releases, entry, &revoked)?.expose().to_vec())
    }

    /// The delivered revocation record (checked as by a consumer that has seen epoch `seen`), the
    /// responses, each opened only from a device vouched for under `org`, and the entry.
    fn releases<'r>(
        &self,
        result: &'r PollResult,
        org: &OrgPublicKey,
        seen: u64,
    ) -> anyhow::Result<(Vec<Release>, Revocations, &'r SealedEntry)> {
        let PollResult::Delivered { responses, enrolments, sealed_entry, revocations } = result else {
            bail!("not delivered: {result:?}");
        };
        let revoked = SignedRevocations::check(revocations.as_deref(), org, seen)?;
        let releases = responses
            .iter()
            .map(|r| Ok(open_vouched_response(&self.eph, &self.req, r, enrolments, org)?))
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok((releases, revoked, sealed_entry.as_deref().context("no sealed entry delivered")?))
    }
}

/// What the test kit's consumers say they will do: `./migrate.sh` with `DB` for 15 minutes.
pub fn test_purpose() -> blindvault_core::identity::Purpose {
    blindvault_core::identity::Purpose::run(&["./migrate.sh"], &["DB"], 900)
}

/// Lowercase hex.
pub fn hex(b: &[u8]) -> String {
    blindvault_core::encoding::hex::encode(b)
}

/// The device's side of an approval: verify the chain from its pinned org key, then a passkey
/// ceremony whose PRF output opens the envelope, then re-seal to the consumer's key.
pub async fn device_approves(
    server: &TestServer,
    a: &mut Approver,
    request_id: &str,
) -> anyhow::Result<crate::Resp> {
    let finish = device_prepares_approval(server, a, request_id).await?;
    device_finishes_approval(a, request_id, finish).await
}

/// [`device_approves`] up to (not including) `approve/finish`: returns the body to finish with.
pub async fn device_prepares_approval(
    server: &TestServer,
    a: &mut Approver,
    request_id: &str,
) -> anyhow::Result<Value> {
    let view = a
        .session
        .agent
        .get(&paths::with_id(paths::BROKER_REQUEST, request_id))
        .await?
        .ok()?
        .json::<RequestView>()?;
    let cert = SignedHostCertificate::from_bytes(&b64_decode(&view.certificate)?)?;
    let req = SignedRequest::from_bytes(&b64_decode(&view.signed_request)?)?;
    let verified = verify_request(&a.pinned_org, &cert, &req, now(server))?;
    ensure!(verified.host_name() == "ci-runner-7");
    let entry = SealedEntry::from_bytes(&b64_decode(
        view.sealed_entry.as_deref().context("the approver sees the sealed entry")?,
    )?)?;
    let start = a
        .session
        .agent
        .post(&paths::with_id(paths::BROKER_REQUEST_APPROVE_START, request_id), json!({}))
        .await?
        .ok()?
        .json::<CeremonyStart>()?;
    let (credential, prf) = a.device.get(&server.origin, &start.options).await?;
    let keys = KeySchedule::derive(&prf.context("the approval ceremony gives a PRF output")?);
    // The label shown to the person before they approve.
    let opened = entry.open_envelope(keys.approver_secret())?;
    ensure!(entry.decrypt_label(&opened.label_key)?.expose() == b"label: database");
    let sealed = approve(keys.approver_secret(), &verified, &entry, &mut os_rng())?;
    Ok(
        json!({ "ceremony_id": start.ceremony_id, "credential": credential, "sealed_response": b64(&sealed.to_bytes()) }),
    )
}

/// Sends the body [`device_prepares_approval`] made to `approve/finish`.
pub async fn device_finishes_approval(
    a: &mut Approver,
    request_id: &str,
    finish: Value,
) -> anyhow::Result<crate::Resp> {
    a.session.agent.post(&paths::with_id(paths::BROKER_REQUEST_APPROVE_FINISH, request_id), finish).await
}

/// What a compromised server can make on its own: an any-of release of `value` for `request`,
/// sealed to the request's (public) ephemeral key in HPKE base mode and named after the genuine
/// approver device `named` — the bytes of an honest approval, without the approver's key. The
/// consumer must refuse it.
pub fn forged_release(
    request: &SignedRequest,
    named: &blindvault_core::keys::ApproverPublicKey,
    version: u32,
    value: &[u8],
) -> anyhow::Result<SealedResponse> {
    let req = &request.request;
    let rid = req.request_id.to_array();
    let who = named.to_array();
    let mut payload = vec![1u8];
    for part in
        [&rid[..], &req.entry_id.to_array(), &version.to_be_bytes(), &Policy::AnyOf { n: 1 }.to_bytes()]
    {
        payload.extend_from_slice(part);
    }
    payload.extend_from_slice(&who);
    payload.push(1);
    payload.extend_from_slice(&u32::try_from(value.len())?.to_be_bytes());
    payload.extend_from_slice(value);
    let mut info = blindvault_core::release::INFO_RESPONSE_V2.to_vec();
    info.push(0);
    info.extend_from_slice(&rid);
    let c = blindvault_core::hpke::seal(&req.ephemeral_key.to_array(), &info, &who, &payload, &mut os_rng())?;
    let mut bytes = vec![1u8];
    for part in [&rid[..], &who, &c.enc, &u32::try_from(c.ct.len())?.to_be_bytes(), &c.ct] {
        bytes.extend_from_slice(part);
    }
    Ok(SealedResponse::from_bytes(&bytes)?)
}

/// What a dishonest approver device can send in its own name (its own approver key, HPKE auth
/// mode: a response the consumer opens): `payload` as the release plaintext of `request`.
pub fn sealed_by_approver(
    approver: &blindvault_core::keys::ApproverSecretKey,
    request: &SignedRequest,
    payload: &[u8],
) -> anyhow::Result<SealedResponse> {
    let rid = request.request.request_id.to_array();
    let who = approver.public_key().to_array();
    let mut info = blindvault_core::release::INFO_RESPONSE_V2.to_vec();
    info.push(0);
    info.extend_from_slice(&rid);
    let c = blindvault_core::hpke::seal_auth(
        &request.request.ephemeral_key.to_array(),
        (approver.expose(), &who),
        &info,
        &who,
        payload,
        &mut os_rng(),
    )?;
    let mut bytes = vec![1u8];
    for part in [&rid[..], &who, &c.enc, &u32::try_from(c.ct.len())?.to_be_bytes(), &c.ct] {
        bytes.extend_from_slice(part);
    }
    Ok(SealedResponse::from_bytes(&bytes)?)
}

/// A release payload of kind "any-of" (`0x01`) for `request`'s entry `version` from `approver`,
/// naming `policy` (the entry's own, or an any-of claim for an m-of-n entry): `value` in protocol
/// v1's form (`0x01 … 0x01 ‖ u32 len ‖ value`) when given, else a DEK of the sender's choosing
/// (the v2 form, `0x02 … 0x01 ‖ dek[32]`).
pub fn any_of_payload(
    request: &SignedRequest,
    approver: &blindvault_core::keys::ApproverPublicKey,
    version: u32,
    policy: Policy,
    v1_value: Option<&[u8]>,
) -> anyhow::Result<Vec<u8>> {
    let req = &request.request;
    let mut payload = vec![if v1_value.is_some() { 1u8 } else { 2u8 }];
    for part in [
        &req.request_id.to_array()[..],
        &req.entry_id.to_array(),
        &version.to_be_bytes(),
        &policy.to_bytes(),
        &approver.to_array(),
    ] {
        payload.extend_from_slice(part);
    }
    payload.push(1);
    match v1_value {
        Some(v) => {
            payload.extend_from_slice(&u32::try_from(v.len())?.to_be_bytes());
            payload.extend_from_slice(v);
        }
        None => payload.extend_from_slice(&[0x5a; 32]),
    }
    Ok(payload)
}
