//! Positions + live map load: posts position batches to `POST /api/positions` at a steady rate while
//! `--clients` websocket clients (default 1,000), each subscribed to a random viewport of the city, listen
//! on `/ws`; reports positions/s acknowledged (stored), HTTP batch latency, websocket delivery latency,
//! messages received, the server's memory and CPU, and `/health`'s live stats.
//!
//! Open loop: batch `j` is scheduled at `start + j * batch / rate` and sent then, whether or not earlier
//! batches have been answered; its HTTP latency runs from that *scheduled* time to the end of its `200`
//! (which the server sends only after the group-commit writer has stored the batch).
//!
//! Delivery latency is `receive time − the fix's at` for every `position` message a client receives. The
//! tool stamps fix `k` of a batch of `B` with `send time − (B − 1 − k) µs` (so each worker's fixes in one
//! batch have distinct, increasing times); a fix's latency is therefore overstated by at most `B` µs. The
//! server coalesces positions per worker per subscriber (latest wins), so a subscriber receives at most
//! one message per worker per wake-up, not one per fix: "messages" counts what was delivered.
//!
//! Movers: the server's workers (or the first `--workers` of them), round robin, each starting at a
//! random point of the city and walking at `--speed-mps` (the step per fix is that speed divided by the
//! worker's fix rate), turning a little at each fix and bouncing off the city's extent, so no fix is an
//! implausible jump and the numbers reflect the normal path. Everything random is `ChaCha8` from `--seed`.
//!
//! ```sh
//! cargo run --release -p gridwatch --example load_positions -- --url http://127.0.0.1:8080 --token gw_… \
//!     --server-pid 1234
//! ```
//! `server/benches/load_positions.sh` starts fresh servers and runs this three times on each store.

// A load tool: a failed setup request ends the run with its message, and counts are small enough for f64.
#![allow(
    clippy::unwrap_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::too_many_lines
)]

use std::fmt::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};
use tokio::sync::{Semaphore, watch};
use tokio_tungstenite::tungstenite::Message;

#[derive(Debug, Parser)]
struct Args {
    /// The server's base URL.
    #[arg(long)]
    url: String,
    /// A token that may report any worker's positions and watch the live map (the demo's admin token).
    #[arg(long)]
    token: String,
    /// Websocket clients, each with its own random viewport.
    #[arg(long, default_value_t = 1000)]
    clients: usize,
    /// Positions per second.
    #[arg(long, default_value_t = 50_000.0)]
    rate: f64,
    /// Positions per request (at most 10,000).
    #[arg(long, default_value_t = 2000)]
    batch: usize,
    /// Seconds measured, after the warm-up.
    #[arg(long, default_value_t = 20.0)]
    duration_s: f64,
    /// Seconds sent at the same rate before measuring; their figures are dropped.
    #[arg(long, default_value_t = 3.0)]
    warmup_s: f64,
    /// Use only the first N workers (by id) as movers; default all.
    #[arg(long)]
    workers: Option<usize>,
    /// Walking speed of every mover, m/s.
    #[arg(long, default_value_t = 5.0)]
    speed_mps: f64,
    /// Smallest viewport side, as a fraction of the city's extent (sides are log-uniform up to 1).
    #[arg(long, default_value_t = 0.05)]
    min_viewport: f64,
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// The server's process id, to read its memory (`/proc/PID/status`) and CPU time; once per node
    /// for several (their sum is reported).
    #[arg(long)]
    server_pid: Vec<u32>,
    /// Another node of the same system (several nodes): batches are posted to `--url` and these in
    /// turn, and the websocket clients are spread over them in turn.
    #[arg(long)]
    also_url: Vec<String>,
    /// Websocket connections opened at once while setting up.
    #[arg(long, default_value_t = 50)]
    connect_concurrency: usize,
    /// A label for the report (e.g. the store).
    #[arg(long, default_value = "")]
    label: String,
}

/// One posted batch.
struct Sent {
    scheduled_s: f64,
    /// From the scheduled send time to the end of the response, microseconds.
    latency_us: u64,
    accepted: u64,
    flagged: u64,
    ok: bool,
}

/// What one websocket client saw after the warm-up.
#[derive(Default)]
struct Heard {
    /// Delivery latency of each `position` message whose fix was taken after the warm-up, microseconds.
    latencies_us: Vec<u32>,
    /// `position` messages received before that (warm-up).
    early: u64,
    resyncs: u64,
    errors: u64,
    /// The connection ended before the run did.
    dropped: bool,
}

