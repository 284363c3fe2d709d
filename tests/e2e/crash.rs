//! Durability of incidents: SIGKILL the server in the middle of a stream of concurrent creates, restart it
//! on the same store, and find every incident that was acknowledged (201) — the same fields and the same
//! history — with the event log at least as far as the acknowledged creates.
//!
//! The stream has several clients, so requests are in flight when the process dies: those may or may not
//! have committed, and either is fine; only an acknowledged incident must never be lost. Several clients
//! also make the server commit creates in groups (`cases::intake`), so the kill lands on that path.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use crate::cases::{grid_place, last_seq, report};
use crate::harness::{Flavor, Server, TestStore, assert_same};

/// Concurrent clients posting incidents in a loop.
const CLIENTS: usize = 6;
/// Acknowledged creates to wait for before the kill.
const ACKS_BEFORE_KILL: usize = 300;
const CATEGORIES: [&str; 2] = ["city_appearance", "advertising"];

/// What a client saw from the stream.
#[derive(Default)]
struct Seen {
    /// The case properties of every 201, as the client received them.
    acknowledged: Vec<Value>,
    /// Requests that got no answer (the server died under them) or an unexpected status.
    unanswered: usize,
}

/// The fields that depend on the moment they are read, not on what was stored.
fn stored_fields(mut case: Value) -> Value {
    if let Some(p) = case.as_object_mut() {
        p.remove("overdue");
    }
    case
}

async fn client(
    base: String,
    token: String,
    places: Arc<Vec<(f64, f64)>>,
    n: usize,
    stop: Arc<AtomicBool>,
    acks: Arc<AtomicUsize>,
    seen: Arc<Mutex<Seen>>,
) {
    // Keep-alive connections, unlike the harness's client: this is a load, not a probe.
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let mut i = n;
    while !stop.load(Ordering::Relaxed) {
        let (lat, lon) = places[i % places.len()];
        let body = json!({"lat": lat, "lon": lon, "category": CATEGORIES[i % CATEGORIES.len()],
            "priority": "normal", "description": format!("crash stream {n}/{i}"), "source": "hotline"});
        i += CLIENTS;
        let sent = http
            .post(format!("{base}/api/incidents"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await;
        let answer = match sent {
            Ok(response) if response.status().as_u16() == 201 => {
                response.json::<Value>().await.ok()
            }
            Ok(_) | Err(_) => None,
        };
        let mut seen = seen.lock().unwrap();
        if let Some(case) = answer {
            seen.acknowledged.push(case["properties"].clone());
            acks.fetch_add(1, Ordering::Relaxed);
        } else {
            // After the kill every request fails; before it none should.
            seen.unanswered += 1;
            return;
        }
    }
}

async fn acknowledged_incidents_survive_sigkill(flavor: Flavor) {
    let Some(store) = TestStore::new(flavor).await else {
        return;
    };
    let mut server = Server::demo(&store);
    let token = server.token().to_owned();
    let mut places = Vec::new();
    for n in 0..8 {
        let place = grid_place(&server, n * 7, n * 13).await;
        places.push((place.lat, place.lon));
    }
    let places = Arc::new(places);
    let seq_before = last_seq(&server).await;

    let stop = Arc::new(AtomicBool::new(false));
    let acks = Arc::new(AtomicUsize::new(0));
    let seen = Arc::new(Mutex::new(Seen::default()));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|n| {
            tokio::spawn(client(
                server.base.clone(),
                token.clone(),
                places.clone(),
                n,
                stop.clone(),
                acks.clone(),
                seen.clone(),
            ))
        })
        .collect();
    while acks.load(Ordering::Relaxed) < ACKS_BEFORE_KILL {
        assert!(
            !clients.iter().all(tokio::task::JoinHandle::is_finished),
            "every client stopped before the kill"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    // Concurrent creates are committed in groups (the intake writer's group commit): the kill lands on
    // that path, not only on single commits.
    let metrics = reqwest::get(server.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let metric = |name: &str| {
        metrics
            .lines()
            .find_map(|l| {
                l.strip_prefix(name)?
                    .strip_prefix(' ')?
                    .trim()
                    .parse::<f64>()
                    .ok()
            })
            .unwrap()
    };
    let (in_groups, groups) = (
        metric("gridwatch_intake_group_size_sum"),
        metric("gridwatch_intake_group_size_count"),
    );
    assert!(
        in_groups > groups,
        "{in_groups} creates in {groups} transactions: no group of more than one"
    );
    server.kill();
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.await.unwrap();
    }
    let seen = Arc::try_unwrap(seen).ok().unwrap().into_inner().unwrap();
    let acknowledged = seen.acknowledged;
    eprintln!(
        "{flavor:?}: {} acknowledged before SIGKILL, {} requests in flight or refused at the kill",
        acknowledged.len(),
        seen.unanswered
    );
    assert!(acknowledged.len() >= ACKS_BEFORE_KILL);

    let mut server = Server::start(&["serve"], &store);
    server.admin = Some(token);
    for before in &acknowledged {
        let id = before["id"].as_i64().unwrap();
        let (status, after) = server.get(&format!("/api/incidents/{id}")).await;
        assert_eq!(
            status, 200,
            "acknowledged incident {id} was lost in the crash: {after}"
        );
        let after = &after["properties"];
        for field in [
            "category", "grid_id", "cell", "assignee", "deadline", "route",
        ] {
            assert_eq!(after[field], before[field], "incident {id}: {field}");
        }
        assert!(
            !before["history"].as_array().unwrap().is_empty(),
            "incident {id} was acknowledged with its history"
        );
        assert_same(
            &stored_fields(after.clone()),
            &stored_fields(before.clone()),
            &format!("incident {id}"),
        );
    }
    // Every create is one event: the log has at least one per acknowledged incident, none of them lost.
    let seq_after = last_seq(&server).await;
    let acked = i64::try_from(acknowledged.len()).unwrap();
    assert!(
        seq_after >= seq_before + acked,
        "last_seq {seq_after} after the restart, but {acked} creates were acknowledged after seq {seq_before}"
    );
    let max_id = acknowledged
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .max()
        .unwrap();

    // The restarted server takes new creates, numbered after everything that committed before the crash.
    let (lat, lon) = places[0];
    let fresh = report(&server, server.token(), lat, lon, CATEGORIES[0]).await;
    assert!(
        fresh["id"].as_i64().unwrap() > max_id,
        "a new incident reuses an id: {fresh}"
    );
    // The new create's event comes after everything that survived. It need not be `seq_after + 1`: on
    // PostgreSQL a transaction the crash rolled back may have drawn the next sequence values already
    // (sequences are not transactional), which leaves a harmless gap a reader tailing `seq > n` skips.
    let seq_fresh = last_seq(&server).await;
    assert!(
        seq_fresh > seq_after,
        "the new create's event {seq_fresh} is not after {seq_after}"
    );
    if flavor == Flavor::Sqlite {
        assert_eq!(
            seq_fresh,
            seq_after + 1,
            "on SQLite the new create is the next event"
        );
    }
    drop(server);
    store.finish().await;
}

#[tokio::test]
async fn acknowledged_incidents_survive_sigkill_on_sqlite() {
    acknowledged_incidents_survive_sigkill(Flavor::Sqlite).await;
}

#[tokio::test]
async fn acknowledged_incidents_survive_sigkill_on_postgis() {
    acknowledged_incidents_survive_sigkill(Flavor::Postgres).await;
}
