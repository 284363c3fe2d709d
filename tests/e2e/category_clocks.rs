//! Category clocks and names (issue 22) in the real binary, on both stores: with a calendar whose every
//! day around today is a holiday, an urgent emergency (24/7 clock) is due half an hour after it is
//! registered while an office-clock category waits for the next working day; supervision's next
//! escalation of a 24/7 case follows the same clock; an admin switches a category's clock; bad `clock`
//! and `name_zh` values are refused and change nothing. The seeded names are English in `name` and
//! Chinese in `name_zh`.

use std::time::Duration;

use chrono::{DateTime, FixedOffset, Utc};
use reqwest::Method;
use serde_json::{Value, json};

use crate::cases::{case, grid_place};
use crate::harness::{Flavor, Server, TestStore, assert_problem};

#[tokio::test]
async fn category_clocks_on_sqlite() {
    category_clocks(Flavor::Sqlite).await;
}

#[tokio::test]
async fn category_clocks_on_postgis() {
    category_clocks(Flavor::Postgres).await;
}

fn time(value: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(value.as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

/// A dispatch config on Beijing time whose calendar has no working day from 7 days before today to 7
/// days after (local dates): whatever the time of the run, now is not working time.
fn holiday_config(dir: &std::path::Path) -> std::path::PathBuf {
    let beijing = FixedOffset::east_opt(8 * 3600).unwrap();
    let today = Utc::now().with_timezone(&beijing).date_naive();
    let holidays: Vec<String> = (0..=14_u64)
        .map(|d| (today - chrono::Days::new(7) + chrono::Days::new(d)).to_string())
        .collect();
    let path = dir.join("dispatch.json");
    std::fs::write(
        &path,
        json!({"calendar": {"tz_offset_minutes": 480, "holidays": holidays}}).to_string(),
    )
    .unwrap();
    path
}

async fn register(server: &Server, lat: f64, lon: f64, category: &str, priority: &str) -> Value {
    let body = json!({"lat": lat, "lon": lon, "category": category, "priority": priority,
        "description": "煤气味 gas smell", "source": "hotline"});
    let (status, created) = server.send(Method::POST, "/api/incidents", &body).await;
    assert_eq!(status, 201, "{created}");
    created["properties"].clone()
}

fn category<'a>(all: &'a Value, code: &str) -> &'a Value {
    all.as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == code)
        .unwrap()
}

/// The PUT body of a category as listed, with `changes` merged in.
fn put_body(listed: &Value, changes: &Value) -> Value {
    let mut body = json!({"name": listed["name"], "name_zh": listed["name_zh"], "class": listed["class"],
        "department": listed["department"], "limits": listed["limits"], "kind": listed["kind"],
        "active": listed["active"], "clock": listed["clock"]});
    for (k, v) in changes.as_object().unwrap() {
        body[k] = v.clone();
    }
    body
}

async fn category_clocks(flavor: Flavor) {
    let Some(store) = TestStore::new(flavor).await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let config = holiday_config(dir.path());
    let server = Server::start(
        &["demo", "--dispatch-config", config.to_str().unwrap()],
        &store,
    );

    // Seeded: names in one language each, emergencies and public safety on the 24/7 clock.
    let (status, all) = server.get("/api/categories").await;
    assert_eq!(status, 200);
    let hazard = category(&all, "hazard");
    assert_eq!(
        (&hazard["name"], &hazard["name_zh"]),
        (&json!("Hazards"), &json!("安全隐患"))
    );
    for c in all.as_array().unwrap() {
        let expected = if c["code"] == "emergency" || c["code"] == "public_safety" {
            "always"
        } else {
            "office"
        };
        assert_eq!(c["clock"], expected, "{c}");
    }

    // An urgent emergency is due 0.5 h after registration, holidays or not; an urgent people's
    // request (office clock, 4 working hours) only after the holidays, more than 7 days on.
    let here = grid_place(&server, 0, 0).await;
    let gas = register(&server, here.lat, here.lon, "emergency", "urgent").await;
    assert_eq!(
        time(&gas["deadline"]) - time(&gas["created_at"]),
        chrono::Duration::minutes(30),
        "{gas}"
    );
    let request = register(&server, here.lat, here.lon, "livelihood", "urgent").await;
    assert!(
        time(&request["deadline"]) - time(&request["created_at"]) > chrono::Duration::days(7),
        "{request}"
    );

    // Bad clocks and Chinese names are refused and change nothing.
    let livelihood = category(&all, "livelihood").clone();
    // A clock that is not a string never reaches the enum: serde_json reads it as malformed for a
    // unit-variant enum (400 `malformed-json`, as for `class` and `kind`); an unknown string is 422.
    for (changes, status, slug) in [
        (json!({"clock": "sometimes"}), 422, "invalid-input"),
        (json!({"clock": "ALWAYS"}), 422, "invalid-input"),
        (json!({"clock": 1}), 400, "malformed-json"),
        (json!({"clock": null}), 400, "malformed-json"),
        (json!({"clock": ["always"]}), 400, "malformed-json"),
        (json!({"name_zh": "  "}), 422, "invalid-input"),
        (json!({"name_zh": "民".repeat(201)}), 422, "invalid-input"),
        (json!({"name_zh": 7}), 422, "invalid-input"),
    ] {
        let got = server
            .send(
                Method::PUT,
                "/api/categories/livelihood",
                &put_body(&livelihood, &changes),
            )
            .await;
        assert_problem(&got, status, slug);
    }
    let got = server
        .send(
            Method::PUT,
            "/api/categories/emergency",
            &put_body(
                category(&all, "emergency"),
                &json!({"clock": "office", "name": ""}),
            ),
        )
        .await;
    assert_problem(&got, 422, "invalid-input");
    let (_, after) = server.get("/api/categories").await;
    assert_eq!(after, all, "nothing changed");

    // An admin moves people's requests to the 24/7 clock with a 1.8-second limit: a new case is due
    // 1.8 s after registration, and supervision's next escalation comes one limit after the first,
    // not after the holidays.
    let limit_h = 0.0005;
    let limits =
        json!({"low_h": limit_h, "normal_h": limit_h, "high_h": limit_h, "urgent_h": limit_h});
    let (status, saved) = server
        .send(
            Method::PUT,
            "/api/categories/livelihood",
            &put_body(
                &livelihood,
                &json!({"clock": "always", "limits": limits, "name_zh": "民生"}),
            ),
        )
        .await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(
        (&saved["clock"], &saved["name_zh"]),
        (&json!("always"), &json!("民生"))
    );
    let (_, listed) = server.get("/api/categories").await;
    assert_eq!(category(&listed, "livelihood")["clock"], "always");

    let quick = register(&server, here.lat, here.lon, "livelihood", "normal").await;
    let id = quick["id"].as_i64().unwrap();
    let deadline = time(&quick["deadline"]);
    let limit = chrono::Duration::milliseconds(1800);
    assert_eq!(deadline - time(&quick["created_at"]), limit);
    let mut current = quick;
    for _ in 0..300 {
        current = case(&server, id).await;
        if current["level"] != "grid" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let escalated = current["history"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "escalate")
        .unwrap_or_else(|| panic!("escalated automatically: {current}"))
        .clone();
    assert_eq!(escalated["detail"]["automatic"], true);
    let next = time(&current["escalate_at"]);
    assert!(
        next - time(&escalated["at"]) <= limit + chrono::Duration::seconds(1),
        "the next escalation follows the 24/7 clock: {current}"
    );

    store.finish().await;
}