/// A mover: a worker walking through the city.
struct Mover {
    id: i64,
    lat: f64,
    lon: f64,
    heading: f64,
}

/// `[min_lon, min_lat, max_lon, max_lat]`.
type Bbox = [f64; 4];

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    if !(args.rate > 0.0
        && args.duration_s > 0.0
        && args.warmup_s >= 0.0
        && (1..=10_000).contains(&args.batch))
    {
        bail!(
            "--rate and --duration-s must be positive, --warmup-s not negative, --batch in 1..=10000"
        );
    }
    let http = reqwest::Client::builder()
        .timeout(Duration::from_mins(1))
        .build()?;
    let extent = city_extent(&http, &args).await?;
    let mut workers = worker_ids(&http, &args).await?;
    if let Some(n) = args.workers {
        workers.truncate(n.max(1));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(args.seed);
    let viewports: Vec<Bbox> = (0..args.clients)
        .map(|_| viewport(&mut rng, extent, args.min_viewport))
        .collect();
    let mut movers: Vec<Mover> = workers
        .iter()
        .map(|&id| Mover {
            id,
            lat: rng.random_range(extent[1]..extent[3]),
            lon: rng.random_range(extent[0]..extent[2]),
            heading: rng.random_range(0.0..std::f64::consts::TAU),
        })
        .collect();
    // Meters per fix: each mover gets rate / movers fixes a second.
    let step_m = args.speed_mps * movers.len() as f64 / args.rate;
    eprintln!(
        "{}: city {extent:?}, {} movers ({step_m:.4} m a fix), {} clients, {} positions/s in batches of {} for {} s after a {} s warm-up",
        args.label,
        movers.len(),
        args.clients,
        args.rate,
        args.batch,
        args.duration_s,
        args.warmup_s
    );

    // The listeners: connect, subscribe, wait for every snapshot.
    let nodes: Vec<String> = std::iter::once(&args.url)
        .chain(&args.also_url)
        .map(|u| u.trim_end_matches('/').to_owned())
        .collect();
    let ws_urls: Vec<String> = nodes
        .iter()
        .map(|u| {
            format!(
                "{}/ws?token={}",
                u.replacen("http://", "ws://", 1)
                    .replacen("https://", "wss://", 1),
                args.token
            )
        })
        .collect();
    let (stop_tx, stop_rx) = watch::channel(false);
    let (measure_tx, measure_rx) = watch::channel(None::<DateTime<Utc>>);
    let ready = Arc::new(AtomicUsize::new(0));
    let gate = Arc::new(Semaphore::new(args.connect_concurrency.max(1)));
    let mut listeners = Vec::with_capacity(args.clients);
    for (i, bbox) in viewports.iter().enumerate() {
        let url = ws_urls[i % ws_urls.len()].clone();
        let (bbox, ready, gate) = (*bbox, ready.clone(), gate.clone());
        let (stop, measure) = (stop_rx.clone(), measure_rx.clone());
        listeners.push(tokio::spawn(async move {
            listen(url, bbox, ready, gate, stop, measure).await
        }));
    }
    let setup = tokio::time::Instant::now();
    while ready.load(Ordering::Relaxed) < args.clients {
        if listeners.iter().any(tokio::task::JoinHandle::is_finished) {
            bail!("a websocket client failed to subscribe (raise `ulimit -n`?)");
        }
        if setup.elapsed() > Duration::from_mins(2) {
            bail!(
                "only {} of {} websocket clients subscribed in 120 s",
                ready.load(Ordering::Relaxed),
                args.clients
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let health_before = get(&http, &args, "/health").await?;
    eprintln!(
        "{} clients subscribed in {:.1} s; live {}",
        args.clients,
        setup.elapsed().as_secs_f64(),
        health_before["live"]
    );

    // Memory, CPU and /health watched once a second.
    let watching = Arc::new(Mutex::new(Watch::default()));
    let watcher = {
        let (watching, http, url, token, pid) = (
            watching.clone(),
            http.clone(),
            args.url.clone(),
            args.token.clone(),
            args.server_pid.clone(),
        );
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(500));
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stop.changed() => break,
                }
                let rss = status_sum(&pid, "VmRSS");
                let live = health_live(&http, &url, &token).await;
                let mut w = watching.lock().unwrap();
                w.peak_rss_kib = w.peak_rss_kib.max(rss.unwrap_or(0));
                if let Some(live) = live {
                    w.queued_max = w.queued_max.max(live["queued_max"].as_u64().unwrap_or(0));
                    w.overflowed_max = w
                        .overflowed_max
                        .max(live["overflowed"].as_u64().unwrap_or(0));
                }
            }
        })
    };
    let rss_before = status_sum(&args.server_pid, "VmRSS");
    let server_cpu_before = cpu_sum(&args.server_pid);
    let tool_cpu_before = cpu_ticks(std::process::id());

    // The senders: open loop, one task per batch.
    let post_urls: Vec<String> = nodes.iter().map(|u| format!("{u}/api/positions")).collect();
    let batches =
        ((args.warmup_s + args.duration_s) * args.rate / args.batch as f64).round() as usize;
    let sent = Arc::new(Mutex::new(Vec::with_capacity(batches)));
    let mut tasks = Vec::with_capacity(batches);
    let start = tokio::time::Instant::now();
    let measure_from = Utc::now() + TimeDelta::microseconds((args.warmup_s * 1e6) as i64);
    measure_tx.send_replace(Some(measure_from));
    let mut next_mover = 0;
    let mut body = String::new();
    for j in 0..batches {
        let scheduled_s = (j * args.batch) as f64 / args.rate;
        let at = start + Duration::from_secs_f64(scheduled_s);
        tokio::time::sleep_until(at).await;
        let now = Utc::now();
        body.clear();
        body.push('[');
        for k in 0..args.batch {
            let count = movers.len();
            let mover = &mut movers[next_mover];
            next_mover = (next_mover + 1) % count;
            mover.walk(step_m, extent, &mut rng);
            let fix_at = now - TimeDelta::microseconds(i64::try_from(args.batch - 1 - k)?);
            if k > 0 {
                body.push(',');
            }
            write!(
                body,
                r#"{{"worker_id":{},"lat":{:.7},"lon":{:.7},"at":"{}","accuracy_m":5.0,"speed_mps":{}}}"#,
                mover.id,
                mover.lat,
                mover.lon,
                fix_at.to_rfc3339_opts(SecondsFormat::Micros, true),
                args.speed_mps
            )?;
        }
        body.push(']');
        let request = http
            .post(&post_urls[j % post_urls.len()])
            .bearer_auth(&args.token)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.clone());
        let sent = sent.clone();
        tasks.push(tokio::spawn(async move {
            let answer = match request.send().await {
                Ok(response) if response.status().is_success() => {
                    response.json::<Value>().await.ok()
                }
                Ok(response) => {
                    let status = response.status();
                    eprintln!(
                        "batch {j}: {status} {}",
                        response.text().await.unwrap_or_default()
                    );
                    None
                }
                Err(e) => {
                    let why = if e.is_timeout() {
                        " (timed out after 60 s)"
                    } else {
                        ""
                    };
                    eprintln!("batch {j}: {e}{why}");
                    None
                }
            };
            let latency_us = at.elapsed().as_micros() as u64;
            let accepted = answer
                .as_ref()
                .and_then(|a| a["accepted"].as_u64())
                .unwrap_or(0);
            let flagged = answer
                .as_ref()
                .and_then(|a| a["flagged"].as_array().map(|f| f.len() as u64))
                .unwrap_or(0);
            sent.lock().unwrap().push(Sent {
                scheduled_s,
                latency_us,
                accepted,
                flagged,
                ok: answer.is_some(),
            });
        }));
    }
    for task in tasks {
        task.await?;
    }
    let elapsed_s = start.elapsed().as_secs_f64() - args.warmup_s;
    let tool_cpu = cpu_ticks(std::process::id())
        .zip(tool_cpu_before)
        .map(|(a, b)| a - b);
    let server_cpu = cpu_sum(&args.server_pid)
        .zip(server_cpu_before)
        .map(|(a, b)| a - b);
    // Let the last deliveries arrive, then read the server's state before the clients leave.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let health_after = get(&http, &args, "/health").await?;
    let hwm = status_sum(&args.server_pid, "VmHWM");
    let rss_after = status_sum(&args.server_pid, "VmRSS");
    stop_tx.send_replace(true);
    watcher.await?;
    let mut heard = Vec::with_capacity(listeners.len());
    for listener in listeners {
        heard.push(listener.await??);
    }
    let sent = std::mem::take(&mut *sent.lock().unwrap());
    let watching = std::mem::take(&mut *watching.lock().unwrap());

    // The report.
    let measured: Vec<&Sent> = sent
        .iter()
        .filter(|s| s.scheduled_s >= args.warmup_s)
        .collect();
    let mut http_us: Vec<u64> = measured
        .iter()
        .filter(|s| s.ok)
        .map(|s| s.latency_us)
        .collect();
    http_us.sort_unstable();
    // HTTP latency over time (median of each 2-second slice of the schedule, warm-up included): a rising
    // line is a backlog, a flat one a steady state.
    let mut slices: Vec<Vec<u64>> = Vec::new();
    for s in sent.iter().filter(|s| s.ok) {
        let i = (s.scheduled_s / 2.0) as usize;
        if slices.len() <= i {
            slices.resize(i + 1, Vec::new());
        }
        slices[i].push(s.latency_us);
    }
    let http_timeline_ms: Vec<f64> = slices
        .iter_mut()
        .map(|v| {
            v.sort_unstable();
            (quantile(v, 0.5) / 100.0).round() / 10.0
        })
        .collect();
    let accepted: u64 = measured.iter().map(|s| s.accepted).sum();
    let flagged: u64 = sent.iter().map(|s| s.flagged).sum();
    let failed = measured.iter().filter(|s| !s.ok).count();
    let mut delivery_us: Vec<u32> = heard
        .iter()
        .flat_map(|h| h.latencies_us.iter().copied())
        .collect();
    delivery_us.sort_unstable();
    let messages = delivery_us.len();
    let hearing = heard.iter().filter(|h| !h.latencies_us.is_empty()).count();
    let ticks = clock_ticks();
    let cores = |t: Option<u64>| t.map(|t| t as f64 / ticks / (elapsed_s + args.warmup_s));
    let kib_to_mib = |k: Option<u64>| k.map(|k| k as f64 / 1024.0);
    let result = json!({
        "label": args.label,
        "clients": args.clients,
        "movers": movers.len(),
        "rate": args.rate,
        "batch": args.batch,
        "duration_s": args.duration_s,
        "sent": measured.len() * args.batch,
        "accepted": accepted,
        "accepted_per_s": accepted as f64 / elapsed_s,
        "failed_batches": failed,
        "flagged": flagged,
        "http_p50_ms": quantile(&http_us, 0.50) / 1000.0,
        "http_p99_ms": quantile(&http_us, 0.99) / 1000.0,
        "http_max_ms": quantile(&http_us, 1.0) / 1000.0,
        "http_p50_ms_each_2s": http_timeline_ms,
        "delivery_p50_ms": quantile(&delivery_us, 0.50) / 1000.0,
        "delivery_p99_ms": quantile(&delivery_us, 0.99) / 1000.0,
        "delivery_max_ms": quantile(&delivery_us, 1.0) / 1000.0,
        "messages": messages,
        "messages_per_s": messages as f64 / elapsed_s,
        "clients_hearing": hearing,
        "warmup_messages": heard.iter().map(|h| h.early).sum::<u64>(),
        "resyncs": heard.iter().map(|h| h.resyncs).sum::<u64>(),
        "ws_errors": heard.iter().map(|h| h.errors).sum::<u64>(),
        "ws_dropped": heard.iter().filter(|h| h.dropped).count(),
        "server_rss_before_mib": kib_to_mib(rss_before),
        "server_rss_peak_mib": kib_to_mib(Some(watching.peak_rss_kib.max(rss_after.unwrap_or(0))).filter(|&k| k > 0)),
        "server_rss_after_mib": kib_to_mib(rss_after),
        "server_hwm_mib": kib_to_mib(hwm),
        "server_cpu_cores": cores(server_cpu),
        "tool_cpu_cores": cores(tool_cpu),
        "live_after": health_after["live"],
        "queued_max_seen": watching.queued_max,
        "overflowed_max_seen": watching.overflowed_max,
    });
    eprintln!(
        "{}: {accepted} of {} positions acknowledged ({:.0}/s), {failed} failed batches, {flagged} flagged; HTTP p50 {:.1} ms p99 {:.1} ms; \
         delivery p50 {:.1} ms p99 {:.1} ms max {:.1} ms over {messages} messages ({hearing} clients heard); \
         server RSS peak {} MiB, CPU {} cores, tool CPU {} cores; live after {}; resyncs {}",
        args.label,
        measured.len() * args.batch,
        result["accepted_per_s"].as_f64().unwrap_or(0.0),
        quantile(&http_us, 0.5) / 1000.0,
        quantile(&http_us, 0.99) / 1000.0,
        quantile(&delivery_us, 0.5) / 1000.0,
        quantile(&delivery_us, 0.99) / 1000.0,
        quantile(&delivery_us, 1.0) / 1000.0,
        result["server_rss_peak_mib"],
        result["server_cpu_cores"],
        result["tool_cpu_cores"],
        health_after["live"],
        result["resyncs"],
    );
    println!("{result}");
    Ok(())
}

