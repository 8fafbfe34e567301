//! Conversions between the JavaScript forms (base64url strings, byte arrays, numbers) and the
//! core's types. Plain Rust, so it is tested natively; the wasm-bindgen layer only wraps it.

use blindvault_core::encoding::b64;
use blindvault_core::entry::SealedEntry;
use blindvault_core::identity::{
    SignedEnrolment, SignedHostCertificate, SignedRequest, VerifiedRequest, verify_request,
};
use blindvault_core::keys::{ApproverPublicKey, OrgPublicKey};
use blindvault_core::release;
use blindvault_core::revocation::SignedRevocations;
use blindvault_core::rng::os_rng;
use blindvault_core::schedule::{KeySchedule, PRF_SALT_V1, PrfOutput};
use blindvault_core::storage;
use serde::Serialize;

/// What kind of failure a [`Failure`] is: a stable code the web app switches on (the list is
/// written out once more in `web/js/codes.js`; a test checks the two agree).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Code {
    /// A link of the chain is not signed by the key that must sign it (host certificate,
    /// request, enrolment, entry, revocation record).
    BadSignature,
    /// Parts of the chain disagree (another entry, another host certificate, …).
    Mismatch,
    /// Data from the server that does not decode as what it claims to be.
    Malformed,
    /// The server's revocation record is older than one this device has seen.
    RevocationRollback,
    /// The server's revocation record drops what one this device has seen revokes.
    RevocationDiverged,
    /// The org's revocation record names the requesting machine's certificate.
    HostRevoked,
    /// The org's revocation record names this device.
    ApproverRevoked,
    /// A certificate, request or enrolment has expired.
    Expired,
    /// A certificate or request is not valid yet (this device's clock).
    NotYetValid,
    /// The host certificate does not allow this entry.
    EntryNotAllowed,
    /// The entry carries no org signature (written by an older release).
    EntryUnsigned,
    /// The entry version is older than the machine has already received.
    EntryRollback,
    /// The entry holds no envelope for this device's key.
    NoEnvelope,
    /// This device's key does not open it.
    Decrypt,
    /// A value that is not base64url.
    NotBase64,
    /// This device's clock gave an impossible time.
    Clock,
    /// Not an organisation key (an invite link's).
    NotOrgKey,
    /// A PRF output that is not 32 bytes.
    PrfLength,
    /// A value in device storage that does not open, or is not text.
    StoredValue,
    /// An enrolment for another device's key.
    OtherDevice,
}

impl Code {
    /// Every code, in declaration order.
    pub const ALL: &[Code] = &[
        Code::BadSignature,
        Code::Mismatch,
        Code::Malformed,
        Code::RevocationRollback,
        Code::RevocationDiverged,
        Code::HostRevoked,
        Code::ApproverRevoked,
        Code::Expired,
        Code::NotYetValid,
        Code::EntryNotAllowed,
        Code::EntryUnsigned,
        Code::EntryRollback,
        Code::NoEnvelope,
        Code::Decrypt,
        Code::NotBase64,
        Code::Clock,
        Code::NotOrgKey,
        Code::PrfLength,
        Code::StoredValue,
        Code::OtherDevice,
    ];

    /// The stable wire form (JavaScript's `e.code`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Code::BadSignature => "bad_signature",
            Code::Mismatch => "mismatch",
            Code::Malformed => "malformed",
            Code::RevocationRollback => "revocation_rollback",
            Code::RevocationDiverged => "revocation_diverged",
            Code::HostRevoked => "host_revoked",
            Code::ApproverRevoked => "approver_revoked",
            Code::Expired => "expired",
            Code::NotYetValid => "not_yet_valid",
            Code::EntryNotAllowed => "entry_not_allowed",
            Code::EntryUnsigned => "entry_unsigned",
            Code::EntryRollback => "entry_rollback",
            Code::NoEnvelope => "no_envelope",
            Code::Decrypt => "decrypt",
            Code::NotBase64 => "not_base64",
            Code::Clock => "clock",
            Code::NotOrgKey => "not_org_key",
            Code::PrfLength => "prf_length",
            Code::StoredValue => "stored_value",
            Code::OtherDevice => "other_device",
        }
    }
}

