//! A transaction of the shared store, and the one way an event is written: [`Tx::append_event`].
//!
//! Every write appends its event(s) here, inside the transaction that writes its rows, so the row and
//! its event commit together or not at all. The dialect's `lock_events` runs first (PostgreSQL's
//! advisory lock, held to the commit), so sequence numbers become visible in order.
//!
//! Each event noted here gets its audit row (`audit.rs`) in the same transaction, chained after the
//! last row when the transaction commits ([`Tx::commit`]), under the same lock: who and where come from
//! the audit context the write runs under (none: the system).
//!
//! A transaction runs its own BEGIN, COMMIT and ROLLBACK on a pooled connection ([`Open`]) instead of
//! sqlx's `Transaction`, which hands its connection back to the pool whatever happened: after `SQLite`
//! rolled a transaction back by itself (a full disk, an I/O error), sqlx still counted it open on that
//! connection, and refused every later `BEGIN IMMEDIATE` there until a restart (issue 19). Here a
//! connection goes back to the pool only after a COMMIT or ROLLBACK that succeeded; otherwise it is
//! closed and the pool opens a fresh one. (An in-memory `SQLite` database lives in its one connection,
//! so closing it loses the database: such a store is for tests, where no COMMIT fails.)
//!
//! Every commit has a known outcome. A COMMIT whose answer is lost — the connection broke after it was
//! sent — may or may not have committed. Before sending it, the transaction reads its id
//! (`Dialect::transaction_id`, PostgreSQL's `pg_current_xact_id()`); when the answer is lost it asks
//! the database on another connection (`Dialect::commit_status`, `pg_xact_status`) until it knows,
//! within the write bound, and answers as the database did: committed is a success, so the caller
//! applies the change to the world and acknowledges it, and is never tempted to write it again.
//! If it cannot find out in time, the error says so (`StoreError::OutcomeUnknown`).

use std::ops::{Deref, DerefMut};
use std::time::Duration;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use sqlx::Pool;
use sqlx::pool::PoolConnection;
use sqlx::types::Json;

use super::Dialect;
use super::bulk::Bulk;
use super::driver::{Conn, Driver, Sql};
use crate::audit;
use crate::domain::{Change, Event};
use crate::store::StoreError;
use crate::store::sql::codec;
use crate::store::sql::conflict::Context;

/// How long to wait between two questions about a COMMIT whose answer was lost.
const SETTLE_PAUSE: Duration = Duration::from_millis(50);

/// A [`Tx`] has no connection only once it has ended, and is not used then.
const ENDED: &str = "a transaction is not used after it ended";

/// A transaction of dialect `D`. Statements run on it as `&mut tx`; its events go through
/// [`Tx::append_event`]. Dropped before [`Tx::commit`] (an early return: a refused write, a
/// conflict), it is rolled back on a task of its own.
pub struct Tx<D: Dialect> {
    /// The connection, inside the transaction; `None` once the transaction has ended.
    open: Option<Open<D>>,
    /// The audit rows of the events appended so far; `None` when the store keeps no audit trail.
    audit: Option<Vec<audit::Entry>>,
    /// The context the write runs under, read once when the transaction began.
    context: Option<audit::Context>,
    /// Where to ask what became of a COMMIT whose answer was lost, and for how long.
    pool: Pool<D::Db>,
    settle_within: Duration,
    /// Set when a COMMIT's outcome could not be learned (`Store::take_unknown_outcome`).
    unknown_outcome: Arc<AtomicBool>,
    /// The idempotency keys of the requests this transaction writes for, read when it began.
    request_keys: Vec<(String, String)>,
    /// Whether `request_keys` are marked committed though no event is appended ([`Tx::mark_requests`]).
    marks_requests: bool,
    /// The seq of the last event appended, if any.
    last_seq: Option<i64>,
}

impl<D: Dialect> Deref for Tx<D> {
    type Target = Conn<D>;
    fn deref(&self) -> &Conn<D> {
        &self.open.as_ref().expect(ENDED).conn
    }
}

impl<D: Dialect> DerefMut for Tx<D> {
    fn deref_mut(&mut self) -> &mut Conn<D> {
        &mut self.open.as_mut().expect(ENDED).conn
    }
}

/// The rollback of a transaction that ended early. It runs on a task of its own because `drop` cannot
/// wait, and is a ROLLBACK rather than closing the connection: a refused write (PostgreSQL's 409s) then
/// costs one round trip, not a new connection. Should the ROLLBACK fail, the connection is closed.
impl<D: Dialect> Drop for Tx<D> {
    fn drop(&mut self) {
        if let Some(open) = self.open.take() {
            let rollback = D::SQL.rollback;
            tokio::spawn(async move {
                if let Err(error) = open.end(rollback).await {
                    tracing::warn!(%error, "rolling back a transaction; its connection is closed");
                }
            });
        }
    }
}

