//! Authentication and authorisation below the HTTP layer: roles, session tokens and rows,
//! WebAuthn ceremonies and their state, assertion checks, step-ups.

pub mod assertion;
pub mod ceremony;
pub(crate) mod jwt;
pub(crate) mod role;
pub mod rp;
pub(crate) mod session;
pub mod stepup;
pub(crate) mod store;
pub(crate) mod strict;
pub(crate) mod token;
