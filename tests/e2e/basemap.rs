//! The base map of the demo city through the real binary, on both stores: `GET /api/basemap` returns
//! the synthetic generator's roads and areas (the reference: `gridwatch-geodata` run in the test, not
//! the server's copy), and the `basemap` tiles over the city hold `road`, `water` and `landuse`
//! features whose decoded geometry matches those sources within tile precision after clipping, as the
//! Python reference decoder judges it (`tests/reference/check_basemap.py`: `mapbox_vector_tile` +
//! shapely). Under `CI=true` a missing Python fails the test.

use std::process::Command;

use serde_json::Value;

use crate::harness::{Flavor, Server, TestStore, ci, reference_python, workspace_root};
use crate::tiles::{Tile, tile_at, tile_bytes};

/// `[min_lon, min_lat, max_lon, max_lat]` of every coordinate under `v`, degrees.
fn extend_bbox(v: &Value, b: &mut [f64; 4]) {
    match v.as_array() {
        Some(a) if a.len() >= 2 && a[0].is_number() => {
            let (x, y) = (a[0].as_f64().unwrap(), a[1].as_f64().unwrap());
            *b = [b[0].min(x), b[1].min(y), b[2].max(x), b[3].max(y)];
        }
        Some(a) => a.iter().for_each(|c| extend_bbox(c, b)),
        None => {}
    }
}

/// A GeoJSON geometry's coordinates as `[lon, lat]` pairs per part (lines) or per ring (polygons).
fn parts(geometry: &Value) -> Vec<Vec<[f64; 2]>> {
    fn walk(v: &Value, out: &mut Vec<Vec<[f64; 2]>>) {
        let Some(a) = v.as_array() else { return };
        if a.first()
            .and_then(Value::as_array)
            .is_some_and(|c| c.first().is_some_and(Value::is_number))
        {
            out.push(
                a.iter()
                    .map(|c| [c[0].as_f64().unwrap(), c[1].as_f64().unwrap()])
                    .collect(),
            );
        } else {
            for c in a {
                walk(c, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(&geometry["coordinates"], &mut out);
    out
}

fn coords(line: &geo::LineString<f64>) -> Vec<[f64; 2]> {
    line.0.iter().map(|c| [c.x, c.y]).collect()
}

async fn basemap(flavor: Flavor) {
    let Some(store) = TestStore::new(flavor).await else {
        return;
    };
    let server = Server::demo(&store);
    let dataset = gridwatch_geodata::synthetic_city(gridwatch_geodata::Preset::Dongjie, 1);

    // The JSON view holds exactly the generator's roads and areas, in order, coordinates exact.
    let (status, all) = server.get("/api/basemap?bbox=-180,-85,180,85").await;
    assert_eq!(status, 200, "{all}");
    assert_eq!(all["truncated"], false);
    let features = all["features"].as_array().unwrap();
    let (lines, areas): (Vec<&Value>, Vec<&Value>) = features
        .iter()
        .partition(|f| f["properties"]["layer"] == "line");
    assert_eq!(lines.len(), dataset.roads.len(), "roads");
    assert_eq!(areas.len(), dataset.areas.len(), "areas");
    for (got, road) in lines.iter().zip(&dataset.roads) {
        assert_eq!(got["properties"]["kind"], road.kind.as_str());
        assert_eq!(got["properties"]["name"].as_str(), road.name.as_deref());
        assert_eq!(
            parts(&got["geometry"]),
            vec![coords(&road.geometry)],
            "road {:?}",
            road.name
        );
    }
    for (got, area) in areas.iter().zip(&dataset.areas) {
        assert_eq!(got["properties"]["kind"], area.kind.as_str());
        let want: Vec<Vec<[f64; 2]>> = area
            .geometry
            .iter()
            .flat_map(|p| {
                std::iter::once(coords(p.exterior())).chain(p.interiors().iter().map(coords))
            })
            .collect();
        assert_eq!(parts(&got["geometry"]), want, "area {:?}", area.name);
    }
    let (status, none) = server.get("/api/basemap?bbox=0,0,0.001,0.001").await;
    assert_eq!(status, 200);
    assert!(
        none["features"].as_array().unwrap().is_empty(),
        "nothing in the Gulf of Guinea: {none}"
    );
    let (status, _) = server.get("/api/basemap?bbox=1,2,3").await;
    assert_eq!(status, 400, "a malformed bbox is refused");

    // The tiles: 4 × 4 at zoom 15 and 3 × 3 at zoom 16 around the city's centre.
    let mut city = [f64::MAX, f64::MAX, f64::MIN, f64::MIN];
    for f in features {
        extend_bbox(&f["geometry"]["coordinates"], &mut city);
    }
    let (lon, lat) = (
        f64::midpoint(city[0], city[2]),
        f64::midpoint(city[1], city[3]),
    );
    let mut tiles: Vec<Tile> = Vec::new();
    for (z, n) in [(15u8, 4u32), (16, 3)] {
        let (_, x, y) = tile_at(lon, lat, z);
        for dx in 0..n {
            for dy in 0..n {
                tiles.push((z, x + dx - n / 2, y + dy - n / 2));
            }
        }
    }
    let Some(python) = reference_python() else {
        return;
    };
    let has_mvt = Command::new(&python)
        .args(["-c", "import mapbox_vector_tile"])
        .status()
        .is_ok_and(|s| s.success());
    if !has_mvt {
        assert!(
            !ci(),
            "CI=true but {python} cannot import mapbox_vector_tile"
        );
        eprintln!("SKIPPED: the base-map tile check needs python with mapbox_vector_tile");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for &t in &tiles {
        let (_, bytes) = tile_bytes(&server, "basemap", t).await;
        std::fs::write(
            dir.path()
                .join(format!("basemap-{}-{}-{}.mvt", t.0, t.1, t.2)),
            bytes,
        )
        .unwrap();
    }
    std::fs::write(dir.path().join("basemap.json"), all.to_string()).unwrap();
    let output = Command::new(python)
        .arg(workspace_root().join("tests/reference/check_basemap.py"))
        .arg(dir.path())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    if !output.status.success() {
        let kept = std::env::temp_dir().join("gridwatch-basemap-failed");
        let _ = std::fs::remove_dir_all(&kept);
        std::fs::rename(dir.path(), &kept)
            .unwrap_or_else(|_| eprintln!("could not keep {}", dir.path().display()));
        panic!("check_basemap.py (inputs in {}):\n{text}", kept.display());
    }
    eprintln!("{text}");
    drop(server);
    store.finish().await;
}

#[tokio::test]
async fn basemap_of_the_demo_on_sqlite() {
    basemap(Flavor::Sqlite).await;
}

#[tokio::test]
async fn basemap_of_the_demo_on_postgis() {
    basemap(Flavor::Postgres).await;
}
