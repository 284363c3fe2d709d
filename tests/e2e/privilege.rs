//! Least privilege, each finding of issue 18's probe as it was reproduced on `main`: a scoped admin
//! minting an unscoped one; reporter and device tokens reading the city through tiles, coverage and
//! cameras; a device token writing anywhere; scoped commanders and planners acting outside their scope;
//! and an open websocket keeping a worker's old grids. Both stores.

use reqwest::Method;
use serde_json::{Value, json};

use crate::cases::{GridPlace, grid_place, report, token};
use crate::harness::{Flavor, Server, TestStore, assert_problem};
use crate::live::Ws;
use crate::tiles::tile_at;

#[tokio::test]
async fn least_privilege_on_sqlite() {
    least_privilege(Flavor::Sqlite).await;
}

#[tokio::test]
async fn least_privilege_on_postgis() {
    least_privilege(Flavor::Postgres).await;
}

#[tokio::test]
async fn an_open_websocket_follows_its_workers_grids_on_sqlite() {
    websocket_rescoped(Flavor::Sqlite).await;
}

#[tokio::test]
async fn an_open_websocket_follows_its_workers_grids_on_postgis() {
    websocket_rescoped(Flavor::Postgres).await;
}

/// Mints a token as `minter`.
async fn mint(server: &Server, minter: &str, body: Value) -> (u16, Value) {
    server
        .send_as(minter, Method::POST, "/api/tokens", &body)
        .await
}

async fn minted(server: &Server, minter: &str, body: Value) -> String {
    let (status, answer) = mint(server, minter, body).await;
    assert_eq!(status, 201, "{answer}");
    answer["token"].as_str().unwrap().to_owned()
}

/// Grid A (the demo's first) and a grid B of another community, with their parents.
pub(crate) struct Places {
    pub a: GridPlace,
    pub b: GridPlace,
    /// The street above A's community.
    pub street_a: i64,
}

pub(crate) async fn places(server: &Server) -> Places {
    let a = grid_place(server, 0, 0).await;
    let (_, grids) = server.get("/api/grids").await;
    let other = grids["features"]
        .as_array()
        .unwrap()
        .iter()
        .position(|g| g["properties"]["community_id"] != a.community)
        .expect("the demo has two communities");
    let b = grid_place(server, other, 0).await;
    let (_, community) = server.get(&format!("/api/regions/{}", a.community)).await;
    let street_a = community["properties"]["parent_id"].as_i64().unwrap();
    Places { a, b, street_a }
}

/// A new worker (as the demo admin) with the given backup grids; returns its id.
pub(crate) async fn worker_on(server: &Server, name: &str, grids: &[i64]) -> i64 {
    let duties: Vec<Value> = grids
        .iter()
        .map(|g| json!({"grid_id": g, "responsibility": "backup"}))
        .collect();
    let (status, worker) = server
        .send(
            Method::POST,
            "/api/workers",
            &json!({"name": name, "kind": "grid_worker", "duty": "on_duty", "grids": duties}),
        )
        .await;
    assert_eq!(status, 201, "{worker}");
    worker["id"].as_i64().unwrap()
}

/// A community polygon: a small square around a point (degrees).
pub(crate) fn square(lat: f64, lon: f64) -> Value {
    let d = 0.001;
    json!({"type": "Polygon", "coordinates": [[[lon - d, lat - d], [lon + d, lat - d],
        [lon + d, lat + d], [lon - d, lat + d], [lon - d, lat - d]]]})
}

