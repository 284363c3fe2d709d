//! The websocket hub through the real binary with real websocket clients: filters deliver exactly what
//! they cover, a worker sees only its own grids and cases, resume replays exactly what was missed, a
//! client that stops reading neither delays others nor grows the server's memory, a dead connection is
//! closed, and bad messages are refused without changing anything.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use reqwest::Method;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::cases::{GridPlace, act_ok, grid_place, last_seq, report, token};
use crate::harness::{Flavor, Server, TestStore};

/// How long a test waits for a message that must come.
const WAIT: Duration = Duration::from_secs(30);
/// Cases created at a time while one client stalls, and the most created before it must overflow.
const BATCH: usize = 100;
const MAX_CREATES: usize = 3_000;

/// A websocket client.
pub struct Ws(WebSocketStream<MaybeTlsStream<TcpStream>>);

impl Ws {
    /// Connects to `/ws?token=…`.
    pub async fn connect(server: &Server, token: &str) -> Self {
        let url = format!("{}/ws?token={token}", server.base.replacen("http", "ws", 1));
        let (stream, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        Self(stream)
    }

    /// Connects to `/ws` as a browser does after signing in: the session cookie, no token in the URL.
    pub async fn connect_session(server: &Server, cookie: &str) -> Self {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let url = format!("{}/ws", server.base.replacen("http", "ws", 1));
        let mut request = url.into_client_request().unwrap();
        request
            .headers_mut()
            .insert("cookie", cookie.parse().unwrap());
        let (stream, _) = tokio_tungstenite::connect_async(request).await.unwrap();
        Self(stream)
    }

    /// Connects with a 4 KiB receive buffer, so the server's sends block soon after the client stops
    /// reading (a default buffer would hold megabytes).
    pub async fn connect_small(server: &Server, token: &str) -> Self {
        let addr: std::net::SocketAddr = server.base.trim_start_matches("http://").parse().unwrap();
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
        let tcp = socket.connect(addr).await.unwrap();
        let url = format!("ws://{addr}/ws?token={token}");
        let (stream, _) = tokio_tungstenite::client_async(url, MaybeTlsStream::Plain(tcp))
            .await
            .unwrap();
        Self(stream)
    }

    pub async fn send(&mut self, value: &Value) {
        self.0.send(Message::text(value.to_string())).await.unwrap();
    }

    /// The next JSON message (pings are answered by the client library and skipped; they do not extend
    /// the wait, so a message that never comes fails the test after `WAIT`).
    pub async fn next(&mut self) -> Value {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let message = tokio::time::timeout_at(deadline, self.0.next())
                .await
                .expect("a message in time");
            match message.expect("the connection is open").unwrap() {
                Message::Text(text) => return serde_json::from_str(&text).unwrap(),
                Message::Ping(_) | Message::Pong(_) => {}
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    /// The next JSON message, or `None` once the connection is closed or broken (its server died).
    pub async fn next_or_closed(&mut self) -> Option<Value> {
        loop {
            match self.0.next().await {
                Some(Ok(Message::Text(text))) => return Some(serde_json::from_str(&text).unwrap()),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Ok(_) | Err(_)) | None => return None,
            }
        }
    }

    /// Messages up to and including the first for which `last` holds.
    pub async fn until(&mut self, last: impl Fn(&Value) -> bool) -> Vec<Value> {
        let mut out = Vec::new();
        loop {
            let message = self.next().await;
            let done = last(&message);
            out.push(message);
            if done {
                return out;
            }
        }
    }

    /// Waits up to `within` for the server to close the connection, skipping other messages; the close
    /// frame's code and reason, or `None` when it stayed open.
    pub async fn closed_within(&mut self, within: Duration) -> Option<(u16, String)> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            match tokio::time::timeout_at(deadline, self.0.next()).await {
                Err(_) => return None,
                Ok(Some(Ok(Message::Close(frame)))) => {
                    return Some(frame.map_or((1005, String::new()), |f| {
                        (u16::from(f.code), f.reason.to_string())
                    }));
                }
                Ok(None | Some(Err(_))) => return Some((1006, String::new())),
                Ok(Some(Ok(_))) => {}
            }
        }
    }

