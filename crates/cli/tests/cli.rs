//! The `blindvault` binary end to end, as people and machines run it: one test binary, a module
//! per area. Each module needs the parts of the binary it drives (cargo features, see
//! `crates/cli/Cargo.toml`); `bad_input` runs in every build and checks which subcommands the
//! build has.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[cfg(feature = "admin")]
#[path = "cli/admin_wallet.rs"]
mod admin_wallet;
#[cfg(feature = "server")]
#[path = "cli/audit_verify.rs"]
mod audit_verify;
#[path = "cli/bad_input.rs"]
mod bad_input;
#[cfg(all(feature = "admin", feature = "consumer"))]
#[path = "cli/broker.rs"]
mod broker;
#[cfg(all(feature = "server", feature = "admin", feature = "consumer"))]
#[path = "cli/crash.rs"]
mod crash;
#[cfg(target_os = "linux")]
#[path = "cli/procmem.rs"]
mod procmem;
#[cfg(feature = "server")]
#[path = "cli/serve.rs"]
mod serve;
#[cfg(feature = "wallet")]
#[path = "cli/wallet.rs"]
mod wallet;
