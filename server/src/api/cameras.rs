//! `/api/cameras` (视频监控点): create, import, list (`covers=lat,lon`: the cameras that see a point,
//! nearest first), read, change, delete; `/api/incidents/{id}/cameras` (the cameras that see a case);
//! `POST /api/cameras/{id}/alerts` (a camera's alert webhook: a case with source `camera`); and the
//! `cameras` part of `/api/grids/{id}/coverage` ([`grid_coverage`]).
//!
//! Cameras are GeoJSON Features with a Point geometry (lon/lat); the view sector is the `sector`
//! property, a GeoJSON Polygon in degrees. Changes go through `crate::cameras`; reads come from the world.
//! Cameras are city infrastructure, not a grid's: every reader sees them all, whatever its scope.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use geojson::GeometryValue;
use h3o::CellIndex;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::incidents::to_feature as incident_feature;
use super::{AppJson, AppPath, AppQuery, geo_json};
use crate::auth::Auth;
use crate::cases::{self, Report, actions};
use crate::domain::Permission;
use crate::domain::camera::{CameraKind, CameraStatus, NewCamera};
use crate::domain::incident::{Priority, Source};
use crate::domain::{CameraId, IncidentId};
use crate::error::ApiError;
use crate::state::AppState;
use crate::world::{PlacedCamera, World};

/// Most features in one import (about 1 MB of GeoJSON, the body limit, holds fewer).
const MAX_IMPORT: usize = 5000;

/// A camera: `{name, lat, lon, heading_deg, fov_deg, range_m, kind, status}`, or a GeoJSON Feature with
/// a Point geometry and the other fields as properties. Degrees (EPSG:4326); heading clockwise from
/// north in [0, 360) (default 0); field of view in [1, 360] (a PTZ camera defaults to 360); range in
/// meters, (0, 2000].
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCamera {
    name: String,
    #[schema(minimum = -90.0, maximum = 90.0)]
    lat: f64,
    #[schema(minimum = -180.0, maximum = 180.0)]
    lon: f64,
    #[schema(minimum = 0.0, exclusive_maximum = 360.0)]
    heading_deg: Option<f64>,
    #[schema(minimum = 1.0, maximum = 360.0)]
    fov_deg: Option<f64>,
    #[schema(exclusive_minimum = 0.0, maximum = 2000.0)]
    range_m: f64,
    /// Default `fixed`.
    kind: Option<CameraKind>,
    /// Default `online`.
    status: Option<CameraStatus>,
}

/// Reads one camera from a flat object or a Feature and checks it.
fn parse_camera(body: Value) -> Result<NewCamera, ApiError> {
    let body: CreateCamera = serde_json::from_value(flatten_feature(body)?)
        .map_err(|e| ApiError::invalid(format!("invalid camera: {e}")))?;
    let kind = body.kind.unwrap_or(CameraKind::Fixed);
    let fov_deg = match (body.fov_deg, kind) {
        (Some(fov), _) => fov,
        (None, CameraKind::Ptz) => 360.0,
        (None, CameraKind::Fixed) => {
            return Err(ApiError::invalid("fov_deg is required for a fixed camera")
                .with("field", "fov_deg"));
        }
    };
    let new = NewCamera {
        name: body.name,
        lat: body.lat,
        lon: body.lon,
        heading_deg: body.heading_deg.unwrap_or(0.0),
        fov_deg,
        range_m: body.range_m,
        kind,
        status: body.status.unwrap_or(CameraStatus::Online),
    };
    checked(new)
}

fn checked(new: NewCamera) -> Result<NewCamera, ApiError> {
    new.checked()
        .map_err(|e| ApiError::invalid(e.to_string()).with("field", e.field))
}

