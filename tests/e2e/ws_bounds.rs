//! Bounded websocket memory (issue 19, point 5), through the real binary: a snapshot comes in parts
//! that add up to exactly the open cases and workers the subscriber may see (one part at a time is
//! what a connection holds); a subscriber past its byte cap is told to resync; the bytes queued to all
//! subscribers together stay under the server-wide cap; and connections past the cap are refused with
//! a 503 and `Retry-After`, and taken again once one closes.

use std::collections::BTreeSet;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::cases::{GridPlace, grid_place, report, token};
use crate::harness::{Flavor, Server, TestStore, assert_problem};
use crate::live::Ws;

/// The part size the snapshot test asks for: small enough that a few dozen cases need many parts.
const CHUNK: usize = 2048;
/// The statuses of an open case (docs/DOMAIN: the workflow's open states).
const OPEN: &str = "registered,dispatched,accepted,in_progress,resolved";

#[tokio::test]
async fn a_snapshot_comes_in_parts_that_add_up_to_what_the_subscriber_may_see_on_sqlite() {
    snapshot_in_parts(Flavor::Sqlite).await;
}

#[tokio::test]
async fn a_snapshot_comes_in_parts_that_add_up_to_what_the_subscriber_may_see_on_postgis() {
    snapshot_in_parts(Flavor::Postgres).await;
}

/// Reads a snapshot and its parts; returns the parts.
async fn parts(ws: &mut Ws, filter: &Value) -> Vec<Value> {
    let mut message = filter.clone();
    message["type"] = json!("subscribe");
    ws.send(&message).await;
    let mut parts = vec![ws.next().await];
    assert_eq!(parts[0]["type"], "snapshot", "{}", parts[0]);
    while parts.last().unwrap()["more"] == true {
        let part = ws.next().await;
        assert_eq!(part["type"], "snapshot_part", "{part}");
        parts.push(part);
    }
    assert_eq!(parts.last().unwrap()["more"], false);
    parts
}

/// The ids of a list (`incidents` or `workers`) over every part.
fn ids(parts: &[Value], list: &str) -> Vec<i64> {
    parts
        .iter()
        .flat_map(|p| p[list].as_array().unwrap().iter())
        .map(|item| item["id"].as_i64().unwrap())
        .collect()
}

