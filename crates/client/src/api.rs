//! An async HTTP client of the broker API (`/api/broker/...`).
//!
//! Two kinds of caller use it. The **admin** authenticates with a command-line token
//! (`Authorization: Bearer bvt_…`, made in the web app: Account → Command-line tokens), read from
//! a file or the OS keyring — never from argv — and sends `Origin: <the server URL's origin>` on
//! state-changing calls, as the server requires.
//! A **consumer** host sends no cookie at all: its requests are signed by the host key, and it
//! fetches the result with a poll token whose SHA-256 it gave with the request.
//!
//! Every failure is one [`ApiError`], which turns the server's `{"error":{"code","message"}}`
//! into a message that names the code and, for the common ones, what to do.

use std::path::Path;
use std::time::Duration;

pub use blindvault_api::ErrorCode;
use blindvault_api::admin::{CreateInvite, InviteRevoked};
use blindvault_api::broker::CreateRequest;
pub use blindvault_api::broker::{LeaseState, LeaseStatus};
use blindvault_api::broker_calls::{
    ApproveEnrolment, EntryDeleted, HostRevoked, PutEntry, PutOrg, PutRevocations, RegisterHost,
    RevocationsStored, RevocationsView,
};
use blindvault_api::paths;
use blindvault_api::sessions::Me;
use blindvault_api::step_ups::{StartStepUp, StepUpCancelled};
use blindvault_core::entry::SealedEntry;
use blindvault_core::identity::{SignedEnrolment, SignedHostCertificate, SignedRequest};
use blindvault_core::keys::OrgPublicKey;
use blindvault_core::revocation::SignedRevocations;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use zeroize::Zeroizing;

use crate::ClientError;

mod wallet;

/// The header carrying the consumer's poll token.
pub const POLL_HEADER: &str = blindvault_api::paths::POLL_HEADER;
/// The header carrying a confirmed step-up (a fresh passkey assertion bound to one destructive
/// action and its target, confirmed in the web app).
pub const STEP_UP_HEADER: &str = blindvault_api::paths::STEP_UP_HEADER;
/// Environment variable naming the command-line token file.
pub const TOKEN_FILE_ENV: &str = "BLINDVAULT_TOKEN_FILE";
/// The environment variable that named a web-session file before command-line tokens; a person
/// who still sets it is told to use a token instead.
pub const OLD_SESSION_FILE_ENV: &str = "BLINDVAULT_SESSION_FILE";
/// What to do without a usable token (the one text every message about it uses).
pub const TOKEN_HOWTO: &str = "make a command-line token in the web app (Account → Command-line tokens), then run \
     `blindvault login --server URL` (it keeps the token in the OS keyring), or save the token in a file only you \
     can read (chmod 600) and set BLINDVAULT_TOKEN_FILE (or pass --token-file FILE)";

/// A failed broker call. Never carries a session token, a poll token or a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// The server URL cannot be used.
    #[error("{url:?} is not a usable server URL: {why}")]
    BadUrl {
        /// What was given.
        url: String,
        /// Why not.
        why: String,
    },
    /// The server could not be reached, or the connection broke.
    #[error("cannot reach the server at {url}: {why}")]
    Unreachable {
        /// The server.
        url: String,
        /// The transport error.
        why: String,
    },
    /// The server answered with an error.
    #[error("the server refused: {message} ({code}, HTTP {status}){hint}")]
    Server {
        /// HTTP status.
        status: u16,
        /// The server's stable error code.
        code: String,
        /// The server's message.
        message: String,
        /// What to do about it (may be empty).
        hint: &'static str,
    },
    /// The server answered something this client does not understand.
    #[error("unexpected answer from the server (HTTP {status}): {why}")]
    Protocol {
        /// HTTP status.
        status: u16,
        /// What was wrong.
        why: String,
    },
    /// An admin call without a command-line token.
    #[error("no command-line token: {TOKEN_HOWTO}")]
    NoToken,
    /// An environment setting with a value that means nothing.
    #[error("{name}={value:?} is not understood: {why}")]
    BadSetting {
        /// The variable.
        name: &'static str,
        /// Its value (cut short).
        value: String,
        /// What it may be.
        why: &'static str,
    },
    /// An id that cannot go into a URL.
    #[error("{0:?} is not a valid id")]
    BadId(String),
}

