//! The one-time setup code that claims the first admin.
//!
//! While no admin exists, every start makes a fresh code (100 random bits), stores only its
//! SHA-256 and hands the code to the caller, which prints it to the terminal. The first
//! signed-in user who presents it becomes admin; the hash is then deleted, so nobody else can
//! claim the instance.

use rand_core::Rng as _;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

mod store;

use crate::error::ServerError;
use crate::store::Store;

const HASH_SETTING: &str = "setup_code_sha256";
const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// A setup code to print. Its `Debug` does not show it.
pub struct SetupCode(String);

impl SetupCode {
    /// The code, for printing to the operator's terminal (never to a log).
    pub fn reveal(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SetupCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SetupCode([REDACTED])")
    }
}

/// The SHA-256 (hex) of a code as typed: letters and digits only, upper-cased (so dashes, spaces
/// and case do not matter). Setup and invite codes are stored only as this.
pub(crate) fn hash(code: &str) -> String {
    let normal: String =
        code.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_uppercase()).collect();
    hex::encode(Sha256::digest(normal.as_bytes()))
}

/// Whether any admin exists.
pub(crate) async fn admin_exists(store: &Store) -> Result<bool, sqlx::Error> {
    store::admin_exists(store).await
}

/// Makes a new code if the instance has no admin yet.
pub async fn prepare(store: &Store) -> Result<Option<SetupCode>, ServerError> {
    if admin_exists(store).await? {
        store.delete_setting(HASH_SETTING).await?;
        return Ok(None);
    }
    let code = random_code();
    store.set_setting(HASH_SETTING, &hash(&code)).await?;
    Ok(Some(SetupCode(code)))
}

/// 20 characters of an alphabet without look-alikes (0/O, 1/I), in four groups of five: 100 bits
/// from the OS's random source.
pub(crate) fn random_code() -> String {
    // 32 characters: a random byte modulo 32 is uniform (5 bits each).
    const _: () = assert!(256 % ALPHABET.len() == 0);
    let mut bytes = [0u8; 20];
    blindvault_core::rng::os_rng().fill_bytes(&mut bytes);
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| char::from(ALPHABET.get(usize::from(*b) % ALPHABET.len()).copied().unwrap_or(b'A')))
        .collect();
    chars.chunks(5).map(|c| c.iter().collect::<String>()).collect::<Vec<_>>().join("-")
}

/// Whether `code` is the setup code of an instance not yet claimed (constant-time compare).
pub(crate) async fn is_setup_code(store: &Store, code: &str) -> Result<bool, sqlx::Error> {
    let Some(stored) = store.setting(HASH_SETTING).await? else { return Ok(false) };
    Ok(bool::from(hash(code).as_bytes().ct_eq(stored.as_bytes())))
}

/// Whether the instance still waits for its first admin (a setup code is outstanding), read
/// inside the caller's transaction.
pub(crate) async fn unclaimed_in(tx: &mut sqlx::Transaction<'_, sqlx::Any>) -> Result<bool, sqlx::Error> {
    store::setting_exists(tx, HASH_SETTING).await
}

/// Outcome of a claim.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Claim {
    /// The user is now admin.
    Claimed,
    /// Wrong code.
    WrongCode,
    /// Already claimed (or no code was ever made).
    NotAvailable,
}

/// Checks `code` and, if right, makes `user_id` admin and consumes the code, inside `tx` (the
/// delete of the hash decides who wins a race; the caller appends its audit row to `tx` and
/// commits once, so the claim happens only if it is recorded).
pub(crate) async fn claim_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user_id: &str,
    code: &str,
) -> Result<Claim, sqlx::Error> {
    let stored = store::setting(tx, HASH_SETTING).await?;
    let Some(stored) = stored else {
        return Ok(Claim::NotAvailable);
    };
    let given = hash(code);
    if !bool::from(given.as_bytes().ct_eq(stored.as_bytes())) {
        return Ok(Claim::WrongCode);
    }
    if !store::take_setting(tx, HASH_SETTING, &stored).await? {
        return Ok(Claim::NotAvailable);
    }
    store::make_admin(tx, user_id).await?;
    Ok(Claim::Claimed)
}
