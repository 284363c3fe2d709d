//! Positions', patrols' and cameras' errors.

use chrono::{TimeZone, Utc};
use serde_json::json;

use super::{INTERNAL, database, problem, seen, with};
use crate::cameras::CameraError;
use crate::domain::camera::InvalidCamera;
use crate::domain::fix::BadFix;
use crate::domain::{AccessError, CameraId, PatrolId, Subject, WorkerId};
use crate::patrols::PatrolError;
use crate::tracking::{FixRefusal, PositionError, RefusedFix};

#[test]
fn position_refusals() {
    assert_eq!(
        seen(PositionError::Empty),
        with(
            problem(422, "invalid-input", "no positions given"),
            &json!({"code": "no_positions"})
        )
    );
    assert_eq!(
        seen(PositionError::TooMany(10_001)),
        with(
            problem(
                422,
                "invalid-input",
                "at most 10000 positions a request; got 10001"
            ),
            &json!({"code": "too_many_positions", "count": 10_001})
        )
    );
    assert_eq!(
        seen(PositionError::Refused {
            count: 3,
            fixes: vec![
                RefusedFix {
                    index: 0,
                    reason: FixRefusal::UnknownWorker(WorkerId(404)),
                },
                RefusedFix {
                    index: 2,
                    reason: BadFix("lat 91 is not a latitude in -90..90".into()).into(),
                },
            ],
        }),
        with(
            problem(
                422,
                "invalid-position",
                "2 of 3 positions refused, nothing stored; first: unknown worker 404"
            ),
            &json!({"code": "positions_refused", "count": 3, "errors": [
                {"index": 0, "reason": "unknown worker 404"},
                {"index": 2, "reason": "lat 91 is not a latitude in -90..90"},
            ]})
        )
    );
    assert_eq!(
        seen(PositionError::WriterStopped),
        with(
            problem(
                503,
                "unavailable",
                "positions were not stored (the positions writer has stopped); send them again"
            ),
            &json!({"code": "writer_stopped"})
        )
    );
    assert_eq!(
        seen(PositionError::StoreRefused),
        with(
            problem(
                503,
                "unavailable",
                "positions were not stored (the store refused the write); send them again"
            ),
            &json!({"code": "store_refused"})
        )
    );
    assert_eq!(
        seen(PositionError::StoreFull),
        with(
            problem(
                507,
                "insufficient-storage",
                "positions were not stored (the server's storage is full); send them again later"
            ),
            &json!({"code": "store_full"})
        )
    );
}

#[test]
fn patrol_and_camera_refusals() {
    assert_eq!(
        seen(PatrolError::AlreadyOnPatrol {
            worker: WorkerId(3),
            patrol: PatrolId(11),
        }),
        with(
            problem(
                409,
                "conflict",
                "worker 3 is already on patrol 11; end it first"
            ),
            &json!({"code": "already_on_patrol", "patrol_id": 11})
        )
    );
    assert_eq!(
        seen(PatrolError::AlreadyEnded {
            id: PatrolId(11),
            at: Utc.with_ymd_and_hms(2026, 11, 29, 8, 0, 0).unwrap(),
        }),
        with(
            problem(
                409,
                "conflict",
                "patrol 11 already ended at 2026-11-29T08:00:00+00:00"
            ),
            &json!({"code": "patrol_already_ended"})
        )
    );
    assert_eq!(
        seen(PatrolError::Access(AccessError::NotFound(Subject::Patrol(
            PatrolId(12)
        )))),
        problem(404, "not-found", "patrol 12 does not exist")
    );
    assert_eq!(
        seen(PatrolError::Store(database())),
        problem(500, "internal", INTERNAL)
    );

    assert_eq!(
        seen(CameraError::Access(AccessError::NotFound(Subject::Camera(
            CameraId(5)
        )))),
        problem(404, "not-found", "camera 5 does not exist")
    );
    assert_eq!(
        seen(CameraError::Invalid(InvalidCamera {
            field: "range_m",
            reason: "must be in (0, 2000] meters".into(),
        })),
        with(
            problem(422, "invalid-input", "range_m: must be in (0, 2000] meters"),
            &json!({"code": "invalid_camera", "field": "range_m"})
        )
    );
    assert_eq!(
        seen(CameraError::Unchanged),
        with(
            problem(422, "invalid-input", "the change changes nothing"),
            &json!({"code": "camera_unchanged"})
        )
    );
    assert_eq!(
        seen(CameraError::Store(database())),
        problem(500, "internal", INTERNAL)
    );
}
