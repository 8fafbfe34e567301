//! The OpenAPI 3.1 description of the HTTP API, served at `/api/openapi.json`, made from the
//! contract's route table (`blindvault_api::ROUTES`). A test checks that every route listed there
//! is routed, and that no other method is routed on its paths.

use serde_json::{Value, json};

/// The OpenAPI document; `cookie_name` is the session cookie of this deployment.
pub fn document(cookie_name: &str) -> Value {
    let mut paths = serde_json::Map::new();
    for route in blindvault_api::ROUTES {
        let (method, path, summary, auth) =
            (route.method.lower(), route.path, route.summary, route.access.as_str());
        let mut op = serde_json::Map::new();
        op.insert("summary".into(), json!(summary));
        op.insert(
            "responses".into(),
            json!({
                "200": { "description": "OK" },
                "default": { "description": "Error", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } }
            }),
        );
        if auth == "host" {
            op.insert("x-auth".into(), json!("host signature / poll token"));
        } else if auth != "none" {
            op.insert("security".into(), json!([{ "session": [] }]));
            op.insert("x-role".into(), json!(auth));
        }
        if path.contains("{id}") {
            op.insert(
                "parameters".into(),
                json!([{ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } }]),
            );
        }
        let entry = paths.entry(path.to_owned()).or_insert_with(|| json!({}));
        if let Some(ops) = entry.as_object_mut() {
            ops.insert(method.to_owned(), Value::Object(op));
        }
    }
    let codes: Vec<&str> = blindvault_api::ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    json!({
        "openapi": "3.1.0",
        "info": { "title": "blindvault server", "version": env!("CARGO_PKG_VERSION") },
        "paths": paths,
        "components": {
            "securitySchemes": { "session": { "type": "apiKey", "in": "cookie", "name": cookie_name } },
            "schemas": { "Error": {
                "type": "object",
                "properties": { "error": { "type": "object", "required": ["code", "message"],
                    "properties": { "code": { "type": "string", "enum": codes }, "message": { "type": "string" } } } }
            } }
        }
    })
}
