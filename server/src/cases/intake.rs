//! Registering a case (案卷建立): locate → route → deadline → duplicate link → one transaction.
//!
//! Group commit: every report goes to one intake writer task, which takes the writer lock, drafts every
//! report that is waiting (up to the batch limit) against the world in arrival order, stores them all in
//! one transaction — one sync to disk for the lot — then applies and publishes each event and answers
//! each report. A report is answered only after the transaction holding it has committed, exactly as if
//! it had been committed alone; under load the next group gathers while the current one syncs, so the
//! sync's cost is shared instead of queued behind (see BENCHMARKS.md, "Incident load").
//!
//! Drafting sees the world as of the last commit, so a report is never grouped with an earlier one it
//! could be a duplicate of: it waits for the next group, which sees the earlier case in the world.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::time::Instant;

use tokio::sync::{mpsc, oneshot};

use super::{SYSTEM, add_detail, hours};
use crate::dispatch::DispatchConfig;
use crate::dispatch::routing::{self, Candidate, RoutingInput, Target};
use crate::domain::incident::{
    Action, Actor, EscalationLevel, HistoryEntry, Priority, Source, Status, apply,
};
use crate::domain::{
    Case, Category, DutyStatus, GridId, Incident, IncidentId, Place, RegionId, Responsibility,
    TokenId, Worker,
};
use crate::error::ApiError;
use crate::state::{AppState, WeakState};
use crate::world::World;

/// The longest description accepted, in characters (Open311's limit).
pub const MAX_DESCRIPTION_CHARS: usize = 4000;

/// Most reports committed in one transaction unless the deployment says otherwise. Large enough that a
/// burst arriving during one sync is committed by the next; small enough that a group's statements take
/// far less time than the sync itself.
pub const DEFAULT_BATCH_MAX: usize = 64;

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
/// routes it and commits it. Returns the case as stored, once its transaction has committed.
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
    let (reply, answer) = oneshot::channel();
    let pending = Pending {
        actor,
        token,
        report,
        description,
        reply,
        queued_at: Instant::now(),
    };
    if state.intake().send(pending).is_err() {
        tracing::error!("the intake writer has stopped");
        return Err(ApiError::internal());
    }
    // If this request is abandoned, the writer still commits the report and applies it to the world:
    // only the answer is lost.
    answer.await.unwrap_or_else(|_| {
        tracing::error!("the intake writer dropped a report unanswered");
        Err(ApiError::internal())
    })
}

/// A report waiting for the intake writer, and where its answer goes.
pub struct Pending {
    actor: Actor,
    token: Option<TokenId>,
    report: Report,
    /// Trimmed and checked.
    description: String,
    reply: oneshot::Sender<Result<Case, ApiError>>,
    /// When it was handed to the writer: its wait for a group is measured from here.
    queued_at: Instant,
}

/// The intake writer: takes the reports in arrival order and commits them in groups of at most
/// `batch_max`. Ends when the state is gone.
pub(crate) async fn run(
    state: WeakState,
    mut queue: mpsc::UnboundedReceiver<Pending>,
    batch_max: usize,
) {
    let mut carried = Vec::new();
    loop {
        let mut group = std::mem::take(&mut carried);
        if group.is_empty() {
            match queue.recv().await {
                Some(pending) => group.push(pending),
                None => return,
            }
        }
        let Some(state) = state.upgrade() else { return };
        let writing = state.write_lock().await;
        // Whatever arrived while the last group was syncing joins this one.
        while group.len() < batch_max {
            match queue.try_recv() {
                Ok(pending) => group.push(pending),
                Err(_) => break,
            }
        }
        carried = commit_group(&state, group).await;
        drop(writing);
    }
}

