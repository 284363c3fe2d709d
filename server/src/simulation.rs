//! The demo's living city: what `gridwatch demo` runs beside the server unless `--no-simulation` —
//! cases reported from every source (worker, patrol, camera, hotline, citizen) a few a minute, walked
//! through the closed loop (accepted, started and resolved by the grid worker, verified and closed by
//! the command centre: supervision is separate from handling), patrols walking their grids, and a
//! handful of cameras when the city has none.
//!
//! Owns the cast (who plays), the agenda (what happens when) and the movers (where each walker is).
//! Every change goes through the services a client's request goes through — the intake
//! (`cases::intake`), the workflow (`cases::actions`), the positions writer (`tracking`), the patrol
//! book (`patrols`) and the camera service (`cameras`) — under an audit context naming the simulation
//! and whom it plays, so events, history, audit rows, the live hub and the tiles see it like any other
//! change. Must not: write the store, hold the world's lock across an `.await`, act on a case it did
//! not report, or play the demo's own worker account (left to the person signed in as it). It runs
//! only under `demo` (`crate::serve_beside`), and ends when the server starts closing its connections.
//!
//! Deterministic given a seed: each stream of choices (the reports, the cases' pace, the walks) has
//! its own RNG seeded from `--simulation-seed`, so the script of reports is the same on every run; what
//! the server answers (case ids, who routing picks) is the city's.

mod cases;
mod cast;
mod script;
mod walk;

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use rand::SeedableRng;
use rand::rngs::StdRng;
use tokio::time::Instant;

use crate::audit;
use crate::domain::{Fix, IncidentId, PatrolId, Role, WorkerId};
use crate::state::AppState;
use crate::tracking::Judge;
use cast::Cast;
use script::{Pace, Script, Stage};
use walk::Mover;

/// `gridwatch demo`'s simulation flags.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct Args {
    /// Run no simulation: the demo city stays still (what the tests and the benchmarks use).
    #[arg(long, overrides_with = "simulation")]
    pub no_simulation: bool,
    /// Run the simulation (the default; overrides an earlier `--no-simulation`).
    #[arg(long, overrides_with = "no_simulation")]
    pub simulation: bool,
    /// The seed of the simulation's choices: the same seed plays the same script.
    #[arg(long, default_value_t = DEFAULT_SEED, value_name = "N")]
    pub simulation_seed: u64,
}

/// The seed when none is given.
pub const DEFAULT_SEED: u64 = 2013;

impl Args {
    /// The seed to run with, or `None` when the simulation is off.
    #[must_use]
    pub fn seed(&self) -> Option<u64> {
        (!self.no_simulation).then_some(self.simulation_seed)
    }
}

/// What the simulation starts with.
#[derive(Debug, Clone)]
pub struct Settings {
    pub seed: u64,
    /// The demo's admin token: the authority the demo's cameras are created with.
    pub admin_token: Option<String>,
}

/// The user agent of the simulation's audit rows.
const USER_AGENT: &str = "gridwatch-simulation";
/// How often the walkers' phones send a fix.
const WALK_EVERY: Duration = Duration::from_secs(3);
/// How long a patrol lasts before the next worker on the bench takes over, seconds.
const PATROL_S: (usize, usize) = (12 * 60, 25 * 60);

/// Runs the simulation on the running services until the server starts closing its connections.
/// Every write it waits for is safe to drop there: a write step runs to its end on its own task.
pub async fn run(state: AppState, settings: Settings) {
    let mut shutdown = state.shutdown();
    tokio::select! {
        biased;
        () = shutdown.closing() => {}
        () = async { City::open(state, settings).await.play().await } => {}
    }
}

/// Something on the agenda.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Job {
    /// The next report arrives.
    Report,
    /// The walkers' phones send their fixes.
    Walk,
    /// A case's next step.
    Case(IncidentId),
    /// This worker's patrol ends and the next on the bench starts one.
    Rotate(WorkerId),
}