/// A failure shown to the person: a [`Code`] and a sentence that says which check failed.
/// Never carries secret material; decryption failures are the core's one opaque error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    code: Code,
    message: String,
}

impl Failure {
    fn new(code: Code, message: impl Into<String>) -> Self {
        Failure { code, message: message.into() }
    }
    /// What kind of failure.
    pub fn code(&self) -> Code {
        self.code
    }
    /// The sentence for the person.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl core::fmt::Display for Failure {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<blindvault_core::Error> for Failure {
    fn from(e: blindvault_core::Error) -> Self {
        use blindvault_core::Error as E;
        use blindvault_core::{Link, Mismatch, Revocable};
        match e {
            E::BadSignature { link: Link::HostCertificate } => Failure::new(
                Code::BadSignature,
                "the host certificate is not signed by your organisation's key",
            ),
            E::BadSignature { link: Link::Request } => {
                Failure::new(Code::BadSignature, "the request is not signed by the certified host")
            }
            E::BadSignature { link } => Failure::new(
                Code::BadSignature,
                format!("the {link} is not signed by your organisation's key"),
            ),
            E::Expired { link } => Failure::new(Code::Expired, format!("the {link} has expired")),
            E::NotYetValid { link } => Failure::new(
                Code::NotYetValid,
                format!("the {link} is not valid yet (check this device's clock)"),
            ),
            E::EntryNotAllowed => {
                Failure::new(Code::EntryNotAllowed, "the host certificate does not allow this secret")
            }
            E::Mismatch { what: Mismatch::NoEnvelope } => Failure::new(
                Code::NoEnvelope,
                "this secret is not sealed to this device's key (it was written before this device enrolled, or for other approvers)",
            ),
            E::Mismatch { what } => {
                Failure::new(Code::Mismatch, format!("the request does not add up: {what}"))
            }
            E::Decrypt => Failure::new(Code::Decrypt, "this device's key does not open this secret"),
            E::Rollback { seen, got } => Failure::new(
                Code::RevocationRollback,
                format!(
                    "the server sent an older revocation record (epoch {got}) than this device has already seen (epoch {seen}): it may be hiding a revocation"
                ),
            ),
            E::Diverged { seen, got } => Failure::new(
                Code::RevocationDiverged,
                format!(
                    "the server sent a revocation record (epoch {got}) that does not contain the one this device has already seen (epoch {seen}): it may be hiding a revocation"
                ),
            ),
            E::Revoked { what: Revocable::HostCertificate } => Failure::new(
                Code::HostRevoked,
                "your organisation has revoked this machine (its host certificate)",
            ),
            E::Revoked { what: Revocable::ApproverDevice } => Failure::new(
                Code::ApproverRevoked,
                "your organisation has removed this device as an approver",
            ),
            other => Failure::new(Code::Malformed, format!("malformed data from the server ({other})")),
        }
    }
}

/// A failure of the checks of an entry against its request ([`release::check_entry`], also the
/// first step of [`release::approve`]), said in the words of this entry and request.
fn entry_failure(e: blindvault_core::Error, entry: &SealedEntry, v: &VerifiedRequest) -> Failure {
    use blindvault_core::{Error as E, Link, Mismatch};
    match e {
        E::Mismatch { what: Mismatch::EntryNotRequested } => {
            Failure::new(Code::Mismatch, "the server sent another secret than the one requested")
        }
        E::Mismatch { what: Mismatch::EntryRollback } => Failure::new(
            Code::EntryRollback,
            format!(
                "the server sent version {} of this secret, older than version {} the machine already received (a rollback)",
                entry.version,
                v.min_version()
            ),
        ),
        E::BadSignature { link: Link::Entry } => writer_failure(entry),
        other => other.into(),
    }
}

/// An entry the pinned org key did not sign.
fn writer_failure(entry: &SealedEntry) -> Failure {
    if entry.is_signed() {
        Failure::new(
            Code::BadSignature,
            "this secret entry is not signed by your organisation's key (someone other than your admins wrote it)",
        )
    } else {
        Failure::new(
            Code::EntryUnsigned,
            "this secret entry is not signed by your organisation's key (it was written by an older release; an admin must rotate it)",
        )
    }
}

