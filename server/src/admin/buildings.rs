//! Buildings: adding one to the grid its footprint's centroid lies in (every household belongs to a
//! grid), within the caller's scope. Counts and flags only, never residents.

use geo::{Centroid, MultiPolygon};

use crate::core::Core;
use crate::domain::{AccessError, Building, Principal, Subject};
use crate::store::{NewBuilding, StoreError};
use crate::world::LocateError;
use crate::world::locate::checked_latlng;

/// Why a building was not added; nothing was.
#[derive(Debug, thiserror::Error)]
pub enum BuildingError {
    /// A footprint without a centroid (no area).
    #[error("the footprint has no area")]
    NoArea,
    /// The footprint's centroid is not a valid coordinate.
    #[error(transparent)]
    Coordinate(#[from] LocateError),
    /// Every household belongs to a grid, so a building must lie in one.
    #[error("the building lies in no grid: every household must belong to one")]
    OutsideGrids,
    /// Its grid is outside the caller's scope.
    #[error(transparent)]
    Access(#[from] AccessError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A building to add; the cell and grid come from the footprint.
#[derive(Debug, Clone)]
pub struct Footprint {
    /// Degrees (EPSG:4326, lon/lat order).
    pub footprint: MultiPolygon<f64>,
    pub kind: String,
    pub levels: Option<u32>,
    pub households: u32,
    pub source_id: Option<String>,
}

/// Adds a building in the grid of its footprint's centroid, which `principal` must see.
pub async fn create(
    core: &Core,
    principal: &Principal,
    new: Footprint,
) -> Result<Building, BuildingError> {
    let centroid = new.footprint.centroid().ok_or(BuildingError::NoArea)?;
    let principal = principal.clone();
    core.write(move |w| async move {
        let (cell, grid) = {
            let world = w.world();
            let cell = checked_latlng(centroid.y(), centroid.x())?.to_cell(world.resolution());
            let grid = world
                .grid_of_cell(cell)
                .ok_or(BuildingError::OutsideGrids)?;
            if !world.visibility(&principal).grid(grid) {
                return Err(AccessError::OutOfScope(Subject::Grid(grid)).into());
            }
            (cell, grid)
        };
        let new = NewBuilding {
            source_id: new.source_id,
            footprint: new.footprint,
            kind: new.kind,
            levels: new.levels,
            households: new.households,
            cell,
        };
        let (building, event) = w.store().insert_building(&new, Some(grid)).await?;
        let applied = building.clone();
        w.stored(event, |world| world.apply_new_building(applied));
        Ok(building)
    })
    .await
}
