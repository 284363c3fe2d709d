//! The document held to the router: the same paths and methods, parameters where they really are,
//! every `$ref` defined, every `operationId` unique, every error a `Problem` (or Open311's array).

use std::collections::BTreeSet;

use axum::Router;
use serde_json::Value;
use utoipa::OpenApi;

use super::ApiDoc;
use crate::core::Core;
use crate::services::{self, Which};

fn document() -> Value {
    serde_json::to_value(ApiDoc::openapi()).unwrap()
}

/// The operations of the document: `(path, method, operation)`.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            out.push((path.clone(), method.to_uppercase(), operation.clone()));
        }
    }
    out
}

/// A path with every templated segment replaced by `*`: the router's `/tiles/{file}` and
/// `/static/{*path}` and the document's `/tiles/{layer}.json` and `/static/{path}` become `/tiles/*`
/// and `/static/*`.
fn shape(path: &str) -> String {
    path.split('/')
        .map(|segment| if segment.contains('{') { "*" } else { segment })
        .collect::<Vec<_>>()
        .join("/")
}

/// The router's paths. axum lists them nowhere but in its `Debug` output (`Router { path_router:
/// PathRouter { … paths: {RouteId(3): "/api/locate", …} }, fallback_router: … }`; the fallbacks'
/// own catch-all paths come after `fallback_router`). The caller checks that known paths were found,
/// so a change of that format fails the test instead of emptying it.
fn router_paths(router: &Router) -> BTreeSet<String> {
    let debug = format!("{router:?}");
    let path_router = debug
        .split_once("fallback_router")
        .map_or(debug.as_str(), |(before, _)| before);
    path_router
        .split('"')
        .filter(|s| s.starts_with('/') && !s.contains("__private__axum"))
        .map(str::to_owned)
        .collect()
}

