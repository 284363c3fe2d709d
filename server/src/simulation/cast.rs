//! Who plays in the simulation, and what the city needs before it starts: the patrollers and the grid
//! workers on the street (chosen by the seed), their patrols (opened and handed on through the patrol
//! service), and a handful of cameras when the city has none (created through the camera service,
//! with the demo admin token's authority).
//!
//! Must not: pick the demo's own worker account (the first grid worker with a grid, whom
//! `gridwatch demo` signs in as `worker` and binds its tracker to): that worker is the person's.

use std::sync::Arc;

use h3o::LatLng;

use super::script::Pace;
use crate::domain::camera::{CameraKind, CameraStatus, NewCamera};
use crate::domain::{PatrolId, WorkerId};
use crate::patrols::PatrolError;
use crate::state::AppState;
use crate::world::World;

/// Patrols on the street at once.
const PATROLS: usize = 4;
/// Grid workers walking their grids besides the patrols.
const STROLLERS: usize = 6;
/// Cameras made in a city that has none.
const CAMERAS: usize = 6;

/// The people the simulation plays.
#[derive(Debug, Clone, Default)]
pub struct Cast {
    /// The demo's own worker account's worker: never played.
    pub kept: Option<WorkerId>,
    pub patrollers: Vec<WorkerId>,
    pub strollers: Vec<WorkerId>,
    /// Who takes the next patrol, in turn.
    pub bench: Vec<WorkerId>,
}

impl Cast {
    /// Chooses the cast among the workers with a grid, in an order the seed decides.
    #[must_use]
    pub fn choose(world: &World, pace: &mut Pace) -> Self {
        let kept = kept_worker(world);
        let mut pool: Vec<WorkerId> = world
            .workers()
            .filter(|w| !w.grids.is_empty() && Some(w.id) != kept)
            .map(|w| w.id)
            .collect();
        pool.sort_unstable();
        // Fisher–Yates with the seeded draws.
        for i in (1..pool.len()).rev() {
            pool.swap(i, pace.pick(i + 1));
        }
        let patrollers: Vec<WorkerId> = pool.iter().copied().take(PATROLS).collect();
        let strollers = pool.iter().copied().skip(PATROLS).take(STROLLERS).collect();
        let bench = pool.into_iter().skip(PATROLS + STROLLERS).collect();
        Self {
            kept,
            patrollers,
            strollers,
            bench,
        }
    }

    /// Whether the simulation walks `worker` around their grid when they have no case to ride to.
    #[must_use]
    pub fn walks(&self, worker: WorkerId) -> bool {
        self.patrollers.contains(&worker) || self.strollers.contains(&worker)
    }
}

/// The worker `gridwatch demo` gives its `worker` account and its tracker (the same choice as
/// `demo_people` and `demo_tracker` in the binary).
fn kept_worker(world: &World) -> Option<WorkerId> {
    world
        .workers()
        .filter(|w| !w.grids.is_empty())
        .map(|w| w.id)
        .min()
}

/// Where a walker walks and starts: the cell centres of their grid, and a place, `(lat, lon)` degrees.
pub type Home = (Arc<[(f64, f64)]>, (f64, f64));

/// The cell centres (`(lat, lon)` degrees) of `worker`'s first grid, and where they start: their last
/// known position, else a cell of that grid the seed picks.
#[must_use]
pub fn home(world: &World, worker: WorkerId, pace: &mut Pace) -> Option<Home> {
    let grid = world.grid(world.worker(worker)?.grids.first()?.grid_id)?;
    let cells: Arc<[(f64, f64)]> = grid
        .cells
        .iter()
        .map(|&c| {
            let at = LatLng::from(c);
            (at.lat(), at.lng())
        })
        .collect();
    if cells.is_empty() {
        return None;
    }
    let start = world
        .position(worker)
        .map_or_else(|| cells[pace.pick(cells.len())], |p| (p.lat, p.lon));
    Some((cells, start))
}

/// Opens `worker`'s patrol, or takes the one they already have open (from an earlier run).
pub async fn open_patrol(state: &AppState, worker: WorkerId) -> Option<PatrolId> {
    match state.patrols().start(worker).await {
        Ok(patrol) => Some(patrol.id),
        Err(PatrolError::AlreadyOnPatrol { patrol, .. }) => Some(patrol),
        Err(error) => {
            tracing::warn!(%error, %worker, "the simulation could not open a patrol");
            None
        }
    }
}

/// Creates [`CAMERAS`] cameras at street corners the seed picks when the city has none, with the
/// demo admin token's authority (the camera service checks its scope like a client's request).
pub async fn ensure_cameras(state: &AppState, admin_token: Option<&str>, pace: &mut Pace) {
    let new: Vec<NewCamera> = {
        let world = state.world();
        if world.cameras().next().is_some() {
            return;
        }
        let mut grids: Vec<_> = world.grids().filter(|g| !g.cells.is_empty()).collect();
        grids.sort_unstable_by_key(|g| g.id);
        if grids.is_empty() {
            return;
        }
        (0..CAMERAS)
            .filter_map(|i| {
                let grid = grids[pace.pick(grids.len())];
                let at = LatLng::from(grid.cells[pace.pick(grid.cells.len())]);
                // Every third turns (PTZ); the others look one way.
                let ptz = i % 3 == 2;
                let heading = u32::try_from(pace.pick(360)).unwrap_or(0);
                let range = u32::try_from(60 + pace.pick(90)).unwrap_or(60);
                NewCamera {
                    name: format!("路口监控 {}", i + 1),
                    lat: at.lat(),
                    lon: at.lng(),
                    heading_deg: f64::from(heading),
                    fov_deg: if ptz { 360.0 } else { 90.0 },
                    range_m: f64::from(range),
                    kind: if ptz {
                        CameraKind::Ptz
                    } else {
                        CameraKind::Fixed
                    },
                    status: CameraStatus::Online,
                }
                .checked()
                .ok()
            })
            .collect()
    };
    let Some(token) = admin_token else { return };
    let context = crate::audit::Context::new(None, Some(super::USER_AGENT.to_owned()));
    let made = crate::audit::scope(Some(context), async {
        // The token is authenticated as a request's would be, which also names it in the audit row.
        let principal = crate::auth::principal(state, token).await.ok().flatten()?;
        Some(crate::cameras::create(state.core(), &principal, new).await)
    })
    .await;
    match made {
        Some(Ok(cameras)) => tracing::info!(count = cameras.len(), "the simulation set up cameras"),
        Some(Err(error)) => tracing::warn!(%error, "the simulation could not set up cameras"),
        None => tracing::warn!("the simulation's admin token was refused; no cameras"),
    }
}
