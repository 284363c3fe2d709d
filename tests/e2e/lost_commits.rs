//! Commits whose answer is lost (issue 19), on PostGIS through a proxy that forwards 3% of the COMMITs
//! (seeded) and then closes their connection without the answer, under creates, workflow actions and
//! position batches: the server asks the database what became of each, so afterwards the world equals
//! the store (every case in one is in the other), no case is stored twice, every case answered 5xx
//! is not stored, every acknowledged write is there, and no case is wedged — its next action works.
//! And a COMMIT whose answer is lost while the database cannot be asked either (a partition right
//! after it): the write is answered 503 `outcome-unknown`, and once the database answers again the world
//! reloads from it before taking another write: the case is there, its delta reaches the subscribers,
//! the same create sent again with its `Idempotency-Key` is answered 409 `idempotency-key-committed`
//! instead of storing it twice, and its next action works.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{TimeDelta, Utc};
use serde_json::json;

use crate::cases::{Walk, act, case, grid_place, stored_fixes};
use crate::harness::{Flavor, Server, TestStore};
use crate::proxy::{Proxy, through};

/// COMMIT answers lost, per thousand.
const LOST_PER_MILLE: u32 = 30;
const SEED: u64 = 19;
const LOAD: Duration = Duration::from_secs(20);
const CREATORS: usize = 3;

#[derive(Default)]
struct Seen {
    /// Acknowledged cases: `(id, description)`.
    created: Vec<(i64, String)>,
    /// Descriptions of creates answered 5xx.
    failed: Vec<String>,
    /// `(worker, at µs)` of every acknowledged fix.
    fixes: BTreeSet<(i64, i64)>,
    /// Answers neither an acknowledgement nor a 503.
    unexpected: Vec<String>,
}

