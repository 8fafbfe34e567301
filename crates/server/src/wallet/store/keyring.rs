//! The `wallet_origins` and `wallet_envelopes` tables: a person's wallet keyring. Both are
//! create-only; an envelope is deleted with its passkey.

use blindvault_api::wallet_keyring::{WalletEnvelopeView, WalletOrigin};
use sqlx::{AnyConnection, Row};

use crate::store::Store;

/// `user_id`'s origin passkey, if recorded.
pub(crate) async fn origin(
    c: &mut AnyConnection,
    user_id: &str,
) -> Result<Option<WalletOrigin>, sqlx::Error> {
    let row = sqlx::query("SELECT credential_id, created_at FROM wallet_origins WHERE user_id = $1")
        .bind(user_id)
        .fetch_optional(&mut *c)
        .await?;
    row.map(|r| {
        Ok(WalletOrigin { credential_id: r.try_get("credential_id")?, created_at: r.try_get("created_at")? })
    })
    .transpose()
}

/// `user_id`'s envelopes, by credential id.
pub(crate) async fn envelopes(store: &Store, user_id: &str) -> Result<Vec<WalletEnvelopeView>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT credential_id, envelope, created_at FROM wallet_envelopes WHERE user_id = $1 ORDER BY credential_id",
    )
    .bind(user_id)
    .fetch_all(store.pool())
    .await?;
    rows.iter().map(envelope_of).collect()
}

fn envelope_of(r: &sqlx::any::AnyRow) -> Result<WalletEnvelopeView, sqlx::Error> {
    Ok(WalletEnvelopeView {
        credential_id: r.try_get("credential_id")?,
        envelope: r.try_get("envelope")?,
        created_at: r.try_get("created_at")?,
    })
}

/// Whether `credential_id` is one of `user_id`'s passkeys.
pub(crate) async fn owns_passkey(
    c: &mut AnyConnection,
    user_id: &str,
    credential_id: &str,
) -> Result<bool, sqlx::Error> {
    let row = sqlx::query("SELECT 1 AS one FROM credentials WHERE id = $1 AND user_id = $2")
        .bind(credential_id)
        .bind(user_id)
        .fetch_optional(&mut *c)
        .await?;
    Ok(row.is_some())
}

/// Whether `e` is a foreign-key violation (a row it names was deleted meanwhile: SQLSTATE 23503
/// on PostgreSQL, `SQLITE_CONSTRAINT_FOREIGNKEY` on SQLite).
pub(crate) fn is_foreign_key_violation(e: &sqlx::Error) -> bool {
    e.as_database_error().is_some_and(|d| d.is_foreign_key_violation())
}

/// Records `user_id`'s origin unless one is recorded, and only while `credential_id` is one of
/// `user_id`'s passkeys (checked in the same statement: a passkey removed meanwhile is not
/// recorded); returns whether it was inserted and the stored origin either way (none: the passkey
/// is not theirs, or no longer).
pub(crate) async fn set_origin(
    c: &mut AnyConnection,
    user_id: &str,
    credential_id: &str,
    at: i64,
) -> Result<(bool, Option<WalletOrigin>), sqlx::Error> {
    // The WHERE clause also keeps SQLite's parser from reading `ON CONFLICT` as a join's `ON`.
    let r = sqlx::query(
        "INSERT INTO wallet_origins (user_id, credential_id, created_at) SELECT $1, $2, $3 \
         WHERE EXISTS (SELECT 1 FROM credentials WHERE id = $2 AND user_id = $1) \
         ON CONFLICT (user_id) DO NOTHING",
    )
    .bind(user_id)
    .bind(credential_id)
    .bind(at)
    .execute(&mut *c)
    .await?;
    Ok((r.rows_affected() == 1, origin(c, user_id).await?))
}

