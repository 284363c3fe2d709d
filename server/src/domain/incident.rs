//! Incidents (事件 / 案件) and their closed-loop workflow: report → register → dispatch → handle → feed back
//! → verify and close, with the side paths of `DOMAIN.md` (send back 退回, rework 返工, extension 延期,
//! deferral 缓办, escalation, merge, reopen, cancel).
//!
//! This module owns the plain types and the pure transition function [`apply`]. It does no IO, holds no
//! clock and no store: the caller loads an [`Incident`], passes who acts, what they do and the time, and
//! persists the returned [`Transition`] (the next state and its [`HistoryEntry`]) in one transaction. The
//! rates (closure, on-time, rework) are recomputed from that history elsewhere, never here.
//!
//! # Transitions
//! Every `(status, action)` pair not listed is refused with [`WorkflowError::IllegalTransition`].
//!
//! | status        | allowed actions                                                                     |
//! |---------------|-------------------------------------------------------------------------------------|
//! | `registered`  | `dispatch`, `defer`, `cancel`, `merge`, `escalate`                                  |
//! | `dispatched`  | `accept`, `send_back`, `reassign`, `defer`, `cancel`, `merge`, `escalate`, `extend` |
//! | `accepted`    | `start`, `send_back`, `reassign`, `defer`, `escalate`, `extend`, `cancel`           |
//! | `in_progress` | `resolve`, `reassign`, `defer`, `escalate`, `extend`, `cancel`                      |
//! | `resolved`    | `verify`                                                                            |
//! | `closed`      | `reopen`                                                                            |
//! | `deferred`    | `resume`, `cancel`                                                                  |
//! | `cancelled`   | —                                                                                   |
//! | `merged`      | —                                                                                   |
//!
//! Where each leads: dispatch → dispatched (assignee set); reassign → dispatched (new assignee, who must
//! accept); accept → accepted (handler = assignee); send back → registered (assignee and handler cleared);
//! start → in progress; resolve → resolved (handler = assignee); verify passed → closed, failed → in progress
//! with the handler as assignee and `rework_count + 1`; extend, escalate → same status; defer → deferred
//! (remembering the status to resume to); resume → that status; reopen → dispatched to the last handler;
//! merge → merged; cancel → cancelled.
//!
//! # Who may act
//! | action                                                                                       | who                                                                 |
//! |----------------------------------------------------------------------------------------------|---------------------------------------------------------------------|
//! | `dispatch`, `reassign`, `escalate`, `extend`, `defer`, `resume`, `cancel`, `merge`, `reopen` | `commander`, `admin`                                                |
//! | `accept`, `send_back`, `start`, `resolve`                                                    | the current assignee (`worker` role, `worker == assignee`), `admin` |
//! | `verify`                                                                                     | `commander`, `admin`, never the handler (监督与处置分离)                   |
//!
//! A verifier with no worker id (a service token) passes the separation check; a handler never does.
//!
//! # Reasons
//! send back, extend, defer, reopen and cancel need a non-empty reason; escalate's reason and resolve's
//! note are optional. Every text is at most [`MAX_TEXT_CHARS`] characters.

mod workflow;

#[cfg(test)]
mod tests;

use chrono::{DateTime, Utc};
use h3o::CellIndex;
use serde::{Deserialize, Serialize};

use super::{GridId, RegionId, Role, TokenId, WorkerId};

pub use workflow::{Action, MAX_TEXT_CHARS, WorkflowError, actions_for, allowed_actions, apply};

/// An incident (案件). Serialises as a bare number, like the other ids.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(transparent)]
pub struct IncidentId(pub i64);

