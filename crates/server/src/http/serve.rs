//! Serving connections. HTTP/1.1 through hyper's connection builder rather than `axum::serve`,
//! which has no header read timeout: a client that opens connections and sends their headers a
//! byte at a time (slow-loris) is cut off after `header_read_timeout_secs`, the same timeout
//! closing a kept-alive connection that sends nothing more. Each request carries its peer
//! address as axum's `ConnectInfo<SocketAddr>`. On shutdown no new connection is accepted and
//! each open one finishes its request in flight, then closes.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::pin;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::serve::Listener;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt;

/// Serves `router` on `listener` until `shutdown` resolves, then until every connection has
/// finished. The caller bounds that wait: dropping this future ends every connection still
/// open.
pub(crate) async fn run(
    mut listener: TcpListener,
    router: Router,
    header_read_timeout: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    // Dropping `stop_rx` tells every connection task to finish.
    let (stop_tx, stop_rx) = watch::channel(());
    tokio::spawn(async move {
        shutdown.await;
        drop(stop_rx);
    });
    // The connection tasks, aborted together if this future is dropped.
    let mut conns = tokio::task::JoinSet::new();
    loop {
        while conns.try_join_next().is_some() {}
        // Accept errors (a full file table) are logged and retried after a pause by axum's
        // listener.
        let (io, peer) = tokio::select! {
            conn = Listener::accept(&mut listener) => conn,
            () = stop_tx.closed() => break,
        };
        let service = router.clone().map_request(move |mut req: axum::http::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
            req
        });
        let service = TowerToHyperService::new(service);
        let stop_tx = stop_tx.clone();
        conns.spawn(async move {
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder.timer(TokioTimer::new()).header_read_timeout(header_read_timeout);
            let mut conn = pin!(builder.serve_connection(TokioIo::new(io), service));
            let mut stopping = pin!(stop_tx.closed());
            let mut asked = false;
            loop {
                tokio::select! {
                    r = conn.as_mut() => {
                        if let Err(e) = r {
                            tracing::debug!(error = %e, "connection ended with an error");
                        }
                        break;
                    }
                    () = &mut stopping, if !asked => {
                        asked = true;
                        conn.as_mut().graceful_shutdown();
                    }
                }
            }
        });
    }
    drop(listener);
    while conns.join_next().await.is_some() {}
}
