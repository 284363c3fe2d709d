//! The workflow's, the intake's, an action's and a photo's errors.

use serde_json::json;

use super::{INTERNAL, database, problem, seen, with};
use crate::cases::{ActionError, IntakeError, PhotoError};
use crate::domain::incident::{Status, WorkflowError};
use crate::domain::{AccessError, IncidentId, Role, Subject, WorkerId};
use crate::store::StoreError;
use crate::world::LocateError;

#[test]
fn workflow_refusals() {
    assert_eq!(
        seen(WorkflowError::IllegalTransition {
            action: "accept",
            status: Status::Closed,
            allowed: vec!["reopen"],
        }),
        with(
            problem(
                409,
                "illegal-transition",
                "cannot accept a closed case; allowed: reopen"
            ),
            &json!({"code": "illegal_transition", "action": "accept", "current_state": "closed",
                "allowed_actions": ["reopen"]})
        )
    );
    assert_eq!(
        seen(WorkflowError::NotAllowed {
            action: "verify",
            role: Role::Worker,
            reason: "only a commander verifies",
        }),
        with(
            problem(
                403,
                "forbidden",
                "a worker may not verify: only a commander verifies"
            ),
            &json!({"code": "action_not_allowed", "action": "verify", "role": "worker"})
        )
    );
    assert_eq!(
        seen(WorkflowError::SelfVerification),
        with(
            problem(
                403,
                "self-verification",
                "the handler of a case may not verify it"
            ),
            &json!({"code": "self_verification"})
        )
    );
    assert_eq!(
        seen(WorkflowError::AlreadyAtTop),
        with(
            problem(
                409,
                "already-at-top",
                "the case is already at district level and cannot be escalated further"
            ),
            &json!({"code": "already_at_top"})
        )
    );
    for (error, detail, members) in [
        (
            WorkflowError::ReasonRequired { action: "defer" },
            "defer needs a reason",
            json!({"code": "reason_required", "action": "defer", "field": "reason"}),
        ),
        (
            WorkflowError::ReasonTooLong {
                action: "cancel",
                chars: 2001,
            },
            "cancel: reason or note is 2001 characters; at most 2000 allowed",
            json!({"code": "reason_too_long", "action": "cancel", "chars": 2001, "max": 2000}),
        ),
        (
            WorkflowError::InvalidDeadline,
            "the new deadline must be after now and after the current deadline",
            json!({"code": "invalid_deadline", "field": "until"}),
        ),
        (
            WorkflowError::MergeIntoSelf,
            "a case cannot be merged into itself",
            json!({"code": "merge_into_self", "field": "into"}),
        ),
    ] {
        assert_eq!(
            seen(error),
            with(problem(422, "invalid-input", detail), &members)
        );
    }
}

#[test]
fn intake_refusals() {
    let invalid = |detail: &str| problem(422, "invalid-input", detail);
    assert_eq!(
        seen(IntakeError::DescriptionTooLong { chars: 4001 }),
        with(
            invalid("description is 4001 characters; at most 4000 allowed"),
            &json!({"code": "description_too_long", "field": "description", "chars": 4001,
                "max": 4000})
        )
    );
    assert_eq!(
        seen(IntakeError::UnknownCategory("potholes".into())),
        with(
            invalid("unknown category \"potholes\"; see /api/categories"),
            &json!({"code": "unknown_category", "field": "category", "value": "potholes"})
        )
    );
    assert_eq!(
        seen(IntakeError::RetiredCategory("kiosks".into())),
        with(
            invalid("category \"kiosks\" is no longer in use"),
            &json!({"code": "retired_category", "field": "category", "value": "kiosks"})
        )
    );
    assert_eq!(
        seen(IntakeError::Coordinate(LocateError::Longitude(181.0))),
        with(
            problem(
                400,
                "invalid-coordinate",
                "longitude 181 is not a number in -180..=180"
            ),
            &json!({"code": "invalid_longitude", "field": "lon", "value": 181.0})
        )
    );
    assert_eq!(
        seen(IntakeError::NoCity),
        with(
            invalid("no city has been imported, so no grid can take the incident"),
            &json!({"code": "no_city"})
        )
    );
    assert_eq!(
        seen(IntakeError::OutsideManagedArea {
            lat: 36.0,
            lon: 113.0,
            distance_m: 1234.4,
            max_m: 200.0,
        }),
        with(
            problem(
                422,
                "outside-managed-area",
                "the point lies 1234 m outside every grid; at most 200 m is accepted"
            ),
            &json!({"code": "outside_managed_area", "distance_m": 1234.0, "max_m": 200.0})
        )
    );
    assert_eq!(
        seen(IntakeError::DeadlineOutOfRange),
        with(
            invalid("the deadline falls outside the representable time range"),
            &json!({"code": "deadline_out_of_range"})
        )
    );
    assert_eq!(
        seen(IntakeError::ShuttingDown),
        with(
            problem(
                503,
                "unavailable",
                "the server is shutting down; the report was not registered, send it again"
            ),
            &json!({"code": "shutting_down"})
        )
    );
    for internal in [
        IntakeError::AutoDispatch(WorkflowError::SelfVerification),
        IntakeError::Unanswered,
        IntakeError::Store(database()),
    ] {
        assert_eq!(seen(internal), problem(500, "internal", INTERNAL));
    }
    assert_eq!(
        seen(IntakeError::Store(StoreError::Conflict(
            "too many cases in one group".into()
        ))),
        problem(409, "conflict", "too many cases in one group")
    );
}

