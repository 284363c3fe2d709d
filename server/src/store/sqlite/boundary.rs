//! Boundary plans and versions on SQLite, and the one transaction that applies a boundary change. The
//! same statements as `postgres/boundary.rs`, in this dialect.

use std::collections::HashMap;

use sqlx::SqliteConnection;

use super::{SqliteStore, append_event, incidents};
use crate::domain::event::PlanCreated;
use crate::domain::{Change, Event, GridId, RegionId};
use crate::store::StoreError;
use crate::store::boundary::{
    AssignedGrid, BoundaryApplied, BoundaryChange, GridWrite, NewPlan, PlanRecord, PlanRow,
    VersionRecord, VersionRow, changed_payload, grids_text, rerouted_payload,
};
use crate::store::payload::codec::{self, cell_to_i64, flag_text, geojson_text};
use crate::store::payload::conflict::Context;

const PLAN_COLUMNS: &str = "id, community_id, kind, status, grids, warnings, effective_at, note, created_at, created_by, version_id, base_version_id";
const VERSION_COLUMNS: &str =
    "id, community_id, plan_id, effective_at, applied_at, applied_by, note, grids";

pub(super) async fn insert_plan(
    store: &SqliteStore,
    plan: &NewPlan,
) -> Result<(PlanRecord, Event), StoreError> {
    let created_at = codec::now();
    let mut tx = store.begin_write("starting a plan insert").await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO boundary_plans (community_id, kind, status, grids, warnings, effective_at, note, created_at, created_by, \
         base_version_id) VALUES (?, ?, 'draft', ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(plan.community.0)
    .bind(plan.kind)
    .bind(grids_text(&plan.grids))
    .bind(plan.warnings.to_string())
    .bind(plan.effective_at)
    .bind(&plan.note)
    .bind(created_at)
    .bind(plan.created_by.map(|t| t.0))
    .bind(plan.base_version)
    .fetch_one(&mut *tx)
    .await
    .context("inserting a plan")?;
    let record = PlanRecord {
        id,
        community: plan.community,
        kind: plan.kind.to_owned(),
        status: "draft".to_owned(),
        grids: plan.grids.clone(),
        warnings: plan.warnings.clone(),
        effective_at: plan.effective_at,
        note: plan.note.clone(),
        created_at,
        created_by: plan.created_by,
        version: None,
        base_version: plan.base_version,
    };
    let change = Change::PlanCreated(PlanCreated {
        id,
        community: plan.community,
        kind: plan.kind.to_owned(),
    });
    let event = append_event(&mut tx, change).await?;
    tx.commit().await.context("committing a plan")?;
    Ok((record, event))
}

pub(super) async fn plans(
    store: &SqliteStore,
    community: RegionId,
) -> Result<Vec<PlanRecord>, StoreError> {
    let rows: Vec<PlanRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {PLAN_COLUMNS} FROM boundary_plans WHERE community_id = ? ORDER BY id"
    )))
    .bind(community.0)
    .fetch_all(&store.pool)
    .await
    .context("loading plans")?;
    rows.into_iter().map(PlanRow::into_record).collect()
}

pub(super) async fn plan(store: &SqliteStore, id: i64) -> Result<Option<PlanRecord>, StoreError> {
    let row: Option<PlanRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {PLAN_COLUMNS} FROM boundary_plans WHERE id = ?"
    )))
    .bind(id)
    .fetch_optional(&store.pool)
    .await
    .context("loading a plan")?;
    row.map(PlanRow::into_record).transpose()
}

pub(super) async fn versions(
    store: &SqliteStore,
    community: RegionId,
) -> Result<Vec<VersionRecord>, StoreError> {
    let rows: Vec<VersionRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {VERSION_COLUMNS} FROM boundary_versions WHERE community_id = ? ORDER BY id"
    )))
    .bind(community.0)
    .fetch_all(&store.pool)
    .await
    .context("loading boundary versions")?;
    rows.into_iter().map(VersionRow::into_record).collect()
}

async fn insert_version(
    conn: &mut SqliteConnection,
    change: &BoundaryChange,
    plan: Option<i64>,
    grids: &[AssignedGrid],
    note: Option<&str>,
) -> Result<VersionRecord, StoreError> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO boundary_versions (community_id, plan_id, effective_at, applied_at, applied_by, note, grids) \
         VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(change.community.0)
    .bind(plan)
    .bind(change.effective_at)
    .bind(change.applied_at)
    .bind(change.applied_by.map(|t| t.0))
    .bind(note)
    .bind(grids_text(grids))
    .fetch_one(&mut *conn)
    .await
    .context("inserting a boundary version")?;
    Ok(VersionRecord {
        id,
        community: change.community,
        plan,
        effective_at: change.effective_at,
        applied_at: change.applied_at,
        applied_by: change.applied_by,
        note: note.map(ToOwned::to_owned),
        grids: grids.to_vec(),
    })
}

