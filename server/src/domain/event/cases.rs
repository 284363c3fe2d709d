//! Payloads about cases (案件) and alerts: a case as the live map needs it (never its whole history or
//! photos), a batch of changed cases, a photo attached, an area alert.

use chrono::{DateTime, Utc};
use h3o::CellIndex;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::forms;
use crate::domain::incident::{Actor, CaseKind, EscalationLevel, HistoryEntry, Priority, Source};
use crate::domain::incident::{IncidentId, Status};
use crate::domain::{Case, GridId, RegionId, WorkerId};

/// A case in `incident.*` events and in a websocket `snapshot`: what a live map needs, with the last
/// history entry (so a phone learns of a reassignment away from it), never the history or photos.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentSummary {
    pub id: IncidentId,
    pub status: Status,
    pub level: EscalationLevel,
    /// The category's code.
    pub category: String,
    pub priority: Priority,
    pub source: Source,
    pub kind: CaseKind,
    /// Degrees (EPSG:4326).
    pub lat: f64,
    /// Degrees (EPSG:4326).
    pub lon: f64,
    #[serde(with = "forms::cell")]
    pub cell: CellIndex,
    /// The grid it was registered in (kept for the case's life).
    pub grid: GridId,
    pub community: RegionId,
    pub street: Option<RegionId>,
    pub district: Option<RegionId>,
    pub assignee: Option<WorkerId>,
    pub handler: Option<WorkerId>,
    pub deadline: Option<DateTime<Utc>>,
    pub escalate_at: Option<DateTime<Utc>>,
    pub rework_count: u32,
    pub deferred: bool,
    pub duplicate_of: Option<IncidentId>,
    pub merged_into: Option<IncidentId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The newest history entry; `null` only for a case without history, which the workflow never makes.
    pub last: Option<HistoryEntry>,
}

impl IncidentSummary {
    #[must_use]
    pub fn of(case: &Case) -> Self {
        let s = &case.state;
        Self {
            id: case.id(),
            status: s.status,
            level: s.level,
            category: case.category.clone(),
            priority: case.priority,
            source: case.source,
            kind: case.kind,
            lat: case.place.lat,
            lon: case.place.lon,
            cell: case.place.cell,
            grid: case.place.grid,
            community: case.place.community,
            street: case.place.street,
            district: case.place.district,
            assignee: s.assignee,
            handler: s.handler,
            deadline: s.deadline,
            escalate_at: case.escalate_at,
            rework_count: s.rework_count,
            deferred: s.deferred,
            duplicate_of: case.duplicate_of,
            merged_into: s.merged_into,
            created_at: case.created_at,
            updated_at: case.updated_at,
            last: case.history.last().cloned(),
        }
    }

    /// The worker a reassignment took the case from (its last entry's `detail.from`): a phone that
    /// showed the case as its own must hear that it no longer is.
    #[must_use]
    pub fn taken_from(&self) -> Option<WorkerId> {
        let last = self.last.as_ref().filter(|l| l.action == "reassign")?;
        let from = last.detail.as_ref()?.get("from")?.as_i64()?;
        Some(WorkerId(from))
    }
}

/// Why cases changed when it was not a workflow action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UpdateReason {
    /// A boundary change moved the case's cell to another grid and routed it again.
    BoundaryChange,
}

/// `incident.updated`: the new state of each case that changed. A re-route by a boundary change also
/// names the reason and the boundary version; a workflow action writes neither key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentsUpdated {
    pub incidents: Vec<IncidentSummary>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<UpdateReason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
}

impl IncidentsUpdated {
    /// Cases changed by workflow actions.
    #[must_use]
    pub fn of<'a>(cases: impl IntoIterator<Item = &'a Case>) -> Self {
        Self {
            incidents: cases.into_iter().map(IncidentSummary::of).collect(),
            reason: None,
            version: None,
        }
    }

    /// One case routed again because boundary version `version` moved its cell.
    #[must_use]
    pub fn rerouted(case: &Case, version: i64) -> Self {
        Self {
            incidents: vec![IncidentSummary::of(case)],
            reason: Some(UpdateReason::BoundaryChange),
            version: Some(version),
        }
    }
}

/// `incident.photo_added`: which photo a case got (its bytes are fetched by hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhotoAdded {
    pub incident: IncidentId,
    /// Lower-case hex SHA-256 of the bytes.
    pub sha256: String,
    pub content_type: String,
    /// Bytes.
    pub size: u64,
}

/// `alert.raised`: an area alert (应急联动) and the on-duty workers inside the area when it was raised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertRaised {
    pub title: String,
    pub message: String,
    /// The area exactly as the command centre sent it: a `GeoJSON` geometry or `{"circle": …}`.
    pub area: Value,
    pub workers: Vec<WorkerId>,
    pub raised_by: Actor,
}