impl std::fmt::Display for IncidentId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// A fieldless enum with its stored name: `as_str`, `parse` and `ALL`, matching serde's `snake_case`.
macro_rules! named_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema,
        )]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The stored and serialised name.
            #[must_use]
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }

            /// Parses the stored name.
            #[must_use]
            pub fn parse(s: &str) -> Option<Self> {
                match s {
                    $($text => Some(Self::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

named_enum!(
    /// Where a report came from (信息收集).
    Source {
        Worker => "worker",
        Patrol => "patrol",
        Camera => "camera",
        Hotline => "hotline",
        Citizen => "citizen",
        /// The Open311 `GeoReport` API.
        Open311 => "open311",
    }
);

named_enum!(
    /// How urgent a case is; with the category it sets the deadline.
    Priority {
        Low => "low",
        Normal => "normal",
        High => "high",
        Urgent => "urgent",
    }
);

named_enum!(
    /// Where a case stands in the loop.
    Status {
        Registered => "registered",
        Dispatched => "dispatched",
        Accepted => "accepted",
        InProgress => "in_progress",
        /// The handler reports it done (处理反馈); waiting for verification.
        Resolved => "resolved",
        Closed => "closed",
        /// Parked with a reason (缓办); excluded from the rates.
        Deferred => "deferred",
        Cancelled => "cancelled",
        /// Folded into another case, which carries on.
        Merged => "merged",
    }
);

named_enum!(
    /// How a case is handled.
    CaseKind {
        /// Handled on the spot (即办件).
        OnTheSpot => "on_the_spot",
        /// Promised for a later deadline (承诺件).
        Promised => "promised",
        /// Needs coordination between departments (协调件).
        Coordination => "coordination",
    }
);

named_enum!(
    /// Which level of command centre owns a case; escalation moves it one up.
    EscalationLevel {
        Grid => "grid",
        Community => "community",
        Street => "street",
        District => "district",
    }
);

impl EscalationLevel {
    /// The level directly above, if any.
    #[must_use]
    pub fn up(self) -> Option<Self> {
        match self {
            Self::Grid => Some(Self::Community),
            Self::Community => Some(Self::Street),
            Self::Street => Some(Self::District),
            Self::District => None,
        }
    }
}

/// Who acts on a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Actor {
    /// The worker the caller acts for; `None` for a service or admin token without one.
    pub worker: Option<WorkerId>,
    pub role: Role,
}

/// The state of a case that the workflow reads and writes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Incident {
    pub id: IncidentId,
    pub status: Status,
    pub level: EscalationLevel,
    /// The worker the case is dispatched to now.
    pub assignee: Option<WorkerId>,
    /// The worker who accepted and resolved it: kept so the verifier can be someone else, and so rework and
    /// reopen go back to them.
    pub handler: Option<WorkerId>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub deadline: Option<DateTime<Utc>>,
    /// Times verification failed and sent the case back (返工).
    pub rework_count: u32,
    /// True exactly while the case is parked (status `deferred`), so the rates can leave it out.
    pub deferred: bool,
    pub merged_into: Option<IncidentId>,
    /// While deferred, the status that `resume` returns to.
    pub resume_to: Option<Status>,
}

impl Incident {
    /// A freshly registered case at grid level, with nobody assigned.
    #[must_use]
    pub fn registered(id: IncidentId, deadline: Option<DateTime<Utc>>) -> Self {
        Self {
            id,
            status: Status::Registered,
            level: EscalationLevel::Grid,
            assignee: None,
            handler: None,
            deadline,
            rework_count: 0,
            deferred: false,
            merged_into: None,
            resume_to: None,
        }
    }
}

/// One line of a case's append-only history (工作台账).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HistoryEntry {
    #[schema(value_type = String, format = DateTime)]
    pub at: DateTime<Utc>,
    pub actor: Actor,
    /// The action's name, as in [`allowed_actions`].
    pub action: String,
    pub from: Status,
    pub to: Status,
    /// The reason or note given with the action, if any.
    pub note: Option<String>,
    /// What else the action decided, for the ledger and the rates: the routing decision and its reason,
    /// the new deadline, the merge target, a failed verification, `"automatic": true` for the scheduler.
    #[schema(value_type = Option<Object>)]
    pub detail: Option<serde_json::Value>,
}

/// Where a case is, resolved once when it is registered and kept for its whole life, even when grid
/// boundaries are redrawn later (the grid answerable at the time stays answerable in the ledger).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Place {
    /// Degrees (EPSG:4326).
    pub lat: f64,
    /// Degrees (EPSG:4326).
    pub lon: f64,
    /// The H3 cell of the point at the deployment's resolution.
    pub cell: CellIndex,
    pub grid: GridId,
    pub community: RegionId,
    pub street: Option<RegionId>,
    pub district: Option<RegionId>,
    /// For a point just outside every grid, how far (meters) it lies from the grid it was given to
    /// (属地兜底); `None` inside a grid.
    pub outside_m: Option<f64>,
}

/// A photo attached to a case, stored once by the SHA-256 of its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Photo {
    /// Lower-case hex SHA-256 of the image bytes.
    pub sha256: String,
    /// `image/jpeg`, `image/png` or `image/webp`.
    pub content_type: String,
    /// Bytes.
    pub size: u64,
    #[schema(value_type = String, format = DateTime)]
    pub at: DateTime<Utc>,
    pub by: Actor,
}

/// A whole case: its workflow state, what it is, where it is, and its append-only history.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    pub state: Incident,
    /// The category's code.
    pub category: String,
    pub priority: Priority,
    pub source: Source,
    pub kind: CaseKind,
    pub description: String,
    pub place: Place,
    /// The token that reported it, if reported through the API (kept so a reporter can follow up).
    pub reporter: Option<TokenId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When supervision next acts on the case if it is still open: the deadline, then each further
    /// deadline after an automatic escalation. `None` once the case leaves the open states.
    pub escalate_at: Option<DateTime<Utc>>,
    /// An open case of the same category close by in place and time, linked as a possible duplicate.
    pub duplicate_of: Option<IncidentId>,
    /// Oldest first. Entry 0 is the `register` entry.
    pub history: Vec<HistoryEntry>,
    pub photos: Vec<Photo>,
}

impl Case {
    #[must_use]
    pub fn id(&self) -> IncidentId {
        self.state.id
    }
}

impl Status {
    /// Done with for good, or nearly: closed (which may still be reopened), cancelled or merged. A
    /// finished case leaves the in-memory world a while after its last change (`World::archive`).
    #[must_use]
    pub fn is_finished(self) -> bool {
        matches!(self, Self::Closed | Self::Cancelled | Self::Merged)
    }

    /// Still in the loop: someone is expected to act, and the deadline runs.
    #[must_use]
    pub fn is_open(self) -> bool {
        matches!(
            self,
            Self::Registered
                | Self::Dispatched
                | Self::Accepted
                | Self::InProgress
                | Self::Resolved
        )
    }
}

/// The result of an accepted action: the next state and the history line recording it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub next: Incident,
    pub entry: HistoryEntry,
}
