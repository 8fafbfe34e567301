//! The audit log's bodies: its rows, the verification report and the anchor (a row's position
//! and hash kept outside the database). docs/protocol.md §9 specifies the chain.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `GET /api/admin/audit?after=SEQ&limit=N` (`after` 0 and `limit` 100 when absent; `limit` is
/// held to 1..=1000).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct AuditQuery {
    /// Rows after this `seq`.
    #[serde(default)]
    pub after: i64,
    /// How many rows at most.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
}

/// A stored audit row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AuditRow {
    /// Position in the chain, from 1.
    pub seq: i64,
    /// Unix seconds.
    pub at: i64,
    /// Actor user id.
    pub actor: Option<String>,
    /// Action name.
    pub action: String,
    /// Target id.
    pub target: Option<String>,
    /// Details (JSON text).
    pub detail: String,
    /// Hash of the previous row (hex).
    pub prev_hash: String,
    /// This row's hash (hex).
    pub hash: String,
}

/// `GET /api/admin/audit`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct AuditRows {
    /// In `seq` order.
    pub rows: Vec<AuditRow>,
}

/// The first row found bad, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct BadRow {
    /// The `seq` of the row (or, for a missing tail, the last good row).
    pub seq: i64,
    /// What is wrong.
    pub reason: String,
}

/// The result of a walk of the chain (`GET /api/admin/audit/verify`, `blindvault audit verify`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct VerifyReport {
    /// Rows checked.
    pub rows: i64,
    /// The first bad row, if any.
    pub first_bad: Option<BadRow>,
    /// The last row of an intact chain: the anchor to keep outside the database.
    pub head: Option<Anchor>,
}

/// A row's position and hash, recorded outside the database (a ticket, a log shipped elsewhere,
/// a printout). A chain rewritten from an earlier row onward — which someone with write access
/// to the database can do consistently, head included — no longer has this hash at this row.
/// Written `SEQ:HASH` (decimal, 64 hex digits).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Anchor {
    /// The row's `seq` (from 1).
    pub seq: i64,
    /// The row's hash, lowercase hex.
    pub hash: String,
}

impl core::fmt::Display for Anchor {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}:{}", self.seq, self.hash)
    }
}

impl core::str::FromStr for Anchor {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad =
            || format!("{s:?} is not an audit anchor: expected SEQ:HASH (a row number, ':', 64 hex digits)");
        let (seq, hash) = s.trim().split_once(':').ok_or_else(bad)?;
        let seq: i64 = seq.parse().map_err(|_| bad())?;
        if seq < 1 || hash.len() != 64 || !hash.bytes().all(|c| c.is_ascii_hexdigit()) {
            return Err(bad());
        }
        Ok(Self { seq, hash: hash.to_ascii_lowercase() })
    }
}