impl<D: Dialect> Tx<D> {
    /// Begins a transaction with `begin` (`SQLite`'s writes: `BEGIN IMMEDIATE`) on a connection of
    /// `pool`; its audit rows are written if `audited`. A COMMIT whose answer is lost is settled
    /// within `settle_within` (see the module docs).
    pub(super) async fn begin(
        pool: &Pool<D::Db>,
        begin: Sql<D>,
        audited: bool,
        settle_within: Duration,
        unknown_outcome: &Arc<AtomicBool>,
        doing: &'static str,
    ) -> Result<Self, StoreError> {
        let conn = pool.acquire().await.context(doing)?;
        let open = Open::begin(conn, begin).await.context(doing)?;
        let context = audit::current();
        Ok(Self {
            open: Some(open),
            audit: audited.then(Vec::new),
            request_keys: context
                .as_ref()
                .map(audit::Context::request_keys)
                .unwrap_or_default(),
            marks_requests: false,
            last_seq: None,
            context,
            pool: pool.clone(),
            settle_within,
            unknown_outcome: Arc::clone(unknown_outcome),
        })
    }

    /// Commits, with the audit rows of the events appended (chained after the last kept row). `Ok`
    /// once the database has committed, even when the COMMIT's own answer was lost.
    pub(crate) async fn commit(mut self, doing: &'static str) -> Result<(), StoreError> {
        if let Some(entries) = self.audit.take()
            && !entries.is_empty()
        {
            self.append_audit(entries).await?;
        }
        // The requests this write was for, marked committed in the same transaction: a retry after an
        // unknown outcome learns it was done (`api/idempotency.rs`).
        let seq = match self.last_seq {
            // A write that is no event (position fixes) marks its requests with the log's last seq.
            None if self.marks_requests && !self.request_keys.is_empty() => Some(
                (D::SQL.last_seq.query())
                    .scalar::<i64>(&mut self, "reading the last event")
                    .await?,
            ),
            seq => seq,
        };
        if let Some(seq) = seq {
            for (principal, key) in std::mem::take(&mut self.request_keys) {
                D::SQL
                    .mark_key_committed
                    .bind(principal)
                    .bind(key)
                    .bind(seq)
                    .execute(&mut self, "marking an idempotency key committed")
                    .await?;
            }
        }
        let id = D::transaction_id(&mut self).await?;
        let open = self.open.take().expect(ENDED);
        match (open.end(D::SQL.commit).await, id) {
            (Ok(()), _) => Ok(()),
            // The database answered, with an error: it did not commit.
            (Err(error @ sqlx::Error::Database(_)), _) | (Err(error), None) => {
                Err(error).context(doing)
            }
            (Err(error), Some(id)) => {
                let (pool, within) = (self.pool.clone(), self.settle_within);
                let settled = settle::<D>(&pool, within, id, error, doing).await;
                if matches!(settled, Err(StoreError::OutcomeUnknown(_))) {
                    self.unknown_outcome.store(true, Ordering::Release);
                }
                settled
            }
        }
    }

    /// Marks the requests this transaction runs for committed with it, though it appends no event
    /// (position fixes): a retry after an unknown outcome then learns they were stored.
    pub(crate) fn mark_requests(&mut self) {
        self.marks_requests = true;
    }

    /// Notes audit rows of a write that is no event (position fixes), written when the transaction
    /// commits.
    pub(crate) fn note_entries(&mut self, entries: Vec<audit::Entry>) {
        if let Some(audit) = &mut self.audit {
            audit.extend(entries);
        }
    }

    /// Notes events written by a dialect's own statements (PostgreSQL's group of new cases), so they get
    /// their audit rows like those appended here.
    pub(crate) fn note_events(&mut self, events: &[Event]) {
        if let Some(last) = events.iter().map(|e| e.seq).max() {
            self.last_seq = Some(self.last_seq.map_or(last, |seq| seq.max(last)));
        }
        if let Some(audit) = &mut self.audit {
            for event in events {
                audit.push(audit::Entry::of_event(event, self.context.as_ref()));
            }
        }
    }

