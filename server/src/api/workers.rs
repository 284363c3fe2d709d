//! `/api/workers`: create and update workers, their duty status and the grids they answer for, and bind
//! their trackers. Changes go through `admin::workers`; a position set by hand through `tracking`.
//!
//! A worker's phone, and whether a tracker is bound, go only to roles that manage workers
//! (`domain::worker::sees_contacts`). A tracker's device id is made here when `device: true` binds one,
//! answered once in that response (`device_id`) and never again: only its SHA-256 is kept.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value, json};

use super::geo_json;
use super::{AppJson, AppPath, AppQuery, visible_grid};
use crate::admin::workers::{self, WorkerError, check_duties, checked_name, checked_text};
use crate::auth::Auth;
use crate::domain::worker::{DeviceId, sees_contacts};
use crate::domain::{
    DutyStatus, GridDuty, GridId, Permission, Principal, Worker, WorkerId, WorkerKind,
};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::NewWorker;

pub(super) use workers::can_see;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WorkerQuery {
    /// Only workers answering for this grid.
    #[param(inline)]
    grid: Option<GridId>,
}

/// A worker as a GeoJSON Feature, as `viewer` may see it; the geometry is null until live positions
/// arrive. `phone` and `device` (whether a tracker is bound) only for roles that manage workers.
fn to_feature(worker: &Worker, viewer: &Principal) -> Value {
    let mut p = Map::new();
    p.insert("id".into(), json!(worker.id));
    p.insert("name".into(), json!(worker.name));
    p.insert("kind".into(), json!(worker.kind));
    p.insert("duty".into(), json!(worker.duty));
    if sees_contacts(viewer.role) {
        p.insert("phone".into(), json!(worker.phone));
        p.insert("device".into(), json!(worker.device_hash.is_some()));
    }
    p.insert("grids".into(), json!(worker.grids));
    geo_json::feature(worker.id.0, None, p)
}

/// A worker just changed, as its manager sees it, with the device id of a tracker bound by this very
/// request: the one time it is shown.
fn changed_feature(worker: &Worker, viewer: &Principal, issued: Option<&DeviceId>) -> Value {
    let mut feature = to_feature(worker, viewer);
    if let Some(device) = issued {
        feature["properties"]["device_id"] = json!(device.as_str());
    }
    feature
}

#[utoipa::path(get, path = "/api/workers", tag = "workers", params(WorkerQuery),
    responses((status = 200, description = "GeoJSON FeatureCollection", body = super::geo_json::CollectionShape), (status = 403),
        (status = 404, description = "no such grid")), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(query): AppQuery<WorkerQuery>,
) -> Result<Json<Value>, ApiError> {
    auth.require(Permission::ReadWorkers)?;
    let world = state.world();
    let visibility = world.visibility(&auth.0);
    if let Some(grid) = query.grid {
        visible_grid(&world, &visibility, grid)?;
    }
    let features = world
        .workers()
        .filter(|w| can_see(&visibility, &auth.0, w))
        .filter(|w| {
            query
                .grid
                .is_none_or(|g| w.grids.iter().any(|d| d.grid_id == g))
        })
        .map(|w| to_feature(w, &auth.0))
        .collect();
    Ok(Json(geo_json::collection(features)))
}

#[utoipa::path(get, path = "/api/workers/{id}", tag = "workers", params(("id" = i64, Path)),
    responses((status = 200, description = "GeoJSON Feature, with the worker's open cases the caller may see (`open_cases`, `open_load`) and last fix (`position`, `last_fix_age_s`)", body = super::geo_json::FeatureShape), (status = 403), (status = 404)), security(("bearer" = [])))]
pub async fn one(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<i64>,
) -> Result<Json<Value>, ApiError> {
    auth.require(Permission::ReadWorkers)?;
    let world = state.world();
    let worker = world
        .worker(WorkerId(id))
        .ok_or_else(|| ApiError::not_found(format!("worker {id}")))?;
    if !can_see(&world.visibility(&auth.0), &auth.0, worker) {
        return Err(ApiError::forbidden(format!(
            "worker {id} is outside your scope"
        )));
    }
    let mut feature = to_feature(worker, &auth.0);
    add_current(&world, &auth.0, worker.id, state.now(), &mut feature);
    Ok(Json(feature))
}

