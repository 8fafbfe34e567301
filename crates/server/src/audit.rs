//! The audit log: append-only and hash-chained.
//!
//! Row `n` stores `hash_n = SHA-256("blindvault/v1/audit" ‖ hash_{n-1} ‖ canonical(row_n))` with
//! `hash_0` = 32 zero bytes, and `audit_head` keeps the last sequence number and hash. The
//! canonical bytes are: `seq` and `at` as 8-byte big-endian integers, then `actor`, `action`,
//! `target`, `detail`, each as a 4-byte big-endian length and its UTF-8 bytes (`0xFFFFFFFF` and
//! nothing for an absent value). [`verify`] walks the chain and names the first bad row: an
//! edited row breaks its own hash, a removed or reordered row breaks the sequence or the link,
//! and a removed tail disagrees with the head.
//!
//! Someone with write access to the database can still rewrite the chain consistently from an
//! edit onward, head included. An [`Anchor`] (a row's `seq` and hash, printed by `blindvault
//! audit verify` and logged by the server every hour) kept outside the database detects that:
//! [`verify_with_anchors`] fails if the anchored row no longer carries the anchored hash.

use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;

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

/// A stored audit row.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
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

impl AuditRow {
    /// The hash this row's contents give after a row whose hash is `prev` (what it must carry).
    pub fn hash_after(&self, prev: &str) -> String {
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

/// The hash a row must carry, given the previous row's hash (hex).
pub fn row_hash(
    prev_hash: &str,
    seq: i64,
    at: i64,
    actor: Option<&str>,
    action: &str,
    target: Option<&str>,
    detail: &str,
) -> String {
    let mut buf = Vec::with_capacity(128 + detail.len());
    buf.extend_from_slice(&seq.to_be_bytes());
    buf.extend_from_slice(&at.to_be_bytes());
    put_str(&mut buf, actor);
    put_str(&mut buf, Some(action));
    put_str(&mut buf, target);
    put_str(&mut buf, Some(detail));
    let prev = hex::decode(prev_hash).unwrap_or_default();
    let mut h = Sha256::new();
    h.update(DOMAIN);
    h.update(&prev);
    h.update(&buf);
    hex::encode(h.finalize())
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
/// head's current value under its lock instead (three statements). The database, not the
/// guess, decides what the new row links to.
pub async fn append_in(
    store: &Store,
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    at: i64,
    ev: Event<'_>,
) -> Result<i64, sqlx::Error> {
    let detail = ev.detail.to_string();
    if let Some((prev_seq, prev)) = store.audit_hint() {
        let seq = prev_seq.saturating_add(1);
        let hash = row_hash(&prev, seq, at, ev.actor, ev.action, ev.target, &detail);
        let moved =
            sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1 AND seq = $3 AND hash = $4")
                .bind(seq)
                .bind(&hash)
                .bind(prev_seq)
                .bind(&prev)
                .execute(&mut **tx)
                .await?;
        if moved.rows_affected() == 1 {
            insert_row(tx, seq, at, &ev, &detail, &prev, &hash).await?;
            store.set_audit_hint(seq, hash);
            return Ok(seq);
        }
    }
    let head = sqlx::query("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
        .fetch_one(&mut **tx)
        .await?;
    let seq: i64 = head.try_get("seq")?;
    let prev: String = head.try_get("hash")?;
    let hash = row_hash(&prev, seq, at, ev.actor, ev.action, ev.target, &detail);
    insert_row(tx, seq, at, &ev, &detail, &prev, &hash).await?;
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1").bind(&hash).execute(&mut **tx).await?;
    store.set_audit_hint(seq, hash);
    Ok(seq)
}

async fn insert_row(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    seq: i64,
    at: i64,
    ev: &Event<'_>,
    detail: &str,
    prev: &str,
    hash: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_log (seq, at, actor, action, target, detail, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(seq)
    .bind(at)
    .bind(ev.actor)
    .bind(ev.action)
    .bind(ev.target)
    .bind(detail)
    .bind(prev)
    .bind(hash)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn row_from(r: &sqlx::any::AnyRow) -> Result<AuditRow, sqlx::Error> {
    Ok(AuditRow {
        seq: r.try_get("seq")?,
        at: r.try_get("at")?,
        actor: r.try_get("actor")?,
        action: r.try_get("action")?,
        target: r.try_get("target")?,
        detail: r.try_get("detail")?,
        prev_hash: r.try_get("prev_hash")?,
        hash: r.try_get("hash")?,
    })
}

/// Rows with `seq > after`, oldest first, at most `limit`.
pub async fn list(store: &Store, after: i64, limit: i64) -> Result<Vec<AuditRow>, sqlx::Error> {
    list_on(&mut *store.pool().acquire().await?, after, limit).await
}

async fn list_on(c: &mut sqlx::AnyConnection, after: i64, limit: i64) -> Result<Vec<AuditRow>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT seq, at, actor, action, target, detail, prev_hash, hash FROM audit_log \
         WHERE seq > $1 ORDER BY seq LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(&mut *c)
    .await?;
    rows.iter().map(row_from).collect()
}

/// The first row found bad, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BadRow {
    /// The `seq` of the row (or, for a missing tail, the last good row).
    pub seq: i64,
    /// What is wrong.
    pub reason: String,
}

/// Result of [`verify`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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

/// The head as the database records it (`None` while the log is empty). Not verified: this is
/// what the server logs as an anchor, and only [`verify_with_anchors`] checks one.
pub async fn head(store: &Store) -> Result<Option<Anchor>, sqlx::Error> {
    let head =
        sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_optional(store.pool()).await?;
    let Some(head) = head else { return Ok(None) };
    let seq: i64 = head.try_get("seq")?;
    let hash: String = head.try_get("hash")?;
    Ok((seq > 0).then_some(Anchor { seq, hash }))
}

/// The stored hash of row `seq` (`None` if there is no such row). Not verified.
pub async fn hash_at(store: &Store, seq: i64) -> Result<Option<String>, sqlx::Error> {
    let row = sqlx::query("SELECT hash FROM audit_log WHERE seq = $1")
        .bind(seq)
        .fetch_optional(store.pool())
        .await?;
    row.map(|r| r.try_get::<String, _>("hash")).transpose()
}

/// Walks the whole chain in `seq` order and reports the first row that does not fit.
pub async fn verify(store: &Store) -> Result<VerifyReport, sqlx::Error> {
    verify_with_anchors(store, &[]).await
}

/// [`verify`], and also checks that each anchor's row still carries the anchor's hash (so the
/// chain up to it is the one seen when the anchor was taken).
///
/// The walk and the head are read in one read transaction — a snapshot (REPEATABLE READ on
/// PostgreSQL; on SQLite in WAL mode a read transaction sees the database as of its first
/// read) — so rows appended by a live server while it runs are not mistaken for a broken tail.
pub async fn verify_with_anchors(store: &Store, anchors: &[Anchor]) -> Result<VerifyReport, sqlx::Error> {
    let mut tx = store.pool().begin().await?;
    if store.engine() == crate::store::Engine::Postgres {
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY").execute(&mut *tx).await?;
    }
    let report = verify_on(&mut tx, anchors).await;
    // Read only: nothing to keep.
    tx.rollback().await?;
    report
}

async fn verify_on(c: &mut sqlx::AnyConnection, anchors: &[Anchor]) -> Result<VerifyReport, sqlx::Error> {
    let bad =
        |rows, seq, reason| Ok(VerifyReport { rows, first_bad: Some(BadRow { seq, reason }), head: None });
    let mut expected_seq = 1i64;
    let mut prev = GENESIS.to_owned();
    let mut rows = 0i64;
    let mut after = 0i64;
    loop {
        let page = list_on(&mut *c, after, 1000).await?;
        if page.is_empty() {
            break;
        }
        for row in &page {
            rows += 1;
            after = row.seq;
            if row.seq != expected_seq {
                let reason = if row.seq > expected_seq {
                    format!("sequence jumps from {} to {}: row(s) removed", expected_seq - 1, row.seq)
                } else {
                    format!("sequence out of order: expected {expected_seq}")
                };
                return bad(rows, row.seq, reason);
            }
            if row.prev_hash != prev {
                let reason =
                    "prev_hash does not match the previous row's hash: rows removed or reordered".to_owned();
                return bad(rows, row.seq, reason);
            }
            if row.hash != row.hash_after(&prev) {
                let reason = "hash does not match the row's contents: row edited".to_owned();
                return bad(rows, row.seq, reason);
            }
            if anchors.iter().any(|a| a.seq == row.seq && a.hash != row.hash) {
                let reason = format!(
                    "hash differs from the anchor recorded for row {}: the chain was rewritten at or before it",
                    row.seq
                );
                return bad(rows, row.seq, reason);
            }
            prev = row.hash.clone();
            expected_seq += 1;
        }
    }
    let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_optional(&mut *c).await?;
    let Some(head) = head else {
        let reason = "the head row (audit_head) is missing: deleted from the database".to_owned();
        return bad(rows, expected_seq - 1, reason);
    };
    let head_seq: i64 = head.try_get("seq")?;
    let head_hash: String = head.try_get("hash")?;
    if head_seq != expected_seq - 1 || head_hash != prev {
        let reason = format!(
            "chain ends at {} but the head records {head_seq}: last row(s) removed or head edited",
            expected_seq - 1
        );
        return bad(rows, expected_seq - 1, reason);
    }
    let last = expected_seq - 1;
    if let Some(a) = anchors.iter().filter(|a| a.seq > last).min_by_key(|a| a.seq) {
        let reason = format!(
            "chain ends at {last} but an anchor was recorded for row {}: rows removed and the head rewritten",
            a.seq
        );
        return bad(rows, last, reason);
    }
    let head = (last > 0).then_some(Anchor { seq: last, hash: prev });
    Ok(VerifyReport { rows, first_bad: None, head })
}
