//! Payloads of a patrol on the move: crossing a grid edge, checking in at a checkpoint. Where it
//! happened is the fix's point, degrees (EPSG:4326). Starting and ending carry the `Patrol` itself, and
//! a new checkpoint the `Checkpoint` (`domain::patrol`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::patrol::{CheckIn, Checkpoint};
use crate::domain::{CheckpointId, GridId, PatrolId, WorkerId};

/// `patrol.grid_entered` / `patrol.grid_exited`: the patrol's fix that crossed into or out of `grid`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GridCrossing {
    pub patrol: PatrolId,
    pub worker: WorkerId,
    pub grid: GridId,
    pub at: DateTime<Utc>,
    pub lat: f64,
    pub lon: f64,
}

/// `patrol.checked_in`: a check-in (巡查打卡) with the checkpoint's name and grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckedIn {
    pub patrol: PatrolId,
    pub worker: WorkerId,
    pub checkpoint: CheckpointId,
    pub name: String,
    pub grid: Option<GridId>,
    pub at: DateTime<Utc>,
    pub lat: f64,
    pub lon: f64,
    /// From the fix to the checkpoint, meters.
    pub distance_m: f64,
}

impl CheckedIn {
    #[must_use]
    pub fn of(worker: WorkerId, checkpoint: &Checkpoint, check_in: &CheckIn) -> Self {
        Self {
            patrol: check_in.patrol,
            worker,
            checkpoint: checkpoint.id,
            name: checkpoint.name.clone(),
            grid: checkpoint.grid,
            at: check_in.at,
            lat: check_in.lat,
            lon: check_in.lon,
            distance_m: check_in.distance_m,
        }
    }
}
