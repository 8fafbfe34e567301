//! What the `blindvault` admin and consumer commands do against the broker, beyond parsing and
//! printing: verify every approver key against the local org key before sealing to it, sign
//! enrolments and host certificates, and — on a consumer host — ask for secrets with fresh
//! ephemeral keys, wait for the approvers, and open what they re-sealed.
//!
//! The server is never trusted with a key: approver keys come from the server but are used only
//! after their org signature verifies under the org key on this machine; fingerprints shown to
//! the admin are computed here from the key that gets signed.

use std::collections::BTreeSet;

use blindvault_api::ErrorCode;
use blindvault_core::entry::{SealedEntry, seal_entry};
use blindvault_core::identity::{Enrolment, Purpose, Request, SignedEnrolment, VerifiedApprover};
use blindvault_core::ids::{EntryId, RequestId};
use blindvault_core::keys::{ApproverPublicKey, EphemeralSecretKey, Fingerprint, OrgPublicKey, OrgSecretKey};
use blindvault_core::policy::Policy;
use blindvault_core::release::{check_separation, open_vouched_response, recover_secret};
use blindvault_core::revocation::{Revocations, SignedRevocations};
use blindvault_core::secret::SecretBytes;
use serde::Serialize;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::api::{
    ApiError, BrokerClient, EnrolmentView, EntryView, HostView, MeUser, PollOutcome, RemoveView,
};
use crate::hostfile::HostKeyFile;
use crate::{ClientError, os_rng, unix_now};

fn unb64(s: &str, what: &str) -> Result<Vec<u8>, ClientError> {
    blindvault_core::encoding::b64::decode(s)
        .map_err(|_| ClientError::Server(format!("the server sent a {what} that is not base64url")))
}

/// Parses an entry id (22 characters of base64url), saying what is wrong with one that is not.
pub fn parse_entry_id(s: &str) -> Result<EntryId, ClientError> {
    EntryId::parse(s.trim()).map_err(|_| ClientError::Input(bad_entry_id(s)))
}

/// Why `s` is not an entry id: its length, a character that is not base64url, or (22 valid
/// characters) a last character no id can end with — a typo, since ids are 16 bytes.
pub fn bad_entry_id(s: &str) -> String {
    let t = s.trim();
    let n = t.chars().count();
    let shown: String = t.chars().take(40).collect();
    let b64 = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    if let Some((i, c)) = t.chars().enumerate().find(|&(_, c)| !b64(c)) {
        return format!(
            "{shown:?} is not an entry id: character {} ({c:?}) is not base64url (entry ids use A-Z, a-z, 0-9, - and _)",
            i + 1
        );
    }
    if n != 22 {
        return format!("{shown:?} is not an entry id: it has {n} characters, an entry id has 22");
    }
    // 22 characters carry 132 bits, 16 bytes use 128: the last character's low 4 bits are 0.
    format!(
        "{shown:?} is not an entry id: no id ends in {:?} (the last character is one of A, Q, g, w) — \
         mistyped? Copy it from `blindvault secret list`",
        t.chars().last().unwrap_or(' ')
    )
}

// ---------------------------------------------------------------------------------------------
// org

/// Sets the org public key on the server and checks the server echoes the same fingerprint.
pub async fn org_push(api: &BrokerClient, org: &OrgPublicKey) -> Result<String, ClientError> {
    let view = api.put_org(org).await?;
    let want = org.fingerprint().to_string();
    if view.fingerprint.as_deref() != Some(want.as_str()) {
        return Err(ClientError::Server(format!(
            "the server reports org fingerprint {:?}, not ours ({want})",
            view.fingerprint
        )));
    }
    Ok(want)
}

/// The org key holder's user id, pinned in the org directory by `org push` (one line). A host
/// certificate names its issuer by user id, and that id comes from the server (`GET /api/me`):
/// pinning it when the key is pushed keeps a server compromised later from choosing whom the org
/// key names as issuer (and so whom the consumer's separation-of-duties check compares with).
pub const HOLDER_FILE: &str = "holder";

/// Pins the signed-in user as the org key's holder in `dir` (after a successful `org push`).
pub async fn pin_holder(api: &BrokerClient, dir: &std::path::Path) -> Result<MeUser, ClientError> {
    let me = api.me().await?;
    crate::write_private(&dir.join(HOLDER_FILE), format!("{}\n", me.id).as_bytes(), false)?;
    Ok(me)
}

/// The signed-in user, who must be the org key holder pinned in `dir`. A directory pushed before
/// pins existed is pinned now (first use).
pub async fn checked_holder(api: &BrokerClient, dir: &std::path::Path) -> Result<MeUser, ClientError> {
    let path = dir.join(HOLDER_FILE);
    let pinned = match std::fs::read_to_string(&path) {
        Ok(text) => text.trim().to_owned(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let me = pin_holder(api, dir).await?;
            eprintln!("note: pinned {} ({}) as the org key's holder in {}", me.name, me.id, path.display());
            return Ok(me);
        }
        Err(e) => return Err(ClientError::io(&path, e)),
    };
    let me = api.me().await?;
    if me.id != pinned {
        return Err(ClientError::Server(format!(
            "the server says this session is user {} ({:?}), but this org key was pushed by user {} \
             (pinned in {}): the org key names its holder as a certificate's issuer, so sign in as \
             that person (a server that answers otherwise may be compromised)",
            me.id,
            me.name,
            pinned,
            path.display()
        )));
    }
    Ok(me)
}

// ---------------------------------------------------------------------------------------------
// approvers

/// One enrolment as the admin sees it.
#[derive(Debug, Clone, Serialize)]
pub struct ApproverRow {
    /// Enrolment id.
    pub id: String,
    /// The person.
    pub user_name: String,
    /// Their user id.
    pub user_id: String,
    /// `pending` or `approved`.
    pub status: String,
    /// The approver key's fingerprint, computed here.
    pub fingerprint: String,
    /// For approved ones: whether the enrolment verifies under the local org key.
    pub signature_ok: Option<bool>,
    /// Whether the passkey is backup-eligible (a synced passkey), as the server relays its
    /// authenticator's flag; `None` if unknown.
    pub synced: Option<bool>,
    /// For approved ones: when the signed enrolment ends (Unix seconds).
    pub not_after: Option<u64>,
}

fn approver_key_of(view: &EnrolmentView) -> Result<ApproverPublicKey, ClientError> {
    ApproverPublicKey::from_bytes(&unb64(&view.approver_public_key, "approver key")?)
        .map_err(|_| ClientError::Server("the server sent an approver key of the wrong length".into()))
}

