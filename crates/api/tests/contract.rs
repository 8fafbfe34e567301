//! The contract is consistent with itself and with docs/api.md.
#![allow(clippy::panic, clippy::indexing_slicing, clippy::string_slice)]

use std::collections::HashSet;

use blindvault_api::broker::PollResult;
use blindvault_api::{ErrorBody, ErrorCode, Method, ROUTES, paths, routes};
use serde_json::json;

#[test]
fn codes_are_unique_snake_case_and_round_trip() {
    let mut seen = HashSet::new();
    for &code in ErrorCode::ALL {
        let s = code.as_str();
        assert!(seen.insert(s), "{s} twice");
        assert!(!s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'), "{s}");
        assert_eq!(serde_json::to_value(code).ok(), Some(serde_json::Value::from(s)));
        assert_eq!(serde_json::from_value::<ErrorCode>(s.into()).ok(), Some(code));
        assert_eq!(ErrorCode::from_wire(s), code);
        assert_eq!(code.to_string(), s);
        assert!(matches!(code.status(), 400..=599), "{s}: {}", code.status());
    }
    assert!(!ErrorCode::ALL.contains(&ErrorCode::Unknown));
}

#[test]
fn a_code_from_a_newer_server_reads_as_unknown() {
    let body: ErrorBody = serde_json::from_str(
        r#"{"error":{"code":"something_new","message":"m","action":"role.set","retry_after_secs":3}}"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(body.error.code, ErrorCode::Unknown);
    assert_eq!(ErrorCode::from_wire("something_new"), ErrorCode::Unknown);
    assert_eq!(body.error.retry_after_secs, Some(3));
    assert_eq!(body.error.extra.get("action").and_then(|v| v.as_str()), Some("role.set"));
}

#[test]
fn every_path_has_a_route_and_every_route_is_listed_once() {
    let mut seen = HashSet::new();
    for r in ROUTES {
        assert!(seen.insert((r.method, r.path)), "{} {} twice", r.method.upper(), r.path);
        assert!(paths::ALL.contains(&r.path), "{} is not a paths constant", r.path);
        assert!(r.path.starts_with("/api/"));
        assert!(routes::find(r.method, r.path).is_some_and(|f| f.summary == r.summary));
    }
    for p in paths::ALL {
        assert!(ROUTES.iter().any(|r| r.path == *p), "{p} has no route");
    }
    assert!(routes::find(Method::Get, "/api/nothing").is_none());
    assert_eq!(paths::with_id(paths::BROKER_REQUEST_RESULT, "abc"), "/api/broker/requests/abc/result");
}

/// docs/api.md's two tables are made from the contract; `BLINDVAULT_UPDATE_DOCS=1` rewrites them.
#[test]
fn docs_api_md_lists_every_route_and_code() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/api.md");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let want = replace_between(&text, ROUTES_BEGIN, ROUTES_END, &routes_table());
    let want = replace_between(&want, CODES_BEGIN, CODES_END, &codes_table());
    if std::env::var_os("BLINDVAULT_UPDATE_DOCS").is_some() {
        std::fs::write(&path, &want).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        return;
    }
    assert!(
        text == want,
        "docs/api.md is out of date with crates/api: run BLINDVAULT_UPDATE_DOCS=1 cargo test -p blindvault-api"
    );
}

const ROUTES_BEGIN: &str = "<!-- routes: made from crates/api -->\n";
const ROUTES_END: &str = "<!-- end routes -->\n";
const CODES_BEGIN: &str = "<!-- error codes: made from crates/api -->\n";
const CODES_END: &str = "<!-- end error codes -->\n";

fn routes_table() -> String {
    let mut t = String::from("| method | path | who | what |\n|---|---|---|---|\n");
    for r in ROUTES {
        t += &format!("| {} | `{}` | {} | {} |\n", r.method.upper(), r.path, r.access.as_str(), r.summary);
    }
    t
}

fn codes_table() -> String {
    let mut t = String::from("| code | status |\n|---|---|\n");
    for c in ErrorCode::ALL {
        t += &format!("| `{}` | {} |\n", c.as_str(), c.status());
    }
    t
}

fn replace_between(text: &str, begin: &str, end: &str, body: &str) -> String {
    let (Some(a), Some(b)) = (text.find(begin), text.find(end)) else {
        panic!("docs/api.md lacks the markers {begin:?} … {end:?}");
    };
    format!("{}{begin}{body}{}", &text[..a], &text[b..])
}

/// The poll's wire form: a `status` member names the variant (as the server has always sent it).
#[test]
fn the_poll_result_is_tagged_by_status() {
    let cases = [
        (PollResult::Denied { by: None }, json!({"status": "denied", "by": null})),
        (PollResult::Denied { by: Some("bob".into()) }, json!({"status": "denied", "by": "bob"})),
        (PollResult::Expired, json!({"status": "expired"})),
        (PollResult::Cancelled, json!({"status": "cancelled"})),
        (
            PollResult::Pending { approvals: 1, threshold: 2, approvers: vec!["alice".into()] },
            json!({"status": "pending", "approvals": 1, "threshold": 2, "approvers": ["alice"]}),
        ),
        (
            PollResult::Delivered {
                responses: vec![],
                enrolments: vec![],
                sealed_entry: None,
                revocations: None,
            },
            json!({"status": "delivered", "responses": [], "enrolments": [], "sealed_entry": null, "revocations": null}),
        ),
    ];
    for (value, wire) in cases {
        assert_eq!(serde_json::to_value(&value).unwrap_or_default(), wire);
        let back: PollResult = serde_json::from_value(wire.clone()).unwrap_or_else(|e| panic!("{wire}: {e}"));
        assert_eq!(serde_json::to_value(&back).unwrap_or_default(), wire);
    }
    assert!(serde_json::from_value::<PollResult>(json!({"status": "approved"})).is_err());
}

/// The web app's list of the API's error codes (`web/js/api-codes.js`) is made from
/// [`ErrorCode::ALL`]; `BLINDVAULT_UPDATE_DOCS=1` rewrites it.
#[test]
fn web_api_codes_js_lists_every_code() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web/js/api-codes.js");
    let mut want = String::from(
        "// The HTTP API's error codes (`blindvault_api::ErrorCode`, crates/api/src/error.rs), made from\n\
         // the Rust enum: the test `web_api_codes_js_lists_every_code` (crates/api/tests/contract.rs)\n\
         // fails when they differ, and `BLINDVAULT_UPDATE_DOCS=1 cargo test -p blindvault-api`\n\
         // rewrites this file. Pages compare an error's `code` with these, never with a literal.\n\
         export const API = Object.freeze({\n",
    );
    for c in ErrorCode::ALL {
        want += &format!("  {}: '{}',\n", c.as_str().to_ascii_uppercase(), c.as_str());
    }
    want += "});\n";
    if std::env::var_os("BLINDVAULT_UPDATE_DOCS").is_some() {
        std::fs::write(&path, &want).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        return;
    }
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        text == want,
        "web/js/api-codes.js is out of date with crates/api: run BLINDVAULT_UPDATE_DOCS=1 cargo test -p blindvault-api"
    );
}

