//! `GET /api/locate?lat&lon` and `POST /api/locate` (a batch of up to 100,000 `[lon, lat]` pairs).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::{AppJson, AppQuery};
use crate::auth::Auth;
use crate::domain::Permission;
use crate::domain::{GridId, RegionId};
use crate::error::ApiError;
use crate::state::AppState;
use crate::world::{Location, World};

/// Most points one batch may carry.
pub const MAX_BATCH_POINTS: usize = 100_000;

/// A point to locate, degrees (EPSG:4326).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LocateQuery {
    #[param(minimum = -90.0, maximum = 90.0)]
    lat: f64,
    #[param(minimum = -180.0, maximum = 180.0)]
    lon: f64,
}

/// Where a point is: its H3 cell and the grid and regions responsible for it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Located {
    /// H3 cell at the deployment's resolution, as the standard hex string.
    cell: String,
    grid_id: Option<GridId>,
    grid_code: Option<String>,
    community_id: Option<RegionId>,
    street_id: Option<RegionId>,
    district_id: Option<RegionId>,
    /// True when the point is in no grid and the nearest grid is given instead.
    outside: bool,
    /// For an outside point: meters to the nearest grid's edge.
    #[serde(skip_serializing_if = "Option::is_none")]
    distance_m: Option<f64>,
}

impl Located {
    fn new(world: &World, location: Location) -> Self {
        let links = location.links;
        Self {
            cell: location.cell.to_string(),
            grid_id: links.map(|l| l.grid),
            grid_code: links
                .and_then(|l| world.grid(l.grid))
                .map(|g| g.code.clone()),
            community_id: links.map(|l| l.community),
            street_id: links.and_then(|l| l.street),
            district_id: links.and_then(|l| l.district),
            outside: location.outside,
            distance_m: location.distance_m.map(|d| (d * 10.0).round() / 10.0),
        }
    }
}

#[utoipa::path(get, path = "/api/locate", tag = "locate", params(LocateQuery),
    responses((status = 200, body = Located), (status = 400, description = "coordinate out of range"), (status = 403)),
    security(("bearer" = [])))]
pub async fn locate_one(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(query): AppQuery<LocateQuery>,
) -> Result<Json<Located>, ApiError> {
    auth.require(Permission::ReadMap)?;
    let world = state.world();
    let location = world.locate(query.lat, query.lon)?;
    metrics::counter!("gridwatch_locate_points_total").increment(1);
    Ok(Json(Located::new(&world, location)))
}

/// A batch: either a bare array of `[lon, lat]` pairs or `{"points": [...]}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum LocateBatch {
    Points(Vec<[f64; 2]>),
    Wrapped { points: Vec<[f64; 2]> },
}

/// Results in the order of the points.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LocatedBatch {
    results: Vec<Located>,
}

#[utoipa::path(post, path = "/api/locate", tag = "locate", request_body = LocateBatch,
    responses((status = 200, body = LocatedBatch), (status = 403),
        (status = 400, description = "malformed JSON, or a point out of range (`index` names it)"),
        (status = 413, description = "body over 8 MiB"),
        (status = 422, description = "not a batch of `[lon, lat]` pairs, or more than 100,000 points")),
    security(("bearer" = [])))]
pub async fn locate_batch(
    State(state): State<AppState>,
    auth: Auth,
    AppJson(batch): AppJson<LocateBatch>,
) -> Result<Json<LocatedBatch>, ApiError> {
    auth.require(Permission::ReadMap)?;
    let points = match batch {
        LocateBatch::Points(p) | LocateBatch::Wrapped { points: p } => p,
    };
    if points.len() > MAX_BATCH_POINTS {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "too-many-points",
            format!(
                "{} points; a batch takes at most {MAX_BATCH_POINTS}",
                points.len()
            ),
        ));
    }
    let world = state.world();
    let results = points
        .iter()
        .enumerate()
        .map(|(i, &[lon, lat])| {
            world
                .locate(lat, lon)
                .map(|location| Located::new(&world, location))
                .map_err(|e| ApiError::from(e).with("index", i))
        })
        .collect::<Result<Vec<_>, _>>()?;
    metrics::counter!("gridwatch_locate_points_total").increment(results.len() as u64);
    Ok(Json(LocatedBatch { results }))
}
