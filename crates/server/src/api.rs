//! The HTTP API: thin axum handlers over the other modules.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequest, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use webauthn_rs::prelude::{PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential, Uuid};

use crate::AppState;
use crate::audit::{self, Event};
use crate::error::ApiError;
use crate::session::{self, AdminSession, Session};
use crate::setup;
use crate::stepup::Action;
use crate::store::Engine;
use crate::webauthn::{self as wa, Kind};

/// A user's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Ordinary user.
    User,
    /// May approve secret requests.
    Approver,
    /// Manages users, roles and sessions.
    Admin,
}

impl Role {
    /// Parses the database form.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "user" => Some(Self::User),
            "approver" => Some(Self::Approver),
            "admin" => Some(Self::Admin),
            _ => None,
        }
    }
    /// The database form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Approver => "approver",
            Self::Admin => "admin",
        }
    }
}

/// A JSON body whose rejection is a 400 `invalid_request` in the API's error format.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Self(v)),
            Err(rej) => Err(ApiError::new(
                if rej.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    StatusCode::PAYLOAD_TOO_LARGE
                } else {
                    StatusCode::BAD_REQUEST
                },
                "invalid_request",
                rej.body_text(),
            )),
        }
    }
}

/// The peer address the connection came from. Missing only when the router is served without
/// `into_make_service_with_connect_info`: a deployment error, refused (and logged) rather than
/// counted in one bucket shared by every client.
fn client_ip(headers_ext: &axum::http::Extensions) -> Result<IpAddr, ApiError> {
    headers_ext.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip()).ok_or_else(|| {
        // `internal` logs it (an error line) and answers 500 without the detail.
        ApiError::internal("request without a peer address: serve the router with its connect info")
    })
}

/// The rate-limit key of a client address: an IPv4 address (or an IPv4-mapped IPv6 one) as is,
/// an IPv6 address by its /64 (one subscriber's network: a host can take any address in it).
fn limit_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

/// Refuses state-changing requests whose `Origin` is not the configured origin (403 `cross_origin`).
async fn origin_check(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let changes = matches!(*req.method(), Method::POST | Method::PUT | Method::PATCH | Method::DELETE);
    // Consumer hosts authenticate by signature, not cookie: no ambient authority to forge.
    let consumer = crate::broker::api::is_consumer_call(req.uri().path());
    if changes && !consumer {
        let want = match state.config.origin_header() {
            Ok(o) => o,
            Err(e) => return ApiError::internal(e).into_response(),
        };
        let ok = req.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok()) == Some(want.as_str());
        if !ok {
            return ApiError::forbidden(
                "cross_origin",
                "state-changing requests must come from the server's own origin",
            )
            .into_response();
        }
    }
    next.run(req).await
}

/// The 429 `rate_limited` answer, with the wait in `Retry-After` and in the body.
pub(crate) fn rate_limited(wait_secs: u64, message: &'static str) -> ApiError {
    ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message).retry_after(wait_secs)
}

/// Per-address token bucket on the ceremony endpoints (429 `rate_limited`).
async fn rate_limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let ip = match client_ip(req.extensions()) {
        Ok(ip) => limit_key(ip),
        Err(e) => return e.into_response(),
    };
    if let Err(wait) = state.limits.per_address.check(&ip, state.clock.now_ms()) {
        return rate_limited(wait, "too many sign-in attempts from this network address").into_response();
    }
    next.run(req).await
}

/// Logs method, path and status (never bodies, cookies or queries) and sets cache headers.
async fn log_and_harden(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let started = std::time::Instant::now();
    let mut resp = next.run(req).await;
    let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    tracing::info!(%method, %path, status = resp.status().as_u16(), micros, "request");
    // Rejections produced by axum itself (405, 415, bad path or query) get the JSON error shape.
    let status = resp.status();
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if (status.is_client_error() || status.is_server_error()) && !is_json {
        let code = match status {
            StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
            StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
            s if s.is_server_error() => "internal",
            _ => "invalid_request",
        };
        let allow = resp.headers().get(header::ALLOW).cloned();
        resp = ApiError::new(status, code, "the request was not understood").into_response();
        if let Some(a) = allow {
            resp.headers_mut().insert(header::ALLOW, a);
        }
    }
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    resp
}

