//! `GET /api/reports/kpi` through the real router on a loopback port: a world of two communities, two
//! grids and six scripted cases, built by hand; every expected figure is counted by hand in the comments.
//!
//! The deployment calendar is the default one, Beijing time (UTC+8), so `period=2026-03` runs from
//! 2026-02-28T16:00Z to 2026-03-31T16:00Z and the times below are written in Beijing time.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use geo::MultiPolygon;
use gridwatch::Core;
use gridwatch::auth::{hash_secret, new_secret};
use gridwatch::core::Options;
use gridwatch::domain::incident::{Actor, CaseKind, HistoryEntry, Priority, Source, Status};
use gridwatch::domain::{
    Case, DutyStatus, Grid, GridId, Incident, IncidentId, Place, Region, RegionId, RegionLevel,
    Role, Scope, Worker, WorkerId, WorkerKind,
};
use gridwatch::store::{NewToken, Snapshot, Store};
use gridwatch::world::World;
use h3o::{LatLng, Resolution};
use serde_json::{Value, json};

/// 2026-`m`-`d` `h`:00 in Beijing (UTC+8).
fn bj(m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, m, d, h, 0, 0).single().unwrap() - chrono::TimeDelta::hours(8)
}

const COMMANDER: Actor = Actor {
    worker: None,
    role: Role::Commander,
};

fn worker(id: i64) -> Actor {
    Actor {
        worker: Some(WorkerId(id)),
        role: Role::Worker,
    }
}

/// A case in `grid` (1 → community 3, 2 → community 4) whose history is `steps` after its `register` entry:
/// `(when, actor, action, status after, detail)`.
fn case(
    id: i64,
    grid: i64,
    created: DateTime<Utc>,
    deadline: DateTime<Utc>,
    steps: &[(DateTime<Utc>, Actor, &str, Status, Value)],
) -> Case {
    let mut history = vec![HistoryEntry {
        at: created,
        actor: COMMANDER,
        action: "register".into(),
        from: Status::Registered,
        to: Status::Registered,
        note: None,
        detail: Some(json!({ "deadline": deadline })),
    }];
    let mut status = Status::Registered;
    for (at, actor, action, to, detail) in steps {
        history.push(HistoryEntry {
            at: *at,
            actor: *actor,
            action: (*action).into(),
            from: status,
            to: *to,
            note: None,
            detail: (!detail.is_null()).then(|| detail.clone()),
        });
        status = *to;
    }
    let mut state = Incident::registered(IncidentId(id), Some(deadline));
    state.status = status;
    let (lat, lon) = if grid == 1 {
        (36.19, 113.12)
    } else {
        (36.20, 113.13)
    };
    Case {
        state,
        category: "street_order".into(),
        priority: Priority::Normal,
        source: Source::Hotline,
        kind: CaseKind::Promised,
        description: String::new(),
        place: Place {
            lat,
            lon,
            cell: LatLng::new(lat, lon).unwrap().to_cell(Resolution::Twelve),
            grid: GridId(grid),
            community: RegionId(grid + 2),
            street: Some(RegionId(2)),
            district: Some(RegionId(1)),
            outside_m: None,
        },
        reporter: None,
        created_at: created,
        updated_at: created,
        escalate_at: None,
        duplicate_of: None,
        history,
        photos: Vec::new(),
    }
}

/// dispatch to `w` at registration, accept at `accepted`, start, resolve.
fn worked(
    created: DateTime<Utc>,
    w: i64,
    accepted: DateTime<Utc>,
    resolved: DateTime<Utc>,
) -> Vec<(DateTime<Utc>, Actor, &'static str, Status, Value)> {
    vec![
        (
            created,
            COMMANDER,
            "dispatch",
            Status::Dispatched,
            json!({ "to": w }),
        ),
        (accepted, worker(w), "accept", Status::Accepted, Value::Null),
        (
            accepted,
            worker(w),
            "start",
            Status::InProgress,
            Value::Null,
        ),
        (
            resolved,
            worker(w),
            "resolve",
            Status::Resolved,
            Value::Null,
        ),
    ]
}

