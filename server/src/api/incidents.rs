//! `/api/incidents`: register cases, walk them through the closed loop, list and read them with history.
//!
//! Cases are GeoJSON Features with a Point geometry (lon/lat). The rules live in `crate::cases`; this file
//! only parses, checks roles and shapes the JSON.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Map, Value, json};

mod history;

use super::geo_json::{self, Bbox};
use super::{AppJson, AppPath, AppQuery, visible_grid};
use crate::auth::Auth;
use crate::cases::{self, Report, actions, archive};
use crate::domain::Permission;
use crate::domain::incident::{
    Action, Actor, Priority, Source, Status, actions_for, allowed_actions,
};
use crate::domain::{Case, GridId, IncidentId, RegionId, Role, WorkerId};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::ArchiveQuery;
use crate::world::World;

/// Who may report: citizens' reporter tokens, workers, command centres, devices (camera alerts).
const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 1000;

/// A report: `{lat, lon, category, priority, description, source}`, or the same as a GeoJSON Feature
/// with a Point geometry and the other fields as properties.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateIncident {
    /// Degrees (EPSG:4326).
    #[schema(minimum = -90.0, maximum = 90.0)]
    lat: f64,
    /// Degrees (EPSG:4326).
    #[schema(minimum = -180.0, maximum = 180.0)]
    lon: f64,
    /// A category code from `/api/categories`.
    category: String,
    /// Default `normal`.
    priority: Option<Priority>,
    #[serde(default)]
    description: String,
    /// Default from the token's role: worker → `worker`, reporter → `citizen`, device → `camera`,
    /// commander → `hotline`.
    source: Option<Source>,
}

#[utoipa::path(post, path = "/api/incidents", tag = "incidents", request_body = CreateIncident,
    params(super::idempotency::KeyHeader),
    responses((status = 201, description = "the registered case as a GeoJSON Feature, routed and with its deadline", body = super::geo_json::FeatureShape,
            headers(("Idempotent-Replayed" = String, description = "`true` on an answer given again for an `Idempotency-Key`"))),
        (status = 400), (status = 403),
        (status = 409, description = "a request with this `Idempotency-Key` is still in flight (`idempotency-key-in-flight`, `Retry-After`), or was carried out with its answer lost (`idempotency-key-committed`)", headers(("Retry-After" = u64, description = "seconds to wait"))),
        (status = 422, description = "a value is invalid, or the `Idempotency-Key` was used with another request (`idempotency-key-reused`)")),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    AppJson(body): AppJson<Value>,
) -> Result<(StatusCode, HeaderMap, Json<Value>), ApiError> {
    auth.require(Permission::ReportCases)?;
    let body: CreateIncident = serde_json::from_value(flatten_feature(body)?)
        .map_err(|e| ApiError::invalid(format!("invalid incident: {e}")))?;
    let source = body.source.unwrap_or(match auth.0.role {
        Role::Worker => Source::Worker,
        Role::Device => Source::Camera,
        Role::Reporter => Source::Citizen,
        _ => Source::Hotline,
    });
    let report = Report {
        lat: body.lat,
        lon: body.lon,
        category: body.category,
        priority: body.priority.unwrap_or(Priority::Normal),
        description: body.description,
        source,
    };
    let case = state
        .intake()
        .register(cases::actor_of(&auth.0), auth.0.token(), report)
        .await?;
    let mut headers = HeaderMap::new();
    if let Ok(location) = HeaderValue::from_str(&format!("/api/incidents/{}", case.id())) {
        headers.insert(header::LOCATION, location);
    }
    let feature = to_feature(
        &state.world(),
        &case,
        state.now(),
        true,
        &cases::actor_of(&auth.0),
    );
    Ok((StatusCode::CREATED, headers, Json(feature)))
}

