//! Soak (issue 19, point 7): cases at a steady rate for a long time, each cancelled a little later, so
//! finished cases keep ageing out of the world (`gridwatch … --archive-after-s`). Every `--report-s` it
//! prints one line: the window's create and cancel latency (p50, p99, max, ms), failures, the server's
//! resident memory and the cases its world holds (`/health`). Run the fixes beside it with
//! `load_positions`; `server/benches/soak.sh` runs both against a fresh server.
//!
//! A failed request is counted in its window and told on stderr with its status and body, or the
//! client's error.
//!
//! Open loop, as `load_incidents`: create `i` is scheduled at `start + i / rate` and its latency counts
//! from then; its cancel is scheduled `--finish-after-s` after the create's answer.
//!
//! ```sh
//! cargo run --release -p gridwatch --example soak -- --url http://127.0.0.1:8080 --token gw_… \
//!   --server-pid 1234 --duration-s 1800
//! ```

// A load tool: a failed setup request ends the run with its message; counts are small enough for f64.
#![allow(
    clippy::unwrap_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]

#[path = "support/mod.rs"]
mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Result, bail};
use clap::Parser;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};
use tokio::time::Instant;

#[derive(Debug, Clone, Parser)]
struct Args {
    /// The server's base URL.
    #[arg(long)]
    url: String,
    /// A token that may report and cancel cases (the admin token `gridwatch demo` prints).
    #[arg(long)]
    token: String,
    /// Creates per second.
    #[arg(long, default_value_t = 20.0)]
    rate: f64,
    /// Seconds from a create's answer to its cancel.
    #[arg(long, default_value_t = 10.0)]
    finish_after_s: f64,
    /// Seconds in all.
    #[arg(long, default_value_t = 1800.0)]
    duration_s: f64,
    /// Seconds per report line.
    #[arg(long, default_value_t = 60.0)]
    report_s: f64,
    /// The server's process id, to read its resident memory.
    #[arg(long)]
    server_pid: Option<u32>,
    #[arg(long, default_value_t = 7)]
    seed: u64,
}

/// One answered or failed request.
#[derive(Default)]
struct Window {
    creates_us: Vec<u64>,
    cancels_us: Vec<u64>,
    failed: u64,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let args = Args::parse();
    if !(args.rate > 0.0 && args.duration_s > 0.0 && args.report_s > 0.0) {
        bail!("--rate, --duration-s and --report-s must be positive");
    }
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()?;
    let places = support::city_points(&http, &args.url, &args.token).await?;
    let categories = support::categories(&http, &args.url, &args.token).await?;
    let window = Arc::new(Mutex::new(Window::default()));
    let base = args.url.trim_end_matches('/').to_owned();
    let start = Instant::now();
    let reporter = tokio::spawn(report(args.clone(), http.clone(), window.clone(), start));
    let mut rng = ChaCha8Rng::seed_from_u64(args.seed);
    let total = (args.duration_s * args.rate).round() as usize;
    for i in 0..total {
        let at = start + Duration::from_secs_f64(i as f64 / args.rate);
        let (lat, lon) = places[rng.random_range(0..places.len())];
        let category = categories[rng.random_range(0..categories.len())].clone();
        tokio::time::sleep_until(at).await;
        let body = json!({"lat": lat, "lon": lon, "category": category, "priority": "normal",
            "description": format!("soak {i}"), "source": "hotline"});
        let (http, window, base, token) = (
            http.clone(),
            window.clone(),
            base.clone(),
            args.token.clone(),
        );
        let finish_after = Duration::from_secs_f64(args.finish_after_s);
        tokio::spawn(async move {
            let created = http
                .post(format!("{base}/api/incidents"))
                .bearer_auth(&token)
                .json(&body)
                .send()
                .await;
            let id = match created {
                Ok(r) if r.status().as_u16() == 201 => r
                    .json::<Value>()
                    .await
                    .ok()
                    .and_then(|c| c["properties"]["id"].as_i64())
                    .ok_or_else(|| "a 201 without an id".to_owned()),
                Ok(r) => Err(format!(
                    "{}: {}",
                    r.status(),
                    r.text().await.unwrap_or_default()
                )),
                Err(e) => Err(format!("{e:?}")),
            };
            let latency = at.elapsed().as_micros() as u64;
            if let Err(why) = &id {
                eprintln!("create {i} failed: {why}");
            }
            let id = id.ok();
            {
                let mut w = window.lock().unwrap();
                match id {
                    Some(_) => w.creates_us.push(latency),
                    None => w.failed += 1,
                }
            }
            let Some(id) = id else { return };
            let due = Instant::now() + finish_after;
            tokio::time::sleep_until(due).await;
            let cancelled = http
                .post(format!("{base}/api/incidents/{id}/actions"))
                .bearer_auth(&token)
                .json(&json!({"action": "cancel", "reason": "soak"}))
                .send()
                .await;
            let latency = due.elapsed().as_micros() as u64;
            let ok = match cancelled {
                Ok(r) if r.status().is_success() => true,
                Ok(r) => {
                    let status = r.status();
                    eprintln!(
                        "cancel {id} failed: {status}: {}",
                        r.text().await.unwrap_or_default()
                    );
                    false
                }
                Err(e) => {
                    eprintln!("cancel {id} failed: {e:?}");
                    false
                }
            };
            let mut w = window.lock().unwrap();
            if ok {
                w.cancels_us.push(latency);
            } else {
                w.failed += 1;
            }
        });
    }
    tokio::time::sleep(Duration::from_secs_f64(args.finish_after_s + 2.0)).await;
    reporter.abort();
    Ok(())
}

/// Prints a header, then one line a window until aborted.
async fn report(args: Args, http: reqwest::Client, window: Arc<Mutex<Window>>, start: Instant) {
    println!(
        "minute\tcreates\tcreate_p50_ms\tcreate_p99_ms\tcreate_max_ms\tcancels\tcancel_p99_ms\tfailed\trss_mb\theld\tfinished"
    );
    let mut ticker = tokio::time::interval_at(
        start + Duration::from_secs_f64(args.report_s),
        Duration::from_secs_f64(args.report_s),
    );
    loop {
        ticker.tick().await;
        let Window {
            mut creates_us,
            mut cancels_us,
            failed,
        } = std::mem::take(&mut *window.lock().unwrap());
        creates_us.sort_unstable();
        cancels_us.sort_unstable();
        let ms = |us: u64| us as f64 / 1000.0;
        let rss = args
            .server_pid
            .and_then(|pid| support::status_kib(pid, "VmRSS"))
            .map_or(f64::NAN, |kib| kib as f64 / 1024.0);
        let health = support::get(&http, &args.url, &args.token, "/health")
            .await
            .unwrap_or(Value::Null);
        println!(
            "{:.1}\t{}\t{:.1}\t{:.1}\t{:.1}\t{}\t{:.1}\t{}\t{:.1}\t{}\t{}",
            start.elapsed().as_secs_f64() / 60.0,
            creates_us.len(),
            ms(support::quantile(&creates_us, 0.5)),
            ms(support::quantile(&creates_us, 0.99)),
            ms(creates_us.last().copied().unwrap_or(0)),
            cancels_us.len(),
            ms(support::quantile(&cancels_us, 0.99)),
            failed,
            rss,
            health["cases"]["held"],
            health["cases"]["finished"],
        );
    }
}
