//! The patrol service (巡逻): open and end shifts, checkpoints, and the observer that turns each stored
//! fix of a worker on patrol into cell visits, grid enter/exit and check-ins (巡查打卡).
//!
//! Patrols, checkpoints, check-ins and the last visit of each cell live in memory (the [`Book`], loaded
//! from the store at first use) and in the store. [`Patrols`] is the service's handle: it holds the core
//! and the book and has no task of its own. Every change is one `Core::write`: commit (rows + events),
//! then change the book, then apply and publish the events, like every other change. The observer runs
//! after a batch of fixes has committed (`tracking` calls it), so check-ins never refer to fixes that
//! are not stored. The pure rules are in `domain::patrol`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};
use h3o::CellIndex;
use rustc_hash::FxHashMap;
use tokio::sync::OnceCell;

use crate::core::Core;
use crate::domain::patrol::{
    self, CheckIn, Checkpoint, NewCheckpoint, Patrol, PatrolBook, Progress, Step,
};
use crate::domain::{AccessError, Change, CheckpointId, Fix, GridId, PatrolId, Subject, WorkerId};
use crate::store::StoreError;

/// Why a patrol was not opened or ended; nothing changed.
#[derive(Debug, thiserror::Error)]
pub enum PatrolError {
    #[error(transparent)]
    Access(#[from] AccessError),
    /// A worker has one open patrol at a time.
    #[error("worker {worker} is already on patrol {patrol}; end it first")]
    AlreadyOnPatrol { worker: WorkerId, patrol: PatrolId },
    #[error("patrol {id} already ended at {}", .at.to_rfc3339())]
    AlreadyEnded { id: PatrolId, at: DateTime<Utc> },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The patrol service's handle, kept in `AppState`. Cheap to clone.
#[derive(Clone)]
pub struct Patrols {
    core: Core,
    /// Loaded once from the store; changed only under the writer lock, after a commit (or read again
    /// by the core when another process wrote patrol events).
    book: SharedBook,
}

/// The book as the core and the patrol service share it: loaded at first use.
pub type SharedBook = Arc<OnceCell<Mutex<Book>>>;

/// Patrols and what they did, in memory.
#[derive(Debug, Default)]
pub struct Book {
    patrols: BTreeMap<PatrolId, Patrol>,
    /// The open patrol of each worker on one.
    open: FxHashMap<WorkerId, PatrolId>,
    checkpoints: BTreeMap<CheckpointId, Checkpoint>,
    check_ins: BTreeMap<PatrolId, Vec<CheckIn>>,
    /// The last visit of each visited cell, by any patrol.
    visits: FxHashMap<CellIndex, DateTime<Utc>>,
}

impl Book {
    pub(crate) fn from_stored(stored: PatrolBook) -> Self {
        let mut book = Self::default();
        for p in stored.patrols {
            book.put_patrol(p);
        }
        book.checkpoints = stored.checkpoints.into_iter().map(|c| (c.id, c)).collect();
        for c in stored.check_ins {
            book.check_ins.entry(c.patrol).or_default().push(c);
        }
        book.visits = stored.visits.into_iter().collect();
        book
    }

    fn put_patrol(&mut self, p: Patrol) {
        if p.is_open() {
            self.open.insert(p.worker, p.id);
        } else if self.open.get(&p.worker) == Some(&p.id) {
            self.open.remove(&p.worker);
        }
        self.patrols.insert(p.id, p);
    }

    #[must_use]
    pub fn patrol(&self, id: PatrolId) -> Option<&Patrol> {
        self.patrols.get(&id)
    }

    /// The worker's open patrol.
    #[must_use]
    pub fn open_patrol(&self, worker: WorkerId) -> Option<&Patrol> {
        self.open.get(&worker).and_then(|id| self.patrols.get(id))
    }

    #[must_use = "iterators are lazy"]
    pub fn patrols(&self) -> impl DoubleEndedIterator<Item = &Patrol> {
        self.patrols.values()
    }

    pub fn checkpoints(&self) -> impl Iterator<Item = &Checkpoint> {
        self.checkpoints.values()
    }

    #[must_use]
    pub fn checkpoint(&self, id: CheckpointId) -> Option<&Checkpoint> {
        self.checkpoints.get(&id)
    }

    /// A patrol's check-ins, in the order they happened.
    #[must_use]
    pub fn check_ins(&self, patrol: PatrolId) -> &[CheckIn] {
        self.check_ins.get(&patrol).map_or(&[], Vec::as_slice)
    }

    /// When `cell` was last visited by a patrol.
    #[must_use]
    pub fn last_visit(&self, cell: CellIndex) -> Option<DateTime<Utc>> {
        self.visits.get(&cell).copied()
    }

    /// Every visited cell with its last visit, at or after `since`.
    pub fn visits_since(
        &self,
        since: DateTime<Utc>,
    ) -> impl Iterator<Item = (CellIndex, DateTime<Utc>)> + '_ {
        self.visits
            .iter()
            .filter(move |(_, at)| **at >= since)
            .map(|(c, at)| (*c, *at))
    }

    fn apply(&mut self, progress: &Progress) {
        if let Some(p) = self.patrols.get_mut(&progress.patrol) {
            p.current_grid = progress.current_grid;
            p.last_fix_at = progress.last_fix_at;
        }
        for &(cell, at) in &progress.visits {
            let last = self.visits.entry(cell).or_insert(at);
            *last = (*last).max(at);
        }
        self.check_ins
            .entry(progress.patrol)
            .or_default()
            .extend(progress.check_ins.iter().cloned());
    }
}

impl Patrols {
    /// The service on `core`, sharing the core's book (which the core reloads when it reads other
    /// writers' patrol events: `Core::absorb`).
    pub(crate) fn new(core: Core) -> Self {
        let book = Arc::clone(core.patrol_book());
        Self { core, book }
    }

