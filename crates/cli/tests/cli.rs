//! The `blindvault` binary end to end, as people and machines run it: one test binary, a module
//! per area.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "cli/audit_verify.rs"]
mod audit_verify;
#[path = "cli/bad_input.rs"]
mod bad_input;
#[path = "cli/broker.rs"]
mod broker;
#[path = "cli/serve.rs"]
mod serve;
#[path = "cli/wallet.rs"]
mod wallet;