fn bytes(what: &str, s: &str) -> Result<Vec<u8>, Failure> {
    b64::decode(s).map_err(|_| Failure::new(Code::NotBase64, format!("{what}: not base64url")))
}

fn seconds(now: f64) -> Result<u64, Failure> {
    if (0.0..1.0e15).contains(&now) {
        // Truncation to whole seconds is intended.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Ok(now as u64)
    } else {
        Err(Failure::new(Code::Clock, "the device clock gave an impossible time"))
    }
}

/// The PRF salt.
pub fn prf_salt() -> [u8; 32] {
    PRF_SALT_V1
}

/// A pinned organisation key.
#[derive(Debug, Clone)]
pub struct Org(OrgPublicKey);

impl Org {
    /// Parses the base64url form.
    pub fn parse(s: &str) -> Result<Self, Failure> {
        let b = bytes("organisation key", s.trim())?;
        OrgPublicKey::from_bytes(&b).map(Org).map_err(|_| {
            Failure::new(Code::NotOrgKey, "this is not an organisation key (check the invite link)")
        })
    }
    /// Its fingerprint.
    pub fn fingerprint(&self) -> String {
        self.0.fingerprint().to_string()
    }
    /// Canonical base64url.
    pub fn to_base64(&self) -> String {
        b64::encode(&self.0.to_bytes())
    }
}

/// The key schedule of one PRF evaluation.
#[derive(Debug)]
pub struct Keys(KeySchedule);

impl Keys {
    /// Runs the schedule.
    pub fn from_prf(prf: &[u8]) -> Result<Self, Failure> {
        let prf = PrfOutput::from_slice(prf)
            .map_err(|_| Failure::new(Code::PrfLength, "the passkey's PRF output must be 32 bytes"))?;
        Ok(Keys(KeySchedule::derive(&prf)))
    }
    /// Approver public key, base64url.
    pub fn approver_public_key(&self) -> String {
        b64::encode(&self.0.approver_public().to_array())
    }
    /// Approver key fingerprint.
    pub fn approver_fingerprint(&self) -> String {
        self.0.approver_public().fingerprint().to_string()
    }
    /// Seals for local storage.
    pub fn seal_local(&self, name: &str, plaintext: &str) -> Result<String, Failure> {
        let sealed = storage::seal(self.0.local_storage_key(), name, plaintext.as_bytes(), &mut os_rng())?;
        Ok(b64::encode(&sealed))
    }
    /// Opens from local storage.
    pub fn open_local(&self, name: &str, sealed: &str) -> Result<String, Failure> {
        let opened = storage::open(self.0.local_storage_key(), name, &bytes("stored value", sealed)?)
            .map_err(|_| {
                Failure::new(
                    Code::StoredValue,
                    "the stored value does not open with this passkey (edited, or another passkey)",
                )
            })?;
        String::from_utf8(opened.expose().to_vec())
            .map_err(|_| Failure::new(Code::StoredValue, "the stored value is not text"))
    }
}

/// What the device verified of a request, for the detail view.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Verified {
    /// Request id (text form).
    pub request_id: String,
    /// Host name from the org-signed certificate.
    pub host_name: String,
    /// Entry id (text form).
    pub entry_id: String,
    /// Entry version.
    pub version: u32,
    /// Request expiry (Unix seconds).
    pub expires_at: u64,
    /// Host certificate expiry.
    pub certificate_expires_at: u64,
    /// Approvals needed.
    pub threshold: u8,
    /// Approver devices holding an envelope.
    pub devices: u8,
    /// `any-of` or `m-of-n`.
    pub policy: &'static str,
    /// What the host says it will do with the secret (signed by its key), ready to show.
    pub purpose: PurposeView,
    /// The user id of the person who issued the host's certificate (org-signed; printable ASCII
    /// as shown); `None` for a format-1 certificate, which names no issuer.
    pub issuer: Option<String>,
    /// Whether the certificate lets its issuer be the only approver.
    pub self_approval: bool,
}

