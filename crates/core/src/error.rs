/// Every failure of the core. Decryption failures are one opaque variant; verification failures
/// say which link of the chain failed. No variant ever carries secret material.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A byte string had the wrong length.
    Length {
        /// What was being read.
        what: &'static str,
        /// Expected length.
        expected: usize,
        /// Actual length.
        got: usize,
    },
    /// An encoding ended early.
    Truncated {
        /// What was being read.
        what: &'static str,
    },
    /// An encoding had bytes after its last field.
    TrailingBytes {
        /// What was being read.
        what: &'static str,
    },
    /// An encoding had a format version this build does not know.
    UnknownVersion {
        /// What was being read.
        what: &'static str,
        /// The version byte found.
        version: u8,
    },
    /// An encoding was malformed (bad tag, bad UTF-8, bad base64, not a valid curve point).
    Malformed {
        /// What was being read.
        what: &'static str,
    },
    /// A value was too long to encode.
    TooLong {
        /// What was being written.
        what: &'static str,
        /// The maximum.
        max: usize,
    },
    /// A policy was not satisfiable (`m` = 0, `m` > `n`, more than 255 approvers, none at all).
    InvalidPolicy,
    /// Decryption failed. Deliberately says nothing more.
    Decrypt,
    /// Fewer distinct shares than the policy's threshold.
    NotEnoughShares {
        /// Shares needed.
        needed: u8,
        /// Distinct shares given.
        got: usize,
    },
    /// Shares that do not belong together (another entry, version or policy, or a duplicate).
    ShareMismatch,
    /// A signature did not verify. Names the link of the chain that failed.
    BadSignature {
        /// The link.
        link: Link,
    },
    /// A certificate or request is outside its validity window.
    Expired {
        /// The link: an enrolment, a host certificate, a request.
        link: Link,
    },
    /// A certificate or request is not yet valid.
    NotYetValid {
        /// The link.
        link: Link,
    },
    /// The host certificate does not allow the requested entry.
    EntryNotAllowed,
    /// Two parts of a chain disagree (request signed for another org, response for another
    /// request, envelope for another approver, …).
    Mismatch {
        /// What disagreed.
        what: Mismatch,
    },
    /// A response in the name of a device no enrolment signed by the org key vouches for.
    NotVouched,
    /// Separation of duties: the only approvals came from the person who issued the host's
    /// certificate, which does not allow self-approval.
    SelfApproval,
    /// An org-signed revocation record older than one already seen (a lower epoch, or none
    /// after one was seen).
    Rollback {
        /// The epoch already seen.
        seen: u64,
        /// The epoch offered (0: no record).
        got: u64,
    },
    /// An org-signed revocation record that does not contain one already seen: the same epoch
    /// with other content (a fork), or a record that dropped an approver device or host the
    /// seen one revoked. Records are append-only (`docs/protocol.md` §4.6).
    Diverged {
        /// The epoch already seen.
        seen: u64,
        /// The epoch offered.
        got: u64,
    },
    /// The org's revocation record names this approver device or host.
    Revoked {
        /// What is revoked.
        what: Revocable,
    },
}

/// A signed link of the chain of trust (what [`Error::BadSignature`], [`Error::Expired`] and
/// [`Error::NotYetValid`] name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Link {
    /// An approver's enrolment (signed by the org key).
    Enrolment,
    /// A host certificate (signed by the org key).
    HostCertificate,
    /// A request (signed by the certified host's key).
    Request,
    /// A sealed entry (signed by the org key that wrote it).
    Entry,
    /// The org's revocation record (signed by the org key).
    RevocationRecord,
}

impl Link {
    /// The words for it, as in messages.
    pub const fn as_str(self) -> &'static str {
        match self {
            Link::Enrolment => "enrolment",
            Link::HostCertificate => "host certificate",
            Link::Request => "request",
            Link::Entry => "entry",
            Link::RevocationRecord => "revocation record",
        }
    }
}

