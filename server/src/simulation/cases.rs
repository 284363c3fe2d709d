//! The simulation's cases: each report composed from a draw of the script and registered through the
//! intake, then walked through the closed loop through the workflow (`cases::actions`) — the grid
//! worker routing chose accepts, starts (and rides there), resolves with a note; the command centre
//! verifies and closes (or, once in a while, sends it back for rework).
//!
//! Must not: act on a case the simulation did not report, or on one given to the demo's own worker
//! account; a step the workflow refuses (someone else acted first) ends the simulation's part in it.

use super::script::{Draw, Stage, categories_of, resolve_note, texts_of};
use super::{City, Job, Tracked, played, worker_name};
use crate::cases::actions::{self, Extra};
use crate::cases::intake::Report;
use crate::domain::incident::{Action, Actor, Source, Status};
use crate::domain::{Case, IncidentId, Role, WorkerId};
use crate::world::World;

/// The command centre's part: dispatch and verification (a person with no worker of their own).
const COMMAND_CENTRE: Actor = Actor {
    worker: None,
    role: Role::Commander,
};

/// Makes the report `draw` describes and follows the case it becomes.
pub(super) async fn report(city: &mut City, draw: Draw) {
    let composed = compose(&city.state.world(), city, &draw);
    let Some((actor, who, report)) = composed else {
        tracing::debug!(source = %draw.source, "the simulation had nothing to report from");
        return;
    };
    let intake = city.state.intake();
    let role = actor.role;
    let registered = played(who, role, intake.register(actor, None, report)).await;
    match registered {
        Ok(case) => follow(city, &case, &draw),
        Err(error) => tracing::debug!(%error, "the simulation's report was not registered"),
    }
}

/// The reporting actor, their name for the audit row, and the report.
fn compose(world: &World, city: &City, draw: &Draw) -> Option<(Actor, String, Report)> {
    let category = category(world, draw)?;
    let texts = texts_of(&category);
    let text = texts[draw.text as usize % texts.len()].to_owned();
    let walker = |among: &[WorkerId]| {
        let walking: Vec<WorkerId> = among
            .iter()
            .copied()
            .filter(|w| city.movers.contains_key(w))
            .collect();
        let worker = *walking.get(draw.who as usize % walking.len().max(1))?;
        let mover = &city.movers[&worker];
        let name = world.worker(worker)?.name.clone();
        let actor = Actor {
            worker: Some(worker),
            role: Role::Worker,
        };
        Some((actor, name, (mover.lat, mover.lon), text.clone()))
    };
    let made = match draw.source {
        Source::Worker => walker(&city.cast.strollers),
        Source::Patrol => walker(&city.cast.patrollers),
        Source::Camera => {
            let mut cameras: Vec<_> = world
                .cameras()
                .map(|c| &c.camera)
                .filter(|c| c.is_online())
                .collect();
            cameras.sort_unstable_by_key(|c| c.id);
            cameras
                .get(draw.who as usize % cameras.len().max(1))
                .map(|c| {
                    let actor = Actor {
                        worker: None,
                        role: Role::Device,
                    };
                    // As `POST /api/cameras/{id}/alerts` words it.
                    let text = format!("camera {} ({}): {text}", c.id, c.name);
                    (actor, c.name.clone(), (c.lat, c.lon), text)
                })
        }
        Source::Hotline | Source::Citizen | Source::Open311 => {
            let mut grids: Vec<_> = world.grids().filter(|g| !g.cells.is_empty()).collect();
            grids.sort_unstable_by_key(|g| g.id);
            let grid = grids.get(draw.who as usize % grids.len().max(1))?;
            let at = h3o::LatLng::from(grid.cells[draw.cell as usize % grid.cells.len()]);
            let (actor, who) = if draw.source == Source::Hotline {
                (COMMAND_CENTRE, "热线 hotline")
            } else {
                let citizen = Actor {
                    worker: None,
                    role: Role::Reporter,
                };
                (citizen, "市民 citizen")
            };
            Some((actor, who.to_owned(), (at.lat(), at.lng()), text))
        }
    };
    let (actor, who, (lat, lon), description) = made?;
    let report = Report {
        lat,
        lon,
        category,
        priority: draw.priority,
        description,
        source: draw.source,
    };
    Some((actor, who, report))
}

/// The category of the draw: among those its source mostly reports that the city has in use, else
/// among every category in use.
fn category(world: &World, draw: &Draw) -> Option<String> {
    let active = |code: &str| world.category(code).is_some_and(|c| c.active);
    let mut codes: Vec<String> = categories_of(draw.source)
        .iter()
        .filter(|&&code| active(code))
        .map(|&code| code.to_owned())
        .collect();
    if codes.is_empty() {
        codes = world
            .categories()
            .filter(|c| c.active)
            .map(|c| c.code.clone())
            .collect();
        codes.sort_unstable();
    }
    let n = codes.len();
    (n > 0).then(|| codes.swap_remove(draw.category as usize % n))
}

/// Follows a newly registered case from where routing left it.
fn follow(city: &mut City, case: &Case, draw: &Draw) {
    let stage = match (case.state.status, case.state.assignee) {
        (Status::Dispatched, Some(to)) if Some(to) != city.cast.kept => Stage::Accept,
        // The community's queue: the command centre dispatches it.
        (Status::Registered, _) => Stage::Dispatch,
        _ => return,
    };
    let tracked = Tracked {
        stage,
        handler: case.state.assignee,
        quick: draw.quick,
        rework: draw.rework,
        place: (case.place.lat, case.place.lon),
    };
    city.cases.insert(case.id(), tracked);
    let wait = city.pace.before(stage, draw.quick);
    city.after(wait, Job::Case(case.id()));
}