/// Drafts, stores, applies and answers a group under the writer lock. Returns the reports that must
/// wait for the next group (from the first that could duplicate an earlier one of this group on).
async fn commit_group(state: &AppState, group: Vec<Pending>) -> Vec<Pending> {
    let mut drafts: Vec<Case> = Vec::with_capacity(group.len());
    let mut waiting: Vec<Pending> = Vec::with_capacity(group.len());
    let mut later = Vec::new();
    let started = Instant::now();
    // A report's wait ends with the group that takes it (not with one that carries it to the next).
    let waited = |pending: &Pending| {
        metrics::histogram!("gridwatch_intake_wait_seconds")
            .record(started.duration_since(pending.queued_at).as_secs_f64());
    };
    {
        let world = state.world();
        let config = state.dispatch();
        for pending in group {
            if !later.is_empty() {
                later.push(pending);
                continue;
            }
            let drafted = draft(
                &world,
                config,
                &pending.report,
                pending.description.clone(),
                pending.actor,
                pending.token,
                state.now(),
            );
            match drafted {
                Err(e) => {
                    waited(&pending);
                    let _ = pending.reply.send(Err(e));
                }
                Ok(case)
                    if drafts
                        .iter()
                        .any(|earlier| could_duplicate(config, earlier, &case)) =>
                {
                    later.push(pending);
                }
                Ok(case) => {
                    waited(&pending);
                    drafts.push(case);
                    waiting.push(pending);
                }
            }
        }
    }
    if drafts.is_empty() {
        return later;
    }
    metrics::histogram!("gridwatch_intake_group_size")
        .record(f64::from(u32::try_from(drafts.len()).unwrap_or(u32::MAX)));
    let stored = state.store().insert_incidents(&drafts).await;
    metrics::histogram!("gridwatch_intake_group_seconds").record(started.elapsed().as_secs_f64());
    match stored {
        Ok(stored) => {
            for ((case, event), pending) in stored.into_iter().zip(waiting) {
                publish(state, case, event, pending);
            }
        }
        // One report the store refuses must not fail the others: commit each alone.
        Err(e) if drafts.len() > 1 => {
            tracing::warn!(
                "a group of {} new incidents was refused ({e}); committing each alone",
                drafts.len()
            );
            for (case, pending) in drafts.into_iter().zip(waiting) {
                match state.store().insert_incident(&case).await {
                    Ok((case, event)) => publish(state, case, event, pending),
                    Err(e) => {
                        let _ = pending.reply.send(Err(e.into()));
                    }
                }
            }
        }
        Err(e) => {
            if let Some(pending) = waiting.into_iter().next() {
                let _ = pending.reply.send(Err(e.into()));
            }
        }
    }
    later
}

/// Applies a committed case to the world, publishes its event and answers its report.
fn publish(state: &AppState, case: Case, event: crate::domain::Event, pending: Pending) {
    let applied = case.clone();
    state.commit(event, |world| world.apply_incident(applied));
    metrics::counter!("gridwatch_incidents_registered_total", "source" => pending.report.source.as_str()).increment(1);
    // The reporter may have gone; the case stands.
    let _ = pending.reply.send(Ok(case));
}

/// Whether `later`, drafted in the same group, would have been linked to `earlier` as its duplicate
/// had `earlier` already been in the world (the test `duplicate_of` applies to the world's cases).
fn could_duplicate(config: &DispatchConfig, earlier: &Case, later: &Case) -> bool {
    earlier.category == later.category
        && crate::geodesy::haversine_m(
            earlier.place.lat,
            earlier.place.lon,
            later.place.lat,
            later.place.lon,
        ) <= config.duplicate_radius_m
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
        .ok_or_else(|| {
            ApiError::invalid("the deadline falls outside the representable time range")
        })?;
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
        Some(_) => Err(
            ApiError::invalid(format!("category {code:?} is no longer in use"))
                .with("field", "category"),
        ),
        None => Err(
            ApiError::invalid(format!("unknown category {code:?}; see /api/categories"))
                .with("field", "category"),
        ),
    }
}

/// Locates the point: its grid, or the nearest grid within `outside_grid_max_m` (属地兜底).
fn place_of(world: &World, config: &DispatchConfig, lat: f64, lon: f64) -> Result<Place, ApiError> {
    let location = world.locate(lat, lon)?;
    let Some(links) = location.links else {
        return Err(ApiError::invalid(
            "no city has been imported, so no grid can take the incident",
        ));
    };
    let outside_m = if location.outside {
        location.distance_m
    } else {
        None
    };
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

/// How a routing decision reads in a case's JSON.
#[must_use]
pub fn route_of(case: &Case) -> Option<&Value> {
    case.history.first()?.detail.as_ref()?.get("route")
}
