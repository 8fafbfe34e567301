//! Releasing a secret: the approver device re-seals the entry's key material (the DEK for
//! `any-of`, its person's share of the DEK for `m-of-n`) to the consumer's ephemeral key; the
//! consumer opens the responses, checks them against the org-signed entry, combines and decrypts
//! the entry's value itself. A response never carries the value: what it carries only opens the
//! org-signed ciphertext, so no approver (alone or with the server) can choose what a command
//! receives.

use alloc::vec::Vec;
use rand_core::CryptoRng;

use crate::Error;
use crate::dek::{Dek, DekShare, KeyMaterial};
use crate::encoding::{Reader, Writer, serde_via_bytes};
use crate::entry::SealedEntry;
use crate::hpke::{self, HpkeCiphertext};
use crate::identity::{HostCertificate, SignedEnrolment, SignedRequest, VerifiedApprover, VerifiedRequest};
use crate::ids::{EntryId, RequestId};
use crate::keys::{ApproverPublicKey, ApproverSecretKey, EphemeralSecretKey, OrgPublicKey};
use crate::policy::Policy;
use crate::secret::SecretBytes;

/// HPKE `info` label of a sealed response (followed by 0x00 ‖ request id). Version 2: HPKE
/// auth mode, the approver key as the sender's (version 1 was base mode, which anyone who saw
/// the request's ephemeral key, the server included, could seal to).
pub const INFO_RESPONSE_V2: &[u8] = b"blindvault/v2/response";

fn response_info(id: &RequestId) -> Vec<u8> {
    let mut b = Vec::with_capacity(INFO_RESPONSE_V2.len() + 17);
    b.extend_from_slice(INFO_RESPONSE_V2);
    b.push(0);
    b.extend_from_slice(&id.0);
    b
}

/// What the server relays from one approval to the consumer: a blob only the ephemeral key opens.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct SealedResponse {
    /// The request this answers.
    pub request_id: RequestId,
    /// The approver device that sealed it: the HPKE auth-mode sender, also bound as associated
    /// data. Only a consumer's check against the org-signed enrolment makes it mean anything.
    pub approver: ApproverPublicKey,
    sealed: HpkeCiphertext,
}

impl SealedResponse {
    /// Canonical encoding: `0x01 ‖ request id ‖ approver key ‖ enc ‖ u32 len ‖ ct`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::new(1);
        w.fixed(&self.request_id.0).fixed(&self.approver.0);
        self.sealed.write(&mut w);
        crate::encoding::or_unencodable(w.finish())
    }
    /// Decodes the canonical encoding.
    pub fn from_bytes(b: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(b, "sealed response", 1)?;
        let request_id = RequestId(r.fixed()?);
        let approver = ApproverPublicKey(r.fixed()?);
        let sealed = HpkeCiphertext::read(&mut r)?;
        r.finish()?;
        Ok(Self { request_id, approver, sealed })
    }
}
serde_via_bytes!(SealedResponse);

/// The encoding version of a response's sealed payload. Version 1 carried the secret value for
/// `any-of`, which let one approver choose what a command receives; it is refused.
const RELEASE_FORMAT: u8 = 2;

/// What one approval gives the consumer.
#[derive(Debug)]
pub enum Released {
    /// `any-of`: the entry version's DEK.
    Dek(Dek),
    /// `m-of-n`: one person's share of the DEK.
    Share(DekShare),
}

/// An opened response.
#[derive(Debug)]
pub struct Release {
    /// The entry.
    pub entry_id: EntryId,
    /// The entry version the approver opened.
    pub version: u32,
    /// That version's policy.
    pub policy: Policy,
    /// The approver device.
    pub approver: ApproverPublicKey,
    /// The secret or share.
    pub released: Released,
    /// The org key that vouched for the approver (the m-of-n entry must carry its signature).
    org: OrgPublicKey,
    /// The person whose org-signed enrolment vouched for the device.
    user_id: alloc::string::String,
}

impl Release {
    /// The person (user id of the org-signed enrolment) whose device sealed it.
    pub fn user_id(&self) -> &str {
        &self.user_id
    }
}

/// The checks of `entry` against a verified request that [`approve`] makes before it opens
/// anything (a device shows a request only after them too): it is the entry the request names,
/// the org key the request verified under signed it, and it is not older than the version the
/// host has already received.
pub fn check_entry(request: &VerifiedRequest, entry: &SealedEntry) -> Result<(), Error> {
    if entry.entry_id != request.entry_id {
        return Err(Error::Mismatch { what: crate::Mismatch::EntryNotRequested });
    }
    // Written by the org (the admin's CLI), not sealed to this device by someone else.
    entry.verify_writer(&request.org)?;
    // Not older than the host has already received (an org-signed old version is still
    // org-signed: only the host's signed memory tells a rollback).
    if entry.version < request.min_version {
        return Err(Error::Mismatch { what: crate::Mismatch::EntryRollback });
    }
    Ok(())
}

