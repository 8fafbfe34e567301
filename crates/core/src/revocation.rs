//! The org-signed revocation record: which approver devices and which host certificates the
//! org has revoked. The server stores and relays it, but cannot make or edit one: devices and
//! consumers verify it under the org key they pinned, keep the newest record they have accepted
//! and refuse one that does not contain it (a server that serves an older record than one
//! already seen, to undo a revocation, is caught; one a host or device never saw is not).
//!
//! The record is cumulative and append-only: each new one lists everything revoked so far, with
//! an epoch one higher than the last. A record replaces an older one only if it contains it
//! ([`Revocations::replaces`]): a higher epoch that still revokes everything the older one
//! revoked, or the identical record again.
//!
//! ```text
//! body = 0x01 ‖ u64 epoch (≥ 1) ‖ u64 issued_at
//!      ‖ u16 count ‖ approver_public[32] × count   (ascending, distinct)
//!      ‖ u16 count ‖ cert_id[16] × count           (ascending, distinct)
//! ```
//!
//! signed as every other org object (`Signed` envelope, context
//! `"blindvault/v1/sig/revocations\0"`, `docs/protocol.md` §4.6).

use alloc::vec::Vec;

use crate::Error;
use crate::encoding::{Reader, Writer, serde_via_bytes};
use crate::ids::CertId;
use crate::keys::{ApproverPublicKey, OrgPublicKey, OrgSecretKey, verify_ed25519};

/// Signature context of a revocation record.
pub const SIG_REVOCATIONS_V1: &[u8] = b"blindvault/v1/sig/revocations\0";
/// Most entries in each of the record's two lists.
pub const MAX_REVOKED: usize = 16_384;

/// What the org has revoked, as of `epoch`.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Revocations {
    /// Strictly increasing from 1; 0 only for the empty record of an org that never revoked
    /// anything (never signed).
    pub epoch: u64,
    /// When the org signed it (Unix seconds).
    pub issued_at: u64,
    /// Revoked approver devices, by approver key (what envelopes and responses name).
    pub approvers: Vec<ApproverPublicKey>,
    /// Revoked host certificates.
    pub hosts: Vec<CertId>,
}

impl Revocations {
    /// Nothing revoked (epoch 0): what a consumer or device uses before any record exists.
    pub fn none() -> Self {
        Self::default()
    }

    /// The next record: everything in this one, plus `approvers` and `hosts`, at `epoch + 1`.
    pub fn next(
        &self,
        approvers: &[ApproverPublicKey],
        hosts: &[CertId],
        issued_at: u64,
    ) -> Result<Self, Error> {
        let mut r = self.clone();
        r.epoch = self.epoch.checked_add(1).ok_or(Error::Malformed { what: "revocation epoch" })?;
        r.issued_at = issued_at;
        r.approvers.extend_from_slice(approvers);
        r.hosts.extend_from_slice(hosts);
        r.approvers.sort_by_key(|a| a.0);
        r.approvers.dedup();
        r.hosts.sort();
        r.hosts.dedup();
        r.validate()?;
        Ok(r)
    }

    /// Whether the record names this approver device.
    pub fn approver_revoked(&self, key: &ApproverPublicKey) -> bool {
        self.approvers.binary_search_by(|a| a.0.cmp(&key.0)).is_ok()
    }

    /// Whether the record names this host certificate.
    pub fn host_revoked(&self, cert: &CertId) -> bool {
        self.hosts.binary_search(cert).is_ok()
    }

    /// [`Error::Revoked`] if the record names this approver device.
    pub fn check_approver(&self, key: &ApproverPublicKey) -> Result<(), Error> {
        if self.approver_revoked(key) {
            Err(Error::Revoked { what: crate::Revocable::ApproverDevice })
        } else {
            Ok(())
        }
    }

    /// [`Error::Revoked`] if the record names this host certificate.
    pub fn check_host(&self, cert: &CertId) -> Result<(), Error> {
        if self.host_revoked(cert) {
            Err(Error::Revoked { what: crate::Revocable::HostCertificate })
        } else {
            Ok(())
        }
    }

    /// The epoch half of [`Revocations::replaces`]: this record's epoch is at least `seen`.
    /// Otherwise [`Error::Rollback`]. An equal epoch is not checked for identical content here.
    pub fn newer_than(&self, seen: u64) -> Result<(), Error> {
        if self.epoch < seen { Err(Error::Rollback { seen, got: self.epoch }) } else { Ok(()) }
    }

    /// The append-only rule: this record may replace `older` only if its epoch is at least
    /// `older`'s ([`Error::Rollback`] otherwise), an equal epoch carries the identical record
    /// (a fork otherwise), and every approver device and host `older` revokes is still revoked
    /// ([`Error::Diverged`] for the last two).
    pub fn replaces(&self, older: &Revocations) -> Result<(), Error> {
        self.newer_than(older.epoch)?;
        let diverged = Error::Diverged { seen: older.epoch, got: self.epoch };
        if self.epoch == older.epoch && self != older {
            return Err(diverged);
        }
        if !older.approvers.iter().all(|a| self.approver_revoked(a))
            || !older.hosts.iter().all(|h| self.host_revoked(h))
        {
            return Err(diverged);
        }
        Ok(())
    }

