//! The embedded store: one `SQLite` file through sqlx, so `gridwatch demo` and `serve` need no database
//! server.
//!
//! Durability: WAL journal with `synchronous=FULL`, so a write acknowledged to a client has been synced
//! to disk and survives SIGKILL and power loss. Every write begins `IMMEDIATE`, taking the write lock up
//! front: concurrent writers queue on the busy timeout instead of failing a lock upgrade, and event
//! sequence numbers commit in order. Geometries are `GeoJSON` text; no spatial logic lives here.

mod boundary;
mod cameras;
mod fixes;
mod import;
mod incidents;
mod patrols;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Sqlite;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};

use super::payload;
use super::payload::codec::{self, cell_to_i64, geojson_text};
use super::payload::conflict::Context;
use super::payload::rows::{EventRow, SnapshotRows, TokenRow};
use super::{
    IncidentUpdate, NewBuilding, NewCity, NewRegion, NewToken, NewWorker, Snapshot, Store,
    StoreError, StoreKind, TokenRecord, redact,
};
use crate::domain::event::{
    AlertRaised, BuildingCreated, IncidentSummary, IncidentsUpdated, PhotoAdded, RegionCreated,
    WorkerSummary,
};
use crate::domain::{
    Building, BuildingId, Case, Category, Change, Department, Event, Fix, GridDuty, GridId,
    IncidentId, Photo, Region, RegionId, TokenId, Worker, WorkerId,
};

/// The database file [`SqliteStore::open_dir`] keeps inside its directory.
pub const FILE_NAME: &str = "gridwatch.db";

/// How a write transaction begins: with the write lock taken.
const WRITE: &str = "BEGIN IMMEDIATE";
/// How long a writer waits for another's lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);
/// Readers run in parallel under WAL; writers queue on the lock.
const MAX_CONNECTIONS: u32 = 8;

