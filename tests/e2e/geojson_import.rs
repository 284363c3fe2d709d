//! `gridwatch import geojson`: regions and buildings from a `FeatureCollection`; bad files change nothing.

use serde_json::{Value, json};

use crate::harness::{Flavor, Server, TestStore};

fn rect(lon: f64, lat: f64, w: f64, h: f64) -> Value {
    json!({"type": "Polygon", "coordinates": [[[lon, lat], [lon + w, lat], [lon + w, lat + h], [lon, lat + h], [lon, lat]]]})
}

pub(crate) fn city(building_geometry: impl Fn(usize) -> Value) -> Value {
    let area = rect(113.0, 36.0, 0.003, 0.003);
    let mut features = vec![
        json!({"type": "Feature", "geometry": area, "properties": {"kind": "district", "code": "140402", "name": "演示区"}}),
        json!({"type": "Feature", "geometry": area, "properties": {"kind": "street", "code": "140402003", "name": "演示街道", "parent_code": "140402"}}),
        json!({"type": "Feature", "geometry": area, "properties": {"kind": "community", "code": "140402003005", "name": "演示社区", "parent_code": "140402003"}}),
    ];
    for i in 0..12 {
        features.push(json!({"type": "Feature", "geometry": building_geometry(i), "properties": {"households": 10, "kind": "apartments"}}));
    }
    json!({"type": "FeatureCollection", "features": features})
}

pub(crate) fn building(i: usize) -> Value {
    #[allow(clippy::cast_precision_loss)]
    let (col, row) = ((i % 4) as f64, (i / 4) as f64);
    rect(
        113.0003 + col * 0.0006,
        36.0004 + row * 0.0008,
        0.0002,
        0.0002,
    )
}

#[tokio::test]
async fn a_geojson_city_imports_and_a_bad_one_changes_nothing() {
    let store = TestStore::new(Flavor::Sqlite).await.unwrap();
    let dir = tempfile::tempdir().unwrap();

    // A building whose footprint crosses itself: the whole file is refused, nothing is stored.
    let bad = dir.path().join("bad.geojson");
    let bowtie = json!({"type": "Polygon", "coordinates": [[[113.001, 36.001], [113.0012, 36.0012], [113.0012, 36.001], [113.001, 36.0012], [113.001, 36.001]]]});
    std::fs::write(
        &bad,
        city(|i| if i == 5 { bowtie.clone() } else { building(i) }).to_string(),
    )
    .unwrap();
    let out = store.cli(&["import", "geojson", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("feature 8"),
        "the error names the failing feature: {stderr}"
    );

    let good = dir.path().join("good.geojson");
    std::fs::write(&good, city(building).to_string()).unwrap();
    let out = store.cli(&["import", "geojson", good.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token =
        String::from_utf8(store.cli(&["token", "create", "--role", "admin"]).stdout).unwrap();
    let mut server = Server::start(&["serve"], &store);
    server.admin = Some(token.trim().to_owned());

    let (_, regions) = server.get("/api/regions").await;
    let mut codes: Vec<_> = regions["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["properties"]["code"].as_str().unwrap().to_owned())
        .collect();
    codes.sort();
    assert_eq!(codes, ["140402", "140402003", "140402003005"]);
    let (_, grids) = server.get("/api/grids").await;
    let grids = grids["features"].as_array().unwrap();
    assert_eq!(grids.len(), 1, "120 households make one grid");
    assert_eq!(grids[0]["properties"]["households"], 120);
    assert_eq!(grids[0]["properties"]["code"], "140402003005001");
    let (_, here) = server.get("/api/locate?lat=36.0005&lon=113.0004").await;
    assert_eq!(here["grid_id"], grids[0]["id"]);
    assert_eq!(here["outside"], false);
    drop(server);
    store.finish().await;
}
