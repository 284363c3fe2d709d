//! A scripted month of cases, worked through the HTTP API on a manual clock, and the monthly bulletin
//! (`/api/reports/kpi?period=2026-11`) compared with figures computed by hand below.
//!
//! Every case is `street_order` at `normal` priority: 8 working hours. Created on a Monday at 09:00
//! Beijing time, its deadline is Tuesday 09:30 (3 h before lunch, 4 h after, 1 h on Tuesday from 08:30).

#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::many_single_char_names
)]

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use gridwatch::auth::{hash_secret, new_secret};
use gridwatch::clock::Clock;
use gridwatch::core::{Core, Options};
use gridwatch::domain::{Role, WorkerId};
use gridwatch::store::{NewToken, Store};
use serde_json::{Value, json};

/// Beijing local time on a day of November 2026, as UTC.
fn local(day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, hour, minute, 0)
        .single()
        .unwrap()
        - Duration::hours(8)
}

struct Api {
    base: String,
    http: reqwest::Client,
    clock: Clock,
}

impl Api {
    async fn post(&self, at: DateTime<Utc>, token: &str, path: &str, body: &Value) -> Value {
        self.clock.set(at);
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert!(status.is_success(), "{path} {status}: {body}");
        body["properties"].clone()
    }

    async fn report(&self, at: DateTime<Utc>, token: &str, point: (f64, f64)) -> i64 {
        let body = json!({"lat": point.0, "lon": point.1, "category": "street_order", "priority": "normal",
            "description": "占道经营", "source": "patrol"});
        let case = self.post(at, token, "/api/incidents", &body).await;
        assert_eq!(
            case["status"], "dispatched",
            "routed to the grid's worker at once"
        );
        case["id"].as_i64().unwrap()
    }

    async fn act(&self, at: DateTime<Utc>, token: &str, id: i64, action: Value) {
        self.post(at, token, &format!("/api/incidents/{id}/actions"), &action)
            .await;
    }

    async fn get(&self, token: &str, path: &str, accept: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .header("accept", accept)
            .send()
            .await
            .unwrap()
    }
}

