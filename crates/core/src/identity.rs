//! The identity chain: org → approver enrolments, org → host certificates, host → requests.
//!
//! Every signed object is `0x01 ‖ body (u32-prefixed) ‖ Ed25519 signature (64)`, and the
//! signature covers `context ‖ body`, where `context` is a distinct NUL-terminated label per
//! kind, so a signature of one kind can never be read as another. Bodies are canonical and
//! versioned (see `docs/protocol.md`).

use alloc::string::String;
use alloc::vec::Vec;

use crate::encoding::{Reader, Writer, or_unencodable, serde_via_bytes};
use crate::ids::{CertId, EntryId, RequestId};
use crate::keys::{
    ApproverPublicKey, EphemeralPublicKey, HostPublicKey, HostSecretKey, OrgPublicKey, OrgSecretKey,
    verify_ed25519,
};
use crate::{Error, Link};

/// Signature context of an approver enrolment, body format 1 (no `not_after`; still read).
pub const SIG_ENROLMENT_V1: &[u8] = b"blindvault/v1/sig/enrolment\0";
/// Signature context of an approver enrolment, body format 2 (with `not_after`).
pub const SIG_ENROLMENT_V2: &[u8] = b"blindvault/v2/sig/enrolment\0";
/// The enrolment body's format version.
const ENROLMENT_FORMAT: u8 = 2;
/// How long a format-1 enrolment (signed before enrolments carried `not_after`) stays valid:
/// 365 days from its `issued_at`.
pub const V1_ENROLMENT_LIFETIME_SECS: u64 = 365 * 86_400;
/// The default life of a new enrolment (`approver approve --valid-for`): 365 days.
pub const DEFAULT_ENROLMENT_LIFETIME_SECS: u64 = 365 * 86_400;
/// Signature context of a host certificate of format 1 (no issuer; still read).
pub const SIG_HOST_CERT_V1: &[u8] = b"blindvault/v1/sig/host-certificate\0";
/// Signature context of a host certificate of format 2 (with the issuer and the
/// self-approval flag).
pub const SIG_HOST_CERT_V2: &[u8] = b"blindvault/v2/sig/host-certificate\0";
/// Signature context of a consumer request (request body format 2: with the poll token's hash
/// and the purpose; format 1 had neither and is refused).
pub const SIG_REQUEST_V2: &[u8] = b"blindvault/v2/sig/request\0";
/// The request body's format version.
const REQUEST_FORMAT: u8 = 2;
/// Most parts (program and arguments) of a purpose's command line.
pub const MAX_PURPOSE_ARGS: usize = 64;
/// Most environment variable names a purpose may name.
pub const MAX_PURPOSE_ENV: usize = 64;
/// Longest single argument or variable name of a purpose, in bytes.
pub const MAX_PURPOSE_ITEM_LEN: usize = 1024;
/// Longest encoded purpose, in bytes.
pub const MAX_PURPOSE_LEN: usize = 8192;

/// How far in the future a request's `issued_at` may be (clock skew), in seconds.
pub const MAX_CLOCK_SKEW_SECS: u64 = 120;
/// The longest a request may stay valid, in seconds.
pub const MAX_REQUEST_LIFETIME_SECS: u64 = 3600;
/// Longest user id, credential id and host name, in bytes.
pub const MAX_NAME_LEN: usize = 255;
/// Most entries one host certificate may name.
pub const MAX_ALLOWED_ENTRIES: usize = 4096;

fn signed_to_bytes(body: Result<Vec<u8>, Error>, sig: &[u8; 64]) -> Vec<u8> {
    or_unencodable(body.and_then(|body| {
        let mut w = Writer::new(1);
        w.bytes32(&body).fixed(sig);
        w.finish()
    }))
}

fn signed_from_bytes<'a>(b: &'a [u8], what: &'static str) -> Result<(&'a [u8], [u8; 64]), Error> {
    let mut r = Reader::new(b, what, 1)?;
    let body = r.bytes32()?;
    let sig = r.fixed()?;
    r.finish()?;
    Ok((body, sig))
}

