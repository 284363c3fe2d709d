//! Payloads about staff and access: a worker as the live map sees it, and who a token is for. Never a
//! token's hash: events are replayed to clients.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::domain::{DutyStatus, GridDuty, Role, Scope, TokenId, Worker, WorkerId, WorkerKind};

/// `worker.created` / `worker.updated`: staff data and grid duties. Also each worker of a websocket
/// `snapshot` (with its position added). Clients get it through [`WorkerSummary::for_client`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerSummary {
    pub id: WorkerId,
    pub name: String,
    pub kind: WorkerKind,
    pub duty: DutyStatus,
    pub phone: Option<String>,
    /// Events stored before migration 0010 carry the tracker's device id as it then was (chosen by
    /// hand, dropped from the store by that migration); since then always `None`: a device id is a
    /// credential. Never sent to a client.
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
            device_id: None,
            grids: worker.grids.clone(),
        }
    }

    /// The summary as a client sees it: never a device id, and the phone only for a role that manages
    /// workers (`contacts`, `domain::worker::sees_contacts`).
    #[must_use]
    pub fn for_client(&self, contacts: bool) -> Value {
        let mut value = json!({"id": self.id, "name": self.name, "kind": self.kind, "duty": self.duty,
            "grids": self.grids});
        if contacts {
            value["phone"] = json!(self.phone);
        }
        value
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
    /// Absent in events written before tokens expired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// `token.revoked`: the token no longer authenticates anyone, from this event on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRevoked {
    pub id: TokenId,
    /// The token that revoked it (`None`: the command line).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<TokenId>,
}
