//! Persistence: the `Store` trait, implemented once over a SQL dialect (`sql.rs`, `SqlStore<D>`) for
//! embedded SQLite (`sqlite.rs`, `SqliteStore`) and PostgreSQL + PostGIS (`postgres.rs`, `PgStore`).
//!
//! Every write runs in one transaction that also appends an `events` row with the next sequence number,
//! and returns only after commit. The row holds a `domain::event::Change`: its kind and its payload as
//! JSON, written by `Change::kind`/`Change::payload_text` and read back by `Change::from_stored`. The store holds rows; it never decides what is valid — the server
//! validates against the world before calling it. Spatial truth lives in Rust: PostGIS columns exist so
//! QGIS and GDAL can open the tables, not as a second source of truth.

pub mod accounts;
pub mod boundary;
pub mod history;
pub mod idempotency;
pub mod postgres;
pub mod search;
pub mod sql;
pub mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use geo::MultiPolygon;
use h3o::{CellIndex, Resolution};

use crate::domain::camera::{Camera, NewCamera};
use crate::domain::event::AlertRaised;
use crate::domain::incident::{Source, Status};
use crate::domain::patrol::{Checkpoint, NewCheckpoint, Patrol, PatrolBook, Progress};
use crate::domain::{
    BaseArea, BaseLine, Building, CameraId, Case, Category, Department, DutyStatus, Event, Fix,
    Grid, GridDuty, GridFlag, GridId, IncidentId, PatrolId, Photo, Region, RegionId, RegionLevel,
    Role, Scope, TokenId, Worker, WorkerId, WorkerKind,
};

/// Which backend a store is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum StoreKind {
    Sqlite,
    Postgres,
}

impl StoreKind {
    /// The name `/metrics` labels the store's figures with.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

/// A store failure, with what the store was doing.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error while {context}: {source}")]
    Database {
        context: &'static str,
        #[source]
        source: sqlx::Error,
    },
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The disk, or the database server's, is full: nothing was stored, and the same write succeeds
    /// once there is room (`SQLite`'s `SQLITE_FULL`, PostgreSQL's `disk_full`).
    #[error("no room to store while {context}: {source}")]
    Full {
        context: &'static str,
        #[source]
        source: sqlx::Error,
    },
    /// A uniqueness or reference rule of the schema refused the write; nothing was stored.
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("not found: {0}")]
    NotFound(String),
    /// A stored row that does not decode (bad geometry, unknown enum value): data damage, not user error.
    #[error("corrupt row in {table}: {reason}")]
    Corrupt { table: &'static str, reason: String },
    #[error("invalid database url: {0}")]
    Url(String),
    /// The database did not answer within the write bound (or is known to be down since a write
    /// found it so); nothing was written. Send it again later.
    #[error("the database is not answering ({0}); nothing was written, send it again shortly")]
    Unavailable(String),
    /// A COMMIT was sent, its answer lost, and the database could not say in time whether it
    /// committed: the change may be stored without being in the world until a restart.
    #[error("the outcome of a commit is unknown ({0})")]
    OutcomeUnknown(String),
    /// A failure of a transaction this write shared with others (the intake's group), reported to
    /// each of them; the first gets the error itself.
    #[error("the transaction this write shared failed: {0}")]
    Shared(String),
}

impl StoreError {
    /// Whether this error says the database could not be reached at all (no connection, a refused or
    /// broken one, a timeout waiting for one), as opposed to a refusal of what was asked.
    #[must_use]
    pub fn is_unreachable(&self) -> bool {
        match self {
            Self::Unavailable(_) => true,
            Self::Database { source, .. } => matches!(
                source,
                sqlx::Error::PoolTimedOut
                    | sqlx::Error::PoolClosed
                    | sqlx::Error::Io(_)
                    | sqlx::Error::Tls(_)
                    | sqlx::Error::WorkerCrashed
            ),
            _ => false,
        }
    }
}