impl ApiError {
    /// The server's error code, if the server answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            ApiError::Server { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The server's code as the contract knows it ([`ErrorCode::Unknown`] for a code from a
    /// newer server); `None` when the server did not answer with an error body.
    pub fn error_code(&self) -> Option<ErrorCode> {
        self.code().map(ErrorCode::from_wire)
    }
}

fn hint_for(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::TokenInvalid
        | ErrorCode::Unauthenticated
        | ErrorCode::InvalidSession
        | ErrorCode::SessionExpired
        | ErrorCode::SessionRevoked => {
            " — make a new token in the web app (Account → Command-line tokens) and run `blindvault login` \
             (or save it in your BLINDVAULT_TOKEN_FILE)"
        }
        ErrorCode::TokenScope => " — this needs a token of scope admin (a consumer-read token only reads)",
        ErrorCode::TokenNotAllowed => " — do this in the web app, signed in with your passkey",
        ErrorCode::Forbidden => " — this needs an admin's token (and an admin account)",
        ErrorCode::CrossOrigin => {
            " — use as --server the exact URL the web app is served from (the server's configured origin)"
        }
        ErrorCode::OrgNotSet => " — run `blindvault org push` first",
        ErrorCode::OrgAlreadySet => {
            " — the server has another org key; check `blindvault org show` (to replace it and re-enrol every \
             approver: `blindvault org push --replace`)"
        }
        ErrorCode::UnknownHost => " — register the host with `blindvault host issue` (or check --server)",
        ErrorCode::HostRevoked => " — issue a new host key with `blindvault host issue`",
        ErrorCode::NoSuchEntry => " — see `blindvault secret list`",
        ErrorCode::Gone => " — the response was already delivered once; ask again",
        ErrorCode::RateLimited => " — wait a moment and retry",
        ErrorCode::StepUpRequired
        | ErrorCode::StepUpNotConfirmed
        | ErrorCode::StepUpExpired
        | ErrorCode::StepUpUsed
        | ErrorCode::StepUpCancelled => {
            " — confirm the action with your passkey at the link the command prints, then run it again"
        }
        _ => "",
    }
}

/// Reads a command-line token from `path`: the token (`bvt_…`) alone on the first line. The file
/// must be readable by its owner alone (mode 0600).
pub fn read_token_file(path: &Path) -> Result<Zeroizing<String>, ClientError> {
    // Refused when group or others can read it (`chmod 600`).
    let bytes = crate::read_private(path).map_err(|e| match e {
        ClientError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            ClientError::NoTokenFile(path.display().to_string())
        }
        other => other,
    })?;
    let text = Zeroizing::new(String::from_utf8_lossy(&bytes).into_owned());
    let token = text.lines().next().unwrap_or("").trim();
    if token.is_empty() {
        return Err(ClientError::bad_file(path, "the token file is empty"));
    }
    check_token(token).map_err(|why| ClientError::bad_file(path, why))?;
    Ok(Zeroizing::new(token.to_string()))
}

/// Reads a command-line token for `blindvault login`: a hidden prompt on a terminal, otherwise
/// the first line piped in. Never from argv.
pub fn read_token_input() -> Result<Zeroizing<String>, ClientError> {
    use std::io::{BufRead, IsTerminal};
    let line = if std::io::stdin().is_terminal() {
        Zeroizing::new(
            rpassword::prompt_password("Paste the token (bvt_…, not echoed): ")
                .map_err(|e| ClientError::Local(format!("reading the token: {e}")))?,
        )
    } else {
        let mut line = Zeroizing::new(String::new());
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| ClientError::Local(format!("reading the token from stdin: {e}")))?;
        line
    };
    let token = line.trim();
    if token.is_empty() {
        return Err(ClientError::Input(format!("no token was given: {TOKEN_HOWTO}")));
    }
    check_token(token).map_err(ClientError::Input)?;
    Ok(Zeroizing::new(token.to_owned()))
}

/// Checks that `token` has a command-line token's shape (`bvt_` and 43 base64url characters);
/// the error says what it looks like instead (never the token).
pub fn check_token(token: &str) -> Result<(), String> {
    use blindvault_api::tokens::{TOKEN_LEN, TOKEN_PREFIX};
    if token.contains('=') && !token.starts_with(TOKEN_PREFIX) {
        return Err(format!("this looks like a web-session cookie, not a command-line token: {TOKEN_HOWTO}"));
    }
    if !token.starts_with(TOKEN_PREFIX)
        || token.len() != TOKEN_LEN
        || !token[TOKEN_PREFIX.len()..].bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(format!("this is not a command-line token (bvt_ and 43 characters): {TOKEN_HOWTO}"));
    }
    Ok(())
}

