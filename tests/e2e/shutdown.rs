//! Graceful shutdown: SIGTERM in the middle of a stream of concurrent creates and position batches, with
//! websockets open. The server must exit with status 0 within 10 s and close every websocket with 1001
//! (Going Away); after a restart on the same store every acknowledged incident and every fix of every
//! acknowledged batch is there.
//!
//! Requests in flight at the signal are either finished (committed and answered) or refused with 503;
//! the clients keep sending after the signal, so some requests also meet a closed connection or a closed
//! port, which is fine: they were never acknowledged. Any other answer fails the test.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::cases::{Walk, grid_place, stored_fixes, token};
use crate::harness::{Flavor, Server, TestStore, assert_same};

/// Concurrent clients posting incidents.
const CLIENTS: usize = 4;
/// Concurrent senders of position batches, each moving its own worker.
const SENDERS: usize = 3;
/// Fixes a batch.
const BATCH: usize = 50;
/// Websockets held open through the shutdown.
const SOCKETS: usize = 3;
/// Acknowledged creates and batches to wait for before the signal.
const CREATES_BEFORE: usize = 100;
const BATCHES_BEFORE: usize = 20;
/// How long ago the position streams' first fix is stamped: within the oldest a fix may be (a week).
const FIXES_SINCE: TimeDelta = TimeDelta::days(5);
/// The longest a graceful shutdown may take.
const EXIT_WITHIN: Duration = Duration::from_secs(10);
/// Close code 1001, Going Away (RFC 6455 §7.4.1).
const GOING_AWAY: u16 = 1001;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_writes_closes_websockets_and_exits_on_sqlite() {
    sigterm_finishes_writes(Flavor::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_writes_closes_websockets_and_exits_on_postgis() {
    sigterm_finishes_writes(Flavor::Postgres).await;
}

/// What the clients saw.
#[derive(Default)]
struct Seen {
    /// The case properties of every 201.
    incidents: Vec<Value>,
    /// `(worker, at µs)` of every fix of every 200.
    fixes: BTreeSet<(i64, i64)>,
    /// 503s: refused, nothing stored.
    refused: usize,
    /// Answers that are neither an acknowledgement nor a 503.
    unexpected: Vec<String>,
}

/// How one request ended.
enum Outcome {
    Acknowledged(Value),
    Refused,
    /// Any other answer: fails the test.
    Unexpected(String),
    /// The connection closed or the port no longer answers: the client stops.
    Gone,
}

async fn post(http: &reqwest::Client, url: &str, token: &str, body: &Value, ok: u16) -> Outcome {
    match http.post(url).bearer_auth(token).json(body).send().await {
        Ok(response) if response.status().as_u16() == ok => match response.json().await {
            Ok(body) => Outcome::Acknowledged(body),
            // Cut off while reading the answer: not acknowledged.
            Err(_) => Outcome::Gone,
        },
        Ok(response) if response.status().as_u16() == 503 => Outcome::Refused,
        Ok(response) => {
            let status = response.status();
            let text = response.text().await.unwrap_or_default();
            Outcome::Unexpected(format!("{status}: {text}"))
        }
        Err(_) => Outcome::Gone,
    }
}

async fn create_stream(
    base: String,
    token: String,
    places: Arc<Vec<(f64, f64)>>,
    n: usize,
    acks: Arc<AtomicUsize>,
    seen: Arc<Mutex<Seen>>,
) {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let url = format!("{base}/api/incidents");
    for i in (n..).step_by(CLIENTS) {
        let (lat, lon) = places[i % places.len()];
        let body = json!({"lat": lat, "lon": lon, "category": "city_appearance", "priority": "normal",
            "description": format!("shutdown stream {n}/{i}"), "source": "hotline"});
        let outcome = post(&http, &url, &token, &body, 201).await;
        let mut seen = seen.lock().unwrap();
        match outcome {
            Outcome::Acknowledged(body) => {
                seen.incidents.push(body["properties"].clone());
                acks.fetch_add(1, Ordering::Relaxed);
            }
            Outcome::Refused => seen.refused += 1,
            Outcome::Unexpected(answer) => {
                seen.unexpected.push(answer);
                return;
            }
            Outcome::Gone => return,
        }
    }
}

async fn position_stream(
    base: String,
    token: String,
    worker: i64,
    n: usize,
    acks: Arc<AtomicUsize>,
    seen: Arc<Mutex<Seen>>,
) {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let url = format!("{base}/api/positions");
    // Days in the past, so a stream that runs fast while the incident streams get going never stamps
    // a fix in the future (one hour back was 72 batches of headroom, and CI used them up).
    #[allow(clippy::cast_precision_loss)] // a handful of streams
    let place = (36.19 + 0.01 * n as f64, 113.11);
    let mut walk = Walk::new(worker, place, FIXES_SINCE);
    loop {
        let (batch, keys) = walk.next(BATCH);
        let outcome = post(&http, &url, &token, &json!(batch), 200).await;
        let mut seen = seen.lock().unwrap();
        match outcome {
            Outcome::Acknowledged(body) if body["accepted"] == BATCH => {
                seen.fixes.extend(keys);
                acks.fetch_add(1, Ordering::Relaxed);
            }
            Outcome::Acknowledged(body) => {
                seen.unexpected.push(body.to_string());
                return;
            }
            Outcome::Refused => seen.refused += 1,
            Outcome::Unexpected(answer) => {
                seen.unexpected.push(answer);
                return;
            }
            Outcome::Gone => return,
        }
    }
}

/// Subscribes to everything and reads until the connection ends; the close code the server sent, if
/// it sent a close frame.
async fn watch(server: &Server, token: &str) -> tokio::task::JoinHandle<Option<u16>> {
    let url = format!("{}/ws?token={token}", server.base.replacen("http", "ws", 1));
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    ws.send(Message::text(json!({"type": "subscribe"}).to_string()))
        .await
        .unwrap();
    tokio::spawn(async move {
        loop {
            match tokio::time::timeout(Duration::from_mins(1), ws.next()).await {
                Ok(Some(Ok(Message::Close(frame)))) => return frame.map(|f| u16::from(f.code)),
                Ok(Some(Ok(_))) => {}
                // Reset, end of stream without a close frame, or silence.
                Ok(Some(Err(_)) | None) | Err(_) => return None,
            }
        }
    })
}

async fn sigterm_finishes_writes(flavor: Flavor) {
    let Some(store) = TestStore::new(flavor).await else {
        return;
    };
    let mut server = Server::demo(&store);
    let admin = server.token().to_owned();
    let commander = token(&server, "commander", None).await;
    let mut places = Vec::new();
    for n in 0..6 {
        let place = grid_place(&server, n * 7, n * 13).await;
        places.push((place.lat, place.lon));
    }
    let places = Arc::new(places);
    let (_, workers) = server.get("/api/workers").await;
    let workers: Vec<i64> = workers["features"]
        .as_array()
        .unwrap()
        .iter()
        .take(SENDERS)
        .map(|w| w["properties"]["id"].as_i64().unwrap())
        .collect();

    let mut sockets = Vec::new();
    for _ in 0..SOCKETS {
        sockets.push(watch(&server, &commander).await);
    }
    let creates = Arc::new(AtomicUsize::new(0));
    let batches = Arc::new(AtomicUsize::new(0));
    let seen = Arc::new(Mutex::new(Seen::default()));
    let mut streams = Vec::new();
    for n in 0..CLIENTS {
        streams.push(tokio::spawn(create_stream(
            server.base.clone(),
            admin.clone(),
            Arc::clone(&places),
            n,
            Arc::clone(&creates),
            Arc::clone(&seen),
        )));
    }
    for (n, &worker) in workers.iter().enumerate() {
        streams.push(tokio::spawn(position_stream(
            server.base.clone(),
            admin.clone(),
            worker,
            n,
            Arc::clone(&batches),
            Arc::clone(&seen),
        )));
    }
    let started = Instant::now();
    while creates.load(Ordering::Relaxed) < CREATES_BEFORE
        || batches.load(Ordering::Relaxed) < BATCHES_BEFORE
    {
        assert!(
            started.elapsed() < Duration::from_mins(2),
            "the streams did not get going"
        );
        assert!(
            !streams.iter().any(tokio::task::JoinHandle::is_finished),
            "a stream stopped before the signal: {:?}",
            seen.lock().unwrap().unexpected
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    // The streams keep sending through the signal: requests are in flight when it lands.
    let signalled = Instant::now();
    let status = server.terminate(EXIT_WITHIN).await;
    let took = signalled.elapsed();
    let status = status.unwrap_or_else(|| panic!("still running {EXIT_WITHIN:?} after SIGTERM"));
    assert!(
        status.success(),
        "exit status {status} after SIGTERM ({took:?})"
    );
    for stream in streams {
        tokio::time::timeout(Duration::from_mins(1), stream)
            .await
            .expect("a client still waiting for an answer after the server exited")
            .unwrap();
    }
    for (i, socket) in sockets.into_iter().enumerate() {
        let code = socket.await.unwrap();
        assert_eq!(
            code,
            Some(GOING_AWAY),
            "websocket {i} was not closed with 1001 (None: no close frame)"
        );
    }
    let seen = Arc::try_unwrap(seen).ok().unwrap().into_inner().unwrap();
    assert!(
        seen.unexpected.is_empty(),
        "answers that are neither an acknowledgement nor a 503: {:?}",
        seen.unexpected
    );
    eprintln!(
        "{flavor:?}: exited in {took:?}; {} incidents and {} fixes acknowledged, {} requests refused (503)",
        seen.incidents.len(),
        seen.fixes.len(),
        seen.refused
    );

    let mut server = Server::start(&["serve"], &store);
    server.admin = Some(admin);
    for before in &seen.incidents {
        let id = before["id"].as_i64().unwrap();
        let (status, after) = server.get(&format!("/api/incidents/{id}")).await;
        assert_eq!(status, 200, "acknowledged incident {id} was lost: {after}");
        let strip = |case: &Value| {
            let mut case = case.clone();
            case.as_object_mut().unwrap().remove("overdue");
            case
        };
        assert_same(
            &strip(&after["properties"]),
            &strip(before),
            &format!("incident {id}"),
        );
    }
    let mut stored = BTreeSet::new();
    let from = Utc::now() - FIXES_SINCE - TimeDelta::hours(1);
    for worker in &workers {
        stored.extend(stored_fixes(&server, *worker, from).await);
    }
    let lost: Vec<_> = seen.fixes.difference(&stored).collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged fixes lost in the shutdown, e.g. {:?}",
        lost.len(),
        &lost[..lost.len().min(5)]
    );
    drop(server);
    store.finish().await;
}