/// What the command centre's worker popup shows beside the worker's record: their open cases that the
/// caller may see (`open_cases`, lowest id first, and `open_load`, their number), and their last fix
/// (`position` `{lat, lon, at}` and `last_fix_age_s`; null without one), with the point as the
/// feature's geometry.
fn add_current(
    world: &crate::world::World,
    viewer: &Principal,
    id: WorkerId,
    now: chrono::DateTime<chrono::Utc>,
    feature: &mut Value,
) {
    let open: Vec<Value> = world
        .incidents()
        .filter(|c| c.state.assignee == Some(id) && c.state.status.is_open())
        .filter(|c| crate::cases::actions::can_see(world, viewer, c))
        .map(|c| {
            json!({"id": c.id(), "status": c.state.status, "priority": c.priority,
                "category": c.category, "description": c.description})
        })
        .collect();
    let position = world.position(id);
    let p = &mut feature["properties"];
    p["open_load"] = json!(open.len());
    p["open_cases"] = Value::Array(open);
    p["position"] = json!(position.map(|f| json!({"lat": f.lat, "lon": f.lon, "at": f.at})));
    p["last_fix_age_s"] = json!(position.map(|f| (now - f.at).num_seconds().max(0)));
    if let Some(f) = position {
        feature["geometry"] = json!({"type": "Point", "coordinates": [f.lon, f.lat]});
    }
}

/// A worker to create.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWorker {
    name: String,
    kind: WorkerKind,
    #[serde(default = "off_duty")]
    duty: DutyStatus,
    phone: Option<String>,
    /// Bind a tracker (OsmAnd / Traccar Client): the server makes its device id and answers it once,
    /// as `device_id` in this response.
    #[serde(default)]
    device: bool,
    #[serde(default)]
    grids: Vec<GridDuty>,
}

fn off_duty() -> DutyStatus {
    DutyStatus::OffDuty
}

#[utoipa::path(post, path = "/api/workers", tag = "workers", request_body = CreateWorker,
    responses((status = 201, description = "the created worker; with `device: true`, `properties.device_id` is the tracker's \
        device id, shown this once", body = super::geo_json::FeatureShape), (status = 409), (status = 422),
        (status = 403),
        (status = 404, description = "no such grid")),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    AppJson(body): AppJson<CreateWorker>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    auth.require(Permission::ManageWorkers)?;
    let device = body.device.then(DeviceId::new);
    let new = NewWorker {
        name: checked_name(&body.name)?,
        kind: body.kind,
        duty: body.duty,
        phone: checked_text("phone", body.phone, 40)?,
        device_hash: device.as_ref().map(DeviceId::hash),
        grids: body.grids,
    };
    let worker = workers::create(state.core(), &auth.0, new).await?;
    Ok((
        StatusCode::CREATED,
        Json(changed_feature(&worker, &auth.0, device.as_ref())),
    ))
}

/// Fields to change; `null` clears `phone`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(clippy::option_option)] // absent, null (clear) and a value are three different requests
pub struct UpdateWorker {
    name: Option<String>,
    kind: Option<WorkerKind>,
    #[serde(default, deserialize_with = "present")]
    phone: Option<Option<String>>,
    /// `true` binds a new tracker: the server makes its device id and answers it once, as `device_id`
    /// in this response; the tracker bound before, if any, stops working. `false` unbinds it.
    device: Option<bool>,
}

/// Distinguishes an absent field (`None`) from an explicit `null` (`Some(None)`).
fn present<'de, T: Deserialize<'de>, D: Deserializer<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

#[utoipa::path(patch, path = "/api/workers/{id}", tag = "workers", params(("id" = i64, Path)),
    request_body = UpdateWorker, responses((status = 200, description = "the worker after the change; with `device: true`, \
        `properties.device_id` is the new tracker's device id, shown this once", body = super::geo_json::FeatureShape), (status = 404), (status = 409), (status = 422),
        (status = 403)),
    security(("bearer" = [])))]
pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<i64>,
    AppJson(body): AppJson<UpdateWorker>,
) -> Result<Json<Value>, ApiError> {
    auth.require(Permission::ManageWorkers)?;
    let device = (body.device == Some(true)).then(DeviceId::new);
    let device_hash = device.as_ref().map(DeviceId::hash);
    let changed = workers::change(state.core(), &auth.0, WorkerId(id), move |_, worker| {
        if let Some(name) = &body.name {
            worker.name = checked_name(name)?;
        }
        if let Some(kind) = body.kind {
            worker.kind = kind;
        }
        if let Some(phone) = body.phone.clone() {
            worker.phone = checked_text("phone", phone, 40)?;
        }
        if body.device.is_some() {
            worker.device_hash = device_hash;
        }
        Ok(())
    })
    .await?;
    Ok(Json(changed_feature(&changed, &auth.0, device.as_ref())))
}

/// A duty change.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetDuty {
    duty: DutyStatus,
}

#[utoipa::path(put, path = "/api/workers/{id}/duty", tag = "workers", params(("id" = i64, Path)),
    request_body = SetDuty, responses((status = 200, description = "the worker after the change", body = super::geo_json::FeatureShape), (status = 403), (status = 404)), security(("bearer" = [])))]
pub async fn set_duty(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<i64>,
    AppJson(body): AppJson<SetDuty>,
) -> Result<Json<Value>, ApiError> {
    // A worker may go on and off duty themself.
    if auth.0.worker != Some(WorkerId(id)) {
        auth.require(Permission::ManageWorkers)?;
    }
    change_worker(&state, &auth.0, WorkerId(id), move |_, worker| {
        worker.duty = body.duty;
        Ok(())
    })
    .await
}

#[utoipa::path(put, path = "/api/workers/{id}/grids", tag = "workers", params(("id" = i64, Path)),
    request_body = Vec<GridDuty>, responses((status = 200, description = "the worker after the change", body = super::geo_json::FeatureShape), (status = 404), (status = 409), (status = 422),
        (status = 403)),
    security(("bearer" = [])))]
pub async fn set_grids(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<i64>,
    AppJson(body): AppJson<Vec<GridDuty>>,
) -> Result<Json<Value>, ApiError> {
    auth.require(Permission::ManageWorkers)?;
    let principal = auth.0.clone();
    change_worker(&state, &auth.0, WorkerId(id), move |world, worker| {
        check_duties(world, &principal, Some(worker.id), &body)?;
        worker.grids.clone_from(&body);
        Ok(())
    })
    .await
}

/// A worker's current position, degrees (EPSG:4326).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPosition {
    #[schema(minimum = -90.0, maximum = 90.0)]
    lat: f64,
    #[schema(minimum = -180.0, maximum = 180.0)]
    lon: f64,
}

#[utoipa::path(put, path = "/api/workers/{id}/position", tag = "workers", params(("id" = i64, Path)),
    request_body = SetPosition, responses((status = 204), (status = 400), (status = 403), (status = 404),
        (status = 503, description = "not stored; send again")),
    security(("bearer" = [])))]
pub async fn set_position(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<i64>,
    AppJson(body): AppJson<SetPosition>,
) -> Result<StatusCode, ApiError> {
    // A worker reports their own position; a command centre may set one for a worker without a phone.
    if auth.0.worker != Some(WorkerId(id)) {
        auth.require(Permission::ManageWorkers)?;
    }
    crate::world::locate::checked_latlng(body.lat, body.lon)?;
    {
        let world = state.world();
        let worker = world
            .worker(WorkerId(id))
            .ok_or_else(|| ApiError::not_found(format!("worker {id}")))?;
        if !can_see(&world.visibility(&auth.0), &auth.0, worker) {
            return Err(ApiError::forbidden(format!(
                "worker {id} is outside your scope"
            )));
        }
    }
    // Set by hand: stored in the track like any fix, but never judged a jump.
    let mut fix = crate::domain::Fix::at(WorkerId(id), body.lat, body.lon, state.now());
    fix.attributes
        .insert("source".into(), serde_json::json!("manual"));
    state
        .positions()
        .report(vec![fix], crate::tracking::Judge::Trust)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A change to a worker (`admin::workers::change`), answered as its feature.
async fn change_worker(
    state: &AppState,
    principal: &Principal,
    id: WorkerId,
    edit: impl FnOnce(&crate::world::World, &mut Worker) -> Result<(), WorkerError> + Send + 'static,
) -> Result<Json<Value>, ApiError> {
    let changed = workers::change(state.core(), principal, id, edit).await?;
    Ok(Json(to_feature(&changed, principal)))
}