/// Everything the in-memory world is built from at start.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// `None` until a city has been imported.
    pub resolution: Option<Resolution>,
    pub regions: Vec<Region>,
    pub grids: Vec<Grid>,
    pub buildings: Vec<Building>,
    /// The base map's lines and areas, in import order.
    pub base_lines: Vec<BaseLine>,
    pub base_areas: Vec<BaseArea>,
    pub workers: Vec<Worker>,
    pub categories: Vec<Category>,
    pub departments: Vec<Department>,
    /// Every case with its whole history and photo list, by id, but for those archived (see
    /// `archived_before`).
    pub incidents: Vec<Case>,
    /// The archive line the snapshot was read with: the closed, cancelled and merged cases last changed
    /// before it are left out (the store answers for them, [`Store::archived`]); `None`, every case.
    pub archived_before: Option<DateTime<Utc>>,
    /// Whether any case was left out for the archive line.
    pub archived: bool,
    /// The highest case id in the store, archived cases included (0 for none).
    pub last_incident_id: i64,
    /// Every camera, by id.
    pub cameras: Vec<Camera>,
    pub last_seq: i64,
}

/// The new state of one case and how many of its history entries (the last ones) are new.
#[derive(Debug, Clone)]
pub struct IncidentUpdate {
    pub case: Case,
    pub new_entries: usize,
}

/// A region to create. Boundary in degrees (EPSG:4326, lon/lat order).
#[derive(Debug, Clone)]
pub struct NewRegion {
    pub level: RegionLevel,
    pub code: String,
    pub name: String,
    pub boundary: MultiPolygon<f64>,
}

/// A grid to create during an import; the community is named by its code.
#[derive(Debug, Clone)]
pub struct NewGrid {
    pub code: String,
    pub name: String,
    pub community_code: String,
    pub cells: Vec<CellIndex>,
    /// Outline of `cells`, degrees (EPSG:4326, lon/lat order).
    pub boundary: MultiPolygon<f64>,
    pub households: u32,
    pub building_count: u32,
    pub flag: Option<GridFlag>,
}

/// A building to create. Footprint in degrees (EPSG:4326, lon/lat order).
#[derive(Debug, Clone)]
pub struct NewBuilding {
    pub source_id: Option<String>,
    pub footprint: MultiPolygon<f64>,
    pub kind: String,
    pub levels: Option<u32>,
    pub households: u32,
    pub cell: CellIndex,
}

/// A whole city written in one transaction: regions, grids, buildings, the cell resolution.
#[derive(Debug, Clone)]
pub struct NewCity {
    pub name: String,
    pub attribution: Option<String>,
    pub resolution: Resolution,
    /// Parents before children; each with its parent's code.
    pub regions: Vec<(NewRegion, Option<String>)>,
    pub grids: Vec<NewGrid>,
    /// Each building with the code of the grid its cell belongs to.
    pub buildings: Vec<(NewBuilding, Option<String>)>,
    /// The base map: roads, railways, waterways; water, parks. Written in the same transaction.
    pub base_lines: Vec<BaseLine>,
    pub base_areas: Vec<BaseArea>,
}

/// A worker to create.
#[derive(Debug, Clone)]
pub struct NewWorker {
    pub name: String,
    pub kind: WorkerKind,
    pub duty: DutyStatus,
    pub phone: Option<String>,
    pub device_hash: Option<String>,
    pub grids: Vec<GridDuty>,
}

impl NewWorker {
    /// The worker as stored under `id`.
    #[must_use]
    pub fn with_id(&self, id: WorkerId) -> Worker {
        Worker {
            id,
            name: self.name.clone(),
            kind: self.kind,
            duty: self.duty,
            phone: self.phone.clone(),
            device_hash: self.device_hash.clone(),
            grids: self.grids.clone(),
        }
    }
}

/// A stored API token. Only the SHA-256 of the secret is kept.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenRecord {
    pub id: TokenId,
    pub role: Role,
    pub scopes: Vec<Scope>,
    pub worker: Option<WorkerId>,
    pub label: Option<String>,
    pub created_at: DateTime<Utc>,
    /// `None` only for a row no migration has given an expiry; such a token is refused.
    pub expires_at: Option<DateTime<Utc>>,
    /// The secret's first characters, to tell tokens apart in a list; `None` for tokens minted before
    /// prefixes were kept.
    pub prefix: Option<String>,
    /// The token that minted it (`None`: the command line).
    pub created_by: Option<TokenId>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Which archived cases to find ([`Store::archived`]): those the world no longer holds — closed,