/// A request's purpose for the approver's screen: every string printable ASCII only (anything
/// else shown as `\u{XXXX}`, a backslash as `\\`), the command line quoted as a shell would
/// need it.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct PurposeView {
    /// `run` or `inject`.
    pub kind: &'static str,
    /// run: the command line as given (shell-quoted where needed).
    pub command: Option<String>,
    /// run: the environment variable names the secrets are set as.
    pub env: Vec<String>,
    /// run: how long the command may run once released, in seconds.
    pub lease_secs: Option<u64>,
    /// inject: the template's SHA-256 (hex).
    pub template_sha256: Option<String>,
    /// inject: the file written.
    pub out: Option<String>,
}

impl From<&blindvault_core::identity::Purpose> for PurposeView {
    fn from(p: &blindvault_core::identity::Purpose) -> Self {
        use blindvault_core::identity::Purpose;
        use blindvault_core::text::ascii_inert as inert;
        match p {
            Purpose::Run { command, env, lease_secs } => PurposeView {
                kind: "run",
                command: Some(blindvault_core::text::shell_line(command)),
                env: env.iter().map(|n| inert(n)).collect(),
                lease_secs: Some(*lease_secs),
                template_sha256: None,
                out: None,
            },
            Purpose::Inject { template_sha256, out } => PurposeView {
                kind: "inject",
                command: None,
                env: Vec::new(),
                lease_secs: None,
                template_sha256: Some(template_sha256.iter().map(|b| format!("{b:02x}")).collect()),
                out: Some(inert(out)),
            },
        }
    }
}

struct Parsed {
    cert: SignedHostCertificate,
    req: SignedRequest,
    entry: SealedEntry,
}

fn parse(certificate: &str, signed_request: &str, sealed_entry: &str) -> Result<Parsed, Failure> {
    Ok(Parsed {
        cert: SignedHostCertificate::from_bytes(&bytes("host certificate", certificate)?)?,
        req: SignedRequest::from_bytes(&bytes("request", signed_request)?)?,
        entry: SealedEntry::from_bytes(&bytes("secret entry", sealed_entry)?)?,
    })
}

fn writer_signed(org: &Org, entry: &SealedEntry) -> Result<(), Failure> {
    entry.verify_writer(&org.0).map_err(|_| writer_failure(entry))
}

/// Verifies org → certificate → request and the entry's identity.
pub fn verify(
    org: &Org,
    certificate: &str,
    signed_request: &str,
    sealed_entry: &str,
    now: f64,
) -> Result<Verified, Failure> {
    let p = parse(certificate, signed_request, sealed_entry)?;
    let v = verify_request(&org.0, &p.cert, &p.req, seconds(now)?)?;
    release::check_entry(&v, &p.entry).map_err(|e| entry_failure(e, &p.entry, &v))?;
    Ok(Verified {
        request_id: v.request_id().to_text(),
        host_name: v.host_name().to_owned(),
        entry_id: v.entry_id().to_text(),
        version: p.entry.version,
        expires_at: v.expires_at(),
        certificate_expires_at: p.cert.cert.not_after,
        threshold: p.entry.policy.threshold(),
        devices: p.entry.policy.n(),
        policy: match p.entry.policy {
            blindvault_core::policy::Policy::AnyOf { .. } => "any-of",
            blindvault_core::policy::Policy::MOfN { .. } => "m-of-n",
        },
        purpose: v.purpose().into(),
        issuer: v.issuer().map(blindvault_core::text::ascii_inert),
        self_approval: v.self_approval(),
    })
}

/// Opens the device's envelope and the label, of an entry the org key signed.
pub fn open_label(keys: &Keys, org: &Org, sealed_entry: &str) -> Result<String, Failure> {
    let entry = SealedEntry::from_bytes(&bytes("secret entry", sealed_entry)?)?;
    writer_signed(org, &entry)?;
    let opened = entry.open_envelope(keys.0.approver_secret())?;
    let label = entry.decrypt_label(&opened.label_key)?;
    Ok(String::from_utf8_lossy(label.expose()).into_owned())
}

