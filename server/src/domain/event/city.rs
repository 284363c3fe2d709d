//! Payloads of the city's shape: an import, a region, a building. Counts and geometry only: never
//! resident data.

use geo::MultiPolygon;
use h3o::CellIndex;
use serde::{Deserialize, Serialize};

use super::forms;
use crate::domain::{Building, BuildingId, GridId, Region, RegionId, RegionLevel};

/// `city.imported`: the city's name and what it holds, in counts. Built by the store from the import
/// it wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CityImported {
    pub name: String,
    pub attribution: Option<String>,
    /// The H3 resolution of the grid cells.
    pub resolution: u8,
    pub regions: usize,
    pub grids: usize,
    pub cells: usize,
    pub buildings: usize,
    pub households: u64,
    pub base_lines: usize,
    pub base_areas: usize,
}

/// `region.created`: the whole region, its boundary as a `GeoJSON` geometry (degrees, EPSG:4326).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegionCreated {
    pub id: RegionId,
    pub level: RegionLevel,
    pub code: String,
    pub name: String,
    pub parent: Option<RegionId>,
    #[serde(with = "forms::multi_polygon")]
    pub boundary: MultiPolygon<f64>,
}

impl RegionCreated {
    #[must_use]
    pub fn of(region: &Region) -> Self {
        Self {
            id: region.id,
            level: region.level,
            code: region.code.clone(),
            name: region.name.clone(),
            parent: region.parent,
            boundary: region.boundary.clone(),
        }
    }
}

/// A grid's totals after a building joined it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GridTotals {
    pub households: u32,
    pub building_count: u32,
}

/// `building.created`: the building (its cell as an H3 hex string, its footprint as a `GeoJSON`
/// geometry) and, when it joined a grid, the grid's new totals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuildingCreated {
    pub id: BuildingId,
    pub source_id: Option<String>,
    pub kind: String,
    pub levels: Option<u32>,
    pub households: u32,
    #[serde(with = "forms::cell")]
    pub cell: CellIndex,
    pub grid: Option<GridId>,
    pub grid_totals: Option<GridTotals>,
    #[serde(with = "forms::multi_polygon")]
    pub footprint: MultiPolygon<f64>,
}

impl BuildingCreated {
    #[must_use]
    pub fn of(building: &Building, grid_totals: Option<GridTotals>) -> Self {
        Self {
            id: building.id,
            source_id: building.source_id.clone(),
            kind: building.kind.clone(),
            levels: building.levels,
            households: building.households,
            cell: building.cell,
            grid: building.grid,
            grid_totals,
            footprint: building.footprint.clone(),
        }
    }
}
