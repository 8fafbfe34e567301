//! The route table: every method and path the server serves, who may call it, and a summary.
//! The server's router is checked against it and the OpenAPI document is made from it.

use crate::accounts::{InviteCreated, InviteView, StepUpView};
use crate::admin::{
    CreateInvite, InviteRevoked, RoleSet, SetRole, Settings, UserDeleted, UserSessions, Users,
};
use crate::audit::{AuditRows, VerifyReport};
use crate::broker::{
    ApproverView, CreateRequest, CreatedRequest, EnrolmentView, EntryView, HostView, LeaseStatus, LeaseView,
    OrgSettings, OrgView, PollResult, RemoveView,
};
use crate::broker_calls::{
    ApprovalRecorded, ApproveEnrolment, ApproveFinish, CreateEnrolment, EntryDeleted, HostRevoked, PutEntry,
    PutOrg, PutRevocations, RegisterHost, RequestDenied, RequestView, RevocationsStored, RevocationsView,
};
use crate::ceremony::{AddPasskeyStart, CeremonyAnswer, CeremonyStart, RegisterFinish, RegisterStart};
use crate::passkeys::{PasskeyAdded, PasskeyRemoved, PasskeyRenamed, Passkeys, RenamePasskey};
use crate::paths;
use crate::push::{PushKey, PushSubscribe, PushSubscribed, PushUnsubscribe, PushUnsubscribed};
use crate::sessions::{Claimed, Health, LoggedIn, Me, MySessions, Registered, SessionsRevoked, SetupClaim};
use crate::step_ups::{ConfirmStepUp, StartStepUp, StepUpCancelled, StepUpConfirmed};
use crate::tokens::{CliTokenList, CreateToken, TokenCreated, TokenRevoked, TokenWhoami};
use crate::wallet::{
    AddressList, AddressPublish, AddressView, Deleted, EndpointList, EndpointSet, EndpointView, GatewayReply,
    GatewayRequest, HeldAddressList, NetworkList, TokenList, TokenSet, TokenView,
};
use crate::wallet_keyring::{
    PutWalletEnvelope, SetWalletOrigin, WalletEnvelopeView, WalletKeyring, WalletOrigin,
};
use schemars::JsonSchema;
use serde::{Serialize, de::DeserializeOwned};

/// An HTTP method the API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// `GET`.
    Get,
    /// `POST`.
    Post,
    /// `PUT`.
    Put,
    /// `PATCH`.
    Patch,
    /// `DELETE`.
    Delete,
}

impl Method {
    /// The method in lower case, as OpenAPI writes it.
    pub const fn lower(self) -> &'static str {
        match self {
            Method::Get => "get",
            Method::Post => "post",
            Method::Put => "put",
            Method::Patch => "patch",
            Method::Delete => "delete",
        }
    }
    /// The method as HTTP writes it.
    pub const fn upper(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Access {
    /// Anyone (the ceremonies are rate-limited).
    None,
    /// A signed-in person: a browser session (cookie) or a command-line token within its scope.
    Session,
    /// A signed-in person's browser session only: a command-line token is refused
    /// (`token_not_allowed`).
    Browser,
    /// A signed-in admin's browser session only.
    BrowserAdmin,
    /// A command-line token only (`Authorization: Bearer bvt_…`).
    Token,
    /// A signed-in admin (a browser session, or a command-line token of scope `admin` whose
    /// account is an admin now).
    Admin,
    /// A signed-in person with an approved approver enrolment.
    Approver,
    /// A consumer host: its certificate signs the request; the poll token authenticates the poll.
    Host,
}

impl Access {
    /// The name used in the OpenAPI document's `x-role`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Access::None => "none",
            Access::Session => "session",
            Access::Browser => "browser",
            Access::BrowserAdmin => "browser-admin",
            Access::Token => "token",
            Access::Admin => "admin",
            Access::Approver => "approver",
            Access::Host => "host",
        }
    }
}

