//! Positions through the real binary: requests shaped exactly as OsmAnd and Traccar Client send them, the
//! batch API and a worker's websocket, each stored and seen on a command centre's live map; implausible
//! jumps flagged; bad positions refused with a reason and nothing stored. A fix the store refuses is
//! answered 503 and never goes live: not on the map, not the worker's position for nearby or routing.

use chrono::{DateTime, TimeDelta, Utc};
use reqwest::Method;
use serde_json::{Value, json};

use crate::bad_input::IntoPair;
use crate::cases::{grid_place, token};
use crate::harness::{Flavor, Server, TestStore, assert_problem};
use crate::live::Ws;

#[tokio::test]
async fn positions_on_sqlite() {
    positions(Flavor::Sqlite).await;
}

#[tokio::test]
async fn positions_on_postgis() {
    positions(Flavor::Postgres).await;
}

#[tokio::test]
async fn a_fix_the_store_refuses_never_goes_live_on_sqlite() {
    refused_fix(Flavor::Sqlite).await;
}

#[tokio::test]
async fn a_fix_the_store_refuses_never_goes_live_on_postgis() {
    refused_fix(Flavor::Postgres).await;
}

/// Makes the database refuse every new fix (as a failing disk would), or stops that.
async fn refuse_fixes(store: &TestStore, flavor: Flavor, refuse: bool) {
    let statements: &[&str] = match (flavor, refuse) {
        (Flavor::Sqlite, true) => &["CREATE TRIGGER refuse_fixes BEFORE INSERT ON positions \
             BEGIN SELECT RAISE(ABORT, 'the disk is failing'); END"],
        (Flavor::Postgres, true) => &[
            "CREATE FUNCTION refuse_fixes() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN RAISE EXCEPTION 'the disk is failing'; END $$",
            "CREATE TRIGGER refuse_fixes BEFORE INSERT ON positions \
             FOR EACH ROW EXECUTE FUNCTION refuse_fixes()",
        ],
        (Flavor::Sqlite, false) => &["DROP TRIGGER refuse_fixes"],
        (Flavor::Postgres, false) => &["DROP TRIGGER refuse_fixes ON positions"],
    };
    for sql in statements {
        store.execute(sql).await.expect(sql);
    }
}

/// Whether `/api/nearby` finds worker `id` within 100 m of `(lat, lon)`: where the world has it.
pub async fn near(server: &Server, id: i64, lat: f64, lon: f64) -> bool {
    let query = format!("/api/nearby?lat={lat}&lon={lon}&radius_m=100&kind=workers&duty=any");
    let (status, nearby) = server.get(&query).await;
    assert_eq!(status, 200, "{nearby}");
    nearby["features"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["properties"]["id"] == id)
}

