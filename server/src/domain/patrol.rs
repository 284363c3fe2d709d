//! Patrols (巡逻): a worker's shift on the move, the checkpoints it checks in at (巡查打卡), the last
//! visit of each cell, and the pure rules that turn a patrol's fixes into grid enter/exit, check-ins,
//! coverage and a report.
//!
//! No IO: the patrol service (`crate::patrols`) feeds fixes in and stores what comes out.

use std::collections::BTreeSet;

use chrono::{DateTime, TimeDelta, Utc};
use h3o::CellIndex;
use serde::{Deserialize, Serialize};

use super::event::{Change, CheckedIn, GridCrossing};
use super::{CheckpointId, Fix, GridId, PatrolId, WorkerId};
use crate::geodesy::haversine_m;

/// Smallest and largest checkpoint radius, meters: GPS noise below, a whole grid above.
pub const CHECKPOINT_RADIUS_M: std::ops::RangeInclusive<f64> = 1.0..=500.0;

/// One worker's shift. At most one is open (`ended_at` null) per worker. Also the payload of
/// `patrol.started` and `patrol.ended`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Patrol {
    pub id: PatrolId,
    pub worker: WorkerId,
    #[schema(value_type = String, format = DateTime)]
    pub started_at: DateTime<Utc>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub ended_at: Option<DateTime<Utc>>,
    /// The grid of the last observed fix (null outside every grid or before the first fix).
    pub current_grid: Option<GridId>,
    /// Time of the last fix observed in order; older fixes arriving late change no grid.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_fix_at: Option<DateTime<Utc>>,
}

impl Patrol {
    #[must_use]
    pub fn is_open(&self) -> bool {
        self.ended_at.is_none()
    }
}

/// A point a patrol must pass. Degrees (EPSG:4326); radius in meters. Also the payload of
/// `checkpoint.created`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Checkpoint {
    pub id: CheckpointId,
    pub name: String,
    pub lat: f64,
    pub lon: f64,
    pub radius_m: f64,
    /// The grid it belongs to; its workers' patrols miss it when they do not pass.
    pub grid: Option<GridId>,
}

/// A checkpoint to create.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCheckpoint {
    pub name: String,
    pub lat: f64,
    pub lon: f64,
    pub radius_m: f64,
    pub grid: Option<GridId>,
}

impl NewCheckpoint {
    #[must_use]
    pub fn with_id(&self, id: CheckpointId) -> Checkpoint {
        Checkpoint {
            id,
            name: self.name.clone(),
            lat: self.lat,
            lon: self.lon,
            radius_m: self.radius_m,
            grid: self.grid,
        }
    }
}

/// A patrol came within a checkpoint's radius (巡查打卡). Once per checkpoint per patrol.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CheckIn {
    pub patrol: PatrolId,
    pub checkpoint: CheckpointId,
    #[schema(value_type = String, format = DateTime)]
    pub at: DateTime<Utc>,
    /// The fix that checked in, degrees.
    pub lat: f64,
    pub lon: f64,
    /// From the fix to the checkpoint, meters.
    pub distance_m: f64,
}

/// Everything one batch of fixes changed on one patrol, written in one transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    pub patrol: PatrolId,
    pub worker: WorkerId,
    pub current_grid: Option<GridId>,
    pub last_fix_at: Option<DateTime<Utc>>,
    /// The latest visit of each cell in the batch.
    pub visits: Vec<(CellIndex, DateTime<Utc>)>,
    pub check_ins: Vec<CheckIn>,
    /// Events to append, in order: grid exits and entries, check-ins.
    pub events: Vec<Change>,
}

impl Progress {
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.visits.is_empty() && self.check_ins.is_empty() && self.events.is_empty()
    }
}

