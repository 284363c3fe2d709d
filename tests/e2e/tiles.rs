//! `/tiles` through the real binary: catalog and TileJSON shape, tiles decoded by the Python reference
//! decoder (`mapbox_vector_tile` + shapely, `tests/reference/check_tiles.py`) against the JSON API,
//! `ETag` / 304, gzip, bad input, scope, and exact invalidation: after a write only the tiles it touches
//! change, and a websocket client is told exactly those tiles. Tile math here is written out from the
//! slippy-map formulas, independently of `gridwatch-tiles`.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::process::Command;

use reqwest::Method;
use serde_json::{Value, json};

use crate::cases::{grid_place, report, token};
use crate::harness::{
    Flavor, Server, TestStore, assert_problem, ci, reference_python, workspace_root,
};
use crate::live::Ws;

pub(crate) type Tile = (u8, u32, u32);

/// Fractional tile coordinates of a point at zoom z (web mercator).
pub(crate) fn world(lon: f64, lat: f64, z: u8) -> (f64, f64) {
    let n = f64::from(1u32 << z);
    let s = lat.to_radians().sin();
    (
        (lon + 180.0) / 360.0 * n,
        (0.5 - ((1.0 + s) / (1.0 - s)).ln() / (4.0 * std::f64::consts::PI)) * n,
    )
}

#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
pub(crate) fn tile_at(lon: f64, lat: f64, z: u8) -> Tile {
    let (x, y) = world(lon, lat, z);
    (z, x.floor() as u32, y.floor() as u32)
}

/// Tiles at zoom z whose area plus the 64/4096 buffer (and one unit of rounding) meets the box.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn touched_box(min_lon: f64, min_lat: f64, max_lon: f64, max_lat: f64, z: u8) -> BTreeSet<Tile> {
    let m = 65.0 / 4096.0;
    let (x0, y0) = world(min_lon, max_lat, z);
    let (x1, y1) = world(max_lon, min_lat, z);
    let mut out = BTreeSet::new();
    for x in (x0 - 1.0 - m).ceil() as u32..=(x1 + m).floor() as u32 {
        for y in (y0 - 1.0 - m).ceil() as u32..=(y1 + m).floor() as u32 {
            out.insert((z, x, y));
        }
    }
    out
}

fn touched_point(lon: f64, lat: f64, zooms: std::ops::RangeInclusive<u8>) -> BTreeSet<Tile> {
    zooms
        .flat_map(|z| touched_box(lon, lat, lon, lat, z))
        .collect()
}

/// The 3 × 3 tiles around a point at zooms 14–16.
fn around(lon: f64, lat: f64) -> Vec<Tile> {
    let mut out = Vec::new();
    for z in 14..=16 {
        let (_, x, y) = tile_at(lon, lat, z);
        for dx in 0..3 {
            for dy in 0..3 {
                out.push((z, x + dx - 1, y + dy - 1));
            }
        }
    }
    out
}

async fn fetch(server: &Server, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = server
        .http
        .get(server.url(path))
        .bearer_auth(server.token());
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    request.send().await.unwrap()
}

pub(crate) async fn tile_bytes(server: &Server, layer: &str, t: Tile) -> (String, Vec<u8>) {
    let response = fetch(
        server,
        &format!("/tiles/{layer}/{}/{}/{}.mvt", t.0, t.1, t.2),
        &[],
    )
    .await;
    assert_eq!(response.status(), 200, "{layer} {t:?}");
    assert_eq!(
        response.headers()["content-type"],
        "application/vnd.mapbox-vector-tile"
    );
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    (etag, response.bytes().await.unwrap().to_vec())
}

async fn etags(server: &Server, layer: &str, tiles: &[Tile]) -> BTreeMap<Tile, String> {
    let mut out = BTreeMap::new();
    for &t in tiles {
        out.insert(t, tile_bytes(server, layer, t).await.0);
    }
    out
}

fn changed(before: &BTreeMap<Tile, String>, after: &BTreeMap<Tile, String>) -> BTreeSet<Tile> {
    before
        .iter()
        .filter(|(t, e)| after[*t] != **e)
        .map(|(t, _)| *t)
        .collect()
}

