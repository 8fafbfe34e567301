//! `broker_hosts`: registered host certificates.

use sqlx::{AnyConnection, Row};

use crate::error::ApiError;
use crate::store::Store;
pub(crate) use blindvault_api::broker::HostView;

/// A certificate to register.
pub(crate) struct NewHost<'a> {
    pub(crate) cert_id: &'a str,
    pub(crate) host_name: &'a str,
    pub(crate) host_key: &'a str,
    pub(crate) certificate: &'a str,
    pub(crate) not_after: i64,
    pub(crate) issued_by: &'a str,
    pub(crate) created_at: i64,
    pub(crate) self_approval: bool,
}

/// Registers a host; false if the certificate is already registered.
pub(crate) async fn insert(c: &mut AnyConnection, h: &NewHost<'_>) -> Result<bool, ApiError> {
    let r = sqlx::query(
        "INSERT INTO broker_hosts (cert_id, host_name, host_key, certificate, not_after, issued_by, created_at, self_approval) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (cert_id) DO NOTHING",
    )
    .bind(h.cert_id)
    .bind(h.host_name)
    .bind(h.host_key)
    .bind(h.certificate)
    .bind(h.not_after)
    .bind(h.issued_by)
    .bind(h.created_at)
    .bind(i64::from(h.self_approval))
    .execute(&mut *c)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Every host, oldest first.
pub(crate) async fn list(store: &Store) -> Result<Vec<HostView>, ApiError> {
    let rows = sqlx::query(
        "SELECT cert_id, host_name, not_after, revoked_at, issued_by, self_approval FROM broker_hosts ORDER BY created_at",
    )
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(|r| {
            let revoked: Option<i64> = r.try_get("revoked_at")?;
            Ok(HostView {
                cert_id: r.try_get("cert_id")?,
                host_name: r.try_get("host_name")?,
                not_after: r.try_get("not_after")?,
                revoked: revoked.is_some(),
                issued_by: r.try_get("issued_by")?,
                self_approval: r.try_get::<Option<i64>, _>("self_approval")?.unwrap_or(0) != 0,
            })
        })
        .collect()
}

/// Revokes host `cert_id` at `now`; false if there is no such unrevoked host.
pub(crate) async fn revoke(c: &mut AnyConnection, cert_id: &str, now: i64) -> Result<bool, ApiError> {
    let r = sqlx::query("UPDATE broker_hosts SET revoked_at = $1 WHERE cert_id = $2 AND revoked_at IS NULL")
        .bind(now)
        .bind(cert_id)
        .execute(&mut *c)
        .await?;
    Ok(r.rows_affected() == 1)
}