/// Accepts a GeoJSON Feature by lifting its Point into `lat`/`lon` beside its properties.
fn flatten_feature(body: Value) -> Result<Value, ApiError> {
    if body.get("type").and_then(Value::as_str) != Some("Feature") {
        return Ok(body);
    }
    let geometry = body
        .get("geometry")
        .ok_or_else(|| ApiError::invalid("a Feature needs a geometry"))?;
    if geometry.get("type").and_then(Value::as_str) != Some("Point") {
        return Err(ApiError::geometry("an incident's geometry must be a Point"));
    }
    let position = geo_json::position(geometry.get("coordinates").unwrap_or(&Value::Null))?;
    let mut flat = match body.get("properties") {
        Some(Value::Object(p)) => p.clone(),
        Some(Value::Null) | None => Map::new(),
        Some(_) => return Err(ApiError::invalid("properties must be an object")),
    };
    flat.insert("lat".into(), json!(position.y));
    flat.insert("lon".into(), json!(position.x));
    Ok(Value::Object(flat))
}

#[utoipa::path(post, path = "/api/incidents/{id}/actions", tag = "incidents", params(("id" = i64, Path), super::idempotency::KeyHeader),
    request_body(content = Action, description = "`{action, …}`: dispatch {to}, reassign {to}, accept, send_back {reason}, start, resolve {note}, verify {passed}, extend {until, reason}, defer {reason}, resume, escalate {reason}, reopen {reason}, merge {into}, cancel {reason}; `note` is accepted for `reason`"),
    responses((status = 200, description = "the case after the action", body = super::geo_json::FeatureShape, headers(("Idempotent-Replayed" = String, description = "`true` on an answer given again for an `Idempotency-Key`"))), (status = 403), (status = 404),
        (status = 409, description = "illegal transition: names `current_state` and `allowed_actions`; or a request with this `Idempotency-Key` still in flight (`idempotency-key-in-flight`, `Retry-After`), or was carried out with its answer lost (`idempotency-key-committed`)"),
        (status = 422, description = "a value is invalid, or the `Idempotency-Key` was used with another request (`idempotency-key-reused`)")),
    security(("bearer" = [])))]
pub async fn act(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<i64>,
    AppJson(body): AppJson<Value>,
) -> Result<Json<Value>, ApiError> {
    auth.require(Permission::ActOnCases)?;
    let action = parse_action(body)?;
    let case = actions::act(
        state.core(),
        cases::actor_of(&auth.0),
        Some(&auth.0),
        IncidentId(id),
        action,
        actions::Extra::default(),
    )
    .await?;
    let mut feature = to_feature(
        &state.world(),
        &case,
        state.now(),
        true,
        &cases::actor_of(&auth.0),
    );
    history::name_callers(
        state.store().as_ref(),
        &mut feature["properties"]["history"],
    )
    .await;
    Ok(Json(feature))
}

/// Reads `{action, …}`, taking `note` for `reason` where the action needs a reason.
fn parse_action(mut body: Value) -> Result<Action, ApiError> {
    let Some(object) = body.as_object_mut() else {
        return Err(ApiError::invalid(
            "the body must be an object like {\"action\": \"accept\"}",
        ));
    };
    let name = object
        .get("action")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let takes_reason = matches!(
        name.as_deref(),
        Some("send_back" | "extend" | "defer" | "escalate" | "reopen" | "cancel")
    );
    if takes_reason && !object.contains_key("reason") {
        if let Some(note) = object.remove("note") {
            object.insert("reason".into(), note);
        }
    } else if name.as_deref() == Some("resolve")
        && !object.contains_key("note")
        && let Some(reason) = object.remove("reason")
    {
        object.insert("note".into(), reason);
    }
    serde_json::from_value(body).map_err(|e| {
        let known = [
            "dispatch",
            "reassign",
            "accept",
            "send_back",
            "start",
            "resolve",
            "verify",
            "extend",
            "defer",
            "resume",
            "escalate",
            "reopen",
            "merge",
            "cancel",
        ];
        ApiError::invalid(format!("invalid action: {e}")).with("actions", json!(known))
    })
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IncidentQuery {
    /// `minLon,minLat,maxLon,maxLat`, degrees.
    #[param(
        pattern = r"^\s*-?[0-9.]+\s*(,\s*-?[0-9.]+\s*){3}$",
        example = "113.0,36.0,113.01,36.01"
    )]
    bbox: Option<String>,
    #[param(inline)]
    grid: Option<GridId>,
    /// A community, street or district: every case in a grid under it.
    #[param(inline)]
    community: Option<RegionId>,
    /// One status or several, comma-separated.
    status: Option<String>,
    category: Option<String>,
    #[param(inline)]
    assignee: Option<WorkerId>,
    /// Only cases still open past their deadline (`true`), or only those that are not (`false`).
    overdue: Option<bool>,
    /// Words the description must hold, each anywhere, ignoring case (any script, Chinese included;
    /// 1 to 100 characters, at most 8 words): the store's full-text search (`store::search`).
    #[param(min_length = 1, max_length = 100)]
    q: Option<String>,
    /// At most this many (default 100, at most 1,000), newest first.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<usize>,
    offset: Option<usize>,
}

