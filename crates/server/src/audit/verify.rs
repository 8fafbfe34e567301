//! Verification: the walk of the whole chain, anchors kept outside the database, the head.

use super::chain::{GENESIS, RowHash, hash_bytes};
use super::store as db;
use crate::store::Store;

/// The report of a walk, its first bad row and the anchor: the contract's types
/// (`GET /api/admin/audit/verify` answers with the report).
pub use blindvault_api::audit::{Anchor, BadRow, VerifyReport};

/// The head as the database records it (`None` while the log is empty). Not verified: this is
/// what the server logs as an anchor, and only [`verify_with_anchors`] checks one.
pub async fn head(store: &Store) -> Result<Option<Anchor>, sqlx::Error> {
    let head = db::head_on(&mut *store.pool().acquire().await?).await?;
    Ok(head.filter(|(seq, _)| *seq > 0).map(|(seq, hash)| Anchor { seq, hash }))
}

/// The stored hash of row `seq` (`None` if there is no such row). Not verified.
pub(crate) async fn hash_at(store: &Store, seq: i64) -> Result<Option<String>, sqlx::Error> {
    db::hash_at(store, seq).await
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
    let mut tx = db::snapshot(store).await?;
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
        let page = db::list_on(&mut *c, after, 1000).await?;
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
            if hash_bytes(&row.prev_hash).is_err() {
                let reason = "prev_hash is malformed (not 64 hex digits): row edited".to_owned();
                return bad(rows, row.seq, reason);
            }
            if row.prev_hash != prev {
                let reason =
                    "prev_hash does not match the previous row's hash: rows removed or reordered".to_owned();
                return bad(rows, row.seq, reason);
            }
            if Ok(&row.hash) != row.hash_after(&prev).as_ref() {
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
    let Some((head_seq, head_hash)) = db::head_on(&mut *c).await? else {
        let reason = "the head row (audit_head) is missing: deleted from the database".to_owned();
        return bad(rows, expected_seq - 1, reason);
    };
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
