//! Storing a draft, applying it as a new boundary version, and rolling back to an earlier version
//! (see the parent module for the rules). Each is one `Core::write`, from validation to commit.

use chrono::{DateTime, Utc};
use h3o::CellIndex;
use rustc_hash::FxHashMap;
use serde_json::{Value, json};

use super::validate::{self, Current, ProposedGrid};
use super::{PlanError, diff, plan_json, version_json};
use crate::cases::SYSTEM;
use crate::core::{Core, Writer};
use crate::dispatch::routing::{self, Candidate, RoutingInput, Target};
use crate::domain::event::BoundaryChanged;
use crate::domain::incident::{EscalationLevel, HistoryEntry, Status};
use crate::domain::{
    AccessError, BuildingId, Case, DutyStatus, Grid, GridId, Principal, RegionId, Responsibility,
    Subject, Worker,
};
use crate::store::IncidentUpdate;
use crate::store::boundary::{AssignedGrid, BoundaryChange, GridWrite, NewPlan, PlanRecord};
use crate::store::{Store, StoreError};
use crate::world::World;

/// A plan as asked for: the grids (or `auto`), and what to record with the version.
#[derive(Debug, Clone)]
pub struct Request {
    /// `None` for an automatic proposal.
    pub grids: Option<Vec<ProposedGrid>>,
    pub effective_at: Option<DateTime<Utc>>,
    pub note: Option<String>,
}

/// Validates and stores a draft; [`PlanError::Invalid`] naming every problem, nothing stored.
pub async fn create(
    core: &Core,
    principal: Option<&Principal>,
    community: RegionId,
    request: Request,
) -> Result<PlanRecord, PlanError> {
    let principal = principal.cloned();
    let reader = core.clone();
    core.write(move |w| async move {
        // Drafting (the partitioner for `auto`, the checks) takes CPU in proportion to the community:
        // off the async threads. The writer lock is held, so no grid changes meanwhile.
        let drafted = tokio::task::spawn_blocking(move || {
            draft(&reader.world(), principal.as_ref(), community, request)
        })
        .await;
        let mut plan = match drafted {
            Ok(plan) => plan?,
            Err(error) => std::panic::resume_unwind(error.into_panic()),
        };
        plan.base_version = latest_version(w.store().as_ref(), community).await?;
        let (record, event) = w.store().insert_plan(&plan).await?;
        w.stored(event, |_| {});
        Ok(record)
    })
    .await
}

/// The draft to store for `request`, checked against the world.
pub fn draft(
    world: &World,
    principal: Option<&Principal>,
    community: RegionId,
    request: Request,
) -> Result<NewPlan, PlanError> {
    if let Some(principal) = principal {
        super::check_community(world, principal, community)?;
    }
    let kind = if request.grids.is_some() {
        "manual"
    } else {
        "auto"
    };
    let proposed = match request.grids {
        Some(grids) => grids,
        None => super::auto::proposal(world, community),
    };
    let grids = validate::parse(world, community, &proposed)?;
    let report = validate::report(world, community, &grids);
    Ok(NewPlan {
        community,
        kind,
        grids,
        warnings: validate::warnings(&report),
        effective_at: request.effective_at,
        note: request.note,
        created_by: principal.and_then(Principal::token),
        // Set when stored, under the writer lock.
        base_version: None,
    })
}

/// The community's latest boundary version, `None` before its first change.
async fn latest_version(store: &dyn Store, community: RegionId) -> Result<Option<i64>, StoreError> {
    Ok(store.versions(community).await?.last().map(|v| v.id))
}

/// Loads plan `id` of community `community`.
pub async fn load(
    store: &dyn Store,
    community: RegionId,
    id: i64,
) -> Result<PlanRecord, PlanError> {
    match store.plan(id).await? {
        Some(plan) if plan.community == community => Ok(plan),
        _ => Err(AccessError::NotFound(Subject::Plan { id, community }).into()),
    }
}

/// Applies draft `id` as a new boundary version; the answer names the version, the grids and the
/// re-routed cases.
pub async fn apply(
    core: &Core,
    principal: &Principal,
    community: RegionId,
    id: i64,
) -> Result<Value, PlanError> {
    let principal = principal.clone();
    core.write(move |w| async move {
        {
            let world = w.world();
            super::check_community(&world, &principal, community)?;
        }
        let plan = load(w.store().as_ref(), community, id).await?;
        let latest = latest_version(w.store().as_ref(), community).await?;
        apply_locked(&w, &principal, &plan, latest).await
    })
    .await
}