/// cancelled or merged, last changed before `before` — that pass every filter given.
#[derive(Debug, Clone)]
pub struct ArchiveQuery {
    /// The world's archive line ([`crate::world::World::archived_before`]).
    pub before: DateTime<Utc>,
    pub grid: Option<GridId>,
    /// A community, street or district the case lies under.
    pub region: Option<RegionId>,
    pub statuses: Option<Vec<Status>>,
    /// Category codes.
    pub categories: Option<Vec<String>>,
    pub assignee: Option<WorkerId>,
    /// `[min_lon, min_lat, max_lon, max_lat]`, degrees, edges included.
    pub bbox: Option<[f64; 4]>,
    /// Who must be able to see the case; `None`, anybody (an unscoped reader).
    pub seen_by: Option<Seer>,
    /// Created at or after.
    pub created_from: Option<DateTime<Utc>>,
    /// Created at or before.
    pub created_to: Option<DateTime<Utc>>,
    /// Changed at or after this instant, or with a deadline at or after it: a case that could count in a
    /// report of a period starting then.
    pub active_since: Option<DateTime<Utc>>,
    /// Carrying the photo with this SHA-256.
    pub photo: Option<String>,
    pub source: Option<Source>,
    /// Whose description holds every word of this search (`store::search`).
    pub text: Option<search::TextQuery>,
}

impl ArchiveQuery {
    /// Every case archived before `before`.
    #[must_use]
    pub fn before(before: DateTime<Utc>) -> Self {
        Self {
            before,
            grid: None,
            region: None,
            statuses: None,
            categories: None,
            assignee: None,
            bbox: None,
            seen_by: None,
            created_from: None,
            created_to: None,
            active_since: None,
            photo: None,
            source: None,
            text: None,
        }
    }
}

/// A scoped reader, as the archive query tests what it may see: a case in one of its grids, assigned to
/// or handled by its worker, or reported with its token (`cases::actions::can_see`).
#[derive(Debug, Clone, Default)]
pub struct Seer {
    pub grids: Vec<GridId>,
    pub worker: Option<WorkerId>,
    pub token: Option<TokenId>,
}

/// Which audit rows to read: `[from, to)`, optionally one actor (its name or id) and one action, after
/// row `after`, at most `limit`.
#[derive(Debug, Clone)]
pub struct AuditQuery {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub actor: Option<String>,
    pub action: Option<String>,
    pub after: i64,
    pub limit: u32,
}

/// A token to create.
#[derive(Debug, Clone)]
pub struct NewToken {
    /// Lower-case hex SHA-256 of the secret.
    pub hash: String,
    /// The secret's first characters (`auth::secret_prefix`).
    pub prefix: String,
    pub role: Role,
    pub scopes: Vec<Scope>,
    pub worker: Option<WorkerId>,
    pub label: Option<String>,
    pub expires_at: DateTime<Utc>,
    pub created_by: Option<TokenId>,
}

pub use accounts::{Accounts, NewSession, NewUser, SessionRecord, UserRecord, UserUpdate};
pub use history::History;
pub use idempotency::Idempotency;

