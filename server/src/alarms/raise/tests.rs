//! The derivation, one kind at a time, written out by hand from the events a case's life writes.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::raised;
use crate::domain::event::{AlertRaised, IncidentSummary, IncidentsUpdated, PhotoAdded};
use crate::domain::incident::{
    Actor, CaseKind, EscalationLevel, HistoryEntry, Priority, Source, Status,
};
use crate::domain::{AlarmId, AlarmKind, Change, Event, GridId, IncidentId, RegionId, Role};

fn at(text: &str) -> DateTime<Utc> {
    text.parse().expect("a time")
}

fn entry(action: &str, detail: Option<serde_json::Value>, role: Role) -> HistoryEntry {
    HistoryEntry {
        at: at("2026-12-07T08:00:00Z"),
        actor: Actor { worker: None, role },
        action: action.to_owned(),
        from: Status::Dispatched,
        to: Status::Dispatched,
        note: None,
        detail,
    }
}

fn summary(id: i64, priority: Priority, last: HistoryEntry) -> IncidentSummary {
    IncidentSummary {
        id: IncidentId(id),
        status: Status::Dispatched,
        level: EscalationLevel::Community,
        category: "road".into(),
        priority,
        source: Source::Worker,
        kind: CaseKind::Promised,
        lat: 36.19,
        lon: 113.1,
        cell: h3o::LatLng::new(36.19, 113.1)
            .expect("a point")
            .to_cell(h3o::Resolution::Twelve),
        grid: GridId(4),
        community: RegionId(3),
        street: Some(RegionId(2)),
        district: Some(RegionId(1)),
        assignee: None,
        handler: None,
        deadline: None,
        escalate_at: None,
        rework_count: 0,
        deferred: false,
        duplicate_of: None,
        merged_into: None,
        created_at: at("2026-12-07T07:00:00Z"),
        updated_at: at("2026-12-07T08:00:00Z"),
        last: Some(last),
    }
}

fn event(seq: i64, change: Change) -> Event {
    Event {
        seq,
        at: at("2026-12-07T08:00:01Z"),
        change,
    }
}

fn created(id: i64, priority: Priority) -> Event {
    let s = summary(id, priority, entry("register", None, Role::Worker));
    event(10, Change::IncidentCreated(Box::new(s)))
}

fn updated(cases: Vec<IncidentSummary>) -> Event {
    event(
        11,
        Change::IncidentUpdated(IncidentsUpdated {
            incidents: cases,
            reason: None,
            version: None,
        }),
    )
}

#[test]
fn an_urgent_new_case_raises_an_urgent_alarm_and_no_other_priority_does() {
    let alarms = raised(&created(7, Priority::Urgent));
    assert_eq!(alarms.len(), 1);
    let alarm = &alarms[0];
    assert_eq!(
        alarm.id,
        AlarmId {
            seq: 10,
            case: Some(IncidentId(7))
        }
    );
    assert_eq!(alarm.id.to_string(), "10.7");
    assert_eq!(alarm.kind, AlarmKind::Urgent);
    assert_eq!((alarm.seq, alarm.case), (10, Some(IncidentId(7))));
    assert_eq!(alarm.at, at("2026-12-07T08:00:01Z"));
    assert_eq!((alarm.lat, alarm.lon), (36.19, 113.1));
    assert_eq!(
        (alarm.grid, alarm.community, alarm.street, alarm.district),
        (
            Some(GridId(4)),
            Some(RegionId(3)),
            Some(RegionId(2)),
            Some(RegionId(1))
        )
    );
    assert_eq!(alarm.title, "urgent case 7 (road)");
    for priority in [Priority::Low, Priority::Normal, Priority::High] {
        assert!(raised(&created(7, priority)).is_empty(), "{priority}");
    }
}

#[test]
fn an_escalation_is_overdue_when_automatic_and_escalated_when_by_a_person() {
    let automatic = entry(
        "escalate",
        Some(json!({"automatic": true, "notice": true, "level": "community"})),
        Role::Admin,
    );
    let by_hand = entry(
        "escalate",
        Some(json!({"level": "community"})),
        Role::Commander,
    );
    let alarms = raised(&updated(vec![
        summary(3, Priority::Normal, automatic),
        summary(4, Priority::Low, entry("accept", None, Role::Worker)),
        summary(5, Priority::Normal, by_hand),
    ]));
    let got: Vec<(String, AlarmKind)> = alarms.iter().map(|a| (a.id.to_string(), a.kind)).collect();
    assert_eq!(
        got,
        [
            ("11.3".to_owned(), AlarmKind::Overdue),
            ("11.5".to_owned(), AlarmKind::Escalated)
        ]
    );
    assert_eq!(alarms[0].title, "case 3 overdue, escalated to community");
    assert_eq!(alarms[1].title, "case 5 escalated to community");
    // `automatic: false` is a person's.
    let explicit = entry("escalate", Some(json!({"automatic": false})), Role::Admin);
    assert_eq!(
        raised(&updated(vec![summary(6, Priority::Normal, explicit)]))[0].kind,
        AlarmKind::Escalated
    );
}

#[test]
fn other_case_changes_raise_nothing_even_on_an_urgent_case() {
    for action in ["dispatch", "accept", "extend", "resolve", "boundary_change"] {
        let e = updated(vec![summary(
            3,
            Priority::Urgent,
            entry(action, None, Role::Commander),
        )]);
        assert!(raised(&e).is_empty(), "{action}");
    }
    let photo = event(
        12,
        Change::IncidentPhotoAdded(PhotoAdded {
            incident: IncidentId(3),
            sha256: "00".repeat(32),
            content_type: "image/png".into(),
            size: 10,
        }),
    );
    assert!(raised(&photo).is_empty());
}

fn alert(area: serde_json::Value) -> Event {
    event(
        20,
        Change::AlertRaised(AlertRaised {
            title: "积水 flood".into(),
            message: String::new(),
            area,
            workers: Vec::new(),
            raised_by: Actor {
                worker: None,
                role: Role::Commander,
            },
        }),
    )
}

#[test]
fn an_area_alert_raises_an_alarm_at_its_centre() {
    let circle = raised(&alert(
        json!({"circle": {"lat": 36.2, "lon": 113.05, "radius_m": 300.0}}),
    ));
    assert_eq!(circle.len(), 1);
    let a = &circle[0];
    assert_eq!(
        (a.id.to_string(), a.kind, a.case),
        ("20".to_owned(), AlarmKind::AreaAlert, None)
    );
    assert_eq!((a.lat, a.lon, a.grid), (36.2, 113.05, None));
    assert_eq!(a.title, "积水 flood");
    // A polygon's bounding box is [113.0, 36.0] – [113.2, 36.4]: its middle is (36.2, 113.1).
    let polygon = raised(&alert(json!({"type": "Polygon", "coordinates": [[
        [113.0, 36.0], [113.2, 36.0], [113.2, 36.4], [113.0, 36.0]
    ]]})));
    assert_eq!((polygon[0].lat, polygon[0].lon), (36.2, 113.1));
    let multi = raised(&alert(json!({"type": "MultiPolygon", "coordinates": [
        [[[113.0, 36.0], [113.1, 36.0], [113.1, 36.1], [113.0, 36.0]]],
        [[[113.3, 36.3], [113.4, 36.3], [113.4, 36.5], [113.3, 36.3]]]
    ]})));
    assert!((multi[0].lat - 36.25).abs() < 1e-12 && (multi[0].lon - 113.2).abs() < 1e-12);
    assert!(raised(&alert(json!({"type": "Polygon", "coordinates": []}))).is_empty());
}
