//! The request body timeout: a body that has not fully arrived `body_read_timeout_secs` after
//! its headers is cut off and the request answered 408 `request_timeout` (a client trickling a
//! body a byte at a time holds a connection and a task for nothing). Only the reading of a body
//! is timed: a request without one (an event stream, a long poll) is never wrapped, and an
//! answer takes as long as it takes. The time is the network's, not the server's injected clock.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use blindvault_api::ErrorCode;
use http_body::{Frame, SizeHint};

use crate::error::ApiError;
use crate::state::AppState;

/// Wraps the body of `req` in the deadline; answers 408 when it passed while the handler read.
pub(crate) async fn body_timeout(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if req.body().is_end_stream() {
        return next.run(req).await;
    }
    let secs = state.config.body_read_timeout_secs;
    let expired = Arc::new(AtomicBool::new(false));
    let flag = expired.clone();
    let req = req.map(move |inner| {
        Body::new(Deadline {
            inner,
            sleep: Box::pin(tokio::time::sleep(Duration::from_secs(secs))),
            expired: flag,
        })
    });
    let resp = next.run(req).await;
    if !expired.load(Ordering::Acquire) {
        return resp;
    }
    // Whatever the handler made of its failed read, the answer is the timeout; the rest of the
    // body is never read, so the connection closes.
    let mut resp = ApiError::new(
        StatusCode::REQUEST_TIMEOUT,
        ErrorCode::RequestTimeout,
        format!("the request's body did not arrive within {secs} s of its headers (body_read_timeout_secs)"),
    )
    .into_response();
    resp.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    resp
}

/// A body that fails once its deadline has passed before its end.
struct Deadline {
    inner: Body,
    sleep: Pin<Box<tokio::time::Sleep>>,
    expired: Arc<AtomicBool>,
}

impl HttpBody for Deadline {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame);
        }
        if self.sleep.as_mut().poll(cx).is_ready() {
            self.expired.store(true, Ordering::Release);
            let e = std::io::Error::new(std::io::ErrorKind::TimedOut, "request body timeout");
            return Poll::Ready(Some(Err(axum::Error::new(e))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