/// A case the simulation reported and walks through the loop.
#[derive(Debug, Clone)]
struct Tracked {
    stage: Stage,
    handler: Option<WorkerId>,
    quick: bool,
    /// The first verification fails.
    rework: bool,
    /// The case's place, `(lat, lon)` degrees.
    place: (f64, f64),
}

/// The simulation's state: the script, the cast and where each is, the cases it follows, the agenda.
struct City {
    state: AppState,
    script: Script,
    /// The next report, drawn ahead so its wait is known.
    next: script::Draw,
    pace: Pace,
    /// The walks' draws, apart from the script's so a walk never shifts what is reported.
    steps: StdRng,
    cast: Cast,
    movers: BTreeMap<WorkerId, Mover>,
    patrols: BTreeMap<WorkerId, PatrolId>,
    cases: BTreeMap<IncidentId, Tracked>,
    /// What happens when, in the order it was put there for equal times.
    agenda: Vec<(Instant, Job)>,
    last_walk: Instant,
}

impl City {
    /// Sets the city up: cameras if it has none, the cast, their patrols and where each walker starts.
    async fn open(state: AppState, settings: Settings) -> Self {
        let seed = settings.seed;
        let mut pace = Pace::new(seed ^ 0x9e37_79b9_7f4a_7c15);
        cast::ensure_cameras(&state, settings.admin_token.as_deref(), &mut pace).await;
        let cast = Cast::choose(&state.world(), &mut pace);
        let mut movers = BTreeMap::new();
        {
            let world = state.world();
            for &worker in cast.patrollers.iter().chain(&cast.strollers) {
                if let Some((cells, (lat, lon))) = cast::home(&world, worker, &mut pace) {
                    movers.insert(worker, Mover::roaming(lat, lon, cells));
                }
            }
        }
        let mut patrols = BTreeMap::new();
        for &worker in &cast.patrollers {
            if let Some(id) = played(worker_name(&state, worker), Role::Worker, async {
                cast::open_patrol(&state, worker).await
            })
            .await
            {
                patrols.insert(worker, id);
            }
        }
        let mut script = Script::new(seed);
        let next = script.next_report();
        let now = Instant::now();
        let mut city = Self {
            state,
            script,
            next,
            pace,
            steps: StdRng::seed_from_u64(seed.rotate_left(17) ^ 0x5151),
            cast,
            movers,
            patrols,
            cases: BTreeMap::new(),
            agenda: Vec::new(),
            last_walk: now,
        };
        city.at(now + Duration::from_millis(500), Job::Walk);
        city.after(city.next.after, Job::Report);
        for worker in city.patrols.keys().copied().collect::<Vec<_>>() {
            let length = patrol_length(&mut city.pace);
            city.after(length, Job::Rotate(worker));
        }
        tracing::info!(
            seed,
            patrols = city.patrols.len(),
            walkers = city.movers.len(),
            "the simulation runs"
        );
        city
    }

    /// Plays the agenda for ever (until `run` drops it).
    async fn play(mut self) {
        loop {
            let Some(first) = self
                .agenda
                .iter()
                .enumerate()
                .min_by_key(|(_, (at, _))| *at)
                .map(|(i, _)| i)
            else {
                return;
            };
            let (at, job) = self.agenda.remove(first);
            tokio::time::sleep_until(at).await;
            match job {
                Job::Report => {
                    let next = self.script.next_report();
                    let draw = std::mem::replace(&mut self.next, next);
                    self.after(self.next.after, Job::Report);
                    cases::report(&mut self, draw).await;
                }
                Job::Walk => {
                    self.after(WALK_EVERY, Job::Walk);
                    self.walk().await;
                }
                Job::Case(id) => cases::step(&mut self, id).await,
                Job::Rotate(worker) => self.rotate(worker).await,
            }
        }
    }

    fn at(&mut self, at: Instant, job: Job) {
        self.agenda.push((at, job));
    }

