//! Transport hardening through the real binary, on both stores (issue 18, "Hardening"):
//! - connections that send half a header are cut off after the header-read timeout, and while 300 of
//!   them are open against a 256-file limit `/health` still answers at once; a request whose body
//!   stalls is answered 408 after the request timeout;
//! - made-up HTTP methods are counted under one `/metrics` label;
//! - the web map's pages carry a CSP, no framing, no referrer; every response `nosniff`;
//! - a burst over a rate limit gets 429 with `Retry-After` (Open311 writes, photos, positions and
//!   OsmAnd, websocket control messages), and a request after the wait is taken.
//!
//! TLS is in `tls.rs`.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::cases::{grid_place, report, token};
use crate::harness::{Flavor, Server, TestStore};
use crate::live::Ws;

/// The server's header-read and request timeouts in these tests.
const HEADER_TIMEOUT: Duration = Duration::from_secs(2);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);
/// Slack on top of a timeout for a debug build on a shared machine.
const SLACK: Duration = Duration::from_secs(5);
/// The open-file limit the probe exhausted, and the connections it opened.
const OPEN_FILES: u64 = 256;
const SLOW_CLIENTS: usize = 300;
/// `/health` must answer long before a slow client would be cut off (the issue asks under 100 ms; a
/// debug build on a shared machine gets more room, still well under the header timeout).
const HEALTH_BUDGET: Duration = Duration::from_secs(1);

#[tokio::test]
async fn hardening_on_sqlite() {
    hardening(Flavor::Sqlite).await;
}

#[tokio::test]
async fn hardening_on_postgis() {
    hardening(Flavor::Postgres).await;
}

async fn hardening(flavor: Flavor) {
    let Some(store) = TestStore::new(flavor).await else {
        return;
    };
    let header_ms = HEADER_TIMEOUT.as_millis().to_string();
    let request_ms = REQUEST_TIMEOUT.as_millis().to_string();
    let server = Server::start_with_open_files(
        &[
            "demo",
            "--header-read-timeout-ms",
            &header_ms,
            "--request-timeout-ms",
            &request_ms,
            "--rate-open311",
            "3/s",
            "--rate-photos",
            "3/s",
            "--rate-positions",
            "3/s",
            "--ws-control-rate",
            "5/s",
        ],
        &store,
        OPEN_FILES,
    );
    slow_headers(&server).await;
    stalled_body(&server).await;
    made_up_methods(&server).await;
    page_headers(&server).await;
    rate_limits(&server).await;
    websocket_control_messages(&server).await;
    drop(server);
    store.finish().await;
}

/// The server's address, `127.0.0.1:port`.
pub fn addr(server: &Server) -> String {
    server
        .base
        .trim_start_matches("http://")
        .trim_start_matches("https://")
        .to_owned()
}

/// Waits until the server closes `stream` (EOF or reset); `None` if it is still open after `within`.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout(
            within.saturating_sub(started.elapsed()),
            stream.read(&mut buf),
        )
        .await
        {
            Err(_) => return None,
            Ok(Ok(0) | Err(_)) => return Some(started.elapsed()),
            // The server may answer before closing (hyper's own 408); keep reading to the close.
            Ok(Ok(_)) => {}
        }
    }
}

async fn health_took(server: &Server) -> Duration {
    let started = Instant::now();
    let response = server
        .http
        .get(server.url("/health"))
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .expect("/health answers while slow clients hold connections");
    assert_eq!(response.status(), 200);
    started.elapsed()
}

/// Slowloris: 300 connections each send half a request head and wait, against a server limited to 256
/// open files. The server keeps serving (`/health` at once) and cuts every one of them off.
async fn slow_headers(server: &Server) {
    let addr = addr(server);
    let mut slow = Vec::with_capacity(SLOW_CLIENTS);
    for _ in 0..SLOW_CLIENTS {
        let mut stream = TcpStream::connect(&addr).await.unwrap();
        stream
            .write_all(b"GET /health HTTP/1.1\r\nHost: gridwatch\r\nX-Slow: ")
            .await
            .unwrap();
        slow.push(stream);
    }
    let mut took = Vec::new();
    for _ in 0..5 {
        took.push(health_took(server).await);
    }
    eprintln!("/health with {SLOW_CLIENTS} slow clients open: {took:?}");
    assert!(
        took.iter().all(|t| *t < HEALTH_BUDGET),
        "/health waited on the slow clients: {took:?}"
    );
    // Every slow client is cut off: pushed off by newer connections at the cap, or by the timeout.
    let mut still_open = 0;
    let cut = join_all(
        slow.iter_mut()
            .map(|s| closed_within(s, HEADER_TIMEOUT + SLACK)),
    )
    .await;
    for closed in &cut {
        if closed.is_none() {
            still_open += 1;
        }
    }
    assert_eq!(
        still_open,
        0,
        "{still_open} of {SLOW_CLIENTS} half-sent requests still open after {:?}",
        HEADER_TIMEOUT + SLACK
    );
    // One slow client alone (nothing pushes it off) lasts the header-read timeout, not less.
    let mut alone = TcpStream::connect(&addr).await.unwrap();
    alone.write_all(b"GET /health HTTP/1.1\r\n").await.unwrap();
    let lasted = closed_within(&mut alone, HEADER_TIMEOUT + SLACK)
        .await
        .expect("a half-sent request head is cut off after the header-read timeout");
    assert!(
        lasted + Duration::from_millis(300) >= HEADER_TIMEOUT,
        "cut off after {lasted:?}, before the header-read timeout"
    );
    // And a client that sends nothing at all.
    let mut silent = TcpStream::connect(&addr).await.unwrap();
    assert!(
        closed_within(&mut silent, HEADER_TIMEOUT + SLACK)
            .await
            .is_some(),
        "a silent connection stays open"
    );
    assert!(health_took(server).await < HEALTH_BUDGET);
}