    fn validate(&self) -> Result<(), Error> {
        if self.epoch == 0 {
            return Err(Error::Malformed { what: "revocation epoch" });
        }
        if self.approvers.len() > MAX_REVOKED || self.hosts.len() > MAX_REVOKED {
            return Err(Error::TooLong { what: "revocation record", max: MAX_REVOKED });
        }
        if self.approvers.windows(2).any(|w| matches!(w, [a, b] if a.0 >= b.0))
            || self.hosts.windows(2).any(|w| matches!(w, [a, b] if a >= b))
        {
            return Err(Error::Malformed { what: "revocation record order" });
        }
        Ok(())
    }

    fn body(&self) -> Result<Vec<u8>, Error> {
        let mut w = Writer::new(1);
        w.u64(self.epoch).u64(self.issued_at).count(self.approvers.len());
        for a in &self.approvers {
            w.fixed(&a.0);
        }
        w.count(self.hosts.len());
        for h in &self.hosts {
            w.fixed(&h.0);
        }
        w.finish()
    }

    fn parse(b: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(b, "revocation record", 1)?;
        let epoch = r.u64()?;
        let issued_at = r.u64()?;
        let n = r.count()?;
        let mut approvers = Vec::with_capacity(n.min(MAX_REVOKED));
        for _ in 0..n {
            approvers.push(ApproverPublicKey(r.fixed()?));
        }
        let n = r.count()?;
        let mut hosts = Vec::with_capacity(n.min(MAX_REVOKED));
        for _ in 0..n {
            hosts.push(CertId(r.fixed()?));
        }
        r.finish()?;
        let rec = Self { epoch, issued_at, approvers, hosts };
        rec.validate()?;
        Ok(rec)
    }

    /// The org signs the record (admin's machine).
    pub fn sign(self, org: &OrgSecretKey) -> Result<SignedRevocations, Error> {
        self.validate()?;
        let signature = org.sign(SIG_REVOCATIONS_V1, &self.body()?);
        Ok(SignedRevocations { record: self, signature })
    }
}

/// A revocation record with the org's signature.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct SignedRevocations {
    /// The signed content (not yet verified: use [`SignedRevocations::verify`]).
    pub record: Revocations,
    signature: [u8; 64],
}

impl SignedRevocations {
    /// Checks the org signature.
    pub fn verify(&self, org: &OrgPublicKey) -> Result<&Revocations, Error> {
        verify_ed25519(
            &org.signing_key_bytes(),
            SIG_REVOCATIONS_V1,
            &self.record.body()?,
            &self.signature,
            crate::Link::RevocationRecord,
        )?;
        Ok(&self.record)
    }

    /// The weaker check of one that remembers only an epoch `seen` (0: none): the signature,
    /// then the epoch is not lower. `None` (the server has no record) is the empty record,
    /// accepted only while `seen` is 0. It cannot catch a same-epoch fork or a record that
    /// drops a revocation: whoever can keep the full record uses
    /// [`SignedRevocations::check_against`].
    pub fn check(this: Option<&Self>, org: &OrgPublicKey, seen: u64) -> Result<Revocations, Error> {
        match this {
            Some(s) => {
                let r = s.verify(org)?;
                r.newer_than(seen)?;
                Ok(r.clone())
            }
            None => {
                let r = Revocations::none();
                r.newer_than(seen)?;
                Ok(r)
            }
        }
    }

    /// The check of a consumer that keeps the full record it accepted last (`seen`; `None`:
    /// none yet): the signature, then the append-only rule ([`Revocations::replaces`]). `None`
    /// from the server is the empty record, accepted only while nothing was seen.
    pub fn check_against(
        this: Option<&Self>,
        org: &OrgPublicKey,
        seen: Option<&Revocations>,
    ) -> Result<Revocations, Error> {
        let r = match this {
            Some(s) => s.verify(org)?.clone(),
            None => Revocations::none(),
        };
        if let Some(old) = seen {
            r.replaces(old)?;
        }
        Ok(r)
    }

    /// Canonical encoding: the `Signed` envelope of `docs/protocol.md` §4.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::new(1);
        crate::encoding::or_unencodable(self.record.body().and_then(|body| {
            w.bytes32(&body).fixed(&self.signature);
            w.finish()
        }))
    }

    /// Decodes the canonical encoding (does not verify).
    pub fn from_bytes(b: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(b, "signed revocation record", 1)?;
        let body = r.bytes32()?;
        let signature = r.fixed()?;
        r.finish()?;
        Ok(Self { record: Revocations::parse(body)?, signature })
    }
}
serde_via_bytes!(SignedRevocations);