    /// Subscribes and returns the snapshot.
    pub async fn subscribe(&mut self, filter: &Value) -> Value {
        let mut message = filter.clone();
        message["type"] = json!("subscribe");
        self.send(&message).await;
        let snapshot = self.next().await;
        assert_eq!(snapshot["type"], "snapshot", "{snapshot}");
        snapshot
    }
}

/// Whether a message is the `incident.created` delta of case `id`.
fn created(id: i64) -> impl Fn(&Value) -> bool {
    move |m| m["type"] == "delta" && m["kind"] == "incident.created" && m["id"] == id
}

/// `(kind, id)` of each delta, in order.
fn summary(messages: &[Value]) -> Vec<(String, i64)> {
    messages
        .iter()
        .filter(|m| m["type"] == "delta")
        .map(|m| {
            (
                m["kind"].as_str().unwrap().to_owned(),
                m["id"].as_i64().unwrap(),
            )
        })
        .collect()
}

/// The workers of the `position` messages. Positions are coalesced and carry no sequence number, so
/// where they fall among the deltas is not fixed.
fn positions(messages: &[Value]) -> Vec<i64> {
    messages
        .iter()
        .filter(|m| m["type"] == "position")
        .map(|m| m["worker"].as_i64().unwrap())
        .collect()
}

/// Reads until the `incident.created` delta of `id`, then until a position of `worker` if none came yet.
async fn until_with_position(ws: &mut Ws, id: i64, worker: i64) -> Vec<Value> {
    let mut got = ws.until(created(id)).await;
    if positions(&got).is_empty() {
        got.extend(
            ws.until(|m| m["type"] == "position" && m["worker"] == worker)
                .await,
        );
    }
    got
}

fn seqs(messages: &[Value]) -> Vec<i64> {
    messages
        .iter()
        .filter(|m| m["type"] == "delta")
        .map(|m| m["seq"].as_i64().unwrap())
        .collect()
}

fn pair(kind: &str, id: i64) -> (String, i64) {
    (kind.to_owned(), id)
}

/// A box of ±`d` degrees around a place.
fn box_around(p: &GridPlace, d: f64) -> Value {
    json!([p.lon - d, p.lat - d, p.lon + d, p.lat + d])
}

