//! Drafting a case: locate → route → deadline → duplicate link, against a world and the dispatch
//! settings. Pure: no store, no clock, no lock; the intake writer calls it under the writer lock, and the
//! unit tests call it with a world built in memory.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::{IntakeError, Report};
use crate::cases::{SYSTEM, add_detail, hours};
use crate::dispatch::DispatchConfig;
use crate::dispatch::routing::{self, Candidate, RoutingInput, Target};
use crate::domain::incident::{Action, Actor, EscalationLevel, HistoryEntry, Status, apply};
use crate::domain::{
    Case, Category, DutyStatus, GridId, Incident, IncidentId, Place, RegionId, Responsibility,
    TokenId, Worker,
};
use crate::world::World;

/// Whether `later`, drafted in the same group, would have been linked to `earlier` as its duplicate
/// had `earlier` already been in the world (the test `duplicate_of` applies to the world's cases).
#[must_use]
pub fn could_duplicate(config: &DispatchConfig, earlier: &Case, later: &Case) -> bool {
    earlier.category == later.category
        && crate::geodesy::haversine_m(
            earlier.place.lat,
            earlier.place.lon,
            later.place.lat,
            later.place.lon,
        ) <= config.duplicate_radius_m
}

/// Builds the case to store for `report` (its description already trimmed and checked), with id 0:
/// every check and decision, no IO. The world is read as it is, `now` is the registration time.
pub fn draft(
    world: &World,
    config: &DispatchConfig,
    report: &Report,
    actor: Actor,
    token: Option<TokenId>,
    now: DateTime<Utc>,
) -> Result<Case, IntakeError> {
    let category = checked_category(world, &report.category)?;
    let place = place_of(world, config, report.lat, report.lon)?;
    let deadline = config
        .deadline(
            category.clock,
            now,
            hours(category.limits.hours(report.priority)),
        )
        .ok_or(IntakeError::DeadlineOutOfRange)?;
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
            let mut transition = apply(&state, &SYSTEM, &Action::Dispatch { to: worker }, now)
                .map_err(IntakeError::AutoDispatch)?;
            add_detail(
                &mut transition.entry.detail,
                &json!({ "automatic": true, "route": route_json }),
            );
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
        description: report.description.clone(),
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

fn checked_category<'w>(world: &'w World, code: &str) -> Result<&'w Category, IntakeError> {
    match world.category(code) {
        Some(category) if category.active => Ok(category),
        Some(_) => Err(IntakeError::RetiredCategory(code.to_owned())),
        None => Err(IntakeError::UnknownCategory(code.to_owned())),
    }
}

/// Locates the point: its grid, or the nearest grid within `outside_grid_max_m` (属地兜底).
fn place_of(
    world: &World,
    config: &DispatchConfig,
    lat: f64,
    lon: f64,
) -> Result<Place, IntakeError> {
    let location = world.locate(lat, lon)?;
    let Some(links) = location.links else {
        return Err(IntakeError::NoCity);
    };
    let outside_m = if location.outside {
        location.distance_m
    } else {
        None
    };
    if let Some(distance_m) = outside_m
        && distance_m > config.outside_grid_max_m
    {
        return Err(IntakeError::OutsideManagedArea {
            lat,
            lon,
            distance_m,
            max_m: config.outside_grid_max_m,
        });
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
fn routing_input(
    world: &World,
    config: &DispatchConfig,
    category: &Category,
    place: &Place,
) -> RoutingInput {
    let candidate = |worker: &Worker| Candidate {
        worker: worker.id,
        on_duty: worker.duty == DutyStatus::OnDuty,
        position: world.position(worker.id).map(|p| (p.lat, p.lon)),
    };
    let category_department = category
        .department
        .as_deref()
        .and_then(|code| world.department(code))
        .map(|d| {
            d.members
                .iter()
                .filter_map(|&id| world.worker(id))
                .map(candidate)
                .collect()
        });
    let duty_in = |worker: &Worker, grid: GridId, responsibility: Responsibility| {
        worker
            .grids
            .iter()
            .any(|d| d.grid_id == grid && d.responsibility == responsibility)
    };
    let primary = world
        .workers()
        .find(|w| duty_in(w, place.grid, Responsibility::Primary))
        .map(candidate);
    let backups = world
        .workers()
        .filter(|w| duty_in(w, place.grid, Responsibility::Backup))
        .map(candidate)
        .collect();
    let community_workers = world
        .workers()
        .filter(|w| {
            w.grids
                .iter()
                .any(|d| community_of(world, d.grid_id) == Some(place.community))
        })
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
    let since = now
        .checked_sub_signed(window)
        .unwrap_or(DateTime::<Utc>::MIN_UTC);
    let mut best: Option<(IncidentId, f64)> = None;
    // A box a little larger than the radius (one degree of latitude is at least 110,574 m): the world's
    // index of open cases yields only the cases inside it.
    let dlat = config.duplicate_radius_m / 110_000.0;
    let dlon = dlat / place.lat.to_radians().cos().max(0.01);
    let bbox = [
        place.lon - dlon,
        place.lat - dlat,
        place.lon + dlon,
        place.lat + dlat,
    ];
    for case in world.open_incidents_in_bbox(bbox) {
        if case.created_at < since || case.category != category {
            continue;
        }
        let distance_m =
            crate::geodesy::haversine_m(place.lat, place.lon, case.place.lat, case.place.lon);
        // The nearest; at equal distance the newest, whatever order the index yields them in.
        if distance_m <= config.duplicate_radius_m
            && best.is_none_or(|(id, d)| {
                distance_m
                    .total_cmp(&d)
                    .then_with(|| id.cmp(&case.id()))
                    .is_lt()
            })
        {
            best = Some((case.id(), distance_m));
        }
    }
    best.map(|(id, _)| id)
}

#[cfg(test)]
mod tests;