/// The invite link for a new approver: the server's web app, enrolment page, with the org
/// public key (base64url) in the fragment. Browsers never send the fragment to the server, so
/// the device pins the key the admin sent, not one the server chose.
///
/// With `code`, the link also carries a single-use invite code (registration is invite-only):
/// `…/#/enrol/ORG/CODE`.
pub fn invite_link(server: &str, org: &OrgPublicKey, code: Option<&str>) -> String {
    let mut link = format!(
        "{}/#/enrol/{}",
        server.trim_end_matches('/'),
        blindvault_core::encoding::b64::encode(&org.to_bytes())
    );
    if let Some(c) = code {
        link.push('/');
        link.push_str(c);
    }
    link
}

/// A sign-up link carrying an invite code: `…/#/signup/CODE`.
pub fn signup_link(server: &str, code: &str) -> String {
    format!("{}/#/signup/{code}", server.trim_end_matches('/'))
}

/// Makes an invite code (`role`: `user` or `admin`; `expires_in_secs`: its life).
pub async fn invite_create(
    api: &BrokerClient,
    role: &str,
    expires_in_secs: u64,
) -> Result<crate::api::InviteCreated, ClientError> {
    Ok(api.create_invite(role, expires_in_secs).await?)
}

/// The invite codes on the server (never the codes themselves).
pub async fn invite_list(api: &BrokerClient) -> Result<Vec<crate::api::InviteView>, ClientError> {
    Ok(api.invites().await?)
}

/// Revokes an unused invite code.
pub async fn invite_revoke(api: &BrokerClient, id: &str) -> Result<(), ClientError> {
    Ok(api.revoke_invite(id).await?)
}

/// Pending and approved enrolments, with fingerprints computed locally and approved ones checked
/// against `org`.
pub async fn approver_list(api: &BrokerClient, org: &OrgPublicKey) -> Result<Vec<ApproverRow>, ClientError> {
    let mut out = Vec::new();
    let now = unix_now();
    for v in api.enrolments().await? {
        let key = approver_key_of(&v)?;
        let signed = v
            .signed_enrolment
            .as_deref()
            .and_then(|s| blindvault_core::encoding::b64::decode(s).ok())
            .and_then(|b| SignedEnrolment::from_bytes(&b).ok());
        let not_after = signed.as_ref().map(|se| se.enrolment.not_after);
        let signature_ok = v.signed_enrolment.as_deref().map(|_| {
            signed
                .as_ref()
                .and_then(|se| se.verify(org, now).ok())
                .is_some_and(|va| va.public_key() == key && va.user_id() == v.user_id)
        });
        out.push(ApproverRow {
            id: v.id,
            user_name: v.user_name,
            user_id: v.user_id,
            status: v.status,
            fingerprint: key.fingerprint().to_string(),
            signature_ok,
            synced: v.backup_eligible,
            not_after,
        });
    }
    Ok(out)
}

/// A pending enrolment and the fingerprint (computed here) the admin must compare with the one
/// the device shows.
#[derive(Debug)]
pub struct PendingEnrolment {
    /// The server's row.
    pub view: EnrolmentView,
    /// The key that will be signed.
    pub key: ApproverPublicKey,
    /// Its fingerprint.
    pub fingerprint: Fingerprint,
}

/// Finds the enrolment `id` to approve (pending) or renew (approved).
pub async fn pending_enrolment(api: &BrokerClient, id: &str) -> Result<PendingEnrolment, ClientError> {
    let view =
        api.enrolments().await?.into_iter().find(|v| v.id == id).ok_or_else(|| {
            ClientError::Input(format!("no enrolment {id:?} (see `blindvault approver list`)"))
        })?;
    // A pending enrolment is approved; an approved one is renewed (signed again, with a new
    // `not_after`); a removed one stays removed (the org's revocation record names it).
    if view.status != "pending" && view.status != "approved" {
        return Err(ClientError::Input(format!(
            "enrolment {id} is {}: the device must enrol again (a new request for enrolment)",
            view.status
        )));
    }
    let key = approver_key_of(&view)?;
    Ok(PendingEnrolment { fingerprint: key.fingerprint(), key, view })
}

/// Signs the enrolment with the org key, valid for `valid_secs` from now, and sends it. (An
/// approved device is renewed the same way: a new enrolment of the same key.)
pub async fn approve_enrolment(
    api: &BrokerClient,
    org: &OrgSecretKey,
    pending: &PendingEnrolment,
    valid_secs: u64,
) -> Result<EnrolmentView, ClientError> {
    let now = unix_now();
    let signed = Enrolment {
        user_id: pending.view.user_id.clone(),
        credential_id: unb64(&pending.view.credential_id, "credential id")?,
        approver_key: pending.key,
        issued_at: now,
        not_after: now.saturating_add(valid_secs.max(1)),
    }
    .sign(org)?;
    Ok(api.approve_enrolment(&pending.view.id, &signed).await?)
}

/// The org's settings on the server; `refuse_synced`, if given, changes that one first.
pub async fn org_settings(
    api: &BrokerClient,
    refuse_synced: Option<bool>,
) -> Result<crate::api::OrgSettings, ClientError> {
    Ok(match refuse_synced {
        Some(v) => api.set_org_settings(&crate::api::OrgSettings { refuse_synced_approvers: v }).await?,
        None => api.org_settings().await?,
    })
}

/// Replaces the org key on the server (the client must carry a confirmed step-up for
/// `org.replace` on the new key's fingerprint) and checks the server echoes it.
pub async fn org_replace(api: &BrokerClient, org: &OrgPublicKey) -> Result<String, ClientError> {
    let view = api.replace_org(org).await?;
    let want = org.fingerprint().to_string();
    if view.fingerprint.as_deref() != Some(want.as_str()) {
        return Err(ClientError::Server(format!(
            "the server reports org fingerprint {:?}, not ours ({want})",
            view.fingerprint
        )));
    }
    Ok(want)
}

/// Removes an approver device (`dry_run`: only reports the entries that would fall below quorum).
pub async fn approver_remove(api: &BrokerClient, id: &str, dry_run: bool) -> Result<RemoveView, ClientError> {
    Ok(api.remove_enrolment(id, dry_run).await?)
}

// ---------------------------------------------------------------------------------------------
// revocation

/// The admin's copy of the newest revocation record, in the org directory (base64url of the
/// signed record, one line). The admin's machine trusts this file, not the server, for what is
/// revoked.
pub const REVOCATIONS_FILE: &str = "revocations";

