//! One module per subcommand.
pub mod approver;
pub mod audit;
pub mod brokercommon;
pub mod host;
pub mod info;
pub mod inject;
pub mod invite;
pub mod org;
pub mod run;
pub mod secret;
pub mod serve;
pub mod wallet;
pub mod web;
