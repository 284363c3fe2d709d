//! Alarms' errors.

use serde_json::json;

use super::{INTERNAL, database, problem, seen, with};
use crate::alarms::AlarmError;
use crate::domain::alarm::AcknowledgedBy;
use crate::domain::{AccessError, AlarmId, IncidentId, Role, Subject, UserId};

#[test]
fn every_alarm_error() {
    let id = AlarmId {
        seq: 12,
        case: Some(IncidentId(3)),
    };
    assert_eq!(
        seen(AlarmError::Access(AccessError::NotFound(Subject::Alarm(
            id
        )))),
        problem(404, "not-found", "alarm 12.3 does not exist")
    );
    assert_eq!(
        seen(AlarmError::Access(AccessError::OutOfScope(Subject::Alarm(
            id
        )))),
        problem(403, "forbidden", "alarm 12.3 is outside your scope")
    );
    let by = AcknowledgedBy {
        user: Some(UserId(4)),
        token: None,
        name: Some("李雷".into()),
        role: Role::Commander,
    };
    let at = "2026-12-07T08:00:00Z".parse().expect("a time");
    assert_eq!(
        seen(AlarmError::AlreadyAcknowledged { id, by, at }),
        with(
            problem(
                409,
                "already-acknowledged",
                "alarm 12.3 was already acknowledged by 李雷 at 2026-12-07 08:00:00 UTC"
            ),
            &json!({"code": "already_acknowledged", "alarm": "12.3", "at": "2026-12-07T08:00:00Z",
                "by": {"user": 4, "token": null, "name": "李雷", "role": "commander"}})
        )
    );
    assert_eq!(
        seen(AlarmError::Store(database())),
        problem(500, "internal", INTERNAL)
    );
}
