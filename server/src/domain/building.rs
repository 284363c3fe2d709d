//! Buildings (楼栋) with their household counts. Counts only: never names or ID numbers of residents.

use geo::MultiPolygon;
use h3o::CellIndex;

use super::{BuildingId, GridId};

/// A building and the households in it.
#[derive(Debug, Clone, PartialEq)]
pub struct Building {
    pub id: BuildingId,
    /// Where it came from, e.g. `osm:way/123`.
    pub source_id: Option<String>,
    /// Footprint in degrees (EPSG:4326, lon/lat order).
    pub footprint: MultiPolygon<f64>,
    pub kind: String,
    pub levels: Option<u32>,
    pub households: u32,
    /// The cell of the footprint's centroid: the building belongs to that cell's grid.
    pub cell: CellIndex,
    pub grid: Option<GridId>,
}
