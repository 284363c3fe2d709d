//! Cameras (视频监控点) through the real binary, on both stores: create (flat and as a Feature), read,
//! change, delete, import (all or nothing, with an error per refused feature); `covers`, the cameras
//! that see a case, and the alert webhook that registers a `camera` case; the camera part of a grid's
//! coverage; cameras surviving a restart. Geometry is checked by `tests/reference/check_cameras.py`,
//! which rebuilds every sector from the raw parameters with shapely and the coverage with the `h3`
//! library. Then bad input on every camera endpoint: a problem, nothing stored.

use std::process::Command;

use reqwest::Method;
use serde_json::{Value, json};

use crate::bad_input::IntoPair;
use crate::cases::{grid_place, last_seq, token};
use crate::harness::{
    Flavor, Server, TestStore, assert_problem, assert_same, reference_python, workspace_root,
};

#[tokio::test]
async fn cameras_on_sqlite() {
    cameras(Flavor::Sqlite).await;
}

#[tokio::test]
async fn cameras_on_postgis() {
    cameras(Flavor::Postgres).await;
}

/// Meters per degree of latitude on the mean sphere (R = 6,371,008.8 m).
const M_PER_DEG: f64 = 6_371_008.8 * std::f64::consts::PI / 180.0;

/// The point `east_m`, `north_m` from (`lat`, `lon`), degrees.
fn offset(lat: f64, lon: f64, east_m: f64, north_m: f64) -> (f64, f64) {
    (
        lat + north_m / M_PER_DEG,
        lon + east_m / (M_PER_DEG * lat.to_radians().cos()),
    )
}

