//! `push_subscriptions` and `push_outbox` (docs/server.md "Web Push").

use sqlx::{AnyConnection, Row};

use crate::broker::status;
use crate::error::ApiError;

/// A new subscription.
pub(crate) struct NewSubscription<'a> {
    pub(crate) id: &'a str,
    pub(crate) user_id: &'a str,
    pub(crate) credential_id: &'a str,
    pub(crate) endpoint: &'a str,
    pub(crate) p256dh: &'a str,
    pub(crate) auth: &'a str,
    pub(crate) created_at: i64,
}

/// Whether `credential_id` is one of `user_id`'s passkeys.
pub(crate) async fn credential_of(
    c: &mut AnyConnection,
    credential_id: &str,
    user_id: &str,
) -> Result<bool, ApiError> {
    let row = sqlx::query("SELECT 1 AS one FROM credentials WHERE id = $1 AND user_id = $2")
        .bind(credential_id)
        .bind(user_id)
        .fetch_optional(&mut *c)
        .await?;
    Ok(row.is_some())
}

/// Stores a subscription, replacing any with the same endpoint (a browser re-subscribing).
pub(crate) async fn upsert(c: &mut AnyConnection, s: &NewSubscription<'_>) -> Result<(), ApiError> {
    // An endpoint another person registered stays theirs (knowing its URL takes nothing over).
    let owner: Option<String> = sqlx::query("SELECT user_id FROM push_subscriptions WHERE endpoint = $1")
        .bind(s.endpoint)
        .fetch_optional(&mut *c)
        .await?
        .map(|r| r.try_get("user_id"))
        .transpose()?;
    if owner.is_some_and(|o| o != s.user_id) {
        return Err(ApiError::conflict(
            blindvault_api::ErrorCode::InvalidRequest,
            "this push endpoint belongs to another account's device",
        ));
    }
    // One subscription per passkey: a new one for this passkey (or this endpoint) replaces it.
    sqlx::query(
        "DELETE FROM push_subscriptions WHERE (endpoint = $1 AND user_id = $2) OR credential_id = $3",
    )
    .bind(s.endpoint)
    .bind(s.user_id)
    .bind(s.credential_id)
    .execute(&mut *c)
    .await?;
    sqlx::query(
        "INSERT INTO push_subscriptions (id, user_id, credential_id, endpoint, p256dh, auth, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(s.id)
    .bind(s.user_id)
    .bind(s.credential_id)
    .bind(s.endpoint)
    .bind(s.p256dh)
    .bind(s.auth)
    .bind(s.created_at)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// Deletes `user_id`'s subscription with `endpoint`; true if there was one.
pub(crate) async fn delete_by_endpoint(
    c: &mut AnyConnection,
    user_id: &str,
    endpoint: &str,
) -> Result<bool, ApiError> {
    let r = sqlx::query("DELETE FROM push_subscriptions WHERE endpoint = $1 AND user_id = $2")
        .bind(endpoint)
        .bind(user_id)
        .execute(&mut *c)
        .await?;
    Ok(r.rows_affected() > 0)
}

/// Deletes a subscription (the push service said it is gone); its outbox rows go with it.
pub(crate) async fn delete_subscription(c: &mut AnyConnection, id: &str) -> Result<(), ApiError> {
    sqlx::query("DELETE FROM push_subscriptions WHERE id = $1").bind(id).execute(&mut *c).await?;
    Ok(())
}

/// Queues a push of request `request_id` to every subscription of every person one of whose
/// approved devices holds an envelope of `entry_id` at `version` (the people the request can
/// use — never every approver of the org). Runs in the transaction that creates the request.
pub(crate) async fn enqueue(
    c: &mut AnyConnection,
    request_id: &str,
    entry_id: &str,
    version: i64,
    expires_at: i64,
    now: i64,
) -> Result<u64, ApiError> {
    let r = sqlx::query(
        "INSERT INTO push_outbox (id, request_id, subscription_id, expires_at, attempts, next_at, created_at) \
         SELECT s.id || ':' || $1, $1, s.id, $2, 0, $3, $3 FROM push_subscriptions s \
         WHERE s.user_id IN (SELECT e.user_id FROM broker_entry_devices d \
           JOIN broker_enrolments e ON e.approver_key = d.approver_key AND e.status = 'approved' \
           JOIN users u ON u.id = e.user_id AND u.role IN ('approver', 'admin') \
           WHERE d.entry_id = $4 AND d.version = $5)",
    )
    .bind(request_id)
    .bind(expires_at)
    .bind(now)
    .bind(entry_id)
    .bind(version)
    .execute(&mut *c)
    .await?;
    Ok(r.rows_affected())
}

/// Drops every queued push whose request has expired by `now`; returns how many.
pub(crate) async fn drop_expired(c: &mut AnyConnection, now: i64) -> Result<u64, ApiError> {
    let r = sqlx::query("DELETE FROM push_outbox WHERE expires_at <= $1").bind(now).execute(&mut *c).await?;
    Ok(r.rows_affected())
}

/// Claims up to `limit` due rows for `lease_until` under the token `claim`: one statement, so
/// two workers (two instances) never claim one row. The outer conditions repeat the inner ones:
/// on PostgreSQL a row another worker just claimed is re-checked after its lock and skipped.
pub(crate) async fn claim(
    c: &mut AnyConnection,
    now: i64,
    lease_until: i64,
    claim: &str,
    limit: i64,
) -> Result<u64, ApiError> {
    let r = sqlx::query(
        "UPDATE push_outbox SET claimed_until = $1, claim = $2, attempts = attempts + 1 \
         WHERE id IN (SELECT id FROM push_outbox WHERE next_at <= $3 AND (claimed_until IS NULL OR claimed_until <= $3) \
           ORDER BY next_at LIMIT $4) \
         AND next_at <= $3 AND (claimed_until IS NULL OR claimed_until <= $3)",
    )
    .bind(lease_until)
    .bind(claim)
    .bind(now)
    .bind(limit)
    .execute(&mut *c)
    .await?;
    Ok(r.rows_affected())
}

/// A claimed push with its subscription and its request's status.
pub(crate) struct Claimed {
    pub(crate) id: String,
    pub(crate) request_id: String,
    pub(crate) expires_at: i64,
    pub(crate) attempts: i64,
    pub(crate) subscription_id: String,
    pub(crate) endpoint: String,
    pub(crate) p256dh: String,
    pub(crate) auth: String,
    /// Whether the request still waits for a decision.
    pub(crate) pending: bool,
}

/// The rows claimed under `claim`.
pub(crate) async fn claimed(c: &mut AnyConnection, claim: &str) -> Result<Vec<Claimed>, ApiError> {
    let rows = sqlx::query(
        "SELECT o.id, o.request_id, o.expires_at, o.attempts, s.id AS subscription_id, s.endpoint, s.p256dh, s.auth, \
           r.status FROM push_outbox o JOIN push_subscriptions s ON s.id = o.subscription_id \
           LEFT JOIN broker_requests r ON r.request_id = o.request_id WHERE o.claim = $1",
    )
    .bind(claim)
    .fetch_all(&mut *c)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Claimed {
                id: r.try_get("id")?,
                request_id: r.try_get("request_id")?,
                expires_at: r.try_get("expires_at")?,
                attempts: r.try_get("attempts")?,
                subscription_id: r.try_get("subscription_id")?,
                endpoint: r.try_get("endpoint")?,
                p256dh: r.try_get("p256dh")?,
                auth: r.try_get("auth")?,
                pending: r.try_get::<Option<String>, _>("status")?.as_deref() == Some(status::PENDING),
            })
        })
        .collect()
}

/// Deletes one outbox row (sent, refused, or no longer worth sending).
pub(crate) async fn delete_row(c: &mut AnyConnection, id: &str) -> Result<(), ApiError> {
    sqlx::query("DELETE FROM push_outbox WHERE id = $1").bind(id).execute(&mut *c).await?;
    Ok(())
}

/// Releases a row held under `claim` for another attempt at `next_at`.
pub(crate) async fn retry_at(
    c: &mut AnyConnection,
    id: &str,
    claim: &str,
    next_at: i64,
) -> Result<(), ApiError> {
    sqlx::query("UPDATE push_outbox SET next_at = $1, claimed_until = NULL, claim = NULL WHERE id = $2 AND claim = $3")
        .bind(next_at)
        .bind(id)
        .bind(claim)
        .execute(&mut *c)
        .await?;
    Ok(())
}
