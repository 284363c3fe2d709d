//! Routing (派遣) through the real binary: the category's department, then the grid's primary, then a
//! backup, then the nearest on-duty worker of the community, then the community's queue (属地兜底).

use geo::{Distance, Haversine, Point};
use reqwest::Method;
use serde_json::json;

use crate::cases::{grid_place, report};
use crate::harness::{Flavor, Server, TestStore, assert_problem};

#[tokio::test]
async fn routing_chain_on_sqlite() {
    routing_chain(Flavor::Sqlite).await;
}

#[tokio::test]
async fn routing_chain_on_postgis() {
    routing_chain(Flavor::Postgres).await;
}

async fn set_duty(server: &Server, worker: i64, duty: &str) {
    let (status, body) = server
        .send(
            Method::PUT,
            &format!("/api/workers/{worker}/duty"),
            &json!({"duty": duty}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

async fn set_position(server: &Server, worker: i64, lat: f64, lon: f64) {
    let (status, body) = server
        .send(
            Method::PUT,
            &format!("/api/workers/{worker}/position"),
            &json!({"lat": lat, "lon": lon}),
        )
        .await;
    assert_eq!(status, 204, "{body}");
}

async fn routing_chain(flavor: Flavor) {
    let Some(store) = TestStore::new(flavor).await else {
        return;
    };
    let server = Server::demo(&store);
    let admin = server.token().to_owned();

    // Two grids of one community.
    let (_, grids) = server.get("/api/grids").await;
    let grids = grids["features"].as_array().unwrap();
    let community = grids[0]["properties"]["community_id"].clone();
    let neighbour = grids
        .iter()
        .position(|g| g["properties"]["community_id"] == community && g != &grids[0])
        .unwrap();
    let here = grid_place(&server, 0, 0).await;
    let there = grid_place(&server, neighbour, 0).await;

    // 1. The grid's primary worker, on duty.
    let c = report(&server, &admin, here.lat, here.lon, "city_appearance").await;
    assert_eq!(
        (c["assignee"].as_i64(), c["route"]["kind"].as_str()),
        (Some(here.primary), Some("grid_primary"))
    );

    // 2. Primary off duty → the first on-duty backup.
    let (status, backup) = server
        .send(
            Method::POST,
            "/api/workers",
            &json!({"name": "王备", "kind": "grid_worker", "duty": "on_duty",
            "grids": [{"grid_id": here.grid, "responsibility": "backup"}]}),
        )
        .await;
    assert_eq!(status, 201, "{backup}");
    let backup = backup["properties"]["id"].as_i64().unwrap();
    set_duty(&server, here.primary, "off_duty").await;
    let c = report(&server, &admin, here.lat, here.lon, "city_appearance").await;
    assert_eq!(
        (c["assignee"].as_i64(), c["route"]["kind"].as_str()),
        (Some(backup), Some("grid_backup"))
    );

    // 3. Backup off duty too → the nearest on-duty worker of the community with a known position.
    set_duty(&server, backup, "off_duty").await;
    let (near_lat, near_lon) = (here.lat + 0.003, here.lon); // about 334 m north
    set_position(&server, there.primary, near_lat, near_lon).await;
    let c = report(&server, &admin, here.lat, here.lon, "city_appearance").await;
    assert_eq!(
        (c["assignee"].as_i64(), c["route"]["kind"].as_str()),
        (Some(there.primary), Some("nearest_on_duty"))
    );
    let expected_m = Haversine.distance(
        Point::new(here.lon, here.lat),
        Point::new(near_lon, near_lat),
    );
    let got_m = c["route"]["distance_m"].as_f64().unwrap();
    assert!(
        (got_m - expected_m).abs() < 0.5,
        "distance {got_m} m, geo's haversine says {expected_m} m"
    );

    // 4. The only positioned worker moves beyond the radius (default 1 km) → the community's queue.
    set_position(&server, there.primary, here.lat + 0.02, here.lon).await; // about 2.2 km
    let c = report(&server, &admin, here.lat, here.lon, "city_appearance").await;
    assert_eq!(c["assignee"], serde_json::Value::Null);
    assert_eq!(c["status"], "registered");
    assert_eq!(c["route"]["kind"], "community_queue");
    assert_eq!(
        c["route"]["why"],
        "the nearest on-duty worker is beyond the radius"
    );
    assert_eq!(
        c["level"], "community",
        "the community's command centre owns a queued case"
    );
    assert_eq!(c["grid_id"], here.grid, "the grid stays answerable");

    // 5. A category owned by a department goes to the department first.
    let (status, staff) = server
        .send(
            Method::POST,
            "/api/workers",
            &json!({"name": "城管 李", "kind": "department_staff", "duty": "on_duty"}),
        )
        .await;
    assert_eq!(status, 201);
    let staff = staff["properties"]["id"].as_i64().unwrap();
    let (status, body) = server
        .send(
            Method::PUT,
            "/api/departments/urban_management",
            &json!({"name": "城管局 Urban management", "members": [staff]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, categories) = server.get("/api/categories").await;
    let mut advertising = categories
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "advertising")
        .unwrap()
        .clone();
    advertising["department"] = json!("urban_management");
    let body = json!({"name": advertising["name"], "class": advertising["class"], "department": "urban_management",
        "limits": advertising["limits"], "kind": advertising["kind"]});
    let (status, saved) = server
        .send(Method::PUT, "/api/categories/advertising", &body)
        .await;
    assert_eq!(status, 200, "{saved}");
    let c = report(&server, &admin, here.lat, here.lon, "advertising").await;
    assert_eq!(
        (c["assignee"].as_i64(), c["route"]["kind"].as_str()),
        (Some(staff), Some("category_department"))
    );

    // Bad category and department edits are refused and change nothing.
    let mut bad = body.clone();
    bad["department"] = json!("no_such_department");
    assert_problem(
        &server
            .send(Method::PUT, "/api/categories/advertising", &bad)
            .await,
        422,
        "invalid-input",
    );
    let mut bad = body.clone();
    bad["limits"]["urgent_h"] = json!(-1);
    assert_problem(
        &server
            .send(Method::PUT, "/api/categories/advertising", &bad)
            .await,
        422,
        "invalid-input",
    );
    assert_problem(
        &server
            .send(Method::PUT, "/api/categories/Bad%20Code", &body)
            .await,
        422,
        "invalid-input",
    );
    assert_problem(
        &server
            .send(
                Method::PUT,
                "/api/departments/x",
                &json!({"name": "x", "members": [999_999]}),
            )
            .await,
        422,
        "invalid-input",
    );
    let (_, after) = server.get("/api/categories").await;
    assert_eq!(
        after
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["code"] == "advertising")
            .unwrap()["department"],
        "urban_management"
    );
    store.finish().await;
}
