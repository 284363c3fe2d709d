//! Boundary versions, and the writes of the one transaction that applies a boundary change
//! (the caller appends its events). Types and row decoding live in `store/boundary.rs`.

use std::collections::HashMap;

use sqlx::types::Json;

use super::bulk::Bulk;
use super::driver::Sql;
use super::{Dialect, Tx, incidents};
use crate::domain::{Case, GridId, RegionId};
use crate::store::StoreError;
use crate::store::boundary::{AssignedGrid, BoundaryChange, GridWrite, VersionRecord};
use crate::store::sql::codec::{flag_text, geojson_text};

async fn insert_version<D: Dialect>(
    tx: &mut Tx<D>,
    change: &BoundaryChange,
    plan: Option<i64>,
    grids: &[AssignedGrid],
    note: Option<&str>,
) -> Result<VersionRecord, StoreError> {
    (D::SQL.insert_version)
        .bind(change.community.0)
        .bind(plan)
        .bind(change.effective_at)
        .bind(change.applied_at)
        .bind(change.applied_by.map(|t| t.0))
        .bind(note)
        .bind(Json(grids))
        .fetch_one(tx, "inserting a boundary version")
        .await
}

/// Writes a boundary change: the version (after a baseline when given), the plan marked applied
/// (`Conflict` unless it was a draft), the community's grids and cells, moved buildings and re-routed
/// cases. Returns the version, every grid's id in the order of `change.grids`, and the cases as stored.
pub(super) async fn apply<D: Dialect>(
    tx: &mut Tx<D>,
    change: &BoundaryChange,
) -> Result<(VersionRecord, Vec<GridId>, Vec<Case>), StoreError> {
    if let Some(baseline) = &change.baseline {
        let note = Some("before the first boundary change");
        insert_version(tx, change, None, baseline, note).await?;
    }
    let note = change.note.as_deref();
    let version = insert_version(tx, change, Some(change.plan), &change.assignment, note).await?;
    let marked = (D::SQL.mark_plan_applied)
        .bind(version.id)
        .bind(change.plan)
        .execute(tx, "marking a plan applied")
        .await?;
    if marked == 0 {
        let plan = change.plan;
        return Err(StoreError::Conflict(format!("plan {plan} is not a draft")));
    }
    // Cells first leave every grid of the community, so no cell is ever in two grids.
    (D::SQL.clear_community_cells)
        .bind(change.community.0)
        .execute(tx, "clearing the community's cells")
        .await?;
    let mut ids = Vec::with_capacity(change.grids.len());
    let mut by_code: HashMap<&str, GridId> = HashMap::new();
    let mut cells = Vec::with_capacity(change.grids.len());
    for grid in &change.grids {
        let id = write_grid(tx, change.community, grid).await?;
        cells.push((id.0, grid.cells.as_slice()));
        ids.push(id);
        by_code.insert(&grid.code, id);
    }
    let doing = "writing the community's cells";
    D::insert_bulk(tx, Bulk::cells(&cells, doing)).await?;
    for (building, code) in &change.buildings {
        let grid = by_code
            .get(code.as_str())
            .ok_or_else(|| StoreError::NotFound(format!("grid {code}")))?;
        (D::SQL.move_building)
            .bind(grid.0)
            .bind(building.0)
            .execute(tx, "moving a building to its new grid")
            .await?;
    }
    // A re-routed case keeps the grid it was registered in (for its whole life): only its routing
    // changed.
    incidents::update_cases(tx, &change.reroutes).await?;
    let cases = change.reroutes.iter().map(|r| r.case.clone()).collect();
    Ok((version, ids, cases))
}

/// Updates grid `grid` (or inserts it, when new) and returns its id. Both statements take the
/// grid's values first, `name … boundary`.
async fn write_grid<D: Dialect>(
    tx: &mut Tx<D>,
    community: RegionId,
    grid: &GridWrite,
) -> Result<GridId, StoreError> {
    let values = |sql: Sql<D>| {
        sql.bind(&grid.name)
            .bind(i64::from(grid.households))
            .bind(i64::from(grid.building_count))
            .bind(flag_text(grid.flag.as_ref()))
            .bind(geojson_text(&grid.boundary))
    };
    if let Some(id) = grid.id {
        let update = values(D::SQL.update_grid).bind(id.0);
        update.execute(tx, "updating a grid").await?;
        return Ok(id);
    }
    let insert = values(D::SQL.insert_grid).bind(&grid.code);
    let id = insert
        .bind(community.0)
        .scalar(tx, "inserting a grid")
        .await?;
    Ok(GridId(id))
}
