//! Boundary plans (网格调整): a planner redraws a community's grids by moving cells between them.
//!
//! The one path, as for every change: **proposal → validate against the world → store the draft**, then
//! **apply → re-validate → one store transaction → apply to the world → publish**.
//!
//! - [`validate`] turns a request (`{"grids": [{"code"?, "name"?, "cells": […]}], "effective_at"?,
//!   "note"?}`) into a full assignment and refuses ([`PlanError::Invalid`], a 422 problem+json) gaps
//!   (`plan-gap`), overlaps (`plan-overlap`), cells not in the community (`plan-foreign-cell`), grids
//!   whose cells are not connected through H3 edge neighbours (`plan-split-grid`), empty grids, unknown
//!   or foreign codes and codes given twice. Each problem names up to [`validate::EXAMPLES`] cells or grids and counts all.
//!   Grids outside 100–150 households are warnings with geodata's reason, stored with the draft.
//!   A grid without a code is new: it gets the next free 3-digit sequence under the community's code
//!   when the draft is stored, so the diff and the apply speak of the same codes.
//! - [`auto`] makes the proposal with `geodata::partition_cells` on the community's cells and the
//!   households of the world's buildings; each new group keeps the code of the old grid it shares the
//!   most households (then cells) with, one group per code, greedily by that overlap.
//! - [`diff`] says what would move, from the in-memory world only (no SQL): cells (from code → to code),
//!   households and buildings, the workers whose grids change, new grids without a worker, and the open
//!   cases in moved cells with their current and new grid.
//! - [`apply`] re-validates the draft against the world as it is now (a plan drawn on an earlier
//!   boundary version than the community's latest, or no longer valid, is a 409 `plan-stale`
//!   ([`PlanError::Stale`], [`PlanError::NoLongerValid`]): applying it would silently undo the change
//!   made since; an applied one a 409 `plan-applied`), then writes one
//!   transaction:
//!   a version row holding the community's whole assignment after the change (and, before the first
//!   change of a community, a baseline version of the assignment as imported), the grid rows (cells,
//!   households, building counts, flag, outline from `geodata::cells::outline`), the community's
//!   `grid_cells`, the buildings' grid, and each re-routed case. Then the world takes the new grids and
//!   publishes `boundary.changed` (live layer `grids`, to the subscribers of the grids it touches, of the
//!   area, and to those watching everything), whose tiles are invalidated like any other event's
//!   (`tiles::touched`), and one `incident.updated` per re-routed case.
//!
//! # Decisions
//! - **Grids are never deleted.** A grid that gets no cells keeps its row, code, name and worker duties,
//!   emptied (no cells, 0 households); closed cases keep pointing at it, so KPIs by grid do not change,
//!   and a rollback that gives it cells again brings back the same grid with the same workers. Lists
//!   (`GET /api/grids`) leave emptied grids out; `GET /api/grids/{id}` still answers.
//! - **Worker duties are not touched by a boundary change.** The diff lists the workers whose grids
//!   change and the new grids without a worker; assigning them is the planner's next step
//!   (`PUT /api/workers/{id}/grids`). That is also what makes a rollback restore assignments exactly.
//! - **Open cases in moved cells** (registered to dispatched, accepted or in progress) go through the
//!   routing chain again (`dispatch::routing`) with the cell's new grid; a new assignee makes the case
//!   `dispatched` to them, the community queue makes it `registered`. A resolved case awaiting
//!   verification is not re-routed. Each gets a history entry `boundary_change` (reason, from and to
//!   grid codes, the route) and its own event. A case located just outside every grid has no moved cell
//!   and stays. **Every case keeps the grid it was registered in** (`grid_id`, kept for the case's
//!   whole life: the grid answerable at the time stays answerable in the ledger and the KPIs); which
//!   grid answers for its cell *now* is the grids', and a later change of that cell routes it again.
//! - **Versions are append-only.** `POST /api/communities/{id}/versions/{v}/rollback` stores a plan of
//!   kind `rollback` holding version `v`'s assignment (codes, names, cells) and applies it as a new
//!   version. `effective_at` is recorded as given (default: the time applied); a change takes effect
//!   when applied — scheduling a future boundary is not done here.
//! - Only the community's own cells may move: the set of cells of a community never changes by a plan.