/// The persistence contract both backends meet; one test suite runs against both. People's accounts
/// are the supertrait [`Accounts`] (`store/accounts.rs`), idempotency keys [`Idempotency`]
/// (`store/idempotency.rs`), what replay reads [`History`] (`store/history.rs`).
#[async_trait]
pub trait Store: Accounts + Idempotency + History + Send + Sync + 'static {
    fn kind(&self) -> StoreKind;

    /// Loads everything the world needs, with the last event sequence number. Closed, cancelled and
    /// merged cases last changed before `archived_before` are left out: the world does not hold them.
    async fn snapshot(
        &self,
        archived_before: Option<DateTime<Utc>>,
    ) -> Result<Snapshot, StoreError>;

    /// One case with its whole history and its photos, read from the store (for a case the world does
    /// not hold); `None` when there is no such case.
    async fn incident(&self, id: IncidentId) -> Result<Option<Case>, StoreError>;

    /// The archived cases (closed, cancelled or merged, last changed before `query.before`) that match
    /// every filter of `query`: how many there are, and the ids of the `limit` newest (highest id first).
    async fn archived(
        &self,
        query: &ArchiveQuery,
        limit: u64,
    ) -> Result<(u64, Vec<IncidentId>), StoreError>;

    /// The cases with these ids, each with its whole history and photos, lowest id first; an id with no
    /// case is left out.
    async fn incidents_in(&self, ids: &[IncidentId]) -> Result<Vec<Case>, StoreError>;

    /// The ids of the cases matching `search` (`store/search.rs`), open, finished and archived alike,
    /// newest first. A store without a text index (a test double) finds nothing.
    async fn search_cases(
        &self,
        search: &search::CaseSearch,
    ) -> Result<Vec<IncidentId>, StoreError> {
        let _ = search;
        Ok(Vec::new())
    }

    /// Writes a whole city. Refused with `Conflict` when the store already holds grids.
    async fn import_city(&self, city: &NewCity) -> Result<Event, StoreError>;

    async fn insert_region(
        &self,
        region: &NewRegion,
        parent: Option<RegionId>,
    ) -> Result<(Region, Event), StoreError>;

    /// Inserts a building and adds its households and count to its grid, in one transaction.
    async fn insert_building(
        &self,
        building: &NewBuilding,
        grid: Option<GridId>,
    ) -> Result<(Building, Event), StoreError>;

    async fn insert_worker(&self, worker: &NewWorker) -> Result<(Worker, Event), StoreError>;

    /// Replaces a worker's fields and grid duties with `worker`'s.
    async fn update_worker(&self, worker: &Worker) -> Result<Event, StoreError>;

    async fn insert_token(&self, token: &NewToken) -> Result<(TokenRecord, Event), StoreError>;

    /// The token whose secret hashes to `hash`, unless revoked.
    async fn token_by_hash(&self, hash: &str) -> Result<Option<TokenRecord>, StoreError>;

    /// Every token, revoked and expired ones too, by id.
    async fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError>;

    async fn token(&self, id: TokenId) -> Result<Option<TokenRecord>, StoreError>;

    /// Revokes a token with its `token.revoked` event; `None` when it was already revoked (nothing
    /// written). `NotFound` for an unknown id.
    async fn revoke_token(
        &self,
        id: TokenId,
        by: Option<TokenId>,
    ) -> Result<Option<Event>, StoreError>;

    /// Notes when a token was last used (not an event: it changes nothing anyone watches).
    async fn touch_token(&self, id: TokenId, at: DateTime<Utc>) -> Result<(), StoreError>;

    /// The ids of every revoked token: what the revocation watch compares with what it knows.
    async fn revoked_tokens(&self) -> Result<Vec<TokenId>, StoreError>;

    /// Whether committed changes write their audit rows (on unless switched off for a benchmark).
    fn set_audited(&self, on: bool) {
        let _ = on;
    }

    /// The longest a write waits for a connection before it gives up with
    /// [`StoreError::Unavailable`].
    fn set_write_wait(&self, wait: std::time::Duration) {
        let _ = wait;
    }

    /// False once a write found the database unreachable, until a write or [`Store::ping`] reaches it
    /// again: while false, writes are refused at once instead of each waiting out the bound.
    fn reachable(&self) -> bool {
        true
    }

    /// Whether a COMMIT's outcome could not be learned (`StoreError::OutcomeUnknown`) since the last
    /// call, which clears it: the world may be behind the store, and must catch up before the next
    /// write (`Core::catch_up`).
    fn take_unknown_outcome(&self) -> bool {
        false
    }

    /// Notes again that the world may be behind the store (a catch-up that failed).
    fn note_unknown_outcome(&self) {}

    /// Asks the database to answer a trivial query within `within`, and notes whether it did.
    async fn ping(&self, within: std::time::Duration) -> Result<(), StoreError>;

    /// Takes lease `key` if no process on this database holds it (`None` when one does): held until the
    /// [`crate::lease::Lease`] is dropped or its connection is lost, so a process that dies lets it go.
    /// The embedded store has one process: always granted.
    async fn try_lease(
        &self,
        key: i64,
    ) -> Result<Option<Box<dyn crate::lease::Lease>>, StoreError> {
        let _ = key;
        Ok(Some(Box::new(crate::lease::Sole)))
    }

    /// Appends audit rows of their own (a refusal, a login), chained after the last row, in one
    /// transaction.
    async fn append_audit(&self, entries: Vec<crate::audit::Entry>) -> Result<(), StoreError>;

    /// Up to `limit` rows of the chain after row `after`, in order.
    async fn audit_rows(
        &self,
        after: i64,
        limit: u32,
    ) -> Result<Vec<crate::audit::Row>, StoreError>;

    /// Rows matching `query`, oldest first.
    async fn find_audit(&self, query: &AuditQuery) -> Result<Vec<crate::audit::Row>, StoreError>;

    /// Where the kept chain starts: `(seq, hash)` of the last row retention removed.
    async fn audit_anchor(&self) -> Result<(i64, String), StoreError>;

    /// Moves the anchor to row `seq` (which must hold `hash` and be at least 180 days old: the
    /// database refuses otherwise) and removes the rows up to it, in one transaction.
    async fn prune_audit(&self, seq: i64, hash: &str) -> Result<u64, StoreError>;

    /// Inserts or replaces a category (by code).
    async fn put_category(&self, category: &Category) -> Result<Event, StoreError>;

    /// Inserts or replaces a department (by code) and its member list.
    async fn put_department(&self, department: &Department) -> Result<Event, StoreError>;

    /// Inserts a new case with all of its history (the `register` entry, and the routing decision when
    /// it was dispatched at once) and appends `incident.created`. `case.state.id` is ignored: the store
    /// assigns the id and returns the case as stored.
    async fn insert_incident(&self, case: &Case) -> Result<(Case, Event), StoreError>;

    /// Inserts several new cases in one transaction, in order, each as `insert_incident` would (its
    /// rows and its own `incident.created` event): all or none, and one commit — one sync to disk — for
    /// the lot. The intake writer's group commit.
    async fn insert_incidents(&self, cases: &[Case]) -> Result<Vec<(Case, Event)>, StoreError>;

    /// Writes the new state of each case and appends its new history entries, with one
    /// `incident.updated` event naming them all, in one transaction. `NotFound` if a case does not exist.
    async fn update_incidents(&self, updates: &[IncidentUpdate]) -> Result<Event, StoreError>;

    /// Stores `data` under its hash (once, however many cases share it) and attaches it to a case.
    async fn add_photo(
        &self,
        incident: IncidentId,
        photo: &Photo,
        data: &[u8],
    ) -> Result<Event, StoreError>;

    /// A stored photo's content type and bytes.
    async fn photo(&self, sha256: &str) -> Result<Option<(String, Vec<u8>)>, StoreError>;

    /// A photo's thumbnail (a JPEG): `None` if none was made yet, `Some(None)` if the photo could not
    /// be decoded when it was tried.
    async fn thumbnail(&self, sha256: &str) -> Result<Option<Option<Vec<u8>>>, StoreError>;

    /// Keeps a photo's thumbnail (`None`: it could not be made). The first one kept stays: a second
    /// is ignored, so a thumbnail is made once however many ask at the same time.
    async fn put_thumbnail(&self, sha256: &str, data: Option<Vec<u8>>) -> Result<(), StoreError>;

    /// Events with `seq > after`, oldest first, at most `limit`.
    async fn events_since(&self, after: i64, limit: u32) -> Result<Vec<Event>, StoreError>;

    /// The sequence number of the log's last event (0 for none): what a node's world follows.
    async fn last_seq(&self) -> Result<i64, StoreError>;

    /// Tells `hint` whenever any process appends events, with the last appended seq, for as long as
    /// it can; returns when it cannot (the caller tries again later). A hint only: one may be lost
    /// (the follower reads the log by seq in any case, `follow.rs`). The embedded store has no such
    /// channel and never returns.
    async fn listen_for_events(&self, hint: &crate::follow::Hint) -> Result<(), StoreError> {
        let _ = hint;
        std::future::pending().await
    }

    /// Records an area alert (应急联动) as an `alert.raised` event; the payload names who it reached.
    async fn insert_alert(&self, alert: &AlertRaised) -> Result<Event, StoreError>;

    /// Records an alarm's acknowledgement (`crate::alarms`) as an `alarm.acknowledged` event.
    async fn insert_alarm_ack(
        &self,
        ack: &crate::domain::alarm::AlarmAcknowledged,
    ) -> Result<Event, StoreError>;

    /// Appends position fixes (one transaction), with `audit`, the audit rows of the requests that sent
    /// them. Fixes are not events: the latest of each worker lives in memory and reaches websocket clients
    /// directly.
    async fn insert_fixes(
        &self,
        fixes: &[Fix],
        received_at: DateTime<Utc>,
        audit: Vec<crate::audit::Entry>,
    ) -> Result<(), StoreError>;

    /// A worker's fixes with `from <= at < to`, oldest first, at most `limit`.
    async fn track(
        &self,
        worker: WorkerId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Fix>, StoreError>;

    /// Every patrol, checkpoint, check-in and last cell visit (the patrol service keeps them in memory).
    async fn patrol_book(&self) -> Result<PatrolBook, StoreError>;

    /// Opens a patrol and appends `patrol.started`; `Conflict` when the worker has an open one.
    async fn insert_patrol(
        &self,
        worker: WorkerId,
        started_at: DateTime<Utc>,
    ) -> Result<(Patrol, Event), StoreError>;

    /// Ends an open patrol and appends `patrol.ended`; `NotFound` unless the patrol exists and is open.
    async fn end_patrol(
        &self,
        patrol: PatrolId,
        ended_at: DateTime<Utc>,
    ) -> Result<(Patrol, Event), StoreError>;

    async fn insert_checkpoint(
        &self,
        checkpoint: &NewCheckpoint,
    ) -> Result<(Checkpoint, Event), StoreError>;

    /// Writes a patrol's progress — cell visits (each keeps its latest time), check-ins, current grid —
    /// and appends its events in order, in one transaction.
    async fn record_patrol_progress(&self, progress: &Progress) -> Result<Vec<Event>, StoreError>;

    // Cameras (视频监控点). Each row keeps its view sector as geometry for GIS tools.

    /// Inserts cameras (already checked) in one transaction, in order, each with its `camera.created`
    /// event: all or none.
    async fn insert_cameras(
        &self,
        cameras: &[NewCamera],
    ) -> Result<Vec<(Camera, Event)>, StoreError>;

    /// Replaces a camera's parameters and appends `camera.updated`; `NotFound` if it does not exist.
    async fn update_camera(&self, camera: &Camera) -> Result<Event, StoreError>;

    /// Deletes a camera and appends `camera.deleted` (with its last parameters); `NotFound` if it does
    /// not exist.
    async fn delete_camera(&self, id: CameraId) -> Result<Event, StoreError>;

    // Boundary plans and versions (网格调整), `store/boundary.rs`.

    /// Stores a draft plan and appends `plan.created`.
    async fn insert_plan(
        &self,
        plan: &boundary::NewPlan,
    ) -> Result<(boundary::PlanRecord, Event), StoreError>;

    /// A community's plans, oldest first.
    async fn plans(&self, community: RegionId) -> Result<Vec<boundary::PlanRecord>, StoreError>;

    async fn plan(&self, id: i64) -> Result<Option<boundary::PlanRecord>, StoreError>;

    /// A community's boundary versions, oldest first.
    async fn versions(
        &self,
        community: RegionId,
    ) -> Result<Vec<boundary::VersionRecord>, StoreError>;

    /// Applies a boundary change in one transaction: the version row (after a baseline when given), the
    /// plan marked applied (`Conflict` unless it was a draft), the community's grid rows and cells
    /// rewritten, buildings and re-routed cases moved with their history, then `boundary.changed` and
    /// one `incident.updated` per re-routed case.
    async fn apply_boundary(
        &self,
        change: &boundary::BoundaryChange,
    ) -> Result<boundary::BoundaryApplied, StoreError>;
}

/// Opens the store named by `database_url` (`postgres://…` or `sqlite://…`), runs migrations.
pub async fn open(database_url: &str) -> Result<Arc<dyn Store>, StoreError> {
    if database_url.starts_with("postgres://") || database_url.starts_with("postgresql://") {
        Ok(Arc::new(postgres::PgStore::connect(database_url).await?))
    } else if database_url.starts_with("sqlite:") {
        Ok(Arc::new(sqlite::SqliteStore::open_url(database_url).await?))
    } else {
        Err(StoreError::Url(redact(database_url)))
    }
}

/// A connection string that does not parse; its password never reaches the message.
fn bad_url(url: &str, error: impl std::fmt::Display) -> StoreError {
    StoreError::Url(format!("{}: {error}", redact(url)))
}

/// Hides a password in a connection string so it never reaches a log or a message.
#[must_use]
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn redact_hides_only_the_password() {
        assert_eq!(
            redact("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("sqlite://data/x.db"), "sqlite://data/x.db");
    }
}
