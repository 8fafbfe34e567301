//! The gateway's allow-lists: per chain, the read and broadcast calls the wallet needs, and
//! nothing else (docs/wallet.md lists them with each chain's public API reference).
//!
//! A JSON-RPC method is matched by its exact name. A REST call's path is matched against the
//! chain's templates segment by segment: the same number of segments, every literal equal, and
//! every parameter in its own alphabet (addresses, 64-hex transaction ids) — so no `..`, no `%`,
//! no empty or extra segment ever reaches the endpoint. Query parameters are the route's own,
//! each with its own alphabet.

use blindvault_api::wallet::{Chain, RestMethod};

use super::validate;

/// A JSON-RPC method: its name and whether it broadcasts (audited).
pub(crate) type RpcMethod = (&'static str, bool);

/// EVM: the Ethereum JSON-RPC API (https://ethereum.org/developers/docs/apis/json-rpc/).
pub(crate) const EVM: &[RpcMethod] = &[
    ("eth_chainId", false),
    ("net_version", false),
    ("eth_blockNumber", false),
    ("eth_getBalance", false),
    ("eth_getTransactionCount", false),
    ("eth_getCode", false),
    ("eth_estimateGas", false),
    ("eth_gasPrice", false),
    ("eth_maxPriorityFeePerGas", false),
    ("eth_feeHistory", false),
    ("eth_call", false),
    ("eth_getLogs", false),
    ("eth_getTransactionReceipt", false),
    ("eth_getTransactionByHash", false),
    ("eth_getBlockByNumber", false),
    ("eth_sendRawTransaction", true),
];

/// Solana: the JSON-RPC HTTP methods (https://solana.com/docs/rpc/http).
pub(crate) const SOLANA: &[RpcMethod] = &[
    ("getBalance", false),
    ("getAccountInfo", false),
    ("getLatestBlockhash", false),
    ("isBlockhashValid", false),
    ("getBlockHeight", false),
    ("getSlot", false),
    ("getTokenAccountsByOwner", false),
    ("getTokenAccountBalance", false),
    ("getSignaturesForAddress", false),
    ("getTransaction", false),
    ("getSignatureStatuses", false),
    ("getMinimumBalanceForRentExemption", false),
    ("getFeeForMessage", false),
    ("getRecentPrioritizationFees", false),
    ("simulateTransaction", false),
    ("sendTransaction", true),
];

/// The JSON-RPC methods of `chain` (empty for a REST chain).
pub(crate) fn rpc_methods(chain: Chain) -> &'static [RpcMethod] {
    match chain {
        Chain::Evm => EVM,
        Chain::Solana => SOLANA,
        Chain::Bitcoin | Chain::Tron | Chain::Ton => &[],
    }
}

/// What a REST route's body is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Body {
    /// None (a `GET`, or a `POST` that takes nothing).
    None,
    /// A JSON object, sent as `application/json`.
    Json,
    /// A string of hex digits, sent as `text/plain` (Esplora's `POST /tx`).
    HexText,
}

/// The alphabet of a path or query parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// An address of the route's chain.
    Address,
    /// 64 hex digits (a transaction id or hash).
    Hex64,
    /// A decimal integer (up to 20 digits).
    Uint,
    /// `true` or `false`.
    Bool,
    /// A base64 or base64url hash (TON's transaction hash; up to 64 characters).
    B64Hash,
    /// An opaque page cursor (letters, digits, `-`, `_`, `=`; up to 256).
    Cursor,
    /// A sort order: `block_timestamp,asc` or `block_timestamp,desc`.
    Order,
}

/// One REST route.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Route {
    /// `GET` or `POST`.
    pub(crate) method: RestMethod,
    /// The path template: `/`-separated literals and `{address}`, `{txid}` parameters.
    pub(crate) path: &'static str,
    /// The query parameters it takes.
    pub(crate) query: &'static [(&'static str, Kind)],
    /// Its body.
    pub(crate) body: Body,
    /// Whether it broadcasts (audited).
    pub(crate) broadcast: bool,
}