/// Reads `tiles_invalidated` messages of `layer` until they cover `expected`; returns their union.
async fn invalidated(ws: &mut Ws, layer: &str, expected: &BTreeSet<Tile>) -> BTreeSet<Tile> {
    let mut got = BTreeSet::new();
    while !expected.is_subset(&got) {
        let m = ws.next().await;
        if m["type"] != "tiles_invalidated" || m["layer"] != layer {
            continue;
        }
        assert_eq!(m["ranges"], json!([]), "a small change lists tiles: {m}");
        for t in m["tiles"].as_array().unwrap() {
            let t = t.as_array().unwrap();
            got.insert((
                u8::try_from(t[0].as_u64().unwrap()).unwrap(),
                u32::try_from(t[1].as_u64().unwrap()).unwrap(),
                u32::try_from(t[2].as_u64().unwrap()).unwrap(),
            ));
        }
    }
    got
}

fn bbox_of(geometry: &Value) -> [f64; 4] {
    fn walk(v: &Value, b: &mut [f64; 4]) {
        match v.as_array() {
            Some(a) if a.len() == 2 && a[0].is_number() => {
                let (x, y) = (a[0].as_f64().unwrap(), a[1].as_f64().unwrap());
                *b = [b[0].min(x), b[1].min(y), b[2].max(x), b[3].max(y)];
            }
            Some(a) => a.iter().for_each(|c| walk(c, b)),
            None => {}
        }
    }
    let mut b = [f64::MAX, f64::MAX, f64::MIN, f64::MIN];
    walk(&geometry["coordinates"], &mut b);
    b
}

