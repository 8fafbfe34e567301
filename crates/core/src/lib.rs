//! # blindvault-core
//!
//! The pure crypto core of blindvault: no I/O, no clock, no ambient randomness (time and
//! randomness are passed in), builds for `wasm32-unknown-unknown`. Every byte layout and label is
//! written down in `docs/protocol.md`.
#![no_std]
#![cfg_attr(not(test), warn(missing_docs))]

extern crate alloc;
#[cfg(test)]
extern crate std;

pub mod encoding;
mod error;
pub mod keys;
pub mod schedule;
pub mod secret;

pub use error::Error;
