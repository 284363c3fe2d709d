//! `/api/buildings`: building footprints with household counts. Counts and flags only, never residents.
//! New ones through `admin::buildings`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::geo_json::{self, Bbox};
use super::{AppJson, AppPath, AppQuery, visible_grid};
use crate::auth::Auth;
use crate::domain::Permission;
use crate::domain::{Building, BuildingId, GridId};
use crate::error::ApiError;
use crate::state::AppState;

const DEFAULT_LIMIT: usize = 10_000;
const MAX_LIMIT: usize = 100_000;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BuildingQuery {
    /// `minLon,minLat,maxLon,maxLat`, degrees.
    #[param(
        pattern = r"^\s*-?[0-9.]+\s*(,\s*-?[0-9.]+\s*){3}$",
        example = "113.0,36.0,113.01,36.01"
    )]
    bbox: Option<String>,
    /// Only buildings of this grid.
    #[param(inline)]
    grid: Option<GridId>,
    /// At most this many features (default 10,000, at most 100,000).
    #[param(minimum = 1, maximum = 100_000)]
    limit: Option<usize>,
}

fn to_feature(building: &Building) -> Value {
    let mut p = Map::new();
    p.insert("id".into(), json!(building.id));
    p.insert("source_id".into(), json!(building.source_id));
    p.insert("kind".into(), json!(building.kind));
    p.insert("levels".into(), json!(building.levels));
    p.insert("households".into(), json!(building.households));
    p.insert("grid_id".into(), json!(building.grid));
    p.insert("cell".into(), json!(building.cell.to_string()));
    geo_json::feature(
        building.id.0,
        Some(geo_json::multipolygon(&building.footprint)),
        p,
    )
}

#[utoipa::path(get, path = "/api/buildings", tag = "buildings", params(BuildingQuery),
    responses((status = 200, description = "GeoJSON FeatureCollection; `truncated` is true when limit cut it", body = super::geo_json::CollectionShape),
        (status = 403),
        (status = 404, description = "no such grid"),
        (status = 422, description = "limit out of range")), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(query): AppQuery<BuildingQuery>,
) -> Result<Json<Value>, ApiError> {
    auth.require(Permission::ReadBuildings)?;
    let bbox = Bbox::parse_opt(query.bbox.as_deref())?;
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(ApiError::invalid(format!("limit must be 1..={MAX_LIMIT}")));
    }
    let world = state.world();
    let visibility = world.visibility(&auth.0);
    if let Some(grid) = query.grid {
        visible_grid(&world, &visibility, grid)?;
    }
    let selected: Box<dyn Iterator<Item = &Building>> = match bbox {
        Some(b) => Box::new(world.buildings_in_bbox(b.0)),
        None => Box::new(world.buildings()),
    };
    let mut features: Vec<Value> = selected
        .filter(|b| b.grid.is_some_and(|g| visibility.grid(g)))
        .filter(|b| query.grid.is_none_or(|g| b.grid == Some(g)))
        .take(limit + 1)
        .map(to_feature)
        .collect();
    let truncated = features.len() > limit;
    features.truncate(limit);
    let mut body = geo_json::collection(features);
    body["truncated"] = json!(truncated);
    Ok(Json(body))
}

#[utoipa::path(get, path = "/api/buildings/{id}", tag = "buildings", params(("id" = i64, Path)),
    responses((status = 200, description = "GeoJSON Feature", body = super::geo_json::FeatureShape), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn one(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<i64>,
) -> Result<Json<Value>, ApiError> {
    auth.require(Permission::ReadBuildings)?;
    let world = state.world();
    let building = world
        .building(BuildingId(id))
        .ok_or_else(|| ApiError::not_found(format!("building {id}")))?;
    if !building
        .grid
        .is_some_and(|g| world.visibility(&auth.0).grid(g))
    {
        return Err(ApiError::forbidden(format!(
            "building {id} is outside your scope"
        )));
    }
    Ok(Json(to_feature(building)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewBuildingProperties {
    households: u32,
    #[serde(default = "residential")]
    kind: String,
    levels: Option<u32>,
    source_id: Option<String>,
}

fn residential() -> String {
    "residential".to_owned()
}

#[utoipa::path(post, path = "/api/buildings", tag = "buildings",
    request_body(content = Value, description = "GeoJSON Feature: footprint Polygon/MultiPolygon with properties households, kind, levels, source_id"),
    responses((status = 201, description = "the created building", body = super::geo_json::FeatureShape), (status = 422),
        (status = 403), (status = 503, description = "busy checking other areas; nothing was done, send again")),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    AppJson(body): AppJson<Value>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    auth.require(Permission::EditBuildings)?;
    let (footprint, properties) = geo_json::area_feature(&body).await?;
    let props: NewBuildingProperties = serde_json::from_value(Value::Object(properties))
        .map_err(|e| ApiError::invalid(format!("properties: {e}")))?;
    if props.kind.trim().is_empty() || props.kind.len() > 64 {
        return Err(ApiError::invalid("kind must have 1 to 64 characters"));
    }
    let building = crate::admin::buildings::create(
        state.core(),
        &auth.0,
        crate::admin::buildings::Footprint {
            footprint,
            kind: props.kind,
            levels: props.levels,
            households: props.households,
            source_id: props.source_id,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(to_feature(&building))))
}
