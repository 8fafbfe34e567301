//! The server's integration tests: real passkey-rs ceremonies against a real server over HTTP,
//! every test on SQLite and on PostgreSQL (`BLINDVAULT_TEST_DATABASE_URL`, fresh database each).
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
extern crate blindvault_testkit;

#[path = "server/admin.rs"]
mod admin;
#[path = "server/audit.rs"]
mod audit;
#[path = "server/broker.rs"]
mod broker;
#[path = "server/ceremony.rs"]
mod ceremony;
#[path = "server/fallbacks.rs"]
mod fallbacks;
#[path = "server/floods.rs"]
mod floods;
#[path = "server/floods_net.rs"]
mod floods_net;
#[path = "server/gateway.rs"]
mod gateway;
#[path = "server/instances.rs"]
mod instances;
#[path = "server/invites.rs"]
mod invites;
#[path = "server/leases.rs"]
mod leases;
#[path = "server/logs.rs"]
mod logs;
#[path = "server/migrations.rs"]
mod migrations;
#[path = "server/negative.rs"]
mod negative;
#[path = "server/openapi.rs"]
mod openapi;
#[path = "server/ops.rs"]
mod ops;
#[path = "server/push.rs"]
mod push;
#[path = "server/sessions.rs"]
mod sessions;
#[path = "server/stepup.rs"]
mod stepup;
#[path = "server/tokens.rs"]
mod tokens;
#[path = "server/upgrade.rs"]
mod upgrade;
#[path = "server/wallet.rs"]
mod wallet;
#[path = "server/wallet_keyring.rs"]
mod wallet_keyring;
#[path = "server/web.rs"]
mod web;
#[path = "server/webauthn_strict.rs"]
mod webauthn_strict;
