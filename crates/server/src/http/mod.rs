//! The HTTP layer: the router, middleware and extractors, over the resource modules.

pub(crate) mod extract;
pub(crate) mod middleware;
pub(crate) mod routes;