/// The ids of the open cases, as the REST API lists them (`grid` narrows to one grid).
async fn open_cases(server: &Server, grid: Option<i64>) -> BTreeSet<i64> {
    let narrow = grid.map(|g| format!("&grid={g}")).unwrap_or_default();
    let (status, list) = server
        .get(&format!("/api/incidents?status={OPEN}&limit=1000{narrow}"))
        .await;
    assert_eq!(status, 200, "{list}");
    list["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["id"].as_i64().unwrap())
        .collect()
}

async fn snapshot_in_parts(flavor: Flavor) {
    let Some(store) = TestStore::new(flavor).await else {
        return;
    };
    let chunk = CHUNK.to_string();
    let server = Server::start(&["demo", "--ws-snapshot-chunk-bytes", &chunk], &store);
    let admin = server.token().to_owned();
    let mine: GridPlace = grid_place(&server, 0, 0).await;
    let other: GridPlace = grid_place(&server, 5, 0).await;
    assert_ne!(mine.primary, other.primary, "two grids of two workers");
    for i in 0..40 {
        let at = if i % 2 == 0 { &mine } else { &other };
        report(&server, &admin, at.lat, at.lon, "city_appearance").await;
    }

    // The command centre: every open case and every worker, over many parts of one seq.
    let commander = token(&server, "commander", None).await;
    let mut ws = Ws::connect(&server, &commander).await;
    let got = parts(&mut ws, &json!({})).await;
    assert!(
        got.len() > 3,
        "40 cases in {CHUNK}-byte parts: {} parts",
        got.len()
    );
    let seq = &got[0]["seq"];
    assert!(
        got.iter().all(|p| &p["seq"] == seq),
        "one seq for every part"
    );
    for part in &got {
        let items: Vec<&Value> = ["incidents", "workers"]
            .iter()
            .flat_map(|l| part[*l].as_array().unwrap())
            .collect();
        assert!(!items.is_empty(), "no empty part: {part}");
        let largest = items.iter().map(|i| i.to_string().len()).max().unwrap();
        assert!(
            part.to_string().len() <= CHUNK + largest + 64,
            "a part passes the chunk by at most one item: {} bytes",
            part.to_string().len()
        );
    }
    let listed = ids(&got, "incidents");
    assert_eq!(
        listed.len(),
        listed.iter().collect::<BTreeSet<_>>().len(),
        "no case twice"
    );
    assert_eq!(
        listed.iter().copied().collect::<BTreeSet<_>>(),
        open_cases(&server, None).await,
        "the parts add up to the open cases"
    );
    let (status, workers) = server.get("/api/workers").await;
    assert_eq!(status, 200, "{workers}");
    let all_workers: BTreeSet<i64> = workers["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["properties"]["id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        ids(&got, "workers").into_iter().collect::<BTreeSet<_>>(),
        all_workers,
        "and to the workers"
    );
    // Live deltas follow the last part.
    let next = report(&server, &admin, mine.lat, mine.lon, "other").await["id"]
        .as_i64()
        .unwrap();
    let delta = ws
        .until(|m| m["type"] == "delta" && m["kind"] == "incident.created")
        .await;
    assert_eq!(delta.last().unwrap()["id"], next);

    // A grid worker: the parts hold the cases of their own grid, none of the other.
    let worker = token(&server, "worker", Some(mine.primary)).await;
    let mut phone = Ws::connect(&server, &worker).await;
    let got = parts(&mut phone, &json!({"layers": ["incidents"]})).await;
    let seen: BTreeSet<i64> = ids(&got, "incidents").into_iter().collect();
    let theirs = open_cases(&server, Some(mine.grid)).await;
    assert!(
        theirs.len() > 20,
        "{} open cases in the worker's grid",
        theirs.len()
    );
    assert!(
        theirs.is_subset(&seen),
        "the worker's snapshot holds every open case of their grid"
    );
    assert!(
        seen.is_disjoint(&open_cases(&server, Some(other.grid)).await),
        "and none of the other grid's"
    );
    drop(ws);
    drop(phone);
    drop(server);
    store.finish().await;
}

/// Creates `n` cases at `at` with the admin token, 4 at a time.
async fn create(server: &Server, at: &GridPlace, n: usize) {
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let (http, base, admin) = (
            server.http.clone(),
            server.base.clone(),
            server.token().to_owned(),
        );
        let (lat, lon) = (at.lat, at.lon);
        tasks.push(tokio::spawn(async move {
            for _ in 0..n / 4 {
                let body = json!({"lat": lat, "lon": lon, "category": "city_appearance",
                    "description": "一段较长的描述 a longer description, so each event takes room in a queue"});
                let response = http
                    .post(format!("{base}/api/incidents"))
                    .bearer_auth(&admin)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status().as_u16(), 201);
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
}

#[tokio::test]
async fn queues_are_capped_in_bytes_per_subscriber_and_in_total() {
    let Some(store) = TestStore::new(Flavor::Sqlite).await else {
        return;
    };
    // A queue of up to 10,000 events but 16 KiB; 40 KiB for every queue together.
    let server = Server::start(
        &[
            "demo",
            "--ws-queue",
            "10000",
            "--ws-queue-bytes",
            "16384",
            "--ws-total-bytes",
            "40960",
            "--ws-ping-ms",
            "60000",
            "--socket-send-buffer",
            "4096",
        ],
        &store,
    );
    let at = grid_place(&server, 0, 0).await;
    let commander = token(&server, "commander", None).await;
    let mut slow = Vec::new();
    for _ in 0..4 {
        let mut ws = Ws::connect_small(&server, &commander).await;
        ws.subscribe(&json!({})).await;
        slow.push(ws);
    }
    // Cases until every stalled subscriber overflowed, watching the bytes queued in between.
    let mut most = 0;
    let mut rounds = 0;
    loop {
        create(&server, &at, 4).await;
        let (_, health) = server.get("/health").await;
        let live = &health["live"];
        assert_eq!(live["queued_bytes_cap"], 40960, "{live}");
        let queued = live["queued_bytes"].as_u64().unwrap();
        assert!(queued <= 40960, "the total stays under its cap: {live}");
        most = most.max(queued);
        if live["subscriptions"] == 0 || live["overflowed"] == live["subscriptions"] {
            break;
        }
        rounds += 1;
        assert!(
            rounds < 200,
            "the stalled subscribers never overflowed: {live}"
        );
    }
    assert!(
        most > 16384,
        "the total counts every subscriber's queue (more than one's cap): {most}"
    );
    // Each reads again: what got through, then `resync`, sooner than 16 KiB of events would take.
    for ws in &mut slow {
        let before = ws.until(|m| m["type"] == "resync").await;
        let bytes: usize = before
            .iter()
            .filter(|m| m["type"] == "delta")
            .map(|m| m.to_string().len())
            .sum();
        assert!(
            bytes < 16384 + 64 * 1024,
            "a stalled subscriber held at most its cap (plus the socket buffers): {bytes} bytes"
        );
    }
    drop(slow);
    drop(server);
    store.finish().await;
}

#[tokio::test]
async fn connections_past_the_cap_are_refused_until_one_closes() {
    let Some(store) = TestStore::new(Flavor::Sqlite).await else {
        return;
    };
    let server = Server::start(&["demo", "--ws-max-connections", "3"], &store);
    let commander = token(&server, "commander", None).await;
    let mut open = Vec::new();
    for _ in 0..3 {
        let mut ws = Ws::connect(&server, &commander).await;
        ws.subscribe(&json!({})).await;
        open.push(ws);
    }
    let url = format!(
        "{}/ws?token={commander}",
        server.base.replacen("http", "ws", 1)
    );
    let refused = tokio_tungstenite::connect_async(url.as_str()).await;
    let Err(tokio_tungstenite::tungstenite::Error::Http(response)) = refused else {
        panic!("a fourth connection was not refused: {refused:?}");
    };
    assert_eq!(response.status().as_u16(), 503);
    assert!(response.headers().contains_key("retry-after"));
    let body: Value = serde_json::from_slice(response.body().as_deref().unwrap_or_default())
        .expect("a problem+json body");
    assert_eq!(body["type"], "/problems/too-many-connections", "{body}");
    // A plain request meets the cap before the upgrade check.
    let got = server.send(Method::GET, "/ws", &Value::Null).await;
    assert_problem(&got, 503, "too-many-connections");

    drop(open.pop());
    let mut again = None;
    for _ in 0..50 {
        if let Ok((stream, _)) = tokio_tungstenite::connect_async(url.as_str()).await {
            again = Some(stream);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        again.is_some(),
        "a place freed by a closed connection is taken again"
    );
    drop(open);
    drop(server);
    store.finish().await;
}