fn check_name(s: &str, what: &'static str) -> Result<(), Error> {
    if s.is_empty() || s.len() > MAX_NAME_LEN || s.chars().any(crate::text::refused_in_name) {
        return Err(Error::Malformed { what });
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Enrolment

/// An approver device's enrolment: "user U's credential C has approver key K, until T".
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Enrolment {
    /// The server's user id of the person.
    pub user_id: String,
    /// The WebAuthn credential id of the device's passkey.
    pub credential_id: Vec<u8>,
    /// The approver key derived from that passkey's PRF.
    pub approver_key: ApproverPublicKey,
    /// When the org signed it (Unix seconds).
    pub issued_at: u64,
    /// Valid until (Unix seconds, exclusive). A format-1 enrolment had none and is read with
    /// `issued_at + `[`V1_ENROLMENT_LIFETIME_SECS`].
    pub not_after: u64,
}

impl Enrolment {
    fn body_as(&self, format: u8) -> Result<Vec<u8>, Error> {
        let mut w = Writer::new(format);
        w.str16(&self.user_id).bytes16(&self.credential_id).fixed(&self.approver_key.0).u64(self.issued_at);
        if format >= ENROLMENT_FORMAT {
            w.u64(self.not_after);
        }
        w.finish()
    }
    fn parse(b: &[u8]) -> Result<(Self, u8), Error> {
        let format = match b.first() {
            Some(1) => 1,
            _ => ENROLMENT_FORMAT,
        };
        let mut r = Reader::new(b, "enrolment", format)?;
        let user_id = r.str16()?;
        let credential_id = r.bytes16()?.to_vec();
        let approver_key = ApproverPublicKey(r.fixed()?);
        let issued_at = r.u64()?;
        let not_after =
            if format == 1 { issued_at.saturating_add(V1_ENROLMENT_LIFETIME_SECS) } else { r.u64()? };
        let e = Self { user_id, credential_id, approver_key, issued_at, not_after };
        r.finish()?;
        e.validate()?;
        Ok((e, format))
    }
    fn validate(&self) -> Result<(), Error> {
        check_name(&self.user_id, "enrolment user id")?;
        if self.credential_id.is_empty() || self.credential_id.len() > 1023 {
            return Err(Error::Malformed { what: "enrolment credential id" });
        }
        if self.not_after <= self.issued_at {
            return Err(Error::Malformed { what: "enrolment validity" });
        }
        Ok(())
    }
    /// The org signs the enrolment (admin's machine), in the current format (2, with
    /// `not_after`).
    pub fn sign(self, org: &OrgSecretKey) -> Result<SignedEnrolment, Error> {
        self.validate()?;
        let signature = org.sign(SIG_ENROLMENT_V2, &self.body_as(ENROLMENT_FORMAT)?);
        Ok(SignedEnrolment { enrolment: self, signature, format: ENROLMENT_FORMAT })
    }
}

/// An enrolment with the org's signature.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct SignedEnrolment {
    /// The signed content (not yet verified: use [`SignedEnrolment::verify`]).
    pub enrolment: Enrolment,
    signature: [u8; 64],
    /// The body's format (1: no `not_after`, context v1; 2: the current one).
    format: u8,
}

/// An approver device whose enrolment verified against the pinned org key. The only way to
/// make one is [`SignedEnrolment::verify`]; entries are only ever sealed to these.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct VerifiedApprover {
    pub(crate) org: OrgPublicKey,
    pub(crate) user_id: String,
    pub(crate) credential_id: Vec<u8>,
    pub(crate) public_key: ApproverPublicKey,
    pub(crate) not_after: u64,
}

