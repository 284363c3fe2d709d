//! What the load tools share: reading the demo city's points and categories over the API, a
//! `/proc/PID/status` field, and quantiles. Included with `#[path]`; not an example of its own.

#![allow(dead_code)] // each tool uses part of it

use std::str::FromStr;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

/// `GET base + path` with a bearer token, as JSON; an error status is an error.
pub async fn get(http: &reqwest::Client, base: &str, token: &str, path: &str) -> Result<Value> {
    let response = http
        .get(format!("{}{path}", base.trim_end_matches('/')))
        .bearer_auth(token)
        .send()
        .await?
        .error_for_status()?;
    Ok(response.json().await?)
}

/// The centre of every cell of every grid of the server's city, `(lat, lon)` degrees, in grid and
/// cell order, so a seeded pick is the same every run.
pub async fn city_points(
    http: &reqwest::Client,
    base: &str,
    token: &str,
) -> Result<Vec<(f64, f64)>> {
    let grids = get(http, base, token, "/api/grids").await?;
    let mut points = Vec::new();
    for grid in grids["features"].as_array().context("grids")? {
        let id = grid["properties"]["id"].as_i64().context("grid id")?;
        let one = get(http, base, token, &format!("/api/grids/{id}")).await?;
        for cell in one["properties"]["cells"].as_array().context("cells")? {
            let cell = h3o::CellIndex::from_str(cell.as_str().context("cell")?)?;
            let centre = h3o::LatLng::from(cell);
            points.push((centre.lat(), centre.lng()));
        }
    }
    if points.is_empty() {
        bail!("the server has no grids: run `gridwatch demo`");
    }
    Ok(points)
}

/// The active category codes, sorted so the seed picks the same ones every run.
pub async fn categories(http: &reqwest::Client, base: &str, token: &str) -> Result<Vec<String>> {
    let list = get(http, base, token, "/api/categories").await?;
    let mut codes: Vec<String> = list
        .as_array()
        .context("categories")?
        .iter()
        .filter(|c| c["active"].as_bool() != Some(false))
        .filter_map(|c| c["code"].as_str().map(str::to_owned))
        .collect();
    codes.sort();
    if codes.is_empty() {
        bail!("the server has no active category");
    }
    Ok(codes)
}

/// A `/proc/PID/status` field in KiB (`VmRSS`, `VmHWM`).
pub fn status_kib(pid: u32, field: &str) -> Option<u64> {
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

/// The `q` quantile of sorted values (nearest rank); 0 for none.
pub fn quantile(sorted: &[u64], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    #[allow(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss
    )]
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// The histograms of the server's own view, as `/metrics` gives them: (metric, a label it must carry).
pub const SERVER_SERIES: [(&str, &str, &str); 4] = [
    (
        "request",
        "gridwatch_http_request_duration_seconds_bucket",
        "route=\"/api/incidents\"",
    ),
    ("wait", "gridwatch_intake_wait_seconds_bucket", ""),
    ("group", "gridwatch_intake_group_seconds_bucket", ""),
    ("commit", "gridwatch_store_commit_seconds_bucket", ""),
];

/// Every bucket of [`SERVER_SERIES`] in one scrape of `/metrics`: (series, upper bound, count so far).
pub async fn scrape(
    http: &reqwest::Client,
    base: &str,
    token: &str,
) -> Result<Vec<(&'static str, f64, f64)>> {
    let text = http
        .get(format!("{}/metrics", base.trim_end_matches('/')))
        .bearer_auth(token)
        .send()
        .await?
        .error_for_status()?
        .text()
        .await?;
    let mut buckets = Vec::new();
    for line in text.lines() {
        for (name, metric, label) in SERVER_SERIES {
            let Some(rest) = line.strip_prefix(metric).and_then(|r| r.strip_prefix('{')) else {
                continue;
            };
            let Some((labels, count)) = rest.rsplit_once("} ") else {
                continue;
            };
            if !labels.contains(label) || (name == "request" && !labels.contains("method=\"POST\""))
            {
                continue;
            }
            let Some(le) = labels
                .split("le=\"")
                .nth(1)
                .and_then(|l| l.split('"').next())
            else {
                continue;
            };
            let bound = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse()?
            };
            buckets.push((name, bound, count.parse()?));
        }
    }
    Ok(buckets)
}

/// The server's own view of the measured window, from its histograms scraped at the window's start and
/// end, in milliseconds: the request in the server, the wait for a group, a group's drafting and store
/// transaction, and the commit alone (p50 and p99, interpolated within a bucket). Where the client's tail
/// is longer than the request's, the time went outside the server's handling (the client, the loopback,
/// the scheduler).
pub fn server_quantiles(
    before: &[(&'static str, f64, f64)],
    after: &[(&'static str, f64, f64)],
) -> Value {
    let mut out = serde_json::Map::new();
    for (name, _, _) in SERVER_SERIES {
        let mut bounds: Vec<(f64, f64)> = after
            .iter()
            .filter(|(n, _, _)| *n == name)
            .map(|&(_, bound, count)| {
                let earlier = before
                    .iter()
                    .find(|(n, b, _)| *n == name && b.total_cmp(&bound).is_eq())
                    .map_or(0.0, |&(_, _, c)| c);
                (bound, count - earlier)
            })
            .collect();
        bounds.sort_by(|a, b| a.0.total_cmp(&b.0));
        let total = bounds.last().map_or(0.0, |&(_, c)| c);
        for (q, key) in [(0.5, "p50_ms"), (0.99, "p99_ms")] {
            let value = (total > 0.0).then(|| {
                let target = q * total;
                let mut lower = (0.0, 0.0);
                for &(bound, count) in &bounds {
                    if count >= target {
                        if !bound.is_finite() {
                            return lower.0;
                        }
                        let share = if count > lower.1 {
                            (target - lower.1) / (count - lower.1)
                        } else {
                            1.0
                        };
                        return lower.0 + share * (bound - lower.0);
                    }
                    lower = (bound, count);
                }
                lower.0
            });
            out.insert(format!("{name}_{key}"), json!(value.map(|v| v * 1000.0)));
        }
        out.insert(format!("{name}_count"), json!(total));
    }
    Value::Object(out)
}