async fn id_of(server: &Server, token: &str, p: &GridPlace) -> i64 {
    report(server, token, p.lat, p.lon, "city_appearance").await["id"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn filters_scopes_and_resume_on_sqlite() {
    filters_scopes_and_resume(Flavor::Sqlite).await;
}

#[tokio::test]
async fn filters_scopes_and_resume_on_postgis() {
    filters_scopes_and_resume(Flavor::Postgres).await;
}

async fn filters_scopes_and_resume(flavor: Flavor) {
    let Some(store) = TestStore::new(flavor).await else {
        return;
    };
    let server = Server::demo(&store);
    let admin = server.token().to_owned();
    let a = grid_place(&server, 0, 0).await;
    // The worker of grid A answers for some grids; B and C must be none of them, and outside A's box.
    let (_, worker) = server.get(&format!("/api/workers/{}", a.primary)).await;
    let own: Vec<i64> = worker["properties"]["grids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["grid_id"].as_i64().unwrap())
        .collect();
    let d = 0.0003;
    let mut others = Vec::new();
    for n in 1..40 {
        let p = grid_place(&server, n, 0).await;
        let in_box = (p.lat - a.lat).abs() <= d && (p.lon - a.lon).abs() <= d;
        if !own.contains(&p.grid) && !in_box {
            others.push(p);
        }
        if others.len() == 2 {
            break;
        }
    }
    let c = others.pop().unwrap();
    let b = others.pop().unwrap();
    let commander = token(&server, "commander", None).await;
    let worker = token(&server, "worker", Some(a.primary)).await;
    let worker_b = token(&server, "worker", Some(b.primary)).await;

    let mut viewer = Ws::connect(&server, &commander).await;
    let snapshot = viewer
        .subscribe(&json!({"bbox": box_around(&a, d), "grids": [c.grid]}))
        .await;
    assert!(
        snapshot["incidents"].as_array().unwrap().is_empty(),
        "a fresh city has no cases: {snapshot}"
    );
    let mut griddy = Ws::connect(&server, &commander).await;
    griddy
        .subscribe(&json!({"grids": [b.grid, c.grid], "layers": ["incidents"]}))
        .await;
    let mut mine = Ws::connect(&server, &worker).await;
    let scope = mine.subscribe(&json!({})).await;
    // Even asking for the whole world, a worker gets only its grids and its own cases.
    let mut greedy = Ws::connect(&server, &worker).await;
    greedy
        .subscribe(&json!({"bbox": [-180.0, -90.0, 180.0, 90.0]}))
        .await;
    // Grid B's worker's phone, watching only its own cases (as the worker view does).
    let mut phone_b = Ws::connect(&server, &worker_b).await;
    phone_b.subscribe(&json!({"mine": true})).await;
    assert!(
        scope["workers"]
            .as_array()
            .unwrap()
            .iter()
            .all(|w| w["grids"]
                .as_array()
                .unwrap()
                .iter()
                .any(|g| own.contains(&g["grid_id"].as_i64().unwrap()))),
        "{scope}"
    );

    let a1 = id_of(&server, &admin, &a).await;
    let b1 = id_of(&server, &admin, &b).await;
    let b2 = id_of(&server, &admin, &b).await;
    act_ok(
        &server,
        &commander,
        b2,
        &json!({"action": "reassign", "to": a.primary}),
    )
    .await;
    // The worker a case is taken from hears of it, though the case is no longer its own.
    let got = phone_b
        .until(|m| m["type"] == "delta" && m["kind"] == "incident.updated" && m["id"] == b2)
        .await;
    assert_eq!(
        summary(&got),
        [
            pair("incident.created", b1),
            pair("incident.created", b2),
            pair("incident.updated", b2)
        ]
    );
    let reassigned = &got.last().unwrap()["data"];
    assert_eq!(
        (
            &reassigned["assignee"],
            &reassigned["last"]["detail"]["from"]
        ),
        (&json!(a.primary), &json!(b.primary))
    );
    let (status, _) = server
        .send_as(
            &worker,
            Method::PUT,
            &format!("/api/workers/{}/position", a.primary),
            &json!({"lat": a.lat, "lon": a.lon}),
        )
        .await;
    assert_eq!(status, 204);
    let m1 = id_of(&server, &admin, &c).await;
    let a2 = id_of(&server, &admin, &a).await;

    let got = until_with_position(&mut viewer, a2, a.primary).await;
    assert_eq!(
        summary(&got),
        [
            pair("incident.created", a1),
            pair("incident.created", m1),
            pair("incident.created", a2)
        ],
        "bbox around A + grid C"
    );
    assert_eq!(
        positions(&got),
        [a.primary],
        "the worker moved inside the box"
    );
    let got = griddy.until(created(m1)).await;
    assert_eq!(
        summary(&got),
        [
            pair("incident.created", b1),
            pair("incident.created", b2),
            pair("incident.updated", b2),
            pair("incident.created", m1)
        ],
        "grids B and C, incidents only"
    );
    assert!(
        positions(&got).is_empty(),
        "griddy asked for incidents only"
    );
    for ws in [&mut mine, &mut greedy] {
        let got = until_with_position(ws, a2, a.primary).await;
        assert_eq!(
            summary(&got),
            [
                pair("incident.created", a1),
                pair("incident.updated", b2),
                pair("incident.created", a2)
            ],
            "a worker: its grid, and the case reassigned to it"
        );
        assert_eq!(positions(&got), [a.primary]);
        let seqs = seqs(&got);
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]),
            "deltas arrive in sequence order: {seqs:?}"
        );
    }

    // --- Resume: a client that was away gets exactly what a client that stayed got, in order.
    let mut stayed = Ws::connect(&server, &commander).await;
    stayed.subscribe(&json!({"grids": [b.grid]})).await;
    let mut away = Ws::connect(&server, &commander).await;
    let cursor = away.subscribe(&json!({"grids": [b.grid]})).await["seq"]
        .as_i64()
        .unwrap();
    drop(away);
    let b3 = id_of(&server, &admin, &b).await;
    let a3 = id_of(&server, &admin, &a).await;
    act_ok(&server, &worker_b, b3, &json!({"action": "accept"})).await;
    let b4 = id_of(&server, &admin, &b).await;
    let live = stayed.until(created(b4)).await;
    assert_eq!(
        summary(&live),
        [
            pair("incident.created", b3),
            pair("incident.updated", b3),
            pair("incident.created", b4)
        ],
        "the reference client; {a3} in grid A is not in its filter"
    );
    let mut back = Ws::connect(&server, &commander).await;
    back.send(&json!({"type": "resume", "seq": cursor, "grids": [b.grid]}))
        .await;
    let replay = back.until(|m| m["type"] == "replayed").await;
    assert_eq!(
        replay[..replay.len() - 1],
        live[..],
        "the replay equals what the live client received"
    );
    assert_eq!(replay.last().unwrap()["seq"], last_seq(&server).await);
    // And then it is live again.
    let b5 = id_of(&server, &admin, &b).await;
    assert_eq!(
        summary(&back.until(created(b5)).await),
        [pair("incident.created", b5)]
    );
    // A resume from before everything, with the filter kept from the last subscription.
    back.send(&json!({"type": "resume", "seq": 0})).await;
    let all = back.until(|m| m["type"] == "replayed").await;
    let ids: Vec<i64> = summary(&all)
        .into_iter()
        .filter(|(k, _)| k == "incident.created")
        .map(|(_, id)| id)
        .collect();
    assert_eq!(
        ids,
        [b1, b2, b3, b4, b5],
        "every case ever created in grid B"
    );

    drop(server);
    store.finish().await;
}