async fn refused_fix(flavor: Flavor) {
    let Some(store) = TestStore::new(flavor).await else {
        return;
    };
    let server = Server::demo(&store);
    let (a, other) = (
        grid_place(&server, 0, 0).await,
        grid_place(&server, 5, 0).await,
    );
    let commander = token(&server, "commander", None).await;
    let mut map = Ws::connect(&server, &commander).await;
    map.subscribe(&json!({"layers": ["workers"]})).await;
    let fix = |worker: i64, lat: f64, lon: f64, ago: i64| {
        json!({"positions": [{"worker_id": worker, "lat": lat, "lon": lon,
            "at": seconds_ago(ago).to_rfc3339()}]})
    };
    let (status, body) = server
        .send(
            Method::POST,
            "/api/positions",
            &fix(a.primary, a.lat, a.lon, 60),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    position_of(&mut map, a.primary).await;

    // About 220 m north, 30 s later: a plausible walk, refused by the store.
    refuse_fixes(&store, flavor, true).await;
    let away = fix(a.primary, a.lat + 0.002, a.lon, 30);
    let (status, body) = server.send(Method::POST, "/api/positions", &away).await;
    assert_eq!(status, 503, "{body}");
    let (at_a, at_b) = ((a.lat, a.lon), (a.lat + 0.002, a.lon));
    assert!(
        near(&server, a.primary, at_a.0, at_a.1).await,
        "the worker is no longer where its last stored fix put it"
    );
    assert!(
        !near(&server, a.primary, at_b.0, at_b.1).await,
        "the refused fix made the worker nearby"
    );
    assert_eq!(track(&server, a.primary).await.len(), 1);

    // The map saw nothing of it: the next position it shows is a later, stored one of another worker.
    refuse_fixes(&store, flavor, false).await;
    let (status, body) = server
        .send(
            Method::POST,
            "/api/positions",
            &fix(other.primary, other.lat, other.lon, 1),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let seen = map
        .until(|m| m["type"] == "position" && m["worker"] == other.primary)
        .await;
    assert!(
        !seen.iter().any(|m| m["worker"] == a.primary),
        "the refused fix went live: {seen:?}"
    );

    // The same batch sent again is stored and goes live, judged as the first time.
    let (status, body) = server.send(Method::POST, "/api/positions", &away).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["flagged"], json!([]), "{body}");
    assert_eq!(
        position_of(&mut map, a.primary).await["lat"].as_f64(),
        Some(a.lat + 0.002)
    );
    assert!(
        near(&server, a.primary, at_b.0, at_b.1).await,
        "the stored fix did not make the worker nearby"
    );
    assert_eq!(track(&server, a.primary).await.len(), 2);
    store.finish().await;
}

/// The worker's stored fixes, oldest first.
async fn track(server: &Server, worker: i64) -> Vec<Value> {
    let (status, body) = server.get(&format!("/api/workers/{worker}/track")).await;
    assert_eq!(status, 200, "{body}");
    body["features"].as_array().unwrap().clone()
}

/// The next `position` message of `worker` on `ws`, skipping others.
async fn position_of(ws: &mut Ws, worker: i64) -> Value {
    ws.until(|m| m["type"] == "position" && m["worker"] == worker)
        .await
        .pop()
        .unwrap()
}

fn seconds_ago(s: i64) -> DateTime<Utc> {
    Utc::now() - TimeDelta::seconds(s)
}

async fn positions(flavor: Flavor) {
    let Some(store) = TestStore::new(flavor).await else {
        return;
    };
    let server = Server::demo(&store);
    let a = grid_place(&server, 0, 0).await;
    // The tracker is bound by a command centre; its device id is in that answer only.
    let (status, worker) = server
        .send(
            Method::PATCH,
            &format!("/api/workers/{}", a.primary),
            &json!({"device": true}),
        )
        .await;
    assert_eq!(status, 200, "{worker}");
    let device = worker["properties"]["device_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let worker_token = token(&server, "worker", Some(a.primary)).await;
    let commander = token(&server, "commander", None).await;
    let mut map = Ws::connect(&server, &commander).await;
    map.subscribe(&json!({"layers": ["workers"]})).await;
    let http = reqwest::Client::new();

    // --- OsmAnd: a GET with the position in the query, timestamp in epoch seconds, speed in knots.
    let t1 = seconds_ago(60);
    let url = server.url(&format!(
        "/osmand?id={device}&timestamp={}&lat={}&lon={}&speed=1.9438&bearing=45.0&altitude=912.0&accuracy=6.0&batt=87.0",
        t1.timestamp(),
        a.lat,
        a.lon
    ));
    let response = http.get(&url).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let seen = position_of(&mut map, a.primary).await;
    assert_eq!(
        (seen["lat"].as_f64(), seen["lon"].as_f64()),
        (Some(a.lat), Some(a.lon))
    );
    assert!(
        (seen["speed_mps"].as_f64().unwrap() - 1.0).abs() < 1e-3,
        "1.9438 knots is 1 m/s: {seen}"
    );

    // --- Traccar Client (older): a POST with the fields in the query and an empty body, ISO time.
    let (lat2, lon2) = (a.lat + 0.0005, a.lon);
    let t2 = seconds_ago(50);
    let url = server.url(&format!(
        "/osmand?id={device}&lat={lat2}&lon={lon2}&timestamp={}&speed=0&bearing=0&altitude=0&accuracy=10&batt=86&charge=false",
        t2.format("%Y-%m-%d %H:%M:%S")
    ));
    let response = http.post(&url).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        position_of(&mut map, a.primary).await["lat"].as_f64(),
        Some(lat2)
    );

    // --- OsmAnd as a form POST, timestamp in milliseconds, `location=lat,lon`.
    let (lat3, lon3) = (a.lat + 0.001, a.lon + 0.001);
    let t3 = seconds_ago(40);
    let form = format!(
        "id={device}&location={lat3}%2C{lon3}&timestamp={}&hdop=0.8",
        t3.timestamp_millis()
    );
    let response = http
        .post(server.url("/osmand"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        position_of(&mut map, a.primary).await["lon"].as_f64(),
        Some(lon3)
    );

    // --- Traccar Client 9: JSON.
    let (lat4, lon4) = (a.lat + 0.0012, a.lon + 0.0011);
    let t4 = seconds_ago(30);
    let body = json!({"device_id": device, "location": {"timestamp": t4.to_rfc3339(), "coords": {"latitude": lat4,
        "longitude": lon4, "accuracy": 4.5, "speed": 1.2, "heading": 270.0, "altitude": 905.0}, "is_moving": true,
        "odometer": 120.5, "event": "motionchange", "battery": {"level": 0.85, "is_charging": false}}});
    let response = http
        .post(server.url("/osmand"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let seen = position_of(&mut map, a.primary).await;
    assert_eq!(
        (seen["lat"].as_f64(), seen["heading_deg"].as_f64()),
        (Some(lat4), Some(270.0))
    );

    // --- The batch API, as the worker's phone uploading its buffer after a dead zone.
    let batch = json!([
        {"lat": lat4 + 0.0001, "lon": lon4, "at": seconds_ago(25).to_rfc3339(), "accuracy_m": 5.0},
        {"lat": lat4 + 0.0002, "lon": lon4, "at": seconds_ago(20).to_rfc3339(), "battery_pct": 80.0, "attributes": {"network": "2g"}},
    ]);
    let (status, reported) = server
        .send_as(&worker_token, Method::POST, "/api/positions", &batch)
        .await;
    assert_eq!(status, 200, "{reported}");
    assert_eq!(reported, json!({"accepted": 2, "flagged": []}));
    assert_eq!(
        position_of(&mut map, a.primary).await["lat"].as_f64(),
        Some(lat4 + 0.0002),
        "the latest wins"
    );

    // --- The worker's own websocket.
    let mut phone = Ws::connect(&server, &worker_token).await;
    phone.send(&json!({"type": "position", "lat": lat4 + 0.0003, "lon": lon4, "accuracy_m": 8.0, "ref": 41})).await;
    let ack = phone
        .until(|m| m["type"] == "position_ack")
        .await
        .pop()
        .unwrap();
    assert_eq!(ack, json!({"type": "position_ack", "ref": 41, "flags": []}));
    assert_eq!(
        position_of(&mut map, a.primary).await["lat"].as_f64(),
        Some(lat4 + 0.0003)
    );

    // --- A jump of ~11 km in seconds is kept, flagged, and does not become the worker's position.
    let jump =
        json!({"positions": [{"lat": a.lat + 0.1, "lon": a.lon, "at": Utc::now().to_rfc3339()}]});
    let (status, reported) = server
        .send_as(&worker_token, Method::POST, "/api/positions", &jump)
        .await;
    assert_eq!(status, 200, "{reported}");
    assert_eq!(
        reported["flagged"],
        json!([{"index": 0, "flags": ["implausible_jump"]}])
    );
    let seen = position_of(&mut map, a.primary).await;
    assert_eq!(
        seen["flags"],
        json!(["implausible_jump"]),
        "the map sees the flag: {seen}"
    );

    // Everything acknowledged is in the stored track, in time order, with what each client sent.
    let stored = track(&server, a.primary).await;
    assert_eq!(stored.len(), 8, "{stored:?}");
    let p = |i: usize| stored[i]["properties"].clone();
    assert_eq!(stored[0]["geometry"]["coordinates"], json!([a.lon, a.lat]));
    assert_eq!(p(0)["battery_pct"], 87.0);
    assert_eq!(p(0)["altitude_m"], 912.0);
    assert_eq!(
        DateTime::parse_from_rfc3339(p(0)["at"].as_str().unwrap())
            .unwrap()
            .timestamp(),
        t1.timestamp()
    );
    assert_eq!(p(1)["attributes"]["charge"], "false", "extra keys are kept");
    assert_eq!(p(2)["attributes"]["hdop"], "0.8");
    assert_eq!(p(3)["moving"], true);
    assert_eq!(p(3)["battery_pct"], 85.0);
    assert_eq!(p(3)["attributes"]["event"], "motionchange");
    assert_eq!(p(5)["attributes"]["network"], "2g");
    assert_eq!(p(7)["flags"], json!(["implausible_jump"]));

    // --- Refusals: a problem with a reason, nothing stored.
    let refused = |status: u16| {
        move |got: (u16, Value)| {
            assert_eq!(got.0, status, "{}", got.1);
            assert!(
                got.1["detail"].as_str().is_some_and(|d| !d.is_empty()),
                "{}",
                got.1
            );
        }
    };
    let osmand = |query: String| {
        let http = http.clone();
        let url = server.url(&format!("/osmand?{query}"));
        async move {
            let response = http.get(url).send().await.unwrap();
            let status = response.status().as_u16();
            (
                status,
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let (lat, lon) = (a.lat, a.lon);
    // An unknown device id is answered as a known one (devices.rs holds that to every header).
    assert_eq!(
        osmand(format!("id=no-such-device&lat={lat}&lon={lon}"))
            .await
            .0,
        200
    );
    refused(400)(osmand(format!("lat={lat}&lon={lon}")).await);
    refused(400)(osmand(format!("id={device}&lat=NaN&lon={lon}")).await);
    refused(400)(osmand(format!("id={device}&lat=north&lon={lon}")).await);
    refused(400)(
        osmand(format!(
            "id={device}&lat={lat}&lon={lon}&timestamp=yesterday"
        ))
        .await,
    );
    refused(422)(osmand(format!("id={device}&lat=91&lon={lon}")).await);
    refused(422)(osmand(format!("id={device}&lat={lat}&lon=181")).await);
    refused(422)(
        osmand(format!(
            "id={device}&lat={lat}&lon={lon}&timestamp={}",
            (Utc::now() + TimeDelta::hours(2)).timestamp()
        ))
        .await,
    );
    let post_json = |body: String| {
        let http = http.clone();
        let url = server.url("/osmand");
        async move {
            let response = http
                .post(url)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            (
                status,
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    refused(400)(post_json("{\"device_id\": ".into()).await);
    refused(400)(post_json(json!({"device_id": device, "location": {"coords": {"latitude": "36", "longitude": lon}}}).to_string()).await);
    refused(422)(post_json(json!({"device_id": device, "location": {"coords": {"latitude": 95.0, "longitude": lon}}}).to_string()).await);
    let xml = http
        .post(server.url("/osmand"))
        .header("content-type", "text/xml")
        .body("<x/>")
        .send()
        .await
        .unwrap();
    assert_eq!(xml.status().as_u16(), 415);

    let s = &server;
    let batch = |body: Value| {
        let token = worker_token.clone();
        async move {
            s.send_as(&token, Method::POST, "/api/positions", &body)
                .await
        }
    };
    assert_problem(
        &server
            .send_raw(Method::POST, "/api/positions", b"[{\"lat\": 1".to_vec())
            .await
            .into_pair(),
        400,
        "malformed-json",
    );
    assert_problem(
        &server
            .send_raw(
                Method::POST,
                "/api/positions",
                format!("[{{\"lat\": NaN, \"lon\": {lon}}}]").into_bytes(),
            )
            .await
            .into_pair(),
        400,
        "malformed-json",
    );
    assert_problem(
        &batch(json!([{"lat": "36.2", "lon": lon}])).await,
        422,
        "invalid-input",
    );
    assert_problem(
        &batch(json!([{"lat": lat, "lon": lon, "colour": "red"}])).await,
        422,
        "invalid-input",
    );
    assert_problem(&batch(json!([])).await, 422, "invalid-input");
    let one_bad = batch(json!([{"lat": lat, "lon": lon}, {"lat": lat, "lon": 200.0}])).await;
    assert_problem(&one_bad, 422, "invalid-position");
    assert_eq!(one_bad.1["errors"][0]["index"], 1, "{}", one_bad.1);
    assert_problem(&batch(json!([{"lat": lat, "lon": lon, "at": (Utc::now() + TimeDelta::hours(1)).to_rfc3339()}])).await, 422, "invalid-position");
    assert_problem(
        &batch(json!([{"lat": lat, "lon": lon, "accuracy_m": -3.0}])).await,
        422,
        "invalid-position",
    );
    assert_problem(
        &batch(json!([{"worker_id": 999_999, "lat": lat, "lon": lon}])).await,
        422,
        "invalid-input",
    );
    assert_problem(
        &batch(json!([{"device_id": "nobody", "lat": lat, "lon": lon}])).await,
        422,
        "invalid-input",
    );
    let other = grid_place(&server, 1, 0).await;
    assert_problem(
        &batch(json!([{"worker_id": other.primary, "lat": lat, "lon": lon}])).await,
        403,
        "forbidden",
    );
    let many: Vec<Value> = (0..10_001)
        .map(|_| json!({"lat": lat, "lon": lon}))
        .collect();
    assert_problem(&batch(json!(many)).await, 422, "invalid-input");
    let huge = format!(
        "[{}{{\"lat\":1,\"lon\":1}}]",
        "{\"lat\":36.123456789,\"lon\":113.123456789},".repeat(110_000)
    )
    .into_bytes();
    assert!(huge.len() > 4 * 1024 * 1024);
    let (status, body, _) = server.send_raw(Method::POST, "/api/positions", huge).await;
    assert_eq!(
        (status, body["type"].as_str()),
        (413, Some("/problems/body-too-large"))
    );
    phone
        .send(&json!({"type": "position", "lat": 91.0, "lon": lon}))
        .await;
    let error = phone.until(|m| m["type"] == "error").await.pop().unwrap();
    assert_eq!(error["status"], 422, "{error}");
    phone
        .send(&json!({"type": "position", "lat": "x", "lon": lon}))
        .await;
    assert_eq!(
        phone.until(|m| m["type"] == "error").await.pop().unwrap()["status"],
        400
    );
    assert_eq!(
        track(&server, a.primary).await.len(),
        8,
        "nothing refused was stored"
    );

    drop(server);
    store.finish().await;
}
