//! Every route of the API and the layers over them. Handlers live in the resource modules; this
//! file only says which path goes where.

use axum::Json;
use axum::extract::State;
use axum::routing::{delete, get, patch, post, put};
use axum::{Router, middleware as mw};

use super::middleware::{log_and_harden, origin_check, rate_limit};
use crate::accounts::{self, login, register};
use crate::admin;
use crate::broker::common::CONSUMER_REQUESTS_PATH;
use crate::broker::{approvals, consumer, enrolments, entries, events, hosts, org, requests, revocations};
use crate::invites;
use crate::passkeys;
use crate::state::AppState;
use crate::step_ups;

/// Builds the router.
pub(crate) fn router(state: AppState) -> Router {
    // The ceremony routes go through the per-address limit.
    let limited = Router::new()
        .route("/api/register/start", post(register::register_start))
        .route("/api/register/finish", post(register::register_finish))
        .route("/api/login/start", post(login::login_start))
        .route("/api/login/finish", post(login::login_finish))
        .route("/api/setup/claim", post(accounts::setup_claim))
        .route("/api/passkeys/register/start", post(passkeys::add_passkey_start))
        .route("/api/passkeys/register/finish", post(passkeys::add_passkey_finish))
        .route("/api/sessions/cli", post(accounts::cli_session))
        .route("/api/step-up/start", post(step_ups::start))
        .route("/api/step-up/{id}/confirm", post(step_ups::confirm))
        .route_layer(mw::from_fn_with_state(state.clone(), rate_limit));
    Router::new()
        .route("/api/health", get(health))
        .route("/api/openapi.json", get(openapi))
        .route("/api/me", get(accounts::me))
        .route("/api/logout", post(accounts::logout))
        .route("/api/logout/all", post(accounts::logout_all))
        .route("/api/sessions", get(accounts::my_sessions))
        .route("/api/passkeys", get(passkeys::list_passkeys))
        .route("/api/passkeys/{id}", patch(passkeys::rename_passkey).delete(passkeys::delete_passkey))
        .route("/api/step-up/{id}", get(step_ups::status))
        .route("/api/step-up/{id}/cancel", post(step_ups::cancel))
        .route("/api/admin/users", get(admin::admin_users))
        .route("/api/admin/users/{id}", delete(admin::admin_delete_user))
        .route("/api/admin/users/{id}/role", put(admin::admin_set_role))
        .route("/api/admin/users/{id}/sessions", get(admin::admin_user_sessions))
        .route("/api/admin/users/{id}/revoke-sessions", post(admin::admin_revoke_user_sessions))
        .route("/api/admin/sessions/{id}", delete(admin::admin_revoke_session))
        .route("/api/admin/audit", get(admin::admin_audit))
        .route("/api/admin/audit/verify", get(admin::admin_audit_verify))
        .route("/api/admin/settings", get(admin::admin_settings))
        .route("/api/admin/invites", get(invites::list).post(invites::create))
        .route("/api/admin/invites/{id}", delete(invites::revoke))
        .merge(broker())
        .merge(limited)
        .fallback(crate::web::serve)
        .layer(mw::from_fn_with_state(state.clone(), origin_check))
        .layer(mw::from_fn(log_and_harden))
        .layer(axum::extract::DefaultBodyLimit::max(64 * 1024))
        .with_state(state)
}

/// The broker's routes.
fn broker() -> Router<AppState> {
    Router::new()
        .route("/api/broker/org", get(org::get_org).put(org::put_org))
        .route("/api/broker/org/settings", get(org::get_org_settings).put(org::put_org_settings))
        .route("/api/broker/enrolments", get(enrolments::list_enrolments).post(enrolments::create_enrolment))
        .route("/api/broker/enrolments/mine", get(enrolments::my_enrolments))
        .route("/api/broker/enrolments/{id}/approve", post(enrolments::approve_enrolment))
        .route("/api/broker/enrolments/{id}", delete(enrolments::remove_enrolment))
        .route("/api/broker/approvers", get(enrolments::list_approvers))
        .route("/api/broker/revocations", get(revocations::get_revocations).put(revocations::put_revocations))
        .route("/api/broker/hosts", get(hosts::list_hosts).post(hosts::register_host))
        .route("/api/broker/hosts/{id}/revoke", post(hosts::revoke_host))
        .route(
            "/api/broker/entries",
            get(entries::list_entries)
                .post(entries::put_entry)
                .layer(axum::extract::DefaultBodyLimit::max(4 * 1024 * 1024)),
        )
        .route("/api/broker/entries/{id}", get(entries::get_entry).delete(entries::delete_entry))
        .route("/api/broker/inbox", get(requests::inbox))
        .route("/api/broker/events", get(events::events))
        .route(CONSUMER_REQUESTS_PATH, post(consumer::create_request))
        .route("/api/broker/requests/{id}", get(requests::get_request))
        .route("/api/broker/requests/{id}/approve/start", post(approvals::approve_start))
        .route("/api/broker/requests/{id}/approve/finish", post(approvals::approve_finish))
        .route("/api/broker/requests/{id}/deny", post(approvals::deny))
        .route("/api/broker/requests/{id}/result", get(consumer::result))
        .route("/api/broker/requests/{id}/cancel", post(consumer::cancel))
}

async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

async fn openapi(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(crate::openapi::document(state.config.session_cookie_name()))
}
