//! `/api/patrols` (巡逻), `/api/checkpoints` (巡查点) and `/api/grids/{id}/coverage` (patrol coverage, with
//! the camera part from `api/cameras.rs`).
//!
//! A worker starts and ends their own patrol; a command centre may do it for a worker in its scope.
//! Every change goes through `crate::patrols`; reads come from its in-memory book, and a patrol's report
//! from its stored track.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::workers::can_see;
use super::{AppJson, AppPath, AppQuery, visible_grid};
use crate::auth::Auth;
use crate::domain::patrol::{self, CHECKPOINT_RADIUS_M, NewCheckpoint, Patrol};
use crate::domain::{CheckpointId, GridId, PatrolId, Permission, Principal, WorkerId};
use crate::error::ApiError;
use crate::state::AppState;
use crate::world::World;

/// Reading a worker's patrols: its own, or any in scope.
const READ: (Permission, Permission) = (Permission::ReadPatrols, Permission::ReadPatrols);
/// Starting and ending patrols: one's own, or a worker's one manages.
const PATROL: (Permission, Permission) = (Permission::Patrol, Permission::ManageWorkers);
/// Most fixes a patrol report reads: a fix a second for a 24-hour shift is 86,400.
const REPORT_MAX_FIXES: u32 = 200_000;
/// Longest coverage window, hours (30 days).
const MAX_WINDOW_H: u32 = 720;

/// 404 for an unknown worker; 403 unless the caller holds `own` and is the worker, or holds `others` and
/// the worker is in its scope.
fn check_worker(
    world: &World,
    principal: &Principal,
    worker: WorkerId,
    (own, others): (Permission, Permission),
) -> Result<(), ApiError> {
    let found = world
        .worker(worker)
        .ok_or_else(|| ApiError::not_found(format!("worker {worker}")))?;
    let auth = Auth(principal.clone());
    if principal.worker == Some(worker) {
        return auth.require(own);
    }
    auth.require(others)?;
    if can_see(&world.visibility(principal), principal, found) {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "worker {worker} is outside your scope"
        )))
    }
}

/// The patrol `id` if it exists and the caller may (`rights`, as for [`check_worker`]) act on its worker.
async fn visible_patrol(
    state: &AppState,
    principal: &Principal,
    id: i64,
    rights: (Permission, Permission),
) -> Result<Patrol, ApiError> {
    let patrol = state
        .patrols()
        .book()
        .await?
        .patrol(PatrolId(id))
        .cloned()
        .ok_or_else(|| ApiError::not_found(format!("patrol {id}")))?;
    check_worker(&state.world(), principal, patrol.worker, rights)?;
    Ok(patrol)
}

/// A patrol to start.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartPatrol {
    /// The worker; a worker's own token may leave it out.
    worker: Option<WorkerId>,
}

#[utoipa::path(post, path = "/api/patrols", tag = "patrols", request_body = StartPatrol,
    responses((status = 201, body = Patrol), (status = 403), (status = 404), (status = 409), (status = 422)),
    security(("bearer" = [])))]
pub async fn start(
    State(state): State<AppState>,
    auth: Auth,
    AppJson(body): AppJson<StartPatrol>,
) -> Result<(StatusCode, Json<Patrol>), ApiError> {
    let worker = body.worker.or(auth.0.worker).ok_or_else(|| {
        ApiError::invalid("worker is required unless the token is a worker's own")
    })?;
    check_worker(&state.world(), &auth.0, worker, PATROL)?;
    let patrol = state.patrols().start(worker).await?;
    Ok((StatusCode::CREATED, Json(patrol)))
}

#[utoipa::path(post, path = "/api/patrols/{id}/end", tag = "patrols", params(("id" = i64, Path)),
    responses((status = 200, body = Patrol), (status = 403), (status = 404), (status = 409)), security(("bearer" = [])))]
