//! What a plan would change, worked out from the in-memory world only (no SQL), so a planner can try a
//! move and see its consequences at once: cells moved (from code → to code), households and buildings
//! moved, each grid's figures before and after, the workers whose grids change, new grids without a
//! worker, and the open cases in moved cells with their current and new grid.

use rustc_hash::{FxHashMap, FxHashSet};
use serde_json::{Value, json};

use super::validate::Current;
use crate::domain::{GridId, RegionId, Responsibility};
use crate::store::boundary::AssignedGrid;
use crate::world::World;

/// The cells whose grid changes: each with its current grid (by code, `None` if in no grid) and its new
/// grid's index in `plan`.
#[must_use]
pub fn moves(
    current: &Current<'_>,
    plan: &[AssignedGrid],
) -> Vec<(h3o::CellIndex, Option<usize>, usize)> {
    let mut old: FxHashMap<h3o::CellIndex, usize> = FxHashMap::default();
    for (i, grid) in current.grids.iter().enumerate() {
        for &cell in &grid.cells {
            old.insert(cell, i);
        }
    }
    let mut moved = Vec::new();
    for (to, grid) in plan.iter().enumerate() {
        for &cell in &grid.cells {
            let from = old.get(&cell).copied();
            if from.is_none_or(|f| current.grids[f].code != grid.code) {
                moved.push((cell, from, to));
            }
        }
    }
    moved.sort_unstable();
    moved
}

/// The diff of `plan` against community `community` as the world has it now.
#[must_use]
#[allow(clippy::too_many_lines)] // one step read top to bottom; longer since rustfmt
pub fn diff(world: &World, community: RegionId, plan: &[AssignedGrid]) -> Value {
    let current = Current::of(world, community);
    let moved = moves(&current, plan);
    let code_of = |from: Option<usize>| from.map(|f| current.grids[f].code.as_str());
    let moved_to: FxHashMap<h3o::CellIndex, usize> =
        moved.iter().map(|&(c, _, to)| (c, to)).collect();

    // Households and buildings leaving and entering each grid, by code.
    let mut out: FxHashMap<&str, (u32, u32, usize)> = FxHashMap::default();
    let mut into: FxHashMap<&str, (u32, u32, usize)> = FxHashMap::default();
    for &(_, from, to) in &moved {
        if let Some(code) = code_of(from) {
            out.entry(code).or_default().2 += 1;
        }
        into.entry(plan[to].code.as_str()).or_default().2 += 1;
    }
    let (mut households, mut buildings) = (0_u64, 0_u64);
    for building in world.buildings() {
        let Some(&to) = moved_to.get(&building.cell) else {
            continue;
        };
        households += u64::from(building.households);
        buildings += 1;
        if let Some(code) = building
            .grid
            .and_then(|g| world.grid(g))
            .map(|g| g.code.as_str())
        {
            let entry = out.entry(code).or_default();
            entry.0 += building.households;
            entry.1 += 1;
        }
        let entry = into.entry(plan[to].code.as_str()).or_default();
        entry.0 += building.households;
        entry.1 += 1;
    }

    let planned: FxHashSet<&str> = plan.iter().map(|g| g.code.as_str()).collect();
    let mut grids = Vec::new();
    let mut changed: Vec<(&str, Option<GridId>, &'static str)> = Vec::new();
    for grid in &current.grids {
        let retired = !grid.cells.is_empty() && !planned.contains(grid.code.as_str());
        let (o, i) = (
            out.get(grid.code.as_str()).copied().unwrap_or_default(),
            into.get(grid.code.as_str()).copied().unwrap_or_default(),
        );
        if !retired && o.2 == 0 && i.2 == 0 {
            continue;
        }
        let change = if retired {
            "emptied"
        } else if grid.cells.is_empty() {
            "restored"
        } else {
            "changed"
        };
        changed.push((grid.code.as_str(), Some(grid.id), change));
        grids.push(json!({
            "code": grid.code, "id": grid.id, "change": change,
            "cells_removed": o.2, "cells_added": i.2,
            "households_before": grid.households,
            "households_after": (i64::from(grid.households) - i64::from(o.0) + i64::from(i.0)).max(0),
        }));
    }
    let mut without_worker = Vec::new();
    for grid in plan.iter().filter(|g| g.new) {
        let i = into.get(grid.code.as_str()).copied().unwrap_or_default();
        changed.push((grid.code.as_str(), None, "new"));
        without_worker.push(grid.code.clone());
        grids.push(json!({"code": grid.code, "id": null, "change": "new", "cells_removed": 0, "cells_added": i.2,
            "households_before": 0, "households_after": i.0}));
    }

    let mut workers = Vec::new();
    for worker in world.workers() {
        for duty in &worker.grids {
            if let Some((code, _, change)) =
                changed.iter().find(|(_, id, _)| *id == Some(duty.grid_id))
            {
                workers.push(json!({"worker_id": worker.id, "name": worker.name, "grid": code, "change": change,
                    "responsibility": duty.responsibility}));
            }
        }
    }
    for (code, id, _) in &changed {
        let primary = id.is_some_and(|id| {
            world.workers().any(|w| {
                w.grids
                    .iter()
                    .any(|d| d.grid_id == id && d.responsibility == Responsibility::Primary)
            })
        });
        if id.is_some() && !primary && planned.contains(code) {
            without_worker.push((*code).to_owned());
        }
    }

    let mut incidents = Vec::new();
    for case in world.incidents().filter(|c| c.state.status.is_open()) {
        let Some(&to) = moved_to.get(&case.place.cell) else {
            continue;
        };
        // The grid that answers for the case's cell now (the case itself keeps its registration grid).
        let Some(from) = world
            .grid_of_cell(case.place.cell)
            .and_then(|g| world.grid(g))
        else {
            continue;
        };
        if from.code == plan[to].code || from.community != community {
            continue;
        }
        incidents.push(
            json!({"id": case.id(), "status": case.state.status, "assignee": case.state.assignee,
            "from_grid": from.code, "to_grid": plan[to].code}),
        );
    }

    json!({
        "community_id": community,
        "cells_moved": moved.len(),
        "households_moved": households,
        "buildings_moved": buildings,
        "moves": moved.iter().map(|&(cell, from, to)| json!({"cell": cell.to_string(), "from": code_of(from), "to": plan[to].code})).collect::<Vec<_>>(),
        "grids": grids,
        "workers": workers,
        "grids_without_worker": without_worker,
        "incidents": incidents,
    })
}
