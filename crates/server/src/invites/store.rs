//! The `invites` table: single-use codes, stored as their SHA-256.

use sqlx::{AnyConnection, Row};

use crate::store::Store;

/// An unspent, unrevoked, unexpired invite.
pub(crate) struct OpenInvite {
    pub(crate) id: String,
    pub(crate) created_by: String,
    pub(crate) role: String,
}

/// The open invite whose code hashes to `code_hash` at `now`.
pub(crate) async fn find_open(
    store: &Store,
    code_hash: &str,
    now: i64,
) -> Result<Option<OpenInvite>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT id, created_by, role FROM invites WHERE code_hash = $1 AND used_by IS NULL AND revoked_at IS NULL AND expires_at > $2",
    )
    .bind(code_hash)
    .bind(now)
    .fetch_optional(store.pool())
    .await?;
    row.map(|r| {
        Ok(OpenInvite {
            id: r.try_get("id")?,
            created_by: r.try_get("created_by")?,
            role: r.try_get("role")?,
        })
    })
    .transpose()
}

/// Spends invite `id` for `user_id`; false if it was spent, revoked or expired meanwhile.
pub(crate) async fn spend(
    c: &mut AnyConnection,
    id: &str,
    user_id: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE invites SET used_by = $1, used_at = $2 WHERE id = $3 AND used_by IS NULL AND revoked_at IS NULL AND expires_at > $2",
    )
    .bind(user_id)
    .bind(now)
    .bind(id)
    .execute(&mut *c)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Revokes the open invites `user_id` made; returns how many.
pub(crate) async fn revoke_made_by(
    c: &mut AnyConnection,
    user_id: &str,
    now: i64,
) -> Result<u64, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE invites SET revoked_at = $1 WHERE created_by = $2 AND used_by IS NULL AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(user_id)
    .execute(&mut *c)
    .await?;
    Ok(r.rows_affected())
}

/// A new invite.
pub(crate) struct NewInvite<'a> {
    pub(crate) id: &'a str,
    pub(crate) code_hash: &'a str,
    pub(crate) role: &'a str,
    pub(crate) created_by: &'a str,
    pub(crate) created_at: i64,
    pub(crate) expires_at: i64,
}

/// Inserts an invite.
pub(crate) async fn insert(c: &mut AnyConnection, i: &NewInvite<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO invites (id, code_hash, role, created_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(i.id)
    .bind(i.code_hash)
    .bind(i.role)
    .bind(i.created_by)
    .bind(i.created_at)
    .bind(i.expires_at)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// An invite as the admin's list shows it (names, not ids, of its maker and user).
pub(crate) struct InviteRow {
    pub(crate) id: String,
    pub(crate) role: String,
    pub(crate) created_by: Option<String>,
    pub(crate) created_at: i64,
    pub(crate) expires_at: i64,
    pub(crate) used_by: Option<String>,
    pub(crate) used_at: Option<i64>,
    pub(crate) revoked_at: Option<i64>,
}

/// Open invites and those made in the last 30 days, newest first.
pub(crate) async fn list(store: &Store, now: i64) -> Result<Vec<InviteRow>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT i.id, i.role, c.name AS created_by, i.created_at, i.expires_at, u.name AS used_by, i.used_at, i.revoked_at \
         FROM invites i LEFT JOIN users c ON c.id = i.created_by LEFT JOIN users u ON u.id = i.used_by \
         WHERE (i.used_by IS NULL AND i.revoked_at IS NULL AND i.expires_at > $1) \
            OR i.created_at > $1 - 30 * 86400 \
         ORDER BY i.created_at DESC",
    )
    .bind(now)
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(InviteRow {
                id: r.try_get("id")?,
                role: r.try_get("role")?,
                created_by: r.try_get("created_by")?,
                created_at: r.try_get("created_at")?,
                expires_at: r.try_get("expires_at")?,
                used_by: r.try_get("used_by")?,
                used_at: r.try_get("used_at")?,
                revoked_at: r.try_get("revoked_at")?,
            })
        })
        .collect()
}

/// Revokes open invite `id`; false if there is none.
pub(crate) async fn revoke(c: &mut AnyConnection, id: &str, now: i64) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE invites SET revoked_at = $1 WHERE id = $2 AND used_by IS NULL AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(id)
    .execute(&mut *c)
    .await?;
    Ok(r.rows_affected() == 1)
}
