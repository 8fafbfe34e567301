//! The OpenAPI 3.1 description of the HTTP API, served at `/api/openapi.json`. A test checks
//! that every route listed here is routed and every routed path is listed.

use serde_json::{Value, json};

/// Every route: method, path, summary, whether a session is needed ("none", "session", "admin").
pub const ROUTES: &[(&str, &str, &str, &str)] = &[
    ("get", "/api/health", "Liveness", "none"),
    ("get", "/api/openapi.json", "This document", "none"),
    ("post", "/api/register/start", "Start registering a new account (creation options with PRF)", "none"),
    ("post", "/api/register/finish", "Finish registration; sets the session cookie", "none"),
    ("post", "/api/login/start", "Start a usernameless login (request options with PRF)", "none"),
    ("post", "/api/login/finish", "Finish login; sets or extends the session cookie", "none"),
    ("get", "/api/me", "The signed-in user and session", "session"),
    ("post", "/api/logout", "End this session", "session"),
    ("post", "/api/logout/all", "Sign out everywhere", "session"),
    ("get", "/api/sessions", "My live sessions", "session"),
    ("post", "/api/setup/claim", "Claim the first admin with the one-time setup code", "session"),
    ("get", "/api/passkeys", "My passkeys", "session"),
    ("post", "/api/passkeys/register/start", "Start adding another passkey", "session"),
    ("post", "/api/passkeys/register/finish", "Finish adding another passkey", "session"),
    ("patch", "/api/passkeys/{id}", "Rename a passkey", "session"),
    (
        "delete",
        "/api/passkeys/{id}",
        "Remove a passkey (never the last one; step-up passkey.delete)",
        "session",
    ),
    (
        "post",
        "/api/step-up/start",
        "Start a step-up bound to an action and its target (header x-blindvault-step-up)",
        "session",
    ),
    ("get", "/api/step-up/{id}", "A step-up's action, target and status (options while pending)", "session"),
    ("post", "/api/step-up/{id}/confirm", "Confirm a step-up with a fresh passkey assertion", "session"),
    ("post", "/api/step-up/{id}/cancel", "Cancel an unused step-up", "session"),
    ("get", "/api/admin/users", "List users", "admin"),
    (
        "delete",
        "/api/admin/users/{id}",
        "Delete a user with their passkeys and sessions (step-up user.delete)",
        "admin",
    ),
    ("put", "/api/admin/users/{id}/role", "Set a user's role (step-up role.set)", "admin"),
    ("get", "/api/admin/users/{id}/sessions", "A user's live sessions", "admin"),
    ("post", "/api/admin/users/{id}/revoke-sessions", "Revoke every session of a user", "admin"),
    ("delete", "/api/admin/sessions/{id}", "Revoke one session", "admin"),
    ("get", "/api/admin/audit", "Read the audit log", "admin"),
    ("get", "/api/admin/invites", "Invite codes (never the codes themselves) and who used them", "admin"),
    (
        "post",
        "/api/admin/invites",
        "Make a single-use invite code (role, expiry; an admin invite needs step-up invite.create)",
        "admin",
    ),
    ("delete", "/api/admin/invites/{id}", "Revoke an unused invite code", "admin"),
    ("get", "/api/admin/audit/verify", "Verify the audit hash chain", "admin"),
    (
        "get",
        "/api/broker/org",
        "The org public key and its fingerprint (devices compare, never trust)",
        "session",
    ),
    (
        "put",
        "/api/broker/org",
        "Set the org public key (replacing it needs replace=true and step-up org.replace)",
        "admin",
    ),
    ("get", "/api/broker/org/settings", "The org's settings (refuse_synced_approvers)", "admin"),
    ("put", "/api/broker/org/settings", "Change the org's settings", "admin"),
    ("get", "/api/broker/enrolments", "Approver enrolments (filter with ?status=)", "admin"),
    ("post", "/api/broker/enrolments", "Ask to enrol this passkey's PRF-derived approver key", "session"),
    ("get", "/api/broker/enrolments/mine", "My enrolments", "session"),
    ("post", "/api/broker/enrolments/{id}/approve", "Store the org-signed enrolment", "admin"),
    (
        "delete",
        "/api/broker/enrolments/{id}",
        "Remove an approver (?dry_run=true reports quorum impact; else step-up approver.remove)",
        "admin",
    ),
    ("get", "/api/broker/approvers", "Approved, org-signed enrolments (for writers to verify)", "admin"),
    (
        "get",
        "/api/broker/revocations",
        "The org-signed revocation record (newest), for devices to verify",
        "session",
    ),
    (
        "put",
        "/api/broker/revocations",
        "Store a newer org-signed revocation record (409 revocation_rollback if not newer, 409 revocation_diverged if it does not contain the stored one)",
        "admin",
    ),
    ("get", "/api/broker/hosts", "Host certificates", "admin"),
    ("post", "/api/broker/hosts", "Register an org-signed host certificate", "admin"),
    (
        "post",
        "/api/broker/hosts/{id}/revoke",
        "Revoke a host certificate; its open requests end (step-up host.revoke)",
        "admin",
    ),
    ("get", "/api/broker/entries", "Latest sealed version of every entry", "admin"),
    ("post", "/api/broker/entries", "Store a sealed entry (version 1) or a new version", "admin"),
    ("get", "/api/broker/entries/{id}", "Latest sealed version of one entry", "admin"),
    (
        "delete",
        "/api/broker/entries/{id}",
        "Delete an entry and all its ciphertext (step-up entry.delete)",
        "admin",
    ),
    ("get", "/api/broker/inbox", "Pending requests waiting for my decision", "approver"),
    ("get", "/api/broker/events", "Server-sent events about requests I can act on", "approver"),
    ("post", "/api/broker/requests", "A consumer's host-signed request (no cookie)", "host"),
    ("get", "/api/broker/requests/{id}", "A request with its certificate and sealed entry", "approver"),
    ("post", "/api/broker/requests/{id}/approve/start", "Start the approval ceremony (PRF)", "approver"),
    (
        "post",
        "/api/broker/requests/{id}/approve/finish",
        "Finish: assertion and the sealed response",
        "approver",
    ),
    ("post", "/api/broker/requests/{id}/deny", "Deny a request", "approver"),
    (
        "get",
        "/api/broker/requests/{id}/result",
        "The consumer's long poll (x-blindvault-poll header)",
        "host",
    ),
    (
        "post",
        "/api/broker/requests/{id}/cancel",
        "The consumer withdraws its open request (x-blindvault-poll header)",
        "host",
    ),
];