/// A request whose body never comes is answered 408 (problem+json) after the request timeout.
async fn stalled_body(server: &Server) {
    let mut stream = TcpStream::connect(addr(server)).await.unwrap();
    let head = format!(
        "POST /api/incidents HTTP/1.1\r\nHost: gridwatch\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 200\r\n\r\n{{\"lat\": ",
        server.token()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(REQUEST_TIMEOUT + SLACK, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    answer.extend_from_slice(&buf[..n]);
                    if answer.windows(4).any(|w| w == b"\r\n\r\n") && answer.ends_with(b"}") {
                        break;
                    }
                }
            }
        }
    })
    .await;
    assert!(
        read.is_ok(),
        "no answer to a stalled body within the request timeout"
    );
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(
        text.to_ascii_lowercase()
            .contains("content-type: application/problem+json"),
        "{text}"
    );
    assert!(text.contains("/problems/request-timeout"), "{text}");
}

/// Methods no client uses are one `other` label, however many are sent.
async fn made_up_methods(server: &Server) {
    for i in 0..50 {
        let method = Method::from_bytes(format!("PROBE{i}X").as_bytes()).unwrap();
        let response = server
            .http
            .request(method, server.url("/health"))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_client_error(), "{}", response.status());
    }
    let metrics = server
        .http
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let methods: BTreeSet<&str> = metrics
        .lines()
        .filter(|l| l.starts_with("gridwatch_http_requests_total{"))
        .filter_map(|l| l.split("method=\"").nth(1))
        .filter_map(|rest| rest.split('"').next())
        .collect();
    let known: BTreeSet<&str> = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "other",
    ]
    .into();
    assert!(methods.contains("other"), "{methods:?}");
    assert!(methods.is_subset(&known), "method labels: {methods:?}");
}

/// The pages: a CSP of this origin only, no framing, no referrer; every response `nosniff`.
async fn page_headers(server: &Server) {
    for path in [
        "/",
        "/worker",
        "/planner",
        "/sw.js",
        "/static/js/centre.js",
        "/static/vendor/maplibre-gl.css",
    ] {
        let response = server.http.get(server.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .unwrap_or_else(|| panic!("{path}: no {name}"))
                .to_str()
                .unwrap()
                .to_owned()
        };
        let csp = header("content-security-policy");
        for directive in [
            "default-src 'self'",
            "script-src 'self'",
            "worker-src 'self' blob:",
            "img-src 'self' data: blob:",
            "frame-ancestors 'none'",
            "object-src 'none'",
        ] {
            assert!(csp.contains(directive), "{path}: {directive} not in {csp}");
        }
        let host = addr(server);
        assert!(
            csp.contains(&format!("connect-src 'self' ws://{host} wss://{host}")),
            "{path}: {csp}"
        );
        assert_eq!(header("x-frame-options"), "DENY", "{path}");
        assert_eq!(header("referrer-policy"), "no-referrer", "{path}");
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
    }
    for path in ["/health", "/api/grids", "/no-such-page"] {
        let response = server
            .http
            .get(server.url(path))
            .bearer_auth(server.token())
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.headers()["x-content-type-options"],
            "nosniff",
            "{path}"
        );
    }
}

/// One answer: status, `Retry-After` and the body as JSON.
async fn answer(response: reqwest::Response) -> (u16, Option<u64>, Value) {
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().parse().unwrap());
    let body = response.json().await.unwrap_or(Value::Null);
    (status, retry_after, body)
}

/// Sends 12 requests at once: at most the burst (3) and what refilled meanwhile is taken, the rest are
/// 429 with `Retry-After` and `refused` checks their body. Returns the longest wait asked for.
async fn burst<F, Fut>(what: &str, send: F, refused: impl Fn(&Value)) -> u64
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = reqwest::Response>,
{
    let answers = join_all((0..12).map(|_| async { answer(send().await).await })).await;
    let limited: Vec<_> = answers.iter().filter(|(s, _, _)| *s == 429).collect();
    assert!(
        limited.len() >= 6,
        "{what}: only {} of 12 refused: {answers:?}",
        limited.len()
    );
    let mut wait = 0;
    for (_, retry_after, body) in &limited {
        let seconds = retry_after.unwrap_or_else(|| panic!("{what}: a 429 without Retry-After"));
        assert!((1..=2).contains(&seconds), "{what}: Retry-After {seconds}");
        wait = wait.max(seconds);
        refused(body);
    }
    wait
}

