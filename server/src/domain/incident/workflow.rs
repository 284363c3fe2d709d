//! The transition function: one action by one actor on one case, checked and applied without side effects.
//!
//! The order of checks is fixed so callers get the most useful refusal first: is the action possible in this
//! status at all (409), may this actor take it (403), are its arguments valid (422). The tables are in the
//! parent module's docs.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Actor, HistoryEntry, Incident, IncidentId, Status, Transition};
use crate::domain::{Role, WorkerId};

/// The longest reason or note accepted, in characters (not bytes: most are Chinese).
pub const MAX_TEXT_CHARS: usize = 2000;

/// What an actor does to a case. Serialised as `{"action": "send_back", "reason": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Give a registered case to a worker (任务派遣).
    Dispatch {
        to: WorkerId,
    },
    /// Give a dispatched or handled case to another worker, who must accept it.
    Reassign {
        to: WorkerId,
    },
    Accept,
    /// The receiver says it is not theirs (退回): back to registered, unassigned.
    SendBack {
        reason: String,
    },
    Start,
    /// The handler reports it done (处理反馈).
    Resolve {
        #[serde(default)]
        note: Option<String>,
    },
    /// Someone other than the handler checks the work (核实结案); a failure is rework (返工).
    Verify {
        passed: bool,
    },
    /// A new, later deadline (延期).
    Extend {
        #[schema(value_type = String, format = DateTime)]
        until: DateTime<Utc>,
        reason: String,
    },
    /// Park the case (缓办).
    Defer {
        reason: String,
    },
    Resume,
    /// Hand the case one level up: grid → community → street → district.
    Escalate {
        #[serde(default)]
        reason: Option<String>,
    },
    Reopen {
        reason: String,
    },
    Merge {
        into: IncidentId,
    },
    Cancel {
        reason: String,
    },
}

impl Action {
    /// The action's name: its serde tag and its name in [`allowed_actions`] and the history.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Self::Dispatch { .. } => "dispatch",
            Self::Reassign { .. } => "reassign",
            Self::Accept => "accept",
            Self::SendBack { .. } => "send_back",
            Self::Start => "start",
            Self::Resolve { .. } => "resolve",
            Self::Verify { .. } => "verify",
            Self::Extend { .. } => "extend",
            Self::Defer { .. } => "defer",
            Self::Resume => "resume",
            Self::Escalate { .. } => "escalate",
            Self::Reopen { .. } => "reopen",
            Self::Merge { .. } => "merge",
            Self::Cancel { .. } => "cancel",
        }
    }
}

/// Why an action was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkflowError {
    /// The action is not possible in this status (a 409 naming the status and what is possible).
    #[error("cannot {action} a {status} case; allowed: {}", allowed.join(", "))]
    IllegalTransition {
        action: &'static str,
        status: Status,
        allowed: Vec<&'static str>,
    },
    /// The actor may not take this action (wrong role, or not the assignee).
    #[error("a {} may not {action}: {reason}", role.as_str())]
    NotAllowed {
        action: &'static str,
        role: Role,
        reason: &'static str,
    },
    /// The verifier handled the case: supervision is separate from handling (监督与处置分离).
    #[error("the handler of a case may not verify it")]
    SelfVerification,
    #[error("{action} needs a reason")]
    ReasonRequired { action: &'static str },
    #[error("{action}: reason or note is {chars} characters; at most {MAX_TEXT_CHARS} allowed")]
    ReasonTooLong { action: &'static str, chars: usize },
    /// An extension must move the deadline later than both now and the current deadline.
    #[error("the new deadline must be after now and after the current deadline")]
    InvalidDeadline,
    #[error("the case is already at district level and cannot be escalated further")]
    AlreadyAtTop,
    #[error("a case cannot be merged into itself")]
    MergeIntoSelf,
}

/// The actions possible in a status, in a stable order. Empty for `cancelled` and `merged`.
#[must_use]
pub fn allowed_actions(status: Status) -> &'static [&'static str] {
    match status {
        Status::Registered => &["dispatch", "defer", "cancel", "merge", "escalate"],
        Status::Dispatched => &[
            "accept",
            "send_back",
            "reassign",
            "defer",
            "cancel",
            "merge",
            "escalate",
            "extend",
        ],
        Status::Accepted => &[
            "start",
            "send_back",
            "reassign",
            "defer",
            "escalate",
            "extend",
            "cancel",
        ],
        Status::InProgress => &[
            "resolve", "reassign", "defer", "escalate", "extend", "cancel",
        ],
        Status::Resolved => &["verify"],
        Status::Closed => &["reopen"],
        Status::Deferred => &["resume", "cancel"],
        Status::Cancelled | Status::Merged => &[],
    }
}

