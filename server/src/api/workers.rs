//! `/api/workers`: create and update workers, their duty status and the grids they answer for. Changes
//! go through `admin::workers`; a position set by hand through `tracking`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value, json};

use super::geo_json;
use super::{AppJson, AppPath, AppQuery, visible_grid};
use crate::admin::workers::{
    self, WorkerError, check_device, check_duties, checked_name, checked_text,
};
use crate::auth::Auth;
use crate::domain::{DutyStatus, GridDuty, GridId, Role, Worker, WorkerId, WorkerKind};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::NewWorker;

pub(super) use workers::can_see;

const READERS: &[Role] = &[Role::Planner, Role::Commander, Role::Worker];
const MANAGERS: &[Role] = &[Role::Commander];

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WorkerQuery {
    /// Only workers answering for this grid.
    #[param(inline)]
    grid: Option<GridId>,
}

/// A worker as a GeoJSON Feature; the geometry is null until live positions arrive.
fn to_feature(worker: &Worker) -> Value {
    let mut p = Map::new();
    p.insert("id".into(), json!(worker.id));
    p.insert("name".into(), json!(worker.name));
    p.insert("kind".into(), json!(worker.kind));
    p.insert("duty".into(), json!(worker.duty));
    p.insert("phone".into(), json!(worker.phone));
    p.insert("device_id".into(), json!(worker.device_id));
    p.insert("grids".into(), json!(worker.grids));
    geo_json::feature(worker.id.0, None, p)
}

#[utoipa::path(get, path = "/api/workers", tag = "workers", params(WorkerQuery),
    responses((status = 200, description = "GeoJSON FeatureCollection", body = super::geo_json::CollectionShape), (status = 403),
        (status = 404, description = "no such grid")), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(query): AppQuery<WorkerQuery>,
) -> Result<Json<Value>, ApiError> {
    auth.require(READERS)?;
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
        .map(to_feature)
        .collect();
    Ok(Json(geo_json::collection(features)))
}

#[utoipa::path(get, path = "/api/workers/{id}", tag = "workers", params(("id" = i64, Path)),
    responses((status = 200, description = "GeoJSON Feature", body = super::geo_json::FeatureShape), (status = 403), (status = 404)), security(("bearer" = [])))]
pub async fn one(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<i64>,
) -> Result<Json<Value>, ApiError> {
    auth.require(READERS)?;
    let world = state.world();
    let worker = world
        .worker(WorkerId(id))
        .ok_or_else(|| ApiError::not_found(format!("worker {id}")))?;
    if !can_see(&world.visibility(&auth.0), &auth.0, worker) {
        return Err(ApiError::forbidden(format!(
            "worker {id} is outside your scope"
        )));
    }
    Ok(Json(to_feature(worker)))
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
    device_id: Option<String>,
    #[serde(default)]
    grids: Vec<GridDuty>,
}

fn off_duty() -> DutyStatus {
    DutyStatus::OffDuty
}

#[utoipa::path(post, path = "/api/workers", tag = "workers", request_body = CreateWorker,
    responses((status = 201, description = "the created worker", body = super::geo_json::FeatureShape), (status = 409), (status = 422),
        (status = 403),
        (status = 404, description = "no such grid")),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    AppJson(body): AppJson<CreateWorker>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    auth.require(MANAGERS)?;
    let new = NewWorker {
        name: checked_name(&body.name)?,
        kind: body.kind,
        duty: body.duty,
        phone: checked_text("phone", body.phone, 40)?,
        device_id: checked_text("device_id", body.device_id, 128)?,
        grids: body.grids,
    };
    let worker = workers::create(state.core(), &auth.0, new).await?;
    Ok((StatusCode::CREATED, Json(to_feature(&worker))))
}

/// Fields to change; `null` clears `phone` or `device_id`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(clippy::option_option)] // absent, null (clear) and a value are three different requests
pub struct UpdateWorker {
    name: Option<String>,
    kind: Option<WorkerKind>,
    #[serde(default, deserialize_with = "present")]
    phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    device_id: Option<Option<String>>,
}

/// Distinguishes an absent field (`None`) from an explicit `null` (`Some(None)`).
fn present<'de, T: Deserialize<'de>, D: Deserializer<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

#[utoipa::path(patch, path = "/api/workers/{id}", tag = "workers", params(("id" = i64, Path)),
    request_body = UpdateWorker, responses((status = 200, description = "the worker after the change", body = super::geo_json::FeatureShape), (status = 404), (status = 409), (status = 422),
        (status = 403)),
    security(("bearer" = [])))]
pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<i64>,
    AppJson(body): AppJson<UpdateWorker>,
) -> Result<Json<Value>, ApiError> {
    auth.require(MANAGERS)?;
    change_worker(&state, &auth.0, WorkerId(id), move |world, worker| {
        if let Some(name) = &body.name {
            worker.name = checked_name(name)?;
        }
        if let Some(kind) = body.kind {
            worker.kind = kind;
        }
        if let Some(phone) = body.phone.clone() {
            worker.phone = checked_text("phone", phone, 40)?;
        }
        if let Some(device) = body.device_id.clone() {
            worker.device_id = checked_text("device_id", device, 128)?;
            check_device(world, Some(worker.id), worker.device_id.as_deref())?;
        }
        Ok(())
    })
    .await
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
        auth.require(MANAGERS)?;
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
    auth.require(MANAGERS)?;
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
        auth.require(MANAGERS)?;
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
    principal: &crate::domain::Principal,
    id: WorkerId,
    edit: impl FnOnce(&crate::world::World, &mut Worker) -> Result<(), WorkerError> + Send + 'static,
) -> Result<Json<Value>, ApiError> {
    let changed = workers::change(state.core(), principal, id, edit).await?;
    Ok(Json(to_feature(&changed)))
}