fn verify(at: DateTime<Utc>, passed: bool) -> (DateTime<Utc>, Actor, &'static str, Status, Value) {
    let to = if passed {
        Status::Closed
    } else {
        Status::InProgress
    };
    (at, COMMANDER, "verify", to, json!({ "passed": passed }))
}

fn cases() -> Vec<Case> {
    // 1: accepted after 2 h, closed 03-04 17:00 before its 03-05 09:00 deadline; 56 h to close.
    let mut one = worked(bj(3, 2, 9), 7, bj(3, 2, 11), bj(3, 4, 9));
    one.push(verify(bj(3, 4, 17), true));
    // 2: accepted after 4 h, reworked, closed 03-05 09:00, a day after its deadline; 48 h to close.
    let mut two = worked(bj(3, 3, 9), 7, bj(3, 3, 13), bj(3, 4, 9));
    two.extend([
        verify(bj(3, 4, 10), false),
        (
            bj(3, 4, 12),
            worker(7),
            "resolve",
            Status::Resolved,
            Value::Null,
        ),
        verify(bj(3, 5, 9), true),
    ]);
    // 3: accepted after 3 h by worker 8, deferred before its 03-12 deadline.
    let mut three = worked(bj(3, 10, 9), 8, bj(3, 10, 12), bj(3, 11, 9));
    three.truncate(3);
    three.push((
        bj(3, 11, 9),
        COMMANDER,
        "defer",
        Status::Deferred,
        Value::Null,
    ));
    // 6: registered 02-28 20:00 local (12:00 UTC, still February), dispatched to 8, never accepted.
    let six = [(
        bj(2, 28, 20),
        COMMANDER,
        "dispatch",
        Status::Dispatched,
        json!({ "to": 8 }),
    )];
    vec![
        case(1, 1, bj(3, 2, 9), bj(3, 5, 9), &one),
        case(2, 1, bj(3, 3, 9), bj(3, 4, 9), &two),
        case(3, 2, bj(3, 10, 9), bj(3, 12, 9), &three),
        // 4: registered 03-31 20:00 local (12:00 UTC), due in April: registered in March only.
        case(4, 2, bj(3, 31, 20), bj(4, 2, 9), &[]),
        // 5: registered 04-01 01:00 local, still 03-31 in UTC: not in the March bulletin at all.
        case(5, 2, bj(4, 1, 1), bj(4, 3, 9), &[]),
        // 6: due 03-01 10:00 local, still open: due, not closed.
        case(6, 1, bj(2, 28, 20), bj(3, 1, 10), &six),
    ]
}

fn region(id: i64, level: RegionLevel, code: &str, name: &str, parent: Option<i64>) -> Region {
    Region {
        id: RegionId(id),
        level,
        code: code.into(),
        name: name.into(),
        parent: parent.map(RegionId),
        boundary: MultiPolygon::new(vec![]),
    }
}

fn grid(id: i64, code: &str, name: &str, lat: f64, lon: f64) -> Grid {
    Grid {
        id: GridId(id),
        code: code.into(),
        name: name.into(),
        community: RegionId(id + 2),
        cells: vec![LatLng::new(lat, lon).unwrap().to_cell(Resolution::Twelve)],
        boundary: MultiPolygon::new(vec![]),
        households: 120,
        building_count: 3,
        flag: None,
    }
}

fn staff(id: i64, name: &str) -> Worker {
    Worker {
        id: WorkerId(id),
        name: name.into(),
        kind: WorkerKind::GridWorker,
        duty: DutyStatus::OnDuty,
        phone: None,
        device_hash: None,
        grids: vec![],
    }
}

struct Server {
    base: String,
    admin: String,
    commander: String,
    scoped: String,
    planner: String,
    http: reqwest::Client,
}