    /// Chains `entries` after the last audit row (or the anchor) and writes them, under the events
    /// lock, so rows from every writer form one chain.
    pub(crate) async fn append_audit(
        &mut self,
        entries: Vec<audit::Entry>,
    ) -> Result<(), StoreError> {
        D::lock_events(self).await?;
        let last: Option<(i64, String)> = D::SQL
            .last_audit
            .query()
            .fetch_optional(self, "reading the last audit row")
            .await?;
        let last = match last {
            Some(last) => last,
            None => {
                D::SQL
                    .audit_anchor
                    .query()
                    .fetch_one(self, "reading the audit anchor")
                    .await?
            }
        };
        let rows = audit::chain((last.0, &last.1), entries);
        D::insert_bulk(self, Bulk::audit(&rows)).await
    }

    /// Appends the event of the write in progress; its `seq` is the one the database assigns.
    pub(crate) async fn append_event(&mut self, change: Change) -> Result<Event, StoreError> {
        D::lock_events(self).await?;
        let event = self.insert_event(change).await?;
        self.note_events(std::slice::from_ref(&event));
        Ok(event)
    }

    /// Appends several events in order, taking the events lock once.
    pub(crate) async fn append_events(
        &mut self,
        changes: Vec<Change>,
    ) -> Result<Vec<Event>, StoreError> {
        if !changes.is_empty() {
            D::lock_events(self).await?;
        }
        let mut appended = Vec::with_capacity(changes.len());
        for change in changes {
            appended.push(self.insert_event(change).await?);
        }
        self.note_events(&appended);
        Ok(appended)
    }

    /// The one `INSERT INTO events`: `Change::kind` and `Change::payload_json` (JSON text on `SQLite`,
    /// `jsonb` on PostgreSQL), read back by `Change::from_stored`. The caller holds the events lock.
    async fn insert_event(&mut self, change: Change) -> Result<Event, StoreError> {
        let at = codec::now();
        let seq: i64 = (D::SQL.insert_event)
            .bind(at)
            .bind(change.kind())
            .bind(Json(change.payload_json()))
            .scalar(self, "appending an event")
            .await?;
        Ok(Event { seq, at, change })
    }
}

/// What became of transaction `id`, whose COMMIT was sent and whose answer was lost (`lost`): asked on
/// another connection of `pool` until the database says, for at most `within`.
async fn settle<D: Dialect>(
    pool: &Pool<D::Db>,
    within: Duration,
    id: i64,
    lost: sqlx::Error,
    doing: &'static str,
) -> Result<(), StoreError> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, D::commit_status(pool, id)).await {
            Ok(Ok(Some(true))) => {
                tracing::warn!(transaction = id, error = %lost,
                    "a COMMIT's answer was lost; the database says it committed");
                return Ok(());
            }
            Ok(Ok(Some(false))) => return Err(lost).context(doing),
            // Still in progress, or the database did not answer: ask again.
            Ok(Ok(None) | Err(_)) => {}
            Err(_) => break,
        }
        if tokio::time::Instant::now() + SETTLE_PAUSE >= deadline {
            break;
        }
        tokio::time::sleep(SETTLE_PAUSE).await;
    }
    tracing::error!(transaction = id, error = %lost,
        "a COMMIT's answer was lost and the database could not say whether it committed");
    Err(StoreError::OutcomeUnknown(format!(
        "{doing}: {lost}; transaction {id}"
    )))
}

/// A pooled connection inside a transaction. It goes back to the pool only after a COMMIT or ROLLBACK
/// that succeeded ([`Open::end`]). Dropped any other way — a BEGIN, COMMIT or ROLLBACK that failed, a
/// future cancelled in the middle of one — it is closed instead: nothing then says whether it is still
/// inside a transaction, and the pool would hand it to the next writer as it is.
struct Open<D: Dialect> {
    conn: PoolConnection<D::Db>,
    /// Whether the transaction has ended cleanly, so the connection may go back to the pool.
    ended: bool,
}

impl<D: Dialect> Open<D> {
    async fn begin(conn: PoolConnection<D::Db>, begin: Sql<D>) -> Result<Self, sqlx::Error> {
        let mut open = Self { conn, ended: false };
        open.run(begin).await?;
        Ok(open)
    }

    /// Ends the transaction with `end`, a COMMIT or a ROLLBACK.
    async fn end(mut self, end: Sql<D>) -> Result<(), sqlx::Error> {
        self.run(end).await?;
        self.ended = true;
        Ok(())
    }

    /// Runs a statement of the transaction's own, as a simple query (no statement is prepared).
    async fn run(&mut self, sql: Sql<D>) -> Result<(), sqlx::Error> {
        let conn = D::Db::executor(&mut self.conn);
        sqlx::raw_sql(sql.text()).execute(conn).await?;
        Ok(())
    }
}

impl<D: Dialect> Drop for Open<D> {
    fn drop(&mut self) {
        if !self.ended {
            self.conn.close_on_drop();
        }
    }
}

#[cfg(test)]
mod tests;
