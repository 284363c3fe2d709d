//! `Idempotency-Key` (issue 19) on the real binary, both stores: a create, an action, a photo and a
//! position batch sent twice with one key are done once and answered twice alike (the second time with
//! `Idempotent-Replayed: true`), also after a restart; the key with another body is a 422 and does
//! nothing; another token's key of the same text is its own; malformed keys are a 400 and do nothing.

use reqwest::Method;
use serde_json::{Value, json};

use crate::cases::{GridPlace, actions, case, grid_place, token};
use crate::harness::{Flavor, Server, TestStore, assert_problem};
use crate::photos::jpeg;

#[tokio::test]
async fn idempotency_keys_on_sqlite() {
    idempotency_keys(Flavor::Sqlite).await;
}

#[tokio::test]
async fn idempotency_keys_on_postgis() {
    idempotency_keys(Flavor::Postgres).await;
}

/// What a client sees of an answer.
#[derive(Debug, Clone, PartialEq)]
struct Answer {
    status: u16,
    replayed: Option<String>,
    content_type: String,
    location: Option<String>,
    body: Value,
}

impl Answer {
    fn pair(&self) -> (u16, Value) {
        (self.status, self.body.clone())
    }

    /// Everything but the replay mark, to compare a first answer with its replay.
    fn unmarked(&self) -> Self {
        Self {
            replayed: None,
            ..self.clone()
        }
    }
}

/// Sends `body` (JSON, or raw bytes with their content type) to `path` as `token` with the header
/// value `key` (none when `None`).
async fn send(server: &Server, token: &str, path: &str, key: Option<&[u8]>, body: Body) -> Answer {
    let mut request = server
        .http
        .request(Method::POST, server.url(path))
        .bearer_auth(token);
    if let Some(key) = key {
        request = request.header(
            "idempotency-key",
            reqwest::header::HeaderValue::from_bytes(key).unwrap(),
        );
    }
    request = match body {
        Body::Json(value) => request.json(&value),
        Body::Raw(content_type, bytes) => request.header("content-type", content_type).body(bytes),
    };
    let response = request.send().await.unwrap();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let (replayed, content_type, location) = (
        header("idempotent-replayed"),
        header("content-type").unwrap_or_default(),
        header("location"),
    );
    let status = response.status().as_u16();
    let bytes = response.bytes().await.unwrap();
    Answer {
        status,
        replayed,
        content_type,
        location,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    }
}

enum Body {
    Json(Value),
    Raw(String, Vec<u8>),
}

fn report_at(place: &GridPlace, description: &str) -> Body {
    Body::Json(
        json!({"lat": place.lat, "lon": place.lon, "category": "city_appearance",
        "priority": "normal", "description": description, "source": "hotline"}),
    )
}

async fn incident_count(server: &Server) -> usize {
    let (status, list) = server.get("/api/incidents?limit=1000").await;
    assert_eq!(status, 200, "{list}");
    list["features"].as_array().unwrap().len()
}

async fn track_len(server: &Server, worker: i64) -> usize {
    let (status, track) = server.get(&format!("/api/workers/{worker}/track")).await;
    assert_eq!(status, 200, "{track}");
    track["features"].as_array().unwrap().len()
}

/// A replay: the first answer again, marked.
#[track_caller]
fn assert_replay(first: &Answer, again: &Answer) {
    assert_eq!(
        first.replayed, None,
        "a first answer is not marked: {first:?}"
    );
    assert_eq!(again.replayed.as_deref(), Some("true"), "{again:?}");
    assert_eq!(
        again.unmarked(),
        first.unmarked(),
        "the replay is the first answer"
    );
}

