//! One workflow action on one case, checked against the world and committed with its history entry.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::add_detail;
use crate::core::Core;
use crate::domain::incident::{Action, Actor, HistoryEntry, Status, WorkflowError, apply};
use crate::domain::{AccessError, Case, IncidentId, Principal, Subject, WorkerId};
use crate::store::{IncidentUpdate, StoreError};
use crate::world::World;

/// Why an action was not applied; nothing changed.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    /// The case (or the case to merge into) is unknown or outside the caller's scope.
    #[error(transparent)]
    Access(#[from] AccessError),
    /// The workflow refused the action (state, role, reason, deadline).
    #[error(transparent)]
    Workflow(#[from] WorkflowError),
    /// The scheduler's guard: the case's escalation time is no longer the one it read.
    #[error("incident {0} changed since it was read")]
    Stale(IncidentId),
    /// `dispatch` or `reassign` to a worker that does not exist.
    #[error("unknown worker {0}")]
    UnknownWorker(WorkerId),
    #[error("unknown incident {0} to merge into")]
    UnknownMergeTarget(IncidentId),
    /// The case to merge into is closed, cancelled or merged itself.
    #[error(
        "incident {into} is {status}; a duplicate can only be merged into a case still being worked"
    )]
    MergeTargetClosed { into: IncidentId, status: Status },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a caller other than a person adds to an action: the scheduler's notice and next escalation time.
#[derive(Debug, Clone, Default)]
pub struct Extra {
    /// Merged into the history entry's detail.
    pub detail: Option<Value>,
    /// Replaces the case's escalation time.
    pub escalate_at: Option<Option<DateTime<Utc>>>,
    /// Refuse ([`ActionError::Stale`]) unless the case's escalation time is still this: the scheduler's guard
    /// against acting on a case someone changed since it looked.
    pub only_if_escalate_at: Option<DateTime<Utc>>,
}

/// Applies `action` by `actor` to case `id`. With a `principal`, the case must be in its scope (its grid
/// visible, or the principal assigned to it or handling it). Returns the case as committed.
pub async fn act(
    core: &Core,
    actor: Actor,
    principal: Option<&Principal>,
    id: IncidentId,
    action: Action,
    extra: Extra,
) -> Result<Case, ActionError> {
    let principal = principal.cloned();
    core.write(move |w| async move {
        let now = w.now();
        // A finished case the world has archived (a closed one reopened, say) is read from the store;
        // under the writer lock the store is not ahead of the world. Its update puts it back in the world.
        let archived = w.world().may_be_archived(id);
        let stored = if archived {
            (w.store().incident(id).await?).filter(|c| c.state.status.is_finished())
        } else {
            None
        };
        let updates = {
            let world = w.world();
            let case = world
                .incident(id)
                .or(stored.as_ref())
                .ok_or(AccessError::NotFound(Subject::Incident(id)))?;
            plan(
                &world,
                case,
                actor,
                principal.as_ref(),
                &action,
                &extra,
                now,
            )?
        };
        let event = w.store().update_incidents(&updates).await?;
        let case = updates[0].case.clone();
        w.stored(event, |world| {
            for update in updates {
                world.apply_incident(update.case);
            }
        });
        metrics::counter!("gridwatch_incident_actions_total", "action" => action.name())
            .increment(1);
        Ok(case)
    })
    .await
}

