//! `/api/grids`: grids as GeoJSON, with their households and responsible workers.

use std::collections::HashMap;

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::geo_json::{self, Bbox};
use super::{AppPath, AppQuery, visible_grid};
use crate::auth::Auth;
use crate::domain::Permission;
use crate::domain::{Grid, GridId, RegionId, Responsibility, WorkerId};
use crate::error::ApiError;
use crate::state::AppState;
use crate::world::World;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GridQuery {
    /// `minLon,minLat,maxLon,maxLat`, degrees.
    #[param(
        pattern = r"^\s*-?[0-9.]+\s*(,\s*-?[0-9.]+\s*){3}$",
        example = "113.0,36.0,113.01,36.01"
    )]
    bbox: Option<String>,
    /// Only grids of this community.
    #[param(inline)]
    community: Option<RegionId>,
    /// Include each grid's H3 cells.
    #[serde(default)]
    cells: bool,
}

#[derive(Default)]
struct Duty {
    primary: Option<WorkerId>,
    backups: Vec<WorkerId>,
}

fn duties(world: &World) -> HashMap<GridId, Duty> {
    let mut map: HashMap<GridId, Duty> = HashMap::new();
    for worker in world.workers() {
        for d in &worker.grids {
            let entry = map.entry(d.grid_id).or_default();
            match d.responsibility {
                Responsibility::Primary => entry.primary = Some(worker.id),
                Responsibility::Backup => entry.backups.push(worker.id),
            }
        }
    }
    map
}

fn to_feature(world: &World, grid: &Grid, duty: Option<&Duty>, with_cells: bool) -> Value {
    let links = world.grid_links(grid.id);
    let mut p = Map::new();
    p.insert("id".into(), json!(grid.id));
    p.insert("code".into(), json!(grid.code));
    p.insert("name".into(), json!(grid.name));
    p.insert("community_id".into(), json!(grid.community));
    p.insert("street_id".into(), json!(links.and_then(|l| l.street)));
    p.insert("district_id".into(), json!(links.and_then(|l| l.district)));
    p.insert("households".into(), json!(grid.households));
    p.insert("building_count".into(), json!(grid.building_count));
    p.insert("cell_count".into(), json!(grid.cells.len()));
    p.insert("flag".into(), json!(grid.flag));
    p.insert(
        "primary_worker_id".into(),
        json!(duty.and_then(|d| d.primary)),
    );
    p.insert(
        "backup_worker_ids".into(),
        json!(duty.map_or(&[][..], |d| &d.backups[..])),
    );
    if with_cells {
        let cells: Vec<String> = grid.cells.iter().map(ToString::to_string).collect();
        p.insert("cells".into(), json!(cells));
    }
    geo_json::feature(grid.id.0, Some(geo_json::multipolygon(&grid.boundary)), p)
}

#[utoipa::path(get, path = "/api/grids", tag = "grids", params(GridQuery),
    responses((status = 200, description = "GeoJSON FeatureCollection of grids", body = super::geo_json::CollectionShape), (status = 403),
        (status = 404, description = "no such community")), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    Auth(principal): Auth,
    AppQuery(query): AppQuery<GridQuery>,
) -> Result<Json<Value>, ApiError> {
    Auth::permit(&principal, Permission::ReadMap)?;
    let bbox = Bbox::parse_opt(query.bbox.as_deref())?;
    let world = state.world();
    if let Some(community) = query.community {
        world
            .region(community)
            .ok_or_else(|| ApiError::not_found(format!("community {community}")))?;
    }
    let visibility = world.visibility(&principal);
    let duties = duties(&world);
    let features = world
        .grids()
        .filter(|g| visibility.grid(g.id))
        // A grid emptied by a boundary change keeps its row for history, but is no longer on the map.
        .filter(|g| !g.cells.is_empty())
        .filter(|g| query.community.is_none_or(|c| c == g.community))
        .filter(|g| bbox.is_none_or(|b| b.meets(&g.boundary)))
        .map(|g| to_feature(&world, g, duties.get(&g.id), query.cells))
        .collect();
    Ok(Json(geo_json::collection(features)))
}

#[utoipa::path(get, path = "/api/grids/{id}", tag = "grids", params(("id" = i64, Path)),
    responses((status = 200, description = "GeoJSON Feature with cells", body = super::geo_json::FeatureShape), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn one(
    State(state): State<AppState>,
    Auth(principal): Auth,
    AppPath(id): AppPath<i64>,
) -> Result<Json<Value>, ApiError> {
    Auth::permit(&principal, Permission::ReadMap)?;
    let world = state.world();
    let grid = visible_grid(&world, &world.visibility(&principal), GridId(id))?;
    let duties = duties(&world);
    Ok(Json(to_feature(&world, grid, duties.get(&grid.id), true)))
}
