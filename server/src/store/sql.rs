//! The store, written once over a SQL dialect: [`SqlStore<D>`] implements [`Store`] for every
//! [`Dialect`]; `sqlite.rs` and `postgres.rs` are the two dialects.
//!
//! Each `Store` method below is one transaction read top to bottom — begin, the statements (in this
//! folder's modules, one per concern), the event, commit — so every write and its `events` row sit in
//! one place, and every event is appended through [`Tx::append_event`] (or `append_events`). A
//! statement is a `.sql` file (`statements.rs`); the Rust binds its values in order, and a value read
//! back says how its row decodes (`driver::Load`, rows beside their statements). Rows written together
//! are columns listed once (`bulk.rs`). A dialect brings its sqlx driver, its texts and only what
//! really differs: how a write begins (`SQLite`'s `BEGIN IMMEDIATE`), how event appends are ordered
//! (PostgreSQL's advisory lock), how it sends bulk columns (`SQLite`'s multi-row `VALUES`, PostgreSQL's
//! `UNNEST` of arrays), and PostgreSQL's four-statement group of new cases.
//!
//! Must not: validate (the server checks against the world first), or take a spatial decision.

mod accounts;
mod boundary;
pub mod bulk;
mod cameras;
mod city;
pub(crate) mod codec;
pub(crate) mod conflict;
pub mod driver;
mod history;
mod idempotency;
mod incidents;
mod patrols;
mod rows;
mod search;
mod snapshot;
pub mod statements;
mod tx;

pub use self::tx::Tx;

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Pool;
use sqlx::types::Json;

use self::bulk::Bulk;
use self::codec::scopes_json;
use self::conflict::Context;
use self::driver::{Driver, Load, Sql, Stmt};
use self::statements::Statements;
use super::boundary::{BoundaryApplied, BoundaryChange, NewPlan, PlanRecord, VersionRecord};
use super::{
    ArchiveQuery, AuditQuery, IncidentUpdate, NewBuilding, NewCity, NewRegion, NewToken, NewWorker,
    Snapshot, Store, StoreError, StoreKind, TokenRecord,
};
use crate::audit;
use crate::domain::camera::{Camera, NewCamera};
use crate::domain::event::{
    AlertRaised, BoundaryChanged, BuildingCreated, IncidentsUpdated, PhotoAdded, PlanCreated,
    RegionCreated, TokenCreated, TokenRevoked, WorkerSummary,
};
use crate::domain::incident::Source;
use crate::domain::patrol::{Checkpoint, NewCheckpoint, Patrol, PatrolBook, Progress};
use crate::domain::{
    Building, CameraId, Case, Category, Change, CheckpointId, Department, Event, Fix, GridId,
    IncidentId, PatrolId, Photo, Region, RegionId, TokenId, Worker, WorkerId,
};

