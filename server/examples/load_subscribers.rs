//! Websocket subscribers under load (issue 19, point 5): with `--open` open cases in the store,
//! `--stalled` subscribers that subscribe to everything and never read, and `--readers` that do, it
//! creates incidents at `--rate` for `--duration-s` and reports create latency (open loop, from each
//! request's scheduled time to its `201`) and delivery latency (from the scheduled time to the reading
//! subscriber's `incident.created` delta), medians and p99s over every reader.
//!
//! The server's memory is read by `server/benches/stalled.sh`, which starts the server and runs this.
//!
//! ```sh
//! cargo run --release -p gridwatch --example load_subscribers -- --url http://127.0.0.1:8080 --token gw_…
//! ```

// A load tool: a failed setup request ends the run with its message, and counts are small enough for f64.
#![allow(
    clippy::unwrap_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]

#[path = "support/mod.rs"]
mod support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

#[derive(Debug, Clone, Parser)]
struct Args {
    /// The server's base URL.
    #[arg(long)]
    url: String,
    /// A token that may report incidents and watch everything (the admin token `gridwatch demo` prints).
    #[arg(long)]
    token: String,
    /// Open cases the store holds before the run (created first when there are fewer).
    #[arg(long, default_value_t = 20_000)]
    open: usize,
    /// Subscribers that subscribe to everything and never read.
    #[arg(long, default_value_t = 50)]
    stalled: usize,
    /// Subscribers that read, whose delivery latency is measured.
    #[arg(long, default_value_t = 5)]
    readers: usize,
    /// Creates per second while measuring.
    #[arg(long, default_value_t = 500.0)]
    rate: f64,
    /// Seconds measured.
    #[arg(long, default_value_t = 20.0)]
    duration_s: f64,
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Only create the open cases, then exit (the bench script seeds one store and copies it).
    #[arg(long)]
    seed_only: bool,
    /// Where the subscribers connect, if not `--url`: another node of the same deployment, so the
    /// delivery latency is the propagation from the node that took the create (issue 20).
    #[arg(long)]
    ws_url: Option<String>,
    /// Print a line when each phase starts (the bench script samples the server's memory then).
    #[arg(long)]
    phases: bool,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    if !(args.rate > 0.0 && args.duration_s > 0.0) {
        bail!("--rate and --duration-s must be positive");
    }
    let http = reqwest::Client::builder()
        .timeout(Duration::from_mins(1))
        .build()?;
    let places = Arc::new(support::city_points(&http, &args.url, &args.token).await?);
    seed_open_cases(&http, &args, &places).await?;
    if args.seed_only {
        return Ok(());
    }
    phase(&args, "seeded");

    let ws_base = args.ws_url.as_deref().unwrap_or(&args.url);
    let ws_url = format!(
        "{}/ws?token={}",
        ws_base.trim_end_matches('/').replacen("http", "ws", 1),
        args.token
    );
    let mut stalled = Vec::new();
    for _ in 0..args.stalled {
        stalled.push(stalled_subscriber(ws_base, &ws_url).await?);
    }
    // Let their snapshots fill what the sockets take.
    tokio::time::sleep(Duration::from_secs(2)).await;
    phase(&args, "stalled");

