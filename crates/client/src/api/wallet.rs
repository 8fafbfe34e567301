//! The admin's wallet calls: RPC endpoints (the credential goes to the server and never comes
//! back), default tokens, and who holds which published address.

use blindvault_api::paths;
use blindvault_api::wallet::{
    EndpointList, EndpointSet, EndpointView, HeldAddressList, HeldAddressView, TokenList, TokenSet, TokenView,
};

use super::{ApiError, BrokerClient, seg};

/// Checks an endpoint id `<chain>:<network>` can go into a URL path.
fn endpoint_seg(id: &str) -> Result<&str, ApiError> {
    let ok = (3..=64).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b':');
    if ok { Ok(id) } else { Err(ApiError::BadId(id.chars().take(64).collect())) }
}

impl BrokerClient {
    /// `GET /api/admin/wallet/endpoints`.
    pub async fn wallet_endpoints(&self) -> Result<Vec<EndpointView>, ApiError> {
        let list: EndpointList =
            self.send(self.admin(reqwest::Method::GET, paths::ADMIN_WALLET_ENDPOINTS)?).await?;
        Ok(list.endpoints)
    }

    /// `PUT /api/admin/wallet/endpoints`.
    pub async fn set_wallet_endpoint(&self, body: &EndpointSet) -> Result<EndpointView, ApiError> {
        self.send(self.admin(reqwest::Method::PUT, paths::ADMIN_WALLET_ENDPOINTS)?.json(body)).await
    }

    /// `DELETE /api/admin/wallet/endpoints/{id}` (`<chain>:<network>`).
    pub async fn remove_wallet_endpoint(&self, id: &str) -> Result<(), ApiError> {
        let path = paths::with_id(paths::ADMIN_WALLET_ENDPOINT, endpoint_seg(id)?);
        let _: serde_json::Value = self.send(self.admin(reqwest::Method::DELETE, &path)?).await?;
        Ok(())
    }

    /// `GET /api/admin/wallet/tokens`.
    pub async fn wallet_tokens(&self) -> Result<Vec<TokenView>, ApiError> {
        let list: TokenList =
            self.send(self.admin(reqwest::Method::GET, paths::ADMIN_WALLET_TOKENS)?).await?;
        Ok(list.tokens)
    }

    /// `POST /api/admin/wallet/tokens`.
    pub async fn add_wallet_token(&self, body: &TokenSet) -> Result<TokenView, ApiError> {
        self.send(self.admin(reqwest::Method::POST, paths::ADMIN_WALLET_TOKENS)?.json(body)).await
    }

    /// `DELETE /api/admin/wallet/tokens/{id}`.
    pub async fn remove_wallet_token(&self, id: &str) -> Result<(), ApiError> {
        let path = paths::with_id(paths::ADMIN_WALLET_TOKEN, seg(id)?);
        let _: serde_json::Value = self.send(self.admin(reqwest::Method::DELETE, &path)?).await?;
        Ok(())
    }

    /// `GET /api/admin/wallet/addresses[?address=…]`.
    pub async fn wallet_held_addresses(
        &self,
        address: Option<&str>,
    ) -> Result<Vec<HeldAddressView>, ApiError> {
        let mut req = self.admin(reqwest::Method::GET, paths::ADMIN_WALLET_ADDRESSES)?;
        if let Some(a) = address {
            req = req.query(&[("address", a)]);
        }
        let list: HeldAddressList = self.send(req).await?;
        Ok(list.addresses)
    }
}
