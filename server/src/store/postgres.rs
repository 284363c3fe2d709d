//! The production store: `PostgreSQL` + `PostGIS` through sqlx, selected by `DATABASE_URL=postgres://…`.
//!
//! Geometries go in as `GeoJSON` through `ST_GeomFromGeoJSON` into real `geometry(MultiPolygon, 4326)`
//! columns, so `QGIS` and `GDAL` open the tables directly, and come back through `ST_AsGeoJSON`. They are a
//! copy for GIS access: no spatial decision is taken here. Imports send each table as parallel arrays
//! in one `UNNEST` statement. Every write takes one advisory lock just before appending its event, so
//! sequence numbers become visible in order and a process tailing `seq > n` never skips one.

mod boundary;
mod cameras;
mod fixes;
mod import;
mod incidents;
mod intake;
mod patrols;

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::{Postgres, Transaction};

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

/// The advisory lock that orders event appends across every gridwatch process on one database.
const EVENTS_LOCK: i64 = 0x6777_5f65_7665_6e74; // "gw_event"
const MAX_CONNECTIONS: u32 = 16;
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// The `PostgreSQL` + `PostGIS` store. One pool per process.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects with one pool and runs the migrations (the first creates the `postgis` extension).
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options: PgConnectOptions = url
            .parse()
            .map_err(|e| StoreError::Url(format!("{}: {e}", redact(url))))?;
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options.application_name("gridwatch"))
            .await
            .context("connecting to PostgreSQL")?;
        sqlx::migrate!("../migrations/postgres").run(&pool).await?;
        Ok(Self { pool })
    }

    async fn begin_write(
        &self,
        doing: &'static str,
    ) -> Result<Transaction<'static, Postgres>, StoreError> {
        self.pool.begin().await.context(doing)
    }
}

#[async_trait]
impl Store for PgStore {
    fn kind(&self) -> StoreKind {
        StoreKind::Postgres
    }