#[test]
fn a_concrete_path_finds_its_route() {
    let find = |m, p| routes::route_for(m, p).map(|r| r.path);
    assert_eq!(find(Method::Get, "/api/broker/requests/abc/result"), Some(paths::BROKER_REQUEST_RESULT));
    assert_eq!(
        find(Method::Get, "/api/broker/requests/abc/result?wait=1"),
        Some(paths::BROKER_REQUEST_RESULT)
    );
    // A path without parameters wins over a template that also matches it.
    assert_eq!(find(Method::Get, "/api/broker/enrolments/mine"), Some(paths::BROKER_ENROLMENTS_MINE));
    assert_eq!(find(Method::Delete, "/api/broker/enrolments/e1"), Some(paths::BROKER_ENROLMENT));
    // An empty segment, an extra segment or another method matches nothing.
    assert_eq!(find(Method::Get, "/api/broker/requests//result"), None);
    assert_eq!(find(Method::Get, "/api/broker/requests/a/result/more"), None);
    assert_eq!(find(Method::Patch, "/api/broker/org"), None);
}

#[test]
fn a_body_matches_its_type_exactly() {
    let org = blindvault_api::json::<blindvault_api::broker::OrgView>();
    let good = json!({"org_public_key": null, "fingerprint": null, "generation": 0});
    assert_eq!((org.check)(&good), Ok(()));
    // A member the type does not have, a missing one, or one of another shape is refused.
    let mut extra = good.clone();
    extra["private_key"] = json!("x");
    assert!((org.check)(&extra).is_err());
    assert!((org.check)(&json!({"generation": 0, "fingerprint": null})).is_err());
    assert!((org.check)(&json!({"org_public_key": null, "fingerprint": null, "generation": "0"})).is_err());
    // An error body with a code the contract does not list is refused.
    let error = blindvault_api::json::<ErrorBody>();
    assert_eq!((error.check)(&json!({"error": {"code": "not_found", "message": "m"}})), Ok(()));
    assert!((error.check)(&json!({"error": {"code": "made_up", "message": "m"}})).is_err());
}

