//! Supervision (督办): the scheduler that escalates overdue cases one level up — grid → community →
//! street → district — and repeats at each further deadline.
//!
//! Each open case carries `escalate_at`: first its deadline, then, after each automatic escalation, that
//! time plus the category's limit again in working hours. When it passes, the scheduler applies the
//! workflow's `escalate` as the system, with a supervision notice in the history entry as structured
//! detail only (`detail.automatic`, `detail.notice`, `detail.overdue_since` — the case's deadline, the
//! same at every level — and the workflow's `detail.level`), never a prose note: pages render it in
//! their own language. A case at district level, or in a
//! status that cannot be escalated (resolved and waiting for verification), is left alone.
//!
//! The scheduler sleeps until the earliest `escalate_at`, or until any case changes, whichever is first.
//! A change to named cases only looks those cases up (it can only bring the earliest time forward); the
//! whole world is scanned when that time comes, and after any change it cannot attribute. Scanning every
//! case on every event made each create cost O(open cases) of CPU beside the writer — measured in
//! BENCHMARKS.md, "Incident load".
//! Time comes from the core's clock, so tests drive it with `tokio::time::pause`.
//!
//! A service started by `services::start`: it reads the core's event channel through a weak handle (so
//! it never keeps that channel open) and ends on the shutdown signal, or when the core is gone.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::json;

use super::actions::{self, ActionError, Extra};
use super::{SYSTEM, hours};
use crate::core::{Core, WeakCore};
use crate::dispatch::DispatchConfig;
use crate::domain::incident::{Action, WorkflowError, allowed_actions};
use crate::domain::{Case, Event, IncidentId};
use crate::services::Shutdown;
use crate::store::StoreError;
use crate::world::World;

/// The longest the scheduler sleeps without looking again, as a guard against a missed wake-up.
const MAX_SLEEP: Duration = Duration::from_mins(1);

/// Runs until `shutdown` says stop, or the core is gone. `changes` is the core's event channel.
pub async fn run(
    core: WeakCore,
    mut changes: tokio::sync::broadcast::Receiver<Event>,
    mut shutdown: Shutdown,
) {
    let Some(first) = core.upgrade() else { return };
    // Never later than the earliest escalation time of any case: lowered by changes, recomputed by scans.
    let mut next = scan(&first).await;
    drop(first);
    loop {
        let Some(wait) = core.upgrade().map(|core| {
            next.map_or(MAX_SLEEP, |at| {
                (at - core.now())
                    .to_std()
                    .unwrap_or(Duration::ZERO)
                    .min(MAX_SLEEP)
            })
        }) else {
            return;
        };
        tokio::select! {
            () = shutdown.stopping() => return,
            () = tokio::time::sleep(wait) => match core.upgrade() {
                Some(core) => next = scan(&core).await,
                None => return,
            },
            received = changes.recv() => {
                let Some(core) = core.upgrade() else { return };
                match received {
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => next = scan(&core).await,
                    Ok(event) => match changed_cases(&event) {
                        Some(ids) => {
                            let world = core.world();
                            let times = ids.into_iter().filter_map(|id| world.incident(id)).filter(|c| can_escalate(c));
                            next = times.filter_map(|c| c.escalate_at).chain(next).min();
                        }
                        None => next = scan(&core).await,
                    },
                }
            },
        }
    }
}

/// Escalates what is due, then returns the earliest escalation time left.
async fn scan(core: &Core) -> Option<DateTime<Utc>> {
    escalate_due(core, core.now()).await;
    next_due(&core.world())
}

/// The cases an event changed, when it names them (`incident.*` events, as `follow::patch_of` reads
/// them); `None` for any other kind, which makes the scheduler scan every case.
fn changed_cases(event: &Event) -> Option<Vec<IncidentId>> {
    match crate::follow::patch_of(&event.change) {
        crate::follow::Patch::Cases(ids) => Some(ids),
        crate::follow::Patch::Nothing
        | crate::follow::Patch::Patrols
        | crate::follow::Patch::Reload => None,
    }
}

/// A case the scheduler escalates now.
struct Due {
    id: IncidentId,
    /// Its escalation time, which must still be the case's when the action is applied.
    at: DateTime<Utc>,
    /// When supervision acts again.
    next: DateTime<Utc>,
    /// The case's deadline: the same at every level, never the time of the escalation before.
    overdue_since: DateTime<Utc>,
}

/// Escalates every case whose escalation time is at or before `now`; returns how many it escalated.
pub async fn escalate_due(core: &Core, now: DateTime<Utc>) -> usize {
    let due: Vec<Due> = {
        let world = core.world();
        world
            .incidents()
            .filter(|c| c.escalate_at.is_some_and(|at| at <= now) && can_escalate(c))
            .filter_map(|c| {
                let at = c.escalate_at?;
                let next = next_escalation(&world, core.dispatch(), c, at)?;
                Some(Due {
                    id: c.id(),
                    at,
                    next,
                    overdue_since: c.state.deadline.unwrap_or(at),
                })
            })
            .collect()
    };
    let mut escalated = 0;
    for Due {
        id,
        at,
        next,
        overdue_since,
    } in due
    {
        let action = Action::Escalate { reason: None };
        let extra = Extra {
            detail: Some(json!({
                "automatic": true,
                "notice": true,
                "overdue_since": overdue_since,
            })),
            escalate_at: Some(Some(next)),
            only_if_escalate_at: Some(at),
        };
        match actions::act(core, SYSTEM, None, id, action, extra).await {
            Ok(_) => escalated += 1,
            // Someone acted on the case since we looked; the next pass sees its new state.
            Err(
                ActionError::Stale(_)
                | ActionError::Workflow(
                    WorkflowError::IllegalTransition { .. } | WorkflowError::AlreadyAtTop,
                )
                | ActionError::MergeTargetClosed { .. }
                | ActionError::Store(StoreError::Conflict(_)),
            ) => {}
            Err(e) => {
                tracing::warn!(incident = %id, error = %e, "automatic escalation failed");
            }
        }
    }
    if escalated > 0 {
        metrics::counter!("gridwatch_incidents_escalated_total").increment(escalated as u64);
    }
    escalated
}

/// Whether the scheduler may escalate the case: the status allows it and there is a level above.
fn can_escalate(case: &Case) -> bool {
    allowed_actions(case.state.status).contains(&"escalate") && case.state.level.up().is_some()
}

/// When supervision acts again after escalating at `at`: the category's limit again, on its clock
/// (working hours, or every hour for a 24/7 category).
fn next_escalation(
    world: &World,
    config: &DispatchConfig,
    case: &Case,
    at: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let category = world.category(&case.category)?;
    let limit = category.limits.hours(case.priority);
    config.deadline(category.clock, at, hours(limit))
}

/// The earliest escalation time of any case the scheduler could escalate.
fn next_due(world: &World) -> Option<DateTime<Utc>> {
    world
        .incidents()
        .filter(|c| can_escalate(c))
        .filter_map(|c| c.escalate_at)
        .min()
}
