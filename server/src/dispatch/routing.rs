//! Routing a new incident (派遣): who gets it, and the reason, recorded with the assignment.
//!
//! Owns the chain, in order:
//! 1. the department that owns the incident's category, if it has an on-duty member;
//! 2. the grid's responsible (primary) worker, if on duty;
//! 3. the grid's first on-duty backup;
//! 4. the nearest on-duty worker of the same community within `radius_m`;
//! 5. otherwise the community's queue — where no one clearly owns it, the locality does (属地兜底).
//!
//! Inputs are plain data gathered by the caller from the world; this module never looks anything up,
//! reads a clock or touches the store. Positions are WGS 84 degrees (EPSG:4326) given as `(lat, lon)`;
//! distances are great-circle (haversine) distances in meters, named `_m`.

use serde::Serialize;

use crate::domain::WorkerId;
use crate::geodesy::{haversine_m, is_coordinate};

/// [`RouteReason::CommunityQueue`] when no worker of the community is on duty.
pub const QUEUE_NO_ONE_ON_DUTY: &str = "no worker of the community is on duty";
/// [`RouteReason::CommunityQueue`] when on-duty workers exist but none has a known position.
pub const QUEUE_NO_POSITION: &str = "no on-duty worker of the community has a known position";
/// [`RouteReason::CommunityQueue`] when the nearest on-duty worker is farther than the radius.
pub const QUEUE_BEYOND_RADIUS: &str = "the nearest on-duty worker is beyond the radius";
/// [`RouteReason::CommunityQueue`] when the incident's own position is not a finite coordinate.
pub const QUEUE_NO_INCIDENT_POSITION: &str = "the incident has no usable position";

/// A worker who could take the incident.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    pub worker: WorkerId,
    pub on_duty: bool,
    /// Last known position, `(lat, lon)` in degrees (EPSG:4326); `None` when unknown.
    pub position: Option<(f64, f64)>,
}

/// Everything the routing chain looks at, gathered by the caller.
#[derive(Debug, Clone, PartialEq)]
pub struct RoutingInput {
    /// Members of the department that owns the incident's category; `None` when the category has no
    /// department (the grid handles it).
    pub category_department: Option<Vec<Candidate>>,
    /// The grid's responsible worker (网格员), if the grid has one.
    pub primary: Option<Candidate>,
    /// The grid's backup workers, in order of preference.
    pub backups: Vec<Candidate>,
    /// All workers of the incident's community, for the nearest-worker step.
    pub community_workers: Vec<Candidate>,
    /// Incident latitude in degrees (EPSG:4326).
    pub incident_lat: f64,
    /// Incident longitude in degrees (EPSG:4326).
    pub incident_lon: f64,
    /// How far, in meters, the nearest-worker step may reach (inclusive).
    pub radius_m: f64,
}

/// Where the incident goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "worker", rename_all = "snake_case")]
pub enum Target {
    Worker(WorkerId),
    /// The community's shared queue, worked by its command centre.
    CommunityQueue,
}

/// Which step of the chain chose the target.
///
/// Serialise-only: `why` is a `&'static str` taken from this module's `QUEUE_*` constants.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RouteReason {
    CategoryDepartment,
    GridPrimary,
    GridBackup,
    /// The nearest on-duty worker of the community, `distance_m` meters (haversine) from the incident.
    NearestOnDuty {
        distance_m: f64,
    },
    CommunityQueue {
        why: &'static str,
    },
}

/// A routing decision: the target and why.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Route {
    pub to: Target,
    pub reason: RouteReason,
}

impl Route {
    fn worker(worker: WorkerId, reason: RouteReason) -> Self {
        Self {
            to: Target::Worker(worker),
            reason,
        }
    }
}

/// Runs the routing chain (see the module docs) on `input`.
///
/// In the department step, the nearest on-duty member with a known position wins (no radius: the
/// department owns the category wherever it is); if no on-duty member has a position, or the incident
/// has none, the first on-duty member in list order. A department with no one on duty falls through to
/// the grid. Ties in distance go to the earlier candidate in list order.
#[must_use]
pub fn route(input: &RoutingInput) -> Route {
    let incident = Some((input.incident_lat, input.incident_lon))
        .filter(|&(lat, lon)| is_coordinate(lat, lon));

    if let Some(members) = &input.category_department {
        let nearest = incident
            .and_then(|at| nearest_on_duty(members, at))
            .map(|(worker, _)| worker);
        let first = || members.iter().find(|c| c.on_duty).map(|c| c.worker);
        if let Some(worker) = nearest.or_else(first) {
            return Route::worker(worker, RouteReason::CategoryDepartment);
        }
    }
    if let Some(primary) = input.primary.filter(|c| c.on_duty) {
        return Route::worker(primary.worker, RouteReason::GridPrimary);
    }
    if let Some(backup) = input.backups.iter().find(|c| c.on_duty) {
        return Route::worker(backup.worker, RouteReason::GridBackup);
    }

    let queue = |why| Route {
        to: Target::CommunityQueue,
        reason: RouteReason::CommunityQueue { why },
    };
    if !input.community_workers.iter().any(|c| c.on_duty) {
        return queue(QUEUE_NO_ONE_ON_DUTY);
    }
    let Some(incident) = incident else {
        return queue(QUEUE_NO_INCIDENT_POSITION);
    };
    match nearest_on_duty(&input.community_workers, incident) {
        None => queue(QUEUE_NO_POSITION),
        Some((worker, distance_m)) if distance_m <= input.radius_m => {
            Route::worker(worker, RouteReason::NearestOnDuty { distance_m })
        }
        Some(_) => queue(QUEUE_BEYOND_RADIUS),
    }
}

/// The on-duty candidate with a known position nearest to `(lat, lon)` degrees, and its distance in
/// meters; the earlier candidate wins a tie.
fn nearest_on_duty(candidates: &[Candidate], (lat, lon): (f64, f64)) -> Option<(WorkerId, f64)> {
    candidates
        .iter()
        .filter(|c| c.on_duty)
        .filter_map(|c| {
            let (c_lat, c_lon) = c.position.filter(|&(lat, lon)| is_coordinate(lat, lon))?;
            Some((c.worker, haversine_m(lat, lon, c_lat, c_lon)))
        })
        .fold(
            None,
            |best: Option<(WorkerId, f64)>, (worker, distance_m)| match best {
                Some((_, best_m)) if best_m <= distance_m => best,
                _ => Some((worker, distance_m)),
            },
        )
}

#[cfg(test)]
mod tests;