impl core::fmt::Display for Link {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What disagreed in an [`Error::Mismatch`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Mismatch {
    /// Shares of an `m-of-n` entry with another threshold than its policy.
    ShareThreshold,
    /// One approver key listed twice in an entry's approvers.
    ApproverListedTwice,
    /// An approver enrolled by another org key than the entry's.
    ApproverOfAnotherOrg,
    /// The entry holds no envelope for this approver key.
    NoEnvelope,
    /// The request names another host certificate than the one given.
    RequestCertificate,
    /// The request is valid longer than its host certificate.
    RequestOutlivesCertificate,
    /// The entry is not the one the request names.
    EntryNotRequested,
    /// The entry version is older than the host has already received.
    EntryRollback,
    /// A response for another request.
    ResponseRequest,
    /// A response from another approver device than it claims.
    ResponseApprover,
    /// A response for another entry.
    ResponseEntry,
    /// A responding device holds no envelope of the entry version.
    ResponderWithoutEnvelope,
}

impl Mismatch {
    /// The words for it, as in messages.
    pub const fn as_str(self) -> &'static str {
        match self {
            Mismatch::ShareThreshold => "share threshold",
            Mismatch::ApproverListedTwice => "approver listed twice",
            Mismatch::ApproverOfAnotherOrg => "approver enrolled by another org",
            Mismatch::NoEnvelope => "no envelope for this approver",
            Mismatch::RequestCertificate => "request names another host certificate",
            Mismatch::RequestOutlivesCertificate => "request outlives its host certificate",
            Mismatch::EntryNotRequested => "entry is not the one requested",
            Mismatch::EntryRollback => "entry version is older than the host has received (rollback)",
            Mismatch::ResponseRequest => "response is for another request",
            Mismatch::ResponseApprover => "response is from another approver device",
            Mismatch::ResponseEntry => "response is for another entry",
            Mismatch::ResponderWithoutEnvelope => {
                "a responding device holds no envelope of this entry version"
            }
        }
    }
}

impl core::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an org's revocation record revokes ([`Error::Revoked`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Revocable {
    /// An approver device (its approver key).
    ApproverDevice,
    /// A host certificate.
    HostCertificate,
}

impl Revocable {
    /// The words for it, as in messages.
    pub const fn as_str(self) -> &'static str {
        match self {
            Revocable::ApproverDevice => "approver device",
            Revocable::HostCertificate => "host certificate",
        }
    }
}

impl core::fmt::Display for Revocable {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Error::Length { what, expected, got } => {
                write!(f, "{what}: expected {expected} bytes, got {got}")
            }
            Error::Truncated { what } => write!(f, "{what}: truncated"),
            Error::TrailingBytes { what } => write!(f, "{what}: trailing bytes"),
            Error::UnknownVersion { what, version } => write!(f, "{what}: unknown version {version}"),
            Error::Malformed { what } => write!(f, "{what}: malformed"),
            Error::TooLong { what, max } => write!(f, "{what}: longer than {max}"),
            Error::InvalidPolicy => f.write_str("invalid policy"),
            Error::Decrypt => f.write_str("decryption failed"),
            Error::NotEnoughShares { needed, got } => {
                write!(f, "not enough approvals: {got} of {needed}")
            }
            Error::ShareMismatch => f.write_str("shares do not belong to the same entry version"),
            Error::BadSignature { link } => write!(f, "{link}: signature does not verify"),
            Error::Expired { link } => write!(f, "{link}: expired"),
            Error::NotYetValid { link } => write!(f, "{link}: not yet valid"),
            Error::EntryNotAllowed => f.write_str("host certificate does not allow this entry"),
            Error::Mismatch { what } => write!(f, "mismatch: {what}"),
            Error::NotVouched => f.write_str("the approver device is not vouched for by the org key"),
            Error::SelfApproval => {
                f.write_str("the host certificate's issuer cannot be the only approver of its requests")
            }
            Error::Rollback { seen, got } => {
                write!(f, "revocation record rolled back: epoch {got} offered, epoch {seen} already seen")
            }
            Error::Diverged { seen, got } => write!(
                f,
                "revocation record diverged: epoch {got} offered does not contain everything the epoch {seen} record already seen revokes"
            ),
            Error::Revoked { what } => write!(f, "the {what} is revoked by the org's revocation record"),
        }
    }
}

impl core::error::Error for Error {}
