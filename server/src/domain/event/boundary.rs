//! Payloads of boundary plans (网格调整): a draft stored, a plan applied as a new version.

use chrono::{DateTime, Utc};
use h3o::CellIndex;
use serde::{Deserialize, Serialize};

use super::forms;
use crate::domain::{GridId, RegionId};

/// `plan.created`: a draft plan of one community.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanCreated {
    pub id: i64,
    pub community: RegionId,
    /// `manual`, `auto` or `rollback`.
    pub kind: String,
}

/// `boundary.changed`: a plan applied to one community. `plans::apply` works out everything but the
/// version and the grid ids, which the store fills in when it writes them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoundaryChanged {
    pub community: RegionId,
    pub plan: i64,
    pub effective_at: DateTime<Utc>,
    pub cells_moved: usize,
    /// The cells that changed grid.
    #[serde(with = "forms::cells")]
    pub cells: Vec<CellIndex>,
    /// The mean centre of the moved cells, degrees (EPSG:4326); `null` when none moved.
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    /// The boundary version the change made.
    pub version: i64,
    /// Every grid of the community after the change (old and new), whose outlines may have changed.
    pub grids: Vec<GridId>,
}