async fn least_privilege(flavor: Flavor) {
    let Some(store) = TestStore::new(flavor).await else {
        return;
    };
    let server = Server::demo(&store);
    let admin = server.token().to_owned();
    let Places { a, b, street_a } = places(&server).await;

    // --- Privilege escalation: a scoped admin mints nothing wider than itself.
    let scoped_admin = minted(
        &server,
        &admin,
        json!({"role": "admin", "scopes": [format!("region:{}", a.community)]}),
    )
    .await;
    assert_problem(
        &mint(&server, &scoped_admin, json!({"role": "admin"})).await,
        403,
        "forbidden",
    );
    assert_problem(
        &mint(
            &server,
            &scoped_admin,
            json!({"role": "commander", "scopes": [format!("region:{}", b.community)]}),
        )
        .await,
        403,
        "forbidden",
    );
    assert_problem(
        &mint(
            &server,
            &scoped_admin,
            json!({"role": "worker", "worker_id": b.primary}),
        )
        .await,
        403,
        "forbidden",
    );
    // Inside its scope it may.
    let (status, inside) = mint(
        &server,
        &scoped_admin,
        json!({"role": "commander", "scopes": [format!("grid:{}", a.grid)]}),
    )
    .await;
    assert_eq!(status, 201, "{inside}");
    // And the tokens it lists are those within its reach: not the unscoped demo admin.
    let (status, listed) = server.get_as(&scoped_admin, "/api/tokens").await;
    assert_eq!(status, 200, "{listed}");
    let listed_ids: Vec<i64> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .collect();
    assert!(
        listed_ids.contains(&inside["id"].as_i64().unwrap()),
        "{listed}"
    );
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["scopes"] != json!([]) || t["worker_id"].is_i64()),
        "a scoped admin lists no unscoped token but those acting for one of its workers: {listed}"
    );

    // --- A reporter sees what Open311 shows and nothing else.
    let reporter = token(&server, "reporter", None).await;
    let own_case = report(&server, &reporter, a.lat, a.lon, "city_appearance").await;
    let own_id = own_case["id"].as_i64().unwrap();
    let (status, _) = server
        .get_as(&reporter, &format!("/api/incidents/{own_id}"))
        .await;
    assert_eq!(status, 200, "a reporter follows its own report");
    let t = tile_at(a.lon, a.lat, 15);
    for path in [
        format!("/tiles/workers/{}/{}/{}.mvt", t.0, t.1, t.2),
        format!("/tiles/incidents/{}/{}/{}.mvt", t.0, t.1, t.2),
        format!("/tiles/cameras/{}/{}/{}.mvt", t.0, t.1, t.2),
        format!("/api/grids/{}/coverage?cells=true", a.grid),
        format!("/api/incidents/{own_id}/cameras"),
        "/api/grids".to_owned(),
        "/api/workers".to_owned(),
        "/api/cameras".to_owned(),
    ] {
        let got = server.get_as(&reporter, &path).await;
        assert_problem(&got, 403, "forbidden");
    }
    assert_problem(
        &server.get_as(&reporter, "/tiles/catalog").await,
        403,
        "forbidden",
    );

    // --- A device token bound to a worker reports that worker's positions and does nothing else.
    let device = minted(
        &server,
        &admin,
        json!({"role": "device", "worker_id": a.primary}),
    )
    .await;
    let (status, stored) = server
        .send_as(
            &device,
            Method::POST,
            "/api/positions",
            &json!([{"lat": a.lat, "lon": a.lon}]),
        )
        .await;
    assert_eq!(status, 200, "{stored}");
    assert_problem(
        &server
            .send_as(
                &device,
                Method::POST,
                "/api/positions",
                &json!([{"worker_id": b.primary, "lat": b.lat, "lon": b.lon}]),
            )
            .await,
        403,
        "forbidden",
    );
    let b_case = report(&server, &admin, b.lat, b.lon, "city_appearance").await;
    let b_id = b_case["id"].as_i64().unwrap();
    for path in [
        "/api/grids",
        "/api/incidents",
        "/api/cameras",
        "/api/workers",
    ] {
        assert_problem(&server.get_as(&device, path).await, 403, "forbidden");
    }
    let photo = server
        .http
        .post(server.url(&format!("/api/incidents/{b_id}/photos")))
        .bearer_auth(&device)
        .header("content-type", "image/jpeg")
        .body(vec![0xFF, 0xD8, 0xFF, 0xD9])
        .send()
        .await
        .unwrap();
    assert_eq!(photo.status(), 403, "a device adds no photo to a case");

    // --- A commander scoped to community A acts only inside it.
    let commander = minted(
        &server,
        &admin,
        json!({"role": "commander", "scopes": [format!("region:{}", a.community)]}),
    )
    .await;
    let colleague = worker_on(&server, "同格 same grid", &[a.grid]).await;
    let both = worker_on(&server, "两社区 two communities", &[a.grid, b.grid]).await;
    let case = report(&server, &admin, a.lat, a.lon, "city_appearance").await;
    let case_id = case["id"].as_i64().unwrap();
    let reassign = |to: i64| json!({"action": "reassign", "to": to});
    assert_problem(
        &server
            .send_as(
                &commander,
                Method::POST,
                &format!("/api/incidents/{case_id}/actions"),
                &reassign(b.primary),
            )
            .await,
        403,
        "forbidden",
    );
    let (status, moved) = server
        .send_as(
            &commander,
            Method::POST,
            &format!("/api/incidents/{case_id}/actions"),
            &reassign(colleague),
        )
        .await;
    assert_eq!(status, 200, "reassigning inside the scope: {moved}");
    for (method, path, body) in [
        (
            Method::PATCH,
            format!("/api/workers/{both}"),
            json!({"name": "renamed"}),
        ),
        (
            Method::PUT,
            format!("/api/workers/{both}/duty"),
            json!({"duty": "off_duty"}),
        ),
        (
            Method::PUT,
            format!("/api/workers/{both}/grids"),
            json!([{"grid_id": a.grid, "responsibility": "backup"}]),
        ),
    ] {
        let got = server.send_as(&commander, method, &path, &body).await;
        assert_problem(&got, 403, "forbidden");
    }
    let (status, renamed) = server
        .send_as(
            &commander,
            Method::PATCH,
            &format!("/api/workers/{colleague}"),
            &json!({"name": "改名 renamed"}),
        )
        .await;
    assert_eq!(status, 200, "a worker wholly inside the scope: {renamed}");
    let camera = |lat: f64, lon: f64| {
        json!({"name": "cam", "lat": lat, "lon": lon, "heading_deg": 0.0, "fov_deg": 90.0,
            "range_m": 50.0, "kind": "fixed"})
    };
    assert_problem(
        &server
            .send_as(
                &commander,
                Method::POST,
                "/api/cameras",
                &camera(b.lat, b.lon),
            )
            .await,
        403,
        "forbidden",
    );
    let (status, mine) = server
        .send_as(
            &commander,
            Method::POST,
            "/api/cameras",
            &camera(a.lat, a.lon),
        )
        .await;
    assert_eq!(status, 201, "{mine}");
    let mine = mine["id"].as_i64().unwrap();
    let (status, theirs) = server
        .send(Method::POST, "/api/cameras", &camera(b.lat, b.lon))
        .await;
    assert_eq!(status, 201, "{theirs}");
    let theirs = theirs["id"].as_i64().unwrap();
    for (method, path, body) in [
        (
            Method::PATCH,
            format!("/api/cameras/{theirs}"),
            json!({"name": "x"}),
        ),
        (Method::DELETE, format!("/api/cameras/{theirs}"), json!({})),
        (
            Method::PATCH,
            format!("/api/cameras/{mine}"),
            json!({"lat": b.lat, "lon": b.lon}),
        ),
    ] {
        let got = server.send_as(&commander, method, &path, &body).await;
        assert_problem(&got, 403, "forbidden");
    }
    assert_problem(
        &server
            .get_as(&commander, &format!("/api/cameras/{theirs}"))
            .await,
        403,
        "forbidden",
    );
    let (_, listed) = server.get_as(&commander, "/api/cameras").await;
    let ids: Vec<i64> = listed["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_i64().unwrap())
        .collect();
    assert!(ids.contains(&mine) && !ids.contains(&theirs), "{ids:?}");

    // --- A planner scoped to community A creates no region outside it.
    let planner = minted(
        &server,
        &admin,
        json!({"role": "planner", "scopes": [format!("region:{}", a.community)]}),
    )
    .await;
    let (_, street) = server.get(&format!("/api/regions/{street_a}")).await;
    let street_code = street["properties"]["code"].as_str().unwrap().to_owned();
    let community = json!({"type": "Feature", "geometry": square(a.lat, a.lon),
        "properties": {"level": "community", "code": format!("{street_code}999"), "name": "新社区",
            "parent_id": street_a}});
    assert_problem(
        &server
            .send_as(&planner, Method::POST, "/api/regions", &community)
            .await,
        403,
        "forbidden",
    );
    let district = json!({"type": "Feature", "geometry": square(a.lat, a.lon),
        "properties": {"level": "district", "code": "999999", "name": "新区"}});
    assert_problem(
        &server
            .send_as(&planner, Method::POST, "/api/regions", &district)
            .await,
        403,
        "forbidden",
    );
    // Nothing was created.
    let (_, regions) = server.get("/api/regions").await;
    assert!(
        regions["features"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["properties"]["code"] != "999999"),
        "{regions}"
    );
    store.finish().await;
}

