//! `POST /api/alerts`: an area alert (应急联动). A command centre draws a polygon or a circle; every
//! on-duty worker whose latest position lies inside it (and inside the caller's scope) receives the alert
//! on their websocket at once, whatever they subscribed to. The alert is an event, so a phone that was
//! offline gets it on `resume`. This handler parses the area; `crate::alerts` raises the alert.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{AppJson, geo_json};
use crate::alerts::{Alert, Area};
use crate::auth::Auth;
use crate::domain::Permission;
use crate::error::ApiError;
use crate::state::AppState;

const MAX_TITLE_CHARS: usize = 200;
const MAX_MESSAGE_CHARS: usize = 2000;
/// The largest circle, meters.
const MAX_RADIUS_M: f64 = 50_000.0;

/// `{title, message?, area}`: `area` is a GeoJSON `Polygon` / `MultiPolygon` geometry, or
/// `{"circle": {"lat", "lon", "radius_m"}}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RaiseAlert {
    title: String,
    #[serde(default)]
    message: String,
    #[schema(value_type = Object)]
    area: Value,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Circle {
    lat: f64,
    lon: f64,
    radius_m: f64,
}

#[utoipa::path(post, path = "/api/alerts", tag = "live", request_body = RaiseAlert,
    responses((status = 201, description = "`{seq, title, workers, count}`: the event and the workers it reached"),
        (status = 400), (status = 403), (status = 422),
        (status = 503, description = "busy checking other areas; nothing was done, send again")),
    security(("bearer" = [])))]
pub async fn raise(
    State(state): State<AppState>,
    auth: Auth,
    AppJson(body): AppJson<Value>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    auth.require(Permission::RaiseAlerts)?;
    let body: RaiseAlert = serde_json::from_value(body)
        .map_err(|e| ApiError::invalid(format!("invalid alert: {e}")))?;
    let title = body.title.trim().to_owned();
    if title.is_empty() || title.chars().count() > MAX_TITLE_CHARS {
        return Err(
            ApiError::invalid(format!("title must be 1..={MAX_TITLE_CHARS} characters"))
                .with("field", "title"),
        );
    }
    if body.message.chars().count() > MAX_MESSAGE_CHARS {
        return Err(ApiError::invalid(format!(
            "message is at most {MAX_MESSAGE_CHARS} characters"
        ))
        .with("field", "message"));
    }
    let area = match body.area.get("circle") {
        Some(circle) => {
            let c: Circle = serde_json::from_value(circle.clone()).map_err(|e| {
                ApiError::invalid(format!("invalid circle: {e}")).with("field", "area")
            })?;
            crate::world::locate::checked_latlng(c.lat, c.lon)?;
            if !(c.radius_m.is_finite() && c.radius_m > 0.0 && c.radius_m <= MAX_RADIUS_M) {
                return Err(ApiError::invalid(format!(
                    "radius_m must be in (0, {MAX_RADIUS_M}] meters"
                ))
                .with("field", "area"));
            }
            Area::Circle {
                lat: c.lat,
                lon: c.lon,
                radius_m: c.radius_m,
            }
        }
        None => Area::Shape(geo_json::area_geometry(&body.area).await?),
    };
    let alert = Alert {
        title: title.clone(),
        message: body.message,
        area_json: body.area,
        area,
    };
    let (seq, workers) = crate::alerts::raise(state.core(), &auth.0, alert).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"seq": seq, "title": title, "workers": workers, "count": workers.len()})),
    ))
}
