//! `gridwatch import osm` on the real Helsinki extract, then `serve`.

use crate::harness::{Flavor, Server, TestStore, check_city, workspace_root};

async fn helsinki(flavor: Flavor) {
    let Some(store) = TestStore::new(flavor).await else {
        return;
    };
    let pbf = workspace_root().join("geodata/data/helsinki.osm.pbf");
    let out = store.cli(&["import", "osm", pbf.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "import failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let token = store.cli(&["token", "create", "--role", "admin", "--label", "e2e"]);
    assert!(
        token.status.success(),
        "{}",
        String::from_utf8_lossy(&token.stderr)
    );
    let token = String::from_utf8(token.stdout).unwrap();
    let token = token.trim();
    assert!(
        token.starts_with("gw_") && !token.contains('\n'),
        "token alone on stdout: {token:?}"
    );

    let mut server = Server::start(&["serve"], &store);
    server.admin = Some(token.to_owned());

    let (status, buildings) = server.get("/api/buildings?limit=100000").await;
    assert_eq!(status, 200);
    let buildings = buildings["features"].as_array().unwrap();
    assert_eq!(buildings.len(), 446, "the extract's building polygons");
    let households: u64 = buildings
        .iter()
        .map(|b| b["properties"]["households"].as_u64().unwrap())
        .sum();
    assert!(
        households > 1_000,
        "central Helsinki has thousands of households, got {households}"
    );
    assert!(
        buildings
            .iter()
            .all(|b| b["properties"]["grid_id"].is_i64()),
        "every building is in a grid"
    );

    let (_, grids) = server.get("/api/grids").await;
    let grids = grids["features"].as_array().unwrap();
    let grid_households: u64 = grids
        .iter()
        .map(|g| g["properties"]["households"].as_u64().unwrap())
        .sum();
    assert_eq!(
        grid_households, households,
        "every household belongs to exactly one grid"
    );
    let (_, communities) = server.get("/api/regions?level=community").await;
    assert!(!communities["features"].as_array().unwrap().is_empty());

    // A building's own centroid cell locates to that building's grid.
    let b = &buildings[0]["properties"];
    let ring = buildings[0]["geometry"]["coordinates"][0][0]
        .as_array()
        .unwrap();
    let (lon, lat) = (ring[0][0].as_f64().unwrap(), ring[0][1].as_f64().unwrap());
    let (status, here) = server
        .get(&format!("/api/locate?lat={lat}&lon={lon}"))
        .await;
    assert_eq!(status, 200);
    assert!(
        here["grid_id"].is_i64() && here["outside"] == false,
        "{here} for building {b}"
    );

    check_city(&server, &["--points", "10000"]);
    drop(server);
    store.finish().await;
}

#[tokio::test]
async fn helsinki_import_on_sqlite() {
    helsinki(Flavor::Sqlite).await;
}

#[tokio::test]
async fn helsinki_import_on_postgis() {
    helsinki(Flavor::Postgres).await;
}