fn ids(collection: &Value) -> Vec<i64> {
    collection["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["id"].as_i64().unwrap())
        .collect()
}

/// What "nothing stored" compares: the event sequence and the cameras.
async fn fingerprint(server: &Server) -> (i64, Value) {
    (
        last_seq(server).await,
        server.get("/api/cameras?cells=true").await.1,
    )
}

async fn cameras(flavor: Flavor) {
    let Some(store) = TestStore::new(flavor).await else {
        return;
    };
    let server = Server::demo(&store);
    let here = grid_place(&server, 0, 0).await;
    let other = grid_place(&server, 50, 0).await; // far from the first grid
    let planner = token(&server, "planner", None).await;
    let commander = token(&server, "commander", None).await;
    let reporter = token(&server, "reporter", None).await;
    let worker = token(&server, "worker", Some(here.primary)).await;

    // Create: a fixed camera (planner, flat JSON), a PTZ camera 60 m east (commander, a Feature), and an
    // offline camera looking south-south-west.
    let a_body = json!({"name": "东门 east gate", "lat": here.lat, "lon": here.lon, "heading_deg": 45.0, "fov_deg": 90.0,
        "range_m": 120.0, "kind": "fixed"});
    let (status, a) = server
        .send_as(&planner, Method::POST, "/api/cameras", &a_body)
        .await;
    assert_eq!(status, 201, "{a}");
    let a_id = a["properties"]["id"].as_i64().unwrap();
    assert_eq!(a["geometry"]["coordinates"], json!([here.lon, here.lat]));
    assert_eq!(a["properties"]["status"], "online");
    assert_eq!(a["properties"]["sector"]["type"], "Polygon");
    assert_eq!(
        a["properties"]["sector"]["coordinates"][0]
            .as_array()
            .unwrap()
            .len(),
        1 + 19 + 1,
        "apex, 18 steps of 5°, closed"
    );
    assert!(
        a["properties"]["cell_count"].as_u64().unwrap() > 10,
        "{}",
        a["properties"]["cell_count"]
    );
    let (b_lat, b_lon) = offset(here.lat, here.lon, 60.0, 0.0);
    let b_body = json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [b_lon, b_lat]},
        "properties": {"name": "广场球机 square PTZ", "range_m": 50.0, "kind": "ptz"}});
    let (status, b) = server
        .send_as(&commander, Method::POST, "/api/cameras", &b_body)
        .await;
    assert_eq!(status, 201, "{b}");
    let b_id = b["properties"]["id"].as_i64().unwrap();
    assert_eq!(
        (
            b["properties"]["fov_deg"].as_f64(),
            b["properties"]["heading_deg"].as_f64()
        ),
        (Some(360.0), Some(0.0))
    );
    let c_body = json!({"name": "south lane", "lat": here.lat, "lon": here.lon, "heading_deg": 200.0, "fov_deg": 30.0,
        "range_m": 300.0, "status": "offline"});
    let (status, c) = server.send(Method::POST, "/api/cameras", &c_body).await;
    assert_eq!(status, 201, "{c}");
    let c_id = c["properties"]["id"].as_i64().unwrap();
    assert_problem(
        &server
            .send_as(&worker, Method::POST, "/api/cameras", &a_body)
            .await,
        403,
        "forbidden",
    );

    // Read: everything for the unscoped, the cameras standing in its own grid for a worker (the PTZ
    // camera 60 m east stands in the next grid).
    let (status, all) = server.get("/api/cameras").await;
    assert_eq!(status, 200, "{all}");
    assert_eq!(ids(&all), vec![a_id, b_id, c_id]);
    let (status, own) = server.get_as(&worker, "/api/cameras").await;
    assert_eq!(status, 200, "{own}");
    assert_eq!(ids(&own), vec![a_id, c_id]);
    let (_, one) = server.get(&format!("/api/cameras/{a_id}")).await;
    assert_eq!(
        one["properties"]["cells"].as_array().unwrap().len() as u64,
        one["properties"]["cell_count"].as_u64().unwrap()
    );
    let (_, offline) = server.get("/api/cameras?status=offline").await;
    assert_eq!(ids(&offline), vec![c_id]);

    // Change and delete: a camera turned around sees the other side.
    let (status, d) = server
        .send(
            Method::POST,
            "/api/cameras",
            &json!({"name": "tmp", "lat": here.lat, "lon": here.lon,
        "heading_deg": 0.0, "fov_deg": 10.0, "range_m": 30.0}),
        )
        .await;
    assert_eq!(status, 201, "{d}");
    let d_id = d["properties"]["id"].as_i64().unwrap();
    let (n_lat, n_lon) = offset(here.lat, here.lon, 0.0, 20.0);
    let (s_lat, s_lon) = offset(here.lat, here.lon, 0.0, -20.0);
    let (_, seen) = server
        .get(&format!("/api/cameras?covers={n_lat},{n_lon}"))
        .await;
    assert!(ids(&seen).contains(&d_id), "{seen}");
    let (status, turned) = server
        .send(
            Method::PATCH,
            &format!("/api/cameras/{d_id}"),
            &json!({"heading_deg": 180.0}),
        )
        .await;
    assert_eq!(status, 200, "{turned}");
    assert_eq!(turned["properties"]["name"], "tmp");
    let (_, seen) = server
        .get(&format!("/api/cameras?covers={n_lat},{n_lon}"))
        .await;
    assert!(!ids(&seen).contains(&d_id), "{seen}");
    let (_, seen) = server
        .get(&format!("/api/cameras?covers={s_lat},{s_lon}"))
        .await;
    assert!(ids(&seen).contains(&d_id), "{seen}");
    let gone = server
        .http
        .delete(server.url(&format!("/api/cameras/{d_id}")))
        .bearer_auth(server.token())
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status().as_u16(), 204);
    assert_problem(
        &server.get(&format!("/api/cameras/{d_id}")).await,
        404,
        "not-found",
    );
    let (_, seen) = server
        .get(&format!("/api/cameras?covers={s_lat},{s_lon}"))
        .await;
    assert!(!ids(&seen).contains(&d_id), "{seen}");

    // Import: three cameras in the second grid, in one go.
    let import = |cameras: Vec<Value>| json!({"type": "FeatureCollection", "features": cameras});
    let cam = |lat: f64, lon: f64, props: Value| json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]}, "properties": props});
    let batch = import(vec![
        cam(
            other.lat,
            other.lon,
            json!({"name": "北路 1", "heading_deg": 0.0, "fov_deg": 120.0, "range_m": 80.0}),
        ),
        cam(
            other.lat,
            other.lon,
            json!({"name": "北路 2", "heading_deg": 180.0, "fov_deg": 60.0, "range_m": 60.0, "kind": "fixed"}),
        ),
        cam(
            offset(other.lat, other.lon, -40.0, 0.0).0,
            offset(other.lat, other.lon, -40.0, 0.0).1,
            json!({"name": "北路 3", "fov_deg": 1.0, "range_m": 150.0, "heading_deg": 359.5}),
        ),
    ]);
    let (status, imported) = server
        .send_as(&commander, Method::POST, "/api/cameras/import", &batch)
        .await;
    assert_eq!(status, 201, "{imported}");
    assert_eq!(imported["created"], 3);
    let (_, all) = server.get("/api/cameras").await;
    assert_eq!(all["features"].as_array().unwrap().len(), 6);

    // Covers: 30 m north-east of A is in A's sector (30 m away) and in B's circle (about 44 m away), not
    // in C's (looking the other way).
    let (p_lat, p_lon) = offset(
        here.lat,
        here.lon,
        30.0 * 0.5_f64.sqrt(),
        30.0 * 0.5_f64.sqrt(),
    );
    let (status, seen) = server
        .get_as(&commander, &format!("/api/cameras?covers={p_lat},{p_lon}"))
        .await;
    assert_eq!(status, 200, "{seen}");
    assert_eq!(ids(&seen), vec![a_id, b_id], "nearest first");
    let distances: Vec<f64> = seen["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["distance_m"].as_f64().unwrap())
        .collect();
    assert!(
        (distances[0] - 30.0).abs() < 0.1 && (distances[1] - 44.2).abs() < 0.2,
        "{distances:?}"
    );

    // Nearby cameras by distance to the camera itself (not by what it sees), and the API description.
    let (status, near) = server
        .get_as(
            &worker,
            &format!("/api/nearby?lat={p_lat}&lon={p_lon}&radius_m=50&kind=cameras"),
        )
        .await;
    assert_eq!(status, 200, "{near}");
    assert_eq!(
        ids(&near),
        vec![a_id, c_id, b_id],
        "A and C are 30 m away, B about 44 m"
    );
    let (_, spec) = server.get("/api/openapi.json").await;
    for path in [
        "/api/cameras",
        "/api/cameras/import",
        "/api/cameras/{id}",
        "/api/cameras/{id}/alerts",
        "/api/incidents/{id}/cameras",
    ] {
        assert!(
            spec["paths"].get(path).is_some(),
            "{path} in the OpenAPI description"
        );
    }

    // The cameras that see a case, and the alert webhook.
    let report = json!({"lat": p_lat, "lon": p_lon, "category": "other", "priority": "normal",
        "description": "围观 crowd", "source": "hotline"});
    let (status, case) = server
        .send_as(&reporter, Method::POST, "/api/incidents", &report)
        .await;
    assert_eq!(status, 201, "{case}");
    let case_id = case["properties"]["id"].as_i64().unwrap();
    // A reporter follows its case but not the cameras near it (names, places, sectors).
    assert_problem(
        &server
            .get_as(&reporter, &format!("/api/incidents/{case_id}/cameras"))
            .await,
        403,
        "forbidden",
    );
    let (status, watching) = server
        .get_as(&commander, &format!("/api/incidents/{case_id}/cameras"))
        .await;
    assert_eq!(status, 200, "{watching}");
    assert_eq!(ids(&watching), vec![a_id, b_id]);
    let (status, alerted) = server
        .send_as(
            &reporter,
            Method::POST,
            &format!("/api/cameras/{a_id}/alerts"),
            &json!({"category": "other", "description": "打架 fight"}),
        )
        .await;
    assert_eq!(status, 201, "{alerted}");
    assert_eq!(alerted["properties"]["source"], "camera");
    assert_eq!(
        alerted["geometry"]["coordinates"],
        json!([here.lon, here.lat])
    );
    assert!(
        alerted["properties"]["description"]
            .as_str()
            .unwrap()
            .contains("打架 fight")
    );
    let (status, alerted) = server
        .send_as(
            &reporter,
            Method::POST,
            &format!("/api/cameras/{a_id}/alerts"),
            &json!({"category": "other", "lat": p_lat, "lon": p_lon, "priority": "high"}),
        )
        .await;
    assert_eq!(status, 201, "{alerted}");
    assert_eq!(
        (
            alerted["properties"]["source"].as_str(),
            alerted["properties"]["priority"].as_str()
        ),
        (Some("camera"), Some("high"))
    );
    assert_eq!(alerted["geometry"]["coordinates"], json!([p_lon, p_lat]));
    let alerted_id = alerted["properties"]["id"].as_i64().unwrap();
    let (_, stored) = server.get(&format!("/api/incidents/{alerted_id}")).await;
    assert_eq!(stored["properties"]["source"], "camera");

    // Coverage: the patrol part unchanged, the camera part beside it (checked exactly by the reference).
    let (status, coverage) = server
        .get(&format!("/api/grids/{}/coverage", here.grid))
        .await;
    assert_eq!(status, 200, "{coverage}");
    for field in ["grid", "cells", "visited", "share", "window_h"] {
        assert!(coverage.get(field).is_some(), "{field} in {coverage}");
    }
    let cams = &coverage["cameras"];
    assert_eq!(cams["total_cells"], coverage["cells"]);
    assert!(cams["covered_cells"].as_u64().unwrap() > 0, "{cams}");
    assert!(cams["cameras"].as_array().unwrap().contains(&json!(a_id)));
    assert!(
        !cams["cameras"].as_array().unwrap().contains(&json!(c_id)),
        "offline cameras do not count"
    );
    assert_eq!(cams["blind_spots_outline"]["type"], "MultiPolygon");

    // Cameras survive a restart.
    let (_, before) = server.get("/api/cameras?cells=true").await;
    let admin = server.token().to_owned();
    let mut server = server;
    server.kill();
    let mut server = Server::start(&["serve"], &store);
    server.admin = Some(admin);
    let (_, after) = server.get("/api/cameras?cells=true").await;
    assert_same(&after, &before, "cameras after a restart");

    check_cameras(&server, &[here.grid, other.grid], &["--cells"]);
    bad_input(&server, a_id, case_id).await;
    store.finish().await;
}