const fn get(path: &'static str, query: &'static [(&'static str, Kind)]) -> Route {
    Route { method: RestMethod::Get, path, query, body: Body::None, broadcast: false }
}

const fn post(path: &'static str, body: Body, broadcast: bool) -> Route {
    Route { method: RestMethod::Post, path, query: &[], body, broadcast }
}

/// Bitcoin: Esplora's HTTP API (https://github.com/Blockstream/esplora/blob/master/API.md).
pub(crate) const BITCOIN: &[Route] = &[
    get("/address/{address}", &[]),
    get("/address/{address}/utxo", &[]),
    get("/address/{address}/txs", &[]),
    get("/address/{address}/txs/mempool", &[]),
    get("/address/{address}/txs/chain/{txid}", &[]),
    get("/tx/{txid}", &[]),
    get("/tx/{txid}/hex", &[]),
    get("/tx/{txid}/status", &[]),
    get("/fee-estimates", &[]),
    get("/blocks/tip/height", &[]),
    get("/blocks/tip/hash", &[]),
    post("/tx", Body::HexText, true),
];

const TRONGRID_PAGE: &[(&str, Kind)] = &[
    ("limit", Kind::Uint),
    ("fingerprint", Kind::Cursor),
    ("only_confirmed", Kind::Bool),
    ("only_unconfirmed", Kind::Bool),
    ("only_to", Kind::Bool),
    ("only_from", Kind::Bool),
    ("order_by", Kind::Order),
    ("min_timestamp", Kind::Uint),
    ("max_timestamp", Kind::Uint),
];

const TRONGRID_TRC20: &[(&str, Kind)] = &[
    ("limit", Kind::Uint),
    ("fingerprint", Kind::Cursor),
    ("only_confirmed", Kind::Bool),
    ("only_unconfirmed", Kind::Bool),
    ("only_to", Kind::Bool),
    ("only_from", Kind::Bool),
    ("order_by", Kind::Order),
    ("min_timestamp", Kind::Uint),
    ("max_timestamp", Kind::Uint),
    ("contract_address", Kind::Address),
];

/// TRON: the node's HTTP API (https://developers.tron.network/reference/full-node-api-overview)
/// and TronGrid's account history (https://developers.tron.network/reference/get-transaction-info-by-account-address).
pub(crate) const TRON: &[Route] = &[
    post("/wallet/getaccount", Body::Json, false),
    post("/wallet/getaccountresource", Body::Json, false),
    post("/wallet/getnowblock", Body::None, false),
    post("/wallet/getchainparameters", Body::None, false),
    post("/wallet/triggerconstantcontract", Body::Json, false),
    post("/wallet/estimateenergy", Body::Json, false),
    post("/wallet/gettransactionbyid", Body::Json, false),
    post("/wallet/gettransactioninfobyid", Body::Json, false),
    post("/wallet/broadcasttransaction", Body::Json, true),
    post("/wallet/broadcasthex", Body::Json, true),
    get("/v1/accounts/{address}/transactions", TRONGRID_PAGE),
    get("/v1/accounts/{address}/transactions/trc20", TRONGRID_TRC20),
];

/// TON: toncenter's HTTP API v2 (https://toncenter.com/api/v2/).
pub(crate) const TON: &[Route] = &[
    get("/getAddressInformation", &[("address", Kind::Address)]),
    get("/getAddressBalance", &[("address", Kind::Address)]),
    get("/getWalletInformation", &[("address", Kind::Address)]),
    get(
        "/getTransactions",
        &[
            ("address", Kind::Address),
            ("limit", Kind::Uint),
            ("lt", Kind::Uint),
            ("hash", Kind::B64Hash),
            ("to_lt", Kind::Uint),
            ("archival", Kind::Bool),
        ],
    ),
    get("/getMasterchainInfo", &[]),
    post("/estimateFee", Body::Json, false),
    post("/runGetMethod", Body::Json, false),
    post("/sendBoc", Body::Json, true),
    post("/sendBocReturnHash", Body::Json, true),
];

/// The REST routes of `chain` (empty for a JSON-RPC chain).
pub(crate) fn rest_routes(chain: Chain) -> &'static [Route] {
    match chain {
        Chain::Bitcoin => BITCOIN,
        Chain::Tron => TRON,
        Chain::Ton => TON,
        Chain::Evm | Chain::Solana => &[],
    }
}

/// Whether `value` is in `kind`'s alphabet for `chain`.
pub(crate) fn fits(chain: Chain, kind: Kind, value: &str) -> bool {
    let hex = |s: &str| s.bytes().all(|b| b.is_ascii_hexdigit());
    match kind {
        Kind::Address => validate::address(chain, value).is_ok(),
        Kind::Hex64 => value.len() == 64 && hex(value),
        Kind::Uint => (1..=20).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_digit()),
        Kind::Bool => matches!(value, "true" | "false"),
        Kind::B64Hash => {
            (1..=64).contains(&value.len())
                && value
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_'))
        }
        Kind::Cursor => {
            (1..=256).contains(&value.len())
                && value.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'='))
        }
        Kind::Order => matches!(value, "block_timestamp,asc" | "block_timestamp,desc"),
    }
}

