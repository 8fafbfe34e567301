//! The broker's request bodies and query strings, its short answers, and the request as an
//! approver sees it. Signed objects are the core's types (their JSON form is base64url of their
//! bytes, docs/protocol.md §7); in the JSON Schema they are strings.

use blindvault_core::entry::SealedEntry;
use blindvault_core::identity::{SignedEnrolment, SignedHostCertificate};
use blindvault_core::keys::{ApproverPublicKey, OrgPublicKey};
use blindvault_core::release::SealedResponse;
use blindvault_core::revocation::SignedRevocations;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

fn is_false(b: &bool) -> bool {
    !*b
}

/// `PUT /api/broker/org`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PutOrg {
    /// The org public key.
    #[schemars(with = "String")]
    pub org_public_key: OrgPublicKey,
    /// Replace a key the server already holds (needs a step-up for `org.replace` on the new
    /// key's fingerprint).
    #[serde(default, skip_serializing_if = "is_false")]
    pub replace: bool,
}

/// `GET /api/broker/enrolments?status=…`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct EnrolmentQuery {
    /// `pending`, `approved` or `removed` (all when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// `POST /api/broker/enrolments`: "my passkey C derives approver key K".
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct CreateEnrolment {
    /// The passkey's credential id (base64url).
    pub credential_id: String,
    /// The approver public key its PRF output derives.
    #[schemars(with = "String")]
    pub approver_public_key: ApproverPublicKey,
}

/// `POST /api/broker/enrolments/{id}/approve`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ApproveEnrolment {
    /// The org-signed enrolment.
    #[schemars(with = "String")]
    pub signed_enrolment: SignedEnrolment,
}

/// `DELETE /api/broker/enrolments/{id}?dry_run=…` (`true`, `1` or empty: only report the
/// quorum impact; `false` or `0`: remove).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct RemoveQuery {
    /// Whether this is a dry run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<String>,
}

/// `GET /api/broker/revocations`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RevocationsView {
    /// The org's newest revocation record as the server has it (not verified by it: devices
    /// and consumers verify it), if any.
    #[schemars(with = "Option<String>")]
    pub revocations: Option<SignedRevocations>,
}

/// `PUT /api/broker/revocations`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PutRevocations {
    /// A newer org-signed revocation record.
    #[schemars(with = "String")]
    pub revocations: SignedRevocations,
}

/// The answer to `PUT /api/broker/revocations`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RevocationsStored {
    /// The record's epoch.
    pub epoch: i64,
    /// False when it was the stored record already.
    pub stored: bool,
}

/// `POST /api/broker/hosts`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RegisterHost {
    /// The org-signed host certificate.
    #[schemars(with = "String")]
    pub certificate: SignedHostCertificate,
}

/// `POST /api/broker/hosts/{id}/revoke`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct HostRevoked {
    /// True.
    pub revoked: bool,
    /// How many open requests of the host it ended.
    pub requests_ended: u64,
}

/// `POST /api/broker/entries`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PutEntry {
    /// The org-signed entry version.
    #[schemars(with = "String")]
    pub sealed_entry: SealedEntry,
    /// Let a host's issuer approve its requests for this entry alone (format-1 certificates).
    #[serde(default)]
    pub allow_self_approval: bool,
}

/// `DELETE /api/broker/entries/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct EntryDeleted {
    /// True.
    pub deleted: bool,
}

/// `GET /api/broker/requests/{id}/result?wait=N`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct ResultQuery {
    /// Seconds to wait for a decision (at most 30; 0 when absent or empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait: Option<String>,
}

/// `POST /api/broker/requests/{id}/approve/finish`: the assertion bound to the request and the
/// sealed response for the consumer.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ApproveFinish<C = serde_json::Value> {
    /// The id from the approval's start.
    pub ceremony_id: String,
    /// The WebAuthn assertion.
    pub credential: C,
    /// The release sealed to the consumer host.
    #[schemars(with = "String")]
    pub sealed_response: SealedResponse,
}

/// The answer to an approval.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ApprovalRecorded {
    /// `approved` once enough people approved, else `pending`.
    pub status: String,
    /// Approvals so far.
    pub approvals: i64,
    /// Approvals needed.
    pub threshold: i64,
}

/// The answer to a denial.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RequestDenied {
    /// `denied`.
    pub status: String,
}

/// One person's decision on a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RequestDecision {
    /// Their name.
    pub user: String,
    /// `approve` or `deny`.
    pub decision: String,
}

/// A request as one of its approvers sees it (`GET /api/broker/requests/{id}`, the inbox).
/// The signed objects are the stored base64url text: the device verifies them itself.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RequestView {
    /// Request id.
    pub request_id: String,
    /// `pending`, `approved`, `denied`, `expired`, `delivered` or `cancelled`.
    pub status: String,
    /// The host name the server registered the certificate under (unchecked until the device
    /// verifies the certificate).
    pub host_name: String,
    /// When the request arrived (Unix seconds).
    pub created_at: i64,
    /// The host's issuer (user id; for a format-2 certificate the one it names).
    pub issuer: String,
    /// The issuer's name as this server knows it (none if the account is gone).
    pub issuer_name: Option<String>,
    /// The entry asked for.
    pub entry_id: String,
    /// Its version.
    pub version: i64,
    /// Approvals needed.
    pub threshold: i64,
    /// When it expires (Unix seconds).
    pub expires_at: i64,
    /// The host-signed request (base64url).
    pub signed_request: String,
    /// The host's org-signed certificate (base64url).
    pub certificate: String,
    /// The org-signed entry version (base64url).
    pub sealed_entry: Option<String>,
    /// Decisions so far.
    pub decisions: Vec<RequestDecision>,
    /// Names of the people who can approve, sorted.
    pub approvers: Vec<String>,
    /// The caller's own decision, if any.
    pub my_decision: Option<String>,
    /// A delivered request's lease (`run`'s; none for `inject`, or before delivery).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease: Option<crate::broker::LeaseView>,
}
