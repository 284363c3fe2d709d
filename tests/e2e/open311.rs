//! Open311 `GeoReport` v2 through the real binary: services, filing a request by form, every filter of
//! the request list, the open/closed mapping after a case walks the loop, the Open311 error array for
//! every refusal (and nothing stored by any of them), personal fields never kept, and every answer kind
//! validated against the published JSON Schemas by `tests/reference/check_open311.py`.

use std::path::PathBuf;
use std::process::Command;

use serde_json::{Value, json};

use crate::cases::{act_ok, grid_place, last_seq, report, token};
use crate::harness::{Flavor, Server, TestStore, ci, reference_python, workspace_root};

/// Personal fields an Open311 client may send; none may ever be stored or answered.
const PERSONAL: &[(&str, &str)] = &[
    ("email", "resident.e2e@example.org"),
    ("first_name", "Zhangfirstname"),
    ("last_name", "Lilastname"),
    ("phone", "+86-139-1234-5678"),
    ("device_id", "device-e2e-77"),
    ("account_id", "account-e2e-77"),
];
const SERVICE_FIELDS: &[&str] = &[
    "service_code",
    "service_name",
    "description",
    "metadata",
    "type",
    "keywords",
    "group",
];
const REQUEST_FIELDS: &[&str] = &[
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
];

#[tokio::test]
async fn open311_on_sqlite() {
    open311(Flavor::Sqlite).await;
}

#[tokio::test]
async fn open311_on_postgis() {
    open311(Flavor::Postgres).await;
}

/// Form fields, in order.
type Form<'a> = Vec<(&'a str, &'a str)>;

/// One answer: status, content type, body text and its JSON (Null if not JSON).
struct Answer {
    status: u16,
    content_type: String,
    text: String,
    json: Value,
}

async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let text = response.text().await.unwrap();
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Answer {
        status,
        content_type,
        text,
        json,
    }
}

/// A public GET under `/open311/v2` (no token).
async fn get(server: &Server, path: &str) -> Answer {
    answer(
        server
            .http
            .get(server.url(&format!("/open311/v2{path}")))
            .send()
            .await
            .unwrap(),
    )
    .await
}

/// A form-encoded `POST /open311/v2/requests.json`.
async fn post(server: &Server, form: &[(&str, &str)]) -> Answer {
    answer(
        server
            .http
            .post(server.url("/open311/v2/requests.json"))
            .form(form)
            .send()
            .await
            .unwrap(),
    )
    .await
}

/// Asserts the Open311 error array with `status` as both the HTTP status and the `code`.
#[track_caller]
fn assert_error(got: &Answer, status: u16, what: &str) {
    assert_eq!(got.status, status, "{what}: {}", got.text);
    assert!(
        got.content_type.starts_with("application/json"),
        "{what}: content type {}",
        got.content_type
    );
    let errors = got
        .json
        .as_array()
        .unwrap_or_else(|| panic!("{what}: not an array: {}", got.text));
    assert_eq!(errors.len(), 1, "{what}: {}", got.text);
    let error = errors[0].as_object().unwrap();
    assert_eq!(
        error.len(),
        2,
        "{what}: only code and description: {}",
        got.text
    );
    assert_eq!(error["code"], status, "{what}");
    assert!(
        error["description"].as_str().is_some_and(|d| !d.is_empty()),
        "{what}"
    );
}

/// The ids of a request list, in order.
fn ids(got: &Answer) -> Vec<String> {
    assert_eq!(got.status, 200, "{}", got.text);
    got.json
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["service_request_id"].as_str().unwrap().to_owned())
        .collect()
}

async fn incident_total(server: &Server) -> i64 {
    let (status, list) = server.get("/api/incidents?limit=1").await;
    assert_eq!(status, 200);
    list["total"].as_i64().unwrap()
}