/// One SQL dialect: its sqlx driver, its statement texts, and the few things it does its own way.
pub trait Dialect: Copy + fmt::Debug + Send + Sync + 'static {
    type Db: Driver;
    const KIND: StoreKind;
    const SQL: Statements<Self>;

    /// Orders event appends across processes; taken before a write's first event, held to its commit.
    /// None by default: a dialect whose write transactions are serial already needs none.
    fn lock_events(tx: &mut Tx<Self>) -> impl Future<Output = Result<(), StoreError>> + Send {
        let _ = tx;
        async { Ok(()) }
    }

    /// New cases in order, each with its history and its `incident.created` event (the intake's
    /// group commit); `case.state.id` is ignored and the stored case returned. By default one case
    /// after another.
    fn insert_cases(
        tx: &mut Tx<Self>,
        cases: &[Case],
    ) -> impl Future<Output = Result<Vec<(Case, Event)>, StoreError>> + Send {
        async move {
            let mut stored = Vec::with_capacity(cases.len());
            for case in cases {
                stored.push(incidents::insert_case(tx, case).await?);
            }
            Ok(stored)
        }
    }

    /// The id of the transaction in progress, read before its COMMIT so that a COMMIT whose answer is
    /// lost can be settled ([`Dialect::commit_status`]). `None` by default: an embedded database's
    /// COMMIT cannot lose its answer.
    fn transaction_id(
        tx: &mut Tx<Self>,
    ) -> impl Future<Output = Result<Option<i64>, StoreError>> + Send {
        let _ = tx;
        async { Ok(None) }
    }

    /// Whether transaction `id` committed (`Some(true)`) or was rolled back (`Some(false)`); `None`
    /// while it is still in progress or the dialect cannot tell.
    #[must_use]
    fn commit_status(
        pool: &Pool<Self::Db>,
        id: i64,
    ) -> impl Future<Output = Result<Option<bool>, StoreError>> + Send {
        let _ = (pool, id);
        async { Ok(None) }
    }

    /// Tells `hint` of every append by any process on this database, until it cannot (see
    /// `Store::listen_for_events`). None by default: the follower polls.
    fn listen_for_events(
        pool: &Pool<Self::Db>,
        hint: &crate::follow::Hint,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        let _ = (pool, hint);
        std::future::pending()
    }

    /// Takes lease `key` for this process (see `Store::try_lease`). Always granted by default: one
    /// process has the embedded database.
    #[must_use]
    fn try_lease(
        pool: &Pool<Self::Db>,
        key: i64,
    ) -> impl Future<Output = Result<Option<Box<dyn crate::lease::Lease>>, StoreError>> + Send {
        let _ = (pool, key);
        async {
            Ok(Some(
                Box::new(crate::lease::Sole) as Box<dyn crate::lease::Lease>
            ))
        }
    }

    /// Writes `rows` the dialect's bulk way.
    fn insert_bulk(
        tx: &mut Tx<Self>,
        rows: Bulk<Self>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// The store over dialect `D`. One pool per process.
#[derive(Debug, Clone)]
pub struct SqlStore<D: Dialect> {
    pool: Pool<D::Db>,
    /// Whether committed changes write their audit rows (`Store::set_audited`).
    audited: Arc<AtomicBool>,
    /// How long a write waits for a connection, in milliseconds (`Store::set_write_wait`).
    write_wait_ms: Arc<AtomicU64>,
    /// Whether the database answered the last attempt to reach it (`Store::reachable`).
    reachable: Arc<AtomicBool>,
    /// Whether a COMMIT's outcome could not be learned since it was last taken
    /// (`Store::take_unknown_outcome`).
    unknown_outcome: Arc<AtomicBool>,
}

/// How long a write waits for a connection unless the server is told otherwise.
pub const DEFAULT_WRITE_WAIT: Duration = Duration::from_secs(5);

impl<D: Dialect> SqlStore<D> {
    pub(crate) fn from_pool(pool: Pool<D::Db>) -> Self {
        Self {
            pool,
            audited: Arc::new(AtomicBool::new(true)),
            write_wait_ms: Arc::new(AtomicU64::new(
                u64::try_from(DEFAULT_WRITE_WAIT.as_millis()).unwrap_or(u64::MAX),
            )),
            reachable: Arc::new(AtomicBool::new(true)),
            unknown_outcome: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Begins a transaction, waiting at most the write bound for a connection; notes whether the
    /// database could be reached.
    async fn begin(&self, how: Sql<D>, doing: &'static str) -> Result<Tx<D>, StoreError> {
        let wait = Duration::from_millis(self.write_wait_ms.load(Ordering::Relaxed));
        let audited = self.audited.load(Ordering::Relaxed);
        let begun = tokio::time::timeout(
            wait,
            Tx::begin(&self.pool, how, audited, wait, &self.unknown_outcome, doing),
        )
        .await
        .unwrap_or_else(|_| {
            Err(StoreError::Unavailable(format!(
                "no connection within {} ms while {doing}",
                wait.as_millis()
            )))
        });
        self.note_reach(begun.as_ref().err());
        begun
    }

    /// Notes whether the database was reached: any answer but a connection failure says it was.
    fn note_reach(&self, error: Option<&StoreError>) {
        let reached = !error.is_some_and(StoreError::is_unreachable);
        if self.reachable.swap(reached, Ordering::Relaxed) != reached {
            if reached {
                tracing::info!("the database answers again");
            } else if let Some(error) = error {
                tracing::error!(%error, "the database cannot be reached; writes are refused until it answers");
            }
        }
    }

    async fn begin_write(&self, doing: &'static str) -> Result<Tx<D>, StoreError> {
        self.begin(D::SQL.begin_write, doing).await
    }

    /// Every row of `stmt`, run outside a transaction on a pooled connection.
    async fn rows<O: Load>(
        &self,
        stmt: Stmt<D>,
        doing: &'static str,
    ) -> Result<Vec<O>, StoreError> {
        let mut conn = self.pool.acquire().await.context(doing)?;
        stmt.fetch_all(&mut conn, doing).await
    }

    /// The row of `stmt`, if any, run outside a transaction on a pooled connection.
    async fn row<O: Load>(
        &self,
        stmt: Stmt<D>,
        doing: &'static str,
    ) -> Result<Option<O>, StoreError> {
        let mut conn = self.pool.acquire().await.context(doing)?;
        stmt.fetch_optional(&mut conn, doing).await
    }
}

#[async_trait]
impl<D: Dialect> Store for SqlStore<D> {
    fn kind(&self) -> StoreKind {
        D::KIND
    }

    fn set_write_wait(&self, wait: Duration) {
        self.write_wait_ms.store(
            u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    fn reachable(&self) -> bool {
        self.reachable.load(Ordering::Relaxed)
    }

    fn take_unknown_outcome(&self) -> bool {
        self.unknown_outcome.swap(false, Ordering::AcqRel)
    }

    fn note_unknown_outcome(&self) {
        self.unknown_outcome.store(true, Ordering::Release);
    }

    async fn ping(&self, within: Duration) -> Result<(), StoreError> {
        let doing = "asking the database to answer";
        let answered = tokio::time::timeout(within, async {
            let mut conn = self.pool.acquire().await.context(doing)?;
            D::SQL
                .ping
                .query()
                .execute(&mut conn, doing)
                .await
                .map(drop)
        })
        .await
        .unwrap_or_else(|_| {
            Err(StoreError::Unavailable(format!(
                "no answer within {} ms",
                within.as_millis()
            )))
        });
        self.note_reach(answered.as_ref().err());
        answered
    }

    async fn snapshot(
        &self,
        archived_before: Option<DateTime<Utc>>,
    ) -> Result<Snapshot, StoreError> {
        // One view of every table, so `last_seq` matches the rows.
        let mut tx = self
            .begin(D::SQL.begin_snapshot, "starting the snapshot")
            .await?;
        let snapshot = snapshot::load(&mut tx, archived_before).await?;
        tx.commit("ending the snapshot").await?;
        Ok(snapshot)
    }

    async fn incident(&self, id: IncidentId) -> Result<Option<Case>, StoreError> {
        Ok(self.incidents_in(&[id]).await?.into_iter().next())
    }

    async fn archived(
        &self,
        query: &ArchiveQuery,
        limit: u64,
    ) -> Result<(u64, Vec<IncidentId>), StoreError> {
        let doing = "finding archived cases";
        let json = |values: Vec<serde_json::Value>| serde_json::Value::Array(values).to_string();
        let seer = query.seen_by.as_ref();
        let bbox = query.bbox;
        let text = (query.text.as_ref()).map_or((None, None), |t| t.binds(D::KIND));
        let mut tx = self.begin(D::SQL.begin_read, doing).await?;
        let rows: Vec<(i64, i64)> = D::SQL
            .archived_ids
            .bind(query.before)
            .bind(query.grid.map(|g| g.0))
            .bind(query.region.map(|r| r.0))
            .bind(
                query
                    .statuses
                    .as_ref()
                    .map(|statuses| json(statuses.iter().map(|s| s.as_str().into()).collect())),
            )
            .bind(
                (query.categories.as_ref())
                    .map(|codes| json(codes.iter().map(|c| c.as_str().into()).collect())),
            )
            .bind(query.assignee.map(|w| w.0))
            .bind(bbox.map(|b| b[0]))
            .bind(bbox.map(|b| b[1]))
            .bind(bbox.map(|b| b[2]))
            .bind(bbox.map(|b| b[3]))
            .bind(seer.map(|s| json(s.grids.iter().map(|g| g.0.into()).collect())))
            .bind(seer.and_then(|s| s.worker).map(|w| w.0))
            .bind(seer.and_then(|s| s.token).map(|t| t.0))
            .bind(query.created_from)
            .bind(query.created_to)
            .bind(query.active_since)
            .bind(query.photo.clone())
            .bind(query.source.map(Source::as_str))
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .bind(text.0)
            .bind(text.1)
            .fetch_all(&mut tx, doing)
            .await?;
        tx.commit(doing).await?;
        let total = rows
            .first()
            .map_or(0, |&(_, total)| u64::try_from(total).unwrap_or(0));
        Ok((
            total,
            rows.into_iter().map(|(id, _)| IncidentId(id)).collect(),
        ))
    }

    async fn incidents_in(&self, ids: &[IncidentId]) -> Result<Vec<Case>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let doing = "reading cases";
        let ids =
            serde_json::Value::from(ids.iter().map(|id| id.0).collect::<Vec<_>>()).to_string();
        // One view of the cases, their history and their photos.
        let mut tx = self.begin(D::SQL.begin_snapshot, doing).await?;
        let sql = D::SQL;
        let rows = (sql.load_incidents_in.bind(ids.clone()))
            .fetch_all(&mut tx, doing)
            .await?;
        let history = (sql.load_history_in.bind(ids.clone()))
            .fetch_all(&mut tx, doing)
            .await?;
        let photos = (sql.load_photos_in.bind(ids))
            .fetch_all(&mut tx, doing)
            .await?;
        tx.commit(doing).await?;
        incidents::cases(rows, history, photos)
    }

    async fn search_cases(
        &self,
        search: &crate::store::search::CaseSearch,
    ) -> Result<Vec<IncidentId>, StoreError> {
        search::cases(self, search).await
    }

    async fn import_city(&self, city: &NewCity) -> Result<Event, StoreError> {
        let mut tx = self.begin_write("starting the import").await?;
        city::write_city(&mut tx, city).await?;
        let change = Change::CityImported(city::city_imported(city));
        let event = tx.append_event(change).await?;
        tx.commit("committing the import").await?;
        Ok(event)
    }

    async fn insert_region(
        &self,
        region: &NewRegion,
        parent: Option<RegionId>,
    ) -> Result<(Region, Event), StoreError> {
        let mut tx = self.begin_write("starting a region insert").await?;
        let region = city::insert_region(&mut tx, region, parent).await?;
        let change = Change::RegionCreated(RegionCreated::of(&region));
        let event = tx.append_event(change).await?;
        tx.commit("committing a region").await?;
        Ok((region, event))
    }

    async fn insert_building(
        &self,
        building: &NewBuilding,
        grid: Option<GridId>,
    ) -> Result<(Building, Event), StoreError> {
        let mut tx = self.begin_write("starting a building insert").await?;
        let (building, totals) = city::insert_building(&mut tx, building, grid).await?;
        let change = Change::BuildingCreated(BuildingCreated::of(&building, totals));
        let event = tx.append_event(change).await?;
        tx.commit("committing a building").await?;
        Ok((building, event))
    }

    async fn insert_worker(&self, worker: &NewWorker) -> Result<(Worker, Event), StoreError> {
        let at = codec::now();
        let mut tx = self.begin_write("starting a worker insert").await?;
        let id: i64 = (D::SQL.insert_worker)
            .bind(&worker.name)
            .bind(worker.kind.as_str())
            .bind(worker.duty.as_str())
            .bind(&worker.phone)
            .bind(&worker.device_hash)
            .bind(at)
            .scalar(&mut tx, "inserting a worker")
            .await?;
        let duties = Bulk::duties(id, &worker.grids, "inserting a worker's grid duties");
        D::insert_bulk(&mut tx, duties).await?;
        let worker = worker.with_id(WorkerId(id));
        let change = Change::WorkerCreated(WorkerSummary::of(&worker));
        let event = tx.append_event(change).await?;
        tx.commit("committing a worker").await?;
        Ok((worker, event))
    }

    async fn update_worker(&self, worker: &Worker) -> Result<Event, StoreError> {
        let mut tx = self.begin_write("starting a worker update").await?;
        let updated = (D::SQL.update_worker)
            .bind(&worker.name)
            .bind(worker.kind.as_str())
            .bind(worker.duty.as_str())
            .bind(&worker.phone)
            .bind(&worker.device_hash)
            .bind(codec::now())
            .bind(worker.id.0)
            .execute(&mut tx, "updating a worker")
            .await?;
        if updated == 0 {
            return Err(StoreError::NotFound(format!("worker {}", worker.id)));
        }
        (D::SQL.delete_duties)
            .bind(worker.id.0)
            .execute(&mut tx, "replacing a worker's grid duties")
            .await?;
        let duties = Bulk::duties(
            worker.id.0,
            &worker.grids,
            "updating a worker's grid duties",
        );
        D::insert_bulk(&mut tx, duties).await?;
        let change = Change::WorkerUpdated(WorkerSummary::of(worker));
        let event = tx.append_event(change).await?;
        tx.commit("committing a worker update").await?;
        Ok(event)
    }

    async fn insert_token(&self, token: &NewToken) -> Result<(TokenRecord, Event), StoreError> {
        let mut tx = self.begin_write("starting a token insert").await?;
        let record: TokenRecord = (D::SQL.insert_token)
            .bind(&token.hash)
            .bind(token.role.as_str())
            .bind(scopes_json(&token.scopes))
            .bind(token.worker.map(|w| w.0))
            .bind(&token.label)
            .bind(codec::now())
            .bind(token.expires_at)
            .bind(&token.prefix)
            .bind(token.created_by.map(|t| t.0))
            .fetch_one(&mut tx, "inserting a token")
            .await?;
        // Who the token is for; never the hash: events are replayed to clients.
        let change = Change::TokenCreated(TokenCreated {
            id: record.id,
            role: record.role,
            scopes: record.scopes.clone(),
            worker: record.worker,
            label: record.label.clone(),
            expires_at: record.expires_at,
        });
        let event = tx.append_event(change).await?;
        tx.commit("committing a token").await?;
        Ok((record, event))
    }

    async fn token_by_hash(&self, hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        let find = D::SQL.token_by_hash.bind(hash);
        self.row(find, "looking up a token").await
    }

    async fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        self.rows(D::SQL.load_tokens.query(), "listing tokens")
            .await
    }

    async fn token(&self, id: TokenId) -> Result<Option<TokenRecord>, StoreError> {
        self.row(D::SQL.find_token.bind(id.0), "reading a token")
            .await
    }

    async fn revoke_token(
        &self,
        id: TokenId,
        by: Option<TokenId>,
    ) -> Result<Option<Event>, StoreError> {
        let mut tx = self.begin_write("starting a token revocation").await?;
        let found: Option<TokenRecord> = D::SQL
            .find_token
            .bind(id.0)
            .fetch_optional(&mut tx, "reading the token to revoke")
            .await?;
        let Some(found) = found else {
            return Err(StoreError::NotFound(format!("token {id}")));
        };
        if found.revoked_at.is_some() {
            return Ok(None);
        }
        D::SQL
            .revoke_token
            .bind(id.0)
            .bind(codec::now())
            .execute(&mut tx, "revoking a token")
            .await?;
        let event = tx
            .append_event(Change::TokenRevoked(TokenRevoked { id, by }))
            .await?;
        tx.commit("committing a token revocation").await?;
        Ok(Some(event))
    }

    async fn touch_token(&self, id: TokenId, at: DateTime<Utc>) -> Result<(), StoreError> {
        let doing = "noting a token's last use";
        let mut conn = self.pool.acquire().await.context(doing)?;
        D::SQL
            .touch_token
            .bind(id.0)
            .bind(at)
            .execute(&mut conn, doing)
            .await?;
        Ok(())
    }

    fn set_audited(&self, on: bool) {
        self.audited.store(on, Ordering::Relaxed);
    }

    async fn append_audit(&self, entries: Vec<audit::Entry>) -> Result<(), StoreError> {
        let mut tx = self.begin_write("starting an audit append").await?;
        tx.append_audit(entries).await?;
        tx.commit("committing audit rows").await
    }

    async fn audit_rows(&self, after: i64, limit: u32) -> Result<Vec<audit::Row>, StoreError> {
        let page = D::SQL.load_audit.bind(after).bind(i64::from(limit));
        self.rows(page, "reading the audit trail").await
    }

    async fn find_audit(&self, query: &AuditQuery) -> Result<Vec<audit::Row>, StoreError> {
        let find = D::SQL
            .find_audit
            .bind(query.from)
            .bind(query.to)
            .bind(query.actor.clone())
            .bind(query.action.clone())
            .bind(query.after)
            .bind(i64::from(query.limit));
        self.rows(find, "searching the audit trail").await
    }

    async fn audit_anchor(&self) -> Result<(i64, String), StoreError> {
        let doing = "reading the audit anchor";
        let mut conn = self.pool.acquire().await.context(doing)?;
        D::SQL
            .audit_anchor
            .query()
            .fetch_one(&mut conn, doing)
            .await
    }

    async fn prune_audit(&self, seq: i64, hash: &str) -> Result<u64, StoreError> {
        let mut tx = self.begin_write("starting audit retention").await?;
        D::lock_events(&mut tx).await?;
        D::SQL
            .move_audit_anchor
            .bind(seq)
            .bind(hash)
            .execute(&mut tx, "moving the audit anchor")
            .await?;
        let removed = D::SQL
            .prune_audit
            .bind(seq)
            .execute(&mut tx, "removing audit rows behind the anchor")
            .await?;
        tx.commit("committing audit retention").await?;
        Ok(removed)
    }

    async fn revoked_tokens(&self) -> Result<Vec<TokenId>, StoreError> {
        let rows: Vec<(i64,)> = self
            .rows(D::SQL.revoked_tokens.query(), "reading revoked tokens")
            .await?;
        Ok(rows.into_iter().map(|(id,)| TokenId(id)).collect())
    }

    async fn put_category(&self, category: &Category) -> Result<Event, StoreError> {
        let mut tx = self.begin_write("starting a category write").await?;
        incidents::write_category(&mut tx, category).await?;
        let change = Change::CategoryUpdated(category.clone());
        let event = tx.append_event(change).await?;
        tx.commit("committing a category").await?;
        Ok(event)
    }

    async fn put_department(&self, department: &Department) -> Result<Event, StoreError> {
        let mut tx = self.begin_write("starting a department write").await?;
        incidents::write_department(&mut tx, department).await?;
        let change = Change::DepartmentUpdated(department.clone());
        let event = tx.append_event(change).await?;
        tx.commit("committing a department").await?;
        Ok(event)
    }

    async fn insert_incident(&self, case: &Case) -> Result<(Case, Event), StoreError> {
        let mut tx = self.begin_write("starting an incident insert").await?;
        let stored = incidents::insert_case(&mut tx, case).await?;
        tx.commit("committing an incident").await?;
        Ok(stored)
    }

    async fn insert_incidents(&self, cases: &[Case]) -> Result<Vec<(Case, Event)>, StoreError> {
        let mut tx = self.begin_write("starting an incident insert").await?;
        let stored = D::insert_cases(&mut tx, cases).await?;
        let committing = std::time::Instant::now();
        tx.commit("committing incidents").await?;
        metrics::histogram!("gridwatch_store_commit_seconds", "store" => D::KIND.as_str())
            .record(committing.elapsed().as_secs_f64());
        Ok(stored)
    }

    async fn update_incidents(&self, updates: &[IncidentUpdate]) -> Result<Event, StoreError> {
        let mut tx = self.begin_write("starting an incident update").await?;
        incidents::update_cases(&mut tx, updates).await?;
        let change = Change::IncidentUpdated(IncidentsUpdated::of(updates.iter().map(|u| &u.case)));
        let event = tx.append_event(change).await?;
        tx.commit("committing an incident update").await?;
        Ok(event)
    }

    async fn add_photo(
        &self,
        incident: IncidentId,
        photo: &Photo,
        data: &[u8],
    ) -> Result<Event, StoreError> {
        let mut tx = self.begin_write("starting a photo insert").await?;
        incidents::attach_photo(&mut tx, incident, photo, data).await?;
        let change = Change::IncidentPhotoAdded(PhotoAdded {
            incident,
            sha256: photo.sha256.clone(),
            content_type: photo.content_type.clone(),
            size: photo.size,
        });
        let event = tx.append_event(change).await?;
        tx.commit("committing a photo").await?;
        Ok(event)
    }

    async fn photo(&self, sha256: &str) -> Result<Option<(String, Vec<u8>)>, StoreError> {
        self.row(D::SQL.load_photo.bind(sha256), "loading a photo")
            .await
    }

    async fn thumbnail(&self, sha256: &str) -> Result<Option<Option<Vec<u8>>>, StoreError> {
        let row: Option<(Option<Vec<u8>>,)> = self
            .row(D::SQL.load_thumbnail.bind(sha256), "loading a thumbnail")
            .await?;
        Ok(row.map(|(data,)| data))
    }

    async fn put_thumbnail(&self, sha256: &str, data: Option<Vec<u8>>) -> Result<(), StoreError> {
        let doing = "storing a thumbnail";
        let mut conn = self.pool.acquire().await.context(doing)?;
        D::SQL
            .insert_thumbnail
            .bind(sha256.to_owned())
            .bind(data)
            .execute(&mut conn, doing)
            .await?;
        Ok(())
    }

    async fn events_since(&self, after: i64, limit: u32) -> Result<Vec<Event>, StoreError> {
        let since = D::SQL.events_since.bind(after).bind(i64::from(limit));
        self.rows(since, "loading events").await
    }

    async fn last_seq(&self) -> Result<i64, StoreError> {
        let doing = "reading the log's last seq";
        let mut conn = self.pool.acquire().await.context(doing)?;
        D::SQL.last_seq.query().scalar(&mut conn, doing).await
    }

    async fn listen_for_events(&self, hint: &crate::follow::Hint) -> Result<(), StoreError> {
        D::listen_for_events(&self.pool, hint).await
    }

    async fn try_lease(
        &self,
        key: i64,
    ) -> Result<Option<Box<dyn crate::lease::Lease>>, StoreError> {
        D::try_lease(&self.pool, key).await
    }

    async fn insert_alert(&self, alert: &AlertRaised) -> Result<Event, StoreError> {
        let mut tx = self.begin_write("starting an alert").await?;
        let event = tx.append_event(Change::AlertRaised(alert.clone())).await?;
        tx.commit("committing an alert").await?;
        Ok(event)
    }

    async fn insert_alarm_ack(
        &self,
        ack: &crate::domain::alarm::AlarmAcknowledged,
    ) -> Result<Event, StoreError> {
        let mut tx = self.begin_write("starting an acknowledgement").await?;
        let event = tx
            .append_event(Change::AlarmAcknowledged(Box::new(ack.clone())))
            .await?;
        tx.commit("committing an acknowledgement").await?;
        Ok(event)
    }

    async fn insert_fixes(
        &self,
        fixes: &[Fix],
        received_at: DateTime<Utc>,
        audit: Vec<audit::Entry>,
    ) -> Result<(), StoreError> {
        if fixes.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write("starting a positions insert").await?;
        D::insert_bulk(&mut tx, Bulk::fixes(fixes, received_at)).await?;
        tx.note_entries(audit);
        tx.mark_requests();
        tx.commit("committing positions").await
    }

    async fn track(
        &self,
        worker: WorkerId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Fix>, StoreError> {
        let track = (D::SQL.load_track)
            .bind(worker.0)
            .bind(from)
            .bind(to)
            .bind(i64::from(limit));
        self.rows(track, "loading a track").await
    }

    async fn patrol_book(&self) -> Result<PatrolBook, StoreError> {
        let mut tx = self
            .begin(D::SQL.begin_read, "starting to load patrols")
            .await?;
        let book = patrols::book(&mut tx).await?;
        tx.commit("finishing loading patrols").await?;
        Ok(book)
    }

    async fn insert_patrol(
        &self,
        worker: WorkerId,
        started_at: DateTime<Utc>,
    ) -> Result<(Patrol, Event), StoreError> {
        let mut tx = self.begin_write("starting a patrol").await?;
        // `Conflict` (the schema's one open patrol per worker) when the worker has one.
        let insert = D::SQL.insert_patrol.bind(worker.0).bind(started_at);
        let patrol: Patrol = insert.fetch_one(&mut tx, "opening a patrol").await?;
        let event = tx
            .append_event(Change::PatrolStarted(patrol.clone()))
            .await?;
        tx.commit("committing a patrol").await?;
        Ok((patrol, event))
    }

    async fn end_patrol(
        &self,
        patrol: PatrolId,
        ended_at: DateTime<Utc>,
    ) -> Result<(Patrol, Event), StoreError> {
        let mut tx = self.begin_write("ending a patrol").await?;
        let end = D::SQL.end_patrol.bind(ended_at).bind(patrol.0);
        let ended: Option<Patrol> = end.fetch_optional(&mut tx, "ending a patrol").await?;
        let patrol = ended.ok_or_else(|| StoreError::NotFound(format!("open patrol {patrol}")))?;
        let event = tx.append_event(Change::PatrolEnded(patrol.clone())).await?;
        tx.commit("committing a patrol's end").await?;
        Ok((patrol, event))
    }

    async fn insert_checkpoint(
        &self,
        checkpoint: &NewCheckpoint,
    ) -> Result<(Checkpoint, Event), StoreError> {
        let mut tx = self.begin_write("starting a checkpoint insert").await?;
        let id: i64 = (D::SQL.insert_checkpoint)
            .bind(&checkpoint.name)
            .bind(checkpoint.lat)
            .bind(checkpoint.lon)
            .bind(checkpoint.radius_m)
            .bind(checkpoint.grid.map(|g| g.0))
            .scalar(&mut tx, "inserting a checkpoint")
            .await?;
        let checkpoint = checkpoint.with_id(CheckpointId(id));
        let change = Change::CheckpointCreated(checkpoint.clone());
        let event = tx.append_event(change).await?;
        tx.commit("committing a checkpoint").await?;
        Ok((checkpoint, event))
    }

    async fn record_patrol_progress(&self, progress: &Progress) -> Result<Vec<Event>, StoreError> {
        let mut tx = self.begin_write("starting a patrol's progress").await?;
        patrols::record(&mut tx, progress).await?;
        let events = tx.append_events(progress.events.clone()).await?;
        tx.commit("committing a patrol's progress").await?;
        Ok(events)
    }

    async fn insert_cameras(
        &self,
        cameras: &[NewCamera],
    ) -> Result<Vec<(Camera, Event)>, StoreError> {
        let mut tx = self.begin_write("starting a camera insert").await?;
        let stored = cameras::insert(&mut tx, cameras).await?;
        let changes = stored.iter().cloned().map(Change::CameraCreated).collect();
        let events = tx.append_events(changes).await?;
        tx.commit("committing cameras").await?;
        Ok(stored.into_iter().zip(events).collect())
    }

    async fn update_camera(&self, camera: &Camera) -> Result<Event, StoreError> {
        let mut tx = self.begin_write("starting a camera update").await?;
        cameras::update(&mut tx, camera).await?;
        let event = tx
            .append_event(Change::CameraUpdated(camera.clone()))
            .await?;
        tx.commit("committing a camera update").await?;
        Ok(event)
    }

    async fn delete_camera(&self, id: CameraId) -> Result<Event, StoreError> {
        let mut tx = self.begin_write("starting a camera delete").await?;
        let camera = cameras::delete(&mut tx, id).await?;
        let event = tx.append_event(Change::CameraDeleted(camera)).await?;
        tx.commit("committing a camera delete").await?;
        Ok(event)
    }

    async fn insert_plan(&self, plan: &NewPlan) -> Result<(PlanRecord, Event), StoreError> {
        let mut tx = self.begin_write("starting a plan insert").await?;
        let record: PlanRecord = (D::SQL.insert_plan)
            .bind(plan.community.0)
            .bind(plan.kind)
            .bind(Json(&plan.grids))
            .bind(Json(&plan.warnings))
            .bind(plan.effective_at)
            .bind(&plan.note)
            .bind(codec::now())
            .bind(plan.created_by.map(|t| t.0))
            .bind(plan.base_version)
            .fetch_one(&mut tx, "inserting a plan")
            .await?;
        let change = Change::PlanCreated(PlanCreated {
            id: record.id,
            community: plan.community,
            kind: plan.kind.to_owned(),
        });
        let event = tx.append_event(change).await?;
        tx.commit("committing a plan").await?;
        Ok((record, event))
    }

    async fn plans(&self, community: RegionId) -> Result<Vec<PlanRecord>, StoreError> {
        let plans = D::SQL.load_plans.bind(community.0);
        self.rows(plans, "loading plans").await
    }

    async fn plan(&self, id: i64) -> Result<Option<PlanRecord>, StoreError> {
        self.row(D::SQL.load_plan.bind(id), "loading a plan").await
    }

    async fn versions(&self, community: RegionId) -> Result<Vec<VersionRecord>, StoreError> {
        let versions = D::SQL.load_versions.bind(community.0);
        self.rows(versions, "loading boundary versions").await
    }

    async fn apply_boundary(&self, change: &BoundaryChange) -> Result<BoundaryApplied, StoreError> {
        let mut tx = self.begin_write("starting a boundary change").await?;
        let (version, grid_ids, cases) = boundary::apply(&mut tx, change).await?;
        let changed = Change::BoundaryChanged(BoundaryChanged {
            version: version.id,
            grids: grid_ids.clone(),
            ..change.payload.clone()
        });
        let event = tx.append_event(changed).await?;
        let rerouted = cases
            .iter()
            .map(|case| IncidentsUpdated::rerouted(case, version.id));
        let events = tx
            .append_events(rerouted.map(Change::IncidentUpdated).collect())
            .await?;
        tx.commit("committing a boundary change").await?;
        Ok(BoundaryApplied {
            version,
            grid_ids,
            event,
            incidents: cases.into_iter().zip(events).collect(),
        })
    }
}
