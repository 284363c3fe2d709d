//! Early warning (研判预警, issue 21) through the real binary: six cases reported within a minute in one
//! 0.1 km² cell, on a street whose history expects a case there every few months, raise a warning with
//! its evidence; it reaches `GET /api/warnings`, the live stream (`warning.raised`) and the alarms, for
//! whoever's scope holds its grid, and no one else. On both stores. The detector's statistics are tested
//! by its unit tests and measured by `examples/warnings_sim.rs`.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::cases::{grid_place, report, token};
use crate::harness::{Flavor, Server, TestStore, assert_problem};
use crate::live::Ws;

#[tokio::test]
async fn an_outbreak_in_one_cell_raises_one_warning_on_sqlite() {
    outbreak(Flavor::Sqlite).await;
}

#[tokio::test]
async fn an_outbreak_in_one_cell_raises_one_warning_on_postgis() {
    outbreak(Flavor::Postgres).await;
}

/// Mints a commander token scoped to `community`.
async fn commander_of(server: &Server, community: i64) -> String {
    let (status, minted) = server
        .send(
            Method::POST,
            "/api/tokens",
            &json!({"role": "commander", "scopes": [format!("region:{community}")], "label": "warnings"}),
        )
        .await;
    assert_eq!(status, 201, "{minted}");
    minted["token"].as_str().unwrap().to_owned()
}