/// The approver's act, on the device, after [`crate::identity::verify_request`]: checks that
/// `entry` carries the signature of the org key the request verified under, opens this
/// device's envelope of it with its PRF-derived key and seals the result to the request's
/// ephemeral key. `any-of` releases the value; `m-of-n` releases this person's share.
pub fn approve(
    approver: &ApproverSecretKey,
    request: &VerifiedRequest,
    entry: &SealedEntry,
    rng: &mut impl CryptoRng,
) -> Result<SealedResponse, Error> {
    check_entry(request, entry)?;
    let pk = approver.public_key();
    let opened = entry.open_envelope_as(approver, &pk)?;
    let mut w = Writer::new(RELEASE_FORMAT);
    w.fixed(&request.request_id.0)
        .fixed(&entry.entry_id.0)
        .u32(entry.version)
        .fixed(&entry.policy.to_bytes())
        .fixed(&pk.0);
    if let KeyMaterial::Dek(dek) = &opened.key {
        // The DEK must open this version's value before it is sent: an approver never
        // releases a key that would fail at the consumer.
        entry.decrypt_value(dek)?;
    }
    opened.key.write(&mut w);
    let payload = SecretBytes::new(w.finish()?);
    let sealed = hpke::seal_auth(
        &request.ephemeral_key.0,
        (approver.expose(), &pk.0),
        &response_info(&request.request_id),
        &pk.0,
        payload.expose(),
        rng,
    )?;
    Ok(SealedResponse { request_id: request.request_id, approver: pk, sealed })
}

/// The consumer opens a response to its own request with its ephemeral key, accepting it only
/// from `approver`, a device whose enrolment the consumer verified against the org key it holds
/// (so neither the server nor anyone else who saw the request's ephemeral key can make one).
/// A response from another device is a [`Error::Mismatch`]; any failure to open, a sender who is
/// not `approver` included, is [`Error::Decrypt`]; one for another request or entry is a
/// [`Error::Mismatch`].
pub fn open_response(
    ephemeral: &EphemeralSecretKey,
    own: &SignedRequest,
    response: &SealedResponse,
    approver: &VerifiedApprover,
) -> Result<Release, Error> {
    let req = &own.request;
    if response.request_id != req.request_id {
        return Err(Error::Mismatch { what: crate::Mismatch::ResponseRequest });
    }
    if response.approver != approver.public_key() {
        return Err(Error::Mismatch { what: crate::Mismatch::ResponseApprover });
    }
    let approver_org = approver.org;
    let approver_user = approver.user_id.clone();
    let payload = hpke::open_auth(
        ephemeral.expose(),
        &approver.public_key().0,
        &response_info(&req.request_id),
        &response.approver.0,
        &response.sealed,
    )?;
    let parsed = (|| {
        let mut r = Reader::new(payload.expose(), "release", RELEASE_FORMAT)?;
        let request_id = RequestId(r.fixed()?);
        let entry_id = EntryId(r.fixed()?);
        let version = r.u32()?;
        let policy = Policy::from_bytes(r.fixed()?)?;
        let approver = ApproverPublicKey(r.fixed()?);
        let released = match KeyMaterial::read(&mut r, &policy)? {
            KeyMaterial::Dek(dek) => Released::Dek(dek),
            KeyMaterial::Share(share) => Released::Share(share),
        };
        r.finish()?;
        Ok((
            request_id,
            Release {
                entry_id,
                version,
                policy,
                approver,
                released,
                org: approver_org,
                user_id: approver_user,
            },
        ))
    })()
    .map_err(|_: Error| Error::Decrypt)?;
    let (request_id, release) = parsed;
    if request_id != req.request_id || release.approver != response.approver {
        return Err(Error::Mismatch { what: crate::Mismatch::ResponseRequest });
    }
    if release.entry_id != req.entry_id {
        return Err(Error::Mismatch { what: crate::Mismatch::ResponseEntry });
    }
    if release.version < req.min_version {
        return Err(Error::Mismatch { what: crate::Mismatch::EntryRollback });
    }
    Ok(release)
}

