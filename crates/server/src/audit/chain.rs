//! The chain: canonical rows, hashes and appends (see the module above for the format).

use sha2::{Digest, Sha256};

use super::store::{self as db, NewRow};
use crate::store::Store;

const DOMAIN: &[u8] = b"blindvault/v1/audit";
/// The `prev_hash` of the first row.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One audit event to append.
#[derive(Debug, Clone)]
pub struct Event<'a> {
    /// Who acted (a user id), if anyone signed in.
    pub actor: Option<&'a str>,
    /// What happened, e.g. `login`, `admin.role.set`.
    pub action: &'a str,
    /// What it happened to (a user, session or passkey id).
    pub target: Option<&'a str>,
    /// A JSON object with details (never secrets).
    pub detail: serde_json::Value,
}

/// A stored audit row (the contract's type: `GET /api/admin/audit` lists them).
pub use blindvault_api::audit::AuditRow;

/// A stored chain hash that is not 64 hex digits (a damaged or edited database): never hashed as
/// if it were some other value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the stored hash {0:?} is not 64 hex digits")]
pub struct MalformedHash(String);

/// The 32 bytes of a chain hash written as 64 hex digits.
pub(crate) fn hash_bytes(hex_text: &str) -> Result<[u8; 32], MalformedHash> {
    let malformed = || MalformedHash(hex_text.chars().take(80).collect());
    let bytes = hex::decode(hex_text).map_err(|_| malformed())?;
    bytes.try_into().map_err(|_| malformed())
}

impl From<MalformedHash> for sqlx::Error {
    fn from(e: MalformedHash) -> Self {
        sqlx::Error::Decode(Box::new(e))
    }
}

/// What a stored row's contents hash to (the row type is the contract's, so the hashing is
/// this trait).
pub trait RowHash {
    /// The hash this row's contents give after a row whose hash is `prev` (what it must carry).
    fn hash_after(&self, prev: &str) -> Result<String, MalformedHash>;
}

impl RowHash for AuditRow {
    fn hash_after(&self, prev: &str) -> Result<String, MalformedHash> {
        row_hash(
            prev,
            self.seq,
            self.at,
            self.actor.as_deref(),
            &self.action,
            self.target.as_deref(),
            &self.detail,
        )
    }
}

fn put_str(buf: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => {
            let len = u32::try_from(s.len()).unwrap_or(u32::MAX - 1);
            buf.extend_from_slice(&len.to_be_bytes());
            buf.extend_from_slice(s.as_bytes());
        }
        None => buf.extend_from_slice(&u32::MAX.to_be_bytes()),
    }
}

/// The row's bytes under its hash (after the domain label and the previous hash).
pub(crate) fn canonical_row(
    seq: i64,
    at: i64,
    actor: Option<&str>,
    action: &str,
    target: Option<&str>,
    detail: &str,
) -> Vec<u8> {
    let mut buf = Vec::with_capacity(128 + detail.len());
    buf.extend_from_slice(&seq.to_be_bytes());
    buf.extend_from_slice(&at.to_be_bytes());
    put_str(&mut buf, actor);
    put_str(&mut buf, Some(action));
    put_str(&mut buf, target);
    put_str(&mut buf, Some(detail));
    buf
}

/// The hash a row must carry, given the previous row's hash (hex). A previous hash that is not
/// 64 hex digits is an error.
pub fn row_hash(
    prev_hash: &str,
    seq: i64,
    at: i64,
    actor: Option<&str>,
    action: &str,
    target: Option<&str>,
    detail: &str,
) -> Result<String, MalformedHash> {
    let prev = hash_bytes(prev_hash)?;
    let mut h = Sha256::new();
    h.update(DOMAIN);
    h.update(prev);
    h.update(canonical_row(seq, at, actor, action, target, detail));
    Ok(hex::encode(h.finalize()))
}