pub async fn end(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<i64>,
) -> Result<Json<Patrol>, ApiError> {
    visible_patrol(&state, &auth.0, id, PATROL).await?;
    Ok(Json(state.patrols().end(PatrolId(id)).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PatrolQuery {
    /// Only this worker's patrols.
    #[param(inline)]
    worker: Option<WorkerId>,
    /// Only open (`true`) or ended (`false`) patrols.
    active: Option<bool>,
}

#[utoipa::path(get, path = "/api/patrols", tag = "patrols", params(PatrolQuery),
    responses((status = 200, body = Vec<Patrol>), (status = 400), (status = 404),
        (status = 403)), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(query): AppQuery<PatrolQuery>,
) -> Result<Json<Vec<Patrol>>, ApiError> {
    if let Some(worker) = query.worker {
        check_worker(&state.world(), &auth.0, worker, READ)?;
    }
    let patrols: Vec<Patrol> = {
        let book = state.patrols().book().await?;
        book.patrols()
            .rev()
            .filter(|p| query.worker.is_none_or(|w| p.worker == w))
            .filter(|p| query.active.is_none_or(|a| p.is_open() == a))
            .cloned()
            .collect()
    };
    let world = state.world();
    Ok(Json(
        patrols
            .into_iter()
            .filter(|p| check_worker(&world, &auth.0, p.worker, READ).is_ok())
            .collect(),
    ))
}

#[utoipa::path(get, path = "/api/patrols/{id}", tag = "patrols", params(("id" = i64, Path)),
    responses((status = 200, description = "the patrol with its report"), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn one(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<i64>,
) -> Result<Json<Value>, ApiError> {
    let patrol = visible_patrol(&state, &auth.0, id, READ).await?;
    let now = state.now();
    // An open patrol reads up to the latest fix a device may stamp ahead of the server's clock.
    let to = patrol
        .ended_at
        .unwrap_or(now + crate::domain::fix::MAX_CLOCK_AHEAD);
    let track = state
        .store()
        .track(patrol.worker, patrol.started_at, to, REPORT_MAX_FIXES)
        .await?;
    let (check_ins, checkpoints) = {
        let book = state.patrols().book().await?;
        let check_ins = book.check_ins(patrol.id).to_vec();
        (check_ins, book.checkpoints().cloned().collect::<Vec<_>>())
    };
    let world = state.world();
    let summary = patrol::summarize(&track, |lat, lon| {
        world.locate(lat, lon).ok().map(|l| {
            (
                l.cell,
                if l.outside {
                    None
                } else {
                    l.links.map(|l| l.grid)
                },
            )
        })
    });
    let name = |c: CheckpointId| {
        checkpoints
            .iter()
            .find(|k| k.id == c)
            .map(|k| k.name.clone())
    };
    let hit: Vec<Value> = check_ins
        .iter()
        .map(|c| json!({"checkpoint": c.checkpoint, "name": name(c.checkpoint), "at": c.at, "distance_m": c.distance_m}))
        .collect();
    let answers_for: Vec<GridId> = world
        .worker(patrol.worker)
        .map(|w| w.grids.iter().map(|d| d.grid_id).collect())
        .unwrap_or_default();
    let missed: Vec<Value> = checkpoints
        .iter()
        .filter(|k| k.grid.is_some_and(|g| answers_for.contains(&g)))
        .filter(|k| !check_ins.iter().any(|c| c.checkpoint == k.id))
        .map(|k| json!({"checkpoint": k.id, "name": k.name, "grid": k.grid}))
        .collect();
    #[allow(clippy::cast_precision_loss)] // milliseconds of a shift fit an f64 exactly
    let duration_s =
        (patrol.ended_at.unwrap_or(now) - patrol.started_at).num_milliseconds() as f64 / 1000.0;
    let cells: Vec<String> = summary.cells.iter().map(ToString::to_string).collect();
    let mut body = json!(patrol);
    body["report"] = json!({
        "distance_m": summary.distance_m,
        "duration_s": duration_s,
        "fixes": summary.fixes,
        "cells_visited": cells.len(),
        "cells": cells,
        "grids_visited": summary.grids,
        "checkpoints_hit": hit,
        "checkpoints_missed": missed,
    });
    Ok(Json(body))
}

/// A checkpoint to create. Degrees (EPSG:4326); radius in meters.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCheckpoint {
    #[schema(minimum = -90.0, maximum = 90.0)]
    lat: f64,
    #[schema(minimum = -180.0, maximum = 180.0)]
    lon: f64,
    #[schema(minimum = 1.0, maximum = 500.0)]
    radius_m: f64,
    name: String,
    /// Defaults to the grid the point lies in.
    grid: Option<GridId>,
}

#[utoipa::path(post, path = "/api/checkpoints", tag = "patrols", request_body = CreateCheckpoint,
    responses((status = 201, body = patrol::Checkpoint), (status = 403), (status = 404), (status = 422)),
    security(("bearer" = [])))]