    /// The book, loaded from the store the first time. Drop the guard before any `.await`.
    pub async fn book(&self) -> Result<MutexGuard<'_, Book>, StoreError> {
        let book = self
            .book
            .get_or_try_init(|| async {
                Ok::<_, StoreError>(Mutex::new(Book::from_stored(
                    self.core.store().patrol_book().await?,
                )))
            })
            .await?;
        Ok(book.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// The unflagged fixes of workers on an open patrol: what [`Patrols::observe`] needs after the
    /// fixes commit.
    pub async fn watched(&self, fixes: &[Fix]) -> Vec<Fix> {
        match self.book().await {
            Ok(book) => fixes
                .iter()
                .filter(|f| !f.is_flagged() && book.open.contains_key(&f.worker))
                .cloned()
                .collect(),
            Err(e) => {
                tracing::error!(error = %e, "loading patrols; fixes not observed");
                Vec::new()
            }
        }
    }

    /// Observes committed fixes of workers on patrol (see `domain::patrol::observe`), stores what they
    /// did and publishes the events, in one write. A store failure is logged: the fixes themselves are
    /// already stored.
    pub async fn observe(&self, fixes: Vec<Fix>) {
        if fixes.is_empty() {
            return;
        }
        let patrols = self.clone();
        let observed = self
            .core
            .write(move |w| async move {
                let mut by_worker: BTreeMap<WorkerId, Vec<Step>> = BTreeMap::new();
                {
                    let world = w.world();
                    for fix in &fixes {
                        let Ok(here) = world.locate(fix.lat, fix.lon) else {
                            continue;
                        };
                        let grid = if here.outside {
                            None
                        } else {
                            here.links.map(|l| l.grid)
                        };
                        by_worker.entry(fix.worker).or_default().push(Step {
                            lat: fix.lat,
                            lon: fix.lon,
                            at: fix.at,
                            cell: here.cell,
                            grid,
                        });
                    }
                }
                for (worker, steps) in by_worker {
                    let progress = {
                        let Ok(book) = patrols.book().await else {
                            return Ok(());
                        };
                        let Some(open) = book.open_patrol(worker) else {
                            continue;
                        };
                        let hit: BTreeSet<CheckpointId> = book
                            .check_ins(open.id)
                            .iter()
                            .map(|c| c.checkpoint)
                            .collect();
                        let checkpoints: Vec<Checkpoint> = book.checkpoints().cloned().collect();
                        patrol::observe(open, &hit, &checkpoints, &steps)
                    };
                    if progress.is_empty() {
                        continue;
                    }
                    match w.store().record_patrol_progress(&progress).await {
                        Ok(events) => {
                            if let Ok(mut book) = patrols.book().await {
                                book.apply(&progress);
                            }
                            // The coverage tiles of the visited cells, before the fixes are acknowledged.
                            let mut dirty = crate::tiles::Dirty::default();
                            {
                                let world = w.world();
                                for &(cell, _) in &progress.visits {
                                    let grids: Vec<GridId> =
                                        world.grid_of_cell(cell).into_iter().collect();
                                    dirty.cell("patrol_coverage", cell, &grids);
                                }
                            }
                            w.tiles().invalidate(dirty);
                            for event in events {
                                w.stored(event, |_| {});
                            }
                        }
                        Err(e) => {
                            tracing::error!(error = %e, patrol = %progress.patrol, "storing a patrol's progress");
                        }
                    }
                }
                Ok::<_, StoreError>(())
            })
            .await;
        if let Err(error) = observed {
            tracing::error!(%error, "a patrol's progress was not recorded");
        }
    }

    /// Opens a patrol for `worker` (already checked to exist and be in the caller's scope); refused
    /// when the worker already has an open one.
    pub async fn start(&self, worker: WorkerId) -> Result<Patrol, PatrolError> {
        let patrols = self.clone();
        self.core
            .write(move |w| async move {
                if let Some(open) = patrols.book().await?.open_patrol(worker) {
                    return Err(PatrolError::AlreadyOnPatrol {
                        worker,
                        patrol: open.id,
                    });
                }
                let (patrol, event) = w.store().insert_patrol(worker, w.now()).await?;
                patrols.book().await?.put_patrol(patrol.clone());
                w.stored(event, |_| {});
                Ok(patrol)
            })
            .await
    }

    /// Ends an open patrol; refused for an unknown one or one already ended.
    pub async fn end(&self, id: PatrolId) -> Result<Patrol, PatrolError> {
        let patrols = self.clone();
        self.core
            .write(move |w| async move {
                {
                    let book = patrols.book().await?;
                    let patrol = book
                        .patrol(id)
                        .ok_or(AccessError::NotFound(Subject::Patrol(id)))?;
                    if let Some(at) = patrol.ended_at {
                        return Err(PatrolError::AlreadyEnded { id, at });
                    }
                }
                let (patrol, event) = w.store().end_patrol(id, w.now()).await?;
                patrols.book().await?.put_patrol(patrol.clone());
                w.stored(event, |_| {});
                Ok(patrol)
            })
            .await
    }

    /// Creates a checkpoint (already validated).
    pub async fn create_checkpoint(&self, new: NewCheckpoint) -> Result<Checkpoint, StoreError> {
        let patrols = self.clone();
        self.core
            .write(move |w| async move {
                // Loaded before the first write, so the write is not lost.
                drop(patrols.book().await?);
                let (checkpoint, event) = w.store().insert_checkpoint(&new).await?;
                patrols
                    .book()
                    .await?
                    .checkpoints
                    .insert(checkpoint.id, checkpoint.clone());
                w.stored(event, |_| {});
                Ok(checkpoint)
            })
            .await
    }
}

/// The grid of a checkpoint: the one given, else the grid the point lies in (none outside every grid).
#[must_use]
pub fn grid_of(world: &crate::world::World, lat: f64, lon: f64) -> Option<GridId> {
    world
        .locate(lat, lon)
        .ok()
        .filter(|l| !l.outside)
        .and_then(|l| l.links.map(|l| l.grid))
}

/// How a `patrol.*` or `checkpoint.created` event reaches the live map (layer `patrols`): at its point,
/// in its grid (a crossing's or checkpoint's grid, else the worker's grids), about its worker; with the
/// id of its patrol (or checkpoint). `None` for every other kind.
#[must_use]
pub fn live_item(
    world: &crate::world::World,
    change: &Change,
) -> Option<(crate::live::filter::Item, i64)> {
    let (worker, point, grid, id) = match change {
        // The patrol itself: no place until the worker reports one.
        Change::PatrolStarted(p) | Change::PatrolEnded(p) => (Some(p.worker), None, None, p.id.0),
        Change::PatrolGridEntered(c) | Change::PatrolGridExited(c) => (
            Some(c.worker),
            Some((c.lat, c.lon)),
            Some(c.grid),
            c.patrol.0,
        ),
        Change::PatrolCheckedIn(c) => (Some(c.worker), Some((c.lat, c.lon)), c.grid, c.patrol.0),
        Change::CheckpointCreated(c) => (None, Some((c.lat, c.lon)), c.grid, c.id.0),
        Change::CityImported(_)
        | Change::RegionCreated(_)
        | Change::BuildingCreated(_)
        | Change::WorkerCreated(_)
        | Change::WorkerUpdated(_)
        | Change::TokenCreated(_)
        | Change::TokenRevoked(_)
        | Change::UserCreated(_)
        | Change::UserUpdated(_)
        | Change::IncidentCreated(_)
        | Change::IncidentUpdated(_)
        | Change::IncidentPhotoAdded(_)
        | Change::CategoryUpdated(_)
        | Change::DepartmentUpdated(_)
        | Change::AlertRaised(_)
        | Change::CameraCreated(_)
        | Change::CameraUpdated(_)
        | Change::CameraDeleted(_)
        | Change::PlanCreated(_)
        | Change::AlarmAcknowledged(_)
        | Change::WarningRaised(_)
        | Change::WarningCleared(_)
        | Change::BoundaryChanged(_) => return None,
    };
    let grids = match grid {
        Some(grid) => vec![grid],
        None => worker
            .and_then(|w| world.worker(w))
            .map(|w| w.grids.iter().map(|d| d.grid_id).collect())
            .unwrap_or_default(),
    };
    let point = point.or_else(|| {
        worker
            .and_then(|w| world.position(w))
            .map(|p| (p.lat, p.lon))
    });
    Some((
        crate::live::filter::Item {
            layer: crate::live::filter::Layer::Patrols,
            point,
            grids,
            workers: [worker, None, None],
            open: true,
        },
        id,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::event::{CheckedIn, GridCrossing};
    use crate::domain::patrol::{CheckIn, Checkpoint, Patrol};
    use crate::live::filter::Layer;

    fn at() -> DateTime<Utc> {
        "2026-11-29T08:00:00Z".parse().expect("a time")
    }

    #[test]
    fn patrol_events_reach_the_patrols_layer_at_their_point_grid_and_worker() {
        let world = crate::world::World::default();
        let crossing = Change::PatrolGridEntered(GridCrossing {
            patrol: PatrolId(7),
            worker: WorkerId(3),
            grid: GridId(5),
            at: at(),
            lat: 36.19,
            lon: 113.11,
        });
        let (item, id) = live_item(&world, &crossing).expect("an item");
        assert_eq!(id, 7);
        assert_eq!(item.layer, Layer::Patrols);
        assert_eq!(
            (item.point, item.grids, item.workers),
            (
                Some((36.19, 113.11)),
                vec![GridId(5)],
                [Some(WorkerId(3)), None, None]
            )
        );
        // `patrol.started` carries the patrol itself: no place until the worker reports one.
        let started = Change::PatrolStarted(Patrol {
            id: PatrolId(8),
            worker: WorkerId(3),
            started_at: at(),
            ended_at: None,
            current_grid: None,
            last_fix_at: None,
        });
        let (item, id) = live_item(&world, &started).expect("an item");
        assert_eq!((id, item.point, item.grids.len()), (8, None, 0));
        let gate = Checkpoint {
            id: CheckpointId(2),
            name: "gate".into(),
            lat: 36.0,
            lon: 113.0,
            radius_m: 20.0,
            grid: None,
        };
        let (item, id) =
            live_item(&world, &Change::CheckpointCreated(gate.clone())).expect("a checkpoint");
        assert_eq!(
            (id, item.point, item.workers),
            (2, Some((36.0, 113.0)), [None, None, None])
        );
        // A check-in is the patrol's, at the fix, in the checkpoint's grid.
        let check_in = CheckIn {
            patrol: PatrolId(7),
            checkpoint: gate.id,
            at: at(),
            lat: 36.0001,
            lon: 113.0,
            distance_m: 11.1,
        };
        let checked_in = Change::PatrolCheckedIn(CheckedIn::of(WorkerId(3), &gate, &check_in));
        let (item, id) = live_item(&world, &checked_in).expect("a check-in");
        assert_eq!(
            (id, item.point, item.workers),
            (7, Some((36.0001, 113.0)), [Some(WorkerId(3)), None, None])
        );
        let plan = Change::PlanCreated(crate::domain::event::PlanCreated {
            id: 1,
            community: crate::domain::RegionId(3),
            kind: "manual".into(),
        });
        assert!(
            live_item(&world, &plan).is_none(),
            "only patrol events reach the patrols layer"
        );
    }
}