/// A JSON body's type, as the route table names it: its JSON Schema (for the OpenAPI
/// document) and a check that a body is exactly a value of the type (read into it and written
/// back unchanged: no member missing, extra or of another shape).
#[derive(Clone, Copy)]
pub struct Body {
    /// The type's JSON Schema (a reference into the generator's definitions for a named type).
    pub schema: fn(&mut schemars::SchemaGenerator) -> schemars::Schema,
    /// Whether a body is exactly a value of the type; the error says where it differs.
    pub check: fn(&serde_json::Value) -> Result<(), String>,
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Body")
    }
}

/// The body of type `T`.
pub const fn json<T: JsonSchema + Serialize + DeserializeOwned>() -> Body {
    Body { schema: schema_of::<T>, check: check_as::<T> }
}

fn schema_of<T: JsonSchema>(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
    generator.subschema_for::<T>()
}

fn check_as<T: Serialize + DeserializeOwned>(body: &serde_json::Value) -> Result<(), String> {
    let typed: T = serde_json::from_value(body.clone())
        .map_err(|e| format!("does not read as {}: {e}", std::any::type_name::<T>()))?;
    let again = serde_json::to_value(&typed).map_err(|e| e.to_string())?;
    if &again == body {
        Ok(())
    } else {
        Err(format!("{} writes back as {again}, not as the body sent: {body}", std::any::type_name::<T>()))
    }
}

/// What a route answers with on success.
#[derive(Debug, Clone, Copy)]
pub enum Reply {
    /// A JSON body of this type.
    Json(Body),
    /// A stream of server-sent events (`text/event-stream`).
    EventStream,
}

/// One route.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    /// Its method.
    pub method: Method,
    /// Its path template (see [`crate::paths`]).
    pub path: &'static str,
    /// Who may call it.
    pub access: Access,
    /// What it does (the OpenAPI summary).
    pub summary: &'static str,
    /// The JSON body it takes, if any.
    pub request: Option<Body>,
    /// What it answers with on success.
    pub reply: Reply,
}

/// A body not yet given a type of its own in this crate (any JSON value).
const ANY: Body = json::<serde_json::Value>();