/// Takes the next step of case `id`.
pub(super) async fn step(city: &mut City, id: IncidentId) {
    let Some(mut tracked) = city.cases.remove(&id) else {
        return;
    };
    let (actor, action) = match (tracked.stage, tracked.handler) {
        (Stage::Dispatch, _) => {
            let Some(to) = dispatch_to(city, id) else {
                return;
            };
            tracked.handler = Some(to);
            (COMMAND_CENTRE, Action::Dispatch { to })
        }
        (Stage::Verify, _) => (
            COMMAND_CENTRE,
            Action::Verify {
                passed: !tracked.rework,
            },
        ),
        (stage, Some(handler)) => {
            let handler = Actor {
                worker: Some(handler),
                role: Role::Worker,
            };
            let action = match stage {
                Stage::Accept => Action::Accept,
                Stage::Start => Action::Start,
                _ => Action::Resolve {
                    note: Some(resolve_note(city.pace.pick(8)).to_owned()),
                },
            };
            (handler, action)
        }
        (_, None) => return,
    };
    let who = match actor.worker {
        Some(worker) => worker_name(&city.state, worker),
        None => "指挥中心 command centre".to_owned(),
    };
    let core = city.state.core();
    let acted = actions::act(core, actor, None, id, action, Extra::default());
    let case = match played(who, actor.role, acted).await {
        Ok(case) => case,
        Err(error) => {
            // Someone else took the case on: the simulation leaves it to them.
            tracing::debug!(%error, %id, "the simulation left a case");
            release(city, tracked.handler);
            return;
        }
    };
    // Done riding to and working on it once resolved (or verified, after a rework).
    let done = matches!(tracked.stage, Stage::Resolve | Stage::Verify);
    let next = match tracked.stage {
        Stage::Dispatch if tracked.handler == city.cast.kept => None,
        Stage::Dispatch => Some(Stage::Accept),
        Stage::Accept => Some(Stage::Start),
        Stage::Start => {
            ride(city, tracked.handler, tracked.place);
            Some(Stage::Resolve)
        }
        Stage::Resolve => Some(Stage::Verify),
        Stage::Verify if case.state.status == Status::InProgress => {
            // Rework (返工): back to the handler, who goes there again and resolves it again.
            tracked.rework = false;
            ride(city, tracked.handler, tracked.place);
            Some(Stage::Resolve)
        }
        Stage::Verify => None,
    };
    if let Some(stage) = next {
        tracked.stage = stage;
        let wait = city.pace.before(stage, tracked.quick);
        city.cases.insert(id, tracked);
        city.after(wait, Job::Case(id));
    }
    if done {
        release(city, case.state.handler);
    }
}

/// Who the command centre dispatches a queued case to: the on-duty workers of its grid first, then
/// of its community, never the demo's own worker account.
fn dispatch_to(city: &mut City, id: IncidentId) -> Option<WorkerId> {
    let candidates: Vec<WorkerId> = {
        let world = city.state.world();
        let case = world.incident(id)?;
        let grid = case.place.grid;
        let community = case.place.community;
        let mut on_duty: Vec<(bool, WorkerId)> = world
            .workers()
            .filter(|w| w.duty == crate::domain::worker::DutyStatus::OnDuty)
            .filter(|w| Some(w.id) != city.cast.kept)
            .filter_map(|w| {
                let of_grid = w.grids.iter().any(|d| d.grid_id == grid);
                let of_community = w.grids.iter().any(|d| {
                    world
                        .grid(d.grid_id)
                        .is_some_and(|g| g.community == community)
                });
                (of_grid || of_community).then_some((!of_grid, w.id))
            })
            .collect();
        on_duty.sort_unstable();
        let best = on_duty.first()?.0;
        on_duty
            .into_iter()
            .take_while(|(rank, _)| *rank == best)
            .map(|(_, w)| w)
            .collect()
    };
    let pick = city.pace.pick(candidates.len());
    candidates.get(pick).copied()
}

/// The handler rides to the case: from where they walk, or from their last known place.
fn ride(city: &mut City, handler: Option<WorkerId>, place: (f64, f64)) {
    let Some(worker) = handler else { return };
    if !city.movers.contains_key(&worker) {
        let home = super::cast::home(&city.state.world(), worker, &mut city.pace);
        let Some((cells, (lat, lon))) = home else {
            return;
        };
        city.movers
            .insert(worker, super::walk::Mover::roaming(lat, lon, cells));
    }
    if let Some(mover) = city.movers.get_mut(&worker) {
        mover.go_to(place);
    }
}

/// The handler is done with a case: back to walking their grid if the simulation walks them, else
/// they stay where they are (and send no more fixes) — unless they have another case to work on.
fn release(city: &mut City, handler: Option<WorkerId>) {
    let Some(worker) = handler else { return };
    if city.handling(worker) {
        return;
    }
    if city.cast.walks(worker) {
        let home = super::cast::home(&city.state.world(), worker, &mut city.pace);
        if let (Some(mover), Some((cells, _))) = (city.movers.get_mut(&worker), home) {
            mover.roam(cells);
        }
    } else {
        city.movers.remove(&worker);
    }
}