impl VerifiedApprover {
    /// The person.
    pub fn user_id(&self) -> &str {
        &self.user_id
    }
    /// The device's passkey credential id.
    pub fn credential_id(&self) -> &[u8] {
        &self.credential_id
    }
    /// The verified approver key.
    pub fn public_key(&self) -> ApproverPublicKey {
        self.public_key
    }
    /// When the enrolment ends (Unix seconds, exclusive).
    pub fn not_after(&self) -> u64 {
        self.not_after
    }
}

impl SignedEnrolment {
    /// Checks the org signature and that the enrolment is still valid at `now` (Unix seconds):
    /// `now < not_after`, else [`Error::Expired`]; returns the approver it vouches for.
    pub fn verify(&self, org: &OrgPublicKey, now: u64) -> Result<VerifiedApprover, Error> {
        const LINK: Link = Link::Enrolment;
        self.verify_signature_only(org)?;
        if now >= self.enrolment.not_after {
            return Err(Error::Expired { link: LINK });
        }
        Ok(VerifiedApprover {
            org: *org,
            user_id: self.enrolment.user_id.clone(),
            credential_id: self.enrolment.credential_id.clone(),
            public_key: self.enrolment.approver_key,
            not_after: self.enrolment.not_after,
        })
    }
    /// Checks only the org signature, not the expiry, and returns the signed content. For
    /// naming a device (to revoke it, whose enrolment may have ended), never for trusting one:
    /// it makes no [`VerifiedApprover`], so nothing is sealed to what it returns.
    pub fn verify_signature_only(&self, org: &OrgPublicKey) -> Result<&Enrolment, Error> {
        let context = if self.format == 1 { SIG_ENROLMENT_V1 } else { SIG_ENROLMENT_V2 };
        verify_ed25519(
            &org.signing_key_bytes(),
            context,
            &self.enrolment.body_as(self.format)?,
            &self.signature,
            Link::Enrolment,
        )?;
        Ok(&self.enrolment)
    }
    /// The body's format: 1 (read only; `not_after` implied) or 2.
    pub fn format(&self) -> u8 {
        self.format
    }
    /// Canonical encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        signed_to_bytes(self.enrolment.body_as(self.format), &self.signature)
    }
    /// Decodes the canonical encoding (does not verify). Format 1 bodies are still read.
    pub fn from_bytes(b: &[u8]) -> Result<Self, Error> {
        let (body, signature) = signed_from_bytes(b, "signed enrolment")?;
        let (enrolment, format) = Enrolment::parse(body)?;
        Ok(Self { enrolment, signature, format })
    }
}
serde_via_bytes!(SignedEnrolment);

// ---------------------------------------------------------------------------------------------
// Host certificate

/// The org vouches for a consumer host: its name, key, the entries it may ask for, and when.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct HostCertificate {
    /// Serial number.
    pub cert_id: CertId,
    /// The host's name, shown to approvers.
    pub host_name: String,
    /// The key that signs the host's requests.
    pub host_key: HostPublicKey,
    /// Entries the host may request.
    pub allowed_entries: Vec<EntryId>,
    /// Valid from (Unix seconds, inclusive).
    pub not_before: u64,
    /// Valid until (Unix seconds, exclusive).
    pub not_after: u64,
    /// The person who issued it (the server's user id of the org key's holder), so that
    /// separation of duties follows the person who certified the host, not a session. `None`
    /// only in a format-1 certificate, which named no issuer (still read; a server no longer
    /// registers one).
    pub issuer: Option<String>,
    /// Whether the issuer alone may approve this host's requests (for a person trying it
    /// alone). Always `false` without an issuer.
    pub self_approval: bool,
}