impl Mover {
    /// One step of `step_m` meters, turning a little, bouncing off the extent.
    fn walk(&mut self, step_m: f64, extent: Bbox, rng: &mut ChaCha8Rng) {
        self.heading += rng.random_range(-0.2..0.2);
        let dlat = step_m * self.heading.cos() / 111_320.0;
        let dlon = step_m * self.heading.sin() / (111_320.0 * self.lat.to_radians().cos());
        let (lat, lon) = (self.lat + dlat, self.lon + dlon);
        if !(extent[1]..=extent[3]).contains(&lat) || !(extent[0]..=extent[2]).contains(&lon) {
            self.heading += std::f64::consts::PI;
            return;
        }
        self.lat = lat;
        self.lon = lon;
    }
}

/// A viewport inside `extent`: each side a log-uniform fraction of the extent's, placed at random.
fn viewport(rng: &mut ChaCha8Rng, extent: Bbox, min_side: f64) -> Bbox {
    let fraction = (rng.random_range(min_side.clamp(1e-6, 1.0).ln()..=0.0)).exp();
    let aspect: f64 = rng.random_range(0.6..=1.0 / 0.6);
    let width = ((extent[2] - extent[0]) * fraction * aspect.sqrt()).min(extent[2] - extent[0]);
    let height = ((extent[3] - extent[1]) * fraction / aspect.sqrt()).min(extent[3] - extent[1]);
    let lon = rng.random_range(extent[0]..=extent[2] - width);
    let lat = rng.random_range(extent[1]..=extent[3] - height);
    [lon, lat, lon + width, lat + height]
}