async fn token(store: &Arc<dyn Store>, role: Role, scopes: Vec<Scope>) -> String {
    let secret = new_secret();
    store
        .insert_token(&NewToken {
            hash: hash_secret(&secret),
            role,
            scopes,
            worker: None,
            label: None,
            prefix: String::new(),
            expires_at: chrono::Utc::now() + chrono::Duration::days(90),
            created_by: None,
        })
        .await
        .unwrap();
    secret
}

async fn server() -> Server {
    let store = gridwatch::store::open("sqlite::memory:").await.unwrap();
    let snapshot = Snapshot {
        resolution: Some(Resolution::Twelve),
        regions: vec![
            region(1, RegionLevel::District, "140402", "城区", None),
            region(2, RegionLevel::Street, "140402001", "东街街道", Some(1)),
            region(
                3,
                RegionLevel::Community,
                "140402001001",
                "东街社区",
                Some(2),
            ),
            region(
                4,
                RegionLevel::Community,
                "140402001002",
                "西街社区, 北区",
                Some(2),
            ),
        ],
        grids: vec![
            grid(1, "140402001001001", "东街一网格", 36.19, 113.12),
            grid(2, "140402001002001", "西街\"一\"网格", 36.20, 113.13),
        ],
        workers: vec![staff(7, "张伟"), staff(8, "李娜")],
        incidents: cases(),
        ..Snapshot::default()
    };
    let admin = token(&store, Role::Admin, vec![]).await;
    let commander = token(&store, Role::Commander, vec![]).await;
    let scoped = token(&store, Role::Commander, vec![Scope::Region(RegionId(3))]).await;
    let planner = token(&store, Role::Planner, vec![]).await;
    // The cases live only in this hand-built world, not in the store: none may be archived (a century).
    let options = Options {
        archive_after: Some(chrono::TimeDelta::days(36_500)),
        ..Options::default()
    };
    let core = Core::new(store, World::from_snapshot(snapshot), options);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/api/reports/kpi", listener.local_addr().unwrap());
    tokio::spawn(gridwatch::serve(
        listener,
        core,
        gridwatch::ServeConfig::default(),
        std::future::pending(),
    ));
    Server {
        base,
        admin,
        commander,
        scoped,
        planner,
        http: reqwest::Client::new(),
    }
}

impl Server {
    async fn get(&self, token: &str, query: &str, accept: &str) -> reqwest::Response {
        self.http
            .get(format!("{}?{query}", self.base))
            .bearer_auth(token)
            .header("accept", accept)
            .send()
            .await
            .unwrap()
    }

    async fn json(&self, token: &str, query: &str) -> Value {
        let response = self.get(token, query, "application/json").await;
        assert_eq!(response.status(), 200, "{query}");
        response.json().await.unwrap()
    }
}

/// Checks `figures` (a row or the total) against hand-counted numbers; rates and means to 1e-9, `None` as null.
fn assert_figures(figures: &Value, counts: [u64; 6], reals: [Option<f64>; 5]) {
    let names = [
        "registered",
        "due",
        "closed",
        "closed_on_time",
        "deferred",
        "reworked",
    ];
    for (name, expected) in names.iter().zip(counts) {
        assert_eq!(figures[name], json!(expected), "{name} in {figures}");
    }
    let names = [
        "closure_rate",
        "on_time_rate",
        "rework_rate",
        "mean_hours_to_accept",
        "mean_hours_to_close",
    ];
    for (name, expected) in names.iter().zip(reals) {
        match expected {
            None => assert!(
                figures[name].is_null(),
                "{name} should be null in {figures}"
            ),
            Some(x) => assert!(
                (figures[name].as_f64().unwrap() - x).abs() < 1e-9,
                "{name}: {x} expected in {figures}"
            ),
        }
    }
}

// Grid 1: registered 1 2; due 1 2 6; closed 1 2; on time 1; reworked 2.
const GRID_ONE: ([u64; 6], [Option<f64>; 5]) = (
    [2, 3, 2, 1, 0, 1],
    [
        Some(2.0 / 3.0),
        Some(1.0 / 3.0),
        Some(0.5),
        Some(3.0),
        Some(52.0),
    ],
);
// Grid 2: registered 3 4; due 3, deferred 3: no rate; accept 3 h; nothing closed.
const GRID_TWO: ([u64; 6], [Option<f64>; 5]) =
    ([2, 1, 0, 0, 1, 0], [None, None, None, Some(3.0), None]);