/// The kind of a template parameter (`{address}`, `{txid}`).
fn param_kind(name: &str) -> Option<Kind> {
    match name {
        "address" => Some(Kind::Address),
        "txid" => Some(Kind::Hex64),
        _ => None,
    }
}

/// Whether `path` matches `template` exactly for `chain`: as many segments, literals equal,
/// parameters in their alphabets. `path` must start with `/`; an empty segment never matches.
pub(crate) fn matches(chain: Chain, template: &str, path: &str) -> bool {
    let (Some(t), Some(p)) = (template.strip_prefix('/'), path.strip_prefix('/')) else { return false };
    let (mut ts, mut ps) = (t.split('/'), p.split('/'));
    loop {
        match (ts.next(), ps.next()) {
            (None, None) => return true,
            (Some(tseg), Some(pseg)) => {
                let ok = match tseg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    Some(name) => param_kind(name).is_some_and(|k| fits(chain, k, pseg)),
                    None => tseg == pseg,
                };
                if !ok {
                    return false;
                }
            }
            _ => return false,
        }
    }
}

/// The route of `chain` that `method` and `path` match, if any.
pub(crate) fn find_route(chain: Chain, method: RestMethod, path: &str) -> Option<&'static Route> {
    rest_routes(chain).iter().find(|r| r.method == method && matches(chain, r.path, path))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TXID: &str = "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b";

    #[test]
    fn paths_match_their_templates_exactly() {
        let addr = "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu";
        assert!(find_route(Chain::Bitcoin, RestMethod::Get, &format!("/address/{addr}/utxo")).is_some());
        assert!(find_route(Chain::Bitcoin, RestMethod::Get, &format!("/tx/{TXID}/hex")).is_some());
        assert!(find_route(Chain::Bitcoin, RestMethod::Post, "/tx").is_some_and(|r| r.broadcast));
        let refused = [
            format!("/address/{addr}/utxo/"),
            format!("/address/{addr}//utxo"),
            format!("/address/{addr}/../../admin"),
            "/address/%2e%2e/utxo".to_owned(),
            format!("/address/{addr}/utxo?x=1"),
            format!("address/{addr}/utxo"),
            format!("/tx/{}/hex", &TXID[1..]),
            "/tx".to_owned(),
            "/mempool".to_owned(),
            String::new(),
        ];
        for p in refused {
            assert!(find_route(Chain::Bitcoin, RestMethod::Get, &p).is_none(), "{p}");
        }
        assert!(find_route(Chain::Bitcoin, RestMethod::Get, "/tx").is_none(), "POST only");
        assert!(find_route(Chain::Tron, RestMethod::Get, "/wallet/getaccount").is_none());
        assert!(find_route(Chain::Tron, RestMethod::Post, "/wallet/createtransaction").is_none());
        assert!(find_route(Chain::Ton, RestMethod::Get, "/getAddressInformation").is_some());
    }

    #[test]
    fn every_template_parameter_has_a_kind() {
        for chain in Chain::ALL {
            for r in rest_routes(chain) {
                for seg in r.path.split('/').filter_map(|s| s.strip_prefix('{')) {
                    assert!(param_kind(seg.trim_end_matches('}')).is_some(), "{}", r.path);
                }
            }
        }
    }
}
