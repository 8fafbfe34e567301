//! The blind broker: org key, approver enrolments, host certificates, sealed entries, requests
//! and their relay. The server stores ciphertext, public keys and routing rows only; it checks
//! signatures for gatekeeping (a device re-checks everything against its pinned org key), relays
//! each sealed response exactly once, and writes an audit row for every step.

pub mod approvals;
pub mod common;
pub mod consumer;
pub mod enrolments;
pub mod entries;
pub mod events;
pub mod hosts;
pub mod hub;
pub mod notify;
pub mod org;
pub mod requests;
pub mod revocations;
pub mod sweeper;

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
