//! The `credentials` table: a person's passkeys as webauthn-rs serialises them, with the counter
//! and backup flags beside the JSON for listing.

use blindvault_api::ErrorCode;
use sqlx::{AnyConnection, Row};
use webauthn_rs::prelude::Passkey;

use crate::auth::rp::{PasskeyFlags, cred_id_text, passkey_flags};
use crate::error::ApiError;
use crate::store::Engine;

/// A passkey as its owner's list shows it.
pub(crate) use blindvault_api::passkeys::PasskeyView;

fn parse(json: &str) -> Result<Passkey, ApiError> {
    serde_json::from_str(json).map_err(ApiError::internal)
}

/// Inserts a new passkey of `user_id`; returns its id (409 `credential_exists` if it is known).
pub(crate) async fn insert(
    c: &mut AnyConnection,
    user_id: &str,
    name: &str,
    passkey: &Passkey,
    now: i64,
) -> Result<String, ApiError> {
    let cred_id = cred_id_text(passkey.cred_id().as_ref());
    let flags = passkey_flags(passkey)?;
    let json = serde_json::to_string(passkey).map_err(ApiError::internal)?;
    let r = sqlx::query(
        "INSERT INTO credentials (id, user_id, name, passkey, sign_count, backup_eligible, backup_state, created_at, last_used_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL) ON CONFLICT (id) DO NOTHING",
    )
    .bind(&cred_id)
    .bind(user_id)
    .bind(name)
    .bind(json)
    .bind(flags.counter)
    .bind(i64::from(flags.backup_eligible))
    .bind(i64::from(flags.backup_state))
    .bind(now)
    .execute(&mut *c)
    .await?;
    if r.rows_affected() != 1 {
        return Err(ApiError::conflict(ErrorCode::CredentialExists, "this passkey is already registered"));
    }
    Ok(cred_id)
}

/// The passkey `cred_id` of `user_id`, if registered.
pub(crate) async fn find(
    c: &mut AnyConnection,
    cred_id: &str,
    user_id: &str,
) -> Result<Option<Passkey>, ApiError> {
    let row = sqlx::query("SELECT passkey FROM credentials WHERE id = $1 AND user_id = $2")
        .bind(cred_id)
        .bind(user_id)
        .fetch_optional(&mut *c)
        .await?;
    row.map(|r| parse(&r.try_get::<String, _>("passkey")?)).transpose()
}

/// Records a verified use: the updated passkey, its counter and flags, the time. False if the
/// counter did not move forward (the conditional update closes the race of two logins
/// presenting the same counter).
pub(crate) async fn record_use(
    c: &mut AnyConnection,
    cred_id: &str,
    passkey: &Passkey,
    flags: PasskeyFlags,
    now: i64,
) -> Result<bool, ApiError> {
    let json = serde_json::to_string(passkey).map_err(ApiError::internal)?;
    let r = sqlx::query(
        "UPDATE credentials SET passkey = $1, sign_count = $2, backup_eligible = $3, backup_state = $4, last_used_at = $5 \
         WHERE id = $6 AND (sign_count < $2 OR $2 = 0)",
    )
    .bind(json)
    .bind(flags.counter)
    .bind(i64::from(flags.backup_eligible))
    .bind(i64::from(flags.backup_state))
    .bind(now)
    .bind(cred_id)
    .execute(&mut *c)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Every passkey of `user_id` (for the exclusion list of a new registration).
pub(crate) async fn all_of(c: &mut AnyConnection, user_id: &str) -> Result<Vec<Passkey>, ApiError> {
    let rows = sqlx::query("SELECT passkey FROM credentials WHERE user_id = $1")
        .bind(user_id)
        .fetch_all(&mut *c)
        .await?;
    rows.iter().map(|r| parse(&r.try_get::<String, _>("passkey")?)).collect()
}

/// The list of `user_id`'s passkeys, oldest first.
pub(crate) async fn list(c: &mut AnyConnection, user_id: &str) -> Result<Vec<PasskeyView>, ApiError> {
    let rows = sqlx::query(
        "SELECT id, name, created_at, last_used_at, sign_count, backup_eligible, backup_state FROM credentials \
         WHERE user_id = $1 ORDER BY created_at, id",
    )
    .bind(user_id)
    .fetch_all(&mut *c)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(PasskeyView {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                created_at: r.try_get("created_at")?,
                last_used_at: r.try_get("last_used_at")?,
                sign_count: r.try_get("sign_count")?,
                backup_eligible: r.try_get::<i64, _>("backup_eligible")? != 0,
                backup_state: r.try_get::<i64, _>("backup_state")? != 0,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(ApiError::from)
}

/// Renames passkey `id` of `user_id`; returns the old name (`None`: no such passkey).
pub(crate) async fn rename(
    c: &mut AnyConnection,
    id: &str,
    user_id: &str,
    name: &str,
) -> Result<Option<String>, ApiError> {
    let Some(old) = sqlx::query("SELECT name FROM credentials WHERE id = $1 AND user_id = $2")
        .bind(id)
        .bind(user_id)
        .fetch_optional(&mut *c)
        .await?
    else {
        return Ok(None);
    };
    let old: String = old.try_get("name")?;
    let r = sqlx::query("UPDATE credentials SET name = $1 WHERE id = $2 AND user_id = $3")
        .bind(name)
        .bind(id)
        .bind(user_id)
        .execute(&mut *c)
        .await?;
    Ok((r.rows_affected() == 1).then_some(old))
}

/// What a removal needs to know, read under the user's lock on PostgreSQL (two removals of one
/// user cannot remove the last two at once): how many passkeys they have, and whether `id` is one.
pub(crate) struct RemovalCheck {
    pub(crate) count: i64,
    pub(crate) exists: bool,
}

/// Reads [`RemovalCheck`] for passkey `id` of `user_id` inside the removal's transaction.
pub(crate) async fn removal_check(
    c: &mut AnyConnection,
    engine: Engine,
    id: &str,
    user_id: &str,
) -> Result<RemovalCheck, ApiError> {
    if engine == Engine::Postgres {
        sqlx::query("SELECT id FROM users WHERE id = $1 FOR UPDATE").bind(user_id).execute(&mut *c).await?;
    }
    let count: i64 = sqlx::query("SELECT COUNT(*) AS n FROM credentials WHERE user_id = $1")
        .bind(user_id)
        .fetch_one(&mut *c)
        .await?
        .try_get("n")?;
    let exists = sqlx::query("SELECT id FROM credentials WHERE id = $1 AND user_id = $2")
        .bind(id)
        .bind(user_id)
        .fetch_optional(&mut *c)
        .await?
        .is_some();
    Ok(RemovalCheck { count, exists })
}

/// Deletes passkey `id` of `user_id`.
pub(crate) async fn delete(c: &mut AnyConnection, id: &str, user_id: &str) -> Result<(), ApiError> {
    sqlx::query("DELETE FROM credentials WHERE id = $1 AND user_id = $2")
        .bind(id)
        .bind(user_id)
        .execute(&mut *c)
        .await?;
    Ok(())
}