/// Lifts a Feature's Point into `lat`/`lon` beside its properties; anything else passes unchanged.
fn flatten_feature(body: Value) -> Result<Value, ApiError> {
    if body.get("type").and_then(Value::as_str) != Some("Feature") {
        return Ok(body);
    }
    let geometry = body
        .get("geometry")
        .ok_or_else(|| ApiError::invalid("a Feature needs a geometry"))?;
    if geometry.get("type").and_then(Value::as_str) != Some("Point") {
        return Err(ApiError::geometry("a camera's geometry must be a Point"));
    }
    let position = geo_json::position(geometry.get("coordinates").unwrap_or(&Value::Null))?;
    let mut flat = match body.get("properties") {
        Some(Value::Object(p)) => p.clone(),
        Some(Value::Null) | None => Map::new(),
        Some(_) => return Err(ApiError::invalid("properties must be an object")),
    };
    // An `id` in the properties of an exported camera is not an input.
    flat.remove("id");
    flat.insert("lat".into(), json!(position.y));
    flat.insert("lon".into(), json!(position.x));
    Ok(Value::Object(flat))
}

/// A camera as a GeoJSON Feature: its parameters, its `sector` (GeoJSON Polygon, degrees), how many
/// cells it covers and, with `cells`, which.
#[must_use]
pub fn feature(placed: &PlacedCamera, cells: bool, distance_m: Option<f64>) -> Value {
    let c = &placed.camera;
    let mut p = Map::new();
    p.insert("id".into(), json!(c.id));
    p.insert("name".into(), json!(c.name));
    p.insert("lat".into(), json!(c.lat));
    p.insert("lon".into(), json!(c.lon));
    p.insert("heading_deg".into(), json!(c.heading_deg));
    p.insert("fov_deg".into(), json!(c.fov_deg));
    p.insert("range_m".into(), json!(c.range_m));
    p.insert("kind".into(), json!(c.kind));
    p.insert("status".into(), json!(c.status));
    p.insert(
        "sector".into(),
        Value::from(&GeometryValue::from(&placed.sector)),
    );
    p.insert("cell_count".into(), json!(placed.cells.len()));
    if cells {
        p.insert(
            "cells".into(),
            placed.cells.iter().map(ToString::to_string).collect(),
        );
    }
    if let Some(d) = distance_m {
        p.insert("distance_m".into(), json!(d));
    }
    let point = json!({"type": "Point", "coordinates": [c.lon, c.lat]});
    geo_json::feature(c.id.0, Some(point), p)
}

fn placed(world: &World, id: i64) -> Result<&PlacedCamera, ApiError> {
    world
        .camera(CameraId(id))
        .ok_or_else(|| ApiError::not_found(format!("camera {id}")))
}

#[utoipa::path(post, path = "/api/cameras", tag = "cameras", request_body = CreateCamera,
    responses((status = 201, description = "the camera as a GeoJSON Feature, with its sector", body = super::geo_json::FeatureShape), (status = 400),
        (status = 403), (status = 422)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    AppJson(body): AppJson<Value>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    auth.require(Permission::ManageCameras)?;
    let new = parse_camera(body)?;
    let camera = crate::cameras::create(state.core(), &auth.0, vec![new])
        .await?
        .remove(0);
    let world = state.world();
    Ok((
        StatusCode::CREATED,
        Json(feature(placed(&world, camera.id.0)?, true, None)),
    ))
}

#[utoipa::path(post, path = "/api/cameras/import", tag = "cameras",
    request_body(content = Object, description = "a GeoJSON FeatureCollection of Point features whose properties are a camera's fields"),
    responses((status = 201, description = "`{created, ids}`"),
        (status = 422, description = "nothing stored; `errors: [{index, detail, field?}]` names every refused feature"),
        (status = 403)),
    security(("bearer" = [])))]