/// A worker moved off grid A while its websocket is open stops receiving A's cases at once: the socket
/// gets a fresh snapshot of its new scope, and only B's new case after it.
async fn websocket_rescoped(flavor: Flavor) {
    let Some(store) = TestStore::new(flavor).await else {
        return;
    };
    let server = Server::demo(&store);
    let admin = server.token().to_owned();
    let Places { a, b, .. } = places(&server).await;
    let worker = worker_on(&server, "移格 moving", &[a.grid]).await;
    let phone = token(&server, "worker", Some(worker)).await;
    let mut ws = Ws::connect(&server, &phone).await;
    ws.subscribe(&json!({})).await;

    let before = report(&server, &admin, a.lat, a.lon, "city_appearance").await;
    let before_id = before["id"].as_i64().unwrap();
    ws.until(|m| m["type"] == "delta" && m["kind"] == "incident.created" && m["id"] == before_id)
        .await;

    let (status, moved) = server
        .send(
            Method::PUT,
            &format!("/api/workers/{worker}/grids"),
            &json!([{"grid_id": b.grid, "responsibility": "backup"}]),
        )
        .await;
    assert_eq!(status, 200, "{moved}");
    let in_a = report(&server, &admin, a.lat, a.lon, "city_appearance").await["id"]
        .as_i64()
        .unwrap();
    let in_b = report(&server, &admin, b.lat, b.lon, "city_appearance").await["id"]
        .as_i64()
        .unwrap();
    let messages = ws
        .until(|m| m["type"] == "delta" && m["kind"] == "incident.created" && m["id"] == in_b)
        .await;
    let snapshot = messages
        .iter()
        .position(|m| m["type"] == "snapshot")
        .expect("a new snapshot when the scope changed");
    assert!(
        messages[snapshot]["incidents"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["grid"] != a.grid),
        "the new snapshot holds none of grid A's cases: {}",
        messages[snapshot]
    );
    for m in &messages {
        assert!(
            !(m["type"] == "delta" && m["layer"] == "incidents" && m["id"] == in_a),
            "grid A's new case reached a worker moved off it: {m}"
        );
    }
    // And REST agrees.
    assert_problem(
        &server
            .get_as(&phone, &format!("/api/incidents/{in_a}"))
            .await,
        403,
        "forbidden",
    );
    store.finish().await;
}
