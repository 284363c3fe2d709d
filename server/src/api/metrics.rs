//! `GET /metrics` in the Prometheus text format, and the middleware that counts requests.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::state::AppState;

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Bucket bounds of every `…_seconds` histogram: fine around the millisecond latencies of a write and
/// its commit, coarse up to the seconds of a stall.
pub const DURATION_BUCKETS_S: [f64; 22] = [
    0.000_25, 0.000_5, 0.001, 0.001_5, 0.002, 0.003, 0.004, 0.005, 0.006, 0.007, 0.008, 0.009,
    0.010, 0.012, 0.015, 0.020, 0.030, 0.050, 0.100, 0.250, 1.0, 5.0,
];

/// Installs the process-wide Prometheus recorder once; later calls return the same handle.
pub fn install_recorder() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        // Durations as histograms with fixed buckets: cumulative since start, so a scraper (or the load
        // tool, scraping before and after its run) gets exact counts per bucket over any interval, and
        // histograms add up across servers where summaries cannot.
        // (It fails only on an empty bucket list.)
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), &DURATION_BUCKETS_S)
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        // Fails only if another recorder was installed first (e.g. by an embedding program); then our
        // handle renders nothing but the gauges below, which is still a valid exposition.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

#[utoipa::path(get, path = "/metrics", tag = "system",
    responses((status = 200, description = "Prometheus text exposition", content_type = "text/plain")))]
pub async fn render(State(state): State<AppState>) -> Response {
    {
        let world = state.world();
        metrics::gauge!("gridwatch_grids").set(count_f64(world.grids().count()));
        metrics::gauge!("gridwatch_buildings").set(count_f64(world.buildings().count()));
        metrics::gauge!("gridwatch_workers").set(count_f64(world.workers().count()));
        #[allow(clippy::cast_precision_loss)] // sequence numbers stay far below 2^52
        metrics::gauge!("gridwatch_last_event_seq").set(world.last_seq() as f64);
    }
    metrics::gauge!("gridwatch_uptime_seconds").set(state.uptime_s());
    let body = install_recorder().render();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

#[allow(clippy::cast_precision_loss)] // counts of grids and buildings are far below 2^52
fn count_f64(n: usize) -> f64 {
    n as f64
}

/// A method as a label: the eight of RFC 9110 and PATCH by name, any other spelling as `other`, so a
/// client cannot grow `/metrics` by sending made-up methods.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::CONNECT => "CONNECT",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::PATCH => "PATCH",
        _ => "other",
    }
}

/// Counts every request by route and status and records its duration in seconds.
pub async fn track(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = method_label(request.method());
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("gridwatch_http_requests_total", "method" => method, "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("gridwatch_http_request_duration_seconds", "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_up_methods_share_one_label() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::PATCH), "PATCH");
        for made_up in ["PROBE1", "get", "PROPFIND", "X"] {
            let method = Method::from_bytes(made_up.as_bytes()).unwrap();
            assert_eq!(method_label(&method), "other", "{made_up}");
        }
    }
}
