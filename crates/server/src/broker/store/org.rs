//! `broker_org`: the org public key (one row) and its generation.

use blindvault_core::keys::OrgPublicKey;
use sqlx::{AnyConnection, Row};

use crate::broker::codec::unb64;
use crate::error::ApiError;

/// The org key as stored.
pub(crate) struct Org {
    pub(crate) key: OrgPublicKey,
    pub(crate) generation: i64,
}

/// The org key, if set.
pub(crate) async fn get(c: &mut AnyConnection) -> Result<Option<Org>, ApiError> {
    let row = sqlx::query("SELECT public_key, generation FROM broker_org WHERE id = 1")
        .fetch_optional(&mut *c)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let text: String = row.try_get("public_key")?;
    let key = OrgPublicKey::from_bytes(&unb64(&text, "org key")?).map_err(ApiError::internal)?;
    Ok(Some(Org { key, generation: row.try_get("generation")? }))
}

/// A key to store: its base64url text and fingerprint, when and by whom.
pub(crate) struct NewKey<'a> {
    pub(crate) key: &'a str,
    pub(crate) fingerprint: &'a str,
    pub(crate) at: i64,
    pub(crate) by: &'a str,
}

/// Stores the first org key (generation 1).
pub(crate) async fn insert_first(c: &mut AnyConnection, k: &NewKey<'_>) -> Result<(), ApiError> {
    sqlx::query(
        "INSERT INTO broker_org (id, public_key, fingerprint, generation, set_at, set_by) VALUES (1, $1, $2, 1, $3, $4)",
    )
    .bind(k.key)
    .bind(k.fingerprint)
    .bind(k.at)
    .bind(k.by)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// Replaces the key of generation `from` with `k` (generation `from + 1`); false if the
/// generation moved meanwhile.
pub(crate) async fn replace(c: &mut AnyConnection, k: &NewKey<'_>, from: i64) -> Result<bool, ApiError> {
    let r = sqlx::query(
        "UPDATE broker_org SET public_key = $1, fingerprint = $2, generation = $3, set_at = $4, set_by = $5 \
         WHERE id = 1 AND generation = $6",
    )
    .bind(k.key)
    .bind(k.fingerprint)
    .bind(from + 1)
    .bind(k.at)
    .bind(k.by)
    .bind(from)
    .execute(&mut *c)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Every approved enrolment back to pending, its signature dropped (signed by a replaced key).
pub(crate) async fn reset_enrolments(c: &mut AnyConnection) -> Result<(), ApiError> {
    sqlx::query("UPDATE broker_enrolments SET status = 'pending', signed = NULL WHERE status = 'approved'")
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// Writes a setting inside the caller's transaction.
pub(crate) async fn put_setting(c: &mut AnyConnection, key: &str, value: &str) -> Result<(), ApiError> {
    sqlx::query(
        "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .bind(key)
    .bind(value)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// Who set the org key (its holder), if it is set.
pub(crate) async fn holder(store: &crate::store::Store) -> Result<Option<String>, ApiError> {
    Ok(sqlx::query("SELECT set_by FROM broker_org WHERE id = 1")
        .fetch_optional(store.pool())
        .await?
        .map(|r| r.try_get("set_by"))
        .transpose()?)
}
