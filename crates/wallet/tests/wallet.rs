//! Integration tests of blindvault-wallet: shared vectors, signing per chain (decoded and
//! verified with each ecosystem's library, plus one public fixed vector per chain), secrets.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

#[path = "wallet/btc.rs"]
mod btc;
#[path = "wallet/common.rs"]
mod common;
#[path = "wallet/display.rs"]
mod display;
#[path = "wallet/erc20.rs"]
mod erc20;
#[path = "wallet/evm_send.rs"]
mod evm_send;
#[path = "wallet/generated.rs"]
mod generated;
#[path = "wallet/history.rs"]
mod history;
#[path = "wallet/secrets.rs"]
mod secrets;
#[path = "wallet/signing.rs"]
mod signing;
#[path = "wallet/solana_send.rs"]
mod solana_send;
#[path = "wallet/tokens.rs"]
mod tokens;
#[path = "wallet/ton_send.rs"]
mod ton_send;
#[path = "wallet/tron_send.rs"]
mod tron_send;
#[path = "wallet/vectors.rs"]
mod vectors;