#[utoipa::path(get, path = "/api/incidents", tag = "incidents", params(IncidentQuery),
    responses((status = 200, description = "GeoJSON FeatureCollection, newest first, with `total`, `limit`, `offset`", body = super::geo_json::CollectionShape),
        (status = 400), (status = 403),
        (status = 404, description = "no such grid or region"),
        (status = 422, description = "limit out of range, or an unknown status or category")), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(query): AppQuery<IncidentQuery>,
) -> Result<Json<Value>, ApiError> {
    auth.require(Permission::ReadCases)?;
    let bbox = Bbox::parse_opt(query.bbox.as_deref())?;
    let statuses = query.status.as_deref().map(parse_statuses).transpose()?;
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(ApiError::invalid(format!("limit must be 1..={MAX_LIMIT}")));
    }
    let text = (query.q.as_deref())
        .map(super::search::checked_text)
        .transpose()?;
    let offset = query.offset.unwrap_or(0);
    let now = state.now();
    let viewer = cases::actor_of(&auth.0);
    // The world's matching cases and the archive's query, under one read of the world (its archive line
    // with them, `cases::archive`).
    let (held, archived) = {
        let world = state.world();
        let visibility = world.visibility(&auth.0);
        if let Some(grid) = query.grid {
            visible_grid(&world, &visibility, grid)?;
        }
        if let Some(region) = query.community
            && world.region(region).is_none()
        {
            return Err(ApiError::not_found(format!("region {region}")));
        }
        if let Some(category) = &query.category
            && world.category(category).is_none()
        {
            return Err(ApiError::invalid(format!("unknown category {category:?}")));
        }
        let held: Vec<IncidentId> = world
            .incidents()
            .rev()
            .filter(|c| actions::can_see(&world, &auth.0, c))
            .filter(|c| bbox.is_none_or(|b| b.contains(c.place.lon, c.place.lat)))
            .filter(|c| query.grid.is_none_or(|g| c.place.grid == g))
            .filter(|c| {
                query.community.is_none_or(|r| {
                    c.place.community == r
                        || c.place.street == Some(r)
                        || c.place.district == Some(r)
                })
            })
            .filter(|c| {
                statuses
                    .as_ref()
                    .is_none_or(|s| s.contains(&c.state.status))
            })
            .filter(|c| query.category.as_ref().is_none_or(|k| &c.category == k))
            .filter(|c| query.assignee.is_none_or(|w| c.state.assignee == Some(w)))
            .filter(|c| query.overdue.is_none_or(|o| cases::is_overdue(c, now) == o))
            .filter(|c| text.as_ref().is_none_or(|t| t.matches(&c.description)))
            .map(Case::id)
            .collect();
        // A finished case is never overdue.
        let archived = archive::query(&world, statuses.as_deref())
            .filter(|_| query.overdue != Some(true))
            .map(|archived| ArchiveQuery {
                grid: query.grid,
                region: query.community,
                categories: query.category.clone().map(|c| vec![c]),
                assignee: query.assignee,
                bbox: bbox.map(|b| b.0),
                seen_by: archive::seer(&world, &auth.0),
                text: text.clone(),
                ..archived
            });
        (held, archived)
    };
    let (total, page) = archive::page(state.core(), held, archived, offset, limit).await?;
    let world = state.world();
    let features = page
        .iter()
        .map(|c| to_feature(&world, c, now, false, &viewer))
        .collect();
    let mut collection = geo_json::collection(features);
    collection["total"] = json!(total);
    collection["limit"] = json!(limit);
    collection["offset"] = json!(offset);
    Ok(Json(collection))
}

