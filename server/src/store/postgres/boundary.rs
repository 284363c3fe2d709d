//! Boundary plans and versions on PostgreSQL, and the one transaction that applies a boundary change.
//! The same statements as `sqlite/boundary.rs`, in this dialect (JSON columns are `jsonb`, cells go in as
//! one `UNNEST`).

use std::collections::HashMap;

use sqlx::PgConnection;

use super::{PgStore, append_event, incidents, insert_event};
use crate::domain::event::PlanCreated;
use crate::domain::{Change, Event, GridId, RegionId};
use crate::store::StoreError;
use crate::store::boundary::{
    AssignedGrid, BoundaryApplied, BoundaryChange, GridWrite, NewPlan, PlanRecord, PlanRow,
    VersionRecord, VersionRow, changed_payload, grids_text, rerouted_payload,
};
use crate::store::payload::codec::{self, cell_to_i64, flag_text, geojson_text};
use crate::store::payload::conflict::Context;

const PLAN_COLUMNS: &str = "id, community_id, kind, status, grids::text AS grids, warnings::text AS warnings, effective_at, \
                            note, created_at, created_by, version_id, base_version_id";
const VERSION_COLUMNS: &str =
    "id, community_id, plan_id, effective_at, applied_at, applied_by, note, grids::text AS grids";

pub(super) async fn insert_plan(
    store: &PgStore,
    plan: &NewPlan,
) -> Result<(PlanRecord, Event), StoreError> {
    let created_at = codec::now();
    let mut tx = store.begin_write("starting a plan insert").await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO boundary_plans (community_id, kind, status, grids, warnings, effective_at, note, created_at, created_by, \
         base_version_id) VALUES ($1, $2, 'draft', $3::jsonb, $4::jsonb, $5, $6, $7, $8, $9) RETURNING id",
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
    store: &PgStore,
    community: RegionId,
) -> Result<Vec<PlanRecord>, StoreError> {
    let rows: Vec<PlanRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {PLAN_COLUMNS} FROM boundary_plans WHERE community_id = $1 ORDER BY id"
    )))
    .bind(community.0)
    .fetch_all(&store.pool)
    .await
    .context("loading plans")?;
    rows.into_iter().map(PlanRow::into_record).collect()
}

pub(super) async fn plan(store: &PgStore, id: i64) -> Result<Option<PlanRecord>, StoreError> {
    let row: Option<PlanRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {PLAN_COLUMNS} FROM boundary_plans WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(&store.pool)
    .await
    .context("loading a plan")?;
    row.map(PlanRow::into_record).transpose()
}

pub(super) async fn versions(
    store: &PgStore,
    community: RegionId,
) -> Result<Vec<VersionRecord>, StoreError> {
    let rows: Vec<VersionRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {VERSION_COLUMNS} FROM boundary_versions WHERE community_id = $1 ORDER BY id"
    )))
    .bind(community.0)
    .fetch_all(&store.pool)
    .await
    .context("loading boundary versions")?;
    rows.into_iter().map(VersionRow::into_record).collect()
}

async fn insert_version(
    conn: &mut PgConnection,
    change: &BoundaryChange,
    plan: Option<i64>,
    grids: &[AssignedGrid],
    note: Option<&str>,
) -> Result<VersionRecord, StoreError> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO boundary_versions (community_id, plan_id, effective_at, applied_at, applied_by, note, grids) \
         VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb) RETURNING id",
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
    store: &PgStore,
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
    let marked =
        sqlx::query("UPDATE boundary_plans SET status = 'applied', version_id = $1 WHERE id = $2 AND status = 'draft'")
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
        "DELETE FROM grid_cells WHERE grid_id IN (SELECT id FROM grids WHERE community_id = $1)",
    )
    .bind(change.community.0)
    .execute(&mut *tx)
    .await
    .context("clearing the community's cells")?;
    let mut ids = Vec::with_capacity(change.grids.len());
    let mut by_code: HashMap<&str, GridId> = HashMap::new();
    let (mut cells, mut owners) = (Vec::new(), Vec::new());
    for grid in &change.grids {
        let id = write_grid(&mut tx, change.community, grid).await?;
        cells.extend(grid.cells.iter().map(|&c| cell_to_i64(c)));
        owners.extend(std::iter::repeat_n(id.0, grid.cells.len()));
        ids.push(id);
        by_code.insert(&grid.code, id);
    }
    sqlx::query(include_str!("insert_cells.sql"))
        .bind(cells)
        .bind(owners)
        .execute(&mut *tx)
        .await
        .context("writing the community's cells")?;
    let grid_of = |code: &str| {
        by_code
            .get(code)
            .copied()
            .ok_or_else(|| StoreError::NotFound(format!("grid {code}")))
    };
    for (building, code) in &change.buildings {
        sqlx::query("UPDATE buildings SET grid_id = $1 WHERE id = $2")
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
        incidents::insert_histories(&mut tx, case.id(), first, &case.history[first..]).await?;
        cases.push(case);
    }
    let event = append_event(&mut tx, changed_payload(change, version.id, &ids)).await?;
    let mut incidents = Vec::with_capacity(cases.len());
    for case in cases {
        // The events lock is held since the first append.
        let event = insert_event(&mut tx, rerouted_payload(&case, version.id)).await?;
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
    conn: &mut PgConnection,
    community: RegionId,
    grid: &GridWrite,
) -> Result<GridId, StoreError> {
    Ok(match grid.id {
        Some(id) => {
            sqlx::query(
                "UPDATE grids SET name = $1, households = $2, building_count = $3, flag = $4::jsonb, \
                 boundary = ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON($5), 4326)) WHERE id = $6",
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
                 VALUES ($1, $2, $3, $4, $5, $6::jsonb, ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON($7), 4326))) RETURNING id",
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
