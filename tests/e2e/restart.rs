//! A restart — even after SIGKILL — keeps every grid, building and worker that was acknowledged.

use reqwest::Method;
use serde_json::json;

use crate::harness::{Flavor, Server, TestStore, assert_same};

async fn survives_a_crash(flavor: Flavor) {
    let Some(store) = TestStore::new(flavor).await else {
        return;
    };
    let mut server = Server::demo(&store);
    let token = server.token().to_owned();
    let (_, grids) = server.get("/api/grids").await;
    let grid = grids["features"][0]["properties"]["id"].as_i64().unwrap();

    let (status, worker) = server
        .send(
            Method::POST,
            "/api/workers",
            &json!({"name": "李巡", "kind": "patroller", "duty": "on_duty", "phone": "13800000000",
            "device": true, "grids": [{"grid_id": grid, "responsibility": "backup"}]}),
        )
        .await;
    assert_eq!(status, 201, "{worker}");
    let id = worker["id"].as_i64().unwrap();
    let device = worker["properties"]["device_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _) = server
        .send(
            Method::PATCH,
            &format!("/api/workers/{id}"),
            &json!({"phone": null, "name": "李巡逻"}),
        )
        .await;
    assert_eq!(status, 200);
    let (_, grids_before) = server.get("/api/grids?cells=true").await;
    assert_eq!(
        grids_before["features"][0]["properties"]["backup_worker_ids"],
        json!([id])
    );
    let (_, buildings_before) = server.get("/api/buildings?limit=100000").await;
    let (_, workers_before) = server.get("/api/workers").await;
    let (_, health_before) = server.get("/health").await;

    server.kill();
    let mut server = Server::start(&["serve"], &store);
    server.admin = Some(token);

    let (_, grids_after) = server.get("/api/grids?cells=true").await;
    assert_same(
        &grids_after,
        &grids_before,
        "grids, cells and workers' grid duties",
    );
    let (_, buildings_after) = server.get("/api/buildings?limit=100000").await;
    assert_same(&buildings_after, &buildings_before, "buildings");
    let (_, workers_after) = server.get("/api/workers").await;
    assert_same(&workers_after, &workers_before, "workers");
    let (_, w) = server.get(&format!("/api/workers/{id}")).await;
    assert_eq!(w["properties"]["name"], "李巡逻");
    assert_eq!(w["properties"]["phone"], serde_json::Value::Null);
    assert_eq!(w["properties"]["device"], true, "a tracker is bound");
    assert_eq!(
        w["properties"].get("device_id"),
        None,
        "its id was shown once"
    );
    // The tracker still authenticates: only its hash was stored, and it survived.
    let (lat, lon) = (36.19, 113.11);
    let moved = server
        .http
        .get(server.url(&format!("/osmand?id={device}&lat={lat}&lon={lon}")))
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status().as_u16(), 200);
    let (_, track) = server.get(&format!("/api/workers/{id}/track")).await;
    assert_eq!(track["features"].as_array().unwrap().len(), 1, "{track}");
    let (_, health_after) = server.get("/health").await;
    assert_eq!(
        health_after["last_seq"], health_before["last_seq"],
        "the event log survives"
    );
    drop(server);
    store.finish().await;
}

#[tokio::test]
async fn a_crash_loses_nothing_on_sqlite() {
    survives_a_crash(Flavor::Sqlite).await;
}

#[tokio::test]
async fn a_crash_loses_nothing_on_postgis() {
    survives_a_crash(Flavor::Postgres).await;
}