#[tokio::test]
async fn tiles_serve_the_world_and_invalidate_exactly() {
    let store = TestStore::new(Flavor::Sqlite).await.unwrap();
    let server = Server::demo(&store);
    let base = server.base.clone();

    // Catalog and TileJSON.
    let (status, catalog) = server.get("/tiles/catalog").await;
    assert_eq!(status, 200, "{catalog}");
    let names: Vec<&str> = catalog["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    for want in [
        "communities",
        "grids",
        "buildings",
        "incidents",
        "workers",
        "incident_density",
        "household_density",
        "patrol_coverage",
        "cameras",
        "camera_coverage",
        "basemap",
    ] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
    for l in catalog["layers"].as_array().unwrap() {
        assert_eq!(
            l["tilejson"],
            format!("{base}/tiles/{}.json", l["name"].as_str().unwrap())
        );
        assert!(l["minzoom"].as_u64().unwrap() <= l["maxzoom"].as_u64().unwrap());
    }
    let p0 = grid_place(&server, 0, 0).await;
    let (status, tj) = server.get("/tiles/grids.json").await;
    assert_eq!(status, 200, "{tj}");
    assert_eq!(tj["tilejson"], "3.0.0");
    assert_eq!(
        tj["tiles"],
        json!([format!("{base}/tiles/grids/{{z}}/{{x}}/{{y}}.mvt")])
    );
    assert_eq!(tj["vector_layers"][0]["id"], "grids");
    assert_eq!(tj["vector_layers"][0]["fields"]["households"], "Number");
    let b: Vec<f64> = tj["bounds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert!(
        b[0] <= p0.lon && p0.lon <= b[2] && b[1] <= p0.lat && p0.lat <= b[3],
        "{b:?} holds a grid point"
    );
    assert!(tj["minzoom"].is_u64() && tj["maxzoom"].is_u64());
    assert!(
        tj.get("attribution").is_none(),
        "the synthetic city is not OSM data: {tj}"
    );
    // A browser map passes the token in the URL, and TileJSON carries it on.
    let response = server
        .http
        .get(server.url(&format!("/tiles/grids.json?token={}", server.token())))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let tj: Value = response.json().await.unwrap();
    assert!(
        tj["tiles"][0]
            .as_str()
            .unwrap()
            .ends_with(&format!(".mvt?token={}", server.token())),
        "{tj}"
    );
    let t0 = tile_at(p0.lon, p0.lat, 15);
    let path = format!("/tiles/grids/{}/{}/{}.mvt", t0.0, t0.1, t0.2);
    let response = server
        .http
        .get(server.url(&format!("{path}?token={}", server.token())))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        server
            .http
            .get(server.url(&path))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );

    // Bad input: problem+json.
    for (path, status, slug) in [
        ("/tiles/grids/25/0/0.mvt", 404, "zoom-out-of-range"),
        ("/tiles/grids/4/0/0.mvt", 404, "zoom-out-of-range"),
        ("/tiles/grids/14/16384/0.mvt", 400, "invalid-tile"),
        ("/tiles/grids/14/0/16384.mvt", 400, "invalid-tile"),
        ("/tiles/grids/abc/0/0.mvt", 400, "invalid-tile"),
        ("/tiles/grids/14/-1/0.mvt", 400, "invalid-tile"),
        ("/tiles/grids/14/0/0.png", 400, "invalid-tile"),
        ("/tiles/nope/14/0/0.mvt", 404, "unknown-layer"),
        ("/tiles/nope.json", 404, "unknown-layer"),
    ] {
        let response = fetch(&server, path, &[]).await;
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json",
            "{path}"
        );
        let got = (
            response.status().as_u16(),
            response.json::<Value>().await.unwrap(),
        );
        assert_problem(&got, status, slug);
    }

    // ETag, 304, gzip.
    let (etag, raw) = tile_bytes(&server, "grids", t0).await;
    assert!(
        !raw.is_empty() && etag.starts_with('"') && etag.len() == 18,
        "{etag}"
    );
    let response = fetch(&server, &path, &[("if-none-match", &etag)]).await;
    assert_eq!(response.status(), 304);
    assert_eq!(response.headers()["etag"], etag.as_str());
    let response = fetch(&server, &path, &[("accept-encoding", "gzip")]).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-encoding"], "gzip");
    assert!(
        response.headers()["vary"]
            .to_str()
            .unwrap()
            .contains("Accept-Encoding")
    );
    assert_eq!(response.headers()["cache-control"], "no-cache");
    let gz_etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(&response.bytes().await.unwrap()[..])
        .read_to_end(&mut unzipped)
        .unwrap();
    assert_eq!(unzipped, raw, "the gzip body is the tile");
    let response = fetch(
        &server,
        &path,
        &[("accept-encoding", "gzip"), ("if-none-match", &gz_etag)],
    )
    .await;
    assert_eq!(response.status(), 304);

    // An incident: only the tiles it touches change, and a subscriber is told exactly those.
    let mut ws = Ws::connect(&server, server.token()).await;
    ws.subscribe(&json!({"tiles": true, "layers": ["grids"]}))
        .await;
    let q = grid_place(&server, 1, 0).await;
    let set = around(q.lon, q.lat);
    let incidents_before = etags(&server, "incidents", &set).await;
    let grids_before = etags(&server, "grids", &set).await;
    let case = report(&server, server.token(), q.lat, q.lon, "city_appearance").await;
    let incidents_after = etags(&server, "incidents", &set).await;
    let grids_after = etags(&server, "grids", &set).await;
    let expected = touched_point(q.lon, q.lat, 10..=20);
    let moved = changed(&incidents_before, &incidents_after);
    assert!(
        moved.is_subset(&expected),
        "incident tiles {moved:?} changed outside {expected:?}"
    );
    for z in 14..=16 {
        assert!(
            moved.contains(&tile_at(q.lon, q.lat, z)),
            "the incident's own tile at z{z} changed"
        );
    }
    let (_, grid) = server.get(&format!("/api/grids/{}", q.grid)).await;
    let g = bbox_of(&grid["geometry"]);
    let grid_touched: BTreeSet<Tile> = (12..=20)
        .flat_map(|z| touched_box(g[0], g[1], g[2], g[3], z))
        .collect();
    let moved = changed(&grids_before, &grids_after);
    assert!(
        moved.is_subset(&grid_touched),
        "grid tiles {moved:?} changed outside the grid's box"
    );
    assert!(
        moved.contains(&tile_at(q.lon, q.lat, 16)),
        "the grid's open-case count changed"
    );
    assert_eq!(
        invalidated(&mut ws, "incidents", &expected).await,
        expected,
        "case {}",
        case["id"]
    );

    // A worker moves: the tiles of the old and the new place, nothing else.
    let a = grid_place(&server, 0, 1).await;
    let bpt = grid_place(&server, 2, 0).await;
    let worker = a.primary;
    let put = |lat: f64, lon: f64| {
        let path = format!("/api/workers/{worker}/position");
        let server = &server;
        async move {
            server
                .send(Method::PUT, &path, &json!({"lat": lat, "lon": lon}))
                .await
        }
    };
    let first = put(a.lat, a.lon).await;
    assert!(first.0 < 300, "{first:?}");
    let at_a = touched_point(a.lon, a.lat, 10..=20);
    assert_eq!(invalidated(&mut ws, "workers", &at_a).await, at_a);
    let mut set = around(a.lon, a.lat);
    set.extend(around(bpt.lon, bpt.lat));
    set.sort_unstable();
    set.dedup();
    let before = etags(&server, "workers", &set).await;
    let second = put(bpt.lat, bpt.lon).await;
    assert!(second.0 < 300, "{second:?}");
    let after = etags(&server, "workers", &set).await;
    let expected: BTreeSet<Tile> = at_a
        .union(&touched_point(bpt.lon, bpt.lat, 10..=20))
        .copied()
        .collect();
    let moved = changed(&before, &after);
    assert!(
        moved.is_subset(&expected),
        "worker tiles {moved:?} changed outside {expected:?}"
    );
    for z in 14..=16 {
        assert!(
            moved.contains(&tile_at(bpt.lon, bpt.lat, z)),
            "the new place's tile at z{z} changed"
        );
    }
    assert_eq!(invalidated(&mut ws, "workers", &expected).await, expected);

    // A patrol visits a cell: the coverage layer shows it and subscribers hear of it.
    let (status, patrol) = server
        .send(Method::POST, "/api/patrols", &json!({"worker": worker}))
        .await;
    assert_eq!(status, 201, "{patrol}");
    let c = grid_place(&server, 3, 0).await;
    let tc = tile_at(c.lon, c.lat, 16);
    let cpath = format!("/tiles/patrol_coverage/{}/{}/{}.mvt", tc.0, tc.1, tc.2);
    let (before, _) = tile_bytes(&server, "patrol_coverage", tc).await;
    let third = put(c.lat, c.lon).await;
    assert!(third.0 < 300, "{third:?}");
    let want: BTreeSet<Tile> = [tc].into();
    assert!(
        invalidated(&mut ws, "patrol_coverage", &want)
            .await
            .contains(&tc)
    );
    let response = fetch(&server, &cpath, &[]).await;
    assert_ne!(
        response.headers()["etag"].to_str().unwrap(),
        before,
        "the visited cell's tile changed"
    );
    assert!(
        !response.bytes().await.unwrap().is_empty(),
        "the visited cell is drawn"
    );

    // Scope: another grid's worker does not see this worker on the map.
    let other = token(&server, "worker", Some(q.primary)).await;
    assert_ne!(q.primary, worker);
    let tb = tile_at(bpt.lon, bpt.lat, 16);
    let wpath = format!("/tiles/workers/{}/{}/{}.mvt", tb.0, tb.1, tb.2);
    let scoped = server
        .http
        .get(server.url(&wpath))
        .bearer_auth(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(scoped.status(), 200);
    assert!(
        scoped.bytes().await.unwrap().is_empty(),
        "a worker of grid {} sees only its grids",
        q.grid
    );
    let mine = token(&server, "worker", Some(worker)).await;
    let own = server
        .http
        .get(server.url(&wpath))
        .bearer_auth(&mine)
        .send()
        .await
        .unwrap();
    assert!(
        !own.bytes().await.unwrap().is_empty(),
        "a worker sees itself"
    );

    // A camera: its tile is drawn, and goes empty again when it is deleted; subscribers hear of both.
    let k = grid_place(&server, 4, 0).await;
    let tk = tile_at(k.lon, k.lat, 16);
    let kpath = format!("/tiles/cameras/{}/{}/{}.mvt", tk.0, tk.1, tk.2);
    let empty = fetch(&server, &kpath, &[]).await;
    assert_eq!(empty.status(), 200);
    assert!(
        empty.bytes().await.unwrap().is_empty(),
        "no camera near grid place 4 yet"
    );
    let (cov_before, _) = tile_bytes(&server, "camera_coverage", tile_at(k.lon, k.lat, 15)).await;
    let body = json!({"name": "gate", "lat": k.lat, "lon": k.lon, "heading_deg": 90.0, "fov_deg": 60.0, "range_m": 40.0});
    let (status, camera) = server.send(Method::POST, "/api/cameras", &body).await;
    assert_eq!(status, 201, "{camera}");
    let own: BTreeSet<Tile> = [tk].into();
    assert!(invalidated(&mut ws, "cameras", &own).await.contains(&tk));
    let drawn = fetch(&server, &kpath, &[]).await;
    assert!(
        !drawn.bytes().await.unwrap().is_empty(),
        "the camera is drawn"
    );
    let (cov_after, _) = tile_bytes(&server, "camera_coverage", tile_at(k.lon, k.lat, 15)).await;
    assert_ne!(
        cov_before, cov_after,
        "the coverage aggregate shows the new camera"
    );
    let id = camera["properties"]["id"].as_i64().unwrap();
    let (status, _) = server
        .send(Method::DELETE, &format!("/api/cameras/{id}"), &json!({}))
        .await;
    assert_eq!(status, 204);
    assert!(invalidated(&mut ws, "cameras", &own).await.contains(&tk));
    let gone = fetch(&server, &kpath, &[]).await;
    assert!(
        gone.bytes().await.unwrap().is_empty(),
        "the deleted camera is gone from its tile"
    );

    // Closing a case takes it off its grid's open-case count (the reference below counts open cases
    // from the JSON API).
    let cancel = json!({"action": "cancel", "reason": "a test case"});
    let (status, closed) = server
        .send(
            Method::POST,
            &format!("/api/incidents/{}/actions", case["id"]),
            &cancel,
        )
        .await;
    assert_eq!(status, 200, "{closed}");

    // The reference decoder: tiles (cached before the writes, so a stale cache would show here)
    // against the JSON API.
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
        eprintln!("SKIPPED: the tile check needs python with mapbox_vector_tile");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut all = around(q.lon, q.lat);
    all.extend(around(p0.lon, p0.lat));
    all.sort_unstable();
    all.dedup();
    let (mut w, mut s, mut e, mut n) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for layer in ["grids", "incidents", "buildings"] {
        for &t in &all {
            let (_, bytes) = tile_bytes(&server, layer, t).await;
            std::fs::write(
                dir.path()
                    .join(format!("{layer}-{}-{}-{}.mvt", t.0, t.1, t.2)),
                bytes,
            )
            .unwrap();
            let size = f64::from(1u32 << t.0);
            let lon = |x: f64| x / size * 360.0 - 180.0;
            let lat = |y: f64| {
                (std::f64::consts::PI * (1.0 - 2.0 * y / size))
                    .sinh()
                    .atan()
                    .to_degrees()
            };
            w = w.min(lon(f64::from(t.1) - 0.1));
            e = e.max(lon(f64::from(t.1) + 1.1));
            n = n.max(lat(f64::from(t.2) - 0.1));
            s = s.min(lat(f64::from(t.2) + 1.1));
        }
    }
    for (file, path) in [
        ("grids.json", "/api/grids".to_owned()),
        ("incidents.json", "/api/incidents?limit=1000".to_owned()),
        (
            "buildings.json",
            format!("/api/buildings?bbox={w},{s},{e},{n}&limit=100000"),
        ),
        ("workers.json", "/api/workers".to_owned()),
    ] {
        let (status, body) = server.get(&path).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert_ne!(body["truncated"], true, "{path}");
        std::fs::write(dir.path().join(file), body.to_string()).unwrap();
    }
    let output = Command::new(python)
        .arg(workspace_root().join("tests/reference/check_tiles.py"))
        .arg(dir.path())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    if !output.status.success() {
        // Keep the tiles and sources for a look.
        let kept = std::env::temp_dir().join("gridwatch-tiles-failed");
        let _ = std::fs::remove_dir_all(&kept);
        std::fs::rename(dir.path(), &kept)
            .unwrap_or_else(|_| eprintln!("could not keep {}", dir.path().display()));
        panic!("check_tiles.py (inputs in {}):\n{text}", kept.display());
    }
    eprintln!("{text}");
    drop(server);
    store.finish().await;
}