// Total: registered 1 2 3 4; due 1 2 3 6; deferred 3; closed 1 2; accepts (2 + 4 + 3) / 3.
const TOTAL: ([u64; 6], [Option<f64>; 5]) = (
    [4, 4, 2, 1, 1, 1],
    [
        Some(2.0 / 3.0),
        Some(1.0 / 3.0),
        Some(0.5),
        Some(3.0),
        Some(52.0),
    ],
);

#[tokio::test]
async fn the_march_bulletin_per_grid_matches_hand_counts() {
    let s = server().await;
    let body = s.json(&s.commander, "level=grid&period=2026-03").await;
    assert_eq!(body["level"], "grid");
    assert_eq!(body["from"], "2026-02-28T16:00:00Z");
    assert_eq!(body["to"], "2026-03-31T16:00:00Z");
    let rows = body["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        rows[0]["key"],
        json!({ "id": 1, "code": "140402001001001", "name": "东街一网格" })
    );
    assert_eq!(
        rows[1]["key"],
        json!({ "id": 2, "code": "140402001002001", "name": "西街\"一\"网格" })
    );
    assert_figures(&rows[0], GRID_ONE.0, GRID_ONE.1);
    assert_figures(&rows[1], GRID_TWO.0, GRID_TWO.1);
    assert_figures(&body["total"], TOTAL.0, TOTAL.1);

    // The same month given as dates is the same report; an admin passes the role check.
    let dates = s
        .json(&s.admin, "level=grid&from=2026-03-01&to=2026-04-01")
        .await;
    assert_eq!(dates, body);
}

#[tokio::test]
async fn communities_workers_and_scope() {
    let s = server().await;
    let communities = s.json(&s.commander, "level=community&period=2026-03").await;
    let rows = communities["rows"].as_array().unwrap();
    assert_eq!(
        rows[0]["key"],
        json!({ "id": 3, "code": "140402001001", "name": "东街社区" })
    );
    assert_eq!(
        rows[1]["key"],
        json!({ "id": 4, "code": "140402001002", "name": "西街社区, 北区" })
    );
    assert_figures(&rows[0], GRID_ONE.0, GRID_ONE.1);

    let workers = s.json(&s.commander, "level=worker&period=2026-03").await;
    let rows = workers["rows"].as_array().unwrap();
    assert_eq!(
        rows.iter().map(|r| r["key"].clone()).collect::<Vec<_>>(),
        [
            json!({ "id": 7, "code": null, "name": "张伟" }),
            json!({ "id": 8, "code": null, "name": "李娜" }),
            Value::Null,
        ]
    );
    // Worker 7 handled 1 and 2: both closed, one on time, one reworked.
    assert_figures(
        &rows[0],
        [2, 2, 2, 1, 0, 1],
        [Some(1.0), Some(0.5), Some(0.5), Some(3.0), Some(52.0)],
    );
    // Worker 8: case 3 (accepted, deferred) and case 6 (dispatched, open): 0 closed of 2 − 1.
    assert_figures(
        &rows[1],
        [1, 2, 0, 0, 1, 0],
        [Some(0.0), Some(0.0), None, Some(3.0), None],
    );
    // Nobody has case 4 yet.
    assert_figures(&rows[2], [1, 0, 0, 0, 0, 0], [None, None, None, None, None]);

    // A commander scoped to community 3 sees grid 1 only.
    let scoped = s.json(&s.scoped, "level=street&period=2026-03").await;
    let rows = scoped["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        rows[0]["key"],
        json!({ "id": 2, "code": "140402001", "name": "东街街道" })
    );
    assert_figures(&rows[0], GRID_ONE.0, GRID_ONE.1);
    assert_figures(&scoped["total"], GRID_ONE.0, GRID_ONE.1);
}

