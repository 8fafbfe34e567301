//! Every route of the API and the layers over them. Handlers live in the resource modules; this
//! file only says which path goes where.

use axum::Json;
use axum::extract::State;
use axum::routing::{delete, get, patch, post, put};
use axum::{Router, middleware as mw};
use blindvault_api::paths;

use super::body_timeout::body_timeout;
use super::middleware::{log_and_harden, origin_check, rate_limit};
use crate::accounts::{self, login, register};
use crate::admin;
use crate::broker::{
    approvals, consumer, enrolments, entries, events, hosts, leases, org, requests, revocations,
};
use crate::invites;
use crate::ops;
use crate::passkeys;
use crate::push;
use crate::state::AppState;
use crate::step_ups;
use crate::tokens;
use crate::wallet;

/// Builds the router.
pub(crate) fn router(state: AppState) -> Router {
    // The ceremony routes go through the per-address limit.
    let limited = Router::new()
        .route(paths::REGISTER_START, post(register::register_start))
        .route(paths::REGISTER_FINISH, post(register::register_finish))
        .route(paths::LOGIN_START, post(login::login_start))
        .route(paths::LOGIN_FINISH, post(login::login_finish))
        .route(paths::SETUP_CLAIM, post(accounts::setup_claim))
        .route(paths::PASSKEYS_REGISTER_START, post(passkeys::add_passkey_start))
        .route(paths::PASSKEYS_REGISTER_FINISH, post(passkeys::add_passkey_finish))
        .route(paths::TOKENS, get(tokens::list_mine).post(tokens::create))
        .route(paths::STEP_UP_START, post(step_ups::start))
        .route(paths::STEP_UP_CONFIRM, post(step_ups::confirm))
        .route_layer(mw::from_fn_with_state(state.clone(), rate_limit));
    let ops = Router::new().route(paths::HEALTHZ, get(ops::healthz)).route(paths::READYZ, get(ops::readyz));
    let ops = if state.config.metrics.enabled { ops.route(paths::METRICS, get(ops::metrics)) } else { ops };
    let router = Router::new()
        .merge(ops)
        .route(paths::HEALTH, get(health))
        .route(paths::OPENAPI, get(openapi))
        .route(paths::ME, get(accounts::me))
        .route(paths::LOGOUT, post(accounts::logout))
        .route(paths::LOGOUT_ALL, post(accounts::logout_all))
        .route(paths::SESSIONS, get(accounts::my_sessions))
        .route(paths::PASSKEYS, get(passkeys::list_passkeys))
        .route(paths::PASSKEY, patch(passkeys::rename_passkey).delete(passkeys::delete_passkey))
        .route(paths::STEP_UP, get(step_ups::status))
        .route(paths::TOKENS_ME, get(tokens::whoami))
        .route(paths::TOKEN, delete(tokens::revoke))
        .route(paths::ADMIN_TOKENS, get(tokens::list_all))
        .route(paths::STEP_UP_CANCEL, post(step_ups::cancel))
        .route(paths::ADMIN_USERS, get(admin::admin_users))
        .route(paths::ADMIN_USER, delete(admin::admin_delete_user))
        .route(paths::ADMIN_USER_ROLE, put(admin::admin_set_role))
        .route(paths::ADMIN_USER_SESSIONS, get(admin::admin_user_sessions))
        .route(paths::ADMIN_USER_REVOKE_SESSIONS, post(admin::admin_revoke_user_sessions))
        .route(paths::ADMIN_SESSION, delete(admin::admin_revoke_session))
        .route(paths::ADMIN_AUDIT, get(admin::admin_audit))
        .route(paths::ADMIN_AUDIT_VERIFY, get(admin::admin_audit_verify))
        .route(paths::ADMIN_SETTINGS, get(admin::admin_settings))
        .route(paths::ADMIN_INVITES, get(invites::list).post(invites::create))
        .route(paths::ADMIN_INVITE, delete(invites::revoke))
        .merge(broker())
        .merge(wallet_routes())
        .route(paths::PUSH_KEY, get(push::handlers::key))
        .route(paths::PUSH_SUBSCRIPTIONS, post(push::handlers::subscribe))
        .route(paths::PUSH_UNSUBSCRIBE, post(push::handlers::unsubscribe))
        .merge(limited)
        .fallback(crate::web::serve)
        .layer(mw::from_fn_with_state(state.clone(), origin_check))
        .layer(mw::from_fn_with_state(state.clone(), body_timeout))
        .layer(mw::from_fn(log_and_harden))
        .layer(axum::extract::DefaultBodyLimit::max(64 * 1024));
    // Requests are counted only when someone may read the counts.
    let router = if state.config.metrics.enabled {
        router.layer(mw::from_fn_with_state(state.clone(), ops::track))
    } else {
        router
    };
    router.with_state(state)
}