fn problem_429(body: &Value) {
    assert_eq!(body["type"], "/problems/rate-limited", "{body}");
    assert_eq!(body["status"], 429, "{body}");
    assert!(body["retry_after_s"].as_u64().is_some(), "{body}");
}

fn open311_429(body: &Value) {
    assert_eq!(body[0]["code"], 429, "{body}");
    assert!(body[0]["description"].is_string(), "{body}");
}

async fn after(seconds: u64) {
    tokio::time::sleep(Duration::from_secs(seconds) + Duration::from_millis(100)).await;
}

/// Open311 writes, photos, and positions (the batch API and OsmAnd share one budget), each at 3/s.
async fn rate_limits(server: &Server) {
    let here = grid_place(server, 0, 3).await;
    let (lat, long) = (here.lat.to_string(), here.lon.to_string());
    let reporter = token(server, "reporter", None).await;
    let form = [
        ("api_key", reporter.as_str()),
        ("service_code", "city_appearance"),
        ("lat", lat.as_str()),
        ("long", long.as_str()),
        ("description", "rate limit probe"),
    ];
    let file = || {
        server
            .http
            .post(server.url("/open311/v2/requests.json"))
            .form(&form)
            .send()
    };
    let wait = burst("open311", || async { file().await.unwrap() }, open311_429).await;
    // Reading is not limited.
    let (status, _, _) = answer(
        server
            .http
            .get(server.url("/open311/v2/requests.json"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    after(wait).await;
    let (status, _, body) = answer(file().await.unwrap()).await;
    assert_eq!(status, 201, "after the wait: {body}");

    // Photos: a case, a burst of uploads, then one more after the wait.
    let case = report(
        server,
        server.token(),
        here.lat,
        here.lon,
        "city_appearance",
    )
    .await;
    let id = case["id"].as_i64().unwrap();
    let upload = |n: u8| {
        let boundary = "hardening-boundary";
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"x.png\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .into_bytes();
        body.extend(png(n));
        body.extend(format!("\r\n--{boundary}--\r\n").bytes());
        server
            .http
            .post(server.url(&format!("/api/incidents/{id}/photos")))
            .bearer_auth(server.token())
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
    };
    let counter = std::sync::atomic::AtomicU8::new(0);
    let wait = burst(
        "photos",
        || async {
            let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            upload(n).await.unwrap()
        },
        problem_429,
    )
    .await;
    after(wait).await;
    let (status, _, body) = answer(upload(200).await.unwrap()).await;
    assert_eq!(status, 201, "after the wait: {body}");

    // Positions: OsmAnd probes of unknown device ids spend the same budget as the batch API.
    let probe = || {
        server
            .http
            .get(server.url(&format!(
                "/osmand?id=guess-{}&lat={lat}&lon={long}",
                rand::random::<u32>()
            )))
            .send()
    };
    let wait = burst("osmand", || async { probe().await.unwrap() }, problem_429).await;
    let (status, _, body) = answer(
        server
            .http
            .post(server.url("/api/positions"))
            .bearer_auth(server.token())
            .json(&json!({"positions": []}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 429, "the batch API shares the budget: {body}");
    after(wait).await;
    let (status, _, body) = answer(probe().await.unwrap()).await;
    // Answered as a known id is (issue 18: devices authenticate), no longer throttled.
    assert_eq!(
        status, 200,
        "after the wait, an unknown id is answered like a known one: {body}"
    );
}

/// 500 `subscribe` messages from one socket: at most the budget (5/s) build a snapshot, the rest are
/// answered 429 and ignored; after a wait a subscribe is served again.
async fn websocket_control_messages(server: &Server) {
    let commander = token(server, "commander", None).await;
    let mut ws = Ws::connect(server, &commander).await;
    let subscribe = json!({"type": "subscribe", "layers": ["incidents"]});
    for _ in 0..500 {
        ws.send(&subscribe).await;
    }
    let (mut snapshots, mut refused) = (0, 0);
    while snapshots + refused < 500 {
        let message = ws.next().await;
        match message["type"].as_str() {
            Some("snapshot") => snapshots += 1,
            Some("error") => {
                assert_eq!(message["status"], 429, "{message}");
                assert_eq!(message["problem"], "/problems/rate-limited", "{message}");
                refused += 1;
            }
            _ => {}
        }
    }
    eprintln!("500 subscribes: {snapshots} snapshots, {refused} refused");
    assert!(
        snapshots <= 50,
        "{snapshots} snapshots built for 500 subscribes"
    );
    tokio::time::sleep(Duration::from_millis(1200)).await;
    ws.subscribe(&subscribe).await;
}

/// A 1×1 PNG whose one pixel is `n`: each upload a different picture, since the server refuses a photo a
/// case already has (it compares what it stores, after stripping metadata, so a trailing byte would not
/// do).
fn png(n: u8) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    image::RgbImage::from_pixel(1, 1, image::Rgb([n, 0, 0]))
        .write_to(&mut out, image::ImageFormat::Png)
        .expect("a PNG");
    out.into_inner()
}
