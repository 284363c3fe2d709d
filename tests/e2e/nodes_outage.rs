//! The database going away under three nodes (issue 20, point 6): three nodes on one PostGIS database
//! and one NATS server, the database behind a proxy that cuts the network for 20 s while clients create
//! cases and send positions through every node. Each node behaves as a single node must (writes refused
//! fast with 503 and `Retry-After`, reads of the world still answered, `/ready` 503 and back), recovers by
//! itself, and afterwards the three worlds equal each other and the store, with every acknowledged case
//! and fix in it.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use serde_json::{Value, json};

use crate::cases::{Walk, grid_place, stored_fixes};
use crate::harness::{Flavor, Server, TestStore, assert_same};
use crate::proxy::{Proxy, through};
use crate::relay::Nats;

/// The nodes' write bound (`--write-wait-ms`, its default).
const WRITE_WAIT: Duration = Duration::from_secs(5);
const OUTAGE: Duration = Duration::from_secs(20);
/// How long every node has to be ready and taking writes again once the database is back.
const RECOVERY: Duration = Duration::from_secs(15);

#[derive(Debug)]
struct Answer {
    node: usize,
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
    fixes: BTreeSet<(i64, i64)>,
}

async fn post(base: &str, token: &str, path: &str, body: &Value) -> (u16, Option<String>, String) {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let response = http
        .post(format!("{base}{path}"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let retry = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, retry, response.text().await.unwrap())
}

/// A node's command line: `command` with the relay to `nats` and its name.
fn args<'a>(command: &'a str, nats: &'a str, name: &'a str) -> [&'a str; 5] {
    [command, "--nats-url", nats, "--node-id", name]
}

