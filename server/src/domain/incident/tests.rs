//! The workflow against every path of `DOMAIN.md`, and an exhaustive walk of status × action.

use chrono::{DateTime, Duration, TimeZone, Utc};

use super::*;
use crate::domain::{Role, WorkerId};

mod refusals;
mod table;

const W1: WorkerId = WorkerId(1);
const W2: WorkerId = WorkerId(2);
const CMD: WorkerId = WorkerId(100);
const CASE: IncidentId = IncidentId(7);

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0)
        .single()
        .expect("valid time")
}

fn commander() -> Actor {
    Actor {
        worker: Some(CMD),
        role: Role::Commander,
    }
}

fn admin() -> Actor {
    Actor {
        worker: None,
        role: Role::Admin,
    }
}

fn worker(id: WorkerId) -> Actor {
    Actor {
        worker: Some(id),
        role: Role::Worker,
    }
}

fn reason(text: &str) -> String {
    text.to_owned()
}

/// Applies an action that must succeed, checks its history entry and returns the next state.
fn step(incident: &Incident, actor: Actor, action: &Action) -> Incident {
    let before = incident.clone();
    let t =
        apply(incident, &actor, action, t0()).unwrap_or_else(|e| panic!("{}: {e}", action.name()));
    assert_eq!(*incident, before, "apply must not mutate its input");
    assert_eq!(t.entry.from, incident.status);
    assert_eq!(t.entry.to, t.next.status);
    assert_eq!(t.entry.action, action.name());
    assert_eq!(t.entry.actor, actor);
    assert_eq!(t.entry.at, t0());
    t.next
}

fn refused(incident: &Incident, actor: Actor, action: &Action) -> WorkflowError {
    apply(incident, &actor, action, t0()).expect_err("must be refused")
}

fn new_case() -> Incident {
    Incident::registered(CASE, Some(t0() + Duration::days(3)))
}

/// A case walked to `Resolved` by W1.
fn resolved_by_w1() -> Incident {
    let mut i = step(&new_case(), commander(), &Action::Dispatch { to: W1 });
    for action in [
        Action::Accept,
        Action::Start,
        Action::Resolve { note: None },
    ] {
        i = step(&i, worker(W1), &action);
    }
    i
}

#[test]
fn straight_through_to_closed() {
    let i = new_case();
    let i = step(&i, commander(), &Action::Dispatch { to: W1 });
    assert_eq!((i.status, i.assignee), (Status::Dispatched, Some(W1)));
    let i = step(&i, worker(W1), &Action::Accept);
    assert_eq!((i.status, i.handler), (Status::Accepted, Some(W1)));
    let i = step(&i, worker(W1), &Action::Start);
    assert_eq!(i.status, Status::InProgress);
    let t = apply(
        &i,
        &worker(W1),
        &Action::Resolve {
            note: Some(reason(" cleared ")),
        },
        t0(),
    )
    .expect("resolve");
    assert_eq!(t.next.status, Status::Resolved);
    assert_eq!(t.entry.note.as_deref(), Some("cleared"));
    assert_eq!(
        (t.entry.from, t.entry.to),
        (Status::InProgress, Status::Resolved)
    );
    let i = step(&t.next, commander(), &Action::Verify { passed: true });
    assert_eq!(i.status, Status::Closed);
    assert_eq!(
        (i.rework_count, i.handler, i.deferred),
        (0, Some(W1), false)
    );
}

#[test]
fn send_back_then_redispatch() {
    let i = step(&new_case(), commander(), &Action::Dispatch { to: W1 });
    let t = apply(
        &i,
        &worker(W1),
        &Action::SendBack {
            reason: reason("not my grid"),
        },
        t0(),
    )
    .expect("send back");
    assert_eq!(
        (t.entry.from, t.entry.to),
        (Status::Dispatched, Status::Registered)
    );
    assert_eq!(t.entry.note.as_deref(), Some("not my grid"));
    assert_eq!((t.next.assignee, t.next.handler), (None, None));

    let i = step(&t.next, commander(), &Action::Dispatch { to: W2 });
    let i = step(&i, worker(W2), &Action::Accept);
    assert_eq!(
        (i.status, i.assignee, i.handler),
        (Status::Accepted, Some(W2), Some(W2))
    );

    // Sending back after accepting also clears the handler.
    let i = step(
        &i,
        worker(W2),
        &Action::SendBack {
            reason: reason("department's"),
        },
    );
    assert_eq!(
        (i.status, i.assignee, i.handler),
        (Status::Registered, None, None)
    );
}

#[test]
fn failed_verification_is_rework_for_the_same_handler() {
    let i = resolved_by_w1();
    let i = step(&i, commander(), &Action::Verify { passed: false });
    assert_eq!(i.status, Status::InProgress);
    assert_eq!(
        (i.assignee, i.handler, i.rework_count),
        (Some(W1), Some(W1), 1)
    );

    let i = step(
        &i,
        worker(W1),
        &Action::Resolve {
            note: Some(reason("redone")),
        },
    );
    let i = step(&i, commander(), &Action::Verify { passed: true });
    assert_eq!((i.status, i.rework_count), (Status::Closed, 1));
}

#[test]
fn reassign_goes_back_to_dispatched_for_the_new_worker() {
    let i = resolved_by_w1();
    let i = step(&i, commander(), &Action::Verify { passed: false });
    let i = step(&i, commander(), &Action::Reassign { to: W2 });
    assert_eq!((i.status, i.assignee), (Status::Dispatched, Some(W2)));
    assert!(matches!(
        refused(&i, worker(W1), &Action::Accept),
        WorkflowError::NotAllowed {
            action: "accept",
            role: Role::Worker,
            ..
        }
    ));
    let i = step(&i, worker(W2), &Action::Accept);
    assert_eq!(i.handler, Some(W2));
}

