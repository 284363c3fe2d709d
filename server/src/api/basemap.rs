//! `GET /api/basemap`: the base map's roads, railways, waterways, water and parks in a bbox, as GeoJSON.
//!
//! The same features the `basemap` tile set draws, unclipped, for a web map that wants vectors without
//! tiles and for tests that check the tiles against their source. Read-only: only a city import writes
//! the base map. Any signed-in caller may read it, as the `basemap` tiles.

use axum::Json;
use axum::extract::State;
use geojson::GeometryValue;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::AppQuery;
use super::geo_json::{self, Bbox};
use crate::auth::Auth;
use crate::domain::BaseFeature;
use crate::domain::Permission;
use crate::error::ApiError;
use crate::state::AppState;

/// Features per layer in one answer; a city's base map is a few thousand lines.
const LIMIT: usize = 50_000;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BasemapQuery {
    /// `minLon,minLat,maxLon,maxLat`, degrees (EPSG:4326). Required.
    #[param(
        pattern = r"^\s*-?[0-9.]+\s*(,\s*-?[0-9.]+\s*){3}$",
        example = "113.0,36.0,113.01,36.01"
    )]
    bbox: String,
}

/// `layer` is `line` or `area`; `n` (the feature id) is its position in the answer.
fn to_feature<G>(n: usize, layer: &str, feature: &BaseFeature<G>) -> Value
where
    for<'a> GeometryValue: From<&'a G>,
{
    let mut p = Map::new();
    p.insert("layer".into(), json!(layer));
    p.insert("kind".into(), json!(feature.kind));
    p.insert("name".into(), json!(feature.name));
    let geometry = Value::from(&GeometryValue::from(&feature.geometry));
    geo_json::feature(i64::try_from(n).unwrap_or(i64::MAX), Some(geometry), p)
}

#[utoipa::path(get, path = "/api/basemap", tag = "basemap", params(BasemapQuery),
    responses((status = 403), (status = 200, description = "GeoJSON FeatureCollection of the lines (`layer: line`) and areas \
        (`layer: area`) whose bounding box meets `bbox`, degrees (EPSG:4326, lon/lat order); `truncated` is \
        true when the limit cut it", body = super::geo_json::CollectionShape), (status = 400), (status = 401)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(query): AppQuery<BasemapQuery>,
) -> Result<Json<Value>, ApiError> {
    auth.require(Permission::ReadMap)?;
    let bbox = Bbox::parse(&query.bbox)?.0;
    let world = state.world();
    let lines: Vec<_> = world.base_lines_in_bbox(bbox).take(LIMIT + 1).collect();
    let areas: Vec<_> = world.base_areas_in_bbox(bbox).take(LIMIT + 1).collect();
    let truncated = lines.len() > LIMIT || areas.len() > LIMIT;
    let line_count = lines.len().min(LIMIT);
    let features = lines
        .into_iter()
        .take(LIMIT)
        .enumerate()
        .map(|(n, l)| to_feature(n, "line", l))
        .chain(
            areas
                .into_iter()
                .take(LIMIT)
                .enumerate()
                .map(|(n, a)| to_feature(line_count + n, "area", a)),
        )
        .collect();
    let mut body = geo_json::collection(features);
    body["truncated"] = json!(truncated);
    Ok(Json(body))
}
