//! The `credentials` table.

use crate::error::ApiError;

pub(crate) async fn insert_credential(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user_id: &str,
    name: &str,
    passkey: &webauthn_rs::prelude::Passkey,
    now: i64,
) -> Result<String, ApiError> {
    let cred_id = crate::auth::rp::cred_id_text(passkey.cred_id().as_ref());
    let flags = crate::auth::rp::passkey_flags(passkey)?;
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
    .execute(&mut **tx)
    .await?;
    if r.rows_affected() != 1 {
        return Err(ApiError::conflict("credential_exists", "this passkey is already registered"));
    }
    Ok(cred_id)
}
