//! `/ready` and the log (issue 20, point 5): a node whose world lacks over 1,000 of the log's events —
//! written by another process on the same store — answers 503 `catching-up` with its lag, and 200 once
//! it has read them; its world then holds what the other process wrote.
//!
//! The node runs without its follower (`serve_with`), so it stays behind until the test makes it read.

// Test code: a failed unwrap is a failed test, and the scenario reads best as one function.
#![allow(clippy::unwrap_used, clippy::too_many_lines)]

use std::sync::Arc;

use gridwatch::cases::{Report, SYSTEM};
use gridwatch::core::Core;
use gridwatch::domain::incident::{Priority, Source};
use gridwatch::services::{self, Which};
use gridwatch::store::Store;
use serde_json::Value;

/// More events than a ready node may lack (`api::health::READY_LAG` is 1,000).
const BEHIND: usize = 1_100;

async fn ready(http: &reqwest::Client, base: &str) -> (u16, Option<String>, Value) {
    let response = http.get(format!("{base}/ready")).send().await.unwrap();
    let status = response.status().as_u16();
    let retry = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, retry, response.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_behind_the_log_is_not_ready_until_it_has_read_it() {
    let dir = tempfile::tempdir().unwrap();
    let open = || async {
        let store: Arc<dyn Store> = Arc::new(
            gridwatch::store::sqlite::SqliteStore::open_dir(dir.path())
                .await
                .unwrap(),
        );
        store
    };
    let store = open().await;
    let city = gridwatch_geodata::synthetic_city(gridwatch_geodata::Preset::Dongjie, 1);
    gridwatch::city::import(&store, &city, h3o::Resolution::Twelve)
        .await
        .unwrap();
    gridwatch::city::seed_demo_workers(&store).await.unwrap();

    // The node: every service but the timed ones (no follower).
    let node = Core::load(store).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let quiet = Which {
        escalation: false,
        revocation_watch: false,
    };
    tokio::spawn(gridwatch::serve_with(
        listener,
        node.clone(),
        gridwatch::ServeConfig::default(),
        quiet,
        std::future::pending(),
    ));
    let http = reqwest::Client::new();
    let (status, _, body) = ready(&http, &base).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["lag_events"], 0, "{body}");
    let start = body["log_seq"].as_i64().unwrap();
    let before: Vec<_> = node.world().incidents().map(|c| c.state.id).collect();

    // Another process on the same store writes cases.
    let other = Core::load(open().await).await.unwrap();
    let (state, running) = services::start(&other, quiet);
    let places: Vec<(f64, f64)> = {
        let world = other.world();
        world
            .grids()
            .take(20)
            .map(|g| {
                let c = h3o::LatLng::from(g.cells[0]);
                (c.lat(), c.lng())
            })
            .collect()
    };
    let reports = (0..BEHIND).map(|n| {
        let (lat, lon) = places[n % places.len()];
        let intake = state.intake().clone();
        async move {
            intake
                .register(
                    SYSTEM,
                    None,
                    Report {
                        lat,
                        lon,
                        category: ["city_appearance", "advertising"][n % 2].into(),
                        priority: Priority::Normal,
                        description: format!("ready test {n}"),
                        source: Source::Hotline,
                    },
                )
                .await
                .unwrap()
                .state
                .id
        }
    });
    let mut written: Vec<_> = futures_util::future::join_all(reports).await;
    written.sort_unstable();
    running.stop().await;
    let log = other.world().last_seq();
    let lag = log - start;
    assert!(lag >= i64::try_from(BEHIND).unwrap(), "{lag}");

    // The node has not read them: not ready, with its lag and when to ask again.
    let (status, retry, body) = ready(&http, &base).await;
    assert_eq!(
        (status, body["type"].as_str()),
        (503, Some("/problems/catching-up")),
        "{body}"
    );
    assert_eq!(body["lag_events"], lag, "{body}");
    assert_eq!(retry.as_deref(), Some("1"));
    assert_eq!(node.world().last_seq(), start, "nothing was read yet");

    // Once it has read the log: ready, and its world holds every case the other process wrote.
    node.follow_now().await.unwrap();
    let (status, _, body) = ready(&http, &base).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["applied_seq"].as_i64(), body["log_seq"].as_i64()),
        (Some(log), Some(log)),
        "{body}"
    );
    let mut held: Vec<_> = node
        .world()
        .incidents()
        .map(|c| c.state.id)
        .filter(|id| !before.contains(id))
        .collect();
    held.sort_unstable();
    assert_eq!(held, written);
}