async fn mint(store: &Arc<dyn Store>, role: Role, worker: Option<WorkerId>) -> String {
    let secret = new_secret();
    let token = NewToken {
        hash: hash_secret(&secret),
        role,
        scopes: Vec::new(),
        worker,
        label: None,
        prefix: String::new(),
        expires_at: chrono::Utc::now() + chrono::Duration::days(90),
        created_by: None,
    };
    store.insert_token(&token).await.unwrap();
    secret
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scripted_month_gives_the_hand_computed_bulletin() {
    let store: Arc<dyn Store> = gridwatch::store::open("sqlite::memory:").await.unwrap();
    let city = gridwatch_geodata::synthetic_city(gridwatch_geodata::Preset::Dongjie, 1);
    gridwatch::city::import(&store, &city, h3o::Resolution::Twelve)
        .await
        .unwrap();
    gridwatch::city::seed_demo_workers(&store).await.unwrap();
    let clock = Clock::manual(local(1, 0, 0));
    let core = Core::load_with(
        store.clone(),
        Options {
            clock: clock.clone(),
            ..Options::default()
        },
    )
    .await
    .unwrap();
    let (grid, handler, point) = {
        let world = core.world();
        let grid = world.grids().next().unwrap();
        let handler = world
            .workers()
            .find(|w| w.grids.iter().any(|d| d.grid_id == grid.id))
            .unwrap()
            .id;
        let centre = h3o::LatLng::from(grid.cells[0]);
        (grid.id, handler, (centre.lat(), centre.lng()))
    };
    let worker = mint(&store, Role::Worker, Some(handler)).await;
    let commander = mint(&store, Role::Commander, None).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(gridwatch::serve(
        listener,
        core,
        gridwatch::ServeConfig::default(),
        std::future::pending(),
    ));
    let api = Api {
        base,
        http: reqwest::Client::new(),
        clock,
    };
    let accept = || json!({"action": "accept"});
    let start = || json!({"action": "start"});
    let resolve = || json!({"action": "resolve", "note": "done"});
    let verify = |passed: bool| json!({"action": "verify", "passed": passed});

    // A: Mon 2nd 09:00, accepted after 1 h, closed 16:00 the same day — on time.
    let a = api.report(local(2, 9, 0), &commander, point).await;
    api.act(local(2, 10, 0), &worker, a, accept()).await;
    api.act(local(2, 10, 30), &worker, a, start()).await;
    api.act(local(2, 15, 0), &worker, a, resolve()).await;
    api.act(local(2, 16, 0), &commander, a, verify(true)).await;
    // G: Mon 2nd 09:00, cancelled an hour later — registered, never due.
    let g = api.report(local(2, 9, 0), &commander, point).await;
    api.act(
        local(2, 10, 0),
        &commander,
        g,
        json!({"action": "cancel", "reason": "reported twice"}),
    )
    .await;
    // B: Mon 9th 09:00, accepted after 2 h, fails verification once (rework), closed Tue 10th 09:00 — on time.
    let b = api.report(local(9, 9, 0), &commander, point).await;
    api.act(local(9, 11, 0), &worker, b, accept()).await;
    api.act(local(9, 11, 30), &worker, b, start()).await;
    api.act(local(9, 14, 0), &worker, b, resolve()).await;
    api.act(local(9, 15, 0), &commander, b, verify(false)).await;
    api.act(local(9, 17, 0), &worker, b, resolve()).await;
    api.act(local(10, 9, 0), &commander, b, verify(true)).await;
    // H: Mon 9th 09:00, never accepted — due Tue 10th 09:30, not closed.
    api.report(local(9, 9, 0), &commander, point).await;
    // C: Mon 16th 09:00, accepted after 3 h, closed Wed 18th 10:00 — late (due Tue 17th 09:30).
    let c = api.report(local(16, 9, 0), &commander, point).await;
    api.act(local(16, 12, 0), &worker, c, accept()).await;
    api.act(local(16, 13, 0), &worker, c, start()).await;
    api.act(local(18, 9, 0), &worker, c, resolve()).await;
    api.act(local(18, 10, 0), &commander, c, verify(true)).await;
    // D: Mon 23rd 09:00, deferred at 10:00 — due Tue 24th, but deferral leaves the rates.
    let d = api.report(local(23, 9, 0), &commander, point).await;
    api.act(
        local(23, 10, 0),
        &commander,
        d,
        json!({"action": "defer", "reason": "owner abroad"}),
    )
    .await;
    // E: Mon 23rd 09:00, accepted after 30 min, extended to 3 December — not due in November.
    let e = api.report(local(23, 9, 0), &commander, point).await;
    api.act(local(23, 9, 30), &worker, e, accept()).await;
    let until = Utc.with_ymd_and_hms(2026, 12, 3, 9, 0, 0).single().unwrap();
    api.act(
        local(23, 11, 0),
        &commander,
        e,
        json!({"action": "extend", "until": until, "reason": "parts"}),
    )
    .await;
    // F: Mon 30th 09:00 — registered in November, due 1 December.
    api.report(local(30, 9, 0), &commander, point).await;
    // After the month: A is reopened on 2 December, which the November bulletin must not see.
    api.act(
        Utc.with_ymd_and_hms(2026, 12, 2, 2, 0, 0).single().unwrap(),
        &commander,
        a,
        json!({"action": "reopen", "reason": "came back"}),
    )
    .await;

    // By hand: registered A B C D E F G H = 8; due (deadline in November, not cancelled) A B C D H = 5;
    // deferred D = 1; closed A B C = 3; on time A B = 2; reworked B = 1.
    // closure 3 / (5 − 1) = 0.75; on time 2 / 4 = 0.5; rework 1 / 3.
    // Hours to accept: A 1, B 2, C 3, E 0.5 → 6.5 / 4 = 1.625. To close: A 7, B 24, C 49 → 80 / 3.
    let response = api
        .get(
            &commander,
            "/api/reports/kpi?level=grid&period=2026-11",
            "application/json",
        )
        .await;
    assert_eq!(response.status(), 200);
    let report: Value = response.json().await.unwrap();
    let rows = report["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{report}");
    assert_eq!(rows[0]["key"]["id"], grid.0);
    for figures in [&rows[0], &report["total"]] {
        assert_eq!(figures["registered"], 8, "{figures}");
        assert_eq!(figures["due"], 5, "{figures}");
        assert_eq!(figures["deferred"], 1, "{figures}");
        assert_eq!(figures["closed"], 3, "{figures}");
        assert_eq!(figures["closed_on_time"], 2, "{figures}");
        assert_eq!(figures["reworked"], 1, "{figures}");
        let close = |key: &str, expected: f64| {
            let got = figures[key]
                .as_f64()
                .unwrap_or_else(|| panic!("{key} missing: {figures}"));
            assert!((got - expected).abs() < 1e-9, "{key}: {got} ≠ {expected}");
        };
        close("closure_rate", 0.75);
        close("on_time_rate", 0.5);
        close("rework_rate", 1.0 / 3.0);
        close("mean_hours_to_accept", 1.625);
        close("mean_hours_to_close", 80.0 / 3.0);
    }

    // The CSV carries the same figures.
    let response = api
        .get(
            &commander,
            "/api/reports/kpi?level=grid&period=2026-11",
            "text/csv",
        )
        .await;
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = response.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    let header: Vec<&str> = lines[0].split(',').collect();
    let total: Vec<&str> = lines
        .iter()
        .find(|l| l.starts_with("total"))
        .unwrap()
        .split(',')
        .collect();
    let field = |name: &str| total[header.iter().position(|h| *h == name).unwrap()];
    assert_eq!(
        (field("registered"), field("due"), field("closed")),
        ("8", "5", "3")
    );
    assert!((field("closure_rate").parse::<f64>().unwrap() - 0.75).abs() < 1e-12);

    // The first week alone (local dates): A and G registered, only A due and closed.
    let response = api
        .get(
            &commander,
            "/api/reports/kpi?level=worker&from=2026-11-01&to=2026-11-08",
            "application/json",
        )
        .await;
    let week: Value = response.json().await.unwrap();
    let total = &week["total"];
    assert_eq!(
        (
            total["registered"].as_i64(),
            total["due"].as_i64(),
            total["closed"].as_i64()
        ),
        (Some(2), Some(1), Some(1))
    );
    assert_eq!(
        week["rows"][0]["key"]["id"], handler.0,
        "grouped by the handler"
    );
}
