//! `GET /api/nearby?lat&lon&radius_m&kind=workers|incidents|cameras&limit`: what is within a distance of a
//! point, nearest first, in meters on the sphere (haversine, mean Earth radius).
//!
//! Workers are those with a known position (the latest unflagged fix), on duty unless `duty=any`;
//! incidents are open cases. Both are limited to what the caller may see. A linear scan of the world: a
//! street office has thousands of workers and cases, not millions.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::workers::can_see;
use super::{AppQuery, geo_json};
use crate::auth::Auth;
use crate::cases::actions;
use crate::domain::DutyStatus;
use crate::domain::Permission;
use crate::error::ApiError;
use crate::geodesy::haversine_m;
use crate::state::AppState;

/// The largest radius, meters.
pub const MAX_RADIUS_M: f64 = 50_000.0;
const DEFAULT_LIMIT: usize = 50;
const MAX_LIMIT: usize = 1000;

#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Workers,
    Incidents,
    Cameras,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Duty {
    /// On-duty workers only.
    #[default]
    OnDuty,
    /// Every worker with a position.
    Any,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct NearbyQuery {
    /// Degrees (EPSG:4326).
    #[param(minimum = -90.0, maximum = 90.0)]
    lat: f64,
    /// Degrees (EPSG:4326).
    #[param(minimum = -180.0, maximum = 180.0)]
    lon: f64,
    /// Meters, (0, 50,000].
    #[param(exclusive_minimum = 0.0, maximum = 50_000.0)]
    radius_m: f64,
    #[param(inline)]
    kind: Kind,
    /// Workers only: `on_duty` (default) or `any`.
    #[param(inline)]
    duty: Option<Duty>,
    /// At most this many, nearest first (default 50, at most 1,000).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<usize>,
}

#[utoipa::path(get, path = "/api/nearby", tag = "live", params(NearbyQuery),
    responses((status = 200, description = "GeoJSON FeatureCollection, nearest first, each with `distance_m`", body = super::geo_json::CollectionShape),
        (status = 400), (status = 403), (status = 422)),
    security(("bearer" = [])))]
pub async fn nearby(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(q): AppQuery<NearbyQuery>,
) -> Result<Json<Value>, ApiError> {
    auth.require(Permission::ReadNearby)?;
    crate::world::locate::checked_latlng(q.lat, q.lon)?;
    if !(q.radius_m.is_finite() && q.radius_m > 0.0 && q.radius_m <= MAX_RADIUS_M) {
        return Err(
            ApiError::invalid(format!("radius_m must be in (0, {MAX_RADIUS_M}] meters"))
                .with("field", "radius_m"),
        );
    }
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(
            ApiError::invalid(format!("limit must be 1..={MAX_LIMIT}")).with("field", "limit")
        );
    }
    let world = state.world();
    let visibility = world.visibility(&auth.0);
    // (distance, id, feature)
    let mut found: Vec<(f64, i64, Value)> = Vec::new();
    match q.kind {
        Kind::Workers => {
            let any = matches!(q.duty, Some(Duty::Any));
            for worker in world.workers() {
                let Some(at) = world.position(worker.id) else {
                    continue;
                };
                if !(any || worker.duty == DutyStatus::OnDuty)
                    || !can_see(&visibility, &auth.0, worker)
                {
                    continue;
                }
                let d = haversine_m(q.lat, q.lon, at.lat, at.lon);
                if d <= q.radius_m {
                    let mut p = Map::new();
                    p.insert("id".into(), json!(worker.id));
                    p.insert("name".into(), json!(worker.name));
                    p.insert("kind".into(), json!(worker.kind.as_str()));
                    p.insert("duty".into(), json!(worker.duty.as_str()));
                    p.insert("at".into(), json!(at.at));
                    p.insert("distance_m".into(), json!(d));
                    let point = json!({"type": "Point", "coordinates": [at.lon, at.lat]});
                    found.push((
                        d,
                        worker.id.0,
                        geo_json::feature(worker.id.0, Some(point), p),
                    ));
                }
            }
        }
        Kind::Incidents => {
            for case in world.incidents().filter(|c| c.state.status.is_open()) {
                if !actions::can_see(&world, &auth.0, case) {
                    continue;
                }
                let d = haversine_m(q.lat, q.lon, case.place.lat, case.place.lon);
                if d <= q.radius_m {
                    let mut p = Map::new();
                    p.insert("id".into(), json!(case.id()));
                    p.insert("status".into(), json!(case.state.status));
                    p.insert("category".into(), json!(case.category));
                    p.insert("priority".into(), json!(case.priority));
                    p.insert("grid_id".into(), json!(case.place.grid));
                    p.insert("assignee".into(), json!(case.state.assignee));
                    p.insert("deadline".into(), json!(case.state.deadline));
                    p.insert("distance_m".into(), json!(d));
                    let point =
                        json!({"type": "Point", "coordinates": [case.place.lon, case.place.lat]});
                    found.push((
                        d,
                        case.id().0,
                        geo_json::feature(case.id().0, Some(point), p),
                    ));
                }
            }
        }
        // Cameras are city infrastructure: every reader sees them all (see `api/cameras.rs`).
        Kind::Cameras => {
            for placed in world.cameras() {
                let c = &placed.camera;
                let d = haversine_m(q.lat, q.lon, c.lat, c.lon);
                if d <= q.radius_m {
                    found.push((d, c.id.0, super::cameras::feature(placed, false, Some(d))));
                }
            }
        }
    }
    found.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let total = found.len();
    let mut collection =
        geo_json::collection(found.into_iter().take(limit).map(|(_, _, f)| f).collect());
    collection["total"] = json!(total);
    Ok(Json(collection))
}