impl HostCertificate {
    /// The body's format: 2 with an issuer, 1 (the old format, without) otherwise.
    pub fn format(&self) -> u8 {
        if self.issuer.is_some() { 2 } else { 1 }
    }
    fn context(&self) -> &'static [u8] {
        if self.issuer.is_some() { SIG_HOST_CERT_V2 } else { SIG_HOST_CERT_V1 }
    }
    fn body(&self) -> Result<Vec<u8>, Error> {
        let mut w = Writer::new(self.format());
        w.fixed(&self.cert_id.0).str16(&self.host_name).fixed(&self.host_key.0);
        w.count(self.allowed_entries.len());
        for e in &self.allowed_entries {
            w.fixed(&e.0);
        }
        w.u64(self.not_before).u64(self.not_after);
        if let Some(issuer) = &self.issuer {
            w.str16(issuer).u8(u8::from(self.self_approval));
        }
        w.finish()
    }
    fn parse(b: &[u8]) -> Result<Self, Error> {
        const WHAT: &str = "host certificate";
        let format = match b.first() {
            Some(&v @ (1 | 2)) => v,
            Some(&version) => return Err(Error::UnknownVersion { what: WHAT, version }),
            None => return Err(Error::Truncated { what: WHAT }),
        };
        let mut r = Reader::new(b, WHAT, format)?;
        let cert_id = CertId(r.fixed()?);
        let host_name = r.str16()?;
        let host_key = HostPublicKey(r.fixed()?);
        let n = r.count()?;
        let mut allowed_entries = Vec::with_capacity(n.min(MAX_ALLOWED_ENTRIES));
        for _ in 0..n {
            allowed_entries.push(EntryId(r.fixed()?));
        }
        let (not_before, not_after) = (r.u64()?, r.u64()?);
        let (issuer, self_approval) = if format == 2 {
            let issuer = r.str16()?;
            let self_approval = match r.u8()? {
                0 => false,
                1 => true,
                _ => return Err(Error::Malformed { what: "host certificate self-approval" }),
            };
            (Some(issuer), self_approval)
        } else {
            (None, false)
        };
        let c = Self {
            cert_id,
            host_name,
            host_key,
            allowed_entries,
            not_before,
            not_after,
            issuer,
            self_approval,
        };
        r.finish()?;
        c.validate()?;
        Ok(c)
    }
    fn validate(&self) -> Result<(), Error> {
        check_name(&self.host_name, "host name")?;
        match &self.issuer {
            Some(issuer) => check_name(issuer, "host certificate issuer")?,
            None if self.self_approval => {
                return Err(Error::Malformed { what: "host certificate self-approval without an issuer" });
            }
            None => {}
        }
        if self.allowed_entries.is_empty() || self.allowed_entries.len() > MAX_ALLOWED_ENTRIES {
            return Err(Error::Malformed { what: "host certificate entries" });
        }
        if self.not_after <= self.not_before {
            return Err(Error::Malformed { what: "host certificate validity" });
        }
        Ok(())
    }
    /// The org signs the certificate (admin's machine): format 2 under [`SIG_HOST_CERT_V2`]
    /// with an issuer, format 1 under [`SIG_HOST_CERT_V1`] without (kept for reading and for
    /// vectors; servers refuse to register it).
    pub fn sign(self, org: &OrgSecretKey) -> Result<SignedHostCertificate, Error> {
        self.validate()?;
        let signature = org.sign(self.context(), &self.body()?);
        Ok(SignedHostCertificate { cert: self, signature })
    }
}

/// A host certificate with the org's signature.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct SignedHostCertificate {
    /// The signed content (not yet verified).
    pub cert: HostCertificate,
    signature: [u8; 64],
}

impl SignedHostCertificate {
    /// Checks the org signature and the validity window at `now` (Unix seconds).
    pub fn verify(&self, org: &OrgPublicKey, now: u64) -> Result<&HostCertificate, Error> {
        const LINK: Link = Link::HostCertificate;
        verify_ed25519(
            &org.signing_key_bytes(),
            self.cert.context(),
            &self.cert.body()?,
            &self.signature,
            LINK,
        )?;
        if now < self.cert.not_before {
            return Err(Error::NotYetValid { link: LINK });
        }
        if now >= self.cert.not_after {
            return Err(Error::Expired { link: LINK });
        }
        Ok(&self.cert)
    }
    /// Canonical encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        signed_to_bytes(self.cert.body(), &self.signature)
    }
    /// Decodes the canonical encoding (does not verify).
    pub fn from_bytes(b: &[u8]) -> Result<Self, Error> {
        let (body, signature) = signed_from_bytes(b, "signed host certificate")?;
        Ok(Self { cert: HostCertificate::parse(body)?, signature })
    }
}
serde_via_bytes!(SignedHostCertificate);