/// The stored (and hashed) text of an event's `detail`: compact JSON, object members sorted by
/// key (UTF-8 byte order) at every depth, strings and numbers as `serde_json` writes them. The
/// order does not depend on whether this build's `serde_json` keeps insertion order (its
/// `preserve_order` feature, which a dependency of the test kit turns on).
pub(crate) fn detail_text(v: &serde_json::Value) -> String {
    fn write(v: &serde_json::Value, out: &mut String) {
        match v {
            serde_json::Value::Object(map) => {
                let mut members: Vec<(&String, &serde_json::Value)> = map.iter().collect();
                members.sort_by(|a, b| a.0.cmp(b.0));
                out.push('{');
                for (i, (k, v)) in members.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&serde_json::Value::String(k.clone()).to_string());
                    out.push(':');
                    write(v, out);
                }
                out.push('}');
            }
            serde_json::Value::Array(items) => {
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write(v, out);
                }
                out.push(']');
            }
            scalar => out.push_str(&scalar.to_string()),
        }
    }
    let mut out = String::new();
    write(v, &mut out);
    out
}

/// Appends an event. Appends are serialised by the `audit_head` row (a write lock on SQLite, a
/// row lock on PostgreSQL), so concurrent instances never fork the chain.
pub async fn append(store: &Store, at: i64, ev: Event<'_>) -> Result<i64, sqlx::Error> {
    let mut tx = store.pool().begin().await?;
    let seq = append_in(store, &mut tx, at, ev).await?;
    tx.commit().await?;
    Ok(seq)
}

/// Appends an event inside the caller's transaction, so that the action and its audit row
/// commit together (or not at all) and share one commit. Call it after the transaction's other
/// writes: from here to the commit the transaction holds the chain's head row, which every
/// other append waits for.
///
/// Usually two statements: the head this process wrote last is a guess, and the head is moved
/// on only if it still holds exactly that sequence number and hash (a compare-and-swap that
/// takes the head's lock). If another instance or transaction appended meanwhile — or the
/// transaction that wrote the guess rolled back — nothing matches and the append takes the
/// head's current value under its lock instead (three statements). One append at a time holds
/// the guess ([`Store::take_audit_hint`]); those that start meanwhile take the head's value at
/// once. The database, not the guess, decides what the new row links to.
pub async fn append_in(
    store: &Store,
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    at: i64,
    ev: Event<'_>,
) -> Result<i64, sqlx::Error> {
    let detail = detail_text(&ev.detail);
    let row = |seq, prev_hash, hash| NewRow {
        seq,
        at,
        actor: ev.actor,
        action: ev.action,
        target: ev.target,
        detail: &detail,
        prev_hash,
        hash,
    };
    if let Some((prev_seq, prev)) = store.take_audit_hint() {
        let seq = prev_seq.saturating_add(1);
        let hash = row_hash(&prev, seq, at, ev.actor, ev.action, ev.target, &detail)?;
        if db::move_head(tx, prev_seq, &prev, seq, &hash).await? {
            db::insert_row(tx, &row(seq, &prev, &hash)).await?;
            store.set_audit_hint(seq, hash);
            return Ok(seq);
        }
    }
    let (seq, prev) = db::advance_head(tx).await?;
    // A damaged head is an error: the new row is not linked to a hash nobody wrote.
    let hash = row_hash(&prev, seq, at, ev.actor, ev.action, ev.target, &detail)?;
    db::insert_row(tx, &row(seq, &prev, &hash)).await?;
    db::set_head_hash(tx, &hash).await?;
    store.set_audit_hint(seq, hash);
    Ok(seq)
}

