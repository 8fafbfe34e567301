//! The bodies of the admin's routes: people, roles, sessions, invites and settings (the audit
//! log's are in [`crate::audit`]).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::sessions::{Role, SessionView, UserView};

/// `GET /api/admin/users`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Users {
    /// Oldest first.
    pub users: Vec<UserView>,
}

/// `DELETE /api/admin/users/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct UserDeleted {
    /// The id of the user deleted.
    pub deleted: String,
}

/// `PUT /api/admin/users/{id}/role`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct SetRole {
    /// The new role.
    pub role: Role,
}

/// The answer to a role change.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RoleSet {
    /// The user.
    pub id: String,
    /// Their role now.
    pub role: Role,
}

/// `GET /api/admin/users/{id}/sessions`: a person's live sessions.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct UserSessions {
    /// Oldest first.
    pub sessions: Vec<SessionView>,
}

/// `POST /api/admin/invites`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct CreateInvite {
    /// `user` (default) or `admin`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Seconds until the code expires (default 7 days, at most 30).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_secs: Option<i64>,
}

/// `DELETE /api/admin/invites/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct InviteRevoked {
    /// The id of the invite revoked.
    pub revoked: String,
}

/// `GET /api/admin/settings`: the instance's settings as it runs.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Settings {
    /// The WebAuthn relying party id.
    pub rp_id: String,
    /// The origin the web app is served from.
    pub origin: String,
    /// The relying party's name.
    pub rp_name: String,
    /// Session lifetime.
    pub session_ttl_secs: i64,
    /// Ceremony (challenge) lifetime.
    pub challenge_ttl_secs: i64,
    /// Per-address rate limit.
    pub rate_limit_per_minute: u32,
    /// Per-address burst.
    pub rate_limit_burst: u32,
    /// Per-account rate limit of failed passkey attempts.
    pub account_rate_limit_per_minute: u32,
    /// Per-account burst.
    pub account_rate_limit_burst: u32,
    /// `sqlite` or `postgresql`.
    pub database: String,
    /// The push services approvers' subscriptions may be at (`[push] services`: host names,
    /// `*.` suffixes, or `*` for any https host).
    pub push_services: Vec<String>,
}
