//! The grid (网格): the unit of responsibility, a set of H3 cells holding 100–150 households.

use geo::MultiPolygon;
use h3o::CellIndex;
use serde::{Deserialize, Serialize};

use super::{GridId, RegionId};

/// Why a grid sits outside the 100–150 household rule, when it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum GridFlag {
    /// One building alone holds more households than a grid may; it becomes its own grid.
    SingleBuildingOverMax {
        households: u32,
    },
    /// One cell holds several buildings whose households together exceed the maximum.
    CellOverMax {
        households: u32,
    },
    UnderMin {
        households: u32,
    },
    OverMax {
        households: u32,
    },
}

/// A grid with its cells and derived figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    pub id: GridId,
    /// 15 digits: 6 district + 3 street + 3 community + 3 sequence.
    pub code: String,
    pub name: String,
    pub community: RegionId,
    /// The cells at the deployment's resolution, sorted.
    pub cells: Vec<CellIndex>,
    /// Outline of `cells`, in degrees (EPSG:4326, lon/lat order). Derived, stored for GIS access.
    pub boundary: MultiPolygon<f64>,
    pub households: u32,
    pub building_count: u32,
    pub flag: Option<GridFlag>,
}
