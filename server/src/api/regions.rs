//! `/api/regions`: districts, streets and communities as GeoJSON; new ones through `admin::regions`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use rustc_hash::FxHashSet;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::geo_json::{self, Bbox};
use super::{AppJson, AppPath, AppQuery};
use crate::auth::Auth;
use crate::domain::Permission;
use crate::domain::{Region, RegionId, RegionLevel};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::NewRegion;
use crate::world::{Visibility, World};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RegionQuery {
    /// `minLon,minLat,maxLon,maxLat`, degrees.
    #[param(
        pattern = r"^\s*-?[0-9.]+\s*(,\s*-?[0-9.]+\s*){3}$",
        example = "113.0,36.0,113.01,36.01"
    )]
    bbox: Option<String>,
    #[param(inline)]
    level: Option<RegionLevel>,
}

fn properties(region: &Region) -> Map<String, Value> {
    let mut p = Map::new();
    p.insert("id".into(), json!(region.id));
    p.insert("level".into(), json!(region.level));
    p.insert("code".into(), json!(region.code));
    p.insert("name".into(), json!(region.name));
    p.insert("parent_id".into(), json!(region.parent));
    p
}

fn to_feature(region: &Region) -> Value {
    geo_json::feature(
        region.id.0,
        Some(geo_json::multipolygon(&region.boundary)),
        properties(region),
    )
}

/// Regions a caller may see: all, or those above (or inside) one of their visible grids.
fn visible_regions(world: &World, visibility: &Visibility) -> Option<FxHashSet<RegionId>> {
    let Visibility::Grids(grids) = visibility else {
        return None;
    };
    let mut set = FxHashSet::default();
    for links in grids.iter().filter_map(|&g| world.grid_links(g)) {
        set.insert(links.community);
        set.extend(links.street);
        set.extend(links.district);
    }
    Some(set)
}

#[utoipa::path(get, path = "/api/regions", tag = "regions", params(RegionQuery),
    responses((status = 200, description = "GeoJSON FeatureCollection of regions", body = super::geo_json::CollectionShape), (status = 403)), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    Auth(principal): Auth,
    AppQuery(query): AppQuery<RegionQuery>,
) -> Result<Json<Value>, ApiError> {
    Auth::permit(&principal, Permission::ReadMap)?;
    let bbox = Bbox::parse_opt(query.bbox.as_deref())?;
    let world = state.world();
    let allowed = visible_regions(&world, &world.visibility(&principal));
    let features = world
        .regions()
        .filter(|r| allowed.as_ref().is_none_or(|a| a.contains(&r.id)))
        .filter(|r| query.level.is_none_or(|l| l == r.level))
        .filter(|r| bbox.is_none_or(|b| b.meets(&r.boundary)))
        .map(to_feature)
        .collect();
    Ok(Json(geo_json::collection(features)))
}

#[utoipa::path(get, path = "/api/regions/{id}", tag = "regions", params(("id" = i64, Path)),
    responses((status = 200, description = "GeoJSON Feature", body = super::geo_json::FeatureShape), (status = 404),
        (status = 403)), security(("bearer" = [])))]
pub async fn one(
    State(state): State<AppState>,
    Auth(principal): Auth,
    AppPath(id): AppPath<i64>,
) -> Result<Json<Value>, ApiError> {
    Auth::permit(&principal, Permission::ReadMap)?;
    let world = state.world();
    let region = world
        .region(RegionId(id))
        .ok_or_else(|| ApiError::not_found(format!("region {id}")))?;
    let allowed = visible_regions(&world, &world.visibility(&principal));
    if allowed.is_some_and(|a| !a.contains(&region.id)) {
        return Err(ApiError::forbidden(format!(
            "region {id} is outside your scope"
        )));
    }
    Ok(Json(to_feature(region)))
}

/// Properties of a region to create.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewRegionProperties {
    level: RegionLevel,
    code: String,
    name: String,
    parent_id: Option<RegionId>,
}

#[utoipa::path(post, path = "/api/regions", tag = "regions",
    request_body(content = Value, description = "GeoJSON Feature: Polygon or MultiPolygon with properties level, code, name, parent_id"),
    responses((status = 201, description = "the created region", body = super::geo_json::FeatureShape), (status = 409), (status = 422),
        (status = 403),
        (status = 404, description = "no such parent region"),
        (status = 503, description = "busy checking other areas; nothing was done, send again")),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    AppJson(body): AppJson<Value>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    auth.require(Permission::CreateRegions)?;
    let (boundary, properties) = geo_json::area_feature(&body).await?;
    let props: NewRegionProperties = serde_json::from_value(Value::Object(properties))
        .map_err(|e| ApiError::invalid(format!("properties: {e}")))?;
    let new = NewRegion {
        level: props.level,
        code: props.code,
        name: props.name,
        boundary,
    };
    let region = crate::admin::regions::create(state.core(), &auth.0, new, props.parent_id).await?;
    Ok((StatusCode::CREATED, Json(to_feature(&region))))
}
