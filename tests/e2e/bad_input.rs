//! Bad input on every endpoint that takes input: a clear 4xx problem+json, and nothing stored.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{Flavor, Server, TestStore, assert_problem};

/// What "nothing changed" compares: the event sequence and every list's size.
async fn fingerprint(server: &Server) -> Vec<Value> {
    let mut out = vec![server.get("/health").await.1["last_seq"].clone()];
    for path in [
        "/api/regions",
        "/api/grids",
        "/api/buildings?limit=100000",
        "/api/workers",
    ] {
        out.push(json!(
            server.get(path).await.1["features"]
                .as_array()
                .unwrap()
                .len()
        ));
    }
    out
}

fn square(lon: f64, lat: f64, d: f64) -> Value {
    json!({"type": "Polygon", "coordinates": [[[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]]})
}

fn feature(geometry: &Value, properties: &Value) -> Value {
    json!({"type": "Feature", "geometry": geometry, "properties": properties})
}

#[tokio::test]
async fn bad_input_is_refused_and_changes_nothing_on_sqlite() {
    refused_and_unchanged(Flavor::Sqlite).await;
}

#[tokio::test]
async fn bad_input_is_refused_and_changes_nothing_on_postgis() {
    refused_and_unchanged(Flavor::Postgres).await;
}

async fn refused_and_unchanged(flavor: Flavor) {
    let Some(store) = TestStore::new(flavor).await else {
        return;
    };
    let server = Server::demo(&store);
    let before = fingerprint(&server).await;

    // A grid, its community and one of its workers, to aim the bad requests at real things.
    let (_, grids) = server.get("/api/grids").await;
    let grid = &grids["features"][0]["properties"];
    let grid_id = grid["id"].as_i64().unwrap();
    let community_id = grid["community_id"].as_i64().unwrap();
    let worker_id = grid["primary_worker_id"].as_i64().unwrap();
    let (_, community) = server.get(&format!("/api/regions/{community_id}")).await;
    let community_code = community["properties"]["code"].as_str().unwrap().to_owned();

    // Locate.
    for q in [
        "lat=NaN&lon=113.1",
        "lat=91&lon=113.1",
        "lat=36.2&lon=180.5",
        "lat=36.2&lon=-inf",
        "lat=abc&lon=1",
        "lat=36.2",
    ] {
        let got = server.get(&format!("/api/locate?{q}")).await;
        assert!(got.0 == 400, "{q}: {got:?}");
        assert!(
            got.1["type"].as_str().unwrap().starts_with("/problems/"),
            "{q}"
        );
    }
    assert_problem(
        &server
            .send_raw(Method::POST, "/api/locate", b"[[113.1, 36.2]".to_vec())
            .await
            .into_pair(),
        400,
        "malformed-json",
    );
    assert_problem(
        &server
            .send(Method::POST, "/api/locate", &json!([["a", "b"]]))
            .await,
        422,
        "invalid-input",
    );
    assert_problem(
        &server
            .send(Method::POST, "/api/locate", &json!([[200.0, 36.2]]))
            .await,
        400,
        "invalid-coordinate",
    );
    assert_problem(
        &server
            .send(
                Method::POST,
                "/api/locate",
                &json!({"points": [[113.1, 95.0]]}),
            )
            .await,
        400,
        "invalid-coordinate",
    );
    let too_many: Vec<[f64; 2]> = vec![[113.1, 36.2]; 100_001];
    assert_problem(
        &server
            .send(Method::POST, "/api/locate", &json!(too_many))
            .await,
        422,
        "too-many-points",
    );
    let huge = format!("[{}[1,1]]", "[113.123456789,36.123456789],".repeat(320_000)).into_bytes();
    assert!(huge.len() > 8 * 1024 * 1024);
    let (status, body, content_type) = server.send_raw(Method::POST, "/api/locate", huge).await;
    assert_eq!(
        (status, body["type"].as_str()),
        (413, Some("/problems/body-too-large"))
    );
    assert_eq!(content_type, "application/problem+json");
    let no_type = server
        .http
        .post(server.url("/api/locate"))
        .bearer_auth(server.token())
        .body("[]")
        .send()
        .await
        .unwrap();
    assert_eq!(no_type.status().as_u16(), 415);

    // Regions: invalid polygons, wrong properties, unknown parent, a taken code, an oversized body.
    let good_props = json!({"level": "community", "code": format!("{}999", &community_code[..9]), "name": "新社区"});
    let bowtie = json!({"type": "Polygon", "coordinates": [[[113.0, 36.0], [113.1, 36.1], [113.1, 36.0], [113.0, 36.1], [113.0, 36.0]]]});
    let unclosed = json!({"type": "Polygon", "coordinates": [[[113.0, 36.0], [113.1, 36.0], [113.1, 36.1], [113.0, 36.1]]]});
    let out_of_range = square(179.95, 36.0, 0.1);
    for geometry in [
        &bowtie,
        &unclosed,
        &out_of_range,
        &json!({"type": "Point", "coordinates": [113.0, 36.0]}),
    ] {
        let got = server
            .send(
                Method::POST,
                "/api/regions",
                &feature(geometry, &good_props),
            )
            .await;
        assert_problem(&got, 422, "invalid-geometry");
    }
    let parent = json!(community["properties"]["parent_id"]);
    let fine = square(113.0, 36.0, 0.001);
    for (props, status, slug) in [
        (
            json!({"level": "community", "code": "12", "name": "x", "parent_id": parent}),
            422,
            "invalid-input",
        ),
        (
            json!({"level": "hamlet", "code": "123456789012", "name": "x", "parent_id": parent}),
            422,
            "invalid-input",
        ),
        (
            json!({"level": "community", "code": format!("{}998", &community_code[..9]), "name": "x", "parent_id": 987_654}),
            404,
            "not-found",
        ),
        (
            json!({"level": "community", "code": community_code, "name": "x", "parent_id": parent}),
            409,
            "conflict",
        ),
        (
            json!({"level": "community", "code": format!("{}997", &community_code[..9]), "name": "", "parent_id": parent}),
            422,
            "invalid-input",
        ),
        (
            json!({"level": "community", "code": format!("{}996", &community_code[..9]), "name": "x"}),
            422,
            "invalid-input",
        ),
    ] {
        assert_problem(
            &server
                .send(Method::POST, "/api/regions", &feature(&fine, &props))
                .await,
            status,
            slug,
        );
    }
    assert_problem(
        &server
            .send(Method::POST, "/api/regions", &json!({"type": "Feature"}))
            .await,
        422,
        "invalid-geometry",
    );
    let big_name = "x".repeat(1_100_000);
    let got = server
        .send(
            Method::POST,
            "/api/regions",
            &feature(
                &fine,
                &json!({"level": "district", "code": "999999", "name": big_name}),
            ),
        )
        .await;
    assert_problem(&got, 413, "body-too-large");

    // Buildings: bad households, outside every grid, invalid footprint.
    let (_, grid_full) = server.get(&format!("/api/grids/{grid_id}")).await;
    let corner = grid_full["geometry"]["coordinates"][0][0][0].clone();
    let (lon, lat) = (corner[0].as_f64().unwrap(), corner[1].as_f64().unwrap());
    let inside = square(lon, lat, 0.00005);
    for (props, slug) in [
        (json!({"households": -3}), "invalid-input"),
        (json!({"households": "many"}), "invalid-input"),
        (json!({"households": 1.5}), "invalid-input"),
        (json!({"households": 4, "kind": ""}), "invalid-input"),
        (
            json!({"households": 4, "name_of_resident": "x"}),
            "invalid-input",
        ),
    ] {
        assert_problem(
            &server
                .send(Method::POST, "/api/buildings", &feature(&inside, &props))
                .await,
            422,
            slug,
        );
    }
    let far = square(10.0, 10.0, 0.0001);
    assert_problem(
        &server
            .send(
                Method::POST,
                "/api/buildings",
                &feature(&far, &json!({"households": 4})),
            )
            .await,
        422,
        "outside-grids",
    );
    assert_problem(
        &server
            .send(
                Method::POST,
                "/api/buildings",
                &feature(&bowtie, &json!({"households": 4})),
            )
            .await,
        422,
        "invalid-geometry",
    );

    // Workers: wrong types, unknown ids, a second primary, a taken device id.
    for (body, status, slug) in [
        (json!({"kind": "grid_worker"}), 422, "invalid-input"),
        (
            json!({"name": "王", "kind": "wizard"}),
            422,
            "invalid-input",
        ),
        (
            json!({"name": "  ", "kind": "grid_worker"}),
            422,
            "invalid-input",
        ),
        (
            json!({"name": "王", "kind": "grid_worker", "grids": [{"grid_id": 987_654, "responsibility": "backup"}]}),
            404,
            "not-found",
        ),
        (
            json!({"name": "王", "kind": "grid_worker", "grids": [{"grid_id": grid_id, "responsibility": "primary"}]}),
            409,
            "conflict",
        ),
        (
            json!({"name": "王", "kind": "grid_worker", "grids": [{"grid_id": grid_id, "responsibility": "backup"}, {"grid_id": grid_id, "responsibility": "backup"}]}),
            422,
            "invalid-input",
        ),
        (
            // Device ids are made by the server (`device: true`), never chosen by a client.
            json!({"name": "王", "kind": "grid_worker", "device_id": "demo-140403001007001"}),
            422,
            "invalid-input",
        ),
        (
            json!({"name": "王", "kind": "grid_worker", "id_number": "110101199001011234"}),
            422,
            "invalid-input",
        ),
    ] {
        assert_problem(
            &server.send(Method::POST, "/api/workers", &body).await,
            status,
            slug,
        );
    }
    assert_problem(
        &server
            .send_raw(Method::POST, "/api/workers", b"{\"name\": ".to_vec())
            .await
            .into_pair(),
        400,
        "malformed-json",
    );
    assert_problem(
        &server
            .send(Method::PATCH, "/api/workers/987654", &json!({"name": "x"}))
            .await,
        404,
        "not-found",
    );
    assert_problem(
        &server
            .send(
                Method::PATCH,
                &format!("/api/workers/{worker_id}"),
                &json!({"name": 7}),
            )
            .await,
        422,
        "invalid-input",
    );
    assert_problem(
        &server
            .send(
                Method::PUT,
                &format!("/api/workers/{worker_id}/duty"),
                &json!({"duty": "asleep"}),
            )
            .await,
        422,
        "invalid-input",
    );
    assert_problem(
        &server
            .send(
                Method::PUT,
                &format!("/api/workers/{worker_id}/grids"),
                &json!([{"grid_id": 987_654, "responsibility": "primary"}]),
            )
            .await,
        404,
        "not-found",
    );
    assert_problem(&server.get("/api/workers/abc").await, 400, "invalid-path");

    // Tokens.
    assert_problem(
        &server
            .send(Method::POST, "/api/tokens", &json!({"role": "emperor"}))
            .await,
        422,
        "invalid-input",
    );
    assert_problem(
        &server
            .send(
                Method::POST,
                "/api/tokens",
                &json!({"role": "commander", "scopes": ["grid:987654"]}),
            )
            .await,
        404,
        "not-found",
    );
    assert_problem(
        &server
            .send(
                Method::POST,
                "/api/tokens",
                &json!({"role": "commander", "scopes": ["street"]}),
            )
            .await,
        422,
        "invalid-input",
    );
    assert_problem(
        &server
            .send(Method::POST, "/api/tokens", &json!({"role": "worker"}))
            .await,
        422,
        "invalid-input",
    );

    // Reads with bad parameters, unknown ids and paths.
    assert_problem(
        &server.get("/api/grids?bbox=1,2,3").await,
        400,
        "invalid-bbox",
    );
    assert_problem(
        &server.get("/api/grids?bbox=0,0,200,1").await,
        400,
        "invalid-bbox",
    );
    assert_problem(&server.get("/api/grids/987654").await, 404, "not-found");
    assert_problem(
        &server.get("/api/grids?community=987654").await,
        404,
        "not-found",
    );
    assert_problem(
        &server.get("/api/buildings?grid=987654").await,
        404,
        "not-found",
    );
    assert_problem(
        &server.get("/api/buildings?limit=0").await,
        422,
        "invalid-input",
    );
    assert_problem(
        &server.get("/api/grids?cells=maybe").await,
        400,
        "invalid-query",
    );
    assert_problem(&server.get("/api/no-such-thing").await, 404, "no-route");

    // No token, a malformed header, an unknown token.
    let anonymous = server
        .http
        .get(server.url("/api/grids"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status().as_u16(), 401);
    assert_eq!(
        anonymous.headers()["content-type"],
        "application/problem+json"
    );
    assert_problem(
        &server.get_as("gw_0000", "/api/grids").await,
        401,
        "unauthorized",
    );
    let basic = server
        .http
        .get(server.url("/api/grids"))
        .header("authorization", "Basic abc")
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status().as_u16(), 401);

    // Refused by an extractor before any handler code runs, and still problem+json (Open311: its
    // error array): a path that is not UTF-8 once percent-decoded, a raw body over the limit. Found
    // while holding the server to its OpenAPI document; they were text/plain.
    for path in [
        "/static/%FF",
        "/static/js/%C3%28.js",
        "/fonts/%FF/0-255.pbf",
    ] {
        let got = server.http.get(server.url(path)).send().await.unwrap();
        let content_type = got.headers()["content-type"].to_str().unwrap().to_owned();
        let got = (
            got.status().as_u16(),
            got.json().await.unwrap_or(Value::Null),
        );
        assert_problem(&got, 400, "invalid-path");
        assert_eq!(content_type, "application/problem+json", "{path}");
    }
    for path in [
        "/open311/v2/services/%FF.json",
        "/open311/v2/requests/%FF.json",
    ] {
        let got = server.http.get(server.url(path)).send().await.unwrap();
        assert_eq!(got.status().as_u16(), 400, "{path}");
        let body: Value = got.json().await.unwrap();
        assert_eq!(body[0]["code"], 400, "{path}: {body}");
    }
    let over = vec![b'a'; 2 * 1024 * 1024];
    let (status, body, content_type) = server.send_raw(Method::POST, "/osmand", over).await;
    assert_problem(&(status, body), 413, "body-too-large");
    assert_eq!(content_type, "application/problem+json");

    assert_eq!(
        fingerprint(&server).await,
        before,
        "a refused request changed something"
    );
    drop(server);
    store.finish().await;
}

pub trait IntoPair {
    fn into_pair(self) -> (u16, Value);
}

impl IntoPair for (u16, Value, String) {
    fn into_pair(self) -> (u16, Value) {
        assert_eq!(self.2, "application/problem+json");
        (self.0, self.1)
    }
}
