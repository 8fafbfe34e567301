//! The `wallet_tokens` table: the admin's default token list.

use blindvault_api::wallet::{Chain, TokenView};
use sqlx::{AnyConnection, Row};

use super::chain_of;
use crate::store::Store;

fn view_of(r: &sqlx::any::AnyRow) -> Result<TokenView, sqlx::Error> {
    let decimals: i64 = r.try_get("decimals")?;
    Ok(TokenView {
        id: r.try_get("id")?,
        chain: chain_of(&r.try_get::<String, _>("chain")?)?,
        network: r.try_get("network")?,
        contract: r.try_get("contract")?,
        symbol: r.try_get("symbol")?,
        decimals: u8::try_from(decimals).map_err(|e| sqlx::Error::Decode(e.into()))?,
    })
}

/// Every token, by chain, network and symbol.
pub(crate) async fn list(store: &Store) -> Result<Vec<TokenView>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, chain, network, contract, symbol, decimals FROM wallet_tokens ORDER BY chain, network, symbol, contract",
    )
    .fetch_all(store.pool())
    .await?;
    rows.iter().map(view_of).collect()
}

/// A token to add.
pub(crate) struct NewToken<'a> {
    pub(crate) id: &'a str,
    pub(crate) chain: Chain,
    pub(crate) network: &'a str,
    pub(crate) contract: &'a str,
    pub(crate) symbol: &'a str,
    pub(crate) decimals: u8,
    pub(crate) at: i64,
    pub(crate) by: &'a str,
}

/// Adds a token, or updates the symbol and decimals of the one with its chain, network and
/// contract; returns the stored row.
pub(crate) async fn upsert(c: &mut AnyConnection, t: &NewToken<'_>) -> Result<TokenView, sqlx::Error> {
    sqlx::query(
        "INSERT INTO wallet_tokens (id, chain, network, contract, symbol, decimals, created_at, created_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (chain, network, contract) DO UPDATE SET symbol = excluded.symbol, decimals = excluded.decimals",
    )
    .bind(t.id)
    .bind(t.chain.as_str())
    .bind(t.network)
    .bind(t.contract)
    .bind(t.symbol)
    .bind(i64::from(t.decimals))
    .bind(t.at)
    .bind(t.by)
    .execute(&mut *c)
    .await?;
    let row = sqlx::query(
        "SELECT id, chain, network, contract, symbol, decimals FROM wallet_tokens WHERE chain = $1 AND network = $2 AND contract = $3",
    )
    .bind(t.chain.as_str())
    .bind(t.network)
    .bind(t.contract)
    .fetch_one(&mut *c)
    .await?;
    view_of(&row)
}

/// Deletes a token; the deleted row, if there was one.
pub(crate) async fn delete(c: &mut AnyConnection, id: &str) -> Result<Option<TokenView>, sqlx::Error> {
    let row = sqlx::query(
        "DELETE FROM wallet_tokens WHERE id = $1 RETURNING id, chain, network, contract, symbol, decimals",
    )
    .bind(id)
    .fetch_optional(&mut *c)
    .await?;
    row.as_ref().map(view_of).transpose()
}
