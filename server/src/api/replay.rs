//! `GET /api/replay/state?at=T&bbox=…`: the live map at a past moment (回放), as a subscriber with that
//! bbox would have held it at `T`: the open cases with their status and assignee then, each worker's
//! last position then, the cameras then, and the grids of the boundary version in force then. Rebuilt
//! from the event log, its keyframes and the stored positions (`crate::replay`).
//!
//! `T` must lie between the start of the replay history and now; the bbox may span at most
//! [`MAX_SPAN_DEG`] degrees each way (a district, not the world).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use super::AppQuery;
use super::geo_json::Bbox;
use crate::auth::Auth;
use crate::domain::Permission;
use crate::error::ApiError;
use crate::replay::MAX_SPAN_DEG;
use crate::replay::state::{self, ReplayError};
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StateQuery {
    /// The moment, RFC 3339 (`2026-12-07T09:30:00Z`); not in the future, not before the replay
    /// history starts.
    at: String,
    /// `minLon,minLat,maxLon,maxLat`, degrees (EPSG:4326); at most 0.5° each way.
    bbox: String,
}

#[utoipa::path(get, path = "/api/replay/state", tag = "live", params(StateQuery),
    responses((status = 200, description = "`{at, seq, keyframe, incidents, workers, cameras, grids}`: \
        the map at `at` within `bbox` and the caller's scope. `seq` is the last event committed by then; \
        `incidents` are open cases' summaries as `incident.*` events carry them, `workers` as a `snapshot` \
        lists them (with `position` then, or null), `cameras` as `camera.*` events carry them, `grids` \
        `{id, code, name, community, version, cells, boundary}` of the version in force then"),
        (status = 400), (status = 403),
        (status = 422, description = "`at` in the future (`replay-in-future`) or before the replay \
            history (`replay-before-history`), a bbox too large (`replay-area-too-large`)")),
    security(("bearer" = [])))]
pub async fn replay_state(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(q): AppQuery<StateQuery>,
) -> Result<Json<Value>, ApiError> {
    auth.require(Permission::ReplayMap)?;
    let at = DateTime::parse_from_rfc3339(q.at.trim())
        .map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid-time",
                format!("at {:?} is not an RFC 3339 time: {e}", q.at),
            )
        })?
        .with_timezone(&Utc);
    let bbox = Bbox::parse(&q.bbox)?.0;
    let (width, height) = (bbox[2] - bbox[0], bbox[3] - bbox[1]);
    if width > MAX_SPAN_DEG || height > MAX_SPAN_DEG {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "replay-area-too-large",
            format!(
                "the bbox spans {width:.3}° × {height:.3}°; a replay covers at most \
                 {MAX_SPAN_DEG}° each way"
            ),
        ));
    }
    let core = state.core();
    let now = core.now();
    if at > now {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "replay-in-future",
            format!("at {at} is after now ({now}); use the live map"),
        ));
    }
    let then = state::then(core.store().as_ref(), at)
        .await
        .map_err(refusal)?;
    let communities = state::communities_in(&core.world(), bbox);
    let grids = state::grids_then(core.store().as_ref(), communities, at).await?;
    let world = core.world();
    Ok(Json(state::view(&world, &auth.0, bbox, &then, &grids)))
}

/// A time the replay cannot show is the caller's to change: 422 with where the history starts.
fn refusal(error: ReplayError) -> ApiError {
    let before = |detail: String, starts: DateTime<Utc>| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "replay-before-history",
            detail,
        )
        .with("starts", starts.to_rfc3339())
    };
    match error {
        ReplayError::BeforeLog { first, .. } => before(error.to_string(), first),
        ReplayError::BeforeHistory { starts, .. } => before(error.to_string(), starts),
        ReplayError::EmptyLog => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "replay-before-history",
            error.to_string(),
        ),
        ReplayError::Store(store) => store.into(),
    }
}
