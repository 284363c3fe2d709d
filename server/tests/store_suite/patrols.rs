//! Patrols, checkpoints, check-ins and cell visits: written, refused and read back the same on both
//! stores, surviving a reopen; on PostGIS the checkpoints are real indexed points.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use gridwatch::domain::event::{CheckedIn, GridCrossing};
use gridwatch::domain::patrol::{CheckIn, NewCheckpoint, PatrolBook, Progress};
use gridwatch::domain::{Change, GridId, PatrolId, Responsibility};
use gridwatch::store::{Store, StoreError};
use h3o::{LatLng, Resolution};

use crate::fixture::{Backend, Target};
use crate::{assert_conflict, data, duty, grid_ids, imported, new_worker};

store_tests!(patrols_round_trip);
target_tests!(patrols_survive_a_reopen_and_checkpoints_are_postgis_points);

fn t(s: i64) -> DateTime<Utc> {
    // Whole seconds: both stores keep at least microseconds, so values compare equal after a round trip.
    DateTime::parse_from_rfc3339("2026-11-29T08:00:00Z")
        .expect("a time")
        .to_utc()
        + TimeDelta::seconds(s)
}

fn cell(lat: f64, lon: f64) -> h3o::CellIndex {
    LatLng::new(lat, lon)
        .expect("a point")
        .to_cell(Resolution::Twelve)
}