fn read_local_revocations(dir: &std::path::Path) -> Result<Option<SignedRevocations>, ClientError> {
    let path = dir.join(REVOCATIONS_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => blindvault_core::encoding::b64::decode(text.trim())
            .ok()
            .and_then(|b| SignedRevocations::from_bytes(&b).ok())
            .map(Some)
            .ok_or_else(|| ClientError::bad_file(&path, "not a blindvault revocation record")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(ClientError::io(&path, e)),
    }
}

/// The newest revocation record the admin can vouch for: the org directory's copy or the
/// server's, whichever contains the other (append-only) — a pair where neither does is an
/// error naming the file — each verified under the org key (one that does
/// not verify is an error: the file was edited, or the server is lying). `None`: nothing was
/// ever revoked.
pub async fn current_revocations(
    api: &BrokerClient,
    org: &OrgPublicKey,
    dir: &std::path::Path,
) -> Result<Option<SignedRevocations>, ClientError> {
    let local = read_local_revocations(dir)?;
    if let Some(l) = &local {
        l.verify(org).map_err(|_| {
            ClientError::bad_file(
                &dir.join(REVOCATIONS_FILE),
                "the revocation record is not signed by this org key",
            )
        })?;
    }
    let remote = api.revocations().await?;
    if let Some(r) = &remote {
        r.verify(org).map_err(|_| {
            ClientError::Server(
                "the server's revocation record is not signed by the org key (the server may be compromised)"
                    .into(),
            )
        })?;
    }
    Ok(match (local, remote) {
        // Records are append-only: the newer must contain the older (`Revocations::replaces`).
        // Neither containing the other is a fork or a record that dropped a revocation: refuse
        // to build on either.
        (Some(l), Some(r)) => Some(if r.record.replaces(&l.record).is_ok() {
            r
        } else if l.record.replaces(&r.record).is_ok() {
            l
        } else {
            return Err(ClientError::bad_file(
                &dir.join(REVOCATIONS_FILE),
                format!(
                    "this revocation record (epoch {}) and the server's (epoch {}, GET /api/broker/revocations) \
                     diverge: neither contains everything the other revokes. Records are append-only; find which \
                     is the org's (another admin machine's copy of `{REVOCATIONS_FILE}`), put it here, and try again",
                    l.record.epoch, r.record.epoch
                ),
            ));
        }),
        (l, r) => l.or(r),
    })
}

/// What the admin's machine treats as revoked (for sealing new versions): see
/// [`current_revocations`].
pub async fn revoked_now(
    api: &BrokerClient,
    org: &OrgPublicKey,
    dir: &std::path::Path,
) -> Result<Revocations, ClientError> {
    Ok(current_revocations(api, org, dir).await?.map(|s| s.record).unwrap_or_default())
}

/// Signs the next revocation record — everything revoked so far plus `approvers` and `hosts` —
/// keeps it in the org directory and uploads it. Runs before the server-side removal, so a
/// device or host is revoked by the org's word even if the server later ignores its own rows.
pub async fn publish_revocation(
    api: &BrokerClient,
    org: &OrgSecretKey,
    dir: &std::path::Path,
    approvers: &[ApproverPublicKey],
    hosts: &[blindvault_core::ids::CertId],
) -> Result<SignedRevocations, ClientError> {
    let base = current_revocations(api, &org.public_key(), dir).await?.map(|s| s.record).unwrap_or_default();
    let next = base.next(approvers, hosts, unix_now())?.sign(org)?;
    let text = format!("{}\n", blindvault_core::encoding::b64::encode(&next.to_bytes()));
    crate::write_private(&dir.join(REVOCATIONS_FILE), text.as_bytes(), false)?;
    api.put_revocations(&next).await?;
    Ok(next)
}

/// The approver key of enrolment `id` (pending, approved or removed), from the server's list.
pub async fn enrolment_key(
    api: &BrokerClient,
    id: &str,
) -> Result<(EnrolmentView, ApproverPublicKey), ClientError> {
    let view =
        api.enrolments().await?.into_iter().find(|v| v.id == id).ok_or_else(|| {
            ClientError::Input(format!("no enrolment {id:?} (see `blindvault approver list`)"))
        })?;
    let key = approver_key_of(&view)?;
    Ok((view, key))
}

/// The device enrolment `id` names, as the org signed it: what `approver remove` revokes.
#[derive(Debug)]
pub struct RemovalTarget {
    /// The server's row.
    pub view: EnrolmentView,
    /// The approver key from the org-signed enrolment (verified under the local org key).
    pub key: ApproverPublicKey,
    /// The person the org-signed enrolment names (the server's user id).
    pub user_id: String,
    /// The key's fingerprint.
    pub fingerprint: Fingerprint,
}

/// The approver key of enrolment `id`, taken from its org-signed enrolment verified under
/// `org` (the signature only: an ended enrolment still names its device), never from the
/// server's unsigned `approver_public_key` — a server that names another key (to have the
/// admin revoke an innocent device and keep the one it wants) is refused, as is an enrolment
/// the org never signed.
pub async fn removal_target(
    api: &BrokerClient,
    org: &OrgPublicKey,
    id: &str,
) -> Result<RemovalTarget, ClientError> {
    let (view, server_key) = enrolment_key(api, id).await?;
    let text = view.signed_enrolment.as_deref().ok_or_else(|| {
        ClientError::Server(format!(
            "enrolment {id:?} carries no org-signed enrolment: the org never vouched for this device, \
             so there is nothing to revoke"
        ))
    })?;
    let signed = SignedEnrolment::from_bytes(&unb64(text, "signed enrolment")?)
        .map_err(|e| ClientError::Server(format!("the server sent a malformed signed enrolment: {e}")))?;
    let enrolment = signed.verify_signature_only(org).map_err(|e| {
        ClientError::Server(format!(
            "the signed enrolment of {id:?} does not verify under the local org key ({e}): \
             the server may be compromised; nothing was signed"
        ))
    })?;
    if enrolment.approver_key != server_key {
        return Err(ClientError::Server(format!(
            "the server names key {} for enrolment {id:?}, but the org signed key {}: the server \
             may be compromised; nothing was signed",
            server_key.fingerprint(),
            enrolment.approver_key.fingerprint()
        )));
    }
    Ok(RemovalTarget {
        user_id: enrolment.user_id.clone(),
        key: enrolment.approver_key,
        fingerprint: enrolment.approver_key.fingerprint(),
        view,
    })
}

/// The live entries whose latest version holds an envelope for `key`: what that device can
/// open today, and must be rotated away from it. Labels are decrypted with the org key.
pub async fn entries_opened_by(
    api: &BrokerClient,
    org: &OrgSecretKey,
    key: &ApproverPublicKey,
) -> Result<Vec<SecretRow>, ClientError> {
    let mut rows = Vec::new();
    for e in api.entries().await? {
        if e.sealed_entry.envelope_for(key).is_some() {
            rows.push(secret_row(&e.sealed_entry, org));
        }
    }
    Ok(rows)
}

// ---------------------------------------------------------------------------------------------
// hosts

/// Issues a host key file at `out` and registers its certificate. Every entry must exist on the
/// server. The certificate names the signed-in user as its issuer (separation of duties: they
/// cannot be the only approver of the host's requests unless `self_approval`). The file carries
/// the newest revocation record the admin knows (`dir`'s or the server's, see
/// [`current_revocations`]), so the host refuses an older one from its first delivery. If the
/// registration fails, the file is removed again.
pub async fn host_issue(
    api: &BrokerClient,
    org: &OrgSecretKey,
    dir: &std::path::Path,
    spec: &crate::admin::HostSpec<'_>,
    self_approval: bool,
    out: &std::path::Path,
) -> Result<(HostKeyFile, HostView), ClientError> {
    let entries = spec.entries;
    if entries.is_empty() {
        return Err(ClientError::Input("a host needs at least one --entry".into()));
    }
    let issuer = crate::admin::Issuer { user_id: checked_holder(api, dir).await?.id, self_approval };
    for e in entries {
        api.entry(&e.to_text()).await?;
    }
    let revocations = current_revocations(api, &org.public_key(), dir).await?;
    let file = crate::admin::host_issue(org, spec, unix_now(), &issuer, out, revocations)?;
    match api.register_host(&file.certificate).await {
        Ok(view) => Ok((file, view)),
        Err(e) => {
            let _ = std::fs::remove_file(out);
            Err(e.into())
        }
    }
}

// ---------------------------------------------------------------------------------------------
// secrets

/// Reads a secret value: from `file` (its exact bytes), else from stdin — a hidden prompt on a
/// terminal, otherwise everything piped in, minus one trailing newline. Never from argv.
pub fn read_secret_value(file: Option<&std::path::Path>) -> Result<SecretBytes, ClientError> {
    use std::io::{IsTerminal, Read};
    let value = match file {
        Some(f) => SecretBytes::new(std::fs::read(f).map_err(|e| ClientError::io(f, e))?),
        None if std::io::stdin().is_terminal() => {
            let v = Zeroizing::new(
                rpassword::prompt_password("Secret value (not echoed): ")
                    .map_err(|e| ClientError::Local(format!("reading the secret: {e}")))?,
            );
            SecretBytes::from_slice(v.as_bytes())
        }
        None => {
            let mut buf = Zeroizing::new(Vec::new());
            std::io::stdin()
                .read_to_end(&mut buf)
                .map_err(|e| ClientError::Local(format!("reading the secret from stdin: {e}")))?;
            let mut end = buf.len();
            if buf.get(..end).is_some_and(|b| b.ends_with(b"\n")) {
                end -= 1;
                if buf.get(..end).is_some_and(|b| b.ends_with(b"\r")) {
                    end -= 1;
                }
            }
            SecretBytes::from_slice(buf.get(..end).unwrap_or_default())
        }
    };
    if value.is_empty() {
        return Err(ClientError::Input("the secret value is empty".into()));
    }
    Ok(value)
}

/// How many approvals an entry needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyChoice {
    /// Any one approver.
    AnyOf,
    /// `m` distinct people.
    MOfN(u8),
}

