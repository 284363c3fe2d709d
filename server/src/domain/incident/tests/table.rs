//! The exhaustive walk of status × action against the transitions table, and the serialised names.

use super::*;

/// One valid instance of every action, for the exhaustive walk.
fn every_action() -> Vec<Action> {
    vec![
        Action::Dispatch { to: W2 },
        Action::Reassign { to: W2 },
        Action::Accept,
        Action::SendBack {
            reason: reason("r"),
        },
        Action::Start,
        Action::Resolve { note: None },
        Action::Verify { passed: true },
        Action::Extend {
            until: t0() + Duration::days(30),
            reason: reason("r"),
        },
        Action::Defer {
            reason: reason("r"),
        },
        Action::Resume,
        Action::Escalate { reason: None },
        Action::Reopen {
            reason: reason("r"),
        },
        Action::Merge {
            into: IncidentId(99),
        },
        Action::Cancel {
            reason: reason("r"),
        },
    ]
}

/// The transitions table, written out independently of `allowed_actions`.
fn expected_table(status: Status) -> &'static [&'static str] {
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

/// A plausible case in `status`: assigned to and handled by W1, with a deadline.
fn case_in(status: Status) -> Incident {
    Incident {
        status,
        assignee: Some(W1),
        handler: Some(W1),
        deferred: status == Status::Deferred,
        resume_to: (status == Status::Deferred).then_some(Status::Accepted),
        merged_into: (status == Status::Merged).then_some(IncidentId(99)),
        ..new_case()
    }
}

#[test]
fn every_status_and_action_pair_follows_the_table() {
    let actions = every_action();
    let mut names: Vec<_> = actions.iter().map(Action::name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), 14, "one instance per action");

    let mut legal = 0;
    for &status in Status::ALL {
        let expected = expected_table(status);
        let mut table = allowed_actions(status).to_vec();
        let mut want = expected.to_vec();
        table.sort_unstable();
        want.sort_unstable();
        assert_eq!(table, want, "{status}");

        for action in &actions {
            let result = apply(&case_in(status), &admin(), action, t0());
            if expected.contains(&action.name()) {
                legal += 1;
                let t = result.unwrap_or_else(|e| panic!("{status} × {}: {e}", action.name()));
                assert_eq!((t.entry.from, t.entry.to), (status, t.next.status));
            } else {
                assert_eq!(
                    result,
                    Err(WorkflowError::IllegalTransition {
                        action: action.name(),
                        status,
                        allowed: allowed_actions(status).to_vec(),
                    }),
                    "{status} × {}",
                    action.name()
                );
            }
        }
    }
    assert_eq!(legal, 5 + 8 + 7 + 6 + 1 + 1 + 2);
}

#[test]
fn status_is_checked_before_role() {
    let i = new_case();
    let err = refused(&i, worker(W1), &Action::Verify { passed: true });
    assert!(matches!(
        err,
        WorkflowError::IllegalTransition {
            action: "verify",
            status: Status::Registered,
            ..
        }
    ));
    assert_eq!(
        err.to_string(),
        "cannot verify a registered case; allowed: dispatch, defer, cancel, merge, escalate"
    );
}

#[test]
fn actions_serialise_with_their_name_as_tag() {
    for action in every_action() {
        let json = serde_json::to_value(&action).expect("serialise");
        assert_eq!(json["action"], action.name());
        let back: Action = serde_json::from_value(json).expect("deserialise");
        assert_eq!(back, action);
    }
    let parsed: Action =
        serde_json::from_str(r#"{"action":"send_back","reason":"不是本网格"}"#).expect("parse");
    assert_eq!(
        parsed,
        Action::SendBack {
            reason: reason("不是本网格")
        }
    );
    let parsed: Action = serde_json::from_str(r#"{"action":"resolve"}"#).expect("parse");
    assert_eq!(parsed, Action::Resolve { note: None });
}

#[test]
fn enum_names_round_trip_and_match_serde() {
    fn check<T>(all: &[T], as_str: fn(T) -> &'static str, parse: fn(&str) -> Option<T>)
    where
        T: Copy + PartialEq + std::fmt::Debug + serde::Serialize,
    {
        for &v in all {
            assert_eq!(parse(as_str(v)), Some(v));
            assert_eq!(serde_json::to_value(v).expect("serialise"), as_str(v));
        }
        assert_eq!(parse("nonsense"), None);
    }
    check(Status::ALL, Status::as_str, Status::parse);
    check(Source::ALL, Source::as_str, Source::parse);
    check(Priority::ALL, Priority::as_str, Priority::parse);
    check(CaseKind::ALL, CaseKind::as_str, CaseKind::parse);
    check(
        EscalationLevel::ALL,
        EscalationLevel::as_str,
        EscalationLevel::parse,
    );
    assert_eq!(Status::InProgress.as_str(), "in_progress");
    assert_eq!(CaseKind::OnTheSpot.as_str(), "on_the_spot");
}

#[test]
fn incident_round_trips_through_json() {
    let i = step(
        &resolved_by_w1(),
        commander(),
        &Action::Verify { passed: false },
    );
    let json = serde_json::to_string(&i).expect("serialise");
    assert!(json.contains(r#""id":7"#), "ids are bare numbers: {json}");
    assert_eq!(
        serde_json::from_str::<Incident>(&json).expect("deserialise"),
        i
    );
}
