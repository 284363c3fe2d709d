//! Expensive input (issue 18): polygons over a cap are refused at once with a problem naming the cap,
//! on every endpoint that takes an area, and `/health` answers while they are refused; a valid area
//! within the caps is still accepted. Camera imports of full-circle 2 km cameras answer promptly and
//! cover what they covered before.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::cameras::check_cameras;
use crate::cases::{grid_place, token};
use crate::harness::{Flavor, Server, TestStore, assert_problem};

#[tokio::test]
async fn expensive_polygons_on_sqlite() {
    expensive_polygons(Flavor::Sqlite).await;
}

#[tokio::test]
async fn expensive_polygons_on_postgis() {
    expensive_polygons(Flavor::Postgres).await;
}

/// `parts` identical triangles of about 100 m at (`lat`, `lon`), as a GeoJSON `MultiPolygon` (the
/// issue's probe: 1,000 of them are 60 KiB).
fn triangles(lat: f64, lon: f64, parts: usize) -> Value {
    let d = 0.001;
    let triangle = json!([[[lon, lat], [lon + d, lat], [lon, lat + d], [lon, lat]]]);
    json!({"type": "MultiPolygon", "coordinates": vec![triangle; parts]})
}

/// `GET /health` on a fresh connection, and how long it took.
async fn health(base: &str) -> (u16, Duration) {
    let started = Instant::now();
    let status = reqwest::Client::new()
        .get(format!("{base}/health"))
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .map_or(0, |r| r.status().as_u16());
    (status, started.elapsed())
}

async fn expensive_polygons(flavor: Flavor) {
    let Some(store) = TestStore::new(flavor).await else {
        return;
    };
    let server = Server::demo(&store);
    let commander = token(&server, "commander", None).await;
    let planner = token(&server, "planner", None).await;
    let a = grid_place(&server, 0, 0).await;
    let (_, before) = server.get("/api/regions").await;

    // The probe: 1,000 identical triangles, refused at once naming the cap.
    let probe = triangles(a.lat, a.lon, 1000);
    assert!(probe.to_string().len() > 60_000);
    let started = Instant::now();
    let got = server
        .send_as(
            &commander,
            Method::POST,
            "/api/alerts",
            &json!({"title": "probe", "area": probe}),
        )
        .await;
    let took = started.elapsed();
    assert_problem(&got, 422, "invalid-geometry");
    assert_eq!(
        (&got.1["limit"], &got.1["max"]),
        (&json!("parts"), &json!(100))
    );
    assert!(
        got.1["detail"]
            .as_str()
            .unwrap()
            .contains("at most 100 polygons"),
        "{}",
        got.1
    );
    // The issue asks for under 50 ms; generous here, for a loaded test machine.
    assert!(took < Duration::from_secs(1), "refused in {took:?}");
    eprintln!("the 1,000-triangle MultiPolygon was refused in {took:?}");

    // Every endpoint that takes an area refuses it the same way: regions and buildings.
    let feature = |properties: Value| json!({"type": "Feature", "geometry": triangles(a.lat, a.lon, 1000), "properties": properties});
    let region = feature(json!({"level": "district", "code": "990000", "name": "probe"}));
    let building = feature(json!({"households": 3}));
    for (path, body) in [("/api/regions", &region), ("/api/buildings", &building)] {
        let got = server.send_as(&planner, Method::POST, path, body).await;
        assert_problem(&got, 422, "invalid-geometry");
        assert_eq!(got.1["limit"], "parts", "{path}");
    }

    // Two 1,500-part alerts at once (the issue: /health stalled for 20 s): /health answers meanwhile.
    let heavy = json!({"title": "probe", "area": triangles(a.lat, a.lon, 1500)});
    let (one, two, (status, health_took)) = tokio::join!(
        server.send_as(&commander, Method::POST, "/api/alerts", &heavy),
        server.send_as(&commander, Method::POST, "/api/alerts", &heavy),
        async {
            tokio::time::sleep(Duration::from_millis(5)).await;
            health(&server.base).await
        }
    );
    assert_problem(&one, 422, "invalid-geometry");
    assert_problem(&two, 422, "invalid-geometry");
    assert_eq!(status, 200);
    assert!(
        health_took < Duration::from_secs(1),
        "/health took {health_took:?}"
    );

    // Within the caps: 100 triangles side by side along a line of latitude (valid, apart), then the same
    // 100 stacked (refused, overlapping); the 20,000-position circle is valid.
    let row: Vec<Value> = (0..100)
        .map(|i| {
            let lon = a.lon + 0.0002 * f64::from(i);
            json!([[
                [lon, a.lat],
                [lon + 0.0001, a.lat],
                [lon, a.lat + 0.0001],
                [lon, a.lat]
            ]])
        })
        .collect();
    let got = server
        .send_as(
            &commander,
            Method::POST,
            "/api/alerts",
            &json!({"title": "row", "area": {"type": "MultiPolygon", "coordinates": row}}),
        )
        .await;
    assert_eq!(got.0, 201, "{}", got.1);
    let got = server
        .send_as(
            &commander,
            Method::POST,
            "/api/alerts",
            &json!({"title": "stack", "area": triangles(a.lat, a.lon, 100)}),
        )
        .await;
    assert_problem(&got, 422, "invalid-geometry");
    assert_eq!(
        got.1["detail"],
        "invalid polygon: polygons at indices 0 and 1 overlap"
    );
    let n = 20_000;
    let mut ring: Vec<Value> = (0..n - 1)
        .map(|i| {
            let t = std::f64::consts::TAU * f64::from(i) / f64::from(n - 1);
            json!([a.lon + 0.01 * t.cos(), a.lat + 0.01 * t.sin()])
        })
        .collect();
    ring.push(ring[0].clone());
    let started = Instant::now();
    let got = server
        .send_as(
            &commander,
            Method::POST,
            "/api/alerts",
            &json!({"title": "circle", "area": {"type": "Polygon", "coordinates": [ring]}}),
        )
        .await;
    assert_eq!(got.0, 201, "{}", got.1);
    eprintln!(
        "a valid 20,000-position circle was accepted in {:?}",
        started.elapsed()
    );

    // Nothing was created by the refusals.
    let (_, after) = server.get("/api/regions").await;
    assert_eq!(
        before["features"].as_array().unwrap().len(),
        after["features"].as_array().unwrap().len()
    );
    store.finish().await;
}

