//! Every route of the API and its headers: the one list the server routes,
//! the clients call and the OpenAPI document describes.
//!
//! Paths are axum templates: `{id}` stands for one path segment (every id the API hands out is
//! base64url or hex, so it never needs escaping). [`with_id`] fills it in.

/// The header a consumer host polls and cancels with: its poll token, whose SHA-256 it signed
/// into the request.
pub const POLL_HEADER: &str = "x-blindvault-poll";
/// The header that carries a confirmed step-up's id to the action it was confirmed for.
pub const STEP_UP_HEADER: &str = "x-blindvault-step-up";
/// A path template with its `{id}` filled in.
pub fn with_id(template: &str, id: &str) -> String {
    template.replacen("{id}", id, 1)
}

macro_rules! paths {
    ($($(#[$doc:meta])* $name:ident = $path:literal;)*) => {
        $($(#[$doc])* pub const $name: &str = $path;)*
        /// Every path template above.
        pub const ALL: &[&str] = &[$($name),*];
    };
}

/// Operations paths, outside `/api` (no session, not in the API's route table): liveness for a
/// load balancer or orchestrator (plain text `ok`).
pub const HEALTHZ: &str = "/healthz";
/// Readiness: the database answers and its schema is current (200, or 503 saying which).
pub const READYZ: &str = "/readyz";
/// Prometheus metrics (only with `[metrics] enabled = true`).
pub const METRICS: &str = "/metrics";

paths! {
    /// Liveness.
    HEALTH = "/api/health";
    /// The OpenAPI document.
    OPENAPI = "/api/openapi.json";
    /// Registration ceremony, step 1.
    REGISTER_START = "/api/register/start";
    /// Registration ceremony, step 2.
    REGISTER_FINISH = "/api/register/finish";
    /// Sign-in ceremony, step 1.
    LOGIN_START = "/api/login/start";
    /// Sign-in ceremony, step 2.
    LOGIN_FINISH = "/api/login/finish";
    /// The signed-in person and session.
    ME = "/api/me";
    /// End this session.
    LOGOUT = "/api/logout";
    /// Sign out everywhere.
    LOGOUT_ALL = "/api/logout/all";
    /// My live sessions.
    SESSIONS = "/api/sessions";
    /// My command-line tokens (list; create with step-up `token.create`).
    TOKENS = "/api/tokens";
    /// The token a request carries: who, scope, expiry.
    TOKENS_ME = "/api/tokens/me";
    /// One of my tokens (revoke; an admin: anyone's).
    TOKEN = "/api/tokens/{id}";
    /// Every command-line token of the org (admin).
    ADMIN_TOKENS = "/api/admin/tokens";
    /// Claim the first admin with the setup code.
    SETUP_CLAIM = "/api/setup/claim";
    /// My passkeys.
    PASSKEYS = "/api/passkeys";
    /// Add a passkey, step 1.
    PASSKEYS_REGISTER_START = "/api/passkeys/register/start";
    /// Add a passkey, step 2.
    PASSKEYS_REGISTER_FINISH = "/api/passkeys/register/finish";
    /// One of my passkeys (rename, remove).
    PASSKEY = "/api/passkeys/{id}";
    /// Start a step-up.
    STEP_UP_START = "/api/step-up/start";
    /// A step-up's state.
    STEP_UP = "/api/step-up/{id}";
    /// Confirm a step-up.
    STEP_UP_CONFIRM = "/api/step-up/{id}/confirm";
    /// Cancel a step-up.
    STEP_UP_CANCEL = "/api/step-up/{id}/cancel";
    /// Every person.
    ADMIN_USERS = "/api/admin/users";
    /// One person.
    ADMIN_USER = "/api/admin/users/{id}";
    /// A person's role.
    ADMIN_USER_ROLE = "/api/admin/users/{id}/role";
    /// A person's sessions.
    ADMIN_USER_SESSIONS = "/api/admin/users/{id}/sessions";
    /// Revoke every session of a person.
    ADMIN_USER_REVOKE_SESSIONS = "/api/admin/users/{id}/revoke-sessions";
    /// One session.
    ADMIN_SESSION = "/api/admin/sessions/{id}";
    /// The audit log.
    ADMIN_AUDIT = "/api/admin/audit";
    /// Verify the audit chain.
    ADMIN_AUDIT_VERIFY = "/api/admin/audit/verify";
    /// The server's settings.
    ADMIN_SETTINGS = "/api/admin/settings";
    /// Invite codes.
    ADMIN_INVITES = "/api/admin/invites";
    /// One invite code.
    ADMIN_INVITE = "/api/admin/invites/{id}";
    /// The org public key.
    BROKER_ORG = "/api/broker/org";
    /// The org's settings.
    BROKER_ORG_SETTINGS = "/api/broker/org/settings";
    /// Approver enrolments.
    BROKER_ENROLMENTS = "/api/broker/enrolments";
    /// My enrolments.
    BROKER_ENROLMENTS_MINE = "/api/broker/enrolments/mine";
    /// One enrolment (remove).
    BROKER_ENROLMENT = "/api/broker/enrolments/{id}";
    /// Store an org-signed enrolment.
    BROKER_ENROLMENT_APPROVE = "/api/broker/enrolments/{id}/approve";
    /// Approved, org-signed enrolments.
    BROKER_APPROVERS = "/api/broker/approvers";
    /// The org-signed revocation record.
    BROKER_REVOCATIONS = "/api/broker/revocations";
    /// Host certificates.
    BROKER_HOSTS = "/api/broker/hosts";
    /// Revoke a host certificate.
    BROKER_HOST_REVOKE = "/api/broker/hosts/{id}/revoke";
    /// Sealed entries.
    BROKER_ENTRIES = "/api/broker/entries";
    /// One sealed entry.
    BROKER_ENTRY = "/api/broker/entries/{id}";
    /// Requests waiting for my decision.
    BROKER_INBOX = "/api/broker/inbox";
    /// Server-sent events about requests.
    BROKER_EVENTS = "/api/broker/events";
    /// A consumer's requests (create).
    BROKER_REQUESTS = "/api/broker/requests";
    /// One request.
    BROKER_REQUEST = "/api/broker/requests/{id}";
    /// Approval ceremony, step 1.
    BROKER_REQUEST_APPROVE_START = "/api/broker/requests/{id}/approve/start";
    /// Approval ceremony, step 2.
    BROKER_REQUEST_APPROVE_FINISH = "/api/broker/requests/{id}/approve/finish";
    /// Deny a request.
    BROKER_REQUEST_DENY = "/api/broker/requests/{id}/deny";
    /// The consumer's long poll.
    BROKER_REQUEST_RESULT = "/api/broker/requests/{id}/result";
    /// The consumer withdraws its request.
    BROKER_REQUEST_CANCEL = "/api/broker/requests/{id}/cancel";
    /// The server's VAPID public key (Web Push).
    PUSH_KEY = "/api/push/key";
    /// This device's push subscription: opt in.
    PUSH_SUBSCRIPTIONS = "/api/push/subscriptions";
    /// Opt a device out (by its endpoint).
    PUSH_UNSUBSCRIBE = "/api/push/subscriptions/remove";
    /// The consumer's long poll of its running lease.
    BROKER_REQUEST_LEASE = "/api/broker/requests/{id}/lease";
    /// An approver (or an admin) ends a running lease now.
    BROKER_REQUEST_LEASE_END = "/api/broker/requests/{id}/lease/end";
    /// Leases running now (and those ended early while their time lasts) that I can end.
    BROKER_LEASES = "/api/broker/leases";
    /// The wallet networks a signed-in person can reach (enabled endpoints; no URL, no credential).
    WALLET_NETWORKS = "/api/wallet/networks";
    /// The admin's default token list.
    WALLET_TOKENS = "/api/wallet/tokens";
    /// My published public addresses.
    WALLET_ADDRESSES = "/api/wallet/addresses";
    /// One of my published addresses.
    WALLET_ADDRESS = "/api/wallet/addresses/{id}";
    /// The RPC gateway: one call to a chain.
    WALLET_RPC = "/api/wallet/rpc";
    /// My wallet keyring: the origin passkey and the envelopes of my other passkeys.
    WALLET_KEYRING = "/api/wallet/keyring";
    /// Records my wallet's origin passkey (once).
    WALLET_KEYRING_ORIGIN = "/api/wallet/keyring/origin";
    /// The wallet envelope of one of my passkeys (`{id}`: its credential id).
    WALLET_KEYRING_ENVELOPE = "/api/wallet/keyring/envelopes/{id}";
    /// The RPC endpoints, one per chain and network.
    ADMIN_WALLET_ENDPOINTS = "/api/admin/wallet/endpoints";
    /// One RPC endpoint (`{id}` is `<chain>:<network>`).
    ADMIN_WALLET_ENDPOINT = "/api/admin/wallet/endpoints/{id}";
    /// The default token list.
    ADMIN_WALLET_TOKENS = "/api/admin/wallet/tokens";
    /// One default token.
    ADMIN_WALLET_TOKEN = "/api/admin/wallet/tokens/{id}";
    /// Every published address with its holder.
    ADMIN_WALLET_ADDRESSES = "/api/admin/wallet/addresses";
}