/// The OpenAPI document; `cookie_name` is the session cookie of this deployment.
pub fn document(cookie_name: &str) -> Value {
    let mut paths = serde_json::Map::new();
    for (method, path, summary, auth) in ROUTES {
        let mut op = serde_json::Map::new();
        op.insert("summary".into(), json!(summary));
        op.insert(
            "responses".into(),
            json!({
                "200": { "description": "OK" },
                "default": { "description": "Error", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } }
            }),
        );
        if *auth == "host" {
            op.insert("x-auth".into(), json!("host signature / poll token"));
        } else if *auth != "none" {
            op.insert("security".into(), json!([{ "session": [] }]));
            op.insert("x-role".into(), json!(auth));
        }
        if path.contains("{id}") {
            op.insert(
                "parameters".into(),
                json!([{ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } }]),
            );
        }
        let entry = paths.entry((*path).to_owned()).or_insert_with(|| json!({}));
        if let Some(ops) = entry.as_object_mut() {
            ops.insert((*method).to_owned(), Value::Object(op));
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": { "title": "blindvault server", "version": env!("CARGO_PKG_VERSION") },
        "paths": paths,
        "components": {
            "securitySchemes": { "session": { "type": "apiKey", "in": "cookie", "name": cookie_name } },
            "schemas": { "Error": {
                "type": "object",
                "properties": { "error": { "type": "object", "required": ["code", "message"],
                    "properties": { "code": { "type": "string" }, "message": { "type": "string" } } } }
            } }
        }
    })
}
