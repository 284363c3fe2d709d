//! The snapshot the world is built from: every table, read inside the caller's one read transaction.

use chrono::{DateTime, Utc};

use super::city::CELL_RESOLUTION;
use super::codec::resolution_from_text;
use super::incidents::{cases, departments};
use super::rows::{grids, workers};
use super::{Dialect, Tx};
use crate::store::{Snapshot, StoreError};

pub(super) async fn load<D: Dialect>(
    tx: &mut Tx<D>,
    archived_before: Option<DateTime<Utc>>,
) -> Result<Snapshot, StoreError> {
    let sql = D::SQL;
    let resolution: Option<(String,)> = (sql.load_setting.bind(CELL_RESOLUTION))
        .fetch_optional(tx, "loading settings")
        .await?;
    // Rows that belong to other rows (a grid's cells, a worker's duties, …), joined below.
    let grid_rows = sql.load_grids.fetch_all(tx, "loading grids").await?;
    let cells = sql.load_cells.fetch_all(tx, "loading grid cells").await?;
    let worker_rows = sql.load_workers.fetch_all(tx, "loading workers").await?;
    let duties = sql.load_duties.fetch_all(tx, "loading grid duties").await?;
    let department_rows = sql
        .load_departments
        .fetch_all(tx, "loading departments")
        .await?;
    let members = sql
        .load_members
        .fetch_all(tx, "loading department members")
        .await?;
    let incident_rows = sql
        .load_incidents
        .bind(archived_before)
        .fetch_all(tx, "loading incidents")
        .await?;
    let history = sql
        .load_history
        .bind(archived_before)
        .fetch_all(tx, "loading incident history")
        .await?;
    let photos = sql
        .load_photos
        .bind(archived_before)
        .fetch_all(tx, "loading incident photos")
        .await?;
    Ok(Snapshot {
        resolution: resolution
            .map(|(r,)| resolution_from_text(&r))
            .transpose()?,
        regions: sql.load_regions.fetch_all(tx, "loading regions").await?,
        grids: grids(grid_rows, cells)?,
        buildings: sql
            .load_buildings
            .fetch_all(tx, "loading buildings")
            .await?,
        base_lines: sql
            .load_base_lines
            .fetch_all(tx, "loading base-map lines")
            .await?,
        base_areas: sql
            .load_base_areas
            .fetch_all(tx, "loading base-map areas")
            .await?,
        workers: workers(worker_rows, duties)?,
        categories: sql
            .load_categories
            .fetch_all(tx, "loading categories")
            .await?,
        departments: departments(department_rows, members)?,
        incidents: cases(incident_rows, history, photos)?,
        archived_before,
        archived: (sql.count_archived.bind(archived_before))
            .scalar::<i64>(tx, "counting archived cases")
            .await?
            > 0,
        last_incident_id: (sql.last_incident_id.query())
            .scalar(tx, "loading the last case id")
            .await?,
        cameras: sql.load_cameras.fetch_all(tx, "loading cameras").await?,
        last_seq: sql
            .last_seq
            .query()
            .scalar(tx, "loading the last event")
            .await?,
    })
}