async fn outbreak(flavor: Flavor) {
    let Some(store) = TestStore::new(flavor).await else {
        return;
    };
    let server = Server::start(&["demo", "--warnings-every-s", "1"], &store);
    let admin = server.token().to_owned();
    let here = grid_place(&server, 0, 0).await;
    let far = grid_place(&server, 60, 0).await;
    assert_ne!(here.community, far.community, "two communities");
    let inside = commander_of(&server, here.community).await;
    let outside = commander_of(&server, far.community).await;
    let worker = token(&server, "worker", Some(here.primary)).await;

    let mut ws = Ws::connect(&server, &admin).await;
    ws.subscribe(&json!({"grids": [here.grid], "layers": ["incidents", "warnings"]}))
        .await;
    let (status, none) = server.get("/api/warnings").await;
    assert_eq!(status, 200, "{none}");
    assert_eq!(none["warnings"], json!([]), "a quiet street has none");

    // Six overflowing bins reported within a minute, a few metres apart in one cell.
    let mut ids = Vec::new();
    for i in 0..6 {
        let jitter = f64::from(i) * 0.000_02;
        let case = report(
            &server,
            &admin,
            here.lat + jitter,
            here.lon,
            "city_appearance",
        )
        .await;
        ids.push(case["id"].as_i64().unwrap());
    }
    ids.sort_unstable();

    // The live stream says so first.
    let raised = ws
        .until(|m| m["type"] == "delta" && m["kind"] == "warning.raised")
        .await
        .pop()
        .unwrap();
    let warning = &raised["data"];
    let cases: Vec<i64> = warning["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_i64().unwrap())
        .collect();
    for id in &ids {
        assert!(cases.contains(id), "case {id} is evidence: {warning}");
    }
    assert!(
        ["rate", "cluster", "repeat"].contains(&warning["kind"].as_str().unwrap()),
        "{warning}"
    );
    assert!(warning["observed"].as_u64().unwrap() >= 6, "{warning}");
    let expected = warning["expected"].as_f64().unwrap();
    assert!(expected > 0.0 && expected < 1.0, "{warning}");
    assert!(warning["p_value"].as_f64().unwrap() < 1e-3, "{warning}");
    assert!(
        warning["grids"]
            .as_array()
            .unwrap()
            .contains(&json!(here.grid)),
        "{warning}"
    );
    assert_eq!(warning["group"], "city_management", "{warning}");

    // The list holds it, with the centre of its cells; a scope without its grid does not; a worker's
    // phone may not ask.
    let listed = wait_for_warnings(&server, &admin).await;
    let keys: Vec<&str> = listed.iter().map(|w| w["key"].as_str().unwrap()).collect();
    assert!(
        keys.contains(&warning["key"].as_str().unwrap()),
        "{listed:?}"
    );
    let one = listed.iter().find(|w| w["key"] == warning["key"]).unwrap();
    assert!(
        (one["lat"].as_f64().unwrap() - here.lat).abs() < 0.01
            && (one["lon"].as_f64().unwrap() - here.lon).abs() < 0.01,
        "{one}"
    );
    let (status, mine) = server.get_as(&inside, "/api/warnings").await;
    assert_eq!(status, 200, "{mine}");
    assert!(!mine["warnings"].as_array().unwrap().is_empty(), "{mine}");
    let (status, theirs) = server.get_as(&outside, "/api/warnings").await;
    assert_eq!(status, 200, "{theirs}");
    assert_eq!(theirs["warnings"], json!([]), "out of scope");
    assert_problem(
        &server.get_as(&worker, "/api/warnings").await,
        403,
        "forbidden",
    );

    // The tile layer draws it, as an independent decoder (mapbox_vector_tile) reads the tile: its
    // centre in `warnings` and its cells in `warning_cells`, with the key; the other community's
    // commander gets the tile without it.
    let tile = crate::tiles::tile_at(
        one["lon"].as_f64().unwrap(),
        one["lat"].as_f64().unwrap(),
        16,
    );
    let path = format!("/tiles/warnings/{}/{}/{}.mvt", tile.0, tile.1, tile.2);
    let key = warning["key"].as_str().unwrap();
    let drawn = decoded(&server, &admin, &path).await;
    if let Some(drawn) = drawn {
        for layer in ["warnings", "warning_cells"] {
            assert!(
                drawn[layer]
                    .as_array()
                    .is_some_and(|f| f.iter().any(|p| p["key"] == key)),
                "{layer} lacks {key}: {drawn}"
            );
        }
        let theirs = decoded(&server, &outside, &path).await.unwrap();
        assert!(
            !theirs.to_string().contains(key),
            "out of scope, the tile must not draw it: {theirs}"
        );
    }

    // One outbreak is one warning of each kind at most: evaluating every second raised nothing twice.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let again = wait_for_warnings(&server, &admin).await;
    let mut kinds: Vec<&str> = again.iter().map(|w| w["kind"].as_str().unwrap()).collect();
    let before = kinds.len();
    kinds.dedup();
    assert_eq!(kinds.len(), before, "{again:?}");
    assert!(again.len() <= 3, "{again:?}");

    // It is an alarm in the command centre.
    let (status, alarms) = server.get("/api/alarms?state=all").await;
    assert_eq!(status, 200, "{alarms}");
    assert!(
        alarms["alarms"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["kind"] == "warning"),
        "{alarms}"
    );
    drop(ws);
    drop(server);
    store.finish().await;
}

/// The warnings the list shows, once it shows any (the list is read from the world, which took the
/// event the live stream already delivered).
async fn wait_for_warnings(server: &Server, token: &str) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let (status, body) = server.get_as(token, "/api/warnings").await;
        assert_eq!(status, 200, "{body}");
        let list = body["warnings"].as_array().unwrap().clone();
        if !list.is_empty() {
            return list;
        }
        assert!(tokio::time::Instant::now() < deadline, "no warning listed");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The tile at `path` as `token` gets it, decoded by the Python reference decoder: each layer's
/// features' properties; `None` when the reference library is missing (never in CI).
async fn decoded(server: &Server, token: &str, path: &str) -> Option<Value> {
    let python = crate::harness::reference_python()?;
    let response = server
        .http
        .get(server.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{path}");
    let bytes = response.bytes().await.unwrap();
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), &bytes).unwrap();
    let script = "import json, sys, mapbox_vector_tile as m\n\
        t = m.decode(open(sys.argv[1], 'rb').read())\n\
        print(json.dumps({k: [f['properties'] for f in v['features']] for k, v in t.items()}))";
    let output = std::process::Command::new(python)
        .args(["-c", script])
        .arg(file.path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(serde_json::from_slice(&output.stdout).unwrap())
}
