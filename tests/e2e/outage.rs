//! A database outage under load (issue 19), on PostGIS through a proxy that cuts the network for 20 s:
//! no request waits longer than the write bound plus a second — writes are refused with 503 and
//! `Retry-After` instead of queueing — reads of the world keep working, `/ready` goes 503 and back,
//! writes are taken again within seconds of the database's return, and nothing acknowledged is lost.
//! A write whose COMMIT was in flight when the network went is answered 503 `outcome-unknown` (the
//! database cannot be asked in time).

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use serde_json::{Value, json};

use crate::cases::{Walk, grid_place, stored_fixes};
use crate::harness::{Flavor, Server, TestStore};
use crate::proxy::{Proxy, through};

/// The server's write bound (`--write-wait-ms`, its default).
const WRITE_WAIT: Duration = Duration::from_secs(5);
const OUTAGE: Duration = Duration::from_secs(20);
/// Clients creating cases, and sending position batches, the whole time.
const CREATORS: usize = 3;
const SENDERS: usize = 2;

/// One answer a client got.
#[derive(Debug)]
struct Answer {
    what: &'static str,
    status: u16,
    took: Duration,
    retry_after: Option<String>,
    body: String,
}

#[derive(Default)]
struct Seen {
    answers: Vec<Answer>,
    incidents: Vec<i64>,
    /// `(worker, at in µs)` of every acknowledged fix.
    fixes: BTreeSet<(i64, i64)>,
}