pub async fn import(
    State(state): State<AppState>,
    auth: Auth,
    AppJson(body): AppJson<Value>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    auth.require(Permission::ManageCameras)?;
    if body.get("type").and_then(Value::as_str) != Some("FeatureCollection") {
        return Err(ApiError::invalid(
            "the body must be a GeoJSON FeatureCollection",
        ));
    }
    let Some(features) = body.get("features").and_then(Value::as_array) else {
        return Err(ApiError::invalid(
            "a FeatureCollection needs a features array",
        ));
    };
    if features.is_empty() || features.len() > MAX_IMPORT {
        return Err(ApiError::invalid(format!(
            "an import takes 1..={MAX_IMPORT} features, not {}",
            features.len()
        )));
    }
    let mut cameras = Vec::with_capacity(features.len());
    let mut errors = Vec::new();
    for (index, f) in features.iter().enumerate() {
        let parsed = if f.get("type").and_then(Value::as_str) == Some("Feature") {
            parse_camera(f.clone())
        } else {
            Err(ApiError::invalid("not a GeoJSON Feature"))
        };
        match parsed {
            Ok(camera) => cameras.push(camera),
            Err(e) => {
                let mut error = json!({"index": index, "detail": e.detail});
                if let Some(field) = e.extra.get("field") {
                    error["field"] = field.clone();
                }
                errors.push(error);
            }
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::invalid(format!(
            "{} of {} features refused; nothing was stored",
            errors.len(),
            features.len()
        ))
        .with("errors", errors));
    }
    let stored = crate::cameras::create(state.core(), &auth.0, cameras).await?;
    let ids: Vec<CameraId> = stored.iter().map(|c| c.id).collect();
    Ok((
        StatusCode::CREATED,
        Json(json!({"created": ids.len(), "ids": ids})),
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CameraQuery {
    /// `minLon,minLat,maxLon,maxLat`, degrees: cameras whose position lies in the box.
    #[param(
        pattern = r"^\s*-?[0-9.]+\s*(,\s*-?[0-9.]+\s*){3}$",
        example = "113.0,36.0,113.01,36.01"
    )]
    bbox: Option<String>,
    /// `lat,lon`, degrees: only cameras whose sector contains the point, nearest first, with `distance_m`.
    covers: Option<String>,
    /// Only `online` or `offline` cameras.
    #[param(inline)]
    status: Option<CameraStatus>,
    /// Also list each camera's covered cells.
    #[serde(default)]
    cells: bool,
}

/// Parses `lat,lon` (degrees): two finite numbers in range.
fn parse_point(text: &str) -> Result<(f64, f64), ApiError> {
    let bad = |why: &str| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid-covers",
            format!("covers {text:?}: {why}; expected lat,lon in degrees"),
        )
    };
    let parts: Vec<f64> = text
        .split(',')
        .map(|p| p.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| bad("not two numbers"))?;
    let [lat, lon] = parts[..] else {
        return Err(bad("not two numbers"));
    };
    crate::world::locate::checked_latlng(lat, lon)?;
    Ok((lat, lon))
}

#[utoipa::path(get, path = "/api/cameras", tag = "cameras", params(CameraQuery),
    responses((status = 200, description = "GeoJSON FeatureCollection; with `covers`, nearest first and each with `distance_m`", body = super::geo_json::CollectionShape),
        (status = 400), (status = 403)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(q): AppQuery<CameraQuery>,
) -> Result<Json<Value>, ApiError> {
    auth.require(Permission::ReadCameras)?;
    let bbox = geo_json::Bbox::parse_opt(q.bbox.as_deref())?;
    let covers = q.covers.as_deref().map(parse_point).transpose()?;
    let world = state.world();
    let visibility = world.visibility(&auth.0);
    let found: Vec<(&PlacedCamera, Option<f64>)> = match covers {
        Some((lat, lon)) => world
            .cameras_covering(lat, lon)
            .into_iter()
            .map(|(c, d)| (c, Some(d)))
            .collect(),
        None => world.cameras().map(|c| (c, None)).collect(),
    };
    let features = found
        .into_iter()
        .filter(|(c, _)| world.point_visible(&visibility, c.camera.lat, c.camera.lon))
        .filter(|(c, _)| q.status.is_none_or(|s| c.camera.status == s))
        .filter(|(c, _)| {
            bbox.is_none_or(|b| {
                let [min_lon, min_lat, max_lon, max_lat] = b.0;
                (min_lon..=max_lon).contains(&c.camera.lon)
                    && (min_lat..=max_lat).contains(&c.camera.lat)
            })
        })
        .map(|(c, d)| feature(c, q.cells, d))
        .collect();
    Ok(Json(geo_json::collection(features)))
}

