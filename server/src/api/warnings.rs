//! `GET /api/warnings`: the early warnings in force (研判预警), newest first, each with its evidence:
//! kind (`rate`, `cluster`, `repeat`), category group, cells, grids, observed and expected cases in its
//! window, the p-value, the case ids, the window and when it was raised, and the centre of its cells.
//! Limited to the caller's scope: a warning shows when one of its grids is in it.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::auth::Auth;
use crate::domain::{GridId, Permission};
use crate::error::ApiError;
use crate::state::AppState;
use crate::warnings::Warning;

#[utoipa::path(get, path = "/api/warnings", tag = "live",
    responses((status = 200, description = "`{warnings: [...]}`: each warning as `warning.raised` carries \
        it (`key, kind, group, cells, grids, building, observed, expected, p_value, cases, window_start, \
        window_end, raised_at`) with `lat`/`lon`, the mean centre of its cells"),
        (status = 403)),
    security(("bearer" = [])))]
pub async fn list(State(state): State<AppState>, auth: Auth) -> Result<Json<Value>, ApiError> {
    auth.require(Permission::ReadWarnings)?;
    let world = state.core().world();
    let visibility = world.visibility(&auth.0);
    let mut shown: Vec<&Warning> = world
        .warnings()
        .values()
        .filter(|w| visibility.any(w.grids.iter().map(|&g| GridId(g))))
        .collect();
    shown.sort_by(|a, b| b.raised_at.cmp(&a.raised_at).then(a.key.cmp(&b.key)));
    let warnings: Vec<Value> = shown.into_iter().map(with_centre).collect();
    Ok(Json(json!({ "warnings": warnings })))
}

/// A warning as JSON with the mean centre of its cells (`lat`, `lon`), for a map marker.
#[must_use]
pub fn with_centre(warning: &Warning) -> Value {
    let mut value = serde_json::to_value(warning).unwrap_or(Value::Null);
    if let Some((lat, lon)) = centre(warning) {
        value["lat"] = json!(lat);
        value["lon"] = json!(lon);
    }
    value
}

/// The mean of the cells' centres, degrees.
#[must_use]
pub fn centre(warning: &Warning) -> Option<(f64, f64)> {
    let points: Vec<h3o::LatLng> = warning
        .cells
        .iter()
        .filter_map(|c| c.parse::<h3o::CellIndex>().ok())
        .map(h3o::LatLng::from)
        .collect();
    let n = f64::from(u32::try_from(points.len()).ok()?);
    (n > 0.0).then(|| {
        (
            points.iter().map(|p| p.lat()).sum::<f64>() / n,
            points.iter().map(|p| p.lng()).sum::<f64>() / n,
        )
    })
}
