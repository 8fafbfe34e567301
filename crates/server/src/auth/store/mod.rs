//! The storage of the auth layer, one module per table, the SQL written once for both engines:
//! sessions, ceremony state, passkeys (credentials), step-ups and command-line tokens.

pub(crate) mod ceremonies;
pub(crate) mod credentials;
pub(crate) mod sessions;
pub(crate) mod step_ups;
pub(crate) mod tokens;
