//! Patrols on PostgreSQL + PostGIS (checkpoints and check-ins as real points): patrols, checkpoints, check-ins and the last visit of each cell.

use chrono::{DateTime, Utc};

use super::{PgStore, append_event};
use crate::domain::patrol::{CheckIn, Checkpoint, NewCheckpoint, Patrol, PatrolBook, Progress};
use crate::domain::{Change, CheckpointId, Event, GridId, PatrolId, WorkerId};
use crate::store::StoreError;
use crate::store::payload::codec::{cell_from_i64, cell_to_i64};
use crate::store::payload::conflict::Context;

type PatrolRow = (
    i64,
    i64,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<i64>,
    Option<DateTime<Utc>>,
);
const PATROL_COLUMNS: &str = "id, worker_id, started_at, ended_at, current_grid, last_fix_at";

fn patrol((id, worker, started_at, ended_at, grid, last_fix_at): PatrolRow) -> Patrol {
    Patrol {
        id: PatrolId(id),
        worker: WorkerId(worker),
        started_at,
        ended_at,
        current_grid: grid.map(GridId),
        last_fix_at,
    }
}

pub(super) async fn book(store: &PgStore) -> Result<PatrolBook, StoreError> {
    let mut tx = store
        .pool
        .begin()
        .await
        .context("starting to load patrols")?;
    let patrols: Vec<PatrolRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {PATROL_COLUMNS} FROM patrols ORDER BY id"
    )))
    .fetch_all(&mut *tx)
    .await
    .context("loading patrols")?;
    let checkpoints: Vec<(i64, String, f64, f64, f64, Option<i64>)> =
        sqlx::query_as("SELECT id, name, lat, lon, radius_m, grid_id FROM checkpoints ORDER BY id")
            .fetch_all(&mut *tx)
            .await
            .context("loading checkpoints")?;
    let check_ins: Vec<(i64, i64, DateTime<Utc>, f64, f64, f64)> = sqlx::query_as(
        "SELECT patrol_id, checkpoint_id, at, lat, lon, distance_m FROM patrol_check_ins ORDER BY patrol_id, at",
    )
    .fetch_all(&mut *tx)
    .await
    .context("loading check-ins")?;
    let visits: Vec<(i64, DateTime<Utc>)> = sqlx::query_as("SELECT cell, last_at FROM cell_visits")
        .fetch_all(&mut *tx)
        .await
        .context("loading cell visits")?;
    tx.commit().await.context("finishing loading patrols")?;
    Ok(PatrolBook {
        patrols: patrols.into_iter().map(patrol).collect(),
        checkpoints: checkpoints
            .into_iter()
            .map(|(id, name, lat, lon, radius_m, grid)| Checkpoint {
                id: CheckpointId(id),
                name,
                lat,
                lon,
                radius_m,
                grid: grid.map(GridId),
            })
            .collect(),
        check_ins: check_ins
            .into_iter()
            .map(|(p, c, at, lat, lon, distance_m)| CheckIn {
                patrol: PatrolId(p),
                checkpoint: CheckpointId(c),
                at,
                lat,
                lon,
                distance_m,
            })
            .collect(),
        visits: visits
            .into_iter()
            .map(|(cell, at)| Ok((cell_from_i64("cell_visits", cell)?, at)))
            .collect::<Result<_, StoreError>>()?,
    })
}

pub(super) async fn insert(
    store: &PgStore,
    worker: WorkerId,
    started_at: DateTime<Utc>,
) -> Result<(Patrol, Event), StoreError> {
    let mut tx = store.begin_write("starting a patrol").await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO patrols (worker_id, started_at) VALUES ($1, $2) RETURNING id",
    )
    .bind(worker.0)
    .bind(started_at)
    .fetch_one(&mut *tx)
    .await
    .context("opening a patrol")?;
    let patrol = Patrol {
        id: PatrolId(id),
        worker,
        started_at,
        ended_at: None,
        current_grid: None,
        last_fix_at: None,
    };
    let event = append_event(&mut tx, Change::PatrolStarted(patrol.clone())).await?;
    tx.commit().await.context("committing a patrol")?;
    Ok((patrol, event))
}