// ---------------------------------------------------------------------------------------------
// Purpose

/// What the consumer will do with the secret, signed into the request by the host key so that
/// the approver sees exactly what will run (and the audit log keeps it). It is the host's claim:
/// the org's certificate says which host may ask, the purpose says what that host says it will
/// do with the answer — a person approves the pair.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Purpose {
    /// `blindvault run`: the command line as given, the environment variable names the secrets
    /// are set as, and the lease (seconds the command may run once released).
    Run {
        /// Program and arguments, as given after `--` (lossily UTF-8).
        command: Vec<String>,
        /// Environment variable names (never values).
        env: Vec<String>,
        /// The lease length in seconds.
        lease_secs: u64,
    },
    /// `blindvault inject`: the template's SHA-256 and the file it is written to.
    Inject {
        /// SHA-256 of the template file's bytes.
        template_sha256: [u8; 32],
        /// The output path as given.
        out: String,
    },
}

fn check_item(s: &str) -> Result<(), Error> {
    if s.len() > MAX_PURPOSE_ITEM_LEN {
        return Err(Error::TooLong { what: "purpose item", max: MAX_PURPOSE_ITEM_LEN });
    }
    Ok(())
}

impl Purpose {
    /// A `run` purpose from string slices: the command line, the variable names, the lease.
    pub fn run(command: &[&str], env: &[&str], lease_secs: u64) -> Self {
        Purpose::Run {
            command: command.iter().map(|s| (*s).into()).collect(),
            env: env.iter().map(|s| (*s).into()).collect(),
            lease_secs,
        }
    }

    fn validate(&self) -> Result<(), Error> {
        match self {
            Purpose::Run { command, env, .. } => {
                if command.is_empty() || command.len() > MAX_PURPOSE_ARGS {
                    return Err(Error::Malformed { what: "purpose command" });
                }
                if env.len() > MAX_PURPOSE_ENV {
                    return Err(Error::Malformed { what: "purpose environment names" });
                }
                command.iter().chain(env).try_for_each(|s| check_item(s))?;
                if command.iter().chain(env).map(|s| s.len() + 2).sum::<usize>() > MAX_PURPOSE_LEN {
                    return Err(Error::TooLong { what: "purpose", max: MAX_PURPOSE_LEN });
                }
                if env
                    .iter()
                    .any(|n| n.is_empty() || !n.bytes().all(|b| b == b'_' || b.is_ascii_alphanumeric()))
                {
                    return Err(Error::Malformed { what: "purpose environment names" });
                }
            }
            Purpose::Inject { out, .. } => check_item(out)?,
        }
        Ok(())
    }

