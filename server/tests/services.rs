//! The services' lifetimes, without HTTP: started on a core by `services::start`, they all end when the
//! `Running` guard stops them; reports and position batches queued at that moment are committed and
//! answered, later ones refused with 503 — none is answered without being stored, none is lost.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::TimeDelta;
use gridwatch::cases::{IntakeError, Report, SYSTEM};
use gridwatch::core::Core;
use gridwatch::domain::incident::{Priority, Source};
use gridwatch::domain::{Fix, WorkerId};
use gridwatch::error::ApiError;
use gridwatch::services::{self, Which};
use gridwatch::store::Store;
use gridwatch::tracking::{Judge, PositionError};

/// The demo city on an in-memory store, and a point at the centre of each of a few grids' first cell.
async fn city() -> (Core, Vec<(f64, f64)>, WorkerId) {
    let store: Arc<dyn Store> = gridwatch::store::open("sqlite::memory:").await.unwrap();
    let city = gridwatch_geodata::synthetic_city(gridwatch_geodata::Preset::Dongjie, 1);
    gridwatch::city::import(&store, &city, h3o::Resolution::Twelve)
        .await
        .unwrap();
    gridwatch::city::seed_demo_workers(&store).await.unwrap();
    let core = Core::load(store).await.unwrap();
    let (places, worker) = {
        let world = core.world();
        let places = world
            .grids()
            .take(8)
            .map(|g| {
                let c = h3o::LatLng::from(g.cells[0]);
                (c.lat(), c.lng())
            })
            .collect();
        (places, world.workers().next().unwrap().id)
    };
    (core, places, worker)
}

fn report((lat, lon): (f64, f64), n: usize) -> Report {
    Report {
        lat,
        lon,
        // Alternating categories keep most reports of a group from waiting for the next one as
        // possible duplicates.
        category: ["city_appearance", "advertising"][n % 2].into(),
        priority: Priority::Normal,
        description: format!("services test {n}"),
        source: Source::Hotline,
    }
}

/// A stopped service's refusal as a client sees it (mapped once, in `error.rs`): 503 `unavailable`.
fn assert_unavailable(refused: impl Into<ApiError>) {
    let refused: ApiError = refused.into();
    assert_eq!(
        (refused.status.as_u16(), refused.slug),
        (503, "unavailable"),
        "{}",
        refused.detail
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_service_ends_when_stopped_and_later_work_is_refused() {
    let (core, places, worker) = city().await;
    let (state, running) = services::start(&core, Which::ALL);
    // Every writer and both feeds have work before the stop.
    state
        .intake()
        .register(SYSTEM, None, report(places[0], 0))
        .await
        .unwrap();
    let (lat, lon) = places[0];
    let fix = Fix::at(worker, lat, lon, core.now() - TimeDelta::minutes(1));
    state
        .positions()
        .report(vec![fix.clone()], Judge::Jumps)
        .await
        .unwrap();

    let late = tokio::time::timeout(std::time::Duration::from_secs(30), running.stop())
        .await
        .expect("stop returns");
    assert!(late.is_empty(), "services that did not end: {late:?}");

    let refused = state
        .intake()
        .register(SYSTEM, None, report(places[1], 1))
        .await
        .unwrap_err();
    assert!(matches!(refused, IntakeError::ShuttingDown), "{refused:?}");
    assert_unavailable(refused);
    let later = Fix::at(worker, lat, lon, core.now());
    let refused = state
        .positions()
        .report(vec![later], Judge::Jumps)
        .await
        .unwrap_err();
    assert_eq!(refused, PositionError::WriterStopped);
    assert_unavailable(refused);

    // The core outlives its services: they can be started again on it.
    let (state, running) = services::start(&core, Which::ALL);
    state
        .intake()
        .register(SYSTEM, None, report(places[2], 2))
        .await
        .unwrap();
    assert!(running.stop().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn work_queued_at_the_stop_is_committed_and_answered_or_refused() {
    const REPORTS: usize = 300;
    const BATCHES: usize = 40;
    let (core, places, worker) = city().await;
    let (state, running) = services::start(&core, Which::ALL);
    let start = core.now() - TimeDelta::hours(1);
    let (lat, lon) = places[0];
    // Warm up (the patrol book is loaded on the first batch), so the stop meets full queues.
    state
        .positions()
        .report(vec![Fix::at(worker, lat, lon, start)], Judge::Trust)
        .await
        .unwrap();
    let mut reports = tokio::task::JoinSet::new();
    for n in 0..REPORTS {
        let state = state.clone();
        let report = report(places[n % places.len()], n);
        reports.spawn(async move { state.intake().register(SYSTEM, None, report).await });
    }
    let mut batches = tokio::task::JoinSet::new();
    for b in 0..BATCHES {
        let state = state.clone();
        let fixes: Vec<Fix> = (0..10)
            .map(|i| {
                let at = start + TimeDelta::seconds(i64::try_from(1 + b * 10 + i).unwrap());
                Fix::at(worker, lat, lon, at)
            })
            .collect();
        batches.spawn(async move {
            let keys: Vec<_> = fixes.iter().map(|f| f.at).collect();
            (keys, state.positions().report(fixes, Judge::Trust).await)
        });
    }
    // Let some of it reach the queues, not all of it.
    tokio::task::yield_now().await;
    assert!(running.stop().await.is_empty());

    let stored = core.store().snapshot(None).await.unwrap();
    let stored: BTreeSet<_> = stored
        .incidents
        .iter()
        .map(gridwatch::domain::Case::id)
        .collect();
    let (mut answered, mut refused) = (0, 0);
    while let Some(outcome) = reports.join_next().await {
        match outcome.unwrap() {
            Ok(case) => {
                answered += 1;
                assert!(
                    stored.contains(&case.id()),
                    "case {} answered, not stored",
                    case.id()
                );
                assert!(core.world().incident(case.id()).is_some());
            }
            Err(e) => {
                assert!(matches!(e, IntakeError::ShuttingDown), "{e:?}");
                assert_unavailable(e);
                refused += 1;
            }
        }
    }
    let track = core
        .store()
        .track(worker, start, start + TimeDelta::hours(1), 100_000)
        .await
        .unwrap();
    let track: BTreeSet<_> = track.iter().map(|f| f.at).collect();
    let (mut stored_batches, mut refused_batches) = (0, 0);
    while let Some(outcome) = batches.join_next().await {
        let (keys, result) = outcome.unwrap();
        match result {
            Ok(reported) => {
                assert_eq!(reported.accepted, keys.len());
                assert!(
                    keys.iter().all(|at| track.contains(at)),
                    "a batch answered, not stored"
                );
                stored_batches += 1;
            }
            Err(e) => {
                assert_eq!(e, PositionError::WriterStopped);
                assert_unavailable(e);
                refused_batches += 1;
            }
        }
    }
    eprintln!(
        "{answered} reports committed and {refused} refused; {stored_batches} batches stored and \
         {refused_batches} refused"
    );
    assert_eq!(answered + refused, REPORTS);
    assert!(answered > 0, "nothing was queued before the stop");
}
