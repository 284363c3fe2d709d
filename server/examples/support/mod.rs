//! What the load tools share: reading the demo city's points and categories over the API, a
//! `/proc/PID/status` field, and quantiles. Included with `#[path]`; not an example of its own.

#![allow(dead_code)] // each tool uses part of it

use std::str::FromStr;

use anyhow::{Context, Result, bail};
use serde_json::Value;

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