    fn write(&self, w: &mut Writer) {
        match self {
            Purpose::Run { command, env, lease_secs } => {
                w.u8(1).u64(*lease_secs).count(command.len());
                command.iter().for_each(|a| {
                    w.str16(a);
                });
                w.count(env.len());
                env.iter().for_each(|n| {
                    w.str16(n);
                });
            }
            Purpose::Inject { template_sha256, out } => {
                w.u8(2).fixed(template_sha256).str16(out);
            }
        }
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, Error> {
        let p = match r.u8()? {
            1 => {
                let lease_secs = r.u64()?;
                let n = r.count()?;
                let command =
                    (0..n.min(MAX_PURPOSE_ARGS + 1)).map(|_| r.str16()).collect::<Result<_, _>>()?;
                let n = r.count()?;
                let env = (0..n.min(MAX_PURPOSE_ENV + 1)).map(|_| r.str16()).collect::<Result<_, _>>()?;
                Purpose::Run { command, env, lease_secs }
            }
            2 => Purpose::Inject { template_sha256: r.fixed()?, out: r.str16()? },
            _ => return Err(Error::Malformed { what: "purpose kind" }),
        };
        p.validate()?;
        Ok(p)
    }
}

// ---------------------------------------------------------------------------------------------
// Request

/// A consumer's request for one entry, with its fresh ephemeral key, signed by the host key.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Request {
    /// Chosen by the consumer; binds the sealed response.
    pub request_id: RequestId,
    /// The certificate of the host that signs this request.
    pub cert_id: CertId,
    /// The entry asked for.
    pub entry_id: EntryId,
    /// The key the secret is sealed to.
    pub ephemeral_key: EphemeralPublicKey,
    /// Unix seconds.
    pub issued_at: u64,
    /// Unix seconds (exclusive).
    pub expires_at: u64,
    /// 16 random bytes.
    pub nonce: [u8; 16],
    /// The oldest entry version this host accepts: the newest it has received before (0: none
    /// yet). Signed, so neither the server nor an approver can roll the entry back to a version
    /// older than the host has seen (say one still sealed to a removed approver).
    pub min_version: u32,
    /// SHA-256 of the consumer's poll token (the bearer secret that fetches the response once):
    /// signed, so that whoever sees the request first cannot register it with a token of their own.
    pub poll_token_hash: [u8; 32],
    /// What the consumer will do with the secret.
    pub purpose: Purpose,
}

impl Request {
    fn body(&self) -> Result<Vec<u8>, Error> {
        let mut w = Writer::new(REQUEST_FORMAT);
        w.fixed(&self.request_id.0)
            .fixed(&self.cert_id.0)
            .fixed(&self.entry_id.0)
            .fixed(&self.ephemeral_key.0)
            .u64(self.issued_at)
            .u64(self.expires_at)
            .fixed(&self.nonce)
            .u32(self.min_version)
            .fixed(&self.poll_token_hash);
        self.purpose.write(&mut w);
        w.finish()
    }
    fn parse(b: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(b, "request", REQUEST_FORMAT)?;
        let q = Self {
            request_id: RequestId(r.fixed()?),
            cert_id: CertId(r.fixed()?),
            entry_id: EntryId(r.fixed()?),
            ephemeral_key: EphemeralPublicKey(r.fixed()?),
            issued_at: r.u64()?,
            expires_at: r.u64()?,
            nonce: r.fixed()?,
            min_version: r.u32()?,
            poll_token_hash: r.fixed()?,
            purpose: Purpose::read(&mut r)?,
        };
        r.finish()?;
        q.validate()?;
        Ok(q)
    }
    fn validate(&self) -> Result<(), Error> {
        if self.expires_at <= self.issued_at || self.expires_at - self.issued_at > MAX_REQUEST_LIFETIME_SECS {
            return Err(Error::Malformed { what: "request lifetime" });
        }
        self.purpose.validate()
    }
    /// The host signs the request (consumer's machine).
    pub fn sign(self, host: &HostSecretKey) -> Result<SignedRequest, Error> {
        self.validate()?;
        let signature = host.sign(SIG_REQUEST_V2, &self.body()?);
        Ok(SignedRequest { request: self, signature })
    }
}

/// A request with the host's signature.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct SignedRequest {
    /// The signed content (not yet verified).
    pub request: Request,
    signature: [u8; 64],
}

/// What an approver device may show and act on: every field below was verified through the
/// chain pinned org key → host certificate → request. The only way to make one is
/// [`verify_request`].
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct VerifiedRequest {
    /// The pinned org key the chain verified under (entries are checked against it too).
    pub(crate) org: OrgPublicKey,
    pub(crate) host_name: String,
    pub(crate) host_key: HostPublicKey,
    pub(crate) cert_id: CertId,
    pub(crate) request_id: RequestId,
    pub(crate) entry_id: EntryId,
    pub(crate) ephemeral_key: EphemeralPublicKey,
    pub(crate) expires_at: u64,
    pub(crate) min_version: u32,
    pub(crate) purpose: Purpose,
    pub(crate) issuer: Option<String>,
    pub(crate) self_approval: bool,
}

