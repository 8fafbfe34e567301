//! The setup code's storage: its hash in `settings`, and the claim that makes the first admin.

use sqlx::{AnyConnection, Row};

use crate::store::Store;

/// Whether any admin exists.
pub(crate) async fn admin_exists(store: &Store) -> Result<bool, sqlx::Error> {
    let row =
        sqlx::query("SELECT COUNT(*) AS n FROM users WHERE role = 'admin'").fetch_one(store.pool()).await?;
    Ok(row.try_get::<i64, _>("n")? > 0)
}

/// Whether setting `key` exists.
pub(crate) async fn setting_exists(c: &mut AnyConnection, key: &str) -> Result<bool, sqlx::Error> {
    let row =
        sqlx::query("SELECT 1 AS one FROM settings WHERE key = $1").bind(key).fetch_optional(&mut *c).await?;
    Ok(row.is_some())
}

/// The value of setting `key`, if set.
pub(crate) async fn setting(c: &mut AnyConnection, key: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query("SELECT value FROM settings WHERE key = $1")
        .bind(key)
        .fetch_optional(&mut *c)
        .await?
        .map(|r| r.try_get::<String, _>("value"))
        .transpose()
}

/// Deletes setting `key` if it still holds `value`; true if this call deleted it (the delete
/// decides who wins a race).
pub(crate) async fn take_setting(c: &mut AnyConnection, key: &str, value: &str) -> Result<bool, sqlx::Error> {
    let del = sqlx::query("DELETE FROM settings WHERE key = $1 AND value = $2")
        .bind(key)
        .bind(value)
        .execute(&mut *c)
        .await?;
    Ok(del.rows_affected() == 1)
}

/// Makes user `user_id` an admin.
pub(crate) async fn make_admin(c: &mut AnyConnection, user_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET role = 'admin' WHERE id = $1").bind(user_id).execute(&mut *c).await?;
    Ok(())
}