    let arrivals: Arc<Mutex<Vec<HashMap<i64, Instant>>>> =
        Arc::new(Mutex::new(vec![HashMap::new(); args.readers]));
    let mut readers = Vec::new();
    for r in 0..args.readers {
        let (mut ws, _) = tokio_tungstenite::connect_async(ws_url.as_str()).await?;
        ws.send(Message::text(json!({"type": "subscribe"}).to_string()))
            .await?;
        let arrivals = Arc::clone(&arrivals);
        readers.push(tokio::spawn(async move {
            while let Some(Ok(message)) = ws.next().await {
                let Message::Text(text) = message else {
                    continue;
                };
                if !text.contains("incident.created") {
                    continue;
                }
                let Ok(delta) = serde_json::from_str::<Value>(&text) else {
                    continue;
                };
                if let Some(id) = delta["id"].as_i64() {
                    arrivals.lock().unwrap()[r].insert(id, Instant::now());
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    phase(&args, "measuring");

    let before = support::scrape(&http, &args.url, &args.token).await?;
    let (answers, scheduled) = run_creates(&http, &args, &places).await;
    let server = support::server_quantiles(
        &before,
        &support::scrape(&http, &args.url, &args.token).await?,
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    phase(&args, "done");
    for reader in &readers {
        reader.abort();
    }
    let arrivals = std::mem::take(&mut *arrivals.lock().unwrap());
    let mut delivery = Vec::new();
    let mut missing = 0;
    for seen in &arrivals {
        for (id, at) in &scheduled {
            match seen.get(id) {
                Some(arrived) => delivery.push(arrived.saturating_duration_since(*at)),
                None => missing += 1,
            }
        }
    }
    let failed = answers.iter().filter(|c| c.is_none()).count();
    let mut created: Vec<Duration> = answers.into_iter().flatten().collect();
    created.sort_unstable();
    delivery.sort_unstable();
    println!(
        "{}",
        json!({
            "open": args.open, "stalled": args.stalled, "readers": args.readers, "rate": args.rate,
            "creates": created.len(), "failed": failed,
            "create_p50_ms": ms(quantile(&created, 0.5)), "create_p99_ms": ms(quantile(&created, 0.99)),
            "delivery_p50_ms": ms(quantile(&delivery, 0.5)), "delivery_p99_ms": ms(quantile(&delivery, 0.99)),
            "deliveries_missing": missing, "server": server,
        })
    );
    drop(stalled);
    Ok(())
}

fn phase(args: &Args, name: &str) {
    if args.phases {
        eprintln!("phase: {name}");
    }
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e5).round() / 100.0
}

fn quantile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

/// Creates at `--rate` for `--duration-s`, open loop: each create's latency from its scheduled time
/// (`None` when it failed), and each created case's scheduled time by id.
async fn run_creates(
    http: &reqwest::Client,
    args: &Args,
    places: &Arc<Vec<(f64, f64)>>,
) -> (Vec<Option<Duration>>, HashMap<i64, Instant>) {
    let total = (args.duration_s * args.rate).round() as usize;
    let url = format!("{}/api/incidents", args.url.trim_end_matches('/'));
    let mut rng = ChaCha8Rng::seed_from_u64(args.seed);
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(total);
    for i in 0..total {
        let at = start + Duration::from_secs_f64(i as f64 / args.rate);
        let (lat, lon) = places[rng.random_range(0..places.len())];
        tokio::time::sleep_until(at).await;
        let request = http.post(&url).bearer_auth(&args.token).json(&json!({
            "lat": lat, "lon": lon, "category": "city_appearance", "source": "hotline",
            "description": format!("subscribers load {i}")}));
        tasks.push(tokio::spawn(async move {
            let answer = match request.send().await {
                Ok(response) if response.status().as_u16() == 201 => {
                    response.json::<Value>().await.ok()
                }
                _ => None,
            };
            let id = answer.and_then(|c| c["properties"]["id"].as_i64());
            (at, at.elapsed(), id)
        }));
    }
    let mut latencies = Vec::with_capacity(total);
    let mut scheduled = HashMap::new();
    for task in tasks {
        let (at, latency, id) = task.await.unwrap();
        latencies.push(id.map(|_| latency));
        if let Some(id) = id {
            scheduled.insert(id, at);
        }
    }
    (latencies, scheduled)
}

/// A subscriber whose socket takes 4 KiB and is never read: subscribes to everything and stops.
async fn stalled_subscriber(
    base: &str,
    ws_url: &str,
) -> Result<
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
> {
    let addr: std::net::SocketAddr = base
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .context("--url must be http://IP:PORT")?;
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.set_recv_buffer_size(4096)?;
    let tcp = socket.connect(addr).await?;
    let (mut ws, _) =
        tokio_tungstenite::client_async(ws_url, tokio_tungstenite::MaybeTlsStream::Plain(tcp))
            .await?;
    ws.send(Message::text(json!({"type": "subscribe"}).to_string()))
        .await?;
    Ok(ws)
}

/// Creates cases until the store holds `--open` open ones, 16 at a time.
async fn seed_open_cases(
    http: &reqwest::Client,
    args: &Args,
    places: &Arc<Vec<(f64, f64)>>,
) -> Result<()> {
    let base = args.url.trim_end_matches('/');
    let listed: Value = http
        .get(format!(
            "{base}/api/incidents?status=registered,dispatched,accepted,in_progress,resolved&limit=1"
        ))
        .bearer_auth(&args.token)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let have = listed["total"].as_u64().context("total")? as usize;
    let need = args.open.saturating_sub(have);
    eprintln!("{have} open cases; creating {need}");
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let (http, next, places) = (http.clone(), Arc::clone(&next), Arc::clone(places));
        let (url, token) = (format!("{base}/api/incidents"), args.token.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= need {
                    return Ok::<(), anyhow::Error>(());
                }
                let (lat, lon) = places[i % places.len()];
                let response = http
                    .post(&url)
                    .bearer_auth(&token)
                    .json(
                        &json!({"lat": lat, "lon": lon, "category": "city_appearance",
                        "source": "hotline", "description": format!("open case {i}")}),
                    )
                    .send()
                    .await?;
                if response.status().as_u16() != 201 {
                    bail!("seeding: {}", response.text().await?);
                }
            }
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok(())
}
