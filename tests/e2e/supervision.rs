//! Supervision (督办) in the real binary: with a round-the-clock calendar and a 1.8-second limit, an
//! unhandled case is escalated automatically at its deadline, then again at the next, each time with a
//! supervision notice in its history. (The working-hours arithmetic is tested under paused time in
//! `server/tests/escalation.rs`.)

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::Method;
use serde_json::{Value, json};

use crate::cases::{case, grid_place, report};
use crate::harness::{Flavor, Server, TestStore};

/// 1.8 s, in hours.
const LIMIT_H: f64 = 0.0005;

#[tokio::test]
async fn overdue_case_escalates_through_two_levels_on_sqlite() {
    escalates_through_two_levels(Flavor::Sqlite).await;
}

#[tokio::test]
async fn overdue_case_escalates_through_two_levels_on_postgis() {
    escalates_through_two_levels(Flavor::Postgres).await;
}

/// A `demo` server on a round-the-clock calendar at `tz_offset_minutes`, with the `hazard` category's
/// every limit set to `limit_h` hours (a few seconds), so a case goes overdue while a test waits.
/// The dispatch configuration's folder is returned with it, to outlive the server.
pub async fn round_the_clock(
    store: &TestStore,
    tz_offset_minutes: i32,
    limit_h: f64,
) -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("dispatch.json");
    let calendar = json!({"calendar": {"tz_offset_minutes": tz_offset_minutes, "day_start": "00:00:00",
        "day_end": "23:59:59", "lunch": null, "weekend": []}});
    std::fs::write(&config, calendar.to_string()).unwrap();
    let server = Server::start(
        &["demo", "--dispatch-config", config.to_str().unwrap()],
        store,
    );
    let (_, categories) = server.get("/api/categories").await;
    let hazard = categories
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "hazard")
        .unwrap()
        .clone();
    let body = json!({"name": hazard["name"], "class": hazard["class"], "kind": hazard["kind"],
        "limits": {"low_h": limit_h, "normal_h": limit_h, "high_h": limit_h, "urgent_h": limit_h}});
    let (status, saved) = server
        .send(Method::PUT, "/api/categories/hazard", &body)
        .await;
    assert_eq!(status, 200, "{saved}");
    (server, dir)
}

fn time(value: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(value.as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

async fn escalates_through_two_levels(flavor: Flavor) {
    let Some(store) = TestStore::new(flavor).await else {
        return;
    };
    let (server, dir) = round_the_clock(&store, 0, LIMIT_H).await;

    let here = grid_place(&server, 2, 0).await;
    let created = report(&server, server.token(), here.lat, here.lon, "hazard").await;
    let id = created["id"].as_i64().unwrap();
    let deadline = time(&created["deadline"]);
    let limit = chrono::Duration::milliseconds(1800);
    assert_eq!(deadline - time(&created["created_at"]), limit);

    // Wait (at most 30 s) until it has climbed two levels.
    let mut current = created;
    for _ in 0..300 {
        current = case(&server, id).await;
        if current["level"] == "street" || current["level"] == "district" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let escalations: Vec<&Value> = current["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "escalate")
        .collect();
    assert!(
        escalations.len() >= 2,
        "escalated {} times: {current}",
        escalations.len()
    );
    let (first, second) = (escalations[0], escalations[1]);
    assert_eq!(first["detail"]["level"], "community");
    assert_eq!(second["detail"]["level"], "street");
    for notice in [first, second] {
        assert_eq!(notice["detail"]["automatic"], true);
        assert_eq!(notice["detail"]["notice"], true);
        assert_eq!(
            notice["note"],
            Value::Null,
            "structured detail, no prose: {notice}"
        );
        assert_eq!(
            notice["actor"]["worker"],
            Value::Null,
            "the system acts, not a person"
        );
    }
    assert!(time(&first["at"]) >= deadline, "not before the deadline");
    assert_eq!(time(&first["detail"]["overdue_since"]), deadline);
    assert!(
        time(&second["at"]) >= deadline + limit,
        "the second waits for one more limit"
    );
    assert_eq!(
        time(&second["detail"]["overdue_since"]),
        deadline,
        "overdue since the case's deadline, at every level"
    );
    assert_eq!(
        current["status"], "dispatched",
        "escalation leaves the status alone"
    );
    assert_eq!(
        current["deadline"],
        json!(deadline),
        "and the deadline the case is judged by"
    );
    assert_eq!(current["overdue"], true);

    // The command centre finds it with the overdue filter.
    let (status, list) = server
        .get(&format!("/api/incidents?overdue=true&grid={}", here.grid))
        .await;
    assert_eq!(status, 200);
    assert!(
        list["features"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["properties"]["id"] == id)
    );
    dir.close().unwrap();
    store.finish().await;
}
