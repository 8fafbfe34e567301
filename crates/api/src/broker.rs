//! The bodies the broker's routes answer with (and the consumer's poll as one tagged enum).
//! Signed objects are the core's types: their JSON form is base64url of their bytes
//! (docs/protocol.md §7), and reading one runs its own decoding.

use blindvault_core::entry::SealedEntry;
use blindvault_core::identity::{SignedEnrolment, SignedRequest};
use blindvault_core::release::SealedResponse;
use blindvault_core::revocation::SignedRevocations;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The broker's answer about the org key.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
pub struct OrgView {
    /// The org public key (base64url), if set.
    pub org_public_key: Option<String>,
    /// Its fingerprint.
    pub fingerprint: Option<String>,
    /// How many times it was set.
    pub generation: i64,
}

/// A request for enrolment (pending) or an enrolment (approved).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
pub struct EnrolmentView {
    /// Enrolment id.
    pub id: String,
    /// The person's user id.
    pub user_id: String,
    /// The person's name.
    pub user_name: String,
    /// The passkey's credential id (base64url).
    pub credential_id: String,
    /// The approver public key (base64url).
    pub approver_public_key: String,
    /// The server's fingerprint of it (recomputed locally before signing).
    pub fingerprint: String,
    /// `pending`, `approved` or `removed`.
    pub status: String,
    /// The org-signed enrolment, once approved.
    pub signed_enrolment: Option<String>,
    /// When it was requested (Unix seconds).
    pub created_at: i64,
    /// The passkey is backup-eligible (synced to the person's cloud account), as its
    /// authenticator last reported it; `None` if the server does not know.
    pub backup_eligible: Option<bool>,
    /// The passkey is backed up now.
    pub backup_state: Option<bool>,
}

/// The org's settings.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
pub struct OrgSettings {
    /// Refuse approver enrolments from backup-eligible (synced) passkeys.
    pub refuse_synced_approvers: bool,
}

/// An entry that would fall below its quorum if an approver were removed.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
pub struct QuorumImpact {
    /// The entry.
    pub entry_id: String,
    /// Approvals it needs.
    pub threshold: i64,
    /// People who could still approve.
    pub people_left: i64,
}

/// The answer to a removal (or its dry run).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
pub struct RemoveView {
    /// Whether it was removed (false for a dry run).
    pub removed: bool,
    /// Entries that fall (or would fall) below quorum.
    pub entries_below_quorum: Vec<QuorumImpact>,
}

/// An approved approver device, for a writer to verify against its own org key.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
pub struct ApproverView {
    /// The person's user id.
    pub user_id: String,
    /// The person's name.
    pub user_name: String,
    /// The passkey's credential id.
    pub credential_id: String,
    /// The org-signed enrolment (base64url).
    #[schemars(with = "String")]
    pub signed_enrolment: SignedEnrolment,
}

/// A registered host.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
pub struct HostView {
    /// Certificate id.
    pub cert_id: String,
    /// Host name.
    pub host_name: String,
    /// Certificate expiry (Unix seconds).
    pub not_after: i64,
    /// Revoked?
    pub revoked: bool,
    /// The admin who registered it (for a format-2 certificate, the issuer it names).
    pub issued_by: String,
    /// Whether its certificate lets the issuer approve its requests alone.
    #[serde(default)]
    pub self_approval: bool,
}

/// The latest version of an entry.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
pub struct EntryView {
    /// Entry id.
    pub entry_id: String,
    /// Version.
    pub version: i64,
    /// Approvals needed.
    pub threshold: i64,
    /// People holding envelopes.
    pub people: i64,
    /// The sealed entry.
    #[schemars(with = "String")]
    pub sealed_entry: SealedEntry,
}

/// A request the broker accepted.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
pub struct CreatedRequest {
    /// Request id.
    pub request_id: String,
    /// `pending`.
    pub status: String,
    /// Approvals needed.
    pub threshold: i64,
    /// Names of the people who can approve.
    pub approvers: Vec<String>,
    /// When it expires (Unix seconds).
    pub expires_at: u64,
}