#[tokio::test]
async fn wide_cameras_on_sqlite() {
    wide_cameras(Flavor::Sqlite).await;
}

#[tokio::test]
async fn wide_cameras_on_postgis() {
    wide_cameras(Flavor::Postgres).await;
}

/// The probe: an import of 20 full-circle cameras of 2 km (3 KiB; 18 s of a stalled server on
/// main). It is answered while `/health` keeps answering, each camera covers what the reference `h3`
/// library says it does, and a range past the cap is refused naming it.
async fn wide_cameras(flavor: Flavor) {
    let Some(store) = TestStore::new(flavor).await else {
        return;
    };
    let server = Server::demo(&store);
    let commander = token(&server, "commander", None).await;
    let a = grid_place(&server, 0, 0).await;
    let features: Vec<Value> = (0..20)
        .map(|i| {
            let lon = a.lon + 0.001 * f64::from(i);
            json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, a.lat]},
                "properties": {"name": format!("tower {i}"), "range_m": 2000.0, "kind": "ptz"}})
        })
        .collect();
    let import = json!({"type": "FeatureCollection", "features": features});
    assert!(import.to_string().len() < 4096, "a 3 KiB import");
    let started = Instant::now();
    let (imported, slowest_health) = tokio::join!(
        server.send_as(&commander, Method::POST, "/api/cameras/import", &import),
        async {
            let mut slowest = Duration::ZERO;
            tokio::time::sleep(Duration::from_millis(20)).await;
            for _ in 0..10 {
                let (status, took) = health(&server.base).await;
                assert_eq!(status, 200);
                slowest = slowest.max(took);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            slowest
        }
    );
    let took = started.elapsed();
    assert_eq!(imported.0, 201, "{}", imported.1);
    assert_eq!(imported.1["created"], 20);
    assert!(
        slowest_health < Duration::from_secs(1),
        "/health took {slowest_health:?}"
    );
    eprintln!(
        "20 full-circle 2 km cameras imported in {took:?}; /health at most {slowest_health:?}"
    );

    // A 360° 2 km camera's cells are h3's polygon_to_cells of its sector (and the grid's coverage).
    let id = imported.1["ids"][0].as_i64().unwrap();
    let (_, one) = server.get(&format!("/api/cameras/{id}")).await;
    assert!(
        one["properties"]["cell_count"].as_u64().unwrap() > 30_000,
        "{}",
        one["properties"]["cell_count"]
    );
    check_cameras(&server, &[a.grid], &["--cells", "--points", "100"]);

    // The range is capped, and the problem names the cap.
    let too_far =
        json!({"name": "far", "lat": a.lat, "lon": a.lon, "range_m": 2000.5, "kind": "ptz"});
    let got = server
        .send_as(&commander, Method::POST, "/api/cameras", &too_far)
        .await;
    assert_problem(&got, 422, "invalid-input");
    assert_eq!(got.1["field"], "range_m");
    assert!(
        got.1["detail"].as_str().unwrap().contains("2000"),
        "{}",
        got.1
    );
    store.finish().await;
}
