//! The bodies of the account routes: who is signed in, registration and login results, sessions
//! and the setup claim.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A person's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
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
    /// Parses the wire (and database) form.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "user" => Some(Self::User),
            "approver" => Some(Self::Approver),
            "admin" => Some(Self::Admin),
            _ => None,
        }
    }
    /// The wire (and database) form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Approver => "approver",
            Self::Admin => "admin",
        }
    }
}

/// A user as the API shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct UserView {
    /// User id.
    pub id: String,
    /// User name.
    pub name: String,
    /// The name to show.
    pub display_name: String,
    /// `user`, `approver` or `admin` (as stored).
    pub role: String,
    /// When the account was made (Unix seconds).
    pub created_at: i64,
}

/// The session `GET /api/me` is answered for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SessionRef {
    /// Session row id.
    pub id: String,
    /// When it ends (Unix seconds).
    pub expires_at: i64,
}

/// `GET /api/me`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Me {
    /// The signed-in person.
    pub user: UserView,
    /// Their session.
    pub session: SessionRef,
    /// How long a passkey ceremony may take (the web app times its approval window by it).
    pub ceremony_ttl_secs: i64,
}

/// `POST /api/register/finish` (201, with the session cookie).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Registered {
    /// The new account.
    pub user: UserView,
    /// Its first passkey's id.
    pub credential_id: String,
}

/// `POST /api/login/finish` (with the session cookie).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct LoggedIn {
    /// Who signed in.
    pub user: UserView,
    /// The passkey they used.
    pub credential_id: String,
    /// Whether the caller's live session of the same person was extended (rather than a new one
    /// made).
    pub extended: bool,
}

/// How many sessions a logout or revocation ended (`/api/logout`, `/api/logout/all`,
/// `/api/admin/users/{id}/revoke-sessions`, `DELETE /api/admin/sessions/{id}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SessionsRevoked {
    /// Sessions that were live and are now revoked.
    pub revoked: u64,
}

/// A session listed for its owner or an admin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SessionView {
    /// Row id (`hex(SHA-256(sid))`): safe to show, useless as a credential.
    pub id: String,
    /// Owner.
    pub user_id: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub expires_at: i64,
    /// Unix seconds, if revoked.
    pub revoked_at: Option<i64>,
    /// Client address at sign-in.
    pub client_addr: Option<String>,
}

/// `GET /api/sessions`: my live sessions.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct MySessions {
    /// Oldest first.
    pub sessions: Vec<SessionView>,
    /// The row id of the session asking.
    pub current: String,
}

/// `POST /api/setup/claim`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct SetupClaim {
    /// The setup code the server printed at start.
    pub code: String,
}

/// The answer to a successful setup claim.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Claimed {
    /// `admin`.
    pub role: Role,
}

/// `GET /api/health`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Health {
    /// `ok`.
    pub status: String,
}
