//! The HTTP layer: the router, middleware and extractors, over the resource modules.

pub mod extract;
pub mod middleware;
pub mod routes;
