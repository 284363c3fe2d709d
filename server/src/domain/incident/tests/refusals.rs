//! Refusals by role, by the separation of supervision from handling, and for missing or overlong reasons.

use super::*;

#[test]
fn the_handler_may_not_verify_their_own_case() {
    let i = resolved_by_w1();
    for role in [Role::Commander, Role::Admin] {
        let own = Actor {
            worker: Some(W1),
            role,
        };
        assert_eq!(
            refused(&i, own, &Action::Verify { passed: true }),
            WorkflowError::SelfVerification
        );
    }
    // A worker is refused for the role before the separation rule is considered.
    assert!(matches!(
        refused(&i, worker(W2), &Action::Verify { passed: true }),
        WorkflowError::NotAllowed {
            action: "verify",
            role: Role::Worker,
            ..
        }
    ));
    // A service token with no worker passes.
    assert_eq!(
        step(&i, admin(), &Action::Verify { passed: true }).status,
        Status::Closed
    );
}

#[test]
fn only_the_assignee_handles_and_only_command_dispatches() {
    let i = step(&new_case(), commander(), &Action::Dispatch { to: W1 });
    assert_eq!(
        refused(&i, worker(W2), &Action::Accept),
        WorkflowError::NotAllowed {
            action: "accept",
            role: Role::Worker,
            reason: "only the current assignee may do this",
        }
    );
    for actor in [
        commander(),
        Actor {
            worker: None,
            role: Role::Worker,
        },
        Actor {
            worker: Some(W1),
            role: Role::Reporter,
        },
    ] {
        assert!(
            matches!(
                refused(&i, actor, &Action::Accept),
                WorkflowError::NotAllowed { .. }
            ),
            "{actor:?}"
        );
    }
    assert_eq!(
        step(&i, admin(), &Action::Accept).handler,
        Some(W1),
        "an admin accepts for the assignee"
    );

    let r = new_case();
    for role in [Role::Worker, Role::Planner, Role::Reporter, Role::Device] {
        let actor = Actor {
            worker: Some(W1),
            role,
        };
        let err = refused(&r, actor, &Action::Dispatch { to: W1 });
        assert!(
            matches!(
                err,
                WorkflowError::NotAllowed {
                    action: "dispatch",
                    ..
                }
            ),
            "{role:?}"
        );
    }
}

/// Builds an action around a reason.
type MakeAction = fn(String) -> Action;

#[test]
fn reasons_are_required_and_bounded() {
    let registered = new_case();
    let dispatched = step(&registered, commander(), &Action::Dispatch { to: W1 });
    let closed = step(
        &resolved_by_w1(),
        commander(),
        &Action::Verify { passed: true },
    );
    let cases: [(&Incident, Actor, MakeAction, &str); 5] = [
        (
            &dispatched,
            worker(W1),
            |reason| Action::SendBack { reason },
            "send_back",
        ),
        (
            &dispatched,
            commander(),
            |reason| Action::Extend {
                until: t0() + Duration::days(9),
                reason,
            },
            "extend",
        ),
        (
            &registered,
            commander(),
            |reason| Action::Defer { reason },
            "defer",
        ),
        (
            &closed,
            commander(),
            |reason| Action::Reopen { reason },
            "reopen",
        ),
        (
            &registered,
            commander(),
            |reason| Action::Cancel { reason },
            "cancel",
        ),
    ];
    for (incident, actor, make, name) in cases {
        for blank in ["", " \n\t"] {
            assert_eq!(
                refused(incident, actor, &make(blank.to_owned())),
                WorkflowError::ReasonRequired { action: name }
            );
        }
        let long = "网".repeat(MAX_TEXT_CHARS + 1);
        assert_eq!(
            refused(incident, actor, &make(long)),
            WorkflowError::ReasonTooLong {
                action: name,
                chars: MAX_TEXT_CHARS + 1
            }
        );
        // The limit counts characters, not bytes.
        step(incident, actor, &make("网".repeat(MAX_TEXT_CHARS)));
    }
}

/// What each caller is offered, written out from the "Who may act" table rather than derived from it.
#[test]
fn each_caller_is_offered_exactly_the_actions_it_may_take() {
    let registered = new_case();
    assert_eq!(
        actions_for(&registered, &commander()),
        ["dispatch", "defer", "cancel", "merge", "escalate"]
    );
    assert_eq!(actions_for(&registered, &worker(W1)), Vec::<&str>::new());

    let dispatched = step(&registered, commander(), &Action::Dispatch { to: W1 });
    assert_eq!(
        actions_for(&dispatched, &worker(W1)),
        ["accept", "send_back"]
    );
    assert_eq!(
        actions_for(&dispatched, &worker(W2)),
        Vec::<&str>::new(),
        "not the assignee"
    );
    assert_eq!(
        actions_for(&dispatched, &commander()),
        ["reassign", "defer", "cancel", "merge", "escalate", "extend"]
    );
    assert_eq!(
        actions_for(&dispatched, &admin()),
        [
            "accept",
            "send_back",
            "reassign",
            "defer",
            "cancel",
            "merge",
            "escalate",
            "extend"
        ]
    );
    let reporter = Actor {
        worker: None,
        role: Role::Reporter,
    };
    assert_eq!(actions_for(&dispatched, &reporter), Vec::<&str>::new());

    let resolved = resolved_by_w1();
    assert_eq!(actions_for(&resolved, &commander()), ["verify"]);
    assert_eq!(actions_for(&resolved, &worker(W1)), Vec::<&str>::new());
    // 监督与处置分离: a commander who handled the case is not offered its verification.
    let handler_commander = Actor {
        worker: Some(W1),
        role: Role::Commander,
    };
    assert_eq!(
        actions_for(&resolved, &handler_commander),
        Vec::<&str>::new()
    );

    let closed = step(&resolved, commander(), &Action::Verify { passed: true });
    assert_eq!(actions_for(&closed, &commander()), ["reopen"]);
    assert_eq!(actions_for(&closed, &worker(W1)), Vec::<&str>::new());
}
