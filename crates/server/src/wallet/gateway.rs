//! `POST /api/wallet/rpc`: the RPC gateway. A signed-in person's call goes to the endpoint the
//! admin set for its chain and network only if the chain's allow-list has it
//! ([`super::allow`]); the gateway builds the outbound request itself (nothing of the caller's
//! request but the checked call is sent: no headers, no cookies), adds the endpoint's credential
//! there only, follows no redirect, and answers with the endpoint's status and body (never its
//! headers). Every broadcast is audited, whatever the endpoint answered.
//!
//! Order of checks: session (401), the person's rate (429), media type (415), size (413), body
//! (400), allow-list (403 / 400), endpoint (404), then the endpoint's answer (200, 502, 504).

use axum::Json;
use axum::body::Body as HttpBody;
use axum::extract::State;
use axum::http::HeaderMap;
use blindvault_api::ErrorCode;
use blindvault_api::wallet::{
    ApiKind, Chain, EndpointCredential, GatewayBody, GatewayCall, GatewayReply, GatewayRequest, endpoint_id,
};
use sha2::{Digest, Sha256};

use super::allow::{self, Body};
use super::store::endpoints::{self, Endpoint};
use super::upstream::{Outbound, Outcome};
use super::validate;
use crate::audit::Event;
use crate::audit::record::log_event;
use crate::auth::session::Session;
use crate::error::{ApiError, rate_limited};
use crate::state::AppState;

