//! `/api/communities/{id}/plans` and `/versions`: boundary plans, their diff, apply and rollback
//! (the rules are in `plans`). Planners and admins write; commanders read too; others get 403.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{AppJson, AppPath};
use crate::auth::Auth;
use crate::domain::Permission;
use crate::domain::RegionId;
use crate::error::ApiError;
use crate::plans::apply::{self, Request};
use crate::plans::validate::ProposedGrid;
use crate::plans::{check_community, diff, plan_json, version_json};
use crate::state::AppState;

/// The longest note accepted, in characters.
const MAX_NOTE_CHARS: usize = 2000;

/// A plan: the full assignment of the community's cells to grids, or `auto: true`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanBody {
    /// Every grid of the community after the change; a grid without `code` is new.
    grids: Option<Vec<ProposedGrid>>,
    /// Let the partitioner propose the grids (`grids` must then be absent).
    #[serde(default)]
    auto: bool,
    /// When the new boundary counts from (recorded with the version); default: when applied.
    #[schema(value_type = Option<String>, format = DateTime)]
    effective_at: Option<DateTime<Utc>>,
    note: Option<String>,
}

/// Optional fields of a rollback.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RollbackBody {
    note: Option<String>,
}

fn checked_note(note: Option<String>) -> Result<Option<String>, ApiError> {
    match note {
        Some(n) if n.chars().count() > MAX_NOTE_CHARS => Err(ApiError::invalid(format!(
            "note is longer than {MAX_NOTE_CHARS} characters"
        ))
        .with("field", "note")),
        other => Ok(other),
    }
}

#[utoipa::path(post, path = "/api/communities/{id}/plans", tag = "plans", params(("id" = i64, Path)), request_body = PlanBody,
    responses((status = 201, description = "The stored draft with its warnings"), (status = 400), (status = 403), (status = 404),
        (status = 422, description = "plan-gap, plan-overlap, plan-foreign-cell, plan-split-grid, plan-empty-grid, plan-unknown-grid, plan-duplicate-grid, plan-invalid-cell: `problems` names them")),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<i64>,
    AppJson(body): AppJson<PlanBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    auth.require(Permission::ChangeBoundaries)?;
    let grids = match (body.auto, body.grids) {
        (true, None) => None,
        (false, Some(grids)) => Some(grids),
        (true, Some(_)) => {
            return Err(ApiError::invalid(
                "give either `grids` or `auto: true`, not both",
            ));
        }
        (false, None) => {
            return Err(ApiError::invalid(
                "give `grids` (every grid of the community) or `auto: true`",
            )
            .with("field", "grids"));
        }
    };
    let request = Request {
        grids,
        effective_at: body.effective_at,
        note: checked_note(body.note)?,
    };
    let plan = apply::create(state.core(), Some(&auth.0), RegionId(id), request).await?;
    Ok((StatusCode::CREATED, Json(plan_json(&plan, true))))
}

#[utoipa::path(get, path = "/api/communities/{id}/plans", tag = "plans", params(("id" = i64, Path)),
    responses((status = 200, description = "The community's plans, oldest first (without cells)"), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<i64>,
) -> Result<Json<Value>, ApiError> {
    auth.require(Permission::ReadPlans)?;
    check_community(&state.world(), &auth.0, RegionId(id))?;
    let plans = state.store().plans(RegionId(id)).await?;
    Ok(Json(
        json!({"plans": plans.iter().map(|p| plan_json(p, false)).collect::<Vec<_>>()}),
    ))
}

#[utoipa::path(get, path = "/api/communities/{id}/plans/{plan}", tag = "plans", params(("id" = i64, Path), ("plan" = i64, Path)),
    responses((status = 200, description = "The plan with its grids' cells and warnings"), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn one(
    State(state): State<AppState>,
    auth: Auth,
    AppPath((id, plan)): AppPath<(i64, i64)>,
) -> Result<Json<Value>, ApiError> {
    auth.require(Permission::ReadPlans)?;
    check_community(&state.world(), &auth.0, RegionId(id))?;
    let plan = apply::load(state.store().as_ref(), RegionId(id), plan).await?;
    Ok(Json(plan_json(&plan, true)))
}

#[utoipa::path(get, path = "/api/communities/{id}/plans/{plan}/diff", tag = "plans", params(("id" = i64, Path), ("plan" = i64, Path)),
    responses((status = 200, description = "Cells, households, buildings, workers and open cases the plan moves, against the grids as they are now"),
        (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn plan_diff(
    State(state): State<AppState>,
    auth: Auth,
    AppPath((id, plan)): AppPath<(i64, i64)>,
) -> Result<Json<Value>, ApiError> {
    auth.require(Permission::ReadPlans)?;
    check_community(&state.world(), &auth.0, RegionId(id))?;
    let plan = apply::load(state.store().as_ref(), RegionId(id), plan).await?;
    let mut diff = diff::diff(&state.world(), RegionId(id), &plan.grids);
    diff["plan_id"] = json!(plan.id);
    diff["status"] = json!(plan.status);
    Ok(Json(diff))
}

#[utoipa::path(post, path = "/api/communities/{id}/plans/{plan}/apply", tag = "plans", params(("id" = i64, Path), ("plan" = i64, Path)),
    responses((status = 200, description = "The new version, the grids and the re-routed cases"), (status = 403), (status = 404),
        (status = 409, description = "plan-applied, or plan-stale (the grids changed since; `problems` says how)")),
    security(("bearer" = [])))]
pub async fn apply_plan(
    State(state): State<AppState>,
    auth: Auth,
    AppPath((id, plan)): AppPath<(i64, i64)>,
) -> Result<Json<Value>, ApiError> {
    auth.require(Permission::ChangeBoundaries)?;
    Ok(Json(
        apply::apply(state.core(), &auth.0, RegionId(id), plan).await?,
    ))
}

#[utoipa::path(get, path = "/api/communities/{id}/versions", tag = "plans", params(("id" = i64, Path)),
    responses((status = 200, description = "The community's boundary versions, oldest first"), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn versions(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<i64>,
) -> Result<Json<Value>, ApiError> {
    auth.require(Permission::ReadPlans)?;
    check_community(&state.world(), &auth.0, RegionId(id))?;
    let versions = state.store().versions(RegionId(id)).await?;
    Ok(Json(
        json!({"versions": versions.iter().map(version_json).collect::<Vec<_>>()}),
    ))
}

#[utoipa::path(post, path = "/api/communities/{id}/versions/{version}/rollback", tag = "plans",
    params(("id" = i64, Path), ("version" = i64, Path)), request_body = RollbackBody,
    responses((status = 200, description = "A rollback plan applied as a new version holding the earlier assignment"), (status = 403), (status = 404), (status = 409)),
    security(("bearer" = [])))]
pub async fn rollback(
    State(state): State<AppState>,
    auth: Auth,
    AppPath((id, version)): AppPath<(i64, i64)>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    auth.require(Permission::ChangeBoundaries)?;
    // The body is optional, so it is read as bytes: empty is no fields.
    let body: RollbackBody = if body.iter().all(u8::is_ascii_whitespace) {
        RollbackBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            let slug = if e.is_data() {
                "invalid-input"
            } else {
                "malformed-json"
            };
            ApiError::new(
                if e.is_data() {
                    StatusCode::UNPROCESSABLE_ENTITY
                } else {
                    StatusCode::BAD_REQUEST
                },
                slug,
                e.to_string(),
            )
        })?
    };
    let note = checked_note(body.note)?;
    Ok(Json(
        apply::rollback(state.core(), &auth.0, RegionId(id), version, note).await?,
    ))
}