// Several threads: the proxy must forward while the test's thread waits for the server to start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_fails_fast_and_loses_nothing_on_postgis() {
    let Some(mut store) = TestStore::new(Flavor::Postgres).await else {
        return;
    };
    let (url, upstream) = through(&store.args[1], "127.0.0.1:0");
    let proxy = Proxy::start(&upstream).await;
    store.args[1] = url.replace("127.0.0.1:0", &proxy.addr);
    let server = Server::demo(&store);
    let token = server.token().to_owned();
    let mut places = Vec::new();
    for n in 0..CREATORS {
        let place = grid_place(&server, n * 9, 0).await;
        places.push((place.lat, place.lon, place.primary));
    }
    assert_eq!(ready(&server).await, 200);

    let seen = Arc::new(Mutex::new(Seen::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for &(lat, lon, _) in &places {
        let (server, token, seen, stop) = (
            server.base.clone(),
            token.clone(),
            Arc::clone(&seen),
            Arc::clone(&stop),
        );
        clients.push(tokio::spawn(async move {
            let body = json!({"lat": lat, "lon": lon, "category": "city_appearance",
                "priority": "normal", "description": "outage", "source": "hotline"});
            while !stop.load(Ordering::Relaxed) {
                let answer = send(&server, &token, "/api/incidents", &body, "create").await;
                {
                    let mut seen = seen.lock().unwrap();
                    if answer.status == 201 {
                        let case: Value = serde_json::from_str(&answer.body).unwrap();
                        seen.incidents
                            .push(case["properties"]["id"].as_i64().unwrap());
                    }
                    seen.answers.push(answer);
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }));
    }
    for (n, &(lat, lon, worker)) in places.iter().take(SENDERS).enumerate() {
        let (server, token, seen, stop) = (
            server.base.clone(),
            token.clone(),
            Arc::clone(&seen),
            Arc::clone(&stop),
        );
        clients.push(tokio::spawn(async move {
            let mut walk = Walk::new(worker, (lat, lon), TimeDelta::hours(1));
            while !stop.load(Ordering::Relaxed) {
                let (batch, keys) = walk.next(10);
                let body = json!({"positions": batch});
                let answer = send(&server, &token, "/api/positions", &body, "positions").await;
                {
                    let mut seen = seen.lock().unwrap();
                    if answer.status == 200 {
                        seen.fixes.extend(keys);
                    }
                    seen.answers.push(answer);
                }
                tokio::time::sleep(Duration::from_millis(100 + 20 * n as u64)).await;
            }
        }));
    }

    tokio::time::sleep(Duration::from_secs(3)).await;
    proxy.cut();
    let cut_at = Instant::now();
    // Through the outage: the world still answers reads, and /ready says the store does not.
    let mut readiness = Vec::new();
    while cut_at.elapsed() < OUTAGE {
        readiness.push(ready(&server).await);
        let (status, body) = server.get("/api/incidents?limit=1").await;
        assert_eq!(
            status, 200,
            "reads of the world must work in an outage: {body}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(
        readiness.contains(&503),
        "/ready never said the store is unreachable: {readiness:?}"
    );
    proxy.restore();
    let restored = Instant::now();
    // Writes are taken again within seconds.
    loop {
        let fresh = {
            let seen = seen.lock().unwrap();
            seen.answers.iter().rev().take(3).all(|a| a.status < 300)
        };
        if fresh && ready(&server).await == 200 {
            break;
        }
        assert!(
            restored.elapsed() < Duration::from_secs(10),
            "writes were still refused 10 s after the database came back"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.await.unwrap();
    }

    let seen = Arc::try_unwrap(seen).ok().unwrap().into_inner().unwrap();
    let refused: Vec<&Answer> = seen.answers.iter().filter(|a| a.status == 503).collect();
    assert!(!refused.is_empty(), "no write was refused in a 20 s outage");
    for answer in &seen.answers {
        assert!(
            answer.took <= WRITE_WAIT + Duration::from_secs(1),
            "a {} waited {:?} for its answer ({} {})",
            answer.what,
            answer.took,
            answer.status,
            answer.body
        );
        assert!(
            matches!(answer.status, 200 | 201 | 503),
            "a {} answered {}: {}",
            answer.what,
            answer.status,
            answer.body
        );
    }
    for answer in &refused {
        assert!(
            answer.retry_after.is_some(),
            "a 503 without Retry-After: {answer:?}"
        );
        let problem: Value = serde_json::from_str(&answer.body).unwrap();
        assert!(
            matches!(
                problem["type"].as_str(),
                Some(
                    "/problems/store-unavailable"
                        | "/problems/unavailable"
                        | "/problems/outcome-unknown"
                )
            ),
            "{answer:?}"
        );
    }
    eprintln!(
        "{} answers, {} refused (503), {} incidents and {} fixes acknowledged; slowest {:?}",
        seen.answers.len(),
        refused.len(),
        seen.incidents.len(),
        seen.fixes.len(),
        seen.answers
            .iter()
            .map(|a| a.took)
            .max()
            .unwrap_or_default()
    );

    // Nothing acknowledged was lost: in the world, and in the database.
    for id in &seen.incidents {
        let (status, body) = server.get(&format!("/api/incidents/{id}")).await;
        assert_eq!(
            status, 200,
            "acknowledged incident {id} is not in the world: {body}"
        );
    }
    let ids: Vec<String> = seen.incidents.iter().map(ToString::to_string).collect();
    let stored = store
        .count(&format!(
            "SELECT COUNT(*) FROM incidents WHERE id IN ({})",
            ids.join(",")
        ))
        .await;
    assert_eq!(
        usize::try_from(stored).unwrap(),
        seen.incidents.len(),
        "acknowledged incidents missing from the database"
    );
    let workers: BTreeSet<i64> = seen.fixes.iter().map(|&(w, _)| w).collect();
    let mut kept = BTreeSet::new();
    let from = Utc::now() - TimeDelta::hours(2);
    for worker in workers {
        kept.extend(stored_fixes(&server, worker, from).await);
    }
    let lost = seen.fixes.difference(&kept).count();
    assert_eq!(lost, 0, "{lost} acknowledged fixes lost in the outage");
    drop(server);
    drop(proxy);
    store.finish().await;
}

/// `GET /ready`'s status.
async fn ready(server: &Server) -> u16 {
    server
        .http
        .get(server.url("/ready"))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// POSTs `body` and times the answer.
async fn send(base: &str, token: &str, path: &str, body: &Value, what: &'static str) -> Answer {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let started = Instant::now();
    let response = http
        .post(format!("{base}{path}"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = response.text().await.unwrap_or_default();
    Answer {
        what,
        status,
        took: started.elapsed(),
        retry_after,
        body,
    }
}
