//! Bad input on every incident endpoint (cases, actions, the list query, categories, departments,
//! positions, KPI reports): a clear 4xx problem+json, and nothing stored.

use reqwest::Method;
use serde_json::{Value, json};

use crate::cases::{grid_place, report, token};
use crate::harness::{Flavor, Server, TestStore, assert_problem};

/// What "nothing changed" compares: the event sequence, the case count, one case, the categories, the
/// departments and a worker (with its last position).
async fn fingerprint(server: &Server, id: i64, worker: i64) -> Vec<Value> {
    vec![
        server.get("/health").await.1["last_seq"].clone(),
        server.get("/api/incidents?limit=1").await.1["total"].clone(),
        server.get(&format!("/api/incidents/{id}")).await.1,
        server.get("/api/categories").await.1,
        server.get("/api/departments").await.1,
        server.get(&format!("/api/workers/{worker}")).await.1,
    ]
}

/// Sends raw bytes as `application/json` and returns `(status, body)`.
async fn raw(server: &Server, method: Method, path: &str, body: &str) -> (u16, Value) {
    let (status, body, _) = server
        .send_raw(method, path, body.as_bytes().to_vec())
        .await;
    (status, body)
}

#[tokio::test]
async fn bad_incident_input_is_refused_and_changes_nothing_on_sqlite() {
    refused_and_unchanged(Flavor::Sqlite).await;
}

#[tokio::test]
async fn bad_incident_input_is_refused_and_changes_nothing_on_postgis() {
    refused_and_unchanged(Flavor::Postgres).await;
}

