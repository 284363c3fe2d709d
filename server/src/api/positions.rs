//! `POST /api/positions` (a batch of fixes) and `GET /api/workers/{id}/track`. The rules are in
//! `crate::tracking` and `crate::domain::fix`.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, TimeDelta, Utc};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::workers::can_see;
use super::{AppJson, AppPath, AppQuery, geo_json};
use crate::auth::Auth;
use crate::domain::{Fix, Permission, Principal, WorkerId};
use crate::error::ApiError;
use crate::state::AppState;
use crate::tracking::{Judge, Reported};
use crate::world::World;

/// Who may report positions: a worker's phone or tracker for itself, a command centre for anyone in scope.
/// Most fixes one track request returns.
const MAX_TRACK: u32 = 100_000;

/// One fix as a client sends it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FixIn {
    /// Whose fix; default the token's worker.
    worker_id: Option<WorkerId>,
    /// Or the tracker's device id.
    device_id: Option<String>,
    #[schema(minimum = -90.0, maximum = 90.0)]
    lat: f64,
    #[schema(minimum = -180.0, maximum = 180.0)]
    lon: f64,
    /// When the device took it (RFC 3339); default now.
    #[schema(value_type = Option<String>, format = DateTime)]
    at: Option<DateTime<Utc>>,
    accuracy_m: Option<f64>,
    speed_mps: Option<f64>,
    heading_deg: Option<f64>,
    altitude_m: Option<f64>,
    battery_pct: Option<f64>,
    moving: Option<bool>,
    #[serde(default)]
    attributes: Map<String, Value>,
}

/// A batch: `[fix, …]` or `{"positions": [fix, …]}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum Batch {
    List(Vec<FixIn>),
    Wrapped { positions: Vec<FixIn> },
}

#[utoipa::path(post, path = "/api/positions", tag = "live", request_body = Batch,
    params(super::idempotency::KeyHeader),
    responses((status = 200, body = Reported, description = "stored (committed) and sent to the live map; jumps flagged", headers(("Idempotent-Replayed" = String, description = "`true` on an answer given again for an `Idempotency-Key`"))),
        (status = 400), (status = 403),
        (status = 409, description = "a request with this `Idempotency-Key` is still in flight (`idempotency-key-in-flight`, `Retry-After`)", headers(("Retry-After" = u64, description = "seconds to wait"))),
        (status = 413),
        (status = 422, description = "a bad fix: nothing stored; `errors: [{index, reason}]`; or the `Idempotency-Key` was used with another request (`idempotency-key-reused`)"),
        (status = 429, description = "this address sent too many reports (`--rate-positions`, shared with `/osmand`)", headers(("Retry-After" = u64, description = "seconds until the next request is taken"))),
        (status = 503, description = "not stored; send again")),
    security(("bearer" = [])))]
pub async fn report(
    State(state): State<AppState>,
    auth: Auth,
    AppJson(body): AppJson<Value>,
) -> Result<Json<Reported>, ApiError> {
    auth.require(Permission::ReportPositions)?;
    let batch: Batch = serde_json::from_value(body).map_err(|_| {
        ApiError::invalid(
            "expected [fix, …] or {\"positions\": [fix, …]}, each fix {lat, lon, at?, worker_id?, device_id?, \
             accuracy_m?, speed_mps?, heading_deg?, altitude_m?, battery_pct?, moving?, attributes?} with numbers \
             for numbers",
        )
    })?;
    let items = match batch {
        Batch::List(items) | Batch::Wrapped { positions: items } => items,
    };
    let now = state.now();
    let fixes = {
        let world = state.world();
        items
            .into_iter()
            .enumerate()
            .map(|(index, item)| {
                to_fix(&world, &auth.0, item, now).map_err(|e| e.with("index", index))
            })
            .collect::<Result<Vec<_>, _>>()?
    };
    Ok(Json(state.positions().report(fixes, Judge::Jumps).await?))
}

