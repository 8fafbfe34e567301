//! The `wallet_endpoints` table: one RPC endpoint per chain and network. The credential column
//! holds the admin's [`EndpointCredential`] as JSON; only [`get_enabled`] reads it (for the
//! outbound request), and the views say only whether one is set.

use blindvault_api::wallet::{Chain, EndpointCredential, EndpointView, NetworkView, endpoint_id};
use sqlx::{AnyConnection, Row};

use super::chain_of;
use crate::store::Store;

/// An endpoint as the gateway uses it.
#[derive(Debug)]
pub(crate) struct Endpoint {
    pub(crate) url: String,
    pub(crate) credential: Option<EndpointCredential>,
}

fn chain_id_of(r: &sqlx::any::AnyRow) -> Result<Option<u64>, sqlx::Error> {
    let v: Option<i64> = r.try_get("chain_id")?;
    Ok(v.and_then(|v| u64::try_from(v).ok()))
}

fn view_of(r: &sqlx::any::AnyRow) -> Result<EndpointView, sqlx::Error> {
    let chain = chain_of(&r.try_get::<String, _>("chain")?)?;
    let network: String = r.try_get("network")?;
    Ok(EndpointView {
        id: endpoint_id(chain, &network),
        chain,
        network,
        chain_id: chain_id_of(r)?,
        url: r.try_get("url")?,
        credential_set: r.try_get::<i64, _>("has_credential")? != 0,
        enabled: r.try_get::<i64, _>("enabled")? != 0,
        updated_at: r.try_get("updated_at")?,
        updated_by: r.try_get("updated_by")?,
    })
}

/// The columns of a view: never the credential itself.
macro_rules! view_columns {
    () => {
        "chain, network, chain_id, url, CASE WHEN credential IS NULL THEN 0 ELSE 1 END AS has_credential, enabled, updated_at, updated_by"
    };
}

/// Every endpoint, by chain and network.
pub(crate) async fn list(store: &Store) -> Result<Vec<EndpointView>, sqlx::Error> {
    let sql = concat!("SELECT ", view_columns!(), " FROM wallet_endpoints ORDER BY chain, network");
    let rows = sqlx::query(sql).fetch_all(store.pool()).await?;
    rows.iter().map(view_of).collect()
}

/// One endpoint's view.
pub(crate) async fn view(
    c: &mut AnyConnection,
    chain: Chain,
    network: &str,
) -> Result<Option<EndpointView>, sqlx::Error> {
    let sql = concat!("SELECT ", view_columns!(), " FROM wallet_endpoints WHERE chain = $1 AND network = $2");
    let row = sqlx::query(sql).bind(chain.as_str()).bind(network).fetch_optional(&mut *c).await?;
    row.as_ref().map(view_of).transpose()
}

/// The enabled networks (what a signed-in person may call).
pub(crate) async fn networks(store: &Store) -> Result<Vec<NetworkView>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT chain, network, chain_id FROM wallet_endpoints WHERE enabled = 1 ORDER BY chain, network",
    )
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(NetworkView {
                chain: chain_of(&r.try_get::<String, _>("chain")?)?,
                network: r.try_get("network")?,
                chain_id: chain_id_of(r)?,
            })
        })
        .collect()
}

/// The enabled endpoint of `chain` and `network`, credential included (for the outbound request).
pub(crate) async fn get_enabled(
    store: &Store,
    chain: Chain,
    network: &str,
) -> Result<Option<Endpoint>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT url, credential FROM wallet_endpoints WHERE chain = $1 AND network = $2 AND enabled = 1",
    )
    .bind(chain.as_str())
    .bind(network)
    .fetch_optional(store.pool())
    .await?;
    let Some(r) = row else { return Ok(None) };
    let credential =
        match r.try_get::<Option<String>, _>("credential")? {
            Some(text) => Some(serde_json::from_str(&text).map_err(|e| {
                sqlx::Error::Decode(format!("stored credential: {}", e.classify_name()).into())
            })?),
            None => None,
        };
    Ok(Some(Endpoint { url: r.try_get("url")?, credential }))
}

trait Classify {
    fn classify_name(&self) -> &'static str;
}

impl Classify for serde_json::Error {
    // The error's text could quote the stored value: name its class only.
    fn classify_name(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "io",
            serde_json::error::Category::Syntax => "syntax",
            serde_json::error::Category::Data => "data",
            serde_json::error::Category::Eof => "eof",
        }
    }
}

/// What a set writes.
pub(crate) struct NewEndpoint<'a> {
    pub(crate) chain: Chain,
    pub(crate) network: &'a str,
    pub(crate) chain_id: Option<u64>,
    pub(crate) url: &'a str,
    pub(crate) enabled: bool,
    pub(crate) at: i64,
    pub(crate) by: &'a str,
}

/// How a set treats the stored credential.
pub(crate) enum CredentialWrite<'a> {
    /// Keep it as it is (or none).
    Keep,
    /// Replace it.
    Set(&'a EndpointCredential),
    /// Remove it.
    Clear,
}

/// Inserts or replaces the endpoint of its chain and network.
pub(crate) async fn upsert(
    c: &mut AnyConnection,
    e: &NewEndpoint<'_>,
    credential: CredentialWrite<'_>,
) -> Result<(), sqlx::Error> {
    let chain_id = e.chain_id.and_then(|v| i64::try_from(v).ok());
    sqlx::query(
        "INSERT INTO wallet_endpoints (chain, network, chain_id, url, credential, enabled, updated_at, updated_by) \
         VALUES ($1, $2, $3, $4, NULL, $5, $6, $7) \
         ON CONFLICT (chain, network) DO UPDATE SET chain_id = excluded.chain_id, url = excluded.url, \
         enabled = excluded.enabled, updated_at = excluded.updated_at, updated_by = excluded.updated_by",
    )
    .bind(e.chain.as_str())
    .bind(e.network)
    .bind(chain_id)
    .bind(e.url)
    .bind(i64::from(e.enabled))
    .bind(e.at)
    .bind(e.by)
    .execute(&mut *c)
    .await?;
    let text = match credential {
        CredentialWrite::Keep => return Ok(()),
        CredentialWrite::Clear => None,
        CredentialWrite::Set(cred) => {
            Some(serde_json::to_string(cred).map_err(|e| sqlx::Error::Encode(e.classify_name().into()))?)
        }
    };
    sqlx::query("UPDATE wallet_endpoints SET credential = $1 WHERE chain = $2 AND network = $3")
        .bind(text)
        .bind(e.chain.as_str())
        .bind(e.network)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// Deletes an endpoint; false if there was none.
pub(crate) async fn delete(c: &mut AnyConnection, chain: Chain, network: &str) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("DELETE FROM wallet_endpoints WHERE chain = $1 AND network = $2")
        .bind(chain.as_str())
        .bind(network)
        .execute(&mut *c)
        .await?;
    Ok(r.rows_affected() > 0)
}