/// Re-verifies, opens and reseals.
pub fn approve(
    keys: &Keys,
    org: &Org,
    certificate: &str,
    signed_request: &str,
    sealed_entry: &str,
    now: f64,
) -> Result<String, Failure> {
    let p = parse(certificate, signed_request, sealed_entry)?;
    let v = verify_request(&org.0, &p.cert, &p.req, seconds(now)?)?;
    // `release::approve` checks the entry against the request itself (`release::check_entry`).
    let sealed = release::approve(keys.0.approver_secret(), &v, &p.entry, &mut os_rng())
        .map_err(|e| entry_failure(e, &p.entry, &v))?;
    Ok(b64::encode(&sealed.to_bytes()))
}

/// Verifies the device's own enrolment.
pub fn verify_enrolment(
    org: &Org,
    signed_enrolment: &str,
    approver_public_key: &str,
    now: f64,
) -> Result<String, Failure> {
    let signed = SignedEnrolment::from_bytes(&bytes("enrolment", signed_enrolment)?)?;
    let mine = ApproverPublicKey::from_bytes(&bytes("approver key", approver_public_key)?)?;
    let v = signed.verify(&org.0, seconds(now)?)?;
    if v.public_key() != mine {
        return Err(Failure::new(Code::OtherDevice, "the enrolment is for another device's key"));
    }
    Ok(serde_json::json!({
        "user_id": v.user_id(),
        "issued_at": signed.enrolment.issued_at,
        "not_after": signed.enrolment.not_after,
    })
    .to_string())
}

fn revocation_record(what: &'static str, text: &str) -> Result<Option<SignedRevocations>, Failure> {
    let text = text.trim();
    if text.is_empty() { Ok(None) } else { Ok(Some(SignedRevocations::from_bytes(&bytes(what, text)?)?)) }
}

/// The first half of the device's check of the org's revocation record (`record`: base64url,
/// empty when the server has none), before anything else is looked at: signed by the pinned
/// org key and append-only against `seen` — the record this device remembers for this org
/// (base64url, empty: none; one the org key does not verify is none). An older record, none
/// after one, another record of the same epoch, or one that drops a revocation is refused.
/// Returns the record to remember (base64url; empty: none yet) — the device stores it before
/// [`verify_revocations`] looks at what it names, so a record that refuses this request still
/// raises the floor.
pub fn accept_revocations(org: &Org, record: &str, seen: &str) -> Result<String, Failure> {
    let delivered = revocation_record("revocation record", record)?;
    let seen = revocation_record("remembered revocation record", seen)
        .ok()
        .flatten()
        .filter(|s| s.verify(&org.0).is_ok());
    let r = SignedRevocations::check_against(delivered.as_ref(), &org.0, seen.as_ref().map(|s| &s.record))
        .map_err(|e| match e {
            blindvault_core::Error::BadSignature { .. } => Failure::new(
                Code::BadSignature,
                "the revocation record is not signed by your organisation's key",
            ),
            other => other.into(),
        })?;
    let keep = match (delivered, seen) {
        (Some(d), Some(s)) => {
            if r.epoch > s.record.epoch {
                d
            } else {
                s
            }
        }
        (Some(d), None) => d,
        (None, Some(s)) => s,
        (None, None) => return Ok(String::new()),
    };
    Ok(b64::encode(&keep.to_bytes()))
}

/// The second half: `record` (what [`accept_revocations`] returned, empty: none) names neither
/// the request's host certificate nor this device. Returns the record's epoch.
pub fn verify_revocations(
    org: &Org,
    record: &str,
    certificate: &str,
    approver_public_key: &str,
) -> Result<u64, Failure> {
    let r = match revocation_record("revocation record", record)? {
        Some(s) => s
            .verify(&org.0)
            .map_err(|_| {
                Failure::new(
                    Code::BadSignature,
                    "the revocation record is not signed by your organisation's key",
                )
            })?
            .clone(),
        None => blindvault_core::revocation::Revocations::none(),
    };
    let cert = SignedHostCertificate::from_bytes(&bytes("host certificate", certificate)?)?;
    r.check_host(&cert.cert.cert_id)?;
    let mine = ApproverPublicKey::from_bytes(&bytes("approver key", approver_public_key)?)?;
    r.check_approver(&mine)?;
    Ok(r.epoch)
}
