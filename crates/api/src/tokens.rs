//! The bodies of the command-line token routes (docs/server.md "Command-line tokens").

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The prefix of every command-line token: `bvt_` + base64url (no padding) of 32 random bytes.
pub const TOKEN_PREFIX: &str = "bvt_";

/// The length of a token string: the prefix and 43 base64url characters.
pub const TOKEN_LEN: usize = 4 + 43;

/// The expiry a new token gets when none is asked for (days).
pub const DEFAULT_DAYS: i64 = 30;

/// The longest a token may live (days).
pub const MAX_DAYS: i64 = 365;

/// The shortest a token may live (days).
pub const MIN_DAYS: i64 = 1;

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum TokenScope {
    /// What the admin command line does, acting as the account with its current role (only an
    /// admin may make one; it gives no admin power once the account is no longer admin).
    #[serde(rename = "admin")]
    Admin,
    /// Read-only calls (`GET`) the account may make.
    #[serde(rename = "consumer-read")]
    ConsumerRead,
}

impl TokenScope {
    /// The wire (and database) form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::ConsumerRead => "consumer-read",
        }
    }
    /// Parses the wire (and database) form.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "admin" => Some(Self::Admin),
            "consumer-read" => Some(Self::ConsumerRead),
            _ => None,
        }
    }
}

/// `POST /api/tokens` (a browser session, step-up `token.create` with target the scope).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct CreateToken {
    /// A name for the person to recognise it by (1 to 64 characters).
    pub name: String,
    /// What it may do.
    pub scope: TokenScope,
    /// How many days it lives (1 to 365; 30 when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_days: Option<i64>,
}

/// A token as its owner's (or an admin's) list shows it: never the token, never its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TokenInfo {
    /// Its id (public, useless as a credential).
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its owner's user id.
    pub user_id: String,
    /// Its owner's user name.
    pub user_name: String,
    /// `admin` or `consumer-read`.
    pub scope: TokenScope,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub expires_at: i64,
    /// Unix seconds, if revoked.
    pub revoked_at: Option<i64>,
    /// When it was last used (Unix seconds).
    pub last_used_at: Option<i64>,
    /// The client address of its last use.
    pub last_used_addr: Option<String>,
}

/// The reply to `POST /api/tokens` (201): the token, this once.
#[derive(Serialize, Deserialize, JsonSchema)]
pub struct TokenCreated {
    /// The token (`bvt_…`): shown this once; the server keeps only its SHA-256.
    pub token: String,
    /// The token as lists show it.
    pub info: TokenInfo,
}

impl std::fmt::Debug for TokenCreated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCreated").field("token", &"[REDACTED]").field("info", &self.info).finish()
    }
}

/// `GET /api/tokens` (mine) and `GET /api/admin/tokens` (the org's), newest first.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct CliTokenList {
    /// The tokens, live ones and those revoked or expired in the last 30 days.
    pub tokens: Vec<TokenInfo>,
}

/// `DELETE /api/tokens/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TokenRevoked {
    /// The revoked token's id.
    pub revoked: String,
}

/// `GET /api/tokens/me`: who a token is, what it may do and until when (the command line's
/// `blindvault login` check).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TokenWhoami {
    /// The token as lists show it.
    pub token: TokenInfo,
    /// The account's current role (`user`, `approver` or `admin`).
    pub role: String,
}