/// Builds the router.
pub fn router(state: AppState) -> Router {
    let (step_up_limited, step_up_open) = crate::stepup::routes();
    let limited = Router::new()
        .route("/api/register/start", post(register_start))
        .route("/api/register/finish", post(register_finish))
        .route("/api/login/start", post(login_start))
        .route("/api/login/finish", post(login_finish))
        .route("/api/setup/claim", post(setup_claim))
        .route("/api/passkeys/register/start", post(add_passkey_start))
        .route("/api/passkeys/register/finish", post(add_passkey_finish))
        .route("/api/sessions/cli", post(cli_session))
        .merge(step_up_limited)
        .route_layer(middleware::from_fn_with_state(state.clone(), rate_limit));
    Router::new()
        .route("/api/health", get(health))
        .route("/api/openapi.json", get(openapi))
        .route("/api/me", get(me))
        .route("/api/logout", post(logout))
        .route("/api/logout/all", post(logout_all))
        .route("/api/sessions", get(my_sessions))
        .route("/api/passkeys", get(list_passkeys))
        .route("/api/passkeys/{id}", patch(rename_passkey).delete(delete_passkey))
        .route("/api/admin/users", get(admin_users))
        .route("/api/admin/users/{id}", delete(admin_delete_user))
        .route("/api/admin/users/{id}/role", put(admin_set_role))
        .route("/api/admin/users/{id}/sessions", get(admin_user_sessions))
        .route("/api/admin/users/{id}/revoke-sessions", post(admin_revoke_user_sessions))
        .route("/api/admin/sessions/{id}", delete(admin_revoke_session))
        .route("/api/admin/audit", get(admin_audit))
        .route("/api/admin/audit/verify", get(admin_audit_verify))
        .route("/api/admin/settings", get(admin_settings))
        .merge(limited)
        .merge(step_up_open)
        .merge(crate::broker::api::routes())
        .merge(crate::invites::routes())
        .fallback(crate::web::serve)
        .layer(middleware::from_fn_with_state(state.clone(), origin_check))
        .layer(middleware::from_fn(log_and_harden))
        .layer(axum::extract::DefaultBodyLimit::max(64 * 1024))
        .with_state(state)
}

async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

async fn openapi(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(crate::openapi::document(state.config.session_cookie_name()))
}

/// A user as the API shows it.
#[derive(Debug, Serialize)]
pub struct UserView {
    id: String,
    name: String,
    display_name: String,
    role: String,
    created_at: i64,
}

fn user_from(r: &sqlx::any::AnyRow) -> Result<UserView, sqlx::Error> {
    Ok(UserView {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        display_name: r.try_get("display_name")?,
        role: r.try_get("role")?,
        created_at: r.try_get("created_at")?,
    })
}

