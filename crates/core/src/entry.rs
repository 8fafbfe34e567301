//! Secret entries: the blind store's only content.
//!
//! A version of an entry is sealed on the writer's side:
//!
//! * a fresh random DEK encrypts the value, and a fresh random label key encrypts the label
//!   (ChaCha20-Poly1305, random 96-bit nonces, AAD binding entry id ‖ version ‖ policy);
//! * one HPKE envelope per enrolled approver device carries the label key and either the DEK
//!   (`any-of`) or that person's Shamir share of the DEK (`m-of-n`); all devices of one person
//!   carry the same share, so one person never counts twice;
//! * one more HPKE envelope carries the label key to the org's X25519 key, so the admin's CLI
//!   can list labels.
//!
//! The writer only wraps to [`VerifiedApprover`]s, which exist only as the output of checking an
//! enrolment against the pinned org key, and signs the whole sealed version with the org key (so
//! that nobody else — the server included, though anyone can seal an HPKE envelope to an
//! enrolled key — can write an entry an approver device or a consumer accepts).

use alloc::vec::Vec;
use chacha20poly1305::aead::{Aead as _, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use rand_core::CryptoRng;

use crate::Error;
pub use crate::dek::{Dek, DekShare, KeyMaterial};
use crate::encoding::{Reader, Writer, or_unencodable, serde_via_bytes};
use crate::hpke::{self, HpkeCiphertext};
use crate::identity::VerifiedApprover;
use crate::ids::EntryId;
use crate::keys::{ApproverPublicKey, ApproverSecretKey, OrgPublicKey, OrgSecretKey};
use crate::policy::Policy;
use crate::secret::{SecretBytes, secret_bytes};
use crate::shamir;

secret_bytes!(
    /// The key of an entry version's encrypted label.
    LabelKey, 32
);

/// AEAD associated-data label of an entry's value.
pub const AAD_VALUE_V1: &[u8] = b"blindvault/v1/entry-value";
/// AEAD associated-data label of an entry's label.
pub const AAD_LABEL_V1: &[u8] = b"blindvault/v1/entry-label";
/// HPKE `info` label of an approver envelope.
pub const INFO_ENVELOPE_V1: &[u8] = b"blindvault/v1/envelope";
/// HPKE `info` label of the org's label envelope.
pub const INFO_ORG_ENVELOPE_V1: &[u8] = b"blindvault/v1/org-label-envelope";
/// Ed25519 context of the org's signature over a sealed entry version (encoding version 2).
pub const SIG_ENTRY_V1: &[u8] = b"blindvault/v1/sig/entry\0";
/// The encoding version of a signed sealed entry. Version 1 (unsigned) still decodes, so that an
/// old row gets a clear "rotate it" error instead of a parse failure, and never verifies.
const ENTRY_FORMAT: u8 = 2;

/// The largest secret value: 1 MiB.
pub const MAX_VALUE_LEN: usize = 1 << 20;
/// The largest label: 4 KiB.
pub const MAX_LABEL_LEN: usize = 4096;
/// The most approver devices (envelopes) per entry version.
pub const MAX_DEVICES: usize = 1024;

/// `label ‖ 0x00 ‖ entry id (16) ‖ version (u32 BE) ‖ policy (3)`: the binding used as AEAD
/// associated data and as HPKE `info`.
pub(crate) fn binding(label: &[u8], id: &EntryId, version: u32, policy: &Policy) -> Vec<u8> {
    let mut b = Vec::with_capacity(label.len() + 24);
    b.extend_from_slice(label);
    b.push(0);
    b.extend_from_slice(&id.0);
    b.extend_from_slice(&version.to_be_bytes());
    b.extend_from_slice(&policy.to_bytes());
    b
}

/// An approver device's envelope.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Envelope {
    /// The approver public key it is sealed to.
    pub approver: ApproverPublicKey,
    /// The HPKE ciphertext.
    pub sealed: HpkeCiphertext,
}

/// One sealed version of a secret entry: all the server ever stores of it.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct SealedEntry {
    /// The entry's opaque id.
    pub entry_id: EntryId,
    /// Version number, from 1.
    pub version: u32,
    /// The release policy.
    pub policy: Policy,
    value_nonce: [u8; 12],
    value_ct: Vec<u8>,
    label_nonce: [u8; 12],
    label_ct: Vec<u8>,
    /// One envelope per approver device.
    pub envelopes: Vec<Envelope>,
    /// The label key sealed to the org's X25519 key.
    pub org_envelope: HpkeCiphertext,
    /// The org's signature over the rest (`None`: an entry written before entries were signed).
    writer_signature: Option<[u8; 64]>,
}

