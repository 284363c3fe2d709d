//! The dashboards' reports on the real binary, both stores: `GET /api/reports/daily` (日报, JSON and
//! CSV) and `GET /api/reports/series`, checked against figures this test computes from the cases it
//! created itself (their ids, categories, times and what it did to them), never from the code under
//! test; the caller's scope and the area in view; and bad input.
//!
//! The deployment runs round the clock at UTC+8 with a 1.8-second limit for `hazard`, so a case can be
//! overdue within the test; every other category keeps its limit of hours.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, Utc};
use reqwest::Method;
use serde_json::{Value, json};

use crate::cases::{GridPlace, act_ok, grid_place, report, token};
use crate::harness::{Flavor, TestStore, assert_problem};

#[tokio::test]
async fn daily_report_and_series_count_what_happened_on_sqlite() {
    reports(Flavor::Sqlite).await;
}

#[tokio::test]
async fn daily_report_and_series_count_what_happened_on_postgis() {
    reports(Flavor::Postgres).await;
}

const TZ_MINUTES: i32 = 480;
const LIMIT_H: f64 = 0.0005;

fn time(value: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(value.as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

fn local_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&FixedOffset::east_opt(TZ_MINUTES * 60).unwrap())
        .date_naive()
}

/// What the test did to a case.
struct Made {
    id: i64,
    category: &'static str,
    created_at: DateTime<Utc>,
    deadline: DateTime<Utc>,
    closed_at: Option<DateTime<Utc>>,
    here: bool,
}

fn ids<'a>(cases: impl Iterator<Item = &'a Made>) -> Vec<i64> {
    let mut ids: Vec<i64> = cases.map(|c| c.id).collect();
    ids.sort_unstable();
    ids
}

fn listed(report: &Value, list: &str) -> Vec<i64> {
    report[list]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_i64().unwrap())
        .collect()
}

fn bbox_around(p: &GridPlace) -> String {
    let b = 0.0005;
    format!("{},{},{},{}", p.lon - b, p.lat - b, p.lon + b, p.lat + b)
}

