//! `GET /api/nearby` against a brute-force reference computed here with the `geo` crate's haversine over
//! the same workers and cases; scope and bad input.

use geo::{Distance, Haversine, Point};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use reqwest::Method;
use serde_json::{Value, json};

use crate::cases::{act_ok, grid_place, report, token};
use crate::harness::{Flavor, Server, TestStore};

#[tokio::test]
async fn nearby_equals_a_brute_force_reference() {
    let Some(store) = TestStore::new(Flavor::Sqlite).await else {
        return;
    };
    let server = Server::demo(&store);
    let centre = grid_place(&server, 0, 0).await;
    let commander = token(&server, "commander", None).await;
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    // Workers: a position each, within about 2 km of the centre; every fourth off duty.
    let (_, workers) = server.get("/api/workers").await;
    let ids: Vec<i64> = workers["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["properties"]["id"].as_i64().unwrap())
        .collect();
    let mut placed = Vec::new(); // (id, lat, lon, on_duty)
    let mut batch = Vec::new();
    for (i, id) in ids.iter().take(40).enumerate() {
        let (lat, lon) = (
            centre.lat + rng.random_range(-0.018..0.018),
            centre.lon + rng.random_range(-0.022..0.022),
        );
        batch.push(json!({"worker_id": id, "lat": lat, "lon": lon}));
        let on_duty = i % 4 != 3;
        if !on_duty {
            let (status, body) = server
                .send(
                    Method::PUT,
                    &format!("/api/workers/{id}/duty"),
                    &json!({"duty": "off_duty"}),
                )
                .await;
            assert_eq!(status, 200, "{body}");
        }
        placed.push((*id, lat, lon, on_duty));
    }
    let (status, body) = server
        .send_as(&commander, Method::POST, "/api/positions", &json!(batch))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["accepted"], 40);
    // Cases: 30 around the centre inside the demo city, every fifth cancelled (no longer open).
    let mut cases = Vec::new(); // (id, lat, lon, open)
    for n in 0..30 {
        let p = grid_place(&server, n, n * 3).await;
        let id = report(&server, server.token(), p.lat, p.lon, "city_appearance").await["id"]
            .as_i64()
            .unwrap();
        let open = n % 5 != 4;
        if !open {
            act_ok(
                &server,
                &commander,
                id,
                &json!({"action": "cancel", "reason": "duplicate call"}),
            )
            .await;
        }
        cases.push((id, p.lat, p.lon, open));
    }

    let metres = |lat: f64, lon: f64, c: (f64, f64)| {
        Haversine.distance(Point::new(c.1, c.0), Point::new(lon, lat))
    };
    for (n, radius) in [(0, 300.0), (1, 800.0), (2, 1500.0), (3, 2500.0), (4, 50.0)] {
        let here = grid_place(&server, n * 5, 1).await;
        let at = (here.lat, here.lon);
        for (kind, duty) in [
            ("workers", None),
            ("workers", Some("any")),
            ("incidents", None),
        ] {
            let mut expected: Vec<(f64, i64)> = match kind {
                "workers" => placed
                    .iter()
                    .filter(|w| w.3 || duty == Some("any"))
                    .map(|w| (metres(w.1, w.2, at), w.0))
                    .filter(|(d, _)| *d <= radius)
                    .collect(),
                _ => cases
                    .iter()
                    .filter(|c| c.3)
                    .map(|c| (metres(c.1, c.2, at), c.0))
                    .filter(|(d, _)| *d <= radius)
                    .collect(),
            };
            expected.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let mut query = format!(
                "/api/nearby?lat={}&lon={}&radius_m={radius}&kind={kind}&limit=1000",
                at.0, at.1
            );
            if let Some(duty) = duty {
                query = format!("{query}&duty={duty}");
            }
            let (status, got) = server.get_as(&commander, &query).await;
            assert_eq!(status, 200, "{query}: {got}");
            let got: Vec<(f64, i64)> = got["features"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| {
                    (
                        f["properties"]["distance_m"].as_f64().unwrap(),
                        f["properties"]["id"].as_i64().unwrap(),
                    )
                })
                .collect();
            assert_eq!(
                got.iter().map(|g| g.1).collect::<Vec<_>>(),
                expected.iter().map(|e| e.1).collect::<Vec<_>>(),
                "{query}"
            );
            for (g, e) in got.iter().zip(&expected) {
                assert!(
                    (g.0 - e.0).abs() < 0.01,
                    "{query}: distance {} vs the reference {}",
                    g.0,
                    e.0
                );
            }
        }
    }
    // A limit keeps the nearest.
    let q = format!(
        "/api/nearby?lat={}&lon={}&radius_m=50000&kind=incidents&limit=3",
        centre.lat, centre.lon
    );
    let (_, got) = server.get_as(&commander, &q).await;
    let mut all: Vec<(f64, i64)> = cases
        .iter()
        .filter(|c| c.3)
        .map(|c| (metres(c.1, c.2, (centre.lat, centre.lon)), c.0))
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let ids: Vec<i64> = got["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, all.iter().take(3).map(|c| c.1).collect::<Vec<_>>());
    assert_eq!(got["total"], all.len());

    // A worker sees only the workers and cases of its own grids.
    let worker = token(&server, "worker", Some(centre.primary)).await;
    let (_, me) = server
        .get(&format!("/api/workers/{}", centre.primary))
        .await;
    let own: Vec<i64> = me["properties"]["grids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["grid_id"].as_i64().unwrap())
        .collect();
    let q = format!(
        "/api/nearby?lat={}&lon={}&radius_m=50000&kind=incidents&limit=1000",
        centre.lat, centre.lon
    );
    let (_, got) = server.get_as(&worker, &q).await;
    for f in got["features"].as_array().unwrap() {
        assert!(
            own.contains(&f["properties"]["grid_id"].as_i64().unwrap()),
            "{f}"
        );
    }

    // Bad input.
    let c = (centre.lat, centre.lon);
    for (query, status) in [
        (format!("lat=91&lon={}&radius_m=100&kind=workers", c.1), 400),
        (
            format!("lat=NaN&lon={}&radius_m=100&kind=workers", c.1),
            400,
        ),
        (
            format!("lat={}&lon=181&radius_m=100&kind=workers", c.0),
            400,
        ),
        (
            format!("lat={}&lon={}&radius_m=0&kind=workers", c.0, c.1),
            422,
        ),
        (
            format!("lat={}&lon={}&radius_m=-5&kind=workers", c.0, c.1),
            422,
        ),
        (
            format!("lat={}&lon={}&radius_m=1e9&kind=workers", c.0, c.1),
            422,
        ),
        (
            format!("lat={}&lon={}&radius_m=NaN&kind=workers", c.0, c.1),
            422,
        ),
        (
            format!("lat={}&lon={}&radius_m=100&kind=planes", c.0, c.1),
            400,
        ),
        (format!("lat={}&lon={}&radius_m=100", c.0, c.1), 400),
        (format!("lon={}&radius_m=100&kind=workers", c.1), 400),
        (
            format!("lat={}&lon={}&radius_m=100&kind=workers&limit=0", c.0, c.1),
            422,
        ),
        (
            format!(
                "lat={}&lon={}&radius_m=100&kind=workers&duty=asleep",
                c.0, c.1
            ),
            400,
        ),
        (
            format!("lat={}&lon={}&radius_m=100&kind=workers&zoom=3", c.0, c.1),
            400,
        ),
    ] {
        let got: (u16, Value) = server
            .get_as(&commander, &format!("/api/nearby?{query}"))
            .await;
        assert_eq!(got.0, status, "{query}: {}", got.1);
        assert!(
            got.1["type"]
                .as_str()
                .is_some_and(|t| t.starts_with("/problems/")),
            "{query}: {}",
            got.1
        );
    }
    drop(server);
    store.finish().await;
}