/// What an approver's envelope opens to.
#[derive(Debug)]
pub struct OpenedEnvelope {
    /// Opens the label.
    pub label_key: LabelKey,
    /// The DEK or a share of it.
    pub key: KeyMaterial,
}

fn aead_seal(
    key: &[u8; 32],
    aad: &[u8],
    pt: &[u8],
    rng: &mut impl CryptoRng,
) -> Result<([u8; 12], Vec<u8>), Error> {
    let mut nonce = [0u8; 12];
    rng.fill_bytes(&mut nonce);
    let cipher = ChaCha20Poly1305::new(key.into());
    let ct = cipher
        .encrypt(&Nonce::from(nonce), Payload { msg: pt, aad })
        .map_err(|_| Error::TooLong { what: "plaintext", max: 1 << 30 })?;
    Ok((nonce, ct))
}

fn aead_open(key: &[u8; 32], aad: &[u8], nonce: &[u8; 12], ct: &[u8]) -> Result<SecretBytes, Error> {
    let cipher = ChaCha20Poly1305::new(key.into());
    cipher
        .decrypt(&Nonce::from(*nonce), Payload { msg: ct, aad })
        .map(SecretBytes::new)
        .map_err(|_| Error::Decrypt)
}

/// Envelope payload v1: `0x01 ‖ label key (32) ‖ kind` with kind `0x01 ‖ DEK (32)` or
/// `0x02 ‖ threshold ‖ x ‖ y (32)`.
fn envelope_payload(label_key: &LabelKey, key: &KeyMaterial) -> Result<SecretBytes, Error> {
    let mut w = Writer::new(1);
    w.fixed(label_key.expose());
    key.write(&mut w);
    w.finish().map(SecretBytes::new)
}

fn parse_envelope_payload(b: &SecretBytes, policy: &Policy) -> Result<OpenedEnvelope, Error> {
    let mut r = Reader::new(b.expose(), "envelope payload", 1)?;
    let label_key = LabelKey::from_bytes(r.fixed()?);
    let key = KeyMaterial::read(&mut r, policy)?;
    r.finish()?;
    Ok(OpenedEnvelope { label_key, key })
}

