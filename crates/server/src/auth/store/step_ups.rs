//! The `step_ups` table.

use sqlx::{AnyConnection, Row};

use crate::error::ApiError;
use crate::store::Store;

/// A stored step-up.
pub(crate) struct StepUpRow {
    pub(crate) user_id: String,
    pub(crate) action: String,
    pub(crate) target: String,
    /// The WebAuthn request options (JSON), shown until it is answered.
    pub(crate) options: String,
    /// The ceremony state (JSON) while the challenge is open, `ANSWERING` while an answer is
    /// being checked, NULL once answered.
    pub(crate) state: Option<String>,
    pub(crate) expires_at: i64,
    pub(crate) confirmed_at: Option<i64>,
    pub(crate) used_at: Option<i64>,
    pub(crate) cancelled_at: Option<i64>,
    /// The passkey whose assertion confirmed it (once confirmed).
    pub(crate) credential_id: Option<String>,
    /// Who started it: `session:<row id>` or `token:<id>` (NULL: started before this was kept).
    pub(crate) started_by: Option<String>,
}

/// A new step-up.
pub(crate) struct NewStepUp<'a> {
    pub(crate) id: &'a str,
    pub(crate) user_id: &'a str,
    pub(crate) action: &'a str,
    pub(crate) target: &'a str,
    pub(crate) options: &'a str,
    pub(crate) state: &'a str,
    pub(crate) created_at: i64,
    pub(crate) expires_at: i64,
    /// Who started it (see [`StepUpRow::started_by`]).
    pub(crate) started_by: &'a str,
}

/// Inserts a step-up.
pub(crate) async fn insert(store: &Store, n: &NewStepUp<'_>) -> Result<(), ApiError> {
    sqlx::query(
        "INSERT INTO step_ups (id, user_id, action, target, options, state, created_at, expires_at, started_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(n.id)
    .bind(n.user_id)
    .bind(n.action)
    .bind(n.target)
    .bind(n.options)
    .bind(n.state)
    .bind(n.created_at)
    .bind(n.expires_at)
    .bind(n.started_by)
    .execute(store.pool())
    .await?;
    Ok(())
}

/// Step-up `id`, if it exists.
pub(crate) async fn get(c: &mut AnyConnection, id: &str) -> Result<Option<StepUpRow>, ApiError> {
    let row = sqlx::query(
        "SELECT user_id, action, target, options, state, expires_at, confirmed_at, used_at, cancelled_at, \
         credential_id, started_by FROM step_ups WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *c)
    .await?;
    let Some(r) = row else { return Ok(None) };
    Ok(Some(StepUpRow {
        user_id: r.try_get("user_id")?,
        action: r.try_get("action")?,
        target: r.try_get("target")?,
        options: r.try_get("options")?,
        state: r.try_get("state")?,
        expires_at: r.try_get("expires_at")?,
        confirmed_at: r.try_get("confirmed_at")?,
        used_at: r.try_get("used_at")?,
        cancelled_at: r.try_get("cancelled_at")?,
        credential_id: r.try_get("credential_id")?,
        started_by: r.try_get("started_by")?,
    }))
}

/// Marks the challenge of `id` (of `user_id`) as being answered (`mark`); false if it was
/// answered, cancelled or is being answered already.
pub(crate) async fn take_challenge(
    store: &Store,
    id: &str,
    user_id: &str,
    mark: &str,
) -> Result<bool, ApiError> {
    let r = sqlx::query(
        "UPDATE step_ups SET state = $3 WHERE id = $1 AND user_id = $2 AND state IS NOT NULL \
         AND state <> $3 AND cancelled_at IS NULL",
    )
    .bind(id)
    .bind(user_id)
    .bind(mark)
    .execute(store.pool())
    .await?;
    Ok(r.rows_affected() == 1)
}

/// A refused answer: the challenge is gone (the step-up reads "failed").
pub(crate) async fn drop_challenge(store: &Store, id: &str, mark: &str) -> Result<(), ApiError> {
    sqlx::query("UPDATE step_ups SET state = NULL WHERE id = $1 AND state = $2")
        .bind(id)
        .bind(mark)
        .execute(store.pool())
        .await?;
    Ok(())
}

/// Confirms `id` by `credential_id` at `now`; false if it was confirmed, cancelled or expired.
pub(crate) async fn confirm(
    c: &mut AnyConnection,
    id: &str,
    credential_id: &str,
    now: i64,
) -> Result<bool, ApiError> {
    let r = sqlx::query(
        "UPDATE step_ups SET confirmed_at = $1, credential_id = $2, state = NULL WHERE id = $3 \
         AND confirmed_at IS NULL AND cancelled_at IS NULL AND expires_at > $1",
    )
    .bind(now)
    .bind(credential_id)
    .bind(id)
    .execute(&mut *c)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Cancels `id`; false if it was used or cancelled.
pub(crate) async fn cancel(store: &Store, id: &str, now: i64) -> Result<bool, ApiError> {
    let r = sqlx::query(
        "UPDATE step_ups SET cancelled_at = $1, state = NULL WHERE id = $2 AND used_at IS NULL AND cancelled_at IS NULL",
    )
    .bind(now)
    .bind(id)
    .execute(store.pool())
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Spends confirmed step-up `id` at `now`; false if it was used, cancelled or expired meanwhile.
pub(crate) async fn spend(c: &mut AnyConnection, id: &str, now: i64) -> Result<bool, ApiError> {
    let r = sqlx::query(
        "UPDATE step_ups SET used_at = $1 WHERE id = $2 AND used_at IS NULL AND cancelled_at IS NULL \
         AND confirmed_at IS NOT NULL AND expires_at > $1",
    )
    .bind(now)
    .bind(id)
    .execute(&mut *c)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Deletes step-ups that expired before `before`.
pub(crate) async fn delete_expired(store: &Store, before: i64) -> Result<u64, ApiError> {
    let r =
        sqlx::query("DELETE FROM step_ups WHERE expires_at <= $1").bind(before).execute(store.pool()).await?;
    Ok(r.rows_affected())
}
