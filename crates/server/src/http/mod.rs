//! The HTTP layer: the router, middleware and extractors, over the resource modules.

pub(crate) mod body_timeout;
pub(crate) mod extract;
pub(crate) mod middleware;
pub(crate) mod routes;
pub(crate) mod serve;