/// Whether the stalled subscriber has overflowed: its queue is marked (while its socket task is stuck in a
/// send), or, once a send got through, it has told the client to resync and left the hub (one
/// subscription, the reading client's, remains).
fn stalled(live: &Value) -> bool {
    live["overflowed"] == 1 || live["subscriptions"] == 1
}

#[tokio::test]
async fn a_client_that_stops_reading_delays_no_one_and_stays_bounded() {
    let Some(store) = TestStore::new(Flavor::Sqlite).await else {
        return;
    };
    let server = Server::start(
        &[
            "demo",
            "--ws-queue",
            "16",
            "--ws-ping-ms",
            "60000",
            "--socket-send-buffer",
            "4096",
        ],
        &store,
    );
    let admin = server.token().to_owned();
    let commander = token(&server, "commander", None).await;
    let mut places = Vec::new();
    for n in 0..12 {
        places.push(grid_place(&server, n, n).await);
    }
    let mut slow = Ws::connect_small(&server, &commander).await;
    slow.subscribe(&json!({})).await;
    let mut fast = Ws::connect(&server, &commander).await;
    fast.subscribe(&json!({})).await;

    // The reading client collects everything up to a marker case of its own category.
    let reader = tokio::spawn(async move {
        let got = fast
            .until(|m| m["kind"] == "incident.created" && m["data"]["category"] == "other")
            .await;
        // Handed back so it stays subscribed while the stalled one is inspected.
        (fast, got)
    });
    // Create cases, 4 at a time, until the stalled client's queue overflows (the socket buffers, capped
    // at 4 KiB on both ends, take the first few), and a batch more.
    let mut created = 0;
    let mut overflowed_at = None;
    while overflowed_at.is_none_or(|at| created < at + BATCH) {
        if created >= MAX_CREATES {
            let (_, health) = server.get("/health").await;
            panic!("the stalled client never overflowed: {}", health["live"]);
        }
        let mut tasks = Vec::new();
        for t in 0..4 {
            let (http, base, admin) = (server.http.clone(), server.base.clone(), admin.clone());
            let spots: Vec<(f64, f64)> = (0..BATCH / 4)
                .map(|i| {
                    let p = &places[(t * 7 + i) % places.len()];
                    (p.lat, p.lon)
                })
                .collect();
            tasks.push(tokio::spawn(async move {
                for (lat, lon) in spots {
                    let body = json!({"lat": lat, "lon": lon, "category": "city_appearance"});
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
        created += BATCH;
        if overflowed_at.is_none() && stalled(&server.get("/health").await.1["live"]) {
            overflowed_at = Some(created);
        }
    }
    let marker = report(&server, &admin, places[0].lat, places[0].lon, "other").await["id"]
        .as_i64()
        .unwrap();
    let (fast, fast_got) = reader.await.unwrap();
    let fast_created = fast_got
        .iter()
        .filter(|m| m["kind"] == "incident.created")
        .count();
    assert_eq!(
        fast_created,
        created + 1,
        "the reading client got every case while the other one stalled"
    );
    assert_eq!(fast_got.last().unwrap()["id"], marker);

    // The stalled client holds at most its queue in the server.
    let (_, health) = server.get("/health").await;
    let live = &health["live"];
    assert!(stalled(live), "{live}");
    assert!(
        live["queued_max"].as_u64().unwrap() <= 16,
        "a stalled subscriber's queue is bounded: {live}"
    );

    // It reads again: what it had, then resync; resuming from there gives the rest, without gaps.
    let before = slow.until(|m| m["type"] == "resync").await;
    let resync = before.last().unwrap()["seq"].as_i64().unwrap();
    let mut slow_seqs = seqs(&before);
    assert!(
        slow_seqs.len() < created,
        "it fell behind before the end: {} deltas",
        slow_seqs.len()
    );
    assert_eq!(
        slow_seqs.last().copied().unwrap_or(resync),
        resync,
        "resync names the last sequence it was sent"
    );
    slow.send(&json!({"type": "resume", "seq": resync})).await;
    let replay = slow.until(|m| m["type"] == "replayed").await;
    slow_seqs.extend(seqs(&replay));
    assert_eq!(
        slow_seqs,
        seqs(&fast_got),
        "before the resync plus the replay is exactly the stream"
    );
    drop(fast);
    drop(server);
    store.finish().await;
}

#[tokio::test]
async fn a_dead_connection_is_closed() {
    let Some(store) = TestStore::new(Flavor::Sqlite).await else {
        return;
    };
    let server = Server::start(&["demo", "--ws-ping-ms", "300"], &store);
    let commander = token(&server, "commander", None).await;
    let mut alive = Ws::connect(&server, &commander).await;
    alive.subscribe(&json!({})).await;
    // Answers pings because it keeps reading.
    let keeper = tokio::spawn(async move {
        loop {
            match alive.0.next().await {
                Some(Ok(_)) => {}
                _ => return,
            }
        }
    });
    // Never reads again, so never answers a ping.
    let dead = Ws::connect(&server, &commander).await;
    let connections = || async {
        server.get("/health").await.1["live"]["connections"]
            .as_i64()
            .unwrap()
    };
    assert_eq!(connections().await, 2);
    let mut waited = Duration::ZERO;
    while connections().await != 1 {
        assert!(waited < WAIT, "the dead connection was never closed");
        tokio::time::sleep(Duration::from_millis(100)).await;
        waited += Duration::from_millis(100);
    }
    // The one that answers stays, through several more ping intervals.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(connections().await, 1);
    assert!(!keeper.is_finished(), "the live client is still connected");
    drop(dead);
    drop(server);
    store.finish().await;
}

#[tokio::test]
async fn bad_websocket_input_is_refused_and_changes_nothing() {
    let Some(store) = TestStore::new(Flavor::Sqlite).await else {
        return;
    };
    let server = Server::demo(&store);
    let commander = token(&server, "commander", None).await;
    let reporter = token(&server, "reporter", None).await;
    let seq = last_seq(&server).await;
    let ws_url = server.url("/ws");

    // The upgrade: a plain GET, no token, a wrong token, a role that may not watch.
    let plain = server
        .http
        .get(&ws_url)
        .bearer_auth(&commander)
        .send()
        .await
        .unwrap();
    assert!(plain.status().is_client_error(), "{}", plain.status());
    assert_eq!(plain.headers()["content-type"], "application/problem+json");
    for (token, status) in [
        (None, 401),
        (Some("gw_nope"), 401),
        (Some(reporter.as_str()), 403),
    ] {
        let url = match token {
            Some(t) => format!("{}?token={t}", ws_url.replacen("http", "ws", 1)),
            None => ws_url.replacen("http", "ws", 1),
        };
        match tokio_tungstenite::connect_async(url).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                assert_eq!(response.status().as_u16(), status);
            }
            other => panic!(
                "{token:?}: expected HTTP {status}, got {:?}",
                other.map(|_| "a websocket")
            ),
        }
    }

    let mut ws = Ws::connect(&server, &commander).await;
    let refusals: Vec<(Message, u16)> = vec![
        (Message::text("not json"), 400),
        (Message::text("[1, 2]"), 400),
        (Message::text(r#"{"type": "dance"}"#), 400),
        (
            Message::text(r#"{"type": "subscribe", "bbox": [1, 2, 3]}"#),
            400,
        ),
        (
            Message::text(r#"{"type": "subscribe", "bbox": [113.2, 36.0, 113.1, 36.1]}"#),
            422,
        ),
        (
            Message::text(r#"{"type": "subscribe", "bbox": [113.0, 36.0, 113.1, 95.0]}"#),
            422,
        ),
        (
            Message::text(
                r#"{"type": "subscribe", "near": {"lat": 36.2, "lon": 113.1, "radius_m": -5}}"#,
            ),
            422,
        ),
        (
            Message::text(r#"{"type": "subscribe", "grids": [999999]}"#),
            422,
        ),
        (
            Message::text(r#"{"type": "subscribe", "communities": [999999]}"#),
            422,
        ),
        (
            Message::text(r#"{"type": "subscribe", "layers": ["weather"]}"#),
            400,
        ),
        (Message::text(r#"{"type": "subscribe", "mine": true}"#), 422),
        (Message::text(r#"{"type": "subscribe", "zoom": 3}"#), 400),
        (Message::text(r#"{"type": "resume"}"#), 422),
        (Message::text(r#"{"type": "resume", "seq": -1}"#), 422),
        (Message::text(r#"{"type": "resume", "seq": 1e15}"#), 422),
        (Message::text(r#"{"type": "resume", "seq": "3"}"#), 422),
        (Message::binary(vec![1_u8, 2, 3]), 400),
    ];
    for (message, status) in refusals {
        let shown = format!("{message:?}");
        ws.0.send(message).await.unwrap();
        let answer = ws.next().await;
        assert_eq!(answer["type"], "error", "{shown}: {answer}");
        assert_eq!(answer["status"], status, "{shown}: {answer}");
        assert!(
            answer["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "{shown}: {answer}"
        );
    }
    // Still usable afterwards.
    ws.send(&json!({"type": "ping"})).await;
    assert_eq!(ws.next().await["type"], "pong");
    // A message over 64 KiB closes the connection.
    let huge = json!({"type": "subscribe", "grids": vec![1; 40_000]}).to_string();
    assert!(huge.len() > 64 * 1024);
    let _ = ws.0.send(Message::text(huge)).await;
    let closed = tokio::time::timeout(WAIT, async {
        loop {
            match ws.0.next().await {
                None | Some(Err(_) | Ok(Message::Close(_))) => return true,
                Some(Ok(_)) => {}
            }
        }
    })
    .await
    .unwrap();
    assert!(closed);
    assert_eq!(last_seq(&server).await, seq, "nothing changed");
    drop(server);
    store.finish().await;
}

#[tokio::test]
async fn a_phone_hears_of_open_cases_near_it_in_other_grids_on_sqlite() {
    cases_near_the_phone(Flavor::Sqlite).await;
}

#[tokio::test]
async fn a_phone_hears_of_open_cases_near_it_in_other_grids_on_postgis() {
    cases_near_the_phone(Flavor::Postgres).await;
}

/// The worker view's nearby tab (`mine: true`): the open cases within the routing radius of where the
/// worker is, in any grid (routing may give them those), come in the snapshot and live, and so does their
/// closing; farther cases do not, and the case's details stay out of the worker's reach.
async fn cases_near_the_phone(flavor: Flavor) {
    let Some(store) = TestStore::new(flavor).await else {
        return;
    };
    let server = Server::demo(&store);
    let admin = server.token().to_owned();
    let a = grid_place(&server, 0, 0).await;
    // Another grid's point within the radius (1 km by default), and one well beyond it.
    let (mut near, mut far) = (None, None);
    for n in 1..98 {
        let p = grid_place(&server, n, 0).await;
        let m = geo::Distance::distance(
            &geo::Haversine,
            geo::Point::new(a.lon, a.lat),
            geo::Point::new(p.lon, p.lat),
        );
        if p.grid != a.grid && (200.0..800.0).contains(&m) && near.is_none() {
            near = Some(p);
        } else if m > 2_000.0 && far.is_none() {
            far = Some(p);
        }
        if near.is_some() && far.is_some() {
            break;
        }
    }
    let (near, far) = (
        near.expect("a grid near the first"),
        far.expect("a far grid"),
    );
    let worker = token(&server, "worker", Some(a.primary)).await;
    let (status, body) = server
        .send_as(
            &worker,
            Method::POST,
            "/api/positions",
            &json!([{"lat": a.lat, "lon": a.lon}]),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let before = report(&server, &admin, near.lat, near.lon, "city_appearance").await["id"]
        .as_i64()
        .unwrap();
    let far_before = report(&server, &admin, far.lat, far.lon, "city_appearance").await["id"]
        .as_i64()
        .unwrap();

    let mut phone = Ws::connect(&server, &worker).await;
    let snapshot = phone.subscribe(&json!({"mine": true})).await;
    let ids: Vec<i64> = snapshot["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    assert!(
        ids.contains(&before),
        "the near case in the snapshot: {ids:?}"
    );
    assert!(!ids.contains(&far_before), "not the far one: {ids:?}");

    let far_after = report(&server, &admin, far.lat, far.lon, "city_appearance").await["id"]
        .as_i64()
        .unwrap();
    let after = report(&server, &admin, near.lat, near.lon, "city_appearance").await["id"]
        .as_i64()
        .unwrap();
    act_ok(
        &server,
        &admin,
        after,
        &json!({"action": "cancel", "reason": "duplicate"}),
    )
    .await;
    let got = phone
        .until(|m| m["type"] == "delta" && m["id"] == after && m["data"]["status"] == "cancelled")
        .await;
    assert!(
        got.iter().any(created(after)),
        "the new near case came live"
    );
    assert!(
        !got.iter().any(|m| m["id"] == far_after),
        "the far case did not: {got:?}"
    );
    // A summary on the map, not the case: its details stay with its grid.
    let (status, _) = server
        .get_as(&worker, &format!("/api/incidents/{before}"))
        .await;
    assert_eq!(status, 403);
    store.finish().await;
}