/// The `SQLite` store. One pool per process.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if needed) the database named by a `sqlite:` URL and runs the migrations.
    /// `sqlite::memory:` gives a private in-memory database that lives as long as the store.
    pub async fn open_url(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Url(format!("{}: {e}", redact(url))))?;
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        Self::open_with(options, in_memory).await
    }

    /// Opens (creating the directory and file if needed) `gridwatch.db` inside `dir`.
    pub async fn open_dir(dir: &Path) -> Result<Self, StoreError> {
        Self::open_with(
            SqliteConnectOptions::new().filename(dir.join(FILE_NAME)),
            false,
        )
        .await
    }

    async fn open_with(options: SqliteConnectOptions, in_memory: bool) -> Result<Self, StoreError> {
        if !in_memory
            && let Some(dir) = options.get_filename().parent()
            && !dir.as_os_str().is_empty()
        {
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(|e| StoreError::Database {
                    context: "creating the data directory",
                    source: sqlx::Error::Io(e),
                })?;
        }
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        // An in-memory database lives only while a connection holds it: keep exactly one, forever.
        let pool = if in_memory {
            SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
        } else {
            SqlitePoolOptions::new().max_connections(MAX_CONNECTIONS)
        };
        let pool = pool
            .connect_with(options)
            .await
            .context("opening the SQLite database")?;
        sqlx::migrate!("../migrations/sqlite").run(&pool).await?;
        Ok(Self { pool })
    }

    async fn begin_write(
        &self,
        doing: &'static str,
    ) -> Result<sqlx::Transaction<'static, Sqlite>, StoreError> {
        self.pool.begin_with(WRITE).await.context(doing)
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn kind(&self) -> StoreKind {
        StoreKind::Sqlite
    }

    async fn snapshot(&self) -> Result<Snapshot, StoreError> {
        // Under WAL a read transaction sees one consistent state from its first read on.
        let mut tx = self.pool.begin().await.context("starting the snapshot")?;
        let rows = SnapshotRows {
            resolution: sqlx::query_scalar("SELECT value FROM settings WHERE key = ?")
                .bind(payload::CELL_RESOLUTION)
                .fetch_optional(&mut *tx)
                .await
                .context("loading settings")?,
            regions: sqlx::query_as("SELECT id, level, code, name, parent_id, boundary FROM regions ORDER BY id")
                .fetch_all(&mut *tx)
                .await
                .context("loading regions")?,
            grids: sqlx::query_as(include_str!("sqlite/snapshot_grids.sql"))
                .fetch_all(&mut *tx)
                .await
                .context("loading grids")?,
            cells: sqlx::query_as("SELECT grid_id, cell FROM grid_cells ORDER BY grid_id, cell")
                .fetch_all(&mut *tx)
                .await
                .context("loading grid cells")?,
            buildings: sqlx::query_as(include_str!("sqlite/snapshot_buildings.sql"))
                .fetch_all(&mut *tx)
                .await
                .context("loading buildings")?,
            base_lines: sqlx::query_as(include_str!("sqlite/snapshot_base_lines.sql"))
                .fetch_all(&mut *tx)
                .await
                .context("loading base-map lines")?,
            base_areas: sqlx::query_as(include_str!("sqlite/snapshot_base_areas.sql"))
                .fetch_all(&mut *tx)
                .await
                .context("loading base-map areas")?,
            workers: sqlx::query_as("SELECT id, name, kind, duty, phone, device_id FROM workers ORDER BY id")
                .fetch_all(&mut *tx)
                .await
                .context("loading workers")?,
            duties: sqlx::query_as(
                "SELECT worker_id, grid_id, responsibility FROM worker_grids ORDER BY worker_id, position",
            )
            .fetch_all(&mut *tx)
            .await
            .context("loading grid duties")?,
            last_seq: sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM events")
                .fetch_one(&mut *tx)
                .await
                .context("loading the last event")?,
        };
        let (categories, departments, incidents) = incidents::load(&mut tx).await?;
        let cameras = cameras::load(&mut tx).await?;
        tx.commit().await.context("ending the snapshot")?;
        Ok(Snapshot {
            categories,
            departments,
            incidents,
            cameras,
            ..rows.into_snapshot()?
        })
    }

    async fn import_city(&self, city: &NewCity) -> Result<Event, StoreError> {
        let mut tx = self.begin_write("starting the import").await?;
        import::write_city(&mut tx, city).await?;
        let event =
            append_event(&mut tx, Change::CityImported(payload::city_imported(city))).await?;
        tx.commit().await.context("committing the import")?;
        Ok(event)
    }

    async fn insert_region(
        &self,
        region: &NewRegion,
        parent: Option<RegionId>,
    ) -> Result<(Region, Event), StoreError> {
        let mut tx = self.begin_write("starting a region insert").await?;
        let id = insert_region_row(&mut tx, region, parent.map(|p| p.0)).await?;
        let region = Region {
            id: RegionId(id),
            level: region.level,
            code: region.code.clone(),
            name: region.name.clone(),
            parent,
            boundary: region.boundary.clone(),
        };
        let event =
            append_event(&mut tx, Change::RegionCreated(RegionCreated::of(&region))).await?;
        tx.commit().await.context("committing a region")?;
        Ok((region, event))
    }

    async fn insert_building(
        &self,
        building: &NewBuilding,
        grid: Option<GridId>,
    ) -> Result<(Building, Event), StoreError> {
        let mut tx = self.begin_write("starting a building insert").await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO buildings (source_id, footprint, kind, levels, households, cell, grid_id) \
             VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(&building.source_id)
        .bind(geojson_text(&building.footprint))
        .bind(&building.kind)
        .bind(building.levels.map(i64::from))
        .bind(i64::from(building.households))
        .bind(cell_to_i64(building.cell))
        .bind(grid.map(|g| g.0))
        .fetch_one(&mut *tx)
        .await
        .context("inserting a building")?;
        let totals = match grid {
            Some(grid) => {
                let (households, count): (i64, i64) = sqlx::query_as(
                    "UPDATE grids SET households = households + ?, building_count = building_count + 1 \
                     WHERE id = ? RETURNING households, building_count",
                )
                .bind(i64::from(building.households))
                .bind(grid.0)
                .fetch_one(&mut *tx)
                .await
                .context("adding a building to its grid")?;
                Some(codec::grid_totals(households, count)?)
            }
            None => None,
        };
        let building = Building {
            id: BuildingId(id),
            source_id: building.source_id.clone(),
            footprint: building.footprint.clone(),
            kind: building.kind.clone(),
            levels: building.levels,
            households: building.households,
            cell: building.cell,
            grid,
        };
        let change = Change::BuildingCreated(BuildingCreated::of(&building, totals));
        let event = append_event(&mut tx, change).await?;
        tx.commit().await.context("committing a building")?;
        Ok((building, event))
    }

    async fn insert_worker(&self, worker: &NewWorker) -> Result<(Worker, Event), StoreError> {
        let at = codec::now();
        let mut tx = self.begin_write("starting a worker insert").await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO workers (name, kind, duty, phone, device_id, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(&worker.name)
        .bind(worker.kind.as_str())
        .bind(worker.duty.as_str())
        .bind(&worker.phone)
        .bind(&worker.device_id)
        .bind(at)
        .bind(at)
        .fetch_one(&mut *tx)
        .await
        .context("inserting a worker")?;
        insert_duties(
            &mut tx,
            id,
            &worker.grids,
            "inserting a worker's grid duties",
        )
        .await?;
        let worker = worker.with_id(WorkerId(id));
        let event =
            append_event(&mut tx, Change::WorkerCreated(WorkerSummary::of(&worker))).await?;
        tx.commit().await.context("committing a worker")?;
        Ok((worker, event))
    }

    async fn update_worker(&self, worker: &Worker) -> Result<Event, StoreError> {
        let mut tx = self.begin_write("starting a worker update").await?;
        let updated = sqlx::query(include_str!("sqlite/update_worker.sql"))
            .bind(&worker.name)
            .bind(worker.kind.as_str())
            .bind(worker.duty.as_str())
            .bind(&worker.phone)
            .bind(&worker.device_id)
            .bind(codec::now())
            .bind(worker.id.0)
            .execute(&mut *tx)
            .await
            .context("updating a worker")?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("worker {}", worker.id)));
        }
        sqlx::query("DELETE FROM worker_grids WHERE worker_id = ?")
            .bind(worker.id.0)
            .execute(&mut *tx)
            .await
            .context("replacing a worker's grid duties")?;
        insert_duties(
            &mut tx,
            worker.id.0,
            &worker.grids,
            "updating a worker's grid duties",
        )
        .await?;
        let event = append_event(&mut tx, Change::WorkerUpdated(WorkerSummary::of(worker))).await?;
        tx.commit().await.context("committing a worker update")?;
        Ok(event)
    }

    async fn insert_token(&self, token: &NewToken) -> Result<(TokenRecord, Event), StoreError> {
        let created_at = codec::now();
        let mut tx = self.begin_write("starting a token insert").await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO tokens (token_hash, role, scopes, worker_id, label, created_at) \
             VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(&token.hash)
        .bind(token.role.as_str())
        .bind(codec::scopes_text(&token.scopes))
        .bind(token.worker.map(|w| w.0))
        .bind(&token.label)
        .bind(created_at)
        .fetch_one(&mut *tx)
        .await
        .context("inserting a token")?;
        let record = TokenRecord {
            id: TokenId(id),
            role: token.role,
            scopes: token.scopes.clone(),
            worker: token.worker,
            label: token.label.clone(),
            created_at,
        };
        let event = append_event(
            &mut tx,
            Change::TokenCreated(payload::token_created(&record)),
        )
        .await?;
        tx.commit().await.context("committing a token")?;
        Ok((record, event))
    }

    async fn token_by_hash(&self, hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        let row: Option<TokenRow> = sqlx::query_as(
            "SELECT id, role, scopes, worker_id, label, created_at FROM tokens \
             WHERE token_hash = ? AND revoked_at IS NULL",
        )
        .bind(hash)
        .fetch_optional(&self.pool)
        .await
        .context("looking up a token")?;
        row.map(TokenRow::into_record).transpose()
    }

    async fn put_category(&self, category: &Category) -> Result<Event, StoreError> {
        let mut tx = self.begin_write("starting a category write").await?;
        incidents::write_category(&mut tx, category).await?;
        let event = append_event(&mut tx, Change::CategoryUpdated(category.clone())).await?;
        tx.commit().await.context("committing a category")?;
        Ok(event)
    }

    async fn put_department(&self, department: &Department) -> Result<Event, StoreError> {
        let mut tx = self.begin_write("starting a department write").await?;
        incidents::write_department(&mut tx, department).await?;
        let event = append_event(&mut tx, Change::DepartmentUpdated(department.clone())).await?;
        tx.commit().await.context("committing a department")?;
        Ok(event)
    }

    async fn insert_incident(&self, case: &Case) -> Result<(Case, Event), StoreError> {
        let mut tx = self.begin_write("starting an incident insert").await?;
        let stored = insert_case(&mut tx, case).await?;
        tx.commit().await.context("committing an incident")?;
        Ok(stored)
    }

    async fn insert_incidents(&self, cases: &[Case]) -> Result<Vec<(Case, Event)>, StoreError> {
        let mut tx = self.begin_write("starting an incident insert").await?;
        let mut stored = Vec::with_capacity(cases.len());
        for case in cases {
            stored.push(insert_case(&mut tx, case).await?);
        }
        let committing = std::time::Instant::now();
        tx.commit().await.context("committing incidents")?;
        metrics::histogram!("gridwatch_store_commit_seconds", "store" => "sqlite")
            .record(committing.elapsed().as_secs_f64());
        Ok(stored)
    }

    async fn update_incidents(&self, updates: &[IncidentUpdate]) -> Result<Event, StoreError> {
        let mut tx = self.begin_write("starting an incident update").await?;
        for update in updates {
            incidents::update_row(&mut tx, &update.case).await?;
            let history = &update.case.history;
            let first = history.len().saturating_sub(update.new_entries);
            for (position, entry) in history.iter().enumerate().skip(first) {
                incidents::insert_history(&mut tx, update.case.id(), position, entry).await?;
            }
        }
        let change = Change::IncidentUpdated(IncidentsUpdated::of(updates.iter().map(|u| &u.case)));
        let event = append_event(&mut tx, change).await?;
        tx.commit().await.context("committing an incident update")?;
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
        let event = append_event(&mut tx, change).await?;
        tx.commit().await.context("committing a photo")?;
        Ok(event)
    }

    async fn photo(&self, sha256: &str) -> Result<Option<(String, Vec<u8>)>, StoreError> {
        sqlx::query_as("SELECT content_type, data FROM photos WHERE sha256 = ?")
            .bind(sha256)
            .fetch_optional(&self.pool)
            .await
            .context("loading a photo")
    }

    async fn events_since(&self, after: i64, limit: u32) -> Result<Vec<Event>, StoreError> {
        let rows: Vec<EventRow> = sqlx::query_as(
            "SELECT seq, at, kind, payload FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
        )
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .context("loading events")?;
        rows.into_iter().map(EventRow::into_event).collect()
    }

    async fn insert_alert(&self, alert: &AlertRaised) -> Result<Event, StoreError> {
        let mut tx = self.begin_write("starting an alert").await?;
        let event = append_event(&mut tx, Change::AlertRaised(alert.clone())).await?;
        tx.commit().await.context("committing an alert")?;
        Ok(event)
    }

    async fn insert_fixes(
        &self,
        fixes: &[Fix],
        received_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        fixes::insert(self, fixes, received_at).await
    }

    async fn track(
        &self,
        worker: WorkerId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Fix>, StoreError> {
        fixes::track(self, worker, from, to, limit).await
    }

    async fn patrol_book(&self) -> Result<crate::domain::patrol::PatrolBook, StoreError> {
        patrols::book(self).await
    }

    async fn insert_patrol(
        &self,
        worker: WorkerId,
        started_at: DateTime<Utc>,
    ) -> Result<(crate::domain::patrol::Patrol, Event), StoreError> {
        patrols::insert(self, worker, started_at).await
    }

    async fn end_patrol(
        &self,
        patrol: crate::domain::PatrolId,
        ended_at: DateTime<Utc>,
    ) -> Result<(crate::domain::patrol::Patrol, Event), StoreError> {
        patrols::end(self, patrol, ended_at).await
    }

    async fn insert_checkpoint(
        &self,
        checkpoint: &crate::domain::patrol::NewCheckpoint,
    ) -> Result<(crate::domain::patrol::Checkpoint, Event), StoreError> {
        patrols::insert_checkpoint(self, checkpoint).await
    }

    async fn record_patrol_progress(
        &self,
        progress: &crate::domain::patrol::Progress,
    ) -> Result<Vec<Event>, StoreError> {
        patrols::record(self, progress).await
    }

    async fn insert_cameras(
        &self,
        new: &[crate::domain::camera::NewCamera],
    ) -> Result<Vec<(crate::domain::camera::Camera, Event)>, StoreError> {
        cameras::insert(self, new).await
    }

    async fn update_camera(
        &self,
        camera: &crate::domain::camera::Camera,
    ) -> Result<Event, StoreError> {
        cameras::update(self, camera).await
    }

    async fn delete_camera(&self, id: crate::domain::CameraId) -> Result<Event, StoreError> {
        cameras::delete(self, id).await
    }

    async fn insert_plan(
        &self,
        plan: &super::boundary::NewPlan,
    ) -> Result<(super::boundary::PlanRecord, Event), StoreError> {
        boundary::insert_plan(self, plan).await
    }

    async fn plans(
        &self,
        community: RegionId,
    ) -> Result<Vec<super::boundary::PlanRecord>, StoreError> {
        boundary::plans(self, community).await
    }

    async fn plan(&self, id: i64) -> Result<Option<super::boundary::PlanRecord>, StoreError> {
        boundary::plan(self, id).await
    }

    async fn versions(
        &self,
        community: RegionId,
    ) -> Result<Vec<super::boundary::VersionRecord>, StoreError> {
        boundary::versions(self, community).await
    }

    async fn apply_boundary(
        &self,
        change: &super::boundary::BoundaryChange,
    ) -> Result<super::boundary::BoundaryApplied, StoreError> {
        boundary::apply(self, change).await
    }
}

