//! Release policies.

use crate::Error;

/// Who must approve before a secret is released.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Policy {
    /// Any one of the `n` enrolled approvers. Each envelope holds the DEK.
    AnyOf {
        /// Number of approvers (envelopes).
        n: u8,
    },
    /// `m` distinct approvers of `n`. The DEK is Shamir-split; each envelope holds one share.
    MOfN {
        /// Threshold.
        m: u8,
        /// Number of approvers (envelopes).
        n: u8,
    },
}

impl Policy {
    /// Checks that the policy is satisfiable: 1 ≤ m ≤ n ≤ 255, and m ≥ 2 for `m-of-n` (a 1-of-n
    /// policy is `any-of`).
    pub fn validate(&self) -> Result<(), Error> {
        match *self {
            Policy::AnyOf { n } if n >= 1 => Ok(()),
            Policy::MOfN { m, n } if m >= 2 && m <= n => Ok(()),
            _ => Err(Error::InvalidPolicy),
        }
    }
    /// Number of envelopes.
    pub fn n(&self) -> u8 {
        match *self {
            Policy::AnyOf { n } | Policy::MOfN { n, .. } => n,
        }
    }
    /// Number of approvals needed.
    pub fn threshold(&self) -> u8 {
        match *self {
            Policy::AnyOf { .. } => 1,
            Policy::MOfN { m, .. } => m,
        }
    }
    /// Canonical 3 bytes: kind (1 = any-of, 2 = m-of-n) ‖ m ‖ n.
    pub fn to_bytes(&self) -> [u8; 3] {
        match *self {
            Policy::AnyOf { n } => [1, 1, n],
            Policy::MOfN { m, n } => [2, m, n],
        }
    }
    /// Decodes and validates the canonical 3 bytes.
    pub fn from_bytes(b: [u8; 3]) -> Result<Self, Error> {
        let p = match b {
            [1, 1, n] => Policy::AnyOf { n },
            [2, m, n] => Policy::MOfN { m, n },
            _ => return Err(Error::Malformed { what: "policy" }),
        };
        p.validate()?;
        Ok(p)
    }
}