/// Splits RFC 4180 text into records of fields.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let (mut records, mut record, mut field, mut quoted, mut chars) = (
        vec![],
        vec![],
        String::new(),
        false,
        text.chars().peekable(),
    );
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => record.push(std::mem::take(&mut field)),
            ('\r', false) => {}
            ('\n', false) => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            _ => field.push(c),
        }
    }
    assert!(
        field.is_empty() && record.is_empty(),
        "the last record must end with a line break"
    );
    records
}

#[tokio::test]
async fn csv_carries_the_same_figures() {
    let s = server().await;
    let response = s
        .get(&s.commander, "level=community&period=2026-03", "text/csv")
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    let text = response.text().await.unwrap();
    assert!(
        text.contains("\"西街社区, 北区\""),
        "a name with a comma is quoted: {text}"
    );
    let records = parse_csv(&text);
    assert_eq!(records.len(), 4, "header, two communities, total: {text}");
    assert_eq!(
        records[0].join(","),
        "key_id,key_code,key_name,registered,due,closed,closed_on_time,deferred,reworked,closure_rate,on_time_rate,rework_rate,mean_hours_to_accept,mean_hours_to_close"
    );
    assert_eq!(records[1][..3], ["3", "140402001001", "东街社区"]);
    assert_eq!(records[2][..3], ["4", "140402001002", "西街社区, 北区"]);
    assert_eq!(records[3][..3], ["total", "", ""]);
    for (record, (counts, reals)) in records[1..].iter().zip([GRID_ONE, GRID_TWO, TOTAL]) {
        assert_eq!(record.len(), 14);
        let got: Vec<u64> = record[3..9].iter().map(|f| f.parse().unwrap()).collect();
        assert_eq!(got, counts, "{record:?}");
        for (field, expected) in record[9..].iter().zip(reals) {
            match expected {
                None => assert_eq!(field, "", "{record:?}"),
                Some(x) => assert!(
                    (field.parse::<f64>().unwrap() - x).abs() < 1e-9,
                    "{field} vs {x}"
                ),
            }
        }
    }
}

#[tokio::test]
async fn bad_requests_are_problems() {
    let s = server().await;
    let cases = [
        ("level=grid&period=2026-13", 422),
        ("level=grid&from=2026-03-10&to=2026-03-01", 422),
        ("level=grid&from=2026-03-01&to=2026-03-01", 422),
        ("level=grid&period=2026-03&from=2026-03-01", 422),
        (
            "level=grid&period=2026-03&from=2026-03-01&to=2026-04-01",
            422,
        ),
        ("level=grid&from=2026-03-01", 422),
        ("level=grid", 422),
        ("level=grid&from=2025-01-01&to=2026-03-01", 422),
        ("level=grid&from=tuesday&to=2026-03-01", 422),
        ("level=village&period=2026-03", 400),
        ("period=2026-03", 400),
    ];
    for (query, status) in cases {
        let response = s.get(&s.commander, query, "application/json").await;
        assert_eq!(response.status(), status, "{query}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json",
            "{query}"
        );
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["status"], status, "{query}");
        assert!(
            problem["type"].as_str().unwrap().starts_with("/problems/"),
            "{query}"
        );
    }
    // Even when CSV is asked for, a problem is problem+json.
    let response = s
        .get(&s.commander, "level=grid&period=2026-13", "text/csv")
        .await;
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );

    let response = s
        .get(&s.planner, "level=grid&period=2026-03", "application/json")
        .await;
    assert_eq!(response.status(), 403);
    let response = s
        .http
        .get(format!("{}?level=grid&period=2026-03", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn the_endpoint_is_in_the_openapi_document() {
    let s = server().await;
    let url = s.base.replace("/api/reports/kpi", "/api/openapi.json");
    let spec: Value = s.http.get(url).send().await.unwrap().json().await.unwrap();
    assert!(
        spec["paths"]["/api/reports/kpi"]["get"].is_object(),
        "{}",
        spec["paths"]
    );
}