/// Everything the patrol service keeps in memory, as loaded from the store.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PatrolBook {
    pub patrols: Vec<Patrol>,
    pub checkpoints: Vec<Checkpoint>,
    pub check_ins: Vec<CheckIn>,
    /// The last visit of each visited cell.
    pub visits: Vec<(CellIndex, DateTime<Utc>)>,
}

/// One fix as the observer sees it: where it lies in the grid system.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    pub lat: f64,
    pub lon: f64,
    pub at: DateTime<Utc>,
    pub cell: CellIndex,
    /// The grid owning `cell`; `None` outside every grid.
    pub grid: Option<GridId>,
}

/// Observes `steps` (unflagged fixes of `patrol`'s worker) in time order: the latest visit per cell,
/// grid exit then enter when the grid changes between in-order fixes, and a check-in at each checkpoint
/// within its radius that `hit` does not hold yet. Fixes before the patrol started are ignored; a fix
/// older than the last one observed still visits cells and checks in, but changes no grid.
#[must_use]
pub fn observe(
    patrol: &Patrol,
    hit: &BTreeSet<CheckpointId>,
    checkpoints: &[Checkpoint],
    steps: &[Step],
) -> Progress {
    let mut steps: Vec<&Step> = steps.iter().filter(|s| s.at >= patrol.started_at).collect();
    steps.sort_by_key(|s| s.at);
    let mut progress = Progress {
        patrol: patrol.id,
        worker: patrol.worker,
        current_grid: patrol.current_grid,
        last_fix_at: patrol.last_fix_at,
        visits: Vec::new(),
        check_ins: Vec::new(),
        events: Vec::new(),
    };
    let mut hit = hit.clone();
    let mut visits: Vec<(CellIndex, DateTime<Utc>)> = Vec::new();
    for step in steps {
        match visits.iter_mut().find(|(c, _)| *c == step.cell) {
            Some(visit) => visit.1 = visit.1.max(step.at),
            None => visits.push((step.cell, step.at)),
        }
        if progress.last_fix_at.is_none_or(|last| step.at > last) {
            let first = progress.last_fix_at.is_none();
            progress.last_fix_at = Some(step.at);
            if first || progress.current_grid != step.grid {
                let crossing = |grid: GridId| GridCrossing {
                    patrol: patrol.id,
                    worker: patrol.worker,
                    grid,
                    at: step.at,
                    lat: step.lat,
                    lon: step.lon,
                };
                if !first && let Some(left) = progress.current_grid {
                    progress
                        .events
                        .push(Change::PatrolGridExited(crossing(left)));
                }
                if let Some(entered) = step.grid {
                    progress
                        .events
                        .push(Change::PatrolGridEntered(crossing(entered)));
                }
                progress.current_grid = step.grid;
            }
        }
        for checkpoint in checkpoints {
            if hit.contains(&checkpoint.id) {
                continue;
            }
            let distance_m = haversine_m(step.lat, step.lon, checkpoint.lat, checkpoint.lon);
            if distance_m <= checkpoint.radius_m {
                hit.insert(checkpoint.id);
                let check_in = CheckIn {
                    patrol: patrol.id,
                    checkpoint: checkpoint.id,
                    at: step.at,
                    lat: step.lat,
                    lon: step.lon,
                    distance_m,
                };
                progress.events.push(Change::PatrolCheckedIn(CheckedIn::of(
                    patrol.worker,
                    checkpoint,
                    &check_in,
                )));
                progress.check_ins.push(check_in);
            }
        }
    }
    progress.visits = visits;
    progress
}

/// Share of a grid's cells visited within a window.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Coverage {
    pub grid: GridId,
    /// The grid's cell count.
    pub cells: usize,
    /// Cells whose last visit lies within the window.
    pub visited: usize,
    /// `visited / cells`, 0 for a grid without cells.
    pub share: f64,
    pub window_h: u32,
}

