//! Authentication and authorisation below the HTTP layer: roles, session tokens and rows,
//! WebAuthn ceremonies and their state, assertion checks, step-ups.

pub mod assertion;
pub mod ceremony;
pub mod credentials;
pub mod jwt;
pub mod role;
pub mod rp;
pub mod session;
pub mod stepup;
pub mod strict;