/// Rolls community `community` back to version `version`: a `rollback` plan with that version's
/// assignment, applied as a new version.
pub async fn rollback(
    core: &Core,
    principal: &Principal,
    community: RegionId,
    version: i64,
    note: Option<String>,
) -> Result<Value, PlanError> {
    let principal = principal.clone();
    core.write(
        move |w| async move { rollback_locked(&w, &principal, community, version, note).await },
    )
    .await
}

/// [`rollback`] under the writer lock.
async fn rollback_locked(
    w: &Writer,
    principal: &Principal,
    community: RegionId,
    version: i64,
    note: Option<String>,
) -> Result<Value, PlanError> {
    {
        let world = w.world();
        super::check_community(&world, principal, community)?;
    }
    let versions = w.store().versions(community).await?;
    let target = versions
        .iter()
        .find(|v| v.id == version)
        .ok_or(AccessError::NotFound(Subject::Version {
            id: version,
            community,
        }))?;
    let plan = {
        let world = w.world();
        let grids: Vec<AssignedGrid> = target
            .grids
            .iter()
            .map(|g| AssignedGrid {
                new: !world.grids().any(|w| w.code == g.code),
                ..g.clone()
            })
            .collect();
        let problems = validate::check(&world, community, &grids);
        if !problems.is_empty() {
            return Err(PlanError::NoLongerValid(problems));
        }
        let report = validate::report(&world, community, &grids);
        NewPlan {
            community,
            kind: "rollback",
            grids,
            warnings: validate::warnings(&report),
            effective_at: None,
            note: note.or_else(|| Some(format!("rollback to version {version}"))),
            created_by: principal.token(),
            base_version: versions.last().map(|v| v.id),
        }
    };
    let (record, event) = w.store().insert_plan(&plan).await?;
    w.stored(event, |_| {});
    // The versions were read under this lock: the rollback plan is drawn on the latest.
    let mut applied = apply_locked(w, principal, &record, record.base_version).await?;
    applied["plan"] = plan_json(&record, false);
    Ok(applied)
}

/// Applies `plan` under the writer lock; `latest` is the community's latest boundary version, read
/// under the same lock.
async fn apply_locked(
    w: &Writer,
    principal: &Principal,
    plan: &PlanRecord,
    latest: Option<i64>,
) -> Result<Value, PlanError> {
    if plan.status != "draft" {
        return Err(PlanError::Applied {
            plan: plan.id,
            version: plan.version.unwrap_or_default(),
        });
    }
    if plan.base_version != latest {
        return Err(PlanError::Stale {
            plan: plan.id,
            community: plan.community,
            base_version: plan.base_version,
            current_version: latest,
        });
    }
    let has_versions = latest.is_some();
    let now = w.now();
    let change = {
        let world = w.world();
        let problems = validate::check(&world, plan.community, &plan.grids);
        if !problems.is_empty() {
            return Err(PlanError::NoLongerValid(problems));
        }
        plan_change(
            &world,
            w.dispatch().nearest_radius_m,
            plan,
            has_versions,
            principal,
            now,
        )
    };
    let applied = w
        .store()
        .apply_boundary(&change)
        .await
        .map_err(|e| match e {
            StoreError::Conflict(detail) => PlanError::ApplyRefused(detail),
            other => other.into(),
        })?;

    let grids: Vec<Grid> = change
        .grids
        .iter()
        .zip(&applied.grid_ids)
        .map(|(g, &id)| Grid {
            id,
            code: g.code.clone(),
            name: g.name.clone(),
            community: plan.community,
            cells: g.cells.clone(),
            boundary: g.boundary.clone(),
            households: g.households,
            building_count: g.building_count,
            flag: g.flag,
        })
        .collect();
    let id_of: FxHashMap<&str, GridId> = grids.iter().map(|g| (g.code.as_str(), g.id)).collect();
    let buildings: Vec<(BuildingId, GridId)> = change
        .buildings
        .iter()
        .filter_map(|(b, code)| id_of.get(code.as_str()).map(|&g| (*b, g)))
        .collect();
    w.stored(applied.event.clone(), |world| {
        world.apply_boundary(grids, &buildings);
    });
    let rerouted: Vec<Value> = applied
        .incidents
        .iter()
        .map(|(case, _)| json!({"id": case.id(), "grid_id": case.place.grid, "assignee": case.state.assignee, "status": case.state.status}))
        .collect();
    for (case, event) in applied.incidents {
        w.stored(event, |world| world.apply_incident(case));
    }
    metrics::counter!("gridwatch_boundary_changes_total").increment(1);
    Ok(json!({
        "version": version_json(&applied.version),
        "plan_id": plan.id,
        "cells_moved": change.payload.cells_moved,
        "grids": change.grids.iter().zip(&applied.grid_ids).map(|(g, id)| json!({"id": id, "code": g.code, "cell_count": g.cells.len(), "households": g.households})).collect::<Vec<_>>(),
        "incidents_rerouted": rerouted,
    }))
}

