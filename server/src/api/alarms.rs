//! `/api/alarms`: the command centre's alarms (`crate::alarms`) — the list in the caller's scope, and
//! acknowledging one. This file parses HTTP; the rules and the event are `crate::alarms`'.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{AppPath, AppQuery};
use crate::alarms::{self, Entry, Which};
use crate::auth::Auth;
use crate::domain::{AlarmId, Permission};
use crate::error::ApiError;
use crate::state::AppState;

/// `?state=open|acknowledged|all`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AlarmQuery {
    /// `open` (not yet acknowledged, the default), `acknowledged` (within the last 24 h) or `all`.
    #[param(inline)]
    state: Option<Which>,
}

/// An acknowledgement's body: nothing, or an empty object.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Acknowledge {}

#[utoipa::path(get, path = "/api/alarms", tag = "live",
    params(AlarmQuery),
    responses((status = 200, description = "`{alarms, count}`: the alarms in the caller's scope, newest first, each with its acknowledgement (`null` while open)", body = AlarmList),
        (status = 403)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(query): AppQuery<AlarmQuery>,
) -> Result<Json<Value>, ApiError> {
    auth.require(Permission::ReadAlarms)?;
    let core = state.core();
    let now = core.now();
    let alarms = {
        let world = core.world();
        let visibility = world.visibility(&auth.0);
        alarms::list(&world, &visibility, query.state.unwrap_or_default(), now)
    };
    Ok(Json(json!({"count": alarms.len(), "alarms": alarms})))
}

/// `GET /api/alarms`'s body.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct AlarmList {
    alarms: Vec<Entry>,
    count: usize,
}

#[utoipa::path(post, path = "/api/alarms/{id}/acknowledge", tag = "live",
    params(("id" = String, Path, description = "the alarm's id, `\"{seq}\"` or `\"{seq}.{case}\"`")),
    request_body(content = Option<Acknowledge>, description = "nothing, or `{}`"),
    responses((status = 200, description = "the alarm with its acknowledgement", body = Entry),
        (status = 403), (status = 404, description = "no such alarm (or it is past its time)"),
        (status = 409, description = "already acknowledged (`already-acknowledged`, with `by` and `at`)"),
        (status = 503, description = "the store is unavailable; nothing was done, send again")),
    security(("bearer" = [])))]
pub async fn acknowledge(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Entry>, ApiError> {
    auth.require(Permission::AcknowledgeAlarms)?;
    let id: AlarmId = id.parse().map_err(|e: crate::domain::alarm::BadAlarmId| {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid-path", e.to_string())
    })?;
    let body = body?;
    if !body.iter().all(u8::is_ascii_whitespace) {
        serde_json::from_slice::<Acknowledge>(&body)
            .map_err(|e| ApiError::invalid(format!("the body is nothing or {{}}: {e}")))?;
    }
    let entry = alarms::acknowledge(state.core(), &auth.0, id).await?;
    Ok(Json(entry))
}
