//! The blind broker: org key, approver enrolments, host certificates, sealed entries, requests
//! and their relay. The server stores ciphertext, public keys and routing rows only; it checks
//! signatures for gatekeeping (a device re-checks everything against its pinned org key), relays
//! each sealed response exactly once, and writes an audit row for every step.

pub mod api;
pub mod hub;
pub mod sweeper;

/// Schema of the broker (migration 2). Binary values are base64url text.
pub const SCHEMA: &[&str] = &[
    "CREATE TABLE broker_org (id BIGINT PRIMARY KEY, public_key TEXT NOT NULL, fingerprint TEXT NOT NULL, \
     generation BIGINT NOT NULL, set_at BIGINT NOT NULL, set_by TEXT NOT NULL)",
    "CREATE TABLE broker_enrolments (id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE, \
     credential_id TEXT NOT NULL UNIQUE, approver_key TEXT NOT NULL, status TEXT NOT NULL, signed TEXT, \
     org_generation BIGINT, created_at BIGINT NOT NULL, decided_at BIGINT)",
    "CREATE INDEX broker_enrolments_key ON broker_enrolments (approver_key)",
    "CREATE TABLE broker_hosts (cert_id TEXT PRIMARY KEY, host_name TEXT NOT NULL, host_key TEXT NOT NULL, \
     certificate TEXT NOT NULL, not_after BIGINT NOT NULL, issued_by TEXT NOT NULL, created_at BIGINT NOT NULL, \
     revoked_at BIGINT)",
    "CREATE TABLE broker_entries (entry_id TEXT NOT NULL, version BIGINT NOT NULL, threshold BIGINT NOT NULL, \
     people BIGINT NOT NULL, sealed TEXT NOT NULL, allow_self_approval BIGINT NOT NULL, created_by TEXT NOT NULL, \
     created_at BIGINT NOT NULL, PRIMARY KEY (entry_id, version))",
    "CREATE TABLE broker_entry_heads (entry_id TEXT PRIMARY KEY, version BIGINT NOT NULL, deleted_at BIGINT)",
    "CREATE TABLE broker_entry_devices (entry_id TEXT NOT NULL, version BIGINT NOT NULL, approver_key TEXT NOT NULL, \
     PRIMARY KEY (entry_id, version, approver_key))",
    "CREATE TABLE broker_requests (request_id TEXT PRIMARY KEY, entry_id TEXT NOT NULL, version BIGINT NOT NULL, \
     cert_id TEXT NOT NULL, signed TEXT NOT NULL, status TEXT NOT NULL, poll_hash TEXT NOT NULL, \
     threshold BIGINT NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL, decided_at BIGINT, \
     delivered_at BIGINT, decided_by TEXT)",
    "CREATE INDEX broker_requests_status ON broker_requests (status, expires_at)",
    "CREATE TABLE broker_approvals (request_id TEXT NOT NULL, user_id TEXT NOT NULL, credential_id TEXT NOT NULL, \
     approver_key TEXT NOT NULL, decision TEXT NOT NULL, at BIGINT NOT NULL, PRIMARY KEY (request_id, user_id))",
    "CREATE TABLE broker_responses (request_id TEXT NOT NULL, user_id TEXT NOT NULL, sealed TEXT NOT NULL, \
     PRIMARY KEY (request_id, user_id))",
];

/// Migration 3: each request counts its approvals (people) and those by someone other than its
/// host's issuer, so that an approval updates the count and decides the release in one
/// statement under the request row's lock (two approvals at once through two instances on
/// PostgreSQL could otherwise each count only themselves and leave an m-of-n request pending).
pub const SCHEMA_3: &[&str] = &[
    "ALTER TABLE broker_requests ADD COLUMN approvals BIGINT NOT NULL DEFAULT 0",
    "ALTER TABLE broker_requests ADD COLUMN non_issuer_approvals BIGINT NOT NULL DEFAULT 0",
    "UPDATE broker_requests SET \
     approvals = (SELECT COUNT(*) FROM broker_approvals a WHERE a.request_id = broker_requests.request_id AND a.decision = 'approve'), \
     non_issuer_approvals = (SELECT COUNT(*) FROM broker_approvals a JOIN broker_hosts h ON h.cert_id = broker_requests.cert_id \
       WHERE a.request_id = broker_requests.request_id AND a.decision = 'approve' AND a.user_id <> h.issued_by)",
];

/// Migration 7: separation of duties follows the host certificate. A format-2 certificate names
/// its issuer (checked at registration to be the registering user and the org key's holder,
/// `broker_org.set_by`) and whether the issuer may approve alone; `self_approval` keeps that
/// flag for the approval count. NULL: a format-1 certificate (no issuer in it), judged as before
/// by its registering user and the entry's `allow_self_approval`.
pub const SCHEMA_7: &[&str] = &["ALTER TABLE broker_hosts ADD COLUMN self_approval BIGINT"];

/// Request states. `gone` is the absence of responses after `delivered`, `denied`, `expired` or
/// `cancelled`.
pub mod status {
    /// Waiting for approvals.
    pub const PENDING: &str = "pending";
    /// Enough approvals; waiting for the consumer.
    pub const APPROVED: &str = "approved";
    /// An approver denied it.
    pub const DENIED: &str = "denied";
    /// Not approved, or not fetched, in time.
    pub const EXPIRED: &str = "expired";
    /// The consumer fetched the responses (now deleted).
    pub const DELIVERED: &str = "delivered";
    /// The consumer withdrew it before it was delivered (its `run` was interrupted).
    pub const CANCELLED: &str = "cancelled";
}
