//! Device credentials and workers' contacts (issue 18). A tracker's device id is made by the server
//! (128 random bits), shown once in the answer that binds it, and never again — not by `/api/workers`,
//! not on a websocket; an unknown id is answered exactly like a known one and stores nothing, so the
//! demo's old guessable ids (`demo-<grid code>`) move no one. Workers' phone numbers reach only the
//! roles that manage workers, in REST and on websockets (snapshot, live deltas and resume).

use reqwest::Method;
use serde_json::{Value, json};

use crate::cases::{grid_place, token};
use crate::harness::{Flavor, Server, TestStore, assert_problem};
use crate::live::Ws;

#[tokio::test]
async fn devices_and_contacts_on_sqlite() {
    devices_and_contacts(Flavor::Sqlite).await;
}

#[tokio::test]
async fn devices_and_contacts_on_postgis() {
    devices_and_contacts(Flavor::Postgres).await;
}

const PHONE: &str = "13900000000";
const NEW_PHONE: &str = "13900000001";

/// `GET /osmand?…` as OsmAnd sends it: status, headers but `date`, body.
async fn osmand(
    server: &Server,
    device: &str,
    lat: f64,
    lon: f64,
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let response = reqwest::Client::new()
        .get(server.url(&format!("/osmand?id={device}&lat={lat}&lon={lon}")))
        .send()
        .await
        .unwrap();
    seen(response).await
}

/// `POST /osmand` with Traccar Client's JSON: status, headers but `date`, body.
async fn traccar(
    server: &Server,
    device: &str,
    lat: f64,
    lon: f64,
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let body =
        json!({"device_id": device, "location": {"coords": {"latitude": lat, "longitude": lon}}});
    let response = reqwest::Client::new()
        .post(server.url("/osmand"))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    seen(response).await
}

/// What a tracker sees of an answer: status, headers but `date` (sorted), body — to compare a known
/// id's answer with an unknown one's.
async fn seen(response: reqwest::Response) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let status = response.status().as_u16();
    let mut headers: Vec<(String, String)> = response
        .headers()
        .iter()
        .filter(|(name, _)| *name != "date")
        .map(|(name, value)| (name.to_string(), value.to_str().unwrap().to_owned()))
        .collect();
    headers.sort();
    (status, headers, response.bytes().await.unwrap().to_vec())
}

async fn fixes(server: &Server, worker: i64) -> usize {
    let (status, track) = server.get(&format!("/api/workers/{worker}/track")).await;
    assert_eq!(status, 200, "{track}");
    track["features"].as_array().unwrap().len()
}