/// Writes one worker's patrol with a checkpoint, two progress batches and its end; returns the book it
/// should leave.
#[allow(clippy::too_many_lines)] // one scenario read top to bottom
async fn write_patrol(store: &Arc<dyn Store>) -> PatrolBook {
    let grids = grid_ids(&imported(store).await);
    let a = grids[data::GRID_A];
    let (worker, _) = store
        .insert_worker(&new_worker(
            "李强",
            None,
            vec![duty(a, Responsibility::Primary)],
        ))
        .await
        .expect("worker");

    let (patrol, event) = store.insert_patrol(worker.id, t(0)).await.expect("start");
    assert_eq!(event.change.kind(), "patrol.started");
    assert_eq!(event.change.payload_json()["worker"], worker.id.0);
    assert_eq!(
        (patrol.worker, patrol.started_at, patrol.ended_at),
        (worker.id, t(0), None)
    );
    assert_conflict(
        store.insert_patrol(worker.id, t(1)).await,
        "a second open patrol",
    );

    let new = NewCheckpoint {
        name: "东门".into(),
        lat: 36.19,
        lon: 113.11,
        radius_m: 25.0,
        grid: Some(a),
    };
    let (checkpoint, event) = store.insert_checkpoint(&new).await.expect("checkpoint");
    assert_eq!(event.change.kind(), "checkpoint.created");
    assert_eq!(checkpoint, new.with_id(checkpoint.id));

    let (c1, c2) = (cell(36.19, 113.11), cell(36.191, 113.11));
    let check_in = CheckIn {
        patrol: patrol.id,
        checkpoint: checkpoint.id,
        at: t(10),
        lat: 36.19,
        lon: 113.11,
        distance_m: 0.5,
    };
    let first = Progress {
        patrol: patrol.id,
        worker: worker.id,
        current_grid: Some(a),
        last_fix_at: Some(t(10)),
        visits: vec![(c1, t(10))],
        check_ins: vec![check_in.clone()],
        events: vec![
            Change::PatrolGridEntered(GridCrossing {
                patrol: patrol.id,
                worker: worker.id,
                grid: a,
                at: t(10),
                lat: 36.19,
                lon: 113.11,
            }),
            Change::PatrolCheckedIn(CheckedIn::of(worker.id, &checkpoint, &check_in)),
        ],
    };
    let events = store
        .record_patrol_progress(&first)
        .await
        .expect("progress");
    assert_eq!(
        events.iter().map(|e| e.change.kind()).collect::<Vec<_>>(),
        ["patrol.grid_entered", "patrol.checked_in"]
    );
    assert_eq!(
        events[1].seq,
        events[0].seq + 1,
        "one transaction, consecutive sequence numbers"
    );

    // A check-in twice is refused whole: no visit, no event.
    let seq = events[1].seq;
    let twice = Progress {
        visits: vec![(c2, t(11))],
        events: vec![first.events[1].clone()],
        ..first.clone()
    };
    assert_conflict(
        store.record_patrol_progress(&twice).await,
        "a second check-in at one checkpoint",
    );
    assert!(
        store
            .events_since(seq, 10)
            .await
            .expect("events")
            .is_empty(),
        "nothing appended"
    );

    // Later and earlier visits: each cell keeps its latest.
    let second = Progress {
        current_grid: None,
        last_fix_at: Some(t(20)),
        visits: vec![(c1, t(5)), (c2, t(20))],
        check_ins: Vec::new(),
        events: Vec::new(),
        ..first.clone()
    };
    assert!(
        store
            .record_patrol_progress(&second)
            .await
            .expect("progress")
            .is_empty()
    );

    let (ended, event) = store.end_patrol(patrol.id, t(30)).await.expect("end");
    assert_eq!(event.change.kind(), "patrol.ended");
    assert_eq!(
        (ended.ended_at, ended.current_grid, ended.last_fix_at),
        (Some(t(30)), None, Some(t(20)))
    );
    assert!(
        matches!(
            store.end_patrol(patrol.id, t(31)).await,
            Err(StoreError::NotFound(_))
        ),
        "ended twice"
    );
    assert!(matches!(
        store.end_patrol(PatrolId(999_999), t(31)).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(
        matches!(
            store.record_patrol_progress(&second).await,
            Err(StoreError::NotFound(_))
        ),
        "no progress on an ended patrol"
    );
    // The worker may start again once the patrol has ended.
    let (next, _) = store
        .insert_patrol(worker.id, t(40))
        .await
        .expect("a new shift");
    let bad = NewCheckpoint {
        grid: Some(GridId(999_999)),
        ..new.clone()
    };
    assert_conflict(
        store.insert_checkpoint(&bad).await,
        "a checkpoint in an unknown grid",
    );

    let mut visits = vec![(c1, t(10)), (c2, t(20))];
    visits.sort_by_key(|v| v.0);
    PatrolBook {
        patrols: vec![ended, next],
        checkpoints: vec![checkpoint],
        check_ins: vec![check_in],
        visits,
    }
}

fn sorted(mut book: PatrolBook) -> PatrolBook {
    book.visits.sort_by_key(|v| v.0);
    book
}

async fn patrols_round_trip(store: Arc<dyn Store>) {
    let expected = write_patrol(&store).await;
    assert_eq!(sorted(store.patrol_book().await.expect("book")), expected);
}

async fn patrols_survive_a_reopen_and_checkpoints_are_postgis_points(target: Target) {
    let expected = write_patrol(&target.open().await).await;
    assert_eq!(
        sorted(target.open().await.patrol_book().await.expect("book")),
        expected,
        "after a reopen"
    );
    if target.backend != Backend::Postgres {
        return;
    }
    let pool = target.pg().await;
    // PostGIS as the reference: the stored point is the checkpoint's lon/lat in EPSG:4326.
    let (kind, srid, x, y): (String, i32, f64, f64) = sqlx::query_as(
        "SELECT GeometryType(location), ST_SRID(location), ST_X(location), ST_Y(location) FROM checkpoints",
    )
    .fetch_one(&pool)
    .await
    .expect("checkpoint geometry");
    assert_eq!((kind.as_str(), srid, x, y), ("POINT", 4326, 113.11, 36.19));
    let (column_type, column_srid): (String, i32) = sqlx::query_as(
        "SELECT type, srid FROM geometry_columns WHERE f_table_name = 'checkpoints' AND f_geometry_column = 'location'",
    )
    .fetch_one(&pool)
    .await
    .expect("geometry_columns");
    assert_eq!((column_type.as_str(), column_srid), ("POINT", 4326));
    let gist: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_indexes WHERE tablename = 'checkpoints' AND indexdef ILIKE '%USING gist (location)%'",
    )
    .fetch_one(&pool)
    .await
    .expect("indexes");
    assert_eq!(gist, 1, "a GiST index on checkpoints.location");
    pool.close().await;
}