// The bodies the server answers with are the contract's (one definition for both sides).
pub use blindvault_api::accounts::{InviteCreated, InviteView, MeUser, StepUpView};
/// Where a consumer's request stands: the contract's poll result, tagged by its `status`.
pub use blindvault_api::broker::PollResult as PollOutcome;
pub use blindvault_api::broker::{
    ApproverView, CreatedRequest, EnrolmentView, EntryView, HostView, OrgSettings, OrgView, QuorumImpact,
    RemoveView,
};

/// The environment variable that allows plain `http` to a server on another machine.
pub const INSECURE_HTTP_ENV: &str = "BLINDVAULT_INSECURE_HTTP";

/// Reads [`INSECURE_HTTP_ENV`]: `1`, `true`, `yes` (any case) allow plain http; unset, empty,
/// `0`, `false`, `no` do not; anything else is an error (a typo must not open plaintext).
pub fn insecure_http_allowed() -> Result<bool, ApiError> {
    let Some(v) = std::env::var_os(INSECURE_HTTP_ENV) else { return Ok(false) };
    parse_switch(&v.to_string_lossy()).ok_or_else(|| ApiError::BadSetting {
        name: INSECURE_HTTP_ENV,
        value: v.to_string_lossy().chars().take(40).collect(),
        why: "use 1, true or yes to allow plain http to another machine; 0, false, no or empty for not",
    })
}

/// `1/true/yes` → on, `0/false/no/empty` → off, anything else → `None`.
fn parse_switch(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" => Some(true),
        "" | "0" | "false" | "no" => Some(false),
        _ => None,
    }
}

/// A broker client for one server.
#[derive(Clone)]
pub struct BrokerClient {
    http: reqwest::Client,
    base: String,
    origin: String,
    token: Option<Zeroizing<String>>,
    step_up: Option<String>,
}

impl std::fmt::Debug for BrokerClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrokerClient")
            .field("base", &self.base)
            .field("token", &self.token.as_ref().map(|_| "[REDACTED]"))
            .field("step_up", &self.step_up)
            .finish()
    }
}

/// Checks that `id` can be a URL path segment (ids are base64url).
fn seg(id: &str) -> Result<&str, ApiError> {
    if !id.is_empty()
        && id.len() <= 64
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        Ok(id)
    } else {
        Err(ApiError::BadId(id.chars().take(64).collect()))
    }
}

