//! # tron-proto-check (test-only, not published)
//!
//! An independent decoder for the TRON transactions `blindvault-wallet` builds: the types in
//! [`protocol`] are generated at build time by `prost-build` from TRON's own `.proto` files
//! (vendored unchanged under `proto/`, see `proto/README.md`), compiled by `protox`, a pure-Rust
//! protobuf compiler (so no `protoc` install is needed). The wallet's encoder and decoder are
//! hand-written; this crate's tests decode the wallet's bytes with the generated types and
//! check every field, the txID and the signer recovered from the signature.

/// The generated types of TRON's `package protocol` (`Transaction`, `TransferContract`,
/// `TriggerSmartContract`, …).
#[allow(missing_docs, clippy::all, clippy::pedantic, missing_debug_implementations)]
pub mod protocol {
    include!(concat!(env!("OUT_DIR"), "/protocol.rs"));
}

pub use prost;
pub use prost_types;
