//! The OpenAPI contract against the running server: schemathesis (`tests/reference/requirements.txt`)
//! loads `/api/openapi.json`, generates a fixed number of requests for every operation with a fixed
//! seed, sends them with an admin token, and fails on any 5xx, an undocumented status, a content type
//! the document does not list for that status, or a body that does not match its schema.
//!
//! The store holds a small city (one community, one grid, twelve buildings) and a few things made here
//! (a worker with a position, a case, an Open311 request, a camera, a patrol, a checkpoint, a plan), so
//! generated ids (1–3) reach real resources as often as missing ones. Under `CI=true` a missing
//! schemathesis fails the test; elsewhere it is skipped with a notice.

use std::process::Command;
use std::time::Instant;

use reqwest::Method;
use serde_json::{Value, json};

use crate::geojson_import::{building, city};
use crate::harness::{Flavor, Server, TestStore, ci, workspace_root};

/// Requests generated per operation and phase: enough to find a missing status or a 5xx on bad
/// input, and the whole run stays well under a minute here. `GRIDWATCH_SCHEMATHESIS_EXAMPLES`
/// asks for more, to hunt by hand.
const MAX_EXAMPLES: &str = "25";
/// A point inside the city (degrees).
const LAT: f64 = 36.0015;
const LON: f64 = 113.0015;

/// The interpreter that has schemathesis, or `None` (skip) outside CI.
fn schemathesis_python() -> Option<String> {
    let python = std::env::var("GRIDWATCH_PYTHON").unwrap_or_else(|_| {
        let venv = workspace_root().join(".venv/bin/python");
        if venv.exists() {
            venv.display().to_string()
        } else {
            "python3".into()
        }
    });
    let ok = Command::new(&python)
        .args(["-c", "import schemathesis"])
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        return Some(python);
    }
    assert!(
        !ci(),
        "CI=true but {python} cannot import schemathesis (pip install -r tests/reference/requirements.txt)"
    );
    eprintln!(
        "SKIPPED: the contract check needs python with schemathesis (pip install -r tests/reference/requirements.txt)"
    );
    None
}

/// The XYZ tile (z = 16) holding `lat`, `lon` (degrees): web mercator, as the tile server counts.
fn tile_of(lat: f64, lon: f64) -> (u32, u32) {
    let n = f64::from(1_u32 << 16);
    let x = (lon + 180.0) / 360.0 * n;
    let y = (1.0 - lat.to_radians().tan().asinh() / std::f64::consts::PI) / 2.0 * n;
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    (x as u32, y as u32)
}

#[track_caller]
fn created(got: &(u16, Value), what: &str) -> i64 {
    assert_eq!(got.0, 201, "{what}: {}", got.1);
    got.1["id"].as_i64().unwrap()
}