/// The router's paths with a value in each parameter, and the methods each answers: the `Allow`
/// header of its 405 to a method nobody serves (`HEAD` left out: axum answers it for every `GET`).
async fn served_operations(router: Router) -> BTreeSet<String> {
    let paths = router_paths(&router);
    for known in [
        "/api/locate",
        "/open311/v2/requests.json",
        "/static/{*path}",
        "/ws",
    ] {
        assert!(paths.contains(known), "{known} not found in {paths:?}");
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let serving = tokio::spawn(async move { axum::serve(listener, router).await });
    let client = reqwest::Client::new();
    let probe = reqwest::Method::from_bytes(b"PROBE").unwrap();
    let mut served = BTreeSet::new();
    for path in &paths {
        let concrete = shape(path).replace('*', "1");
        let response = client
            .request(probe.clone(), format!("http://{address}{concrete}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 405, "PROBE {concrete} (route {path})");
        let allow = response.headers()["allow"].to_str().unwrap();
        for method in allow.split(',').filter(|m| *m != "HEAD") {
            served.insert(format!("{method} {}", shape(path)));
        }
    }
    serving.abort();
    served
}

#[tokio::test]
async fn the_document_describes_every_route_and_method_the_router_serves() {
    let store = crate::store::open("sqlite::memory:").await.unwrap();
    let core = Core::load(store).await.unwrap();
    let (state, running) = services::start(&core, Which::ALL);
    let served = served_operations(crate::api::app(state)).await;
    running.stop().await;
    let documented: BTreeSet<String> = operations(&document())
        .into_iter()
        .map(|(path, method, _)| format!("{method} {}", shape(&path)))
        .collect();
    let undocumented: Vec<_> = served.difference(&documented).collect();
    let unserved: Vec<_> = documented.difference(&served).collect();
    assert!(
        undocumented.is_empty() && unserved.is_empty(),
        "served but not documented: {undocumented:?}; documented but not served: {unserved:?}"
    );
}

#[test]
fn parameters_are_where_the_extractors_read_them() {
    let mut keyed = BTreeSet::new();
    for (path, method, operation) in operations(&document()) {
        let parameters = operation["parameters"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let mut in_path = BTreeSet::new();
        for p in &parameters {
            let name = p["name"].as_str().unwrap();
            match p["in"].as_str().unwrap() {
                "path" => {
                    assert!(
                        path.contains(&format!("{{{name}}}")),
                        "{method} {path}: `{name}` is declared in the path but the path has no {{{name}}}"
                    );
                    in_path.insert(name.to_owned());
                }
                "query" => {}
                // The one header a handler's middleware reads (`api/idempotency.rs`), on its four writes.
                "header" if name == "Idempotency-Key" => assert!(
                    IDEMPOTENT.contains(&(method.to_lowercase().as_str(), path.as_str())),
                    "{method} {path}: `Idempotency-Key` on a route without the middleware"
                ),
                other => panic!("{method} {path}: `{name}` in {other}"),
            }
            assert!(
                p["schema"].is_object(),
                "{method} {path}: `{name}` has no schema"
            );
        }
        if parameters.iter().any(|p| p["name"] == "Idempotency-Key") {
            keyed.insert((method.to_lowercase(), path.clone()));
        }
        for segment in path.split(['{', '}']).skip(1).step_by(2) {
            assert!(
                in_path.contains(segment),
                "{method} {path}: {{{segment}}} is not declared as a path parameter"
            );
        }
    }
    let expected: BTreeSet<_> = IDEMPOTENT
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(
        keyed, expected,
        "`Idempotency-Key` is documented on exactly its four writes"
    );
}

/// The operations `api.rs` layers `idempotency::guard` on.
const IDEMPOTENT: [(&str, &str); 4] = [
    ("post", "/api/incidents"),
    ("post", "/api/incidents/{id}/actions"),
    ("post", "/api/incidents/{id}/photos"),
    ("post", "/api/positions"),
];

/// Every `"$ref"` string under `value`.
fn refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push(r.clone()),
                    _ => refs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[test]
fn every_reference_is_defined_and_every_operation_id_unique() {
    let doc = document();
    let mut found = Vec::new();
    refs(&doc, &mut found);
    assert!(!found.is_empty());
    for reference in found {
        let name = reference
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("{reference} is not a schema reference"));
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "{reference} is referenced but not defined"
        );
    }
    let mut ids = BTreeSet::new();
    for (path, method, operation) in operations(&doc) {
        let id = operation["operationId"].as_str().unwrap().to_owned();
        assert!(
            ids.insert(id.clone()),
            "{method} {path}: operationId {id} is taken"
        );
    }
}

#[test]
fn every_error_answers_a_problem_and_the_extractors_statuses_are_listed() {
    let doc = document();
    for (path, method, operation) in operations(&doc) {
        let responses = operation["responses"].as_object().unwrap();
        let open311 = path.starts_with("/open311/");
        for (status, response) in responses {
            if !(status.starts_with('4') || status.starts_with('5')) {
                continue;
            }
            let (media, schema) = if open311 {
                ("application/json", "#/components/schemas/Open311ErrorItem")
            } else {
                ("application/problem+json", "#/components/schemas/Problem")
            };
            let content = &response["content"][media]["schema"];
            let reference = content["$ref"]
                .as_str()
                .or(content["items"]["$ref"].as_str());
            assert_eq!(
                reference,
                Some(schema),
                "{method} {path} {status}: {response}"
            );
            assert!(
                response["description"]
                    .as_str()
                    .is_some_and(|d| !d.is_empty()),
                "{method} {path} {status} has no description"
            );
        }
        let has = |status: &str| responses.contains_key(status);
        let stores = (method != "GET" && path != "/api/locate") || path == "/osmand";
        if stores {
            assert!(has("507"), "{method} {path} stores but lists no 507");
        }
        if operation.get("security").is_some() {
            assert!(has("401"), "{method} {path} takes a token but lists no 401");
        }
        if operation["requestBody"]["content"]
            .get("application/json")
            .is_some()
        {
            for status in ["400", "413", "415", "422"] {
                assert!(
                    has(status),
                    "{method} {path} takes JSON but lists no {status}"
                );
            }
        }
    }
    let problem = &doc["components"]["schemas"]["Problem"];
    assert_eq!(
        problem["required"],
        serde_json::json!(["type", "title", "status", "detail"])
    );
}