/// Coverage of `cells` as of `now`: a cell counts when its last visit is at or after `now - window_h`.
#[must_use]
pub fn coverage(
    grid: GridId,
    cells: &[CellIndex],
    last_visit: impl Fn(CellIndex) -> Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    window_h: u32,
) -> Coverage {
    let since = now - TimeDelta::hours(i64::from(window_h));
    let visited = cells
        .iter()
        .filter(|&&c| last_visit(c).is_some_and(|at| at >= since))
        .count();
    #[allow(clippy::cast_precision_loss)] // cell counts are far below 2^52
    let share = if cells.is_empty() {
        0.0
    } else {
        visited as f64 / cells.len() as f64
    };
    Coverage {
        grid,
        cells: cells.len(),
        visited,
        share,
        window_h,
    }
}

/// What a patrol's track amounts to.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TrackSummary {
    /// Sum of great-circle distances between consecutive unflagged fixes, meters.
    pub distance_m: f64,
    pub fixes: usize,
    /// Distinct cells of the unflagged fixes, in order of first visit.
    pub cells: Vec<CellIndex>,
    /// Distinct grids owning those cells, in order of first visit.
    pub grids: Vec<GridId>,
}

/// Summarises a track (oldest first); `place` gives a fix's cell and grid. Flagged fixes are skipped:
/// an implausible jump is not distance walked.
pub fn summarize(
    track: &[Fix],
    place: impl Fn(f64, f64) -> Option<(CellIndex, Option<GridId>)>,
) -> TrackSummary {
    let mut summary = TrackSummary::default();
    let mut previous: Option<(f64, f64)> = None;
    for fix in track.iter().filter(|f| !f.is_flagged()) {
        summary.fixes += 1;
        if let Some((lat, lon)) = previous {
            summary.distance_m += haversine_m(lat, lon, fix.lat, fix.lon);
        }
        previous = Some((fix.lat, fix.lon));
        if let Some((cell, grid)) = place(fix.lat, fix.lon) {
            if !summary.cells.contains(&cell) {
                summary.cells.push(cell);
            }
            if let Some(grid) = grid
                && !summary.grids.contains(&grid)
            {
                summary.grids.push(grid);
            }
        }
    }
    summary
}

#[cfg(test)]
mod tests {
    use h3o::{LatLng, Resolution};

