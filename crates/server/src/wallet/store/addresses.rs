//! The `wallet_addresses` table: public addresses people publish for watch-only display.

use blindvault_api::wallet::{AddressView, Chain, HeldAddressView};
use sqlx::{AnyConnection, Row};

use super::chain_of;
use crate::store::Store;

fn view_of(r: &sqlx::any::AnyRow) -> Result<AddressView, sqlx::Error> {
    Ok(AddressView {
        id: r.try_get("id")?,
        chain: chain_of(&r.try_get::<String, _>("chain")?)?,
        network: r.try_get("network")?,
        path: r.try_get("path")?,
        address: r.try_get("address")?,
        label: r.try_get("label")?,
        created_at: r.try_get("created_at")?,
    })
}

/// `user_id`'s addresses, by chain, network and path.
pub(crate) async fn mine(store: &Store, user_id: &str) -> Result<Vec<AddressView>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, chain, network, path, address, label, created_at FROM wallet_addresses \
         WHERE user_id = $1 ORDER BY chain, network, path",
    )
    .bind(user_id)
    .fetch_all(store.pool())
    .await?;
    rows.iter().map(view_of).collect()
}

/// Every address with its holder (only those equal to `address` when given), by address.
pub(crate) async fn held(store: &Store, address: Option<&str>) -> Result<Vec<HeldAddressView>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT a.id, a.chain, a.network, a.path, a.address, a.label, a.created_at, a.user_id, u.name \
         FROM wallet_addresses a JOIN users u ON u.id = a.user_id \
         WHERE $1 = '' OR a.address = $1 ORDER BY a.address, a.chain, a.network, u.name",
    )
    .bind(address.unwrap_or(""))
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(HeldAddressView {
                user_id: r.try_get("user_id")?,
                user_name: r.try_get("name")?,
                address: view_of(r)?,
            })
        })
        .collect()
}

/// How many addresses `user_id` has published.
pub(crate) async fn count(c: &mut AnyConnection, user_id: &str) -> Result<i64, sqlx::Error> {
    sqlx::query("SELECT COUNT(*) AS n FROM wallet_addresses WHERE user_id = $1")
        .bind(user_id)
        .fetch_one(&mut *c)
        .await?
        .try_get("n")
}

/// An address to publish.
pub(crate) struct NewAddress<'a> {
    pub(crate) id: &'a str,
    pub(crate) user_id: &'a str,
    pub(crate) chain: Chain,
    pub(crate) network: &'a str,
    pub(crate) path: &'a str,
    pub(crate) address: &'a str,
    pub(crate) label: Option<&'a str>,
    pub(crate) at: i64,
}

/// Publishes an address, or replaces the address and label at the same chain, network and path;
/// returns the stored row.
pub(crate) async fn upsert(c: &mut AnyConnection, a: &NewAddress<'_>) -> Result<AddressView, sqlx::Error> {
    sqlx::query(
        "INSERT INTO wallet_addresses (id, user_id, chain, network, path, address, label, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (user_id, chain, network, path) DO UPDATE SET address = excluded.address, label = excluded.label",
    )
    .bind(a.id)
    .bind(a.user_id)
    .bind(a.chain.as_str())
    .bind(a.network)
    .bind(a.path)
    .bind(a.address)
    .bind(a.label)
    .bind(a.at)
    .execute(&mut *c)
    .await?;
    let row = sqlx::query(
        "SELECT id, chain, network, path, address, label, created_at FROM wallet_addresses \
         WHERE user_id = $1 AND chain = $2 AND network = $3 AND path = $4",
    )
    .bind(a.user_id)
    .bind(a.chain.as_str())
    .bind(a.network)
    .bind(a.path)
    .fetch_one(&mut *c)
    .await?;
    view_of(&row)
}

/// Withdraws `user_id`'s address `id`; the withdrawn row, if it was theirs.
pub(crate) async fn delete(
    c: &mut AnyConnection,
    user_id: &str,
    id: &str,
) -> Result<Option<AddressView>, sqlx::Error> {
    let row = sqlx::query(
        "DELETE FROM wallet_addresses WHERE id = $1 AND user_id = $2 \
         RETURNING id, chain, network, path, address, label, created_at",
    )
    .bind(id)
    .bind(user_id)
    .fetch_optional(&mut *c)
    .await?;
    row.as_ref().map(view_of).transpose()
}
