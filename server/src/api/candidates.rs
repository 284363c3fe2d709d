//! `GET /api/incidents/{id}/candidates`: whom a case may be dispatched or reassigned to, as the
//! command centre's dispatch list shows them — every worker the caller may hand the case to (the rule
//! `dispatch`/`reassign` check, `admin::workers::can_see`), with their duty, their open load (open
//! cases assigned to them), their distance from the case and whether they answer for its grid.
//!
//! Sorted on duty first, then nearest, then least loaded, then by id. The distance is from the
//! worker's last position when the world has one, else from the nearest of their grids' centroids;
//! meters on the sphere (haversine). Reads the world only; changes nothing.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use geo::Centroid;
use rustc_hash::FxHashMap;
use serde::Serialize;

use super::AppPath;
use super::workers::can_see;
use crate::auth::Auth;
use crate::cases::actions;
use crate::domain::worker::Responsibility;
use crate::domain::{DutyStatus, IncidentId, Permission, WorkerId, WorkerKind};
use crate::error::ApiError;
use crate::geodesy::haversine_m;
use crate::state::AppState;

/// Where a candidate's distance is measured from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DistanceFrom {
    /// The worker's last reported position.
    Position,
    /// The centroid of the nearest grid the worker answers for.
    Grid,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Candidate {
    id: WorkerId,
    name: String,
    kind: WorkerKind,
    duty: DutyStatus,
    on_duty: bool,
    /// Open cases (registered to resolved) assigned to the worker.
    open_load: usize,
    /// Meters from the case; `null` with neither a position nor a grid.
    distance_m: Option<f64>,
    distance_from: Option<DistanceFrom>,
    /// When the position was reported (with `distance_from: position`).
    #[schema(value_type = Option<String>, format = DateTime)]
    position_at: Option<DateTime<Utc>>,
    /// The worker's responsibility for the case's grid, if any.
    responsibility: Option<Responsibility>,
    /// The case's grid's primary (responsible) worker.
    responsible: bool,
    /// The case's current assignee.
    assignee: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Candidates {
    incident: IncidentId,
    /// On duty first, then nearest, then least open load.
    candidates: Vec<Candidate>,
}

#[utoipa::path(get, path = "/api/incidents/{id}/candidates", tag = "incidents", params(("id" = i64, Path)),
    responses((status = 200, description = "the workers the case may go to, on duty first, then nearest, then least loaded", body = Candidates),
        (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn candidates(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<i64>,
) -> Result<Json<Candidates>, ApiError> {
    auth.require(Permission::ActOnCases)?;
    auth.require(Permission::ReadWorkers)?;
    let world = state.world();
    // Only a case the world holds can be dispatched: an archived one is finished.
    let case = world
        .incident(IncidentId(id))
        .ok_or_else(|| ApiError::not_found(format!("incident {id}")))?;
    actions::check_scope(&world, &auth.0, case)?;
    let visibility = world.visibility(&auth.0);
    let mut load: FxHashMap<WorkerId, usize> = FxHashMap::default();
    for open in world.incidents().filter(|c| c.state.status.is_open()) {
        if let Some(worker) = open.state.assignee {
            *load.entry(worker).or_default() += 1;
        }
    }
    let (lat, lon) = (case.place.lat, case.place.lon);
    let mut list: Vec<Candidate> = world
        .workers()
        .filter(|w| can_see(&visibility, &auth.0, w))
        .map(|w| {
            let position = world.position(w.id);
            let (distance_m, distance_from) = if let Some(p) = position {
                (
                    Some(haversine_m(lat, lon, p.lat, p.lon)),
                    Some(DistanceFrom::Position),
                )
            } else {
                let nearest = (w.grids.iter())
                    .filter_map(|d| world.grid(d.grid_id)?.boundary.centroid())
                    .map(|c| haversine_m(lat, lon, c.y(), c.x()))
                    .min_by(f64::total_cmp);
                (nearest, nearest.map(|_| DistanceFrom::Grid))
            };
            let responsibility = (w.grids.iter())
                .find(|d| d.grid_id == case.place.grid)
                .map(|d| d.responsibility);
            Candidate {
                id: w.id,
                name: w.name.clone(),
                kind: w.kind,
                duty: w.duty,
                on_duty: w.duty == DutyStatus::OnDuty,
                open_load: load.get(&w.id).copied().unwrap_or(0),
                distance_m: distance_m.map(f64::round),
                distance_from,
                position_at: position.map(|p| p.at),
                responsibility,
                responsible: responsibility == Some(Responsibility::Primary),
                assignee: case.state.assignee == Some(w.id),
            }
        })
        .collect();
    list.sort_by(|a, b| {
        (b.on_duty.cmp(&a.on_duty))
            .then_with(|| match (a.distance_m, b.distance_m) {
                (Some(x), Some(y)) => x.total_cmp(&y),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            })
            .then_with(|| a.open_load.cmp(&b.open_load))
            .then_with(|| a.id.cmp(&b.id))
    });
    Ok(Json(Candidates {
        incident: IncidentId(id),
        candidates: list,
    }))
}