/// The updates an action makes, first the acted-on case (then, for a merge, the case absorbing it).
fn plan(
    world: &World,
    case: &Case,
    actor: Actor,
    principal: Option<&Principal>,
    action: &Action,
    extra: &Extra,
    now: DateTime<Utc>,
) -> Result<Vec<IncidentUpdate>, ActionError> {
    let id = case.id();
    if let Some(principal) = principal {
        check_scope(world, principal, case)?;
    }
    if let Some(expected) = extra.only_if_escalate_at
        && case.escalate_at != Some(expected)
    {
        return Err(ActionError::Stale(id));
    }
    let target = match action {
        Action::Dispatch { to } | Action::Reassign { to } => {
            let Some(worker) = world.worker(*to) else {
                return Err(ActionError::UnknownWorker(*to));
            };
            // The new assignee must be someone the caller may see: a commander of one community does
            // not hand cases to another community's workers.
            if let Some(principal) = principal
                && !crate::admin::workers::can_see(&world.visibility(principal), principal, worker)
            {
                return Err(AccessError::OutOfScope(Subject::Worker(*to)).into());
            }
            None
        }
        Action::Merge { into } if *into != id => Some(merge_target(world, principal, *into)?),
        _ => None,
    };

    let mut transition = apply(&case.state, &actor, action, now)?;
    if let Some(detail) = &extra.detail {
        add_detail(&mut transition.entry.detail, detail);
    }
    // Who acted beyond the actor's worker and role, so a page can name them (a person by their user
    // id, a machine by its token id; the name itself is read when shown).
    if let Some(principal) = principal {
        let by = match (principal.user(), principal.token()) {
            (Some(user), _) => Some(json!({ "by": { "user": user } })),
            (None, Some(token)) => Some(json!({ "by": { "token": token } })),
            (None, None) => None,
        };
        if let Some(by) = by {
            add_detail(&mut transition.entry.detail, &by);
        }
    }
    let next_status = transition.next.status;
    let mut next = case.clone();
    next.escalate_at = match extra.escalate_at {
        Some(at) => at,
        None if !next_status.is_open() => None,
        None => match action {
            Action::Extend { until, .. } => Some(*until),
            // Back in the loop: the clock runs again from the deadline, or at once if it has passed.
            Action::Resume | Action::Reopen { .. } => transition.next.deadline.map(|d| d.max(now)),
            _ => case.escalate_at,
        },
    };
    next.state = transition.next;
    next.updated_at = now;
    next.history.push(transition.entry);
    let mut updates = vec![IncidentUpdate {
        case: next,
        new_entries: 1,
    }];

    if let Some(target) = target {
        let mut absorbing = target.clone();
        absorbing.updated_at = now;
        absorbing.history.push(HistoryEntry {
            at: now,
            actor,
            action: "absorb".to_owned(),
            from: target.state.status,
            to: target.state.status,
            note: None,
            detail: Some(json!({ "merged": id })),
        });
        updates.push(IncidentUpdate {
            case: absorbing,
            new_entries: 1,
        });
    }
    Ok(updates)
}

/// The case a duplicate is merged into: it must exist, be in scope and still be open.
fn merge_target<'w>(
    world: &'w World,
    principal: Option<&Principal>,
    into: IncidentId,
) -> Result<&'w Case, ActionError> {
    let target = world
        .incident(into)
        .ok_or(ActionError::UnknownMergeTarget(into))?;
    if let Some(principal) = principal {
        check_scope(world, principal, target)?;
    }
    let status = target.state.status;
    if !status.is_open() && status != Status::Deferred {
        return Err(ActionError::MergeTargetClosed { into, status });
    }
    Ok(target)
}

/// Refused ([`AccessError::OutOfScope`]) unless the principal may see the case.
pub fn check_scope(world: &World, principal: &Principal, case: &Case) -> Result<(), AccessError> {
    if can_see(world, principal, case) {
        Ok(())
    } else {
        Err(AccessError::OutOfScope(Subject::Incident(case.id())))
    }
}

/// Whether the principal may see the case: its grid is in scope, it is assigned to or handled by them,
/// or they reported it.
#[must_use]
pub fn can_see(world: &World, principal: &Principal, case: &Case) -> bool {
    let own = principal.worker.is_some()
        && (principal.worker == case.state.assignee || principal.worker == case.state.handler);
    own || (case.reporter.is_some() && case.reporter == principal.token())
        || (principal.role != crate::domain::Role::Reporter
            && world.visibility(principal).grid(case.place.grid))
}
