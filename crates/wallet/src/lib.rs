//! # blindvault-wallet
//!
//! The wallet core of blindvault (seed 000): a user's blockchain keys are derived on their own
//! device from the passkey PRF, never stored, and the same passkey always gives the same
//! addresses.
//!
//! ```text
//! PRF output ─(blindvault_core::schedule)─▶ 32 bytes wallet entropy ─▶ 24-word BIP-39 mnemonic
//!   ─(PBKDF2-HMAC-SHA512, 2048 rounds)─▶ 64-byte seed ─┬─ BIP-32 secp256k1 ─▶ EVM, Bitcoin, TRON
//!                                                      └─ SLIP-0010 ed25519 ─▶ Solana, TON
//! ```
//!
//! Paths: EVM `m/44'/60'/0'/0/i`, Bitcoin `m/84'/0'/0'/0/i` (coin type 1 off mainnet), Solana
//! `m/44'/501'/i'/0'`, TRON `m/44'/195'/0'/0/i`, TON `m/44'/607'/i'`; any other path through
//! [`Wallet::address_at`]. See `docs/wallet.md`.
//!
//! ## What comes from where
//!
//! | piece | library |
//! |---|---|
//! | BIP-39 mnemonic and seed | `bip39` (with `zeroize`) |
//! | path parsing, Bitcoin addresses, PSBT, BIP-143 sighash, base58check | `bitcoin` 0.32 |
//! | secp256k1 arithmetic (derivation, Bitcoin signatures) | libsecp256k1 via `bitcoin::secp256k1` |
//! | EVM addresses (EIP-55), transactions, EIP-191, EIP-712 | `alloy-primitives`, `alloy-consensus`, `alloy-eips`, `alloy-signer(-local)`, `alloy-dyn-abi` |
//! | Solana messages, transfers, off-chain messages, wire format | `solana-message`, `solana-transaction`, `solana-system-interface`, `solana-offchain-message`, `wincode` |
//! | SPL token transfers, associated token accounts | `spl-token-interface`, `spl-associated-token-account-interface` |
//! | TON cells, StateInit, wallet code, addresses, BOC | `tonlib-core` (never its `nacl` signing: wrong on wasm32) |
//! | ed25519 keys and signatures (Solana, TON) | `ed25519-dalek` |
//!
//! ## What is hand-written, and why
//!
//! - **BIP-32 CKDpriv and SLIP-0010 ed25519** ([`derive`], ~60 lines): `bitcoin::bip32::Xpriv`
//!   is `Copy` and never zeroized, and computes a fingerprint (an extra EC multiplication and
//!   HASH160) at each level; no maintained ecosystem crate offers SLIP-0010 ed25519 alone. Checked
//!   against every BIP-32 and SLIP-0010 vector and against `Xpriv` itself.
//! - **TRON `raw_data` protobuf for a `TransferContract`** ([`tron`], ~50 lines): the TRON
//!   crates are unmaintained or bring a gRPC stack; checked against a node's `raw_data_hex` and
//!   `txID`.
//! - Glue: PSBT review (amounts checked against each input's previous transaction, fee, change) and P2WPKH finalization ([`btc`]), moving
//!   the Solana interface crates' instructions to the newer `solana-instruction` type, the TON
//!   internal message.
//!
//! ## Secrets
//!
//! [`Seed`], [`MnemonicPhrase`], [`derive::Secp256k1Key`], [`derive::Ed25519Key`] and every
//! signer zeroize on drop and print no secret in `Debug`. Signers are built per operation from
//! the seed and dropped after it. (Copies that libsecp256k1's `SecretKey` makes on the stack are
//! erased with `non_secure_erase` where we hold them; HMAC engine states are not: best effort.)
//!
//! Builds for `wasm32-unknown-unknown` (libsecp256k1's C code needs `clang` there).
#![cfg_attr(not(test), warn(missing_docs))]

pub mod btc;
pub mod derive;
mod error;
pub mod evm;
pub mod solana;
pub mod ton;
pub mod tron;
mod wallet;

pub use derive::{Seed, path_string};
pub use error::{Error, Result};
pub use wallet::{Chain, Curve, DerivedAddress, MnemonicPhrase, Wallet};

pub use blindvault_core::schedule::{PrfOutput, WalletEntropy};
/// Re-exported so that callers (the CLI) wipe their own copies with the same crate.
pub use zeroize;

/// A list of derived addresses as JSON: `[{"chain", "path", "address"}, …]`.
pub fn addresses_to_json(list: &[DerivedAddress]) -> String {
    serde_json::to_string_pretty(list).unwrap_or_else(|_| "[]".to_owned())
}