/// One websocket client: subscribes to `bbox`, then records the delivery latency of every position
/// message until told to stop.
async fn listen(
    url: String,
    bbox: Bbox,
    ready: Arc<AtomicUsize>,
    gate: Arc<Semaphore>,
    mut stop: watch::Receiver<bool>,
    measure: watch::Receiver<Option<DateTime<Utc>>>,
) -> Result<Heard> {
    let mut socket = {
        let _turn = gate.acquire().await?;
        // tungstenite zeroes its read buffer's free room before every read: a smaller buffer than the
        // 128 KiB default keeps the tool's own CPU for reading messages.
        let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
            .read_buffer_size(16 * 1024);
        let (mut socket, _) =
            tokio_tungstenite::connect_async_with_config(url.as_str(), Some(config), false)
                .await
                .context("websocket connect")?;
        let subscribe = json!({"type": "subscribe", "bbox": bbox}).to_string();
        socket.send(Message::text(subscribe)).await?;
        loop {
            match socket.next().await {
                Some(Ok(Message::Text(text))) if text.contains(r#""type":"snapshot""#) => break,
                Some(Ok(Message::Text(text))) if text.contains(r#""type":"error""#) => {
                    bail!("subscribe refused: {text}")
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e.into()),
                None => bail!("the server closed the websocket before the snapshot"),
            }
        }
        socket
    };
    ready.fetch_add(1, Ordering::Relaxed);
    let mut heard = Heard::default();
    loop {
        let message = tokio::select! {
            message = socket.next() => message,
            _ = stop.changed() => break,
        };
        let received = Utc::now();
        match message {
            Some(Ok(Message::Text(text))) => {
                if text.contains(r#""type":"position""#) {
                    let Some(at) = field_at(&text) else {
                        heard.errors += 1;
                        continue;
                    };
                    match *measure.borrow() {
                        Some(from) if at >= from => {
                            let us = (received - at)
                                .num_microseconds()
                                .unwrap_or(i64::MAX)
                                .clamp(0, i64::from(u32::MAX));
                            heard.latencies_us.push(us as u32);
                        }
                        _ => heard.early += 1,
                    }
                } else if text.contains(r#""type":"resync""#) {
                    heard.resyncs += 1;
                    socket
                        .send(Message::text(
                            json!({"type": "resume", "seq": seq_of(&text)}).to_string(),
                        ))
                        .await?;
                } else if text.contains(r#""type":"error""#) {
                    heard.errors += 1;
                }
            }
            Some(Ok(_)) => {}
            Some(Err(_)) | None => {
                heard.dropped = true;
                return Ok(heard);
            }
        }
    }
    let _ = socket.close(None).await;
    Ok(heard)
}

/// The `at` of a position message, without parsing the rest.
fn field_at(text: &str) -> Option<DateTime<Utc>> {
    let from = text.find(r#""at":""#)? + 6;
    let to = from + text[from..].find('"')?;
    DateTime::parse_from_rfc3339(&text[from..to])
        .ok()
        .map(|t| t.to_utc())
}

fn seq_of(text: &str) -> i64 {
    serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|v| v["seq"].as_i64())
        .unwrap_or(0)
}

/// The value at quantile `q` (nearest rank), or NaN for no values.
fn quantile<T: Copy + Into<u64>>(sorted: &[T], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1].into() as f64
}