/// What `blindvault run` does with a delivered response: finds, among the delivered
/// `enrolments`, the one of the response's device that verifies under `org` (the key of the
/// host key file, never one from the server) and is valid at the request's `issued_at` (the
/// consumer's own clock, signed into its request), and opens the response from that device
/// only. No such enrolment is [`Error::NotVouched`]; the rest as [`open_response`].
pub fn open_vouched_response(
    ephemeral: &EphemeralSecretKey,
    own: &SignedRequest,
    response: &SealedResponse,
    enrolments: &[SignedEnrolment],
    org: &OrgPublicKey,
) -> Result<Release, Error> {
    let approver = enrolments
        .iter()
        .filter(|e| e.enrolment.approver_key == response.approver)
        .find_map(|e| e.verify(org, own.request.issued_at).ok())
        .ok_or(Error::NotVouched)?;
    open_response(ephemeral, own, response, &approver)
}

/// Separation of duties, checked by the consumer (so a server that ignores it releases
/// nothing): when `cert` (the host's own, org-signed certificate) names an issuer and does not
/// allow self-approval, the opened `releases` must not all come from that person — the people
/// are the user ids of the org-signed enrolments that vouched for the devices, so a second
/// device or session of the issuer counts as the issuer. A format-1 certificate names no issuer
/// and is not checked here (the server's own rule still applies). Refused: [`Error::SelfApproval`].
pub fn check_separation(cert: &HostCertificate, releases: &[Release]) -> Result<(), Error> {
    let Some(issuer) = cert.issuer.as_deref() else { return Ok(()) };
    if cert.self_approval || releases.is_empty() {
        return Ok(());
    }
    if releases.iter().all(|r| r.user_id == issuer) {
        return Err(Error::SelfApproval);
    }
    Ok(())
}

/// The consumer's last step: the secret from opened releases and the sealed `entry` (fetched
/// from the server, which is not trusted with it). Every policy goes through the entry:
///
/// 1. the entry carries the signature of the org key that vouched for the approvers (the one in
///    the host key file), and is the entry the releases are for (id, version and policy equal
///    each release's, which the approver bound under HPKE);
/// 2. every responding device holds an envelope in that entry version (a device the org vouched
///    for but which was not sealed to, or was removed before this version, cannot take part);
/// 3. `any-of`: a released DEK decrypts the entry's value (AEAD-authenticated: a DEK of the
///    approver's choosing opens nothing); `m-of-n`: the shares, counted once per person, combine
///    into the DEK, which decrypts the value.
///
/// So a response never chooses the value a command gets: it can only open the org's ciphertext.
///
/// Before all of it, no release may come from a device that `revoked` (the org's revocation
/// record, verified by the caller under the same org key and not older than one it saw before)
/// names: [`Error::Revoked`]. A removed device keeps its envelopes of the versions it was
/// sealed to, and a server may keep approving in its name; the record is what the server
/// cannot undo.
pub fn recover_secret(
    releases: &[Release],
    entry: &SealedEntry,
    revoked: &crate::revocation::Revocations,
) -> Result<SecretBytes, Error> {
    let first = releases.first().ok_or(Error::NotEnoughShares { needed: 1, got: 0 })?;
    if releases.iter().any(|r| r.org != first.org) {
        return Err(Error::ShareMismatch);
    }
    for r in releases {
        revoked.check_approver(&r.approver)?;
    }
    entry.verify_writer(&first.org)?;
    for r in releases {
        if r.entry_id != entry.entry_id || r.version != entry.version || r.policy != entry.policy {
            return Err(Error::ShareMismatch);
        }
        if !entry.envelopes.iter().any(|e| e.approver == r.approver) {
            return Err(Error::Mismatch { what: crate::Mismatch::ResponderWithoutEnvelope });
        }
    }
    match entry.policy {
        Policy::AnyOf { .. } => {
            // Any one approval suffices; the first DEK that opens the value is the entry's.
            let mut last = Error::Decrypt;
            for r in releases {
                let Released::Dek(dek) = &r.released else { return Err(Error::ShareMismatch) };
                match entry.decrypt_value(dek) {
                    Ok(v) => return Ok(v),
                    Err(e) => last = e,
                }
            }
            Err(last)
        }
        Policy::MOfN { .. } => {
            let mut shares: Vec<DekShare> = Vec::with_capacity(releases.len());
            for r in releases {
                let Released::Share(s) = &r.released else { return Err(Error::ShareMismatch) };
                // Two devices of one person carry the same share: count it once.
                match shares.iter().find(|t| t.x == s.x) {
                    Some(t) if t == s => {}
                    Some(_) => return Err(Error::ShareMismatch),
                    None => shares.push(s.clone()),
                }
            }
            entry.decrypt_with_shares(&shares)
        }
    }
}
