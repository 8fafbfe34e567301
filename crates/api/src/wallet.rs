//! The wallet's server side: the admin's RPC endpoints and default tokens, the public addresses a
//! person publishes for watch-only display, and the RPC gateway through which the wallet's pages
//! reach the chains (docs/wallet.md, "The gateway").
//!
//! The server never holds a wallet key and never signs: it stores public addresses, forwards the
//! read and broadcast calls of an allow-list to the endpoint the admin set, and adds the endpoint's
//! credential (which no reply ever carries) on the outbound request only.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

/// A chain family the wallet speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Chain {
    /// Ethereum and EVM networks (JSON-RPC).
    Evm,
    /// Bitcoin (Esplora REST).
    Bitcoin,
    /// Solana (JSON-RPC).
    Solana,
    /// TRON (the node's HTTP API, TronGrid's `/v1` history).
    Tron,
    /// TON (toncenter's HTTP API v2).
    Ton,
}

impl Chain {
    /// Every chain.
    pub const ALL: [Chain; 5] = [Chain::Evm, Chain::Bitcoin, Chain::Solana, Chain::Tron, Chain::Ton];

    /// The wire name (`evm`, `bitcoin`, `solana`, `tron`, `ton`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Chain::Evm => "evm",
            Chain::Bitcoin => "bitcoin",
            Chain::Solana => "solana",
            Chain::Tron => "tron",
            Chain::Ton => "ton",
        }
    }

    /// Reads a wire name.
    pub fn parse(s: &str) -> Option<Chain> {
        Chain::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// How the gateway calls this chain's API.
    pub const fn api(self) -> ApiKind {
        match self {
            Chain::Evm | Chain::Solana => ApiKind::JsonRpc,
            Chain::Bitcoin | Chain::Tron | Chain::Ton => ApiKind::Rest,
        }
    }
}

impl fmt::Display for Chain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kind of API a chain's endpoint serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiKind {
    /// JSON-RPC 2.0: one `POST` to the endpoint's URL ([`GatewayCall::JsonRpc`]).
    JsonRpc,
    /// HTTP routes under the endpoint's URL ([`GatewayCall::Rest`]).
    Rest,
}

/// The id of an endpoint in paths: `<chain>:<network>` (e.g. `evm:sepolia`).
pub fn endpoint_id(chain: Chain, network: &str) -> String {
    format!("{}:{network}", chain.as_str())
}

/// A secret string (an endpoint credential's value): zeroized on drop, redacted in `Debug`.
/// It travels from the admin to the server only; no reply carries it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct CredentialValue(String);

impl CredentialValue {
    /// Wraps a value.
    pub fn new(value: String) -> Self {
        Self(value)
    }
    /// The value (for the outbound request only).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl Drop for CredentialValue {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for CredentialValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

/// An endpoint's credential: where the gateway puts it on the outbound request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum EndpointCredential {
    /// A request header (`x-api-key: …`, `TRON-PRO-API-KEY: …`, `authorization: Bearer …`).
    Header {
        /// The header's name (a token; not one HTTP itself or the gateway sets).
        name: String,
        /// Its value (visible ASCII and spaces).
        value: CredentialValue,
    },
    /// A query parameter (`?api_key=…`).
    Query {
        /// The parameter's name (letters, digits, `_`, `-`).
        name: String,
        /// Its value (URL-safe characters).
        value: CredentialValue,
    },
    /// A path segment put right after the URL's path (Infura's and Alchemy's `…/v3/<key>`).
    PathSegment {
        /// The segment (letters, digits, `_`, `-`, `.`; not `.` or `..`).
        value: CredentialValue,
    },
}

/// `PUT /api/admin/wallet/endpoints`: sets the one endpoint of a chain and network.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointSet {
    /// The chain.
    pub chain: Chain,
    /// The network's short name (`mainnet`, `sepolia`, `testnet`; 1 to 32 of `a-z 0-9 -`).
    pub network: String,
    /// EVM only, and required there: the chain id (1 to 2^53 − 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain_id: Option<u64>,
    /// `https://…` (or `http://…`) without user info or fragment; the gateway adds the call's path
    /// (REST) to its path.
    pub url: String,
    /// A new credential (replaces the stored one). Absent: the stored one is kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<EndpointCredential>,
    /// Removes the stored credential (refused together with `credential`).
    #[serde(default)]
    pub clear_credential: bool,
    /// Whether the gateway uses it (default true).
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

/// An endpoint as the admin reads it: whether a credential is set, never the credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct EndpointView {
    /// `<chain>:<network>` (the path id).
    pub id: String,
    /// The chain.
    pub chain: Chain,
    /// The network.
    pub network: String,
    /// EVM: the chain id.
    pub chain_id: Option<u64>,
    /// The URL (never carries the credential).
    pub url: String,
    /// Whether a credential is stored.
    pub credential_set: bool,
    /// Whether the gateway uses it.
    pub enabled: bool,
    /// When it was last set (Unix seconds).
    pub updated_at: i64,
    /// Who last set it (user id).
    pub updated_by: String,
}

/// `GET /api/admin/wallet/endpoints`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct EndpointList {
    /// Every endpoint, by chain and network.
    pub endpoints: Vec<EndpointView>,
}