/// Runs `tests/reference/check_cameras.py` (shapely and h3) with `extra` arguments; panics with its
/// output on failure.
pub fn check_cameras(server: &Server, grids: &[i64], extra: &[&str]) {
    let Some(python) = reference_python() else {
        return;
    };
    let output = Command::new(python)
        .arg(workspace_root().join("tests/reference/check_cameras.py"))
        .args([server.base.as_str(), server.token()])
        .args(grids.iter().map(ToString::to_string))
        .args(extra)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    eprintln!("{stdout}{stderr}");
    assert!(
        output.status.success(),
        "camera reference check failed:\n{stdout}\n{stderr}"
    );
}

async fn bad_input(server: &Server, camera: i64, case: i64) {
    let before = fingerprint(server).await;
    let good = json!({"name": "x", "lat": 36.19, "lon": 113.11, "heading_deg": 10.0, "fov_deg": 60.0, "range_m": 100.0});
    let with = |key: &str, value: Value| {
        let mut body = good.clone();
        body[key] = value;
        body
    };

    // Create.
    assert_problem(
        &server
            .send_raw(Method::POST, "/api/cameras", b"{\"name\": \"x\",".to_vec())
            .await
            .into_pair(),
        400,
        "malformed-json",
    );
    for body in [
        with("fov_deg", json!(0.0)),
        with("fov_deg", json!(361.0)),
        with("range_m", json!(0.0)),
        with("range_m", json!(-5.0)),
        with("range_m", json!(2000.5)),
        with("heading_deg", json!(360.0)),
        with("heading_deg", json!(-1.0)),
        with("lat", json!(95.0)),
        with("lat", json!(89.0)),
        with("lon", json!(181.0)),
        with("lon", json!(180.0)),
        with("name", json!("   ")),
        with("name", json!(5)),
        with("fov_deg", json!("wide")),
        with("kind", json!("dome")),
        with("bogus", json!(1)),
        json!({"name": "x", "lat": 36.19, "lon": 113.11, "range_m": 100.0}),
        json!([good.clone()]),
    ] {
        let got = server.send(Method::POST, "/api/cameras", &body).await;
        assert_problem(&got, 422, "invalid-input");
    }
    let polygon = json!({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[[113.0, 36.0], [113.1, 36.0], [113.1, 36.1], [113.0, 36.0]]]},
        "properties": {"name": "x", "fov_deg": 60.0, "range_m": 100.0}});
    assert_problem(
        &server.send(Method::POST, "/api/cameras", &polygon).await,
        422,
        "invalid-geometry",
    );
    let huge = format!("{{\"name\": \"{}\"}}", "x".repeat(1024 * 1024 + 10)).into_bytes();
    assert_problem(
        &server
            .send_raw(Method::POST, "/api/cameras", huge)
            .await
            .into_pair(),
        413,
        "body-too-large",
    );

    // Import: all or nothing, one error per refused feature.
    let f = |props: Value| json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [113.11, 36.19]}, "properties": props});
    let mixed = json!({"type": "FeatureCollection", "features": [
        f(json!({"name": "ok", "fov_deg": 60.0, "range_m": 100.0})),
        f(json!({"name": "zero fov", "fov_deg": 0.0, "range_m": 100.0})),
        f(json!({"name": "ok 2", "fov_deg": 60.0, "range_m": 100.0})),
        f(json!({"name": "far", "fov_deg": 60.0, "range_m": -1.0})),
        json!({"type": "Point", "coordinates": [113.11, 36.19]}),
    ]});
    let got = server
        .send(Method::POST, "/api/cameras/import", &mixed)
        .await;
    assert_problem(&got, 422, "invalid-input");
    let errors = got.1["errors"].as_array().unwrap();
    let indexes: Vec<i64> = errors
        .iter()
        .map(|e| e["index"].as_i64().unwrap())
        .collect();
    assert_eq!(indexes, vec![1, 3, 4], "{errors:?}");
    assert_eq!(
        (errors[0]["field"].as_str(), errors[1]["field"].as_str()),
        (Some("fov_deg"), Some("range_m"))
    );
    for body in [
        json!({"type": "FeatureCollection", "features": []}),
        json!({"type": "FeatureCollection"}),
        json!([]),
        json!({"features": [f(json!({}))]}),
    ] {
        assert_problem(
            &server
                .send(Method::POST, "/api/cameras/import", &body)
                .await,
            422,
            "invalid-input",
        );
    }
    assert_problem(
        &server
            .send_raw(Method::POST, "/api/cameras/import", b"{\"type\"".to_vec())
            .await
            .into_pair(),
        400,
        "malformed-json",
    );

    // List and read.
    for (query, slug) in [
        ("covers=NaN,1", "invalid-coordinate"),
        ("covers=36.2,inf", "invalid-coordinate"),
        ("covers=91,113", "invalid-coordinate"),
        ("covers=36.2,-181", "invalid-coordinate"),
        ("covers=abc", "invalid-covers"),
        ("covers=36.2", "invalid-covers"),
        ("covers=1,2,3", "invalid-covers"),
        ("bbox=1,2,3", "invalid-bbox"),
        ("status=broken", "invalid-query"),
        ("nope=1", "invalid-query"),
    ] {
        assert_problem(
            &server.get(&format!("/api/cameras?{query}")).await,
            400,
            slug,
        );
    }
    assert_problem(&server.get("/api/cameras/999999").await, 404, "not-found");
    assert_problem(&server.get("/api/cameras/abc").await, 400, "invalid-path");
    assert_problem(
        &server.get("/api/incidents/999999/cameras").await,
        404,
        "not-found",
    );

    // Change and delete.
    let path = format!("/api/cameras/{camera}");
    for body in [
        json!({"fov_deg": 0.0}),
        json!({"range_m": 0.0}),
        json!({"lat": -91.0}),
        json!({"bogus": 1}),
        json!({}),
        json!({"heading_deg": "north"}),
    ] {
        assert_problem(
            &server.send(Method::PATCH, &path, &body).await,
            422,
            "invalid-input",
        );
    }
    assert_problem(
        &server
            .send_raw(Method::PATCH, &path, b"{".to_vec())
            .await
            .into_pair(),
        400,
        "malformed-json",
    );
    assert_problem(
        &server
            .send(
                Method::PATCH,
                "/api/cameras/999999",
                &json!({"fov_deg": 10.0}),
            )
            .await,
        404,
        "not-found",
    );
    assert_problem(
        &server
            .send(Method::DELETE, "/api/cameras/999999", &json!(null))
            .await,
        404,
        "not-found",
    );

    // Alerts.
    let alerts = format!("/api/cameras/{camera}/alerts");
    assert_problem(
        &server
            .send(
                Method::POST,
                "/api/cameras/999999/alerts",
                &json!({"category": "other"}),
            )
            .await,
        404,
        "not-found",
    );
    for body in [
        json!({}),
        json!({"category": "other", "lat": 36.19}),
        json!({"category": "other", "extra": 1}),
        json!({"category": 7}),
    ] {
        assert_problem(
            &server.send(Method::POST, &alerts, &body).await,
            422,
            "invalid-input",
        );
    }
    let (_, one) = server.get(&path).await;
    let (lat, lon) = (
        one["properties"]["lat"].as_f64().unwrap(),
        one["properties"]["lon"].as_f64().unwrap(),
    );
    let behind = offset(lat, lon, -50.0, -50.0);
    let got = server
        .send(
            Method::POST,
            &alerts,
            &json!({"category": "other", "lat": behind.0, "lon": behind.1}),
        )
        .await;
    assert_problem(&got, 422, "invalid-input");
    let got = server
        .send(
            Method::POST,
            &alerts,
            &json!({"category": "other", "lat": 95.0, "lon": lon}),
        )
        .await;
    assert_problem(&got, 400, "invalid-coordinate");
    let got = server
        .send(
            Method::POST,
            &alerts,
            &json!({"category": "no_such_category"}),
        )
        .await;
    assert!((400..500).contains(&got.0), "{got:?}");
    let worker_like = token(server, "planner", None).await;
    let after_token = fingerprint(server).await.0;
    assert_problem(
        &server
            .send_as(
                &worker_like,
                Method::POST,
                &alerts,
                &json!({"category": "other"}),
            )
            .await,
        403,
        "forbidden",
    );
    assert_eq!(
        server
            .get_as(&worker_like, &format!("/api/incidents/{case}/cameras"))
            .await
            .0,
        200,
        "a planner reads cases"
    );
    let after = fingerprint(server).await;
    assert_eq!(after.0, after_token, "no event from any refused request");
    assert_eq!(after.0, before.0 + 1, "only the planner token was stored");
    assert_same(&after.1, &before.1, "cameras after bad input");
}
