//! Authentication and authorisation below the HTTP layer: roles, session tokens and rows,
//! WebAuthn ceremonies and their state, assertion checks, step-ups.

pub mod assertion;
pub mod ceremony;
pub(crate) mod credentials;
pub(crate) mod jwt;
pub(crate) mod role;
pub mod rp;
pub(crate) mod session;
pub(crate) mod step_up_store;
pub mod stepup;
pub(crate) mod strict;