#[test]
fn extension_moves_the_deadline_with_a_reason() {
    let i = step(&new_case(), commander(), &Action::Dispatch { to: W1 });
    let old = i.deadline.expect("has deadline");
    let later = old + Duration::days(2);

    let t = apply(
        &i,
        &commander(),
        &Action::Extend {
            until: later,
            reason: reason("needs parts"),
        },
        t0(),
    )
    .expect("extend");
    assert_eq!(t.next.deadline, Some(later));
    assert_eq!(
        (t.entry.from, t.entry.to),
        (Status::Dispatched, Status::Dispatched)
    );
    assert_eq!(t.entry.note.as_deref(), Some("needs parts"));

    let blank = Action::Extend {
        until: later,
        reason: reason("  "),
    };
    assert_eq!(
        refused(&i, commander(), &blank),
        WorkflowError::ReasonRequired { action: "extend" }
    );
    for until in [old - Duration::hours(1), old] {
        let earlier = Action::Extend {
            until,
            reason: reason("x"),
        };
        assert_eq!(
            refused(&i, commander(), &earlier),
            WorkflowError::InvalidDeadline
        );
    }

    // With no deadline yet, the new one must still be in the future.
    let open = Incident {
        deadline: None,
        ..i
    };
    let past = Action::Extend {
        until: t0() - Duration::minutes(1),
        reason: reason("x"),
    };
    assert_eq!(
        refused(&open, commander(), &past),
        WorkflowError::InvalidDeadline
    );
    let soon = Action::Extend {
        until: t0() + Duration::minutes(1),
        reason: reason("x"),
    };
    assert_eq!(
        step(&open, commander(), &soon).deadline,
        Some(t0() + Duration::minutes(1))
    );
}

#[test]
fn deferral_parks_and_resume_returns_to_the_previous_status() {
    let i = step(&new_case(), commander(), &Action::Dispatch { to: W1 });
    let i = step(&i, worker(W1), &Action::Accept);
    let i = step(&i, worker(W1), &Action::Start);
    let parked = step(
        &i,
        commander(),
        &Action::Defer {
            reason: reason("road works until May"),
        },
    );
    assert_eq!(parked.status, Status::Deferred);
    assert!(parked.deferred);
    assert_eq!(parked.resume_to, Some(Status::InProgress));

    let back = step(&parked, commander(), &Action::Resume);
    assert_eq!(
        (back.status, back.deferred, back.resume_to),
        (Status::InProgress, false, None)
    );
    assert_eq!((back.assignee, back.handler), (Some(W1), Some(W1)));

    let registered = step(
        &new_case(),
        commander(),
        &Action::Defer {
            reason: reason("x"),
        },
    );
    assert_eq!(
        step(&registered, admin(), &Action::Resume).status,
        Status::Registered
    );

    let cancelled = step(
        &parked,
        commander(),
        &Action::Cancel {
            reason: reason("withdrawn"),
        },
    );
    assert_eq!(
        (cancelled.status, cancelled.deferred),
        (Status::Cancelled, false)
    );
}

#[test]
fn escalation_climbs_one_level_at_a_time_and_stops_at_district() {
    let i = step(&new_case(), commander(), &Action::Dispatch { to: W1 });
    let escalate = Action::Escalate {
        reason: Some(reason("overdue")),
    };
    let i = step(&i, commander(), &escalate);
    assert_eq!(
        (i.level, i.status),
        (EscalationLevel::Community, Status::Dispatched)
    );
    let i = step(&i, commander(), &Action::Escalate { reason: None });
    assert_eq!(i.level, EscalationLevel::Street);
    let i = step(&i, admin(), &escalate);
    assert_eq!(i.level, EscalationLevel::District);
    assert_eq!(
        refused(&i, commander(), &escalate),
        WorkflowError::AlreadyAtTop
    );
}

#[test]
fn merge_folds_into_another_case_but_never_itself() {
    let i = new_case();
    let merged = step(
        &i,
        commander(),
        &Action::Merge {
            into: IncidentId(3),
        },
    );
    assert_eq!(
        (merged.status, merged.merged_into),
        (Status::Merged, Some(IncidentId(3)))
    );
    assert_eq!(
        refused(&i, commander(), &Action::Merge { into: CASE }),
        WorkflowError::MergeIntoSelf
    );
    assert!(allowed_actions(Status::Merged).is_empty());
}

#[test]
fn reopen_goes_back_to_the_last_handler() {
    let i = step(
        &resolved_by_w1(),
        commander(),
        &Action::Verify { passed: true },
    );
    let reopen = Action::Reopen {
        reason: reason("came back after rain"),
    };
    assert!(matches!(
        refused(&i, worker(W1), &reopen),
        WorkflowError::NotAllowed { .. }
    ));
    let t = apply(&i, &commander(), &reopen, t0()).expect("reopen");
    assert_eq!(
        (t.entry.from, t.entry.to),
        (Status::Closed, Status::Dispatched)
    );
    assert_eq!((t.next.assignee, t.next.handler), (Some(W1), Some(W1)));
}

#[test]
fn cancel_ends_the_case() {
    for i in [
        new_case(),
        step(&new_case(), commander(), &Action::Dispatch { to: W1 }),
    ] {
        let done = step(
            &i,
            commander(),
            &Action::Cancel {
                reason: reason("duplicate call"),
            },
        );
        assert_eq!(done.status, Status::Cancelled);
    }
    assert!(allowed_actions(Status::Cancelled).is_empty());
}
