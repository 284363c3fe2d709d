//! The fold: each kind of event that changes the map, and the keyframe's stored form.

use chrono::{DateTime, Utc};

use super::*;
use crate::domain::incident::Status;

fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("a time")
}

/// A case summary as an `incident.created` event of an urgent road case carries it.
fn summary(id: i64, status: &str) -> IncidentSummary {
    serde_json::from_value(serde_json::json!({
        "id": id, "status": status, "level": "grid", "category": "road", "priority": "urgent",
        "source": "hotline", "kind": "on_the_spot", "lat": 36.19, "lon": 113.1,
        "cell": "8940931980fffff", "grid": 3, "community": 2, "street": 1, "district": null,
        "assignee": 5, "handler": null, "deadline": null, "escalate_at": null, "rework_count": 0,
        "deferred": false, "duplicate_of": null, "merged_into": null,
        "created_at": "2026-12-07T08:00:00Z", "updated_at": "2026-12-07T08:00:00Z", "last": null
    }))
    .expect("a summary")
}

fn event(seq: i64, change: Change) -> Event {
    Event {
        seq,
        at: at("2026-12-07T08:00:00Z"),
        change,
    }
}

fn updated(summaries: Vec<IncidentSummary>) -> Change {
    Change::IncidentUpdated(crate::domain::event::IncidentsUpdated {
        incidents: summaries,
        reason: None,
        version: None,
    })
}

#[test]
fn cases_come_and_go_with_their_events() {
    let mut frame = Frame::default();
    frame.apply(&event(
        1,
        Change::IncidentCreated(Box::new(summary(7, "registered"))),
    ));
    frame.apply(&event(
        2,
        Change::IncidentCreated(Box::new(summary(8, "registered"))),
    ));
    assert_eq!(frame.incidents.keys().copied().collect::<Vec<_>>(), [7, 8]);
    // A workflow action replaces the summary; closing takes the case off the map.
    frame.apply(&event(
        3,
        updated(vec![summary(7, "dispatched"), summary(8, "closed")]),
    ));
    assert_eq!(frame.incidents.keys().copied().collect::<Vec<_>>(), [7]);
    assert_eq!(frame.incidents[&7].status, Status::Dispatched);
    assert_eq!(frame.seq, 3);
    // An event the frame already holds changes nothing: a frame never goes back.
    frame.apply(&event(
        2,
        Change::IncidentCreated(Box::new(summary(9, "registered"))),
    ));
    assert!(!frame.incidents.contains_key(&9));
    assert_eq!(frame.seq, 3);
    // Cancelled and merged cases leave as closed ones do.
    frame.apply(&event(4, updated(vec![summary(7, "cancelled")])));
    assert!(frame.incidents.is_empty());
}

#[test]
fn a_keyframe_reads_back_as_the_frame_it_stored() {
    let mut frame = Frame::default();
    frame.apply(&event(
        1,
        Change::IncidentCreated(Box::new(summary(7, "registered"))),
    ));
    frame.apply(&event(
        2,
        Change::IncidentCreated(Box::new(summary(8, "accepted"))),
    ));
    let bytes = frame.encode();
    assert_eq!(&bytes[..2], [0x1f, 0x8b], "gzip");
    assert_eq!(Frame::decode(&bytes).expect("decodes"), frame);
    assert!(Frame::decode(b"not gzip").is_err());
}