/// Stores the envelope of `credential_id` unless it has one, and only while it is one of
/// `user_id`'s passkeys (checked in the same statement; a removal that commits in between is a
/// foreign-key violation, [`is_foreign_key_violation`]); returns whether it was inserted and the
/// stored envelope either way (none: the passkey is not theirs, or no longer).
pub(crate) async fn put_envelope(
    c: &mut AnyConnection,
    user_id: &str,
    credential_id: &str,
    envelope: &str,
    at: i64,
) -> Result<(bool, Option<WalletEnvelopeView>), sqlx::Error> {
    let r = sqlx::query(
        "INSERT INTO wallet_envelopes (credential_id, user_id, envelope, created_at) SELECT $1, $2, $3, $4 \
         WHERE EXISTS (SELECT 1 FROM credentials WHERE id = $1 AND user_id = $2) \
         ON CONFLICT (credential_id) DO NOTHING",
    )
    .bind(credential_id)
    .bind(user_id)
    .bind(envelope)
    .bind(at)
    .execute(&mut *c)
    .await?;
    let row = sqlx::query(
        "SELECT credential_id, envelope, created_at FROM wallet_envelopes WHERE credential_id = $1 AND user_id = $2",
    )
    .bind(credential_id)
    .bind(user_id)
    .fetch_optional(&mut *c)
    .await?;
    Ok((r.rows_affected() == 1, row.as_ref().map(envelope_of).transpose()?))
}

/// Deletes the envelope of `user_id`'s passkey `credential_id` (with the passkey, in its
/// transaction); whether there was one.
pub(crate) async fn delete_envelope(
    c: &mut AnyConnection,
    user_id: &str,
    credential_id: &str,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("DELETE FROM wallet_envelopes WHERE credential_id = $1 AND user_id = $2")
        .bind(credential_id)
        .bind(user_id)
        .execute(&mut *c)
        .await?;
    Ok(r.rows_affected() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn store() -> Result<Store, Box<dyn std::error::Error>> {
        let store = Store::connect("sqlite::memory:", 1).await?;
        store.migrate().await?;
        for (user, cred) in [("alice", "cred-a"), ("bob", "cred-b")] {
            sqlx::query(
                "INSERT INTO users (id, name, display_name, role, created_at) VALUES ($1, $1, $1, 'user', 0)",
            )
            .bind(user)
            .execute(store.pool())
            .await?;
            sqlx::query(
                "INSERT INTO credentials (id, user_id, name, passkey, sign_count, backup_eligible, backup_state, created_at) \
                 VALUES ($1, $2, 'k', '{}', 0, 0, 0, 0)",
            )
            .bind(cred)
            .bind(user)
            .execute(store.pool())
            .await?;
        }
        Ok(store)
    }

    /// The ownership check is in the insert itself: a passkey that is not the caller's, or was
    /// removed after any earlier check, gets no origin and no envelope (the handlers answer 404),
    /// and an envelope row naming a removed passkey is a foreign-key violation (also a 404).
    #[tokio::test]
    async fn inserts_check_the_passkey_is_still_the_callers_in_the_same_statement()
    -> Result<(), Box<dyn std::error::Error>> {
        let store = store().await?;
        let mut c = store.pool().acquire().await?;
        // Bob's passkey, named by Alice: nothing.
        assert_eq!(set_origin(&mut c, "alice", "cred-b", 1).await?, (false, None));
        assert!(put_envelope(&mut c, "alice", "cred-b", "e", 1).await?.1.is_none());
        // Alice's passkey removed between a check and the insert: nothing either.
        sqlx::query("DELETE FROM credentials WHERE id = 'cred-a'").execute(&mut *c).await?;
        assert_eq!(set_origin(&mut c, "alice", "cred-a", 1).await?, (false, None));
        assert!(put_envelope(&mut c, "alice", "cred-a", "e", 1).await?.1.is_none());
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM wallet_envelopes").fetch_one(&mut *c).await?;
        assert_eq!(n, 0);
        // What a concurrent removal that commits first gives on a plain insert: recognised.
        let e = sqlx::query(
            "INSERT INTO wallet_envelopes (credential_id, user_id, envelope, created_at) VALUES ('cred-a', 'alice', 'e', 1)",
        )
        .execute(&mut *c)
        .await
        .err()
        .ok_or("the insert should fail")?;
        assert!(is_foreign_key_violation(&e), "{e}");
        // Bob's own still works.
        assert!(set_origin(&mut c, "bob", "cred-b", 1).await?.0);
        Ok(())
    }
}