    fn after(&mut self, wait: Duration, job: Job) {
        self.at(Instant::now() + wait, job);
    }

    /// Every mover takes a step; the phones of those who moved send their fixes, as one batch.
    async fn walk(&mut self) {
        let now = Instant::now();
        let dt_s = now.duration_since(self.last_walk).as_secs_f64().min(10.0);
        self.last_walk = now;
        let at = self.state.now();
        let mut fixes = Vec::new();
        for (&worker, mover) in &mut self.movers {
            if let Some(step) = mover.step(dt_s, &mut self.steps) {
                let mut fix = Fix::at(worker, step.lat, step.lon, at);
                fix.speed_mps = Some(step.speed_mps);
                fix.heading_deg = Some(step.heading_deg);
                fix.accuracy_m = Some(5.0);
                fix.moving = Some(true);
                fixes.push(fix);
            }
        }
        if fixes.is_empty() {
            return;
        }
        let positions = self.state.positions();
        let sent = played("phones".to_owned(), Role::Worker, async {
            positions.report(fixes, Judge::Jumps).await
        })
        .await;
        if let Err(error) = sent {
            tracing::debug!(%error, "the simulation's fixes were not stored");
        }
    }

    /// `worker`'s patrol ends; the next worker on the bench starts one and walks their grid.
    async fn rotate(&mut self, worker: WorkerId) {
        if let Some(id) = self.patrols.remove(&worker) {
            let name = worker_name(&self.state, worker);
            let patrols = self.state.patrols();
            if let Err(error) = played(name, Role::Worker, patrols.end(id)).await {
                tracing::debug!(%error, "the simulation could not end a patrol");
            }
        }
        self.cast.patrollers.retain(|&w| w != worker);
        if !self.handling(worker) {
            self.movers.remove(&worker);
        }
        self.cast.bench.push(worker);
        let next = self.cast.bench.remove(0);
        let name = worker_name(&self.state, next);
        let opened = played(name, Role::Worker, async {
            cast::open_patrol(&self.state, next).await
        })
        .await;
        if let Some(id) = opened {
            self.patrols.insert(next, id);
            self.cast.patrollers.push(next);
            let home = cast::home(&self.state.world(), next, &mut self.pace);
            if let Some((cells, (lat, lon))) = home {
                self.movers
                    .entry(next)
                    .or_insert_with(|| Mover::roaming(lat, lon, cells));
            }
            let length = patrol_length(&mut self.pace);
            self.after(length, Job::Rotate(next));
        }
    }

    /// Whether `worker` is riding to or working on one of the simulation's cases.
    fn handling(&self, worker: WorkerId) -> bool {
        self.cases
            .values()
            .any(|t| t.handler == Some(worker) && t.stage == Stage::Resolve)
    }
}

/// How long a patrol lasts before it is handed on.
fn patrol_length(pace: &mut Pace) -> Duration {
    let s = PATROL_S.0 + pace.pick(PATROL_S.1 - PATROL_S.0);
    Duration::from_secs(u64::try_from(s).unwrap_or(u64::MAX))
}

/// A worker's name, for the audit rows of what the simulation does as them.
fn worker_name(state: &AppState, worker: WorkerId) -> String {
    state
        .world()
        .worker(worker)
        .map_or_else(|| format!("worker {worker}"), |w| w.name.clone())
}

/// Runs `write` under an audit context naming the simulation and whom it plays (`who`, as `role`):
/// the server acts, so the row's actor is the system's, with the part it plays in its name.
async fn played<F: Future>(who: String, role: Role, write: F) -> F::Output {
    let context = audit::Context::new(None, Some(USER_AGENT.to_owned()));
    audit::scope(Some(context), async move {
        audit::identify(audit::Actor {
            kind: audit::ActorKind::System,
            id: None,
            name: Some(format!("simulation · {who}")),
            role: Some(role),
        });
        write.await
    })
    .await
}
