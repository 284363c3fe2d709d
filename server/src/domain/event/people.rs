//! Payloads about staff and access: a worker as the live map sees it, and who a token is for. Never a
//! token's hash: events are replayed to clients.

use serde::{Deserialize, Serialize};

use crate::domain::{DutyStatus, GridDuty, Role, Scope, TokenId, Worker, WorkerId, WorkerKind};

/// `worker.created` / `worker.updated`: staff data and grid duties. Also each worker of a websocket
/// `snapshot` (with its position added).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerSummary {
    pub id: WorkerId,
    pub name: String,
    pub kind: WorkerKind,
    pub duty: DutyStatus,
    pub phone: Option<String>,
    pub device_id: Option<String>,
    pub grids: Vec<GridDuty>,
}

impl WorkerSummary {
    #[must_use]
    pub fn of(worker: &Worker) -> Self {
        Self {
            id: worker.id,
            name: worker.name.clone(),
            kind: worker.kind,
            duty: worker.duty,
            phone: worker.phone.clone(),
            device_id: worker.device_id.clone(),
            grids: worker.grids.clone(),
        }
    }
}

/// `token.created`: the token's role, scopes and worker, never its secret or hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenCreated {
    pub id: TokenId,
    pub role: Role,
    pub scopes: Vec<Scope>,
    pub worker: Option<WorkerId>,
    pub label: Option<String>,
}
