//! The OpenAPI 3.1 description of the HTTP API (the server serves it at `/api/openapi.json`;
//! `docs/openapi.json` is a copy a test keeps equal), made from the
//! contract: its route table (`blindvault_api::ROUTES`) gives the operations, and each route's
//! declared request and reply types give the bodies' JSON Schemas (derived from the types
//! themselves, so the document cannot drift from what the server sends). A test checks that
//! every route listed there is routed, and that no other method is routed on its paths.

use crate::{ErrorBody, Reply};
use schemars::generate::SchemaSettings;
use serde_json::{Value, json};

/// The OpenAPI document; `cookie_name` is the session cookie of the deployment (it depends on
/// the origin: `blindvault_core::cookie::session_cookie_name`).
pub fn document(cookie_name: &str) -> Value {
    let mut generator = SchemaSettings::draft2020_12()
        .with(|s| s.definitions_path = "#/components/schemas/".into())
        .for_serialize()
        .into_generator();
    let error = generator.subschema_for::<ErrorBody>();
    let mut paths = serde_json::Map::new();
    for route in crate::ROUTES {
        let mut op = serde_json::Map::new();
        op.insert("summary".into(), json!(route.summary));
        let ok = match route.reply {
            Reply::Json(body) => {
                json!({ "description": "OK", "content": { "application/json": { "schema": (body.schema)(&mut generator) } } })
            }
            Reply::EventStream => {
                json!({ "description": "Server-sent events", "content": { "text/event-stream": { "schema": { "type": "string" } } } })
            }
        };
        op.insert(
            "responses".into(),
            json!({ "200": ok, "default": { "description": "Error", "content": { "application/json": { "schema": error } } } }),
        );
        if let Some(body) = route.request {
            op.insert(
                "requestBody".into(),
                json!({ "required": true, "content": { "application/json": { "schema": (body.schema)(&mut generator) } } }),
            );
        }
        match route.access.as_str() {
            "none" => {}
            "host" => {
                op.insert("x-auth".into(), json!("host signature / poll token"));
            }
            // A browser session only, a command-line token only, or either (a token within its
            // scope: docs/server.md "Command-line tokens").
            role @ ("browser" | "browser-admin") => {
                op.insert("security".into(), json!([{ "session": [] }]));
                op.insert("x-role".into(), json!(role));
            }
            role @ "token" => {
                op.insert("security".into(), json!([{ "token": [] }]));
                op.insert("x-role".into(), json!(role));
            }
            role => {
                op.insert("security".into(), json!([{ "session": [] }, { "token": [] }]));
                op.insert("x-role".into(), json!(role));
            }
        }
        if route.path.contains("{id}") {
            op.insert(
                "parameters".into(),
                json!([{ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } }]),
            );
        }
        let entry = paths.entry(route.path.to_owned()).or_insert_with(|| json!({}));
        if let Some(ops) = entry.as_object_mut() {
            ops.insert(route.method.lower().to_owned(), Value::Object(op));
        }
    }
    let schemas = generator.take_definitions(true);
    json!({
        "openapi": "3.1.0",
        "info": { "title": "blindvault server", "version": env!("CARGO_PKG_VERSION") },
        "paths": paths,
        "components": {
            "securitySchemes": {
                "session": { "type": "apiKey", "in": "cookie", "name": cookie_name },
                "token": { "type": "http", "scheme": "bearer", "description": "A command-line token (bvt_…), made in the web app" }
            },
            "schemas": schemas
        }
    })
}
