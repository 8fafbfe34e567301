//! The Prometheus registry: HTTP requests by route, method and status, their latency, requests
//! in flight by route (until their response starts: a consumer's long poll shows here, an
//! approver's event stream under `event_streams`), open event streams, and — read
//! from the database at scrape time — pending requests, the push queue and the audit head.
//!
//! Labels are bounded: `route` is the route's template (`/api/broker/requests/{id}`), never the
//! path a client sent; anything no route matched (the web app's files, unknown paths) is
//! `fallback`.

use std::fmt;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use super::store::Gauges;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct RequestLabels {
    pub(super) method: String,
    pub(super) route: String,
    pub(super) status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct RouteLabels {
    pub(super) route: String,
}

type Latency = Family<RouteLabels, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 1 ms to ~33 s, doubling: a long poll's full wait lands in the last buckets.
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

/// The server's metrics (one per process; each instance is scraped on its own).
pub(crate) struct Metrics {
    registry: Registry,
    pub(super) requests: Family<RequestLabels, Counter>,
    pub(super) latency: Latency,
    pub(super) in_flight: Family<RouteLabels, Gauge>,
    event_streams: Gauge,
    pending_requests: Gauge,
    push_queue: Gauge,
    audit_head_seq: Gauge,
}

impl fmt::Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A registry with every metric registered under the `blindvault` prefix.
    pub(crate) fn new() -> Self {
        let mut registry = Registry::with_prefix("blindvault");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency: Latency = Family::new_with_constructor(latency_histogram);
        let in_flight = Family::<RouteLabels, Gauge>::default();
        let event_streams = Gauge::default();
        let pending_requests = Gauge::default();
        let push_queue = Gauge::default();
        let audit_head_seq = Gauge::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by route",
            latency.clone(),
        );
        registry.register(
            "http_requests_in_flight",
            "HTTP requests whose response has not started (long polls included), by route",
            in_flight.clone(),
        );
        registry.register(
            "event_streams",
            "Approvers' event streams open on this instance",
            event_streams.clone(),
        );
        registry.register(
            "pending_requests",
            "Requests waiting for approvers (all instances)",
            pending_requests.clone(),
        );
        registry.register("push_queue", "Pushes queued for sending (all instances)", push_queue.clone());
        registry.register("audit_head_seq", "The audit log's last sequence number", audit_head_seq.clone());
        Self {
            registry,
            requests,
            latency,
            in_flight,
            event_streams,
            pending_requests,
            push_queue,
            audit_head_seq,
        }
    }

    /// Sets the gauges read from the database.
    pub(super) fn set_gauges(&self, g: &Gauges) {
        self.pending_requests.set(g.pending_requests);
        self.push_queue.set(g.push_queue);
        self.audit_head_seq.set(g.audit_head_seq);
    }

    /// The text exposition.
    pub(super) fn encode(&self) -> Result<String, fmt::Error> {
        let mut out = String::new();
        encode(&mut out, &self.registry)?;
        Ok(out)
    }

    /// Counts an event stream as open until the guard is dropped (the stream ended).
    pub(crate) fn stream_opened(&self) -> OpenStream {
        self.event_streams.inc();
        OpenStream(self.event_streams.clone())
    }
}

/// A gauge counted up while this lives (see [`Metrics::stream_opened`]).
#[derive(Debug)]
pub(crate) struct OpenStream(pub(super) Gauge);

impl Drop for OpenStream {
    fn drop(&mut self) {
        self.0.dec();
    }
}
