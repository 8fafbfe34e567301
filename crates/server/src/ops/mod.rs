//! Operations: liveness (`/healthz`), readiness (`/readyz`) and Prometheus metrics (`/metrics`,
//! only with `[metrics] enabled = true`). None of them needs a session, and none says anything
//! about a person, an entry or a secret — counts and timings only.

pub mod config;
pub(crate) mod metrics;
mod store;

use std::time::Instant;

use axum::Json;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::state::AppState;

/// `GET /healthz`: the process serves HTTP. Touches nothing else, so a load balancer's liveness
/// check never restarts an instance because the database is slow.
pub(crate) async fn healthz() -> &'static str {
    "ok\n"
}

/// `/readyz`'s answer.
#[derive(Debug, Serialize)]
pub(crate) struct Readiness {
    /// `ready`, or `not_ready`.
    status: &'static str,
    /// `ok`, or why the database cannot be used.
    database: String,
    /// The highest migration applied (absent when the database cannot be read).
    #[serde(skip_serializing_if = "Option::is_none")]
    schema_version: Option<i64>,
    /// The highest migration this build knows.
    schema_expected: i64,
}

/// `GET /readyz`: 200 when the database answers and its schema is this build's (every
/// migration applied); otherwise 503 saying which. A load balancer sends traffic only to a
/// ready instance.
pub(crate) async fn readyz(State(state): State<AppState>) -> Response {
    let (status, body) = match state.store.schema_versions().await {
        Ok((applied, known)) if applied >= known => (
            StatusCode::OK,
            Readiness {
                status: "ready",
                database: "ok".into(),
                schema_version: Some(applied),
                schema_expected: known,
            },
        ),
        Ok((applied, known)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Readiness {
                status: "not_ready",
                database: format!(
                    "schema at migration {applied}, this build needs {known}: restart to migrate"
                ),
                schema_version: Some(applied),
                schema_expected: known,
            },
        ),
        Err(e) => {
            // The detail goes to the log; the answer only says the database cannot be used.
            tracing::warn!(error = %e, "readiness: the database cannot be read");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Readiness {
                    status: "not_ready",
                    database: "unreachable".into(),
                    schema_version: None,
                    schema_expected: crate::store::known_schema_version(),
                },
            )
        }
    };
    (status, Json(body)).into_response()
}

/// `GET /metrics`: the Prometheus text exposition (only routed when `[metrics] enabled`).
pub(crate) async fn metrics(State(state): State<AppState>) -> Response {
    match store::gauges(&state.store, state.clock.now()).await {
        Ok(g) => state.metrics.set_gauges(&g),
        Err(e) => tracing::warn!(error = %e, "metrics: the database's gauges cannot be read"),
    }
    match state.metrics.encode() {
        Ok(text) => {
            ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], text)
                .into_response()
        }
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// The `method` label: HTTP's own methods, anything else `other` (a client may send any token
/// as a method; each would otherwise be a new series, held forever).
fn method_label(m: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *m {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Middleware: counts and times every request by its route's template (only installed when
/// `[metrics] enabled`).
pub(crate) async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().map_or("fallback", MatchedPath::as_str).to_owned();
    let method = method_label(req.method()).to_owned();
    let m = &state.metrics;
    let labels = metrics::RouteLabels { route };
    // A guard, so a request whose client went away (its future dropped) leaves the count too.
    let gauge = m.in_flight.get_or_create(&labels).clone();
    gauge.inc();
    let _in_flight = metrics::OpenStream(gauge);
    let started = Instant::now();
    let resp = next.run(req).await;
    m.latency.get_or_create(&labels).observe(started.elapsed().as_secs_f64());
    m.requests
        .get_or_create(&metrics::RequestLabels {
            method,
            route: labels.route,
            status: resp.status().as_u16(),
        })
        .inc();
    resp
}