async fn open311(flavor: Flavor) {
    let Some(store) = TestStore::new(flavor).await else {
        return;
    };
    let server = Server::demo(&store);
    let here = grid_place(&server, 0, 0).await;
    let there = grid_place(&server, 1, 0).await;
    let reporter = token(&server, "reporter", None).await;
    let planner = token(&server, "planner", None).await;
    let commander = token(&server, "commander", None).await;
    let handler = token(&server, "worker", Some(here.primary)).await;
    let mut answers: Vec<String> = Vec::new();

    // --- Discovery, services, definitions.
    let discovery = get(&server, "/discovery.json").await;
    assert_eq!(discovery.status, 200, "{}", discovery.text);
    let endpoint = &discovery.json["endpoints"][0];
    assert_eq!(endpoint["url"], server.url("/open311/v2"));
    assert_eq!(endpoint["formats"], json!(["application/json"]));
    let services = get(&server, "/services.json").await;
    assert_eq!(services.status, 200, "{}", services.text);
    let (_, categories) = server.get("/api/categories").await;
    let mut active: Vec<&str> = categories
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["active"] == true)
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    active.sort_unstable();
    let codes: Vec<&str> = services
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["service_code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, active, "every active category is a service");
    for service in services.json.as_array().unwrap() {
        let mut keys: Vec<&str> = service
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        let mut expected = SERVICE_FIELDS.to_vec();
        expected.sort_unstable();
        assert_eq!(keys, expected, "exactly the spec's service fields");
        assert_eq!(
            (service["metadata"].as_bool(), service["type"].as_str()),
            (Some(false), Some("realtime"))
        );
    }
    let (status, openapi) = server.get("/api/openapi.json").await;
    assert_eq!(status, 200);
    let paths = &openapi["paths"]["/open311/v2/requests.json"];
    assert!(
        paths["get"].is_object() && paths["post"].is_object(),
        "Open311 is in the OpenAPI document"
    );
    let definition = get(&server, "/services/city_appearance.json").await;
    assert_eq!(definition.status, 200);
    assert_eq!(
        definition.json,
        json!({"service_code": "city_appearance", "attributes": []})
    );
    assert_error(
        &get(&server, "/services/no_such_thing.json").await,
        404,
        "unknown service",
    );
    assert_error(&get(&server, "/services.xml").await, 400, "xml format");
    assert_error(
        &get(&server, "/services/city_appearance.xml").await,
        400,
        "xml definition",
    );

    // --- Filing a request by form: a case with source open311, in the right grid; personal fields dropped.
    let (lat, long) = (here.lat.to_string(), here.lon.to_string());
    let mut form = vec![
        ("api_key", reporter.as_str()),
        ("service_code", "city_appearance"),
        ("lat", lat.as_str()),
        ("long", long.as_str()),
        ("description", "垃圾满溢 overflowing bin"),
        ("media_url", "https://example.org/photo.jpg"),
    ];
    form.extend_from_slice(PERSONAL);
    let filed = post(&server, &form).await;
    assert_eq!(filed.status, 201, "{}", filed.text);
    answers.push(filed.text.clone());
    let first = filed.json[0]["service_request_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(filed.json[0]["account_id"], Value::Null, "{}", filed.text);
    assert!(filed.json[0]["service_notice"].is_string());
    let (status, case) = server.get(&format!("/api/incidents/{first}")).await;
    assert_eq!(status, 200, "{case}");
    answers.push(case.to_string());
    let p = &case["properties"];
    assert_eq!(
        (p["source"].as_str(), p["category"].as_str()),
        (Some("open311"), Some("city_appearance"))
    );
    assert_eq!(
        (p["grid_id"].as_i64(), p["community_id"].as_i64()),
        (Some(here.grid), Some(here.community))
    );
    assert_eq!(p["description"], "垃圾满溢 overflowing bin");
    let (there_lat, there_long) = (there.lat.to_string(), there.lon.to_string());
    let filed = post(
        &server,
        &[
            ("api_key", commander.as_str()),
            ("service_code", "hazard"),
            ("lat", there_lat.as_str()),
            ("long", there_long.as_str()),
        ],
    )
    .await;
    assert_eq!(
        filed.status, 201,
        "a commander (hotline operator) may file too: {}",
        filed.text
    );
    let second = filed.json[0]["service_request_id"]
        .as_str()
        .unwrap()
        .to_owned();
    // A case reported on the JSON API stays out of the public Open311 view.
    let internal =
        report(&server, &reporter, here.lat, here.lon, "dispute").await["id"].to_string();

    // --- Reading: one, all, and each filter.
    let one = get(&server, &format!("/requests/{first}.json")).await;
    assert_eq!(one.status, 200, "{}", one.text);
    answers.push(one.text.clone());
    let request = one.json[0].as_object().unwrap();
    let mut keys: Vec<&str> = request.keys().map(String::as_str).collect();
    keys.sort_unstable();
    let mut expected = REQUEST_FIELDS.to_vec();
    expected.sort_unstable();
    assert_eq!(keys, expected, "exactly the spec's request fields");
    assert_eq!(request["status"], "open");
    assert_eq!(request["service_code"], "city_appearance");
    assert_eq!(
        (request["lat"].as_f64(), request["long"].as_f64()),
        (Some(here.lat), Some(here.lon))
    );
    assert_eq!(
        request["expected_datetime"]
            .as_str()
            .map(|t| &t[t.len() - 6..]),
        Some("+08:00"),
        "{}",
        one.text
    );
    // Open311 times are whole seconds; the deadline is exact (within working hours it is now + the limit).
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(request["expected_datetime"].as_str().unwrap())
            .unwrap()
            .timestamp(),
        chrono::DateTime::parse_from_rfc3339(p["deadline"].as_str().unwrap())
            .unwrap()
            .timestamp(),
        "expected_datetime is the deadline, to the second"
    );
    assert_error(
        &get(&server, &format!("/requests/{internal}.json")).await,
        404,
        "a case not filed through Open311",
    );
    assert_error(
        &get(&server, "/requests/999999.json").await,
        404,
        "unknown request",
    );
    assert_error(
        &get(&server, "/requests/abc.json").await,
        400,
        "non-numeric request id",
    );

    let all = get(&server, "/requests.json").await;
    answers.push(all.text.clone());
    assert_eq!(
        ids(&all),
        [second.as_str(), first.as_str()],
        "newest first, Open311 cases only"
    );
    assert_eq!(
        ids(&get(
            &server,
            &format!("/requests.json?service_request_id={first}")
        )
        .await),
        [first.as_str()]
    );
    assert_eq!(
        ids(&get(&server, &format!("/requests.json?service_request_id={first},{second},{internal},424242&service_code=hazard&status=closed")).await),
        [first.as_str(), second.as_str()],
        "service_request_id overrides the other filters"
    );
    assert_eq!(
        ids(&get(&server, "/requests.json?service_code=hazard").await),
        [second.as_str()]
    );
    assert_eq!(
        ids(&get(
            &server,
            "/requests.json?service_code=hazard,city_appearance"
        )
        .await)
        .len(),
        2
    );
    let now = chrono::Utc::now();
    let window = |from: chrono::TimeDelta, to: chrono::TimeDelta| {
        let f =
            |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        format!(
            "/requests.json?start_date={}&end_date={}",
            f(now + from),
            f(now + to)
        )
    };
    let day = chrono::TimeDelta::days(1);
    assert_eq!(ids(&get(&server, &window(-day, day)).await).len(), 2);
    assert!(
        ids(&get(&server, &window(-day * 30, -day)).await).is_empty(),
        "a window in the past"
    );
    assert_eq!(
        ids(&get(&server, "/requests.json?start_date=2000-01-01").await),
        Vec::<String>::new()
    );
    // An unencoded `+` in the offset arrives as a space and is still read.
    let today = now
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
        .format("%Y-%m-%d");
    assert_eq!(
        ids(&get(
            &server,
            &format!("/requests.json?end_date={today}T23:59:59+08:00")
        )
        .await)
        .len(),
        2
    );
    assert_eq!(
        ids(&get(&server, "/requests.json?status=open").await).len(),
        2
    );
    assert!(ids(&get(&server, "/requests.json?status=closed").await).is_empty());

    // Walk the first case to closed through the JSON API: it reads `closed` now.
    for step in [
        json!({"action": "accept"}),
        json!({"action": "start"}),
        json!({"action": "resolve"}),
    ] {
        act_ok(&server, &handler, first.parse().unwrap(), &step).await;
    }
    assert_eq!(
        get(&server, &format!("/requests/{first}.json")).await.json[0]["status"],
        "open",
        "resolved is still open"
    );
    act_ok(
        &server,
        &commander,
        first.parse().unwrap(),
        &json!({"action": "verify", "passed": true}),
    )
    .await;
    let closed = get(&server, &format!("/requests/{first}.json")).await;
    answers.push(closed.text.clone());
    assert_eq!(closed.json[0]["status"], "closed");
    assert_eq!(
        ids(&get(&server, "/requests.json?status=closed").await),
        [first.as_str()]
    );
    assert_eq!(
        ids(&get(&server, "/requests.json?status=open").await),
        [second.as_str()]
    );
    assert_eq!(
        ids(&get(&server, "/requests.json?status=open,closed").await).len(),
        2
    );

    // --- Bad reads: Open311 errors.
    for (query, what) in [
        ("start_date=yesterday", "bad start_date"),
        ("end_date=2026-02-30", "impossible date"),
        (
            "start_date=2026-03-01T00:00:00Z&end_date=2026-02-01T00:00:00Z",
            "end before start",
        ),
        (
            "start_date=2025-01-01T00:00:00Z&end_date=2025-06-01T00:00:00Z",
            "more than 90 days",
        ),
        ("status=pending", "bad status"),
        ("service_code=no_such_thing", "unknown service_code"),
        ("service_request_id=1;2", "bad id list"),
        ("page=2", "unknown parameter"),
        ("status=open&status=closed", "repeated parameter"),
    ] {
        assert_error(
            &get(&server, &format!("/requests.json?{query}")).await,
            400,
            what,
        );
    }

    // --- Bad writes: an Open311 error, and nothing stored.
    let seq = last_seq(&server).await;
    let total = incident_total(&server).await;
    let good: Vec<(&str, &str)> = vec![
        ("api_key", reporter.as_str()),
        ("service_code", "city_appearance"),
        ("lat", lat.as_str()),
        ("long", long.as_str()),
    ];
    let with = |name: &'static str, value: &'static str| {
        let mut form: Vec<(&str, &str)> =
            good.iter().filter(|(k, _)| *k != name).copied().collect();
        form.push((name, value));
        form
    };
    let without = |name: &str| {
        good.iter()
            .filter(|(k, _)| *k != name)
            .copied()
            .collect::<Vec<_>>()
    };
    let long_text = "长".repeat(4001);
    let mut too_long = good.clone();
    too_long.push(("description", long_text.as_str()));
    let mut address_only = without("lat");
    address_only.retain(|(k, _)| *k != "long");
    address_only.push(("address_string", "1 Main St"));
    let mut twice = good.clone();
    twice.push(("lat", "36.2"));
    let refusals: Vec<(Form, u16, &str)> = vec![
        (without("api_key"), 403, "missing api_key"),
        (with("api_key", "gw_0000"), 403, "unknown api_key"),
        (with("api_key", ""), 403, "empty api_key"),
        (
            vec![
                ("api_key", planner.as_str()),
                ("service_code", "city_appearance"),
                ("lat", lat.as_str()),
                ("long", long.as_str()),
            ],
            403,
            "planner key",
        ),
        (
            with("service_code", "no_such_thing"),
            400,
            "unknown service_code",
        ),
        (without("service_code"), 400, "missing service_code"),
        (without("lat"), 400, "missing lat"),
        (without("long"), 400, "missing long"),
        (address_only, 400, "address without lat/long"),
        (with("lat", "91"), 400, "lat out of range"),
        (with("long", "-180.5"), 400, "long out of range"),
        (with("lat", "NaN"), 400, "NaN"),
        (with("long", "inf"), 400, "infinite"),
        (with("lat", "north"), 400, "non-numeric"),
        (with("long", "1e999"), 400, "overflowing number"),
        (with("lat", "0"), 400, "far outside every grid"),
        (
            with("media_url", "javascript:alert(1)"),
            400,
            "bad media_url",
        ),
        (with("colour", "red"), 400, "unknown field"),
        (twice, 400, "field given twice"),
        (too_long, 400, "description over 4000 characters"),
    ];
    for (form, status, what) in refusals {
        let got = post(&server, &form).await;
        assert_error(&got, status, what);
        answers.push(got.text);
    }
    let json_body = server
        .http
        .post(server.url("/open311/v2/requests.json"))
        .json(&json!({"api_key": reporter, "service_code": "hazard", "lat": here.lat, "long": here.lon}))
        .send()
        .await
        .unwrap();
    assert_error(&answer(json_body).await, 415, "JSON instead of a form");
    let not_utf8 = server
        .http
        .post(server.url("/open311/v2/requests.json"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(b"api_key=%FF%FE&lat=1".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(answer(not_utf8).await.status / 100, 4, "undecodable form");
    assert_error(
        &answer(
            server
                .http
                .delete(server.url("/open311/v2/requests.json"))
                .send()
                .await
                .unwrap(),
        )
        .await,
        405,
        "DELETE",
    );
    assert_eq!(
        last_seq(&server).await,
        seq,
        "no refused request wrote an event"
    );
    assert_eq!(
        incident_total(&server).await,
        total,
        "no refused request stored a case"
    );

    // --- Personal fields: in no answer, and nowhere in the store.
    let (_, list) = server.get("/api/incidents?limit=1000").await;
    answers.push(list.to_string());
    for (field, value) in PERSONAL {
        for text in &answers {
            assert!(
                !text.contains(value),
                "{field} came back in an answer: {text}"
            );
        }
    }
    let stored = store_text(&store, flavor).await;
    assert!(
        stored.contains("垃圾满溢 overflowing bin"),
        "the store dump sees the case's description"
    );
    for (field, value) in PERSONAL {
        assert!(!stored.contains(value), "{field} was stored");
    }

    check_open311(&server, &reporter, here.lat, here.lon);
    store.finish().await;
}

/// Everything the store holds, as text: the SQLite files' bytes, or every PostgreSQL table as JSON.
async fn store_text(store: &TestStore, flavor: Flavor) -> String {
    match flavor {
        Flavor::Sqlite => {
            let mut text = String::new();
            let dir = PathBuf::from(&store.args[1]);
            for entry in std::fs::read_dir(dir).unwrap() {
                let bytes = std::fs::read(entry.unwrap().path()).unwrap();
                text.push_str(&String::from_utf8_lossy(&bytes));
            }
            text
        }
        Flavor::Postgres => {
            let pool = sqlx::PgPool::connect(&store.args[1]).await.unwrap();
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
            )
            .fetch_all(&pool)
            .await
            .unwrap();
            let mut text = String::new();
            for table in tables {
                let sql = format!(
                    "SELECT coalesce(string_agg(to_jsonb(t)::text, E'\\n'), '') FROM \"{table}\" t"
                );
                let rows: String = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                    .fetch_one(&pool)
                    .await
                    .unwrap();
                text.push_str(&rows);
            }
            pool.close().await;
            text
        }
    }
}

/// Runs `tests/reference/check_open311.py`: every answer kind against the schemas in `../shared/open311/`.
fn check_open311(server: &Server, api_key: &str, lat: f64, long: f64) {
    let Some(python) = reference_python() else {
        return;
    };
    let has_jsonschema = Command::new(&python)
        .args(["-c", "import jsonschema, referencing"])
        .status()
        .is_ok_and(|s| s.success());
    if !has_jsonschema {
        assert!(
            !ci(),
            "CI=true but {python} cannot import jsonschema (see tests/reference/requirements.txt)"
        );
        eprintln!("SKIPPED: the Open311 schema check needs python with jsonschema");
        return;
    }
    let schemas = std::env::var("GRIDWATCH_OPEN311_SCHEMAS").map_or_else(
        |_| workspace_root().parent().unwrap().join("shared/open311"),
        PathBuf::from,
    );
    if !schemas.is_dir() {
        assert!(
            !ci(),
            "CI=true but the Open311 schemas are not at {}",
            schemas.display()
        );
        eprintln!(
            "SKIPPED: no Open311 schemas at {} (set GRIDWATCH_OPEN311_SCHEMAS)",
            schemas.display()
        );
        return;
    }
    let output = Command::new(python)
        .arg(workspace_root().join("tests/reference/check_open311.py"))
        .args([
            server.base.as_str(),
            api_key,
            &lat.to_string(),
            &long.to_string(),
        ])
        .arg("--schemas")
        .arg(&schemas)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    eprintln!("{stdout}{stderr}");
    assert!(
        output.status.success(),
        "Open311 schema check failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("valid against the schemas"), "{stdout}");
}