pub(super) async fn end(
    store: &PgStore,
    id: PatrolId,
    ended_at: DateTime<Utc>,
) -> Result<(Patrol, Event), StoreError> {
    let mut tx = store.begin_write("ending a patrol").await?;
    let row: Option<PatrolRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE patrols SET ended_at = $1 WHERE id = $2 AND ended_at IS NULL RETURNING {PATROL_COLUMNS}"
    )))
    .bind(ended_at)
    .bind(id.0)
    .fetch_optional(&mut *tx)
    .await
    .context("ending a patrol")?;
    let patrol = patrol(row.ok_or_else(|| StoreError::NotFound(format!("open patrol {id}")))?);
    let event = append_event(&mut tx, Change::PatrolEnded(patrol.clone())).await?;
    tx.commit().await.context("committing a patrol's end")?;
    Ok((patrol, event))
}

pub(super) async fn insert_checkpoint(
    store: &PgStore,
    new: &NewCheckpoint,
) -> Result<(Checkpoint, Event), StoreError> {
    let mut tx = store.begin_write("starting a checkpoint insert").await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO checkpoints (name, lat, lon, location, radius_m, grid_id) \
         VALUES ($1, $2, $3, ST_SetSRID(ST_MakePoint($3, $2), 4326), $4, $5) RETURNING id",
    )
    .bind(&new.name)
    .bind(new.lat)
    .bind(new.lon)
    .bind(new.radius_m)
    .bind(new.grid.map(|g| g.0))
    .fetch_one(&mut *tx)
    .await
    .context("inserting a checkpoint")?;
    let checkpoint = new.with_id(CheckpointId(id));
    let event = append_event(&mut tx, Change::CheckpointCreated(checkpoint.clone())).await?;
    tx.commit().await.context("committing a checkpoint")?;
    Ok((checkpoint, event))
}

pub(super) async fn record(store: &PgStore, progress: &Progress) -> Result<Vec<Event>, StoreError> {
    let mut tx = store.begin_write("starting a patrol's progress").await?;
    let updated = sqlx::query(
        "UPDATE patrols SET current_grid = $1, last_fix_at = $2 WHERE id = $3 AND ended_at IS NULL",
    )
    .bind(progress.current_grid.map(|g| g.0))
    .bind(progress.last_fix_at)
    .bind(progress.patrol.0)
    .execute(&mut *tx)
    .await
    .context("updating a patrol")?;
    if updated.rows_affected() == 0 {
        return Err(StoreError::NotFound(format!(
            "open patrol {}",
            progress.patrol
        )));
    }
    for (cell, at) in &progress.visits {
        sqlx::query(
            "INSERT INTO cell_visits (cell, last_at, worker_id, patrol_id) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (cell) DO UPDATE SET last_at = excluded.last_at, worker_id = excluded.worker_id, \
             patrol_id = excluded.patrol_id WHERE excluded.last_at > cell_visits.last_at",
        )
        .bind(cell_to_i64(*cell))
        .bind(at)
        .bind(progress.worker.0)
        .bind(progress.patrol.0)
        .execute(&mut *tx)
        .await
        .context("recording a cell visit")?;
    }
    for c in &progress.check_ins {
        sqlx::query(
            "INSERT INTO patrol_check_ins (patrol_id, checkpoint_id, at, lat, lon, location, distance_m) \
             VALUES ($1, $2, $3, $4, $5, ST_SetSRID(ST_MakePoint($5, $4), 4326), $6)",
        )
        .bind(c.patrol.0)
        .bind(c.checkpoint.0)
        .bind(c.at)
        .bind(c.lat)
        .bind(c.lon)
        .bind(c.distance_m)
        .execute(&mut *tx)
        .await
        .context("recording a check-in")?;
    }
    let mut events = Vec::with_capacity(progress.events.len());
    for change in &progress.events {
        events.push(append_event(&mut tx, change.clone()).await?);
    }
    tx.commit()
        .await
        .context("committing a patrol's progress")?;
    Ok(events)
}