/// A checked call: what to send, before the endpoint is known.
#[derive(Debug)]
struct Plan {
    method: reqwest::Method,
    /// The REST path (empty for JSON-RPC).
    path: String,
    query: Vec<(String, String)>,
    body: Option<(Vec<u8>, &'static str)>,
    /// The JSON-RPC method or the REST route's template (for the audit row).
    name: &'static str,
    broadcast: bool,
}

fn not_allowed(chain: Chain, what: &str) -> ApiError {
    ApiError::forbidden(
        ErrorCode::GatewayMethodNotAllowed,
        format!("the gateway does not forward {what} for {chain} (docs/wallet.md lists what it does)"),
    )
}

fn invalid(why: impl Into<String>) -> ApiError {
    ApiError::bad_request(ErrorCode::GatewayInvalidCall, why)
}

/// Checks `call` against `chain`'s allow-list and builds what to send.
fn plan(chain: Chain, call: &GatewayCall) -> Result<Plan, ApiError> {
    match (chain.api(), call) {
        (ApiKind::JsonRpc, GatewayCall::JsonRpc { method, params }) => {
            let (name, broadcast) = allow::rpc_methods(chain)
                .iter()
                .find(|(m, _)| m == method)
                .copied()
                .ok_or_else(|| not_allowed(chain, "this method"))?;
            if !params.is_array() {
                return Err(invalid("JSON-RPC params are an array"));
            }
            let body = serde_json::json!({ "jsonrpc": "2.0", "id": 1, "method": name, "params": params });
            let bytes = serde_json::to_vec(&body).map_err(ApiError::internal)?;
            Ok(Plan {
                method: reqwest::Method::POST,
                path: String::new(),
                query: Vec::new(),
                body: Some((bytes, "application/json")),
                name,
                broadcast,
            })
        }
        (ApiKind::Rest, GatewayCall::Rest { method, path, query, body }) => {
            if path.len() > 512 {
                return Err(not_allowed(chain, "this path"));
            }
            let route =
                allow::find_route(chain, *method, path).ok_or_else(|| not_allowed(chain, "this route"))?;
            let mut pairs = Vec::with_capacity(query.len());
            for (k, v) in query {
                let kind = route.query.iter().find(|(name, _)| name == k).map(|(_, kind)| *kind);
                match kind {
                    Some(kind) if allow::fits(chain, kind, v) => pairs.push((k.clone(), v.clone())),
                    Some(_) => return Err(invalid(format!("query parameter {k}: malformed"))),
                    None => return Err(invalid(format!("query parameter {k}: not taken by this route"))),
                }
            }
            let body = match (route.body, body) {
                (Body::None, None | Some(serde_json::Value::Null)) => None,
                (Body::None, Some(_)) => return Err(invalid("this route takes no body")),
                (Body::Json, Some(v @ serde_json::Value::Object(_))) => {
                    Some((serde_json::to_vec(v).map_err(ApiError::internal)?, "application/json"))
                }
                (Body::Json, _) => return Err(invalid("this route takes a JSON object")),
                (Body::HexText, Some(serde_json::Value::String(s)))
                    if !s.is_empty() && s.len() % 2 == 0 && s.bytes().all(|b| b.is_ascii_hexdigit()) =>
                {
                    Some((s.as_bytes().to_vec(), "text/plain"))
                }
                (Body::HexText, _) => {
                    return Err(invalid("this route takes the transaction as a hex string"));
                }
            };
            let method = match method {
                blindvault_api::wallet::RestMethod::Get => reqwest::Method::GET,
                blindvault_api::wallet::RestMethod::Post => reqwest::Method::POST,
            };
            Ok(Plan {
                method,
                path: path.clone(),
                query: pairs,
                body,
                name: route.path,
                broadcast: route.broadcast,
            })
        }
        _ => Err(invalid(format!(
            "{chain} is called with kind {}",
            match chain.api() {
                ApiKind::JsonRpc => "json_rpc",
                ApiKind::Rest => "rest",
            }
        ))),
    }
}

/// The outbound URL: the endpoint's, then the credential's path segment, then the call's path;
/// the call's query and the credential's query parameter.
fn outbound(endpoint: &Endpoint, plan: Plan) -> Result<Outbound, ApiError> {
    let mut url = url::Url::parse(&endpoint.url).map_err(ApiError::internal)?;
    let (scheme, host, port) = (url.scheme().to_owned(), url.host_str().map(str::to_owned), url.port());
    let mut path = url.path().trim_end_matches('/').to_owned();
    if let Some(EndpointCredential::PathSegment { value }) = &endpoint.credential {
        path.push('/');
        path.push_str(value.expose());
    }
    path.push_str(&plan.path);
    url.set_path(if path.is_empty() { "/" } else { &path });
    let cred_query = match &endpoint.credential {
        Some(EndpointCredential::Query { name, value }) => Some((name.as_str(), value.expose())),
        _ => None,
    };
    if !plan.query.is_empty() || cred_query.is_some() {
        let mut q = url.query_pairs_mut();
        for (k, v) in &plan.query {
            q.append_pair(k, v);
        }
        if let Some((k, v)) = cred_query {
            q.append_pair(k, v);
        }
    }
    // The checked call cannot move the request elsewhere; checked all the same.
    if url.scheme() != scheme || url.host_str().map(str::to_owned) != host || url.port() != port {
        return Err(ApiError::internal("gateway URL left its endpoint"));
    }
    Ok(Outbound { method: plan.method, url, body: plan.body })
}

/// The transaction id in a broadcast's answer, as the endpoint gave it: EVM's and Solana's
/// `result`, TRON's `txid`, TON's `result.hash`, Esplora's text; else TRON's `txID` in the
/// request.
fn txid_of(body: &GatewayBody, request: Option<&[u8]>) -> Option<String> {
    let plain = |s: &str| {
        let s = s.trim();
        let ok = (1..=128).contains(&s.len())
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_'));
        ok.then(|| s.to_owned())
    };
    let from = match body {
        GatewayBody::Json(v) => ["/result", "/txid", "/result/hash"]
            .iter()
            .find_map(|p| v.pointer(p).and_then(serde_json::Value::as_str))
            .and_then(plain),
        GatewayBody::Text(t) => plain(t),
    };
    from.or_else(|| {
        let v: serde_json::Value = serde_json::from_slice(request?).ok()?;
        v.pointer("/txID").and_then(serde_json::Value::as_str).and_then(plain)
    })
}

/// `POST /api/wallet/rpc`.
pub(crate) async fn rpc(
    State(state): State<AppState>,
    s: Session,
    headers: HeaderMap,
    body: HttpBody,
) -> Result<Json<GatewayReply>, ApiError> {
    let gw = state.gateway.clone();
    if let Err(wait) = gw.limiter.check(&s.user_id, state.clock.now_ms()) {
        return Err(rate_limited(wait, "too many gateway calls; wait a moment"));
    }
    let json = headers.get(axum::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| {
        v.split(';').next().is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
    });
    if !json {
        return Err(ApiError::new(
            axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedMediaType,
            "send application/json",
        ));
    }
    let limit = gw.config.max_request_bytes;
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|_| {
        ApiError::new(
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::GatewayBodyTooLarge,
            format!("a gateway call is at most {limit} bytes"),
        )
    })?;
    let req: GatewayRequest = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad_request(ErrorCode::InvalidRequest, format!("gateway call: {e}")))?;
    validate::network(&req.network)?;
    let plan = plan(req.chain, &req.call)?;
    let endpoint = endpoints::get_enabled(&state.store, req.chain, &req.network).await?.ok_or_else(|| {
        ApiError::not_found(
            ErrorCode::GatewayNoEndpoint,
            "no endpoint is set for this chain and network; ask your admin",
        )
    })?;
    let (name, broadcast) = (plan.name, plan.broadcast);
    let out = outbound(&endpoint, plan)?;
    let outcome = if broadcast {
        // The send and its audit row run on their own: a caller who goes away mid-broadcast
        // cannot leave it unrecorded.
        let request = out.body.as_ref().map(|(b, _)| b.clone()).unwrap_or_default();
        let (st, user, chain, network) = (state.clone(), s.user_id.clone(), req.chain, req.network.clone());
        let task = tokio::spawn(async move {
            let outcome = st.gateway.send(out, endpoint.credential.as_ref()).await?;
            let (status, txid) = match &outcome {
                Outcome::Answered(status, body) => (Some(*status), txid_of(body, Some(&request))),
                Outcome::Failed(status) => (*status, None),
                _ => (None, None),
            };
            let target = endpoint_id(chain, &network);
            let detail = serde_json::json!({
                "chain": chain, "network": network, "call": name, "outcome": outcome.word(),
                "upstream_status": status, "txid": txid, "request_sha256": hex::encode(Sha256::digest(&request)),
            });
            log_event(
                &st,
                Event { actor: Some(&user), action: "wallet.broadcast", target: Some(&target), detail },
            )
            .await?;
            Ok::<_, ApiError>(outcome)
        });
        task.await.map_err(ApiError::internal)??
    } else {
        gw.send(out, endpoint.credential.as_ref()).await?
    };
    if let Some(e) = outcome.error() {
        return Err(e);
    }
    match outcome {
        Outcome::Answered(status, body) => Ok(Json(GatewayReply { status, body })),
        _ => Err(ApiError::internal("gateway outcome without an answer")),
    }
}
