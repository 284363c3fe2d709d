//! Registering a case (案卷建立): locate → route → deadline → duplicate link → one transaction.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::{SYSTEM, add_detail, hours};
use crate::dispatch::DispatchConfig;
use crate::dispatch::routing::{self, Candidate, RoutingInput, Target};
use crate::domain::incident::{
    Action, Actor, EscalationLevel, HistoryEntry, Priority, Source, Status, apply,
};
use crate::domain::{
    Case, Category, DutyStatus, GridId, Incident, IncidentId, Place, RegionId, Responsibility, TokenId, Worker,
};
use crate::error::ApiError;
use crate::state::AppState;
use crate::world::World;

/// The longest description accepted, in characters (Open311's limit).
pub const MAX_DESCRIPTION_CHARS: usize = 4000;

/// A report to register.
#[derive(Debug, Clone)]
pub struct Report {
    /// Degrees (EPSG:4326).
    pub lat: f64,
    /// Degrees (EPSG:4326).
    pub lon: f64,
    /// A category code.
    pub category: String,
    pub priority: Priority,
    pub description: String,
    pub source: Source,
}

/// Registers `report` as a new case on behalf of `actor` (and `token`, when it came through the API),
/// routes it and commits it. Returns the case as stored.
pub async fn register(
    state: &AppState,
    actor: Actor,
    token: Option<TokenId>,
    report: Report,
) -> Result<Case, ApiError> {
    let description = report.description.trim().to_owned();
    let chars = description.chars().count();
    if chars > MAX_DESCRIPTION_CHARS {
        return Err(ApiError::invalid(format!(
            "description is {chars} characters; at most {MAX_DESCRIPTION_CHARS} allowed"
        )));
    }
    let _writing = state.write_lock().await;
    let now = state.now();
    let case = {
        let world = state.world();
        draft(&world, state.dispatch(), &report, description, actor, token, now)?
    };
    let (case, event) = state.store().insert_incident(&case).await?;
    let stored = case.clone();
    state.commit(event, |world| world.apply_incident(stored));
    metrics::counter!("gridwatch_incidents_registered_total", "source" => report.source.as_str()).increment(1);
    Ok(case)
}

/// Builds the case to store, with id 0: every check and decision, no IO.
fn draft(
    world: &World,
    config: &DispatchConfig,
    report: &Report,
    description: String,
    actor: Actor,
    token: Option<TokenId>,
    now: DateTime<Utc>,
) -> Result<Case, ApiError> {
    let category = checked_category(world, &report.category)?;
    let place = place_of(world, config, report.lat, report.lon)?;
    let deadline = config
        .calendar
        .checked_add_working_time(now, hours(category.limits.hours(report.priority)))
        .ok_or_else(|| ApiError::invalid("the deadline falls outside the representable time range"))?;
    let route = routing::route(&routing_input(world, config, category, &place));
    // The reason (`kind`, with `distance_m` or `why`) and who it chose, as one flat object.
    let mut route_json = json!(route.reason);
    route_json["worker"] = match route.to {
        Target::Worker(worker) => json!(worker),
        Target::CommunityQueue => Value::Null,
    };
    let duplicate_of = duplicate_of(world, config, &report.category, &place, now);

    let mut state = Incident::registered(IncidentId(0), Some(deadline));
    let mut register = json!({
        "deadline": deadline,
        "route": route_json,
        "category": category.code,
        "priority": report.priority,
        "source": report.source,
    });
    if let Some(original) = duplicate_of {
        register["duplicate_of"] = json!(original);
    }
    if let Some(outside_m) = place.outside_m {
        register["outside_m"] = json!(outside_m);
    }
    let mut history = vec![HistoryEntry {
        at: now,
        actor,
        action: "register".to_owned(),
        from: Status::Registered,
        to: Status::Registered,
        note: None,
        detail: Some(register),
    }];
    match route.to {
        Target::Worker(worker) => {
            let mut transition = apply(&state, &SYSTEM, &Action::Dispatch { to: worker }, now)?;
            add_detail(&mut transition.entry.detail, &json!({ "automatic": true, "route": route_json }));
            state = transition.next;
            history.push(transition.entry);
        }
        // Where no one clearly owns it, the locality does (属地兜底): the community's command centre.
        Target::CommunityQueue => state.level = EscalationLevel::Community,
    }
    Ok(Case {
        state,
        category: category.code.clone(),
        priority: report.priority,
        source: report.source,
        kind: category.kind,
        description,
        place,
        reporter: token,
        created_at: now,
        updated_at: now,
        escalate_at: Some(deadline),
        duplicate_of,
        history,
        photos: Vec::new(),
    })
}

