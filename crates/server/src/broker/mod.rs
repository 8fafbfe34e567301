//! The blind broker: org key, approver enrolments, host certificates, sealed entries, requests
//! and their relay. The server stores ciphertext, public keys and routing rows only; it checks
//! signatures for gatekeeping (a device re-checks everything against its pinned org key), relays
//! each sealed response exactly once, and writes an audit row for every step.

pub(crate) mod approvals;
pub(crate) mod codec;
pub(crate) mod common;
pub(crate) mod consumer;
pub(crate) mod enrolments;
pub(crate) mod entries;
pub(crate) mod events;
pub mod hosts;
pub mod hub;
pub(crate) mod leases;
pub(crate) mod notify;
pub(crate) mod org;
pub(crate) mod requests;
pub(crate) mod revocations;
pub(crate) mod store;
pub mod sweeper;

/// Request states. `gone` is the absence of responses after `delivered`, `denied`, `expired` or
/// `cancelled`.
pub(crate) mod status {
    /// Waiting for approvals.
    pub(crate) const PENDING: &str = "pending";
    /// Enough approvals; waiting for the consumer.
    pub(crate) const APPROVED: &str = "approved";
    /// An approver denied it.
    pub(crate) const DENIED: &str = "denied";
    /// Not approved, or not fetched, in time.
    pub(crate) const EXPIRED: &str = "expired";
    /// The consumer fetched the responses (now deleted).
    pub(crate) const DELIVERED: &str = "delivered";
    /// The consumer withdrew it before it was delivered (its `run` was interrupted).
    pub(crate) const CANCELLED: &str = "cancelled";
}