async fn idempotency_keys(flavor: Flavor) {
    let Some(store) = TestStore::new(flavor).await else {
        return;
    };
    let mut server = Server::demo(&store);
    let admin = server.token().to_owned();
    let place = grid_place(&server, 0, 3).await;
    let commander = token(&server, "commander", None).await;
    let handler = token(&server, "worker", Some(place.primary)).await;
    let before = incident_count(&server).await;

    // --- A create sent twice with one key: one case, the same answer twice.
    let key = b"8e03978e-40d5-43e8-bc93-6894a57f9324".as_slice();
    let first = send(
        &server,
        &commander,
        "/api/incidents",
        Some(key),
        report_at(&place, "路灯不亮"),
    )
    .await;
    assert_eq!(first.status, 201, "{first:?}");
    assert!(first.location.is_some(), "{first:?}");
    let again = send(
        &server,
        &commander,
        "/api/incidents",
        Some(key),
        report_at(&place, "路灯不亮"),
    )
    .await;
    assert_replay(&first, &again);
    // The draft's quoted form names the same key.
    let quoted = send(
        &server,
        &commander,
        "/api/incidents",
        Some(b"\"8e03978e-40d5-43e8-bc93-6894a57f9324\""),
        report_at(&place, "路灯不亮"),
    )
    .await;
    assert_replay(&first, &quoted);
    assert_eq!(
        incident_count(&server).await,
        before + 1,
        "one case for one key"
    );
    let id = first.body["properties"]["id"].as_i64().unwrap();

    // --- The same key with another body: 422, nothing created.
    let other = send(
        &server,
        &commander,
        "/api/incidents",
        Some(key),
        report_at(&place, "井盖缺失"),
    )
    .await;
    assert_problem(&other.pair(), 422, "idempotency-key-reused");
    assert_eq!(other.content_type, "application/problem+json");
    assert_eq!(other.replayed, None);
    // And on another path: the key is the caller's, whatever it was used for.
    let elsewhere = send(
        &server,
        &commander,
        &format!("/api/incidents/{id}/actions"),
        Some(key),
        Body::Json(json!({"action": "defer", "reason": "night"})),
    )
    .await;
    assert_problem(&elsewhere.pair(), 422, "idempotency-key-reused");
    assert_eq!(incident_count(&server).await, before + 1, "nothing more");

    // --- Another token with the same key text: its own answer, its own case.
    let theirs = send(
        &server,
        &admin,
        "/api/incidents",
        Some(key),
        report_at(&place, "路灯不亮"),
    )
    .await;
    assert_eq!(theirs.status, 201, "{theirs:?}");
    assert_eq!(theirs.replayed, None, "never another caller's answer");
    assert_ne!(
        theirs.body["properties"]["id"],
        first.body["properties"]["id"]
    );
    assert_eq!(incident_count(&server).await, before + 2);

    // --- Without a key, exactly as before: two sends, two cases, no mark.
    let plain = send(
        &server,
        &commander,
        "/api/incidents",
        None,
        report_at(&place, "无钥匙"),
    )
    .await;
    assert_eq!(
        (plain.status, plain.replayed.clone()),
        (201, None),
        "{plain:?}"
    );
    let plain = send(
        &server,
        &commander,
        "/api/incidents",
        None,
        report_at(&place, "无钥匙"),
    )
    .await;
    assert_eq!(plain.status, 201, "{plain:?}");
    assert_eq!(incident_count(&server).await, before + 4);

    // --- An action replayed is applied once (a second `accept` would be an illegal transition).
    let path = format!("/api/incidents/{id}/actions");
    let accept = || Body::Json(json!({"action": "accept"}));
    let first = send(&server, &handler, &path, Some(b"accept-1"), accept()).await;
    assert_eq!(first.status, 200, "{first:?}");
    let again = send(&server, &handler, &path, Some(b"accept-1"), accept()).await;
    assert_replay(&first, &again);
    assert_eq!(
        actions(&case(&server, id).await),
        ["register", "dispatch", "accept"]
    );
    // A refusal is an answer too: kept, and given again.
    let refused = send(&server, &handler, &path, Some(b"accept-2"), accept()).await;
    assert_problem(&refused.pair(), 409, "illegal-transition");
    let again = send(&server, &handler, &path, Some(b"accept-2"), accept()).await;
    assert_replay(&refused, &again);

    // --- A photo replayed is attached once (a second upload of it would be a 409).
    let boundary = "idempotency-test-boundary";
    let mut multipart = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"photo\"; \
        filename=\"x.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"
    )
    .into_bytes();
    multipart.extend(jpeg(300));
    multipart.extend(format!("\r\n--{boundary}--\r\n").bytes());
    let photo = || {
        Body::Raw(
            format!("multipart/form-data; boundary={boundary}"),
            multipart.clone(),
        )
    };
    let photos = format!("/api/incidents/{id}/photos");
    let first = send(&server, &handler, &photos, Some(b"photo-1"), photo()).await;
    assert_eq!(first.status, 201, "{first:?}");
    let again = send(&server, &handler, &photos, Some(b"photo-1"), photo()).await;
    assert_replay(&first, &again);
    assert_eq!(
        case(&server, id).await["photos"].as_array().unwrap().len(),
        1
    );

    // --- A position batch replayed: its fixes are stored once.
    let at = chrono::Utc::now();
    let batch = || {
        Body::Json(json!([
            {"lat": place.lat, "lon": place.lon, "at": (at - chrono::TimeDelta::seconds(20)).to_rfc3339()},
            {"lat": place.lat + 0.0001, "lon": place.lon, "at": (at - chrono::TimeDelta::seconds(10)).to_rfc3339()},
        ]))
    };
    let fixes = track_len(&server, place.primary).await;
    let first = send(
        &server,
        &handler,
        "/api/positions",
        Some(b"fixes-1"),
        batch(),
    )
    .await;
    assert_eq!(first.status, 200, "{first:?}");
    assert_eq!(first.body["accepted"], 2);
    let again = send(
        &server,
        &handler,
        "/api/positions",
        Some(b"fixes-1"),
        batch(),
    )
    .await;
    assert_replay(&first, &again);
    assert_eq!(
        track_len(&server, place.primary).await,
        fixes + 2,
        "fixes not duplicated"
    );

    // --- Malformed keys: 400, nothing done.
    let count = incident_count(&server).await;
    let long = vec![b'k'; 256];
    for bad in [long.as_slice(), b"a\tb", b"", b"a b", b"caf\xc3\xa9"] {
        let answer = send(
            &server,
            &commander,
            "/api/incidents",
            Some(bad),
            report_at(&place, "坏钥匙"),
        )
        .await;
        assert_problem(&answer.pair(), 400, "invalid-idempotency-key");
    }
    let bad_batch = send(
        &server,
        &handler,
        "/api/positions",
        Some(long.as_slice()),
        batch(),
    )
    .await;
    assert_problem(&bad_batch.pair(), 400, "invalid-idempotency-key");
    assert_eq!(incident_count(&server).await, count, "nothing created");
    assert_eq!(
        track_len(&server, place.primary).await,
        fixes + 2,
        "nothing stored"
    );
    // The longest key taken is 255 characters.
    let longest = vec![b'k'; 255];
    let answer = send(
        &server,
        &commander,
        "/api/incidents",
        Some(longest.as_slice()),
        report_at(&place, "长钥匙"),
    )
    .await;
    assert_eq!(answer.status, 201, "{answer:?}");

    // --- After a restart the answers are still kept: from the store.
    let (create, action) = (
        send(
            &server,
            &commander,
            "/api/incidents",
            Some(key),
            report_at(&place, "路灯不亮"),
        )
        .await,
        send(&server, &handler, &path, Some(b"accept-1"), accept()).await,
    );
    server.kill();
    let mut server = Server::start(&["serve"], &store);
    server.admin = Some(admin);
    let count = incident_count(&server).await;
    let again = send(
        &server,
        &commander,
        "/api/incidents",
        Some(key),
        report_at(&place, "路灯不亮"),
    )
    .await;
    assert_eq!(again.replayed.as_deref(), Some("true"), "{again:?}");
    assert_eq!(again.unmarked(), create.unmarked());
    let again = send(&server, &handler, &path, Some(b"accept-1"), accept()).await;
    assert_eq!(again, action);
    let other = send(
        &server,
        &commander,
        "/api/incidents",
        Some(key),
        report_at(&place, "井盖缺失"),
    )
    .await;
    assert_problem(&other.pair(), 422, "idempotency-key-reused");
    assert_eq!(incident_count(&server).await, count, "nothing done again");
    assert_eq!(
        actions(&case(&server, id).await),
        ["register", "dispatch", "accept"]
    );

    drop(server);
    store.finish().await;
}