/// Applies `action` by `actor` to `incident` at `now`. Never mutates the input; on success returns the next
/// state and the history entry to append.
pub fn apply(
    incident: &Incident,
    actor: &Actor,
    action: &Action,
    now: DateTime<Utc>,
) -> Result<Transition, WorkflowError> {
    let name = action.name();
    let from = incident.status;
    let allowed = allowed_actions(from);
    if !allowed.contains(&name) {
        return Err(WorkflowError::IllegalTransition {
            action: name,
            status: from,
            allowed: allowed.to_vec(),
        });
    }
    authorize(incident, actor, name)?;

    let mut next = incident.clone();
    let mut note = None;
    match action {
        Action::Dispatch { to } | Action::Reassign { to } => {
            next.status = Status::Dispatched;
            next.assignee = Some(*to);
        }
        Action::Accept => {
            next.status = Status::Accepted;
            next.handler = incident.assignee;
        }
        Action::SendBack { reason } => {
            note = Some(required(name, reason)?);
            next.status = Status::Registered;
            next.assignee = None;
            next.handler = None;
        }
        Action::Start => next.status = Status::InProgress,
        Action::Resolve { note: text } => {
            note = optional(name, text.as_deref())?;
            next.status = Status::Resolved;
            next.handler = incident.assignee;
        }
        Action::Verify { passed: true } => next.status = Status::Closed,
        Action::Verify { passed: false } => {
            next.status = Status::InProgress;
            next.assignee = incident.handler.or(incident.assignee);
            next.rework_count = incident.rework_count.saturating_add(1);
        }
        Action::Extend { until, reason } => {
            note = Some(required(name, reason)?);
            let floor = incident.deadline.map_or(now, |d| d.max(now));
            if *until <= floor {
                return Err(WorkflowError::InvalidDeadline);
            }
            next.deadline = Some(*until);
        }
        Action::Defer { reason } => {
            note = Some(required(name, reason)?);
            next.status = Status::Deferred;
            next.deferred = true;
            next.resume_to = Some(from);
        }
        Action::Resume => {
            // A deferred case always remembers where it was; registered is the safe fallback for hand-built
            // state.
            next.status = incident.resume_to.unwrap_or(Status::Registered);
            next.deferred = false;
            next.resume_to = None;
        }
        Action::Escalate { reason } => {
            note = optional(name, reason.as_deref())?;
            next.level = incident.level.up().ok_or(WorkflowError::AlreadyAtTop)?;
        }
        Action::Reopen { reason } => {
            note = Some(required(name, reason)?);
            next.assignee = incident.handler.or(incident.assignee);
            next.status = if next.assignee.is_some() {
                Status::Dispatched
            } else {
                Status::Registered
            };
        }
        Action::Merge { into } => {
            if *into == incident.id {
                return Err(WorkflowError::MergeIntoSelf);
            }
            next.status = Status::Merged;
            next.merged_into = Some(*into);
        }
        Action::Cancel { reason } => {
            note = Some(required(name, reason)?);
            next.status = Status::Cancelled;
            next.deferred = false;
            next.resume_to = None;
        }
    }

    let entry = HistoryEntry {
        at: now,
        actor: *actor,
        action: name.to_owned(),
        from,
        to: next.status,
        note,
        detail: detail_of(action, incident, &next),
    };
    Ok(Transition { next, entry })
}

/// What the history keeps of an action besides its name and note: the arguments a ledger reader needs.
/// A reassignment keeps whom the case was taken `from`, so that worker's phone hears of it too.
fn detail_of(action: &Action, previous: &Incident, next: &Incident) -> Option<serde_json::Value> {
    use serde_json::json;
    match action {
        Action::Dispatch { to } => Some(json!({ "to": to })),
        Action::Reassign { to } => Some(json!({ "to": to, "from": previous.assignee })),
        Action::Verify { passed } => Some(json!({ "passed": passed })),
        Action::Extend { until, .. } => Some(json!({ "until": until })),
        Action::Escalate { .. } => Some(json!({ "level": next.level })),
        Action::Merge { into } => Some(json!({ "into": into })),
        Action::Reopen { .. } => next.assignee.map(|to| json!({ "to": to })),
        _ => None,
    }
}

/// The actions `actor` may take on `incident` now, in [`allowed_actions`] order: those its status
/// allows that the actor's role, assignment and the separation of supervision from handling permit.
/// What a client offers its user; [`apply`] still checks each action's own fields (reasons, deadlines).
#[must_use]
pub fn actions_for(incident: &Incident, actor: &Actor) -> Vec<&'static str> {
    allowed_actions(incident.status)
        .iter()
        .copied()
        .filter(|&name| authorize(incident, actor, name).is_ok())
        .collect()
}

/// Which roles may take the action named `name`; see the parent module's table.
fn authorize(incident: &Incident, actor: &Actor, name: &'static str) -> Result<(), WorkflowError> {
    let refuse = |reason| {
        Err(WorkflowError::NotAllowed {
            action: name,
            role: actor.role,
            reason,
        })
    };
    match name {
        // The handler's own steps.
        "accept" | "send_back" | "start" | "resolve" => match actor.role {
            Role::Admin => Ok(()),
            Role::Worker if actor.worker.is_some() && actor.worker == incident.assignee => Ok(()),
            Role::Worker => refuse("only the current assignee may do this"),
            _ => refuse("only the assignee or an admin may do this"),
        },
        "verify" => {
            if !matches!(actor.role, Role::Commander | Role::Admin) {
                return refuse("only a commander or an admin may verify");
            }
            if actor.worker.is_some() && actor.worker == incident.handler {
                return Err(WorkflowError::SelfVerification);
            }
            Ok(())
        }
        // Supervision: dispatch, reassign, extend, defer, resume, escalate, reopen, merge, cancel.
        _ => match actor.role {
            Role::Commander | Role::Admin => Ok(()),
            _ => refuse("only a commander or an admin may do this"),
        },
    }
}

/// A reason the rules require: trimmed, non-empty, not too long.
fn required(action: &'static str, reason: &str) -> Result<String, WorkflowError> {
    optional(action, Some(reason))?.ok_or(WorkflowError::ReasonRequired { action })
}

/// An optional reason or note: blank becomes `None`; too long is refused.
fn optional(action: &'static str, text: Option<&str>) -> Result<Option<String>, WorkflowError> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let chars = text.chars().count();
    if chars > MAX_TEXT_CHARS {
        return Err(WorkflowError::ReasonTooLong { action, chars });
    }
    Ok(Some(text.to_owned()))
}
