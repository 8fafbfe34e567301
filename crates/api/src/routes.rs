//! The route table: every method and path the server serves, who may call it, and a summary.
//! The server's router is checked against it and the OpenAPI document is made from it.

use crate::paths;

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
    /// A signed-in person (session cookie or command-line token).
    Session,
    /// A signed-in admin.
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
            Access::Admin => "admin",
            Access::Approver => "approver",
            Access::Host => "host",
        }
    }
}

/// One route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// Its method.
    pub method: Method,
    /// Its path template (see [`crate::paths`]).
    pub path: &'static str,
    /// Who may call it.
    pub access: Access,
    /// What it does (the OpenAPI summary).
    pub summary: &'static str,
}

/// Every route the server serves.
#[rustfmt::skip]
pub const ROUTES: &[Route] = &[
    Route { method: Method::Get, path: paths::HEALTH, access: Access::None, summary: "Liveness" },
    Route { method: Method::Get, path: paths::OPENAPI, access: Access::None, summary: "This document" },
    Route { method: Method::Post, path: paths::REGISTER_START, access: Access::None, summary: "Start registering a new account (creation options with PRF)" },
    Route { method: Method::Post, path: paths::REGISTER_FINISH, access: Access::None, summary: "Finish registration; sets the session cookie" },
    Route { method: Method::Post, path: paths::LOGIN_START, access: Access::None, summary: "Start a usernameless login (request options with PRF)" },
    Route { method: Method::Post, path: paths::LOGIN_FINISH, access: Access::None, summary: "Finish login; sets or extends the session cookie" },
    Route { method: Method::Get, path: paths::ME, access: Access::Session, summary: "The signed-in user and session" },
    Route { method: Method::Post, path: paths::LOGOUT, access: Access::Session, summary: "End this session" },
    Route { method: Method::Post, path: paths::LOGOUT_ALL, access: Access::Session, summary: "Sign out everywhere" },
    Route { method: Method::Get, path: paths::SESSIONS, access: Access::Session, summary: "My live sessions" },
    Route { method: Method::Post, path: paths::SESSIONS_CLI, access: Access::Session, summary: "Make a command-line session with a fresh passkey assertion of the same person; the token is in the body, once" },
    Route { method: Method::Post, path: paths::SETUP_CLAIM, access: Access::Session, summary: "Claim the first admin with the one-time setup code" },
    Route { method: Method::Get, path: paths::PASSKEYS, access: Access::Session, summary: "My passkeys" },
    Route { method: Method::Post, path: paths::PASSKEYS_REGISTER_START, access: Access::Session, summary: "Start adding another passkey" },
    Route { method: Method::Post, path: paths::PASSKEYS_REGISTER_FINISH, access: Access::Session, summary: "Finish adding another passkey" },
    Route { method: Method::Patch, path: paths::PASSKEY, access: Access::Session, summary: "Rename a passkey" },
    Route { method: Method::Delete, path: paths::PASSKEY, access: Access::Session, summary: "Remove a passkey (never the last one; step-up passkey.delete)" },
    Route { method: Method::Post, path: paths::STEP_UP_START, access: Access::Session, summary: "Start a step-up bound to an action and its target (header x-blindvault-step-up)" },
    Route { method: Method::Get, path: paths::STEP_UP, access: Access::Session, summary: "A step-up's action, target and status (options while pending)" },
    Route { method: Method::Post, path: paths::STEP_UP_CONFIRM, access: Access::Session, summary: "Confirm a step-up with a fresh passkey assertion" },
    Route { method: Method::Post, path: paths::STEP_UP_CANCEL, access: Access::Session, summary: "Cancel an unused step-up" },
    Route { method: Method::Get, path: paths::ADMIN_USERS, access: Access::Admin, summary: "List users" },
    Route { method: Method::Delete, path: paths::ADMIN_USER, access: Access::Admin, summary: "Delete a user with their passkeys and sessions (step-up user.delete)" },
    Route { method: Method::Put, path: paths::ADMIN_USER_ROLE, access: Access::Admin, summary: "Set a user's role (step-up role.set)" },
    Route { method: Method::Get, path: paths::ADMIN_USER_SESSIONS, access: Access::Admin, summary: "A user's live sessions" },
    Route { method: Method::Post, path: paths::ADMIN_USER_REVOKE_SESSIONS, access: Access::Admin, summary: "Revoke every session of a user" },
    Route { method: Method::Delete, path: paths::ADMIN_SESSION, access: Access::Admin, summary: "Revoke one session" },
    Route { method: Method::Get, path: paths::ADMIN_AUDIT, access: Access::Admin, summary: "Read the audit log" },
    Route { method: Method::Get, path: paths::ADMIN_INVITES, access: Access::Admin, summary: "Invite codes (never the codes themselves) and who used them" },
    Route { method: Method::Post, path: paths::ADMIN_INVITES, access: Access::Admin, summary: "Make a single-use invite code (role, expiry; an admin invite needs step-up invite.create)" },
    Route { method: Method::Delete, path: paths::ADMIN_INVITE, access: Access::Admin, summary: "Revoke an unused invite code" },
    Route { method: Method::Get, path: paths::ADMIN_AUDIT_VERIFY, access: Access::Admin, summary: "Verify the audit hash chain" },
    Route { method: Method::Get, path: paths::ADMIN_SETTINGS, access: Access::Admin, summary: "The settings this instance runs with (read-only)" },
    Route { method: Method::Get, path: paths::BROKER_ORG, access: Access::Session, summary: "The org public key and its fingerprint (devices compare, never trust)" },
    Route { method: Method::Put, path: paths::BROKER_ORG, access: Access::Admin, summary: "Set the org public key (replacing it needs replace=true and step-up org.replace)" },
    Route { method: Method::Get, path: paths::BROKER_ORG_SETTINGS, access: Access::Admin, summary: "The org's settings (refuse_synced_approvers)" },
    Route { method: Method::Put, path: paths::BROKER_ORG_SETTINGS, access: Access::Admin, summary: "Change the org's settings" },
    Route { method: Method::Get, path: paths::BROKER_ENROLMENTS, access: Access::Admin, summary: "Approver enrolments (filter with ?status=)" },
    Route { method: Method::Post, path: paths::BROKER_ENROLMENTS, access: Access::Session, summary: "Ask to enrol this passkey's PRF-derived approver key" },
    Route { method: Method::Get, path: paths::BROKER_ENROLMENTS_MINE, access: Access::Session, summary: "My enrolments" },
    Route { method: Method::Post, path: paths::BROKER_ENROLMENT_APPROVE, access: Access::Admin, summary: "Store the org-signed enrolment" },
    Route { method: Method::Delete, path: paths::BROKER_ENROLMENT, access: Access::Admin, summary: "Remove an approver (?dry_run=true reports quorum impact; else step-up approver.remove)" },
    Route { method: Method::Get, path: paths::BROKER_APPROVERS, access: Access::Admin, summary: "Approved, org-signed enrolments (for writers to verify)" },
    Route { method: Method::Get, path: paths::BROKER_REVOCATIONS, access: Access::Session, summary: "The org-signed revocation record (newest), for devices to verify" },
    Route { method: Method::Put, path: paths::BROKER_REVOCATIONS, access: Access::Admin, summary: "Store a newer org-signed revocation record (409 revocation_rollback if not newer, 409 revocation_diverged if it does not contain the stored one)" },
    Route { method: Method::Get, path: paths::BROKER_HOSTS, access: Access::Admin, summary: "Host certificates" },
    Route { method: Method::Post, path: paths::BROKER_HOSTS, access: Access::Admin, summary: "Register an org-signed host certificate" },
    Route { method: Method::Post, path: paths::BROKER_HOST_REVOKE, access: Access::Admin, summary: "Revoke a host certificate; its open requests end (step-up host.revoke)" },
    Route { method: Method::Get, path: paths::BROKER_ENTRIES, access: Access::Admin, summary: "Latest sealed version of every entry" },
    Route { method: Method::Post, path: paths::BROKER_ENTRIES, access: Access::Admin, summary: "Store a sealed entry (version 1) or a new version" },
    Route { method: Method::Get, path: paths::BROKER_ENTRY, access: Access::Admin, summary: "Latest sealed version of one entry" },
    Route { method: Method::Delete, path: paths::BROKER_ENTRY, access: Access::Admin, summary: "Delete an entry and all its ciphertext (step-up entry.delete)" },
    Route { method: Method::Get, path: paths::BROKER_INBOX, access: Access::Approver, summary: "Pending requests waiting for my decision" },
    Route { method: Method::Get, path: paths::BROKER_EVENTS, access: Access::Approver, summary: "Server-sent events about requests I can act on" },
    Route { method: Method::Post, path: paths::BROKER_REQUESTS, access: Access::Host, summary: "A consumer's host-signed request (no cookie)" },
    Route { method: Method::Get, path: paths::BROKER_REQUEST, access: Access::Approver, summary: "A request with its certificate and sealed entry" },
    Route { method: Method::Post, path: paths::BROKER_REQUEST_APPROVE_START, access: Access::Approver, summary: "Start the approval ceremony (PRF)" },
    Route { method: Method::Post, path: paths::BROKER_REQUEST_APPROVE_FINISH, access: Access::Approver, summary: "Finish: assertion and the sealed response" },
    Route { method: Method::Post, path: paths::BROKER_REQUEST_DENY, access: Access::Approver, summary: "Deny a request" },
    Route { method: Method::Get, path: paths::BROKER_REQUEST_RESULT, access: Access::Host, summary: "The consumer's long poll (x-blindvault-poll header)" },
    Route { method: Method::Post, path: paths::BROKER_REQUEST_CANCEL, access: Access::Host, summary: "The consumer withdraws its open request (x-blindvault-poll header)" },
    Route { method: Method::Get, path: paths::WALLET_NETWORKS, access: Access::Session, summary: "The wallet networks with an enabled RPC endpoint (chain, network, chain id; never a URL or credential)" },
    Route { method: Method::Get, path: paths::WALLET_TOKENS, access: Access::Session, summary: "The admin's default token list" },
    Route { method: Method::Get, path: paths::WALLET_ADDRESSES, access: Access::Session, summary: "My published public addresses" },
    Route { method: Method::Post, path: paths::WALLET_ADDRESSES, access: Access::Session, summary: "Publish one of my public addresses for watch-only display (never private material)" },
    Route { method: Method::Delete, path: paths::WALLET_ADDRESS, access: Access::Session, summary: "Withdraw one of my published addresses" },
    Route { method: Method::Post, path: paths::WALLET_RPC, access: Access::Session, summary: "The RPC gateway: one allow-listed read or broadcast call to a chain's endpoint (broadcasts audited)" },
    Route { method: Method::Get, path: paths::ADMIN_WALLET_ENDPOINTS, access: Access::Admin, summary: "The RPC endpoints (whether a credential is set, never the credential)" },
    Route { method: Method::Put, path: paths::ADMIN_WALLET_ENDPOINTS, access: Access::Admin, summary: "Set the RPC endpoint of a chain and network (URL, optional write-only credential, enabled)" },
    Route { method: Method::Delete, path: paths::ADMIN_WALLET_ENDPOINT, access: Access::Admin, summary: "Remove an RPC endpoint (id <chain>:<network>)" },
    Route { method: Method::Get, path: paths::ADMIN_WALLET_TOKENS, access: Access::Admin, summary: "The default token list" },
    Route { method: Method::Post, path: paths::ADMIN_WALLET_TOKENS, access: Access::Admin, summary: "Add (or update) a default token" },
    Route { method: Method::Delete, path: paths::ADMIN_WALLET_TOKEN, access: Access::Admin, summary: "Remove a default token" },
    Route { method: Method::Get, path: paths::ADMIN_WALLET_ADDRESSES, access: Access::Admin, summary: "Who holds which published address (?address= to find one)" },
];

/// The route with this method and path template, if the API has one.
pub fn find(method: Method, path: &str) -> Option<&'static Route> {
    ROUTES.iter().find(|r| r.method == method && r.path == path)
}
