//! Boundary plans and versions (网格调整) as the store keeps them, and the one write that applies a
//! boundary change (`sql/boundary.rs` writes it): the types, their rows and how those decode, and the
//! JSON form of an assignment. No validation here: `plans` checks everything against the world first.

use chrono::{DateTime, Utc};
use geo::MultiPolygon;
use h3o::CellIndex;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::sql::codec::from_json;
use super::sql::driver::Load;
use super::{IncidentUpdate, StoreError};
use crate::domain::event::BoundaryChanged;
use crate::domain::{BuildingId, Case, Event, GridFlag, GridId, RegionId, TokenId};

/// One grid of a plan or a version: its code, name and cells (as H3 strings in JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignedGrid {
    /// The grid's 15-digit code; for a new grid, the code it gets when applied.
    pub code: String,
    pub name: String,
    /// True when the grid does not exist yet (a plan's new grid).
    #[serde(default)]
    pub new: bool,
    /// Sorted cells.
    #[serde(with = "crate::domain::event::forms::cells")]
    pub cells: Vec<CellIndex>,
}

/// How a plan came to be.
pub const PLAN_KINDS: [&str; 3] = ["manual", "auto", "rollback"];

/// A draft plan to store.
#[derive(Debug, Clone)]
pub struct NewPlan {
    pub community: RegionId,
    /// One of [`PLAN_KINDS`].
    pub kind: &'static str,
    pub grids: Vec<AssignedGrid>,
    /// The warnings validation gave (grids outside the household range).
    pub warnings: Value,
    pub effective_at: Option<DateTime<Utc>>,
    pub note: Option<String>,
    pub created_by: Option<TokenId>,
    /// The community's latest boundary version when the draft was made (`None`: none yet, the grids as
    /// imported).
    pub base_version: Option<i64>,
}

/// A stored plan.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanRecord {
    pub id: i64,
    pub community: RegionId,
    pub kind: String,
    /// `draft` or `applied`.
    pub status: String,
    pub grids: Vec<AssignedGrid>,
    pub warnings: Value,
    pub effective_at: Option<DateTime<Utc>>,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<TokenId>,
    /// The version applying it made.
    pub version: Option<i64>,
    /// The community's latest boundary version when it was drafted; applying it needs the same one.
    pub base_version: Option<i64>,
}

/// A stored boundary version: the community's whole assignment after a change.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionRecord {
    pub id: i64,
    pub community: RegionId,
    /// The plan applied; `None` for the baseline recorded before the first change.
    pub plan: Option<i64>,
    pub effective_at: DateTime<Utc>,
    pub applied_at: DateTime<Utc>,
    pub applied_by: Option<TokenId>,
    pub note: Option<String>,
    pub grids: Vec<AssignedGrid>,
}

/// A grid row as a boundary change writes it. A grid emptied by the change keeps its row (closed cases
/// and worker duties still point at it) with no cells and no households.
#[derive(Debug, Clone)]
pub struct GridWrite {
    /// `None` for a new grid.
    pub id: Option<GridId>,
    pub code: String,
    pub name: String,
    pub cells: Vec<CellIndex>,
    /// Outline of `cells`, degrees (EPSG:4326, lon/lat order); empty for an emptied grid.
    pub boundary: MultiPolygon<f64>,
    pub households: u32,
    pub building_count: u32,
    pub flag: Option<GridFlag>,
}

/// Everything one boundary change writes, in one transaction.
#[derive(Debug, Clone)]
pub struct BoundaryChange {
    pub community: RegionId,
    pub plan: i64,
    /// The assignment before the change, recorded first as a version when the community has none yet.
    pub baseline: Option<Vec<AssignedGrid>>,
    pub assignment: Vec<AssignedGrid>,
    pub effective_at: DateTime<Utc>,
    pub applied_at: DateTime<Utc>,
    pub applied_by: Option<TokenId>,
    pub note: Option<String>,
    /// Every grid of the community after the change.
    pub grids: Vec<GridWrite>,
    /// Buildings whose grid changes, with the new grid's code.
    pub buildings: Vec<(BuildingId, String)>,
    /// Open cases re-routed by the change: each one's new state and history entry. Its grid stays the
    /// one it was registered in.
    pub reroutes: Vec<IncidentUpdate>,
    /// The `boundary.changed` payload; the store fills in `version` and `grids` (ids after the change).
    pub payload: BoundaryChanged,
}

/// What applying a boundary change stored.
#[derive(Debug, Clone)]
pub struct BoundaryApplied {
    pub version: VersionRecord,
    /// Every grid of the community with its id, in the order of `BoundaryChange::grids`.
    pub grid_ids: Vec<GridId>,
    pub event: Event,
    /// Each re-routed case as stored (its new grid set) with its own `incident.updated` event.
    pub incidents: Vec<(Case, Event)>,
}

/// A plan row as both dialects select it (JSON columns as text).
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct PlanRow {
    id: i64,
    community_id: i64,
    kind: String,
    status: String,
    grids: String,
    warnings: String,
    effective_at: Option<DateTime<Utc>>,
    note: Option<String>,
    created_at: DateTime<Utc>,
    created_by: Option<i64>,
    version_id: Option<i64>,
    base_version_id: Option<i64>,
}

impl Load for PlanRecord {
    type Row = PlanRow;
    fn from_row(row: PlanRow) -> Result<Self, StoreError> {
        Ok(PlanRecord {
            id: row.id,
            community: RegionId(row.community_id),
            kind: row.kind,
            status: row.status,
            grids: from_json("boundary_plans", "grids", &row.grids)?,
            warnings: from_json("boundary_plans", "warnings", &row.warnings)?,
            effective_at: row.effective_at,
            note: row.note,
            created_at: row.created_at,
            created_by: row.created_by.map(TokenId),
            version: row.version_id,
            base_version: row.base_version_id,
        })
    }
}

/// A version row as both dialects select it.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct VersionRow {
    id: i64,
    community_id: i64,
    plan_id: Option<i64>,
    effective_at: DateTime<Utc>,
    applied_at: DateTime<Utc>,
    applied_by: Option<i64>,
    note: Option<String>,
    grids: String,
}

impl Load for VersionRecord {
    type Row = VersionRow;
    fn from_row(row: VersionRow) -> Result<Self, StoreError> {
        Ok(VersionRecord {
            id: row.id,
            community: RegionId(row.community_id),
            plan: row.plan_id,
            effective_at: row.effective_at,
            applied_at: row.applied_at,
            applied_by: row.applied_by.map(TokenId),
            note: row.note,
            grids: from_json("boundary_versions", "grids", &row.grids)?,
        })
    }
}