/// Every approved approver device, each verified under the local org key, valid now, and not
/// named by `revoked` (the admin's newest revocation record: a server that lists a removed
/// device again, with its old enrolment, is not sealed to). A signature that does not verify
/// stops everything (the server is lying about an approver); an expired or revoked enrolment is
/// left out.
pub async fn verified_approvers(
    api: &BrokerClient,
    org: &OrgPublicKey,
    revoked: &Revocations,
) -> Result<Vec<VerifiedApprover>, ClientError> {
    let list = api.approvers().await?;
    let now = unix_now();
    let mut out = Vec::with_capacity(list.len());
    for a in &list {
        if revoked.approver_revoked(&a.signed_enrolment.enrolment.approver_key)
            || (now >= a.signed_enrolment.enrolment.not_after)
        {
            continue;
        }
        let v = a.signed_enrolment.verify(org, now).map_err(|e| {
            ClientError::Server(format!(
                "the enrolment of {} does not verify under the local org key ({e}); refusing to seal to it",
                a.user_name
            ))
        })?;
        if v.user_id() != a.user_id {
            return Err(ClientError::Server(format!(
                "the server lists {}'s device under another user id; refusing to seal to it",
                a.user_name
            )));
        }
        out.push(v);
    }
    if out.is_empty() {
        return Err(ClientError::Input(
            "there are no approved approvers yet (see `blindvault approver list` and `approver approve`)"
                .into(),
        ));
    }
    Ok(out)
}

fn people(approvers: &[VerifiedApprover]) -> Result<u8, ClientError> {
    let n = approvers.iter().map(VerifiedApprover::user_id).collect::<BTreeSet<_>>().len();
    u8::try_from(n).map_err(|_| ClientError::Input(format!("{n} approvers; at most 255 people per entry")))
}

fn policy_for(choice: PolicyChoice, n: u8) -> Result<Policy, ClientError> {
    let p = match choice {
        PolicyChoice::AnyOf => Policy::AnyOf { n },
        PolicyChoice::MOfN(1) => {
            return Err(ClientError::Input("--m-of-n 1 is --policy any-of".into()));
        }
        PolicyChoice::MOfN(m) if m > n => {
            return Err(ClientError::Input(format!(
                "--m-of-n {m} needs {m} approvers, but only {n} are enrolled"
            )));
        }
        PolicyChoice::MOfN(m) => Policy::MOfN { m, n },
    };
    p.validate()?;
    Ok(p)
}

/// Describes a policy for people: `any-of 2`, `2-of-3`.
pub fn describe_policy(p: &Policy) -> String {
    match p {
        Policy::AnyOf { n } => format!("any-of {n}"),
        Policy::MOfN { m, n } => format!("{m}-of-{n}"),
    }
}

/// Writes a new secret: seals `value` (and `label`) to every verified approver, signs it with
/// the org key and uploads it.
pub async fn secret_put(
    api: &BrokerClient,
    org: &OrgSecretKey,
    choice: PolicyChoice,
    label: &[u8],
    value: &SecretBytes,
    allow_self_approval: bool,
    revoked: &Revocations,
) -> Result<EntryView, ClientError> {
    if value.is_empty() {
        return Err(ClientError::Input("the secret value is empty".into()));
    }
    let approvers = verified_approvers(api, &org.public_key(), revoked).await?;
    let policy = policy_for(choice, people(&approvers)?)?;
    let entry_id = EntryId::generate(&mut os_rng());
    let entry = seal_entry(org, entry_id, 1, policy, &approvers, label, value.expose(), &mut os_rng())?;
    Ok(api.put_entry(&entry, allow_self_approval).await?)
}