/// Every case of a node's world (`/api/incidents`, a page at a time), newest first.
async fn all_cases(server: &Server) -> Value {
    let mut all = Vec::new();
    loop {
        let path = format!("/api/incidents?limit=1000&offset={}", all.len());
        let (status, page) = server.get(&path).await;
        assert_eq!(status, 200, "{page}");
        let features = page["features"].as_array().unwrap();
        if features.is_empty() {
            return Value::Array(all);
        }
        all.extend(features.iter().cloned());
    }
}

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_ride_out_a_database_outage_and_agree_afterwards_on_postgis() {
    let Some(mut store) = TestStore::new(Flavor::Postgres).await else {
        return;
    };
    let Some(nats) = Nats::start() else { return };
    let (url, upstream) = through(&store.args[1], "127.0.0.1:0");
    let proxy = Proxy::start(&upstream).await;
    store.args[1] = url.replace("127.0.0.1:0", &proxy.addr);
    let nats_url = nats.url();
    let a = Server::start(&args("demo", &nats_url, "node-a"), &store);
    let admin = a.token().to_owned();
    let mut b = Server::start(&args("serve", &nats_url, "node-b"), &store);
    b.admin = Some(admin.clone());
    let mut c = Server::start(&args("serve", &nats_url, "node-c"), &store);
    c.admin = Some(admin.clone());
    let nodes = [&a, &b, &c];
    let mut places = Vec::new();
    for n in 0..nodes.len() {
        let place = grid_place(&a, n * 9, 0).await;
        places.push((place.lat, place.lon, place.primary));
    }
    for node in nodes {
        assert_eq!(ready(node).await, 200);
    }

    // A creator on every node, and position batches through A and B, the whole time.
    let seen = Arc::new(Mutex::new(Seen::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for (node, &(lat, lon, worker)) in places.iter().enumerate() {
        let (base, token, seen, stop) = (
            nodes[node].base.clone(),
            admin.clone(),
            Arc::clone(&seen),
            Arc::clone(&stop),
        );
        clients.push(tokio::spawn(async move {
            let mut walk = Walk::new(worker, (lat, lon), TimeDelta::hours(1));
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let (what, path, body) = if node < 2 && n % 2 == 0 {
                    let (batch, keys) = walk.next(10);
                    (
                        "positions",
                        "/api/positions",
                        (json!({"positions": batch}), keys),
                    )
                } else {
                    let body = json!({"lat": lat, "lon": lon, "category": "city_appearance",
                        "priority": "normal", "description": format!("node outage {node}-{n}"),
                        "source": "hotline"});
                    ("create", "/api/incidents", (body, Vec::new()))
                };
                let started = Instant::now();
                let (status, retry_after, text) = post(&base, &token, path, &body.0).await;
                let took = started.elapsed();
                {
                    let mut seen = seen.lock().unwrap();
                    match (what, status) {
                        ("create", 201) => {
                            let case: Value = serde_json::from_str(&text).unwrap();
                            seen.incidents
                                .push(case["properties"]["id"].as_i64().unwrap());
                        }
                        ("positions", 200) => seen.fixes.extend(body.1),
                        _ => {}
                    }
                    seen.answers.push(Answer {
                        node,
                        what,
                        status,
                        took,
                        retry_after,
                        body: text,
                    });
                }
                tokio::time::sleep(Duration::from_millis(60)).await;
            }
        }));
    }

    tokio::time::sleep(Duration::from_secs(3)).await;
    proxy.cut();
    let cut_at = Instant::now();
    // Through the outage every node still answers reads of its world, and says it is not ready.
    let mut unready = [false; 3];
    while cut_at.elapsed() < OUTAGE {
        for (i, node) in nodes.iter().enumerate() {
            unready[i] |= ready(node).await == 503;
            let (status, body) = node.get("/api/incidents?limit=1").await;
            assert_eq!(
                status, 200,
                "node {i}: reads must work in an outage: {body}"
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(
        unready, [true; 3],
        "every node's /ready said 503 in the outage"
    );
    proxy.restore();
    let restored = Instant::now();

    // Every node takes writes again by itself.
    loop {
        let fresh = {
            let seen = seen.lock().unwrap();
            (0..nodes.len()).all(|node| {
                seen.answers
                    .iter()
                    .rev()
                    .filter(|a| a.node == node)
                    .take(2)
                    .all(|a| a.status < 300)
            })
        };
        let mut all_ready = true;
        for node in nodes {
            all_ready &= ready(node).await == 200;
        }
        if fresh && all_ready {
            break;
        }
        assert!(
            restored.elapsed() < RECOVERY,
            "a node was not taking writes {RECOVERY:?} after the database came back"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.await.unwrap();
    }

    let seen = Arc::try_unwrap(seen).ok().unwrap().into_inner().unwrap();
    let refused: Vec<&Answer> = seen.answers.iter().filter(|a| a.status == 503).collect();
    for node in 0..nodes.len() {
        assert!(
            refused.iter().any(|a| a.node == node),
            "node {node} refused nothing in a 20 s outage"
        );
    }
    for answer in &seen.answers {
        assert!(
            answer.took <= WRITE_WAIT + Duration::from_secs(1),
            "a {} on node {} waited {:?} ({} {})",
            answer.what,
            answer.node,
            answer.took,
            answer.status,
            answer.body
        );
        assert!(
            matches!(answer.status, 200 | 201 | 503),
            "a {} on node {} answered {}: {}",
            answer.what,
            answer.node,
            answer.status,
            answer.body
        );
        if answer.status == 503 {
            assert!(
                answer.retry_after.is_some(),
                "a 503 without Retry-After: {answer:?}"
            );
        }
    }
    eprintln!(
        "{} answers, {} refused, {} cases and {} fixes acknowledged",
        seen.answers.len(),
        refused.len(),
        seen.incidents.len(),
        seen.fixes.len()
    );

    // The three worlds reach the log's end and equal each other; every acknowledged case is in them and
    // in the store, every acknowledged fix in the store.
    let log_end = store.count("SELECT max(seq) FROM events").await;
    for node in nodes {
        let deadline = tokio::time::Instant::now() + RECOVERY;
        loop {
            let (_, health) = node.get("/health").await;
            if health["last_seq"] == log_end {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{} stayed at {} of {log_end}",
                node.base,
                health["last_seq"]
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let on_a = all_cases(&a).await;
    for (name, node) in [("B", &b), ("C", &c)] {
        assert_same(
            &all_cases(node).await,
            &on_a,
            &format!("every case on A and {name}"),
        );
    }
    let in_world: BTreeSet<i64> = on_a
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        i64::try_from(in_world.len()).unwrap(),
        store.count("SELECT COUNT(*) FROM incidents").await,
        "the worlds hold every case of the store"
    );
    for id in &seen.incidents {
        assert!(
            in_world.contains(id),
            "acknowledged case {id} is not in the worlds"
        );
    }
    let workers: BTreeSet<i64> = seen.fixes.iter().map(|&(w, _)| w).collect();
    let mut kept = BTreeSet::new();
    for worker in workers {
        kept.extend(stored_fixes(&a, worker, Utc::now() - TimeDelta::hours(2)).await);
    }
    let lost = seen.fixes.difference(&kept).count();
    assert_eq!(lost, 0, "{lost} acknowledged fixes lost in the outage");
    drop((a, b, c));
    drop(proxy);
    store.finish().await;
}