/// Every route the server serves.
#[rustfmt::skip]
pub const ROUTES: &[Route] = &[
    Route { method: Method::Get, path: paths::HEALTH, access: Access::None, summary: "Liveness", request: None, reply: Reply::Json(json::<Health>()) },
    Route { method: Method::Get, path: paths::OPENAPI, access: Access::None, summary: "This document", request: None, reply: Reply::Json(ANY) },
    Route { method: Method::Post, path: paths::REGISTER_START, access: Access::None, summary: "Start registering a new account (creation options with PRF)", request: Some(json::<RegisterStart>()), reply: Reply::Json(json::<CeremonyStart>()) },
    Route { method: Method::Post, path: paths::REGISTER_FINISH, access: Access::None, summary: "Finish registration; sets the session cookie", request: Some(json::<RegisterFinish>()), reply: Reply::Json(json::<Registered>()) },
    Route { method: Method::Post, path: paths::LOGIN_START, access: Access::None, summary: "Start a usernameless login (request options with PRF)", request: None, reply: Reply::Json(json::<CeremonyStart>()) },
    Route { method: Method::Post, path: paths::LOGIN_FINISH, access: Access::None, summary: "Finish login; sets or extends the session cookie", request: Some(json::<CeremonyAnswer>()), reply: Reply::Json(json::<LoggedIn>()) },
    Route { method: Method::Get, path: paths::ME, access: Access::Session, summary: "The signed-in user and session", request: None, reply: Reply::Json(json::<Me>()) },
    Route { method: Method::Post, path: paths::LOGOUT, access: Access::Browser, summary: "End this session", request: None, reply: Reply::Json(json::<SessionsRevoked>()) },
    Route { method: Method::Post, path: paths::LOGOUT_ALL, access: Access::Browser, summary: "Sign out everywhere", request: None, reply: Reply::Json(json::<SessionsRevoked>()) },
    Route { method: Method::Get, path: paths::SESSIONS, access: Access::Browser, summary: "My live sessions", request: None, reply: Reply::Json(json::<MySessions>()) },
    Route { method: Method::Get, path: paths::TOKENS, access: Access::Browser, summary: "My command-line tokens (never the token or its hash)", request: None, reply: Reply::Json(json::<CliTokenList>()) },
    Route { method: Method::Post, path: paths::TOKENS, access: Access::Browser, summary: "Make a command-line token (step-up token.create, target the scope); the token is in the body, once", request: Some(json::<CreateToken>()), reply: Reply::Json(json::<TokenCreated>()) },
    Route { method: Method::Get, path: paths::TOKENS_ME, access: Access::Token, summary: "The token this request carries: who, scope, expiry", request: None, reply: Reply::Json(json::<TokenWhoami>()) },
    Route { method: Method::Delete, path: paths::TOKEN, access: Access::Browser, summary: "Revoke one of my tokens (an admin: anyone's)", request: None, reply: Reply::Json(json::<TokenRevoked>()) },
    Route { method: Method::Get, path: paths::ADMIN_TOKENS, access: Access::BrowserAdmin, summary: "Every command-line token of the org (never the token or its hash)", request: None, reply: Reply::Json(json::<CliTokenList>()) },
    Route { method: Method::Post, path: paths::SETUP_CLAIM, access: Access::Browser, summary: "Claim the first admin with the one-time setup code", request: Some(json::<SetupClaim>()), reply: Reply::Json(json::<Claimed>()) },
    Route { method: Method::Get, path: paths::PASSKEYS, access: Access::Browser, summary: "My passkeys", request: None, reply: Reply::Json(json::<Passkeys>()) },
    Route { method: Method::Post, path: paths::PASSKEYS_REGISTER_START, access: Access::Browser, summary: "Start adding another passkey", request: Some(json::<AddPasskeyStart>()), reply: Reply::Json(json::<CeremonyStart>()) },
    Route { method: Method::Post, path: paths::PASSKEYS_REGISTER_FINISH, access: Access::Browser, summary: "Finish adding another passkey", request: Some(json::<CeremonyAnswer>()), reply: Reply::Json(json::<PasskeyAdded>()) },
    Route { method: Method::Patch, path: paths::PASSKEY, access: Access::Browser, summary: "Rename a passkey", request: Some(json::<RenamePasskey>()), reply: Reply::Json(json::<PasskeyRenamed>()) },
    Route { method: Method::Delete, path: paths::PASSKEY, access: Access::Browser, summary: "Remove a passkey (never the last one; step-up passkey.delete)", request: None, reply: Reply::Json(json::<PasskeyRemoved>()) },
    Route { method: Method::Post, path: paths::STEP_UP_START, access: Access::Session, summary: "Start a step-up bound to an action and its target (header x-blindvault-step-up)", request: Some(json::<StartStepUp>()), reply: Reply::Json(json::<StepUpView>()) },
    Route { method: Method::Get, path: paths::STEP_UP, access: Access::Session, summary: "A step-up's action, target and status (options while pending)", request: None, reply: Reply::Json(json::<StepUpView>()) },
    Route { method: Method::Post, path: paths::STEP_UP_CONFIRM, access: Access::Browser, summary: "Confirm a step-up with a fresh passkey assertion", request: Some(json::<ConfirmStepUp>()), reply: Reply::Json(json::<StepUpConfirmed>()) },
    Route { method: Method::Post, path: paths::STEP_UP_CANCEL, access: Access::Session, summary: "Cancel an unused step-up", request: None, reply: Reply::Json(json::<StepUpCancelled>()) },
    Route { method: Method::Get, path: paths::ADMIN_USERS, access: Access::Admin, summary: "List users", request: None, reply: Reply::Json(json::<Users>()) },
    Route { method: Method::Delete, path: paths::ADMIN_USER, access: Access::Admin, summary: "Delete a user with their passkeys and sessions (step-up user.delete)", request: None, reply: Reply::Json(json::<UserDeleted>()) },
    Route { method: Method::Put, path: paths::ADMIN_USER_ROLE, access: Access::Admin, summary: "Set a user's role (step-up role.set)", request: Some(json::<SetRole>()), reply: Reply::Json(json::<RoleSet>()) },
    Route { method: Method::Get, path: paths::ADMIN_USER_SESSIONS, access: Access::Admin, summary: "A user's live sessions", request: None, reply: Reply::Json(json::<UserSessions>()) },
    Route { method: Method::Post, path: paths::ADMIN_USER_REVOKE_SESSIONS, access: Access::Admin, summary: "Revoke every session of a user", request: None, reply: Reply::Json(json::<SessionsRevoked>()) },
    Route { method: Method::Delete, path: paths::ADMIN_SESSION, access: Access::Admin, summary: "Revoke one session", request: None, reply: Reply::Json(json::<SessionsRevoked>()) },
    Route { method: Method::Get, path: paths::ADMIN_AUDIT, access: Access::Admin, summary: "Read the audit log", request: None, reply: Reply::Json(json::<AuditRows>()) },
    Route { method: Method::Get, path: paths::ADMIN_INVITES, access: Access::Admin, summary: "Invite codes (never the codes themselves) and who used them", request: None, reply: Reply::Json(json::<Vec<InviteView>>()) },
    Route { method: Method::Post, path: paths::ADMIN_INVITES, access: Access::Admin, summary: "Make a single-use invite code (role, expiry; an admin invite needs step-up invite.create)", request: Some(json::<CreateInvite>()), reply: Reply::Json(json::<InviteCreated>()) },
    Route { method: Method::Delete, path: paths::ADMIN_INVITE, access: Access::Admin, summary: "Revoke an unused invite code", request: None, reply: Reply::Json(json::<InviteRevoked>()) },
    Route { method: Method::Get, path: paths::ADMIN_AUDIT_VERIFY, access: Access::Admin, summary: "Verify the audit hash chain", request: None, reply: Reply::Json(json::<VerifyReport>()) },
    Route { method: Method::Get, path: paths::ADMIN_SETTINGS, access: Access::Admin, summary: "The settings this instance runs with (read-only)", request: None, reply: Reply::Json(json::<Settings>()) },
    Route { method: Method::Get, path: paths::BROKER_ORG, access: Access::Session, summary: "The org public key and its fingerprint (devices compare, never trust)", request: None, reply: Reply::Json(json::<OrgView>()) },
    Route { method: Method::Put, path: paths::BROKER_ORG, access: Access::Admin, summary: "Set the org public key (replacing it needs replace=true and step-up org.replace)", request: Some(json::<PutOrg>()), reply: Reply::Json(json::<OrgView>()) },
    Route { method: Method::Get, path: paths::BROKER_ORG_SETTINGS, access: Access::Admin, summary: "The org's settings (refuse_synced_approvers)", request: None, reply: Reply::Json(json::<OrgSettings>()) },
    Route { method: Method::Put, path: paths::BROKER_ORG_SETTINGS, access: Access::Admin, summary: "Change the org's settings", request: Some(json::<OrgSettings>()), reply: Reply::Json(json::<OrgSettings>()) },
    Route { method: Method::Get, path: paths::BROKER_ENROLMENTS, access: Access::Admin, summary: "Approver enrolments (filter with ?status=)", request: None, reply: Reply::Json(json::<Vec<EnrolmentView>>()) },
    Route { method: Method::Post, path: paths::BROKER_ENROLMENTS, access: Access::Browser, summary: "Ask to enrol this passkey's PRF-derived approver key", request: Some(json::<CreateEnrolment>()), reply: Reply::Json(json::<EnrolmentView>()) },
    Route { method: Method::Get, path: paths::BROKER_ENROLMENTS_MINE, access: Access::Session, summary: "My enrolments", request: None, reply: Reply::Json(json::<Vec<EnrolmentView>>()) },
    Route { method: Method::Post, path: paths::BROKER_ENROLMENT_APPROVE, access: Access::Admin, summary: "Store the org-signed enrolment", request: Some(json::<ApproveEnrolment>()), reply: Reply::Json(json::<EnrolmentView>()) },
    Route { method: Method::Delete, path: paths::BROKER_ENROLMENT, access: Access::Admin, summary: "Remove an approver (?dry_run=true reports quorum impact; else step-up approver.remove)", request: None, reply: Reply::Json(json::<RemoveView>()) },
    Route { method: Method::Get, path: paths::BROKER_APPROVERS, access: Access::Admin, summary: "Approved, org-signed enrolments (for writers to verify)", request: None, reply: Reply::Json(json::<Vec<ApproverView>>()) },
    Route { method: Method::Get, path: paths::BROKER_REVOCATIONS, access: Access::Session, summary: "The org-signed revocation record (newest), for devices to verify", request: None, reply: Reply::Json(json::<RevocationsView>()) },
    Route { method: Method::Put, path: paths::BROKER_REVOCATIONS, access: Access::Admin, summary: "Store a newer org-signed revocation record (409 revocation_rollback if not newer, 409 revocation_diverged if it does not contain the stored one)", request: Some(json::<PutRevocations>()), reply: Reply::Json(json::<RevocationsStored>()) },
    Route { method: Method::Get, path: paths::BROKER_HOSTS, access: Access::Admin, summary: "Host certificates", request: None, reply: Reply::Json(json::<Vec<HostView>>()) },
    Route { method: Method::Post, path: paths::BROKER_HOSTS, access: Access::Admin, summary: "Register an org-signed host certificate", request: Some(json::<RegisterHost>()), reply: Reply::Json(json::<HostView>()) },
    Route { method: Method::Post, path: paths::BROKER_HOST_REVOKE, access: Access::Admin, summary: "Revoke a host certificate; its open requests end (step-up host.revoke)", request: None, reply: Reply::Json(json::<HostRevoked>()) },
    Route { method: Method::Get, path: paths::BROKER_ENTRIES, access: Access::Admin, summary: "Latest sealed version of every entry", request: None, reply: Reply::Json(json::<Vec<EntryView>>()) },
    Route { method: Method::Post, path: paths::BROKER_ENTRIES, access: Access::Admin, summary: "Store a sealed entry (version 1) or a new version", request: Some(json::<PutEntry>()), reply: Reply::Json(json::<EntryView>()) },
    Route { method: Method::Get, path: paths::BROKER_ENTRY, access: Access::Admin, summary: "Latest sealed version of one entry", request: None, reply: Reply::Json(json::<EntryView>()) },
    Route { method: Method::Delete, path: paths::BROKER_ENTRY, access: Access::Admin, summary: "Delete an entry and all its ciphertext (step-up entry.delete)", request: None, reply: Reply::Json(json::<EntryDeleted>()) },
    Route { method: Method::Get, path: paths::BROKER_INBOX, access: Access::Approver, summary: "Pending requests waiting for my decision", request: None, reply: Reply::Json(json::<Vec<RequestView>>()) },
    Route { method: Method::Get, path: paths::BROKER_EVENTS, access: Access::Approver, summary: "Server-sent events about requests I can act on: `ready`, `request` (data: a request id), `resync` (re-read everything; first after `ready` when resumed with `Last-Event-ID` or `?last_event_id=`), `ended` (the session is over); every event has an id", request: None, reply: Reply::EventStream },
    Route { method: Method::Post, path: paths::BROKER_REQUESTS, access: Access::Host, summary: "A consumer's host-signed request (no cookie)", request: Some(json::<CreateRequest>()), reply: Reply::Json(json::<CreatedRequest>()) },
    Route { method: Method::Get, path: paths::BROKER_REQUEST, access: Access::Approver, summary: "A request with its certificate and sealed entry", request: None, reply: Reply::Json(json::<RequestView>()) },
    Route { method: Method::Post, path: paths::BROKER_REQUEST_APPROVE_START, access: Access::Browser, summary: "(An approver) Start the approval ceremony (PRF)", request: None, reply: Reply::Json(json::<CeremonyStart>()) },
    Route { method: Method::Post, path: paths::BROKER_REQUEST_APPROVE_FINISH, access: Access::Browser, summary: "(An approver) Finish: assertion and the sealed response", request: Some(json::<ApproveFinish>()), reply: Reply::Json(json::<ApprovalRecorded>()) },
    Route { method: Method::Post, path: paths::BROKER_REQUEST_DENY, access: Access::Browser, summary: "(An approver) Deny a request", request: None, reply: Reply::Json(json::<RequestDenied>()) },
    Route { method: Method::Get, path: paths::BROKER_REQUEST_RESULT, access: Access::Host, summary: "The consumer's long poll (x-blindvault-poll header)", request: None, reply: Reply::Json(json::<PollResult>()) },
    Route { method: Method::Post, path: paths::BROKER_REQUEST_CANCEL, access: Access::Host, summary: "The consumer withdraws its open request (x-blindvault-poll header)", request: None, reply: Reply::Json(json::<PollResult>()) },
    Route { method: Method::Get, path: paths::PUSH_KEY, access: Access::None, summary: "The server's VAPID public key and the org's display name (Web Push)", request: None, reply: Reply::Json(json::<PushKey>()) },
    Route { method: Method::Post, path: paths::PUSH_SUBSCRIPTIONS, access: Access::Browser, summary: "Opt this device in to pushes: its passkey and the browser's PushSubscription", request: Some(json::<PushSubscribe>()), reply: Reply::Json(json::<PushSubscribed>()) },
    Route { method: Method::Post, path: paths::PUSH_UNSUBSCRIBE, access: Access::Browser, summary: "Opt a device out of pushes (by its subscription's endpoint)", request: Some(json::<PushUnsubscribe>()), reply: Reply::Json(json::<PushUnsubscribed>()) },
    Route { method: Method::Get, path: paths::BROKER_REQUEST_LEASE, access: Access::Host, summary: "The consumer's long poll of its running lease: running, ended (by whom) or over (x-blindvault-poll header)", request: None, reply: Reply::Json(json::<LeaseStatus>()) },
    Route { method: Method::Post, path: paths::BROKER_REQUEST_LEASE_END, access: Access::Approver, summary: "End a running lease now (an approver of the request's entry, or an admin; 409 lease_not_running)", request: None, reply: Reply::Json(json::<LeaseView>()) },
    Route { method: Method::Get, path: paths::BROKER_LEASES, access: Access::Approver, summary: "Leases running now that I can end (an admin: all), and those ended early while their time lasts", request: None, reply: Reply::Json(json::<Vec<LeaseView>>()) },
    Route { method: Method::Get, path: paths::WALLET_NETWORKS, access: Access::Session, summary: "The wallet networks with an enabled RPC endpoint (chain, network, chain id; never a URL or credential)", request: None, reply: Reply::Json(json::<NetworkList>()) },
    Route { method: Method::Get, path: paths::WALLET_TOKENS, access: Access::Session, summary: "The admin's default token list", request: None, reply: Reply::Json(json::<TokenList>()) },
    Route { method: Method::Get, path: paths::WALLET_ADDRESSES, access: Access::Session, summary: "My published public addresses", request: None, reply: Reply::Json(json::<AddressList>()) },
    Route { method: Method::Post, path: paths::WALLET_ADDRESSES, access: Access::Browser, summary: "Publish one of my public addresses for watch-only display (never private material)", request: Some(json::<AddressPublish>()), reply: Reply::Json(json::<AddressView>()) },
    Route { method: Method::Delete, path: paths::WALLET_ADDRESS, access: Access::Browser, summary: "Withdraw one of my published addresses", request: None, reply: Reply::Json(json::<Deleted>()) },
    Route { method: Method::Post, path: paths::WALLET_RPC, access: Access::Session, summary: "The RPC gateway: one allow-listed read or broadcast call to a chain's endpoint (broadcasts audited)", request: Some(json::<GatewayRequest>()), reply: Reply::Json(json::<GatewayReply>()) },
    Route { method: Method::Get, path: paths::WALLET_KEYRING, access: Access::Session, summary: "My wallet keyring: the origin passkey and the wallet envelopes of my other passkeys (public: each opens only with its passkey's PRF output)", request: None, reply: Reply::Json(json::<WalletKeyring>()) },
    Route { method: Method::Put, path: paths::WALLET_KEYRING_ORIGIN, access: Access::Browser, summary: "Record my wallet's origin passkey, one of mine (create-only: never changes; step-up wallet.origin.set on my user id, confirmed by that passkey)", request: Some(json::<SetWalletOrigin>()), reply: Reply::Json(json::<WalletOrigin>()) },
    Route { method: Method::Put, path: paths::WALLET_KEYRING_ENVELOPE, access: Access::Browser, summary: "Store the wallet envelope of one of my passkeys other than the origin (create-only; removed with the passkey; step-up wallet.envelope.put on its credential id)", request: Some(json::<PutWalletEnvelope>()), reply: Reply::Json(json::<WalletEnvelopeView>()) },
    Route { method: Method::Get, path: paths::ADMIN_WALLET_ENDPOINTS, access: Access::Admin, summary: "The RPC endpoints (whether a credential is set, never the credential)", request: None, reply: Reply::Json(json::<EndpointList>()) },
    Route { method: Method::Put, path: paths::ADMIN_WALLET_ENDPOINTS, access: Access::Admin, summary: "Set the RPC endpoint of a chain and network (URL, optional write-only credential, enabled)", request: Some(json::<EndpointSet>()), reply: Reply::Json(json::<EndpointView>()) },
    Route { method: Method::Delete, path: paths::ADMIN_WALLET_ENDPOINT, access: Access::Admin, summary: "Remove an RPC endpoint (id <chain>:<network>)", request: None, reply: Reply::Json(json::<Deleted>()) },
    Route { method: Method::Get, path: paths::ADMIN_WALLET_TOKENS, access: Access::Admin, summary: "The default token list", request: None, reply: Reply::Json(json::<TokenList>()) },
    Route { method: Method::Post, path: paths::ADMIN_WALLET_TOKENS, access: Access::Admin, summary: "Add (or update) a default token", request: Some(json::<TokenSet>()), reply: Reply::Json(json::<TokenView>()) },
    Route { method: Method::Delete, path: paths::ADMIN_WALLET_TOKEN, access: Access::Admin, summary: "Remove a default token", request: None, reply: Reply::Json(json::<Deleted>()) },
    Route { method: Method::Get, path: paths::ADMIN_WALLET_ADDRESSES, access: Access::Admin, summary: "Who holds which published address (?address= to find one)", request: None, reply: Reply::Json(json::<HeldAddressList>()) },
];