/// Everything applying `plan` writes, worked out from the world.
#[allow(clippy::too_many_lines)] // one step read top to bottom; longer since rustfmt
fn plan_change(
    world: &World,
    radius_m: f64,
    plan: &PlanRecord,
    has_versions: bool,
    principal: &Principal,
    now: DateTime<Utc>,
) -> BoundaryChange {
    let community = plan.community;
    let current = Current::of(world, community);
    let loads = validate::loads(world, &current.cells);
    let moved = diff::moves(&current, &plan.grids);
    let new_code: FxHashMap<CellIndex, &str> = moved
        .iter()
        .map(|&(c, _, to)| (c, plan.grids[to].code.as_str()))
        .collect();

    let mut grids: Vec<GridWrite> = plan
        .grids
        .iter()
        .map(|g| {
            let (households, building_count, flag) = validate::figures(&g.cells, &loads);
            GridWrite {
                id: current
                    .grids
                    .iter()
                    .find(|c| c.code == g.code)
                    .map(|c| c.id),
                code: g.code.clone(),
                name: g.name.clone(),
                cells: g.cells.clone(),
                boundary: gridwatch_geodata::cells::outline(&g.cells),
                households,
                building_count,
                flag,
            }
        })
        .collect();
    for old in current
        .grids
        .iter()
        .filter(|o| !plan.grids.iter().any(|g| g.code == o.code))
    {
        grids.push(GridWrite {
            id: Some(old.id),
            code: old.code.clone(),
            name: old.name.clone(),
            cells: Vec::new(),
            boundary: geo::MultiPolygon(Vec::new()),
            households: 0,
            building_count: 0,
            flag: None,
        });
    }

    let code_of_grid = |id: Option<GridId>| id.and_then(|g| world.grid(g)).map(|g| g.code.as_str());
    let buildings: Vec<(BuildingId, String)> = world
        .buildings()
        .filter_map(|b| {
            let code = *new_code.get(&b.cell)?;
            (code_of_grid(b.grid) != Some(code)).then(|| (b.id, code.to_owned()))
        })
        .collect();

    let reroutes = world
        .incidents()
        .filter(|c| c.state.status.is_open())
        .filter_map(|case| {
            let code = *new_code.get(&case.place.cell)?;
            // The grid that answers for the case's cell now (the case itself keeps its registration grid).
            let from = world.grid(world.grid_of_cell(case.place.cell)?)?;
            (from.code != code && from.community == community)
                .then(|| reroute(world, radius_m, case, from, code, plan.id, now))
        })
        .collect();

    let baseline = (!has_versions).then(|| {
        let mut grids: Vec<AssignedGrid> = current
            .grids
            .iter()
            .filter(|g| !g.cells.is_empty())
            .map(|g| AssignedGrid {
                code: g.code.clone(),
                name: g.name.clone(),
                new: false,
                cells: g.cells.clone(),
            })
            .collect();
        grids.sort_by(|a, b| a.code.cmp(&b.code));
        grids
    });
    let moved_cells: Vec<CellIndex> = moved.iter().map(|(c, _, _)| *c).collect();
    let centre = centre(moved.iter().map(|(c, _, _)| *c));
    BoundaryChange {
        community,
        plan: plan.id,
        baseline,
        assignment: plan
            .grids
            .iter()
            .map(|g| AssignedGrid {
                new: false,
                ..g.clone()
            })
            .collect(),
        effective_at: plan.effective_at.unwrap_or(now),
        applied_at: now,
        applied_by: principal.token(),
        note: plan.note.clone(),
        grids,
        buildings,
        reroutes,
        // The store fills in the version and the grid ids it writes.
        payload: BoundaryChanged {
            community,
            plan: plan.id,
            effective_at: plan.effective_at.unwrap_or(now),
            cells_moved: moved_cells.len(),
            cells: moved_cells,
            lat: centre.map(|c| c.0),
            lon: centre.map(|c| c.1),
            version: 0,
            grids: Vec::new(),
        },
    }
}

