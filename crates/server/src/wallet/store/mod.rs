//! The wallet's tables, one module each; every statement written once for SQLite and
//! PostgreSQL (see `crate::store`).

pub(crate) mod addresses;
pub(crate) mod endpoints;
pub(crate) mod keyring;
pub(crate) mod tokens;

use blindvault_api::wallet::Chain;

/// Reads a stored chain name (written by this module only).
pub(crate) fn chain_of(s: &str) -> Result<Chain, sqlx::Error> {
    Chain::parse(s)
        .ok_or_else(|| sqlx::Error::Decode(format!("unknown chain {s:?} in the wallet tables").into()))
}

/// A fresh row id: 16 random bytes in hex.
pub(crate) fn new_id() -> String {
    use rand_core::Rng as _;
    let mut raw = [0u8; 16];
    blindvault_core::rng::os_rng().fill_bytes(&mut raw);
    hex::encode(raw)
}