/// A consumer's request (`POST /api/broker/requests`).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
pub struct CreateRequest {
    /// The host-signed request.
    #[schemars(with = "String")]
    pub signed_request: SignedRequest,
    /// Lowercase hex SHA-256 of the poll token; when sent it must equal the one signed into the
    /// request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poll_token_hash: Option<String>,
}

/// Where a consumer's request stands (`GET /api/broker/requests/{id}/result`): the `status`
/// member says which.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum PollResult {
    /// Not decided yet.
    Pending {
        /// Approvals so far.
        approvals: i64,
        /// Approvals needed.
        threshold: i64,
        /// Who can approve (names).
        approvers: Vec<String>,
    },
    /// Approved: the sealed responses, handed over once.
    Delivered {
        /// One per approving person.
        #[schemars(with = "Vec<String>")]
        responses: Vec<SealedResponse>,
        /// The org-signed enrolments of the devices that approved (the consumer verifies them
        /// under its own org key).
        #[schemars(with = "Vec<String>")]
        enrolments: Vec<SignedEnrolment>,
        /// The org-signed entry version (the consumer decrypts its value).
        #[schemars(with = "Option<String>")]
        sealed_entry: Option<Box<SealedEntry>>,
        /// The org's revocation record as the server has it (the consumer checks it).
        #[schemars(with = "Option<String>")]
        revocations: Option<Box<SignedRevocations>>,
    },
    /// Someone denied it (their name; none when the host was revoked meanwhile).
    Denied {
        /// Who.
        by: Option<String>,
    },
    /// Nobody decided in time.
    Expired,
    /// The consumer withdrew it.
    Cancelled,
}

/// Where a delivered request's lease stands: `running` (delivered, its lease not over on the
/// server's clock, not ended), `ended` (someone ended it early: `ended_by` names them) or
/// `over` (its lease time has passed — the host's own clock ends it — or the request has no
/// lease, as `inject`'s do not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LeaseState {
    /// The command may still be running.
    Running,
    /// An approver or an admin ended it early.
    Ended,
    /// Its time is up, or it has none.
    Over,
}

/// The consumer's lease poll (`GET /api/broker/requests/{id}/lease?wait=N`).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
pub struct LeaseStatus {
    /// Where the lease stands.
    pub state: LeaseState,
    /// Who ended it early (their name; none unless `ended`, or if the account is gone).
    pub ended_by: Option<String>,
    /// When the lease ends on the server's clock (Unix seconds; none without a lease).
    pub ends_at: Option<i64>,
}

/// A delivered request's lease as an approver (or an admin) sees it: the Running list
/// (`GET /api/broker/leases`), one request's page, and the answer to ending it.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
pub struct LeaseView {
    /// Request id.
    pub request_id: String,
    /// The host name the server registered the certificate under.
    pub host_name: String,
    /// The command line the host signed into its request, as a shell would need it typed,
    /// every character outside printable ASCII escaped (`\u{…}`); empty for `inject`. Read by
    /// the server from the request it verified; the approver's device checked the same bytes
    /// before approving.
    pub command: String,
    /// The environment variable names the host signed (escaped the same way).
    pub env: Vec<String>,
    /// The names of the people who approved it.
    pub approved_by: Vec<String>,
    /// When it was delivered (Unix seconds).
    pub delivered_at: i64,
    /// When its lease ends on the server's clock (Unix seconds).
    pub ends_at: i64,
    /// `running`, `ended` or `over`.
    pub state: LeaseState,
    /// When someone ended it early (Unix seconds).
    pub ended_at: Option<i64>,
    /// Who ended it (user id).
    pub ended_by: Option<String>,
    /// Their name (none if the account is gone).
    pub ended_by_name: Option<String>,
}