pub async fn create_checkpoint(
    State(state): State<AppState>,
    auth: Auth,
    AppJson(body): AppJson<CreateCheckpoint>,
) -> Result<(StatusCode, Json<patrol::Checkpoint>), ApiError> {
    auth.require(Permission::ManageCheckpoints)?;
    if !(body.lat.is_finite() && (-90.0..=90.0).contains(&body.lat)) {
        return Err(ApiError::invalid(format!(
            "lat {} is not a latitude in -90..90",
            body.lat
        )));
    }
    if !(body.lon.is_finite() && (-180.0..=180.0).contains(&body.lon)) {
        return Err(ApiError::invalid(format!(
            "lon {} is not a longitude in -180..180",
            body.lon
        )));
    }
    if !CHECKPOINT_RADIUS_M.contains(&body.radius_m) {
        return Err(ApiError::invalid(format!(
            "radius_m {} is out of 1..=500",
            body.radius_m
        )));
    }
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ApiError::invalid("name must have 1 to 200 characters"));
    }
    let new = {
        let world = state.world();
        let visibility = world.visibility(&auth.0);
        let grid = match body.grid {
            Some(id) => Some(visible_grid(&world, &visibility, id)?.id),
            None => crate::patrols::grid_of(&world, body.lat, body.lon),
        };
        if let Some(grid) = grid {
            visible_grid(&world, &visibility, grid)?;
        }
        NewCheckpoint {
            name: name.to_owned(),
            lat: body.lat,
            lon: body.lon,
            radius_m: body.radius_m,
            grid,
        }
    };
    let checkpoint = state.patrols().create_checkpoint(new).await?;
    Ok((StatusCode::CREATED, Json(checkpoint)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CheckpointQuery {
    /// Only this grid's checkpoints.
    #[param(inline)]
    grid: Option<GridId>,
}

#[utoipa::path(get, path = "/api/checkpoints", tag = "patrols", params(CheckpointQuery),
    responses((status = 200, body = Vec<patrol::Checkpoint>), (status = 403), (status = 404)), security(("bearer" = [])))]
pub async fn checkpoints(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(query): AppQuery<CheckpointQuery>,
) -> Result<Json<Vec<patrol::Checkpoint>>, ApiError> {
    auth.require(Permission::ReadPatrols)?;
    if let Some(grid) = query.grid {
        let world = state.world();
        visible_grid(&world, &world.visibility(&auth.0), grid)?;
    }
    let all: Vec<patrol::Checkpoint> = state
        .patrols()
        .book()
        .await?
        .checkpoints()
        .cloned()
        .collect();
    let world = state.world();
    let visibility = world.visibility(&auth.0);
    Ok(Json(
        all.into_iter()
            .filter(|k| query.grid.is_none_or(|g| k.grid == Some(g)))
            .filter(|k| k.grid.is_none_or(|g| visibility.grid(g)))
            .collect(),
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CoverageQuery {
    /// Hours back from now, 1 to 720; 24 by default.
    #[param(minimum = 1, maximum = 720)]
    window_h: Option<u32>,
    /// Also list the last patrol visit of each visited cell of the grid (any time).
    #[serde(default)]
    cells: bool,
}

#[utoipa::path(get, path = "/api/grids/{id}/coverage", tag = "patrols", params(("id" = i64, Path), CoverageQuery),
    responses((status = 200, body = patrol::Coverage, description = "with `cameras: {covered_cells, total_cells, covered_share, cameras, blind_spots, blind_spots_outline}` (online cameras; a cell counts when its centre is in a sector) and `last_visits: [{cell, at}]` when `cells=true`"),
        (status = 400), (status = 403), (status = 404), (status = 422)),
    security(("bearer" = [])))]
pub async fn coverage(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<i64>,
    AppQuery(query): AppQuery<CoverageQuery>,
) -> Result<Json<Value>, ApiError> {
    auth.require(Permission::ReadPatrols)?;
    let window_h = query.window_h.unwrap_or(24);
    if !(1..=MAX_WINDOW_H).contains(&window_h) {
        return Err(ApiError::invalid(format!(
            "window_h {window_h} is out of 1..={MAX_WINDOW_H}"
        )));
    }
    let (cells, cameras) = {
        let world = state.world();
        let cells = visible_grid(&world, &world.visibility(&auth.0), GridId(id))?
            .cells
            .clone();
        let cameras = super::cameras::grid_coverage(&world, &cells);
        (cells, cameras)
    };
    let book = state.patrols().book().await?;
    let mut body = json!(patrol::coverage(
        GridId(id),
        &cells,
        |c| book.last_visit(c),
        state.now(),
        window_h
    ));
    body["cameras"] = cameras;
    if query.cells {
        let mut visits: Vec<(String, DateTime<Utc>)> = cells
            .iter()
            .filter_map(|&c| book.last_visit(c).map(|at| (c.to_string(), at)))
            .collect();
        visits.sort();
        body["last_visits"] = visits
            .into_iter()
            .map(|(cell, at)| json!({"cell": cell, "at": at}))
            .collect();
    }
    Ok(Json(body))
}