#[derive(Debug, Default)]
struct Watch {
    peak_rss_kib: u64,
    queued_max: u64,
    overflowed_max: u64,
}

/// A `/proc/PID/status` field in KiB (`VmRSS`, `VmHWM`).
fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status
        .lines()
        .find(|l| l.starts_with(field) && l[field.len()..].starts_with(':'))?;
    line[field.len() + 1..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// The sum of a `/proc/PID/status` field over processes; `None` when there are none or one is gone.
fn status_sum(pids: &[u32], field: &str) -> Option<u64> {
    if pids.is_empty() {
        return None;
    }
    pids.iter().map(|&p| status_kib(p, field)).sum()
}

/// utime + stime summed over processes; `None` when there are none or one is gone.
fn cpu_sum(pids: &[u32]) -> Option<u64> {
    if pids.is_empty() {
        return None;
    }
    pids.iter().map(|&p| cpu_ticks(p)).sum()
}

/// utime + stime of a process, in clock ticks.
fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces; fields count from after its closing parenthesis.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// Clock ticks a second (`getconf CLK_TCK`); 100 on Linux.
fn clock_ticks() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

async fn health_live(http: &reqwest::Client, url: &str, token: &str) -> Option<Value> {
    let response = http
        .get(format!("{}/health", url.trim_end_matches('/')))
        .bearer_auth(token)
        .send()
        .await
        .ok()?;
    let mut health: Value = response.json().await.ok()?;
    Some(health["live"].take())
}

/// The bounding box of every grid, `[min_lon, min_lat, max_lon, max_lat]`.
async fn city_extent(http: &reqwest::Client, args: &Args) -> Result<Bbox> {
    fn walk(value: &Value, bbox: &mut Bbox) {
        match value {
            Value::Array(items) if items.len() >= 2 && items[0].is_f64() && items[1].is_f64() => {
                let (lon, lat) = (items[0].as_f64().unwrap(), items[1].as_f64().unwrap());
                *bbox = [
                    bbox[0].min(lon),
                    bbox[1].min(lat),
                    bbox[2].max(lon),
                    bbox[3].max(lat),
                ];
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, bbox)),
            _ => {}
        }
    }
    let grids = get(http, args, "/api/grids").await?;
    let mut bbox = [
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    ];
    for grid in grids["features"].as_array().context("grids")? {
        walk(&grid["geometry"]["coordinates"], &mut bbox);
    }
    if !(bbox[0] < bbox[2] && bbox[1] < bbox[3]) {
        bail!("the server has no grids: run `gridwatch demo`");
    }
    Ok(bbox)
}

/// The ids of every worker, sorted so the seed gives the same movers every run.
async fn worker_ids(http: &reqwest::Client, args: &Args) -> Result<Vec<i64>> {
    let list = get(http, args, "/api/workers").await?;
    let mut ids: Vec<i64> = list["features"]
        .as_array()
        .context("workers")?
        .iter()
        .filter_map(|w| w["properties"]["id"].as_i64().or_else(|| w["id"].as_i64()))
        .collect();
    ids.sort_unstable();
    if ids.is_empty() {
        bail!("the server has no workers: run `gridwatch demo`");
    }
    Ok(ids)
}

async fn get(http: &reqwest::Client, args: &Args, path: &str) -> Result<Value> {
    let response = http
        .get(format!("{}{path}", args.url.trim_end_matches('/')))
        .bearer_auth(&args.token)
        .send()
        .await?
        .error_for_status()?;
    Ok(response.json().await?)
}