/// The route with this method and path template, if the API has one.
pub fn find(method: Method, path: &str) -> Option<&'static Route> {
    ROUTES.iter().find(|r| r.method == method && r.path == path)
}

/// The route a request for this concrete path (`/api/broker/hosts/7f…/revoke`, a query allowed)
/// goes to: a template's `{id}` matches one non-empty segment, and a path without parameters
/// wins over one with (`/enrolments/mine` before `/enrolments/{id}`).
pub fn route_for(method: Method, concrete: &str) -> Option<&'static Route> {
    let path = concrete.split_once('?').map_or(concrete, |(p, _)| p);
    let matches = |template: &str| {
        let (mut t, mut p) = (template.split('/'), path.split('/'));
        loop {
            match (t.next(), p.next()) {
                (None, None) => return true,
                (Some("{id}"), Some(seg)) if !seg.is_empty() => {}
                (Some(a), Some(b)) if a == b => {}
                _ => return false,
            }
        }
    };
    let candidates = ROUTES.iter().filter(|r| r.method == method && matches(r.path));
    candidates.min_by_key(|r| r.path.matches("{id}").count())
}

impl Method {
    /// The method for an HTTP method name (upper case), if the API uses it.
    pub fn from_upper(name: &str) -> Option<Method> {
        [Method::Get, Method::Post, Method::Put, Method::Patch, Method::Delete]
            .into_iter()
            .find(|m| m.upper() == name)
    }
}