async fn reports(flavor: Flavor) {
    let Some(store) = TestStore::new(flavor).await else {
        return;
    };
    let (server, _dir) = crate::supervision::round_the_clock(&store, TZ_MINUTES, LIMIT_H).await;

    let here = grid_place(&server, 0, 0).await;
    let mut n = 1;
    let there = loop {
        let p = grid_place(&server, n, 0).await;
        if p.community != here.community {
            break p;
        }
        n += 1;
    };
    let commander = token(&server, "commander", None).await;
    let worker = token(&server, "worker", Some(here.primary)).await;
    let (status, scoped) = server
        .send(
            Method::POST,
            "/api/tokens",
            &json!({"role": "commander", "scopes": [format!("grid:{}", here.grid)], "label": "scoped"}),
        )
        .await;
    assert_eq!(status, 201, "{scoped}");
    let scoped = scoped["token"].as_str().unwrap().to_owned();

    // Four cases here (one closed, one hazard left to go overdue), two there (one hazard).
    let plan: [(&GridPlace, &'static str); 6] = [
        (&here, "city_appearance"),
        (&here, "public_safety"),
        (&here, "city_appearance"),
        (&here, "hazard"),
        (&there, "public_safety"),
        (&there, "hazard"),
    ];
    let mut made = Vec::new();
    for (place, category) in plan {
        let c = report(&server, server.token(), place.lat, place.lon, category).await;
        made.push(Made {
            id: c["id"].as_i64().unwrap(),
            category,
            created_at: time(&c["created_at"]),
            deadline: time(&c["deadline"]),
            closed_at: None,
            here: place.grid == here.grid,
        });
    }
    let first = made[0].id;
    for action in [
        json!({"action": "accept"}),
        json!({"action": "start"}),
        json!({"action": "resolve", "note": "done"}),
    ] {
        act_ok(&server, &worker, first, &action).await;
    }
    let closed = act_ok(
        &server,
        &commander,
        first,
        &json!({"action": "verify", "passed": true}),
    )
    .await;
    assert_eq!(closed["status"], "closed");
    made[0].closed_at = Some(time(&closed["updated_at"]));
    // Past the hazard cases' deadlines.
    let last_deadline = made
        .iter()
        .filter(|m| m.category == "hazard")
        .map(|m| m.deadline)
        .max()
        .unwrap();
    assert!(last_deadline - made[0].created_at < Duration::minutes(1));
    while Utc::now() <= last_deadline + Duration::milliseconds(200) {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }

    // --- The daily report of today (the cases were made a moment ago; read "today" as the server does).
    let (status, daily) = server.get("/api/reports/daily").await;
    assert_eq!(status, 200, "{daily}");
    let as_of = time(&daily["as_of"]);
    let today = local_date(as_of);
    assert_eq!(daily["date"], today.format("%Y-%m-%d").to_string());
    let registered_today: Vec<&Made> = made
        .iter()
        .filter(|m| local_date(m.created_at) == today)
        .collect();
    let overdue: Vec<&Made> = made
        .iter()
        .filter(|m| m.closed_at.is_none() && m.deadline < as_of)
        .collect();
    assert_eq!(
        overdue.len(),
        2,
        "the two hazard cases are past their deadline"
    );
    let mut by_category: BTreeMap<&str, u64> = BTreeMap::new();
    for m in &registered_today {
        *by_category.entry(m.category).or_default() += 1;
    }
    let totals = &daily["totals"];
    assert_eq!(totals["registered"], registered_today.len());
    assert_eq!(
        totals["closed"],
        made.iter()
            .filter(|m| m.closed_at.is_some_and(|t| local_date(t) == today))
            .count()
    );
    assert_eq!(totals["open"], made.len() - 1);
    assert_eq!(totals["overdue"], overdue.len());
    assert_eq!(totals["by_category"], json!(by_category));
    assert_eq!(
        totals["by_source"],
        json!({"hotline": registered_today.len()})
    );
    assert_eq!(
        listed(&daily, "registered"),
        ids(registered_today.iter().copied())
    );
    assert_eq!(listed(&daily, "overdue"), ids(overdue.iter().copied()));
    let line = &daily["registered"][0];
    assert_eq!(line["status"], "closed");
    assert_eq!(line["grid_id"], here.grid);
    assert_eq!(line["category"], "city_appearance");

    // The area in view, a community, and a commander scoped to this grid.
    let (_, near) = server
        .get(&format!("/api/reports/daily?bbox={}", bbox_around(&here)))
        .await;
    let mine = |m: &&Made| m.here;
    assert_eq!(
        listed(&near, "registered"),
        ids(registered_today.iter().copied().filter(mine))
    );
    let (_, community) = server
        .get(&format!("/api/reports/daily?community={}", there.community))
        .await;
    assert_eq!(
        listed(&community, "overdue"),
        ids(overdue.iter().copied().filter(|m| !m.here))
    );
    let (status, scoped_daily) = server.get_as(&scoped, "/api/reports/daily").await;
    assert_eq!(status, 200, "{scoped_daily}");
    assert_eq!(
        listed(&scoped_daily, "registered"),
        ids(registered_today.iter().copied().filter(mine))
    );
    assert_eq!(scoped_daily["totals"]["overdue"], 1);

    // CSV: a byte-order mark, a header and one line per listed case, by Accept or format=csv.
    let date = today.format("%Y-%m-%d").to_string();
    for (path, accept) in [
        (format!("/api/reports/daily?date={date}"), "text/csv"),
        (format!("/api/reports/daily?date={date}&format=csv"), "*/*"),
    ] {
        let response = server
            .http
            .get(server.url(&path))
            .bearer_auth(server.token())
            .header("accept", accept)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/csv")
        );
        let body = response.text().await.unwrap();
        let body = body
            .strip_prefix('\u{feff}')
            .expect("a UTF-8 byte-order mark");
        let lines: Vec<&str> = body.split("\r\n").filter(|l| !l.is_empty()).collect();
        assert!(lines[0].starts_with("list,id,category"), "{}", lines[0]);
        let in_list = |list: &str| {
            let mut ids: Vec<i64> = lines[1..]
                .iter()
                .filter(|l| l.starts_with(&format!("{list},")))
                .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
                .collect();
            ids.sort_unstable();
            ids
        };
        assert_eq!(in_list("registered"), ids(registered_today.iter().copied()));
        assert_eq!(in_list("overdue"), ids(overdue.iter().copied()));
    }

    // --- The series of yesterday and today: nothing yesterday, today's cases by category, and the
    // rates of the hazard cases due today (none closed: 0, not null); yesterday's rates are null.
    let yesterday = today.pred_opt().unwrap();
    let tomorrow = today.succ_opt().unwrap();
    let (status, series) = server
        .get(&format!(
            "/api/reports/series?from={}&to={}",
            yesterday.format("%Y-%m-%d"),
            tomorrow.format("%Y-%m-%d")
        ))
        .await;
    assert_eq!(status, 200, "{series}");
    let read_at = Utc::now();
    let days = series["days"].as_array().unwrap();
    assert_eq!(days.len(), 2);
    for (day, date) in days.iter().zip([yesterday, today]) {
        assert_eq!(day["date"], date.format("%Y-%m-%d").to_string());
        let on = |t: DateTime<Utc>| local_date(t) == date;
        let mut by_category: BTreeMap<&str, u64> = BTreeMap::new();
        for m in made.iter().filter(|m| on(m.created_at)) {
            *by_category.entry(m.category).or_default() += 1;
        }
        assert_eq!(day["by_category"], json!(by_category), "{date}");
        assert_eq!(day["registered"], by_category.values().sum::<u64>());
        // Today is read as of the request: only the deadlines already past are due.
        let due: Vec<&Made> = made
            .iter()
            .filter(|m| on(m.deadline) && m.deadline < read_at)
            .collect();
        assert_eq!(day["due"], due.len(), "{date}");
        let closed_due = due.iter().filter(|m| m.closed_at.is_some()).count();
        let (closed_due, due_n) = (
            u32::try_from(closed_due).unwrap(),
            u32::try_from(due.len()).unwrap(),
        );
        let rate = (due_n > 0).then(|| f64::from(closed_due) / f64::from(due_n));
        assert_eq!(day["closure_rate"], json!(rate), "{date}");
        assert_eq!(
            day["closed"],
            made.iter().filter(|m| m.closed_at.is_some_and(on)).count()
        );
    }
    assert_eq!(days[0]["closure_rate"], Value::Null);
    assert_eq!(days[0]["on_time_rate"], Value::Null);

    // --- The worker level of the KPI: a row for the closed case's handler.
    let (status, kpi) = server
        .get(&format!(
            "/api/reports/kpi?level=worker&from={}&to={}",
            yesterday.format("%Y-%m-%d"),
            tomorrow.format("%Y-%m-%d")
        ))
        .await;
    assert_eq!(status, 200, "{kpi}");
    assert!(
        kpi["rows"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["key"]["id"] == here.primary),
        "{kpi}"
    );

    // --- Bad input: a clear 4xx problem, and the reports stay readable.
    let tomorrow = tomorrow.format("%Y-%m-%d").to_string();
    for (path, status, slug) in [
        (
            "/api/reports/daily?date=2026-13-01".to_owned(),
            422,
            "invalid-input",
        ),
        (
            "/api/reports/daily?date=yesterday".to_owned(),
            422,
            "invalid-input",
        ),
        (
            "/api/reports/daily?date=2026-3-1".to_owned(),
            422,
            "invalid-input",
        ),
        (
            format!("/api/reports/daily?date={tomorrow}x"),
            422,
            "invalid-input",
        ),
        (
            "/api/reports/daily?date=+20260-01-01".to_owned(),
            422,
            "invalid-input",
        ),
        (
            "/api/reports/daily?format=xlsx".to_owned(),
            422,
            "invalid-input",
        ),
        (
            "/api/reports/daily?bbox=1,2,3".to_owned(),
            400,
            "invalid-bbox",
        ),
        (
            "/api/reports/daily?bbox=NaN,0,1,1".to_owned(),
            400,
            "invalid-bbox",
        ),
        (
            "/api/reports/daily?bbox=3,0,1,1".to_owned(),
            400,
            "invalid-bbox",
        ),
        (
            "/api/reports/daily?community=999999".to_owned(),
            404,
            "not-found",
        ),
        (
            "/api/reports/daily?community=abc".to_owned(),
            400,
            "invalid-query",
        ),
        (
            "/api/reports/series?from=2026-12-02&to=2026-12-01".to_owned(),
            422,
            "invalid-input",
        ),
        (
            "/api/reports/series?from=2026-12-01&to=2026-12-01".to_owned(),
            422,
            "invalid-input",
        ),
        (
            "/api/reports/series?from=2026-01-01&to=2026-06-01".to_owned(),
            422,
            "invalid-input",
        ),
        (
            "/api/reports/series?from=2026-12-01".to_owned(),
            400,
            "invalid-query",
        ),
        (
            "/api/reports/series?from=NaN&to=2026-12-01".to_owned(),
            422,
            "invalid-input",
        ),
        (
            "/api/reports/series?from=2026-12-01&to=2026-12-02&bbox=0,0,1,inf".to_owned(),
            400,
            "invalid-bbox",
        ),
    ] {
        let got = server.get(&path).await;
        assert_problem(&got, status, slug);
    }
    let (status, _) = server
        .get(&format!("/api/reports/daily?date={tomorrow}"))
        .await;
    assert_eq!(status, 422, "a day that has not begun");
    let (status, _) = server.get_as(&worker, "/api/reports/daily").await;
    assert_eq!(status, 403, "a worker reads no reports");
    let (status, again) = server.get("/api/reports/daily").await;
    assert_eq!(status, 200);
    assert_eq!(again["totals"], daily["totals"]);
}