#[allow(clippy::too_many_lines)] // one step read top to bottom; longer since rustfmt
pub(super) async fn apply(
    store: &SqliteStore,
    change: &BoundaryChange,
) -> Result<BoundaryApplied, StoreError> {
    let mut tx = store.begin_write("starting a boundary change").await?;
    if let Some(baseline) = &change.baseline {
        insert_version(
            &mut tx,
            change,
            None,
            baseline,
            Some("before the first boundary change"),
        )
        .await?;
    }
    let version = insert_version(
        &mut tx,
        change,
        Some(change.plan),
        &change.assignment,
        change.note.as_deref(),
    )
    .await?;
    let marked = sqlx::query("UPDATE boundary_plans SET status = 'applied', version_id = ? WHERE id = ? AND status = 'draft'")
        .bind(version.id)
        .bind(change.plan)
        .execute(&mut *tx)
        .await
        .context("marking a plan applied")?;
    if marked.rows_affected() == 0 {
        return Err(StoreError::Conflict(format!(
            "plan {} is not a draft",
            change.plan
        )));
    }
    // Cells first leave every grid of the community, so no cell is ever in two grids.
    sqlx::query(
        "DELETE FROM grid_cells WHERE grid_id IN (SELECT id FROM grids WHERE community_id = ?)",
    )
    .bind(change.community.0)
    .execute(&mut *tx)
    .await
    .context("clearing the community's cells")?;
    let mut ids = Vec::with_capacity(change.grids.len());
    let mut by_code: HashMap<&str, GridId> = HashMap::new();
    for grid in &change.grids {
        let id = write_grid(&mut tx, change.community, grid).await?;
        for &cell in &grid.cells {
            sqlx::query("INSERT INTO grid_cells (cell, grid_id) VALUES (?, ?)")
                .bind(cell_to_i64(cell))
                .bind(id.0)
                .execute(&mut *tx)
                .await
                .context("writing a grid's cells")?;
        }
        ids.push(id);
        by_code.insert(&grid.code, id);
    }
    let grid_of = |code: &str| {
        by_code
            .get(code)
            .copied()
            .ok_or_else(|| StoreError::NotFound(format!("grid {code}")))
    };
    for (building, code) in &change.buildings {
        sqlx::query("UPDATE buildings SET grid_id = ? WHERE id = ?")
            .bind(grid_of(code)?.0)
            .bind(building.0)
            .execute(&mut *tx)
            .await
            .context("moving a building to its new grid")?;
    }
    let mut cases = Vec::with_capacity(change.reroutes.len());
    for reroute in &change.reroutes {
        // The case keeps the grid it was registered in (kept for its whole life); only its routing changed.
        let case = reroute.case.clone();
        incidents::update_row(&mut tx, &case).await?;
        let first = case.history.len().saturating_sub(reroute.new_entries);
        for (position, entry) in case.history.iter().enumerate().skip(first) {
            incidents::insert_history(&mut tx, case.id(), position, entry).await?;
        }
        cases.push(case);
    }
    let event = append_event(&mut tx, changed_payload(change, version.id, &ids)).await?;
    let mut incidents = Vec::with_capacity(cases.len());
    for case in cases {
        let event = append_event(&mut tx, rerouted_payload(&case, version.id)).await?;
        incidents.push((case, event));
    }
    tx.commit().await.context("committing a boundary change")?;
    Ok(BoundaryApplied {
        version,
        grid_ids: ids,
        event,
        incidents,
    })
}

/// Updates grid `grid` (or inserts it, when new) and returns its id.
async fn write_grid(
    conn: &mut SqliteConnection,
    community: RegionId,
    grid: &GridWrite,
) -> Result<GridId, StoreError> {
    Ok(match grid.id {
        Some(id) => {
            sqlx::query(
                "UPDATE grids SET name = ?, households = ?, building_count = ?, flag = ?, boundary = ? WHERE id = ?",
            )
            .bind(&grid.name)
            .bind(i64::from(grid.households))
            .bind(i64::from(grid.building_count))
            .bind(flag_text(grid.flag.as_ref()))
            .bind(geojson_text(&grid.boundary))
            .bind(id.0)
            .execute(&mut *conn)
            .await
            .context("updating a grid")?;
            id
        }
        None => GridId(
            sqlx::query_scalar(
                "INSERT INTO grids (code, name, community_id, households, building_count, flag, boundary) \
                 VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            )
            .bind(&grid.code)
            .bind(&grid.name)
            .bind(community.0)
            .bind(i64::from(grid.households))
            .bind(i64::from(grid.building_count))
            .bind(flag_text(grid.flag.as_ref()))
            .bind(geojson_text(&grid.boundary))
            .fetch_one(&mut *conn)
            .await
            .context("inserting a grid")?,
        ),
    })
}
