//! Durability of positions: SIGKILL the server in the middle of a stream of concurrent position batches,
//! restart it on the same store, and find every fix of every acknowledged batch (200) in the stored track.
//! Batches in flight at the kill may or may not have been stored; an acknowledged one must never be lost.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{TimeDelta, Utc};
use serde_json::Value;

use crate::cases::{Walk, stored_fixes};
use crate::harness::{Flavor, Server, TestStore};

/// Concurrent senders, each moving its own worker.
const SENDERS: usize = 4;
/// Fixes a batch.
const BATCH: usize = 50;
/// Acknowledged batches to wait for before the kill.
const ACKS_BEFORE_KILL: usize = 60;

#[tokio::test]
async fn acknowledged_positions_survive_sigkill_on_sqlite() {
    acknowledged_positions_survive_sigkill(Flavor::Sqlite).await;
}

#[tokio::test]
async fn acknowledged_positions_survive_sigkill_on_postgis() {
    acknowledged_positions_survive_sigkill(Flavor::Postgres).await;
}

/// A fix's identity: worker and timestamp (µs).
type Key = (i64, i64);

async fn acknowledged_positions_survive_sigkill(flavor: Flavor) {
    let Some(store) = TestStore::new(flavor).await else {
        return;
    };
    let mut server = Server::demo(&store);
    let admin = server.token().to_owned();
    let (_, workers) = server.get("/api/workers").await;
    let workers: Vec<i64> = workers["features"]
        .as_array()
        .unwrap()
        .iter()
        .take(SENDERS)
        .map(|w| w["properties"]["id"].as_i64().unwrap())
        .collect();
    // Each sender walks from an hour ago: plausible walking, all in the past.
    let start = Utc::now() - TimeDelta::hours(1) - TimeDelta::seconds(1);
    let stop = Arc::new(AtomicBool::new(false));
    let acks = Arc::new(AtomicUsize::new(0));
    let acknowledged: Arc<Mutex<BTreeSet<Key>>> = Arc::default();
    let mut tasks = Vec::new();
    for (n, &worker) in workers.iter().enumerate() {
        let (base, token) = (server.base.clone(), admin.clone());
        let (stop, acks, acknowledged) = (
            Arc::clone(&stop),
            Arc::clone(&acks),
            Arc::clone(&acknowledged),
        );
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap();
            #[allow(clippy::cast_precision_loss)] // a handful of senders
            let mut walk = Walk::new(
                worker,
                (36.19 + 0.01 * n as f64, 113.11),
                TimeDelta::hours(1),
            );
            while !stop.load(Ordering::Relaxed) {
                let (batch, keys) = walk.next(BATCH);
                let sent = http
                    .post(format!("{base}/api/positions"))
                    .bearer_auth(&token)
                    .json(&batch)
                    .send()
                    .await;
                match sent {
                    Ok(response) if response.status().as_u16() == 200 => {
                        let body: Value = response.json().await.unwrap_or(Value::Null);
                        if body["accepted"] != BATCH {
                            return;
                        }
                        acknowledged.lock().unwrap().extend(keys);
                        acks.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => return,
                }
            }
        }));
    }
    let mut waited = Duration::ZERO;
    while acks.load(Ordering::Relaxed) < ACKS_BEFORE_KILL {
        assert!(
            waited < Duration::from_mins(1),
            "the stream did not get going"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
        waited += Duration::from_millis(5);
    }
    server.kill();
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() >= ACKS_BEFORE_KILL * BATCH);

    let mut server = Server::start(&["serve"], &store);
    server.admin = Some(admin);
    let mut stored: BTreeSet<Key> = BTreeSet::new();
    for worker in &workers {
        stored.extend(stored_fixes(&server, *worker, start).await);
    }
    let lost: Vec<&Key> = acknowledged.difference(&stored).collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged fixes lost in the crash, e.g. {:?}",
        lost.len(),
        &lost[..lost.len().min(5)]
    );
    drop(server);
    store.finish().await;
}
