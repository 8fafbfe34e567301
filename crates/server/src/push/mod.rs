//! Web Push to approvers' devices (RFC 8030, RFC 8291, RFC 8292; docs/server.md "Web Push").
//!
//! * `vapid` — the server's P-256 key (made at first start, kept in `settings`) and the ES256
//!   JWT each push carries.
//! * `encrypt` — the `aes128gcm` message encryption of RFC 8291, from RustCrypto's parts.
//! * `service` — the key, the HTTP client and the worker's wake-up, shared by every handler.
//! * `resolve` — the client's name resolution: public addresses only.
//! * `store` — subscriptions and the outbox (SQL for both engines).
//! * `handlers` — the key route and opt-in / opt-out.
//! * `worker` — sends the outbox off the request path: leases, retries with backoff until the
//!   request's expiry, 404/410 remove the subscription.

pub mod config;
pub(crate) mod encrypt;
pub(crate) mod handlers;
pub(crate) mod resolve;
pub mod service;
pub(crate) mod store;
pub mod vapid;
pub mod worker;