#[utoipa::path(get, path = "/api/cameras/{id}", tag = "cameras", params(("id" = i64, Path)),
    responses((status = 200, description = "the camera with its sector and covered cells", body = super::geo_json::FeatureShape), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn one(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<i64>,
) -> Result<Json<Value>, ApiError> {
    auth.require(Permission::ReadCameras)?;
    let world = state.world();
    let camera = placed(&world, id)?;
    if !world.point_visible(
        &world.visibility(&auth.0),
        camera.camera.lat,
        camera.camera.lon,
    ) {
        return Err(ApiError::forbidden(format!(
            "camera {id} is outside your scope"
        )));
    }
    Ok(Json(feature(camera, true, None)))
}

/// Fields to change; the others keep their value. The result is checked as a new camera would be.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchCamera {
    name: Option<String>,
    lat: Option<f64>,
    lon: Option<f64>,
    heading_deg: Option<f64>,
    fov_deg: Option<f64>,
    range_m: Option<f64>,
    kind: Option<CameraKind>,
    status: Option<CameraStatus>,
}

#[utoipa::path(patch, path = "/api/cameras/{id}", tag = "cameras", params(("id" = i64, Path)), request_body = PatchCamera,
    responses((status = 200, description = "the camera after the change", body = super::geo_json::FeatureShape), (status = 403), (status = 404), (status = 422)),
    security(("bearer" = [])))]
pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<i64>,
    AppJson(body): AppJson<Value>,
) -> Result<Json<Value>, ApiError> {
    auth.require(Permission::ManageCameras)?;
    let patch: PatchCamera = serde_json::from_value(body)
        .map_err(|e| ApiError::invalid(format!("invalid change: {e}")))?;
    let camera = crate::cameras::update(state.core(), &auth.0, CameraId(id), move |mut c| {
        c.name = patch.name.unwrap_or(c.name);
        c.lat = patch.lat.unwrap_or(c.lat);
        c.lon = patch.lon.unwrap_or(c.lon);
        c.heading_deg = patch.heading_deg.unwrap_or(c.heading_deg);
        c.fov_deg = patch.fov_deg.unwrap_or(c.fov_deg);
        c.range_m = patch.range_m.unwrap_or(c.range_m);
        c.kind = patch.kind.unwrap_or(c.kind);
        c.status = patch.status.unwrap_or(c.status);
        c
    })
    .await?;
    let world = state.world();
    Ok(Json(feature(placed(&world, camera.id.0)?, true, None)))
}

#[utoipa::path(delete, path = "/api/cameras/{id}", tag = "cameras", params(("id" = i64, Path)),
    responses((status = 204), (status = 403), (status = 404)), security(("bearer" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<i64>,
) -> Result<StatusCode, ApiError> {
    auth.require(Permission::ManageCameras)?;
    crate::cameras::delete(state.core(), &auth.0, CameraId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/incidents/{id}/cameras", tag = "cameras", params(("id" = i64, Path)),
    responses((status = 200, description = "GeoJSON FeatureCollection of the cameras whose sector contains the case's point, nearest first, each with `distance_m`", body = super::geo_json::CollectionShape),
        (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn incident_cameras(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<i64>,
) -> Result<Json<Value>, ApiError> {
    auth.require(Permission::ReadCameras)?;
    let case = crate::cases::archive::find(state.core(), IncidentId(id))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("incident {id}")))?;
    let world = state.world();
    if !actions::can_see(&world, &auth.0, &case) {
        return Err(ApiError::forbidden(format!(
            "incident {id} is outside your scope"
        )));
    }
    let features = world
        .cameras_covering(case.place.lat, case.place.lon)
        .into_iter()
        .map(|(c, d)| feature(c, false, Some(d)))
        .collect();
    Ok(Json(geo_json::collection(features)))
}

/// A camera's alert: what it saw. The case is placed at the camera, or at `lat`/`lon` (degrees) when
/// given, which must lie in the camera's sector.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CameraAlert {
    /// A category code from `/api/categories`.
    category: String,
    #[serde(default)]
    description: String,
    /// Default `normal`.
    priority: Option<Priority>,
    #[schema(minimum = -90.0, maximum = 90.0)]
    lat: Option<f64>,
    #[schema(minimum = -180.0, maximum = 180.0)]
    lon: Option<f64>,
}

#[utoipa::path(post, path = "/api/cameras/{id}/alerts", tag = "cameras", params(("id" = i64, Path)), request_body = CameraAlert,
    responses((status = 201, description = "the registered case (source `camera`) as a GeoJSON Feature", body = super::geo_json::FeatureShape), (status = 400),
        (status = 403), (status = 404), (status = 422)),
    security(("bearer" = [])))]
