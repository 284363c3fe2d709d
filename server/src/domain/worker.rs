//! Workers: the people who take assignments — grid workers (网格员), patrollers (巡防员), department staff.

use serde::{Deserialize, Serialize};

use super::{GridId, WorkerId};

/// What kind of work a worker does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WorkerKind {
    GridWorker,
    Patroller,
    DepartmentStaff,
}

impl WorkerKind {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::GridWorker => "grid_worker",
            Self::Patroller => "patroller",
            Self::DepartmentStaff => "department_staff",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "grid_worker" => Some(Self::GridWorker),
            "patroller" => Some(Self::Patroller),
            "department_staff" => Some(Self::DepartmentStaff),
            _ => None,
        }
    }
}

/// Whether a worker can be dispatched to now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DutyStatus {
    OnDuty,
    OffDuty,
}

impl DutyStatus {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OnDuty => "on_duty",
            Self::OffDuty => "off_duty",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "on_duty" => Some(Self::OnDuty),
            "off_duty" => Some(Self::OffDuty),
            _ => None,
        }
    }
}

/// A worker's responsibility for a grid: one primary per grid, any number of backups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Responsibility {
    Primary,
    Backup,
}

impl Responsibility {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Primary => "primary",
            Self::Backup => "backup",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "primary" => Some(Self::Primary),
            "backup" => Some(Self::Backup),
            _ => None,
        }
    }
}

/// One grid a worker answers for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GridDuty {
    pub grid_id: GridId,
    pub responsibility: Responsibility,
}

/// A worker. Staff data only: residents are never stored by name.
#[derive(Debug, Clone, PartialEq)]
pub struct Worker {
    pub id: WorkerId,
    pub name: String,
    pub kind: WorkerKind,
    pub duty: DutyStatus,
    pub phone: Option<String>,
    /// The tracker's device id (OsmAnd / Traccar Client), unique when set.
    pub device_id: Option<String>,
    pub grids: Vec<GridDuty>,
}