pub mod apply;
pub mod auto;
pub mod diff;
pub mod validate;

use serde_json::{Value, json};

use crate::domain::{AccessError, Principal, RegionId, RegionLevel, Subject};
use crate::store::StoreError;
use crate::store::boundary::{PlanRecord, VersionRecord};
use crate::world::World;

pub use validate::{Problem, ProblemKind};

/// Why a plan was not stored, applied or rolled back; nothing changed.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The community, plan or version is unknown, or the community is outside the caller's scope.
    #[error(transparent)]
    Access(#[from] AccessError),
    /// The proposal is not a valid assignment of the community's cells (every problem, in the order
    /// checked; never empty).
    #[error("{}", messages(.0))]
    Invalid(Vec<Problem>),
    /// A stored plan (or the version rolled back to) is no longer a valid assignment of the grids
    /// as they are now.
    #[error("{}", messages(.0))]
    NoLongerValid(Vec<Problem>),
    /// The draft was drawn on an earlier boundary version than the community's latest (`None`: the
    /// grids as imported): applying it would silently undo the change made since.
    #[error(
        "plan {plan} was drawn on {}, but community {community} is now at {}; draft it again on the current grids",
        version_name(*base_version),
        version_name(*current_version)
    )]
    Stale {
        plan: i64,
        community: RegionId,
        base_version: Option<i64>,
        current_version: Option<i64>,
    },
    /// A grid name that is blank or longer than `validate::MAX_NAME_CHARS` (its first 40 characters).
    #[error(
        "a grid name must be 1–{max} characters, not {0:?}",
        max = validate::MAX_NAME_CHARS
    )]
    BadName(String),
    /// Every 3-digit grid sequence under the community's code is taken.
    #[error("community {0} has no free grid code left")]
    NoFreeCode(RegionId),
    #[error("plan {plan} is already applied (version {version})")]
    Applied { plan: i64, version: i64 },
    /// The store refused to mark the plan applied (another apply won the race).
    #[error("{0}")]
    ApplyRefused(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn messages(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| p.message.as_str())
        .collect::<Vec<_>>()
        .join("; ")
}

fn version_name(version: Option<i64>) -> String {
    version.map_or_else(
        || "the grids as imported".to_owned(),
        |v| format!("version {v}"),
    )
}

/// Refused unless `id` is a community whose every grid the principal sees.
pub fn check_community(
    world: &World,
    principal: &Principal,
    id: RegionId,
) -> Result<(), AccessError> {
    match world.region(id) {
        Some(region) if region.level == RegionLevel::Community => {}
        _ => return Err(AccessError::NotFound(Subject::Community(id))),
    }
    let visibility = world.visibility(principal);
    if world
        .grids()
        .filter(|g| g.community == id)
        .all(|g| visibility.grid(g.id))
    {
        Ok(())
    } else {
        Err(AccessError::OutOfScope(Subject::Community(id)))
    }
}

/// A plan as the API shows it; its grids' cells only when `cells`.
#[must_use]
pub fn plan_json(plan: &PlanRecord, cells: bool) -> Value {
    json!({
        "id": plan.id,
        "community_id": plan.community,
        "kind": plan.kind,
        "status": plan.status,
        "effective_at": plan.effective_at,
        "note": plan.note,
        "created_at": plan.created_at,
        "created_by": plan.created_by,
        "version_id": plan.version,
        "base_version_id": plan.base_version,
        "warnings": plan.warnings,
        "grids": plan.grids.iter().map(|g| {
            let mut grid = json!({"code": g.code, "name": g.name, "new": g.new, "cell_count": g.cells.len()});
            if cells {
                grid["cells"] = json!(g.cells.iter().map(ToString::to_string).collect::<Vec<_>>());
            }
            grid
        }).collect::<Vec<_>>(),
    })
}

/// A version as the API shows it.
#[must_use]
pub fn version_json(version: &VersionRecord) -> Value {
    json!({
        "id": version.id,
        "community_id": version.community,
        "plan_id": version.plan,
        "effective_at": version.effective_at,
        "applied_at": version.applied_at,
        "applied_by": version.applied_by,
        "note": version.note,
        "grids": version.grids.iter().map(|g| json!({"code": g.code, "name": g.name, "cell_count": g.cells.len()})).collect::<Vec<_>>(),
    })
}