/// Resolves whose fix it is and checks the caller may report it.
pub(crate) fn to_fix(
    world: &World,
    principal: &Principal,
    item: FixIn,
    now: DateTime<Utc>,
) -> Result<Fix, ApiError> {
    let by_device = match &item.device_id {
        Some(device) => Some(
            world
                .worker_by_device(device)
                .ok_or_else(|| {
                    ApiError::invalid(format!("unknown device {device:?}"))
                        .with("field", "device_id")
                })?
                .id,
        ),
        None => None,
    };
    let worker = match (item.worker_id, by_device, principal.worker) {
        (Some(a), Some(b), _) if a != b => {
            return Err(ApiError::invalid(format!(
                "device {:?} is not worker {a}'s",
                item.device_id
            )));
        }
        (Some(id), _, _) | (None, Some(id), _) | (None, None, Some(id)) => id,
        (None, None, None) => {
            return Err(ApiError::invalid("name the worker: worker_id or device_id")
                .with("field", "worker_id"));
        }
    };
    let Some(record) = world.worker(worker) else {
        return Err(
            ApiError::invalid(format!("unknown worker {worker}")).with("field", "worker_id")
        );
    };
    let own = principal.worker == Some(worker);
    let allowed = own
        || (principal.role.may(Permission::ManageWorkers)
            && can_see(&world.visibility(principal), principal, record));
    if !allowed {
        return Err(ApiError::forbidden(format!(
            "you may not report positions of worker {worker}"
        )));
    }
    let mut fix = Fix::at(worker, item.lat, item.lon, item.at.unwrap_or(now));
    fix.accuracy_m = item.accuracy_m;
    fix.speed_mps = item.speed_mps;
    fix.heading_deg = item.heading_deg;
    fix.altitude_m = item.altitude_m;
    fix.battery_pct = item.battery_pct;
    fix.moving = item.moving;
    fix.attributes = item.attributes;
    Ok(fix)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TrackQuery {
    /// Start (inclusive), RFC 3339; default 24 hours before `to`.
    #[param(value_type = Option<String>, format = DateTime)]
    from: Option<DateTime<Utc>>,
    /// End (exclusive), RFC 3339; default now.
    #[param(value_type = Option<String>, format = DateTime)]
    to: Option<DateTime<Utc>>,
    /// At most this many fixes, oldest first (default and most 100,000).
    #[param(minimum = 1, maximum = 100_000)]
    limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/workers/{id}/track", tag = "live", params(("id" = i64, Path), TrackQuery),
    responses((status = 200, description = "GeoJSON FeatureCollection of the fixes, oldest first", body = super::geo_json::CollectionShape), (status = 400),
        (status = 403), (status = 404), (status = 422)),
    security(("bearer" = [])))]
pub async fn track(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<i64>,
    AppQuery(query): AppQuery<TrackQuery>,
) -> Result<Json<Value>, ApiError> {
    auth.require(Permission::ReadTracks)?;
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
    let to = query.to.unwrap_or_else(|| state.now());
    let from = query.from.unwrap_or(to - TimeDelta::hours(24));
    if from >= to {
        return Err(ApiError::invalid("from must be before to"));
    }
    let limit = query.limit.unwrap_or(MAX_TRACK);
    if limit == 0 || limit > MAX_TRACK {
        return Err(ApiError::invalid(format!("limit must be 1..={MAX_TRACK}")));
    }
    let fixes = state.store().track(WorkerId(id), from, to, limit).await?;
    let features = fixes
        .into_iter()
        .map(|fix| {
            let point = json!({"type": "Point", "coordinates": [fix.lon, fix.lat]});
            let mut p = Map::new();
            p.insert("at".into(), json!(fix.at));
            p.insert("accuracy_m".into(), json!(fix.accuracy_m));
            p.insert("speed_mps".into(), json!(fix.speed_mps));
            p.insert("heading_deg".into(), json!(fix.heading_deg));
            p.insert("altitude_m".into(), json!(fix.altitude_m));
            p.insert("battery_pct".into(), json!(fix.battery_pct));
            p.insert("moving".into(), json!(fix.moving));
            p.insert("flags".into(), json!(fix.flags));
            p.insert("attributes".into(), Value::Object(fix.attributes));
            geo_json::feature(id, Some(point), p)
        })
        .collect();
    Ok(Json(geo_json::collection(features)))
}
