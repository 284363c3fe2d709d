//! Patrols (巡逻) through the real binary: a scripted walk across two adjacent grids of the demo city,
//! posted through `POST /api/positions`; grid enter/exit and the check-in (巡查打卡) seen on a command
//! centre's websocket; coverage and the patrol report checked against figures worked out here by hand
//! (distances with the `geo` crate's haversine, never the server's). Then bad input on every patrol
//! endpoint: a problem, nothing stored.

use std::collections::HashSet;
use std::str::FromStr;

use chrono::{DateTime, TimeDelta, Utc};
use geo::{Distance, Haversine, Point};
use h3o::{CellIndex, LatLng};
use reqwest::Method;
use serde_json::{Value, json};

use crate::bad_input::IntoPair;
use crate::cases::{last_seq, token};
use crate::harness::{Flavor, Server, TestStore, assert_problem};
use crate::live::Ws;

#[tokio::test]
async fn patrols_on_sqlite() {
    patrols(Flavor::Sqlite).await;
}

#[tokio::test]
async fn patrols_on_postgis() {
    patrols(Flavor::Postgres).await;
}

/// Every grid with its cells, by id.
async fn grid_cells(server: &Server) -> Vec<(i64, Vec<CellIndex>)> {
    let (status, grids) = server.get("/api/grids?cells=true").await;
    assert_eq!(status, 200, "{grids}");
    grids["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            let cells = g["properties"]["cells"].as_array().unwrap();
            let cells = cells
                .iter()
                .map(|c| CellIndex::from_str(c.as_str().unwrap()).unwrap())
                .collect();
            (g["properties"]["id"].as_i64().unwrap(), cells)
        })
        .collect()
}

/// Two cells of grid `a` and two of grid `b`, each pair neighbours, with `a`'s second cell next to
/// `b`'s first: a walk `a1 → a2 → b1 → b2` crosses from `a` into `b` once.
fn crossing(grids: &[(i64, Vec<CellIndex>)]) -> (i64, i64, [CellIndex; 4]) {
    let owner = |cell: CellIndex| {
        grids
            .iter()
            .find(|(_, cells)| cells.contains(&cell))
            .map(|(id, _)| *id)
    };
    for (a, cells) in grids {
        for &a2 in cells {
            let ring: Vec<CellIndex> = a2.grid_disk::<Vec<_>>(1);
            let Some(a1) = ring
                .iter()
                .copied()
                .find(|&c| c != a2 && owner(c) == Some(*a))
            else {
                continue;
            };
            for &b1 in &ring {
                let Some(b) = owner(b1).filter(|b| b != a) else {
                    continue;
                };
                let b2 = b1
                    .grid_disk::<Vec<_>>(1)
                    .into_iter()
                    .find(|&c| c != b1 && owner(c) == Some(b) && !ring.contains(&c));
                if let Some(b2) = b2 {
                    return (*a, b, [a1, a2, b1, b2]);
                }
            }
        }
    }
    panic!("the demo city has no two adjacent grids");
}

fn centre(cell: CellIndex) -> (f64, f64) {
    let ll = LatLng::from(cell);
    (ll.lat(), ll.lng())
}

fn deltas<'a>(messages: &'a [Value], prefix: &str) -> Vec<&'a Value> {
    messages
        .iter()
        .filter(|m| {
            m["type"] == "delta" && m["kind"].as_str().is_some_and(|k| k.starts_with(prefix))
        })
        .collect()
}

