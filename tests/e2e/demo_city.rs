//! The README's first command: `gridwatch demo` builds the dongjie reference street and serves it.

use std::collections::HashMap;

use crate::harness::{Flavor, Server, TestStore, check_city};

async fn dongjie(flavor: Flavor) {
    let Some(store) = TestStore::new(flavor).await else {
        return;
    };
    let server = Server::demo(&store);

    let (status, health) = server.get("/health").await;
    assert_eq!(status, 200);
    assert_eq!(health["status"], "ok");
    assert_eq!(
        health["store"],
        if flavor == Flavor::Sqlite {
            "sqlite"
        } else {
            "postgres"
        }
    );

    let (status, grids) = server.get("/api/grids?cells=true").await;
    assert_eq!(status, 200);
    let grids = grids["features"].as_array().unwrap();
    assert!(
        (88..=108).contains(&grids.len()),
        "{} grids, want 98 ± 10",
        grids.len()
    );

    let mut owner: HashMap<&str, i64> = HashMap::new();
    let mut flagged = 0;
    for grid in grids {
        let p = &grid["properties"];
        let households = p["households"].as_u64().unwrap();
        if !(100..=150).contains(&households) {
            assert_eq!(
                p["flag"]["reason"], "single_building_over_max",
                "grid {} has {households} households",
                p["id"]
            );
            assert_eq!(
                p["building_count"], 1,
                "a flagged grid holds its one building"
            );
            flagged += 1;
        }
        assert_eq!(p["code"].as_str().unwrap().len(), 15, "15-digit grid code");
        assert!(
            p["primary_worker_id"].is_i64(),
            "the demo gives every grid a worker"
        );
        for cell in p["cells"].as_array().unwrap() {
            let previous = owner.insert(cell.as_str().unwrap(), p["id"].as_i64().unwrap());
            assert!(previous.is_none(), "cell {cell} is in two grids");
        }
    }
    assert!(flagged <= 5, "{flagged} grids outside 100–150");

    let (_, communities) = server.get("/api/regions?level=community").await;
    assert_eq!(
        communities["features"].as_array().unwrap().len(),
        7,
        "the reference street has 7 communities"
    );

    // The contract is published, and requests are counted.
    let spec: serde_json::Value = server
        .http
        .get(server.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for path in [
        "/api/locate",
        "/api/grids",
        "/api/grids/{id}",
        "/api/buildings",
        "/api/workers",
        "/api/workers/{id}/duty",
        "/api/tokens",
        "/health",
        "/api/incidents",
        "/api/incidents/{id}",
        "/api/incidents/{id}/actions",
        "/api/categories",
        "/api/departments/{code}",
        "/api/incidents/{id}/photos",
        "/api/photos/{sha256}",
        "/api/reports/kpi",
        "/open311/v2/requests.json",
        "/ws",
        "/api/positions",
        "/osmand",
        "/api/workers/{id}/track",
        "/api/nearby",
        "/api/alerts",
    ] {
        assert!(spec["paths"].get(path).is_some(), "OpenAPI lists {path}");
    }
    let metrics = server
        .http
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("gridwatch_http_requests_total{"),
        "{metrics}"
    );
    assert!(metrics.contains("gridwatch_grids "), "{metrics}");

    // Community coverage, the grid outlines and 10,000 located points, against h3 and shapely.
    check_city(
        &server,
        &[
            "--points",
            "10000",
            "--expect-grids",
            "88",
            "108",
            "--strict-households",
        ],
    );
    drop(server);
    store.finish().await;
}

#[tokio::test]
async fn dongjie_demo_on_sqlite() {
    dongjie(Flavor::Sqlite).await;
}

#[tokio::test]
async fn dongjie_demo_on_postgis() {
    dongjie(Flavor::Postgres).await;
}