/// Rows with `seq > after`, oldest first, at most `limit`.
pub async fn list(store: &Store, after: i64, limit: i64) -> Result<Vec<AuditRow>, sqlx::Error> {
    db::list_on(&mut *store.pool().acquire().await?, after, limit).await
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::audit::verify::Anchor;
    use serde_json::{Value, json};

    /// Three rows (absent and present actor and target, an empty target, a `detail` whose keys
    /// are out of order and whose strings need escaping) and the anchor of the last.
    fn build() -> Value {
        let events = [
            (1_800_000_000i64, None, "setup.first_admin", None, json!({})),
            (
                1_800_000_060,
                Some("u-alice"),
                "admin.role.set",
                Some("u-bob"),
                json!({"to": "admin", "from": "user"}),
            ),
            (
                1_800_000_120,
                Some("u-bob"),
                "passkey.register",
                Some(""),
                json!({"name": "Bob\u{2019}s key \"2\"\n\u{1}/\u{7f}", "n": 2, "nested": {"b": [1, "x", true], "a": null}}),
            ),
        ];
        let mut prev = GENESIS.to_owned();
        let mut rows = Vec::new();
        for (i, (at, actor, action, target, detail)) in events.iter().enumerate() {
            let seq = i64::try_from(i).unwrap() + 1;
            let text = detail_text(detail);
            let hash = row_hash(&prev, seq, *at, *actor, action, *target, &text).unwrap();
            let mut preimage = DOMAIN.to_vec();
            preimage.extend_from_slice(&hex::decode(&prev).unwrap());
            preimage.extend_from_slice(&canonical_row(seq, *at, *actor, action, *target, &text));
            assert_eq!(hex::encode(Sha256::digest(&preimage)), hash);
            rows.push(json!({
                "seq": seq,
                "at": at,
                "actor": actor,
                "action": action,
                "target": target,
                "detail": detail,
                "detail_text": text,
                "prev_hash": prev,
                "hashed_bytes": hex::encode(&preimage),
                "hash": hash,
            }));
            prev = hash;
        }
        let anchor = Anchor { seq: 3, hash: prev };
        assert_eq!(anchor.to_string().parse::<Anchor>().unwrap(), anchor);
        json!({
            "description": "blindvault audit chain vectors, generated by crates/server/src/audit.rs (tests): hash = SHA-256(hashed_bytes), hashed_bytes = \"blindvault/v1/audit\" || prev_hash (32 bytes) || u64 seq || u64 at || actor || action || target || detail_text, each string as u32 length (0xffffffff and no bytes when null) and UTF-8 (docs/protocol.md section 9). Hashes and byte strings are lowercase hex.",
            "genesis_prev_hash": GENESIS,
            "rows": rows,
            "anchor": anchor.to_string(),
        })
    }

    #[test]
    fn generated_audit_vectors_match_the_committed_file() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/vectors/audit_v1.json");
        let now = build();
        if std::env::var_os("BLINDVAULT_UPDATE_VECTORS").is_some() {
            std::fs::write(&path, serde_json::to_string_pretty(&now).unwrap() + "\n").unwrap();
        }
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!("{} missing ({e}); generate it with BLINDVAULT_UPDATE_VECTORS=1", path.display())
        });
        let committed: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(committed, now, "the audit hash changed: every stored chain would stop verifying");
        // What verification reads back: the stored row, hashed from its stored text.
        let mut prev = GENESIS.to_owned();
        for r in committed["rows"].as_array().unwrap() {
            let row = AuditRow {
                seq: r["seq"].as_i64().unwrap(),
                at: r["at"].as_i64().unwrap(),
                actor: r["actor"].as_str().map(str::to_owned),
                action: r["action"].as_str().unwrap().to_owned(),
                target: r["target"].as_str().map(str::to_owned),
                detail: r["detail_text"].as_str().unwrap().to_owned(),
                prev_hash: prev.clone(),
                hash: r["hash"].as_str().unwrap().to_owned(),
            };
            assert_eq!(row.hash_after(&prev).unwrap(), row.hash);
            prev = row.hash;
        }
    }

    /// A previous hash that is not 64 hex digits is an error, never hashed as if it were empty.
    #[test]
    fn a_malformed_previous_hash_is_an_error() {
        let good = row_hash(GENESIS, 1, 0, None, "a", None, "{}").unwrap();
        assert_eq!(good.len(), 64);
        for prev in ["", "zz", "00", &"0".repeat(63), &"g".repeat(64), &"0".repeat(66)] {
            assert!(row_hash(prev, 1, 0, None, "a", None, "{}").is_err(), "{prev:?}");
        }
    }

    #[test]
    fn detail_text_sorts_keys_at_every_depth_whatever_the_map_order() {
        let v = json!({"b": {"z": 1, "a": [{"y": 2, "x": 3}]}, "a": "\u{1}"});
        assert_eq!(detail_text(&v), r#"{"a":"\u0001","b":{"a":[{"x":3,"y":2}],"z":1}}"#);
    }
}