/// The OpenAPI document describes every route's bodies with schemas made from the contract's
/// types, every reference in it resolves, and docs/openapi.json is the document
/// (`BLINDVAULT_UPDATE_DOCS=1` rewrites it).
#[test]
fn openapi_has_a_schema_for_every_body_and_docs_openapi_json_is_current() {
    let cookie = blindvault_core::cookie::session_cookie_name("https://vault.example");
    let doc = blindvault_api::openapi::document(cookie);
    let schemas = doc["components"]["schemas"].as_object().cloned().unwrap_or_default();
    for name in ["ErrorBody", "ErrorCode", "PollResult", "EnrolmentView", "CreateRequest", "StepUpView"] {
        assert!(schemas.contains_key(name), "no schema {name}");
    }
    let codes = schemas["ErrorCode"]["enum"].as_array().map(Vec::len);
    assert_eq!(codes, Some(ErrorCode::ALL.len()));
    for r in ROUTES {
        let op = &doc["paths"][r.path][r.method.lower()];
        let ok = &op["responses"]["200"]["content"];
        assert!(
            ok.as_object().is_some_and(|c| c.len() == 1),
            "{} {}: no reply schema",
            r.method.upper(),
            r.path
        );
        assert_eq!(op["requestBody"].is_null(), r.request.is_none(), "{} {}", r.method.upper(), r.path);
    }
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    assert!(refs.len() > 20, "{} references", refs.len());
    for r in refs {
        let name = r.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("{r}"));
        assert!(schemas.contains_key(name), "{r} does not resolve");
    }
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json");
    // Compared as JSON values, written with sorted keys: a workspace build turns on serde_json's
    // `preserve_order` (through other crates), which changes the order but not the document.
    if std::env::var_os("BLINDVAULT_UPDATE_DOCS").is_some() {
        let text = serde_json::to_string_pretty(&sorted(&doc)).unwrap_or_default() + "\n";
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
    }
    let stored: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_default()).unwrap_or_default();
    assert!(
        stored == doc,
        "docs/openapi.json is out of date with crates/api: run BLINDVAULT_UPDATE_DOCS=1 cargo test -p blindvault-api"
    );
}

/// `v` with every object's keys in sorted order (whatever the map type keeps).
fn sorted(v: &serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            serde_json::Value::Object(keys.into_iter().map(|k| (k.clone(), sorted(&map[k]))).collect())
        }
        serde_json::Value::Array(items) => serde_json::Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

fn collect_refs(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v.as_str()) {
                    ("$ref", Some(r)) => out.push(r.to_owned()),
                    _ => collect_refs(v, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}
