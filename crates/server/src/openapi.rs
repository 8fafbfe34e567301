//! The OpenAPI document the server serves at `/api/openapi.json`: the contract crate makes it
//! from its route table and body types (`blindvault_api::openapi`).

pub use blindvault_api::openapi::document;