pub async fn alert(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<i64>,
    AppJson(body): AppJson<Value>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    auth.require(Permission::PostCameraAlerts)?;
    let body: CameraAlert = serde_json::from_value(body)
        .map_err(|e| ApiError::invalid(format!("invalid alert: {e}")))?;
    let (lat, lon, name) = {
        let world = state.world();
        let placed = placed(&world, id)?;
        let (lat, lon) = match (body.lat, body.lon) {
            (None, None) => (placed.camera.lat, placed.camera.lon),
            (Some(lat), Some(lon)) => {
                crate::world::locate::checked_latlng(lat, lon)?;
                if !placed.sees(lat, lon) {
                    return Err(ApiError::invalid(format!(
                        "({lat}, {lon}) is outside camera {id}'s view"
                    ))
                    .with("field", "lat"));
                }
                (lat, lon)
            }
            _ => {
                return Err(
                    ApiError::invalid("give both lat and lon, or neither").with("field", "lat")
                );
            }
        };
        (lat, lon, placed.camera.name.clone())
    };
    let description = format!("camera {id} ({name}): {}", body.description.trim());
    let report = Report {
        lat,
        lon,
        category: body.category,
        priority: body.priority.unwrap_or(Priority::Normal),
        description,
        source: Source::Camera,
    };
    let case = state
        .intake()
        .register(cases::actor_of(&auth.0), auth.0.token(), report)
        .await?;
    let feature = incident_feature(
        &state.world(),
        &case,
        state.now(),
        true,
        &cases::actor_of(&auth.0),
    );
    Ok((StatusCode::CREATED, Json(feature)))
}

/// The `cameras` part of a grid's coverage: how many of `cells` the online cameras cover, and the
/// blind spots (盲区) as cell ids and as their dissolved outline (GeoJSON `MultiPolygon`, degrees).
#[must_use]
pub fn grid_coverage(world: &World, cells: &[CellIndex]) -> Value {
    let coverage = world.camera_coverage(cells);
    let mut cameras: Vec<CameraId> = coverage
        .covered
        .iter()
        .flat_map(|&cell| {
            world
                .cameras_of_cell(cell)
                .filter(|c| c.camera.is_online())
                .map(|c| c.camera.id)
        })
        .collect();
    cameras.sort_unstable();
    cameras.dedup();
    #[allow(clippy::cast_precision_loss)] // cell counts are far below 2^52
    let share = if cells.is_empty() {
        0.0
    } else {
        coverage.covered.len() as f64 / cells.len() as f64
    };
    let outline = gridwatch_geodata::cells::outline(&coverage.blind);
    json!({
        "covered_cells": coverage.covered.len(),
        "total_cells": cells.len(),
        "covered_share": share,
        "cameras": cameras,
        "blind_spots": coverage.blind.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "blind_spots_outline": geo_json::multipolygon(&outline),
    })
}
