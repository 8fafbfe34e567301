//! `broker_enrolments`: approver devices (a passkey's approver key), pending until the admin's
//! org signature approves them, and removed when the admin removes them.

use blindvault_core::keys::ApproverPublicKey;
use sqlx::{AnyConnection, Row};

use crate::broker::codec::unb64;
use crate::error::ApiError;
use crate::store::Store;
pub(crate) use blindvault_api::broker::{EnrolmentView, QuorumImpact};

/// `SELECT` of enrolment views, followed by a literal tail (SQL stays literal for sqlx).
macro_rules! enrolment_select {
    ($tail:literal) => {
        concat!(
            "SELECT e.id, e.user_id, u.name, e.credential_id, e.approver_key, e.status, e.signed, e.created_at, \
             c.backup_eligible, c.backup_state \
             FROM broker_enrolments e JOIN users u ON u.id = e.user_id LEFT JOIN credentials c ON c.id = e.credential_id ",
            $tail
        )
    };
}

fn view_from(row: &sqlx::any::AnyRow) -> Result<EnrolmentView, ApiError> {
    let key: String = row.try_get("approver_key")?;
    let pk = ApproverPublicKey::from_bytes(&unb64(&key, "approver key")?).map_err(ApiError::internal)?;
    Ok(EnrolmentView {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        user_name: row.try_get("name")?,
        credential_id: row.try_get("credential_id")?,
        approver_public_key: key,
        fingerprint: pk.fingerprint().to_string(),
        status: row.try_get("status")?,
        signed_enrolment: row.try_get("signed")?,
        created_at: row.try_get("created_at")?,
        backup_eligible: row.try_get::<Option<i64>, _>("backup_eligible")?.map(|v| v != 0),
        backup_state: row.try_get::<Option<i64>, _>("backup_state")?.map(|v| v != 0),
    })
}

/// Enrolments with `status`, or every one not removed, oldest first.
pub(crate) async fn list(store: &Store, status: Option<&str>) -> Result<Vec<EnrolmentView>, ApiError> {
    let rows = match status {
        Some(st) => {
            sqlx::query(enrolment_select!("WHERE e.status = $1 ORDER BY e.created_at"))
                .bind(st)
                .fetch_all(store.pool())
                .await?
        }
        None => {
            sqlx::query(enrolment_select!("WHERE e.status <> 'removed' ORDER BY e.created_at"))
                .fetch_all(store.pool())
                .await?
        }
    };
    rows.iter().map(view_from).collect()
}

/// `user_id`'s enrolments not removed, oldest first.
pub(crate) async fn list_of_user(store: &Store, user_id: &str) -> Result<Vec<EnrolmentView>, ApiError> {
    let rows = sqlx::query(enrolment_select!(
        "WHERE e.user_id = $1 AND e.status <> 'removed' ORDER BY e.created_at"
    ))
    .bind(user_id)
    .fetch_all(store.pool())
    .await?;
    rows.iter().map(view_from).collect()
}

/// Enrolment `id` (which exists).
pub(crate) async fn view(store: &Store, id: &str) -> Result<EnrolmentView, ApiError> {
    let row = sqlx::query(enrolment_select!("WHERE e.id = $1")).bind(id).fetch_one(store.pool()).await?;
    view_from(&row)
}

/// Whether passkey `cred_id` of `user_id` is backup-eligible; `None` if it is not theirs.
pub(crate) async fn credential_backup_eligible(
    store: &Store,
    cred_id: &str,
    user_id: &str,
) -> Result<Option<bool>, ApiError> {
    let row = sqlx::query("SELECT backup_eligible FROM credentials WHERE id = $1 AND user_id = $2")
        .bind(cred_id)
        .bind(user_id)
        .fetch_optional(store.pool())
        .await?;
    Ok(row.map(|r| r.try_get::<i64, _>("backup_eligible").map(|v| v != 0)).transpose()?)
}

/// The enrolment of a passkey, as a new request for enrolment finds it.
pub(crate) struct Existing {
    pub(crate) id: String,
    pub(crate) approver_key: String,
    pub(crate) status: String,
}

/// The enrolment of passkey `cred_id`, if any.
pub(crate) async fn of_credential(
    c: &mut AnyConnection,
    cred_id: &str,
) -> Result<Option<Existing>, ApiError> {
    let row = sqlx::query("SELECT id, approver_key, status FROM broker_enrolments WHERE credential_id = $1")
        .bind(cred_id)
        .fetch_optional(&mut *c)
        .await?;
    let Some(r) = row else { return Ok(None) };
    Ok(Some(Existing {
        id: r.try_get("id")?,
        approver_key: r.try_get("approver_key")?,
        status: r.try_get("status")?,
    }))
}

/// Enrolment `id` asks again, for `approver_key`: pending, unsigned.
pub(crate) async fn request_again(
    c: &mut AnyConnection,
    id: &str,
    approver_key: &str,
    now: i64,
) -> Result<(), ApiError> {
    sqlx::query(
        "UPDATE broker_enrolments SET approver_key = $1, status = 'pending', signed = NULL, created_at = $2, decided_at = NULL \
         WHERE id = $3",
    )
    .bind(approver_key)
    .bind(now)
    .bind(id)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// A new request for enrolment.
pub(crate) struct NewEnrolment<'a> {
    pub(crate) id: &'a str,
    pub(crate) user_id: &'a str,
    pub(crate) credential_id: &'a str,
    pub(crate) approver_key: &'a str,
    pub(crate) created_at: i64,
}