/// Things for generated requests to find: returns the Open311 request's id.
async fn seed(server: &Server) -> i64 {
    let worker = server
        .send(
            Method::POST,
            "/api/workers",
            &json!({"name": "王芳", "kind": "grid_worker", "duty": "on_duty", "device": true,
                "grids": [{"grid_id": 1, "responsibility": "primary"}]}),
        )
        .await;
    let worker = created(&worker, "worker");
    let moved = server
        .send(
            Method::PUT,
            &format!("/api/workers/{worker}/position"),
            &json!({"lat": LAT, "lon": LON}),
        )
        .await;
    assert_eq!(moved.0, 204, "position: {}", moved.1);
    let case = json!({"lat": LAT, "lon": LON, "category": "advertising", "description": "海报"});
    created(
        &server.send(Method::POST, "/api/incidents", &case).await,
        "incident",
    );
    let form = [
        ("api_key", server.token()),
        ("service_code", "advertising"),
        ("lat", "36.0016"),
        ("long", "113.0016"),
        ("description", "a poster on a lamp post"),
    ];
    let filed = server
        .http
        .post(server.url("/open311/v2/requests.json"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(filed.status(), 201);
    let filed: Value = filed.json().await.unwrap();
    let request = filed[0]["service_request_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let camera = json!({"name": "东门", "lat": LAT, "lon": LON, "heading_deg": 90.0, "fov_deg": 120.0, "range_m": 80.0});
    created(
        &server.send(Method::POST, "/api/cameras", &camera).await,
        "camera",
    );
    let patrol = server
        .send(Method::POST, "/api/patrols", &json!({"worker": worker}))
        .await;
    created(&patrol, "patrol");
    let checkpoint = json!({"lat": LAT, "lon": LON, "radius_m": 30.0, "name": "东门岗"});
    created(
        &server
            .send(Method::POST, "/api/checkpoints", &checkpoint)
            .await,
        "checkpoint",
    );
    let plan = server
        .send(
            Method::POST,
            "/api/communities/3/plans",
            &json!({"auto": true, "note": "partitioner"}),
        )
        .await;
    created(&plan, "plan");
    request
}

/// The run's settings: where generated path parameters take real values (most of the time).
fn config(server_layers: &[String], open311_request: i64, token: &str) -> String {
    let (x, y) = tile_of(LAT, LON);
    let quoted = |items: &[String]| {
        items
            .iter()
            .map(|s| format!("{s:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        r#"
[dictionaries.ids]
values = [1, 2, 3]
[dictionaries.layers]
values = [{layers}]
[dictionaries.zooms]
values = [16]
[dictionaries.xs]
values = [{x}]
[dictionaries.ys]
values = [{y}]
[dictionaries.files]
values = ["index.html", "js/centre.js", "vendor/maplibre-gl.css", "LICENSES.txt"]
[dictionaries.fontstacks]
values = ["Noto Sans Regular", "Noto Sans Bold"]
[dictionaries.codes]
values = ["advertising", "city_appearance"]
[dictionaries.requests]
values = ["{open311_request}"]
[dictionaries.tokens]
values = [{token:?}]
[dictionaries.workers]
values = [1]

[parameters]
"path.id" = {{ dictionary = "ids", probability = 0.8 }}
"path.plan" = {{ dictionary = "ids", probability = 0.8 }}
"path.version" = {{ dictionary = "ids", probability = 0.8 }}
"path.layer" = {{ dictionary = "layers", probability = 0.8 }}
"path.z" = {{ dictionary = "zooms", probability = 0.8 }}
"path.x" = {{ dictionary = "xs", probability = 0.8 }}
"path.y" = {{ dictionary = "ys", probability = 0.8 }}
"path.path" = {{ dictionary = "files", probability = 0.8 }}
"path.fontstack" = {{ dictionary = "fontstacks", probability = 0.8 }}
"path.code" = {{ dictionary = "codes", probability = 0.5 }}
"path.service_code" = {{ dictionary = "codes", probability = 0.8 }}
"path.service_request_id" = {{ dictionary = "requests", probability = 0.8 }}
"body.category" = {{ dictionary = "codes", probability = 0.8 }}
"body.service_code" = {{ dictionary = "codes", probability = 0.8 }}
"body.api_key" = {{ dictionary = "tokens", probability = 0.8 }}
"body.worker" = {{ dictionary = "workers", probability = 0.5 }}
"#,
        layers = quoted(server_layers),
    )
}

/// `label: N` from schemathesis's summary (`Selected: 77/77` gives 77).
fn count(output: &str, label: &str) -> Option<usize> {
    let line = output.lines().find(|l| l.trim_start().starts_with(label))?;
    line.trim_start()[label.len()..]
        .trim()
        .split('/')
        .next()?
        .parse()
        .ok()
}

#[tokio::test]
async fn every_operation_keeps_the_openapi_contract() {
    let Some(python) = schemathesis_python() else {
        return;
    };
    let store = TestStore::new(Flavor::Sqlite).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let geojson = dir.path().join("city.geojson");
    std::fs::write(&geojson, city(building).to_string()).unwrap();
    let out = store.cli(&["import", "geojson", geojson.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token =
        String::from_utf8(store.cli(&["token", "create", "--role", "admin"]).stdout).unwrap();
    let mut server = Server::start(&["serve"], &store);
    server.admin = Some(token.trim().to_owned());
    let open311_request = seed(&server).await;

    let (_, document) = server.get("/api/openapi.json").await;
    // Every operation but the document's own, which schemathesis leaves out: it is what it loads.
    let operations: usize = document["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|item| item.as_object().unwrap().len())
        .sum::<usize>()
        - 1;
    let (_, catalog) = server.get("/tiles/catalog").await;
    let layers: Vec<String> = catalog["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap().to_owned())
        .collect();
    let settings = dir.path().join("schemathesis.toml");
    std::fs::write(&settings, config(&layers, open311_request, server.token())).unwrap();

    let seq_before = server.get("/health").await.1["last_seq"].clone();
    let examples = std::env::var("GRIDWATCH_SCHEMATHESIS_EXAMPLES")
        .unwrap_or_else(|_| MAX_EXAMPLES.to_owned());
    let started = Instant::now();
    let output = Command::new(python)
        .args(["-m", "schemathesis.cli", "--config-file"])
        .arg(&settings)
        .arg("run")
        .arg(server.url("/api/openapi.json"))
        .args(["--url", &server.base])
        .args(["--header", &format!("Authorization: Bearer {}", server.token())])
        .args(["--max-examples", &examples, "--generation-deterministic"])
        .args(["--phases", "examples,coverage,fuzzing", "--workers", "1"])
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
        ])
        .args(["--no-color", "--request-timeout", "30"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // How far generated requests got: each accepted change is an event.
    let seq_after = server.get("/health").await.1["last_seq"].clone();
    eprintln!(
        "{stdout}{stderr}\nschemathesis took {:.1} s; events {seq_before} → {seq_after}",
        started.elapsed().as_secs_f64()
    );
    assert!(
        output.status.success(),
        "schemathesis found a broken contract:\n{stdout}\n{stderr}"
    );
    assert_eq!(
        (count(&stdout, "Selected:"), count(&stdout, "Tested:")),
        (Some(operations), Some(operations)),
        "every one of the document's {operations} operations (but its own) must be loaded and tested"
    );
    assert!(
        !stdout.contains("Errored:"),
        "an operation could not be loaded"
    );
    drop(server);
    store.finish().await;
}
