//! Incident load: creates incidents over HTTP at a steady rate against a running server and reports
//! create → committed latency (the `201`, which the server sends only after the store transaction
//! commits, and which carries the routing decision, so committed ≡ assigned) and throughput.
//!
//! Open loop: request `i` is scheduled at `start + i / rate` and sent then, whether or not earlier
//! requests have been answered, and its latency is measured from that *scheduled* time. A server that
//! stalls therefore shows the whole stall in the figures (no coordinated omission), and a client that
//! falls behind its schedule is charged to the server rather than hidden.
//!
//! Points are deterministic (`ChaCha8`, `--seed`): a random grid of the server's city, a random one of its
//! cells, that cell's centre, so every incident lands inside a grid.
//!
//! ```sh
//! cargo run --release -p gridwatch --example load_incidents -- --url http://127.0.0.1:8080 --token gw_…
//! ```
//! `server/benches/load.sh` starts fresh servers on both stores and runs this three times on each.

// A load tool: a failed setup request ends the run with its message, and counts are small enough for f64.
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

#[derive(Debug, Clone, Parser)]
struct Args {
    /// The server's base URL.
    #[arg(long)]
    url: String,
    /// A token that may report incidents (the admin token `gridwatch demo` prints).
    #[arg(long)]
    token: String,
    /// Creates per second.
    #[arg(long, default_value_t = 500.0)]
    rate: f64,
    /// Seconds measured, after the warm-up.
    #[arg(long, default_value_t = 20.0)]
    duration_s: f64,
    /// Seconds sent at the same rate before measuring; their latencies are dropped.
    #[arg(long, default_value_t = 3.0)]
    warmup_s: f64,
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Also print, per second of the schedule, how many answers took longer than this (to find stalls).
    #[arg(long)]
    slow_ms: Option<f64>,
    /// A label for the report (e.g. the store).
    #[arg(long, default_value = "")]
    label: String,
}

/// One answered or failed request.
struct Sample {
    scheduled_s: f64,
    /// From the scheduled send time to the response's end, microseconds.
    latency_us: u64,
    /// The 201 named a worker (not the community queue).
    assigned: bool,
    ok: bool,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let args = Args::parse();
    if !(args.rate > 0.0 && args.duration_s > 0.0 && args.warmup_s >= 0.0) {
        bail!("--rate and --duration-s must be positive, --warmup-s not negative");
    }
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()?;
    let places = Arc::new(support::city_points(&http, &args.url, &args.token).await?);
    let categories = Arc::new(support::categories(&http, &args.url, &args.token).await?);
    eprintln!(
        "{} grid cells, {} categories; {} creates/s for {} s after a {} s warm-up",
        places.len(),
        categories.len(),
        args.rate,
        args.duration_s,
        args.warmup_s
    );

    let mut rng = ChaCha8Rng::seed_from_u64(args.seed);
    let total = ((args.warmup_s + args.duration_s) * args.rate).round() as usize;
    let samples = Arc::new(Mutex::new(Vec::with_capacity(total)));
    let url = format!("{}/api/incidents", args.url.trim_end_matches('/'));
    let mut tasks = Vec::with_capacity(total);
    let start = tokio::time::Instant::now();
    // The server's histograms as the measured window opens.
    let window_start = {
        let (http, args) = (http.clone(), args.clone());
        let opens = start + Duration::from_secs_f64(args.warmup_s);
        tokio::spawn(async move {
            tokio::time::sleep_until(opens).await;
            support::scrape(&http, &args.url, &args.token).await
        })
    };
    for i in 0..total {
        let scheduled_s = i as f64 / args.rate;
        let at = start + Duration::from_secs_f64(scheduled_s);
        let (lat, lon) = places[rng.random_range(0..places.len())];
        let category = categories[rng.random_range(0..categories.len())].clone();
        tokio::time::sleep_until(at).await;
        let body = json!({"lat": lat, "lon": lon, "category": category, "priority": "normal",
            "description": format!("load {i}"), "source": "hotline"});
        let request = http.post(&url).bearer_auth(&args.token).json(&body);
        let samples = samples.clone();
        tasks.push(tokio::spawn(async move {
            let answer = match request.send().await {
                Ok(response) if response.status().as_u16() == 201 => {
                    response.json::<Value>().await.ok()
                }
                Ok(_) | Err(_) => None,
            };
            let latency_us = at.elapsed().as_micros() as u64;
            let assigned = answer
                .as_ref()
                .is_some_and(|c| c["properties"]["assignee"].is_i64());
            samples.lock().unwrap().push(Sample {
                scheduled_s,
                latency_us,
                assigned,
                ok: answer.is_some(),
            });
        }));
    }
    for task in tasks {
        task.await?;
    }
    let elapsed_s = start.elapsed().as_secs_f64() - args.warmup_s;
    let samples = std::mem::take(&mut *samples.lock().unwrap());
    let after = support::scrape(&http, &args.url, &args.token).await?;
    let server = support::server_quantiles(&window_start.await??, &after);
    report(&args, &samples, elapsed_s, &server);
    Ok(())
}

fn report(args: &Args, samples: &[Sample], elapsed_s: f64, server: &Value) {
    if let Some(slow_ms) = args.slow_ms {
        let mut per_second = std::collections::BTreeMap::<u64, (usize, u64)>::new();
        for s in samples
            .iter()
            .filter(|s| s.latency_us as f64 > slow_ms * 1000.0)
        {
            let slot = per_second.entry(s.scheduled_s as u64).or_default();
            slot.0 += 1;
            slot.1 = slot.1.max(s.latency_us);
        }
        for (second, (count, worst_us)) in per_second {
            eprintln!(
                "  second {second}: {count} answers over {slow_ms} ms, worst {:.1} ms",
                worst_us as f64 / 1000.0
            );
        }
    }
    let measured: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.scheduled_s >= args.warmup_s)
        .collect();
    let mut ok: Vec<u64> = measured
        .iter()
        .filter(|s| s.ok)
        .map(|s| s.latency_us)
        .collect();
    ok.sort_unstable();
    let errors = measured.len() - ok.len();
    let assigned = measured.iter().filter(|s| s.assigned).count();
    let ms = |q: f64| {
        if ok.is_empty() {
            return f64::NAN;
        }
        let rank = ((q * ok.len() as f64).ceil() as usize).clamp(1, ok.len());
        ok[rank - 1] as f64 / 1000.0
    };
    let result = json!({
        "label": args.label,
        "total_ok": samples.iter().filter(|s| s.ok).count(),
        "rate": args.rate,
        "sent": measured.len(),
        "ok": ok.len(),
        "errors": errors,
        "assigned_to_worker": assigned,
        "throughput_per_s": ok.len() as f64 / elapsed_s,
        "p50_ms": ms(0.50),
        "p90_ms": ms(0.90),
        "p99_ms": ms(0.99),
        "max_ms": ms(1.0),
        "server": server,
    });
    eprintln!(
        "{}: {} sent, {} ok, {errors} errors, {assigned} assigned to a worker; {:.1}/s; create→committed \
         p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        args.label,
        measured.len(),
        ok.len(),
        result["throughput_per_s"].as_f64().unwrap_or(0.0),
        ms(0.5),
        ms(0.9),
        ms(0.99),
        ms(1.0)
    );
    eprintln!("  in the server (ms): {}", result["server"]);
    println!("{result}");
}