/// A network a signed-in person can reach through the gateway (no URL, no credential).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct NetworkView {
    /// The chain.
    pub chain: Chain,
    /// The network.
    pub network: String,
    /// EVM: the chain id the wallet signs for.
    pub chain_id: Option<u64>,
}

/// `GET /api/wallet/networks`: the enabled endpoints.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct NetworkList {
    /// By chain and network.
    pub networks: Vec<NetworkView>,
}

/// `POST /api/admin/wallet/tokens`: adds a default token (or updates the one with this chain,
/// network and contract).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenSet {
    /// `evm` (ERC-20), `solana` (SPL mint) or `tron` (TRC-20).
    pub chain: Chain,
    /// The network.
    pub network: String,
    /// The contract (or mint) address, in the chain's own form.
    pub contract: String,
    /// The symbol shown (1 to 16 printable characters).
    pub symbol: String,
    /// Decimals (0 to 36).
    pub decimals: u8,
}

/// A default token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TokenView {
    /// Its id (for `DELETE`).
    pub id: String,
    /// The chain.
    pub chain: Chain,
    /// The network.
    pub network: String,
    /// The contract (or mint) address.
    pub contract: String,
    /// The symbol.
    pub symbol: String,
    /// Decimals.
    pub decimals: u8,
}

/// `GET /api/wallet/tokens`, `GET /api/admin/wallet/tokens`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct TokenList {
    /// By chain, network and symbol.
    pub tokens: Vec<TokenView>,
}

/// `POST /api/wallet/addresses`: publishes one of my public addresses (or relabels it).
/// Only public data: a field that looks like a private key or a mnemonic is refused.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressPublish {
    /// The chain.
    pub chain: Chain,
    /// The network.
    pub network: String,
    /// The derivation path (`m/84'/0'/0'/0/0`).
    pub path: String,
    /// The address, in the chain's own form.
    pub address: String,
    /// An optional label (1 to 64 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// A published address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AddressView {
    /// Its id (for `DELETE`).
    pub id: String,
    /// The chain.
    pub chain: Chain,
    /// The network.
    pub network: String,
    /// The derivation path.
    pub path: String,
    /// The address.
    pub address: String,
    /// The label.
    pub label: Option<String>,
    /// When it was published (Unix seconds).
    pub created_at: i64,
}

/// `GET /api/wallet/addresses`: mine.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct AddressList {
    /// By chain, network and path.
    pub addresses: Vec<AddressView>,
}

/// A published address with its holder (the admin's view).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct HeldAddressView {
    /// The holder's user id.
    pub user_id: String,
    /// The holder's name.
    pub user_name: String,
    /// The address.
    #[serde(flatten)]
    pub address: AddressView,
}

/// `GET /api/admin/wallet/addresses[?address=…]`: who holds which address.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct HeldAddressList {
    /// By address.
    pub addresses: Vec<HeldAddressView>,
}

/// `POST /api/wallet/rpc`: one call to a chain through the gateway.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GatewayRequest {
    /// The chain.
    pub chain: Chain,
    /// The network (an enabled endpoint's).
    pub network: String,
    /// The call.
    pub call: GatewayCall,
}

/// A call, in the chain's kind ([`Chain::api`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum GatewayCall {
    /// JSON-RPC 2.0 (EVM, Solana): the gateway sends
    /// `{"jsonrpc":"2.0","id":1,"method":…,"params":…}` to the endpoint's URL.
    JsonRpc {
        /// A method of the chain's allow-list.
        method: String,
        /// Its parameters: an array (absent: `[]`).
        #[serde(default = "empty_params")]
        params: serde_json::Value,
    },
    /// An HTTP route (Bitcoin Esplora, TRON, TON): `method` and `path` must match one of the
    /// chain's templates exactly.
    Rest {
        /// `GET` or `POST`.
        method: RestMethod,
        /// The path under the endpoint's URL (`/address/bc1…/utxo`).
        path: String,
        /// Query parameters the route allows.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        query: BTreeMap<String, String>,
        /// The body of a `POST`: JSON, or a string for a route that takes text (Esplora's
        /// `POST /tx` takes the transaction's hex).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        body: Option<serde_json::Value>,
    },
}

fn empty_params() -> serde_json::Value {
    serde_json::Value::Array(Vec::new())
}

/// The HTTP method of a [`GatewayCall::Rest`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum RestMethod {
    /// `GET`.
    Get,
    /// `POST`.
    Post,
}

impl RestMethod {
    /// As HTTP writes it.
    pub const fn as_str(self) -> &'static str {
        match self {
            RestMethod::Get => "GET",
            RestMethod::Post => "POST",
        }
    }
}

/// The gateway's answer to a call the endpoint answered (any status below 500): the endpoint's
/// status and body, never its headers. A 5xx, no answer, an answer over the size limit or a
/// timeout is an error instead (`gateway_upstream_failed`, `gateway_response_too_large`,
/// `gateway_upstream_timeout`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GatewayReply {
    /// The endpoint's HTTP status.
    pub status: u16,
    /// Its body.
    pub body: GatewayBody,
}

/// An endpoint's body: JSON when its content type says JSON and it parses, text otherwise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum GatewayBody {
    /// `{"json": …}`.
    Json(serde_json::Value),
    /// `{"text": "…"}` (Esplora's txid, hex and heights are text).
    Text(String),
}

/// The reply of removing an endpoint, a token or a published address: the id that is gone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Deleted {
    /// The removed item's id.
    pub deleted: String,
}