    async fn snapshot(&self) -> Result<Snapshot, StoreError> {
        // One snapshot of the database for every table, so `last_seq` matches the rows.
        let mut tx = self
            .pool
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await
            .context("starting the snapshot")?;
        let rows = SnapshotRows {
            resolution: sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
                .bind(payload::CELL_RESOLUTION)
                .fetch_optional(&mut *tx)
                .await
                .context("loading settings")?,
            regions: sqlx::query_as(include_str!("postgres/snapshot_regions.sql"))
                .fetch_all(&mut *tx)
                .await
                .context("loading regions")?,
            grids: sqlx::query_as(include_str!("postgres/snapshot_grids.sql"))
                .fetch_all(&mut *tx)
                .await
                .context("loading grids")?,
            cells: sqlx::query_as("SELECT grid_id, cell FROM grid_cells ORDER BY grid_id, cell")
                .fetch_all(&mut *tx)
                .await
                .context("loading grid cells")?,
            buildings: sqlx::query_as(include_str!("postgres/snapshot_buildings.sql"))
                .fetch_all(&mut *tx)
                .await
                .context("loading buildings")?,
            base_lines: sqlx::query_as(include_str!("postgres/snapshot_base_lines.sql"))
                .fetch_all(&mut *tx)
                .await
                .context("loading base-map lines")?,
            base_areas: sqlx::query_as(include_str!("postgres/snapshot_base_areas.sql"))
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
            last_seq: sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0)::bigint FROM events")
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
        let id: i64 = sqlx::query_scalar(include_str!("postgres/insert_building.sql"))
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
                    "UPDATE grids SET households = households + $1, building_count = building_count + 1 \
                     WHERE id = $2 RETURNING households, building_count",
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
             VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
        )
        .bind(&worker.name)
        .bind(worker.kind.as_str())
        .bind(worker.duty.as_str())
        .bind(&worker.phone)
        .bind(&worker.device_id)
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
        let updated = sqlx::query(include_str!("postgres/update_worker.sql"))
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
        sqlx::query("DELETE FROM worker_grids WHERE worker_id = $1")
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
             VALUES ($1, $2, $3::jsonb, $4, $5, $6) RETURNING id",
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
            "SELECT id, role, scopes::text AS scopes, worker_id, label, created_at FROM tokens \
             WHERE token_hash = $1 AND revoked_at IS NULL",
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
        // One events lock for the whole group, and four statements whatever its size (`intake.rs`).
        let stored = intake::insert_group(&mut tx, cases).await?;
        let committing = std::time::Instant::now();
        tx.commit().await.context("committing incidents")?;
        metrics::histogram!("gridwatch_store_commit_seconds", "store" => "postgres")
            .record(committing.elapsed().as_secs_f64());
        Ok(stored)
    }

    async fn update_incidents(&self, updates: &[IncidentUpdate]) -> Result<Event, StoreError> {
        let mut tx = self.begin_write("starting an incident update").await?;
        for update in updates {
            incidents::update_row(&mut tx, &update.case).await?;
            let history = &update.case.history;
            let first = history.len().saturating_sub(update.new_entries);
            incidents::insert_histories(&mut tx, update.case.id(), first, &history[first..])
                .await?;
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
        sqlx::query_as("SELECT content_type, data FROM photos WHERE sha256 = $1")
            .bind(sha256)
            .fetch_optional(&self.pool)
            .await
            .context("loading a photo")
    }

    async fn events_since(&self, after: i64, limit: u32) -> Result<Vec<Event>, StoreError> {
        let rows: Vec<EventRow> = sqlx::query_as(
            "SELECT seq, at, kind, payload::text AS payload FROM events WHERE seq > $1 ORDER BY seq LIMIT $2",
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

/// Waits for the events lock; held until the transaction ends. Reentrant within a transaction.
async fn lock_events(conn: &mut PgConnection) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(EVENTS_LOCK)
        .execute(&mut *conn)
        .await
        .context("waiting for the events lock")?;
    Ok(())
}

/// Inserts one new case (row, history, `incident.created`) inside the caller's transaction.
async fn insert_case(conn: &mut PgConnection, case: &Case) -> Result<(Case, Event), StoreError> {
    let id = IncidentId(incidents::insert_row(&mut *conn, case).await?);
    incidents::insert_histories(&mut *conn, id, 0, &case.history).await?;
    let mut stored = case.clone();
    stored.state.id = id;
    let change = Change::IncidentCreated(Box::new(IncidentSummary::of(&stored)));
    let event = append_event(&mut *conn, change).await?;
    Ok((stored, event))
}

/// Appends the event of the write in progress. The lock is taken here, at the end of the transaction,
/// so it is held only from the append to the commit.
async fn append_event(conn: &mut PgConnection, change: Change) -> Result<Event, StoreError> {
    lock_events(conn).await?;
    insert_event(conn, change).await
}

/// Appends an event; the caller's transaction holds the events lock.
async fn insert_event(conn: &mut PgConnection, change: Change) -> Result<Event, StoreError> {
    let at = codec::now();
    let seq: i64 = sqlx::query_scalar(
        "INSERT INTO events (at, kind, payload) VALUES ($1, $2, $3::jsonb) RETURNING seq",
    )
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
    conn: &mut PgConnection,
    key: &str,
    value: Option<&str>,
) -> Result<(), StoreError> {
    match value {
        Some(value) => sqlx::query(
            "INSERT INTO settings (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value),
        None => sqlx::query("DELETE FROM settings WHERE key = $1").bind(key),
    }
    .execute(&mut *conn)
    .await
    .context("writing settings")?;
    Ok(())
}

async fn insert_region_row(
    conn: &mut PgConnection,
    region: &NewRegion,
    parent: Option<i64>,
) -> Result<i64, StoreError> {
    sqlx::query_scalar(include_str!("postgres/insert_region.sql"))
        .bind(region.level.as_str())
        .bind(&region.code)
        .bind(&region.name)
        .bind(parent)
        .bind(geojson_text(&region.boundary))
        .fetch_one(&mut *conn)
        .await
        .context("inserting a region")
}

/// Writes a worker's grid duties in the order given, as one statement.
async fn insert_duties(
    conn: &mut PgConnection,
    worker: i64,
    duties: &[GridDuty],
    doing: &'static str,
) -> Result<(), StoreError> {
    if duties.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO worker_grids (worker_id, grid_id, responsibility, position) \
         SELECT $1, grid_id, responsibility, position - 1 \
         FROM UNNEST($2::bigint[], $3::text[]) WITH ORDINALITY AS t (grid_id, responsibility, position)",
    )
    .bind(worker)
    .bind(duties.iter().map(|d| d.grid_id.0).collect::<Vec<_>>())
    .bind(duties.iter().map(|d| d.responsibility.as_str()).collect::<Vec<_>>())
    .execute(&mut *conn)
    .await
    .context(doing)?;
    Ok(())
}