fn parse_statuses(text: &str) -> Result<Vec<Status>, ApiError> {
    text.split(',')
        .map(|s| {
            Status::parse(s.trim()).ok_or_else(|| {
                ApiError::invalid(format!("unknown status {s:?}")).with(
                    "statuses",
                    json!(Status::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>()),
                )
            })
        })
        .collect()
}

#[utoipa::path(get, path = "/api/incidents/{id}", tag = "incidents", params(("id" = i64, Path)),
    responses((status = 200, description = "the case as a GeoJSON Feature with its whole history", body = super::geo_json::FeatureShape), (status = 403),
        (status = 404)), security(("bearer" = [])))]
pub async fn one(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<i64>,
) -> Result<Json<Value>, ApiError> {
    auth.require(Permission::ReadCases)?;
    let now = state.now();
    let case = archive::find(state.core(), IncidentId(id))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("incident {id}")))?;
    let mut feature = {
        let world = state.world();
        actions::check_scope(&world, &auth.0, &case)?;
        to_feature(&world, &case, now, true, &cases::actor_of(&auth.0))
    };
    history::name_callers(
        state.store().as_ref(),
        &mut feature["properties"]["history"],
    )
    .await;
    Ok(Json(feature))
}

/// A case as a GeoJSON Feature, as `viewer` sees it; `full` adds the history and photos.
/// `allowed_actions` are the actions the case's status allows; `your_actions` those of them the viewer
/// may take (role, assignment, and never verifying a case they handled).
pub fn to_feature(
    world: &World,
    case: &Case,
    now: DateTime<Utc>,
    full: bool,
    viewer: &Actor,
) -> Value {
    let s = &case.state;
    let mut p = Map::new();
    p.insert("id".into(), json!(case.id()));
    p.insert("status".into(), json!(s.status));
    p.insert("level".into(), json!(s.level));
    p.insert("category".into(), json!(case.category));
    p.insert("priority".into(), json!(case.priority));
    p.insert("source".into(), json!(case.source));
    p.insert("kind".into(), json!(case.kind));
    p.insert("description".into(), json!(case.description));
    p.insert("cell".into(), json!(case.place.cell.to_string()));
    p.insert("grid_id".into(), json!(case.place.grid));
    p.insert(
        "grid_code".into(),
        json!(world.grid(case.place.grid).map(|g| &g.code)),
    );
    p.insert("community_id".into(), json!(case.place.community));
    p.insert("street_id".into(), json!(case.place.street));
    p.insert("district_id".into(), json!(case.place.district));
    p.insert("outside_m".into(), json!(case.place.outside_m));
    p.insert("assignee".into(), json!(s.assignee));
    p.insert("handler".into(), json!(s.handler));
    p.insert(
        "route".into(),
        cases::intake::route_of(case)
            .cloned()
            .unwrap_or(Value::Null),
    );
    p.insert("deadline".into(), json!(s.deadline));
    p.insert("escalate_at".into(), json!(case.escalate_at));
    p.insert("overdue".into(), json!(cases::is_overdue(case, now)));
    p.insert("rework_count".into(), json!(s.rework_count));
    p.insert("deferred".into(), json!(s.deferred));
    p.insert("duplicate_of".into(), json!(case.duplicate_of));
    p.insert("merged_into".into(), json!(s.merged_into));
    p.insert("created_at".into(), json!(case.created_at));
    p.insert("updated_at".into(), json!(case.updated_at));
    p.insert("allowed_actions".into(), json!(allowed_actions(s.status)));
    p.insert("your_actions".into(), json!(actions_for(s, viewer)));
    if full {
        p.insert("history".into(), history::entries(world, case));
        p.insert("photos".into(), json!(case.photos));
    }
    let point = json!({ "type": "Point", "coordinates": [case.place.lon, case.place.lat] });
    geo_json::feature(case.id().0, Some(point), p)
}
