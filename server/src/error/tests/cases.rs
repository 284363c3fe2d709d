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
            &json!({"action": "accept", "current_state": "closed", "allowed_actions": ["reopen"]})
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
            &json!({"action": "verify"})
        )
    );
    assert_eq!(
        seen(WorkflowError::SelfVerification),
        problem(
            403,
            "self-verification",
            "the handler of a case may not verify it"
        )
    );
    assert_eq!(
        seen(WorkflowError::AlreadyAtTop),
        problem(
            409,
            "already-at-top",
            "the case is already at district level and cannot be escalated further"
        )
    );
    for (error, detail) in [
        (
            WorkflowError::ReasonRequired { action: "defer" },
            "defer needs a reason",
        ),
        (
            WorkflowError::ReasonTooLong {
                action: "cancel",
                chars: 2001,
            },
            "cancel: reason or note is 2001 characters; at most 2000 allowed",
        ),
        (
            WorkflowError::InvalidDeadline,
            "the new deadline must be after now and after the current deadline",
        ),
        (
            WorkflowError::MergeIntoSelf,
            "a case cannot be merged into itself",
        ),
    ] {
        assert_eq!(seen(error), problem(422, "invalid-input", detail));
    }
}

#[test]
fn intake_refusals() {
    let invalid = |detail: &str| problem(422, "invalid-input", detail);
    assert_eq!(
        seen(IntakeError::DescriptionTooLong { chars: 4001 }),
        invalid("description is 4001 characters; at most 4000 allowed")
    );
    assert_eq!(
        seen(IntakeError::UnknownCategory("potholes".into())),
        with(
            invalid("unknown category \"potholes\"; see /api/categories"),
            &json!({"field": "category"})
        )
    );
    assert_eq!(
        seen(IntakeError::RetiredCategory("kiosks".into())),
        with(
            invalid("category \"kiosks\" is no longer in use"),
            &json!({"field": "category"})
        )
    );
    assert_eq!(
        seen(IntakeError::Coordinate(LocateError::Longitude(181.0))),
        problem(
            400,
            "invalid-coordinate",
            "longitude 181 is not a number in -180..=180"
        )
    );
    assert_eq!(
        seen(IntakeError::NoCity),
        invalid("no city has been imported, so no grid can take the incident")
    );
    assert_eq!(
        seen(IntakeError::OutsideManagedArea {
            lat: 36.0,
            lon: 113.0,
            distance_m: 1234.4,
            max_m: 200.0,
        }),
        problem(
            422,
            "outside-managed-area",
            "the point lies 1234 m outside every grid; at most 200 m is accepted"
        )
    );
    assert_eq!(
        seen(IntakeError::DeadlineOutOfRange),
        invalid("the deadline falls outside the representable time range")
    );
    assert_eq!(
        seen(IntakeError::ShuttingDown),
        problem(
            503,
            "unavailable",
            "the server is shutting down; the report was not registered, send it again"
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
            &json!({"slug": "stale"})
        )
    );
    assert_eq!(
        seen(ActionError::UnknownWorker(WorkerId(99))),
        with(
            problem(422, "invalid-input", "unknown worker 99"),
            &json!({"field": "to"})
        )
    );
    assert_eq!(
        seen(ActionError::UnknownMergeTarget(IncidentId(98))),
        with(
            problem(422, "invalid-input", "unknown incident 98 to merge into"),
            &json!({"field": "into"})
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
            &json!({"current_state": "closed"})
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
            &json!({"field": "photo"})
        )
    );
    assert_eq!(
        seen(PhotoError::TooLarge { bytes: 10_485_761 }),
        problem(
            413,
            "too-large",
            "a photo may be at most 10485760 bytes; this one is 10485761"
        )
    );
    assert_eq!(
        seen(PhotoError::NotAnImage),
        problem(
            415,
            "unsupported-media-type",
            "a photo must be a JPEG, PNG or WebP image"
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
            &json!({"current_state": "cancelled"})
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
            &json!({"sha256": sha256})
        )
    );
    assert_eq!(
        seen(PhotoError::CaseFull { id: IncidentId(8) }),
        problem(
            409,
            "conflict",
            "incident 8 already has 20 photos, the most a case may carry"
        )
    );
    assert_eq!(
        seen(PhotoError::Store(database())),
        problem(500, "internal", INTERNAL)
    );
}