/// Writes a new version of an entry: same policy kind (and threshold), sealed to today's
/// approvers; the label is kept unless `label` is given.
pub async fn secret_rotate(
    api: &BrokerClient,
    org: &OrgSecretKey,
    entry_id: EntryId,
    label: Option<&[u8]>,
    value: &SecretBytes,
    allow_self_approval: bool,
    revoked: &Revocations,
) -> Result<EntryView, ClientError> {
    if value.is_empty() {
        return Err(ClientError::Input("the secret value is empty".into()));
    }
    let org_pub = org.public_key();
    let current = api.entry(&entry_id.to_text()).await?;
    let old = &current.sealed_entry;
    if old.entry_id != entry_id {
        return Err(ClientError::Server("the server sent another entry than the one asked for".into()));
    }
    let kept;
    let label = match label {
        Some(l) => l,
        None => {
            kept = old.decrypt_label_as_org(org)?;
            kept.expose()
        }
    };
    let approvers = verified_approvers(api, &org_pub, revoked).await?;
    let choice = match old.policy {
        Policy::AnyOf { .. } => PolicyChoice::AnyOf,
        Policy::MOfN { m, .. } => PolicyChoice::MOfN(m),
    };
    let policy = policy_for(choice, people(&approvers)?)?;
    let version = old
        .version
        .checked_add(1)
        .ok_or_else(|| ClientError::Input("the entry has no versions left".into()))?;
    let entry = seal_entry(org, entry_id, version, policy, &approvers, label, value.expose(), &mut os_rng())?;
    Ok(api.put_entry(&entry, allow_self_approval).await?)
}

/// One entry as the admin sees it.
#[derive(Debug, Clone, Serialize)]
pub struct SecretRow {
    /// Entry id.
    pub entry_id: String,
    /// Latest version.
    pub version: u32,
    /// `any-of 2`, `2-of-3`.
    pub policy: String,
    /// The label, decrypted with the org key (lossy UTF-8).
    pub label: String,
}

/// Lists live entries with their labels decrypted by the org key.
pub async fn secret_list(api: &BrokerClient, org: &OrgSecretKey) -> Result<Vec<SecretRow>, ClientError> {
    Ok(api.entries().await?.iter().map(|e| secret_row(&e.sealed_entry, org)).collect())
}

fn secret_row(s: &SealedEntry, org: &OrgSecretKey) -> SecretRow {
    let label = match s.decrypt_label_as_org(org) {
        Ok(l) => String::from_utf8_lossy(l.expose()).into_owned(),
        Err(_) => "(label does not open with this org key)".into(),
    };
    SecretRow {
        entry_id: s.entry_id.to_text(),
        version: s.version,
        policy: describe_policy(&s.policy),
        label,
    }
}

// ---------------------------------------------------------------------------------------------
// consumer

/// A secret the consumer wants, by the name it will have (an environment variable, or the
/// template's name).
#[derive(Debug, Clone)]
pub struct Wanted {
    /// The name.
    pub name: String,
    /// The entry.
    pub entry: EntryId,
}

/// How long one result poll may wait on the server before it answers "pending" (the status
/// line's approval count is refreshed at least this often).
const POLL_WAIT_SECS: u64 = 5;

/// The longest pause between two tries while the server does not answer.
const RETRY_MAX: std::time::Duration = std::time::Duration::from_secs(15);

/// The pause before try `n + 1` after `n` failures in a row: 1, 2, 4, 8, then 15 s.
fn retry_delay(failures: u32) -> std::time::Duration {
    std::time::Duration::from_secs(1u64 << failures.saturating_sub(1).min(4)).min(RETRY_MAX)
}

/// A failed poll that may be tried again: the server (or a proxy before it) could not answer
/// now — down, restarting, failing over, overloaded — rather than answering about the request.
/// A poll is safe to repeat: a delivery the answer to which was lost answers 410 the next time.
fn poll_may_retry(e: &ApiError) -> bool {
    match e {
        ApiError::Unreachable { .. } => true,
        ApiError::Server { status, .. } | ApiError::Protocol { status, .. } => {
            matches!(*status, 408 | 429) || (500..600).contains(status)
        }
        _ => false,
    }
}

/// A failed creation that certainly made nothing, so the same signed request may be sent again:
/// the connection was never made, or the server refused it for now (429: too many requests —
/// the insert is rolled back — or 503).
fn create_may_retry(e: &ApiError) -> bool {
    match e {
        ApiError::Unreachable { why, .. } => why == "connection failed",
        ApiError::Server { status, .. } | ApiError::Protocol { status, .. } => matches!(*status, 429 | 503),
        _ => false,
    }
}

/// One request in flight.
struct InFlight {
    names: Vec<String>,
    entry: EntryId,
    request: blindvault_core::identity::SignedRequest,
    request_id: String,
    /// Dropped (zeroized) as soon as the response is opened.
    ephemeral: Option<EphemeralSecretKey>,
    token: Zeroizing<String>,
    expires_at: u64,
    approvals: i64,
    threshold: i64,
    approvers: Vec<String>,
    secret: Option<SecretBytes>,
    /// Polls that failed in a row (the server did not answer); 0 after an answer.
    failures: u32,
}

fn who(approvers: &[String], threshold: i64) -> String {
    if approvers.is_empty() {
        return "the approvers".into();
    }
    if threshold <= 1 {
        match approvers {
            [one] => one.clone(),
            [init @ .., last] => format!("{} or {last}", init.join(", ")),
            [] => String::new(),
        }
    } else {
        format!("{threshold} of {}", approvers.join(", "))
    }
}

fn host_refusal(e: ApiError) -> ClientError {
    match e.error_code() {
        Some(ErrorCode::UnknownHost | ErrorCode::HostRevoked | ErrorCode::RequestInvalid) => {
            ClientError::HostRefused(e.to_string())
        }
        _ => e.into(),
    }
}

