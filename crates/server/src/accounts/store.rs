//! The `users` table.

use sqlx::{AnyConnection, Row};

use crate::auth::role::Role;
use crate::error::ApiError;
use crate::store::{Engine, Store};

/// A user as the API shows it.
pub(crate) use blindvault_api::sessions::UserView;

fn user_from(r: &sqlx::any::AnyRow) -> Result<UserView, sqlx::Error> {
    Ok(UserView {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        display_name: r.try_get("display_name")?,
        role: r.try_get("role")?,
        created_at: r.try_get("created_at")?,
    })
}

/// User `id`, if it exists.
pub(crate) async fn load_user(store: &Store, id: &str) -> Result<Option<UserView>, ApiError> {
    load_user_on(&mut *store.pool().acquire().await?, id).await
}

/// [`load_user`] on the caller's connection or transaction.
pub(crate) async fn load_user_on(c: &mut AnyConnection, id: &str) -> Result<Option<UserView>, ApiError> {
    let row = sqlx::query("SELECT id, name, display_name, role, created_at FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *c)
        .await?;
    Ok(row.as_ref().map(user_from).transpose()?)
}

/// Every user, oldest first.
pub(crate) async fn list(store: &Store) -> Result<Vec<UserView>, ApiError> {
    let rows =
        sqlx::query("SELECT id, name, display_name, role, created_at FROM users ORDER BY created_at, id")
            .fetch_all(store.pool())
            .await?;
    Ok(rows.iter().map(user_from).collect::<Result<_, _>>()?)
}

/// Whether a user has this name.
pub(crate) async fn name_taken(store: &Store, name: &str) -> Result<bool, ApiError> {
    let row =
        sqlx::query("SELECT id FROM users WHERE name = $1").bind(name).fetch_optional(store.pool()).await?;
    Ok(row.is_some())
}

/// A new account.
pub(crate) struct NewUser<'a> {
    pub(crate) id: &'a str,
    pub(crate) name: &'a str,
    pub(crate) display_name: &'a str,
    pub(crate) role: &'a str,
    pub(crate) created_at: i64,
}

/// Inserts a user; false if the id or the name is taken.
pub(crate) async fn insert(c: &mut AnyConnection, u: &NewUser<'_>) -> Result<bool, ApiError> {
    let r = sqlx::query(
        "INSERT INTO users (id, name, display_name, role, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    )
    .bind(u.id)
    .bind(u.name)
    .bind(u.display_name)
    .bind(u.role)
    .bind(u.created_at)
    .execute(&mut *c)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Whether user `id` exists.
pub(crate) async fn exists(c: &mut AnyConnection, id: &str) -> Result<bool, ApiError> {
    Ok(sqlx::query("SELECT id FROM users WHERE id = $1").bind(id).fetch_optional(&mut *c).await?.is_some())
}

/// Who a deletion removed.
pub(crate) struct Deleted {
    pub(crate) name: String,
    pub(crate) role: String,
}

/// Deletes user `id` (their passkeys and sessions go with them: `ON DELETE CASCADE`).
pub(crate) async fn delete(c: &mut AnyConnection, id: &str) -> Result<Option<Deleted>, ApiError> {
    let row = sqlx::query("DELETE FROM users WHERE id = $1 RETURNING name, role")
        .bind(id)
        .fetch_optional(&mut *c)
        .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(Deleted { name: row.try_get("name")?, role: row.try_get("role")? }))
}

/// Serialises role changes (PostgreSQL: a transaction-scoped advisory lock; SQLite has one
/// writer anyway), so two demotions cannot leave no admin.
pub(crate) async fn lock_roles(c: &mut AnyConnection, engine: Engine) -> Result<(), ApiError> {
    if engine == Engine::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock(7242002)").execute(&mut *c).await?;
    }
    Ok(())
}

/// The stored role of user `id` (as stored), if the user exists.
pub(crate) async fn role_of(c: &mut AnyConnection, id: &str) -> Result<Option<String>, ApiError> {
    let row = sqlx::query("SELECT role FROM users WHERE id = $1").bind(id).fetch_optional(&mut *c).await?;
    Ok(row.map(|r| r.try_get("role")).transpose()?)
}

/// How many admins there are.
pub(crate) async fn count_admins(c: &mut AnyConnection) -> Result<i64, ApiError> {
    Ok(sqlx::query("SELECT COUNT(*) AS n FROM users WHERE role = 'admin'")
        .fetch_one(&mut *c)
        .await?
        .try_get("n")?)
}

/// Sets the role of user `id`.
pub(crate) async fn set_role(c: &mut AnyConnection, id: &str, role: Role) -> Result<(), ApiError> {
    sqlx::query("UPDATE users SET role = $1 WHERE id = $2")
        .bind(role.as_str())
        .bind(id)
        .execute(&mut *c)
        .await?;
    Ok(())
}