async fn load_user(state: &AppState, id: &str) -> Result<Option<UserView>, ApiError> {
    let row = sqlx::query("SELECT id, name, display_name, role, created_at FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(state.store.pool())
        .await?;
    Ok(row.as_ref().map(user_from).transpose()?)
}

/// Appends an audit row on its own: only for records of something that changed nothing
/// (`login.failed`). An action appends inside its own transaction ([`log_in`]).
async fn log_event(state: &AppState, ev: Event<'_>) -> Result<(), ApiError> {
    audit::append(&state.store, state.clock.now(), ev).await?;
    Ok(())
}

/// Appends an action's audit row inside the action's transaction, after its other writes: the
/// action and its record commit together or not at all.
async fn log_in(tx: &mut session::Tx<'_>, state: &AppState, ev: Event<'_>) -> Result<(), ApiError> {
    audit::append_in(&state.store, tx, state.clock.now(), ev).await?;
    Ok(())
}

fn with_cookie(status: StatusCode, cookie: String, body: serde_json::Value) -> Response {
    let mut resp = (status, Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
}

fn check_label(what: &'static str, s: &str) -> Result<(), ApiError> {
    let n = s.chars().count();
    if n == 0 || n > 64 || s.chars().any(blindvault_core::text::refused_in_name) || s.trim() != s {
        return Err(ApiError::bad_request(
            "invalid_name",
            format!(
                "{what} must be 1 to 64 characters, without control, direction-changing or invisible characters or outer spaces"
            ),
        ));
    }
    Ok(())
}

// ---- registration -----------------------------------------------------------------------------

#[derive(Deserialize)]
struct RegisterStart {
    name: String,
    #[serde(default)]
    display_name: Option<String>,
    /// An invite code from an admin, or the setup code while the instance has no admin.
    #[serde(default)]
    invite: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct RegisterState {
    reg: PasskeyRegistration,
    name: String,
    display_name: String,
    admission: crate::invites::Admission,
}

async fn register_start(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<RegisterStart>,
) -> Result<Json<serde_json::Value>, ApiError> {
    check_label("name", &body.name)?;
    let display_name = body.display_name.unwrap_or_else(|| body.name.clone());
    check_label("display_name", &display_name)?;
    // Invite-only: a code from an admin (or the setup code before the first admin). A bad code
    // and a taken name get the same answer, so the form tells nobody which names exist.
    let admission =
        crate::invites::admit(&state, body.invite.as_deref().unwrap_or_default(), state.clock.now())
            .await?
            .ok_or_else(crate::invites::refused)?;
    let taken = sqlx::query("SELECT id FROM users WHERE name = $1")
        .bind(&body.name)
        .fetch_optional(state.store.pool())
        .await?;
    if taken.is_some() {
        return Err(crate::invites::refused());
    }
    let user_id = Uuid::new_v4();
    let (ccr, reg) = state
        .rp
        .webauthn
        .start_passkey_registration(user_id, &body.name, &display_name, None)
        .map_err(|e| ApiError::internal(format_args!("start registration: {e}")))?;
    let options = state.rp.patch_options(&ccr, true)?;
    let st = RegisterState { reg, name: body.name, display_name, admission };
    let id = wa::put_state(&state, Kind::Register, Some(&user_id.to_string()), &st).await?;
    Ok(Json(serde_json::json!({ "ceremony_id": id, "options": options })))
}

#[derive(Deserialize)]
struct FinishRegistration {
    ceremony_id: String,
    credential: RegisterPublicKeyCredential,
    #[serde(default)]
    passkey_name: Option<String>,
}

async fn insert_credential(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user_id: &str,
    name: &str,
    passkey: &webauthn_rs::prelude::Passkey,
    now: i64,
) -> Result<String, ApiError> {
    let cred_id = wa::cred_id_text(passkey.cred_id().as_ref());
    let flags = wa::passkey_flags(passkey)?;
    let json = serde_json::to_string(passkey).map_err(ApiError::internal)?;
    let r = sqlx::query(
        "INSERT INTO credentials (id, user_id, name, passkey, sign_count, backup_eligible, backup_state, created_at, last_used_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL) ON CONFLICT (id) DO NOTHING",
    )
    .bind(&cred_id)
    .bind(user_id)
    .bind(name)
    .bind(json)
    .bind(flags.counter)
    .bind(i64::from(flags.backup_eligible))
    .bind(i64::from(flags.backup_state))
    .bind(now)
    .execute(&mut **tx)
    .await?;
    if r.rows_affected() != 1 {
        return Err(ApiError::conflict("credential_exists", "this passkey is already registered"));
    }
    Ok(cred_id)
}

async fn register_finish(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    ApiJson(body): ApiJson<FinishRegistration>,
) -> Result<Response, ApiError> {
    let (user_id, st): (Option<String>, RegisterState) =
        wa::take_state(&state, Kind::Register, &body.ceremony_id).await?;
    let user_id = user_id.ok_or_else(|| ApiError::internal("registration state without user"))?;
    wa::strict::check_registration(&body.credential)?;
    let passkey = state
        .rp
        .webauthn
        .finish_passkey_registration(&body.credential, &st.reg)
        .map_err(|e| wa::map_error(&e))?;
    let pk_name = body.passkey_name.unwrap_or_else(|| "passkey".to_owned());
    check_label("passkey_name", &pk_name)?;
    let now = state.clock.now();
    let (role, invite, invited_by) = match &st.admission {
        crate::invites::Admission::Invite { id, created_by, role } => {
            (role.as_str(), Some(id), Some(created_by))
        }
        crate::invites::Admission::Setup => ("user", None, None),
    };
    let mut tx = state.store.pool().begin().await?;
    let ins = sqlx::query(
        "INSERT INTO users (id, name, display_name, role, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    )
    .bind(&user_id)
    .bind(&st.name)
    .bind(&st.display_name)
    .bind(role)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if ins.rows_affected() != 1 {
        return Err(crate::invites::refused());
    }
    // The code is spent with the account (one transaction): a second sign-up with it, started
    // meanwhile, is refused here. The setup code stays until the claim.
    let admitted = match invite {
        Some(id) => crate::invites::spend_in(&mut tx, id, &user_id, now).await?,
        None => crate::setup::unclaimed_in(&mut tx).await?,
    };
    if !admitted {
        return Err(crate::invites::refused());
    }
    let cred_id = insert_credential(&mut tx, &user_id, &pk_name, &passkey, now).await?;
    // The account, its passkey, the spent code, its first session and the audit row: one
    // transaction.
    let (token, sess_id) = session::create_in(&mut tx, &state, &user_id, &addr.ip().to_string()).await?;
    let detail = serde_json::json!({ "credential": cred_id, "session": sess_id, "addr": addr.ip().to_string(),
        "invite": invite, "invited_by": invited_by, "role": role, "setup_code": invite.is_none() });
    log_in(
        &mut tx,
        &state,
        Event { actor: Some(&user_id), action: "user.register", target: Some(&user_id), detail },
    )
    .await?;
    tx.commit().await?;
    let user = load_user(&state, &user_id).await?.ok_or_else(|| ApiError::internal("user vanished"))?;
    Ok(with_cookie(
        StatusCode::CREATED,
        session::cookie(&state.config, &token, state.config.session_ttl_secs),
        serde_json::json!({ "user": user, "credential_id": cred_id }),
    ))
}

// ---- login ------------------------------------------------------------------------------------

async fn login_start(State(state): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    let (rcr, auth) = state
        .rp
        .webauthn
        .start_discoverable_authentication()
        .map_err(|e| ApiError::internal(format_args!("start authentication: {e}")))?;
    let options = state.rp.patch_options(&rcr, false)?;
    let id = wa::put_state(&state, Kind::Login, None, &auth).await?;
    Ok(Json(serde_json::json!({ "ceremony_id": id, "options": options })))
}

#[derive(Deserialize)]
struct FinishLogin {
    ceremony_id: String,
    credential: PublicKeyCredential,
}

/// Verifies a login assertion against stored state: the server's whole login code path except
/// HTTP and the session cookie. Returns the user id and the credential id.
pub async fn verify_login(
    state: &AppState,
    ceremony_id: &str,
    credential: &PublicKeyCredential,
) -> Result<(String, String), ApiError> {
    let (_, auth): (_, webauthn_rs::prelude::DiscoverableAuthentication) =
        wa::take_state(state, Kind::Login, ceremony_id).await?;
    verify_assertion(state, auth, credential).await
}

/// Verifies an assertion against a taken ceremony state: credential lookup, signature, user
/// verification, origin, RP ID and the counter (recorded), and first the checks of
/// [`wa::strict`]. Used by login, every step-up and broker approvals.
pub async fn verify_assertion(
    state: &AppState,
    auth: webauthn_rs::prelude::DiscoverableAuthentication,
    credential: &PublicKeyCredential,
) -> Result<(String, String), ApiError> {
    // What webauthn-rs does not check (cross-origin frames, trailing bytes), before it looks.
    wa::strict::check_assertion(credential)?;
    let (uuid, raw_cred_id) =
        state.rp.webauthn.identify_discoverable_authentication(credential).map_err(|_| {
            ApiError::unauthorized("unknown_credential", "this passkey is not registered here")
        })?;
    let cred_id = wa::cred_id_text(raw_cred_id);
    let user_id = uuid.to_string();
    let mut conn = state.store.pool().acquire().await?;
    let row = sqlx::query("SELECT passkey, sign_count FROM credentials WHERE id = $1 AND user_id = $2")
        .bind(&cred_id)
        .bind(&user_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| ApiError::unauthorized("unknown_credential", "this passkey is not registered here"))?;
    let now_ms = state.clock.now_ms();
    let json: String = row.try_get("passkey")?;
    let mut passkey: webauthn_rs::prelude::Passkey =
        serde_json::from_str(&json).map_err(ApiError::internal)?;
    let result = match state.rp.webauthn.finish_discoverable_authentication_v2(credential, auth, &passkey) {
        Ok(r) => r,
        Err(e) => {
            drop(conn);
            // Failures count per account; past its bucket a failure answers 429 instead of 401.
            // A valid assertion is never refused by this bucket: credential and user ids are not
            // secret (consumer hosts see them in delivered enrolments), so a bucket that could
            // refuse good assertions would let anyone lock an approver out, and a passkey
            // signature cannot be guessed anyway. The per-address limit bounds the work.
            if let Err(wait) = state.limits.per_account.check(&user_id, now_ms) {
                return Err(rate_limited(wait, "too many failed passkey attempts for this account"));
            }
            let err = wa::map_error(&e);
            let detail = serde_json::json!({ "credential": cred_id, "code": err.code });
            log_event(state, Event { actor: None, action: "login.failed", target: Some(&user_id), detail })
                .await?;
            return Err(err);
        }
    };
    passkey.update_credential(&result);
    let counter = i64::from(result.counter());
    let json = serde_json::to_string(&passkey).map_err(ApiError::internal)?;
    // The conditional update closes the race of two logins presenting the same counter.
    let r = sqlx::query(
        "UPDATE credentials SET passkey = $1, sign_count = $2, backup_eligible = $3, backup_state = $4, last_used_at = $5 \
         WHERE id = $6 AND (sign_count < $2 OR $2 = 0)",
    )
    .bind(json)
    .bind(counter)
    .bind(i64::from(result.backup_eligible()))
    .bind(i64::from(result.backup_state()))
    .bind(state.clock.now())
    .bind(&cred_id)
    .execute(&mut *conn)
    .await?;
    if r.rows_affected() != 1 {
        return Err(ApiError::unauthorized(
            "counter_regression",
            "the signature counter went backwards: the credential may be cloned",
        ));
    }
    Ok((user_id, cred_id))
}

async fn login_finish(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<FinishLogin>,
) -> Result<Response, ApiError> {
    let (user_id, cred_id) = verify_login(&state, &body.ceremony_id, &body.credential).await?;
    // Re-authentication extends the caller's live session of the same user.
    let current = match session::token_from_headers(&state.config, &headers) {
        Some(t) => session::authenticate(&state, &t).await.ok().filter(|s| s.user_id == user_id),
        None => None,
    };
    // The session (new or extended) and the audit row: one transaction.
    let mut tx = state.store.pool().begin().await?;
    let (token, sess_id, extended) = match current {
        Some(s) => (session::extend_in(&mut tx, &state, &s).await?, s.id, true),
        None => {
            let (t, id) = session::create_in(&mut tx, &state, &user_id, &addr.ip().to_string()).await?;
            (t, id, false)
        }
    };
    let detail = serde_json::json!({ "credential": cred_id, "session": sess_id, "extended": extended, "addr": addr.ip().to_string() });
    log_in(&mut tx, &state, Event { actor: Some(&user_id), action: "login", target: Some(&user_id), detail })
        .await?;
    tx.commit().await?;
    let user = load_user(&state, &user_id)
        .await?
        .ok_or_else(|| ApiError::unauthorized("unknown_credential", "no such user"))?;
    Ok(with_cookie(
        StatusCode::OK,
        session::cookie(&state.config, &token, state.config.session_ttl_secs),
        serde_json::json!({ "user": user, "credential_id": cred_id, "extended": extended }),
    ))
}

// ---- the signed-in user -----------------------------------------------------------------------

async fn me(State(state): State<AppState>, s: Session) -> Result<Json<serde_json::Value>, ApiError> {
    let user = load_user(&state, &s.user_id)
        .await?
        .ok_or_else(|| ApiError::unauthorized("session_revoked", "no such user"))?;
    Ok(Json(serde_json::json!({
        "user": user,
        "session": { "id": s.id, "expires_at": s.expires_at },
        // How long a passkey ceremony may take (the web app times its approval window by it).
        "ceremony_ttl_secs": state.config.challenge_ttl_secs,
    })))
}

async fn logout(State(state): State<AppState>, s: Session) -> Result<Response, ApiError> {
    session::revoke(&state, &s.id).await?;
    Ok(with_cookie(StatusCode::OK, session::clear_cookie(&state.config), serde_json::json!({ "revoked": 1 })))
}

async fn logout_all(State(state): State<AppState>, s: Session) -> Result<Response, ApiError> {
    // The revocation and its audit row: one transaction.
    let mut tx = state.store.pool().begin().await?;
    let n = session::revoke_all_in(&mut tx, &state, &s.user_id).await?;
    log_in(
        &mut tx,
        &state,
        Event {
            actor: Some(&s.user_id),
            action: "session.revoke_all",
            target: Some(&s.user_id),
            detail: serde_json::json!({ "revoked": n, "from_session": s.id }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(with_cookie(StatusCode::OK, session::clear_cookie(&state.config), serde_json::json!({ "revoked": n })))
}

#[derive(Deserialize)]
struct CliSessionBody {
    ceremony_id: String,
    credential: PublicKeyCredential,
}

/// A separate session for the command line, minted only after a fresh passkey assertion (from
/// `/api/login/start`) by the same person: a step-up, so a stolen page cannot mint one silently.
/// The token is returned once, in the body, for the person to put in a file the CLI reads; the
/// browser's own cookie stays `HttpOnly`. It is an ordinary session: same lifetime, listed and
/// revocable like the others.
async fn cli_session(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    s: Session,
    ApiJson(body): ApiJson<CliSessionBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (user_id, cred_id) = verify_login(&state, &body.ceremony_id, &body.credential).await?;
    if user_id != s.user_id {
        return Err(ApiError::forbidden("wrong_user", "that passkey belongs to another account"));
    }
    // The session and its audit row: one transaction.
    let mut tx = state.store.pool().begin().await?;
    let (token, sess_id) =
        session::create_in(&mut tx, &state, &user_id, &format!("command line (made from {})", addr.ip()))
            .await?;
    let detail = serde_json::json!({ "credential": cred_id, "session": sess_id, "from_session": s.id });
    log_in(
        &mut tx,
        &state,
        Event { actor: Some(&user_id), action: "session.cli", target: Some(&user_id), detail },
    )
    .await?;
    tx.commit().await?;
    Ok(Json(serde_json::json!({
        "token": token,
        "session": sess_id,
        "expires_in": state.config.session_ttl_secs,
        // The session file line the web app shows is `cookie_name=token`: a `Cookie` header
        // for this deployment as it stands.
        "cookie_name": state.config.session_cookie_name(),
    })))
}

async fn my_sessions(State(state): State<AppState>, s: Session) -> Result<Json<serde_json::Value>, ApiError> {
    let list = session::list_for_user(&state, &s.user_id).await?;
    Ok(Json(serde_json::json!({ "sessions": list, "current": s.id })))
}

#[derive(Deserialize)]
struct ClaimBody {
    code: String,
}

async fn setup_claim(
    State(state): State<AppState>,
    s: Session,
    ApiJson(body): ApiJson<ClaimBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    if body.code.len() > 64 {
        return Err(ApiError::forbidden("setup_code_invalid", "wrong setup code"));
    }
    // The claim (or the failed attempt) and its audit row: one transaction.
    let mut tx = state.store.pool().begin().await?;
    match setup::claim_in(&mut tx, &s.user_id, &body.code).await? {
        setup::Claim::Claimed => {
            log_in(
                &mut tx,
                &state,
                Event {
                    actor: Some(&s.user_id),
                    action: "setup.claim_admin",
                    target: Some(&s.user_id),
                    detail: serde_json::json!({}),
                },
            )
            .await?;
            tx.commit().await?;
            Ok(Json(serde_json::json!({ "role": "admin" })))
        }
        setup::Claim::WrongCode => {
            log_in(
                &mut tx,
                &state,
                Event {
                    actor: Some(&s.user_id),
                    action: "setup.claim_failed",
                    target: None,
                    detail: serde_json::json!({}),
                },
            )
            .await?;
            tx.commit().await?;
            Err(ApiError::forbidden("setup_code_invalid", "wrong setup code"))
        }
        setup::Claim::NotAvailable => {
            Err(ApiError::conflict("already_claimed", "this instance already has an admin"))
        }
    }
}

// ---- passkeys ---------------------------------------------------------------------------------

#[derive(Debug, Serialize)]
struct PasskeyView {
    id: String,
    name: String,
    created_at: i64,
    last_used_at: Option<i64>,
    sign_count: i64,
    backup_eligible: bool,
    backup_state: bool,
}

async fn passkeys_of(state: &AppState, user_id: &str) -> Result<Vec<PasskeyView>, ApiError> {
    let rows = sqlx::query(
        "SELECT id, name, created_at, last_used_at, sign_count, backup_eligible, backup_state FROM credentials \
         WHERE user_id = $1 ORDER BY created_at, id",
    )
    .bind(user_id)
    .fetch_all(state.store.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(PasskeyView {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                created_at: r.try_get("created_at")?,
                last_used_at: r.try_get("last_used_at")?,
                sign_count: r.try_get("sign_count")?,
                backup_eligible: r.try_get::<i64, _>("backup_eligible")? != 0,
                backup_state: r.try_get::<i64, _>("backup_state")? != 0,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(ApiError::from)
}

async fn list_passkeys(
    State(state): State<AppState>,
    s: Session,
) -> Result<Json<serde_json::Value>, ApiError> {
    Ok(Json(serde_json::json!({ "passkeys": passkeys_of(&state, &s.user_id).await? })))
}

#[derive(Deserialize)]
struct AddStart {
    #[serde(default)]
    name: Option<String>,
    /// A fresh assertion (from `/api/login/start`) by one of the account's passkeys.
    ceremony_id: String,
    credential: PublicKeyCredential,
}

#[derive(Serialize, Deserialize)]
struct AddState {
    reg: PasskeyRegistration,
    name: String,
}

/// Starts adding a passkey to the signed-in account, after a fresh assertion by one it has.
async fn add_passkey_start(
    State(state): State<AppState>,
    s: Session,
    ApiJson(body): ApiJson<AddStart>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let name = body.name.unwrap_or_else(|| "passkey".to_owned());
    check_label("name", &name)?;
    // A step-up, as for a command-line session: a stolen cookie or CLI token alone cannot add a
    // passkey (which would outlive every session and its revocation).
    let (user_id, _) = verify_login(&state, &body.ceremony_id, &body.credential).await?;
    if user_id != s.user_id {
        return Err(ApiError::forbidden("wrong_user", "that passkey belongs to another account"));
    }
    let user = load_user(&state, &s.user_id)
        .await?
        .ok_or_else(|| ApiError::unauthorized("session_revoked", "no such user"))?;
    let uuid = Uuid::parse_str(&s.user_id).map_err(ApiError::internal)?;
    let rows = sqlx::query("SELECT passkey FROM credentials WHERE user_id = $1")
        .bind(&s.user_id)
        .fetch_all(state.store.pool())
        .await?;
    let mut exclude = Vec::new();
    for r in &rows {
        let json: String = r.try_get("passkey")?;
        let pk: webauthn_rs::prelude::Passkey = serde_json::from_str(&json).map_err(ApiError::internal)?;
        exclude.push(pk.cred_id().clone());
    }
    let (ccr, reg) = state
        .rp
        .webauthn
        .start_passkey_registration(uuid, &user.name, &user.display_name, Some(exclude))
        .map_err(|e| ApiError::internal(format_args!("start registration: {e}")))?;
    let options = state.rp.patch_options(&ccr, true)?;
    let id = wa::put_state(&state, Kind::AddPasskey, Some(&s.user_id), &AddState { reg, name }).await?;
    Ok(Json(serde_json::json!({ "ceremony_id": id, "options": options })))
}

#[derive(Deserialize)]
struct AddFinish {
    ceremony_id: String,
    credential: RegisterPublicKeyCredential,
}

async fn add_passkey_finish(
    State(state): State<AppState>,
    s: Session,
    ApiJson(body): ApiJson<AddFinish>,
) -> Result<Response, ApiError> {
    let (owner, st): (Option<String>, AddState) =
        wa::take_state(&state, Kind::AddPasskey, &body.ceremony_id).await?;
    if owner.as_deref() != Some(s.user_id.as_str()) {
        return Err(ApiError::bad_request("challenge_invalid", "unknown or already used challenge"));
    }
    wa::strict::check_registration(&body.credential)?;
    let passkey = state
        .rp
        .webauthn
        .finish_passkey_registration(&body.credential, &st.reg)
        .map_err(|e| wa::map_error(&e))?;
    let now = state.clock.now();
    let mut tx = state.store.pool().begin().await?;
    let cred_id = insert_credential(&mut tx, &s.user_id, &st.name, &passkey, now).await?;
    log_in(
        &mut tx,
        &state,
        Event {
            actor: Some(&s.user_id),
            action: "passkey.add",
            target: Some(&cred_id),
            detail: serde_json::json!({ "name": st.name }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(serde_json::json!({ "credential_id": cred_id }))).into_response())
}

#[derive(Deserialize)]
struct Rename {
    name: String,
}

async fn rename_passkey(
    State(state): State<AppState>,
    s: Session,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Rename>,
) -> Result<Json<serde_json::Value>, ApiError> {
    check_label("name", &body.name)?;
    // The rename and its audit row: one transaction (names are not secrets; the row keeps the
    // old and the new one).
    let mut tx = state.store.pool().begin().await?;
    let old = sqlx::query("SELECT name FROM credentials WHERE id = $1 AND user_id = $2")
        .bind(&id)
        .bind(&s.user_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| ApiError::not_found("passkey_not_found", "no such passkey"))?;
    let old: String = old.try_get("name")?;
    let r = sqlx::query("UPDATE credentials SET name = $1 WHERE id = $2 AND user_id = $3")
        .bind(&body.name)
        .bind(&id)
        .bind(&s.user_id)
        .execute(&mut *tx)
        .await?;
    if r.rows_affected() != 1 {
        return Err(ApiError::not_found("passkey_not_found", "no such passkey"));
    }
    log_in(
        &mut tx,
        &state,
        Event {
            actor: Some(&s.user_id),
            action: "passkey.rename",
            target: Some(&id),
            detail: serde_json::json!({ "from": old, "to": body.name }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Json(serde_json::json!({ "id": id, "name": body.name })))
}

async fn delete_passkey(
    State(state): State<AppState>,
    s: Session,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let mut tx = state.store.pool().begin().await?;
    if state.store.engine() == Engine::Postgres {
        // Serialise passkey removals of one user so two cannot remove the last two at once.
        sqlx::query("SELECT id FROM users WHERE id = $1 FOR UPDATE")
            .bind(&s.user_id)
            .execute(&mut *tx)
            .await?;
    }
    let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM credentials WHERE user_id = $1")
        .bind(&s.user_id)
        .fetch_one(&mut *tx)
        .await?
        .try_get("n")?;
    let exists = sqlx::query("SELECT id FROM credentials WHERE id = $1 AND user_id = $2")
        .bind(&id)
        .bind(&s.user_id)
        .fetch_optional(&mut *tx)
        .await?;
    if exists.is_none() {
        return Err(ApiError::not_found("passkey_not_found", "no such passkey"));
    }
    if n <= 1 {
        return Err(ApiError::conflict(
            "last_passkey",
            "this is your only passkey; add another before removing it",
        ));
    }
    // A stolen session alone cannot remove a passkey: a fresh assertion bound to this one.
    let step_up = crate::stepup::spend_in(&mut tx, &state, &s, &headers, Action::PasskeyDelete, &id).await?;
    sqlx::query("DELETE FROM credentials WHERE id = $1 AND user_id = $2")
        .bind(&id)
        .bind(&s.user_id)
        .execute(&mut *tx)
        .await?;
    log_in(
        &mut tx,
        &state,
        Event {
            actor: Some(&s.user_id),
            action: "passkey.remove",
            target: Some(&id),
            detail: serde_json::json!({ "step_up": step_up }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Json(serde_json::json!({ "removed": id })))
}

// ---- admin ------------------------------------------------------------------------------------

async fn admin_users(
    State(state): State<AppState>,
    _a: AdminSession,
) -> Result<Json<serde_json::Value>, ApiError> {
    let rows =
        sqlx::query("SELECT id, name, display_name, role, created_at FROM users ORDER BY created_at, id")
            .fetch_all(state.store.pool())
            .await?;
    let users = rows.iter().map(user_from).collect::<Result<Vec<_>, _>>()?;
    Ok(Json(serde_json::json!({ "users": users })))
}

async fn admin_delete_user(
    State(state): State<AppState>,
    AdminSession(a): AdminSession,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    if id == a.user_id {
        return Err(ApiError::conflict("cannot_delete_self", "an admin cannot delete their own account"));
    }
    // The deletion and its audit row: one transaction; the row names whom the delete removed.
    let mut tx = state.store.pool().begin().await?;
    let exists = sqlx::query("SELECT id FROM users WHERE id = $1").bind(&id).fetch_optional(&mut *tx).await?;
    if exists.is_none() {
        return Err(ApiError::not_found("user_not_found", "no such user"));
    }
    let step_up = crate::stepup::spend_in(&mut tx, &state, &a, &headers, Action::UserDelete, &id).await?;
    // Passkeys and sessions go with the user (ON DELETE CASCADE): the next request is refused.
    let gone = sqlx::query("DELETE FROM users WHERE id = $1 RETURNING name, role")
        .bind(&id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| ApiError::not_found("user_not_found", "no such user"))?;
    let name: String = gone.try_get("name")?;
    let role: String = gone.try_get("role")?;
    // Their open invites die with them (an admin about to be removed cannot leave a way back).
    let invites = crate::invites::revoke_made_by_in(&mut tx, &id, state.clock.now()).await?;
    let detail =
        serde_json::json!({ "name": name, "role": role, "invites_revoked": invites, "step_up": step_up });
    log_in(
        &mut tx,
        &state,
        Event { actor: Some(&a.user_id), action: "admin.user.delete", target: Some(&id), detail },
    )
    .await?;
    tx.commit().await?;
    Ok(Json(serde_json::json!({ "deleted": id })))
}

#[derive(Deserialize)]
struct SetRole {
    role: Role,
}

async fn admin_set_role(
    State(state): State<AppState>,
    AdminSession(a): AdminSession,
    headers: HeaderMap,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SetRole>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let mut tx = state.store.pool().begin().await?;
    if state.store.engine() == Engine::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock(7242002)").execute(&mut *tx).await?;
    }
    let row = sqlx::query("SELECT role FROM users WHERE id = $1")
        .bind(&id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| ApiError::not_found("user_not_found", "no such user"))?;
    let from: String = row.try_get("role")?;
    if from == "admin" && body.role != Role::Admin {
        let admins: i64 = sqlx::query("SELECT COUNT(*) AS n FROM users WHERE role = 'admin'")
            .fetch_one(&mut *tx)
            .await?
            .try_get("n")?;
        if admins <= 1 {
            return Err(ApiError::conflict("last_admin", "the last admin cannot be demoted"));
        }
    }
    // The new role is part of the target: a step-up to demote cannot promote.
    let target = crate::stepup::role_target(&id, body.role.as_str());
    let step_up = crate::stepup::spend_in(&mut tx, &state, &a, &headers, Action::RoleSet, &target).await?;
    sqlx::query("UPDATE users SET role = $1 WHERE id = $2")
        .bind(body.role.as_str())
        .bind(&id)
        .execute(&mut *tx)
        .await?;
    // An admin no more: the invites they made and nobody used yet are revoked with the role.
    let invites = if body.role == Role::Admin {
        0
    } else {
        crate::invites::revoke_made_by_in(&mut tx, &id, state.clock.now()).await?
    };
    let detail = serde_json::json!({ "from": from, "to": body.role.as_str(), "invites_revoked": invites, "step_up": step_up });
    log_in(
        &mut tx,
        &state,
        Event { actor: Some(&a.user_id), action: "admin.role.set", target: Some(&id), detail },
    )
    .await?;
    tx.commit().await?;
    Ok(Json(serde_json::json!({ "id": id, "role": body.role })))
}

async fn admin_user_sessions(
    State(state): State<AppState>,
    _a: AdminSession,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    Ok(Json(serde_json::json!({ "sessions": session::list_for_user(&state, &id).await? })))
}

async fn admin_revoke_user_sessions(
    State(state): State<AppState>,
    AdminSession(a): AdminSession,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    if load_user(&state, &id).await?.is_none() {
        return Err(ApiError::not_found("user_not_found", "no such user"));
    }
    // The revocation and its audit row: one transaction.
    let mut tx = state.store.pool().begin().await?;
    let n = session::revoke_all_in(&mut tx, &state, &id).await?;
    log_in(
        &mut tx,
        &state,
        Event {
            actor: Some(&a.user_id),
            action: "admin.user.revoke_sessions",
            target: Some(&id),
            detail: serde_json::json!({ "revoked": n }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Json(serde_json::json!({ "revoked": n })))
}

async fn admin_revoke_session(
    State(state): State<AppState>,
    AdminSession(a): AdminSession,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    // The revocation and its audit row: one transaction.
    let mut tx = state.store.pool().begin().await?;
    if !session::revoke_in(&mut tx, &state, &id).await? {
        return Err(ApiError::not_found("session_not_found", "no such live session"));
    }
    log_in(
        &mut tx,
        &state,
        Event {
            actor: Some(&a.user_id),
            action: "admin.session.revoke",
            target: Some(&id),
            detail: serde_json::json!({}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Json(serde_json::json!({ "revoked": 1 })))
}

#[derive(Deserialize)]
struct AuditQuery {
    #[serde(default)]
    after: i64,
    #[serde(default)]
    limit: Option<i64>,
}

async fn admin_audit(
    State(state): State<AppState>,
    _a: AdminSession,
    Query(q): Query<AuditQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let rows = audit::list(&state.store, q.after.max(0), limit).await?;
    Ok(Json(serde_json::json!({ "rows": rows })))
}

/// The instance's settings as it runs (read-only: they come from the command line and the
/// environment at start).
async fn admin_settings(
    State(state): State<AppState>,
    _a: AdminSession,
) -> Result<Json<serde_json::Value>, ApiError> {
    let c = &state.config;
    Ok(Json(serde_json::json!({
        "rp_id": c.rp_id(),
        "origin": c.origin_header()?,
        "rp_name": c.rp_name,
        "session_ttl_secs": c.session_ttl_secs,
        "challenge_ttl_secs": c.challenge_ttl_secs,
        "rate_limit_per_minute": c.rate_limit_per_minute,
        "rate_limit_burst": c.rate_limit_burst,
        "account_rate_limit_per_minute": c.account_rate_limit_per_minute,
        "account_rate_limit_burst": c.account_rate_limit_burst,
        "database": match state.store.engine() { Engine::Sqlite => "sqlite", Engine::Postgres => "postgresql" },
    })))
}

async fn admin_audit_verify(
    State(state): State<AppState>,
    _a: AdminSession,
) -> Result<Json<serde_json::Value>, ApiError> {
    let report = audit::verify(&state.store).await?;
    Ok(Json(serde_json::to_value(report).map_err(ApiError::internal)?))
}

#[cfg(test)]
mod limit_key_tests {
    #![allow(clippy::unwrap_used)]
    use super::limit_key;
    use std::net::IpAddr;

    #[test]
    fn ipv6_counts_by_its_64_and_ipv4_by_its_address() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(limit_key(a), limit_key(b));
        assert_ne!(limit_key(a), limit_key(c));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(limit_key(mapped), "192.0.2.7".parse::<IpAddr>().unwrap());
        assert_ne!(limit_key("192.0.2.7".parse().unwrap()), limit_key("192.0.2.8".parse().unwrap()));
    }
}