/// The mean centre `(lat, lon)` of some cells, degrees.
fn centre(cells: impl Iterator<Item = CellIndex>) -> Option<(f64, f64)> {
    let (mut lat, mut lon, mut n) = (0.0, 0.0, 0.0);
    for cell in cells {
        let ll = h3o::LatLng::from(cell);
        lat += ll.lat();
        lon += ll.lng();
        n += 1.0;
    }
    (n > 0.0).then(|| (lat / n, lon / n))
}

/// An open case whose cell moves from grid `from` to the grid coded `to`: routed again with that grid.
/// It keeps `from` as its grid (the grid at registration is kept for the case's whole life).
fn reroute(
    world: &World,
    radius_m: f64,
    case: &Case,
    from: &Grid,
    to: &str,
    plan: i64,
    now: DateTime<Utc>,
) -> IncidentUpdate {
    let grid = world.grids().find(|g| g.code == to).map(|g| g.id);
    let candidate = |worker: &Worker| Candidate {
        worker: worker.id,
        on_duty: worker.duty == DutyStatus::OnDuty,
        position: world.position(worker.id).map(|p| (p.lat, p.lon)),
    };
    let duty = |worker: &Worker, responsibility: Responsibility| {
        grid.is_some_and(|g| {
            worker
                .grids
                .iter()
                .any(|d| d.grid_id == g && d.responsibility == responsibility)
        })
    };
    let input = RoutingInput {
        category_department: world
            .category(&case.category)
            .and_then(|c| c.department.as_deref())
            .and_then(|code| world.department(code))
            .map(|d| {
                d.members
                    .iter()
                    .filter_map(|&id| world.worker(id))
                    .map(candidate)
                    .collect()
            }),
        primary: world
            .workers()
            .find(|w| duty(w, Responsibility::Primary))
            .map(candidate),
        backups: world
            .workers()
            .filter(|w| duty(w, Responsibility::Backup))
            .map(candidate)
            .collect(),
        community_workers: world
            .workers()
            .filter(|w| {
                w.grids.iter().any(|d| {
                    world
                        .grid(d.grid_id)
                        .is_some_and(|g| g.community == from.community)
                })
            })
            .map(candidate)
            .collect(),
        incident_lat: case.place.lat,
        incident_lon: case.place.lon,
        radius_m,
    };
    let route = routing::route(&input);
    let mut route_json = json!(route.reason);
    route_json["worker"] = match route.to {
        Target::Worker(worker) => json!(worker),
        Target::CommunityQueue => Value::Null,
    };
    let mut next = case.clone();
    let in_hand = matches!(
        case.state.status,
        Status::Registered | Status::Dispatched | Status::Accepted | Status::InProgress
    );
    if in_hand {
        match route.to {
            Target::Worker(worker) if case.state.assignee != Some(worker) => {
                next.state.status = Status::Dispatched;
                next.state.assignee = Some(worker);
            }
            Target::Worker(_) => {}
            Target::CommunityQueue => {
                next.state.status = Status::Registered;
                next.state.assignee = None;
                next.state.level = EscalationLevel::Community;
            }
        }
    }
    next.updated_at = now;
    next.history.push(HistoryEntry {
        at: now,
        actor: SYSTEM,
        action: "boundary_change".to_owned(),
        from: case.state.status,
        to: next.state.status,
        note: Some(format!("grid {} → {to}", from.code)),
        detail: Some(json!({
            "reason": "boundary_change",
            "plan": plan,
            "from_grid": from.code,
            "to_grid": to,
            "route": route_json,
            "rerouted": in_hand,
        })),
    });
    IncidentUpdate {
        case: next,
        new_entries: 1,
    }
}
