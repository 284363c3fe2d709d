//! The snapshot the world is built from: every table, read inside the caller's one read transaction.

use super::{Dialect, Tx, cameras, incidents};
use crate::store::payload::{self, rows::SnapshotRows};
use crate::store::{Snapshot, StoreError};

pub(super) async fn load<D: Dialect>(tx: &mut Tx<D>) -> Result<Snapshot, StoreError> {
    let resolution = D::SQL.load_setting.bind(payload::CELL_RESOLUTION);
    let rows = SnapshotRows {
        resolution: resolution.optional_scalar(tx, "loading settings").await?,
        regions: D::SQL.load_regions.fetch_all(tx, "loading regions").await?,
        grids: D::SQL.load_grids.fetch_all(tx, "loading grids").await?,
        cells: D::SQL
            .load_cells
            .fetch_all(tx, "loading grid cells")
            .await?,
        buildings: D::SQL
            .load_buildings
            .fetch_all(tx, "loading buildings")
            .await?,
        base_lines: D::SQL
            .load_base_lines
            .fetch_all(tx, "loading base-map lines")
            .await?,
        base_areas: D::SQL
            .load_base_areas
            .fetch_all(tx, "loading base-map areas")
            .await?,
        workers: D::SQL.load_workers.fetch_all(tx, "loading workers").await?,
        duties: D::SQL
            .load_duties
            .fetch_all(tx, "loading grid duties")
            .await?,
        last_seq: D::SQL
            .last_seq
            .query()
            .scalar(tx, "loading the last event")
            .await?,
    };
    let (categories, departments, incidents) = incidents::load(tx).await?;
    let cameras = cameras::load(tx).await?;
    Ok(Snapshot {
        categories,
        departments,
        incidents,
        cameras,
        ..rows.into_snapshot()?
    })
}