fn checked_category<'w>(world: &'w World, code: &str) -> Result<&'w Category, ApiError> {
    match world.category(code) {
        Some(category) if category.active => Ok(category),
        Some(_) => Err(ApiError::invalid(format!("category {code:?} is no longer in use"))
            .with("field", "category")),
        None => Err(ApiError::invalid(format!("unknown category {code:?}; see /api/categories"))
            .with("field", "category")),
    }
}

/// Locates the point: its grid, or the nearest grid within `outside_grid_max_m` (属地兜底).
fn place_of(world: &World, config: &DispatchConfig, lat: f64, lon: f64) -> Result<Place, ApiError> {
    let location = world.locate(lat, lon)?;
    let Some(links) = location.links else {
        return Err(ApiError::invalid("no city has been imported, so no grid can take the incident"));
    };
    let outside_m = if location.outside { location.distance_m } else { None };
    if let Some(distance_m) = outside_m
        && distance_m > config.outside_grid_max_m
    {
        return Err(ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "outside-managed-area",
            format!(
                "the point lies {distance_m:.0} m outside every grid; at most {:.0} m is accepted",
                config.outside_grid_max_m
            ),
        ));
    }
    Ok(Place {
        lat,
        lon,
        cell: location.cell,
        grid: links.grid,
        community: links.community,
        street: links.street,
        district: links.district,
        outside_m,
    })
}

/// Gathers what the routing chain looks at from the world.
fn routing_input(world: &World, config: &DispatchConfig, category: &Category, place: &Place) -> RoutingInput {
    let candidate = |worker: &Worker| Candidate {
        worker: worker.id,
        on_duty: worker.duty == DutyStatus::OnDuty,
        position: world.position(worker.id).map(|p| (p.lat, p.lon)),
    };
    let category_department = category.department.as_deref().and_then(|code| world.department(code)).map(|d| {
        d.members.iter().filter_map(|&id| world.worker(id)).map(candidate).collect()
    });
    let duty_in = |worker: &Worker, grid: GridId, responsibility: Responsibility| {
        worker.grids.iter().any(|d| d.grid_id == grid && d.responsibility == responsibility)
    };
    let primary = world.workers().find(|w| duty_in(w, place.grid, Responsibility::Primary)).map(candidate);
    let backups = world.workers().filter(|w| duty_in(w, place.grid, Responsibility::Backup)).map(candidate).collect();
    let community_workers = world
        .workers()
        .filter(|w| w.grids.iter().any(|d| community_of(world, d.grid_id) == Some(place.community)))
        .map(candidate)
        .collect();
    RoutingInput {
        category_department,
        primary,
        backups,
        community_workers,
        incident_lat: place.lat,
        incident_lon: place.lon,
        radius_m: config.nearest_radius_m,
    }
}

fn community_of(world: &World, grid: GridId) -> Option<RegionId> {
    world.grid(grid).map(|g| g.community)
}

/// The nearest open case of the same category within the configured distance and time window, if any.
fn duplicate_of(
    world: &World,
    config: &DispatchConfig,
    category: &str,
    place: &Place,
    now: DateTime<Utc>,
) -> Option<IncidentId> {
    let window = hours(config.duplicate_window_h);
    let since = now.checked_sub_signed(window).unwrap_or(DateTime::<Utc>::MIN_UTC);
    let mut best: Option<(IncidentId, f64)> = None;
    // Ids grow with time, so walking newest first can stop at the first case older than the window.
    for case in world.incidents().rev() {
        if case.created_at < since {
            break;
        }
        if case.category != category || !case.state.status.is_open() {
            continue;
        }
        let distance_m = routing::haversine_m(place.lat, place.lon, case.place.lat, case.place.lon);
        if distance_m <= config.duplicate_radius_m && best.is_none_or(|(_, d)| distance_m < d) {
            best = Some((case.id(), distance_m));
        }
    }
    best.map(|(id, _)| id)
}

/// How a routing decision reads in a case's JSON.
#[must_use]
pub fn route_of(case: &Case) -> Option<&Value> {
    case.history.first()?.detail.as_ref()?.get("route")
}