/// The broker's routes.
fn broker() -> Router<AppState> {
    Router::new()
        .route(paths::BROKER_ORG, get(org::get_org).put(org::put_org))
        .route(paths::BROKER_ORG_SETTINGS, get(org::get_org_settings).put(org::put_org_settings))
        .route(paths::BROKER_ENROLMENTS, get(enrolments::list_enrolments).post(enrolments::create_enrolment))
        .route(paths::BROKER_ENROLMENTS_MINE, get(enrolments::my_enrolments))
        .route(paths::BROKER_ENROLMENT_APPROVE, post(enrolments::approve_enrolment))
        .route(paths::BROKER_ENROLMENT, delete(enrolments::remove_enrolment))
        .route(paths::BROKER_APPROVERS, get(enrolments::list_approvers))
        .route(paths::BROKER_REVOCATIONS, get(revocations::get_revocations).put(revocations::put_revocations))
        .route(paths::BROKER_HOSTS, get(hosts::list_hosts).post(hosts::register_host))
        .route(paths::BROKER_HOST_REVOKE, post(hosts::revoke_host))
        .route(
            paths::BROKER_ENTRIES,
            get(entries::list_entries)
                .post(entries::put_entry)
                .layer(axum::extract::DefaultBodyLimit::max(4 * 1024 * 1024)),
        )
        .route(paths::BROKER_ENTRY, get(entries::get_entry).delete(entries::delete_entry))
        .route(paths::BROKER_INBOX, get(requests::inbox))
        .route(paths::BROKER_EVENTS, get(events::events))
        .route(paths::BROKER_REQUESTS, post(consumer::create_request))
        .route(paths::BROKER_REQUEST, get(requests::get_request))
        .route(paths::BROKER_REQUEST_APPROVE_START, post(approvals::approve_start))
        .route(paths::BROKER_REQUEST_APPROVE_FINISH, post(approvals::approve_finish))
        .route(paths::BROKER_REQUEST_DENY, post(approvals::deny))
        .route(paths::BROKER_REQUEST_RESULT, get(consumer::result))
        .route(paths::BROKER_REQUEST_CANCEL, post(consumer::cancel))
        .route(paths::BROKER_REQUEST_LEASE, get(leases::lease_poll))
        .route(paths::BROKER_REQUEST_LEASE_END, post(leases::end_lease))
        .route(paths::BROKER_LEASES, get(leases::leases))
}

/// The wallet's routes: endpoints, tokens, addresses and the RPC gateway (which reads and
/// limits its own body: `[gateway] max_request_bytes`).
fn wallet_routes() -> Router<AppState> {
    use wallet::{addresses, endpoints, gateway, keyring, tokens};
    Router::new()
        .route(paths::WALLET_NETWORKS, get(endpoints::networks))
        .route(paths::WALLET_TOKENS, get(tokens::list))
        .route(paths::WALLET_ADDRESSES, get(addresses::mine).post(addresses::publish))
        .route(paths::WALLET_ADDRESS, delete(addresses::withdraw))
        .route(paths::WALLET_KEYRING, get(keyring::mine))
        .route(paths::WALLET_KEYRING_ORIGIN, put(keyring::set_origin))
        .route(paths::WALLET_KEYRING_ENVELOPE, put(keyring::put_envelope))
        .route(paths::WALLET_RPC, post(gateway::rpc).layer(axum::extract::DefaultBodyLimit::disable()))
        .route(paths::ADMIN_WALLET_ENDPOINTS, get(endpoints::list).put(endpoints::set))
        .route(paths::ADMIN_WALLET_ENDPOINT, delete(endpoints::delete))
        .route(paths::ADMIN_WALLET_TOKENS, get(tokens::admin_list).post(tokens::set))
        .route(paths::ADMIN_WALLET_TOKEN, delete(tokens::delete))
        .route(paths::ADMIN_WALLET_ADDRESSES, get(addresses::held))
}

async fn health() -> Json<blindvault_api::sessions::Health> {
    Json(blindvault_api::sessions::Health { status: "ok".to_owned() })
}

async fn openapi(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(crate::openapi::document(state.config.session_cookie_name()))
}
