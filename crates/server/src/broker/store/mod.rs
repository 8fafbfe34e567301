//! The broker's storage: one module per table group, the SQL written once for both engines, typed
//! rows in and out. Handlers (the modules above) call these inside their own transactions.

pub(crate) mod approvals;
pub(crate) mod consumer;
pub(crate) mod enrolments;
pub(crate) mod entries;
pub(crate) mod hosts;
pub(crate) mod leases;
pub(crate) mod notify;
pub(crate) mod org;
pub(crate) mod requests;
pub(crate) mod revocations;