impl VerifiedRequest {
    /// The host name from the org-signed certificate.
    pub fn host_name(&self) -> &str {
        &self.host_name
    }
    /// The host key from the certificate.
    pub fn host_key(&self) -> HostPublicKey {
        self.host_key
    }
    /// The certificate serial.
    pub fn cert_id(&self) -> CertId {
        self.cert_id
    }
    /// The request id.
    pub fn request_id(&self) -> RequestId {
        self.request_id
    }
    /// The entry asked for.
    pub fn entry_id(&self) -> EntryId {
        self.entry_id
    }
    /// The consumer's ephemeral key the response is sealed to.
    pub fn ephemeral_key(&self) -> EphemeralPublicKey {
        self.ephemeral_key
    }
    /// When the request expires (Unix seconds).
    pub fn expires_at(&self) -> u64 {
        self.expires_at
    }
    /// The oldest entry version the host accepts (signed by the host key).
    pub fn min_version(&self) -> u32 {
        self.min_version
    }
    /// What the host says it will do with the secret (signed by the host key).
    pub fn purpose(&self) -> &Purpose {
        &self.purpose
    }
    /// The person who issued the host's certificate (org-signed; `None` for a format-1
    /// certificate).
    pub fn issuer(&self) -> Option<&str> {
        self.issuer.as_deref()
    }
    /// Whether the certificate lets its issuer be the only approver.
    pub fn self_approval(&self) -> bool {
        self.self_approval
    }
}

impl SignedRequest {
    /// Canonical encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        signed_to_bytes(self.request.body(), &self.signature)
    }
    /// Decodes the canonical encoding (does not verify).
    pub fn from_bytes(b: &[u8]) -> Result<Self, Error> {
        let (body, signature) = signed_from_bytes(b, "signed request")?;
        Ok(Self { request: Request::parse(body)?, signature })
    }
}
serde_via_bytes!(SignedRequest);

/// The approver device's check, in this order: the certificate's org signature, its validity at
/// `now`, the request's host signature, that the request names this certificate, the request's
/// validity at `now` (with [`MAX_CLOCK_SKEW_SECS`] for `issued_at`) and within the
/// certificate's, and that the certificate allows the entry. The first failure is returned.
pub fn verify_request(
    org: &OrgPublicKey,
    cert: &SignedHostCertificate,
    req: &SignedRequest,
    now: u64,
) -> Result<VerifiedRequest, Error> {
    const LINK: Link = Link::Request;
    let c = cert.verify(org, now)?;
    let q = &req.request;
    verify_ed25519(&c.host_key.0, SIG_REQUEST_V2, &q.body()?, &req.signature, LINK)?;
    if q.cert_id != c.cert_id {
        return Err(Error::Mismatch { what: crate::Mismatch::RequestCertificate });
    }
    if q.issued_at > now.saturating_add(MAX_CLOCK_SKEW_SECS) {
        return Err(Error::NotYetValid { link: LINK });
    }
    if now >= q.expires_at {
        return Err(Error::Expired { link: LINK });
    }
    if q.expires_at > c.not_after {
        return Err(Error::Mismatch { what: crate::Mismatch::RequestOutlivesCertificate });
    }
    if !c.allowed_entries.contains(&q.entry_id) {
        return Err(Error::EntryNotAllowed);
    }
    Ok(VerifiedRequest {
        org: *org,
        host_name: c.host_name.clone(),
        host_key: c.host_key,
        cert_id: c.cert_id,
        request_id: q.request_id,
        entry_id: q.entry_id,
        ephemeral_key: q.ephemeral_key,
        expires_at: q.expires_at,
        min_version: q.min_version,
        purpose: q.purpose.clone(),
        issuer: c.issuer.clone(),
        self_approval: c.self_approval,
    })
}