/// Seals a new entry version and signs it with the org key. `approvers` are the org-verified
/// approver devices; `policy.n()` must equal the number of distinct people among them.
#[allow(clippy::too_many_arguments)]
pub fn seal_entry(
    org_secret: &OrgSecretKey,
    entry_id: EntryId,
    version: u32,
    policy: Policy,
    approvers: &[VerifiedApprover],
    label: &[u8],
    value: &[u8],
    rng: &mut impl CryptoRng,
) -> Result<SealedEntry, Error> {
    policy.validate()?;
    if value.len() > MAX_VALUE_LEN {
        return Err(Error::TooLong { what: "secret value", max: MAX_VALUE_LEN });
    }
    if label.len() > MAX_LABEL_LEN {
        return Err(Error::TooLong { what: "label", max: MAX_LABEL_LEN });
    }
    if approvers.len() > MAX_DEVICES {
        return Err(Error::TooLong { what: "approver devices", max: MAX_DEVICES });
    }
    if version == 0 {
        return Err(Error::Malformed { what: "version" });
    }
    let org = &org_secret.public_key();
    // Distinct people, in first-seen order; each device once.
    let mut people: Vec<&str> = Vec::new();
    for (i, a) in approvers.iter().enumerate() {
        if approvers.iter().take(i).any(|b| b.public_key == a.public_key) {
            return Err(Error::Mismatch { what: crate::Mismatch::ApproverListedTwice });
        }
        if a.org != *org {
            return Err(Error::Mismatch { what: crate::Mismatch::ApproverOfAnotherOrg });
        }
        if !people.contains(&a.user_id.as_str()) {
            people.push(&a.user_id);
        }
    }
    if people.len() != policy.n() as usize {
        return Err(Error::InvalidPolicy);
    }

    let mut dek = [0u8; 32];
    rng.fill_bytes(&mut dek);
    let dek = Dek::from_bytes(dek);
    let mut lk = [0u8; 32];
    rng.fill_bytes(&mut lk);
    let label_key = LabelKey::from_bytes(lk);

    let (value_nonce, value_ct) =
        aead_seal(dek.expose(), &binding(AAD_VALUE_V1, &entry_id, version, &policy), value, rng)?;
    let (label_nonce, label_ct) =
        aead_seal(label_key.expose(), &binding(AAD_LABEL_V1, &entry_id, version, &policy), label, rng)?;

    let shares = match policy {
        Policy::AnyOf { .. } => Vec::new(),
        Policy::MOfN { m, n } => shamir::split(&dek, m, n, rng)?,
    };
    let info = binding(INFO_ENVELOPE_V1, &entry_id, version, &policy);
    let mut envelopes = Vec::with_capacity(approvers.len());
    for a in approvers {
        let key = match policy {
            Policy::AnyOf { .. } => KeyMaterial::Dek(dek.clone()),
            Policy::MOfN { .. } => {
                let person = people.iter().position(|p| *p == a.user_id).ok_or(Error::InvalidPolicy)?;
                KeyMaterial::Share(shares.get(person).ok_or(Error::InvalidPolicy)?.clone())
            }
        };
        let payload = envelope_payload(&label_key, &key)?;
        let sealed = hpke::seal(&a.public_key.0, &info, &a.public_key.0, payload.expose(), rng)?;
        envelopes.push(Envelope { approver: a.public_key, sealed });
    }
    let org_info = binding(INFO_ORG_ENVELOPE_V1, &entry_id, version, &policy);
    let org_envelope = hpke::seal(&org.box_key().0, &org_info, &[], label_key.expose(), rng)?;

    let mut entry = SealedEntry {
        entry_id,
        version,
        policy,
        value_nonce,
        value_ct,
        label_nonce,
        label_ct,
        envelopes,
        org_envelope,
        writer_signature: None,
    };
    entry.writer_signature = Some(org_secret.sign(SIG_ENTRY_V1, &entry.body_as(ENTRY_FORMAT)?));
    Ok(entry)
}

impl SealedEntry {
    /// The envelope sealed to `approver`, if any.
    pub fn envelope_for(&self, approver: &ApproverPublicKey) -> Option<&Envelope> {
        self.envelopes.iter().find(|e| e.approver == *approver)
    }

    /// Opens this device's envelope with its PRF-derived approver key.
    pub fn open_envelope(&self, sk: &ApproverSecretKey) -> Result<OpenedEnvelope, Error> {
        self.open_envelope_as(sk, &sk.public_key())
    }

    /// [`SealedEntry::open_envelope`] with the public key already computed.
    pub(crate) fn open_envelope_as(
        &self,
        sk: &ApproverSecretKey,
        pk: &ApproverPublicKey,
    ) -> Result<OpenedEnvelope, Error> {
        let env = self.envelope_for(pk).ok_or(Error::Mismatch { what: crate::Mismatch::NoEnvelope })?;
        let info = binding(INFO_ENVELOPE_V1, &self.entry_id, self.version, &self.policy);
        let payload = hpke::open(sk.expose(), &info, &pk.0, &env.sealed)?;
        parse_envelope_payload(&payload, &self.policy).map_err(|_| Error::Decrypt)
    }

    /// Decrypts the label with a label key.
    pub fn decrypt_label(&self, key: &LabelKey) -> Result<SecretBytes, Error> {
        let aad = binding(AAD_LABEL_V1, &self.entry_id, self.version, &self.policy);
        aead_open(key.expose(), &aad, &self.label_nonce, &self.label_ct)
    }

    /// Decrypts the label with the org key (the admin's CLI).
    pub fn decrypt_label_as_org(&self, org: &OrgSecretKey) -> Result<SecretBytes, Error> {
        let info = binding(INFO_ORG_ENVELOPE_V1, &self.entry_id, self.version, &self.policy);
        let lk = hpke::open(&org.box_secret(), &info, &[], &self.org_envelope)?;
        let lk = LabelKey::from_slice(lk.expose()).map_err(|_| Error::Decrypt)?;
        self.decrypt_label(&lk)
    }