/// Inserts one new case (row, history, `incident.created`) inside the caller's transaction.
async fn insert_case(
    conn: &mut SqliteConnection,
    case: &Case,
) -> Result<(Case, Event), StoreError> {
    let id = IncidentId(incidents::insert_row(&mut *conn, case).await?);
    for (position, entry) in case.history.iter().enumerate() {
        incidents::insert_history(&mut *conn, id, position, entry).await?;
    }
    let mut stored = case.clone();
    stored.state.id = id;
    let change = Change::IncidentCreated(Box::new(IncidentSummary::of(&stored)));
    let event = append_event(&mut *conn, change).await?;
    Ok((stored, event))
}

/// Appends the event of the write in progress; its `seq` is the row id `SQLite` assigns.
async fn append_event(conn: &mut SqliteConnection, change: Change) -> Result<Event, StoreError> {
    let at: DateTime<Utc> = codec::now();
    let seq: i64 =
        sqlx::query_scalar("INSERT INTO events (at, kind, payload) VALUES (?, ?, ?) RETURNING seq")
            .bind(at)
            .bind(change.kind())
            .bind(change.payload_text())
            .fetch_one(&mut *conn)
            .await
            .context("appending an event")?;
    Ok(Event { seq, at, change })
}

/// Sets a setting, or removes it when `value` is `None`.
async fn put_setting(
    conn: &mut SqliteConnection,
    key: &str,
    value: Option<&str>,
) -> Result<(), StoreError> {
    match value {
        Some(value) => sqlx::query(
            "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value),
        None => sqlx::query("DELETE FROM settings WHERE key = ?").bind(key),
    }
    .execute(&mut *conn)
    .await
    .context("writing settings")?;
    Ok(())
}

async fn insert_region_row(
    conn: &mut SqliteConnection,
    region: &NewRegion,
    parent: Option<i64>,
) -> Result<i64, StoreError> {
    sqlx::query_scalar(
        "INSERT INTO regions (level, code, name, parent_id, boundary) VALUES (?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(region.level.as_str())
    .bind(&region.code)
    .bind(&region.name)
    .bind(parent)
    .bind(geojson_text(&region.boundary))
    .fetch_one(&mut *conn)
    .await
    .context("inserting a region")
}

/// Writes a worker's grid duties in the order given.
async fn insert_duties(
    conn: &mut SqliteConnection,
    worker: i64,
    duties: &[GridDuty],
    doing: &'static str,
) -> Result<(), StoreError> {
    for (position, duty) in (0_i64..).zip(duties) {
        sqlx::query("INSERT INTO worker_grids (worker_id, grid_id, responsibility, position) VALUES (?, ?, ?, ?)")
            .bind(worker)
            .bind(duty.grid_id.0)
            .bind(duty.responsibility.as_str())
            .bind(position)
            .execute(&mut *conn)
            .await
            .context(doing)?;
    }
    Ok(())
}
