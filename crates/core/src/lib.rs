//! # blindvault-core
//!
//! The pure crypto core of blindvault: no I/O, no clock, no ambient randomness (time and a
//! `CryptoRng` are passed in), builds for `wasm32-unknown-unknown`. Every byte layout and label
//! is written down in `docs/protocol.md`; this crate is its reference implementation.
//!
//! * [`schedule`]: WebAuthn PRF output → approver key, wallet entropy, local-storage key.
//! * [`entry`]: secret entries — DEK, AEAD, one HPKE envelope per approver device.
//! * [`dek`]: the DEK, its Shamir shares and their one byte form.
//! * [`shamir`]: `m-of-n` split and combine of the DEK.
//! * [`identity`]: org → enrolment, org → host certificate, host → request, and the approver's
//!   [`identity::verify_request`].
//! * [`release`]: approve (open + reseal) and the consumer's open/recover.
//! * [`revocation`]: the org-signed revocation record (revoked approver devices and hosts).
//!
//! Secrets live in types that zeroize on drop and print `[REDACTED]`; decryption failures are
//! one opaque [`Error::Decrypt`].
#![no_std]
#![cfg_attr(not(test), warn(missing_docs))]

extern crate alloc;
#[cfg(test)]
extern crate std;

pub mod cookie;
pub mod dek;
pub mod encoding;
pub mod entry;
mod error;
pub mod hpke;
pub mod identity;
pub mod ids;
pub mod keys;
pub mod policy;
pub mod release;
pub mod revocation;
#[cfg(feature = "os-rng")]
pub mod rng;
pub mod schedule;
pub mod secret;
pub mod shamir;
pub mod storage;
pub mod text;
pub mod wallet_envelope;

pub use error::{Error, Link, Mismatch, Revocable};
