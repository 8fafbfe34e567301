//! blindvault-core's one integration-test binary.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::unreachable
)]

mod chain;
mod encoding;
mod entries;
mod generated_vectors;
mod props;
mod redaction;
mod revocation;
mod rfc9180;
mod schedule;
pub mod util;
mod wallet_envelope;
