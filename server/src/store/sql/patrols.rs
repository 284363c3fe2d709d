//! Patrols, checkpoints, check-ins and the last visit of each cell: the statements, run inside the
//! caller's transaction. PostgreSQL's texts also write checkpoints and check-ins as real points.

use chrono::{DateTime, Utc};

use super::driver::Load;
use super::{Dialect, Tx};
use crate::domain::patrol::{CheckIn, Checkpoint, Patrol, PatrolBook, Progress};
use crate::domain::{CheckpointId, GridId, PatrolId, WorkerId};
use crate::store::StoreError;
use crate::store::sql::codec::{cell_from_i64, cell_to_i64};

/// `id, worker_id, started_at, ended_at, current_grid, last_fix_at`.
type PatrolRow = (
    i64,
    i64,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<i64>,
    Option<DateTime<Utc>>,
);

impl Load for Patrol {
    type Row = PatrolRow;
    fn from_row(
        (id, worker, started_at, ended_at, grid, last_fix_at): PatrolRow,
    ) -> Result<Self, StoreError> {
        Ok(Patrol {
            id: PatrolId(id),
            worker: WorkerId(worker),
            started_at,
            ended_at,
            current_grid: grid.map(GridId),
            last_fix_at,
        })
    }
}

impl Load for Checkpoint {
    /// `id, name, lat, lon, radius_m, grid_id`.
    type Row = (i64, String, f64, f64, f64, Option<i64>);
    fn from_row((id, name, lat, lon, radius_m, grid): Self::Row) -> Result<Self, StoreError> {
        Ok(Checkpoint {
            id: CheckpointId(id),
            name,
            lat,
            lon,
            radius_m,
            grid: grid.map(GridId),
        })
    }
}

impl Load for CheckIn {
    /// `patrol_id, checkpoint_id, at, lat, lon, distance_m`.
    type Row = (i64, i64, DateTime<Utc>, f64, f64, f64);
    fn from_row(
        (patrol, checkpoint, at, lat, lon, distance_m): Self::Row,
    ) -> Result<Self, StoreError> {
        Ok(CheckIn {
            patrol: PatrolId(patrol),
            checkpoint: CheckpointId(checkpoint),
            at,
            lat,
            lon,
            distance_m,
        })
    }
}

pub(super) async fn book<D: Dialect>(tx: &mut Tx<D>) -> Result<PatrolBook, StoreError> {
    let visits: Vec<(i64, DateTime<Utc>)> = D::SQL
        .load_visits
        .fetch_all(tx, "loading cell visits")
        .await?;
    Ok(PatrolBook {
        patrols: D::SQL.load_patrols.fetch_all(tx, "loading patrols").await?,
        checkpoints: D::SQL
            .load_checkpoints
            .fetch_all(tx, "loading checkpoints")
            .await?,
        check_ins: D::SQL
            .load_check_ins
            .fetch_all(tx, "loading check-ins")
            .await?,
        visits: visits
            .into_iter()
            .map(|(cell, at)| Ok((cell_from_i64("cell_visits", cell)?, at)))
            .collect::<Result<_, StoreError>>()?,
    })
}

/// Writes a patrol's progress: current grid, cell visits (each keeps its latest time), check-ins. The
/// caller appends its events.
pub(super) async fn record<D: Dialect>(
    tx: &mut Tx<D>,
    progress: &Progress,
) -> Result<(), StoreError> {
    let updated = (D::SQL.update_patrol)
        .bind(progress.current_grid.map(|g| g.0))
        .bind(progress.last_fix_at)
        .bind(progress.patrol.0)
        .execute(tx, "updating a patrol")
        .await?;
    if updated == 0 {
        let patrol = progress.patrol;
        return Err(StoreError::NotFound(format!("open patrol {patrol}")));
    }
    for (cell, at) in &progress.visits {
        (D::SQL.upsert_visit)
            .bind(cell_to_i64(*cell))
            .bind(at)
            .bind(progress.worker.0)
            .bind(progress.patrol.0)
            .execute(tx, "recording a cell visit")
            .await?;
    }
    for c in &progress.check_ins {
        (D::SQL.insert_check_in)
            .bind(c.patrol.0)
            .bind(c.checkpoint.0)
            .bind(c.at)
            .bind(c.lat)
            .bind(c.lon)
            .bind(c.distance_m)
            .execute(tx, "recording a check-in")
            .await?;
    }
    Ok(())
}