/// The status line: who must approve what.
fn status_line(items: &[InFlight]) -> String {
    let waiting: Vec<&InFlight> = items.iter().filter(|i| i.secret.is_none()).collect();
    let many = items.len() > 1;
    waiting
        .iter()
        .map(|i| {
            let prefix = if many { format!("{}: ", i.names.join(", ")) } else { String::new() };
            format!(
                "{prefix}waiting for approval by {} ({}/{})…",
                who(&i.approvers, i.threshold),
                i.approvals,
                i.threshold
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// What a consumer asks for: the secrets, what it will do with them (signed into each request
/// and shown to the approver) and how long approvers have to decide (seconds).
#[derive(Debug, Clone, Copy)]
pub struct Ask<'a> {
    /// The secrets and the names they go by.
    pub wanted: &'a [Wanted],
    /// The purpose signed into every request.
    pub purpose: &'a Purpose,
    /// The approval window.
    pub window_secs: u64,
}

/// Asks for every wanted secret (one request per distinct entry, each with a fresh ephemeral key
/// and poll token), waits until each is approved — calling `on_status` with a line naming who
/// must approve after every poll — and opens the responses. The approval window is `window_secs`
/// (at most an hour, and never past the host certificate).
///
/// When `stop` resolves (to a signal number: the caller's Ctrl-C or SIGTERM) before every secret
/// is in, each request still open is withdrawn on the server (`cancel`, so the approvers'
/// phones no longer offer it) and the call ends with [`ClientError::Interrupted`].
///
/// Errors: [`ClientError::Denied`], [`ClientError::Expired`], [`ClientError::HostRefused`],
/// [`ClientError::Interrupted`].
pub async fn fetch_secrets(
    api: &BrokerClient,
    host: &HostKeyFile,
    ask: Ask<'_>,
    versions: &mut crate::hostfile::VersionMemory,
    on_status: &mut (dyn FnMut(&str) + Send),
    stop: impl std::future::Future<Output = i32>,
) -> Result<Vec<(String, SecretBytes)>, ClientError> {
    Ok(fetch_secrets_leased(api, host, ask, versions, on_status, stop).await?.0)
}

/// A delivered request whose lease the host watches: its id and poll token (the lease poll
/// authenticates like the result poll).
pub struct LeaseTicket {
    /// The request id.
    pub request_id: String,
    token: Zeroizing<String>,
}

impl std::fmt::Debug for LeaseTicket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeaseTicket")
            .field("request_id", &self.request_id)
            .field("token", &"<redacted>")
            .finish()
    }
}

/// How long one lease poll may wait on the server before it answers "running".
const LEASE_POLL_WAIT_SECS: u64 = 5;

/// How long to wait before asking again when the server could not be reached.
const LEASE_RETRY: std::time::Duration = std::time::Duration::from_secs(2);

/// Watches the leases of `tickets` (long polls, one per request, all at once) and resolves to
/// the name of whoever ended one of them early (`someone` if the server no longer knows the
/// name) — any one ended ends the run. A lease the server says is over, or a request it does
/// not deliver a lease for, is no longer watched (the host's own clock ends the lease); when
/// none is left, resolves to `None`. A server that cannot be reached is asked again every 2 s:
/// ending early needs the server to reach the host.
pub async fn watch_leases(api: &BrokerClient, tickets: &[LeaseTicket]) -> Option<String> {
    use futures_util::StreamExt;
    let poll = |k: usize, delay: bool| async move {
        if delay {
            tokio::time::sleep(LEASE_RETRY).await;
        }
        let t = tickets.get(k)?;
        Some((k, api.poll_lease(&t.request_id, &t.token, LEASE_POLL_WAIT_SECS).await))
    };
    let mut polls = futures_util::stream::FuturesUnordered::new();
    for k in 0..tickets.len() {
        polls.push(poll(k, false));
    }
    while let Some(next) = polls.next().await {
        let Some((k, answer)) = next else { continue };
        match answer {
            Ok(s) if s.state == crate::api::LeaseState::Ended => {
                return Some(s.ended_by.unwrap_or_else(|| "someone".to_owned()));
            }
            Ok(s) if s.state == crate::api::LeaseState::Running => polls.push(poll(k, false)),
            Ok(_) => {}
            Err(e)
                if matches!(e.error_code(), Some(ErrorCode::LeaseNotRunning | ErrorCode::NoSuchRequest)) => {}
            // A server without the lease route (older than this client): nothing to watch.
            Err(crate::api::ApiError::Protocol { status: 404, .. }) => {}
            Err(_) => polls.push(poll(k, true)),
        }
    }
    None
}

/// [`fetch_secrets`], also handing back a [`LeaseTicket`] per request, for [`watch_leases`].
pub async fn fetch_secrets_leased(
    api: &BrokerClient,
    host: &HostKeyFile,
    ask: Ask<'_>,
    versions: &mut crate::hostfile::VersionMemory,
    on_status: &mut (dyn FnMut(&str) + Send),
    stop: impl std::future::Future<Output = i32>,
) -> Result<(Vec<(String, SecretBytes)>, Vec<LeaseTicket>), ClientError> {
    use futures_util::future::{Either, select};
    let Ask { wanted, purpose, window_secs } = ask;
    let mut stop = std::pin::pin!(stop);
    if wanted.is_empty() {
        return Err(ClientError::Input("no secrets asked for".into()));
    }
    let cert = &host.certificate.cert;
    let now = unix_now();
    if now >= cert.not_after {
        return Err(ClientError::HostRefused(format!(
            "this host's certificate ({}) has expired; issue a new one with `blindvault host issue`",
            cert.host_name
        )));
    }
    for w in wanted {
        if !cert.allowed_entries.contains(&w.entry) {
            return Err(ClientError::HostRefused(format!(
                "entry {} ({}) is not in this host's certificate; issue one that names it",
                w.entry.to_text(),
                w.name
            )));
        }
    }
    let expires_at = now.saturating_add(window_secs.clamp(1, 3600)).min(cert.not_after);
    // What the admin had revoked when issuing this host counts as received.
    versions.adopt_revocations(host.revocations.as_ref(), &host.org);

    // One request per distinct entry.
    // Its full size up front: a vector that grows moves its elements — the ephemeral keys
    // among them — and frees the old buffer without wiping it.
    let mut items: Vec<InFlight> = Vec::with_capacity(wanted.len());
    for w in wanted {
        if let Some(i) = items.iter_mut().find(|i| i.entry == w.entry) {
            i.names.push(w.name.clone());
            continue;
        }
        let mut rng = os_rng();
        let ephemeral = EphemeralSecretKey::generate(&mut rng);
        let mut nonce = [0u8; 16];
        rand_core::Rng::fill_bytes(&mut rng, &mut nonce);
        let mut token_bytes = Zeroizing::new([0u8; 32]);
        rand_core::Rng::fill_bytes(&mut rng, token_bytes.as_mut_slice());
        let token = Zeroizing::new(blindvault_core::encoding::b64::encode(token_bytes.as_slice()));
        // The token's hash is signed into the request: nobody who sees the request first can
        // register it with a token of their own and take the one delivery.
        let poll_token_hash: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let request = Request {
            request_id: RequestId::generate(&mut rng),
            cert_id: cert.cert_id,
            entry_id: w.entry,
            ephemeral_key: ephemeral.public_key(),
            issued_at: now,
            expires_at,
            nonce,
            min_version: versions.min_version(&w.entry),
            poll_token_hash,
            purpose: purpose.clone(),
        }
        .sign(&host.secret)?;
        let hash = blindvault_core::encoding::hex::encode(poll_token_hash);
        let signal = {
            // Sent again while the server cannot take it yet (down, or too many requests for
            // now), until the request would expire; a signal ends the wait at once.
            let sent = std::pin::pin!(async {
                let mut failures = 0u32;
                loop {
                    match api.create_request(&request, &hash).await {
                        Err(e) if create_may_retry(&e) && unix_now() < expires_at => {
                            failures = failures.saturating_add(1);
                            let wait = retry_delay(failures);
                            on_status(&format!("{e}; trying again in {} s", wait.as_secs()));
                            tokio::time::sleep(wait).await;
                        }
                        other => return other,
                    }
                }
            });
            match select(sent, stop.as_mut()).await {
                Either::Left((r, _)) => Ok(r.map_err(host_refusal)?),
                Either::Right((signal, _)) => Err(signal),
            }
        };
        let created = match signal {
            Ok(created) => created,
            Err(signal) => {
                // This request may have reached the server: withdraw it too.
                let id = request.request.request_id.to_text();
                let mut open: Vec<(&str, &str)> =
                    items.iter().map(|i| (i.request_id.as_str(), i.token.as_str())).collect();
                open.push((&id, token.as_str()));
                return Err(interrupted(api, signal, &open).await);
            }
        };
        if created.request_id != request.request.request_id.to_text() {
            return Err(ClientError::Server("the server answered for another request".into()));
        }
        items.push(InFlight {
            names: vec![w.name.clone()],
            entry: w.entry,
            request_id: created.request_id,
            request,
            ephemeral: Some(ephemeral),
            token,
            expires_at,
            approvals: 0,
            threshold: created.threshold,
            approvers: created.approvers,
            secret: None,
            failures: 0,
        });
    }
    on_status(&status_line(&items));

    // One request's end (denied, expired, refused) ends the run: the others are withdrawn
    // too, so they do not stay on the approvers' phones.
    let waited: Result<(), ClientError> = async {

        // Every request is polled at once (one long-poll each), and each answer is handled as it
        // arrives: a secret released quickly is not held up behind another still waiting.
        // A poll after a failed one waits `after` first.
        let poll = |k: usize, id: String, token: Zeroizing<String>, after: std::time::Duration| async move {
            if !after.is_zero() {
                tokio::time::sleep(after).await;
            }
            (k, api.poll_result(&id, &token, POLL_WAIT_SECS).await)
        };
        let mut polls = futures_util::stream::FuturesUnordered::new();
        for (k, i) in items.iter().enumerate() {
            polls.push(poll(k, i.request_id.clone(), i.token.clone(), std::time::Duration::ZERO));
        }
        loop {
            let next = futures_util::StreamExt::next(&mut polls);
            let (k, outcome) = match select(next, stop.as_mut()).await {
                Either::Left((Some(polled), _)) => polled,
                Either::Left((None, _)) => break,
                Either::Right((signal, _)) => {
                    let open: Vec<(&str, &str)> = items
                        .iter()
                        .filter(|i| i.secret.is_none())
                        .map(|i| (i.request_id.as_str(), i.token.as_str()))
                        .collect();
                    return Err(interrupted(api, signal, &open).await);
                }
            };
            let Some(i) = items.get_mut(k) else { continue };
            let label = i.names.join(", ");
            // The server did not answer (restarting, failing over to another instance, too
            // busy): the request is still there; ask again, less often, until it would expire.
            let outcome = match outcome {
                Err(e) if poll_may_retry(&e) && unix_now() <= i.expires_at.saturating_add(5) => {
                    i.failures = i.failures.saturating_add(1);
                    let wait = retry_delay(i.failures);
                    on_status(&format!("{label}: {e}; trying again in {} s", wait.as_secs()));
                    polls.push(poll(k, i.request_id.clone(), i.token.clone(), wait));
                    continue;
                }
                other => {
                    i.failures = 0;
                    other?
                }
            };
            match outcome {
                PollOutcome::Pending { approvals, threshold, approvers } => {
                    i.approvals = approvals;
                    i.threshold = threshold;
                    if !approvers.is_empty() {
                        i.approvers = approvers;
                    }
                    if unix_now() > i.expires_at.saturating_add(5) {
                        return Err(ClientError::Expired(format!(
                            "{label}: the request expired before enough people approved"
                        )));
                    }
                    polls.push(poll(k, i.request_id.clone(), i.token.clone(), std::time::Duration::ZERO));
                }
                PollOutcome::Denied { by } => {
                    return Err(ClientError::Denied(match by {
                        Some(by) => format!("{label}: denied by {by}"),
                        None => format!("{label}: the request was refused (denied, or the host was revoked)"),
                    }));
                }
                PollOutcome::Expired => {
                    return Err(ClientError::Expired(format!(
                        "{label}: the request expired before enough people approved"
                    )));
                }
                PollOutcome::Cancelled => {
                    return Err(ClientError::Lease(format!("{label}: the request was withdrawn")));
                }
                PollOutcome::Delivered { responses, enrolments, sealed_entry, revocations } => {
                    // The org's revocation record, checked before anything is opened: signed by
                    // the org key of the host key file, and not older than the newest this host
                    // has received (a server cannot undo a revocation by serving an old record).
                    let revoked = versions.accept_revocations(revocations.as_deref(), &host.org).map_err(|e| {
                        ClientError::Server(match e {
                            blindvault_core::Error::Rollback { seen, got } => format!(
                                "{label}: the server sent an older revocation record (epoch {got}) than this host \
                                 has already received (epoch {seen}); refused (the server may be compromised)"
                            ),
                            blindvault_core::Error::Diverged { seen, got } => format!(
                                "{label}: the server's revocation record (epoch {got}) does not contain the one this \
                                 host has already received (epoch {seen}); refused (records are append-only)"
                            ),
                            _ => format!(
                                "{label}: the server's revocation record is not signed by the organisation's key; \
                                 refused (the server may be compromised)"
                            ),
                        })
                    })?;
                    // Borrowed, then wiped where it lies: `take()` would move a copy out and
                    // leave the key's bytes behind in `items` (a `None` only rewrites the tag).
                    let eph = i
                        .ephemeral
                        .as_ref()
                        .ok_or_else(|| ClientError::Server("a response arrived twice".into()))?;
                    // Only devices the org key of the host key file vouched for: a response in any
                    // other name — the server's own included — is refused before it is opened.
                    let releases = responses
                        .iter()
                        .map(|r| {
                            open_vouched_response(eph, &i.request, r, &enrolments, &host.org).map_err(|e| {
                                let fp = r.approver.fingerprint();
                                match e {
                                    blindvault_core::Error::NotVouched => ClientError::Server(format!(
                                        "{label}: refused a response from approver device {fp}, which the \
                                         organisation's key did not vouch for (the server may be compromised)"
                                    )),
                                    blindvault_core::Error::Decrypt => ClientError::Server(format!(
                                        "{label}: a response in the name of approver device {fp} was not \
                                         sealed by that device; refused (the server may be compromised)"
                                    )),
                                    other => other.into(),
                                }
                            })
                        })
                        .collect::<Result<Vec<_>, ClientError>>()?;
                    zeroize::Zeroize::zeroize(&mut i.ephemeral);
                    // Separation of duties from the host's own certificate (org-signed), not from
                    // the server's word: its issuer alone releases nothing unless it says so.
                    check_separation(&host.certificate.cert, &releases).map_err(|e| match e {
                        blindvault_core::Error::SelfApproval => ClientError::Server(format!(
                            "{label}: the only approval came from the person who issued this host's \
                             certificate ({}), which needs another approver (separation of duties); \
                             refused (the server may be compromised). To let the issuer approve alone, \
                             issue the host with `blindvault host issue --allow-self-approval`",
                            host.certificate.cert.issuer.as_deref().unwrap_or_default()
                        )),
                        other => other.into(),
                    })?;
                    // Every policy decrypts the org-signed entry here: `recover_secret` checks its
                    // signature, that each responding device holds an envelope in it, and decrypts
                    // the value with the released DEK or the combined shares.
                    let entry = sealed_entry.ok_or_else(|| {
                        ClientError::Server(format!(
                            "{label}: the server delivered responses without the sealed entry; refused \
                             (the server may be out of date or compromised)"
                        ))
                    })?;
                    let secret = recover_secret(&releases, &entry, &revoked).map_err(|e| match e {
                        blindvault_core::Error::Revoked { .. } => ClientError::Server(format!(
                            "{label}: a response came from an approver device the organisation has revoked; \
                             refused (the server may be compromised)"
                        )),
                        blindvault_core::Error::BadSignature { link: blindvault_core::Link::Entry } => ClientError::Server(format!(
                            "{label}: the server's copy of the entry is not signed by the organisation's key; refused"
                        )),
                        blindvault_core::Error::Mismatch { .. } | blindvault_core::Error::ShareMismatch => {
                            ClientError::Server(format!(
                                "{label}: a response does not match the organisation's entry (a device \
                                 without an envelope of it, or another policy); refused"
                            ))
                        }
                        blindvault_core::Error::Decrypt => ClientError::Server(format!(
                            "{label}: the released key does not open the organisation's entry; refused"
                        )),
                        other => other.into(),
                    })?;
                    // The org signed this version (checked above): remember it, so that no older one
                    // is accepted on this host again.
                    versions.record(&entry.entry_id, entry.version);
                    i.secret = Some(secret);
                }
            }
            if items.iter().any(|i| i.secret.is_none()) {
                on_status(&status_line(&items));
            }
        }
        Ok(())
    }
    .await;
    if let Err(e) = waited {
        // What was verified before the run ended is still remembered.
        let _ = versions.save();
        if !matches!(e, ClientError::Interrupted { .. }) {
            let open: Vec<(&str, &str)> = items
                .iter()
                .filter(|i| i.secret.is_none())
                .map(|i| (i.request_id.as_str(), i.token.as_str()))
                .collect();
            // Best effort: the request that ended answers 409, which is fine.
            let _ =
                futures_util::future::join_all(open.iter().map(|(id, t)| api.cancel_request(id, t))).await;
        }
        return Err(e);
    }

    // Best effort: a host that cannot write beside its key keeps working, only without the
    // memory (and says so).
    if let Err(e) = versions.save() {
        on_status(&format!("warning: could not remember the entry versions received: {e}"));
    }
    let mut out = Vec::with_capacity(wanted.len());
    for w in wanted {
        let secret = items
            .iter()
            .find(|i| i.entry == w.entry)
            .and_then(|i| i.secret.clone())
            .ok_or_else(|| ClientError::Server(format!("no secret for {}", w.name)))?;
        out.push((w.name.clone(), secret));
    }
    let tickets =
        items.into_iter().map(|i| LeaseTicket { request_id: i.request_id, token: i.token }).collect();
    Ok((out, tickets))
}

/// A signal's name (`SIGINT`, …) for messages.
pub fn signal_name(signal: i32) -> String {
    match signal {
        1 => "SIGHUP".into(),
        2 => "SIGINT".into(),
        3 => "SIGQUIT".into(),
        15 => "SIGTERM".into(),
        n => format!("signal {n}"),
    }
}

/// Withdraws the open requests `(request id, poll token)` after `signal` stopped the wait, and
/// says how that went.
async fn interrupted(api: &BrokerClient, signal: i32, open: &[(&str, &str)]) -> ClientError {
    let results =
        futures_util::future::join_all(open.iter().map(|(id, token)| api.cancel_request(id, token))).await;
    let failed: Vec<String> = results.into_iter().filter_map(Result::err).map(|e| e.to_string()).collect();
    let what = if failed.is_empty() {
        format!(
            "stopped by {} while waiting for approval; the request was withdrawn (approvers can no longer approve it)",
            signal_name(signal)
        )
    } else {
        format!(
            "stopped by {} while waiting for approval; could not withdraw the request ({}): it stays on the \
             approvers' list until it expires — tell them to deny it",
            signal_name(signal),
            failed.join("; ")
        )
    };
    ClientError::Interrupted { signal, what }
}

/// The entries a template names (`{{ blindvault "ENTRY_ID" }}`), each name an entry id.
pub fn template_wants(template: &str) -> Result<Vec<Wanted>, ClientError> {
    let names = crate::template::names(template)?;
    if names.is_empty() {
        return Err(ClientError::Template(
            "the template names no secret ({{ blindvault \"ENTRY_ID\" }})".into(),
        ));
    }
    names
        .into_iter()
        .map(|name| {
            let entry = EntryId::parse(&name).map_err(|_| ClientError::Template(bad_entry_id(&name)))?;
            Ok(Wanted { name, entry })
        })
        .collect()
}

/// Renders `template` with `secrets` and writes it to `out` (mode 0600, replaced atomically).
pub fn inject_to_file(
    template: &str,
    secrets: Vec<(String, SecretBytes)>,
    out: &std::path::Path,
) -> Result<(), ClientError> {
    let values: std::collections::BTreeMap<String, SecretBytes> = secrets.into_iter().collect();
    let rendered = crate::template::render(template, &values)?;
    crate::write_private(out, rendered.expose(), false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn who_reads_well() {
        assert_eq!(who(&["alice".into()], 1), "alice");
        assert_eq!(who(&["alice".into(), "bob".into()], 1), "alice or bob");
        assert_eq!(who(&["a".into(), "b".into(), "c".into()], 1), "a, b or c");
        assert_eq!(who(&["a".into(), "b".into(), "c".into()], 2), "2 of a, b, c");
    }

    #[test]
    fn entry_id_mistakes_are_named() {
        let ok = EntryId::generate(&mut os_rng()).to_text();
        assert!(parse_entry_id(&ok).is_ok());
        let e = bad_entry_id("AAAAAAAAAAAAAAAAAAAAAB");
        assert!(e.contains("no id ends in 'B'") && !e.contains("22 characters"), "{e}");
        let e = bad_entry_id("AAAAAAAAAAA+AAAAAAAAAA");
        assert!(e.contains("character 12 ('+') is not base64url"), "{e}");
        let e = bad_entry_id("AAAA");
        assert!(e.contains("it has 4 characters"), "{e}");
    }

    #[test]
    fn policies() {
        assert_eq!(policy_for(PolicyChoice::AnyOf, 2).ok(), Some(Policy::AnyOf { n: 2 }));
        assert_eq!(policy_for(PolicyChoice::MOfN(2), 3).ok(), Some(Policy::MOfN { m: 2, n: 3 }));
        assert!(policy_for(PolicyChoice::MOfN(4), 3).is_err());
        assert!(policy_for(PolicyChoice::MOfN(1), 3).is_err());
    }
}