// Several threads: the proxy must forward while the test's thread waits for the server to start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_commit_answers_leave_the_world_equal_to_the_store_on_postgis() {
    let Some(mut store) = TestStore::new(Flavor::Postgres).await else {
        return;
    };
    let (url, upstream) = through(&store.args[1], "127.0.0.1:0");
    let proxy = Proxy::start(&upstream).await;
    store.args[1] = url.replace("127.0.0.1:0", &proxy.addr);
    let server = Arc::new(Server::demo(&store));
    let token = server.token().to_owned();
    let mut places = Vec::new();
    for n in 0..CREATORS {
        let place = grid_place(&server, n * 11, 0).await;
        places.push((place.lat, place.lon, place.primary));
    }
    let (_, before) = server.get("/api/incidents?limit=1").await;
    let cases_before = before["total"].as_i64().unwrap();
    proxy.lose_commit_answers(LOST_PER_MILLE, SEED);

    let seen = Arc::new(Mutex::new(Seen::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for (n, &(lat, lon, _)) in places.iter().enumerate() {
        let (server, token, seen, stop) = (
            Arc::clone(&server),
            token.clone(),
            Arc::clone(&seen),
            Arc::clone(&stop),
        );
        clients.push(tokio::spawn(async move {
            for k in 0.. {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let description = format!("lost-commit {n}/{k}");
                let body = json!({"lat": lat, "lon": lon, "category": "city_appearance",
                    "priority": "normal", "description": description, "source": "hotline"});
                let (status, answer) = server
                    .send_as(&token, reqwest::Method::POST, "/api/incidents", &body)
                    .await;
                // Each acknowledged case is accepted at once: an action under the same faults.
                let accepted = if status == 201 {
                    let id = answer["properties"]["id"].as_i64().unwrap();
                    Some((
                        id,
                        act(&server, &token, id, &json!({"action": "accept"})).await,
                    ))
                } else {
                    None
                };
                {
                    let mut seen = seen.lock().unwrap();
                    match (status, accepted) {
                        (201, Some((id, (acted, answer)))) => {
                            seen.created.push((id, description));
                            if !matches!(acted, 200 | 503) {
                                seen.unexpected
                                    .push(format!("accept {id}: {acted} {answer}"));
                            }
                        }
                        (500..=599, _) => seen.failed.push(description),
                        _ => seen.unexpected.push(format!("create: {status} {answer}")),
                    }
                }
                tokio::time::sleep(Duration::from_millis(30)).await;
            }
        }));
    }
    {
        let (server, token, seen, stop) = (
            Arc::clone(&server),
            token.clone(),
            Arc::clone(&seen),
            Arc::clone(&stop),
        );
        let (lat, lon, worker) = places[0];
        clients.push(tokio::spawn(async move {
            let mut walk = Walk::new(worker, (lat, lon), TimeDelta::hours(1));
            while !stop.load(Ordering::Relaxed) {
                let (batch, keys) = walk.next(20);
                let (status, answer) = server
                    .send_as(
                        &token,
                        reqwest::Method::POST,
                        "/api/positions",
                        &json!({"positions": batch}),
                    )
                    .await;
                {
                    let mut seen = seen.lock().unwrap();
                    match status {
                        200 => seen.fixes.extend(keys),
                        503 => {}
                        _ => seen
                            .unexpected
                            .push(format!("positions: {status} {answer}")),
                    }
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }));
    }
    tokio::time::sleep(LOAD).await;
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.await.unwrap();
    }
    proxy.lose_commit_answers(0, SEED);
    let lost = proxy.lost_commits();
    let seen = Arc::try_unwrap(seen).ok().unwrap().into_inner().unwrap();
    eprintln!(
        "{lost} COMMIT answers lost; {} cases and {} fixes acknowledged, {} creates failed",
        seen.created.len(),
        seen.fixes.len(),
        seen.failed.len()
    );
    assert!(lost >= 5, "only {lost} COMMIT answers were lost: no test");
    assert!(seen.unexpected.is_empty(), "{:?}", seen.unexpected);

    // The world equals the store: as many cases in each, and every acknowledged one in both, once.
    let (_, after) = server.get("/api/incidents?limit=1").await;
    let in_world = after["total"].as_i64().unwrap();
    let in_store = store.count("SELECT COUNT(*) FROM incidents").await;
    assert_eq!(
        in_world, in_store,
        "the world and the store disagree on how many cases there are"
    );
    assert_eq!(
        in_store - cases_before,
        i64::try_from(seen.created.len()).unwrap(),
        "cases stored that nobody acknowledged"
    );
    let doubled = store
        .count(
            "SELECT COUNT(*) FROM (SELECT description FROM incidents \
             WHERE description LIKE 'lost-commit %' GROUP BY description HAVING COUNT(*) > 1) d",
        )
        .await;
    assert_eq!(doubled, 0, "cases stored twice");
    for description in &seen.failed {
        let stored = store
            .count(&format!(
                "SELECT COUNT(*) FROM incidents WHERE description = '{description}'"
            ))
            .await;
        assert_eq!(stored, 0, "{description:?} was answered 5xx but stored");
    }
    // No case is wedged: its world history matches the store's, and its next action works.
    for (id, _) in &seen.created {
        let now = case(&server, *id).await;
        let history = i64::try_from(now["history"].as_array().unwrap().len()).unwrap();
        let stored = store
            .count(&format!(
                "SELECT COUNT(*) FROM incident_history WHERE incident_id = {id}"
            ))
            .await;
        assert_eq!(
            history, stored,
            "case {id}: the world's history is not the store's"
        );
        let next = if now["status"] == "dispatched" {
            "accept"
        } else {
            "start"
        };
        let (status, answer) = act(&server, &token, *id, &json!({"action": next})).await;
        assert_eq!(status, 200, "case {id} is wedged: {next} answered {answer}");
    }
    // Every acknowledged fix is stored.
    let kept = stored_fixes(&server, places[0].2, Utc::now() - TimeDelta::hours(2)).await;
    assert_eq!(
        seen.fixes.difference(&kept).count(),
        0,
        "acknowledged fixes lost"
    );
    drop(server);
    drop(proxy);
    store.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_of_unknown_outcome_is_caught_up_before_the_next_write_on_postgis() {
    let Some(mut store) = TestStore::new(Flavor::Postgres).await else {
        return;
    };
    let (url, upstream) = through(&store.args[1], "127.0.0.1:0");
    let proxy = Proxy::start(&upstream).await;
    store.args[1] = url.replace("127.0.0.1:0", &proxy.addr);
    let server = Server::start(&["demo", "--write-wait-ms", "1500"], &store);
    let token = server.token().to_owned();
    let place = grid_place(&server, 3, 0).await;
    let commander = crate::cases::token(&server, "commander", None).await;
    let mut ws = crate::live::Ws::connect(&server, &commander).await;
    ws.subscribe(&json!({"layers": ["incidents"]})).await;
    let (_, before) = server.get("/api/incidents?limit=1").await;
    let cases_before = before["total"].as_i64().unwrap();

    proxy.lose_next_commit_and_cut();
    let body = json!({"lat": place.lat, "lon": place.lon, "category": "city_appearance",
        "priority": "normal", "description": "unknown outcome", "source": "hotline"});
    let create = || {
        server
            .http
            .post(server.url("/api/incidents"))
            .bearer_auth(&token)
            .header("Idempotency-Key", "unknown-outcome-1")
            .json(&body)
            .send()
    };
    let response = create().await.unwrap();
    let answer = (
        response.status().as_u16(),
        response.json::<serde_json::Value>().await.unwrap(),
    );
    assert_eq!(proxy.lost_commits(), 1, "the COMMIT's answer was lost");
    crate::harness::assert_problem(&answer, 503, "outcome-unknown");
    // It committed: the store has it, the world does not yet.
    let id = store
        .count("SELECT COALESCE(MAX(id), 0) FROM incidents WHERE description = 'unknown outcome'")
        .await;
    assert!(id > 0, "the case was committed");
    assert_eq!(server.get(&format!("/api/incidents/{id}")).await.0, 404);

    proxy.restore();
    // The world catches up from the store as soon as it answers (the store watch), before any write.
    let mut found = false;
    for _ in 0..100 {
        if server.get(&format!("/api/incidents/{id}")).await.0 == 200 {
            found = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(found, "the committed case reached the world");
    let delta = ws
        .until(|m| m["type"] == "delta" && m["kind"] == "incident.created")
        .await;
    assert_eq!(
        delta.last().unwrap()["id"],
        id,
        "its delta reached the subscriber"
    );
    let (_, after) = server.get("/api/incidents?limit=1").await;
    assert_eq!(after["total"].as_i64().unwrap(), cases_before + 1);
    assert_eq!(
        after["total"].as_i64().unwrap(),
        store.count("SELECT COUNT(*) FROM incidents").await,
        "the world equals the store"
    );
    // Sent again with its key, it is not done twice: the answer says it was carried out, and where.
    let again = create().await.unwrap();
    let again = (
        again.status().as_u16(),
        again.json::<serde_json::Value>().await.unwrap(),
    );
    crate::harness::assert_problem(&again, 409, "idempotency-key-committed");
    assert!(again.1["seq"].as_i64().unwrap() > 0, "{}", again.1);
    assert_eq!(
        store
            .count("SELECT COUNT(*) FROM incidents WHERE description = 'unknown outcome'")
            .await,
        1,
        "stored once"
    );
    let (status, accepted) = act(&server, &token, id, &json!({"action": "accept"})).await;
    assert_eq!(status, 200, "the case is not wedged: {accepted}");

    // A batch of positions whose COMMIT's outcome is unknown: it was stored, and sent again with its
    // key it is not stored twice (fixes append no event, yet their key is marked in their transaction).
    let worker_fixes = format!(
        "SELECT COUNT(*) FROM positions WHERE worker_id = {}",
        place.primary
    );
    let fixes_before = store.count(&worker_fixes).await;
    let at = Utc::now();
    let batch = json!([
        {"worker_id": place.primary, "lat": place.lat, "lon": place.lon,
            "at": (at - TimeDelta::seconds(20)).to_rfc3339()},
        {"worker_id": place.primary, "lat": place.lat + 0.0001, "lon": place.lon,
            "at": (at - TimeDelta::seconds(10)).to_rfc3339()},
    ]);
    let send_fixes = || {
        server
            .http
            .post(server.url("/api/positions"))
            .bearer_auth(&token)
            .header("Idempotency-Key", "unknown-outcome-fixes")
            .json(&batch)
            .send()
    };
    proxy.lose_next_commit_and_cut();
    let first = send_fixes().await.unwrap();
    assert_eq!(first.status().as_u16(), 503, "{:?}", first.text().await);
    assert_eq!(proxy.lost_commits(), 2, "the fixes' COMMIT answer was lost");
    proxy.restore();
    assert_eq!(
        store.count(&worker_fixes).await,
        fixes_before + 2,
        "the fixes were committed"
    );
    let again = send_fixes().await.unwrap();
    let again = (
        again.status().as_u16(),
        again.json::<serde_json::Value>().await.unwrap(),
    );
    crate::harness::assert_problem(&again, 409, "idempotency-key-committed");
    assert_eq!(
        store.count(&worker_fixes).await,
        fixes_before + 2,
        "stored once"
    );
    drop(ws);
    drop(server);
    drop(proxy);
    store.finish().await;
}
