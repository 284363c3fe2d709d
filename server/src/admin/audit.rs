//! The audit trail's upkeep (`gridwatch audit verify|prune`): walking the chain from its anchor to its
//! last row, and retention that never removes a row it has not verified or one younger than the
//! minimum the law asks for (the Cybersecurity Law's six months: [`MIN_KEEP_DAYS`]).
//!
//! Reading the trail for the auditor is `GET /api/audit` (`api/audit.rs`); writing it is the store's,
//! in each change's own transaction (`audit.rs`, `store/sql/tx.rs`).

use chrono::{DateTime, TimeDelta, Utc};

use crate::audit::{self, Broken, Row};
use crate::store::{Store, StoreError};

/// The fewest days retention may keep; the database refuses to move the anchor onto a younger row too.
pub const MIN_KEEP_DAYS: u32 = 180;

/// Rows read a page at a time while walking the chain.
const PAGE: u32 = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error(transparent)]
    Broken(#[from] Broken),
    #[error("the audit trail is kept at least {MIN_KEEP_DAYS} days; {0} is fewer")]
    TooShort(u32),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a walk of the chain found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// Where the kept chain starts: the row retention removed last (`0` before any).
    pub anchor: i64,
    /// Rows checked.
    pub rows: u64,
    /// The last row, if any is kept.
    pub last: Option<(i64, DateTime<Utc>)>,
}

/// Walks the whole kept chain, from the anchor, and reports the first broken link.
pub async fn verify(store: &dyn Store) -> Result<Verified, AuditError> {
    walk(store, |_| true).await.map(|(verified, _)| verified)
}

/// Walks the chain from the anchor while `keep_going` holds for each row, verifying every row read;
/// returns what it verified and the last row for which `keep_going` held.
async fn walk(
    store: &dyn Store,
    mut keep_going: impl FnMut(&Row) -> bool,
) -> Result<(Verified, Option<Row>), AuditError> {
    let (anchor, anchor_hash) = store.audit_anchor().await?;
    let mut verified = Verified {
        anchor,
        rows: 0,
        last: None,
    };
    let mut link = (anchor, anchor_hash);
    let mut held = None;
    loop {
        let page = store.audit_rows(link.0, PAGE).await?;
        let Some(last) = page.last() else {
            return Ok((verified, held));
        };
        audit::verify((link.0, &link.1), &page)?;
        link = (last.seq, last.hash.clone());
        for row in page {
            if !keep_going(&row) {
                return Ok((verified, held));
            }
            verified.rows += 1;
            verified.last = Some((row.seq, row.entry.at));
            held = Some(row);
        }
    }
}

/// What retention removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pruned {
    /// Rows removed.
    pub removed: u64,
    /// The new anchor (unchanged when nothing was old enough).
    pub anchor: i64,
}

/// Removes the rows older than `keep_days` (at least [`MIN_KEEP_DAYS`]) — only after verifying every
/// one of them — and moves the anchor onto the last removed, so the kept chain still verifies.
pub async fn prune(
    store: &dyn Store,
    keep_days: u32,
    now: DateTime<Utc>,
) -> Result<Pruned, AuditError> {
    if keep_days < MIN_KEEP_DAYS {
        return Err(AuditError::TooShort(keep_days));
    }
    let cutoff = now - TimeDelta::days(i64::from(keep_days));
    let (verified, last_old) = walk(store, |row| row.entry.at < cutoff).await?;
    let Some(row) = last_old else {
        return Ok(Pruned {
            removed: 0,
            anchor: verified.anchor,
        });
    };
    let removed = store.prune_audit(row.seq, &row.hash).await?;
    Ok(Pruned {
        removed,
        anchor: row.seq,
    })
}