    /// Decrypts the value with the DEK.
    pub fn decrypt_value(&self, dek: &Dek) -> Result<SecretBytes, Error> {
        let aad = binding(AAD_VALUE_V1, &self.entry_id, self.version, &self.policy);
        aead_open(dek.expose(), &aad, &self.value_nonce, &self.value_ct)
    }

    /// Recovers the value from at least `m` shares (consumer side of `m-of-n`).
    pub fn decrypt_with_shares(&self, shares: &[DekShare]) -> Result<SecretBytes, Error> {
        let dek = shamir::combine(shares)?;
        self.decrypt_value(&dek)
    }

    /// The encoding without the signature, under format byte `format` (what version 2 signs).
    fn body_as(&self, format: u8) -> Result<Vec<u8>, Error> {
        let mut w = Writer::new(format);
        w.fixed(&self.entry_id.0).u32(self.version).fixed(&self.policy.to_bytes()).fixed(&self.value_nonce);
        w.bytes32(&self.value_ct).fixed(&self.label_nonce).bytes32(&self.label_ct);
        w.count(self.envelopes.len());
        for e in &self.envelopes {
            w.fixed(&e.approver.0);
            e.sealed.write(&mut w);
        }
        self.org_envelope.write(&mut w);
        w.finish()
    }

    /// Checks the org's signature: the version was written by someone holding the org key (the
    /// admin's CLI), not sealed by the server to an approver's key. An unsigned (version 1) entry
    /// fails too: rotate it.
    pub fn verify_writer(&self, org: &OrgPublicKey) -> Result<(), Error> {
        let sig = self.writer_signature.as_ref().ok_or(Error::BadSignature { link: crate::Link::Entry })?;
        crate::keys::verify_ed25519(
            &org.signing_key_bytes(),
            SIG_ENTRY_V1,
            &self.body_as(ENTRY_FORMAT)?,
            sig,
            crate::Link::Entry,
        )
    }

    /// Whether this version carries a writer's signature (false: written by a release before
    /// entries were signed; approvers refuse it until it is rotated).
    pub fn is_signed(&self) -> bool {
        self.writer_signature.is_some()
    }

    /// Canonical encoding (see `docs/protocol.md`, "SealedEntry").
    pub fn to_bytes(&self) -> Vec<u8> {
        or_unencodable(match &self.writer_signature {
            Some(sig) => self.body_as(ENTRY_FORMAT).map(|mut b| {
                b.extend_from_slice(sig);
                b
            }),
            None => self.body_as(1),
        })
    }

    /// Decodes the canonical encoding (version 2, signed; or version 1, unsigned). Does not
    /// verify the signature: [`SealedEntry::verify_writer`].
    pub fn from_bytes(b: &[u8]) -> Result<Self, Error> {
        let format = match b.first() {
            Some(1) => 1,
            _ => ENTRY_FORMAT,
        };
        let mut r = Reader::new(b, "sealed entry", format)?;
        let entry_id = EntryId(r.fixed()?);
        let version = r.u32()?;
        let policy = Policy::from_bytes(r.fixed()?)?;
        let value_nonce = r.fixed()?;
        let value_ct = r.bytes32()?.to_vec();
        let label_nonce = r.fixed()?;
        let label_ct = r.bytes32()?.to_vec();
        let count = r.count()?;
        if count < policy.n() as usize
            || count > MAX_DEVICES
            || value_ct.len() < 16
            || label_ct.len() < 16
            || version == 0
        {
            return Err(Error::Malformed { what: "sealed entry" });
        }
        let mut envelopes = Vec::with_capacity(count);
        for _ in 0..count {
            let approver = ApproverPublicKey(r.fixed()?);
            if envelopes.iter().any(|e: &Envelope| e.approver == approver) {
                return Err(Error::Malformed { what: "sealed entry: two envelopes for one approver" });
            }
            let sealed = HpkeCiphertext::read(&mut r)?;
            envelopes.push(Envelope { approver, sealed });
        }
        let org_envelope = HpkeCiphertext::read(&mut r)?;
        let writer_signature = if format == ENTRY_FORMAT { Some(r.fixed()?) } else { None };
        r.finish()?;
        Ok(Self {
            entry_id,
            version,
            policy,
            value_nonce,
            value_ct,
            label_nonce,
            label_ct,
            envelopes,
            org_envelope,
            writer_signature,
        })
    }
}
serde_via_bytes!(SealedEntry);