#[test]
fn action_refusals() {
    assert_eq!(
        seen(ActionError::Access(AccessError::OutOfScope(
            Subject::Incident(IncidentId(4))
        ))),
        problem(403, "forbidden", "incident 4 is outside your scope")
    );
    assert_eq!(
        seen(ActionError::Workflow(WorkflowError::AlreadyAtTop))["type"],
        "/problems/already-at-top"
    );
    assert_eq!(
        seen(ActionError::Stale(IncidentId(4))),
        with(
            problem(409, "conflict", "incident 4 changed since it was read"),
            &json!({"code": "stale", "slug": "stale", "incident": 4})
        )
    );
    assert_eq!(
        seen(ActionError::UnknownWorker(WorkerId(99))),
        with(
            problem(422, "invalid-input", "unknown worker 99"),
            &json!({"code": "unknown_worker", "field": "to", "value": 99})
        )
    );
    assert_eq!(
        seen(ActionError::UnknownMergeTarget(IncidentId(98))),
        with(
            problem(422, "invalid-input", "unknown incident 98 to merge into"),
            &json!({"code": "unknown_merge_target", "field": "into", "value": 98})
        )
    );
    assert_eq!(
        seen(ActionError::MergeTargetClosed {
            into: IncidentId(5),
            status: Status::Closed,
        }),
        with(
            problem(
                409,
                "conflict",
                "incident 5 is closed; a duplicate can only be merged into a case still being worked"
            ),
            &json!({"code": "merge_target_closed", "into": 5, "current_state": "closed"})
        )
    );
    assert_eq!(
        seen(ActionError::Store(database())),
        problem(500, "internal", INTERNAL)
    );
}

#[test]
fn photo_refusals() {
    assert_eq!(
        seen(PhotoError::Empty),
        with(
            problem(422, "invalid-input", "the photo is empty"),
            &json!({"code": "photo_empty", "field": "photo"})
        )
    );
    assert_eq!(
        seen(PhotoError::TooLarge { bytes: 10_485_761 }),
        with(
            problem(
                413,
                "too-large",
                "a photo may be at most 10485760 bytes; this one is 10485761"
            ),
            &json!({"code": "photo_too_large", "bytes": 10_485_761, "max": 10_485_760})
        )
    );
    assert_eq!(
        seen(PhotoError::NotAnImage),
        with(
            problem(
                415,
                "unsupported-media-type",
                "a photo must be a JPEG, PNG or WebP image"
            ),
            &json!({"code": "not_an_image"})
        )
    );
    assert_eq!(
        seen(PhotoError::Access(AccessError::NotFound(
            Subject::Incident(IncidentId(8))
        ))),
        problem(404, "not-found", "incident 8 does not exist")
    );
    assert_eq!(
        seen(PhotoError::CaseClosed {
            id: IncidentId(8),
            status: Status::Cancelled,
        }),
        with(
            problem(
                409,
                "conflict",
                "incident 8 is cancelled; photos go on open cases"
            ),
            &json!({"code": "case_closed", "current_state": "cancelled"})
        )
    );
    let sha256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    assert_eq!(
        seen(PhotoError::AlreadyAttached {
            id: IncidentId(8),
            sha256: sha256.into(),
        }),
        with(
            problem(409, "conflict", "incident 8 already has this photo"),
            &json!({"code": "photo_already_attached", "sha256": sha256})
        )
    );
    assert_eq!(
        seen(PhotoError::CaseFull { id: IncidentId(8) }),
        with(
            problem(
                409,
                "conflict",
                "incident 8 already has 20 photos, the most a case may carry"
            ),
            &json!({"code": "case_full", "max": 20})
        )
    );
    assert_eq!(
        seen(PhotoError::Store(database())),
        problem(500, "internal", INTERNAL)
    );
}