#[allow(clippy::similar_names)]
async fn refused_and_unchanged(flavor: Flavor) {
    let Some(store) = TestStore::new(flavor).await else {
        return;
    };
    let server = Server::demo(&store);
    let here = grid_place(&server, 0, 0).await;
    let worker = token(&server, "worker", Some(here.primary)).await;
    let planner = token(&server, "planner", None).await;
    let id = report(
        &server,
        server.token(),
        here.lat,
        here.lon,
        "city_appearance",
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let before = fingerprint(&server, id, here.primary).await;
    let good = json!({"lat": here.lat, "lon": here.lon, "category": "city_appearance", "priority": "high",
        "description": "井盖缺失 missing manhole cover", "source": "patrol"});
    let with = |key: &str, value: Value| {
        let mut body = good.clone();
        body[key] = value;
        body
    };
    let at = |lat: f64, lon: f64| {
        with("lat", json!(lat))
            .as_object()
            .unwrap()
            .clone()
            .into_iter()
            .chain([("lon".to_owned(), json!(lon))])
            .collect::<serde_json::Map<_, _>>()
    };
    let s = &server;

    // --- POST /api/incidents
    let post = |body: Value| async move { s.send(Method::POST, "/api/incidents", &body).await };
    assert_problem(
        &raw(
            &server,
            Method::POST,
            "/api/incidents",
            r#"{"lat": 36.2, "lon": "#,
        )
        .await,
        400,
        "malformed-json",
    );
    assert_problem(
        &raw(
            &server,
            Method::POST,
            "/api/incidents",
            r#"{"lat": NaN, "lon": 113.1, "category": "city_appearance"}"#,
        )
        .await,
        400,
        "malformed-json",
    );
    assert_problem(
        &raw(
            &server,
            Method::POST,
            "/api/incidents",
            r#"{"lat": 1e999, "lon": 113.1, "category": "city_appearance"}"#,
        )
        .await,
        400,
        "malformed-json",
    );
    assert_problem(&post(json!([good.clone()])).await, 422, "invalid-input");
    assert_problem(
        &post(with("lat", json!("36.2"))).await,
        422,
        "invalid-input",
    );
    assert_problem(
        &post(with("category", json!(5))).await,
        422,
        "invalid-input",
    );
    assert_problem(
        &post(with("priority", json!("whenever"))).await,
        422,
        "invalid-input",
    );
    assert_problem(
        &post(with("source", json!("carrier pigeon"))).await,
        422,
        "invalid-input",
    );
    assert_problem(
        &post(with("resident_name", json!("张三"))).await,
        422,
        "invalid-input",
    );
    assert_problem(
        &post(with("category", json!("no_such_category"))).await,
        422,
        "invalid-input",
    );
    assert_problem(
        &post(with("description", json!("长".repeat(5001)))).await,
        422,
        "invalid-input",
    );
    for (lat, lon) in [
        (91.0, here.lon),
        (-90.5, here.lon),
        (here.lat, 180.5),
        (here.lat, -181.0),
    ] {
        let got = post(Value::Object(at(lat, lon))).await;
        assert!(got.0 == 400 || got.0 == 422, "({lat}, {lon}): {got:?}");
        assert_eq!(
            got.1["type"], "/problems/invalid-coordinate",
            "({lat}, {lon}): {}",
            got.1
        );
    }
    let far = post(Value::Object(at(0.0, 0.0))).await;
    assert_eq!(far.0, 422, "a point far outside every grid: {}", far.1);
    let mut missing = good.clone();
    missing.as_object_mut().unwrap().remove("lat");
    assert_problem(&post(missing).await, 422, "invalid-input");
    let polygon = json!({"type": "Feature", "properties": {"category": "city_appearance"},
        "geometry": {"type": "Polygon", "coordinates": [[[113.0, 36.0], [113.1, 36.0], [113.1, 36.1], [113.0, 36.0]]]}});
    assert_problem(&post(polygon).await, 422, "invalid-geometry");
    assert_problem(
        &post(json!({"type": "Feature", "properties": {"category": "city_appearance"}})).await,
        422,
        "invalid-input",
    );
    let big = format!(
        r#"{{"lat": 36.2, "lon": 113.1, "category": "city_appearance", "description": "{}"}}"#,
        "x".repeat(1_100_000)
    );
    let (status, body, content_type) = server
        .send_raw(Method::POST, "/api/incidents", big.into_bytes())
        .await;
    assert_eq!(
        (status, body["type"].as_str(), content_type.as_str()),
        (
            413,
            Some("/problems/body-too-large"),
            "application/problem+json"
        )
    );
    let untyped = server
        .http
        .post(server.url("/api/incidents"))
        .bearer_auth(server.token())
        .body(good.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(untyped.status().as_u16(), 415);
    assert_problem(
        &server
            .send_as(&planner, Method::POST, "/api/incidents", &good)
            .await,
        403,
        "forbidden",
    );
    assert_problem(
        &server
            .send_as("not-a-token", Method::POST, "/api/incidents", &good)
            .await,
        401,
        "unauthorized",
    );

    // --- POST /api/incidents/{id}/actions
    let actions = format!("/api/incidents/{id}/actions");
    let act = |body: Value| {
        let path = actions.clone();
        async move { s.send(Method::POST, &path, &body).await }
    };
    assert_problem(
        &raw(&server, Method::POST, &actions, r#"{"action": "accept""#).await,
        400,
        "malformed-json",
    );
    assert_problem(&act(json!("accept")).await, 422, "invalid-input");
    assert_problem(
        &act(json!({"action": "teleport"})).await,
        422,
        "invalid-input",
    );
    assert_problem(&act(json!({"action": 7})).await, 422, "invalid-input");
    assert_problem(&act(json!({})).await, 422, "invalid-input");
    assert_problem(&act(json!({"action": "defer"})).await, 422, "invalid-input");
    assert_problem(
        &act(json!({"action": "defer", "reason": "   "})).await,
        422,
        "invalid-input",
    );
    assert_problem(
        &act(json!({"action": "reassign", "to": "abc"})).await,
        422,
        "invalid-input",
    );
    assert_problem(
        &act(json!({"action": "reassign", "to": 999_999})).await,
        422,
        "invalid-input",
    );
    assert_problem(
        &act(json!({"action": "extend", "until": "next tuesday", "reason": "parts on order"}))
            .await,
        422,
        "invalid-input",
    );
    assert_problem(&act(json!({"action": "extend", "until": "2001-01-01T00:00:00Z", "reason": "parts on order"})).await, 422, "invalid-input");
    assert_problem(
        &act(json!({"action": "verify", "passed": "yes"})).await,
        422,
        "invalid-input",
    );
    assert_problem(
        &act(json!({"action": "merge", "into": 999_999})).await,
        422,
        "invalid-input",
    );
    let illegal = act(json!({"action": "verify", "passed": true})).await;
    assert_problem(&illegal, 409, "illegal-transition");
    assert_eq!(illegal.1["current_state"], "dispatched");
    assert!(
        illegal.1["allowed_actions"]
            .as_array()
            .unwrap()
            .contains(&json!("accept")),
        "{}",
        illegal.1
    );
    assert_problem(
        &server
            .send(
                Method::POST,
                "/api/incidents/999999/actions",
                &json!({"action": "accept"}),
            )
            .await,
        404,
        "not-found",
    );
    assert_problem(
        &server
            .send(
                Method::POST,
                "/api/incidents/abc/actions",
                &json!({"action": "accept"}),
            )
            .await,
        400,
        "invalid-path",
    );
    assert_problem(
        &server
            .send_as(
                &planner,
                Method::POST,
                &actions,
                &json!({"action": "accept"}),
            )
            .await,
        403,
        "forbidden",
    );

    // --- GET /api/incidents and /api/incidents/{id}
    for (query, status) in [
        ("bbox=1,2,3", 400),
        ("bbox=113.2,36.0,113.1,36.1", 400),
        ("bbox=a,b,c,d", 400),
        ("bbox=-200,0,0,1", 400),
        ("limit=0", 422),
        ("limit=1001", 422),
        ("limit=-1", 400),
        ("offset=x", 400),
        ("status=lost", 422),
        ("overdue=maybe", 400),
        ("grid=abc", 400),
        ("grid=999999", 404),
        ("community=999999", 404),
        ("category=no_such_category", 422),
        ("assignee=x", 400),
    ] {
        let got = server.get(&format!("/api/incidents?{query}")).await;
        assert_eq!(got.0, status, "{query}: {}", got.1);
        assert!(
            got.1["type"].as_str().unwrap().starts_with("/problems/"),
            "{query}: {}",
            got.1
        );
    }
    assert_problem(&server.get("/api/incidents/999999").await, 404, "not-found");
    assert_problem(&server.get("/api/incidents/1.5").await, 400, "invalid-path");

    // --- PUT /api/categories/{code} and /api/departments/{code}
    let (_, categories) = server.get("/api/categories").await;
    let mut category = categories[0].clone();
    let code = category["code"].as_str().unwrap().to_owned();
    category.as_object_mut().unwrap().remove("code");
    let put_category =
        |path: String, body: Value| async move { s.send(Method::PUT, &path, &body).await };
    let path = format!("/api/categories/{code}");
    let mut broken = category.clone();
    broken["limits"]["high_h"] = json!(-4);
    assert_problem(
        &put_category(path.clone(), broken).await,
        422,
        "invalid-input",
    );
    let mut broken = category.clone();
    broken["limits"]["urgent_h"] = json!(0);
    assert_problem(
        &put_category(path.clone(), broken).await,
        422,
        "invalid-input",
    );
    let mut broken = category.clone();
    broken["limits"]["low_h"] = json!(1_000_000);
    assert_problem(
        &put_category(path.clone(), broken).await,
        422,
        "invalid-input",
    );
    let mut broken = category.clone();
    broken["limits"]["low_h"] = json!("a day");
    assert_problem(
        &put_category(path.clone(), broken).await,
        422,
        "invalid-input",
    );
    let mut broken = category.clone();
    broken["class"] = json!("astrology");
    assert_problem(
        &put_category(path.clone(), broken).await,
        422,
        "invalid-input",
    );
    let mut broken = category.clone();
    broken["department"] = json!("no_such_department");
    assert_problem(
        &put_category(path.clone(), broken).await,
        422,
        "invalid-input",
    );
    let mut broken = category.clone();
    broken["name"] = json!("  ");
    assert_problem(
        &put_category(path.clone(), broken).await,
        422,
        "invalid-input",
    );
    assert_problem(
        &put_category("/api/categories/Bad%20Code".into(), category.clone()).await,
        422,
        "invalid-input",
    );
    assert_problem(
        &raw(
            &server,
            Method::PUT,
            &path,
            r#"{"name": "x", "limits": {"low_h": NaN}}"#,
        )
        .await,
        400,
        "malformed-json",
    );
    assert_problem(
        &server.send_as(&worker, Method::PUT, &path, &category).await,
        403,
        "forbidden",
    );
    let department = |body: Value| async move {
        s.send(Method::PUT, "/api/departments/road_crew", &body)
            .await
    };
    assert_problem(
        &department(json!({"name": "路政", "members": [999_999]})).await,
        422,
        "invalid-input",
    );
    assert_problem(
        &department(json!({"name": "路政", "members": [here.primary, here.primary]})).await,
        422,
        "invalid-input",
    );
    assert_problem(
        &department(json!({"name": "路政", "members": "everyone"})).await,
        422,
        "invalid-input",
    );
    assert_problem(
        &department(json!({"name": "", "members": []})).await,
        422,
        "invalid-input",
    );
    assert_problem(
        &department(json!({"name": "路政", "boss": 1})).await,
        422,
        "invalid-input",
    );
    assert_problem(
        &server
            .send(
                Method::PUT,
                "/api/departments/ROAD",
                &json!({"name": "路政"}),
            )
            .await,
        422,
        "invalid-input",
    );
    assert_problem(
        &server
            .send_as(
                &worker,
                Method::PUT,
                "/api/departments/road_crew",
                &json!({"name": "路政"}),
            )
            .await,
        403,
        "forbidden",
    );

    // --- PUT /api/workers/{id}/position
    let position = format!("/api/workers/{}/position", here.primary);
    for body in [
        json!({"lat": 91.0, "lon": here.lon}),
        json!({"lat": here.lat, "lon": 181.0}),
    ] {
        let got = server.send(Method::PUT, &position, &body).await;
        assert_eq!(
            got.1["type"], "/problems/invalid-coordinate",
            "{body}: {}",
            got.1
        );
        assert!(got.0 == 400 || got.0 == 422, "{body}: {got:?}");
    }
    assert_problem(
        &raw(
            &server,
            Method::PUT,
            &position,
            r#"{"lat": NaN, "lon": 113.1}"#,
        )
        .await,
        400,
        "malformed-json",
    );
    assert_problem(
        &server
            .send(
                Method::PUT,
                &position,
                &json!({"lat": "36", "lon": here.lon}),
            )
            .await,
        422,
        "invalid-input",
    );
    assert_problem(
        &server
            .send(Method::PUT, &position, &json!({"lat": here.lat}))
            .await,
        422,
        "invalid-input",
    );
    assert_problem(
        &server
            .send(
                Method::PUT,
                "/api/workers/999999/position",
                &json!({"lat": here.lat, "lon": here.lon}),
            )
            .await,
        404,
        "not-found",
    );
    assert_problem(
        &server
            .send_as(
                &planner,
                Method::PUT,
                &position,
                &json!({"lat": here.lat, "lon": here.lon}),
            )
            .await,
        403,
        "forbidden",
    );

    // --- GET /api/reports/kpi
    for query in [
        "level=galaxy&period=2026-11",
        "period=2026-11",
        "level=grid&period=2026-13",
        "level=grid&period=November",
        "level=grid&from=2026-11-30&to=2026-11-01",
        "level=grid&period=2026-11&from=2026-11-01",
        "level=grid&from=yesterday&to=2026-11-01",
    ] {
        let got = server.get(&format!("/api/reports/kpi?{query}")).await;
        assert!(got.0 == 400 || got.0 == 422, "{query}: {got:?}");
        assert!(
            got.1["type"].as_str().unwrap().starts_with("/problems/"),
            "{query}: {}",
            got.1
        );
    }

    assert_eq!(
        fingerprint(&server, id, here.primary).await,
        before,
        "bad input changed something"
    );
    drop(server);
    store.finish().await;
}