    use super::*;

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-29T08:00:00Z")
            .expect("a time")
            .to_utc()
            + TimeDelta::seconds(s)
    }

    fn patrol() -> Patrol {
        Patrol {
            id: PatrolId(7),
            worker: WorkerId(3),
            started_at: t(0),
            ended_at: None,
            current_grid: None,
            last_fix_at: None,
        }
    }

    fn step(lat: f64, lon: f64, at: i64, grid: Option<i64>) -> Step {
        let cell = LatLng::new(lat, lon)
            .expect("a point")
            .to_cell(Resolution::Twelve);
        Step {
            lat,
            lon,
            at: t(at),
            cell,
            grid: grid.map(GridId),
        }
    }

    /// Each event's kind with the grid it crossed or the checkpoint it checked in at.
    fn kinds(progress: &Progress) -> Vec<(&str, i64)> {
        progress
            .events
            .iter()
            .map(|change| {
                let at = match change {
                    Change::PatrolGridEntered(c) | Change::PatrolGridExited(c) => c.grid.0,
                    Change::PatrolCheckedIn(c) => c.checkpoint.0,
                    other => panic!("observe made a {} event", other.kind()),
                };
                (change.kind(), at)
            })
            .collect()
    }

    #[test]
    fn grid_changes_make_exit_then_enter_and_checkpoints_check_in_once() {
        let near = Checkpoint {
            id: CheckpointId(1),
            name: "gate".into(),
            lat: 36.0,
            lon: 113.0005,
            radius_m: 30.0,
            grid: Some(GridId(1)),
        };
        let far = Checkpoint {
            id: CheckpointId(2),
            name: "far".into(),
            lat: 36.1,
            lon: 113.0,
            radius_m: 30.0,
            grid: Some(GridId(1)),
        };
        let steps = [
            step(36.0, 113.0, 10, Some(1)),
            step(36.0, 113.0005, 20, Some(1)), // on the gate
            step(36.0, 113.0005, 25, Some(1)), // still there: no second check-in
            step(36.0, 113.001, 30, Some(2)),
            step(36.0, 113.002, 40, None),
            step(36.0, 113.0, -5, Some(1)), // before the patrol started: ignored
        ];
        let progress = observe(&patrol(), &BTreeSet::new(), &[near.clone(), far], &steps);
        assert_eq!(
            kinds(&progress),
            [
                ("patrol.grid_entered", 1),
                ("patrol.checked_in", 1),
                ("patrol.grid_exited", 1),
                ("patrol.grid_entered", 2),
                ("patrol.grid_exited", 2)
            ]
        );
        assert_eq!(progress.check_ins.len(), 1);
        assert_eq!(progress.check_ins[0].at, t(20));
        assert_eq!(progress.current_grid, None);
        assert_eq!(progress.last_fix_at, Some(t(40)));
        assert_eq!(
            progress.visits.len(),
            4,
            "the two fixes on the gate share a cell: {:?}",
            progress.visits
        );

        // Continuing from that state: a checkpoint already hit is not hit again; a late fix changes no grid.
        let mut later = patrol();
        later.current_grid = progress.current_grid;
        later.last_fix_at = progress.last_fix_at;
        let hit = BTreeSet::from([near.id]);
        let again = observe(
            &later,
            &hit,
            &[near],
            &[
                step(36.0, 113.0005, 35, Some(1)),
                step(36.0, 113.0, 50, Some(1)),
            ],
        );
        assert_eq!(kinds(&again), [("patrol.grid_entered", 1)]);
        assert!(again.check_ins.is_empty());
        assert_eq!(again.visits.len(), 2);
    }

    #[test]
    fn coverage_counts_cells_visited_within_the_window() {
        let cells: Vec<CellIndex> = (0..4)
            .map(|i| step(36.0, 113.0 + f64::from(i) * 0.001, 0, None).cell)
            .collect();
        let now = t(48 * 3600);
        let visits = [
            (cells[0], now - TimeDelta::hours(1)),
            (cells[1], now - TimeDelta::hours(24)),
            (cells[2], now - TimeDelta::hours(25)),
        ];
        let last = |c: CellIndex| visits.iter().find(|v| v.0 == c).map(|v| v.1);
        let day = coverage(GridId(1), &cells, last, now, 24);
        assert_eq!((day.cells, day.visited), (4, 2));
        assert!((day.share - 0.5).abs() < f64::EPSILON);
        assert_eq!(coverage(GridId(1), &cells, last, now, 48).visited, 3);
        assert!(coverage(GridId(1), &[], last, now, 24).share.abs() < f64::EPSILON);
    }

    #[test]
    fn a_summary_skips_flagged_fixes() {
        // 0.001° of latitude is 111.195 m (mean Earth radius 6,371,008.8 m).
        let mut jump = Fix::at(WorkerId(3), 36.5, 113.0, t(2));
        jump.flags.push(super::super::fix::IMPLAUSIBLE_JUMP.into());
        let track = [
            Fix::at(WorkerId(3), 36.0, 113.0, t(0)),
            jump,
            Fix::at(WorkerId(3), 36.001, 113.0, t(4)),
        ];
        let summary = summarize(&track, |lat, lon| {
            Some((step(lat, lon, 0, None).cell, Some(GridId(9))))
        });
        assert!(
            (summary.distance_m - 111.195).abs() < 1e-3,
            "{}",
            summary.distance_m
        );
        assert_eq!(
            (summary.fixes, summary.cells.len(), summary.grids.as_slice()),
            (2, 2, &[GridId(9)][..])
        );
    }
}
