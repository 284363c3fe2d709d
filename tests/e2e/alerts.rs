//! Area alerts (应急联动): a polygon or circle reaches exactly the on-duty workers inside it, on their
//! websocket whatever they subscribed to, and on `resume` if they were away; bad input changes nothing.

use reqwest::Method;
use serde_json::{Value, json};

use crate::cases::{grid_place, last_seq, token};
use crate::harness::{Flavor, Server, TestStore, assert_problem};
use crate::live::Ws;

/// A square of ±`d` degrees around a point, as a GeoJSON Polygon.
fn square(lat: f64, lon: f64, d: f64) -> Value {
    json!({"type": "Polygon", "coordinates": [[[lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d], [lon - d, lat + d], [lon - d, lat - d]]]})
}

fn alert_titled(title: &'static str) -> impl Fn(&Value) -> bool {
    move |m| m["type"] == "delta" && m["kind"] == "alert.raised" && m["data"]["title"] == title
}

#[tokio::test]
async fn alerts_reach_the_on_duty_workers_inside_the_area() {
    let Some(store) = TestStore::new(Flavor::Sqlite).await else {
        return;
    };
    let server = Server::demo(&store);
    let commander = token(&server, "commander", None).await;
    let a = grid_place(&server, 0, 0).await;
    // Three workers: two at A (one of them off duty), one about 5.5 km away.
    let (_, workers) = server.get("/api/workers").await;
    let ids: Vec<i64> = workers["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["properties"]["id"].as_i64().unwrap())
        .collect();
    let (inside, off_duty, outside) = (ids[0], ids[1], ids[2]);
    let far = (a.lat + 0.05, a.lon);
    let batch = json!([
        {"worker_id": inside, "lat": a.lat + 0.0005, "lon": a.lon},
        {"worker_id": off_duty, "lat": a.lat - 0.0005, "lon": a.lon},
        {"worker_id": outside, "lat": far.0, "lon": far.1},
    ]);
    assert_eq!(
        server
            .send_as(&commander, Method::POST, "/api/positions", &batch)
            .await
            .0,
        200
    );
    assert_eq!(
        server
            .send(
                Method::PUT,
                &format!("/api/workers/{off_duty}/duty"),
                &json!({"duty": "off_duty"})
            )
            .await
            .0,
        200
    );

    // Each listens to something unrelated: alerts come anyway.
    let mut phones = Vec::new();
    for id in [inside, off_duty, outside] {
        let mut ws = Ws::connect(&server, &token(&server, "worker", Some(id)).await).await;
        ws.subscribe(&json!({"layers": ["incidents"], "bbox": [0.0, 0.0, 0.1, 0.1]}))
            .await;
        phones.push(ws);
    }

    let (status, raised) = server
        .send_as(
            &commander,
            Method::POST,
            "/api/alerts",
            &json!({"title": "燃气泄漏 gas leak", "message": "evacuate building 3",
            "area": square(a.lat, a.lon, 0.002)}),
        )
        .await;
    assert_eq!(status, 201, "{raised}");
    assert_eq!(
        raised["workers"],
        json!([inside]),
        "on duty and inside only: {raised}"
    );
    let got = phones[0].until(alert_titled("燃气泄漏 gas leak")).await;
    assert_eq!(
        got.last().unwrap()["data"]["message"],
        "evacuate building 3"
    );
    let cursor = got.last().unwrap()["seq"].as_i64().unwrap();

    // A circle around the far worker: that worker's first alert is this one, so the first never reached it.
    let circle = json!({"circle": {"lat": far.0, "lon": far.1, "radius_m": 100.0}});
    let (status, raised) = server
        .send_as(
            &commander,
            Method::POST,
            "/api/alerts",
            &json!({"title": "积水 flooding", "area": circle}),
        )
        .await;
    assert_eq!((status, raised["workers"].clone()), (201, json!([outside])));
    let got = phones[2].until(|m| m["kind"] == "alert.raised").await;
    assert_eq!(got.last().unwrap()["data"]["title"], "积水 flooding");
    // The off-duty worker gets neither: its next message is the answer to a ping sent after both.
    phones[1].send(&json!({"type": "ping"})).await;
    let next = phones[1].next().await;
    assert_eq!(next["type"], "pong", "{next}");

    // Away and back: resume brings the alert raised meanwhile.
    drop(phones.remove(0));
    let (status, _) = server
        .send_as(
            &commander,
            Method::POST,
            "/api/alerts",
            &json!({"title": "封路 road closed", "area": square(a.lat, a.lon, 0.002)}),
        )
        .await;
    assert_eq!(status, 201);
    let mut back = Ws::connect(&server, &token(&server, "worker", Some(inside)).await).await;
    back.send(&json!({"type": "resume", "seq": cursor, "layers": ["incidents"]}))
        .await;
    let replay = back.until(|m| m["type"] == "replayed").await;
    let titles: Vec<&str> = replay
        .iter()
        .filter(|m| m["kind"] == "alert.raised")
        .map(|m| m["data"]["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["封路 road closed"]);

    // Bad input: a problem, nothing stored.
    let worker = token(&server, "worker", Some(inside)).await;
    let seq = last_seq(&server).await;
    let bowtie = json!({"type": "Polygon", "coordinates": [[[113.0, 36.0], [113.1, 36.1], [113.1, 36.0], [113.0, 36.1], [113.0, 36.0]]]});
    let unclosed = json!({"type": "Polygon", "coordinates": [[[113.0, 36.0], [113.1, 36.0], [113.1, 36.1], [113.0, 36.1]]]});
    let good_area = square(a.lat, a.lon, 0.002);
    let cases: Vec<(Value, u16, &str)> = vec![
        (json!({"title": "x"}), 422, "invalid-input"),
        (json!({"area": good_area}), 422, "invalid-input"),
        (
            json!({"title": "  ", "area": good_area}),
            422,
            "invalid-input",
        ),
        (json!({"title": 5, "area": good_area}), 422, "invalid-input"),
        (
            json!({"title": "x", "area": good_area, "severity": "high"}),
            422,
            "invalid-input",
        ),
        (
            json!({"title": "x", "area": bowtie}),
            422,
            "invalid-geometry",
        ),
        (
            json!({"title": "x", "area": unclosed}),
            422,
            "invalid-geometry",
        ),
        (
            json!({"title": "x", "area": {"type": "Point", "coordinates": [113.0, 36.0]}}),
            422,
            "invalid-geometry",
        ),
        (
            json!({"title": "x", "area": {"circle": {"lat": 36.0, "lon": 113.0, "radius_m": 0}}}),
            422,
            "invalid-input",
        ),
        (
            json!({"title": "x", "area": {"circle": {"lat": 36.0, "lon": 113.0, "radius_m": 1e9}}}),
            422,
            "invalid-input",
        ),
        (
            json!({"title": "x", "area": {"circle": {"lat": 36.0, "lon": 113.0}}}),
            422,
            "invalid-input",
        ),
        (
            json!({"title": "x", "area": {"circle": {"lat": 91.0, "lon": 113.0, "radius_m": 10}}}),
            400,
            "invalid-coordinate",
        ),
    ];
    for (body, status, slug) in cases {
        let got = server
            .send_as(&commander, Method::POST, "/api/alerts", &body)
            .await;
        assert_eq!(got.0, status, "{body}: {}", got.1);
        assert_problem(&got, status, slug);
    }
    assert_problem(
        &server
            .send_as(
                &worker,
                Method::POST,
                "/api/alerts",
                &json!({"title": "x", "area": good_area}),
            )
            .await,
        403,
        "forbidden",
    );
    let (status, body, _) = server
        .send_raw(Method::POST, "/api/alerts", b"{\"title\": ".to_vec())
        .await;
    assert_eq!(
        (status, body["type"].as_str()),
        (400, Some("/problems/malformed-json"))
    );
    assert_eq!(last_seq(&server).await, seq, "nothing stored");
    drop(server);
    store.finish().await;
}