/// Inserts a pending enrolment.
pub(crate) async fn insert(c: &mut AnyConnection, n: &NewEnrolment<'_>) -> Result<(), ApiError> {
    sqlx::query(
        "INSERT INTO broker_enrolments (id, user_id, credential_id, approver_key, status, created_at) \
         VALUES ($1, $2, $3, $4, 'pending', $5)",
    )
    .bind(n.id)
    .bind(n.user_id)
    .bind(n.credential_id)
    .bind(n.approver_key)
    .bind(n.created_at)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// What an approval of an enrolment is checked against.
pub(crate) struct ToApprove {
    pub(crate) user_id: String,
    pub(crate) credential_id: String,
    pub(crate) approver_key: String,
    pub(crate) status: String,
    /// The passkey's backup-eligible flag (false once the passkey is deleted).
    pub(crate) backup_eligible: bool,
}

/// Enrolment `id` with its passkey's backup flag.
pub(crate) async fn to_approve(store: &Store, id: &str) -> Result<Option<ToApprove>, ApiError> {
    let row = sqlx::query(
        "SELECT e.user_id, e.credential_id, e.approver_key, e.status, c.backup_eligible FROM broker_enrolments e \
         LEFT JOIN credentials c ON c.id = e.credential_id WHERE e.id = $1",
    )
    .bind(id)
    .fetch_optional(store.pool())
    .await?;
    let Some(r) = row else { return Ok(None) };
    Ok(Some(ToApprove {
        user_id: r.try_get("user_id")?,
        credential_id: r.try_get("credential_id")?,
        approver_key: r.try_get("approver_key")?,
        status: r.try_get("status")?,
        backup_eligible: r.try_get::<Option<i64>, _>("backup_eligible")?.unwrap_or(0) != 0,
    }))
}

/// Approves enrolment `id` with its signed enrolment (base64url), only for `approver_key` and
/// unless removed; false if it changed meanwhile. Its user becomes an approver (a plain user
/// only; an admin stays an admin).
pub(crate) async fn approve(
    c: &mut AnyConnection,
    id: &str,
    approver_key: &str,
    user_id: &str,
    signed: &str,
    generation: i64,
    now: i64,
) -> Result<bool, ApiError> {
    let r = sqlx::query(
        "UPDATE broker_enrolments SET status = 'approved', signed = $1, org_generation = $2, decided_at = $3 \
         WHERE id = $4 AND approver_key = $5 AND status <> 'removed'",
    )
    .bind(signed)
    .bind(generation)
    .bind(now)
    .bind(id)
    .bind(approver_key)
    .execute(&mut *c)
    .await?;
    if r.rows_affected() != 1 {
        return Ok(false);
    }
    sqlx::query("UPDATE users SET role = 'approver' WHERE id = $1 AND role = 'user'")
        .bind(user_id)
        .execute(&mut *c)
        .await?;
    Ok(true)
}

/// Entries whose latest version would have fewer distinct approving people than its threshold
/// once `removed_key` is gone.
pub(crate) async fn quorum_impact(store: &Store, removed_key: &str) -> Result<Vec<QuorumImpact>, ApiError> {
    let rows = sqlx::query(
        "SELECT h.entry_id, e.threshold, \
           (SELECT COUNT(DISTINCT en.user_id) FROM broker_entry_devices d JOIN broker_enrolments en \
              ON en.approver_key = d.approver_key AND en.status = 'approved' \
            WHERE d.entry_id = h.entry_id AND d.version = h.version AND d.approver_key <> $1) AS people_left \
         FROM broker_entry_heads h JOIN broker_entries e ON e.entry_id = h.entry_id AND e.version = h.version \
         WHERE h.deleted_at IS NULL AND EXISTS (SELECT 1 FROM broker_entry_devices d2 WHERE d2.entry_id = h.entry_id \
           AND d2.version = h.version AND d2.approver_key = $1)",
    )
    .bind(removed_key)
    .fetch_all(store.pool())
    .await?;
    let mut out = Vec::new();
    for r in rows {
        let threshold: i64 = r.try_get("threshold")?;
        let people_left: i64 = r.try_get("people_left")?;
        if people_left < threshold {
            out.push(QuorumImpact { entry_id: r.try_get("entry_id")?, threshold, people_left });
        }
    }
    Ok(out)
}

/// The approver key of enrolment `id`, if it exists.
pub(crate) async fn key_of(store: &Store, id: &str) -> Result<Option<String>, ApiError> {
    let row = sqlx::query("SELECT approver_key, status FROM broker_enrolments WHERE id = $1")
        .bind(id)
        .fetch_optional(store.pool())
        .await?;
    Ok(row.map(|r| r.try_get("approver_key")).transpose()?)
}

/// Marks enrolment `id` removed at `now`.
pub(crate) async fn mark_removed(c: &mut AnyConnection, id: &str, now: i64) -> Result<(), ApiError> {
    sqlx::query("UPDATE broker_enrolments SET status = 'removed', decided_at = $1 WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// An approved enrolment, for a writer to verify.
pub(crate) struct Approver {
    pub(crate) user_id: String,
    pub(crate) user_name: String,
    pub(crate) credential_id: String,
    pub(crate) signed: Option<String>,
}

/// Approved enrolments, by name.
pub(crate) async fn approvers(store: &Store) -> Result<Vec<Approver>, ApiError> {
    let rows = sqlx::query(
        "SELECT e.user_id, u.name, e.credential_id, e.signed FROM broker_enrolments e JOIN users u ON u.id = e.user_id \
         WHERE e.status = 'approved' ORDER BY u.name, e.created_at",
    )
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Approver {
                user_id: r.try_get("user_id")?,
                user_name: r.try_get("name")?,
                credential_id: r.try_get("credential_id")?,
                signed: r.try_get("signed")?,
            })
        })
        .collect()
}
