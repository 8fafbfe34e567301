//! The `users` table.

use serde::Serialize;
use sqlx::Row;

use crate::error::ApiError;
use crate::state::AppState;

/// A user as the API shows it.
#[derive(Debug, Serialize)]
pub(crate) struct UserView {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) display_name: String,
    pub(crate) role: String,
    pub(crate) created_at: i64,
}

pub(crate) fn user_from(r: &sqlx::any::AnyRow) -> Result<UserView, sqlx::Error> {
    Ok(UserView {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        display_name: r.try_get("display_name")?,
        role: r.try_get("role")?,
        created_at: r.try_get("created_at")?,
    })
}

pub(crate) async fn load_user(state: &AppState, id: &str) -> Result<Option<UserView>, ApiError> {
    let row = sqlx::query("SELECT id, name, display_name, role, created_at FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(state.store.pool())
        .await?;
    Ok(row.as_ref().map(user_from).transpose()?)
}