fn is_device_id(text: &str) -> bool {
    text.strip_prefix("gwd_")
        .is_some_and(|hex| hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

async fn devices_and_contacts(flavor: Flavor) {
    let Some(store) = TestStore::new(flavor).await else {
        return;
    };
    let server = Server::demo(&store);
    let a = grid_place(&server, 0, 0).await;
    let (_, grid) = server.get(&format!("/api/grids/{}", a.grid)).await;
    let code = grid["properties"]["code"].as_str().unwrap().to_owned();
    let commander = token(&server, "commander", None).await;
    let planner = token(&server, "planner", None).await;
    let co_worker = token(&server, "worker", Some(a.primary)).await;
    let reporter = token(&server, "reporter", None).await;
    let device_token = token(&server, "device", Some(a.primary)).await;

    // Websockets open before the worker exists: a command centre and a co-worker in the same grid.
    let mut centre = Ws::connect(&server, &commander).await;
    centre.subscribe(&json!({"layers": ["workers"]})).await;
    let mut colleague = Ws::connect(&server, &co_worker).await;
    colleague.subscribe(&json!({"layers": ["workers"]})).await;

    // --- Bound at creation: the device id is in the 201, and nowhere after.
    let (status, created) = server
        .send_as(
            &commander,
            Method::POST,
            "/api/workers",
            &json!({"name": "张巡", "kind": "patroller", "duty": "on_duty", "phone": PHONE, "device": true,
                "grids": [{"grid_id": a.grid, "responsibility": "backup"}]}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_i64().unwrap();
    let device = created["properties"]["device_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(is_device_id(&device), "{device}");
    assert_eq!(created["properties"]["phone"], PHONE);

    let (_, managed) = server
        .get_as(&commander, &format!("/api/workers/{id}"))
        .await;
    assert_eq!(
        (
            &managed["properties"]["phone"],
            &managed["properties"]["device"]
        ),
        (&json!(PHONE), &json!(true)),
        "{managed}"
    );
    assert_eq!(managed["properties"].get("device_id"), None, "{managed}");

    // --- Phone numbers and devices only for roles that manage workers.
    for (who, token) in [("planner", &planner), ("co-worker", &co_worker)] {
        let (status, one) = server.get_as(token, &format!("/api/workers/{id}")).await;
        assert_eq!(status, 200, "{who}: {one}");
        let p = &one["properties"];
        assert_eq!(
            (p.get("phone"), p.get("device"), p.get("device_id")),
            (None, None, None),
            "{who}: {one}"
        );
        let (status, all) = server.get_as(token, "/api/workers").await;
        assert_eq!(status, 200, "{who}: {all}");
        let text = all.to_string();
        assert!(
            !text.contains(PHONE) && !text.contains("\"phone\"") && !text.contains("gwd_"),
            "{who}: {text}"
        );
    }
    for (who, token) in [("reporter", &reporter), ("device", &device_token)] {
        let got = server.get_as(token, &format!("/api/workers/{id}")).await;
        assert_problem(&got, 403, "forbidden");
        assert!(!got.1.to_string().contains(PHONE), "{who}");
    }

    // The worker's creation on the websockets: the phone to the command centre, to no co-worker; the
    // device id to no one.
    let created_by =
        |m: &Value| m["type"] == "delta" && m["kind"] == "worker.created" && m["id"] == id;
    let seen = centre.until(created_by).await.pop().unwrap();
    assert_eq!(seen["data"]["phone"], PHONE, "{seen}");
    assert_eq!(seen["data"].get("device_id"), None, "{seen}");
    let seen = colleague.until(created_by).await.pop().unwrap();
    assert_eq!(
        (seen["data"].get("phone"), seen["data"].get("device_id")),
        (None, None),
        "{seen}"
    );

    // A change of phone, live and on resume; and the snapshots.
    let (_, health) = server.get("/health").await;
    let before = health["last_seq"].as_i64().unwrap();
    let (status, _) = server
        .send_as(
            &commander,
            Method::PATCH,
            &format!("/api/workers/{id}"),
            &json!({"phone": NEW_PHONE}),
        )
        .await;
    assert_eq!(status, 200);
    let updated =
        |m: &Value| m["type"] == "delta" && m["kind"] == "worker.updated" && m["id"] == id;
    assert_eq!(
        centre.until(updated).await.pop().unwrap()["data"]["phone"],
        NEW_PHONE
    );
    let seen = colleague.until(updated).await.pop().unwrap();
    assert_eq!(seen["data"].get("phone"), None, "{seen}");
    let mut late = Ws::connect(&server, &co_worker).await;
    late.send(&json!({"type": "resume", "seq": before, "layers": ["workers"]}))
        .await;
    let replayed = late.until(|m| m["type"] == "replayed").await;
    let text = serde_json::to_string(&replayed).unwrap();
    assert!(text.contains("worker.updated"), "{text}");
    assert!(
        !text.contains(NEW_PHONE) && !text.contains("gwd_"),
        "{text}"
    );
    let mut fresh = Ws::connect(&server, &co_worker).await;
    let snapshot = fresh
        .subscribe(&json!({"layers": ["workers"]}))
        .await
        .to_string();
    assert!(snapshot.contains("张巡"), "{snapshot}");
    assert!(
        !snapshot.contains(NEW_PHONE)
            && !snapshot.contains("\"phone\"")
            && !snapshot.contains("device_id"),
        "{snapshot}"
    );
    let mut fresh = Ws::connect(&server, &commander).await;
    let snapshot = fresh
        .subscribe(&json!({"layers": ["workers"]}))
        .await
        .to_string();
    assert!(
        snapshot.contains(NEW_PHONE) && !snapshot.contains("device_id"),
        "{snapshot}"
    );

    // --- OsmAnd and Traccar Client: the issued id moves the worker; an unknown one, and the demo's old
    // guessable id, get exactly the same answer and store nothing.
    let known = osmand(&server, &device, a.lat, a.lon).await;
    assert_eq!(known.0, 200);
    let known_json = traccar(&server, &device, a.lat, a.lon).await;
    assert_eq!(known_json.0, 200);
    assert_eq!(fixes(&server, id).await, 2);
    let primary_fixes = fixes(&server, a.primary).await;
    for unknown in [
        format!("gwd_{}", "0".repeat(32)),
        format!("demo-{code}"),
        "x".to_owned(),
    ] {
        assert_eq!(
            osmand(&server, &unknown, a.lat, a.lon).await,
            known,
            "{unknown}"
        );
        assert_eq!(
            traccar(&server, &unknown, a.lat, a.lon).await,
            known_json,
            "{unknown}"
        );
    }
    assert_eq!(fixes(&server, id).await, 2, "only the known device's fixes");
    assert_eq!(
        fixes(&server, a.primary).await,
        primary_fixes,
        "the demo-style id moved no one"
    );

    // --- A new binding replaces the old id; `false` unbinds.
    let (status, rebound) = server
        .send_as(
            &commander,
            Method::PATCH,
            &format!("/api/workers/{id}"),
            &json!({"device": true}),
        )
        .await;
    assert_eq!(status, 200, "{rebound}");
    let second = rebound["properties"]["device_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(is_device_id(&second) && second != device);
    assert_eq!(osmand(&server, &device, a.lat, a.lon).await, known);
    assert_eq!(
        fixes(&server, id).await,
        2,
        "the replaced id no longer works"
    );
    assert_eq!(osmand(&server, &second, a.lat, a.lon).await.0, 200);
    assert_eq!(fixes(&server, id).await, 3);
    let (status, unbound) = server
        .send_as(
            &commander,
            Method::PATCH,
            &format!("/api/workers/{id}"),
            &json!({"device": false}),
        )
        .await;
    assert_eq!(status, 200, "{unbound}");
    assert_eq!(
        (
            unbound["properties"]["device"].clone(),
            unbound["properties"].get("device_id")
        ),
        (json!(false), None)
    );
    assert_eq!(osmand(&server, &second, a.lat, a.lon).await, known);
    assert_eq!(
        fixes(&server, id).await,
        3,
        "an unbound tracker moves no one"
    );

    // A client cannot choose a device id.
    let chosen = server
        .send_as(
            &commander,
            Method::PATCH,
            &format!("/api/workers/{id}"),
            &json!({"device_id": "tracker-7"}),
        )
        .await;
    assert_problem(&chosen, 422, "invalid-input");
    drop(server);
    store.finish().await;
}