async fn patrols(flavor: Flavor) {
    let Some(store) = TestStore::new(flavor).await else {
        return;
    };
    let mut server = Server::demo(&store);
    let grids = grid_cells(&server).await;
    let (a, b, walk) = crossing(&grids);
    let cells_of = |id: i64| grids.iter().find(|(g, _)| *g == id).unwrap().1.clone();
    let (_, grid_a) = server.get(&format!("/api/grids/{a}")).await;
    let worker = grid_a["properties"]["primary_worker_id"].as_i64().unwrap();
    let (_, worker_feature) = server.get(&format!("/api/workers/{worker}")).await;
    let answers_for: HashSet<i64> = worker_feature["properties"]["grids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["grid_id"].as_i64().unwrap())
        .collect();
    assert!(answers_for.contains(&a));
    let worker_token = token(&server, "worker", Some(worker)).await;
    let commander = token(&server, "commander", None).await;

    // Checkpoints: one on the walk (grid a), one in grid a off the walk (missed), one in grid b off it.
    let off_walk = |grid: i64| {
        let cells = cells_of(grid);
        let far = cells
            .into_iter()
            .find(|c| {
                walk.iter()
                    .all(|w| c.grid_distance(*w).is_ok_and(|d| d >= 3))
            })
            .unwrap();
        centre(far)
    };
    let (gate_lat, gate_lon) = centre(walk[1]);
    let (far_lat, far_lon) = off_walk(a);
    let (other_lat, other_lon) = off_walk(b);
    let checkpoint = |name: &str, lat: f64, lon: f64| {
        let body = json!({"name": name, "lat": lat, "lon": lon, "radius_m": 5.0});
        let token = commander.clone();
        let server = &server;
        async move {
            let (status, created) = server
                .send_as(&token, Method::POST, "/api/checkpoints", &body)
                .await;
            assert_eq!(status, 201, "{created}");
            created
        }
    };
    let gate = checkpoint("gate", gate_lat, gate_lon).await;
    let far = checkpoint("far corner", far_lat, far_lon).await;
    let other = checkpoint("other grid", other_lat, other_lon).await;
    assert_eq!(
        (
            gate["grid"].as_i64(),
            far["grid"].as_i64(),
            other["grid"].as_i64()
        ),
        (Some(a), Some(a), Some(b))
    );
    assert_eq!(gate["radius_m"], 5.0);
    let (_, listed) = server
        .get_as(&commander, &format!("/api/checkpoints?grid={a}"))
        .await;
    assert_eq!(listed.as_array().unwrap().len(), 2, "{listed}");

    let mut map = Ws::connect(&server, &commander).await;
    map.subscribe(&json!({"layers": ["patrols"]})).await;

    // --- Start the shift; the worker's own token.
    let (status, patrol) = server
        .send_as(&worker_token, Method::POST, "/api/patrols", &json!({}))
        .await;
    assert_eq!(status, 201, "{patrol}");
    assert_eq!(
        (patrol["worker"].as_i64(), &patrol["ended_at"]),
        (Some(worker), &Value::Null)
    );
    let id = patrol["id"].as_i64().unwrap();
    let started: DateTime<Utc> = patrol["started_at"].as_str().unwrap().parse().unwrap();

    // --- The walk: a1, a2 (the gate), b1, b2, b2 again, a fix a second from the start (a few seconds
    // ahead of the server's clock at most, well within what a device may be ahead; 19 m a second).
    let route: Vec<(f64, f64)> = [walk[0], walk[1], walk[2], walk[3], walk[3]]
        .into_iter()
        .map(centre)
        .collect();
    for (i, &(lat, lon)) in (1..).zip(&route) {
        let at = started + TimeDelta::seconds(i);
        let body = json!([{"lat": lat, "lon": lon, "at": at.to_rfc3339()}]);
        let (status, reported) = server
            .send_as(&worker_token, Method::POST, "/api/positions", &body)
            .await;
        assert_eq!(status, 200, "{reported}");
        assert_eq!(reported["flagged"], json!([]), "a walk is never a jump");
    }

    // Seen live, in order: started, entered a, checked in at the gate, exited a, entered b.
    let seen = map
        .until(|m| m["kind"] == "patrol.grid_entered" && m["data"]["grid"] == b)
        .await;
    let seen: Vec<(String, i64)> = deltas(&seen, "patrol.")
        .iter()
        .map(|m| {
            assert_eq!(m["layer"], "patrols");
            assert_eq!(m["id"], id);
            let data = &m["data"];
            (
                m["kind"].as_str().unwrap().to_owned(),
                data["grid"]
                    .as_i64()
                    .or(data["checkpoint"].as_i64())
                    .unwrap_or(-1),
            )
        })
        .collect();
    let gate_id = gate["id"].as_i64().unwrap();
    let expected: Vec<(String, i64)> = [
        ("patrol.started", -1),
        ("patrol.grid_entered", a),
        ("patrol.checked_in", gate_id),
        ("patrol.grid_exited", a),
        ("patrol.grid_entered", b),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    assert_eq!(seen, expected);

    // --- Coverage, by hand: the walked cells of each grid over its cell count.
    for (grid, walked) in [(a, 2_usize), (b, 2)] {
        let cells = cells_of(grid).len();
        let (status, coverage) = server
            .get_as(&commander, &format!("/api/grids/{grid}/coverage"))
            .await;
        assert_eq!(status, 200, "{coverage}");
        assert_eq!(
            (coverage["cells"].as_u64(), coverage["visited"].as_u64()),
            (Some(cells as u64), Some(walked as u64))
        );
        #[allow(clippy::cast_precision_loss)]
        let share = walked as f64 / cells as f64;
        assert!(
            (coverage["share"].as_f64().unwrap() - share).abs() < 1e-12,
            "{coverage} vs {share}"
        );
        assert_eq!(coverage["window_h"], 24);
    }
    let (_, detail) = server
        .get_as(
            &commander,
            &format!("/api/grids/{a}/coverage?cells=true&window_h=1"),
        )
        .await;
    let last_visits: Vec<(String, DateTime<Utc>)> = detail["last_visits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["cell"].as_str().unwrap().to_owned(),
                v["at"].as_str().unwrap().parse().unwrap(),
            )
        })
        .collect();
    let mut expected_visits = vec![
        (walk[0].to_string(), started + TimeDelta::seconds(1)),
        (walk[1].to_string(), started + TimeDelta::seconds(2)),
    ];
    expected_visits.sort();
    assert_eq!(
        last_visits, expected_visits,
        "the last visit of each walked cell of grid a"
    );
    let (_, detail) = server
        .get_as(&commander, &format!("/api/grids/{b}/coverage?cells=true"))
        .await;
    let b2_at: DateTime<Utc> = detail["last_visits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["cell"] == walk[3].to_string())
        .unwrap()["at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        b2_at,
        started + TimeDelta::seconds(5),
        "b2 was visited twice: the later visit counts"
    );
    let (_, untouched) = server
        .get(&format!(
            "/api/grids/{}/coverage?window_h=1",
            grids.iter().find(|(g, _)| *g != a && *g != b).unwrap().0
        ))
        .await;
    assert_eq!(untouched["visited"], 0, "{untouched}");

    // --- End the shift once the last fix's time has passed (a patrol's track ends when it does); the report.
    while Utc::now() <= started + TimeDelta::milliseconds(5_500) {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // --- The report.
    let (status, ended) = server
        .send_as(
            &worker_token,
            Method::POST,
            &format!("/api/patrols/{id}/end"),
            &json!({}),
        )
        .await;
    assert_eq!(status, 200, "{ended}");
    assert!(ended["ended_at"].is_string());
    let (status, report) = server
        .get_as(&commander, &format!("/api/patrols/{id}"))
        .await;
    assert_eq!(status, 200, "{report}");
    let r = &report["report"];
    let by_hand: f64 = route
        .windows(2)
        .map(|w| Haversine.distance(Point::new(w[0].1, w[0].0), Point::new(w[1].1, w[1].0)))
        .sum();
    assert!(
        (r["distance_m"].as_f64().unwrap() - by_hand).abs() < 1e-6,
        "{} vs {by_hand}",
        r["distance_m"]
    );
    assert!(
        by_hand > 30.0,
        "the walk crosses three cell spacings: {by_hand}"
    );
    assert_eq!(r["fixes"], 5);
    assert_eq!(r["cells_visited"], 4);
    let cells: Vec<String> = walk.iter().map(ToString::to_string).collect();
    assert_eq!(r["cells"], json!(cells));
    assert_eq!(r["grids_visited"], json!([a, b]));
    assert_eq!(r["checkpoints_hit"].as_array().unwrap().len(), 1, "{r}");
    assert_eq!(r["checkpoints_hit"][0]["checkpoint"], gate_id);
    assert_eq!(r["checkpoints_hit"][0]["name"], "gate");
    let hit_at: DateTime<Utc> = r["checkpoints_hit"][0]["at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        hit_at,
        started + TimeDelta::seconds(2),
        "the second fix is on the gate"
    );
    let mut missed: Vec<i64> = vec![far["id"].as_i64().unwrap()];
    if answers_for.contains(&b) {
        missed.push(other["id"].as_i64().unwrap());
    }
    let reported_missed: Vec<i64> = r["checkpoints_missed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["checkpoint"].as_i64().unwrap())
        .collect();
    assert_eq!(reported_missed, missed);
    assert!(r["duration_s"].as_f64().unwrap() >= 0.0);

    // A fix after the end changes nothing on the patrol.
    let after = json!([{"lat": far_lat, "lon": far_lon, "at": Utc::now().to_rfc3339()}]);
    assert_eq!(
        server
            .send_as(&worker_token, Method::POST, "/api/positions", &after)
            .await
            .0,
        200
    );
    let (_, again) = server
        .get_as(&commander, &format!("/api/patrols/{id}"))
        .await;
    assert_eq!(
        again["report"]["checkpoints_hit"].as_array().unwrap().len(),
        1
    );
    let (_, listed) = server
        .get_as(
            &commander,
            &format!("/api/patrols?worker={worker}&active=false"),
        )
        .await;
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    let (_, active) = server
        .get_as(
            &commander,
            &format!("/api/patrols?worker={worker}&active=true"),
        )
        .await;
    assert_eq!(active, json!([]));

    let (_, spec) = server.get("/api/openapi.json").await;
    for path in [
        "/api/patrols",
        "/api/patrols/{id}",
        "/api/patrols/{id}/end",
        "/api/checkpoints",
        "/api/grids/{id}/coverage",
    ] {
        assert!(
            spec["paths"][path].is_object(),
            "{path} is in the OpenAPI document"
        );
    }
    for schema in [
        "Patrol",
        "Checkpoint",
        "Coverage",
        "StartPatrol",
        "CreateCheckpoint",
    ] {
        assert!(
            spec["components"]["schemas"][schema].is_object(),
            "{schema} is in the OpenAPI document"
        );
    }

    let open_id = bad_input(&server, &worker_token, &commander, worker, id, a).await;

    // --- A restart (SIGKILL): the open patrol, its grid, the visits and the ended patrol's report survive.
    // Set by the command centre, so the fix is taken as given (never judged a jump).
    let (x, y) = centre(walk[0]);
    let set = json!({"lat": x, "lon": y});
    assert_eq!(
        server
            .send_as(
                &commander,
                Method::PUT,
                &format!("/api/workers/{worker}/position"),
                &set
            )
            .await
            .0,
        204
    );
    let entered = map
        .until(|m| m["kind"] == "patrol.grid_entered" && m["id"] == open_id)
        .await;
    assert_eq!(entered.last().unwrap()["data"]["grid"], a);
    let coverage_before = server
        .get(&format!("/api/grids/{a}/coverage?cells=true"))
        .await;
    let report_before = server.get(&format!("/api/patrols/{id}")).await;
    let admin = server.token().to_owned();
    drop(map);
    server.kill();
    let mut server = Server::start(&["serve"], &store);
    server.admin = Some(admin);
    assert_eq!(
        server
            .get(&format!("/api/grids/{a}/coverage?cells=true"))
            .await,
        coverage_before
    );
    assert_eq!(
        server.get(&format!("/api/patrols/{id}")).await,
        report_before
    );
    let (_, open) = server
        .get(&format!("/api/patrols?worker={worker}&active=true"))
        .await;
    assert_eq!(open[0]["id"], open_id, "{open}");
    assert_eq!(open[0]["current_grid"], a);
    let mut map = Ws::connect(&server, &commander).await;
    map.subscribe(&json!({"layers": ["patrols"]})).await;
    let (x, y) = centre(walk[1]);
    let fix = json!([{"lat": x, "lon": y, "at": Utc::now().to_rfc3339()}]);
    assert_eq!(
        server
            .send_as(&worker_token, Method::POST, "/api/positions", &fix)
            .await
            .0,
        200
    );
    let seen = map.until(|m| m["kind"] == "patrol.checked_in").await;
    let kinds: Vec<&str> = deltas(&seen, "patrol.")
        .iter()
        .map(|m| m["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["patrol.checked_in"],
        "still in grid a after the restart: no second grid_entered"
    );
    assert_eq!(seen.last().unwrap()["id"], open_id);
    assert_eq!(seen.last().unwrap()["data"]["checkpoint"], gate_id);
    let second = server
        .send_as(&worker_token, Method::POST, "/api/patrols", &json!({}))
        .await;
    assert_problem(&second, 409, "conflict");
    drop(server);
    store.finish().await;
}

/// Every patrol endpoint refuses bad input with a problem and stores nothing.
/// Returns the id of the patrol it leaves open.
async fn bad_input(
    server: &Server,
    worker_token: &str,
    commander: &str,
    worker: i64,
    ended: i64,
    grid: i64,
) -> i64 {
    // One open patrol to collide with.
    let (status, open) = server
        .send_as(
            commander,
            Method::POST,
            "/api/patrols",
            &json!({"worker": worker}),
        )
        .await;
    assert_eq!(status, 201, "{open}");
    let open_id = open["id"].as_i64().unwrap();
    let planner = token(server, "planner", None).await;
    let before = last_seq(server).await;
    let (_, checkpoints_before) = server.get("/api/checkpoints").await;
    let (_, patrols_before) = server.get("/api/patrols").await;

    let raw = |path: &'static str, body: &'static str| async move {
        server
            .send_raw(Method::POST, path, body.as_bytes().to_vec())
            .await
            .into_pair()
    };
    let post = |token: String, path: String, body: Value| async move {
        server.send_as(&token, Method::POST, &path, &body).await
    };
    let c = || commander.to_owned();
    let p = || "/api/patrols".to_owned();
    let k = || "/api/checkpoints".to_owned();

    // Starting a patrol.
    assert_problem(
        &raw("/api/patrols", "{\"worker\": ").await,
        400,
        "malformed-json",
    );
    assert_problem(
        &post(c(), p(), json!({"worker": "seven"})).await,
        422,
        "invalid-input",
    );
    assert_problem(
        &post(c(), p(), json!({"worker": 1.5})).await,
        422,
        "invalid-input",
    );
    assert_problem(
        &post(c(), p(), json!({"worker": worker, "shift": "night"})).await,
        422,
        "invalid-input",
    );
    assert_problem(&post(c(), p(), json!({})).await, 422, "invalid-input");
    assert_problem(
        &post(c(), p(), json!({"worker": 999_999})).await,
        404,
        "not-found",
    );
    let second = post(worker_token.to_owned(), p(), json!({})).await;
    assert_problem(&second, 409, "conflict");
    assert_eq!(second.1["patrol_id"], open_id);
    assert_problem(
        &post(planner.clone(), p(), json!({"worker": worker})).await,
        403,
        "forbidden",
    );

    // Ending one.
    assert_problem(
        &post(c(), format!("/api/patrols/{ended}/end"), json!({})).await,
        409,
        "conflict",
    );
    assert_problem(
        &post(c(), "/api/patrols/999999/end".into(), json!({})).await,
        404,
        "not-found",
    );
    assert_problem(
        &post(c(), "/api/patrols/first/end".into(), json!({})).await,
        400,
        "invalid-path",
    );

    // Reading.
    assert_problem(&server.get("/api/patrols/999999").await, 404, "not-found");
    assert_problem(&server.get("/api/patrols/x").await, 400, "invalid-path");
    assert_problem(
        &server.get("/api/patrols?active=maybe").await,
        400,
        "invalid-query",
    );
    assert_problem(
        &server.get("/api/patrols?worker=abc").await,
        400,
        "invalid-query",
    );
    assert_problem(
        &server.get("/api/patrols?worker=999999").await,
        404,
        "not-found",
    );
    assert_problem(
        &server.get("/api/checkpoints?grid=999999").await,
        404,
        "not-found",
    );
    assert_problem(
        &server.get("/api/checkpoints?grid=north").await,
        400,
        "invalid-query",
    );

    // Checkpoints.
    let ok = json!({"name": "x", "lat": 36.19, "lon": 113.11, "radius_m": 10.0});
    let with = |key: &str, value: Value| {
        let mut body = ok.clone();
        body[key] = value;
        body
    };
    assert_problem(
        &raw(
            "/api/checkpoints",
            "{\"name\": \"x\", \"lat\": NaN, \"lon\": 113.11, \"radius_m\": 10}",
        )
        .await,
        400,
        "malformed-json",
    );
    assert_problem(
        &raw("/api/checkpoints", "{\"name\": \"x\"").await,
        400,
        "malformed-json",
    );
    for (key, value) in [
        ("lat", json!(91.0)),
        ("lat", json!(-90.5)),
        ("lon", json!(180.5)),
        ("radius_m", json!(0.0)),
        ("radius_m", json!(0.5)),
        ("radius_m", json!(500.1)),
        ("radius_m", json!(10_000.0)),
        ("radius_m", json!(-5.0)),
        ("name", json!("")),
        ("name", json!("   ")),
        ("name", json!("x".repeat(201))),
    ] {
        assert_problem(
            &post(c(), k(), with(key, value.clone())).await,
            422,
            "invalid-input",
        );
    }
    for (key, value) in [
        ("lat", json!("36.19")),
        ("radius_m", json!("big")),
        ("name", json!(7)),
        ("colour", json!("red")),
    ] {
        assert_problem(
            &post(c(), k(), with(key, value)).await,
            422,
            "invalid-input",
        );
    }
    let mut missing = ok.clone();
    missing.as_object_mut().unwrap().remove("radius_m");
    assert_problem(&post(c(), k(), missing).await, 422, "invalid-input");
    assert_problem(
        &post(c(), k(), with("grid", json!(999_999))).await,
        404,
        "not-found",
    );
    assert_problem(
        &post(worker_token.to_owned(), k(), ok.clone()).await,
        403,
        "forbidden",
    );

    // Coverage.
    for query in ["window_h=0", "window_h=721", "window_h=100000"] {
        assert_problem(
            &server
                .get(&format!("/api/grids/{grid}/coverage?{query}"))
                .await,
            422,
            "invalid-input",
        );
    }
    for query in [
        "window_h=-1",
        "window_h=abc",
        "window_h=1.5",
        "window=24",
        "cells=maybe",
    ] {
        assert_problem(
            &server
                .get(&format!("/api/grids/{grid}/coverage?{query}"))
                .await,
            400,
            "invalid-query",
        );
    }
    assert_problem(
        &server.get("/api/grids/999999/coverage").await,
        404,
        "not-found",
    );
    assert_problem(
        &server.get("/api/grids/x/coverage").await,
        400,
        "invalid-path",
    );

    // Nothing stored.
    assert_eq!(last_seq(server).await, before, "no event was appended");
    assert_eq!(server.get("/api/checkpoints").await.1, checkpoints_before);
    assert_eq!(server.get("/api/patrols").await.1, patrols_before);
    open_id
}
