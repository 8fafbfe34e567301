//! The wallet's server side (docs/wallet.md, "The gateway"): the admin's RPC endpoints and
//! default tokens, the public addresses people publish, and the RPC gateway through which the
//! wallet's pages reach the chains. The server never holds a wallet key and never signs.

pub(crate) mod addresses;
pub(crate) mod allow;
pub(crate) mod config;
pub(crate) mod endpoints;
pub(crate) mod gateway;
pub(crate) mod keyring;
pub(crate) mod store;
pub(crate) mod tokens;
pub(crate) mod upstream;
pub(crate) mod validate;