impl BrokerClient {
    /// A client for `server` (`http://host:port`, optionally with a path prefix).
    pub fn new(server: &str) -> Result<Self, ApiError> {
        let bad = |why: &str| ApiError::BadUrl { url: server.to_string(), why: why.to_string() };
        let url = url::Url::parse(server.trim()).map_err(|e| bad(&e.to_string()))?;
        let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]" | "::1"));
        match url.scheme() {
            "https" => {}
            // The session cookie must not cross a network in the clear; the secrets never do
            // (they are sealed end to end), but an admin session could be taken over.
            "http" if loopback || insecure_http_allowed()? => {}
            "http" => {
                return Err(bad(
                    "use https for a server that is not on this machine (or set BLINDVAULT_INSECURE_HTTP=1 on a network you trust)",
                ));
            }
            _ => return Err(bad("the scheme must be https (or http on localhost)")),
        }
        if url.host_str().is_none() {
            return Err(bad("no host"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad("credentials do not belong in the URL"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(bad("no query or fragment, please"));
        }
        let origin = url.origin().ascii_serialization();
        let base = url.as_str().trim_end_matches('/').to_string();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(90))
            .build()
            .map_err(|e| bad(&e.to_string()))?;
        Ok(Self { http, base, origin, token: None, step_up: None })
    }

    /// Adds a command-line token (see [`read_token_file`]).
    pub fn with_token(mut self, token: Zeroizing<String>) -> Self {
        self.token = Some(token);
        self
    }

    /// A copy of this client whose admin calls carry the confirmed step-up `id`.
    pub fn with_step_up(&self, id: &str) -> Self {
        Self { step_up: Some(id.to_owned()), ..self.clone() }
    }

    /// The server's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// GETs a static file of the web app (no cookie): its status, `Content-Security-Policy`
    /// header and body. Used by `blindvault web verify`.
    pub async fn get_asset(&self, path: &str) -> Result<(u16, Option<String>, Vec<u8>), ApiError> {
        let resp =
            self.http.get(format!("{}{path}", self.base)).send().await.map_err(|e| self.unreachable(e))?;
        let status = resp.status().as_u16();
        let csp = resp
            .headers()
            .get(reqwest::header::CONTENT_SECURITY_POLICY)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = resp.bytes().await.map_err(|e| self.unreachable(e))?;
        Ok((status, csp, body.to_vec()))
    }

    fn admin(&self, method: reqwest::Method, path: &str) -> Result<reqwest::RequestBuilder, ApiError> {
        let token = self.token.as_ref().ok_or(ApiError::NoToken)?;
        let changes = method != reqwest::Method::GET;
        let mut auth = reqwest::header::HeaderValue::from_str(&format!("Bearer {}", token.as_str()))
            .map_err(|_| ApiError::NoToken)?;
        auth.set_sensitive(true);
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header(reqwest::header::AUTHORIZATION, auth);
        if changes {
            req = req.header(reqwest::header::ORIGIN, &self.origin);
        }
        if let Some(id) = &self.step_up {
            req = req.header(STEP_UP_HEADER, id);
        }
        Ok(req)
    }

    async fn send<T: DeserializeOwned>(&self, req: reqwest::RequestBuilder) -> Result<T, ApiError> {
        let resp = req.send().await.map_err(|e| self.unreachable(e))?;
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.map_err(|e| self.unreachable(e))?;
        if !(200..300).contains(&status) {
            return Err(error_from(status, &bytes));
        }
        serde_json::from_slice(&bytes).map_err(|e| ApiError::Protocol { status, why: e.to_string() })
    }

    fn unreachable(&self, e: reqwest::Error) -> ApiError {
        // reqwest's message names the whole URL; ours names the server only.
        let why = if e.is_timeout() {
            "timed out".to_string()
        } else if e.is_connect() {
            "connection failed".to_string()
        } else {
            e.without_url().to_string()
        };
        ApiError::Unreachable { url: self.base.clone(), why }
    }

    // --- admin -------------------------------------------------------------------------------

    /// `GET /api/me`: the signed-in user (a host certificate names its issuer by this id).
    pub async fn me(&self) -> Result<MeUser, ApiError> {
        let me: Me = self.send(self.admin(reqwest::Method::GET, paths::ME)?).await?;
        Ok(MeUser { id: me.user.id, name: me.user.name })
    }

    /// `GET /api/tokens/me`: who the token is, its scope and expiry (`blindvault login`'s check).
    pub async fn token_whoami(&self) -> Result<blindvault_api::tokens::TokenWhoami, ApiError> {
        self.send(self.admin(reqwest::Method::GET, paths::TOKENS_ME)?).await
    }

    /// `GET /api/broker/org`.
    pub async fn get_org(&self) -> Result<OrgView, ApiError> {
        self.send(self.admin(reqwest::Method::GET, paths::BROKER_ORG)?).await
    }

    /// `PUT /api/broker/org`.
    pub async fn put_org(&self, org: &OrgPublicKey) -> Result<OrgView, ApiError> {
        let body = PutOrg { org_public_key: *org, replace: false };
        self.send(self.admin(reqwest::Method::PUT, paths::BROKER_ORG)?.json(&body)).await
    }

    /// `PUT /api/broker/org` replacing the key the server holds (needs a step-up for
    /// `org.replace` on the new key's fingerprint).
    pub async fn replace_org(&self, org: &OrgPublicKey) -> Result<OrgView, ApiError> {
        let body = PutOrg { org_public_key: *org, replace: true };
        self.send(self.admin(reqwest::Method::PUT, paths::BROKER_ORG)?.json(&body)).await
    }

    /// `POST /api/step-up/start`: a step-up for `action` on `target`, to be confirmed in the web
    /// app at `<server>/#/confirm/<id>`.
    pub async fn step_up_start(&self, action: &str, target: &str) -> Result<StepUpView, ApiError> {
        let body = StartStepUp { action: action.to_owned(), target: target.to_owned() };
        self.send(self.admin(reqwest::Method::POST, paths::STEP_UP_START)?.json(&body)).await
    }

    /// `GET /api/step-up/{id}`.
    pub async fn step_up_status(&self, id: &str) -> Result<StepUpView, ApiError> {
        let path = paths::with_id(paths::STEP_UP, seg(id)?);
        self.send(self.admin(reqwest::Method::GET, &path)?).await
    }

    /// `POST /api/step-up/{id}/cancel` (bounded: it runs while an interrupted command ends).
    pub async fn step_up_cancel(&self, id: &str) -> Result<(), ApiError> {
        let path = paths::with_id(paths::STEP_UP_CANCEL, seg(id)?);
        let req = self
            .admin(reqwest::Method::POST, &path)?
            .json(&serde_json::json!({}))
            .timeout(Duration::from_secs(5));
        let _: StepUpCancelled = self.send(req).await?;
        Ok(())
    }

    /// `POST /api/admin/invites`.
    pub async fn create_invite(&self, role: &str, expires_in_secs: u64) -> Result<InviteCreated, ApiError> {
        let body = CreateInvite {
            role: Some(role.to_owned()),
            expires_in_secs: Some(i64::try_from(expires_in_secs).unwrap_or(i64::MAX)),
        };
        self.send(self.admin(reqwest::Method::POST, paths::ADMIN_INVITES)?.json(&body)).await
    }

    /// `GET /api/admin/invites`.
    pub async fn invites(&self) -> Result<Vec<InviteView>, ApiError> {
        self.send(self.admin(reqwest::Method::GET, paths::ADMIN_INVITES)?).await
    }

    /// `DELETE /api/admin/invites/{id}`.
    pub async fn revoke_invite(&self, id: &str) -> Result<(), ApiError> {
        let path = paths::with_id(paths::ADMIN_INVITE, seg(id)?);
        let _: InviteRevoked = self.send(self.admin(reqwest::Method::DELETE, &path)?).await?;
        Ok(())
    }

    /// `GET /api/broker/org/settings`.
    pub async fn org_settings(&self) -> Result<OrgSettings, ApiError> {
        self.send(self.admin(reqwest::Method::GET, paths::BROKER_ORG_SETTINGS)?).await
    }

    /// `PUT /api/broker/org/settings`.
    pub async fn set_org_settings(&self, settings: &OrgSettings) -> Result<OrgSettings, ApiError> {
        self.send(self.admin(reqwest::Method::PUT, paths::BROKER_ORG_SETTINGS)?.json(settings)).await
    }

    /// `GET /api/broker/enrolments` (pending and approved).
    pub async fn enrolments(&self) -> Result<Vec<EnrolmentView>, ApiError> {
        self.send(self.admin(reqwest::Method::GET, paths::BROKER_ENROLMENTS)?).await
    }

    /// `POST /api/broker/enrolments/{id}/approve`.
    pub async fn approve_enrolment(
        &self,
        id: &str,
        signed: &SignedEnrolment,
    ) -> Result<EnrolmentView, ApiError> {
        let path = paths::with_id(paths::BROKER_ENROLMENT_APPROVE, seg(id)?);
        let body = ApproveEnrolment { signed_enrolment: signed.clone() };
        self.send(self.admin(reqwest::Method::POST, &path)?.json(&body)).await
    }

    /// `DELETE /api/broker/enrolments/{id}` (`dry_run`: only report the quorum impact).
    pub async fn remove_enrolment(&self, id: &str, dry_run: bool) -> Result<RemoveView, ApiError> {
        let path = format!("{}?dry_run={dry_run}", paths::with_id(paths::BROKER_ENROLMENT, seg(id)?));
        self.send(self.admin(reqwest::Method::DELETE, &path)?).await
    }

    /// `GET /api/broker/revocations`: the org's current revocation record, if any (not yet
    /// verified).
    pub async fn revocations(&self) -> Result<Option<SignedRevocations>, ApiError> {
        let b: RevocationsView =
            self.send(self.admin(reqwest::Method::GET, paths::BROKER_REVOCATIONS)?).await?;
        Ok(b.revocations)
    }

    /// `PUT /api/broker/revocations`: uploads a newer org-signed revocation record.
    pub async fn put_revocations(&self, record: &SignedRevocations) -> Result<(), ApiError> {
        let body = PutRevocations { revocations: record.clone() };
        let _: RevocationsStored =
            self.send(self.admin(reqwest::Method::PUT, paths::BROKER_REVOCATIONS)?.json(&body)).await?;
        Ok(())
    }

    /// `GET /api/broker/approvers`.
    pub async fn approvers(&self) -> Result<Vec<ApproverView>, ApiError> {
        self.send(self.admin(reqwest::Method::GET, paths::BROKER_APPROVERS)?).await
    }

    /// `POST /api/broker/hosts`.
    pub async fn register_host(&self, cert: &SignedHostCertificate) -> Result<HostView, ApiError> {
        let body = RegisterHost { certificate: cert.clone() };
        self.send(self.admin(reqwest::Method::POST, paths::BROKER_HOSTS)?.json(&body)).await
    }

    /// `GET /api/broker/hosts`.
    pub async fn hosts(&self) -> Result<Vec<HostView>, ApiError> {
        self.send(self.admin(reqwest::Method::GET, paths::BROKER_HOSTS)?).await
    }

    /// `POST /api/broker/hosts/{cert_id}/revoke`; returns how many open requests it ended.
    pub async fn revoke_host(&self, cert_id: &str) -> Result<u64, ApiError> {
        let path = paths::with_id(paths::BROKER_HOST_REVOKE, seg(cert_id)?);
        let r: HostRevoked =
            self.send(self.admin(reqwest::Method::POST, &path)?.json(&serde_json::json!({}))).await?;
        Ok(r.requests_ended)
    }

    /// `POST /api/broker/entries`.
    pub async fn put_entry(
        &self,
        entry: &SealedEntry,
        allow_self_approval: bool,
    ) -> Result<EntryView, ApiError> {
        let body = PutEntry { sealed_entry: entry.clone(), allow_self_approval };
        self.send(self.admin(reqwest::Method::POST, paths::BROKER_ENTRIES)?.json(&body)).await
    }

    /// `GET /api/broker/entries` (latest versions of live entries).
    pub async fn entries(&self) -> Result<Vec<EntryView>, ApiError> {
        self.send(self.admin(reqwest::Method::GET, paths::BROKER_ENTRIES)?).await
    }

    /// `GET /api/broker/entries/{id}`.
    pub async fn entry(&self, entry_id: &str) -> Result<EntryView, ApiError> {
        let path = paths::with_id(paths::BROKER_ENTRY, seg(entry_id)?);
        self.send(self.admin(reqwest::Method::GET, &path)?).await
    }

    /// `DELETE /api/broker/entries/{id}`.
    pub async fn delete_entry(&self, entry_id: &str) -> Result<(), ApiError> {
        let path = paths::with_id(paths::BROKER_ENTRY, seg(entry_id)?);
        let _: EntryDeleted = self.send(self.admin(reqwest::Method::DELETE, &path)?).await?;
        Ok(())
    }

    // --- consumer (no cookie) ----------------------------------------------------------------

    /// `POST /api/broker/requests` with the hex SHA-256 of the poll token.
    pub async fn create_request(
        &self,
        signed: &SignedRequest,
        poll_token_hash: &str,
    ) -> Result<CreatedRequest, ApiError> {
        let body = CreateRequest {
            signed_request: signed.clone(),
            poll_token_hash: Some(poll_token_hash.to_owned()),
        };
        self.send(self.http.post(format!("{}{}", self.base, paths::BROKER_REQUESTS)).json(&body)).await
    }

    /// `POST /api/broker/requests/{id}/cancel`: withdraws an open request, authenticated by its
    /// poll token. Approvers can no longer approve it.
    pub async fn cancel_request(&self, request_id: &str, poll_token: &str) -> Result<(), ApiError> {
        let url = format!("{}{}", self.base, paths::with_id(paths::BROKER_REQUEST_CANCEL, seg(request_id)?));
        // Bounded: this runs while the user waits for an interrupted command to end.
        let req = self.http.post(url).header(POLL_HEADER, poll_token).timeout(Duration::from_secs(5));
        let _: PollOutcome = self.send(req).await?;
        Ok(())
    }

    /// `GET /api/broker/requests/{id}/result?wait=N`: waits up to `wait_secs` (the server caps
    /// it at 30) for a decision.
    pub async fn poll_result(
        &self,
        request_id: &str,
        poll_token: &str,
        wait_secs: u64,
    ) -> Result<PollOutcome, ApiError> {
        let url = format!(
            "{}{}?wait={wait_secs}",
            self.base,
            paths::with_id(paths::BROKER_REQUEST_RESULT, seg(request_id)?)
        );
        self.send(self.http.get(url).header(POLL_HEADER, poll_token)).await
    }

    /// `GET /api/broker/requests/{id}/lease?wait=N`: waits up to `wait_secs` (the server caps it
    /// at 30) while the delivered request's lease runs; answers `ended` (with who) as soon as an
    /// approver or an admin ends it, `over` when its time has passed on the server's clock.
    pub async fn poll_lease(
        &self,
        request_id: &str,
        poll_token: &str,
        wait_secs: u64,
    ) -> Result<LeaseStatus, ApiError> {
        let url = format!(
            "{}{}?wait={wait_secs}",
            self.base,
            paths::with_id(paths::BROKER_REQUEST_LEASE, seg(request_id)?)
        );
        // Bounded a little beyond the server's wait, so a lost connection is noticed and retried.
        let req = self
            .http
            .get(url)
            .header(POLL_HEADER, poll_token)
            .timeout(Duration::from_secs(wait_secs.min(30) + 15));
        self.send(req).await
    }
}

fn error_from(status: u16, bytes: &[u8]) -> ApiError {
    #[derive(Deserialize)]
    struct Wrapper {
        error: Inner,
    }
    #[derive(Deserialize)]
    struct Inner {
        code: String,
        message: String,
    }
    match serde_json::from_slice::<Wrapper>(bytes) {
        Ok(w) => {
            let hint = hint_for(ErrorCode::from_wire(&w.error.code));
            ApiError::Server { status, code: w.error.code, message: w.error.message, hint }
        }
        Err(_) => ApiError::Protocol {
            status,
            why: if status == 404 {
                "not found — is this a blindvault server with the broker?".into()
            } else {
                "not a blindvault error body".into()
            },
        },
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn urls() {
        let c = BrokerClient::new("http://localhost:8080/").unwrap();
        assert_eq!(c.base, "http://localhost:8080");
        assert_eq!(c.origin, "http://localhost:8080");
        assert!(BrokerClient::new("ftp://x").is_err());
        assert!(BrokerClient::new("http://u:p@x").is_err());
        assert!(BrokerClient::new("nonsense").is_err());
    }

    #[test]
    fn switches() {
        for on in ["1", "true", "YES", " yes "] {
            assert_eq!(parse_switch(on), Some(true), "{on}");
        }
        for off in ["", "0", "false", "No"] {
            assert_eq!(parse_switch(off), Some(false), "{off}");
        }
        for bad in ["2", "on", "enable", "y"] {
            assert_eq!(parse_switch(bad), None, "{bad}");
        }
    }

    #[test]
    fn errors_name_code_and_hint() {
        let e =
            error_from(401, br#"{"error":{"code":"session_expired","message":"the session has expired"}}"#);
        let s = e.to_string();
        assert!(
            s.contains("session_expired") && s.contains("HTTP 401") && s.contains("Command-line tokens"),
            "{s}"
        );
        assert!(matches!(error_from(502, b"<html>"), ApiError::Protocol { status: 502, .. }));
    }

    #[test]
    fn token_file_forms() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t");
        let token = format!("bvt_{}", "A".repeat(43));
        std::fs::write(&p, format!("{token}\n")).unwrap();
        std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
        assert_eq!(read_token_file(&p).unwrap().as_str(), token);
        std::fs::write(&p, "\n").unwrap();
        assert!(read_token_file(&p).is_err());
        std::fs::write(&p, "bv_session=abc.def").unwrap();
        let e = read_token_file(&p).unwrap_err().to_string();
        assert!(e.contains("web-session cookie") && e.contains("Command-line tokens"), "{e}");
        std::fs::write(&p, "bvt_short").unwrap();
        assert!(read_token_file(&p).is_err());
        std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
        std::fs::write(&p, &token).unwrap();
        assert!(read_token_file(&p).unwrap_err().to_string().contains("chmod 600"));
        assert!(seg("../x").is_err());
        assert!(seg("AbC_-9").is_ok());
    }
}
